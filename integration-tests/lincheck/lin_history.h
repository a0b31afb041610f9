/* lin_history: a recorded history of concurrent operations, the checker's input.
 *
 * Each operation carries the client that issued it, the times it was called and returned (any
 * one clock in microseconds; only their order matters) and its input and output. An operation
 * that never returned (a timeout, a lost connection, a client killed mid-call) has
 * return_us == LIN_PENDING: it may have taken effect at any moment after its call, or never,
 * and the checker treats it so.
 *
 * Times are compared with ties meaning "concurrent": an operation that returns at t and one
 * that is called at t may be ordered either way. This is the permissive choice for clocks of
 * limited resolution; it never turns a real violation into a false alarm.
 *
 * The history owns every string of its operations: lin_history_add copies (interns) them.
 * Pure: libc and rv_common only. */
#ifndef LIN_HISTORY_H
#define LIN_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "lin_model.h"
#include "rv_error.h"

#define LIN_PENDING INT64_MAX /* return_us of an operation that never returned */

/* One operation. */
typedef struct {
  uint64_t client;   /* who issued it (informational, and for the per-client order check) */
  int64_t call_us;   /* when it was called */
  int64_t return_us; /* when it returned, >= call_us; LIN_PENDING when it never did */
  lin_input_t in;    /* strings owned by the history once added */
  lin_output_t out;  /* ignored when pending */
  uint32_t line;     /* line of the history file it came from; 0 when built in code */
} lin_op_t;

/* A new, empty history; NULL when out of memory. Caller owns: lin_history_destroy. */
lin_history_t *lin_history_new(void);

/* Frees h and every string it owns, and nulls *h. Safe on NULL and twice. */
void lin_history_destroy(lin_history_t **h);

/* Appends a copy of op, interning its strings (op's own strings stay the caller's). Returns
 * RV_OK, RV_EINVAL (return_us < call_us, negative call_us, NULL key) or RV_ENOMEM; err says
 * which. Invalidates pointers returned by lin_history_op. */
int lin_history_add(lin_history_t *h, const lin_op_t *op, rv_err_t *err);

/* Number of operations. */
size_t lin_history_count(const lin_history_t *h);

/* Operation i (< count), in the order added. Borrowed until the next lin_history_add. */
const lin_op_t *lin_history_op(const lin_history_t *h, size_t i);

/* The interned copy of s (a string equal to s owned by h), adding it when new; NULL when out
 * of memory. Borrowed for h's lifetime. */
const char *lin_history_intern(lin_history_t *h, const char *s);

/* Checks the history before a search, naming the offending line (or index) in err:
 *  - each client's completed operations do not overlap (a client is sequential; an operation
 *    after one of its own that never returned is allowed: the client gave up waiting);
 *  - m->validate on every operation and m->validate_history on the whole, when m is given.
 * Returns RV_OK or RV_EINVAL; RV_ENOMEM. */
int lin_history_validate(const lin_history_t *h, const lin_model_t *m, rv_err_t *err);

#endif
