/* sup_lock with real processes (a POSIX lock is per process, so every second holder and every
 * question about the holder is asked from a forked child): the holder writes its pid into the
 * lock file; a second holder is refused with RV_ERUNNING naming the holder's pid; sup_lock_holder
 * names it too; once the holder is killed with SIGKILL the lock is free (RV_ENOTRUNNING) and can
 * be taken again. sup_pid_alive: a live process (even one whose name holds ") "), a zombie, a
 * reaped pid, 0 and -1. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sup_lock.h"

static char s_dir[64];
static cfg_node_t *s_cfg;

static int s_setup(void **state) {
  (void)state;
  snprintf(s_dir, sizeof s_dir, "/tmp/rvlock.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  char yaml[512];
  int n = snprintf(yaml, sizeof yaml,
                   "node: {id: n1, data-dir: %s/n1}\n"
                   "security: {insecure: true}\n"
                   "cluster:\n  id: c1\n  nodes:\n"
                   "    - {id: n1, host: 127.0.0.1, raft-port: 7001, client-port: 7002}\n",
                   s_dir);
  rv_err_t err;
  assert_int_equal(cfg_node_parse("node.yaml", yaml, (size_t)n, &s_cfg, -1, &err), RV_OK);
  char cmd[CFG_PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "mkdir -p %s", s_cfg->run_dir);
  assert_int_equal(system(cmd), 0);
  return 0;
}

static int s_teardown(void **state) {
  (void)state;
  cfg_node_destroy(&s_cfg);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
  return system(cmd);
}

/* What a child saw: the code its call returned, the pid it got, the error text. */
typedef struct {
  int rc;
  int pid;
  char msg[RV_ERR_MSG_MAX];
} s_answer_t;

/* Runs sup_lock_acquire (acquire = 1) or sup_lock_holder (0) in a child; returns its answer. */
static s_answer_t s_ask_child(int acquire) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t c = fork();
  assert_true(c >= 0);
  if (c == 0) {
    close(p[0]);
    s_answer_t a = {0};
    rv_err_t err = {0};
    if (acquire) {
      int fd = -1;
      a.rc = sup_lock_acquire(s_cfg, &fd, &err);
      a.pid = a.rc == RV_OK ? (int)getpid() : 0;
    } else {
      pid_t h = 0;
      a.rc = sup_lock_holder(s_cfg, &h, &err);
      a.pid = (int)h;
    }
    snprintf(a.msg, sizeof a.msg, "%s", err.msg);
    _exit(write(p[1], &a, sizeof a) == (ssize_t)sizeof a ? 0 : 1);
  }
  close(p[1]);
  s_answer_t a;
  assert_int_equal(read(p[0], &a, sizeof a), (ssize_t)sizeof a);
  close(p[0]);
  int st;
  assert_int_equal(waitpid(c, &st, 0), c);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  return a;
}

static void test_no_holder(void **state) {
  (void)state;
  pid_t h = 12345;
  rv_err_t err;
  assert_int_equal(sup_lock_holder(s_cfg, &h, &err), RV_ENOTRUNNING); /* no lock file yet */
  assert_int_equal(h, 12345);
}

