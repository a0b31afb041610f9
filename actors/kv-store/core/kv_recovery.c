/* kv_recovery: the recovery commands' encoding and their apply (the rules are in
 * kv_recovery.h). Pure: no I/O but through kv_store_t. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_core_int.h"
#include "kv_recovery.h"

#define S_STATE_VERSION 2 /* 1: no epoch (read as epoch 1); 2: the epoch appended */
#define S_META_RECOVERY "recovery"

const char *kv_recovery_phase_name(int phase) {
  switch (phase) {
    case KV_RECOVERY_RUNNING: return "RUNNING";
    case KV_RECOVERY_FINISH: return "FINISH";
    default: return "";
  }
}

/* ---- encoding ----------------------------------------------------------------------------- */

static int s_cmd(int op, const kv_buf_t *args, int64_t time_ms, kv_buf_t *out, rv_err_t *err) {
  if (!kv_buf_ok(args)) return rv_err_set(err, RV_ENOMEM, "%s: out of memory", kv_op_name(op));
  kv_cmd_t cmd = {.op = (uint8_t)op, .time_ms = time_ms, .data = {args->data, args->len}};
  return kv_cmd_encode(&cmd, out, err);
}

int kv_recovery_encode_begin(const kv_recovery_begin_t *b, int64_t time_ms, kv_buf_t *out,
                             rv_err_t *err) {
  size_t cl = b->cluster ? strlen(b->cluster) : 0;
  if (cl > KV_RECOVERY_CLUSTER_MAX)
    return rv_err_set(err, RV_EINVAL, "recovery-begin: source cluster id of %zu bytes exceeds %d",
                      cl, KV_RECOVERY_CLUSTER_MAX);
  kv_buf_t a;
  kv_buf_init(&a);
  kv_buf_put_str8(&a, b->cluster, cl);
  kv_buf_put_u64(&a, b->generation);
  kv_buf_put_u64(&a, b->synced_index);
  kv_buf_put_u64(&a, b->rows_total);
  kv_buf_put_u64(&a, b->bytes_total);
  if (b->source_term >> 32) kv_buf_put_u64(&a, b->source_term); /* absent: epoch 0 */
  int rc = s_cmd(KV_OP_RECOVERY_BEGIN, &a, time_ms, out, err);
  kv_buf_close(&a);
  return rc;
}

int kv_recovery_encode_rows(const uint8_t *after, size_t alen, const kv_recovery_row_t *rows,
                            size_t n, int64_t time_ms, kv_buf_t *out, rv_err_t *err) {
  if (n == 0) return rv_err_set(err, RV_EINVAL, "recovery-rows: no rows");
  if (alen > KV_KEY_MAX)
    return rv_err_set(err, RV_EINVAL, "recovery-rows: cursor of %zu bytes exceeds %d", alen,
                      KV_KEY_MAX);
  size_t total = 2 + alen + 4;
  for (size_t i = 0; i < n; i++) {
    if (rows[i].key.len == 0 || rows[i].key.len > KV_KEY_MAX)
      return rv_err_set(err, RV_EINVAL, "recovery-rows: row %zu: key of %zu bytes (1..%d)", i,
                        rows[i].key.len, KV_KEY_MAX);
    if (rows[i].val.len > KV_DATA_MAX)
      return rv_err_set(err, RV_ETOOBIG, "recovery-rows: row %zu: value of %zu bytes", i,
                        rows[i].val.len);
    total += KV_RECOVERY_ROW_OVERHEAD + rows[i].key.len + rows[i].val.len;
  }
  if (total > KV_DATA_MAX)
    return rv_err_set(err, RV_ETOOBIG, "recovery-rows: %zu rows of %zu bytes exceed %u bytes", n,
                      total, KV_DATA_MAX);
  kv_buf_t a;
  kv_buf_init(&a);
  kv_buf_reserve(&a, total);
  kv_buf_put_str16(&a, after, alen);
  kv_buf_put_u32(&a, (uint32_t)n);
  for (size_t i = 0; i < n; i++) {
    kv_buf_put_str16(&a, rows[i].key.p, rows[i].key.len);
    kv_buf_put_str32(&a, rows[i].val.p, rows[i].val.len);
  }
  int rc = s_cmd(KV_OP_RECOVERY_ROWS, &a, time_ms, out, err);
  kv_buf_close(&a);
  return rc;
}

