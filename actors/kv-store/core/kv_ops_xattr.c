/* kv_ops_xattr: extended attributes (HDFS setXAttr / removeXAttr), kept with the inode in one
 * 'E' key (kv_schema.h), so a rename keeps them and a delete drops them in the same batch. Pure.
 *
 * HDFS' rules (XAttrHelper, XAttrPermissionFilter, FSDirXAttrOp), with its messages:
 *  - a name is NAMESPACE.rest; the namespace (user, trusted, security, system, raw) is taken in
 *    any case and stored in lower case; rest is not empty;
 *  - user.: anyone with WRITE on the inode (a sticky directory: its owner), READ to get;
 *    trusted.: the superuser only; system., security., raw.: no client (HDFS keeps them for
 *    itself, raw. only through /.reserved/raw, which does not exist here);
 *  - at most KV_XATTRS_MAX per inode and KV_XATTR_SIZE_MAX bytes of name and value together
 *    (dfs.namenode.fs-limits.max-xattrs-per-inode, max-xattr-size: HDFS' defaults).
 * A set creates or replaces (FsShell's -setfattr passes both CREATE and REPLACE). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kv_core_int.h"

static const char *const s_namespaces[] = {"user", "trusted", "security", "system", "raw"};

int kv_xattr_name_check(const uint8_t *p, size_t len, char *norm, size_t *nlen, char *why,
                        size_t cap) {
  const uint8_t *dot = memchr(p, '.', len);
  size_t pl = dot ? (size_t)(dot - p) : 0;
  int ns = -1;
  for (int i = 0; dot && i < 5; i++)
    if (strlen(s_namespaces[i]) == pl && strncasecmp((const char *)p, s_namespaces[i], pl) == 0)
      ns = i;
  if (ns < 0) {
    snprintf(why, cap,
             "An XAttr name must be prefixed with user/trusted/security/system/raw, followed by a "
             "'.'");
    return RV_EINVAL;
  }
  if (pl + 1 == len) {
    snprintf(why, cap, "XAttr name cannot be empty.");
    return RV_EINVAL;
  }
  if (len > KV_XATTR_NAME_MAX) {
    snprintf(why, cap, "XAttr name of %zu bytes exceeds %d bytes", len, KV_XATTR_NAME_MAX);
    return RV_EINVAL;
  }
  memcpy(norm, s_namespaces[ns], pl);
  memcpy(norm + pl, p + pl, len - pl);
  *nlen = len;
  return RV_OK;
}

/* Who may touch name (normalised): HDFS' XAttrPermissionFilter. */
static bool s_ns_allowed(const kv_principal_t *who, const char *name) {
  if (strncmp(name, "user.", 5) == 0) return true;
  return strncmp(name, "trusted.", 8) == 0 && who->superuser;
}

/* The op's setup: the name normalised, the path resolved, namespace and WRITE checked; *ino and
 * the stored list (x[0..*n), borrowed from c->val) filled. Returns 0 with res untouched to go
 * on, 0 with res failed, or a storage error. */
static int s_begin(kv_opctx_t *x, const kv_bytes_t *name, char *norm, size_t *nlen,
                   uint64_t *ino, kv_xattr_t *xs, size_t *n) {
  kv_core_t *c = x->core;
  kv_path_t *pa = &c->pa;
  kv_chain_t *ch = &c->ca;
  char why[KV_MSG_MAX];
  if (!kv_op_parse(x, pa, &x->cmd->path)) return RV_OK;
  if (kv_xattr_name_check(name->p, name->len, norm, nlen, why, sizeof why))
    return kv_op_fail(x, RV_EINVAL, "%s", why);
  norm[*nlen] = '\0';
  int rc = kv_core_resolve(c, pa, pa->n, ch, x->err);
  if (rc == RV_ENOTFOUND || rc == RV_ENOTDIR) return kv_op_resolve_fail(x, pa, ch, rc);
  if (rc) return rc;
  /* the traversal first (HDFS resolves the path before it looks at the name) */
  kv_perm_want_t none = {0};
  if ((rc = kv_op_check(x, pa, ch, pa->n, pa->n + 1, &none)) || x->res->code) return rc;
  if (!s_ns_allowed(x->who, norm)) {
    x->res->code = RV_EPERM;
    snprintf(x->res->msg, sizeof x->res->msg, "User doesn't have permission for xattr: %s", norm);
    return RV_OK;
  }
  *ino = ch->ino[pa->n];
  kv_attr_t a;
  if ((rc = kv_core_attr_get(c, *ino, &a, x->err))) return rc;
  if (strncmp(norm, "user.", 5) == 0) { /* FSDirXAttrOp.checkXAttrChangeAccess */
    kv_perm_want_t w = {.owner = a.type == KV_TYPE_DIR && (a.perm & KV_PERM_STICKY),
                        .access = a.type == KV_TYPE_DIR && (a.perm & KV_PERM_STICKY)
                                      ? KV_ACC_NONE
                                      : KV_ACC_WRITE};
    if ((rc = kv_op_check(x, pa, ch, pa->n, pa->n + 1, &w)) || x->res->code) return rc;
  }
  uint8_t key[KV_KEY_MAX];
  *n = 0;
  rc = kv_core_get(c, key, kv_key_xattr(key, *ino), &c->val, x->err);
  if (rc == RV_ENOTFOUND) return RV_OK;
  if (rc) return rc;
  if (kv_xattrs_decode(c->val.data, c->val.len, xs, n))
    return rv_err_set(x->err, RV_ECORRUPT, "kv store: xattrs of inode %llu are malformed",
                      (unsigned long long)*ino);
  return RV_OK;
}

