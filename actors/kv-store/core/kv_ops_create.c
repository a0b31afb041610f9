/* kv_ops_create: the commands that make or change entries in place: mkdir (-p), put (create /
 * overwrite with inline content), touchz and setattr. Pure.
 *
 * Each op validates its arguments, resolves its path through the pending batch, writes its
 * changes into the batch and updates the subtree totals of every ancestor (O(depth)). Failures
 * are outcomes (kv_op_fail); the apply pipeline rolls the batch back when res->code != 0, so
 * an op may fail after writing part of its changes. */
#include <stdio.h>
#include <string.h>

#include "kv_core_int.h"

/* perm, owner and group of a creating command. A version 2 command names its user instead:
 * the new entry's owner is the user, its group the parent's (HDFS). */
bool kv_op_attrs_ok(kv_opctx_t *x) {
  const kv_cmd_t *cmd = x->cmd;
  if (cmd->perm > KV_PERM_MAX) {
    kv_op_fail(x, RV_EINVAL, "permission %o is out of range (0..07777)", cmd->perm);
    return false;
  }
  if (cmd->user.len) {
    if (cmd->owner.len || cmd->group.len) {
      kv_op_fail(x, RV_EINVAL, "owner/group are not given on create: the owner is the user, "
                 "the group the parent's");
      return false;
    }
    return kv_op_name_ok(x, &cmd->user, "user");
  }
  return kv_op_name_ok(x, &cmd->owner, "owner") && kv_op_name_ok(x, &cmd->group, "group");
}

/* New attributes; owner and group those of an entry made under the directory parent. */
int kv_op_attr_new(kv_opctx_t *x, kv_attr_t *a, uint8_t type, uint16_t perm,
                      uint64_t parent) {
  memset(a, 0, sizeof *a);
  a->type = type;
  a->perm = perm;
  a->mtime_ms = x->cmd->time_ms;
  a->atime_ms = x->cmd->time_ms;
  return kv_op_new_owner(x, parent, a->owner, a->group);
}

/* Links a new entry (attributes a, optional content) as component i of path under ch->ino[i]
 * and updates the ancestors; extends ch to depth i + 1. */
int kv_op_link_new(kv_opctx_t *x, const kv_path_t *pa, kv_chain_t *ch, size_t i,
                      const kv_attr_t *a, const kv_bytes_t *content, uint64_t *ino_out) {
  kv_core_t *c = x->core;
  rv_err_t *err = x->err;
  uint64_t ino = c->pending.next_inode++;
  uint8_t key[KV_KEY_MAX], dv[KV_DENTRY_LEN];
  size_t nl;
  const char *name = kv_path_name(pa, i, &nl);
  int rc = kv_core_attr_put(c, ino, a, err);
  if (!rc && content && content->len) {
    size_t kl = kv_key_content(key, ino);
    rc = kv_core_put(c, key, kl, content->p, content->len, err);
  }
  if (!rc) {
    size_t kl = kv_key_dentry(key, ch->ino[i], name, nl);
    kv_dentry_encode(dv, ino, a->type);
    rc = kv_core_put(c, key, kl, dv, sizeof dv, err);
  }
  if (!rc) rc = kv_core_adjust(c, ch, i, kv_delta_of(a), 1, true, x->cmd->time_ms, err);
  if (rc) return rc;
  ch->ino[i + 1] = ino;
  ch->type[i + 1] = a->type;
  ch->depth = i + 1;
  *ino_out = ino;
  return RV_OK;
}

/* Creates directories for components ch->depth .. upto-1 (the missing tail of a prefix) and
 * extends ch over them. The new chain's counters are written directly (each new directory holds
 * the ones below it) and the existing ancestors get one update for all of them, so mkdir -p of
 * k levels under depth d costs O(k + d), not O(k * (k + d)). */
