/* repl_recover: the recovery loader's I/O shell (see repl_recover.h): the state machine on the
 * actor's loop, backend calls on a worker thread, commands to kv-store over ipc. */
#include "repl_recover.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repl_backend.h"
#include "repl_recover_core.h"
#include "repl_recover_scan.h"
#include "rv_codec.h"
#include "rv_log.h"

#define S_POLL_MS 1000             /* kv-store asked for the lead and the state this often */
#define S_PROGRESS_LOG_MS 5000     /* a loading leader logs its progress this often */
#define S_CHUNK_BYTES (256u << 10) /* key + value bytes per RecoveryRows command (4 in flight:
                                      about 1 MiB, some 10,000 keys, per ApplyBatch: 1 MiB
                                      commands made 4 MiB batches that held kv-store's loop
                                      past the heartbeat timeout in a 450,000-row load); the
                                      environment's RV_RECOVERY_CHUNK_BYTES (1 KiB..2 MiB)
                                      overrides it (tuning, and tests that need a slow load);
                                      RV_RECOVERY_INFLIGHT (1..16, default 4) the commands in
                                      flight */
#define S_CHUNK_ROWS 50000         /* rows per command at most */
#define S_CHUNK_MIN 1024u          /* RV_RECOVERY_CHUNK_BYTES at least (some 8 rows: a test that
                                      must watch a load on a fast host) */
#define S_SCAN_CHUNKS 2            /* chunks one scan job reads ahead */
#define S_HELD_MAX (RR_QUEUE_MAX + 4 * S_SCAN_CHUNKS)
#define S_POLL_CORR (1ull << 63)   /* the poll's correlation ids (tickets stay far below) */

/* One backend job, loop -> worker -> loop (the same struct travels back with the result). */
typedef struct s_job {
  rr_act_kind_t kind; /* RR_ACT_READ_META or RR_ACT_SCAN */
  uint64_t ticket;
  rr_source_t src;    /* SCAN: the generation to read */
  rr_key_t after;     /* SCAN */
  uint64_t first_chunk;
  /* the result */
  int rc;
  char why[RV_ERR_MSG_MAX];
  rr_source_t meta;   /* READ_META */
  repl_chunk_t *chunks[S_SCAN_CHUNKS];
  size_t n;
  bool done;
  struct s_job *prev, *next; /* the loop's list of jobs given to the worker */
} s_job_t;

typedef struct {
  repl_chunk_t *c;
  uint64_t ticket; /* the ROWS command that carries it (0: not sent yet) */
} s_held_t;

struct repl_recover {
  rv_actor_t *a;
  const cfg_node_t *cfg;
  bool leave;
  rr_t *rr;
  zactor_t *worker;
  s_job_t *jobs;            /* given to the worker, result not taken yet (freed at destroy) */
  s_held_t held[S_HELD_MAX];
  size_t nheld;
  bool leader;
  size_t chunk_bytes;
  uint64_t poll_seq;
  int timer;
  bool epoch_known;         /* the last poll answer gave the epoch (phase none or LEFT) */
  uint64_t epoch;
  rr_phase_t shown_phase;
  char shown_status[RR_STATUS_MAX];
  int64_t progress_logged_ms;
  char desc[RR_STATUS_MAX + 160];
};

static int64_t s_now_ms(void) { return zclock_mono(); }

/* ---- the worker thread -------------------------------------------------------------------- */

static void s_job_meta(repl_backend_t *b, s_job_t *j, repl_meta_t *last) {
  rv_err_t err = {0};
  repl_meta_t m;
  memset(&m, 0, sizeof m);
  j->rc = repl_backend_read_meta(b, &m, &err);
  if (j->rc) {
    snprintf(j->why, sizeof j->why, "%s", err.msg);
    return;
  }
  *last = m;
  snprintf(j->meta.cluster, sizeof j->meta.cluster, "%.*s", RR_CLUSTER_MAX, m.cluster_id);
  j->meta.generation = m.generation;
  j->meta.synced_index = m.synced_index;
  j->meta.rows = m.rows;
  j->meta.bytes = m.bytes;
  j->meta.term = m.term;
}

