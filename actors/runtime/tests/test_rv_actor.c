/* rv_actor, the runtime every actor process runs, driven as its supervisor drives it: a child
 * process runs rv_actor_main over real ipc sockets in a temporary run dir, and this process
 * plays the supervisor (its inbox is "supervisor") and a neighbour actor ("peer").
 *   - the command line: --help exits 0, a missing --config or an over-long --name is a
 *     configuration error (78), an unreadable YAML too;
 *   - a child whose spawning supervisor is gone (RV_SUPERVISOR_PID not its parent) exits 1 at
 *     once instead of living on as an orphan;
 *   - start() failing: RV_ECONFIG exits 78 (not restarted), anything else 75, and no Ready;
 *   - Ready reaches the supervisor with the child's pid; heartbeats on the system inbox are
 *     answered with their seq and the pid; health pings carry the actor's own verdict and
 *     reason;
 *   - messages reach message() in order, drained() runs after each batch and sees them all;
 *   - a timer of n shots fires exactly n times;
 *   - rv_actor_stop(code) ends the loop with that exit code, stop() runs; SIGTERM exits 0 with
 *     stop() run. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.pb-c.h"
#include "envelope.pb-c.h"
#include "raft.pb-c.h"
#include "rv_actor.h"
#include "rv_log.h"
#include "rv_mailbox.h"
#include "rv_msgtypes.h"
#include "rv_test_port.h"

static char s_dir[64];
static char s_yaml[128];
static cfg_node_t *s_cfg;
static rv_mailbox_t *s_sup;  /* this process as the supervisor */
static rv_mailbox_t *s_peer; /* this process as another actor */

/* ---- the actor under test (runs in the child) ---------------------------------------------- */

typedef struct {
  int start_rc;      /* what start() returns */
  unsigned batch;    /* messages since the last drained() */
  char stop_mark[160];
} s_actor_t;

static void s_on_timer(rv_actor_t *a, void *arg) {
  static uint64_t shot;
  (void)arg;
  Rv__Applied ap = RV__APPLIED__INIT;
  ap.index = 1000 + ++shot;
  rv_actor_send(a, "peer", RV_MSG_APPLIED, &ap.base, 0);
}

static int s_start(rv_actor_t *a, void *state, rv_err_t *err) {
  s_actor_t *s = state;
  if (s->start_rc) return rv_err_set(err, s->start_rc, "start refused by the test");
  if (rv_actor_timer_add(a, 10, 3, s_on_timer, NULL) < 0)
    return rv_err_set(err, RV_EINTERNAL, "timer");
  return RV_OK;
}

/* Applied{index, taken}: taken 0 = echo index back to "peer"; taken 1 = stop with code index. */
static void s_message(rv_actor_t *a, void *state, const rv_msg_t *m) {
  s_actor_t *s = state;
  if (m->type != RV_MSG_APPLIED) return;
  const Rv__Applied *in = (const Rv__Applied *)m->body;
  s->batch++;
  if (in->taken == 1) {
    rv_actor_stop(a, (int)in->index);
    return;
  }
  Rv__Applied out = RV__APPLIED__INIT;
  out.index = in->index;
  rv_actor_send(a, "peer", RV_MSG_APPLIED, &out.base, 0);
}

/* Reports each batch's size to the peer as Applied{index 0, taken = size}. */
static void s_drained(rv_actor_t *a, void *state) {
  s_actor_t *s = state;
  Rv__Applied out = RV__APPLIED__INIT;
  out.taken = s->batch;
  s->batch = 0;
  rv_actor_send(a, "peer", RV_MSG_APPLIED, &out.base, 0);
}

static void s_stop(rv_actor_t *a, void *state) {
  s_actor_t *s = state;
  (void)a;
  FILE *f = fopen(s->stop_mark, "w");
  if (f) fclose(f);
}

static bool s_health(rv_actor_t *a, void *state, char *reason, size_t len) {
  (void)a;
  (void)state;
  snprintf(reason, len, "sick on purpose");
  return false;
}

static const rv_actor_def_t s_def = {.name = "probe",
                                     .start = s_start,
                                     .message = s_message,
                                     .drained = s_drained,
                                     .stop = s_stop,
                                     .health = s_health};

/* Starts a child running rv_actor_main with argv (NULL-terminated) and start() returning
 * start_rc: this test program re-executed (a forked child must not use the parent's ZeroMQ
 * context, whose I/O threads it does not have). Returns its pid. */
static pid_t s_spawn(const char *const *argv, int start_rc) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char rc[16], mark[160];
    snprintf(rc, sizeof rc, "%d", start_rc);
    snprintf(mark, sizeof mark, "%s/stopped", s_dir);
    setenv("RV_TEST_ACTOR_START_RC", rc, 1);
    setenv("RV_TEST_ACTOR_STOP_MARK", mark, 1);
    execv("/proc/self/exe", (char *const *)argv);
    _exit(127);
  }
  return pid;
}

