/* sup_metrics: what the node's HTTP server answers, made from what the supervisor already holds
 * (its children's states and exits, each actor's runtime counters from its HeartbeatAcks, the
 * health-monitor's last HealthReport, the raft-peer's last RaftState, kv-store's last KvStats,
 * FenceAttempts it saw):
 *   /metrics  the Prometheus text format 0.0.4, names raftvisor_<subsystem>_<what>[_total|_seconds]
 *   /health   200 {"healthy":true,...} only when the node can serve; else 503 with the failing
 *             checks (sup_health_verdict: the one function that decides)
 *   /ready    200 once every actor has started (the node is up), else 503
 * Renders into heap text; reads only the view it is given (no I/O). */
#ifndef SUP_METRICS_H
#define SUP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg_node.h"
#include "rv_mailbox.h"
#include "rv_msgtypes.h"
#include "sup_core.h"

#define SUP_METRICS_FENCE_MAX 32 /* distinct (method, outcome) pairs counted */

/* Per actor, kept by the supervisor beside sup_core's child. */
typedef struct {
  rv_mailbox_stats_t mb;  /* from its last HeartbeatAck (since its process started) */
  uint64_t loop_lag_us;   /* worst timer lateness reported by its last HeartbeatAck */
  int last_status;        /* waitpid status of its last exit */
  bool exited;            /* last_status is set */
} sup_actor_metrics_t;

/* FenceAttempts seen by this supervisor (those of fences it relayed), by method and outcome. */
typedef struct {
  char method[64];
  char outcome[16];
  uint64_t count;
} sup_fence_count_t;

/* Everything the answers are made from; every pointer borrowed for one call. */
typedef struct {
  const cfg_node_t *cfg;
  const sup_core_t *core;
  const sup_actor_metrics_t *actors;   /* [core->nchildren] */
  const Rv__HealthReport *health;      /* NULL: none yet */
  bool health_fresh;                   /* the report is recent (the monitor is reporting) */
  const Rv__RaftState *raft;           /* NULL: none yet, or no raft-peer */
  const Rv__KvStats *kv;               /* NULL: none yet, or no kv-store */
  const Rv__ReplStatus *repl;          /* the ots-replicator's report; NULL: none, or no replica */
  rv_mailbox_stats_t supervisor_mb;
  uint64_t uptime_ms;
  uint64_t leader_changes;             /* leader changes seen in RaftStates since start */
  const sup_fence_count_t *fences;
  int nfences;
  uint64_t http_requests;
} sup_metrics_view_t;

/* The Prometheus exposition of v. Returns heap text (caller frees) and its length, or NULL when
 * out of memory. */
char *sup_metrics_render(const sup_metrics_view_t *v, size_t *len);

/* Writes the _bucket, _sum and _count samples of h (common/rv_hist.h's bounds, cumulated here)
 * as name, with labels "" or "op=\"mkdir\"," (note the trailing comma). */
void sup_metrics_histogram(FILE *f, const char *name, const char *labels, const Rv__Histogram *h);

/* Can this node serve? The one verdict behind GET /health: every actor running (or ended
 * cleanly, as a transient or temporary one may), the health-monitor (when configured) reporting
 * the node healthy, and, with raft-peer, a leader known, no Raft fault, this node a member. (HA's verdict replaces this function's body when it
 * exists.) Returns true if so; *json (heap, caller frees) lists every check with ok and reason. */
bool sup_health_verdict(const sup_metrics_view_t *v, char **json, size_t *len);

/* Up: every actor started and the node not stopping. *json as above. */
bool sup_ready_verdict(const sup_metrics_view_t *v, char **json, size_t *len);

#endif
