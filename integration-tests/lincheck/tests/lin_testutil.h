/* lin_testutil: helpers for the lincheck tests: history builders, a one-call check, and a seeded
 * RNG whose seed is printed and settable (LIN_TEST_SEED). No cmocka here; a helper that fails
 * for a reason the test did not ask for aborts the program. */
#ifndef LIN_TESTUTIL_H
#define LIN_TESTUTIL_H

#include <stdint.h>

#include "lin_check.h"
#include "lin_history.h"
#include "lin_model_ns.h"
#include "lin_model_reg.h"

#define LIN_T_NEVER LIN_PENDING /* return time of an operation that never returned */

/* Appends one operation; aborts on failure. Strings are copied. */
void lin_t_add(lin_history_t *h, uint64_t client, int op, unsigned flags, const char *key,
               const char *value, const char *expect, int64_t call, int64_t ret, int result,
               const char *value_out);

/* Register shorthands on key "x" (lin_t_*k: any key). */
void lin_t_write(lin_history_t *h, uint64_t client, const char *v, int64_t call, int64_t ret);
void lin_t_read(lin_history_t *h, uint64_t client, const char *out, int64_t call, int64_t ret);
void lin_t_cas(lin_history_t *h, uint64_t client, const char *expect, const char *v, int64_t call,
               int64_t ret, int result);
void lin_t_writek(lin_history_t *h, uint64_t client, const char *key, const char *v, int64_t call,
                  int64_t ret);
void lin_t_readk(lin_history_t *h, uint64_t client, const char *key, const char *out, int64_t call,
                 int64_t ret);

/* Validates and checks h (opts NULL: no budget); aborts on a validation or memory error. The
 * result is returned through *keep when keep is given (caller destroys), else destroyed. With
 * LIN_TEST_VERBOSE set, prints the summary and report. */
lin_verdict_t lin_t_check(const lin_history_t *h, const lin_model_t *m,
                          const lin_check_opts_t *opts, lin_result_t **keep);

/* A seeded RNG (splitmix64). */
typedef struct {
  uint64_t s;
} lin_t_rng_t;

/* The seed: LIN_TEST_SEED when set, else def; printed to stderr with the test's name. */
uint64_t lin_t_seed(const char *test, uint64_t def);
uint64_t lin_t_next(lin_t_rng_t *r);
/* Uniform in [0, n), n > 0. */
uint64_t lin_t_below(lin_t_rng_t *r, uint64_t n);

/* Seconds on the monotonic clock, for the performance tests. */
double lin_t_now(void);

#endif
