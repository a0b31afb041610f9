/* Unit tests of the checker on the register model: classic small histories with known answers,
 * each re-derived by hand in its comment (several after Porcupine's and Knossos' suites), then
 * pending operations, P-compositionality, the budget, and the failure report.
 * Times are microseconds; [a,b] is an operation called at a and returned at b. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lin_testutil.h"

static lin_history_t *s_h(void) {
  lin_history_t *h = lin_history_new();
  assert_non_null(h);
  return h;
}

static lin_verdict_t s_check(lin_history_t *h) {
  return lin_t_check(h, &lin_model_reg, NULL, NULL);
}

static void test_empty_history_is_linearizable(void **state) {
  lin_history_t *h = s_h();
  lin_result_t *r;
  assert_int_equal(lin_t_check(h, &lin_model_reg, NULL, &r), LIN_LINEARIZABLE);
  assert_string_equal(r->summary, "linearizable: 0 ops in 0 partitions");
  assert_string_equal(r->report, "");
  assert_null(r->key);
  lin_result_destroy(&r);
  lin_result_destroy(&r); /* safe twice */
  lin_history_destroy(&h);
}

/* w1 [0,10] then r->1 [20,30]: the only order is the real-time one, and it is legal. */
static void test_sequential_write_then_read(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 1, "1", 0, 10);
  lin_t_read(h, 2, "1", 20, 30);
  lin_result_t *r;
  assert_int_equal(lin_t_check(h, &lin_model_reg, NULL, &r), LIN_LINEARIZABLE);
  assert_string_equal(r->summary, "linearizable: 2 ops in 1 partitions");
  assert_int_equal(r->steps, 2);
  lin_result_destroy(&r);
  lin_history_destroy(&h);
}

/* w1 [0,10], w2 [20,30], r->1 [40,50]: real time forces w1 < w2 < r, and r must see 2: a stale
 * read after a completed write. The longest prefix is w1, w2; the read is stuck. */
static void test_stale_read_after_completed_write(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 1, "1", 0, 10);
  lin_t_write(h, 1, "2", 20, 30);
  lin_t_read(h, 2, "1", 40, 50);
  lin_result_t *r;
  assert_int_equal(lin_t_check(h, &lin_model_reg, NULL, &r), LIN_NOT_LINEARIZABLE);
  assert_string_equal(r->key, "x");
  assert_int_equal(r->n_prefix, 2);
  assert_int_equal(r->prefix[0], 0);
  assert_int_equal(r->prefix[1], 1);
  assert_int_equal(r->n_stuck, 1);
  assert_int_equal(r->stuck[0], 2);
  assert_int_equal(r->blocking, 2);
  assert_string_equal(r->summary,
                      "NOT linearizable: 1 of 1 partitions failed; partition \"x\" "
                      "(3 ops) has no linearization");
  lin_result_destroy(&r);
  lin_history_destroy(&h);
}

/* w1 [0,10], w2 [20,60], r [30,40]: the read overlaps w2, so it may see 1 (r before w2) or 2
 * (w2 before r); both are linearizable. */
static void test_read_overlapping_write_sees_either(void **state) {
  for (int see_new = 0; see_new < 2; see_new++) {
    lin_history_t *h = s_h();
    lin_t_write(h, 1, "1", 0, 10);
    lin_t_write(h, 1, "2", 20, 60);
    lin_t_read(h, 2, see_new ? "2" : "1", 30, 40);
    assert_int_equal(s_check(h), LIN_LINEARIZABLE);
    lin_history_destroy(&h);
  }
}

/* w1 [0,10], r->"7" [20,30]: no operation ever wrote 7. */
static void test_read_of_value_never_written(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 1, "1", 0, 10);
  lin_t_read(h, 2, "7", 20, 30);
  lin_result_t *r;
  assert_int_equal(lin_t_check(h, &lin_model_reg, NULL, &r), LIN_NOT_LINEARIZABLE);
  assert_int_equal(r->n_prefix, 1);
  assert_int_equal(r->blocking, 1);
  assert_non_null(strstr(r->report, "read x -> \"7\"  [20..30 us]: impossible in this state"));
  assert_non_null(strstr(r->report, "impossible in this state"));
  lin_result_destroy(&r);
  lin_history_destroy(&h);
}