int kv_recovery_encode_finish(const uint8_t *after, size_t alen, int64_t time_ms, kv_buf_t *out,
                              rv_err_t *err) {
  if (alen > KV_KEY_MAX)
    return rv_err_set(err, RV_EINVAL, "recovery-finish: cursor of %zu bytes exceeds %d", alen,
                      KV_KEY_MAX);
  kv_buf_t a;
  kv_buf_init(&a);
  kv_buf_put_str16(&a, after, alen);
  int rc = s_cmd(KV_OP_RECOVERY_FINISH, &a, time_ms, out, err);
  kv_buf_close(&a);
  return rc;
}

int kv_recovery_encode_leave(int64_t time_ms, kv_buf_t *out, rv_err_t *err) {
  kv_cmd_t cmd = {.op = KV_OP_RECOVERY_LEAVE, .time_ms = time_ms};
  return kv_cmd_encode(&cmd, out, err);
}

void kv_recovery_state_encode(const kv_recovery_t *st, kv_buf_t *out) {
  kv_buf_put_u8(out, st->epoch == 1 ? 1 : S_STATE_VERSION); /* epoch 1: the bytes of version 1 */
  kv_buf_put_u8(out, st->phase);
  kv_buf_put_u8(out, (st->leftovers ? 1 : 0) | (st->partial ? 2 : 0));
  kv_buf_put_str8(out, st->source_cluster, strlen(st->source_cluster));
  kv_buf_put_u64(out, st->source_generation);
  kv_buf_put_u64(out, st->source_synced_index);
  kv_buf_put_u64(out, st->rows_total);
  kv_buf_put_u64(out, st->bytes_total);
  kv_buf_put_u64(out, st->rows);
  kv_buf_put_u64(out, st->bytes);
  kv_buf_put_str16(out, st->cursor, st->cursor_len);
  if (st->epoch != 1) kv_buf_put_u64(out, st->epoch);
}

int kv_recovery_state_decode(const uint8_t *v, size_t len, kv_recovery_t *st) {
  memset(st, 0, sizeof *st);
  kv_reader_t r;
  kv_reader_init(&r, v, len);
  kv_bytes_t cl, cur;
  uint8_t version = kv_reader_u8(&r);
  st->phase = kv_reader_u8(&r);
  uint8_t leftovers = kv_reader_u8(&r);
  kv_reader_str8(&r, &cl);
  st->source_generation = kv_reader_u64(&r);
  st->source_synced_index = kv_reader_u64(&r);
  st->rows_total = kv_reader_u64(&r);
  st->bytes_total = kv_reader_u64(&r);
  st->rows = kv_reader_u64(&r);
  st->bytes = kv_reader_u64(&r);
  kv_reader_str16(&r, &cur);
  st->epoch = version == 1 ? 1 : kv_reader_u64(&r);
  if (!kv_reader_done(&r) || (version != 1 && version != S_STATE_VERSION) ||
      (st->phase != KV_RECOVERY_RUNNING && st->phase != KV_RECOVERY_FINISH &&
       st->phase != KV_RECOVERY_LEFT) ||
      leftovers > 3 || cl.len > KV_RECOVERY_CLUSTER_MAX || cur.len > KV_KEY_MAX) {
    memset(st, 0, sizeof *st);
    return RV_ECORRUPT;
  }
  st->leftovers = leftovers & 1;
  st->partial = leftovers & 2;
  memcpy(st->source_cluster, cl.p, cl.len);
  memcpy(st->cursor, cur.p, cur.len);
  st->cursor_len = (uint16_t)cur.len;
  return RV_OK;
}

/* ---- the core's side ---------------------------------------------------------------------- */

static size_t s_key(uint8_t *key) { return kv_key_meta(key, S_META_RECOVERY); }

int kv_recovery_load(kv_core_t *c, rv_err_t *err) {
  uint8_t key[32];
  size_t kl = s_key(key);
  memset(&c->rec, 0, sizeof c->rec);
  int rc = kv_core_get(c, key, kl, &c->val, err);
  if (rc == RV_ENOTFOUND) rc = RV_OK;
  else if (!rc && kv_recovery_state_decode(c->val.data, c->val.len, &c->rec))
    rc = rv_err_set(err, RV_ECORRUPT, "kv store: the recovery state key is malformed");
  c->rec_pending = c->rec;
  return rc;
}

