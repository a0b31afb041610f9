/* rv_actor, the runtime every actor runs on, driven from outside as the supervisor drives it:
 * this test plays the supervisor (a mailbox named "supervisor" in the node's run directory) and
 * starts rv-actor-probe (a minimal actor) as a real process. Checked: the Ready handshake with
 * the actor's pid; heartbeats answered on the system inbox with their sequence number and the
 * runtime's counters; health pings answered with the actor's own verdict and reason; other
 * messages handed to the actor's handler in order, each reply carrying the request's
 * correlation id, with the drained hook run per batch; SIGTERM runs stop() and exits 0; and the
 * exit codes that are a contract with the supervisor: --help 0, a missing --config, an
 * overlong --name, an unreadable YAML and a start() failing with RV_ECONFIG 78 (do not
 * restart), start() failing otherwise 75 (restart), a parent that is not the supervisor named
 * in RV_SUPERVISOR_PID 1. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "rv_mailbox.h"
#include "rv_test_port.h"

static char s_dir[64], s_yaml[128], s_log[128];
static cfg_node_t *s_cfg;

static int s_setup(void **state) {
  (void)state;
  snprintf(s_dir, sizeof s_dir, "/tmp/rvactor.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  snprintf(s_yaml, sizeof s_yaml, "%s/n1.yaml", s_dir);
  snprintf(s_log, sizeof s_log, "%s/probe.log", s_dir);
  int port = rv_test_ports(2);
  FILE *f = fopen(s_yaml, "w");
  assert_non_null(f);
  fprintf(f,
          "node: {id: n1, data-dir: %s/n1}\n"
          "cluster:\n  id: c1\n  nodes:\n"
          "    - {id: n1, host: 127.0.0.1, raft-port: %d, client-port: %d}\n",
          s_dir, port, port + 1);
  fclose(f);
  zsys_handler_set(NULL);
  rv_err_t err;
  assert_int_equal(cfg_node_load(s_yaml, &s_cfg, -1, &err), RV_OK);
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

/* Starts the probe with args (NULL-terminated, after the program name), its output in s_log;
 * supervisor_pid: the RV_SUPERVISOR_PID it is given (0 = this process). */
