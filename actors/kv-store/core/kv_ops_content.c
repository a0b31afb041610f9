/* kv_ops_content: the commands that change a file's content in place, each one replicated
 * command decided against the state at its own index, so no other client's write can fall
 * between a read and a write-back: append (Hadoop's -appendToFile, creating a missing file),
 * truncate (HDFS truncate, shrinking only) and concat (HDFS concat: the sources' contents
 * appended to the target, the sources removed). Pure.
 *
 * The inline limit (cfg.inline_max) bounds a file's whole content, however it was built: an
 * append or concat that would take a file past it is refused (RV_ETOOBIG) and changes nothing.
 * Every op keeps the subtree totals of the ancestors exact (bytes moved, files removed). */
#include <stdlib.h>
#include <string.h>

#include "kv_core_int.h"

/* Reads ino's content (size bytes, as its attributes say) and appends it to out. */
static int s_content_read(kv_core_t *c, uint64_t ino, uint64_t size, kv_buf_t *out,
                          rv_err_t *err) {
  if (size == 0) return RV_OK;
  uint8_t key[KV_KEY_MAX];
  int rc = kv_core_get(c, key, kv_key_content(key, ino), &c->val, err);
  if (rc == RV_ENOTFOUND || (rc == RV_OK && c->val.len != size))
    return rv_err_set(err, RV_ECORRUPT,
                      "kv store: content of inode %llu does not hold its %llu bytes",
                      (unsigned long long)ino, (unsigned long long)size);
  if (rc) return rc;
  kv_buf_put(out, c->val.data, c->val.len);
  return kv_buf_ok(out) ? RV_OK : rv_err_set(err, RV_ENOMEM, "kv core: out of memory");
}

/* Writes ino's content (deleted when empty). */
static int s_content_write(kv_core_t *c, uint64_t ino, const kv_buf_t *b, rv_err_t *err) {
  uint8_t key[KV_KEY_MAX];
  size_t kl = kv_key_content(key, ino);
  return b->len ? kv_core_put(c, key, kl, b->data, b->len, err) : kv_core_del(c, key, kl, err);
}

/* The size limit of a content op: size bytes in the file afterwards. */
static bool s_fits(kv_opctx_t *x, uint64_t size, const char *what) {
  if (size <= x->core->cfg.inline_max) return true;
  kv_op_fail(x, RV_ETOOBIG, "the file would hold %llu bytes %s, over the inline limit of %u bytes",
             (unsigned long long)size, what, x->core->cfg.inline_max);
  return false;
}

int kv_op_append(kv_opctx_t *x) {
  kv_core_t *c = x->core;
  const kv_cmd_t *cmd = x->cmd;
  kv_path_t *pa = &c->pa;
  kv_chain_t *ch = &c->ca;
  int rc = kv_op_file_parent(x); /* the traversal; the parent must exist */
  if (rc || x->res->code) return rc;
  size_t i = pa->n - 1, nl;
  const char *name = kv_path_name(pa, i, &nl);
  uint64_t ino;
  uint8_t type;
  rc = kv_core_dentry_get(c, ch->ino[i], name, nl, &ino, &type, x->err);
  if (rc == RV_ENOTFOUND) { /* Hadoop's appendToFile creates it: WRITE on the parent */
    kv_attr_t pattr, a;
    if ((rc = kv_core_attr_get(c, ch->ino[i], &pattr, x->err))) return rc;
    if ((rc = kv_op_check_attr(x, pa, i, &pattr, KV_ACC_WRITE)) || x->res->code) return rc;
    if (!s_fits(x, cmd->data.len, "(a new file)")) return RV_OK;
    if ((rc = kv_op_attr_new(x, &a, KV_TYPE_FILE, cmd->perm, ch->ino[i]))) return rc;
    a.size = cmd->data.len;
    if ((rc = kv_op_link_new(x, pa, ch, i, &a, &cmd->data, &x->res->inode))) return rc;
    x->res->n = a.size;
    return RV_OK;
  }
  if (rc) return rc;
  if (type == KV_TYPE_DIR) return kv_op_fail(x, RV_EISDIR, "is a directory");
  kv_attr_t a;
  if ((rc = kv_core_attr_get(c, ino, &a, x->err))) return rc;
  /* HDFS append: WRITE on the file */
  if ((rc = kv_op_check_attr(x, pa, pa->n, &a, KV_ACC_WRITE)) || x->res->code) return rc;
  if (!s_fits(x, a.size + cmd->data.len, "after the append")) return RV_OK;
  kv_buf_t b;
  kv_buf_init(&b);
  rc = s_content_read(c, ino, a.size, &b, x->err);
  if (!rc) {
    kv_buf_put(&b, cmd->data.p, cmd->data.len);
    if (!kv_buf_ok(&b)) rc = rv_err_set(x->err, RV_ENOMEM, "kv core: out of memory");
  }
  if (!rc) rc = s_content_write(c, ino, &b, x->err);
  kv_buf_close(&b);
  if (rc) return rc;
  a.size += cmd->data.len;
  a.mtime_ms = cmd->time_ms;
  if ((rc = kv_core_attr_put(c, ino, &a, x->err))) return rc;
  if (cmd->data.len &&
      (rc = kv_core_adjust(c, ch, i, (kv_delta_t){0, 0, (int64_t)cmd->data.len}, 0, false, 0,
                           x->err)))
    return rc;
  x->res->inode = ino;
  x->res->n = a.size;
  return RV_OK;
}

