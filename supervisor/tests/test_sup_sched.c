/* Unit tests of sup_sched: the run-queue wait of a child's threads, waits still in progress
 * inferred (the kernel adds a wait to schedstat only when it ends), folded from given readings
 * (sup_sched_fold), and one real sample of this process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sup_sched.h"

#define MS 1000000ull /* ns */

static sup_sched_thread_t s_thr(int tid, uint64_t run_ms, uint64_t wait_ms, uint64_t slices,
                                char state) {
  return (sup_sched_thread_t){.tid = tid, .run_ns = run_ms * MS, .wait_ns = wait_ms * MS,
                              .slices = slices, .state = state};
}

/* A thread runnable all along but never given a CPU: its counters do not move, yet every
 * interval after the first is its wait; when it finally runs and the kernel adds the whole wait
 * (3,050 ms), only what was not inferred already is added. */
static void test_wait_in_progress_is_inferred_then_reconciled(void **state) {
  sup_sched_proc_t p;
  sup_sched_reset(&p);
  sup_sched_thread_t t = s_thr(7, 10, 5, 3, 'R');
  sup_sched_fold(&p, 7, &t, 1, 0); /* the baseline */
  assert_int_equal(p.wait_ns, 0);
  for (int k = 1; k <= 30; k++) sup_sched_fold(&p, 7, &t, 1, (uint64_t)k * 100 * MS);
  assert_int_equal(p.wait_ns, 3000 * MS);
  t = s_thr(7, 11, 5 + 3050, 4, 'S'); /* it ran at last: the kernel counts its wait now */
  sup_sched_fold(&p, 7, &t, 1, 3100 * MS);
  assert_int_equal(p.wait_ns, 3050 * MS); /* 3000 inferred + the 50 ms not seen before */
  sup_sched_fold(&p, 7, &t, 1, 3200 * MS); /* asleep: nothing more */
  assert_int_equal(p.wait_ns, 3050 * MS);
}

/* A sleeping thread earns nothing however long it sleeps; one that wakes between two samples
 * without running yet earns nothing for that interval (it may have slept most of it), only for
 * the following ones. */
static void test_sleep_is_not_wait(void **state) {
  sup_sched_proc_t p;
  sup_sched_reset(&p);
  sup_sched_thread_t t = s_thr(9, 10, 5, 3, 'S');
  for (int k = 0; k <= 10; k++) sup_sched_fold(&p, 9, &t, 1, (uint64_t)k * 100 * MS);
  assert_int_equal(p.wait_ns, 0);
  t.state = 'R'; /* woke up, not run yet */
  sup_sched_fold(&p, 9, &t, 1, 1100 * MS);
  assert_int_equal(p.wait_ns, 0);
  sup_sched_fold(&p, 9, &t, 1, 1200 * MS); /* still waiting */
  assert_int_equal(p.wait_ns, 100 * MS);
  /* a thread in uninterruptible disk wait (D) earns nothing either */
  t.state = 'D';
  sup_sched_fold(&p, 9, &t, 1, 1300 * MS);
  sup_sched_fold(&p, 9, &t, 1, 1400 * MS);
  assert_int_equal(p.wait_ns, 100 * MS);
}

/* A thread that ran between two samples did not wait all of that interval: only the wait the
 * kernel counted is added. */
static void test_running_thread_adds_its_counted_wait(void **state) {
  sup_sched_proc_t p;
  sup_sched_reset(&p);
  sup_sched_thread_t t = s_thr(3, 10, 5, 3, 'R');
  sup_sched_fold(&p, 3, &t, 1, 0);
  t = s_thr(3, 40, 35, 9, 'R'); /* ran 30 ms, waited 30 ms in 100 */
  sup_sched_fold(&p, 3, &t, 1, 100 * MS);
  assert_int_equal(p.wait_ns, 30 * MS);
  t = s_thr(3, 90, 35, 12, 'R');
  sup_sched_fold(&p, 3, &t, 1, 200 * MS);
  assert_int_equal(p.wait_ns, 30 * MS);
}

/* The sum over threads; a new thread's counts so far are a baseline; a thread that ended is
 * forgotten; another pid starts afresh. */
static void test_threads_come_and_go(void **state) {
  sup_sched_proc_t p;
  sup_sched_reset(&p);
  sup_sched_thread_t t[3] = {s_thr(1, 10, 0, 1, 'S'), s_thr(2, 10, 0, 1, 'S')};
  sup_sched_fold(&p, 1, t, 2, 0);
  t[0] = s_thr(1, 20, 40, 2, 'S');
  t[1] = s_thr(2, 20, 25, 2, 'S');
  t[2] = s_thr(3, 5, 500, 1, 'S'); /* born since: its 500 ms are not counted */
  sup_sched_fold(&p, 1, t, 3, 100 * MS);
  assert_int_equal(p.wait_ns, 65 * MS);
  assert_int_equal(p.nthreads, 3);
  t[0] = s_thr(3, 6, 510, 2, 'S'); /* threads 1 and 2 ended */
  sup_sched_fold(&p, 1, t, 1, 200 * MS);
  assert_int_equal(p.wait_ns, 75 * MS);
  assert_int_equal(p.nthreads, 1);
  sup_sched_fold(&p, 2, t, 1, 300 * MS); /* another process: a baseline */
  assert_int_equal(p.wait_ns, 0);
}

/* A real sample of this process, after burning a little CPU: the counters exist on this
 * kernel (or the test says they do not and passes), the main thread's CPU time shows. */
static void test_sample_of_this_process(void **state) {
  if (!sup_sched_supported()) {
    fprintf(stderr, "no /proc/PID/schedstat on this kernel: nothing to read\n");
    return;
  }
  struct timespec a, b;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
  do clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
  while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 20000000L);
  sup_sched_proc_t p;
  sup_sched_reset(&p);
  sup_sched_t out = {0};
  assert_int_equal(sup_sched_sample(&p, (int)getpid(), 1, &out), 0);
  assert_true(out.cpu_ns >= 20 * MS);
  assert_int_equal(out.wait_ns, 0); /* the baseline */
  assert_true(p.nthreads >= 1);
  assert_int_equal(sup_sched_sample(&p, 999999999, 2, &out), -1); /* no such process */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wait_in_progress_is_inferred_then_reconciled),
      cmocka_unit_test(test_sleep_is_not_wait),
      cmocka_unit_test(test_running_thread_adds_its_counted_wait),
      cmocka_unit_test(test_threads_come_and_go),
      cmocka_unit_test(test_sample_of_this_process),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
