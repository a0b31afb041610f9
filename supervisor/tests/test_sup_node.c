/* sup_node, the supervisor's shell, running a real node in a child process: its actors are
 * rv-actor-probe (a minimal actor of the runtime's tests). Checked: "up <pid>" on the ready
 * descriptor once every actor is ready, the node lock naming the supervisor, the run directory
 * private (0700); an actor killed with SIGKILL is started again; SIGTERM stops the actors
 * (each runs its stop and exits 0), then the supervisor exits 0, leaving no actor behind; a
 * start that an actor refuses as a configuration error ends the node with exit 1 and "failed
 * ..." on the ready descriptor naming the actor and its own reason; the fence budget. */
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

#include "sup_node.h"
#include "rv_test_port.h"

static char s_dir[64], s_yaml[128];
static cfg_node_t *s_cfg;

/* Writes the node's YAML with actors p1 and p2 (the probe; p1_args: p1's own arguments, a YAML
 * flow list) and loads it. */
static void s_node(const char *p1_args) {
  int port = rv_test_ports(2);
  FILE *f = fopen(s_yaml, "w");
  assert_non_null(f);
  fprintf(f,
          "node: {id: n1, data-dir: %s/n1}\n"
          "cluster:\n  id: c1\n  nodes:\n"
          "    - {id: n1, host: 127.0.0.1, raft-port: %d, client-port: %d}\n"
          "supervisor:\n  heartbeat-interval-ms: 100\n  heartbeat-timeout-ms: 2000\n"
          "  restart-min-delay-ms: 50\n  shutdown-timeout-ms: 2000\n"
          "actors:\n"
          "  - {name: p1, exec: %s, args: %s}\n"
          "  - {name: p2, exec: %s}\n",
          s_dir, port, port + 1, RV_ACTOR_PROBE_BIN, p1_args, RV_ACTOR_PROBE_BIN);
  fclose(f);
  rv_err_t err;
  if (cfg_node_load(s_yaml, &s_cfg, -1, &err) != RV_OK) fail_msg("%s", err.msg);
}

static int s_setup(void **state) {
  (void)state;
  snprintf(s_dir, sizeof s_dir, "/tmp/rvsupnode.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  snprintf(s_yaml, sizeof s_yaml, "%s/n1.yaml", s_dir);
  return 0;
}

static int s_teardown(void **state) {
  (void)state;
  cfg_node_destroy(&s_cfg);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
  return system(cmd);
}

/* Runs the node in a child; *ready_fd gets the read end of its ready descriptor. */
static pid_t s_run_node(int *ready_fd) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(p[0]);
    char log[160];
    snprintf(log, sizeof log, "%s/supervisor.out", s_dir);
    if (!freopen(log, "a", stderr)) _exit(97);
    _exit(sup_node_run(s_cfg, p[1]));
  }
  close(p[1]);
  *ready_fd = p[0];
  return pid;
}

/* The ready descriptor's line (blocks until the node is up, failed, or closed it). */
static void s_ready_line(int fd, char *buf, size_t len) {
  size_t n = 0;
  while (n + 1 < len) {
    ssize_t r = read(fd, buf + n, len - 1 - n);
    if (r <= 0) break;
    n += (size_t)r;
    if (memchr(buf, '\n', n)) break;
  }
  buf[n] = '\0';
  close(fd);
}

static int s_wait_exit(pid_t pid) {
  int st = 0;
  for (int k = 0; k < 1500; k++) {
    if (waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  fail_msg("process %d did not end within 15 s", (int)pid);
  return -1;
}

/* How many times "ready pid=" appears in actor's log, and the last pid. */
static int s_readies(const char *actor, pid_t *last) {
  char path[CFG_PATH_MAX + 32], line[512];
  snprintf(path, sizeof path, "%s/%s.log", s_cfg->log_dir, actor);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    const char *p = strstr(line, " ready pid=");
    if (p) {
      n++;
      if (last) *last = (pid_t)atoi(p + 11);
    }
  }
  fclose(f);
  return n;
}

static bool s_log_has(const char *actor, const char *text) {
  char path[CFG_PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/%s.log", s_cfg->log_dir, actor);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  static char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return strstr(buf, text) != NULL;
}

static void test_run_restart_stop(void **state) {
  (void)state;
  s_node("[]");
  int fd;
  pid_t sup = s_run_node(&fd);
  char line[512];
  s_ready_line(fd, line, sizeof line);
  char want[64];
  snprintf(want, sizeof want, "up %d\n", (int)sup);
  assert_string_equal(line, want);
  /* the lock names the supervisor; the run directory is the node user's alone */
  char path[CFG_PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/supervisor.lock", s_cfg->run_dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  int locked = 0;
  assert_int_equal(fscanf(f, "%d", &locked), 1);
  fclose(f);
  assert_int_equal(locked, (int)sup);
  struct stat st;
  assert_int_equal(stat(s_cfg->run_dir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  /* each actor logs its "ready" line just after telling the supervisor */
  pid_t p1 = 0, p2 = 0;
  for (int k = 0; k < 1000 && (s_readies("p1", &p1) < 1 || s_readies("p2", &p2) < 1); k++)
    usleep(10000);
  assert_int_equal(s_readies("p1", &p1), 1);
  assert_int_equal(s_readies("p2", &p2), 1);
  /* kill -9 of an actor: started again */
  assert_int_equal(kill(p1, SIGKILL), 0);
  pid_t again = 0;
  for (int k = 0; k < 1000 && s_readies("p1", &again) < 2; k++) usleep(10000);
  assert_int_equal(s_readies("p1", &again), 2);
  assert_int_not_equal(again, p1);
  /* SIGTERM: every actor stops cleanly, then the supervisor, with nothing left */
  assert_int_equal(kill(sup, SIGTERM), 0);
  assert_int_equal(s_wait_exit(sup), 0);
  assert_true(s_log_has("p1", "stopped (exit code 0)"));
  assert_true(s_log_has("p2", "stopped (exit code 0)"));
  assert_int_not_equal(kill(again, 0), 0);
  assert_int_not_equal(kill(p2, 0), 0);
}

static void test_start_refused(void **state) {
  (void)state;
  char args[64];
  snprintf(args, sizeof args, "[--fail-start, \"%d\"]", RV_ECONFIG);
  s_node(args);
  int fd;
  pid_t sup = s_run_node(&fd);
  char line[1024];
  s_ready_line(fd, line, sizeof line);
  if (strncmp(line, "failed ", 7) != 0 || !strstr(line, "p1") ||
      !strstr(line, "exited with code 78") || !strstr(line, "told to fail its start"))
    fail_msg("ready descriptor: %s", line);
  assert_int_equal(s_wait_exit(sup), 1);
  assert_int_equal(s_readies("p2", NULL), 0); /* started in order: p2 never was */
}

static void test_fence_budget(void **state) {
  (void)state;
  s_node("[]");
  s_cfg->fence_shell_timeout_ms = 1000;
  s_cfg->ssh_connect_timeout_ms = 500;
  s_cfg->nfence_methods = 0;
  assert_int_equal(sup_fence_budget_ms(s_cfg), 1500 + 30000);
  s_cfg->nfence_methods = 3;
  assert_int_equal(sup_fence_budget_ms(s_cfg), 3 * 1500 + 30000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_run_restart_stop, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_start_refused, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_fence_budget, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