/* A read of a register nobody wrote returns null (never written). */
static void test_read_of_unwritten_register(void **state) {
  lin_history_t *h = s_h();
  lin_t_read(h, 1, NULL, 0, 10);
  lin_t_write(h, 2, "1", 20, 30);
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  lin_t_read(h, 1, NULL, 40, 50); /* now stale */
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* Porcupine's TestRegisterModel, first history (its register starts at 0; here w0 comes first):
 * put 100 [10,100], get->100 [25,75], get->0 [30,60]. Order: get->0, put 100, get->100. */
static void test_porcupine_register_ok(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 0, "0", 0, 5);
  lin_t_write(h, 0, "100", 10, 100);
  lin_t_read(h, 1, "100", 25, 75);
  lin_t_read(h, 2, "0", 30, 60);
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* Porcupine's second: put 200 [10,100], get->200 [15,30], get->0 [40,90]. get->200 returns at
 * 30, so put 200 precedes it; get->0 is called at 40, after: it must see 200. */
static void test_porcupine_register_bad(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 0, "0", 0, 5);
  lin_t_write(h, 0, "200", 10, 100);
  lin_t_read(h, 1, "200", 15, 30);
  lin_t_read(h, 2, "0", 40, 90);
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* The new-old inversion: w1 [0,100] still running, r->1 [10,20] sees it, then r->null [30,40]
 * sees the old value: once a read has seen the write, every later read must. */
static void test_new_old_inversion(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 1, "1", 0, 100);
  lin_t_read(h, 2, "1", 10, 20);
  lin_t_read(h, 3, NULL, 30, 40);
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* Knossos-style concurrent writers: w1, w2, w3 all [0,100]. Reads during them may see each value
 * at most once in an order the writes can take: 1, 3, 2 is fine (w1 < w3 < w2); 1, 2, 1 is not
 * (w1 would take effect twice). */
static void test_concurrent_writes_orders(void **state) {
  const char *ok[] = {"1", "3", "2"}, *bad[] = {"1", "2", "1"};
  for (int pass = 0; pass < 2; pass++) {
    const char **seen = pass ? bad : ok;
    lin_history_t *h = s_h();
    lin_t_write(h, 1, "1", 0, 100);
    lin_t_write(h, 2, "2", 0, 100);
    lin_t_write(h, 3, "3", 0, 100);
    lin_t_read(h, 4, seen[0], 10, 20);
    lin_t_read(h, 4, seen[1], 30, 40);
    lin_t_read(h, 4, seen[2], 50, 60);
    assert_int_equal(s_check(h), pass ? LIN_NOT_LINEARIZABLE : LIN_LINEARIZABLE);
    lin_history_destroy(&h);
  }
}

/* After all three concurrent writes, two later reads must agree. */
static void test_concurrent_writes_then_reads_agree(void **state) {
  for (int agree = 0; agree < 2; agree++) {
    lin_history_t *h = s_h();
    lin_t_write(h, 1, "1", 0, 100);
    lin_t_write(h, 2, "2", 0, 100);
    lin_t_write(h, 3, "3", 0, 100);
    lin_t_read(h, 4, "2", 110, 120);
    lin_t_read(h, 5, agree ? "2" : "3", 130, 140);
    assert_int_equal(s_check(h), agree ? LIN_LINEARIZABLE : LIN_NOT_LINEARIZABLE);
    lin_history_destroy(&h);
  }
}

/* A write that never returned may take effect (any time after its call)... */
static void test_pending_write_may_take_effect(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 1, "1", 0, 10);
  lin_t_write(h, 2, "2", 20, LIN_T_NEVER);
  lin_t_read(h, 3, "2", 100, 110);
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* ...or never. */
static void test_pending_write_may_never_take_effect(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 1, "1", 0, 10);
  lin_t_write(h, 2, "2", 20, LIN_T_NEVER);
  lin_t_read(h, 3, "1", 100, 110);
  lin_t_read(h, 3, "1", 200, 210);
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* ...but once: after r->2 saw it, r->1 would need w1 again, and w1 returned before w2 began. */
static void test_pending_write_takes_effect_once(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 1, "1", 0, 10);
  lin_t_write(h, 2, "2", 20, LIN_T_NEVER);
  lin_t_read(h, 3, "2", 30, 40);
  lin_t_read(h, 3, "1", 50, 60);
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* ...and never before its call: r->2 [0,10] cannot see w2 called at 20. */
static void test_pending_write_not_before_its_call(void **state) {
  lin_history_t *h = s_h();
  lin_t_read(h, 3, "2", 0, 10);
  lin_t_write(h, 2, "2", 20, LIN_T_NEVER);
  lin_result_t *r;
  assert_int_equal(lin_t_check(h, &lin_model_reg, NULL, &r), LIN_NOT_LINEARIZABLE);
  assert_int_equal(r->n_prefix, 0);
  assert_int_equal(r->blocking, 0);
  lin_result_destroy(&r);
  lin_history_destroy(&h);
}

/* A read that never returned constrains nothing and is not searched. */
static void test_pending_read_is_dropped(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 1, "1", 0, 10);
  lin_t_read(h, 2, NULL, 5, LIN_T_NEVER);
  lin_result_t *r;
  assert_int_equal(lin_t_check(h, &lin_model_reg, NULL, &r), LIN_LINEARIZABLE);
  assert_int_equal(r->n_ops, 2);
  assert_int_equal(r->n_searched, 1);
  lin_result_destroy(&r);
  lin_history_destroy(&h);
}