static void s_job_scan(repl_backend_t *b, s_job_t *j, const repl_meta_t *last,
                       size_t chunk_bytes) {
  repl_meta_t m = *last;
  if (m.generation != j->src.generation || m.synced_index != j->src.synced_index) {
    memset(&m, 0, sizeof m);
    snprintf(m.cluster_id, sizeof m.cluster_id, "%.*s", REPL_CLUSTER_ID_MAX - 1, j->src.cluster);
    m.generation = j->src.generation;
    m.synced_index = j->src.synced_index;
    m.rows = j->src.rows;
    m.bytes = j->src.bytes;
  }
  rv_err_t err = {0};
  j->rc = repl_recover_scan(b, &m, &j->after, j->first_chunk, S_SCAN_CHUNKS, chunk_bytes,
                            S_CHUNK_ROWS, j->chunks, &j->n, &j->done, &err);
  if (j->rc) snprintf(j->why, sizeof j->why, "%s", err.msg);
}

static void s_worker(zsock_t *pipe, void *arg) {
  repl_recover_t *r = arg; /* only its immutable cfg and chunk_bytes are read here */
  const cfg_node_t *cfg = r->cfg;
  repl_backend_t *b = NULL;
  repl_meta_t last;
  memset(&last, 0, sizeof last);
  zsock_signal(pipe, 0);
  while (true) {
    zmsg_t *msg = zmsg_recv(pipe);
    if (!msg) break;
    char *cmd = zmsg_popstr(msg);
    zframe_t *f = zmsg_pop(msg);
    zmsg_destroy(&msg);
    bool term = !cmd || streq(cmd, "$TERM");
    s_job_t *j = NULL;
    if (!term && f && zframe_size(f) == sizeof j) memcpy(&j, zframe_data(f), sizeof j);
    zstr_free(&cmd);
    zframe_destroy(&f);
    if (term) break;
    if (!j) continue;
    if (!b) {
      rv_err_t err = {0};
      repl_backend_cfg_t bc = {.endpoint = cfg->ots_endpoint,
                               .instance = cfg->ots_instance,
                               .access_key_id = cfg->ots_access_key_id,
                               .access_key_secret = cfg->ots_access_key_secret,
                               .cluster_id = cfg->cluster_id};
      b = repl_backend_open(&bc, &err);
      if (!b) {
        j->rc = err.code ? err.code : RV_EUNAVAIL;
        snprintf(j->why, sizeof j->why, "opening the remote copy: %.990s", err.msg);
      }
    }
    if (b && j->kind == RR_ACT_READ_META) s_job_meta(b, j, &last);
    else if (b) s_job_scan(b, j, &last, r->chunk_bytes);
    zsock_send(pipe, "sb", "DONE", &j, sizeof j);
  }
  repl_backend_close(&b);
}

/* ---- chunks held by the loop -------------------------------------------------------------- */

static void s_hold(repl_recover_t *r, repl_chunk_t *c) {
  if (r->nheld == S_HELD_MAX) { /* cannot happen: the core bounds what is scanned ahead */
    rv_warn("recovery: too many chunks held; dropping chunk %llu", (unsigned long long)c->info.id);
    repl_chunk_destroy(&c);
    return;
  }
  r->held[r->nheld++] = (s_held_t){c, 0};
}

static s_held_t *s_held_find(repl_recover_t *r, uint64_t id) {
  for (size_t i = 0; i < r->nheld; i++)
    if (r->held[i].c->info.id == id) return &r->held[i];
  return NULL;
}

static void s_unhold(repl_recover_t *r, size_t i) {
  repl_chunk_destroy(&r->held[i].c);
  r->held[i] = r->held[--r->nheld];
}

