/* lin_check: is a history linearizable with respect to a model?
 *
 * The search is Wing & Gong's (1993) with Lowe's memoization (2017, "Testing for
 * linearizability", section 4), as Porcupine and Knossos' "linear" checker do it:
 *  - the history becomes a doubly linked list of call and return entries in time order (calls
 *    before returns at equal times: they overlap);
 *  - walking the list from its head, a call entry is a candidate to linearize next: if the
 *    model accepts its output in the current state, the operation is "lifted" (its call and
 *    return leave the list) and the walk restarts; a return entry reached means its operation
 *    should already have been linearized, so the search backtracks (undo the last lift, try
 *    the next candidate after it);
 *  - a cache of (set of linearized operations, state) pairs already reached prunes every path
 *    that arrives somewhere explored before (two orders with the same operations and the same
 *    resulting state have the same future).
 * An operation that never returned has its return entry at the end of time: it is a candidate
 * from its call onwards, and reaching the first such return means every completed operation is
 * linearized, so the history is linearizable whether or not the rest took effect.
 * One reduction on top (sound, see s_search in lin_check.c): an operation without effect (a
 * read, a failed write; lin_model_t.no_effect) that fits the current state is linearized at
 * once, without trying the orders that put it later.
 *
 * The history is first split by the model's partition key (lin_model.h) and each partition is
 * searched alone, smallest first. The search is exponential in the worst case, so it runs
 * under a budget of model steps, cache memory and a caller-supplied stop test; when the budget
 * runs out the verdict is LIN_UNKNOWN, never a guess.
 *
 * Pure: libc and rv_common only. Time comes in through the stop callback; nothing here reads a
 * clock. */
#ifndef LIN_CHECK_H
#define LIN_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lin_history.h"
#include "lin_model.h"
#include "rv_error.h"

typedef enum {
  LIN_LINEARIZABLE = 0,     /* every partition has a linearization */
  LIN_NOT_LINEARIZABLE = 1, /* at least one partition has none */
  LIN_UNKNOWN = 2           /* no partition failed, but the budget ran out before all passed */
} lin_verdict_t;

/* The budget; zero-initialise for no limits. */
typedef struct {
  uint64_t max_steps;     /* model steps over the whole check; 0 = no limit */
  size_t max_cache_bytes; /* memo cache of one partition; 0 = no limit */
  /* Optional: polled every few thousand steps; returning true stops the check with
   * LIN_UNKNOWN. The CLI uses it for its wall-clock deadline. */
  bool (*should_stop)(void *ctx);
  void *stop_ctx;
} lin_check_opts_t;

/* The outcome. Caller owns (lin_result_destroy); indices refer to the history checked, and
 * key borrows from it, so the result must not outlive the history. */
typedef struct {
  lin_verdict_t verdict;
  size_t n_ops;            /* operations in the history */
  size_t n_searched;       /* operations searched (never-returned no-effect ones are dropped) */
  size_t n_partitions;     /* partitions in the history */
  size_t n_failed;         /* partitions found not linearizable */
  size_t n_unknown;        /* partitions not decided within the budget */
  uint64_t steps;          /* model steps taken in all */
  size_t cache_bytes;      /* the largest memo cache of one partition, in bytes */
  const char *why_unknown; /* LIN_UNKNOWN: "step budget", "memory budget" or "stopped";
                              static string, else NULL */

  /* Where it failed (LIN_NOT_LINEARIZABLE: the smallest failing partition) or, for
   * LIN_UNKNOWN, the partition being searched when the budget ran out. */
  const char *key; /* the partition key; NULL when the verdict is LIN_LINEARIZABLE */
  size_t key_ops;  /* operations in that partition */
  /* LIN_NOT_LINEARIZABLE only: the longest linearizable prefix the search found, as history
   * indices in linearization order (owned array), and then the operations that were candidates
   * to come next, none of which could (owned array); `blocking` is the completed operation
   * whose return ended that prefix: it had to be linearized before its return, and could not. */
  size_t *prefix, n_prefix;
  size_t *stuck, n_stuck;
  size_t blocking;

  /* Human-readable: `summary` is one line ("linearizable: 10000 ops in 100 partitions",
   * "NOT linearizable: ...", "unknown: budget exhausted ..."); `report` the failing partition
   * in detail (see lin_report_format), "" otherwise. Owned. */
  char *summary;
  char *report;
} lin_result_t;

/* Checks h against m within opts (NULL = no budget). On RV_OK, *out is a new result the caller
 * owns, whatever the verdict. Returns RV_ENOMEM (err set) when memory runs out outside the
 * cache budget, RV_EINVAL when the model is incomplete. h must have passed
 * lin_history_validate(h, m, ...) for the result to mean anything. */
int lin_check(const lin_history_t *h, const lin_model_t *m, const lin_check_opts_t *opts,
              lin_result_t **out, rv_err_t *err);

/* Frees r and what it owns, and nulls *r. Safe on NULL and twice. */
void lin_result_destroy(lin_result_t **r);

/* The verdict's name: "linearizable", "NOT linearizable", "unknown". Static. */
const char *lin_verdict_name(lin_verdict_t v);

#endif