/* Writes rec_pending into the batch (or deletes the key when the phase is none). */
static int s_state_put(kv_core_t *c, rv_err_t *err) {
  uint8_t key[32];
  size_t kl = s_key(key);
  if (c->rec_pending.phase == KV_RECOVERY_NONE) return kv_core_del(c, key, kl, err);
  kv_buf_reset(&c->enc);
  kv_recovery_state_encode(&c->rec_pending, &c->enc);
  if (!kv_buf_ok(&c->enc)) return rv_err_set(err, RV_ENOMEM, "kv core: out of memory");
  return kv_core_put(c, key, kl, c->enc.data, c->enc.len, err);
}

static int s_keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
  int d = memcmp(a, b, al < bl ? al : bl);
  if (d) return d;
  return al < bl ? -1 : al > bl;
}

/* A key rendered for a message: printable bytes as they are, others as \xNN. */
static const char *s_show_key(char *buf, size_t cap, const uint8_t *k, size_t kl) {
  size_t o = 0;
  for (size_t i = 0; i < kl && o + 5 < cap; i++) {
    if (k[i] >= 0x21 && k[i] < 0x7f && k[i] != '\\')
      buf[o++] = (char)k[i];
    else
      o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", k[i]);
  }
  if (o == 0 && cap > 7) o = (size_t)snprintf(buf, cap, "(start)");
  buf[o < cap ? o : cap - 1] = '\0';
  return buf;
}
#define S_SHOW_CAP 96

static bool s_cursor_is(const kv_recovery_t *st, kv_bytes_t after) {
  return after.len == st->cursor_len && memcmp(after.p, st->cursor, after.len) == 0;
}

static int s_stale(kv_core_t *c, kv_opctx_t *x, kv_bytes_t after) {
  char a[S_SHOW_CAP], b[S_SHOW_CAP];
  return kv_res_fail(x->res, RV_ESTALE,
                     "%s: starts after key %s but the recovery cursor is at %s (%llu rows "
                     "loaded): not applied",
                     kv_op_name(x->cmd->op), s_show_key(a, sizeof a, after.p, after.len),
                     s_show_key(b, sizeof b, c->rec_pending.cursor, c->rec_pending.cursor_len),
                     (unsigned long long)c->rec_pending.rows);
}

static int s_not_running(kv_core_t *c, kv_opctx_t *x) {
  return kv_res_fail(x->res, RV_ENOTRUNNING, "%s: no recovery is running (state %s)",
                     kv_op_name(x->cmd->op),
                     c->rec_pending.phase ? kv_recovery_phase_name(c->rec_pending.phase)
                                          : "none");
}

