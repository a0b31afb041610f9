/* kv_chlog: the replica's change log: recording in the core's write (same batch), trimming,
 * bounded deletion of dropped entries, and serving changes and base copies from a consistent
 * view. Pure: no I/O but through kv_store_t. See kv_chlog.h for the design. */
#include "kv_chlog.h"

#include <stdlib.h>
#include <string.h>

#include "kv_core_int.h"

/* ---- encodings ------------------------------------------------------------------------- */

void kv_chlog_state_encode(const kv_chlog_state_t *st, uint8_t out[KV_CHLOG_STATE_LEN]) {
  out[0] = KV_CHLOG_FORMAT;
  kv_be64_put(out + 1, st->floor);
  kv_be64_put(out + 9, st->total);
  kv_be64_put(out + 17, st->live_start);
  kv_be64_put(out + 25, st->stored_start);
  kv_be64_put(out + 33, st->overflows);
  out[41] = st->base_needed ? 1 : 0;
}

int kv_chlog_state_decode(const uint8_t *v, size_t len, kv_chlog_state_t *st) {
  if (len != KV_CHLOG_STATE_LEN || v[0] != KV_CHLOG_FORMAT || v[41] > 1) return RV_ECORRUPT;
  st->floor = kv_be64_get(v + 1);
  st->total = kv_be64_get(v + 9);
  st->live_start = kv_be64_get(v + 17);
  st->stored_start = kv_be64_get(v + 25);
  st->overflows = kv_be64_get(v + 33);
  st->base_needed = v[41] == 1;
  if (st->stored_start > st->live_start || st->live_start > st->total) return RV_ECORRUPT;
  return RV_OK;
}

void kv_chlog_key(uint8_t out[KV_CHLOG_KEY_LEN], uint64_t index) {
  out[0] = KV_T_CHLOG;
  kv_be64_put(out + 1, index);
}

bool kv_chlog_in_scope(const uint8_t *key, size_t klen) {
  return klen > 0 && (key[0] == KV_T_DENTRY || key[0] == KV_T_ATTR || key[0] == KV_T_CONTENT ||
                      key[0] == KV_T_XATTR);
}

static bool s_is_entry(const uint8_t *k, size_t kl) {
  return kl == KV_CHLOG_KEY_LEN && k[0] == KV_T_CHLOG;
}

/* ---- the core's side ------------------------------------------------------------------- */

static int s_put_state(kv_core_t *c, const kv_chlog_state_t *st, rv_err_t *err) {
  uint8_t key[KV_CHLOG_KEY_LEN], val[KV_CHLOG_STATE_LEN];
  kv_chlog_key(key, 0);
  kv_chlog_state_encode(st, val);
  return kv_core_put(c, key, sizeof key, val, sizeof val, err);
}

/* Writes the core's batch (which holds only log keys) on its own. */
static int s_write_alone(kv_core_t *c, const char *what, rv_err_t *err) {
  int rc = kv_store_write(c->store, c->batch, err);
  kv_batch_clear(c->batch);
  if (rc) return rv_err_prefix(err, "change log: %s", what);
  return RV_OK;
}

typedef struct {
  uint64_t min, max; /* entry indexes looked for */
  bool found;
  uint64_t index, cum;
  bool malformed;
} s_first_t;

static int s_first_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_first_t *f = arg;
  if (!s_is_entry(k, kl)) return KV_SCAN_STOP;
  uint64_t p = kv_be64_get(k + 1);
  if (p < f->min) return 0;
  if (p > f->max) return KV_SCAN_STOP;
  f->found = true;
  f->index = p;
  if (vl < 8)
    f->malformed = true;
  else
    f->cum = kv_be64_get(v);
  return KV_SCAN_STOP;
}

/* The first stored entry with min <= index <= max. */
static int s_first(kv_store_t *st, uint64_t min, uint64_t max, s_first_t *f, rv_err_t *err) {
  uint8_t key[KV_CHLOG_KEY_LEN];
  kv_chlog_key(key, min);
  *f = (s_first_t){.min = min, .max = max};
  int rc = kv_store_scan(st, key, sizeof key, s_first_one, f, err);
  if (rc) return rc;
  if (f->malformed)
    return rv_err_set(err, RV_ECORRUPT, "change log: entry %llu is malformed",
                      (unsigned long long)f->index);
  return RV_OK;
}

static int s_any_log_key(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  *(bool *)arg = kl > 0 && k[0] == KV_T_CHLOG;
  return KV_SCAN_STOP;
}