static void s_drop_all(repl_recover_t *r) {
  while (r->nheld) s_unhold(r, r->nheld - 1);
}

/* ---- commands to kv-store ----------------------------------------------------------------- */

static void s_send(repl_recover_t *r, Rv__RecoveryCommand *q, uint64_t corr) {
  q->rate_rows_s = r->rr->rate_rows_s;
  q->eta_s = r->rr->eta_s;
  if (rv_actor_send(r->a, "kv-store", RV_MSG_RECOVERY_COMMAND, &q->base, corr) != RV_OK)
    rv_debug("recovery: kv-store does not take the command (the core's timeout resyncs)");
}

static void s_send_rows(repl_recover_t *r, const rr_act_t *act) {
  s_held_t *h = s_held_find(r, act->chunk);
  if (!h) {
    rv_warn("recovery: chunk %llu is not held; the core resyncs on its timeout",
            (unsigned long long)act->chunk);
    return;
  }
  repl_chunk_t *c = h->c;
  Rv__ReplRow *rows = calloc(c->nrows, sizeof *rows);
  Rv__ReplRow **ptrs = calloc(c->nrows, sizeof *ptrs);
  if (rows && ptrs) {
    for (size_t i = 0; i < c->nrows; i++) {
      rv__repl_row__init(&rows[i]);
      rows[i].key.data = c->arena + c->rows[i].koff;
      rows[i].key.len = c->rows[i].klen;
      rows[i].value.data = c->arena + c->rows[i].voff;
      rows[i].value.len = c->rows[i].vlen;
      ptrs[i] = &rows[i];
    }
    Rv__RecoveryCommand q = RV__RECOVERY_COMMAND__INIT;
    q.kind = RV__RECOVERY_COMMAND__KIND__RECOVERY_ROWS;
    q.after.data = (uint8_t *)act->after->b;
    q.after.len = act->after->len;
    q.n_rows = c->nrows;
    q.rows = ptrs;
    s_send(r, &q, act->ticket);
    h->ticket = act->ticket;
  } else {
    rv_warn("recovery: out of memory sending chunk %llu", (unsigned long long)act->chunk);
  }
  free(rows);
  free(ptrs);
}

static void s_job(repl_recover_t *r, const rr_act_t *act) {
  s_job_t *j = calloc(1, sizeof *j);
  if (!j) {
    rv_warn("recovery: out of memory for a backend job (the core resyncs on its timeout)");
    return;
  }
  j->kind = act->kind;
  j->ticket = act->ticket;
  if (act->source) j->src = *act->source;
  if (act->after) j->after = *act->after;
  j->first_chunk = act->first_chunk;
  if (zsock_send(zactor_sock(r->worker), "sb", "JOB", &j, sizeof j) != 0) {
    rv_warn("recovery: the worker does not take jobs");
    free(j);
    return;
  }
  j->next = r->jobs;
  if (r->jobs) r->jobs->prev = j;
  r->jobs = j;
}

