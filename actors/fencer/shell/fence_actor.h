/* fence_actor: the fencer actor's state and handlers (the I/O shell around fence_core); main.c
 * hands them to rv_actor_main. */
#ifndef FENCE_ACTOR_H
#define FENCE_ACTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg_node.h"
#include "fence_core.h"
#include "fence_methods.h"
#include "rv_actor.h"

typedef struct fence_proc fence_proc_t;

typedef struct {
  rv_actor_t *actor;
  const cfg_node_t *cfg;                      /* borrowed from the runtime */
  fence_method_t methods[FENCE_METHODS_MAX];  /* ha.fencing.methods, parsed */
  int nmethods;
  fence_core_t core;
  char dir[CFG_PATH_MAX + 32];                /* <data-dir>/fencer/requests */
  char known_hosts[CFG_PATH_MAX + 32];        /* sshfence's host keys, learnt on first use */
  char **cfg_env;                             /* the configuration as environment (owned) */
  uint64_t last_id;                           /* the last request id given (wall clock, us) */
  /* the method running, if any */
  fence_proc_t *proc;
  bool polled[3];                             /* pidfd, stdout, stderr registered in the loop */
  int timer_id;                               /* its timeout, 0 = none */
  int timeout_ms;
  bool timed_out;
  uint64_t started_ms;
  char prefix[96];                            /* "[PID 1234] fence.sh --...": its log lines */
} fence_actor_t;

int fence_actor_start(rv_actor_t *a, void *state, rv_err_t *err);
void fence_actor_message(rv_actor_t *a, void *state, const rv_msg_t *m);
void fence_actor_stop(rv_actor_t *a, void *state);

#endif