int kv_chlog_open(kv_core_t *c, rv_err_t *err) {
  c->chlog_on = c->cfg.chlog_max_bytes > 0;
  c->chlog_tidy = false;
  c->chlog_tidy_from = 1;
  uint8_t key[KV_CHLOG_KEY_LEN];
  kv_chlog_key(key, 0);
  int rc = kv_store_get(c->store, key, sizeof key, &c->val, err);
  if (rc && rc != RV_ENOTFOUND) return rc;
  bool have = rc == RV_OK;
  if (!c->chlog_on) {
    /* off: whatever log is left goes (a later enable must start afresh: it misses the changes
     * made while off). The state key goes now, before any apply: were it left for the bounded
     * deletion, a restart with the log on could find it and claim changes it never saw. */
    if (have) {
      if ((rc = kv_core_del(c, key, sizeof key, err)) ||
          (rc = s_write_alone(c, "deleting the state of a log that is off", err)))
        return rc;
    }
    bool any = false;
    uint8_t from = KV_T_CHLOG;
    if ((rc = kv_store_scan(c->store, &from, 1, s_any_log_key, &any, err))) return rc;
    c->chlog_tidy = any;
    memset(&c->chlog, 0, sizeof c->chlog);
    c->chlog_pending = c->chlog;
    return RV_OK;
  }
  if (have) {
    if (kv_chlog_state_decode(c->val.data, c->val.len, &c->chlog))
      return rv_err_set(err, RV_ECORRUPT, "change log: the state key is malformed");
  } else {
    /* no log: enabling, or a snapshot install replaced the store. Nothing is known about the
     * changes up to the applied index: a replica needs a base copy from here. */
    c->chlog = (kv_chlog_state_t){.floor = c->committed.applied, .base_needed = true};
    if ((rc = s_put_state(c, &c->chlog, err)) || (rc = s_write_alone(c, "starting", err)))
      return rc;
  }
  c->chlog_pending = c->chlog;
  s_first_t f;
  if ((rc = s_first(c->store, 1, c->chlog.floor, &f, err))) return rc;
  /* entries at or below the floor, or a deletion that stopped before recording its end */
  c->chlog_tidy = f.found || c->chlog.stored_start != c->chlog.live_start;
  return RV_OK;
}

int kv_chlog_record(kv_core_t *c, rv_err_t *err) {
  kv_buf_t *b = &c->chlog_buf;
  kv_buf_reset(b);
  uint8_t be[8];
  kv_be64_put(be, c->chlog_pending.total);
  kv_buf_put(b, be, sizeof be);
  size_t cur = 0, n = 0;
  kv_batch_op_t op;
  while (kv_batch_next(c->batch, &cur, &op)) {
    if (!kv_chlog_in_scope(op.key, op.klen)) continue;
    uint8_t l[2] = {(uint8_t)(op.klen >> 8), (uint8_t)op.klen};
    kv_buf_put(b, l, sizeof l);
    kv_buf_put(b, op.key, op.klen);
    n++;
  }
  if (n == 0) return RV_OK; /* nothing in scope changed: nothing to record */
  if (!kv_buf_ok(b)) return rv_err_set(err, RV_ENOMEM, "change log: out of memory");
  kv_chlog_state_t *st = &c->chlog_pending;
  uint64_t size = KV_CHLOG_KEY_LEN + b->len, index = c->pending.applied;
  int rc;
  if (st->total - st->live_start + size > c->cfg.chlog_max_bytes) {
    /* past the cap: drop the log; a replica behind this write needs a base copy */
    st->floor = index;
    st->live_start = st->total;
    st->base_needed = true;
    st->overflows++;
  } else {
    uint8_t key[KV_CHLOG_KEY_LEN];
    kv_chlog_key(key, index);
    if ((rc = kv_core_put(c, key, sizeof key, b->data, b->len, err))) return rc;
    st->total += size;
  }
  return s_put_state(c, st, err);
}

void kv_chlog_committed(kv_core_t *c) {
  if (c->chlog_pending.overflows != c->chlog.overflows) c->chlog_tidy = true;
  c->chlog = c->chlog_pending;
  if (c->chlog_buf.cap > (1u << 20)) { /* an rm -r's entry: do not keep its memory */
    kv_buf_close(&c->chlog_buf);
    kv_buf_init(&c->chlog_buf);
  }
}