static int s_make_dirs(kv_opctx_t *x, const kv_path_t *pa, kv_chain_t *ch, size_t upto,
                       uint16_t perm, uint64_t *made, uint64_t *last) {
  kv_core_t *c = x->core;
  size_t top = ch->depth; /* the existing parent is ch->ino[top] */
  uint64_t k = upto - top;
  if (k == 0) return RV_OK;
  kv_attr_t a;
  /* every new directory gets the group of the existing one they go under: each inherits its
   * parent's, which inherited it */
  int rc = kv_op_attr_new(x, &a, KV_TYPE_DIR, perm, ch->ino[top]);
  if (rc) return rc;
  uint8_t key[KV_KEY_MAX], dv[KV_DENTRY_LEN];
  for (size_t i = top; i < upto; i++) {
    uint64_t ino = c->pending.next_inode++;
    size_t nl;
    const char *name = kv_path_name(pa, i, &nl);
    a.nchildren = i + 1 < upto ? 1 : 0;
    a.sub_dirs = upto - i - 1;
    kv_dentry_encode(dv, ino, KV_TYPE_DIR);
    if ((rc = kv_core_attr_put(c, ino, &a, x->err)) ||
        (rc = kv_core_put(c, key, kv_key_dentry(key, ch->ino[i], name, nl), dv, sizeof dv, x->err)))
      return rc;
    ch->ino[i + 1] = ino;
    ch->type[i + 1] = KV_TYPE_DIR;
    *last = ino;
  }
  rc = kv_core_adjust(c, ch, top, (kv_delta_t){(int64_t)k, 0, 0}, 1, true, x->cmd->time_ms, x->err);
  if (rc) return rc;
  ch->depth = upto;
  *made += k;
  return RV_OK;
}

/* Implicit parents of a file get the file's permission plus x where r is set (0644 -> 0755). */
static uint16_t s_dir_perm(uint16_t perm) { return (uint16_t)(perm | ((perm & 0444) >> 2)); }

int kv_op_mkdir(kv_opctx_t *x) {
  kv_core_t *c = x->core;
  const kv_cmd_t *cmd = x->cmd;
  kv_path_t *pa = &c->pa;
  kv_chain_t *ch = &c->ca;
  if (!kv_op_parse(x, pa, &cmd->path) || !kv_op_attrs_ok(x)) return RV_OK;
  bool parents = cmd->flags & KV_F_PARENTS;
  int rc = kv_core_resolve(c, pa, pa->n, ch, x->err);
  if (rc == RV_OK) { /* HDFS checks only the traversal of an existing path */
    kv_perm_want_t none = {0};
    int prc = kv_op_check(x, pa, ch, pa->n, pa->n + 1, &none);
    if (prc || x->res->code) return prc;
    if (ch->type[pa->n] != KV_TYPE_DIR)
      return parents ? kv_op_fail(x, RV_ENOTDIR, "exists and is not a directory")
                     : kv_op_fail(x, RV_EEXIST, "file exists");
    if (!parents) return kv_op_fail(x, RV_EEXIST, "directory exists");
    x->res->inode = ch->ino[pa->n];
    return RV_OK;
  }
  if (rc == RV_ENOTDIR) return kv_op_resolve_fail(x, pa, ch, rc);
  if (rc != RV_ENOTFOUND) return rc;
  if (ch->depth + 1 < pa->n && !parents) return kv_op_resolve_fail(x, pa, ch, rc);
  kv_perm_want_t w = {.ancestor = KV_ACC_WRITE};
  if ((rc = kv_op_check(x, pa, ch, pa->n, ch->depth + 1, &w)) || x->res->code) return rc;
  return s_make_dirs(x, pa, ch, pa->n, cmd->perm, &x->res->n, &x->res->inode);
}

/* Resolves the parent of pa's last component into ch, creating it with KV_F_PARENTS, after
 * checking `ancestor` access on the deepest existing ancestor (and the traversal). Returns
 * 0 with res untouched when the parent is there, 0 with res failed, or a storage error. */
int kv_op_parent(kv_opctx_t *x, const kv_path_t *pa, kv_chain_t *ch, unsigned ancestor) {
  int rc = kv_core_resolve(x->core, pa, pa->n - 1, ch, x->err);
  if (rc == RV_OK || rc == RV_ENOTFOUND) {
    kv_perm_want_t w = {.ancestor = ancestor};
    int prc = kv_op_check(x, pa, ch, pa->n, rc == RV_OK ? pa->n : ch->depth + 1, &w);
    if (prc || x->res->code) return prc;
  }
  if (rc == RV_ENOTFOUND && (x->cmd->flags & KV_F_PARENTS)) {
    uint64_t made = 0, last = 0;
    return s_make_dirs(x, pa, ch, pa->n - 1, s_dir_perm(x->cmd->perm), &made, &last);
  }
  if (rc == RV_ENOTFOUND || rc == RV_ENOTDIR) return kv_op_resolve_fail(x, pa, ch, rc);
  if (rc == RV_OK && ch->type[ch->depth] != KV_TYPE_DIR) /* the parent itself is a file */
    return kv_op_resolve_fail(x, pa, ch, RV_ENOTDIR);
  return rc;
}

