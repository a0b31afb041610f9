/* kv_ops_remove: the commands that unlink entries: rm (-r, file-only, dir-only) and mv. Pure.
 *
 * rm -r deletes a whole subtree in the command's one batch: it walks the directories with an
 * explicit stack (no recursion, so depth costs no C stack), one range scan of 'D'+dir each, and
 * deletes every dentry, attribute and content key. The ancestors' totals need no walk: the
 * removed directory's own totals say what leaves. The walk's counts are checked against those
 * totals, so a drifted counter is caught (RV_ECORRUPT) rather than silently kept.
 * mv is a dentry delete plus a dentry put: O(depth), whatever the size of what moves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_core_int.h"

static kv_delta_t s_neg(kv_delta_t d) { return (kv_delta_t){-d.dirs, -d.files, -d.bytes}; }

typedef struct {
  kv_core_t *c;
  uint8_t prefix[9]; /* 'D' + the directory being emptied */
  uint64_t dirs, files;
  rv_err_t *err;
} s_sweep_t;

static int s_push(kv_core_t *c, uint64_t ino) {
  if (c->nstack == c->capstack) {
    size_t cap = c->capstack ? c->capstack * 2 : 64;
    uint64_t *s = realloc(c->stack, cap * sizeof *s);
    if (!s) return RV_ENOMEM;
    c->stack = s;
    c->capstack = cap;
  }
  c->stack[c->nstack++] = ino;
  return RV_OK;
}

static int s_sweep_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_sweep_t *s = arg;
  if (kl < sizeof s->prefix || memcmp(k, s->prefix, sizeof s->prefix) != 0) return KV_SCAN_STOP;
  uint64_t ino;
  uint8_t type, key[KV_KEY_MAX];
  if (kv_dentry_decode(v, vl, &ino, &type))
    return rv_err_set(s->err, RV_ECORRUPT, "kv store: malformed dentry under inode %llu",
                      (unsigned long long)kv_be64_get(s->prefix + 1));
  int rc;
  /* an inode's xattrs are one key: deleted unread, as the content (absent is harmless) */
  if ((rc = kv_core_del(s->c, k, kl, s->err)) ||
      (rc = kv_core_del(s->c, key, kv_key_attr(key, ino), s->err)) ||
      (rc = kv_core_del(s->c, key, kv_key_xattr(key, ino), s->err)))
    return rc;
  if (type == KV_TYPE_DIR) {
    s->dirs++;
    if (s_push(s->c, ino)) return rv_err_set(s->err, RV_ENOMEM, "kv core: out of memory");
    return 0;
  }
  s->files++;
  /* Content keys exist only for non-empty files; deleting a missing key is harmless and saves
   * reading every file's attributes. */
  return kv_core_del(s->c, key, kv_key_content(key, ino), s->err);
}

/* Deletes everything below directory top (not top itself); checks the counts against its
 * attributes. */
static int s_sweep(kv_core_t *c, uint64_t top, const kv_attr_t *ta, rv_err_t *err) {
  s_sweep_t s = {.c = c, .err = err};
  c->nstack = 0;
  if (s_push(c, top)) return rv_err_set(err, RV_ENOMEM, "kv core: out of memory");
  while (c->nstack) {
    uint64_t dir = c->stack[--c->nstack];
    s.prefix[0] = KV_T_DENTRY;
    kv_be64_put(s.prefix + 1, dir);
    int rc = kv_store_scan(c->store, s.prefix, sizeof s.prefix, s_sweep_one, &s, err);
    if (rc) return rc;
  }
  if (s.dirs != ta->sub_dirs || s.files != ta->sub_files)
    return rv_err_set(err, RV_ECORRUPT,
                      "kv store: inode %llu counts %llu dirs and %llu files below it, but %llu "
                      "and %llu were found",
                      (unsigned long long)top, (unsigned long long)ta->sub_dirs,
                      (unsigned long long)ta->sub_files, (unsigned long long)s.dirs,
                      (unsigned long long)s.files);
  return RV_OK;
}

