/* ha_failover: the failover controller (see ha_failover.h). Pure: libc only. */
#include "ha_failover.h"

#include <stdio.h>
#include <string.h>

void ha_failover_init(ha_failover_t *f, const char *from, const char *to, bool forcefence,
                      bool forceactive) {
  memset(f, 0, sizeof *f);
  snprintf(f->from, sizeof f->from, "%s", from);
  snprintf(f->to, sizeof f->to, "%s", to);
  f->forcefence = forcefence;
  f->forceactive = forceactive;
  f->phase = HA_FO_QUERY_TO;
  if (strcmp(f->from, f->to) == 0) {
    f->phase = HA_FO_DONE;
    snprintf(f->message, sizeof f->message, "Can't failover a service to itself");
  }
}

static void s_fail(ha_failover_t *f, const char *msg) {
  f->phase = HA_FO_DONE;
  f->ok = false;
  snprintf(f->message, sizeof f->message, "%s", msg);
}

ha_action_t ha_failover_next(const ha_failover_t *f) {
  switch (f->phase) {
    case HA_FO_QUERY_TO: return (ha_action_t){HA_ACT_QUERY, f->to, f->to};
    case HA_FO_QUERY_FROM: return (ha_action_t){HA_ACT_QUERY, f->from, f->from};
    case HA_FO_GRACEFUL: return (ha_action_t){HA_ACT_TRANSFER, f->to, f->leader};
    case HA_FO_FENCE: return (ha_action_t){HA_ACT_FENCE, f->from, f->to};
    case HA_FO_WAIT_LEADER: return (ha_action_t){HA_ACT_WAIT_LEADER, f->from, f->to};
    case HA_FO_ACTIVATE: return (ha_action_t){HA_ACT_TRANSFER, f->to, f->leader};
    case HA_FO_CONFIRM: return (ha_action_t){HA_ACT_WAIT_ACTIVE, f->to, f->to};
    case HA_FO_FAILBACK: return (ha_action_t){HA_ACT_TRANSFER, f->from, f->leader};
    default: return (ha_action_t){HA_ACT_DONE, NULL, NULL};
  }
}

/* After the pre-checks: graceful when FROM answers and no fence is forced, else fence first. */
static void s_begin(ha_failover_t *f) {
  if (f->forcefence || !f->vfrom.reachable) {
    f->phase = HA_FO_FENCE;
    return;
  }
  /* the leader hands over: FROM when it is active, else the leader FROM knows (FROM is then a
   * standby already, as Hadoop's transitionToStandby of a standby is a no-op) */
  const char *l = strcmp(f->vfrom.state, "active") == 0 ? f->from
                  : f->vfrom.leader[0]                   ? f->vfrom.leader
                                                         : f->vto.leader;
  if (!l[0]) {
    f->phase = HA_FO_WAIT_LEADER;
    return;
  }
  snprintf(f->leader, sizeof f->leader, "%s", l);
  f->phase = strcmp(f->leader, f->to) == 0 ? HA_FO_CONFIRM : HA_FO_GRACEFUL;
}

void ha_failover_query_done(ha_failover_t *f, const ha_view_t *v) {
  char msg[HA_TEXT_MAX * 2];
  switch (f->phase) {
    case HA_FO_QUERY_TO:
      f->vto = *v;
      if (!v->reachable) {
        snprintf(msg, sizeof msg, "Unable to get service state for %s", f->to);
        s_fail(f, msg);
      } else if (strcmp(v->state, "active") == 0) {
        s_fail(f, "Can't failover to an active service");
      } else if (!v->healthy) {
        snprintf(msg, sizeof msg, "Can't failover to an unhealthy service: %s", v->health_reason);
        s_fail(f, msg);
      } else {
        f->phase = HA_FO_QUERY_FROM;
      }
      return;
    case HA_FO_QUERY_FROM: {
      f->vfrom = *v;
      /* readiness: a voter, not too far behind the commit of the leader (FROM's, or TO's own) */
      uint64_t commit = v->reachable && v->commit > f->vto.commit ? v->commit : f->vto.commit;
      char why[HA_TEXT_MAX] = "";
      if (!f->vto.voter)
        snprintf(why, sizeof why, "it is not a voter of the Raft configuration");
      else if (f->vto.last_index + HA_READY_MAX_LAG < commit)
        snprintf(why, sizeof why, "its log ends at index %llu, %llu entries behind commit %llu",
                 (unsigned long long)f->vto.last_index,
                 (unsigned long long)(commit - f->vto.last_index), (unsigned long long)commit);
      if (why[0] && (!f->forceactive || !f->vto.voter)) {
        snprintf(msg, sizeof msg, "%s is not ready to become active: %s", f->to, why);
        s_fail(f, msg);
        return;
      }
      if (why[0])
        snprintf(f->warning, sizeof f->warning,
                 "Service is not ready to become active, but forcing: %.400s", why);
      s_begin(f);
      return;
    }
    case HA_FO_CONFIRM:
      if (v->reachable && strcmp(v->state, "active") == 0) {
        f->phase = HA_FO_DONE;
        f->ok = true;
        snprintf(f->message, sizeof f->message, "Failover from %s to %s successful", f->from,
                 f->to);
      } else {
        snprintf(msg, sizeof msg, "Unable to failover to %s: it is %s after the transfer",
                 f->to, v->reachable ? v->state : "unreachable");
        s_fail(f, msg);
      }
      return;
    default: return;
  }
}

