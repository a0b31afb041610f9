/* Tests of fence_core: methods in order until one fences, the queue, what is persisted before a
 * method starts, recovery of a fence cut short by a crash, and the record format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fence_core.h"

static fence_request_t s_req(const char *id, const char *target) {
  fence_request_t r;
  memset(&r, 0, sizeof r);
  snprintf(r.id, sizeof r.id, "%s", id);
  snprintf(r.target, sizeof r.target, "%s", target);
  snprintf(r.requester, sizeof r.requester, "supervisor");
  snprintf(r.reason, sizeof r.reason, "test");
  r.corr = 7;
  return r;
}

static void test_methods_in_order_until_one_fences(void **state) {
  fence_core_t c;
  fence_update_t u;
  fence_core_init(&c, 3);
  fence_request_t r = s_req("r1", "n2");
  assert_int_equal(fence_core_request(&c, &r, &u), 0);
  /* persisted, as running method 0, before it starts */
  assert_int_equal(u.nsave, 1);
  assert_ptr_equal(u.save[0], u.start);
  assert_true(u.save[0]->running);
  assert_int_equal(u.start->method, 0);
  assert_null(u.done);
  fence_core_started(&c, 4242, &u);
  assert_int_equal(u.nsave, 1);
  assert_int_equal(u.save[0]->pgid, 4242);
  assert_null(u.start);
  fence_core_finished(&c, FENCE_OUT_FAILED, 1, 5, "exit status 1", &u);
  assert_non_null(u.attempt);
  assert_int_equal(u.attempt->method, 0);
  assert_int_equal(u.attempt->attempt, 1);
  assert_int_equal(u.attempt->outcome, FENCE_OUT_FAILED);
  assert_string_equal(u.attempt->detail, "exit status 1");
  assert_non_null(u.start);
  assert_int_equal(u.start->method, 1);
  assert_int_equal(u.start->pgid, 0);
  assert_int_equal(u.nsave, 1);
  assert_null(u.done);
  fence_core_started(&c, 4300, &u);
  fence_core_finished(&c, FENCE_OUT_TIMED_OUT, 9, 2000, "killed at the timeout", &u);
  assert_int_equal(u.start->method, 2);
  fence_core_finished(&c, FENCE_OUT_FENCED, 0, 3, "exit status 0", &u);
  assert_non_null(u.done);
  assert_true(u.fenced);
  assert_null(u.start);
  assert_string_equal(u.remove, "r1");
  assert_int_equal(u.done->nattempts, 3);
  assert_int_equal(u.done->attempts[2].outcome, FENCE_OUT_FENCED);
  assert_ptr_equal(u.attempt, &u.done->attempts[2]);
  assert_int_equal(u.done->corr, 7);
  assert_null(fence_core_current(&c));
}

static void test_all_methods_fail(void **state) {
  fence_core_t c;
  fence_update_t u;
  fence_core_init(&c, 2);
  fence_request_t r = s_req("r1", "n2");
  fence_core_request(&c, &r, &u);
  fence_core_finished(&c, FENCE_OUT_FAILED, 1, 1, "exit status 1", &u);
  assert_non_null(u.start);
  fence_core_finished(&c, FENCE_OUT_FAILED, 2, 1, "exit status 2", &u);
  assert_non_null(u.done);
  assert_false(u.fenced);
  assert_null(u.start);
  assert_int_equal(u.done->nattempts, 2);
  /* an outcome with nothing running changes nothing */
  fence_core_finished(&c, FENCE_OUT_FENCED, 0, 1, "", &u);
  assert_null(u.done);
  assert_null(u.start);
}