static void test_second_holder_refused_and_named(void **state) {
  (void)state;
  int fd = -1;
  rv_err_t err;
  assert_int_equal(sup_lock_acquire(s_cfg, &fd, &err), RV_OK);
  assert_true(fd >= 0);
  /* the pid inside, for humans (read through the lock's own descriptor: opening and closing
   * the file elsewhere in this process would drop the lock, as the header warns) */
  char buf[32] = {0};
  assert_true(pread(fd, buf, sizeof buf - 1, 0) > 0);
  assert_int_equal(atoi(buf), (int)getpid());

  s_answer_t a = s_ask_child(1);
  assert_int_equal(a.rc, RV_ERUNNING);
  char want[64];
  snprintf(want, sizeof want, "supervisor pid %d holds", (int)getpid());
  if (!strstr(a.msg, want)) fail_msg("no \"%s\" in: %s", want, a.msg);
  assert_non_null(strstr(a.msg, "node n1 is already running"));
  assert_non_null(strstr(a.msg, "raftvisor stop -c node.yaml"));
  /* the refused attempt did not disturb the lock or the pid in the file */
  a = s_ask_child(0);
  assert_int_equal(a.rc, RV_OK);
  assert_int_equal(a.pid, (int)getpid());
  memset(buf, 0, sizeof buf);
  assert_true(pread(fd, buf, sizeof buf - 1, 0) > 0);
  assert_int_equal(atoi(buf), (int)getpid());
  close(fd); /* released */
  a = s_ask_child(0);
  assert_int_equal(a.rc, RV_ENOTRUNNING);
}

static void test_lock_freed_when_holder_killed(void **state) {
  (void)state;
  int ready[2];
  assert_int_equal(pipe(ready), 0);
  pid_t holder = fork();
  assert_true(holder >= 0);
  if (holder == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with the test, even when an assertion fails */
    close(ready[0]);
    int fd;
    rv_err_t err;
    char ok = sup_lock_acquire(s_cfg, &fd, &err) == RV_OK ? 'y' : 'n';
    if (write(ready[1], &ok, 1) != 1) _exit(1);
    for (;;) pause();
  }
  close(ready[1]);
  char ok = 0;
  assert_int_equal(read(ready[0], &ok, 1), 1);
  close(ready[0]);
  assert_int_equal(ok, 'y');
  pid_t h = 0;
  rv_err_t err;
  assert_int_equal(sup_lock_holder(s_cfg, &h, &err), RV_OK);
  assert_int_equal(h, holder);
  int fd = -1;
  assert_int_equal(sup_lock_acquire(s_cfg, &fd, &err), RV_ERUNNING);
  assert_int_equal(fd, -1);
  assert_true(sup_pid_alive(holder));
  kill(holder, SIGKILL);
  int st;
  assert_int_equal(waitpid(holder, &st, 0), holder);
  /* the file (with the dead holder's pid inside) stays; the lock went with the process */
  assert_int_equal(sup_lock_holder(s_cfg, &h, &err), RV_ENOTRUNNING);
  assert_int_equal(sup_lock_acquire(s_cfg, &fd, &err), RV_OK);
  s_answer_t a = s_ask_child(0);
  assert_int_equal(a.rc, RV_OK);
  assert_int_equal(a.pid, (int)getpid());
  close(fd);
}

static void test_pid_alive(void **state) {
  (void)state;
  assert_true(sup_pid_alive(getpid()));
  assert_false(sup_pid_alive(0));
  assert_false(sup_pid_alive(-1));
  /* a process whose name holds ") " (the stat line's comm field) */
  int ready[2];
  assert_int_equal(pipe(ready), 0);
  pid_t c = fork();
  assert_true(c >= 0);
  if (c == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "x) Z (y", 0, 0, 0);
    if (write(ready[1], "r", 1) != 1) _exit(1);
    for (;;) pause();
  }
  char r;
  assert_int_equal(read(ready[0], &r, 1), 1);
  assert_true(sup_pid_alive(c));
  kill(c, SIGKILL);
  /* a zombie until reaped: waitid with WNOWAIT waits for the death and leaves it unreaped */
  siginfo_t si;
  assert_int_equal(waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT), 0);
  assert_false(sup_pid_alive(c));
  int st;
  assert_int_equal(waitpid(c, &st, 0), c);
  assert_false(sup_pid_alive(c)); /* reaped: gone */
  close(ready[0]);
  close(ready[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_holder),
      cmocka_unit_test(test_second_holder_refused_and_named),
      cmocka_unit_test(test_lock_freed_when_holder_killed),
      cmocka_unit_test(test_pid_alive),
  };
  return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