void ha_failover_transfer_done(ha_failover_t *f, bool reachable, bool ok, const char *why,
                               const char *leader_after) {
  char msg[HA_TEXT_MAX * 2];
  const char *after = leader_after ? leader_after : "";
  if (f->phase == HA_FO_FAILBACK) {
    if (ok) snprintf(msg, sizeof msg, "Unable to failover to %s (%s)", f->to, f->failed);
    else snprintf(msg, sizeof msg, "Unable to failover to %s (%s). Failback to %s failed (%s)",
                  f->to, f->failed, f->from, why ? why : "no answer");
    s_fail(f, msg);
    return;
  }
  if (ok) {
    f->phase = HA_FO_CONFIRM;
    return;
  }
  snprintf(f->failed, sizeof f->failed, "%s", reachable && why ? why : "no answer");
  bool from_asked = f->phase == HA_FO_GRACEFUL && strcmp(f->leader, f->from) == 0;
  if (from_asked && !f->fenced && (!reachable || !after[0] || strcmp(after, f->from) == 0) &&
      (!reachable || strstr(f->failed, "not complete") || strstr(f->failed, "no answer"))) {
    /* FROM is unreachable or did not hand over in time: fence it, then make TO active */
    f->phase = HA_FO_FENCE;
    return;
  }
  if (!f->fenced && after[0] && strcmp(after, f->from) != 0 && strcmp(after, f->to) != 0) {
    /* a third node leads: fail back to FROM, which was active when we began */
    snprintf(f->leader, sizeof f->leader, "%s", after);
    f->phase = HA_FO_FAILBACK;
    return;
  }
  if (strcmp(after, f->to) == 0) { /* it went through after all */
    f->phase = HA_FO_CONFIRM;
    return;
  }
  snprintf(msg, sizeof msg, "Unable to failover to %s (%s)", f->to, f->failed);
  s_fail(f, msg);
}

void ha_failover_fence_done(ha_failover_t *f, bool fenced, const char *why) {
  char msg[HA_TEXT_MAX * 2];
  if (!fenced) {
    snprintf(msg, sizeof msg, "Unable to fence %s. Fencing failed.%s%s", f->from,
             why && why[0] ? " " : "", why ? why : "");
    s_fail(f, msg);
    return;
  }
  f->fenced = true;
  f->phase = HA_FO_WAIT_LEADER;
}

void ha_failover_leader_done(ha_failover_t *f, const char *leader) {
  char msg[HA_TEXT_MAX * 2];
  if (!leader || !leader[0] || (f->fenced && strcmp(leader, f->from) == 0)) {
    snprintf(msg, sizeof msg, "Unable to failover to %s (no leader was elected%s)", f->to,
             f->fenced ? " after fencing" : "");
    s_fail(f, msg);
    return;
  }
  snprintf(f->leader, sizeof f->leader, "%s", leader);
  f->phase = strcmp(leader, f->to) == 0 ? HA_FO_CONFIRM : HA_FO_ACTIVATE;
}

const char *ha_pick_successor(const char *const *ids, const ha_view_t *views, int n,
                              const char *from) {
  int best = -1;
  for (int i = 0; i < n; i++) {
    if (strcmp(ids[i], from) == 0 || !views[i].reachable || !views[i].healthy || !views[i].voter)
      continue;
    if (best < 0 || views[i].last_index > views[best].last_index) best = i;
  }
  return best < 0 ? NULL : ids[best];
}