int kv_op_truncate(kv_opctx_t *x) {
  kv_core_t *c = x->core;
  const kv_cmd_t *cmd = x->cmd;
  kv_path_t *pa = &c->pa;
  kv_chain_t *ch = &c->ca;
  if (!kv_op_parse(x, pa, &cmd->path)) return RV_OK;
  if (cmd->data.len != KV_TRUNCATE_LEN)
    return kv_op_fail(x, RV_EINVAL, "the new length is %zu bytes, not %d", cmd->data.len,
                      KV_TRUNCATE_LEN);
  uint64_t want = kv_be64_get(cmd->data.p);
  int rc = kv_core_resolve(c, pa, pa->n, ch, x->err);
  if (rc == RV_ENOTFOUND || rc == RV_ENOTDIR) return kv_op_resolve_fail(x, pa, ch, rc);
  if (rc) return rc;
  if (ch->type[pa->n] == KV_TYPE_DIR) return kv_op_fail(x, RV_EISDIR, "is a directory");
  /* HDFS truncate: the traversal and WRITE on the file */
  kv_perm_want_t w = {.access = KV_ACC_WRITE};
  if ((rc = kv_op_check(x, pa, ch, pa->n, pa->n + 1, &w)) || x->res->code) return rc;
  uint64_t ino = ch->ino[pa->n];
  kv_attr_t a;
  if ((rc = kv_core_attr_get(c, ino, &a, x->err))) return rc;
  if (want > a.size) /* HDFS' words (FSDirTruncateOp) */
    return kv_op_fail(x, RV_EINVAL,
                      "Cannot truncate to a larger file size. Current size: %llu, truncate "
                      "size: %llu.",
                      (unsigned long long)a.size, (unsigned long long)want);
  x->res->inode = ino;
  x->res->n = want;
  if (want == a.size) return RV_OK; /* nothing to do (HDFS leaves the file untouched) */
  kv_buf_t b;
  kv_buf_init(&b);
  rc = s_content_read(c, ino, a.size, &b, x->err);
  if (!rc) {
    kv_buf_truncate(&b, (size_t)want);
    rc = s_content_write(c, ino, &b, x->err);
  }
  kv_buf_close(&b);
  if (rc) return rc;
  uint64_t cut = a.size - want;
  a.size = want;
  a.mtime_ms = cmd->time_ms;
  if ((rc = kv_core_attr_put(c, ino, &a, x->err))) return rc;
  return kv_core_adjust(c, ch, pa->n - 1, (kv_delta_t){0, 0, -(int64_t)cut}, 0, false, 0,
                        x->err);
}

/* ---- concat ------------------------------------------------------------------------------ */

/* HDFS' rules (FSDirConcatOp), as far as they concern inline contents: the target and every
 * source are existing files in one directory; no source is the target or given twice; WRITE on
 * the target, READ on each source and WRITE on its parent (the sticky bit applies). HDFS'
 * rules on blocks (an empty source, block sizes, replication, striping) have nothing to apply
 * to: an empty source is taken. The sources go in the order given. */
