/* kv_recover: kv-store's side of the recovery of a new cluster (messages/recovery.proto): the
 * loader (the leader's ots-replicator) sends RecoveryCommand; kv-store encodes it as one log
 * entry (core/kv_recovery.h), proposes it like a client write (same request table, same
 * batching, same deadline) and answers RecoveryAnswer once it is applied, with the replicated
 * state after it. RECOVERY_STATE is answered at once from the applied state. The loader's rate
 * and ETA ride on its commands and are shown in ReplStatus.recovery. I/O shell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_actor_int.h"
#include "rv_log.h"

#define S_RATE_FRESH_MS 5000 /* a loader's rate older than this is shown as 0 */

/* The replicated state as the ReplStatus / RecoveryAnswer field; strings borrow from st. */
static void s_progress_pb(kv_actor_t *s, const kv_recovery_t *st, Rv__RecoveryProgress *p) {
  rv__recovery_progress__init(p);
  p->state = (char *)kv_recovery_phase_name(st->phase);
  p->rows = st->rows;
  p->bytes = st->bytes;
  p->rows_total = st->rows_total;
  p->bytes_total = st->bytes_total;
  p->source_synced_index = st->source_synced_index;
  p->source_cluster = (char *)st->source_cluster;
  p->source_generation = st->source_generation;
  p->epoch = st->epoch;
  if (st->phase == KV_RECOVERY_RUNNING && s->rec_rate_ms &&
      kv_now_ms() - s->rec_rate_ms < S_RATE_FRESH_MS) {
    p->rate_rows_s = s->rec_rate;
    p->eta_s = s->rec_eta;
  }
}

void kv_recover_status_pb(kv_actor_t *s, Rv__RecoveryProgress *p) {
  if (s->core) kv_core_recovery(s->core, &s->rec_shown);
  else memset(&s->rec_shown, 0, sizeof s->rec_shown);
  s_progress_pb(s, &s->rec_shown, p);
}

static void s_answer(kv_actor_t *s, const rv_msg_t *env, int code, const char *msg,
                     uint64_t index) {
  Rv__RecoveryAnswer a = RV__RECOVERY_ANSWER__INIT;
  Rv__RecoveryProgress p;
  kv_recover_status_pb(s, &p);
  a.code = (uint32_t)code;
  a.message = (char *)msg;
  a.progress = &p;
  a.cursor.data = s->rec_shown.cursor;
  a.cursor.len = s->rec_shown.cursor_len;
  a.index = index;
  a.leader = s->leader;
  a.applied = s->applied;
  a.phase = s->rec_shown.phase;
  a.state_known = s->core != NULL;
  if (rv_actor_reply(s->a, env, RV_MSG_RECOVERY_ANSWER, &a.base) != RV_OK)
    rv_warn("recovery: %s does not take the answer", env->from.actor);
}

void kv_recover_fail(kv_actor_t *s, kv_req_t *r, int code, const char *msg) {
  s_answer(s, &r->env, code, msg, 0);
}

void kv_recover_applied(kv_actor_t *s, kv_req_t *r, const kv_result_t *res) {
  if (res->code && res->code != RV_ESTALE)
    rv_warn("recovery: %s", res->msg);
  else if (r->op_kind == RV__RECOVERY_COMMAND__KIND__RECOVERY_BEGIN ||
           r->op_kind == RV__RECOVERY_COMMAND__KIND__RECOVERY_FINISH ||
           r->op_kind == RV__RECOVERY_COMMAND__KIND__RECOVERY_LEAVE) {
    kv_recovery_t st;
    kv_core_recovery(s->core, &st);
    rv_info("recovery: %s applied at index %llu%s: state %s, %llu rows loaded from cluster "
            "\"%s\" generation %llu; this cluster's epoch %llu",
            kv_op_name(res->op), (unsigned long long)res->index,
            res->skipped ? " (no change)" : "", st.phase ? kv_recovery_phase_name(st.phase) : "none",
            (unsigned long long)st.rows, st.source_cluster,
            (unsigned long long)st.source_generation, (unsigned long long)st.epoch);
  }
  s_answer(s, &r->env, res->code, res->msg, res->index);
}