/* Two cas(0 -> x) both succeed with no write of 0 between them: the second must fail. With a
 * concurrent w0 between them it is fine: cas 0->1, w0, cas 0->2. */
static void test_cas_both_succeed(void **state) {
  for (int with_reset = 0; with_reset < 2; with_reset++) {
    lin_history_t *h = s_h();
    lin_t_write(h, 1, "0", 0, 5);
    lin_t_cas(h, 2, "0", "1", 10, 20, RV_OK);
    lin_t_cas(h, 3, "0", "2", 12, 22, RV_OK);
    if (with_reset) lin_t_write(h, 4, "0", 11, 21);
    assert_int_equal(s_check(h), with_reset ? LIN_LINEARIZABLE : LIN_NOT_LINEARIZABLE);
    lin_history_destroy(&h);
  }
}

/* cas(0 -> 1) answering ESTALE while the value is 0 and nothing runs concurrently. */
static void test_cas_failure_must_be_justified(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 1, "0", 0, 5);
  lin_t_cas(h, 2, "0", "1", 10, 20, RV_ESTALE);
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_t_write(h, 3, "9", 8, 15); /* a concurrent write explains it */
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* Equal times mean "concurrent": a read called at the instant a write returns may precede it. */
static void test_equal_times_are_concurrent(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 1, "1", 0, 10);
  lin_t_read(h, 2, NULL, 10, 20);
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  lin_history_destroy(&h);
  h = s_h();
  lin_t_write(h, 1, "1", 0, 10);
  lin_t_read(h, 2, NULL, 11, 20);
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* The order operations are added in does not matter: the search sorts by time. */
static void test_insertion_order_is_irrelevant(void **state) {
  lin_history_t *h = s_h();
  lin_t_read(h, 2, "1", 40, 50);
  lin_t_write(h, 1, "2", 20, 30);
  lin_t_write(h, 1, "1", 0, 10);
  lin_result_t *r;
  assert_int_equal(lin_t_check(h, &lin_model_reg, NULL, &r), LIN_NOT_LINEARIZABLE);
  assert_int_equal(r->prefix[0], 2);
  assert_int_equal(r->prefix[1], 1);
  assert_int_equal(r->blocking, 0);
  lin_result_destroy(&r);
  lin_history_destroy(&h);
}

/* P-compositionality: x is fine, y has a stale read; the failure names y, and x passes alone. */
static void test_partitions_name_the_failing_key(void **state) {
  lin_history_t *h = s_h();
  lin_t_writek(h, 1, "x", "1", 0, 10);
  lin_t_readk(h, 2, "x", "1", 20, 30);
  lin_t_writek(h, 1, "y", "1", 40, 50);
  lin_t_writek(h, 1, "y", "2", 60, 70);
  lin_t_readk(h, 2, "y", "1", 80, 90);
  lin_t_writek(h, 3, "z", "1", 0, 10);
  lin_result_t *r;
  assert_int_equal(lin_t_check(h, &lin_model_reg, NULL, &r), LIN_NOT_LINEARIZABLE);
  assert_int_equal(r->n_partitions, 3);
  assert_int_equal(r->n_failed, 1);
  assert_string_equal(r->key, "y");
  assert_int_equal(r->key_ops, 3);
  assert_string_equal(r->summary,
                      "NOT linearizable: 1 of 3 partitions failed; partition \"y\" "
                      "(3 ops) has no linearization");
  lin_result_destroy(&r);
  lin_history_destroy(&h);
}

