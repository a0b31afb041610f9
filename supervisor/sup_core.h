/* sup_core: the supervisor's pure core, an explicit state x event machine over child specs, in
 * the manner of Erlang/OTP supervisors and s6. No processes, sockets or clocks inside: the shell
 * (sup_node.c) feeds it events stamped with the monotonic time in ms, then carries out the
 * actions it queued (spawn, signal, heartbeat, node stopped), in order.
 *
 * Child life cycle:
 *
 *   STOPPED --start--> STARTING --ready--> RUNNING --exit--> (restart?) BACKOFF --due--> STARTING
 *                         |                   |                      \--> STOPPED / FAILED
 *                 start timeout          heartbeat timeout
 *                         \---- SIGKILL ------/ (the exit that follows is a crash)
 *   node stop: children stopped one at a time in reverse start order: SIGTERM, then SIGKILL at
 *   the child's shutdown timeout (STOPPING).
 *
 * Restart policy (pure functions of the clock, unit-tested):
 *   - restart types: permanent always, transient only after an abnormal exit (non-zero code or
 *     a signal), temporary never;
 *   - spacing: a child is never spawned sooner than restart_min_delay_ms after its previous
 *     spawn; a crash loop (exits before restart_stable_ms of uptime) backs off exponentially,
 *     min_delay * 2^(n-1) up to restart_max_delay_ms; a stable run resets it, so the first crash
 *     after a long run is restarted at once;
 *   - intensity: more than restart_intensity restarts in restart_period_s stops the whole node,
 *     naming the child and its last exit; so does an exit with RV_EXIT_CONFIG (a restart cannot
 *     cure a configuration error).
 *
 * Hang detection counts only time the supervisor itself was running. The shell says when it
 * means to wake next (sup_core_armed); an event that comes more than SUP_CORE_STALL_SLACK_MS
 * later than that (the supervisor was stopped, swapped out, or its host overloaded) is a stall:
 * every waiting deadline of the children (heartbeat, start timeout) moves by the stall's length
 * and fresh heartbeats go out at once. Without this, a supervisor paused for 2 s killed all of
 * its healthy actors as hung on resume. An actor that really hangs is still caught: the time
 * the supervisor runs on schedule counts in full.
 *
 * Nor does it count time the actor could not run: a loaded host keeps a runnable process
 * waiting on a CPU run queue, and a kill does not help a process that is starved, not hung (it
 * restarts behind, with more work and the same few percent of a core: the catch-up crash loop
 * of issue 11, which lost a node during a bulk load at load average 22-37 on 2 cores). Before
 * each tick the shell samples every child that is starting, or late to answer
 * (sup_core_wants_sched), for its scheduling counters (sup_sched.h: the run-queue wait of its
 * threads, waits in progress included, and the CPU time of its loop thread) and passes them in
 * (sup_core_sched). Between two samples w ms apart the child is credited with its run-queue
 * wait, but never with more than w minus the CPU its loop thread used; its heartbeat clock (or
 * its start deadline) moves by the credit, as by a supervisor's stall. So:
 *   - a starved actor (runnable, waiting for a CPU) is not judged hung while it waits; an episode
 *     (the credit alone keeps it from being judged, and it is a quarter of the timeout or more)
 *     is logged once, until it answers again, and counted (status "starved", "cpu_wait_ms";
 *     /metrics);
 *   - an actor whose loop spins without answering is still killed: the CPU its loop burns is
 *     never credited, so a full timeout of it is a hang whatever the run queue (on a host that
 *     gives it a fifth of a core it is killed after about five timeouts of wall time);
 *   - an actor blocked for good (asleep, or in uninterruptible disk wait, without progress)
 *     waits on no run queue and earns no credit: killed at the timeout, as before;
 *   - the credit between two answers is capped at SUP_CORE_WAIT_CREDIT_MAX timeouts: the wait
 *     counted is that of all the process's threads (the heartbeat crosses ZeroMQ's I/O thread
 *     before the loop sees it, and a write stall waits on RocksDB's threads), so a loop thread
 *     deadlocked beside busy helper threads on a saturated host could otherwise be forgiven as
 *     long as the saturation lasts; with the cap no hang goes unseen past that many timeouts.
 *     A kill at the cap is a hang like any other (counted against the intensity: at most one
 *     per cap, far below any intensity that stops a node).
 * Restart intensity itself is unchanged: a starved actor is no longer killed, so it no longer
 * feeds it. Without schedstat (a kernel without CONFIG_SCHED_INFO) nothing is credited: the
 * detector works as before, and the shell says so once at start. */
