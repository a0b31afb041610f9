/* kv_repl: the kv-store side of the off-cluster replica (messages/repl.proto): paged streams of
 * changes and base copies, each over one consistent RocksDB view (kv_rocks_view) whose applied
 * index is the index the answer names; trims; the log's status; and the bounded deletion of
 * dropped log entries on the housekeeping tick. I/O shell around kv_chlog (pure).
 *
 * Nothing here is on the write path: applies record the log inside kv_core's own write, and a
 * dead or slow replicator only leaves the log to grow up to its cap. Each page is bounded
 * (bytes and rows), so serving never holds the loop for long. */
#include <stdlib.h>
#include <string.h>

#include "kv_actor_int.h"

/* ---- rows --------------------------------------------------------------------------------- */

typedef struct {
  kv_buf_t arena; /* keys and values */
  struct s_row {
    size_t koff, klen, voff, vlen;
    bool del;
  } *v;
  size_t n, cap;
} s_rows_t;

static int s_row_add(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_rows_t *r = arg;
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

/* ---- the log's state ---------------------------------------------------------------------- */

static void s_log_pb(const kv_chlog_info_t *i, uint64_t max_bytes, Rv__ReplLogState *pb) {
  rv__repl_log_state__init(pb);
  pb->enabled = i->enabled;
  pb->applied = i->applied;
  pb->floor = i->floor;
  pb->oldest_index = i->oldest;
  pb->live_bytes = i->live_bytes;
  pb->stored_bytes = i->stored_bytes;
  pb->max_bytes = max_bytes;
  pb->overflows = i->overflows;
  pb->base_copy_needed = i->base_needed;
}

/* ---- streams ------------------------------------------------------------------------------ */

static kv_repl_stream_t *s_find(kv_actor_t *s, uint64_t id) {
  for (int i = 0; i < KV_REPL_STREAMS; i++)
    if (id && s->repl[i].id == id) return &s->repl[i];
  return NULL;
}

static void s_drop(kv_repl_stream_t *st) {
  kv_rocks_view_destroy(&st->view);
  kv_buf_close(&st->cursor);
  memset(st, 0, sizeof *st);
}

/* A slot for a new stream id (an old stream of the same id, or a free slot, or the least
 * recently used one), with a fresh view of the store. Returns NULL with err set. */
static kv_repl_stream_t *s_open(kv_actor_t *s, uint64_t id, kv_repl_kind_t kind, rv_err_t *err) {
  kv_repl_stream_t *st = s_find(s, id);
  for (int i = 0; i < KV_REPL_STREAMS && !st; i++)
    if (!s->repl[i].id) st = &s->repl[i];
  if (!st) {
    st = &s->repl[0];
    for (int i = 1; i < KV_REPL_STREAMS; i++)
      if (s->repl[i].last_ms < st->last_ms) st = &s->repl[i];
    rv_warn("replica stream %llu dropped for a new one", (unsigned long long)st->id);
  }
  s_drop(st);
  if (kv_rocks_view_new(s->rocks, &st->view, err)) return NULL;
  if (kv_chlog_view_info(kv_rocks_view_store(st->view), &st->info, err)) {
    s_drop(st);
    return NULL;
  }
  st->id = id;
  st->kind = kind;
  st->next_page = 0;
  kv_buf_init(&st->cursor);
  return st;
}

/* Checks and defaults the page limits of a request. */
static int s_limits(uint32_t max_bytes, uint32_t max_rows, kv_chlog_limits_t *lim, rv_err_t *err) {
  if (max_bytes > KV_REPL_PAGE_BYTES_MAX)
    return rv_err_set(err, RV_EINVAL, "max_bytes %u is above the limit of %u", max_bytes,
                      KV_REPL_PAGE_BYTES_MAX);
  if (max_rows > KV_REPL_PAGE_ROWS_MAX)
    return rv_err_set(err, RV_EINVAL, "max_rows %u is above the limit of %u", max_rows,
                      KV_REPL_PAGE_ROWS_MAX);
  lim->max_bytes = max_bytes ? max_bytes : KV_REPL_PAGE_BYTES;
  lim->max_rows = max_rows ? max_rows : KV_REPL_PAGE_ROWS;
  return RV_OK;
}

/* The stream a request for page `page` of id continues (page 0: a new one). */
static kv_repl_stream_t *s_stream_for(kv_actor_t *s, uint64_t id, uint64_t page,
                                      kv_repl_kind_t kind, rv_err_t *err) {
  if (!id) {
    rv_err_set(err, RV_EINVAL, "stream id 0 is not valid: pick a non-zero id");
    return NULL;
  }
  if (!s->core) {
    rv_err_set(err, RV_EUNAVAIL, "the store is being replaced");
    return NULL;
  }
  if (page == 0) return s_open(s, id, kind, err);
  kv_repl_stream_t *st = s_find(s, id);
  if (!st || st->kind != kind || st->next_page != page) {
    rv_err_set(err, RV_EPROTO,
               "stream %llu page %llu: %s; start again from page 0", (unsigned long long)id,
               (unsigned long long)page,
               !st || st->kind != kind ? "no such stream (ended, idle too long, or dropped)"
                                       : "not the next page");
    return NULL;
  }
  return st;
}

/* ---- changes ------------------------------------------------------------------------------ */

/* A namespace being loaded from the remote copy is partial: it is never served for upload (a
 * base copy of it would replace the very copy it comes from). true with err set when so. */
static bool s_partial(kv_actor_t *s, rv_err_t *err) {
  if (!s->core || !kv_core_read_only(s->core)) return false;
  kv_core_recovery(s->core, &s->rec_shown);
  if (s->rec_shown.phase != KV_RECOVERY_RUNNING) return false;
  rv_err_set(err, RV_ERECOVERY,
             "the namespace is being recovered from the remote copy (RUNNING, %llu of %llu rows "
             "loaded): a partial namespace is never served for upload",
             (unsigned long long)s->rec_shown.rows, (unsigned long long)s->rec_shown.rows_total);
  return true;
}

void kv_repl_changes(kv_actor_t *s, const rv_msg_t *m) {
  const Rv__ReplChangesRequest *q = (const Rv__ReplChangesRequest *)m->body;
  Rv__ReplChanges a = RV__REPL_CHANGES__INIT;
  Rv__ReplLogState log;
  rv__repl_log_state__init(&log);
  a.stream = q->stream;
  a.page = q->page;
  a.from_index = q->after_index;
  a.log = &log;
  s_rows_t rows = {0};
  kv_buf_init(&rows.arena);
  Rv__ReplRow *pbrows = NULL, **ptrs = NULL;
  rv_err_t err = {0};
  kv_chlog_limits_t lim;
  int rc = s_partial(s, &err) ? RV_ERECOVERY : s_limits(q->max_bytes, q->max_rows, &lim, &err);
  kv_repl_stream_t *st = rc ? NULL : s_stream_for(s, q->stream, q->page, KV_REPL_CHANGES, &err);
  if (!rc && !st) rc = err.code;
  if (!rc && q->page == 0) {
    rc = kv_chlog_changes_begin(&st->info, q->after_index, &st->cur, &err);
    if (rc == RV_ESTALE) a.base_copy_needed = true;
  } else if (!rc && q->after_index != st->cur.after) {
    rc = rv_err_set(&err, RV_EINVAL, "stream %llu: after_index %llu, but page 0 asked for %llu",
                    (unsigned long long)q->stream, (unsigned long long)q->after_index,
                    (unsigned long long)st->cur.after);
  }
  if (st) s_log_pb(&st->info, s->core_cfg.chlog_max_bytes, &log);
  size_t n = 0, bytes = 0;
  if (!rc) {
    st->last_ms = kv_now_ms();
    rc = kv_chlog_changes_next(kv_rocks_view_store(st->view), &st->cur, &lim, s_row_add, &rows,
                               &n, &bytes, &err);
    if (rc == RV_ENOMEM) rv_err_set(&err, rc, "out of memory building a page");
  }
  if (!rc && !s_rows_pb(&rows, &pbrows, &ptrs))
    rc = rv_err_set(&err, RV_ENOMEM, "out of memory building a page");
  if (!rc) {
    a.to_index = st->cur.to;
    a.n_rows = rows.n;
    a.rows = ptrs;
    a.last = st->cur.done;
    st->next_page++;
    st->rows_sent += n;
    st->bytes_sent += bytes;
    if (a.last) {
      rv_debug("replica changes %llu: (%llu, %llu] in %llu pages, %llu rows, %llu bytes",
               (unsigned long long)st->id, (unsigned long long)st->cur.after,
               (unsigned long long)st->cur.to, (unsigned long long)st->next_page,
               (unsigned long long)st->rows_sent, (unsigned long long)st->bytes_sent);
      s_drop(st);
    }
  } else {
    if (rc != RV_ESTALE && rc != RV_EAGAIN)
      rv_warn("replica changes stream %llu page %llu: %s", (unsigned long long)q->stream,
              (unsigned long long)q->page, err.msg);
    if (st) s_drop(st);
  }
  a.code = (uint32_t)rc;
  a.message = rc ? err.msg : (char *)"";
  if (rv_actor_reply(s->a, m, RV_MSG_REPL_CHANGES, &a.base) != RV_OK)
    rv_warn("replica changes stream %llu: %s does not take the answer",
            (unsigned long long)q->stream, m->from.actor);
  free(pbrows);
  free(ptrs);
  s_rows_close(&rows);
}

/* ---- base copy ---------------------------------------------------------------------------- */

void kv_repl_base_copy(kv_actor_t *s, const rv_msg_t *m) {
  const Rv__ReplBaseCopyRequest *q = (const Rv__ReplBaseCopyRequest *)m->body;
  Rv__ReplBaseCopy a = RV__REPL_BASE_COPY__INIT;
  a.stream = q->stream;
  a.page = q->page;
  s_rows_t rows = {0};
  kv_buf_init(&rows.arena);
  Rv__ReplRow *pbrows = NULL, **ptrs = NULL;
  rv_err_t err = {0};
  kv_chlog_limits_t lim;
  int rc = s_partial(s, &err) ? RV_ERECOVERY : s_limits(q->max_bytes, q->max_rows, &lim, &err);
  kv_repl_stream_t *st = rc ? NULL : s_stream_for(s, q->stream, q->page, KV_REPL_BASE, &err);
  if (!rc && !st) rc = err.code;
  size_t n = 0, bytes = 0;
  bool done = false;
  if (!rc) {
    if (q->page == 0)
      rv_info("replica base copy %llu: a consistent view at applied index %llu",
              (unsigned long long)st->id, (unsigned long long)st->info.applied);
    st->last_ms = kv_now_ms();
    rc = kv_chlog_base_next(kv_rocks_view_store(st->view), &st->cursor, &lim, s_row_add, &rows,
                            &n, &bytes, &done, &err);
    if (rc == RV_ENOMEM) rv_err_set(&err, rc, "out of memory building a page");
  }
  if (!rc && !s_rows_pb(&rows, &pbrows, &ptrs))
    rc = rv_err_set(&err, RV_ENOMEM, "out of memory building a page");
  if (!rc) {
    st->next_page++;
    st->rows_sent += n;
    st->bytes_sent += bytes;
    a.index = st->info.applied;
    a.n_rows = rows.n;
    a.rows = ptrs;
    a.last = done;
    a.rows_sent = st->rows_sent;
    a.bytes_sent = st->bytes_sent;
    a.keys_estimate = kv_rocks_estimate_keys(s->rocks);
    a.cursor.data = st->cursor.data;
    a.cursor.len = st->cursor.len;
    if (done)
      rv_info("replica base copy %llu at index %llu read out: %llu rows, %llu bytes, %llu pages",
              (unsigned long long)st->id, (unsigned long long)a.index,
              (unsigned long long)st->rows_sent, (unsigned long long)st->bytes_sent,
              (unsigned long long)st->next_page);
  } else {
    rv_warn("replica base copy stream %llu page %llu: %s", (unsigned long long)q->stream,
            (unsigned long long)q->page, err.msg);
    if (st) s_drop(st);
  }
  a.code = (uint32_t)rc;
  a.message = rc ? err.msg : (char *)"";
  if (rv_actor_reply(s->a, m, RV_MSG_REPL_BASE_COPY, &a.base) != RV_OK)
    rv_warn("replica base copy %llu: %s does not take the answer", (unsigned long long)q->stream,
            m->from.actor);
  if (!rc && done) s_drop(st); /* after the reply: a.cursor points into the stream */
  free(pbrows);
  free(ptrs);
  s_rows_close(&rows);
}

/* ---- trim and status ---------------------------------------------------------------------- */

/* The answer to a ReplStatusRequest (or a trim): the log's state, the replicator's last report
 * (as it sent it), and Raft's role and commit index as kv-store last heard them. */
static void s_status_fill(kv_actor_t *s, int rc, const char *msg, Rv__ReplStatus *a,
                          Rv__ReplLogState *log, Rv__ReplUploader **up,
                          Rv__RecoveryProgress *rec) {
  kv_chlog_info_t info;
  if (s->core)
    kv_core_chlog_info(s->core, &info);
  else
    memset(&info, 0, sizeof info);
  s_log_pb(&info, s->core_cfg.chlog_max_bytes, log);
  rv__repl_status__init(a);
  a->code = (uint32_t)rc;
  a->message = (char *)msg;
  a->log = log;
  *up = s->repl_uploader
            ? rv__repl_uploader__unpack(NULL, s->repl_uploader_len, s->repl_uploader)
            : NULL;
  a->uploader = *up;
  a->commit_index = s->commit;
  kv_recover_status_pb(s, rec);
  a->recovery = rec;
  a->role = s->leader                         ? "LEADER"
            : strcmp(s->role, "follower") == 0 ? "FOLLOWER"
            : strstr(s->role, "candidate")     ? "CANDIDATE"
                                               : "";
}

static void s_status_reply(kv_actor_t *s, const rv_msg_t *m, int rc, const char *msg) {
  Rv__ReplStatus a;
  Rv__ReplLogState log;
  Rv__ReplUploader *up;
  Rv__RecoveryProgress rec;
  s_status_fill(s, rc, msg, &a, &log, &up, &rec);
  if (rv_actor_reply(s->a, m, RV_MSG_REPL_STATUS, &a.base) != RV_OK)
    rv_warn("replica status: %s does not take the answer", m->from.actor);
  if (up) rv__repl_uploader__free_unpacked(up, NULL);
}

void kv_repl_status_client(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *m) {
  Rv__ReplStatus a;
  Rv__ReplLogState log;
  Rv__ReplUploader *up;
  Rv__RecoveryProgress rec;
  s_status_fill(s, RV_OK, "", &a, &log, &up, &rec);
  rv_err_t err;
  if (rv_listener_reply(s->clients, peer, m, RV_MSG_REPL_STATUS, &a.base, &err) != RV_OK)
    rv_debug("replica status to client %s: %s", m->from.actor, err.msg);
  if (up) rv__repl_uploader__free_unpacked(up, NULL);
}

/* Keeps the replicator's report (packed: it is only ever passed on). */
static void s_keep_uploader(kv_actor_t *s, const Rv__ReplUploader *up) {
  if (!up) return;
  size_t len = rv__repl_uploader__get_packed_size(up);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return;
  rv__repl_uploader__pack(up, buf);
  free(s->repl_uploader);
  s->repl_uploader = buf;
  s->repl_uploader_len = len;
}

void kv_repl_trim(kv_actor_t *s, const rv_msg_t *m) {
  const Rv__ReplTrim *q = (const Rv__ReplTrim *)m->body;
  s_keep_uploader(s, q->uploader);
  rv_err_t err = {0};
  if (q->below_index == 0) { /* a report only: the replicator does not know the copy's index */
    s_status_reply(s, m, RV_OK, "");
    return;
  }
  int rc = s->core ? kv_core_chlog_trim(s->core, q->below_index, &err)
                   : rv_err_set(&err, RV_EUNAVAIL, "the store is being replaced");
  if (rc && rc != RV_ENOTFOUND) rv_warn("replica trim below %llu: %s",
                                        (unsigned long long)q->below_index, err.msg);
  s_status_reply(s, m, rc, rc ? err.msg : "");
}

void kv_repl_status(kv_actor_t *s, const rv_msg_t *m) { s_status_reply(s, m, RV_OK, ""); }

/* ---- housekeeping ------------------------------------------------------------------------- */

void kv_repl_tick(kv_actor_t *s, int64_t now_ms) {
  for (int i = 0; i < KV_REPL_STREAMS; i++) {
    kv_repl_stream_t *st = &s->repl[i];
    if (st->id && now_ms - st->last_ms >= KV_REPL_IDLE_MS) {
      rv_info("replica stream %llu idle for %d ms: view released", (unsigned long long)st->id,
              KV_REPL_IDLE_MS);
      s_drop(st);
    }
  }
  if (!s->core || s->store_error[0] || !kv_core_chlog_tidy_due(s->core)) return;
  size_t n;
  rv_err_t err;
  if (kv_core_chlog_tidy(s->core, KV_CHLOG_TIDY_PER_TICK, &n, &err) != RV_OK)
    rv_warn("%s", err.msg);
}

void kv_repl_applied(kv_actor_t *s) {
  kv_chlog_info_t info;
  kv_core_chlog_info(s->core, &info);
  if (info.enabled && info.overflows != s->chlog_overflows) {
    rv_warn("the change log for the remote copy passed its cap (ots.change-log-max-bytes = "
            "%llu) and was dropped at index %llu: the replica needs a base copy",
            (unsigned long long)info.max_bytes, (unsigned long long)info.floor);
    s->chlog_overflows = info.overflows;
  }
}

void kv_repl_opened(kv_actor_t *s) {
  kv_chlog_info_t info;
  kv_core_chlog_info(s->core, &info);
  s->chlog_overflows = info.overflows;
  if (info.enabled)
    rv_info("change log for the remote copy: %llu bytes (cap %llu), oldest index %llu%s",
            (unsigned long long)info.live_bytes, (unsigned long long)info.max_bytes,
            (unsigned long long)info.oldest,
            info.base_needed ? ", a base copy is needed" : "");
}

void kv_repl_close(kv_actor_t *s) {
  for (int i = 0; i < KV_REPL_STREAMS; i++) s_drop(&s->repl[i]);
  free(s->repl_uploader);
  s->repl_uploader = NULL;
}