int kv_op_rm(kv_opctx_t *x) {
  kv_core_t *c = x->core;
  const kv_cmd_t *cmd = x->cmd;
  kv_path_t *pa = &c->pa;
  kv_chain_t *ch = &c->ca;
  if (!kv_op_parse(x, pa, &cmd->path)) return RV_OK;
  bool recursive = cmd->flags & KV_F_RECURSIVE;
  bool file_only = cmd->flags & KV_F_FILE_ONLY, dir_only = cmd->flags & KV_F_DIR_ONLY;
  if (recursive + file_only + dir_only > 1)
    return kv_op_fail(x, RV_EINVAL, "the flags 0x%02x contradict one another (give one of "
                      "recursive, file-only, dir-only)", cmd->flags);
  if (pa->n == 0)
    return file_only ? kv_op_fail(x, RV_EISDIR, "is a directory (the root)")
                     : kv_op_fail(x, RV_EINVAL, "refusing to remove the root directory");
  int rc = kv_core_resolve(c, pa, pa->n, ch, x->err);
  if (rc == RV_ENOTFOUND || rc == RV_ENOTDIR) return kv_op_resolve_fail(x, pa, ch, rc);
  if (rc) return rc;
  /* HDFS delete: WRITE (and the traversal's EXECUTE) on the parent, the sticky bit */
  kv_perm_want_t w = {.parent = KV_ACC_WRITE};
  if ((rc = kv_op_check(x, pa, ch, pa->n, pa->n + 1, &w)) || x->res->code) return rc;
  /* The type checks read the state this very command changes, so they are atomic with it:
   * no other command can slip a directory in between the check and the removal. */
  if (file_only && ch->type[pa->n] == KV_TYPE_DIR)
    return kv_op_fail(x, RV_EISDIR, "is a directory (remove it with -r)");
  if (dir_only && ch->type[pa->n] != KV_TYPE_DIR)
    return kv_op_fail(x, RV_ENOTDIR, "is not a directory");
  size_t i = pa->n - 1;
  uint64_t ino = ch->ino[pa->n];
  kv_attr_t a;
  if ((rc = kv_core_attr_get(c, ino, &a, x->err))) return rc;
  uint64_t total = 1;
  if (a.type == KV_TYPE_DIR && a.nchildren > 0) {
    if (!recursive) return kv_op_fail(x, RV_ENOTEMPTY, "directory not empty");
    total += a.sub_dirs + a.sub_files;
    if (total > c->cfg.rm_max_entries)
      return kv_op_fail(x, RV_ETOOBIG,
                        "%llu entries exceed the %llu one command may remove; remove "
                        "subdirectories first",
                        (unsigned long long)total, (unsigned long long)c->cfg.rm_max_entries);
    /* and ALL on every directory of the subtree that is not empty, itself included */
    if ((rc = kv_op_check_subtree(x, pa, pa->n, ino, &a, KV_ACC_ALL)) || x->res->code) return rc;
    if ((rc = s_sweep(c, ino, &a, x->err))) return rc;
  }
  uint8_t key[KV_KEY_MAX];
  size_t nl;
  const char *name = kv_path_name(pa, i, &nl);
  if ((rc = kv_core_del(c, key, kv_key_dentry(key, ch->ino[i], name, nl), x->err)) ||
      (rc = kv_core_del(c, key, kv_key_attr(key, ino), x->err)) ||
      (rc = kv_core_del(c, key, kv_key_xattr(key, ino), x->err)))
    return rc;
  if (a.type == KV_TYPE_FILE && a.size &&
      (rc = kv_core_del(c, key, kv_key_content(key, ino), x->err)))
    return rc;
  if ((rc = kv_core_adjust(c, ch, i, s_neg(kv_delta_of(&a)), -1, true, cmd->time_ms, x->err)))
    return rc;
  x->res->inode = ino;
  x->res->n = total;
  return RV_OK;
}