void kv_core_chlog_info(const kv_core_t *c, kv_chlog_info_t *info) {
  const kv_chlog_state_t *st = &c->chlog;
  *info = (kv_chlog_info_t){.enabled = c->chlog_on,
                            .max_bytes = c->cfg.chlog_max_bytes,
                            .applied = c->committed.applied};
  if (!c->chlog_on) return;
  info->floor = st->floor;
  info->oldest = st->floor + 1;
  info->live_bytes = st->total - st->live_start;
  info->stored_bytes = st->total - st->stored_start;
  info->overflows = st->overflows;
  info->base_needed = st->base_needed;
}

bool kv_core_chlog_tidy_due(const kv_core_t *c) { return c->chlog_tidy; }

int kv_core_chlog_trim(kv_core_t *c, uint64_t below, rv_err_t *err) {
  if (!c->chlog_on)
    return rv_err_set(err, RV_ENOTFOUND, "change log: off (the replica is not enabled)");
  kv_chlog_state_t st = c->chlog;
  bool changed = false;
  if (st.base_needed && below >= st.floor) {
    st.base_needed = false; /* the replica is at or past the floor: the log serves it */
    changed = true;
  }
  uint64_t floor = below < c->committed.applied ? below : c->committed.applied;
  int rc;
  if (floor > st.floor) {
    s_first_t f;
    if ((rc = s_first(c->store, floor + 1, UINT64_MAX, &f, err))) return rc;
    st.live_start = f.found ? f.cum : st.total;
    if (st.live_start < st.stored_start || st.live_start > st.total)
      return rv_err_set(err, RV_ECORRUPT, "change log: entry %llu counts %llu bytes before it, "
                        "outside %llu..%llu", (unsigned long long)f.index,
                        (unsigned long long)st.live_start, (unsigned long long)st.stored_start,
                        (unsigned long long)st.total);
    st.floor = floor;
    changed = true;
  }
  if (!changed) return RV_OK;
  if ((rc = s_put_state(c, &st, err)) || (rc = s_write_alone(c, "trimming", err))) return rc;
  c->chlog = c->chlog_pending = st;
  if (st.stored_start < st.live_start) c->chlog_tidy = true;
  return RV_OK;
}

typedef struct {
  kv_core_t *c;
  size_t max, n;
  bool finished;
  uint64_t last; /* the last entry index deleted (0: none) */
  rv_err_t *err;
} s_tidy_t;

static int s_tidy_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_tidy_t *t = arg;
  if (kl == 0 || k[0] != KV_T_CHLOG) {
    t->finished = true;
    return KV_SCAN_STOP;
  }
  if (t->c->chlog_on && (!s_is_entry(k, kl) || kv_be64_get(k + 1) > t->c->chlog.floor)) {
    t->finished = true;
    return KV_SCAN_STOP;
  }
  if (t->n == t->max) return KV_SCAN_STOP;
  int rc = kv_core_del(t->c, k, kl, t->err);
  if (rc) return rc;
  if (s_is_entry(k, kl)) t->last = kv_be64_get(k + 1);
  t->n++;
  return 0;
}

int kv_core_chlog_tidy(kv_core_t *c, size_t max, size_t *deleted, rv_err_t *err) {
  *deleted = 0;
  if (!c->chlog_tidy || max == 0) return RV_OK;
  uint8_t from[KV_CHLOG_KEY_LEN];
  /* on: from the first entry not yet deleted. Deleted entries stay as tombstones until RocksDB
   * compacts them; a scan from index 1 would step over all of them at every tidy. */
  kv_chlog_key(from, c->chlog_on ? (c->chlog_tidy_from ? c->chlog_tidy_from : 1) : 0);
  s_tidy_t t = {.c = c, .max = max, .err = err};
  int rc = kv_store_scan(c->store, from, sizeof from, s_tidy_one, &t, err);
  if (rc == RV_OK && t.n == 0 && !t.finished) t.finished = true; /* the keys ran out */
  if (rc == RV_OK && t.n < max) t.finished = true;
  kv_chlog_state_t st = c->chlog;
  if (rc == RV_OK && t.finished && c->chlog_on) {
    st.stored_start = st.live_start;
    rc = s_put_state(c, &st, err);
  }
  if (rc) {
    kv_batch_clear(c->batch);
    return rc;
  }
  if (!kv_batch_empty(c->batch) && (rc = s_write_alone(c, "deleting dropped entries", err)))
    return rc;
  c->chlog = c->chlog_pending = st;
  if (c->chlog_on && t.last) c->chlog_tidy_from = t.last + 1; /* written: none left below */
  if (t.finished) c->chlog_tidy = false;
  *deleted = t.n;
  return RV_OK;
}