static int s_begin(kv_opctx_t *x, kv_reader_t *r) {
  kv_core_t *c = x->core;
  kv_recovery_t *st = &c->rec_pending;
  kv_bytes_t cl;
  kv_reader_str8(r, &cl);
  uint64_t gen = kv_reader_u64(r), synced = kv_reader_u64(r);
  uint64_t rows_total = kv_reader_u64(r), bytes_total = kv_reader_u64(r);
  uint64_t source_term = r->failed || kv_reader_done(r) ? 0 : kv_reader_u64(r);
  if (!kv_reader_done(r) || cl.len > KV_RECOVERY_CLUSTER_MAX)
    return kv_res_fail(x->res, RV_EDECODE, "recovery-begin: malformed arguments");
  bool same = (st->phase == KV_RECOVERY_RUNNING || st->phase == KV_RECOVERY_FINISH) &&
              cl.len == strlen(st->source_cluster) &&
              memcmp(cl.p, st->source_cluster, cl.len) == 0 && gen == st->source_generation &&
              synced == st->source_synced_index;
  if (same) { /* a re-proposal: the recovery goes on where it is */
    x->res->skipped = true;
    return RV_OK;
  }
  if (st->phase == KV_RECOVERY_FINISH)
    return kv_res_fail(x->res, RV_EBUSY,
                       "recovery-begin: a recovery from cluster \"%s\" (generation %llu, index "
                       "%llu) has finished; leave recovery mode before anything else",
                       st->source_cluster, (unsigned long long)st->source_generation,
                       (unsigned long long)st->source_synced_index);
  if (st->phase == KV_RECOVERY_NONE || st->phase == KV_RECOVERY_LEFT) {
    kv_attr_t root;
    int rc = kv_core_attr_get(c, KV_ROOT_INO, &root, x->err);
    if (rc) return rc;
    if (root.nchildren)
      return kv_res_fail(x->res, RV_ENOTEMPTY,
                         "recovery-begin: the namespace is not empty (%llu entries under /, "
                         "%llu directories and %llu files in all): recovery from the remote "
                         "copy only builds a new, empty cluster",
                         (unsigned long long)root.nchildren, (unsigned long long)root.sub_dirs,
                         (unsigned long long)root.sub_files);
  }
  /* none -> RUNNING, or RUNNING from another source: from scratch */
  bool restart = st->phase == KV_RECOVERY_RUNNING;
  x->res->n = restart; /* 1: restarted from scratch */
  bool leftovers = restart && (st->leftovers || st->rows > 0 || st->partial);
  uint64_t epoch = kv_recovery_epoch_of(source_term);
  if (st->epoch > epoch) epoch = st->epoch; /* never lowered (kv_recovery.h) */
  memset(st, 0, sizeof *st);
  st->phase = KV_RECOVERY_RUNNING;
  st->epoch = epoch;
  st->leftovers = leftovers;
  memcpy(st->source_cluster, cl.p, cl.len);
  st->source_generation = gen;
  st->source_synced_index = synced;
  st->rows_total = rows_total;
  st->bytes_total = bytes_total;
  return s_state_put(c, x->err);
}

/* Deletes the namespace keys of the store in (from, to] (to NULL: to the end) that rows (in
 * order) do not hold, counting them; the store holds every earlier write (flushed). */
typedef struct {
  kv_core_t *c;
  const uint8_t *from;
  size_t flen;
  const uint8_t *to;
  size_t tlen;
  const kv_recovery_row_t *rows;
  size_t n, i;
  uint64_t deleted, max;
  int rc;
  rv_err_t *err;
} s_sync_t;

static int s_sync_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  (void)v;
  (void)vl;
  s_sync_t *s = arg;
  if (s->flen && s_keycmp(k, kl, s->from, s->flen) <= 0) return 0; /* the cursor itself */
  if (s->to && s_keycmp(k, kl, s->to, s->tlen) > 0) return KV_SCAN_STOP;
  if (!kv_chlog_in_scope(k, kl)) return s->to ? 0 : (k[0] > KV_T_ATTR ? KV_SCAN_STOP : 0);
  while (s->i < s->n && s_keycmp(s->rows[s->i].key.p, s->rows[s->i].key.len, k, kl) < 0) s->i++;
  if (s->i < s->n && s_keycmp(s->rows[s->i].key.p, s->rows[s->i].key.len, k, kl) == 0) return 0;
  if (++s->deleted > s->max) return KV_SCAN_STOP;
  s->rc = kv_core_del(s->c, k, kl, s->err);
  return s->rc ? s->rc : 0;
}

static int s_sync(s_sync_t *s) {
  int rc = kv_store_scan(s->c->store, s->from, s->flen, s_sync_one, s, s->err);
  return rc ? rc : s->rc;
}

