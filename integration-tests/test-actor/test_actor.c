/* raftvisor-test-actor: an actor that misbehaves on command, for the supervisor's integration
 * tests. It is a real actor (the shared runtime: mailbox, heartbeats, health pings, taps), plus
 * options that make it fail in each way a real actor might:
 *   --exit-after-ms N   exit after N ms, with --exit-code C (default 1)
 *   --crash-after-ms N  abort() after N ms (killed by SIGABRT)
 *   --hang-after-ms N   stop answering anything after N ms (blocks in its loop)
 *   --ignore-sigterm    ignore SIGTERM (the supervisor must SIGKILL it at its shutdown timeout)
 *   --unhealthy REASON  answer health pings with "unhealthy: REASON"
 *   --stop-log FILE     append "<name> <monotonic ms>\n" to FILE when it stops on SIGTERM
 *   --start-fail        fail to start (exit code 75, a temporary failure)
 *   --config-fail       fail to start with a configuration error (exit code 78)
 *   --drain-log FILE    append "drained N\n" to FILE each time the runtime calls drained() after
 *                       N application messages (the runtime's batching, seen from outside)
 *   --slow-first-ms N   sleep N ms in the handler of the first application message, so that
 *                       what is sent meanwhile queues up for the same wake-up
 *   --work-ms N         spend N ms of CPU on every application message (a busy apply)
 *   --abort-at-stop     abort() when it stops on SIGTERM (what ASan does at exit on a leak)
 *   --say TEXT          write the line TEXT to its log (stderr) once started, e.g. a fake
 *                       sanitizer report for the harness's own test */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rv_actor.h"

typedef struct {
  int exit_after_ms, exit_code, crash_after_ms, hang_after_ms;
  bool ignore_sigterm, start_fail, config_fail, abort_at_stop;
  const char *say;
  const char *unhealthy;
  const char *stop_log;
  const char *drain_log;
  int slow_first_ms;
  int work_ms;
  unsigned long handled; /* application messages since the last drained() */
  bool slowed;
} test_actor_t;

static void s_exit_now(rv_actor_t *a, void *arg) {
  test_actor_t *t = arg;
  rv_info("exiting with code %d as told", t->exit_code);
  exit(t->exit_code);
}

static void s_crash_now(rv_actor_t *a, void *arg) {
  rv_info("crashing as told");
  abort();
}

static void s_hang_now(rv_actor_t *a, void *arg) {
  rv_info("hanging as told");
  for (;;) pause();
}

static int s_start(rv_actor_t *a, void *state, rv_err_t *err) {
  test_actor_t *t = state;
  t->exit_code = 1;
  int argc = rv_actor_argc(a);
  char **argv = rv_actor_argv(a);
  for (int i = 0; i < argc; i++) {
    const char *o = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(o, "--exit-after-ms") == 0 && v) t->exit_after_ms = atoi(argv[++i]);
    else if (strcmp(o, "--exit-code") == 0 && v) t->exit_code = atoi(argv[++i]);
    else if (strcmp(o, "--crash-after-ms") == 0 && v) t->crash_after_ms = atoi(argv[++i]);
    else if (strcmp(o, "--hang-after-ms") == 0 && v) t->hang_after_ms = atoi(argv[++i]);
    else if (strcmp(o, "--unhealthy") == 0 && v) t->unhealthy = argv[++i];
    else if (strcmp(o, "--stop-log") == 0 && v) t->stop_log = argv[++i];
    else if (strcmp(o, "--drain-log") == 0 && v) t->drain_log = argv[++i];
    else if (strcmp(o, "--slow-first-ms") == 0 && v) t->slow_first_ms = atoi(argv[++i]);
    else if (strcmp(o, "--work-ms") == 0 && v) t->work_ms = atoi(argv[++i]);
    else if (strcmp(o, "--say") == 0 && v) t->say = argv[++i];
    else if (strcmp(o, "--ignore-sigterm") == 0) t->ignore_sigterm = true;
    else if (strcmp(o, "--abort-at-stop") == 0) t->abort_at_stop = true;
    else if (strcmp(o, "--start-fail") == 0) t->start_fail = true;
    else if (strcmp(o, "--config-fail") == 0) t->config_fail = true;
    else return rv_err_set(err, RV_ECONFIG, "unknown test-actor option \"%s\"", o);
  }
  if (t->config_fail) return rv_err_set(err, RV_ECONFIG, "configuration failure, as told");
  if (t->start_fail) return rv_err_set(err, RV_EIO, "start failure, as told");
  if (t->ignore_sigterm) {
    /* the runtime reads SIGTERM from a signalfd; ignoring it means it never arrives there */
    signal(SIGTERM, SIG_IGN);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    rv_info("ignoring SIGTERM as told");
  }
  if (t->say) fprintf(stderr, "%s\n", t->say);
  if (t->exit_after_ms) rv_actor_timer_add(a, (unsigned)t->exit_after_ms, 1, s_exit_now, t);
  if (t->crash_after_ms) rv_actor_timer_add(a, (unsigned)t->crash_after_ms, 1, s_crash_now, t);
  if (t->hang_after_ms) rv_actor_timer_add(a, (unsigned)t->hang_after_ms, 1, s_hang_now, t);
  return RV_OK;
}

static void s_stop(rv_actor_t *a, void *state) {
  test_actor_t *t = state;
  if (t->stop_log) {
    int fd = open(t->stop_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dprintf(fd, "%s %llu\n", rv_actor_name(a), (unsigned long long)rv_mono_ms());
      close(fd);
    }
  }
  if (t->abort_at_stop) {
    rv_info("aborting at stop as told");
    abort();
  }
}

static void s_message(rv_actor_t *a, void *state, const rv_msg_t *m) {
  test_actor_t *t = state;
  t->handled++;
  if (t->work_ms) { /* busy, as an apply is: CPU, not sleep */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &now);
    while ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 < t->work_ms);
  }
  if (t->slow_first_ms && !t->slowed) {
    t->slowed = true;
    usleep((useconds_t)t->slow_first_ms * 1000);
  }
}

static void s_drained(rv_actor_t *a, void *state) {
  test_actor_t *t = state;
  if (t->drain_log) {
    int fd = open(t->drain_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dprintf(fd, "drained %lu\n", t->handled);
      close(fd);
    }
  }
  t->handled = 0;
}

static bool s_health(rv_actor_t *a, void *state, char *reason, size_t len) {
  test_actor_t *t = state;
  if (!t->unhealthy) return true;
  snprintf(reason, len, "%s", t->unhealthy);
  return false;
}

int main(int argc, char **argv) {
  static test_actor_t state;
  const rv_actor_def_t def = {
      .name = "test-actor", .start = s_start, .message = s_message, .drained = s_drained,
      .stop = s_stop, .health = s_health};
  return rv_actor_main(argc, argv, &def, &state);
}