static void test_queue(void **state) {
  fence_core_t c;
  fence_update_t u;
  fence_core_init(&c, 1);
  fence_request_t a = s_req("a", "n2"), b = s_req("b", "n3");
  fence_core_request(&c, &a, &u);
  assert_non_null(u.start);
  assert_int_equal(fence_core_request(&c, &b, &u), 0);
  /* persisted at once, started later */
  assert_int_equal(u.nsave, 1);
  assert_string_equal(u.save[0]->id, "b");
  assert_false(u.save[0]->running);
  assert_null(u.start);
  fence_core_finished(&c, FENCE_OUT_FENCED, 0, 1, "", &u);
  assert_string_equal(u.done->id, "a");
  assert_string_equal(u.remove, "a");
  assert_non_null(u.start);
  assert_string_equal(u.start->id, "b");
  assert_int_equal(u.nsave, 1);
  assert_ptr_equal(u.save[0], u.start);
  /* full */
  fence_core_init(&c, 1);
  for (int i = 0; i < FENCE_QUEUE_MAX; i++) assert_int_equal(fence_core_request(&c, &a, &u), 0);
  assert_int_equal(fence_core_request(&c, &a, &u), -1);
  /* nothing configured: refused */
  fence_core_init(&c, 0);
  assert_int_equal(fence_core_request(&c, &a, &u), -1);
}

static void test_recover_reruns_the_interrupted_method(void **state) {
  fence_core_t c;
  fence_update_t u;
  fence_core_init(&c, 2);
  fence_request_t r = s_req("r1", "n2");
  fence_core_request(&c, &r, &u);
  fence_core_finished(&c, FENCE_OUT_FAILED, 1, 1, "exit status 1", &u);
  fence_core_started(&c, 555, &u);
  fence_request_t saved = *u.save[0]; /* what was on disk when the fencer died */
  fence_core_init(&c, 2);
  assert_int_equal(fence_core_recover(&c, &saved, &u), 0);
  assert_int_equal(u.kill_pgid, 555);
  assert_non_null(u.attempt);
  assert_int_equal(u.attempt->outcome, FENCE_OUT_INTERRUPTED);
  assert_int_equal(u.attempt->method, 1);
  assert_non_null(u.start);
  assert_int_equal(u.start->method, 1);
  assert_int_equal(u.start->restarts, 1);
  assert_int_equal(u.nsave, 1);
  fence_core_finished(&c, FENCE_OUT_FENCED, 0, 1, "", &u);
  assert_true(u.fenced);
  assert_int_equal(u.attempt->attempt, 2); /* the second run of method 1 */
  assert_int_equal(u.done->nattempts, 3);
  assert_int_equal(u.done->restarts, 1);
}

static void test_recover_gives_up_on_a_method_that_keeps_killing_the_fencer(void **state) {
  fence_core_t c;
  fence_update_t u;
  fence_request_t r = s_req("r1", "n2");
  fence_core_init(&c, 2);
  fence_core_request(&c, &r, &u);
  fence_request_t saved = *u.save[0];
  for (int i = 1; i <= 3; i++) {
    fence_core_init(&c, 2);
    fence_core_recover(&c, &saved, &u);
    saved = *u.save[0];
    if (i < 3) assert_int_equal(u.start->method, 0);
  }
  assert_int_equal(u.start->method, 1);
  assert_int_equal(u.attempt->outcome, FENCE_OUT_FAILED);
  /* the last method interrupted too many times: the request ends, not fenced */
  for (int i = 1; i <= 3; i++) {
    fence_core_init(&c, 2);
    fence_core_recover(&c, &saved, &u);
    if (u.nsave) saved = *u.save[0];
  }
  assert_non_null(u.done);
  assert_false(u.fenced);
  assert_string_equal(u.remove, "r1");
}

static void test_recover_queued_and_stale_method(void **state) {
  fence_core_t c;
  fence_update_t u;
  fence_request_t a = s_req("a", "n2"), b = s_req("b", "n3");
  a.running = true;
  a.pgid = 0; /* died before the method's process group was known */
  fence_core_init(&c, 1);
  fence_core_recover(&c, &a, &u);
  assert_int_equal(u.kill_pgid, 0);
  assert_non_null(u.start);
  fence_core_recover(&c, &b, &u);
  assert_null(u.start);
  assert_int_equal(u.nsave, 1);
  /* a record at a method that is no longer configured (the file changed) ends, not fenced */
  fence_request_t s = s_req("s", "n2");
  s.method = 3;
  fence_core_init(&c, 1);
  fence_core_recover(&c, &s, &u);
  assert_non_null(u.done);
  assert_false(u.fenced);
}

