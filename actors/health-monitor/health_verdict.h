/* health_verdict: the node's verdict that means "can serve" (pure: libc only). It combines
 * health_core's per-actor verdicts (every actor answering, and each one's own verdict on itself:
 * raft-peer reports a failed or slow fsync, kv-store a failed or slow RocksDB write) with what
 * only the node as a whole shows:
 *   raft     a leader is known; on the leader, contact with a quorum of voters within the
 *            election timeout (the PeerProgress "active" flags, which the core clears every
 *            election timeout: the shell counts a peer seen active within two of them, 1 s min);
 *   apply    applied does not stay behind commit longer than apply-stall-ms;
 *   disk     free space on the data disk at least min-free-bytes;
 *   fence    a new leader is not waiting to fence its predecessor (it takes no writes then);
 *   replica  on the leader, with ots.max-lag-entries set: the off-cluster replica's lag behind
 *            the commit index under that bound (HEALTH_REPLICA_HOOK; from the ots-replicator's
 *            report, health_main.c). Not part of health_verdict_can_lead.
 * Every failing check names itself in the reason ("raft: no leader known; disk: 10 MB free on
 * the data disk, below 64 MB"); the verdict is healthy only when no check fails. Time is an
 * argument. */
#ifndef HEALTH_VERDICT_H
#define HEALTH_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "health_core.h"

/* Below this much free space on the data disk the node cannot count on its next write (the Raft
 * log's next segment, RocksDB's next WAL block or flush): it counts as unable to persist before
 * the write fails. A floor, not health.min-free-disk-mb: that one is a warning an operator sets
 * with room to spare, and a cluster whose every node is under it must still elect a leader. */
#define HEALTH_PERSIST_FLOOR_BYTES (1u << 20)

/* The thresholds (from health.* in the node's YAML). */
typedef struct {
  uint64_t min_free_bytes;  /* disk: below this is unhealthy; 0 = not checked */
  uint64_t apply_stall_us;  /* apply: behind commit without progress this long is unhealthy */
  uint64_t quorum_us;       /* raft: the election timeout (documentation; the flags carry it) */
} health_limits_t;

/* What the shell observed, at the time of the verdict. */
typedef struct {
  bool raft_known;          /* a RaftState has arrived from raft-peer */
  bool is_leader;
  bool leader_known;        /* some leader is known (this node or another) */
  bool member;              /* this node is a voter or learner of the configuration in force */
  int voters;               /* voters of the configuration in force (leader only) */
  int voters_active;        /* of them, in contact within the election timeout, self included */
  uint64_t commit, applied; /* this node's commit and applied indexes */
  bool disk_known;          /* statvfs of the data-dir succeeded */
  uint64_t disk_free_bytes; /* free to unprivileged users */
  const char *fence;        /* "" or the fence a new leader waits for (RaftState.fence) */
  bool replica_configured;  /* HEALTH_REPLICA_HOOK: judged (leader, ots.max-lag-entries > 0) */
  uint64_t replica_lag;     /* its lag in entries, when configured */
  uint64_t replica_max_lag;
} health_inputs_t;

/* Carried between verdicts: when applied last moved while it was behind commit. */
typedef struct {
  uint64_t applied;
  uint64_t since_us;
  bool set;
} health_stall_t;

/* The node's verdict at now: HEALTH_HEALTHY, HEALTH_UNKNOWN (an actor not checked yet and no
 * check failing), or HEALTH_UNHEALTHY; the reason (reason[len], "" when healthy) lists every
 * failing check in the order above, actors first. core is health_core after
 * health_core_evaluate; stall is updated. */
health_verdict_t health_verdict_decide(const health_core_t *core, const health_inputs_t *in,
                                       const health_limits_t *lim, health_stall_t *stall,
                                       uint64_t now_us, char *reason, size_t len);

/* Whether the node itself is fit to lead: no check fails but Raft's (which describes the cluster,
 * not the node: a follower with no leader must still campaign). Actors not checked yet do not
 * count against it. Reads stall as health_verdict_decide left it; call that first. */
bool health_verdict_can_lead(const health_core_t *core, const health_inputs_t *in,
                             const health_limits_t *lim, const health_stall_t *stall,
                             uint64_t now_us);

/* Whether this node can persist what Raft and the namespace must write: false, with the reason
 * in reason[len] ("" when true), when an actor's last pong said its writes to the data disk fail
 * (health_core_persist), or the data disk is known to have less than HEALTH_PERSIST_FLOOR_BYTES
 * free. Unlike health_verdict_can_lead, this does not depend on ha.automatic-failover: a node that
 * cannot persist must not campaign (a vote for itself must be durable before it is sent, and a
 * leader that cannot persist commits nothing); as leader it hands leadership away. */
bool health_verdict_can_persist(const health_core_t *core, const health_inputs_t *in,
                                char *reason, size_t len);

#endif
