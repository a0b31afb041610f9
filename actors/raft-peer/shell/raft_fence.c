/* raft_fence: a new leader fences the previous one before it takes writes (I/O shell). Raft
 * already keeps a deposed leader from committing; fencing is for what Raft does not cover (a
 * deposed leader still answering stale reads from its lease, or still writing to the
 * off-cluster replica), and it is what an HDFS operator configured ha.fencing.methods for. When
 * this node becomes leader after a leader that left without handing over (crash, hang,
 * partition: no TimeoutNow from it for this term) and methods are configured, it asks its
 * fencer to fence that node, publishes "fencing ..." in its RaftState (kv-store refuses writes
 * with a retriable error meanwhile, reads go on; the health verdict names it), and retries with
 * backoff (1 s doubling to 30 s) until a method succeeds or it stops leading. A handover
 * (`raft transfer`, haadmin, automatic failover) fences nothing; no methods, nothing waits. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "raft_peer_int.h"

#define S_BACKOFF_MIN_MS 1000
#define S_BACKOFF_MAX_MS 30000

static int64_t s_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void raft_fence_timeout_now(raft_peer_t *p, raft_id_t from, uint64_t term) {
  p->fence.handover_from = from;
  p->fence.handover_term = term;
}

static void s_text(raft_peer_t *p, const char *fmt, const char *detail) {
  snprintf(p->fence.text, sizeof p->fence.text, fmt, raft_peer_node_name(p, p->fence.target),
           detail);
}

void raft_fence_role_changed(raft_peer_t *p, raft_soft_state_t old) {
  raft_fence_t *f = &p->fence;
  if (p->soft.leader && p->soft.leader != p->self) f->last_leader = p->soft.leader;
  if (old.role == RAFT_LEADER && p->soft.role != RAFT_LEADER && f->pending) {
    rv_info("fence of %s abandoned: this node no longer leads", raft_peer_node_name(p, f->target));
    f->pending = false;
    f->text[0] = '\0';
  }
  if (old.role == RAFT_LEADER || p->soft.role != RAFT_LEADER) return;
  raft_id_t prev = f->last_leader;
  bool handover = prev && f->handover_from == prev && f->handover_term + 1 == p->term;
  if (!prev || handover || p->cfg->nfence_methods == 0) {
    if (prev && !handover)
      rv_info("leader after %s, which left without handing over; no fencing methods configured, "
              "so nothing to wait for (Raft keeps a deposed leader from committing)",
              raft_peer_node_name(p, prev));
    return;
  }
  *f = (raft_fence_t){.last_leader = prev, .pending = true, .target = prev, .term = p->term,
                      .next_try_ms = s_now_ms()};
  s_text(p, "fencing %s (the previous leader left without handing over): writes wait%s", "");
  rv_warn("leader in term %llu after %s, which left without handing over: fencing it before "
          "taking writes", (unsigned long long)p->term, raft_peer_node_name(p, prev));
}

void raft_fence_tick(raft_peer_t *p) {
  raft_fence_t *f = &p->fence;
  if (!f->pending || f->in_flight || s_now_ms() < f->next_try_ms) return;
  Rv__FenceRequest q = RV__FENCE_REQUEST__INIT;
  char reason[96];
  snprintf(reason, sizeof reason, "new leader in term %llu", (unsigned long long)f->term);
  q.target = (char *)raft_peer_node_name(p, f->target);
  q.reason = reason;
  f->corr = rv_random_u64();
  if (rv_actor_send(p->a, "fencer", RV_MSG_FENCE_REQUEST, &q.base, f->corr) != RV_OK) {
    f->next_try_ms = s_now_ms() + S_BACKOFF_MIN_MS;
    s_text(p, "fencing %s: %s; retrying", "the fencer is not running");
    return;
  }
  f->in_flight = true;
  f->attempts++;
}

void raft_fence_result(raft_peer_t *p, const rv_msg_t *m) {
  raft_fence_t *f = &p->fence;
  const Rv__FenceResult *r = (const Rv__FenceResult *)m->body;
  if (!f->in_flight || m->corr_id != f->corr) return;
  f->in_flight = false;
  if (!f->pending) return;
  if (r->fenced) {
    rv_info("fenced %s (attempt %d): taking writes", raft_peer_node_name(p, f->target),
            f->attempts);
    /* the remote copy's fence is this term's claim by this node's ots-replicator, made when it
     * learnt it leads (FENCE_REMOTE_TERM_HOOK in fence_actor.c) */
    f->pending = false;
    f->text[0] = '\0';
  } else {
    int backoff = S_BACKOFF_MIN_MS;
    for (int k = 1; k < f->attempts && backoff < S_BACKOFF_MAX_MS; k++) backoff *= 2;
    if (backoff > S_BACKOFF_MAX_MS) backoff = S_BACKOFF_MAX_MS;
    f->next_try_ms = s_now_ms() + backoff;
    char detail[300];
    snprintf(detail, sizeof detail, "attempt %d failed (%.200s); writes wait, next attempt in %d "
             "ms", f->attempts, r->message ? r->message : "", backoff);
    s_text(p, "fencing %s: %s", detail);
    rv_warn("%s", f->text);
  }
}
