/* Unit tests of lin_history: ownership of strings, interning, and the checks run before a
 * search (per-client order, the model's per-operation checks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lin_testutil.h"

static void test_add_copies_and_interns_strings(void **state) {
  lin_history_t *h = lin_history_new();
  char key[8] = "x", val[8] = "v1";
  lin_op_t op = {
      .client = 1, .call_us = 0, .return_us = 10, .in = {LIN_REG_WRITE, 0, key, val, NULL}};
  assert_int_equal(lin_history_add(h, &op, NULL), RV_OK);
  strcpy(val, "zz"); /* the caller's buffers stay the caller's */
  strcpy(key, "q");
  lin_t_readk(h, 2, "x", "v1", 20, 30);
  assert_int_equal(lin_history_count(h), 2);
  const lin_op_t *w = lin_history_op(h, 0), *r = lin_history_op(h, 1);
  assert_string_equal(w->in.key, "x");
  assert_string_equal(w->in.value, "v1");
  assert_ptr_equal(w->in.key, r->in.key);      /* one copy of "x" */
  assert_ptr_equal(w->in.value, r->out.value); /* and of "v1" */
  assert_ptr_equal(lin_history_intern(h, "v1"), w->in.value);
  assert_null(lin_history_intern(h, NULL));
  lin_history_destroy(&h);
  assert_null(h);
  lin_history_destroy(&h); /* safe twice */
}

static void test_many_strings_survive_table_growth(void **state) {
  lin_history_t *h = lin_history_new();
  char v[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(v, sizeof v, "value-%d", i);
    lin_t_write(h, 1, v, 2 * i, 2 * i + 1);
  }
  for (int i = 0; i < 5000; i++) {
    snprintf(v, sizeof v, "value-%d", i);
    assert_string_equal(lin_history_op(h, (size_t)i)->in.value, v);
    assert_ptr_equal(lin_history_intern(h, v), lin_history_op(h, (size_t)i)->in.value);
  }
  lin_history_destroy(&h);
}

static void test_add_refuses_bad_times(void **state) {
  lin_history_t *h = lin_history_new();
  rv_err_t err;
  lin_op_t op = {
      .client = 1, .call_us = 10, .return_us = 5, .in = {LIN_REG_READ, 0, "x", NULL, NULL}};
  assert_int_equal(lin_history_add(h, &op, &err), RV_EINVAL);
  assert_string_equal(err.msg, "return time 5 is before call time 10");
  op.call_us = -1;
  assert_int_equal(lin_history_add(h, &op, &err), RV_EINVAL);
  assert_string_equal(err.msg, "call time -1 is negative");
  op.call_us = 0;
  op.in.key = NULL;
  assert_int_equal(lin_history_add(h, &op, &err), RV_EINVAL);
  assert_int_equal(lin_history_count(h), 0);
  lin_history_destroy(&h);
}

static void test_client_must_be_sequential(void **state) {
  lin_history_t *h = lin_history_new();
  rv_err_t err;
  lin_t_write(h, 1, "a", 0, 10);
  lin_t_write(h, 1, "b", 10, 20); /* called the instant the previous returned: fine */
  lin_t_write(h, 2, "c", 5, 15);  /* another client overlapping: fine */
  assert_int_equal(lin_history_validate(h, &lin_model_reg, &err), RV_OK);
  lin_t_write(h, 1, "d", 15, 30); /* before "b" returned */
  assert_int_equal(lin_history_validate(h, &lin_model_reg, &err), RV_EINVAL);
  assert_string_equal(err.msg,
                      "operation #3: client 1 calls at 15 before its operation at "
                      "operation #1 returned (at 20): a client must wait for each answer, "
                      "or record the operation as never returned");
  lin_history_destroy(&h);
}

/* A client that gave up on an operation may go on; the pending one stays concurrent. */
static void test_client_may_continue_after_timeout(void **state) {
  lin_history_t *h = lin_history_new();
  rv_err_t err;
  lin_t_write(h, 1, "a", 0, LIN_T_NEVER);
  lin_t_write(h, 1, "b", 100, 110);
  lin_t_read(h, 1, "b", 120, 130);
  assert_int_equal(lin_history_validate(h, &lin_model_reg, &err), RV_OK);
  /* the timed-out write may still land after the read... */
  lin_t_read(h, 1, "a", 140, 150);
  assert_int_equal(lin_t_check(h, &lin_model_reg, NULL, NULL), LIN_LINEARIZABLE);
  lin_history_destroy(&h);
}

static void test_validate_runs_the_model(void **state) {
  lin_history_t *h = lin_history_new();
  rv_err_t err;
  lin_t_write(h, 1, "a", 0, 10);
  lin_t_add(h, 2, LIN_REG_READ, 0, "x", NULL, NULL, 20, 30, RV_EIO, NULL);
  assert_int_equal(lin_history_validate(h, &lin_model_reg, &err), RV_EINVAL);
  assert_string_equal(err.msg, "operation #1: read x: result EIO is outside the model (ok)");
  assert_int_equal(lin_history_validate(h, NULL, &err), RV_OK); /* no model: order only */
  lin_history_destroy(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_copies_and_interns_strings),
      cmocka_unit_test(test_many_strings_survive_table_growth),
      cmocka_unit_test(test_add_refuses_bad_times),
      cmocka_unit_test(test_client_must_be_sequential),
      cmocka_unit_test(test_client_may_continue_after_timeout),
      cmocka_unit_test(test_validate_runs_the_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