int kv_op_put(kv_opctx_t *x) {
  kv_core_t *c = x->core;
  const kv_cmd_t *cmd = x->cmd;
  kv_path_t *pa = &c->pa;
  kv_chain_t *ch = &c->ca;
  if (!kv_op_parse(x, pa, &cmd->path) || !kv_op_attrs_ok(x)) return RV_OK;
  if (cmd->data.len > c->cfg.inline_max)
    return kv_op_fail(x, RV_ETOOBIG, "content of %zu bytes exceeds the inline limit of %u bytes",
                      cmd->data.len, c->cfg.inline_max);
  if (pa->n == 0) return kv_op_fail(x, RV_EISDIR, "is a directory");
  int rc = kv_op_parent(x, pa, ch, KV_ACC_WRITE);
  if (rc || x->res->code) return rc;

  size_t i = pa->n - 1, nl;
  const char *name = kv_path_name(pa, i, &nl);
  uint64_t old;
  uint8_t type;
  kv_attr_t oa = {.type = 0};
  rc = kv_core_dentry_get(c, ch->ino[i], name, nl, &old, &type, x->err);
  if (rc == RV_OK) {
    if (type == KV_TYPE_DIR) return kv_op_fail(x, RV_EISDIR, "is a directory");
    if (!(cmd->flags & KV_F_OVERWRITE)) return kv_op_fail(x, RV_EEXIST, "file exists");
    /* Overwrite, as HDFS does it: the old inode goes away, a new one takes the name. */
    uint8_t key[KV_KEY_MAX];
    if ((rc = kv_core_attr_get(c, old, &oa, x->err))) return rc;
    if ((rc = kv_op_check_attr(x, pa, pa->n, &oa, KV_ACC_WRITE)) || x->res->code) return rc;
    if ((rc = kv_core_del(c, key, kv_key_attr(key, old), x->err))) return rc;
    if ((rc = kv_core_del(c, key, kv_key_content(key, old), x->err))) return rc;
    if ((rc = kv_core_del(c, key, kv_key_xattr(key, old), x->err))) return rc; /* as HDFS */
    kv_delta_t d = kv_delta_of(&oa);
    if ((rc = kv_core_adjust(c, ch, i, (kv_delta_t){-d.dirs, -d.files, -d.bytes}, -1, false, 0,
                             x->err)))
      return rc;
  } else if (rc != RV_ENOTFOUND) {
    return rc;
  }
  kv_attr_t a;
  if ((rc = kv_op_attr_new(x, &a, KV_TYPE_FILE, cmd->perm, ch->ino[i]))) return rc;
  a.size = cmd->data.len;
  if ((rc = kv_op_link_new(x, pa, ch, i, &a, &cmd->data, &x->res->inode))) return rc;
  x->res->n = cmd->data.len;
  return RV_OK;
}

int kv_op_touchz(kv_opctx_t *x) {
  kv_core_t *c = x->core;
  const kv_cmd_t *cmd = x->cmd;
  kv_path_t *pa = &c->pa;
  kv_chain_t *ch = &c->ca;
  int rc = kv_op_file_parent(x);
  if (rc || x->res->code) return rc;
  size_t i = pa->n - 1, nl;
  const char *name = kv_path_name(pa, i, &nl);
  uint64_t ino;
  uint8_t type;
  rc = kv_core_dentry_get(c, ch->ino[i], name, nl, &ino, &type, x->err);
  if (rc == RV_ENOTFOUND) { /* a create: WRITE on the parent */
    kv_attr_t pa_attr, a;
    if ((rc = kv_core_attr_get(c, ch->ino[i], &pa_attr, x->err))) return rc;
    if ((rc = kv_op_check_attr(x, pa, i, &pa_attr, KV_ACC_WRITE)) || x->res->code) return rc;
    if ((rc = kv_op_attr_new(x, &a, KV_TYPE_FILE, cmd->perm, ch->ino[i]))) return rc;
    return kv_op_link_new(x, pa, ch, i, &a, NULL, &x->res->inode);
  }
  if (rc) return rc;
  if (type == KV_TYPE_DIR) return kv_op_fail(x, RV_EISDIR, "is a directory");
  kv_attr_t a;
  if ((rc = kv_core_attr_get(c, ino, &a, x->err))) return rc;
  if (a.size != 0) /* FsShell refuses it before asking the NameNode anything */
    return kv_op_fail(x, RV_EEXIST, "file exists with non-zero length (%llu bytes)",
                      (unsigned long long)a.size);
  /* an existing empty file: its times are set (HDFS setTimes: WRITE on the file) */
  if ((rc = kv_op_check_attr(x, pa, pa->n, &a, KV_ACC_WRITE)) || x->res->code) return rc;
  /* An existing empty file: touch its times, as `hadoop fs -touchz` does. */
  a.mtime_ms = cmd->time_ms;
  a.atime_ms = cmd->time_ms;
  x->res->inode = ino;
  return kv_core_attr_put(c, ino, &a, x->err);
}