/* The reads of y would be fine on one register but not across keys: x's write does not help
 * y's read, because they are different objects. */
static void test_keys_are_independent(void **state) {
  lin_history_t *h = s_h();
  lin_t_writek(h, 1, "x", "1", 0, 10);
  lin_t_readk(h, 2, "y", "1", 20, 30);
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* 30 concurrent writes then a read of a value none wrote: the search must try every subset of
 * writes before it can say no, so a small budget stops it with UNKNOWN, never a guess. */
static lin_history_t *s_exponential(void) {
  lin_history_t *h = s_h();
  char v[16];
  for (int i = 0; i < 30; i++) {
    snprintf(v, sizeof v, "%d", i);
    lin_t_write(h, (uint64_t)i, v, 0, 100);
  }
  lin_t_read(h, 99, "none", 200, 210);
  return h;
}

static bool s_stop_now(void *ctx) {
  (*(int *)ctx)++;
  return true;
}

static void test_budget_gives_unknown(void **state) {
  lin_history_t *h = s_exponential();
  lin_result_t *r;
  lin_check_opts_t steps = {.max_steps = 100000};
  assert_int_equal(lin_t_check(h, &lin_model_reg, &steps, &r), LIN_UNKNOWN);
  assert_string_equal(r->why_unknown, "step budget");
  assert_int_equal(r->steps, 100000);
  assert_int_equal(r->n_unknown, 1);
  assert_string_equal(r->key, "x");
  assert_non_null(strstr(r->summary, "unknown: budget exhausted (step budget) after 100000 steps"));
  lin_result_destroy(&r);

  lin_check_opts_t mem = {.max_cache_bytes = 1 << 16};
  assert_int_equal(lin_t_check(h, &lin_model_reg, &mem, &r), LIN_UNKNOWN);
  assert_string_equal(r->why_unknown, "memory budget");
  assert_true(r->cache_bytes <= (1 << 16));
  lin_result_destroy(&r);

  int polls = 0;
  lin_check_opts_t stop = {.should_stop = s_stop_now, .stop_ctx = &polls};
  assert_int_equal(lin_t_check(h, &lin_model_reg, &stop, &r), LIN_UNKNOWN);
  assert_string_equal(r->why_unknown, "stopped");
  assert_int_equal(polls, 1);
  lin_result_destroy(&r);
  lin_history_destroy(&h);
}

/* A failure elsewhere wins over an undecided partition: NOT linearizable, not unknown. The
 * exponential partition is the larger, so it is searched last, after y failed. */
static void test_failure_beats_unknown(void **state) {
  lin_history_t *h = s_exponential();
  lin_t_writek(h, 100, "y", "1", 0, 10);
  lin_t_readk(h, 101, "y", "2", 20, 30);
  lin_result_t *r;
  lin_check_opts_t steps = {.max_steps = 10000};
  assert_int_equal(lin_t_check(h, &lin_model_reg, &steps, &r), LIN_NOT_LINEARIZABLE);
  assert_int_equal(r->n_failed, 1);
  assert_int_equal(r->n_unknown, 1);
  assert_string_equal(r->key, "y");
  lin_result_destroy(&r);
  lin_history_destroy(&h);
}

/* The report: the prefix with the state after each operation, the blocking operation, and why
 * each candidate could not come next. */
static void test_report_text(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 1, "1", 0, 10);
  lin_t_write(h, 1, "2", 20, 30);
  lin_t_write(h, 3, "3", 35, 100);
  lin_t_read(h, 2, "1", 40, 50);
  lin_result_t *r;
  assert_int_equal(lin_t_check(h, &lin_model_reg, NULL, &r), LIN_NOT_LINEARIZABLE);
  const char *want =
      "partition \"x\": 4 operations, and no order of them consistent with real time is legal "
      "for the register model\n"
      "longest linearizable prefix found: 3 operations, from the initial state never written "
      "(\"=>\" the state after each)\n"
      "     1. client 1  write x \"1\" -> ok  [0..10 us]  => \"1\"\n"
      "     2. client 1  write x \"2\" -> ok  [20..30 us]  => \"2\"\n"
      "     3. client 3  write x \"3\" -> ok  [35..100 us]  => \"3\"\n"
      "state after the prefix: \"3\"\n"
      "this operation had to take effect before it returned, and could not:\n"
      "  client 2  read x -> \"1\"  [40..50 us]\n"
      "operations that could come next, and why none did:\n"
      "  client 2  read x -> \"1\"  [40..50 us]: impossible in this state\n";
  assert_string_equal(r->report, want);
  lin_result_destroy(&r);
  lin_history_destroy(&h);
}