/* Carries out the core's last actions. */
static void s_run(repl_recover_t *r) {
  size_t n = r->rr->nout;
  rr_act_t acts[RR_ACTIONS_MAX];
  memcpy(acts, r->rr->out, n * sizeof *acts);
  for (size_t i = 0; i < n; i++) {
    const rr_act_t *act = &acts[i];
    Rv__RecoveryCommand q = RV__RECOVERY_COMMAND__INIT;
    switch (act->kind) {
      case RR_ACT_READ_META:
      case RR_ACT_SCAN: s_job(r, act); break;
      case RR_ACT_ASK_STATE:
        q.kind = RV__RECOVERY_COMMAND__KIND__RECOVERY_STATE;
        s_send(r, &q, act->ticket);
        break;
      case RR_ACT_BEGIN:
        q.kind = RV__RECOVERY_COMMAND__KIND__RECOVERY_BEGIN;
        q.source_cluster = (char *)act->source->cluster;
        q.source_generation = act->source->generation;
        q.source_synced_index = act->source->synced_index;
        q.rows_total = act->source->rows;
        q.bytes_total = act->source->bytes;
        q.source_term = act->source->term;
        rv_info("recovery: beginning from the remote copy of cluster \"%s\" (generation %llu, "
                "index %llu, %llu rows, %llu bytes, term %llu of epoch %llu)",
                act->source->cluster, (unsigned long long)act->source->generation,
                (unsigned long long)act->source->synced_index,
                (unsigned long long)act->source->rows, (unsigned long long)act->source->bytes,
                (unsigned long long)repl_token_term(act->source->term),
                (unsigned long long)repl_token_epoch(act->source->term));
        s_send(r, &q, act->ticket);
        break;
      case RR_ACT_ROWS: s_send_rows(r, act); break;
      case RR_ACT_FINISH:
        q.kind = RV__RECOVERY_COMMAND__KIND__RECOVERY_FINISH;
        q.after.data = (uint8_t *)act->after->b;
        q.after.len = act->after->len;
        s_send(r, &q, act->ticket);
        break;
      case RR_ACT_LEAVE:
        q.kind = RV__RECOVERY_COMMAND__KIND__RECOVERY_LEAVE;
        q.reason = "ots.recovery-mode is off (the replicator leaves a FINISHed recovery)";
        s_send(r, &q, act->ticket);
        break;
      case RR_ACT_DROP_CHUNKS: s_drop_all(r); break;
    }
  }
}

/* Logs phase and status changes, and the progress of a load now and then. */
static void s_report(repl_recover_t *r, int64_t now) {
  rr_t *rr = r->rr;
  if (rr->phase != r->shown_phase || strcmp(rr->status, r->shown_status) != 0) {
    bool bad = rr->phase == RR_FAILED || rr->phase == RR_WAIT;
    if (bad)
      rv_warn("recovery: %s", repl_recover_describe(r));
    else
      rv_info("recovery: %s", repl_recover_describe(r));
    r->shown_phase = rr->phase;
    snprintf(r->shown_status, sizeof r->shown_status, "%s", rr->status);
  } else if (rr->phase == RR_LOAD && now - r->progress_logged_ms >= S_PROGRESS_LOG_MS) {
    rv_info("recovery: %s", repl_recover_describe(r));
    r->progress_logged_ms = now;
  }
}

bool repl_recover_epoch(const repl_recover_t *r, uint64_t *epoch) {
  *epoch = r->epoch;
  return r->epoch_known;
}

const char *repl_recover_describe(repl_recover_t *r) {
  rr_t *rr = r->rr;
  snprintf(r->desc, sizeof r->desc,
           "%s %s: %llu/%llu rows loaded, %.0f rows/s, eta %.0f s%s%s",
           r->leave ? "leave" : "load", rr_phase_name(rr->phase),
           (unsigned long long)rr->state.rows, (unsigned long long)rr->state.source.rows,
           rr->rate_rows_s, rr->eta_s, rr->status[0] ? ": " : "", rr->status);
  return r->desc;
}

/* ---- events ------------------------------------------------------------------------------- */

static void s_state_of(const Rv__RecoveryAnswer *a, rr_state_t *st) {
  memset(st, 0, sizeof *st);
  const Rv__RecoveryProgress *p = a->progress;
  st->phase = (int)a->phase;
  if (p) {
    snprintf(st->source.cluster, sizeof st->source.cluster, "%.*s", RR_CLUSTER_MAX,
             p->source_cluster);
    st->source.generation = p->source_generation;
    st->source.synced_index = p->source_synced_index;
    st->source.rows = p->rows_total;
    st->source.bytes = p->bytes_total;
    st->rows = p->rows;
    st->bytes = p->bytes;
  }
  size_t cl = a->cursor.len < RR_KEY_MAX ? a->cursor.len : RR_KEY_MAX;
  if (cl) memcpy(st->cursor.b, a->cursor.data, cl);
  st->cursor.len = cl;
}

