/* ha_failover: `haadmin -failover FROM TO` as a pure state machine (libc only), after Hadoop's
 * FailoverController mapped onto Raft. The shell asks what to do (ha_failover_next), does it
 * against the nodes (over their client ports) and feeds the outcome back (ha_failover_*_done);
 * unit tests drive it with fake nodes. The branches:
 *   pre-checks (preFailoverChecks): FROM == TO "Can't failover a service to itself"; TO
 *     unreachable "Unable to get service state for TO"; TO active "Can't failover to an active
 *     service"; TO unhealthy "Can't failover to an unhealthy service" (even with --forceactive);
 *     TO not ready (not a voter, or its log more than HA_READY_MAX_LAG entries behind the
 *     leader's commit) "TO is not ready to become active: why" unless --forceactive;
 *   graceful: the leader (FROM when it is active) transfers leadership to TO; success when TO
 *     then answers active;
 *   fence: when FROM is unreachable, does not hand over in time, or --forcefence (which fences
 *     before any transfer, so that TO never becomes active unless FROM is fenced), TO's fencer
 *     runs the methods against FROM; none succeeds: "Unable to fence FROM. Fencing failed.", TO
 *     not made active; fenced: wait for a leader, and have it transfer to TO;
 *   fail back: the transfer failed and a third node leads: it transfers back to FROM (unless FROM
 *     was fenced); "Unable to failover to TO" (+ ". Failback to FROM failed (why)").
 * All texts follow Hadoop's, which operators' scripts grep. */
#ifndef HA_FAILOVER_H
#define HA_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HA_ID_MAX 64
#define HA_TEXT_MAX 512
/* A TO further behind the leader's commit than this (entries) is not ready to become active. */
#define HA_READY_MAX_LAG 10000

/* What a node says about itself (HaReply), as the shell got it. */
typedef struct {
  bool reachable;            /* it answered */
  char state[16];            /* active, standby, initializing */
  char leader[HA_ID_MAX];    /* the leader it knows, "" = none */
  bool healthy;
  char health_reason[HA_TEXT_MAX];
  bool voter;
  uint64_t commit, last_index;
} ha_view_t;

typedef enum {
  HA_ACT_QUERY,        /* get node's view: ha_failover_query_done */
  HA_ACT_TRANSFER,     /* ask node `via` (the leader) to transfer leadership to `node`:
                          ha_failover_transfer_done */
  HA_ACT_FENCE,        /* ask node `via`'s fencer to fence `node`: ha_failover_fence_done */
  HA_ACT_WAIT_LEADER,  /* poll `via` until it knows a leader other than `node` (or a deadline):
                          ha_failover_leader_done */
  HA_ACT_WAIT_ACTIVE,  /* poll `node` until it answers active (or a deadline; a new leader's
                          kv-store hears of its leadership a moment after its peers do):
                          ha_failover_query_done with the last view */
  HA_ACT_DONE          /* finished: ha_failover_t.ok, .message */
} ha_act_kind_t;

typedef struct {
  ha_act_kind_t kind;
  const char *node;    /* borrowed from the controller */
  const char *via;
} ha_action_t;

typedef enum {
  HA_FO_QUERY_TO, HA_FO_QUERY_FROM, HA_FO_GRACEFUL, HA_FO_FENCE, HA_FO_WAIT_LEADER,
  HA_FO_ACTIVATE, HA_FO_CONFIRM, HA_FO_FAILBACK, HA_FO_DONE
} ha_fo_phase_t;

typedef struct {
  char from[HA_ID_MAX], to[HA_ID_MAX];
  bool forcefence, forceactive;
  ha_fo_phase_t phase;
  ha_view_t vfrom, vto;
  bool fenced;               /* FROM was fenced */
  char leader[HA_ID_MAX];    /* the leader to ask for the next transfer */
  char failed[HA_TEXT_MAX];  /* why TO could not be made active, for the fail back */
  bool ok;                   /* when done: TO is active */
  char message[HA_TEXT_MAX * 2]; /* when done: "Failover from FROM to TO successful", or why not */
  char warning[HA_TEXT_MAX]; /* a forced not-ready TO, for the log; "" = none */
} ha_failover_t;

/* Starts a failover from -> to (copied). */
void ha_failover_init(ha_failover_t *f, const char *from, const char *to, bool forcefence,
                      bool forceactive);

/* What the shell must do now. Strings are borrowed from f until its next call. */
ha_action_t ha_failover_next(const ha_failover_t *f);

/* The outcome of HA_ACT_QUERY for node (v->reachable false when it did not answer). */
void ha_failover_query_done(ha_failover_t *f, const ha_view_t *v);
/* The outcome of HA_ACT_TRANSFER: ok, why not, and the leader the asked node knows afterwards
 * ("" = none, or it did not answer: reachable false). */
void ha_failover_transfer_done(ha_failover_t *f, bool reachable, bool ok, const char *why,
                               const char *leader_after);
/* The outcome of HA_ACT_FENCE. */
void ha_failover_fence_done(ha_failover_t *f, bool fenced, const char *why);
/* The outcome of HA_ACT_WAIT_LEADER: the leader, or "" when none came by the deadline. */
void ha_failover_leader_done(ha_failover_t *f, const char *leader);

/* -transitionToStandby's choice: among n views (ids[i], views[i]) other than `from`, the
 * healthy voter with the longest log; NULL when none. Borrowed from ids. */
const char *ha_pick_successor(const char *const *ids, const ha_view_t *views, int n,
                              const char *from);

#endif
