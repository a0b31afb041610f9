/* repl_recover_core: the recovery loader's state machine (see the header for the phases).
 * Pure: libc and rv_common; time comes in as arguments. */
#include "repl_recover_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void rr_config_default(rr_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->inflight_max = 4;
  cfg->retry_ms = 1000;
  cfg->retry_failed_ms = 30000;
  cfg->answer_timeout_ms = 30000;
}

void rr_init(rr_t *r, const rr_config_t *cfg) {
  memset(r, 0, sizeof *r);
  if (cfg) r->cfg = *cfg;
  else rr_config_default(&r->cfg);
  rr_config_t d;
  rr_config_default(&d);
  if (!r->cfg.inflight_max) r->cfg.inflight_max = d.inflight_max;
  if (r->cfg.inflight_max > RR_INFLIGHT_MAX) r->cfg.inflight_max = RR_INFLIGHT_MAX;
  if (!r->cfg.queue_max) r->cfg.queue_max = 2 * r->cfg.inflight_max;
  if (r->cfg.queue_max < r->cfg.inflight_max) r->cfg.queue_max = r->cfg.inflight_max;
  if (r->cfg.queue_max > RR_QUEUE_MAX) r->cfg.queue_max = RR_QUEUE_MAX;
  if (!r->cfg.retry_ms) r->cfg.retry_ms = d.retry_ms;
  if (!r->cfg.retry_failed_ms) r->cfg.retry_failed_ms = d.retry_failed_ms;
  if (!r->cfg.answer_timeout_ms) r->cfg.answer_timeout_ms = d.answer_timeout_ms;
  r->phase = RR_OFF;
}

