/* raftvisor-health-monitor: pings every other actor of the node on an interval, watches the
 * raft-peer's published state and the data disk's free space, and reports the per-actor and
 * node verdicts to the supervisor (which `raftvisor status` shows) and to kv-store (which
 * answers `haadmin -checkHealth` from it). The logic is health_core and health_verdict; this
 * file is the actor's shell (clocks, statvfs, messages). */
#include <string.h>
#include <sys/statvfs.h>

#include "health_core.h"
#include "health_verdict.h"
#include "rv_actor.h"

typedef struct {
  health_core_t core;
  health_inputs_t in;     /* the latest observations */
  char fence[384];        /* in.fence points here */
  health_limits_t lim;
  health_stall_t stall;
  health_verdict_t node_verdict;
  char node_reason[1024];
  bool can_lead;          /* health_verdict_can_lead */
  char cannot_persist[512]; /* health_verdict_can_persist's reason: "" while the node can */
  struct {
    uint64_t id, at_us;   /* a peer's Raft id, when a RaftState last showed it active */
  } peer_seen[CFG_MAX_NODES];
  int npeer_seen;
  uint64_t contact_us;    /* the window: two election timeouts, at least 1 s */
  bool has_kv;            /* kv-store is one of the actors: it gets the reports too */
  bool has_raft;          /* raft-peer is: it gets them too (automatic failover) */
} health_actor_t;

/* Takes what the verdict needs from raft-peer's RaftState. */
static void s_raft_state(health_actor_t *h, const Rv__RaftState *rs) {
  health_inputs_t *in = &h->in;
  in->raft_known = true;
  in->is_leader = rs->role && strcmp(rs->role, "leader") == 0;
  in->leader_known = rs->leader != 0;
  in->member = !rs->membership || strcmp(rs->membership, "not-member") != 0;
  snprintf(h->fence, sizeof h->fence, "%s", rs->fence ? rs->fence : "");
  in->fence = h->fence;
  in->commit = rs->commit;
  /* without kv-store nothing applies (a Raft-only node): there is no apply to stall */
  in->applied = h->has_kv ? rs->applied : rs->commit;
  in->voters = (int)rs->n_voters;
  in->voters_active = 1; /* the leader itself */
  /* the core clears the flags at every check-quorum round and sets them again as answers come:
   * a peer counts as in contact when some state within the window showed it active */
  uint64_t now = rv_mono_us();
  for (size_t i = 0; i < rs->n_peers && i < CFG_MAX_NODES; i++) {
    const Rv__PeerProgress *pp = rs->peers[i];
    int k = -1;
    for (int j = 0; j < h->npeer_seen; j++)
      if (h->peer_seen[j].id == pp->id) k = j;
    if (k < 0 && h->npeer_seen < CFG_MAX_NODES) {
      k = h->npeer_seen++;
      h->peer_seen[k].id = pp->id;
      h->peer_seen[k].at_us = 0;
    }
    if (k < 0) continue;
    if (pp->active) h->peer_seen[k].at_us = now;
    if (!pp->learner && h->peer_seen[k].at_us && now - h->peer_seen[k].at_us <= h->contact_us)
      in->voters_active++;
  }
}

/* statvfs of the data-dir: bytes free to unprivileged users. */
static void s_disk(rv_actor_t *a, health_actor_t *h) {
  struct statvfs sv;
  h->in.disk_known = statvfs(rv_actor_config(a)->data_dir, &sv) == 0;
  if (h->in.disk_known) h->in.disk_free_bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
}

