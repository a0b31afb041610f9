/* sup_node, the running supervisor of a node, driven as `raftvisor start --daemon` drives it: a
 * forked child runs sup_node_run over a node whose actors are raftvisor-test-actor, and this
 * process reads the ready pipe and sends signals (it never opens a ZeroMQ socket itself, so the
 * fork is safe).
 *   - sup_node_prepare_dirs makes the data, log and run directories, the run directory 0700;
 *   - a node comes up: "up <pid>" on the ready pipe, its actor running as the supervisor's
 *     child; SIGTERM stops it with exit 0 and the actor is gone (it ran its clean stop);
 *   - a second supervisor of the same node is refused at once ("failed ..." on its pipe, exit 1)
 *     and the first is untouched;
 *   - an actor that fails its start with a configuration error stops the node at start-up:
 *     exit 1 and a reason naming the actor and its exit code on the pipe;
 *   - an actor program that does not exist is refused before anything is spawned, naming it;
 *   - sup_fence_budget_ms: every method at its timeouts plus 30 s. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#include "cfg_node.h"
#include "rv_test_port.h"
#include "sup_node.h"

#ifndef TEST_ACTOR
#error "TEST_ACTOR (the path of raftvisor-test-actor) must be defined by the build"
#endif

static char s_dir[64];

/* Writes node YAML n<k>.yaml whose one actor runs raftvisor-test-actor with args (a YAML flow
 * list body, may be ""), loads it. */