/* The child: runs the actor. */
static int s_child_main(int argc, char **argv) {
  static s_actor_t st;
  st.start_rc = atoi(getenv("RV_TEST_ACTOR_START_RC"));
  snprintf(st.stop_mark, sizeof st.stop_mark, "%s", getenv("RV_TEST_ACTOR_STOP_MARK"));
  return rv_actor_main(argc, argv, &s_def, &st);
}

static const char *const s_argv[] = {"probe", "--config", s_yaml, NULL};

/* Waits (10 s at most) for pid to exit; returns its exit code, or -1 (killed, or still there). */
static int s_exit_code(pid_t pid) {
  for (int k = 0; k < 1000; k++) {
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

/* Receives one message on mb's inbox (sys: its system inbox) within 5 s. */
static int s_recv(rv_mailbox_t *mb, bool sys, rv_msg_t *m) {
  rv_err_t err;
  for (int k = 0; k < 500; k++) {
    zsock_t *sock = sys ? rv_mailbox_sys_inbox(mb) : rv_mailbox_inbox(mb);
    zmq_pollitem_t it = {.socket = zsock_resolve(sock), .events = ZMQ_POLLIN};
    zmq_poll(&it, 1, 10);
    int rc = sys ? rv_mailbox_recv_sys(mb, m, &err) : rv_mailbox_recv(mb, m, &err);
    if (rc != RV_EAGAIN) return rc;
  }
  return RV_EAGAIN;
}

/* Waits for Ready from the child; returns the pid it reports. */
static uint32_t s_ready(void) {
  rv_msg_t m = {0};
  assert_int_equal(s_recv(s_sup, false, &m), RV_OK);
  assert_int_equal(m.type, RV_MSG_READY);
  assert_string_equal(m.from.actor, "probe");
  uint32_t pid = ((Rv__Ready *)m.body)->pid;
  rv_msg_clear(&m);
  return pid;
}

/* Sends to the actor, retrying while its inbox is not bound yet. */
static void s_send(rv_mailbox_t *from, uint32_t type, const ProtobufCMessage *body, bool sys) {
  rv_err_t err;
  for (int k = 0; k < 500; k++) {
    int rc = sys ? rv_mailbox_send_sys(from, "probe", type, body, 0, &err)
                 : rv_mailbox_send(from, "probe", type, body, 0, 0, &err);
    if (rc == RV_OK) return;
    usleep(10000);
  }
  fail_msg("cannot send to the actor: %s", err.msg);
}

static bool s_stop_marked(void) {
  char p[160];
  snprintf(p, sizeof p, "%s/stopped", s_dir);
  return access(p, F_OK) == 0;
}

/* ---- fixtures ------------------------------------------------------------------------------ */

static int s_setup(void **state) {
  (void)state;
  snprintf(s_dir, sizeof s_dir, "/tmp/rvactor.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  int port = rv_test_ports(2);
  zsys_handler_set(NULL);
  char yaml[512];
  int n = snprintf(yaml, sizeof yaml,
                   "node: {id: n1, data-dir: %s/n1}\n"
                   "security: {insecure: true}\n"
                   "cluster:\n  id: c1\n  nodes:\n"
                   "    - {id: n1, host: 127.0.0.1, raft-port: %d, client-port: %d}\n",
                   s_dir, port, port + 1);
  snprintf(s_yaml, sizeof s_yaml, "%s/n1.yaml", s_dir);
  FILE *f = fopen(s_yaml, "w");
  assert_non_null(f);
  assert_int_equal(fwrite(yaml, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  rv_err_t err;
  assert_int_equal(cfg_node_load(s_yaml, &s_cfg, -1, &err), RV_OK);
  char cmd[CFG_PATH_MAX * 2 + 32];
  snprintf(cmd, sizeof cmd, "mkdir -p %s %s", s_cfg->run_dir, s_cfg->log_dir);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(rv_mailbox_new(s_cfg, "supervisor", &s_sup, &err), RV_OK);
  assert_int_equal(rv_mailbox_new(s_cfg, "peer", &s_peer, &err), RV_OK);
  unsetenv("RV_SUPERVISOR_PID");
  return 0;
}

static int s_teardown(void **state) {
  (void)state;
  rv_mailbox_destroy(&s_peer);
  rv_mailbox_destroy(&s_sup);
  cfg_node_destroy(&s_cfg);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
  return system(cmd);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_command_line(void **state) {
  (void)state;
  const char *help[] = {"probe", "--help", NULL};
  assert_int_equal(s_exit_code(s_spawn(help, 0)), RV_EXIT_OK);
  const char *noconfig[] = {"probe", NULL};
  assert_int_equal(s_exit_code(s_spawn(noconfig, 0)), RV_EXIT_CONFIG);
  char longname[RV_NAME_MAX + 8];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  const char *toolong[] = {"probe", "--config", s_yaml, "--name", longname, NULL};
  assert_int_equal(s_exit_code(s_spawn(toolong, 0)), RV_EXIT_CONFIG);
  const char *missing[] = {"probe", "--config", "/nonexistent/n1.yaml", NULL};
  assert_int_equal(s_exit_code(s_spawn(missing, 0)), RV_EXIT_CONFIG);
}

static void test_orphan_exits(void **state) {
  (void)state;
  setenv("RV_SUPERVISOR_PID", "1", 1); /* not our parent: the spawning supervisor is gone */
  pid_t pid = s_spawn(s_argv, 0);
  unsetenv("RV_SUPERVISOR_PID");
  assert_int_equal(s_exit_code(pid), RV_EXIT_FAILURE);
}

static void test_start_failure(void **state) {
  (void)state;
  assert_int_equal(s_exit_code(s_spawn(s_argv, RV_ECONFIG)), RV_EXIT_CONFIG);
  assert_int_equal(s_exit_code(s_spawn(s_argv, RV_EIO)), RV_EXIT_TEMPFAIL);
  rv_msg_t m = {0};
  rv_err_t err;
  assert_int_equal(rv_mailbox_recv(s_sup, &m, &err), RV_EAGAIN); /* no Ready from either */
  assert_false(s_stop_marked()); /* stop() runs only after a successful start() */
}

static void test_lifecycle(void **state) {
  (void)state;
  pid_t pid = s_spawn(s_argv, 0);
  assert_int_equal(s_ready(), (uint32_t)pid);

  /* heartbeat on the system inbox: answered with its seq and our pid */
  Rv__Heartbeat hb = RV__HEARTBEAT__INIT;
  hb.seq = 7;
  s_send(s_sup, RV_MSG_HEARTBEAT, &hb.base, true);
  rv_msg_t m = {0};
  assert_int_equal(s_recv(s_sup, false, &m), RV_OK);
  assert_int_equal(m.type, RV_MSG_HEARTBEAT_ACK);
  assert_int_equal(((Rv__HeartbeatAck *)m.body)->seq, 7);
  assert_int_equal(((Rv__HeartbeatAck *)m.body)->pid, (uint32_t)pid);
  rv_msg_clear(&m);

  /* health ping: the actor's own verdict and reason */
  Rv__HealthPing hp = RV__HEALTH_PING__INIT;
  hp.seq = 9;
  s_send(s_sup, RV_MSG_HEALTH_PING, &hp.base, false);
  assert_int_equal(s_recv(s_sup, false, &m), RV_OK);
  assert_int_equal(m.type, RV_MSG_HEALTH_PONG);
  const Rv__HealthPong *pong = (const Rv__HealthPong *)m.body;
  assert_int_equal(pong->seq, 9);
  assert_false(pong->healthy);
  assert_string_equal(pong->reason, "sick on purpose");
  rv_msg_clear(&m);

  /* 50 messages: echoed in order; the drained() reports add up to 50; the timer shot 3 times */
  for (uint64_t i = 1; i <= 50; i++) {
    Rv__Applied ap = RV__APPLIED__INIT;
    ap.index = i;
    s_send(s_peer, RV_MSG_APPLIED, &ap.base, false);
  }
  uint64_t next = 1, drained = 0, reports = 0, shots = 0;
  while (next <= 50 || drained < 50 || shots < 3) {
    assert_int_equal(s_recv(s_peer, false, &m), RV_OK);
    assert_int_equal(m.type, RV_MSG_APPLIED);
    const Rv__Applied *ap = (const Rv__Applied *)m.body;
    if (ap->index > 1000) {
      assert_int_equal(ap->index, 1000 + ++shots);
    } else if (ap->index == 0) {
      assert_true(ap->taken >= 1); /* drained() only after a batch that had messages */
      drained += ap->taken;
      reports++;
    } else {
      assert_int_equal(ap->index, next);
      next++;
    }
    rv_msg_clear(&m);
  }
  assert_int_equal(drained, 50);
  assert_true(reports >= 1 && reports <= 50);
  usleep(100000); /* a timer of 3 shots fires no fourth time */
  rv_err_t err;
  assert_int_equal(rv_mailbox_recv(s_peer, &m, &err), RV_EAGAIN);

  /* rv_actor_stop(42) from a handler: exit code 42, stop() ran */
  Rv__Applied stop = RV__APPLIED__INIT;
  stop.index = 42;
  stop.taken = 1;
  s_send(s_peer, RV_MSG_APPLIED, &stop.base, false);
  assert_int_equal(s_exit_code(pid), 42);
  assert_true(s_stop_marked());
}

static void test_sigterm_stops_cleanly(void **state) {
  (void)state;
  char p[160];
  snprintf(p, sizeof p, "%s/stopped", s_dir);
  unlink(p);
  pid_t pid = s_spawn(s_argv, 0);
  assert_int_equal(s_ready(), (uint32_t)pid);
  assert_int_equal(kill(pid, SIGTERM), 0);
  assert_int_equal(s_exit_code(pid), RV_EXIT_OK);
  assert_true(s_stop_marked());
}

int main(int argc, char **argv) {
  if (getenv("RV_TEST_ACTOR_START_RC")) return s_child_main(argc, argv);
  rv_log_init("n1", "test", CFG_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_command_line),
      cmocka_unit_test(test_orphan_exits),
      cmocka_unit_test(test_start_failure),
      cmocka_unit_test(test_lifecycle),
      cmocka_unit_test(test_sigterm_stops_cleanly),
  };
  return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