static void s_poll_answer(repl_recover_t *r, const Rv__RecoveryAnswer *a) {
  int64_t now = s_now_ms();
  /* the epoch counts once the recovery is over (none or LEFT) on a store kv-store has open */
  r->epoch_known = a->state_known && (a->phase == 0 || a->phase == 3);
  r->epoch = r->epoch_known && a->progress ? a->progress->epoch : 0;
  if (a->leader && !r->leader) {
    r->leader = true;
    rv_info("recovery: this node leads: the %s starts", r->leave ? "leave check" : "loader");
    rr_start(r->rr, now);
    s_run(r);
  } else if (!a->leader && r->leader) {
    r->leader = false;
    rv_info("recovery: this node no longer leads: the %s stops", r->leave ? "leave check" : "loader");
    rr_stop(r->rr);
    s_run(r);
    s_drop_all(r);
  }
}

bool repl_recover_message(repl_recover_t *r, const rv_msg_t *m) {
  if (m->type != RV_MSG_RECOVERY_ANSWER) return false;
  const Rv__RecoveryAnswer *a = (const Rv__RecoveryAnswer *)m->body;
  if (m->corr_id & S_POLL_CORR) {
    s_poll_answer(r, a);
    s_report(r, s_now_ms());
    return true;
  }
  uint64_t ticket = m->corr_id;
  for (size_t i = 0; i < r->nheld; i++)
    if (r->held[i].ticket == ticket) { /* its ROWS is answered: the core will not send it again */
      s_unhold(r, i);
      break;
    }
  rr_state_t st;
  s_state_of(a, &st);
  int64_t now = s_now_ms();
  if (ticket == r->rr->state_ticket)
    rr_on_state(r->rr, ticket, (int)a->code, a->progress ? &st : NULL, a->message, now);
  else
    rr_on_answer(r->rr, ticket, (int)a->code, a->progress ? &st : NULL, a->message, now);
  s_run(r);
  s_report(r, now);
  return true;
}

static void s_job_free(s_job_t *j) {
  for (size_t i = 0; i < j->n; i++) repl_chunk_destroy(&j->chunks[i]);
  free(j);
}

static void s_job_unlink(repl_recover_t *r, s_job_t *j) {
  if (j->prev) j->prev->next = j->next;
  else r->jobs = j->next;
  if (j->next) j->next->prev = j->prev;
  j->prev = j->next = NULL;
}

static void s_on_worker(rv_actor_t *a, zsock_t *sock, void *arg) {
  (void)a;
  repl_recover_t *r = arg;
  zframe_t *f = NULL;
  char *cmd = NULL;
  if (zsock_recv(sock, "sf", &cmd, &f) != 0) return;
  s_job_t *j = NULL;
  if (f && zframe_size(f) == sizeof j) memcpy(&j, zframe_data(f), sizeof j);
  zstr_free(&cmd);
  zframe_destroy(&f);
  if (!j) return;
  s_job_unlink(r, j);
  int64_t now = s_now_ms();
  if (j->kind == RR_ACT_READ_META) {
    rr_on_meta(r->rr, j->ticket, j->rc, &j->meta, j->why, now);
  } else {
    bool awaited = r->rr->scan_ticket == j->ticket;
    rr_chunk_t infos[S_SCAN_CHUNKS];
    for (size_t i = 0; i < j->n; i++) {
      infos[i] = j->chunks[i]->info;
      if (awaited) s_hold(r, j->chunks[i]);
      else repl_chunk_destroy(&j->chunks[i]);
      j->chunks[i] = NULL;
    }
    rr_on_page(r->rr, j->ticket, j->rc, infos, j->n, j->done, j->why, now);
    j->n = 0;
  }
  s_job_free(j);
  s_run(r);
  s_report(r, now);
}