/* ---- serving from a view ---------------------------------------------------------------- */

int kv_chlog_view_info(kv_store_t *view, kv_chlog_info_t *info, rv_err_t *err) {
  memset(info, 0, sizeof *info);
  kv_buf_t v;
  kv_buf_init(&v);
  uint8_t key[32];
  size_t kl = kv_key_meta(key, KV_META_STATE);
  kv_state_t ms;
  int rc = kv_store_get(view, key, kl, &v, err);
  if (rc == RV_ENOTFOUND) rc = rv_err_set(err, RV_ECORRUPT, "kv store: the state key is missing");
  if (!rc && kv_state_decode(v.data, v.len, &ms))
    rc = rv_err_set(err, RV_ECORRUPT, "kv store: the state key is malformed");
  if (rc) goto out;
  info->applied = ms.applied;
  kv_chlog_key(key, 0);
  rc = kv_store_get(view, key, KV_CHLOG_KEY_LEN, &v, err);
  if (rc == RV_ENOTFOUND) {
    rc = RV_OK; /* no log */
    goto out;
  }
  kv_chlog_state_t st;
  if (!rc && kv_chlog_state_decode(v.data, v.len, &st))
    rc = rv_err_set(err, RV_ECORRUPT, "change log: the state key is malformed");
  if (rc) goto out;
  info->enabled = true;
  info->floor = st.floor;
  info->oldest = st.floor + 1;
  info->live_bytes = st.total - st.live_start;
  info->stored_bytes = st.total - st.stored_start;
  info->overflows = st.overflows;
  info->base_needed = st.base_needed;
out:
  kv_buf_close(&v);
  return rc;
}

int kv_chlog_changes_begin(const kv_chlog_info_t *info, uint64_t after, kv_chlog_cursor_t *cur,
                           rv_err_t *err) {
  memset(cur, 0, sizeof *cur);
  if (!info->enabled)
    return rv_err_set(err, RV_ENOTFOUND, "no change log here (the replica is not enabled)");
  if (after > info->applied)
    return rv_err_set(err, RV_EAGAIN,
                      "changes after %llu: this node has applied only up to %llu",
                      (unsigned long long)after, (unsigned long long)info->applied);
  if (after < info->floor)
    return rv_err_set(err, RV_ESTALE,
                      "changes after %llu: the change log starts after %llu (dropped past its "
                      "cap, a snapshot install or enabling): a base copy is needed",
                      (unsigned long long)after, (unsigned long long)info->floor);
  cur->after = after;
  cur->to = info->applied;
  cur->next = after + 1;
  cur->done = after == info->applied;
  return RV_OK;
}

/* The keys served in one page, so a key changed by several entries goes out once. Open
 * addressing over hashes, keys copied into an arena. */
typedef struct {
  struct s_slot {
    uint64_t h;
    size_t off;
    uint32_t len; /* 0 = empty */
  } *slots;
  size_t cap, n;
  kv_buf_t arena;
} s_set_t;