#ifndef SUP_CORE_H
#define SUP_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg_node.h"

#define SUP_MAX_CHILDREN CFG_MAX_ACTORS
#define SUP_MAX_ACTIONS 64
#define SUP_REASON_MAX 1024

typedef enum {
  SUP_CHILD_STOPPED,  /* not running, not to be started (never started, or ended for good) */
  SUP_CHILD_STARTING, /* spawned, waiting for its Ready */
  SUP_CHILD_RUNNING,  /* ready; answering heartbeats */
  SUP_CHILD_STOPPING, /* signalled; waiting for its exit */
  SUP_CHILD_BACKOFF,  /* exited; waiting for its restart time */
  SUP_CHILD_FAILED    /* exited abnormally and will not be restarted */
} sup_child_state_t;

typedef enum { SUP_NODE_STARTING, SUP_NODE_RUNNING, SUP_NODE_STOPPING, SUP_NODE_STOPPED } sup_node_state_t;

typedef enum {
  SUP_ACT_SPAWN,     /* fork+exec child `child`; report sup_core_spawned or sup_core_exited */
  SUP_ACT_SIGNAL,    /* kill(pid, sig) */
  SUP_ACT_HEARTBEAT, /* send a Heartbeat with seq to child `child` */
  SUP_ACT_LOG,       /* log text at level */
  SUP_ACT_NODE_UP,   /* every child has signalled ready for the first time */
  SUP_ACT_STOPPED    /* every child is down; the supervisor exits with code */
} sup_action_kind_t;

typedef struct {
  sup_action_kind_t kind;
  int child;                  /* index into the children, or -1 */
  int pid;                    /* SIGNAL */
  int sig;                    /* SIGNAL */
  uint64_t seq;               /* HEARTBEAT */
  int code;                   /* STOPPED: exit code */
  cfg_log_level_t level;      /* LOG */
  char text[SUP_REASON_MAX];  /* LOG, STOPPED: why */
} sup_action_t;

/* The policy, copied from the node's configuration. */
typedef struct {
  uint64_t heartbeat_interval_ms;
  uint64_t heartbeat_timeout_ms;
  uint64_t restart_min_delay_ms;
  uint64_t restart_max_delay_ms;
  uint64_t restart_stable_ms;
  unsigned restart_intensity;
  uint64_t restart_period_ms;
  uint64_t start_timeout_ms;
} sup_policy_t;

/* Scheduling counters of one child process, cumulative since it started (sup_sched.h reads
 * them). */
typedef struct {
  uint64_t wait_ns; /* time its threads spent runnable on a run queue, waiting for a CPU (summed
                       over its threads) */
  uint64_t cpu_ns;  /* time its loop thread (the main thread, which answers heartbeats) ran */
} sup_sched_t;

/* At most this many timeouts (heartbeat or start) of run-queue wait are credited to one child
 * between two answers (see above). */
#define SUP_CORE_WAIT_CREDIT_MAX 30