/* Every candidate at the deepest point is listed with the state that refuses it. The pending
 * write goes deepest: w1, w2, w4, after which neither read fits. */
static void test_report_lists_every_candidate(void **state) {
  lin_history_t *h = s_h();
  lin_t_write(h, 1, "1", 0, 10);
  lin_t_write(h, 1, "2", 20, 30);
  lin_t_read(h, 2, "1", 40, 50);
  lin_t_read(h, 3, "9", 40, 50);
  lin_t_write(h, 4, "4", 45, LIN_T_NEVER);
  lin_result_t *r;
  assert_int_equal(lin_t_check(h, &lin_model_reg, NULL, &r), LIN_NOT_LINEARIZABLE);
  assert_int_equal(r->n_prefix, 3);
  assert_int_equal(r->prefix[2], 4);
  assert_int_equal(r->n_stuck, 2);
  assert_non_null(strstr(r->report,
                         "     3. client 4  write x \"4\" -> no answer  [45.. never "
                         "returned]  => \"4\"\n"));
  assert_non_null(strstr(r->report, "state after the prefix: \"4\"\n"));
  assert_non_null(
      strstr(r->report, "  client 2  read x -> \"1\"  [40..50 us]: impossible in this state\n"));
  assert_non_null(
      strstr(r->report, "  client 3  read x -> \"9\"  [40..50 us]: impossible in this state\n"));
  lin_result_destroy(&r);
  lin_history_destroy(&h);
}

static void test_incomplete_model_is_refused(void **state) {
  lin_history_t *h = s_h();
  lin_model_t m = lin_model_reg;
  m.equal = NULL;
  lin_result_t *r = (lin_result_t *)1;
  rv_err_t err;
  assert_int_equal(lin_check(h, &m, NULL, &r, &err), RV_EINVAL);
  assert_null(r);
  assert_string_equal(err.msg, "lincheck: the model is incomplete");
  lin_history_destroy(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_history_is_linearizable),
      cmocka_unit_test(test_sequential_write_then_read),
      cmocka_unit_test(test_stale_read_after_completed_write),
      cmocka_unit_test(test_read_overlapping_write_sees_either),
      cmocka_unit_test(test_read_of_value_never_written),
      cmocka_unit_test(test_read_of_unwritten_register),
      cmocka_unit_test(test_porcupine_register_ok),
      cmocka_unit_test(test_porcupine_register_bad),
      cmocka_unit_test(test_new_old_inversion),
      cmocka_unit_test(test_concurrent_writes_orders),
      cmocka_unit_test(test_concurrent_writes_then_reads_agree),
      cmocka_unit_test(test_pending_write_may_take_effect),
      cmocka_unit_test(test_pending_write_may_never_take_effect),
      cmocka_unit_test(test_pending_write_takes_effect_once),
      cmocka_unit_test(test_pending_write_not_before_its_call),
      cmocka_unit_test(test_pending_read_is_dropped),
      cmocka_unit_test(test_cas_both_succeed),
      cmocka_unit_test(test_cas_failure_must_be_justified),
      cmocka_unit_test(test_equal_times_are_concurrent),
      cmocka_unit_test(test_insertion_order_is_irrelevant),
      cmocka_unit_test(test_partitions_name_the_failing_key),
      cmocka_unit_test(test_keys_are_independent),
      cmocka_unit_test(test_budget_gives_unknown),
      cmocka_unit_test(test_failure_beats_unknown),
      cmocka_unit_test(test_report_text),
      cmocka_unit_test(test_report_lists_every_candidate),
      cmocka_unit_test(test_incomplete_model_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
