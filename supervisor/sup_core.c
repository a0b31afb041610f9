/* sup_core: the supervisor's restart policy and child state machine. Pure: no processes,
 * sockets, clocks or files; the shell passes time in and carries the actions out. */
#include "sup_core.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "rv_error.h"

static const char *s_child_states[] = {"stopped", "starting", "running",
                                       "stopping", "backoff", "failed"};
static const char *s_node_states[] = {"starting", "running", "stopping", "stopped"};

const char *sup_child_state_name(sup_child_state_t s) { return s_child_states[s]; }
const char *sup_node_state_name(sup_node_state_t s) { return s_node_states[s]; }

/* Bounded copy that always terminates (snprintf("%s") trips -Wrestrict between fields of one
 * struct). */
static void s_copy(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static sup_action_t *s_push(sup_core_t *core, sup_action_kind_t kind, int child) {
  /* The queue is drained after every event and one event queues at most a few actions per
   * child, so running out means a bug in the shell. Keep the newest by dropping the oldest log
   * line rather than an action that changes processes. */
  if (core->nactions == SUP_MAX_ACTIONS) {
    for (int i = 0; i < core->nactions; i++)
      if (core->actions[i].kind == SUP_ACT_LOG) {
        memmove(&core->actions[i], &core->actions[i + 1],
                (size_t)(core->nactions - i - 1) * sizeof core->actions[0]);
        core->nactions--;
        break;
      }
    if (core->nactions == SUP_MAX_ACTIONS) core->nactions--;
  }
  sup_action_t *a = &core->actions[core->nactions++];
  memset(a, 0, sizeof *a);
  a->kind = kind;
  a->child = child;
  return a;
}

__attribute__((format(printf, 3, 4))) static void s_log(sup_core_t *core, cfg_log_level_t level,
                                                         const char *fmt, ...) {
  sup_action_t *a = s_push(core, SUP_ACT_LOG, -1);
  a->level = level;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(a->text, sizeof a->text, fmt, ap);
  va_end(ap);
}

void sup_exit_describe(int status, char *buf, size_t len) {
  if (WIFEXITED(status))
    snprintf(buf, len, "exited with code %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
  else
    snprintf(buf, len, "ended with status 0x%x", (unsigned)status);
}

uint64_t sup_policy_backoff_ms(const sup_policy_t *p, unsigned quick_exits) {
  if (quick_exits <= 1) return 0;
  uint64_t d = p->restart_min_delay_ms ? p->restart_min_delay_ms : 1;
  for (unsigned i = 1; i < quick_exits && d < p->restart_max_delay_ms; i++) d *= 2;
  return d < p->restart_max_delay_ms ? d : p->restart_max_delay_ms;
}

bool sup_child_stopped_cleanly(const sup_child_t *c) {
  if (!c->has_status || c->killed_at_stop) return false;
  if (!(WIFEXITED(c->last_status) && WEXITSTATUS(c->last_status) == 0)) return false;
  if (c->exited_at_stop) return true;
  /* ended before the stop: clean only if it had ended for good with code 0 */
  return c->state_at_stop == SUP_CHILD_STOPPED;
}

void sup_core_init(sup_core_t *core, const cfg_node_t *cfg) {
  memset(core, 0, sizeof *core);
  core->policy = (sup_policy_t){
      .heartbeat_interval_ms = (uint64_t)cfg->heartbeat_interval_ms,
      .heartbeat_timeout_ms = (uint64_t)cfg->heartbeat_timeout_ms,
      .restart_min_delay_ms = (uint64_t)cfg->restart_min_delay_ms,
      .restart_max_delay_ms = (uint64_t)cfg->restart_max_delay_ms,
      .restart_stable_ms = (uint64_t)cfg->restart_stable_ms,
      .restart_intensity = (unsigned)cfg->restart_intensity,
      .restart_period_ms = (uint64_t)cfg->restart_period_s * 1000u,
      .start_timeout_ms = (uint64_t)cfg->start_timeout_ms,
  };
  core->nchildren = cfg->nactors < SUP_MAX_CHILDREN ? cfg->nactors : SUP_MAX_CHILDREN;
  for (int i = 0; i < core->nchildren; i++) {
    sup_child_t *c = &core->children[i];
    snprintf(c->name, sizeof c->name, "%s", cfg->actors[i].name);
    c->restart = cfg->actors[i].restart;
    c->shutdown_timeout_ms = (uint64_t)cfg->actors[i].shutdown_timeout_ms;
    c->state = SUP_CHILD_STOPPED;
  }
  core->state = SUP_NODE_STOPPED;
}

int sup_core_find(const sup_core_t *core, const char *name) {
  for (int i = 0; i < core->nchildren; i++)
    if (strcmp(core->children[i].name, name) == 0) return i;
  return -1;
}

int sup_core_find_pid(const sup_core_t *core, int pid) {
  if (pid <= 0) return -1;
  for (int i = 0; i < core->nchildren; i++)
    if (core->children[i].pid == pid) return i;
  return -1;
}

/* The child answered at now (or was spawned): its run-queue wait is counted afresh. */
static void s_answered(sup_child_t *c, uint64_t now) {
  c->answered_ms = now;
  c->waited_ms = 0;
  c->starving = false;
  c->sched_known = false; /* sampled again once late: its next sample is a baseline */
  c->credit_ns = 0;
}

static void s_spawn(sup_core_t *core, int i, uint64_t now) {
  sup_child_t *c = &core->children[i];
  c->state = SUP_CHILD_STARTING;
  c->ever_spawned = true;
  c->pid = 0;
  c->spawned_ms = now;
  c->deadline_ms = now + core->policy.start_timeout_ms;
  c->killed = false;
  c->manual_restart = false;
  c->kill_reason[0] = '\0';
  s_answered(c, now); /* a new process: its first sample is a baseline */
  s_push(core, SUP_ACT_SPAWN, i);
}

static void s_signal(sup_core_t *core, int i, int sig) {
  sup_child_t *c = &core->children[i];
  if (c->pid <= 0) return;
  sup_action_t *a = s_push(core, SUP_ACT_SIGNAL, i);
  a->pid = c->pid;
  a->sig = sig;
}

/* Kills a child the supervisor has given up on (hung, slow to start); its exit will follow. */
static void s_kill(sup_core_t *core, int i, const char *reason, uint64_t now) {
  sup_child_t *c = &core->children[i];
  snprintf(c->kill_reason, sizeof c->kill_reason, "%s", reason);
  s_log(core, CFG_LOG_WARN, "actor %s (pid %d) %s: killing it", c->name, c->pid, reason);
  s_signal(core, i, SIGKILL);
  c->state = SUP_CHILD_STOPPING;
  c->killed = true;
  c->deadline_ms = UINT64_MAX; /* SIGKILL cannot be refused: wait for the exit */
}

/* Stopping the node: sends SIGTERM to the next running child in reverse order, or finishes. */
static void s_stop_next(sup_core_t *core, uint64_t now) {
  while (core->stop_at >= 0) {
    sup_child_t *c = &core->children[core->stop_at];
    if (c->state == SUP_CHILD_STARTING || c->state == SUP_CHILD_RUNNING) {
      s_log(core, CFG_LOG_INFO, "stopping actor %s (pid %d)", c->name, c->pid);
      s_signal(core, core->stop_at, SIGTERM);
      c->state = SUP_CHILD_STOPPING;
      c->deadline_ms = now + c->shutdown_timeout_ms;
      return;
    }
    if (c->state == SUP_CHILD_STOPPING) return; /* already on its way down */
    if (c->state == SUP_CHILD_BACKOFF) c->state = SUP_CHILD_STOPPED;
    core->stop_at--;
  }
  core->state = SUP_NODE_STOPPED;
  sup_action_t *a = s_push(core, SUP_ACT_STOPPED, -1);
  a->code = core->exit_code;
  s_copy(a->text, sizeof a->text, core->stop_reason);
}

void sup_core_armed(sup_core_t *core, uint64_t now, uint64_t ms) { core->wake_by_ms = now + ms; }

static void s_observe(sup_core_t *core, uint64_t now);

void sup_core_observe(sup_core_t *core, uint64_t now) { s_observe(core, now); }

/* An event at now: if the supervisor ran later than it meant to, the delay is not the
 * children's to answer for (see the header). */
static void s_observe(sup_core_t *core, uint64_t now) {
  if (!core->wake_by_ms || now <= core->wake_by_ms + SUP_CORE_STALL_SLACK_MS) return;
  uint64_t d = now - core->wake_by_ms;
  /* counted once; the supervisor runs from now on, so a second stop before the shell arms again
   * (inside this same event) is measured from here, not lost */
  core->wake_by_ms = now;
  core->stalls++;
  core->stalled_ms += d;
  for (int i = 0; i < core->nchildren; i++) {
    sup_child_t *c = &core->children[i];
    if (c->state == SUP_CHILD_RUNNING) {
      c->last_ack_ms = c->last_ack_ms + d < now ? c->last_ack_ms + d : now;
    } else if (c->state == SUP_CHILD_STARTING && c->deadline_ms != UINT64_MAX) {
      c->deadline_ms += d;
    }
  }
  core->next_heartbeat_ms = now; /* fresh heartbeats at once */
  if (d >= core->policy.heartbeat_timeout_ms / 4) /* shorter ones are only counted */
    s_log(core, d >= core->policy.heartbeat_timeout_ms / 2 ? CFG_LOG_WARN : CFG_LOG_INFO,
          "the supervisor ran %llu ms late (paused, or an overloaded host): that time is not "
          "counted against any actor's heartbeat; fresh heartbeats go out now",
          (unsigned long long)d);
}

void sup_core_stop(sup_core_t *core, int code, const char *reason, uint64_t now) {
  if (core->state == SUP_NODE_STOPPING || core->state == SUP_NODE_STOPPED) return;
  core->state = SUP_NODE_STOPPING;
  core->exit_code = code;
  s_copy(core->stop_reason, sizeof core->stop_reason, reason);
  for (int i = 0; i < core->nchildren; i++)
    core->children[i].state_at_stop = core->children[i].state;
  s_log(core, code ? CFG_LOG_ERROR : CFG_LOG_INFO, "stopping node: %s", reason);
  core->stop_at = core->nchildren - 1;
  s_stop_next(core, now);
}

/* Spawns the first child that has not started yet, in start order (each waits for the Ready of
 * the one before, as OTP's start_link does). */
static void s_start_next(sup_core_t *core, uint64_t now) {
  for (int i = 0; i < core->nchildren; i++) {
    sup_child_t *c = &core->children[i];
    if (c->state == SUP_CHILD_STARTING || c->state == SUP_CHILD_BACKOFF) return;
    if (c->state == SUP_CHILD_STOPPED && !c->ever_spawned) {
      s_spawn(core, i, now);
      return;
    }
  }
  if (core->state == SUP_NODE_STARTING) {
    core->state = SUP_NODE_RUNNING;
    s_push(core, SUP_ACT_NODE_UP, -1);
    s_log(core, CFG_LOG_INFO, "node up: %d actors ready", core->nchildren);
  }
}

void sup_core_start(sup_core_t *core, uint64_t now) {
  core->state = SUP_NODE_STARTING;
  core->next_heartbeat_ms = now + core->policy.heartbeat_interval_ms;
  s_start_next(core, now);
}

void sup_core_spawned(sup_core_t *core, int i, int pid, uint64_t now) {
  if (i < 0 || i >= core->nchildren) return;
  sup_child_t *c = &core->children[i];
  c->pid = pid;
  if (core->state == SUP_NODE_STOPPING) {
    /* spawned while the stop began: stop it in its turn */
    if (core->stop_at < i) {
      s_signal(core, i, SIGKILL);
      c->state = SUP_CHILD_STOPPING;
      c->killed = true;
    }
  }
}

void sup_core_ready(sup_core_t *core, int i, int pid, uint64_t now) {
  if (i < 0 || i >= core->nchildren) return;
  sup_child_t *c = &core->children[i];
  if (c->state != SUP_CHILD_STARTING || (pid && c->pid && pid != c->pid)) return;
  c->state = SUP_CHILD_RUNNING;
  c->ready_ms = now;
  c->last_ack_ms = now;
  s_answered(c, now);
  s_log(core, CFG_LOG_INFO, "actor %s ready (pid %d, %llu ms after spawn)", c->name, c->pid,
        (unsigned long long)(now - c->spawned_ms));
  if (core->state == SUP_NODE_STARTING) s_start_next(core, now);
}

void sup_core_heartbeat_ack(sup_core_t *core, int i, int pid, uint64_t now) {
  s_observe(core, now);
  if (i < 0 || i >= core->nchildren) return;
  sup_child_t *c = &core->children[i];
  if (pid && c->pid && pid != c->pid) return; /* an answer from a predecessor */
  if (c->state == SUP_CHILD_RUNNING) {
    c->last_ack_ms = now;
    s_answered(c, now);
  }
}

bool sup_core_wants_sched(const sup_core_t *core, int i, uint64_t now) {
  if (i < 0 || i >= core->nchildren) return false;
  const sup_child_t *c = &core->children[i];
  if (c->pid <= 0 || core->state == SUP_NODE_STOPPING) return false;
  if (c->state == SUP_CHILD_STARTING) return true;
  uint64_t late = core->policy.heartbeat_interval_ms + core->policy.heartbeat_interval_ms / 2;
  return c->state == SUP_CHILD_RUNNING && now >= c->answered_ms + late;
}

void sup_core_sched(sup_core_t *core, int i, int pid, const sup_sched_t *s, uint64_t now) {
  if (i < 0 || i >= core->nchildren || !s) return;
  sup_child_t *c = &core->children[i];
  if (pid <= 0 || c->pid != pid) return; /* a predecessor's, or not yet known to be this one */
  if (c->state != SUP_CHILD_STARTING && c->state != SUP_CHILD_RUNNING) return;
  if (!c->sched_known || now < c->sched_at_ms) {
    c->sched_known = true;
    c->sched_at_ms = now;
    c->sched = *s;
    return;
  }
  /* a thread that ended took its counts along: a sum that went down earns nothing this time */
  uint64_t waited = s->wait_ns > c->sched.wait_ns ? s->wait_ns - c->sched.wait_ns : 0;
  uint64_t ran = s->cpu_ns > c->sched.cpu_ns ? s->cpu_ns - c->sched.cpu_ns : 0;
  uint64_t wall = (now - c->sched_at_ms) * 1000000u;
  c->sched = *s;
  c->sched_at_ms = now;
  /* never more than the time its loop thread did not run: a loop that spins is charged in full */
  uint64_t room = wall > ran ? wall - ran : 0;
  c->credit_ns += waited < room ? waited : room;
  uint64_t ms = c->credit_ns / 1000000u;
  c->credit_ns %= 1000000u;
  bool running = c->state == SUP_CHILD_RUNNING;
  uint64_t timeout = running ? core->policy.heartbeat_timeout_ms : core->policy.start_timeout_ms;
  uint64_t cap = timeout * SUP_CORE_WAIT_CREDIT_MAX;
  if (c->waited_ms + ms > cap) ms = cap > c->waited_ms ? cap - c->waited_ms : 0;
  if (running) {
    /* the clock never runs ahead of now (credit for wait before the last answer is lost) */
    uint64_t room_ms = now > c->last_ack_ms ? now - c->last_ack_ms : 0;
    if (ms > room_ms) ms = room_ms;
    c->last_ack_ms += ms;
  } else if (c->deadline_ms != UINT64_MAX) {
    c->deadline_ms += ms;
  }
  c->waited_ms += ms;
  c->cpu_wait_ms += ms;
}

/* Counts an automatic restart against the intensity; true if the limit is now exceeded. */
static bool s_intensity_exceeded(sup_core_t *core, uint64_t now) {
  unsigned keep = 0;
  for (unsigned k = 0; k < core->restart_log_len; k++)
    if (now - core->restart_log[k] < core->policy.restart_period_ms)
      core->restart_log[keep++] = core->restart_log[k];
  core->restart_log_len = keep;
  if (core->restart_log_len < sizeof core->restart_log / sizeof core->restart_log[0])
    core->restart_log[core->restart_log_len++] = now;
  return core->restart_log_len > core->policy.restart_intensity;
}

void sup_core_exited(sup_core_t *core, int pid, int status, uint64_t now) {
  s_observe(core, now);
  int i = sup_core_find_pid(core, pid);
  if (i < 0) return;
  sup_child_t *c = &core->children[i];
  char how[64], exit_text[2 * SUP_REASON_MAX];
  sup_exit_describe(status, how, sizeof how);
  bool abnormal = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (c->kill_reason[0])
    snprintf(exit_text, sizeof exit_text, "%s (%s)", how, c->kill_reason);
  else if (abnormal && WIFEXITED(status) && c->exit_note[0])
    snprintf(exit_text, sizeof exit_text, "%s: %s", how, c->exit_note);
  else
    snprintf(exit_text, sizeof exit_text, "%s", how);
  c->exit_note[0] = '\0';
  s_copy(c->last_exit, sizeof c->last_exit, exit_text);
  c->last_status = status;
  c->has_status = true;
  bool was_stopping = c->state == SUP_CHILD_STOPPING;
  bool manual = c->manual_restart;
  uint64_t uptime = now - c->spawned_ms;
  c->pid = 0;

  if (core->state == SUP_NODE_STOPPING) {
    c->state = SUP_CHILD_STOPPED;
    c->exited_at_stop = true;
    c->killed_at_stop = c->killed;
    if (i == core->stop_at) {
      if (c->killed) {
        s_copy(core->killed[core->nkilled++], CFG_ID_MAX + 1, c->name);
      } else {
        s_copy(core->stopped[core->nstopped++], CFG_ID_MAX + 1, c->name);
      }
      core->stop_at--;
    }
    s_log(core, CFG_LOG_INFO, "actor %s %s", c->name, c->last_exit);
    s_stop_next(core, now);
    return;
  }

  s_log(core, abnormal && !manual ? CFG_LOG_WARN : CFG_LOG_INFO, "actor %s (pid %d) %s after %llu ms",
        c->name, pid, c->last_exit, (unsigned long long)uptime);

  if (WIFEXITED(status) && WEXITSTATUS(status) == RV_EXIT_CONFIG && !was_stopping) {
    c->state = SUP_CHILD_FAILED;
    char why[2 * SUP_REASON_MAX];
    snprintf(why, sizeof why,
             "actor %s exited with a configuration error (%s); restarting cannot help%s",
             c->name, c->last_exit, strchr(c->last_exit, ':') ? "" : ": see its log");
    sup_core_stop(core, RV_EXIT_FAILURE, why, now);
    return;
  }

  bool restart = manual || c->restart == CFG_RESTART_PERMANENT ||
                 (c->restart == CFG_RESTART_TRANSIENT && abnormal);
  if (!restart) {
    c->state = abnormal ? SUP_CHILD_FAILED : SUP_CHILD_STOPPED;
    if (core->state == SUP_NODE_STARTING) s_start_next(core, now);
    return;
  }
  c->restarts++;
  if (!manual) {
    c->quick_exits = uptime < core->policy.restart_stable_ms ? c->quick_exits + 1 : 1;
    if (s_intensity_exceeded(core, now)) {
      c->state = SUP_CHILD_FAILED;
      char why[2 * SUP_REASON_MAX];
      snprintf(why, sizeof why, "restart intensity exceeded: more than %u restarts in %llu s; "
               "last: actor %s %s", core->policy.restart_intensity,
               (unsigned long long)(core->policy.restart_period_ms / 1000u), c->name, c->last_exit);
      sup_core_stop(core, RV_EXIT_FAILURE, why, now);
      return;
    }
  }
  uint64_t delay = manual ? 0 : sup_policy_backoff_ms(&core->policy, c->quick_exits);
  /* the minimum spacing guards against crash loops; an operator's restart is not one */
  uint64_t earliest = manual ? now : c->spawned_ms + core->policy.restart_min_delay_ms;
  uint64_t due = now + delay;
  if (due < earliest) due = earliest;
  if (due <= now) {
    s_spawn(core, i, now);
  } else {
    c->state = SUP_CHILD_BACKOFF;
    c->deadline_ms = due;
    s_log(core, CFG_LOG_INFO, "actor %s restarts in %llu ms", c->name,
          (unsigned long long)(due - now));
  }
}

void sup_core_exit_note(sup_core_t *core, int pid, const char *note) {
  int i = sup_core_find_pid(core, pid);
  if (i >= 0) s_copy(core->children[i].exit_note, sizeof core->children[i].exit_note, note ? note : "");
}

void sup_core_spawn_failed(sup_core_t *core, int i, const char *why, uint64_t now) {
  if (i < 0 || i >= core->nchildren) return;
  sup_child_t *c = &core->children[i];
  c->state = SUP_CHILD_FAILED;
  snprintf(c->last_exit, sizeof c->last_exit, "could not start: %s", why);
  char reason[2 * SUP_REASON_MAX];
  snprintf(reason, sizeof reason, "actor %s could not start: %s", c->name, why);
  sup_core_stop(core, RV_EXIT_FAILURE, reason, now);
}

int sup_core_restart(sup_core_t *core, const char *name, uint64_t now) {
  int i = sup_core_find(core, name);
  if (i < 0) return RV_ENOTFOUND;
  if (core->state == SUP_NODE_STOPPING || core->state == SUP_NODE_STOPPED) return RV_EBUSY;
  sup_child_t *c = &core->children[i];
  switch (c->state) {
    case SUP_CHILD_STARTING:
    case SUP_CHILD_RUNNING:
      s_log(core, CFG_LOG_INFO, "restarting actor %s (pid %d) on request", c->name, c->pid);
      c->manual_restart = true;
      s_signal(core, i, SIGTERM);
      c->state = SUP_CHILD_STOPPING;
      c->deadline_ms = now + c->shutdown_timeout_ms;
      return RV_OK;
    case SUP_CHILD_STOPPING: return RV_EBUSY;
    default:
      c->restarts++;
      c->quick_exits = 0;
      s_spawn(core, i, now);
      return RV_OK;
  }
}

/* " of time it could run (besides N ms waiting for a CPU, ...)" for a kill message when
 * run-queue wait was credited since the last answer, else "". */
static const char *s_waited_note(const sup_core_t *core, const sup_child_t *c, char *buf,
                                 size_t len) {
  buf[0] = '\0';
  uint64_t timeout = c->state == SUP_CHILD_STARTING ? core->policy.start_timeout_ms
                                                     : core->policy.heartbeat_timeout_ms;
  if (c->waited_ms)
    snprintf(buf, len, " of time it could run (besides %llu ms waiting for a CPU, not counted%s)",
             (unsigned long long)c->waited_ms,
             c->waited_ms >= timeout * SUP_CORE_WAIT_CREDIT_MAX ? ": the most credited" : "");
  return buf;
}

/* An episode begins: only the credited run-queue wait keeps child c from being judged now, and
 * that wait is a quarter of the timeout or more (less is only counted, as the supervisor's own
 * short stalls are). Logged once, until it answers again. */
static void s_starving(sup_core_t *core, sup_child_t *c, const char *what, const char *judged,
                       uint64_t now) {
  c->starving = true;
  c->starved++;
  s_log(core, CFG_LOG_WARN,
        "actor %s (pid %d) has not %s for %llu ms, %llu ms of which it waited for a CPU "
        "(runnable, not scheduled: an overloaded host, or a CPU limit): not counted %s",
        c->name, c->pid, what, (unsigned long long)(now - c->answered_ms),
        (unsigned long long)c->waited_ms, judged);
}

void sup_core_tick(sup_core_t *core, uint64_t now) {
  const sup_policy_t *p = &core->policy;
  s_observe(core, now);
  for (int i = 0; i < core->nchildren; i++) {
    sup_child_t *c = &core->children[i];
    char why[2 * SUP_REASON_MAX], note[160];
    switch (c->state) {
      case SUP_CHILD_STARTING:
        if (now >= c->deadline_ms && c->pid > 0) {
          snprintf(why, sizeof why, "did not signal ready within %llu ms%s",
                   (unsigned long long)p->start_timeout_ms,
                   s_waited_note(core, c, note, sizeof note));
          s_kill(core, i, why, now);
        } else if (c->pid > 0 && c->deadline_ms != UINT64_MAX && !c->starving &&
                   c->waited_ms >= p->start_timeout_ms / 4 &&
                   now + c->waited_ms >= c->deadline_ms) {
          s_starving(core, c, "signalled ready", "against its start timeout", now);
        }
        break;
      case SUP_CHILD_RUNNING:
        /* while the node stops, every child gets SIGTERM then SIGKILL in its turn anyway */
        if (core->state == SUP_NODE_STOPPING) break;
        if (now - c->last_ack_ms > p->heartbeat_timeout_ms) {
          snprintf(why, sizeof why, "hung: no heartbeat answer for %llu ms%s",
                   (unsigned long long)(now - c->last_ack_ms),
                   s_waited_note(core, c, note, sizeof note));
          s_kill(core, i, why, now);
        } else if (!c->starving && c->waited_ms >= p->heartbeat_timeout_ms / 4 &&
                   now - c->last_ack_ms + c->waited_ms > p->heartbeat_timeout_ms) {
          s_starving(core, c, "answered a heartbeat", "as hung", now);
        }
        break;
      case SUP_CHILD_STOPPING:
        if (!c->killed && now >= c->deadline_ms) {
          s_log(core, CFG_LOG_WARN, "actor %s (pid %d) did not stop within %llu ms: SIGKILL",
                c->name, c->pid, (unsigned long long)c->shutdown_timeout_ms);
          s_signal(core, i, SIGKILL);
          c->killed = true;
          c->deadline_ms = UINT64_MAX;
        }
        break;
      case SUP_CHILD_BACKOFF:
        if (now >= c->deadline_ms && core->state != SUP_NODE_STOPPING) s_spawn(core, i, now);
        break;
      default: break;
    }
  }
  if (now >= core->next_heartbeat_ms) {
    core->heartbeat_seq++;
    for (int i = 0; i < core->nchildren; i++)
      if (core->children[i].state == SUP_CHILD_RUNNING) {
        sup_action_t *a = s_push(core, SUP_ACT_HEARTBEAT, i);
        a->seq = core->heartbeat_seq;
      }
    core->next_heartbeat_ms = now + p->heartbeat_interval_ms;
  }
}

uint64_t sup_core_next_timeout(const sup_core_t *core, uint64_t now) {
  uint64_t next = now + 1000;
  if (core->next_heartbeat_ms < next) next = core->next_heartbeat_ms;
  for (int i = 0; i < core->nchildren; i++) {
    const sup_child_t *c = &core->children[i];
    uint64_t d = UINT64_MAX;
    if (c->state == SUP_CHILD_STARTING || c->state == SUP_CHILD_BACKOFF ||
        (c->state == SUP_CHILD_STOPPING && !c->killed))
      d = c->deadline_ms;
    else if (c->state == SUP_CHILD_RUNNING)
      d = c->last_ack_ms + core->policy.heartbeat_timeout_ms + 1;
    if (d < next) next = d;
  }
  return next > now ? next - now : 0;
}

int sup_core_take_actions(sup_core_t *core, sup_action_t *out, int max) {
  int n = core->nactions < max ? core->nactions : max;
  memcpy(out, core->actions, (size_t)n * sizeof *out);
  memmove(core->actions, core->actions + n, (size_t)(core->nactions - n) * sizeof *out);
  core->nactions -= n;
  return n;
}
