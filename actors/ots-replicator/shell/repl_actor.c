/* repl_actor: the ots-replicator's life cycle, its view of Raft (RaftState from raft-peer), the
 * backend worker's results, and carrying out what the upload core asks (repl_upload.h). I/O
 * shell; the kv-store side is repl_actor_kv.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repl_actor_int.h"

#define S_TICK_MS 20

int64_t repl_actor_now_ms(void) { return (int64_t)rv_mono_ms(); }

static int64_t s_wall_ms(void) { return (int64_t)(rv_wall_us() / 1000u); }

repl_actor_t *repl_actor_new(void) { return calloc(1, sizeof(repl_actor_t)); }

void repl_actor_destroy(repl_actor_t **sp) {
  if (!sp || !*sp) return;
  free(*sp);
  *sp = NULL;
}

/* ---- the worker --------------------------------------------------------------------------- */

static void s_submit(repl_actor_t *s, const repl_op_t *op) {
  if (repl_worker_busy(s->worker)) { /* a stale job still runs: this one goes next */
    s->queued = true;
    s->queued_op = *op;
    return;
  }
  s->queued = false;
  int rc;
  if (op->kind == REPL_OP_PUT)
    rc = repl_worker_submit(s->worker, op, &s->page_rows, s->page_n, &s->page_arena);
  else
    rc = repl_worker_submit(s->worker, op, NULL, 0, NULL);
  if (op->kind == REPL_OP_PUT) s->page_n = 0;
  if (rc) rv_error("backend worker refused a job (%d): a bug", rc);
}

void repl_actor_carry_out(repl_actor_t *s, const repl_update_t *u) {
  if (u->log_level == 1) rv_info("%s", u->log);
  else if (u->log_level >= 2) rv_warn("%s", u->log);
  switch (u->op.kind) {
    case REPL_OP_NONE: break;
    case REPL_OP_KV_CHANGES:
    case REPL_OP_KV_BASE: repl_actor_kv_send(s, &u->op); break;
    default: s_submit(s, &u->op); break;
  }
  if (u->trim) repl_actor_send_trim(s, u->trim_below);
}

static void s_on_worker(rv_actor_t *a, int fd, void *arg) {
  repl_actor_t *s = arg;
  repl_worker_result_t res;
  if (!repl_worker_take(s->worker, &res)) return;
  repl_worker_describe(s->worker, s->describe, sizeof s->describe);
  if (res.open_failed && (res.rc == RV_EINVAL || res.rc == RV_EPERM)) {
    /* a bad endpoint or refused credentials: restarting cannot help */
    rv_error("remote copy: cannot open %s: %s", s->cfg->ots_endpoint, res.message);
    rv_actor_stop(a, RV_EXIT_CONFIG);
    return;
  }
  repl_backend_result_t r = {.id = res.id, .rc = res.rc, .message = res.message, .meta = res.meta};
  repl_update_t u;
  repl_upload_backend_done(&s->core, &r, repl_actor_now_ms(), s_wall_ms(), &u);
  if (s->queued) {
    repl_op_t op = s->queued_op;
    s_submit(s, &op);
  }
  repl_actor_carry_out(s, &u);
}

/* ---- Raft's role -------------------------------------------------------------------------- */

static void s_raft_state(repl_actor_t *s, const Rv__RaftState *rs) {
  s->raft_known = true;
  snprintf(s->role, sizeof s->role, "%s", rs->role ? rs->role : "");
  s->term = rs->term;
  s->commit = rs->commit;
  if (s->recovery) return; /* nothing uploads while the cluster recovers */
  repl_update_t u;
  repl_upload_role(&s->core, strcmp(s->role, "leader") == 0, rs->term, repl_actor_now_ms(), &u);
  repl_actor_carry_out(s, &u);
}

static void s_on_tick(rv_actor_t *a, void *arg) {
  repl_actor_t *s = arg;
  int64_t now = repl_actor_now_ms();
  if (!s->raft_known && now - s->last_state_request_ms >= 1000) {
    Rv__RaftStateRequest q = RV__RAFT_STATE_REQUEST__INIT;
    rv_actor_send(a, "raft-peer", RV_MSG_RAFT_STATE_REQUEST, &q.base, 0);
    s->last_state_request_ms = now;
  }
  if (now < repl_upload_next_ms(&s->core)) return;
  repl_update_t u;
  repl_upload_tick(&s->core, now, &u);
  repl_actor_carry_out(s, &u);
}

/* ---- life cycle --------------------------------------------------------------------------- */