typedef struct {
  char name[CFG_ID_MAX + 1];
  cfg_restart_t restart;
  uint64_t shutdown_timeout_ms;

  sup_child_state_t state;
  bool ever_spawned;             /* spawned at least once since the node started */
  int pid;                       /* > 0 while a process exists (STARTING, RUNNING, STOPPING) */
  uint64_t spawned_ms;           /* time of the last spawn */
  uint64_t ready_ms;             /* time of the last Ready */
  uint64_t last_ack_ms;          /* time of the last heartbeat answer (or ready) */
  uint64_t deadline_ms;          /* STARTING: start timeout; STOPPING: kill; BACKOFF: respawn */
  unsigned restarts;             /* automatic and manual restarts so far */
  unsigned quick_exits;          /* consecutive exits before restart_stable_ms, for backoff */
  bool killed;                   /* STOPPING: SIGKILL already sent */
  bool manual_restart;           /* STOPPING because of a restart request */
  char kill_reason[SUP_REASON_MAX]; /* why the supervisor killed it, "" if it did not */
  char last_exit[SUP_REASON_MAX];   /* "exited with code 3", "killed by signal 9 (hung: ...)" */
  int last_status;               /* waitpid() status of the last exit, valid if has_status */
  bool has_status;               /* exited at least once since the node started */
  sup_child_state_t state_at_stop; /* its state when the node began to stop */
  bool exited_at_stop;           /* its process ended while the node was stopping */
  bool killed_at_stop;           /* ... and the supervisor had to SIGKILL it */
  char exit_note[SUP_REASON_MAX];   /* the process's own last word on an exit: "" or its reason */
  /* run-queue wait (see the header's comment): */
  bool sched_known;              /* sched holds a sample of the current process, taken since
                                    its last answer */
  uint64_t sched_at_ms;          /* when it was taken */
  sup_sched_t sched;             /* the last sample */
  uint64_t credit_ns;            /* credit earned but not yet a whole ms */
  uint64_t answered_ms;          /* time of the last answer (Ready, HeartbeatAck), or the spawn */
  uint64_t waited_ms;            /* run-queue wait credited since answered_ms */
  bool starving;                 /* the credit alone has kept it from being judged hung since
                                    its last answer (an episode: logged once) */
  uint64_t starved;              /* such episodes since the node started */
  uint64_t cpu_wait_ms;          /* run-queue wait credited since the node started */
} sup_child_t;

typedef struct {
  sup_policy_t policy;
  sup_child_t children[SUP_MAX_CHILDREN];
  int nchildren;
  sup_node_state_t state;
  int stop_at;                   /* STOPPING: index of the child being stopped (reverse order) */
  int exit_code;                 /* once stopping: 0 when asked to stop, else 1 */
  char stop_reason[SUP_REASON_MAX];
  uint64_t restart_log[1024];    /* times of recent automatic restarts (ring) */
  unsigned restart_log_len;
  uint64_t next_heartbeat_ms;
  uint64_t heartbeat_seq;
  uint64_t wake_by_ms;           /* when the shell means to run next (sup_core_armed); 0 = not
                                    armed yet */
  uint64_t stalls;               /* stalls seen (the supervisor ran late) ... */
  uint64_t stalled_ms;           /* ... and their total length, not counted against actors */
  char killed[SUP_MAX_CHILDREN][CFG_ID_MAX + 1]; /* children SIGKILLed while stopping */
  int nkilled;
  char stopped[SUP_MAX_CHILDREN][CFG_ID_MAX + 1]; /* children that stopped on SIGTERM */
  int nstopped;
  sup_action_t actions[SUP_MAX_ACTIONS];
  int nactions;
} sup_core_t;

/* Initialises core from cfg (policy and one child per configured actor, in order). */
void sup_core_init(sup_core_t *core, const cfg_node_t *cfg);

/* Events. `now` is monotonic milliseconds. Each may queue actions; take them with
 * sup_core_take_actions before the next event. */
void sup_core_start(sup_core_t *core, uint64_t now);
void sup_core_spawned(sup_core_t *core, int child, int pid, uint64_t now);
void sup_core_spawn_failed(sup_core_t *core, int child, const char *why, uint64_t now);
void sup_core_ready(sup_core_t *core, int child, int pid, uint64_t now);
void sup_core_heartbeat_ack(sup_core_t *core, int child, int pid, uint64_t now);
/* status is a waitpid() status. Unknown pids are ignored. A failing exit (a code other than 0)
 * carries the note given just before by sup_core_exit_note, so last_exit and the node's stop
 * reason read "exited with code 75: cannot listen on ...". */