const char *rr_phase_name(rr_phase_t p) {
  static const char *names[] = {"off",  "sync", "begin", "load", "finish",
                                "done", "leave", "left", "wait", "failed"};
  return p <= RR_FAILED ? names[p] : "?";
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void s_status(rr_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_status(rr_t *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->status, sizeof r->status, fmt, ap);
  va_end(ap);
}

static rr_act_t *s_act(rr_t *r, rr_act_kind_t kind) {
  rr_act_t *a = &r->out[r->nout++]; /* bounded: at most RR_QUEUE_MAX ROWS + a few per event */
  memset(a, 0, sizeof *a);
  a->kind = kind;
  a->ticket = ++r->next_ticket;
  return a;
}

static bool s_same_source(const rr_source_t *a, const rr_source_t *b) {
  return strcmp(a->cluster, b->cluster) == 0 && a->generation == b->generation &&
         a->synced_index == b->synced_index;
}

static void s_forget_inflight(rr_t *r) {
  r->cmd_ticket = r->scan_ticket = r->meta_ticket = r->state_ticket = 0;
  if (r->nqueue || r->phase == RR_LOAD) s_act(r, RR_ACT_DROP_CHUNKS);
  r->nqueue = r->nsent = 0;
  r->scan_done = false;
  r->rate_rows_s = r->eta_s = 0;
}

static void s_sync(rr_t *r, int64_t now) {
  s_forget_inflight(r);
  r->phase = RR_SYNC;
  r->have_meta = r->cfg.leave; /* leave mode needs the state only */
  r->have_state = false;
  if (!r->cfg.leave) r->meta_ticket = s_act(r, RR_ACT_READ_META)->ticket;
  rr_act_t *a = s_act(r, RR_ACT_ASK_STATE);
  r->state_ticket = a->ticket;
  r->cmd_sent_ms = now;
}

/* A retriable error: drop everything, SYNC again after retry_ms. */
static void s_wait(rr_t *r, int64_t now, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void s_wait(rr_t *r, int64_t now, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->status, sizeof r->status, fmt, ap);
  va_end(ap);
  s_forget_inflight(r);
  r->last_code = code;
  r->phase = RR_WAIT;
  r->retry_at_ms = now + r->cfg.retry_ms;
  r->resyncs++;
}

static void s_fail(rr_t *r, int64_t now, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void s_fail(rr_t *r, int64_t now, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->status, sizeof r->status, fmt, ap);
  va_end(ap);
  s_forget_inflight(r);
  r->last_code = code;
  r->phase = RR_FAILED;
  r->retry_at_ms = now + r->cfg.retry_failed_ms;
}

static void s_command(rr_t *r, rr_phase_t phase, rr_act_kind_t kind, int64_t now) {
  r->phase = phase;
  rr_act_t *a = s_act(r, kind);
  a->source = &r->source;
  a->after = &r->state.cursor;
  r->cmd_ticket = a->ticket;
  r->cmd_sent_ms = now;
  r->commands++;
}

static void s_rate(rr_t *r, int64_t now) {
  uint64_t done = r->state.rows - r->load_start_rows;
  double secs = (double)(now - r->load_start_ms) / 1000.0;
  if (secs <= 0 || r->state.rows < r->load_start_rows) return;
  r->rate_rows_s = (double)done / secs;
  uint64_t total = r->state.source.rows;
  r->eta_s = r->rate_rows_s > 0 && total > r->state.rows
                 ? (double)(total - r->state.rows) / r->rate_rows_s
                 : 0;
}

/* LOAD: scan ahead and send what may go. */
static void s_pump(rr_t *r, int64_t now) {
  while (r->nsent < r->nqueue && r->nsent < r->cfg.inflight_max) {
    rr_act_t *a = s_act(r, RR_ACT_ROWS);
    a->chunk = r->queue[r->nsent].id;
    a->after = r->nsent ? &r->queue[r->nsent - 1].last : &r->state.cursor;
    r->tickets[r->nsent] = a->ticket;
    r->sent_ms[r->nsent] = now;
    r->nsent++;
    r->commands++;
  }
  if (!r->scan_ticket && !r->scan_done && r->nqueue < r->cfg.queue_max) {
    rr_act_t *a = s_act(r, RR_ACT_SCAN);
    a->after = &r->scan_from;
    a->source = &r->source;
    a->first_chunk = r->next_chunk;
    r->scan_ticket = a->ticket;
  }
  if (r->scan_done && r->nqueue == 0) s_command(r, RR_FINISH, RR_ACT_FINISH, now);
}

static void s_load(rr_t *r, int64_t now) {
  r->phase = RR_LOAD;
  r->scan_from = r->state.cursor;
  r->scan_done = false;
  r->nqueue = r->nsent = 0;
  r->load_start_ms = now;
  r->load_start_rows = r->state.rows;
  r->status[0] = '\0';
  s_pump(r, now);
}

/* SYNC has both answers: decide. */
static void s_decide(rr_t *r, int64_t now) {
  const rr_state_t *st = &r->state;
  if (r->cfg.leave) {
    if (st->phase == 2) {
      s_command(r, RR_LEAVE, RR_ACT_LEAVE, now);
    } else if (st->phase == 1) {
      s_fail(r, now, RV_EBUSY,
             "recovery from cluster \"%s\" is RUNNING (%llu of %llu rows loaded) and "
             "ots.recovery-mode is off: it cannot be left before it finishes; turn "
             "ots.recovery-mode back on to let it finish",
             st->source.cluster, (unsigned long long)st->rows,
             (unsigned long long)st->source.rows);
    } else {
      r->phase = RR_LEFT;
      r->status[0] = '\0';
    }
    return;
  }
  if (st->phase == 3) {
    r->phase = RR_LEFT;
    s_status(r, "this cluster was recovered from cluster \"%s\" and left recovery mode: "
                "nothing to load; turn ots.recovery-mode off", st->source.cluster);
  } else if (st->phase == 2) {
    r->phase = RR_DONE;
    s_status(r, "recovery FINISHed: %llu rows from cluster \"%s\"; read-only until it is left",
             (unsigned long long)st->rows, st->source.cluster);
  } else if (st->phase == 1 && s_same_source(&st->source, &r->source)) {
    s_load(r, now);
  } else {
    s_command(r, RR_BEGIN, RR_ACT_BEGIN, now);
  }
}

/* ---- events ------------------------------------------------------------------------------- */

void rr_start(rr_t *r, int64_t now) {
  r->nout = 0;
  r->status[0] = '\0';
  s_sync(r, now);
}

void rr_stop(rr_t *r) {
  r->nout = 0;
  s_forget_inflight(r);
  r->phase = RR_OFF;
  s_status(r, "not the leader");
}

void rr_on_meta(rr_t *r, uint64_t ticket, int rc, const rr_source_t *src, const char *why,
                int64_t now) {
  r->nout = 0;
  if (r->phase != RR_SYNC || ticket != r->meta_ticket) return;
  r->meta_ticket = 0;
  if (rc == RV_ENOTFOUND) {
    s_fail(r, now, rc, "the remote copy holds nothing for this cluster (no meta row): %s",
           why ? why : "");
    return;
  }
  if (rc) {
    s_wait(r, now, rc, "reading the remote meta row: %s", why ? why : rv_code_text(rc));
    return;
  }
  r->source = *src;
  r->have_meta = true;
  if (r->have_state) s_decide(r, now);
}

void rr_on_state(rr_t *r, uint64_t ticket, int rc, const rr_state_t *st, const char *why,
                 int64_t now) {
  r->nout = 0;
  if (r->phase != RR_SYNC || ticket != r->state_ticket) return;
  r->state_ticket = 0;
  if (rc || !st) {
    s_wait(r, now, rc, "asking kv-store for the recovery state: %s",
           why ? why : rv_code_text(rc));
    return;
  }
  r->state = *st;
  r->have_state = true;
  if (r->have_meta) s_decide(r, now);
}

void rr_on_page(rr_t *r, uint64_t ticket, int rc, const rr_chunk_t *chunks, size_t n, bool done,
                const char *why, int64_t now) {
  r->nout = 0;
  if (r->phase != RR_LOAD || ticket != r->scan_ticket) return;
  r->scan_ticket = 0;
  if (rc == RV_ESTALE) { /* the source generation was replaced: SYNC reads the new meta row */
    r->stale++;
    s_wait(r, now, rc, "the remote copy changed under the scan (%s): starting again",
           why ? why : "stale");
    r->retry_at_ms = now; /* at once */
    return;
  }
  if (rc == RV_ECORRUPT) {
    s_fail(r, now, rc, "the remote copy is corrupt: %s", why ? why : "");
    return;
  }
  if (rc) {
    s_wait(r, now, rc, "scanning the remote copy: %s", why ? why : rv_code_text(rc));
    return;
  }
  for (size_t i = 0; i < n; i++) {
    if (r->nqueue == RR_QUEUE_MAX || chunks[i].id != r->next_chunk) {
      s_wait(r, now, RV_EINTERNAL, "scan gave chunk %llu where %llu was expected",
             (unsigned long long)chunks[i].id, (unsigned long long)r->next_chunk);
      return;
    }
    r->queue[r->nqueue++] = chunks[i];
    r->next_chunk++;
    r->scan_from = chunks[i].last;
  }
  r->scan_done = done;
  s_pump(r, now);
}

/* A ROWS answer for queue[i] (i < nsent). */
static void s_rows_answer(rr_t *r, size_t i, int rc, const rr_state_t *st, const char *why,
                          int64_t now) {
  if (i != 0) { /* answers come in order (one kv-store, one log); anything else: resync */
    s_wait(r, now, RV_EPROTO, "the answer for chunk %llu came before chunk %llu's",
           (unsigned long long)r->queue[i].id, (unsigned long long)r->queue[0].id);
    return;
  }
  if (rc == RV_ECORRUPT) {
    s_fail(r, now, rc, "%s", why ? why : "a remote row is corrupt");
    return;
  }
  if (rc) { /* RV_ESTALE (not after the cursor), a lost leadership, a timeout... */
    if (rc == RV_ESTALE) r->stale++;
    s_wait(r, now, rc, "rows after the cursor: %s", why ? why : rv_code_text(rc));
    if (rc == RV_ESTALE) r->retry_at_ms = now;
    return;
  }
  if (st) r->state = *st;
  memmove(&r->queue[0], &r->queue[1], (r->nqueue - 1) * sizeof r->queue[0]);
  memmove(&r->tickets[0], &r->tickets[1], (r->nsent - 1) * sizeof r->tickets[0]);
  memmove(&r->sent_ms[0], &r->sent_ms[1], (r->nsent - 1) * sizeof r->sent_ms[0]);
  r->nqueue--;
  r->nsent--;
  s_rate(r, now);
  s_pump(r, now);
}

void rr_on_answer(rr_t *r, uint64_t ticket, int rc, const rr_state_t *st, const char *why,
                  int64_t now) {
  r->nout = 0;
  if (!ticket) return;
  if (r->phase == RR_LOAD) {
    for (size_t i = 0; i < r->nsent; i++)
      if (r->tickets[i] == ticket) {
        s_rows_answer(r, i, rc, st, why, now);
        return;
      }
  }
  if (ticket != r->cmd_ticket) return;
  r->cmd_ticket = 0;
  if (st) r->state = *st;
  switch (r->phase) {
    case RR_BEGIN:
      if (rc == RV_ENOTEMPTY || rc == RV_EBUSY) {
        s_fail(r, now, rc, "%s", why ? why : rv_code_text(rc));
      } else if (rc || !st) {
        s_wait(r, now, rc, "recovery-begin: %s", why ? why : rv_code_text(rc));
      } else {
        s_load(r, now);
      }
      return;
    case RR_FINISH:
      if (rc || !st) {
        s_wait(r, now, rc, "recovery-finish: %s", why ? why : rv_code_text(rc));
        if (rc == RV_ESTALE) r->retry_at_ms = now;
      } else {
        r->phase = RR_DONE;
        r->rate_rows_s = r->eta_s = 0;
        s_status(r, "recovery FINISHed: %llu rows from cluster \"%s\"; read-only until it is "
                    "left", (unsigned long long)r->state.rows, r->state.source.cluster);
      }
      return;
    case RR_LEAVE:
      if (rc == RV_EBUSY) {
        s_fail(r, now, rc, "%s", why ? why : rv_code_text(rc));
      } else if (rc) {
        s_wait(r, now, rc, "recovery-leave: %s", why ? why : rv_code_text(rc));
      } else {
        r->phase = RR_LEFT;
        s_status(r, "recovery left: the namespace is writable");
      }
      return;
    default: return;
  }
}

void rr_tick(rr_t *r, int64_t now) {
  r->nout = 0;
  switch (r->phase) {
    case RR_WAIT:
    case RR_FAILED:
      if (now >= r->retry_at_ms) s_sync(r, now);
      return;
    case RR_SYNC:
      if (r->state_ticket && now - r->cmd_sent_ms >= r->cfg.answer_timeout_ms)
        s_wait(r, now, RV_ETIMEDOUT, "kv-store did not answer the state request in %lld ms",
               (long long)r->cfg.answer_timeout_ms);
      return;
    case RR_BEGIN:
    case RR_FINISH:
    case RR_LEAVE:
      if (r->cmd_ticket && now - r->cmd_sent_ms >= r->cfg.answer_timeout_ms)
        s_wait(r, now, RV_ETIMEDOUT, "kv-store did not answer %s in %lld ms",
               rr_phase_name(r->phase), (long long)r->cfg.answer_timeout_ms);
      return;
    case RR_LOAD:
      if (r->nsent && now - r->sent_ms[0] >= r->cfg.answer_timeout_ms)
        s_wait(r, now, RV_ETIMEDOUT, "kv-store did not answer rows in %lld ms",
               (long long)r->cfg.answer_timeout_ms);
      return;
    default: return;
  }
}