/* Checks one row (namespace key, well-formed value); on failure the op fails naming the key. */
static bool s_row_ok(kv_opctx_t *x, size_t i, const kv_recovery_row_t *row,
                     const kv_recovery_row_t *prev, kv_bytes_t after) {
  const uint8_t *k = row->key.p;
  size_t kl = row->key.len;
  char shown[S_SHOW_CAP];
  const char *why = NULL;
  uint64_t ino;
  uint8_t type;
  kv_attr_t a;
  kv_xattr_t xs[KV_XATTRS_MAX];
  size_t nx;
  if (!kv_chlog_in_scope(k, kl))
    why = "is not a namespace key (dentry, attributes, content or xattrs)";
  else if ((k[0] == KV_T_ATTR || k[0] == KV_T_CONTENT || k[0] == KV_T_XATTR) && kl != 9)
    why = "has the wrong length for its table";
  else if (k[0] == KV_T_DENTRY && (kl < 10 || kl > KV_KEY_MAX))
    why = "has the wrong length for a dentry";
  else if (prev ? s_keycmp(k, kl, prev->key.p, prev->key.len) <= 0
                : s_keycmp(k, kl, after.p, after.len) <= 0 && after.len)
    why = "is not above the key before it (rows must come in increasing key order)";
  else if (k[0] == KV_T_DENTRY && kv_dentry_decode(row->val.p, row->val.len, &ino, &type))
    why = "holds a malformed dentry";
  else if (k[0] == KV_T_ATTR && kv_attr_decode(row->val.p, row->val.len, &a))
    why = "holds malformed attributes";
  else if (k[0] == KV_T_CONTENT && row->val.len > KV_DATA_MAX)
    why = "holds a content over the hard cap";
  else if (k[0] == KV_T_XATTR && kv_xattrs_decode(row->val.p, row->val.len, xs, &nx))
    why = "holds malformed extended attributes";
  if (!why) return true;
  kv_res_fail(x->res, RV_ECORRUPT, "recovery-rows: row %zu, key %s %s: nothing applied", i,
              s_show_key(shown, sizeof shown, k, kl), why);
  return false;
}

static int s_rows(kv_opctx_t *x, kv_reader_t *r) {
  kv_core_t *c = x->core;
  kv_recovery_t *st = &c->rec_pending;
  kv_bytes_t after;
  kv_reader_str16(r, &after);
  uint32_t n = kv_reader_u32(r);
  if (r->failed || n == 0 || n > kv_reader_left(r) / KV_RECOVERY_ROW_OVERHEAD ||
      after.len > KV_KEY_MAX)
    return kv_res_fail(x->res, RV_EDECODE, "recovery-rows: malformed arguments");
  if (st->phase != KV_RECOVERY_RUNNING) return s_not_running(c, x);
  if (!s_cursor_is(st, after)) return s_stale(c, x, after);
  /* applied in parts (kv_core_apply_part): rows [off, end) in this call */
  uint64_t index = c->pending.applied; /* s_apply_one set it to this entry's */
  bool parts = c->part_limit && x->cmd->client_id == 0;
  /* the parts of this entry written so far (in memory: a new core starts it again) */
  size_t off = x->cmd->client_id == 0 && c->part_index == index ? c->part_off : 0;
  if (off >= n) off = 0; /* cannot happen (the same entry's bytes); be safe: from the start */
  size_t end = parts && n - off > c->part_limit ? off + c->part_limit : n;
  kv_recovery_row_t *rows = calloc(n, sizeof *rows);
  if (!rows) return rv_err_set(x->err, RV_ENOMEM, "recovery-rows: out of memory");
  uint64_t bytes = 0;
  int rc = RV_OK;
  bool ok = true;
  for (uint32_t i = 0; i < n && ok; i++) {
    kv_reader_str16(r, &rows[i].key);
    kv_reader_str32(r, &rows[i].val);
    if (r->failed) {
      kv_res_fail(x->res, RV_EDECODE, "recovery-rows: row %u truncated", i);
      ok = false;
    } else if (off == 0) { /* a later part of the same entry was checked whole at its first */
      ok = s_row_ok(x, i, &rows[i], i ? &rows[i - 1] : NULL, after);
    }
    bytes += rows[i].key.len + rows[i].val.len;
  }
  if (ok && !kv_reader_done(r)) {
    kv_res_fail(x->res, RV_EDECODE, "recovery-rows: trailing bytes after %u rows", n);
    ok = false;
  }
  if (ok) {
    const kv_recovery_row_t *last = &rows[n - 1];
    s_sync_t s = {.c = c, .from = after.p, .flen = after.len, .to = last->key.p,
                  .tlen = last->key.len, .rows = rows, .n = n, .max = UINT64_MAX, .err = x->err};
    rc = off == 0 && (st->leftovers || st->partial) ? s_sync(&s) : RV_OK;
    for (size_t i = off; !rc && i < end; i++) {
      const kv_recovery_row_t *row = &rows[i];
      if (row->key.p[0] == KV_T_ATTR) {
        uint64_t ino = kv_be64_get(row->key.p + 1);
        if (ino >= c->pending.next_inode) c->pending.next_inode = ino + 1;
      }
      rc = kv_core_put(c, row->key.p, row->key.len, row->val.p, row->val.len, x->err);
    }
    if (!rc && end < n) { /* a part: rows written, the cursor stays (kv_recovery.h) */
      st->partial = true;
      c->part_more = true;
      c->part_index = index;
      c->part_off = end;
      rc = s_state_put(c, x->err);
    } else if (!rc) {
      memcpy(st->cursor, last->key.p, last->key.len);
      st->cursor_len = (uint16_t)last->key.len;
      st->rows += n;
      st->bytes += bytes;
      st->partial = false;
      c->part_index = 0;
      x->res->n = n;
      rc = s_state_put(c, x->err);
    }
  }
  free(rows);
  return rc;
}