static void test_record_round_trip(void **state) {
  fence_core_t c;
  fence_update_t u;
  fence_core_init(&c, 3);
  fence_request_t r = s_req("1733200000-1", "n2");
  snprintf(r.reason, sizeof r.reason, "two\nlines");
  r.trace = 99;
  fence_core_request(&c, &r, &u);
  fence_core_started(&c, 77, &u);
  fence_core_finished(&c, FENCE_OUT_TIMED_OUT, 9, 2001, "killed at the timeout of 2000 ms", &u);
  fence_core_started(&c, 78, &u);
  char buf[FENCE_RECORD_MAX], why[256];
  int n = fence_record_format(u.save[0], buf, sizeof buf);
  assert_true(n > 0);
  fence_request_t back;
  assert_int_equal(fence_record_parse(buf, (size_t)n, &back, why, sizeof why), 0);
  assert_string_equal(back.id, "1733200000-1");
  assert_string_equal(back.target, "n2");
  assert_string_equal(back.requester, "supervisor");
  assert_string_equal(back.reason, "two lines");
  assert_int_equal(back.corr, 7);
  assert_int_equal(back.trace, 99);
  assert_int_equal(back.method, 1);
  assert_true(back.running);
  assert_int_equal(back.pgid, 78);
  assert_int_equal(back.nattempts, 1);
  assert_int_equal(back.attempts[0].outcome, FENCE_OUT_TIMED_OUT);
  assert_int_equal(back.attempts[0].code, 9);
  assert_int_equal(back.attempts[0].elapsed_ms, 2001);
  assert_string_equal(back.attempts[0].detail, "killed at the timeout of 2000 ms");
  /* and formats to the same bytes */
  char again[FENCE_RECORD_MAX];
  assert_int_equal(fence_record_format(&back, again, sizeof again), n);
  assert_memory_equal(again, buf, (size_t)n);
  assert_int_equal(fence_record_format(u.save[0], buf, 40), -1);
}

static void test_record_refused(void **state) {
  fence_request_t r;
  char why[256];
  struct {
    const char *text, *why;
  } bad[] = {
      {"", "empty record"},
      {"hello\n", "line 1: expected \"raftvisor-fence-request 1\", got \"hello\""},
      {"raftvisor-fence-request 2\nid=a\n", "line 1: record format 2 is newer than this build's "
                                            "(1): written by a newer raftvisor (a downgrade is "
                                            "not supported)"},
      {"raftvisor-fence-request 1\nid=a\n", "incomplete record: needs id, target, requester and "
                                            "method"},
      {"raftvisor-fence-request 1\nid=a\ncolour=blue\n", "line 3: unknown key \"colour\""},
      {"raftvisor-fence-request 1\nnoequals\n", "line 2: expected key=value"},
      {"raftvisor-fence-request 1\nmethod=99\n", "line 2: bad method value \"99\""},
      {"raftvisor-fence-request 1\npgid=-1\n", "line 2: bad pgid value \"-1\""},
      {"raftvisor-fence-request 1\nattempt=0 1 7 0 0 x\n", "line 2: bad attempt value \"0 1 7 0 0 "
                                                           "x\""},
      {"raftvisor-fence-request 1\nid=\n", "line 2: bad id value \"\""},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(fence_record_parse(bad[i].text, strlen(bad[i].text), &r, why, sizeof why), -1);
    assert_string_equal(why, bad[i].why);
  }
  /* a torn record (cut mid-way) is refused, not half-read */
  const char *torn = "raftvisor-fence-request 1\nid=a\ntarget=n2\nreques";
  assert_int_equal(fence_record_parse(torn, strlen(torn), &r, why, sizeof why), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_methods_in_order_until_one_fences),
      cmocka_unit_test(test_all_methods_fail),
      cmocka_unit_test(test_queue),
      cmocka_unit_test(test_recover_reruns_the_interrupted_method),
      cmocka_unit_test(test_recover_gives_up_on_a_method_that_keeps_killing_the_fencer),
      cmocka_unit_test(test_recover_queued_and_stale_method),
      cmocka_unit_test(test_record_round_trip),
      cmocka_unit_test(test_record_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
