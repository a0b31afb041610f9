/* health_verdict: the node's "can serve" verdict from the actors' verdicts and the node's own
 * observations. Pure: libc only; see health_verdict.h for the checks. */
#include "health_verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Appends "; what: detail" (or the first "what: detail") to reason. */
static void s_add(char *reason, size_t len, const char *what, const char *fmt, ...) {
  size_t n = strlen(reason);
  if (n + 8 >= len) return;
  n += (size_t)snprintf(reason + n, len - n, "%s%s: ", n ? "; " : "", what);
  if (n >= len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason + n, len - n, fmt, ap);
  va_end(ap);
}

static void s_apply(const health_inputs_t *in, const health_limits_t *lim, health_stall_t *st,
                    uint64_t now_us, char *reason, size_t len) {
  if (!in->raft_known) return;
  if (in->applied >= in->commit || !st->set || in->applied != st->applied) {
    st->applied = in->applied;
    st->since_us = now_us;
    st->set = true;
    return;
  }
  uint64_t behind = now_us - st->since_us;
  if (behind > lim->apply_stall_us)
    s_add(reason, len, "apply", "stalled at index %llu behind commit %llu for %llu ms",
          (unsigned long long)in->applied, (unsigned long long)in->commit,
          (unsigned long long)(behind / 1000u));
}

health_verdict_t health_verdict_decide(const health_core_t *core, const health_inputs_t *in,
                                       const health_limits_t *lim, health_stall_t *stall,
                                       uint64_t now_us, char *reason, size_t len) {
  reason[0] = '\0';
  bool unknown = false;
  for (int i = 0; i < core->ntargets; i++) {
    const health_target_t *t = &core->targets[i];
    if (t->verdict == HEALTH_UNKNOWN)
      unknown = true;
    else if (t->verdict != HEALTH_HEALTHY)
      s_add(reason, len, t->name, "%s", t->reason);
  }
  if (!in->raft_known) {
    s_add(reason, len, "raft", "no state from raft-peer yet");
  } else if (!in->member) {
    s_add(reason, len, "raft", "this node is not a member of the configuration");
  } else if (!in->leader_known) {
    s_add(reason, len, "raft", "no leader known");
  } else if (in->is_leader && in->voters_active * 2 <= in->voters) {
    s_add(reason, len, "raft", "leader in contact with %d of %d voters in the last two election "
          "timeouts, no quorum", in->voters_active, in->voters);
  }
  s_apply(in, lim, stall, now_us, reason, len);
  if (lim->min_free_bytes) {
    if (!in->disk_known)
      s_add(reason, len, "disk", "free space of the data disk unknown");
    else if (in->disk_free_bytes < lim->min_free_bytes)
      s_add(reason, len, "disk", "%llu MB free on the data disk, below %llu MB",
            (unsigned long long)(in->disk_free_bytes >> 20),
            (unsigned long long)(lim->min_free_bytes >> 20));
  }
  if (in->fence && in->fence[0]) s_add(reason, len, "fence", "%s", in->fence);
  /* HEALTH_REPLICA_HOOK: the off-cluster replica's lag, from the ots-replicator's report, on
   * the leader when ots.max-lag-entries is set (health_main.c); never in health_verdict_can_lead:
   * a slow remote store is no reason to move leadership (the next leader would upload to it
   * too). */
  if (in->replica_configured && in->replica_lag > in->replica_max_lag)
    s_add(reason, len, "replica", "the remote copy is %llu entries behind, over %llu",
          (unsigned long long)in->replica_lag, (unsigned long long)in->replica_max_lag);
  if (reason[0]) return HEALTH_UNHEALTHY;
  if (unknown) {
    snprintf(reason, len, "not every actor checked yet");
    return HEALTH_UNKNOWN;
  }
  return HEALTH_HEALTHY;
}

bool health_verdict_can_lead(const health_core_t *core, const health_inputs_t *in,
                             const health_limits_t *lim, const health_stall_t *stall,
                             uint64_t now_us) {
  for (int i = 0; i < core->ntargets; i++)
    if (core->targets[i].verdict != HEALTH_UNKNOWN && core->targets[i].verdict != HEALTH_HEALTHY)
      return false;
  if (in->raft_known && in->applied < in->commit && stall->set &&
      now_us - stall->since_us > lim->apply_stall_us)
    return false;
  if (lim->min_free_bytes && (!in->disk_known || in->disk_free_bytes < lim->min_free_bytes))
    return false;
  return true;
}

bool health_verdict_can_persist(const health_core_t *core, const health_inputs_t *in,
                                char *reason, size_t len) {
  reason[0] = '\0';
  for (int i = 0; i < core->ntargets; i++) {
    const health_target_t *t = &core->targets[i];
    if (t->cannot_persist)
      s_add(reason, len, t->name, "%s", t->reason[0] ? t->reason : "its writes fail");
  }
  if (in->disk_known && in->disk_free_bytes < HEALTH_PERSIST_FLOOR_BYTES)
    s_add(reason, len, "disk", "%llu bytes free on the data disk; the next write needs up to %u",
          (unsigned long long)in->disk_free_bytes, HEALTH_PERSIST_FLOOR_BYTES);
  return reason[0] == '\0';
}