/* Encodes q as a command into out. */
static int s_encode(const Rv__RecoveryCommand *q, kv_buf_t *out, rv_err_t *err) {
  int64_t now = (int64_t)(rv_wall_us() / 1000);
  switch (q->kind) {
    case RV__RECOVERY_COMMAND__KIND__RECOVERY_BEGIN: {
      kv_recovery_begin_t b = {.cluster = q->source_cluster,
                               .generation = q->source_generation,
                               .synced_index = q->source_synced_index,
                               .rows_total = q->rows_total,
                               .bytes_total = q->bytes_total,
                               .source_term = q->source_term};
      return kv_recovery_encode_begin(&b, now, out, err);
    }
    case RV__RECOVERY_COMMAND__KIND__RECOVERY_ROWS: {
      kv_recovery_row_t *rows = calloc(q->n_rows ? q->n_rows : 1, sizeof *rows);
      if (!rows) return rv_err_set(err, RV_ENOMEM, "recovery-rows: out of memory");
      for (size_t i = 0; i < q->n_rows; i++) {
        rows[i].key = (kv_bytes_t){q->rows[i]->key.data, q->rows[i]->key.len};
        rows[i].val = (kv_bytes_t){q->rows[i]->value.data, q->rows[i]->value.len};
      }
      int rc = kv_recovery_encode_rows(q->after.data, q->after.len, rows, q->n_rows, now, out, err);
      free(rows);
      return rc;
    }
    case RV__RECOVERY_COMMAND__KIND__RECOVERY_FINISH:
      return kv_recovery_encode_finish(q->after.data, q->after.len, now, out, err);
    case RV__RECOVERY_COMMAND__KIND__RECOVERY_LEAVE: return kv_recovery_encode_leave(now, out, err);
    default: return rv_err_set(err, RV_EINVAL, "recovery: unknown command kind %d", (int)q->kind);
  }
}

void kv_recover_command(kv_actor_t *s, const rv_msg_t *m) {
  const Rv__RecoveryCommand *q = (const Rv__RecoveryCommand *)m->body;
  if (q->rate_rows_s > 0 || q->eta_s > 0) {
    s->rec_rate = q->rate_rows_s;
    s->rec_eta = q->eta_s;
    s->rec_rate_ms = kv_now_ms();
  }
  char msg[KV_MSG_MAX];
  if (q->kind == RV__RECOVERY_COMMAND__KIND__RECOVERY_STATE) {
    s_answer(s, m, RV_OK, "", 0);
    return;
  }
  if (!s->core || !s->attached) {
    snprintf(msg, sizeof msg, "recovery: kv-store on %s is not connected to its raft-peer yet",
             s->cfg->node_id);
    s_answer(s, m, RV_EUNAVAIL, msg, 0);
    return;
  }
  if (!s->leader) {
    snprintf(msg, sizeof msg, "recovery: %s is not the leader (%s is)", s->cfg->node_id,
             s->leader_node[0] ? s->leader_node : "none known");
    s_answer(s, m, RV_ENOTLEADER, msg, 0);
    return;
  }
  static const int ops[] = {[RV__RECOVERY_COMMAND__KIND__RECOVERY_BEGIN] = KV_OP_RECOVERY_BEGIN,
                            [RV__RECOVERY_COMMAND__KIND__RECOVERY_ROWS] = KV_OP_RECOVERY_ROWS,
                            [RV__RECOVERY_COMMAND__KIND__RECOVERY_FINISH] = KV_OP_RECOVERY_FINISH,
                            [RV__RECOVERY_COMMAND__KIND__RECOVERY_LEAVE] = KV_OP_RECOVERY_LEAVE};
  int op = (size_t)q->kind < sizeof ops / sizeof ops[0] ? ops[q->kind] : 0;
  char why[KV_MSG_MAX - 32];
  int frc = op ? kv_feature_admit(s, op, why, sizeof why) : RV_OK;
  if (frc) { /* the loader waits and asks again */
    snprintf(msg, sizeof msg, "%s %s", kv_op_name(op), why);
    s_answer(s, m, frc, msg, 0);
    return;
  }
  if (q->kind == RV__RECOVERY_COMMAND__KIND__RECOVERY_LEAVE)
    rv_info("recovery: leave requested (%s)", q->reason[0] ? q->reason : "no reason given");
  rv_err_t err;
  kv_req_t *r = kv_req_new(s, KV_REQ_WRITE, NULL, m, kv_now_ms() + KV_WRITE_DEADLINE_MS, &err);
  if (!r) {
    s_answer(s, m, RV_EBUSY, "recovery: kv-store is out of memory", 0);
    return;
  }
  int rc = s_encode(q, &r->cmd, &err);
  if (rc) {
    s_answer(s, m, rc, err.msg, 0);
    kv_req_done(s, r);
    return;
  }
  if (kv_req_queue(s, r)) kv_clients_flush(s); /* one proposal per command: they are big */
}
