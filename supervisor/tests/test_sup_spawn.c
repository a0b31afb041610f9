/* sup_spawn without a node: actors are small shell scripts in a temporary directory. The
 * program path (exec, or raftvisor-<name> beside the running binary); the programs check (a
 * missing file, a file that is not executable); a spawned actor gets its arguments,
 * RV_SUPERVISOR_PID, its own process group, default dispositions whatever the supervisor's
 * (not the signal mask: the shell standing in for the actor clears its mask itself, so a test
 * through it cannot see the reset), stdout and stderr in <log-dir>/<name>.log; it dies with its
 * supervisor (PR_SET_PDEATHSIG); an exec failure is reported with its reason; the exit note
 * (the last error line since an offset, else the last line that is no log line). */
#include <errno.h>
#include <libgen.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sup_lock.h"
#include "sup_spawn.h"

static char s_dir[64];
static char s_yaml[128];
static cfg_node_t *s_cfg;

static void s_write(const char *path, const char *text, mode_t mode) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  assert_int_equal(chmod(path, mode), 0);
}

static int s_setup(void **state) {
  (void)state;
  snprintf(s_dir, sizeof s_dir, "/tmp/rvspawn.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  char path[128];
  snprintf(path, sizeof path, "%s/actor.sh", s_dir);
  s_write(path,
          "#!/bin/sh\n"
          "echo \"args: $*\"\n"
          "echo \"supervisor: $RV_SUPERVISOR_PID\"\n"
          "grep -E '^SigIgn' /proc/self/status\n"
          "echo 'to stderr' >&2\n"
          "echo ready\n"
          "exec sleep 60\n",
          0755);
  snprintf(path, sizeof path, "%s/garbage", s_dir);
  s_write(path, "\x7f\x01\x02 not a program\n", 0755);
  snprintf(path, sizeof path, "%s/plain", s_dir);
  s_write(path, "#!/bin/sh\n", 0644);
  snprintf(s_yaml, sizeof s_yaml, "%s/node.yaml", s_dir);
  char yaml[1024];
  int n = snprintf(yaml, sizeof yaml,
                   "node: {id: n1, data-dir: %s/n1}\n"
                   "security: {insecure: true}\n"
                   "cluster:\n  id: c1\n  nodes:\n"
                   "    - {id: n1, host: 127.0.0.1, raft-port: 7001, client-port: 7002}\n"
                   "actors:\n"
                   "  - {name: a1, exec: %s/actor.sh, args: [--extra, two words]}\n"
                   "  - {name: bad, exec: %s/garbage}\n"
                   "  - {name: plain, exec: %s/plain}\n"
                   "  - {name: nowhere, exec: %s/missing}\n"
                   "  - {name: health-monitor}\n",
                   s_dir, s_dir, s_dir, s_dir, s_dir);
  rv_err_t err;
  int rc = cfg_node_parse(s_yaml, yaml, (size_t)n, &s_cfg, -1, &err);
  if (rc) fail_msg("%s", err.msg);
  char cmd[CFG_PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "mkdir -p %s", s_cfg->log_dir);
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

static const cfg_actor_t *s_actor(const char *name) {
  for (int i = 0; i < s_cfg->nactors; i++)
    if (strcmp(s_cfg->actors[i].name, name) == 0) return &s_cfg->actors[i];
  fail_msg("no actor %s", name);
  return NULL;
}

/* The actor's log file, read whole (caller frees). */
static char *s_log(const char *actor) {
  char path[CFG_PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s.log", s_cfg->log_dir, actor);
  char *buf = calloc(1, 65536);
  assert_non_null(buf);
  FILE *f = fopen(path, "r");
  if (!f) return buf;
  size_t n = fread(buf, 1, 65535, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

/* Waits (5 s at most) until the actor's log holds `what`; returns the log (caller frees). */
static char *s_log_until(const char *actor, const char *what) {
  for (int k = 0; k < 500; k++) {
    char *log = s_log(actor);
    if (strstr(log, what)) return log;
    free(log);
    usleep(10000);
  }
  char *log = s_log(actor);
  fail_msg("no \"%s\" in %s's log within 5 s: %s", what, actor, log);
  return log;
}

static void test_program_path(void **state) {
  (void)state;
  char buf[CFG_PATH_MAX], self[CFG_PATH_MAX] = {0}, want[CFG_PATH_MAX + 32];
  sup_spawn_program(s_actor("a1"), buf, sizeof buf);
  snprintf(want, sizeof want, "%s/actor.sh", s_dir);
  assert_string_equal(buf, want);
  assert_true(readlink("/proc/self/exe", self, sizeof self - 1) > 0);
  snprintf(want, sizeof want, "%s/raftvisor-health-monitor", dirname(self));
  sup_spawn_program(s_actor("health-monitor"), buf, sizeof buf);
  assert_string_equal(buf, want);
}

static void test_check_programs(void **state) {
  (void)state;
  rv_err_t err;
  /* the first bad one, in order: "plain" (not executable) comes before "nowhere" */
  assert_int_equal(sup_spawn_check_programs(s_cfg, &err), RV_ECONFIG);
  char want[256];
  snprintf(want, sizeof want,
           "actors[2] (plain): program %s/plain is not executable (no execute permission)", s_dir);
  if (!strstr(err.msg, want)) fail_msg("no \"%s\" in: %s", want, err.msg);
  assert_non_null(strstr(err.msg, s_yaml));
  /* the rest, one at a time */
  cfg_node_t one = *s_cfg;
  one.nactors = 1;
  one.actors[0] = *s_actor("nowhere");
  assert_int_equal(sup_spawn_check_programs(&one, &err), RV_ECONFIG);
  snprintf(want, sizeof want, "actors[0] (nowhere): program %s/missing does not exist", s_dir);
  if (!strstr(err.msg, want)) fail_msg("no \"%s\" in: %s", want, err.msg);
  /* a directory: named as such (the reason once came from a stale errno: "does not exist") */
  one.actors[0] = *s_actor("a1");
  snprintf(one.actors[0].exec, sizeof one.actors[0].exec, "%s", s_dir);
  errno = ENOENT;
  assert_int_equal(sup_spawn_check_programs(&one, &err), RV_ECONFIG);
  snprintf(want, sizeof want, "program %s is a directory, not an executable file", s_dir);
  if (!strstr(err.msg, want)) fail_msg("no \"%s\" in: %s", want, err.msg);
  one.actors[0] = *s_actor("a1");
  assert_int_equal(sup_spawn_check_programs(&one, &err), RV_OK);
}

static void test_spawn_environment(void **state) {
  (void)state;
  /* a supervisor with signals blocked and ignored: the actor must not inherit the ignored ones */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, &old);
  struct sigaction ign = {.sa_handler = SIG_IGN}, oldint;
  sigaction(SIGINT, &ign, &oldint);
  pid_t pid = 0;
  rv_err_t err;
  int rc = sup_spawn_actor(s_cfg, s_actor("a1"), s_yaml, &pid, &err);
  sigprocmask(SIG_SETMASK, &old, NULL);
  sigaction(SIGINT, &oldint, NULL);
  assert_int_equal(rc, RV_OK);
  assert_true(pid > 0);
  char *log = s_log_until("a1", "ready\n");
  char want[256];
  snprintf(want, sizeof want, "args: --config %s --name a1 --extra two words\n", s_yaml);
  if (!strstr(log, want)) fail_msg("no \"%s\" in: %s", want, log);
  snprintf(want, sizeof want, "supervisor: %d\n", (int)getpid());
  if (!strstr(log, want)) fail_msg("no \"%s\" in: %s", want, log);
  if (!strstr(log, "SigIgn:\t0000000000000000\n")) fail_msg("signals ignored: %s", log);
  assert_non_null(strstr(log, "to stderr\n"));
  free(log);
  assert_int_equal(getpgid(pid), pid); /* its own process group */
  assert_true(sup_pid_alive(pid));
  kill(pid, SIGKILL);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
}

static void test_dies_with_its_supervisor(void **state) {
  (void)state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t sup = fork();
  assert_true(sup >= 0);
  if (sup == 0) { /* a stand-in supervisor */
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with the test, even when an assertion fails */
    close(p[0]);
    pid_t pid = 0;
    rv_err_t err;
    if (sup_spawn_actor(s_cfg, s_actor("a1"), s_yaml, &pid, &err) != RV_OK) _exit(1);
    if (write(p[1], &pid, sizeof pid) != (ssize_t)sizeof pid) _exit(1);
    for (;;) pause();
  }
  close(p[1]);
  pid_t actor = 0;
  assert_int_equal(read(p[0], &actor, sizeof actor), (ssize_t)sizeof actor);
  close(p[0]);
  assert_true(sup_pid_alive(actor));
  kill(sup, SIGKILL);
  int st;
  assert_int_equal(waitpid(sup, &st, 0), sup);
  int k = 0;
  while (sup_pid_alive(actor) && k++ < 500) usleep(10000);
  if (sup_pid_alive(actor)) {
    kill(actor, SIGKILL);
    fail_msg("actor %d outlived its supervisor", (int)actor);
  }
}

static void test_exec_failure_reported(void **state) {
  (void)state;
  pid_t pid = 0;
  rv_err_t err;
  assert_int_equal(sup_spawn_actor(s_cfg, s_actor("bad"), s_yaml, &pid, &err), RV_EIO);
  char want[256];
  snprintf(want, sizeof want, "cannot execute %s/garbage: Exec format error", s_dir);
  if (!strstr(err.msg, want)) fail_msg("no \"%s\" in: %s", want, err.msg);
  assert_true(pid > 0); /* the child that failed, to reap */
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 127);
  assert_int_equal(sup_spawn_actor(s_cfg, s_actor("nowhere"), s_yaml, &pid, &err), RV_EIO);
  assert_non_null(strstr(err.msg, "No such file or directory"));
  assert_int_equal(waitpid(pid, &st, 0), pid);
}

static void test_exit_note(void **state) {
  (void)state;
  char path[CFG_PATH_MAX + 64], note[256];
  snprintf(path, sizeof path, "%s/noted.log", s_cfg->log_dir);
  assert_int_equal(sup_spawn_log_size(s_cfg, "noted"), 0);
  sup_spawn_exit_note(s_cfg, "noted", 0, note, sizeof note);
  assert_string_equal(note, ""); /* no log at all */
  s_write(path, "2026-11-22T00:10:00.123Z n1 noted error an old failure\n", 0644);
  off_t from = sup_spawn_log_size(s_cfg, "noted");
  assert_true(from > 0);
  FILE *f = fopen(path, "a");
  assert_non_null(f);
  fputs("usage: noted [--config FILE]\n"
        "2026-11-22T00:10:01.000Z n1 noted info starting\n"
        "2026-11-22T00:10:01.100Z n1 noted error cannot bind port 7001: in use\n"
        "2026-11-22T00:10:01.200Z n1 noted warn shutting down\n",
        f);
  fclose(f);
  sup_spawn_exit_note(s_cfg, "noted", from, note, sizeof note);
  assert_string_equal(note, "cannot bind port 7001: in use");
  /* from 0 the last error line is still the newer one */
  sup_spawn_exit_note(s_cfg, "noted", 0, note, sizeof note);
  assert_string_equal(note, "cannot bind port 7001: in use");
  /* no error line since the offset: the last line that is not a log line */
  from = sup_spawn_log_size(s_cfg, "noted");
  f = fopen(path, "a");
  assert_non_null(f);
  fputs("Segmentation fault\n2026-11-22T00:10:02.000Z n1 noted info again\n", f);
  fclose(f);
  sup_spawn_exit_note(s_cfg, "noted", from, note, sizeof note);
  assert_string_equal(note, "Segmentation fault");
  /* a JSON error line */
  from = sup_spawn_log_size(s_cfg, "noted");
  f = fopen(path, "a");
  assert_non_null(f);
  fputs("{\"time\":\"2026-11-22T00:10:03.000Z\",\"node\":\"n1\",\"actor\":\"noted\","
        "\"level\":\"error\",\"msg\":\"disk full\"}\n",
        f);
  fclose(f);
  sup_spawn_exit_note(s_cfg, "noted", from, note, sizeof note);
  assert_string_equal(note, "disk full");
  /* a note longer than the caller's buffer is cut */
  char small[8];
  sup_spawn_exit_note(s_cfg, "noted", from, small, sizeof small);
  assert_string_equal(small, "disk fu");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_program_path),
      cmocka_unit_test(test_check_programs),
      cmocka_unit_test(test_spawn_environment),
      cmocka_unit_test(test_dies_with_its_supervisor),
      cmocka_unit_test(test_exec_failure_reported),
      cmocka_unit_test(test_exit_note),
  };
  return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