static int s_finish(kv_opctx_t *x, kv_reader_t *r) {
  kv_core_t *c = x->core;
  kv_recovery_t *st = &c->rec_pending;
  kv_bytes_t after;
  kv_reader_str16(r, &after);
  if (!kv_reader_done(r) || after.len > KV_KEY_MAX)
    return kv_res_fail(x->res, RV_EDECODE, "recovery-finish: malformed arguments");
  if (st->phase == KV_RECOVERY_FINISH && s_cursor_is(st, after)) {
    x->res->skipped = true;
    return RV_OK;
  }
  if (st->phase != KV_RECOVERY_RUNNING) return s_not_running(c, x);
  if (!s_cursor_is(st, after)) return s_stale(c, x, after);
  s_sync_t s = {.c = c, .from = after.p, .flen = after.len, .max = c->cfg.rm_max_entries,
                .err = x->err};
  int rc = s_sync(&s);
  if (rc) return rc;
  if (s.deleted > s.max)
    return kv_res_fail(x->res, RV_ETOOBIG,
                       "recovery-finish: more than %llu namespace keys after the last row to "
                       "delete (the leftovers of a replaced source generation)",
                       (unsigned long long)s.max);
  uint8_t key[KV_KEY_MAX];
  size_t kl = kv_key_attr(key, KV_ROOT_INO);
  kv_attr_t root;
  rc = kv_core_get(c, key, kl, &c->val, x->err);
  if (rc == RV_ENOTFOUND || (!rc && (kv_attr_decode(c->val.data, c->val.len, &root) ||
                                     root.type != KV_TYPE_DIR)))
    return kv_res_fail(x->res, RV_ECORRUPT,
                       "recovery-finish: the rows loaded hold no root directory: the source "
                       "cluster \"%s\" generation %llu is not a namespace",
                       st->source_cluster, (unsigned long long)st->source_generation);
  if (rc) return rc;
  st->phase = KV_RECOVERY_FINISH;
  x->res->n = s.deleted;
  return s_state_put(c, x->err);
}

static int s_leave(kv_opctx_t *x) {
  kv_core_t *c = x->core;
  kv_recovery_t *st = &c->rec_pending;
  if (st->phase == KV_RECOVERY_NONE || st->phase == KV_RECOVERY_LEFT) {
    x->res->skipped = true;
    return RV_OK;
  }
  if (st->phase == KV_RECOVERY_RUNNING)
    return kv_res_fail(x->res, RV_EBUSY,
                       "recovery-leave: recovery from cluster \"%s\" is RUNNING (%llu of %llu "
                       "rows loaded): the namespace stays read-only until it reaches FINISH",
                       st->source_cluster, (unsigned long long)st->rows,
                       (unsigned long long)st->rows_total);
  st->phase = KV_RECOVERY_LEFT;
  x->res->n = 1; /* left */
  return s_state_put(c, x->err);
}

int kv_op_recovery(kv_opctx_t *x) {
  kv_reader_t r;
  kv_reader_init(&r, x->cmd->data.p, x->cmd->data.len);
  switch (x->cmd->op) {
    case KV_OP_RECOVERY_BEGIN: return s_begin(x, &r);
    case KV_OP_RECOVERY_ROWS: return s_rows(x, &r);
    case KV_OP_RECOVERY_FINISH: return s_finish(x, &r);
    default: return s_leave(x);
  }
}

void kv_core_recovery(const kv_core_t *c, kv_recovery_t *out) { *out = c->rec; }

bool kv_core_read_only(const kv_core_t *c) {
  return c->rec.phase == KV_RECOVERY_RUNNING || c->rec.phase == KV_RECOVERY_FINISH;
}