void sup_core_exited(sup_core_t *core, int pid, int status, uint64_t now);
/* The process pid's own reason for the exit about to be reported (the shell reads it from the
 * actor's log: its last error line). note is copied; "" or NULL clears it. */
void sup_core_exit_note(sup_core_t *core, int pid, const char *note);
void sup_core_tick(sup_core_t *core, uint64_t now);
/* Stops the node: code 0 for an operator's stop, else the failure exit code; reason is logged. */
void sup_core_stop(sup_core_t *core, int code, const char *reason, uint64_t now);
/* Restarts one child at an operator's request (not counted against the intensity). Returns 0,
 * RV_ENOTFOUND for an unknown name, RV_EBUSY while the node is stopping. */
int sup_core_restart(sup_core_t *core, const char *name, uint64_t now);

/* Milliseconds until the next deadline (a heartbeat, a timeout, a respawn), at most 1000. */
uint64_t sup_core_next_timeout(const sup_core_t *core, uint64_t now);

/* The shell armed its timer at now to fire ms later: it means to run again by now + ms. An
 * event stamped later than that by more than SUP_CORE_STALL_SLACK_MS is a stall (see above). */
#define SUP_CORE_STALL_SLACK_MS 100
void sup_core_armed(sup_core_t *core, uint64_t now, uint64_t ms);
/* Any event of the shell at now (a message, a signal, a request): the first one after the shell
 * ran late is where the stall is seen, whatever kind it is (the tick, a heartbeat answer and an
 * exit check it themselves). The shell also calls it once more when an event's work is done,
 * before it arms again: a stop that lands inside an event (while it sends heartbeats) is a stall
 * too, and arming first would take the late clock for on time. */
void sup_core_observe(sup_core_t *core, uint64_t now);

/* Whether the shell should sample child's scheduling before the tick at now: while it starts,
 * and while it is late to answer (no answer for 1.5 heartbeat intervals), so that a node whose
 * actors answer reads nothing. A wait in progress when sampling begins is still seen in full
 * when it ends (sup_sched.h); only waits that began and ended before are not credited. */
bool sup_core_wants_sched(const sup_core_t *core, int child, uint64_t now);

/* The shell's sample of child's process pid at now (taken just before a tick). A sample of
 * another pid (a predecessor's), or of a child neither starting nor running, is ignored; the
 * first of a process, and the first after each answer, is a baseline (the shell starts its
 * counts afresh then too: sup_sched_reset). See the header's comment for what is credited. */
void sup_core_sched(sup_core_t *core, int child, int pid, const sup_sched_t *s, uint64_t now);

/* Copies the queued actions to out (up to max) and clears the queue; returns their number. */
int sup_core_take_actions(sup_core_t *core, sup_action_t *out, int max);

/* The child index of a name or pid, or -1. */
int sup_core_find(const sup_core_t *core, const char *name);
int sup_core_find_pid(const sup_core_t *core, int pid);

/* True when a child of a stopped node ended cleanly: it was running when the stop began and
 * exited with code 0 on its SIGTERM (not killed at its shutdown timeout, no signal, no other
 * code), or it had already ended for good with code 0 (a temporary or transient child). Anything
 * else (an abort at exit, as a sanitizer does on a leak; a crash; a kill) is not clean. */
bool sup_child_stopped_cleanly(const sup_child_t *c);

/* Pure policy helpers, exposed for tests. */
uint64_t sup_policy_backoff_ms(const sup_policy_t *p, unsigned quick_exits);
/* "exited with code 3" / "killed by signal 9" for a waitpid status. */
void sup_exit_describe(int status, char *buf, size_t len);

const char *sup_child_state_name(sup_child_state_t s);
const char *sup_node_state_name(sup_node_state_t s);

#endif