/* Where name goes in the sorted list: *found when it is there. */
static size_t s_find(const kv_xattr_t *xs, size_t n, const char *name, size_t nlen, bool *found) {
  *found = false;
  for (size_t i = 0; i < n; i++) {
    size_t m = xs[i].name.len < nlen ? xs[i].name.len : nlen;
    int cmp = memcmp(xs[i].name.p, name, m);
    if (cmp == 0 && xs[i].name.len == nlen) {
      *found = true;
      return i;
    }
    if (cmp > 0 || (cmp == 0 && xs[i].name.len > nlen)) return i;
  }
  return n;
}

/* Writes the list (deleted when empty). The list borrows from c->val: encoded into a scratch
 * buffer of its own first. */
static int s_store(kv_opctx_t *x, uint64_t ino, const kv_xattr_t *xs, size_t n) {
  uint8_t key[KV_KEY_MAX];
  size_t kl = kv_key_xattr(key, ino);
  if (n == 0) return kv_core_del(x->core, key, kl, x->err);
  kv_buf_t b;
  kv_buf_init(&b);
  kv_xattrs_encode(xs, n, &b);
  int rc = kv_buf_ok(&b) ? kv_core_put(x->core, key, kl, b.data, b.len, x->err)
                         : rv_err_set(x->err, RV_ENOMEM, "kv core: out of memory");
  kv_buf_close(&b);
  return rc;
}

int kv_op_setxattr(kv_opctx_t *x) {
  const kv_cmd_t *cmd = x->cmd;
  kv_reader_t r;
  kv_bytes_t name, value;
  kv_reader_init(&r, cmd->data.p, cmd->data.len);
  kv_reader_str8(&r, &name);
  kv_reader_str16(&r, &value);
  if (!kv_reader_done(&r)) return kv_op_fail(x, RV_EINVAL, "the name and value do not decode");
  char norm[KV_XATTR_NAME_MAX + 1];
  size_t nlen, n;
  uint64_t ino;
  kv_xattr_t xs[KV_XATTRS_MAX + 1];
  int rc = s_begin(x, &name, norm, &nlen, &ino, xs, &n);
  if (rc || x->res->code) return rc;
  if (nlen + value.len > KV_XATTR_SIZE_MAX) /* FSDirXAttrOp's words */
    return kv_op_fail(x, RV_EINVAL,
                      "The XAttr is too big. The maximum combined size of the name and value is "
                      "%d, but the total size is %zu",
                      KV_XATTR_SIZE_MAX, nlen + value.len);
  bool found;
  size_t at = s_find(xs, n, norm, nlen, &found);
  if (found) {
    xs[at].value = value;
  } else {
    if (n >= KV_XATTRS_MAX)
      return kv_op_fail(x, RV_EINVAL,
                        "Cannot add additional XAttr to inode, would exceed limit of %d",
                        KV_XATTRS_MAX);
    memmove(xs + at + 1, xs + at, (n - at) * sizeof *xs);
    xs[at] = (kv_xattr_t){{(const uint8_t *)norm, nlen}, value};
    n++;
  }
  if ((rc = s_store(x, ino, xs, n))) return rc;
  x->res->inode = ino;
  x->res->n = n;
  return RV_OK;
}

int kv_op_removexattr(kv_opctx_t *x) {
  char norm[KV_XATTR_NAME_MAX + 1];
  size_t nlen, n;
  uint64_t ino;
  kv_xattr_t xs[KV_XATTRS_MAX];
  int rc = s_begin(x, &x->cmd->data, norm, &nlen, &ino, xs, &n);
  if (rc || x->res->code) return rc;
  bool found;
  size_t at = s_find(xs, n, norm, nlen, &found);
  if (!found) /* HDFS' words; not "no such file": the path is there */
    return kv_op_fail(x, RV_EINVAL, "No matching attributes found for remove operation");
  memmove(xs + at, xs + at + 1, (n - at - 1) * sizeof *xs);
  n--;
  if ((rc = s_store(x, ino, xs, n))) return rc;
  x->res->inode = ino;
  x->res->n = n;
  return RV_OK;
}