/* Adds key; returns 1 if new, 0 if present, -1 out of memory. */
static int s_set_add(s_set_t *s, const uint8_t *k, size_t kl) {
  if ((s->n + 1) * 2 > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    struct s_slot *ns = calloc(cap, sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < s->cap; i++) {
      if (!s->slots[i].len) continue;
      size_t j = s->slots[i].h & (cap - 1);
      while (ns[j].len) j = (j + 1) & (cap - 1);
      ns[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = ns;
    s->cap = cap;
  }
  uint64_t h = kv_hash64(k, kl);
  size_t j = h & (s->cap - 1);
  for (; s->slots[j].len; j = (j + 1) & (s->cap - 1))
    if (s->slots[j].h == h && s->slots[j].len == kl &&
        memcmp(s->arena.data + s->slots[j].off, k, kl) == 0)
      return 0;
  size_t off = s->arena.len;
  kv_buf_put(&s->arena, k, kl);
  if (!kv_buf_ok(&s->arena)) return -1;
  s->slots[j] = (struct s_slot){.h = h, .off = off, .len = (uint32_t)kl};
  s->n++;
  return 1;
}

static void s_set_close(s_set_t *s) {
  free(s->slots);
  kv_buf_close(&s->arena);
}

/* A key of the page waiting for its post-image: where the log names it (entry p, its i-th key:
 * the cursor if the page ends before it) and the key (in the page's set's arena). */
typedef struct {
  uint64_t p;
  uint32_t i;
  size_t off, len;
} s_want_t;

/* A post-image read: where its value sits in the page's value arena. */
typedef struct {
  size_t off, len;
  bool found;
} s_got_t;

typedef struct {
  kv_store_t *view;
  kv_chlog_cursor_t *cur;
  const kv_chlog_limits_t *lim;
  kv_chlog_row_fn fn;
  void *arg;
  size_t rows, bytes;
  s_set_t seen;
  s_want_t want[KV_CHLOG_READ_BATCH]; /* keys waiting for one batched read, in log order */
  kv_bytes_t keys[KV_CHLOG_READ_BATCH];
  s_got_t got[KV_CHLOG_READ_BATCH];
  size_t nwant;
  kv_buf_t vals; /* the batch's values */
  kv_buf_t val;  /* scratch of kv_store_multi_get */
  bool full;
  rv_err_t *err;
} s_page_t;

static int s_got_one(void *arg, size_t i, const uint8_t *v, size_t vl) {
  s_page_t *pg = arg;
  pg->got[i] = (s_got_t){.off = pg->vals.len, .len = vl, .found = v != NULL};
  if (v) kv_buf_put(&pg->vals, v, vl);
  if (!kv_buf_ok(&pg->vals)) return rv_err_set(pg->err, RV_ENOMEM, "change log: out of memory");
  return RV_OK;
}

/* Reads the post-images of the waiting keys in one batch (kv_store_multi_get), then serves them
 * in log order until the page is full: the cursor then names the first key not served. */
static int s_flush(s_page_t *pg) {
  size_t n = pg->nwant;
  if (n == 0) return RV_OK;
  pg->nwant = 0;
  kv_buf_reset(&pg->vals);
  for (size_t j = 0; j < n; j++)
    pg->keys[j] = (kv_bytes_t){pg->seen.arena.data + pg->want[j].off, pg->want[j].len};
  int rc = kv_store_multi_get(pg->view, pg->keys, n, s_got_one, pg, &pg->val, pg->err);
  if (rc) return rc;
  for (size_t j = 0; j < n; j++) {
    const s_got_t *g = &pg->got[j];
    size_t sz = pg->keys[j].len + (g->found ? g->len : 0);
    if (pg->rows >= pg->lim->max_rows ||
        (pg->rows > 0 && pg->bytes + sz > pg->lim->max_bytes)) {
      pg->cur->next = pg->want[j].p;
      pg->cur->skip = pg->want[j].i;
      pg->full = true;
      return RV_OK;
    }
    if ((rc = pg->fn(pg->arg, pg->keys[j].p, pg->keys[j].len,
                     g->found ? pg->vals.data + g->off : NULL, g->found ? g->len : 0)))
      return rc;
    pg->rows++;
    pg->bytes += sz;
  }
  return RV_OK;
}

static int s_changes_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_page_t *pg = arg;
  kv_chlog_cursor_t *cur = pg->cur;
  if (!s_is_entry(k, kl) || kv_be64_get(k + 1) > cur->to) return KV_SCAN_STOP;
  uint64_t p = kv_be64_get(k + 1);
  if (vl < 8)
    return rv_err_set(pg->err, RV_ECORRUPT, "change log: entry %llu is malformed",
                      (unsigned long long)p);
  uint32_t skip = p == cur->next ? cur->skip : 0, i = 0;
  for (size_t pos = 8; pos < vl; i++) {
    if (vl - pos < 2) goto bad;
    size_t n = ((size_t)v[pos] << 8) | v[pos + 1];
    pos += 2;
    if (n == 0 || vl - pos < n) goto bad;
    const uint8_t *key = v + pos;
    pos += n;
    if (i < skip) continue;
    size_t off = pg->seen.arena.len;
    int fresh = s_set_add(&pg->seen, key, n);
    if (fresh < 0) return rv_err_set(pg->err, RV_ENOMEM, "change log: out of memory");
    if (!fresh) continue; /* in this page already (the set is the page's own) */
    pg->want[pg->nwant++] = (s_want_t){.p = p, .i = i, .off = off, .len = n};
    /* a batch never reads past the rows the page may still take */
    size_t room = pg->lim->max_rows - pg->rows;
    if (pg->nwant == KV_CHLOG_READ_BATCH || pg->nwant >= room) {
      int rc = s_flush(pg);
      if (rc) return rc;
      if (pg->full) return KV_SCAN_STOP;
    }
  }
  /* every key of entry p is served or waits in the batch: a page cut inside the batch moves
   * the cursor back to its first key not served */
  cur->next = p + 1;
  cur->skip = 0;
  return 0;
bad:
  return rv_err_set(pg->err, RV_ECORRUPT, "change log: entry %llu is malformed at key %u",
                    (unsigned long long)p, i);
}

int kv_chlog_changes_next(kv_store_t *view, kv_chlog_cursor_t *cur, const kv_chlog_limits_t *lim,
                          kv_chlog_row_fn fn, void *arg, size_t *rows, size_t *bytes,
                          rv_err_t *err) {
  *rows = *bytes = 0;
  if (cur->done) return RV_OK;
  s_page_t *pg = calloc(1, sizeof *pg); /* some 20 KiB: not on a thread's stack */
  if (!pg) return rv_err_set(err, RV_ENOMEM, "change log: out of memory");
  *pg = (s_page_t){.view = view, .cur = cur, .lim = lim, .fn = fn, .arg = arg, .err = err};
  kv_buf_init(&pg->seen.arena);
  kv_buf_init(&pg->vals);
  kv_buf_init(&pg->val);
  uint8_t from[KV_CHLOG_KEY_LEN];
  kv_chlog_key(from, cur->next);
  int rc = kv_store_scan(view, from, sizeof from, s_changes_one, pg, err);
  if (rc == RV_OK && !pg->full) rc = s_flush(pg); /* the keys after the last full batch */
  if (rc == RV_OK && !pg->full) cur->done = true; /* no entry up to `to` is left */
  s_set_close(&pg->seen);
  kv_buf_close(&pg->vals);
  kv_buf_close(&pg->val);
  *rows = pg->rows;
  *bytes = pg->bytes;
  free(pg);
  return rc;
}

typedef struct {
  kv_buf_t *cursor;
  const kv_chlog_limits_t *lim;
  kv_chlog_row_fn fn;
  void *arg;
  size_t rows, bytes;
  bool full;
  rv_err_t *err;
} s_base_t;

static int s_base_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_base_t *b = arg;
  if (kl == 0 || k[0] > KV_T_ATTR) return KV_SCAN_STOP; /* past the last namespace table */
  if (!kv_chlog_in_scope(k, kl)) return 0;
  if (b->rows >= b->lim->max_rows || (b->rows > 0 && b->bytes + kl + vl > b->lim->max_bytes)) {
    b->full = true;
    return KV_SCAN_STOP;
  }
  int rc = b->fn(b->arg, k, kl, v, vl);
  if (rc) return rc;
  kv_buf_reset(b->cursor);
  kv_buf_put(b->cursor, k, kl);
  if (!kv_buf_ok(b->cursor)) return rv_err_set(b->err, RV_ENOMEM, "base copy: out of memory");
  b->rows++;
  b->bytes += kl + vl;
  return 0;
}