int kv_op_mv(kv_opctx_t *x) {
  kv_core_t *c = x->core;
  const kv_cmd_t *cmd = x->cmd;
  kv_path_t *ps = &c->pa, *pd = &c->pb;
  kv_chain_t *cs = &c->ca, *cd = &c->cb;
  if (!kv_op_parse(x, ps, &cmd->path) || !kv_op_parse(x, pd, &cmd->path2)) return RV_OK;
  if (ps->n == 0) return kv_op_fail(x, RV_EINVAL, "cannot move the root directory");
  int rc = kv_core_resolve(c, ps, ps->n, cs, x->err);
  if (rc == RV_ENOTFOUND || rc == RV_ENOTDIR) return kv_op_resolve_fail(x, ps, cs, rc);
  if (rc) return rc;
  /* HDFS rename: the source as a delete (WRITE on its parent, the sticky bit) */
  kv_perm_want_t wsrc = {.parent = KV_ACC_WRITE};
  if ((rc = kv_op_check(x, ps, cs, ps->n, ps->n + 1, &wsrc)) || x->res->code) return rc;
  uint64_t ino = cs->ino[ps->n];
  size_t snl;
  const char *sname = kv_path_name(ps, ps->n - 1, &snl);

  /* The target: into dst when it is a directory (HDFS), else dst itself when it is free. */
  size_t tdepth; /* the target's parent is cd->ino[tdepth] */
  const char *tname;
  size_t tnl;
  rc = kv_core_resolve(c, pd, pd->n, cd, x->err);
  if (rc == RV_OK) {
    if (cd->type[pd->n] != KV_TYPE_DIR)
      return kv_op_fail(x, RV_EEXIST, "destination exists and is not a directory");
    tdepth = pd->n;
    tname = sname;
    tnl = snl;
  } else if (rc == RV_ENOTFOUND && cd->depth + 1 == pd->n) {
    tdepth = pd->n - 1;
    tname = kv_path_name(pd, pd->n - 1, &tnl);
  } else if (rc == RV_ENOTFOUND || rc == RV_ENOTDIR) {
    return kv_op_resolve_fail(x, pd, cd, rc);
  } else {
    return rc;
  }
  /* ... and the target (dst, or dst/name inside a directory) as a create: WRITE on its
   * deepest existing ancestor, which is the directory it goes into */
  kv_perm_want_t wdst = {.ancestor = KV_ACC_WRITE};
  if ((rc = kv_op_check(x, pd, cd, tdepth + 1, tdepth + 1, &wdst)) || x->res->code) return rc;
  for (size_t i = 0; i <= tdepth; i++) {
    if (cd->ino[i] == ino)
      return kv_op_fail(x, RV_EINVAL, "cannot move a directory into itself or its descendant");
  }
  uint64_t other;
  uint8_t otype;
  rc = kv_core_dentry_get(c, cd->ino[tdepth], tname, tnl, &other, &otype, x->err);
  if (rc == RV_OK) {
    char s2[KV_SHOW_CAP], s3[KV_SHOW_CAP];
    return kv_op_fail(x, RV_EEXIST, "%s/%s already exists",
                      tdepth ? kv_show(s2, sizeof s2, pd->p, kv_path_prefix_len(pd, tdepth)) : "",
                      kv_show(s3, sizeof s3, tname, tnl));
  }
  if (rc != RV_ENOTFOUND) return rc;

  kv_attr_t a;
  if ((rc = kv_core_attr_get(c, ino, &a, x->err))) return rc;
  uint8_t key[KV_KEY_MAX], dv[KV_DENTRY_LEN];
  kv_dentry_encode(dv, ino, a.type);
  kv_delta_t d = kv_delta_of(&a);
  size_t sp = ps->n - 1;
  if ((rc = kv_core_del(c, key, kv_key_dentry(key, cs->ino[sp], sname, snl), x->err)) ||
      (rc = kv_core_put(c, key, kv_key_dentry(key, cd->ino[tdepth], tname, tnl), dv, sizeof dv,
                        x->err)) ||
      (rc = kv_core_adjust(c, cs, sp, s_neg(d), -1, true, cmd->time_ms, x->err)) ||
      (rc = kv_core_adjust(c, cd, tdepth, d, 1, true, cmd->time_ms, x->err)))
    return rc;
  x->res->inode = ino;
  return RV_OK;
}