int kv_op_concat(kv_opctx_t *x) {
  kv_core_t *c = x->core;
  const kv_cmd_t *cmd = x->cmd;
  kv_path_t *pa = &c->pa, *pb = &c->pb;
  kv_chain_t *ch = &c->ca, *cb = &c->cb;
  static const size_t cap = KV_CONCAT_SRCS_MAX;
  kv_bytes_t *srcs = malloc(cap * sizeof *srcs);
  uint64_t *inos = malloc(cap * sizeof *inos);
  kv_buf_t b;
  kv_buf_init(&b);
  int rc = RV_OK;
  size_t n = 0;
  if (!srcs || !inos) {
    rc = rv_err_set(x->err, RV_ENOMEM, "kv core: out of memory");
    goto done;
  }
  if (!kv_op_parse(x, pa, &cmd->path)) goto done;
  if (kv_concat_srcs_decode(&cmd->data, srcs, cap, &n)) {
    kv_op_fail(x, RV_EINVAL, "the sources do not decode (1..%d paths expected)",
               KV_CONCAT_SRCS_MAX);
    goto done;
  }
  rc = kv_core_resolve(c, pa, pa->n, ch, x->err);
  if (rc == RV_ENOTFOUND || rc == RV_ENOTDIR) {
    rc = kv_op_resolve_fail(x, pa, ch, rc);
    goto done;
  }
  if (rc) goto done;
  if (pa->n == 0 || ch->type[pa->n] == KV_TYPE_DIR) {
    kv_op_fail(x, RV_EISDIR, "the target is a directory");
    goto done;
  }
  kv_perm_want_t tw = {.access = KV_ACC_WRITE};
  if ((rc = kv_op_check(x, pa, ch, pa->n, pa->n + 1, &tw)) || x->res->code) goto done;
  uint64_t tino = ch->ino[pa->n], dir = ch->ino[pa->n - 1];
  kv_attr_t ta;
  if ((rc = kv_core_attr_get(c, tino, &ta, x->err))) goto done;
  if ((rc = s_content_read(c, tino, ta.size, &b, x->err))) goto done;
  char shown[KV_SHOW_CAP];
  /* Every source is checked before anything is written; then appended and removed. */
  for (size_t k = 0; k < n; k++) {
    rv_err_t perr;
    const char *sp = kv_show(shown, sizeof shown, srcs[k].p, srcs[k].len);
    if (kv_path_parse(pb, (const char *)srcs[k].p, srcs[k].len, &perr)) {
      kv_op_fail(x, RV_EINVAL, "source %s: %s", sp, perr.msg);
      goto done;
    }
    rc = kv_core_resolve(c, pb, pb->n, cb, x->err);
    if (rc == RV_ENOTFOUND || rc == RV_ENOTDIR) {
      char why[KV_SHOW_CAP + 32];
      rc = kv_op_fail(x, RV_ENOTFOUND, "source %s",
                      kv_core_resolve_why(why, sizeof why, pb, cb, rc));
      goto done;
    }
    if (rc) goto done;
    inos[k] = cb->ino[pb->n];
    if (pb->n == 0 || cb->type[pb->n] == KV_TYPE_DIR) {
      kv_op_fail(x, RV_EISDIR, "source %s is a directory", sp);
      goto done;
    }
    if (inos[k] == tino) { /* HDFS' words */
      kv_op_fail(x, RV_EINVAL, "the src file %s is the same with the target file", sp);
      goto done;
    }
    if (cb->ino[pb->n - 1] != dir) {
      kv_op_fail(x, RV_EINVAL, "Source file %s is not in the same directory with the target", sp);
      goto done;
    }
    for (size_t j = 0; j < k; j++)
      if (inos[j] == inos[k]) {
        kv_op_fail(x, RV_EINVAL, "source %s is given twice", sp);
        goto done;
      }
    kv_perm_want_t sw = {.access = KV_ACC_READ, .parent = KV_ACC_WRITE};
    if ((rc = kv_op_check(x, pb, cb, pb->n, pb->n + 1, &sw)) || x->res->code) goto done;
    kv_attr_t sa;
    if ((rc = kv_core_attr_get(c, inos[k], &sa, x->err))) goto done;
    if (!s_fits(x, b.len + sa.size, "after the concat")) goto done;
    if ((rc = s_content_read(c, inos[k], sa.size, &b, x->err))) goto done;
  }
  /* Remove the sources (all in dir: the ancestors' bytes stay, their files go down by n). */
  for (size_t k = 0; k < n; k++) {
    uint8_t key[KV_KEY_MAX];
    rv_err_t perr;
    kv_path_parse(pb, (const char *)srcs[k].p, srcs[k].len, &perr); /* parsed above */
    size_t nl;
    const char *name = kv_path_name(pb, pb->n - 1, &nl);
    if ((rc = kv_core_del(c, key, kv_key_dentry(key, dir, name, nl), x->err)) ||
        (rc = kv_core_del(c, key, kv_key_attr(key, inos[k]), x->err)) ||
        (rc = kv_core_del(c, key, kv_key_content(key, inos[k]), x->err)) ||
        (rc = kv_core_del(c, key, kv_key_xattr(key, inos[k]), x->err)))
      goto done;
  }
  if ((rc = s_content_write(c, tino, &b, x->err))) goto done;
  ta.size = b.len;
  ta.mtime_ms = cmd->time_ms;
  if ((rc = kv_core_attr_put(c, tino, &ta, x->err))) goto done;
  rc = kv_core_adjust(c, ch, pa->n - 1, (kv_delta_t){0, -(int64_t)n, 0}, -(int64_t)n, true,
                      cmd->time_ms, x->err);
  if (rc) goto done;
  x->res->inode = tino;
  x->res->n = ta.size;
done:
  kv_buf_close(&b);
  free(srcs);
  free(inos);
  return rc;
}
