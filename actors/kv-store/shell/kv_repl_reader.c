/* kv_repl_reader: the thread that reads the off-cluster replica's pages (ReplChanges,
 * ReplBaseCopy) from their streams' views and encodes the answers, so that the actor's loop only
 * checks requests and sends frames (issue 11: a page held the loop 200-800 ms on a loaded host,
 * and the supervisor killed a leader's kv-store as hung). I/O shell: RocksDB reads through the
 * view (kv_rocks_view_t: a snapshot, safe to read here while the loop writes), protobuf
 * encoding; it never logs, never touches the core, the store or a socket.
 *
 * Ownership: a stream whose page is QUEUED or READING is the thread's (its view, cursors and
 * counters); the loop keeps to id, kind and last_ms until the page is DONE. Pages are read in
 * the order asked. The view was made when page 0 was asked; reading it here changes nothing of
 * the semantics: every page of a stream comes from that one view, whose applied index the
 * answers name. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kv_actor_int.h"

/* ---- rows ----------------------------------------------------------------------------------- */

typedef struct {
  kv_buf_t arena; /* keys and values */
  struct s_row {
    size_t koff, klen, voff, vlen;
    bool del;
  } *v;
  size_t n, cap;
  atomic_bool *cancel; /* the reader's: stop at the next row */
} s_rows_t;

static int s_row_add(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_rows_t *r = arg;
  if (atomic_load_explicit(r->cancel, memory_order_relaxed)) return RV_ECLOSED;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 256;
    struct s_row *nv = realloc(r->v, cap * sizeof *nv);
    if (!nv) return RV_ENOMEM;
    r->v = nv;
    r->cap = cap;
  }
  struct s_row *row = &r->v[r->n];
  row->koff = r->arena.len;
  row->klen = kl;
  kv_buf_put(&r->arena, k, kl);
  row->voff = r->arena.len;
  row->vlen = v ? vl : 0;
  row->del = v == NULL;
  if (v) kv_buf_put(&r->arena, v, vl);
  if (!kv_buf_ok(&r->arena)) return RV_ENOMEM;
  r->n++;
  return RV_OK;
}

/* Protobuf rows pointing into r's arena (valid while r lives). Returns false out of memory. */
static bool s_rows_pb(const s_rows_t *r, Rv__ReplRow **rows, Rv__ReplRow ***ptrs) {
  *rows = NULL;
  *ptrs = NULL;
  if (r->n == 0) return true;
  *rows = calloc(r->n, sizeof **rows);
  *ptrs = calloc(r->n, sizeof **ptrs);
  if (!*rows || !*ptrs) {
    free(*rows);
    free(*ptrs);
    *rows = NULL;
    *ptrs = NULL;
    return false;
  }
  for (size_t i = 0; i < r->n; i++) {
    Rv__ReplRow *pb = &(*rows)[i];
    rv__repl_row__init(pb);
    pb->key.data = r->arena.data + r->v[i].koff;
    pb->key.len = r->v[i].klen;
    pb->value.data = r->v[i].vlen ? r->arena.data + r->v[i].voff : NULL;
    pb->value.len = r->v[i].vlen;
    pb->deleted = r->v[i].del;
    (*ptrs)[i] = pb;
  }
  return true;
}

static void s_rows_close(s_rows_t *r) {
  kv_buf_close(&r->arena);
  free(r->v);
  memset(r, 0, sizeof *r);
}

/* ---- one page ------------------------------------------------------------------------------- */