static void s_report(rv_actor_t *a, health_actor_t *h) {
  Rv__ActorHealth items[CFG_MAX_ACTORS], *ptrs[CFG_MAX_ACTORS + 1];
  Rv__ActorHealth self = RV__ACTOR_HEALTH__INIT;
  uint64_t wall = rv_wall_us();
  int n = 0;
  for (int i = 0; i < h->core.ntargets; i++, n++) {
    const health_target_t *t = &h->core.targets[i];
    rv__actor_health__init(&items[i]);
    items[i].actor = (char *)t->name;
    items[i].verdict = (Rv__HealthVerdict)t->verdict;
    items[i].reason = (char *)t->reason;
    items[i].rtt_us = t->rtt_us;
    items[i].checked_at_us = wall;
    ptrs[n] = &items[i];
  }
  /* the monitor vouches for itself by reporting at all */
  self.actor = (char *)rv_actor_name(a);
  self.verdict = RV__HEALTH_VERDICT__HEALTH_HEALTHY;
  self.reason = "";
  self.checked_at_us = wall;
  ptrs[n++] = &self;
  Rv__HealthReport rep = RV__HEALTH_REPORT__INIT;
  rep.node_verdict = (Rv__HealthVerdict)h->node_verdict;
  rep.node_reason = h->node_reason;
  rep.n_actors = (size_t)n;
  rep.actors = ptrs;
  rep.can_lead = h->can_lead;
  rep.cannot_persist = h->cannot_persist;
  rv_actor_send(a, "supervisor", RV_MSG_HEALTH_REPORT, &rep.base, 0);
  if (h->has_kv) rv_actor_send(a, "kv-store", RV_MSG_HEALTH_REPORT, &rep.base, 0);
  if (h->has_raft) rv_actor_send(a, "raft-peer", RV_MSG_HEALTH_REPORT, &rep.base, 0);
}

/* Recomputes the node's verdict at now; true when it (or its reason) changed. */
static bool s_decide(health_actor_t *h, uint64_t now) {
  health_verdict_t prev = h->node_verdict;
  char prev_reason[sizeof h->node_reason];
  memcpy(prev_reason, h->node_reason, sizeof prev_reason);
  h->node_verdict = health_verdict_decide(&h->core, &h->in, &h->lim, &h->stall, now,
                                          h->node_reason, sizeof h->node_reason);
  h->can_lead = health_verdict_can_lead(&h->core, &h->in, &h->lim, &h->stall, now);
  bool could = h->cannot_persist[0] == '\0';
  bool can = health_verdict_can_persist(&h->core, &h->in, h->cannot_persist,
                                        sizeof h->cannot_persist);
  if (could && !can) rv_warn("this node cannot persist: %s", h->cannot_persist);
  else if (!could && can) rv_info("this node can persist again");
  if (h->node_verdict != prev && h->node_verdict == HEALTH_UNHEALTHY)
    rv_warn("node unhealthy: %s", h->node_reason);
  else if (h->node_verdict != prev && h->node_verdict == HEALTH_HEALTHY)
    rv_info("node healthy");
  return h->node_verdict != prev || strcmp(prev_reason, h->node_reason) != 0 || could != can;
}

static void s_on_tick(rv_actor_t *a, void *arg) {
  health_actor_t *h = arg;
  uint64_t now = rv_mono_us();
  health_core_evaluate(&h->core, now);
  s_disk(a, h);
  s_decide(h, now);
  s_report(a, h);
  uint64_t seq = health_core_ping_round(&h->core, now);
  Rv__HealthPing ping = RV__HEALTH_PING__INIT;
  ping.seq = seq;
  for (int i = 0; i < h->core.ntargets; i++)
    rv_actor_send(a, h->core.targets[i].name, RV_MSG_HEALTH_PING, &ping.base, seq);
}