static void s_tick(rv_actor_t *a, void *arg) {
  repl_recover_t *r = arg;
  Rv__RecoveryCommand q = RV__RECOVERY_COMMAND__INIT;
  q.kind = RV__RECOVERY_COMMAND__KIND__RECOVERY_STATE;
  s_send(r, &q, S_POLL_CORR | ++r->poll_seq);
  int64_t now = s_now_ms();
  rr_tick(r->rr, now);
  s_run(r);
  s_report(r, now);
  (void)a;
}

int repl_recover_new(rv_actor_t *a, const cfg_node_t *cfg, bool leave, repl_recover_t **out,
                     rv_err_t *err) {
  *out = NULL;
  repl_recover_t *r = calloc(1, sizeof *r);
  if (!r || !(r->rr = calloc(1, sizeof *r->rr))) {
    free(r);
    return rv_err_set(err, RV_ENOMEM, "recovery: out of memory");
  }
  r->a = a;
  r->cfg = cfg;
  r->leave = leave;
  rr_config_t rc;
  rr_config_default(&rc);
  rc.leave = leave;
  const char *inflight = getenv("RV_RECOVERY_INFLIGHT");
  if (inflight && *inflight) {
    char *end;
    unsigned long v = strtoul(inflight, &end, 10);
    if (*end || v < 1 || v > RR_INFLIGHT_MAX)
      rv_warn("recovery: RV_RECOVERY_INFLIGHT=%s ignored (expected 1..%d)", inflight,
              RR_INFLIGHT_MAX);
    else
      rc.inflight_max = (unsigned)v;
  }
  rr_init(r->rr, &rc);
  r->shown_phase = RR_OFF;
  r->chunk_bytes = S_CHUNK_BYTES;
  const char *env = getenv("RV_RECOVERY_CHUNK_BYTES");
  if (env && *env) {
    char *end;
    unsigned long v = strtoul(env, &end, 10);
    if (*end || v < S_CHUNK_MIN || v > REPL_RECOVER_CHUNK_HARD)
      rv_warn("recovery: RV_RECOVERY_CHUNK_BYTES=%s ignored (expected %u..%u)", env, S_CHUNK_MIN,
              REPL_RECOVER_CHUNK_HARD);
    else
      r->chunk_bytes = v;
  }
  r->worker = zactor_new(s_worker, r);
  if (!r->worker) {
    repl_recover_destroy(&r);
    return rv_err_set(err, RV_EIO, "recovery: cannot start the backend worker thread");
  }
  if (rv_actor_reader_add(a, zactor_sock(r->worker), s_on_worker, r) != 0 ||
      (r->timer = rv_actor_timer_add(a, S_POLL_MS, 0, s_tick, r)) < 0) {
    repl_recover_destroy(&r);
    return rv_err_set(err, RV_EIO, "recovery: cannot register with the actor's loop");
  }
  rv_info("recovery: %s mode, remote copy %s, cluster \"%s\", %zu bytes per command, %u in "
          "flight",
          leave ? "leave (ots.recovery-mode off: a FINISHed recovery is left by the leader)"
                : "load (ots.recovery-mode on: read-only until left)",
          cfg->ots_endpoint, cfg->cluster_id, r->chunk_bytes, r->rr->cfg.inflight_max);
  *out = r;
  return RV_OK;
}

void repl_recover_destroy(repl_recover_t **rp) {
  if (!rp || !*rp) return;
  repl_recover_t *r = *rp;
  if (r->timer > 0) rv_actor_timer_cancel(r->a, r->timer);
  if (r->worker) {
    rv_actor_reader_remove(r->a, zactor_sock(r->worker));
    zactor_destroy(&r->worker); /* joins the worker: the jobs below are ours alone now */
  }
  while (r->jobs) {
    s_job_t *j = r->jobs;
    s_job_unlink(r, j);
    s_job_free(j);
  }
  s_drop_all(r);
  free(r->rr);
  free(r);
  *rp = NULL;
}
