/* kv_op_access: the glue between the ops and kv_perm: reads the attributes along a resolved
 * path (through the pending batch, so a check sees the state at the command's own index: no
 * check can race a concurrent chmod), walks a subtree for a recursive delete, and picks the
 * owner and group of what a command creates. Pure. */
#include <stdlib.h>
#include <string.h>

#include "kv_core_int.h"

static int s_scratch(kv_core_t *c, rv_err_t *err) {
  if (c->pattrs) return RV_OK;
  c->pattrs = calloc(KV_DEPTH_MAX + 2, sizeof *c->pattrs);
  c->pplen = calloc(KV_DEPTH_MAX + 2, sizeof *c->pplen);
  if (!c->pattrs || !c->pplen) {
    free(c->pattrs);
    free(c->pplen);
    c->pattrs = NULL;
    c->pplen = NULL;
    return rv_err_set(err, RV_ENOMEM, "kv core: out of memory for a permission check");
  }
  return RV_OK;
}

int kv_op_check(kv_opctx_t *x, const kv_path_t *pa, const kv_chain_t *ch, size_t depth,
                size_t exist, const kv_perm_want_t *w) {
  if (!kv_perm_checked(x->who)) return RV_OK;
  kv_core_t *c = x->core;
  int rc = s_scratch(c, x->err);
  if (rc) return rc;
  for (size_t i = 0; i < exist; i++)
    if ((rc = kv_core_attr_get(c, ch->ino[i], &c->pattrs[i], x->err))) return rc;
  for (size_t i = 0; i <= depth; i++) c->pplen[i] = kv_path_prefix_len(pa, i < pa->n ? i : pa->n);
  kv_perm_path_t pp = {.attrs = c->pattrs, .exist = exist, .depth = depth, .path = pa->p,
                       .plen = c->pplen};
  if (kv_perm_check(x->who, &pp, w, x->res->msg, sizeof x->res->msg)) x->res->code = RV_EPERM;
  return RV_OK;
}

int kv_op_check_attr(kv_opctx_t *x, const kv_path_t *pa, size_t k, const kv_attr_t *a,
                     unsigned access) {
  if (!kv_perm_checked(x->who) || kv_perm_allows(x->who, a, access)) return RV_OK;
  x->res->code = kv_perm_denied(x->who, pa->p, kv_path_prefix_len(pa, k), a, access, x->res->msg,
                                sizeof x->res->msg);
  return RV_OK;
}

/* The walk keeps each pending directory's path in one arena: entry i is (inode, offset, len). */
typedef struct {
  uint64_t ino;
  size_t off, len;
} s_pending_t;

typedef struct {
  kv_opctx_t *x;
  uint8_t prefix[9];
  size_t parent_off, parent_len; /* the path of the directory being scanned, in the arena */
  s_pending_t *v;
  size_t n, cap;
  kv_buf_t arena;
} s_walk_t;

static int s_walk_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_walk_t *w = arg;
  if (kl < sizeof w->prefix || memcmp(k, w->prefix, sizeof w->prefix) != 0) return KV_SCAN_STOP;
  uint64_t ino;
  uint8_t type;
  if (kv_dentry_decode(v, vl, &ino, &type))
    return rv_err_set(w->x->err, RV_ECORRUPT, "kv store: malformed dentry under inode %llu",
                      (unsigned long long)kv_be64_get(w->prefix + 1));
  if (type != KV_TYPE_DIR) return 0;
  if (w->n == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 64;
    s_pending_t *nv = realloc(w->v, cap * sizeof *nv);
    if (!nv) return rv_err_set(w->x->err, RV_ENOMEM, "kv core: out of memory");
    w->v = nv;
    w->cap = cap;
  }
  size_t off = w->arena.len;
  /* reserve first: the parent's path is copied from the arena itself */
  size_t plen = w->parent_len;
  if (!kv_buf_reserve(&w->arena, plen + 1 + (kl - sizeof w->prefix)))
    return rv_err_set(w->x->err, RV_ENOMEM, "kv core: out of memory");
  kv_buf_put(&w->arena, w->arena.data + w->parent_off, plen);
  kv_buf_put(&w->arena, "/", 1);
  kv_buf_put(&w->arena, k + sizeof w->prefix, kl - sizeof w->prefix);
  if (!kv_buf_ok(&w->arena)) return rv_err_set(w->x->err, RV_ENOMEM, "kv core: out of memory");
  w->v[w->n++] = (s_pending_t){ino, off, w->arena.len - off};
  return 0;
}

int kv_op_check_subtree(kv_opctx_t *x, const kv_path_t *pa, size_t k, uint64_t top,
                        const kv_attr_t *ta, unsigned access) {
  if (!kv_perm_checked(x->who) || ta->type != KV_TYPE_DIR) return RV_OK;
  kv_core_t *c = x->core;
  s_walk_t w = {.x = x};
  kv_buf_init(&w.arena);
  size_t tl = kv_path_prefix_len(pa, k);
  kv_buf_put(&w.arena, pa->p, tl == 1 ? 0 : tl); /* the root's children are "/name" */
  int rc = kv_buf_ok(&w.arena) ? RV_OK : rv_err_set(x->err, RV_ENOMEM, "kv core: out of memory");
  w.v = malloc(sizeof *w.v);
  w.cap = 1;
  if (!w.v) rc = rv_err_set(x->err, RV_ENOMEM, "kv core: out of memory");
  if (!rc) w.v[w.n++] = (s_pending_t){top, 0, w.arena.len};
  while (!rc && w.n && !x->res->code) {
    s_pending_t d = w.v[--w.n];
    kv_attr_t a;
    if ((rc = kv_core_attr_get(c, d.ino, &a, x->err))) break;
    if (a.nchildren == 0) continue; /* ignoreEmptyDir */
    if (!kv_perm_allows(x->who, &a, access)) {
      const char *p = d.len ? (const char *)w.arena.data + d.off : "/";
      x->res->code = kv_perm_denied(x->who, p, d.len ? d.len : 1, &a, access, x->res->msg,
                                    sizeof x->res->msg);
      break;
    }
    w.prefix[0] = KV_T_DENTRY;
    kv_be64_put(w.prefix + 1, d.ino);
    w.parent_off = d.off;
    w.parent_len = d.len;
    rc = kv_store_scan(c->store, w.prefix, sizeof w.prefix, s_walk_one, &w, x->err);
  }
  free(w.v);
  kv_buf_close(&w.arena);
  return rc;
}

int kv_op_new_owner(kv_opctx_t *x, uint64_t parent, char owner[KV_OWNER_MAX + 1],
                    char group[KV_OWNER_MAX + 1]) {
  const kv_cmd_t *cmd = x->cmd;
  memset(owner, 0, KV_OWNER_MAX + 1);
  memset(group, 0, KV_OWNER_MAX + 1);
  if (cmd->user.len == 0) { /* version 1: as the command says */
    if (cmd->owner.len) memcpy(owner, cmd->owner.p, cmd->owner.len);
    if (cmd->group.len) memcpy(group, cmd->group.p, cmd->group.len);
    return RV_OK;
  }
  memcpy(owner, cmd->user.p, cmd->user.len);
  kv_attr_t pa;
  int rc = kv_core_attr_get(x->core, parent, &pa, x->err);
  if (rc) return rc;
  memcpy(group, pa.group, sizeof pa.group);
  return RV_OK;
}