static uint64_t s_clock_us(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Encodes the answer body (of type) into pg->frame, or, when that fails, the same answer
 * without rows and with the failure as its code. */
static void s_encode(kv_repl_page_t *pg, uint32_t type, ProtobufCMessage *body, uint32_t *code,
                     char **message, size_t *n_rows) {
  rv_msg_t m = pg->reply;
  m.type = type;
  m.body = body;
  rv_err_t err;
  if (rv_msg_encode(&m, &pg->frame, &pg->len, &err) == RV_OK) return;
  pg->rc = err.code;
  rv_err_prefix(&err, "encoding the page");
  memcpy(pg->msg, err.msg, sizeof pg->msg);
  *code = (uint32_t)pg->rc;
  *message = pg->msg;
  *n_rows = 0;
  if (rv_msg_encode(&m, &pg->frame, &pg->len, &err) != RV_OK) pg->frame = NULL;
}

/* Records a failure (code and message) in pg; returns the code. */
static int s_fail(kv_repl_page_t *pg, int rc, const rv_err_t *err) {
  pg->rc = rc;
  snprintf(pg->msg, sizeof pg->msg, "%s", rc == RV_ENOMEM && !err->msg[0]
                                              ? "out of memory building a page"
                                              : err->msg);
  return rc;
}

static void s_changes(kv_repl_stream_t *st, s_rows_t *rows) {
  kv_repl_page_t *pg = &st->pg;
  Rv__ReplChanges a = RV__REPL_CHANGES__INIT;
  Rv__ReplLogState log;
  rv__repl_log_state__init(&log);
  a.stream = st->id;
  a.page = pg->page;
  a.from_index = pg->after;
  rv_err_t err = {0};
  int rc = RV_OK;
  if (pg->page == 0) {
    rc = kv_chlog_view_info(kv_rocks_view_store(st->view), &st->info, &err);
    st->info_known = rc == RV_OK;
    if (!rc) rc = kv_chlog_changes_begin(&st->info, pg->after, &st->cur, &err);
    if (rc == RV_ESTALE) a.base_copy_needed = true;
  }
  if (st->info_known) {
    kv_repl_log_pb(&st->info, pg->log_max_bytes, &log);
    a.log = &log;
  }
  if (!rc)
    rc = kv_chlog_changes_next(kv_rocks_view_store(st->view), &st->cur, &pg->lim, s_row_add, rows,
                               &pg->rows, &pg->bytes, &err);
  Rv__ReplRow *pbrows = NULL, **ptrs = NULL;
  if (!rc && !s_rows_pb(rows, &pbrows, &ptrs)) rc = RV_ENOMEM;
  if (rc) {
    s_fail(pg, rc, &err);
  } else {
    a.to_index = st->cur.to;
    a.n_rows = rows->n;
    a.rows = ptrs;
    a.last = pg->last = st->cur.done;
    st->rows_sent += pg->rows;
    st->bytes_sent += pg->bytes;
  }
  a.code = (uint32_t)pg->rc;
  a.message = pg->msg;
  if (pg->rc != RV_ECLOSED) s_encode(pg, RV_MSG_REPL_CHANGES, &a.base, &a.code, &a.message, &a.n_rows);
  free(pbrows);
  free(ptrs);
}

static void s_base(kv_repl_stream_t *st, s_rows_t *rows) {
  kv_repl_page_t *pg = &st->pg;
  Rv__ReplBaseCopy a = RV__REPL_BASE_COPY__INIT;
  a.stream = st->id;
  a.page = pg->page;
  rv_err_t err = {0};
  int rc = RV_OK;
  if (pg->page == 0) {
    rc = kv_chlog_view_info(kv_rocks_view_store(st->view), &st->info, &err);
    st->info_known = rc == RV_OK;
  }
  bool done = false;
  if (!rc)
    rc = kv_chlog_base_next(kv_rocks_view_store(st->view), &st->cursor, &pg->lim, s_row_add, rows,
                            &pg->rows, &pg->bytes, &done, &err);
  Rv__ReplRow *pbrows = NULL, **ptrs = NULL;
  if (!rc && !s_rows_pb(rows, &pbrows, &ptrs)) rc = RV_ENOMEM;
  if (rc) {
    s_fail(pg, rc, &err);
  } else {
    st->rows_sent += pg->rows;
    st->bytes_sent += pg->bytes;
    a.index = st->info.applied;
    a.n_rows = rows->n;
    a.rows = ptrs;
    a.last = pg->last = done;
    a.rows_sent = st->rows_sent;
    a.bytes_sent = st->bytes_sent;
    a.keys_estimate = pg->keys_estimate;
    a.cursor.data = st->cursor.data;
    a.cursor.len = st->cursor.len;
  }
  a.code = (uint32_t)pg->rc;
  a.message = pg->msg;
  if (pg->rc != RV_ECLOSED)
    s_encode(pg, RV_MSG_REPL_BASE_COPY, &a.base, &a.code, &a.message, &a.n_rows);
  free(pbrows);
  free(ptrs);
}

/* Reads st's page and encodes its answer (the reader's side: st is the thread's). */
static void s_read(kv_repl_reader_t *r, kv_repl_stream_t *st) {
  kv_repl_page_t *pg = &st->pg;
  uint64_t c0 = s_clock_us(CLOCK_THREAD_CPUTIME_ID), w0 = s_clock_us(CLOCK_MONOTONIC);
  pg->rc = RV_OK;
  pg->msg[0] = '\0';
  pg->frame = NULL;
  pg->len = pg->rows = pg->bytes = 0;
  pg->last = false;
  s_rows_t rows = {.cancel = &r->cancel};
  kv_buf_init(&rows.arena);
  if (st->kind == KV_REPL_CHANGES)
    s_changes(st, &rows);
  else
    s_base(st, &rows);
  s_rows_close(&rows);
  pg->cpu_us = s_clock_us(CLOCK_THREAD_CPUTIME_ID) - c0;
  pg->wall_us = s_clock_us(CLOCK_MONOTONIC) - w0;
}

/* ---- the thread ----------------------------------------------------------------------------- */

static void *s_main(void *arg) {
  kv_actor_t *s = arg;
  kv_repl_reader_t *r = &s->repl_reader;
  kv_rocks_thread_setup();
  pthread_mutex_lock(&r->mu);
  while (!r->quit) {
    kv_repl_stream_t *st = NULL;
    for (int i = 0; i < KV_REPL_STREAMS; i++)
      if (s->repl[i].state == KV_PAGE_QUEUED && (!st || s->repl[i].pg.seq < st->pg.seq))
        st = &s->repl[i];
    if (!st) {
      pthread_cond_wait(&r->cv, &r->mu);
      continue;
    }
    st->state = KV_PAGE_READING;
    pthread_mutex_unlock(&r->mu);
    s_read(r, st);
    pthread_mutex_lock(&r->mu);
    st->state = KV_PAGE_DONE;
    uint64_t one = 1;
    if (write(s->repl_efd, &one, sizeof one) < 0) { /* cannot overflow: a few pages at most */ }
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

int kv_repl_reader_queue(kv_actor_t *s, kv_repl_stream_t *st, rv_err_t *err) {
  kv_repl_reader_t *r = &s->repl_reader;
  if (!r->started) {
    if (pthread_mutex_init(&r->mu, NULL))
      return rv_err_set(err, RV_EINTERNAL, "replica reader: cannot make a mutex");
    if (pthread_cond_init(&r->cv, NULL)) {
      pthread_mutex_destroy(&r->mu);
      return rv_err_set(err, RV_EINTERNAL, "replica reader: cannot make a condition variable");
    }
    r->quit = false;
    atomic_store(&r->cancel, false);
    if (pthread_create(&r->thread, NULL, s_main, s)) {
      pthread_cond_destroy(&r->cv);
      pthread_mutex_destroy(&r->mu);
      return rv_err_set(err, RV_EINTERNAL, "replica reader: cannot start the thread");
    }
    r->started = true;
  }
  pthread_mutex_lock(&r->mu);
  st->pg.seq = ++r->seq;
  st->state = KV_PAGE_QUEUED;
  pthread_cond_signal(&r->cv);
  pthread_mutex_unlock(&r->mu);
  return RV_OK;
}

kv_repl_stream_t *kv_repl_reader_take(kv_actor_t *s) {
  kv_repl_reader_t *r = &s->repl_reader;
  kv_repl_stream_t *st = NULL;
  if (r->started) pthread_mutex_lock(&r->mu);
  for (int i = 0; i < KV_REPL_STREAMS && !st; i++)
    if (s->repl[i].state == KV_PAGE_DONE) st = &s->repl[i];
  if (r->started) pthread_mutex_unlock(&r->mu);
  return st;
}

void kv_repl_reader_set(kv_actor_t *s, kv_repl_stream_t *st, kv_page_state_t state) {
  kv_repl_reader_t *r = &s->repl_reader;
  if (r->started) pthread_mutex_lock(&r->mu);
  st->state = state;
  if (r->started) pthread_mutex_unlock(&r->mu);
}

void kv_repl_reader_stop(kv_actor_t *s) {
  kv_repl_reader_t *r = &s->repl_reader;
  if (!r->started) return;
  atomic_store(&r->cancel, true);
  pthread_mutex_lock(&r->mu);
  r->quit = true;
  pthread_cond_signal(&r->cv);
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->thread, NULL);
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
  r->started = false;
}