static pid_t s_spawn(const char *const *args, pid_t supervisor_pid) {
  char spid[32];
  snprintf(spid, sizeof spid, "%d", (int)(supervisor_pid ? supervisor_pid : getpid()));
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the test, whatever fails */
    int fd = open(s_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(99);
    setenv("RV_SUPERVISOR_PID", spid, 1);
    const char *argv[16] = {RV_ACTOR_PROBE_BIN};
    int n = 1;
    for (; args[n - 1] && n < 15; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    execv(RV_ACTOR_PROBE_BIN, (char **)argv);
    _exit(98);
  }
  return pid;
}

/* The probe's exit code (it must end within 10 s; -1 for a signal). */
static int s_exit_code(pid_t pid) {
  int st = 0;
  for (int k = 0; k < 1000; k++) {
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  fail_msg("the probe did not end within 10 s");
  return -1;
}

static int s_run(const char *const *args, pid_t supervisor_pid) {
  return s_exit_code(s_spawn(args, supervisor_pid));
}

/* The next message on mb within 5 s, which must be of type want. */
static void s_expect(rv_mailbox_t *mb, uint32_t want, rv_msg_t *m) {
  rv_err_t err;
  for (int k = 0; k < 500; k++) {
    zmq_pollitem_t it = {.socket = zsock_resolve(rv_mailbox_inbox(mb)), .events = ZMQ_POLLIN};
    zmq_poll(&it, 1, 10);
    int rc = rv_mailbox_recv(mb, m, &err);
    if (rc == RV_EAGAIN) continue;
    assert_int_equal(rc, RV_OK);
    if (m->type != want) fail_msg("expected message type %u, got %u", want, m->type);
    return;
  }
  fail_msg("no message of type %u within 5 s", want);
}

static char *s_slurp_log(void) {
  FILE *f = fopen(s_log, "r");
  assert_non_null(f);
  static char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void test_protocol(void **state) {
  (void)state;
  rv_mailbox_t *sup = NULL;
  rv_err_t err;
  assert_int_equal(rv_mailbox_new(s_cfg, "supervisor", &sup, &err), RV_OK);
  const char *args[] = {"--config", s_yaml, "--name", "p1", "--unhealthy", NULL};
  pid_t pid = s_spawn(args, 0);
  rv_msg_t m;
  s_expect(sup, RV_MSG_READY, &m);
  assert_string_equal(m.from.actor, "p1");
  assert_string_equal(m.from.node, "n1");
  assert_int_equal(((Rv__Ready *)m.body)->pid, (uint32_t)pid);
  rv_msg_clear(&m);

  /* a heartbeat on the system inbox, answered with its seq, the pid and the counters */
  Rv__Heartbeat hb = RV__HEARTBEAT__INIT;
  hb.seq = 7;
  assert_int_equal(rv_mailbox_send_sys(sup, "p1", RV_MSG_HEARTBEAT, &hb.base, 70, &err), RV_OK);
  s_expect(sup, RV_MSG_HEARTBEAT_ACK, &m);
  const Rv__HeartbeatAck *ack = (const Rv__HeartbeatAck *)m.body;
  assert_int_equal(ack->seq, 7);
  assert_int_equal(ack->pid, (uint32_t)pid);
  assert_int_equal(m.corr_id, 70);
  assert_true(ack->msgs_out >= 1); /* Ready */
  assert_int_equal(ack->bad_frames, 0);
  rv_msg_clear(&m);

  /* a health ping: the actor's own verdict and reason */
  Rv__HealthPing ping = RV__HEALTH_PING__INIT;
  ping.seq = 3;
  assert_int_equal(rv_mailbox_send(sup, "p1", RV_MSG_HEALTH_PING, &ping.base, 30, 0, &err), RV_OK);
  s_expect(sup, RV_MSG_HEALTH_PONG, &m);
  const Rv__HealthPong *pong = (const Rv__HealthPong *)m.body;
  assert_int_equal(pong->seq, 3);
  assert_false(pong->healthy);
  assert_string_equal(pong->reason, "told to be unhealthy");
  rv_msg_clear(&m);

  /* other messages reach the handler, in order, each answered under its correlation id; the
   * drained hook runs after a batch (here: before the next message's turn at the latest) */
  Rv__StatusRequest q = RV__STATUS_REQUEST__INIT;
  for (uint64_t k = 1; k <= 3; k++)
    assert_int_equal(rv_mailbox_send(sup, "p1", RV_MSG_STATUS_REQUEST, &q.base, 100 + k, 0, &err),
                     RV_OK);
  int drained_seen = 0;
  for (uint64_t k = 1; k <= 3; k++) {
    s_expect(sup, RV_MSG_REPLY, &m);
    assert_int_equal(m.corr_id, 100 + k);
    int msgs = -1, drained = -1;
    assert_int_equal(sscanf(((Rv__Reply *)m.body)->message, "messages=%d drained=%d", &msgs,
                            &drained), 2);
    assert_int_equal(msgs, (int)k);
    assert_true(drained < (int)k); /* never more batches than messages before it */
    drained_seen = drained;
    rv_msg_clear(&m);
  }
  assert_int_equal(rv_mailbox_send(sup, "p1", RV_MSG_STATUS_REQUEST, &q.base, 200, 0, &err), RV_OK);
  s_expect(sup, RV_MSG_REPLY, &m);
  int msgs = -1, drained = -1;
  assert_int_equal(sscanf(((Rv__Reply *)m.body)->message, "messages=%d drained=%d", &msgs,
                          &drained), 2);
  assert_int_equal(msgs, 4);
  assert_true(drained >= 1 && drained >= drained_seen); /* the earlier batches were drained */
  rv_msg_clear(&m);

  /* SIGTERM: stop() runs, exit 0 */
  kill(pid, SIGTERM);
  assert_int_equal(s_exit_code(pid), RV_EXIT_OK);
  const char *log = s_slurp_log();
  if (!strstr(log, "n1 p1 info probe stop after 4 messages\n")) fail_msg("log: %s", log);
  if (!strstr(log, "n1 p1 info stopped (exit code 0)\n")) fail_msg("log: %s", log);
  rv_mailbox_destroy(&sup);
}

static void test_exit_codes(void **state) {
  (void)state;
  const char *help[] = {"--help", NULL};
  assert_int_equal(s_run(help, 0), RV_EXIT_OK);
  const char *noconfig[] = {"--name", "p2", NULL};
  assert_int_equal(s_run(noconfig, 0), RV_EXIT_CONFIG);
  if (!strstr(s_slurp_log(), "missing --config FILE")) fail_msg("log: %s", s_slurp_log());
  char longname[128];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  const char *toolong[] = {"--config", s_yaml, "--name", longname, NULL};
  assert_int_equal(s_run(toolong, 0), RV_EXIT_CONFIG);
  char missing[160];
  snprintf(missing, sizeof missing, "%s/nosuch.yaml", s_dir);
  const char *badyaml[] = {"--config", missing, NULL};
  assert_int_equal(s_run(badyaml, 0), RV_EXIT_CONFIG);
  char code[16];
  snprintf(code, sizeof code, "%d", RV_ECONFIG);
  const char *failcfg[] = {"--config", s_yaml, "--name", "p3", "--fail-start", code, NULL};
  assert_int_equal(s_run(failcfg, 0), RV_EXIT_CONFIG);
  if (!strstr(s_slurp_log(), "n1 p3 error cannot start: told to fail its start"))
    fail_msg("log: %s", s_slurp_log());
  snprintf(code, sizeof code, "%d", RV_EIO);
  const char *failio[] = {"--config", s_yaml, "--name", "p4", "--fail-start", code, NULL};
  assert_int_equal(s_run(failio, 0), RV_EXIT_TEMPFAIL);
  /* started by a process other than the supervisor it was told of: it must not run on */
  const char *orphan[] = {"--config", s_yaml, "--name", "p5", NULL};
  assert_int_equal(s_run(orphan, 1), RV_EXIT_FAILURE);
  if (!strstr(s_slurp_log(), "the supervisor that started this actor is gone"))
    fail_msg("log: %s", s_slurp_log());
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_protocol, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_exit_codes, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
