/* health_core: the health-monitor's pure core. It decides, from pings sent and pongs received
 * (time as an argument, in µs), each actor's verdict and the node's:
 *   healthy         the last ping was answered and the actor says it is well (a note it gives,
 *                   such as kv-store's change-log backlog, is kept as its reason for status);
 *   unhealthy       it answered, but reports a problem (its reason is kept);
 *   not responding  a ping has waited longer than the ping timeout (a hung or dead process);
 *   unknown         not pinged yet.
 * The node is healthy when every actor is; otherwise its verdict is the worst actor's, with a
 * reason naming that actor. No sockets, clocks or files inside. */
#ifndef HEALTH_CORE_H
#define HEALTH_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg_node.h"

typedef enum {
  HEALTH_UNKNOWN = 0,
  HEALTH_HEALTHY = 1,
  HEALTH_UNHEALTHY = 2,
  HEALTH_NOT_RESPONDING = 3
} health_verdict_t;

typedef struct {
  char name[CFG_ID_MAX + 1];
  uint64_t last_seq;          /* seq of the last ping sent */
  uint64_t last_sent_us;      /* when it was sent */
  bool waiting;               /* a ping is unanswered */
  uint64_t waiting_since_us;  /* send time of the oldest unanswered ping, when waiting */
  uint64_t rtt_us;            /* round trip of the last answered ping */
  health_verdict_t verdict;
  char reason[256];
  bool cannot_persist;        /* its last pong said its writes to the data disk fail; kept while
                                 it does not answer (an actor restarted over and over by a full
                                 disk says nothing new) */
} health_target_t;

typedef struct {
  health_target_t targets[CFG_MAX_ACTORS];
  int ntargets;
  uint64_t timeout_us;
  uint64_t seq;
  health_verdict_t node_verdict;
  char node_reason[320];
} health_core_t;

/* Watches the n actors named in names (copied), with the given ping timeout. */
void health_core_init(health_core_t *h, const char *const *names, int n, uint64_t timeout_ms);

/* Starts a ping round at now: returns the seq that every target's ping must carry. */
uint64_t health_core_ping_round(health_core_t *h, uint64_t now_us);

/* Records a pong from actor name for ping seq. Unknown names and stale seqs are ignored. */
void health_core_pong(health_core_t *h, const char *name, uint64_t seq, bool healthy,
                      const char *reason, uint64_t now_us);

/* Records what the pong from actor name for ping seq said of its writes (HealthPong
 * .cannot_persist); the same checks as health_core_pong. */
void health_core_persist(health_core_t *h, const char *name, uint64_t seq, bool cannot_persist);

/* Recomputes every verdict and the node's at now. */
void health_core_evaluate(health_core_t *h, uint64_t now_us);

#endif
