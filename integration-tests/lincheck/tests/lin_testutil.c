/* lin_testutil: see lin_testutil.h. */
#include "lin_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void lin_t_add(lin_history_t *h, uint64_t client, int op, unsigned flags, const char *key,
               const char *value, const char *expect, int64_t call, int64_t ret, int result,
               const char *value_out) {
  lin_op_t o = {.client = client,
                .call_us = call,
                .return_us = ret,
                .in = {op, flags, key, value, expect},
                .out = {result, value_out}};
  rv_err_t err;
  if (lin_history_add(h, &o, &err)) {
    fprintf(stderr, "lin_t_add: %s\n", err.msg);
    abort();
  }
}

void lin_t_writek(lin_history_t *h, uint64_t client, const char *key, const char *v, int64_t call,
                  int64_t ret) {
  lin_t_add(h, client, LIN_REG_WRITE, 0, key, v, NULL, call, ret, RV_OK, NULL);
}

void lin_t_readk(lin_history_t *h, uint64_t client, const char *key, const char *out, int64_t call,
                 int64_t ret) {
  lin_t_add(h, client, LIN_REG_READ, 0, key, NULL, NULL, call, ret, RV_OK, out);
}

void lin_t_write(lin_history_t *h, uint64_t client, const char *v, int64_t call, int64_t ret) {
  lin_t_writek(h, client, "x", v, call, ret);
}

void lin_t_read(lin_history_t *h, uint64_t client, const char *out, int64_t call, int64_t ret) {
  lin_t_readk(h, client, "x", out, call, ret);
}

void lin_t_cas(lin_history_t *h, uint64_t client, const char *expect, const char *v, int64_t call,
               int64_t ret, int result) {
  lin_t_add(h, client, LIN_REG_CAS, 0, "x", v, expect, call, ret, result, NULL);
}

lin_verdict_t lin_t_check(const lin_history_t *h, const lin_model_t *m,
                          const lin_check_opts_t *opts, lin_result_t **keep) {
  rv_err_t err;
  lin_result_t *r = NULL;
  if (lin_history_validate(h, m, &err) || lin_check(h, m, opts, &r, &err)) {
    fprintf(stderr, "lin_t_check: %s\n", err.msg);
    abort();
  }
  if (getenv("LIN_TEST_VERBOSE")) printf("%s\n%s", r->summary, r->report);
  lin_verdict_t v = r->verdict;
  if (keep)
    *keep = r;
  else
    lin_result_destroy(&r);
  return v;
}

uint64_t lin_t_seed(const char *test, uint64_t def) {
  const char *env = getenv("LIN_TEST_SEED");
  uint64_t seed = env ? strtoull(env, NULL, 0) : def;
  fprintf(stderr, "%s: seed %llu (set LIN_TEST_SEED to replay)\n", test, (unsigned long long)seed);
  return seed;
}

uint64_t lin_t_next(lin_t_rng_t *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t lin_t_below(lin_t_rng_t *r, uint64_t n) { return lin_t_next(r) % n; }

double lin_t_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