int kv_op_setattr(kv_opctx_t *x) {
  kv_core_t *c = x->core;
  const kv_cmd_t *cmd = x->cmd;
  kv_path_t *pa = &c->pa;
  kv_chain_t *ch = &c->ca;
  if (!kv_op_parse(x, pa, &cmd->path)) return RV_OK;
  if (cmd->set_mask == 0) return kv_op_fail(x, RV_EINVAL, "nothing to set");
  if ((cmd->set_mask & KV_SET_PERM) && cmd->perm > KV_PERM_MAX)
    return kv_op_fail(x, RV_EINVAL, "permission %o is out of range (0..07777)", cmd->perm);
  /* A field outside the mask must be empty: a client that sends one meant something else. */
  if ((!(cmd->set_mask & KV_SET_PERM) && cmd->perm) ||
      (!(cmd->set_mask & KV_SET_MTIME) && cmd->mtime_ms) ||
      (!(cmd->set_mask & KV_SET_ATIME) && cmd->atime_ms) ||
      (!(cmd->set_mask & KV_SET_OWNER) && cmd->owner.len) ||
      (!(cmd->set_mask & KV_SET_GROUP) && cmd->group.len))
    return kv_op_fail(x, RV_EINVAL, "a field is given but not named in the mask 0x%02x",
                      cmd->set_mask);
  if ((cmd->set_mask & KV_SET_OWNER) && !kv_op_name_ok(x, &cmd->owner, "owner")) return RV_OK;
  if ((cmd->set_mask & KV_SET_GROUP) && !kv_op_name_ok(x, &cmd->group, "group")) return RV_OK;
  int rc = kv_core_resolve(c, pa, pa->n, ch, x->err);
  if (rc == RV_ENOTFOUND || rc == RV_ENOTDIR) return kv_op_resolve_fail(x, pa, ch, rc);
  if (rc) return rc;
  uint64_t ino = ch->ino[pa->n];
  kv_attr_t a;
  if ((rc = kv_core_attr_get(c, ino, &a, x->err))) return rc;
  /* HDFS: setPermission and setOwner need the owner (or the superuser); setOwner to another
   * user needs the superuser, to a group the user is not in too; setTimes needs WRITE */
  unsigned times = cmd->set_mask & (KV_SET_MTIME | KV_SET_ATIME);
  kv_perm_want_t w = {.owner = (cmd->set_mask & ~times) != 0};
  if ((rc = kv_op_check(x, pa, ch, pa->n, pa->n + 1, &w)) || x->res->code) return rc;
  if (cmd->set_mask & (KV_SET_OWNER | KV_SET_GROUP)) {
    char no[KV_OWNER_MAX + 1] = "", ng[KV_OWNER_MAX + 1] = "";
    if (cmd->owner.len) memcpy(no, cmd->owner.p, cmd->owner.len);
    if (cmd->group.len) memcpy(ng, cmd->group.p, cmd->group.len);
    const char *chown = cmd->set_mask & KV_SET_OWNER ? no : NULL;
    const char *chgrp = cmd->set_mask & KV_SET_GROUP ? ng : NULL;
    if (kv_perm_check_chown(x->who, chown, chgrp, x->res->msg, sizeof x->res->msg)) {
      x->res->code = RV_EPERM;
      return RV_OK;
    }
  }
  if (times && (rc = kv_op_check_attr(x, pa, pa->n, &a, KV_ACC_WRITE))) return rc;
  if (x->res->code) return RV_OK;
  if (cmd->set_mask & KV_SET_MTIME) a.mtime_ms = cmd->mtime_ms;
  if (cmd->set_mask & KV_SET_ATIME) a.atime_ms = cmd->atime_ms;
  if (cmd->set_mask & KV_SET_PERM) a.perm = cmd->perm;
  if (cmd->set_mask & KV_SET_OWNER) {
    memcpy(a.owner, cmd->owner.p, cmd->owner.len);
    a.owner[cmd->owner.len] = '\0';
  }
  if (cmd->set_mask & KV_SET_GROUP) {
    memcpy(a.group, cmd->group.p, cmd->group.len);
    a.group[cmd->group.len] = '\0';
  }
  x->res->inode = ino;
  return kv_core_attr_put(c, ino, &a, x->err);
}
