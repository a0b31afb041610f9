/* kv_repl: the kv-store side of the off-cluster replica (messages/repl.proto): paged streams of
 * changes and base copies, each over one consistent RocksDB view (kv_rocks_view) whose applied
 * index is the index the answer names; trims; the log's status; and the bounded deletion of
 * dropped log entries on the housekeeping tick. I/O shell around kv_chlog (pure).
 *
 * Nothing here is on the write path: applies record the log inside kv_core's own write, and a
 * dead or slow replicator only leaves the log to grow up to its cap. The loop checks each page
 * request, makes the stream's view with its page 0, and hands the page to the reader thread
 * (kv_repl_reader.c), which reads and encodes it; the loop sends the answer when it is done
 * (kv_repl_done). */
#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv_actor_int.h"

/* ---- the log's state ---------------------------------------------------------------------- */

void kv_repl_log_pb(const kv_chlog_info_t *i, uint64_t max_bytes, Rv__ReplLogState *pb) {
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

static const char *s_kind_name(kv_repl_kind_t kind) {
  return kind == KV_REPL_CHANGES ? "changes" : "base copy";
}

static kv_repl_stream_t *s_find(kv_actor_t *s, uint64_t id) {
  for (int i = 0; i < KV_REPL_STREAMS; i++)
    if (id && s->repl[i].id == id) return &s->repl[i];
  return NULL;
}

/* Frees st's view and buffers and frees the slot. Never while the reader has its page. */
static void s_drop(kv_actor_t *s, kv_repl_stream_t *st) {
  assert(st->state == KV_PAGE_IDLE || st->state == KV_PAGE_DONE);
  kv_rocks_view_destroy(&st->view);
  kv_buf_close(&st->cursor);
  free(st->pg.frame);
  kv_repl_reader_set(s, st, KV_PAGE_IDLE); /* the state changes under the reader's mutex */
  memset(st, 0, offsetof(kv_repl_stream_t, state));
}

/* A slot for a new stream id (an old stream of the same id, or a free slot, or the least
 * recently used one whose page is not out), with a fresh view of the store: the consistent view
 * every page of the stream is read from. Returns NULL with err set. */
static kv_repl_stream_t *s_open(kv_actor_t *s, uint64_t id, kv_repl_kind_t kind, rv_err_t *err) {
  kv_repl_stream_t *st = s_find(s, id);
  for (int i = 0; i < KV_REPL_STREAMS && !st; i++)
    if (!s->repl[i].id) st = &s->repl[i];
  for (int i = 0; i < KV_REPL_STREAMS && !st; i++)
    if (s->repl[i].state == KV_PAGE_IDLE && (!st || s->repl[i].last_ms < st->last_ms))
      st = &s->repl[i];
  if (!st) {
    rv_err_set(err, RV_EBUSY, "all %d replica streams have a page being read; retry",
               KV_REPL_STREAMS);
    return NULL;
  }
  if (st->state != KV_PAGE_IDLE) {
    rv_err_set(err, RV_EBUSY, "stream %llu: its page %llu is still being read; retry",
               (unsigned long long)id, (unsigned long long)st->pg.page);
    return NULL;
  }
  if (st->id && st->id != id)
    rv_warn("replica stream %llu dropped for a new one", (unsigned long long)st->id);
  s_drop(s, st);
  if (kv_rocks_view_new(s->rocks, &st->view, err)) return NULL;
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
  if (st && st->state != KV_PAGE_IDLE) {
    rv_err_set(err, RV_EBUSY, "stream %llu: its page %llu is still being read; retry",
               (unsigned long long)id, (unsigned long long)st->pg.page);
    return NULL;
  }
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

/* An answer made on the loop: a refused request (no page read). log: the stream's log state, or
 * NULL. */
static void s_refuse(kv_actor_t *s, const rv_msg_t *m, kv_repl_kind_t kind, uint64_t stream,
                     uint64_t page, uint64_t after, int rc, const char *msg,
                     Rv__ReplLogState *log) {
  if (rc != RV_ESTALE && rc != RV_EAGAIN && rc != RV_EBUSY)
    rv_warn("replica %s stream %llu page %llu: %s", s_kind_name(kind), (unsigned long long)stream,
            (unsigned long long)page, msg);
  int sent;
  if (kind == KV_REPL_CHANGES) {
    Rv__ReplChanges a = RV__REPL_CHANGES__INIT;
    a.stream = stream;
    a.page = page;
    a.from_index = after;
    a.log = log;
    a.code = (uint32_t)rc;
    a.message = (char *)msg;
    sent = rv_actor_reply(s->a, m, RV_MSG_REPL_CHANGES, &a.base);
  } else {
    Rv__ReplBaseCopy a = RV__REPL_BASE_COPY__INIT;
    a.stream = stream;
    a.page = page;
    a.code = (uint32_t)rc;
    a.message = (char *)msg;
    sent = rv_actor_reply(s->a, m, RV_MSG_REPL_BASE_COPY, &a.base);
  }
  if (sent != RV_OK)
    rv_warn("replica %s stream %llu: %s does not take the answer", s_kind_name(kind),
            (unsigned long long)stream, m->from.actor);
}

/* Checks a page request and queues the page for the reader thread, which answers it. */
static void s_ask(kv_actor_t *s, const rv_msg_t *m, kv_repl_kind_t kind, uint64_t stream,
                  uint64_t page, uint64_t after, uint32_t max_bytes, uint32_t max_rows) {
  rv_err_t err = {0};
  kv_chlog_limits_t lim;
  int rc = s_partial(s, &err) ? RV_ERECOVERY : s_limits(max_bytes, max_rows, &lim, &err);
  kv_repl_stream_t *st = rc ? NULL : s_stream_for(s, stream, page, kind, &err);
  if (!rc && !st) rc = err.code;
  if (!rc && kind == KV_REPL_CHANGES && page > 0 && after != st->cur.after)
    rc = rv_err_set(&err, RV_EINVAL, "stream %llu: after_index %llu, but page 0 asked for %llu",
                    (unsigned long long)stream, (unsigned long long)after,
                    (unsigned long long)st->cur.after);
  if (!rc) {
    kv_repl_page_t *pg = &st->pg;
    pg->page = page;
    pg->after = after;
    pg->lim = lim;
    pg->log_max_bytes = s->core_cfg.chlog_max_bytes;
    pg->keys_estimate = kind == KV_REPL_BASE ? kv_rocks_estimate_keys(s->rocks) : 0;
    rv_actor_reply_envelope(s->a, m, &pg->reply);
    st->last_ms = kv_now_ms();
    if ((rc = kv_repl_reader_queue(s, st, &err)) == RV_OK) return;
  }
  Rv__ReplLogState log;
  bool with_log = st && st->info_known && kind == KV_REPL_CHANGES;
  if (with_log) kv_repl_log_pb(&st->info, s->core_cfg.chlog_max_bytes, &log);
  s_refuse(s, m, kind, stream, page, after, rc, err.msg, with_log ? &log : NULL);
  if (st) s_drop(s, st);
}

void kv_repl_changes(kv_actor_t *s, const rv_msg_t *m) {
  const Rv__ReplChangesRequest *q = (const Rv__ReplChangesRequest *)m->body;
  s_ask(s, m, KV_REPL_CHANGES, q->stream, q->page, q->after_index, q->max_bytes, q->max_rows);
}

void kv_repl_base_copy(kv_actor_t *s, const rv_msg_t *m) {
  const Rv__ReplBaseCopyRequest *q = (const Rv__ReplBaseCopyRequest *)m->body;
  s_ask(s, m, KV_REPL_BASE, q->stream, q->page, 0, q->max_bytes, q->max_rows);
}

/* A page whose answer the reader could not make (cancelled by kv_repl_close): answered
 * RV_EUNAVAIL from the loop, so the replicator asks again at once rather than after its 10 s. */
static void s_unavailable(kv_actor_t *s, kv_repl_stream_t *st) {
  kv_repl_page_t *pg = &st->pg;
  rv_msg_t m = pg->reply;
  const char *why = "the store is being closed or replaced; start again from page 0";
  Rv__ReplChanges c = RV__REPL_CHANGES__INIT;
  Rv__ReplBaseCopy b = RV__REPL_BASE_COPY__INIT;
  if (st->kind == KV_REPL_CHANGES) {
    c.stream = st->id, c.page = pg->page, c.from_index = pg->after;
    c.code = RV_EUNAVAIL, c.message = (char *)why;
    m.type = RV_MSG_REPL_CHANGES, m.body = &c.base;
  } else {
    b.stream = st->id, b.page = pg->page;
    b.code = RV_EUNAVAIL, b.message = (char *)why;
    m.type = RV_MSG_REPL_BASE_COPY, m.body = &b.base;
  }
  uint8_t *frame;
  size_t len;
  rv_err_t err;
  if (rv_msg_encode(&m, &frame, &len, &err) == RV_OK) {
    rv_actor_send_frame(s->a, m.to.actor, frame, len);
    free(frame);
  }
}

/* The reader did st's page: its answer goes out, and the stream moves on (or ends). */
static void s_page_done(kv_actor_t *s, kv_repl_stream_t *st) {
  kv_repl_page_t *pg = &st->pg;
  const char *kind = s_kind_name(st->kind);
  if (pg->rc == RV_ECLOSED || !pg->frame) {
    if (pg->rc != RV_ECLOSED)
      rv_warn("replica %s stream %llu page %llu: no answer could be made: %s", kind,
              (unsigned long long)st->id, (unsigned long long)pg->page, pg->msg);
    s_unavailable(s, st);
    s_drop(s, st);
    return;
  }
  if (rv_actor_send_frame(s->a, pg->reply.to.actor, pg->frame, pg->len) != RV_OK)
    rv_warn("replica %s stream %llu: %s does not take the answer", kind,
            (unsigned long long)st->id, pg->reply.to.actor);
  free(pg->frame);
  pg->frame = NULL;
  st->cpu_us += pg->cpu_us;
  if (pg->rc) {
    if (pg->rc != RV_ESTALE && pg->rc != RV_EAGAIN)
      rv_warn("replica %s stream %llu page %llu: %s", kind, (unsigned long long)st->id,
              (unsigned long long)pg->page, pg->msg);
    s_drop(s, st);
    return;
  }
  st->next_page++;
  if (st->kind == KV_REPL_BASE && pg->page == 0)
    rv_info("replica base copy %llu: a consistent view at applied index %llu",
            (unsigned long long)st->id, (unsigned long long)st->info.applied);
  if (!pg->last) {
    kv_repl_reader_set(s, st, KV_PAGE_IDLE);
    return;
  }
  if (st->kind == KV_REPL_CHANGES)
    rv_debug("replica changes %llu: (%llu, %llu] in %llu pages, %llu rows, %llu bytes, %.1f ms "
             "of the reader's CPU", (unsigned long long)st->id, (unsigned long long)st->cur.after,
             (unsigned long long)st->cur.to, (unsigned long long)st->next_page,
             (unsigned long long)st->rows_sent, (unsigned long long)st->bytes_sent,
             (double)st->cpu_us / 1e3);
  else
    rv_info("replica base copy %llu at index %llu read out: %llu rows, %llu bytes, %llu pages, "
            "%.1f ms of the reader's CPU", (unsigned long long)st->id,
            (unsigned long long)st->info.applied, (unsigned long long)st->rows_sent,
            (unsigned long long)st->bytes_sent, (unsigned long long)st->next_page,
            (double)st->cpu_us / 1e3);
  s_drop(s, st);
}

void kv_repl_done(rv_actor_t *a, int fd, void *arg) {
  (void)a;
  kv_actor_t *s = arg;
  uint64_t n;
  if (read(fd, &n, sizeof n) < 0) { /* EAGAIN: counted already */ }
  for (kv_repl_stream_t *st; (st = kv_repl_reader_take(s));) s_page_done(s, st);
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
  kv_repl_log_pb(&info, s->core_cfg.chlog_max_bytes, log);
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
    if (st->id && st->state == KV_PAGE_IDLE && now_ms - st->last_ms >= KV_REPL_IDLE_MS) {
      rv_info("replica stream %llu idle for %d ms: view released", (unsigned long long)st->id,
              KV_REPL_IDLE_MS);
      s_drop(s, st);
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
  kv_repl_reader_stop(s); /* no page is read any more: every view can go */
  for (int i = 0; i < KV_REPL_STREAMS; i++) {
    kv_repl_stream_t *st = &s->repl[i];
    if (st->state == KV_PAGE_DONE) {
      s_page_done(s, st); /* a page read (or cancelled) goes out (or is answered unavailable) */
    } else if (st->state == KV_PAGE_QUEUED) {
      s_unavailable(s, st);
      kv_repl_reader_set(s, st, KV_PAGE_IDLE);
    }
    s_drop(s, st);
  }
  free(s->repl_uploader);
  s->repl_uploader = NULL;
}