static cfg_node_t *s_node(int k, const char *exec, const char *args) {
  static int port;
  if (!port) port = rv_test_ports(2);
  char path[128], yaml[1024];
  snprintf(path, sizeof path, "%s/n%d.yaml", s_dir, k);
  int n = snprintf(yaml, sizeof yaml,
                   "node: {id: n1, data-dir: %s/n%d}\n"
                   "security: {insecure: true}\n"
                   "cluster:\n  id: c1\n  nodes:\n"
                   "    - {id: n1, host: 127.0.0.1, raft-port: %d, client-port: %d}\n"
                   "supervisor: {restart-min-delay-ms: 50}\n"
                   "actors:\n  - {name: a1, exec: %s, args: [%s]}\n",
                   s_dir, k, port, port + 1, exec, args);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_int_equal(fwrite(yaml, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  if (cfg_node_load(path, &cfg, -1, &err) != RV_OK) fail_msg("%s", err.msg);
  return cfg;
}

typedef struct {
  pid_t pid;
  int rd; /* the ready pipe's read end */
} s_sup_t;

static s_sup_t s_start(const cfg_node_t *cfg) {
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed assertion leaves nothing behind */
    close(p[0]);
    _exit(sup_node_run(cfg, p[1]));
  }
  close(p[1]);
  return (s_sup_t){.pid = pid, .rd = p[0]};
}

/* The supervisor's line on the ready pipe ("up <pid>" or "failed <reason>"), within 15 s. */
static void s_ready_line(s_sup_t *s, char *line, size_t len) {
  size_t got = 0;
  while (got + 1 < len) {
    struct pollfd pf = {.fd = s->rd, .events = POLLIN};
    int r = poll(&pf, 1, 15000);
    assert_true(r == 1);
    ssize_t n = read(s->rd, line + got, len - 1 - got);
    if (n <= 0) break;
    got += (size_t)n;
    if (memchr(line, '\n', got)) break;
  }
  line[got] = '\0';
}

/* Exit code of pid within 15 s (-1 when killed by a signal or still running). */
static int s_exit_code(pid_t pid) {
  for (int k = 0; k < 1500; k++) {
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

/* The children of pid (from /proc), written to out; returns how many. */
static int s_children(pid_t pid, pid_t *out, int max) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  int k = 0;
  for (char *tok = strtok(buf, " \n"); tok && k < max; tok = strtok(NULL, " \n"))
    out[k++] = (pid_t)atoi(tok);
  return k;
}

/* Whether pid is gone (or a zombie, which is dead). */
static bool s_gone(pid_t pid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return true;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *rp = strrchr(buf, ')');
  return rp && rp[1] == ' ' && rp[2] == 'Z';
}

static int s_setup(void **state) {
  (void)state;
  snprintf(s_dir, sizeof s_dir, "/tmp/rvnode.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  return 0;
}

static int s_teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
  return system(cmd);
}

static void test_prepare_dirs(void **state) {
  (void)state;
  cfg_node_t *cfg = s_node(1, TEST_ACTOR, "");
  rv_err_t err;
  assert_int_equal(sup_node_prepare_dirs(cfg, &err), RV_OK);
  struct stat st;
  assert_int_equal(stat(cfg->data_dir, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(stat(cfg->log_dir, &st), 0);
  assert_int_equal(stat(cfg->run_dir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  cfg_node_destroy(&cfg);
}

static void test_up_then_sigterm(void **state) {
  (void)state;
  cfg_node_t *cfg = s_node(2, TEST_ACTOR, "");
  s_sup_t s = s_start(cfg);
  char line[512];
  s_ready_line(&s, line, sizeof line);
  char want[64];
  snprintf(want, sizeof want, "up %d\n", (int)s.pid);
  assert_string_equal(line, want);
  pid_t kids[8];
  int nk = s_children(s.pid, kids, 8);
  assert_int_equal(nk, 1); /* the one actor, a child of the supervisor */
  assert_false(s_gone(kids[0]));

  /* a second supervisor of the same node: refused, the first untouched */
  s_sup_t twin = s_start(cfg);
  char line2[512];
  s_ready_line(&twin, line2, sizeof line2);
  assert_int_equal(strncmp(line2, "failed ", 7), 0);
  assert_int_equal(s_exit_code(twin.pid), 1);
  close(twin.rd);
  assert_false(s_gone(s.pid));
  assert_false(s_gone(kids[0]));

  assert_int_equal(kill(s.pid, SIGTERM), 0);
  assert_int_equal(s_exit_code(s.pid), 0);
  assert_true(s_gone(kids[0]));
  close(s.rd);
  cfg_node_destroy(&cfg);
}

static void test_actor_config_failure_stops_node(void **state) {
  (void)state;
  cfg_node_t *cfg = s_node(3, TEST_ACTOR, "--config-fail");
  s_sup_t s = s_start(cfg);
  char line[512];
  s_ready_line(&s, line, sizeof line);
  assert_int_equal(strncmp(line, "failed ", 7), 0);
  assert_non_null(strstr(line, "a1"));
  assert_non_null(strstr(line, "78"));
  assert_int_equal(s_exit_code(s.pid), 1);
  close(s.rd);
  cfg_node_destroy(&cfg);
}

static void test_missing_program_refused(void **state) {
  (void)state;
  char exec[128];
  snprintf(exec, sizeof exec, "%s/no-such-actor", s_dir);
  cfg_node_t *cfg = s_node(4, exec, "");
  s_sup_t s = s_start(cfg);
  char line[512];
  s_ready_line(&s, line, sizeof line);
  assert_int_equal(strncmp(line, "failed ", 7), 0);
  assert_non_null(strstr(line, "no-such-actor"));
  assert_int_equal(s_exit_code(s.pid), 1);
  pid_t kids[4];
  assert_int_equal(s_children(s.pid, kids, 4), 0);
  close(s.rd);
  cfg_node_destroy(&cfg);
}

static void test_fence_budget(void **state) {
  (void)state;
  cfg_node_t *cfg = s_node(5, TEST_ACTOR, "");
  uint64_t per = (uint64_t)cfg->fence_shell_timeout_ms + (uint64_t)cfg->ssh_connect_timeout_ms;
  assert_int_equal(sup_fence_budget_ms(cfg), per + 30000); /* no methods: one's worth */
  cfg->nfence_methods = 3;
  assert_int_equal(sup_fence_budget_ms(cfg), 3 * per + 30000);
  cfg_node_destroy(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_prepare_dirs),
      cmocka_unit_test(test_up_then_sigterm),
      cmocka_unit_test(test_actor_config_failure_stops_node),
      cmocka_unit_test(test_missing_program_refused),
      cmocka_unit_test(test_fence_budget),
  };
  return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