static int s_start(rv_actor_t *a, void *state, rv_err_t *err) {
  repl_actor_t *s = state;
  s->a = a;
  s->cfg = rv_actor_config(a);
  const cfg_node_t *cfg = s->cfg;
  if (!cfg->ots_enabled && !cfg->ots_recovery_mode)
    return rv_err_set(err, RV_ECONFIG, "%s: the ots-replicator runs only with ots.enabled or "
                      "ots.recovery-mode: set one, or remove the actor", cfg->source);
  s->recovery = cfg->ots_recovery_mode;
  repl_backend_cfg_t bc = {.endpoint = cfg->ots_endpoint,
                           .instance = cfg->ots_instance,
                           .access_key_id = cfg->ots_access_key_id,
                           .access_key_secret = cfg->ots_access_key_secret,
                           .cluster_id = cfg->cluster_id};
  int rc = repl_worker_new(&bc, &s->worker, err);
  if (rc) return rc;
  snprintf(s->describe, sizeof s->describe, "%s", cfg->ots_endpoint);
  repl_upload_init(&s->core, rv_random_u64() >> 1, repl_actor_now_ms());
  if (rv_actor_fd_add(a, repl_worker_fd(s->worker), s_on_worker, s) != 0 ||
      rv_actor_timer_add(a, S_TICK_MS, 0, s_on_tick, s) < 0)
    return rv_err_set(err, RV_EINTERNAL, "cannot poll the backend worker or add the timer");
  /* the recovery loader: loads in recovery mode (the uploader stays in standby, reading the
   * meta row only), else leaves a FINISHed recovery when this node leads */
  int rrc = repl_recover_new(a, cfg, !s->recovery, &s->recover, err);
  if (rrc) return rrc;
  if (s->recovery) {
    rv_info("recovery mode: the remote copy at %s is not uploaded to", cfg->ots_endpoint);
  } else {
    rv_info("remote copy at %s: waiting for Raft's role", cfg->ots_endpoint);
  }
  return RV_OK;
}

static void s_stop(rv_actor_t *a, void *state) {
  repl_actor_t *s = state;
  repl_recover_destroy(&s->recover);
  if (s->worker) rv_actor_fd_remove(a, repl_worker_fd(s->worker));
  repl_worker_destroy(&s->worker);
  repl_actor_page_free(s);
}

/* The cluster's epoch, once the loader's poll of kv-store gives it, to the upload core (its
 * fencing token is epoch << 32 | term: no claim before). Nothing uploads in recovery mode. */
static void s_epoch(repl_actor_t *s) {
  uint64_t epoch;
  if (s->recovery || !repl_recover_epoch(s->recover, &epoch)) return;
  repl_update_t u;
  repl_upload_epoch(&s->core, epoch, repl_actor_now_ms(), &u);
  repl_actor_carry_out(s, &u);
}

static void s_message(rv_actor_t *a, void *state, const rv_msg_t *m) {
  repl_actor_t *s = state;
  if (s->recover && repl_recover_message(s->recover, m)) {
    s_epoch(s);
    return;
  }
  switch (m->type) {
    case RV_MSG_RAFT_STATE: s_raft_state(s, (const Rv__RaftState *)m->body); break;
    case RV_MSG_REPL_CHANGES: repl_actor_kv_changes(s, m); break;
    case RV_MSG_REPL_BASE_COPY: repl_actor_kv_base(s, m); break;
    case RV_MSG_REPL_STATUS: repl_actor_kv_status(s, m); break;
    default: {
      char tb[32];
      rv_debug("ignored %s from %s", rv_msgtype_name(m->type, tb, sizeof tb), m->from.actor);
    }
  }
}

/* The health note `raftvisor status` shows: the replica's state in a few words. */
static bool s_health(rv_actor_t *a, void *state, char *reason, size_t len) {
  repl_actor_t *s = state;
  repl_upload_status_t st;
  repl_upload_status(&s->core, &st);
  if (s->recovery) {
    snprintf(reason, len, "recovery mode: not uploading; %s",
             s->recover ? repl_recover_describe(s->recover) : "no loader");
    return true;
  }
  /* an index of another epoch's copy counts another cluster's log: not ours to show */
  uint64_t synced = st.meta_ours ? st.meta.synced_index : 0;
  uint64_t lag = st.meta_known && s->commit > synced ? s->commit - synced : 0;
  char epoch[40] = "";
  if (st.epoch_known && st.epoch) snprintf(epoch, sizeof epoch, ", epoch %" PRIu64, st.epoch);
  char fold[64] = "";
  if (st.folding) /* a base copy done with its view, folding in what changed meanwhile */
    snprintf(fold, sizeof fold, " (folding in changes, at index %" PRIu64 ")", st.fold_index);
  snprintf(reason, len, "%s%s%s, synced_index %" PRIu64 ", lag %" PRIu64 " entries%s%s%.200s",
           st.active ? "uploading: " : "", st.state, fold, synced, lag, epoch,
           st.last_error[0] ? "; " : "", st.last_error);
  return true;
}

const rv_actor_def_t repl_actor_def = {.name = "ots-replicator",
                                       .start = s_start,
                                       .message = s_message,
                                       .stop = s_stop,
                                       .health = s_health};