int kv_chlog_base_next(kv_store_t *view, kv_buf_t *cursor, const kv_chlog_limits_t *lim,
                       kv_chlog_row_fn fn, void *arg, size_t *rows, size_t *bytes, bool *done,
                       rv_err_t *err) {
  _Static_assert(KV_T_CONTENT < KV_T_DENTRY && KV_T_DENTRY < KV_T_XATTR &&
                     KV_T_XATTR < KV_T_ATTR,
                 "the namespace tables are C, D, E, I in key order");
  kv_buf_t from;
  kv_buf_init(&from);
  if (cursor->len == 0) {
    uint8_t t = KV_T_CONTENT;
    kv_buf_put(&from, &t, 1);
  } else {
    uint8_t zero = 0; /* the key right after the cursor */
    kv_buf_put(&from, cursor->data, cursor->len);
    kv_buf_put(&from, &zero, 1);
  }
  int rc;
  s_base_t b = {.cursor = cursor, .lim = lim, .fn = fn, .arg = arg, .err = err};
  if (!kv_buf_ok(&from))
    rc = rv_err_set(err, RV_ENOMEM, "base copy: out of memory");
  else
    rc = kv_store_scan(view, from.data, from.len, s_base_one, &b, err);
  kv_buf_close(&from);
  *rows = b.rows;
  *bytes = b.bytes;
  *done = rc == RV_OK && !b.full;
  return rc;
}
