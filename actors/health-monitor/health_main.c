/* raftvisor-health-monitor: pings every other actor of the node on an interval and reports the
 * per-actor and node verdicts to the supervisor (which `raftvisor status` shows). The logic is
 * health_core; this file is the actor's shell. */
#include <string.h>

#include "health_core.h"
#include "rv_actor.h"

typedef struct {
  health_core_t core;
} health_actor_t;

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
  rep.node_verdict = (Rv__HealthVerdict)h->core.node_verdict;
  rep.node_reason = h->core.node_reason;
  rep.n_actors = (size_t)n;
  rep.actors = ptrs;
  rv_actor_send(a, "supervisor", RV_MSG_HEALTH_REPORT, &rep.base, 0);
}

static void s_on_tick(rv_actor_t *a, void *arg) {
  health_actor_t *h = arg;
  uint64_t now = rv_mono_us();
  health_core_evaluate(&h->core, now);
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
  for (int i = 0; i < cfg->nactors; i++)
    if (strcmp(cfg->actors[i].name, rv_actor_name(a)) != 0) names[n++] = cfg->actors[i].name;
  health_core_init(&h->core, names, n, (uint64_t)cfg->health_ping_timeout_ms);
  if (rv_actor_timer_add(a, (unsigned)cfg->health_ping_interval_ms, 0, s_on_tick, h) < 0)
    return rv_err_set(err, RV_EINTERNAL, "cannot add the ping timer");
  return RV_OK;
}

static void s_message(rv_actor_t *a, void *state, const rv_msg_t *m) {
  health_actor_t *h = state;
  if (m->type != RV_MSG_HEALTH_PONG) return;
  const Rv__HealthPong *p = (const Rv__HealthPong *)m->body;
  health_core_pong(&h->core, m->from.actor, p->seq, p->healthy, p->reason, rv_mono_us());
}

int main(int argc, char **argv) {
  static health_actor_t state;
  const rv_actor_def_t def = {.name = "health-monitor", .start = s_start, .message = s_message};
  return rv_actor_main(argc, argv, &def, &state);
}