static int s_start(rv_actor_t *a, void *state, rv_err_t *err) {
  health_actor_t *h = state;
  const cfg_node_t *cfg = rv_actor_config(a);
  const char *names[CFG_MAX_ACTORS];
  int n = 0;
  for (int i = 0; i < cfg->nactors; i++) {
    if (strcmp(cfg->actors[i].name, rv_actor_name(a)) != 0) names[n++] = cfg->actors[i].name;
    if (strcmp(cfg->actors[i].name, "kv-store") == 0) h->has_kv = true;
  }
  health_core_init(&h->core, names, n, (uint64_t)cfg->health_ping_timeout_ms);
  h->lim.min_free_bytes = (uint64_t)cfg->health_min_free_disk_mb << 20;
  h->lim.apply_stall_us = (uint64_t)cfg->health_apply_stall_ms * 1000u;
  h->lim.quorum_us = (uint64_t)cfg->raft_tick_ms * (uint64_t)cfg->raft_election_ticks * 1000u;
  h->contact_us = 2 * h->lim.quorum_us > 1000000u ? 2 * h->lim.quorum_us : 1000000u;
  /* a node without raft-peer (a test node) has no Raft to judge */
  bool raft = false;
  for (int i = 0; i < cfg->nactors; i++)
    if (strcmp(cfg->actors[i].name, "raft-peer") == 0) raft = true;
  if (!raft) h->in = (health_inputs_t){.raft_known = true, .leader_known = true, .member = true};
  h->has_raft = raft;
  h->node_verdict = HEALTH_UNKNOWN;
  if (rv_actor_timer_add(a, (unsigned)cfg->health_ping_interval_ms, 0, s_on_tick, h) < 0)
    return rv_err_set(err, RV_EINTERNAL, "cannot add the ping timer");
  return RV_OK;
}

/* HEALTH_REPLICA_HOOK: the ots-replicator's report (every second, leader or not): on the leader,
 * with ots.max-lag-entries set, the remote copy's lag behind the commit index is judged. */
static void s_replica(rv_actor_t *a, health_actor_t *h, const Rv__ReplStatus *rs) {
  uint64_t max = (uint64_t)rv_actor_config(a)->ots_max_lag_entries;
  bool leader = rs->role && strcmp(rs->role, "LEADER") == 0;
  h->in.replica_configured = max > 0 && leader && rs->uploader;
  uint64_t synced = rs->uploader ? rs->uploader->synced_index : 0;
  h->in.replica_lag = rs->commit_index > synced ? rs->commit_index - synced : 0;
  h->in.replica_max_lag = max;
}

static void s_message(rv_actor_t *a, void *state, const rv_msg_t *m) {
  health_actor_t *h = state;
  if (m->type == RV_MSG_REPL_STATUS) {
    s_replica(a, h, (const Rv__ReplStatus *)m->body);
    return;
  }
  if (m->type == RV_MSG_RAFT_STATE) {
    /* a leader change shows at once, not at the next ping round (haadmin reads it right after
     * a transfer) */
    s_raft_state(h, (const Rv__RaftState *)m->body);
    if (h->node_verdict != HEALTH_UNKNOWN && s_decide(h, rv_mono_us())) s_report(a, h);
    return;
  }
  if (m->type != RV_MSG_HEALTH_PONG) return;
  const Rv__HealthPong *p = (const Rv__HealthPong *)m->body;
  health_core_pong(&h->core, m->from.actor, p->seq, p->healthy, p->reason, rv_mono_us());
  bool was = false;
  for (int i = 0; i < h->core.ntargets; i++)
    if (strcmp(h->core.targets[i].name, m->from.actor) == 0) was = h->core.targets[i].cannot_persist;
  health_core_persist(&h->core, m->from.actor, p->seq, p->cannot_persist);
  /* a write that starts or stops failing is reported at once, not at the next ping round: a
   * leader that cannot persist hands over sooner */
  if (was != p->cannot_persist && h->node_verdict != HEALTH_UNKNOWN) {
    s_decide(h, rv_mono_us());
    s_report(a, h);
  }
}

int main(int argc, char **argv) {
  static health_actor_t state;
  const rv_actor_def_t def = {.name = "health-monitor", .start = s_start, .message = s_message};
  return rv_actor_main(argc, argv, &def, &state);
}
