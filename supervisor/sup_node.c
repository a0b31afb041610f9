/* sup_node: the supervisor process: directories, lock, sockets, the poll loop, and carrying out
 * sup_core's actions. Decisions live in sup_core; this file only performs them. */
#include "sup_node.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "rv_actor.h"
#include "sup_core.h"
#include "sup_http.h"
#include "sup_lock.h"
#include "sup_metrics.h"
#include "sup_preflight.h"
#include "sup_sched.h"
#include "sup_spawn.h"

#define S_MAX_PENDING_STOPS 16
#define S_MAX_RELAYS 16            /* CLI requests relayed to an actor, waiting for its Reply */
#define S_RELAY_TIMEOUT_MS 15000   /* then the CLI gets RV_ETIMEDOUT */
#define S_RELAY_SWEEP_MS 250       /* how often expired relays are looked for */
#define S_RELAY_SEND_WAIT_MS 3000  /* a running actor whose inbox cannot take the request yet */

/* A CLI request relayed to an actor (RaftAdmin -> raft-peer): the actor answers the supervisor
 * with a Reply under corr, which goes back to the CLI under its own correlation id. A request
 * the actor's inbox could not take yet (the first send to it connects, and a loaded host can
 * take longer than the mailbox's wait; or the actor was just restarted) is kept, encoded, and
 * sent again by the sweep until S_RELAY_SEND_WAIT_MS: the actor is running, so "unavailable"
 * would be a false answer (CI, an ASan build: `raft transfer` on a follower got EUNAVAIL). */
typedef struct {
  zframe_t *identity;   /* the CLI connection (ROUTER identity); NULL = free slot */
  uint64_t cli_corr;    /* the CLI's correlation id */
  uint64_t corr;        /* ours, unique per relay */
  uint64_t deadline_ms;
  char actor[RV_NAME_MAX];
  uint8_t *unsent;      /* the encoded request, while its send is retried; else NULL */
  size_t unsent_len;
  uint64_t asked_ms;     /* when the CLI's request came */
  uint64_t send_until_ms;
} s_relay_t;

typedef struct {
  const cfg_node_t *cfg;
  char config_path[PATH_MAX];
  sup_core_t core;
  rv_mailbox_t *mb;
  zsock_t *control;   /* ROUTER: CLI requests */
  zsock_t *tap_in;    /* XSUB: actors publish here */
  zsock_t *tap_out;   /* XPUB: taps subscribe here */
  zloop_t *loop;
  int sigfd;
  int timer_id;
  int ready_fd;
  int exit_code;
  bool done;
  uint64_t started_ms;
  zframe_t *pending_stops[S_MAX_PENDING_STOPS]; /* ROUTER identities waiting for StopReply */
  uint64_t pending_stop_corr[S_MAX_PENDING_STOPS];
  int npending_stops;
  Rv__HealthReport *health; /* the latest report of the health-monitor, or NULL */
  Rv__RaftState *raft;      /* the latest state the raft-peer published, or NULL */
  Rv__KvStats *kv;          /* kv-store's latest KvStats, or NULL */
  Rv__ReplStatus *repl;     /* the ots-replicator's latest report, or NULL */
  uint64_t health_at_ms;
  s_relay_t relays[S_MAX_RELAYS];
  uint64_t relay_next;      /* the next relay's correlation id */
  off_t log_off[SUP_MAX_CHILDREN]; /* size of each actor's log when it was last spawned */
  sup_actor_metrics_t metrics[SUP_MAX_CHILDREN]; /* per actor, for /metrics */
  uint64_t leader_changes;  /* changes of RaftState.leader seen */
  sup_fence_count_t fences[SUP_METRICS_FENCE_MAX];
  int nfences;
  sup_http_t *http;         /* metrics.listen, or NULL */
  bool sched;               /* the kernel keeps run-queue wait (sup_sched.h) */
  sup_sched_proc_t sched_procs[SUP_MAX_CHILDREN]; /* each child's threads as last sampled */
} sup_node_t;

static uint64_t s_now(void) { return rv_mono_ms(); }

/* ---- directories ------------------------------------------------------------------------- */

/* mkdir(dir, mode); when it is created, its entry is made durable in its parent (fsync of the
 * parent directory): the data-dir holds everything a node recovers from. */
static int s_mkdir_synced(const char *dir, mode_t mode, rv_err_t *err) {
  if (mkdir(dir, mode) != 0) {
    if (errno == EEXIST) return RV_OK;
    return rv_err_set(err, RV_EIO, "cannot create directory %s: %s", dir, strerror(errno));
  }
  char parent[CFG_PATH_MAX];
  snprintf(parent, sizeof parent, "%s", dir);
  char *slash = strrchr(parent, '/');
  if (!slash) snprintf(parent, sizeof parent, ".");
  else slash[slash == parent ? 1 : 0] = '\0';
  int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int e = fd < 0 || fsync(fd) != 0 ? errno : 0;
  if (fd >= 0) close(fd);
  if (e)
    return rv_err_set(err, RV_EIO, "cannot fsync %s after creating %s in it: %s", parent, dir,
                      strerror(e));
  return RV_OK;
}

static int s_mkdirs(const char *path, mode_t mode, rv_err_t *err) {
  char buf[CFG_PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  int rc;
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if ((rc = s_mkdir_synced(buf, 0755, err))) return rc;
    *p = '/';
  }
  if ((rc = s_mkdir_synced(buf, mode, err))) return rc;
  struct stat st;
  if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
    return rv_err_set(err, RV_EIO, "%s exists and is not a directory", buf);
  return RV_OK;
}

int sup_node_prepare_dirs(const cfg_node_t *cfg, rv_err_t *err) {
  int rc;
  if ((rc = sup_preflight_dirs(cfg, err)) || (rc = sup_preflight_features(cfg, err)) || (rc = s_mkdirs(cfg->data_dir, 0750, err)) || (rc = s_mkdirs(cfg->log_dir, 0750, err)) ||
      (rc = s_mkdirs(cfg->run_dir, 0700, err)))
    return rc;
  /* the ipc sockets live here: only the node's user may enter */
  if (chmod(cfg->run_dir, 0700) != 0)
    return rv_err_set(err, RV_EIO, "cannot set mode 0700 on %s: %s", cfg->run_dir,
                      strerror(errno));
  return RV_OK;
}

/* ---- carrying out the core's actions ----------------------------------------------------- */

static void s_reply_stops(sup_node_t *n);
static void s_relay_answer(sup_node_t *n, const rv_msg_t *m);
static void s_fence_attempt(sup_node_t *n, const rv_msg_t *m);

static void s_apply_actions(sup_node_t *n) {
  sup_action_t acts[SUP_MAX_ACTIONS];
  for (;;) {
    int k = sup_core_take_actions(&n->core, acts, SUP_MAX_ACTIONS);
    if (k == 0) break;
    for (int i = 0; i < k; i++) {
      sup_action_t *a = &acts[i];
      switch (a->kind) {
        case SUP_ACT_LOG: rv_log(a->level, "%s", a->text); break;
        case SUP_ACT_SPAWN: {
          const cfg_actor_t *spec = &n->cfg->actors[a->child];
          pid_t pid = 0;
          rv_err_t err;
          n->log_off[a->child] = sup_spawn_log_size(n->cfg, spec->name);
          if (sup_spawn_actor(n->cfg, spec, n->config_path, &pid, &err) != RV_OK) {
            rv_error("%s", err.msg);
            sup_core_spawn_failed(&n->core, a->child, err.msg, s_now());
          } else {
            rv_info("spawned actor %s pid=%d", spec->name, (int)pid);
            sup_core_spawned(&n->core, a->child, (int)pid, s_now());
          }
          break;
        }
        case SUP_ACT_SIGNAL:
          /* A stopped process must run to exit: SIGCONT goes first. Sent after the SIGTERM, it
           * could land after the actor had begun to exit and discard a stop the actor is under
           * for another reason: LeakSanitizer's exit-time check ptrace-attaches (a SIGSTOP) and
           * then waits for that stop forever, so the actor hung until its SIGKILL. */
          if (a->sig == SIGTERM) kill(a->pid, SIGCONT);
          if (kill(a->pid, a->sig) != 0 && errno != ESRCH)
            rv_warn("kill(%d, %d): %s", a->pid, a->sig, strerror(errno));
          break;
        case SUP_ACT_HEARTBEAT: {
          Rv__Heartbeat hb = RV__HEARTBEAT__INIT;
          hb.seq = a->seq;
          /* to the actor's system inbox, read ahead of its work (rv_mailbox.h) */
          rv_mailbox_send_sys(n->mb, n->core.children[a->child].name, RV_MSG_HEARTBEAT, &hb.base,
                              a->seq, NULL);
          break;
        }
        case SUP_ACT_NODE_UP:
          rv_info("node %s up", n->cfg->node_id);
          /* systemd Type=notify (a no-op without NOTIFY_SOCKET) */
          sd_notifyf(0, "READY=1\nSTATUS=node %s up: %d actors\nMAINPID=%lu", n->cfg->node_id,
                     n->cfg->nactors, (unsigned long)getpid());
          if (n->ready_fd >= 0) {
            char line[64];
            int len = snprintf(line, sizeof line, "up %d\n", (int)getpid());
            if (write(n->ready_fd, line, (size_t)len) < 0) { /* the waiting CLI has gone */
            }
            close(n->ready_fd);
            n->ready_fd = -1;
          }
          break;
        case SUP_ACT_STOPPED:
          sd_notifyf(0, "STOPPING=1\nSTATUS=node %s stopped%s%s", n->cfg->node_id,
                     a->code ? ": " : "", a->code ? a->text : "");
          n->exit_code = a->code;
          n->done = true;
          if (a->code)
            rv_error("node %s stopped: %s", n->cfg->node_id, a->text);
          else
            rv_info("node %s stopped", n->cfg->node_id);
          if (n->ready_fd >= 0) {
            dprintf(n->ready_fd, "failed %s\n", a->text);
            close(n->ready_fd);
            n->ready_fd = -1;
          }
          s_reply_stops(n);
          break;
      }
    }
  }
}

static int s_on_timer(zloop_t *loop, int id, void *arg);

/* Re-arms the one-shot timer at the core's next deadline. */
static void s_rearm(sup_node_t *n) {
  if (n->timer_id >= 0) zloop_timer_end(n->loop, n->timer_id);
  uint64_t now = s_now();
  uint64_t ms = sup_core_next_timeout(&n->core, now);
  n->timer_id = zloop_timer(n->loop, ms ? ms : 1, 1, s_on_timer, n);
  sup_core_armed(&n->core, now, ms ? ms : 1);
}

static int s_after_event(sup_node_t *n) {
  s_apply_actions(n);
  if (n->done) return -1;
  /* A stop that lands inside this handler (after the event's own observe: while it sent the
   * heartbeats, say) is a stall too; re-arming first would take the late clock as on time and
   * hide it (it_test_supervisor_paused missed its log so in a fresh-clone CI, the SIGSTOP
   * landing on the first heartbeat's send). */
  sup_core_observe(&n->core, s_now());
  s_apply_actions(n);
  if (n->done) return -1;
  s_rearm(n);
  return 0;
}

static void s_take_inbox(sup_node_t *n);

/* How long each starting or running child waited for a CPU since the last tick: the core
 * credits that wait to its heartbeat clock or start deadline (sup_core.h), just before it judges
 * them. */
static void s_sample_sched(sup_node_t *n) {
  if (!n->sched) return;
  uint64_t now = s_now();
  for (int i = 0; i < n->core.nchildren; i++) {
    const sup_child_t *c = &n->core.children[i];
    if (!sup_core_wants_sched(&n->core, i, now)) continue;
    if (!c->sched_known) sup_sched_reset(&n->sched_procs[i]); /* the core takes a baseline */
    sup_sched_t st;
    if (sup_sched_sample(&n->sched_procs[i], c->pid, now * 1000000u, &st) == 0)
      sup_core_sched(&n->core, i, c->pid, &st, now);
  }
}

static int s_on_timer(zloop_t *loop, int id, void *arg) {
  sup_node_t *n = arg;
  n->timer_id = -1;
  /* zloop runs expired timers before it reads sockets: heartbeat answers that arrived while
   * this process waited for the CPU are taken in first, or the tick below would judge actors
   * on answers sitting unread in the inbox (killed as hung under load) */
  s_take_inbox(n);
  s_sample_sched(n);
  sup_core_tick(&n->core, s_now());
  return s_after_event(n);
}

/* ---- signals and child exits ------------------------------------------------------------- */

static int s_on_signal(zloop_t *loop, zmq_pollitem_t *item, void *arg) {
  sup_node_t *n = arg;
  sup_core_observe(&n->core, s_now());
  struct signalfd_siginfo si;
  while (read(n->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
    if (si.ssi_signo == SIGCHLD) {
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int child = sup_core_find_pid(&n->core, (int)pid);
        if (child >= 0) {
          n->metrics[child].last_status = status;
          n->metrics[child].exited = true;
          /* the loop-lag figures were that process's: its successor reports its own */
          n->metrics[child].loop_lag_p99_us = n->metrics[child].loop_lag_max_us = 0;
          n->metrics[child].loop_lag_samples = 0;
        }
        if (child >= 0 && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
          char note[SUP_REASON_MAX];
          sup_spawn_exit_note(n->cfg, n->core.children[child].name, n->log_off[child], note,
                              sizeof note);
          sup_core_exit_note(&n->core, (int)pid, note);
        }
        sup_core_exited(&n->core, (int)pid, status, s_now());
      }
    } else if (si.ssi_signo == SIGHUP) {
      /* logrotate's postrotate: reopen the log files, never stop (under systemd, a node that
       * exited 0 on SIGHUP would stay down) */
      char path[CFG_PATH_MAX + 32];
      snprintf(path, sizeof path, "%s/supervisor.log", n->cfg->log_dir);
      sd_notify(0, "RELOADING=1");
      if (rv_log_to_file()) rv_log_reopen(path);
      sd_notify(0, "READY=1");
      for (int i = 0; i < n->core.nchildren; i++)
        if (n->core.children[i].state == SUP_CHILD_RUNNING) kill(n->core.children[i].pid, SIGHUP);
    } else {
      char why[64];
      snprintf(why, sizeof why, "received %s", strsignal((int)si.ssi_signo));
      sup_core_stop(&n->core, RV_EXIT_OK, why, s_now());
    }
  }
  return s_after_event(n);
}

/* ---- the inbox: actors' ready, heartbeat answers, health reports -------------------------- */

/* Takes in what the actors sent (up to 256 messages). */
static void s_take_inbox(sup_node_t *n) {
  sup_core_observe(&n->core, s_now()); /* before anything it reads re-arms the timer */
  for (int k = 0; k < 256; k++) {
    rv_msg_t m;
    int rc = rv_mailbox_recv(n->mb, &m, NULL);
    if (rc == RV_EAGAIN) break;
    if (rc) continue;
    int child = sup_core_find(&n->core, m.from.actor);
    switch (m.type) {
      case RV_MSG_READY:
        sup_core_ready(&n->core, child, (int)((Rv__Ready *)m.body)->pid, s_now());
        break;
      case RV_MSG_HEARTBEAT_ACK: {
        const Rv__HeartbeatAck *ack = (const Rv__HeartbeatAck *)m.body;
        sup_core_heartbeat_ack(&n->core, child, (int)ack->pid, s_now());
        if (child >= 0) {
          sup_actor_metrics_t *am = &n->metrics[child];
          am->mb = (rv_mailbox_stats_t){.msgs_in = ack->msgs_in, .msgs_out = ack->msgs_out,
                                        .bad_frames = ack->bad_frames,
                                        .dropped_sends = ack->dropped_sends,
                                        .auth_refused = ack->auth_refused,
                                        .port_rejected = ack->port_rejected,
                                        .port_busy = ack->port_busy,
                                        .port_replies_dropped = ack->port_replies_dropped,
                                        .port_conns_refused = ack->port_conns_refused,
                                        .port_inflight = ack->port_inflight};
          am->loop_lag_us = ack->loop_lag_us;
          am->loop_lag_p99_us = ack->loop_lag_p99_us;
          am->loop_lag_max_us = ack->loop_lag_max_us;
          am->loop_lag_samples = ack->loop_lag_samples;
        }
        break;
      }
      case RV_MSG_RAFT_STATE:
        if (n->raft && n->raft->leader != ((Rv__RaftState *)m.body)->leader) n->leader_changes++;
        if (n->raft) rv__raft_state__free_unpacked(n->raft, NULL);
        n->raft = (Rv__RaftState *)m.body;
        m.body = NULL; /* kept */
        break;
      case RV_MSG_REPL_STATUS:
        if (n->repl) rv__repl_status__free_unpacked(n->repl, NULL);
        n->repl = (Rv__ReplStatus *)m.body;
        m.body = NULL; /* kept */
        break;
      case RV_MSG_KV_STATS:
        if (n->kv) rv__kv_stats__free_unpacked(n->kv, NULL);
        n->kv = (Rv__KvStats *)m.body;
        m.body = NULL; /* kept */
        break;
      case RV_MSG_REPLY:
      case RV_MSG_FENCE_RESULT: s_relay_answer(n, &m); break;
      case RV_MSG_FENCE_ATTEMPT: s_fence_attempt(n, &m); break;
      case RV_MSG_HEALTH_REPORT:
        if (n->health) rv__health_report__free_unpacked(n->health, NULL);
        n->health = (Rv__HealthReport *)m.body;
        n->health_at_ms = s_now();
        m.body = NULL; /* kept */
        break;
      default: {
        char tb[32];
        rv_debug("ignored %s from %s", rv_msgtype_name(m.type, tb, sizeof tb), m.from.actor);
      }
    }
    rv_msg_clear(&m);
  }
}

static int s_on_inbox(zloop_t *loop, zsock_t *sock, void *arg) {
  sup_node_t *n = arg;
  s_take_inbox(n);
  return s_after_event(n);
}

/* ---- the tap proxy ----------------------------------------------------------------------- */

/* Forwards whole multi-part messages from one side of the proxy to the other. */
static void s_forward(zsock_t *from, zsock_t *to) {
  void *src = zsock_resolve(from), *dst = zsock_resolve(to);
  for (int k = 0; k < 1024; k++) {
    zmq_msg_t part;
    zmq_msg_init(&part);
    if (zmq_msg_recv(&part, src, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&part);
      return;
    }
    int more;
    do {
      more = zmq_msg_more(&part);
      zmq_msg_send(&part, dst, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
      zmq_msg_close(&part);
      if (!more) break;
      zmq_msg_init(&part);
      if (zmq_msg_recv(&part, src, 0) < 0) {
        zmq_msg_close(&part);
        return;
      }
    } while (1);
  }
}

static int s_on_own_tap(zloop_t *loop, zsock_t *sock, void *arg) {
  sup_node_t *n = arg;
  rv_mailbox_tap_subscriptions(n->mb);
  return 0;
}

static int s_on_tap_in(zloop_t *loop, zsock_t *sock, void *arg) {
  sup_node_t *n = arg;
  s_forward(n->tap_in, n->tap_out);
  return 0;
}

static int s_on_tap_out(zloop_t *loop, zsock_t *sock, void *arg) {
  sup_node_t *n = arg;
  s_forward(n->tap_out, n->tap_in); /* subscriptions travel upstream */
  return 0;
}

/* ---- the control socket ------------------------------------------------------------------ */

static void s_control_send(sup_node_t *n, zframe_t *identity, uint32_t type,
                           const ProtobufCMessage *body, uint64_t corr) {
  uint8_t *frame;
  size_t len;
  rv_err_t err;
  if (rv_mailbox_encode(n->mb, "cli", type, body, corr, 0, &frame, &len, &err) != RV_OK) {
    rv_error("cannot encode a control reply: %s", err.msg);
    return;
  }
  rv_mailbox_tap(n->mb, frame, len, "out");
  void *s = zsock_resolve(n->control);
  zmq_send(s, zframe_data(identity), zframe_size(identity), ZMQ_SNDMORE | ZMQ_DONTWAIT);
  zmq_send(s, frame, len, ZMQ_DONTWAIT);
  free(frame);
}

static void s_reply(sup_node_t *n, zframe_t *identity, uint64_t corr, int code, const char *msg) {
  Rv__Reply r = RV__REPLY__INIT;
  r.code = (uint32_t)code;
  r.message = (char *)msg;
  s_control_send(n, identity, RV_MSG_REPLY, &r.base, corr);
}

static const char *s_restart_type(cfg_restart_t t) {
  return t == CFG_RESTART_PERMANENT ? "permanent"
         : t == CFG_RESTART_TRANSIENT ? "transient"
                                      : "temporary";
}

static void s_status(sup_node_t *n, zframe_t *identity, uint64_t corr) {
  uint64_t now = s_now();
  Rv__StatusReply rep = RV__STATUS_REPLY__INIT;
  rep.node = (char *)n->cfg->node_id;
  rep.cluster = (char *)n->cfg->cluster_id;
  rep.supervisor_pid = (uint32_t)getpid();
  rep.uptime_ms = now - n->started_ms;
  rep.state = (char *)sup_node_state_name(n->core.state);
  rep.run_dir = (char *)n->cfg->run_dir;
  rep.insecure = n->cfg->security_insecure;
  rep.supervisor_stalls = n->core.stalls;
  rep.supervisor_stalled_ms = n->core.stalled_ms;
  for (int i = 0; i < n->core.nchildren; i++) rep.auth_refused += n->metrics[i].mb.auth_refused;
  /* a health report older than three ping intervals means the monitor itself is not reporting */
  bool fresh = n->health &&
               now - n->health_at_ms <= 3u * (uint64_t)n->cfg->health_ping_interval_ms + 500u;
  if (fresh) {
    rep.node_health = n->health->node_verdict;
    rep.node_health_reason = n->health->node_reason;
  } else if (sup_core_find(&n->core, "health-monitor") >= 0) {
    rep.node_health = RV__HEALTH_VERDICT__HEALTH_UNKNOWN;
    rep.node_health_reason = n->health ? "the health-monitor's reports stopped" : "no report yet";
  }
  Rv__ActorStatus st[SUP_MAX_CHILDREN], *stp[SUP_MAX_CHILDREN];
  for (int i = 0; i < n->core.nchildren; i++) {
    const sup_child_t *c = &n->core.children[i];
    Rv__ActorStatus *a = &st[i];
    rv__actor_status__init(a);
    a->name = (char *)c->name;
    a->pid = c->pid > 0 ? (uint32_t)c->pid : 0;
    a->state = (char *)sup_child_state_name(c->state);
    a->uptime_ms = c->state == SUP_CHILD_RUNNING ? now - c->ready_ms : 0;
    a->restarts = c->restarts;
    a->last_exit = (char *)c->last_exit;
    a->restart_type = (char *)s_restart_type(c->restart);
    a->cpu_wait_ms = c->cpu_wait_ms;
    a->starved = c->starved;
    if (c->state == SUP_CHILD_RUNNING) {
      a->loop_lag_p99_us = n->metrics[i].loop_lag_p99_us;
      a->loop_lag_max_us = n->metrics[i].loop_lag_max_us;
      a->loop_lag_samples = n->metrics[i].loop_lag_samples;
    }
    a->health_reason = "";
    const rv_mailbox_stats_t *mb = &n->metrics[i].mb;
    a->bad_frames = mb->bad_frames;
    a->port_rejected = mb->port_rejected;
    a->port_busy = mb->port_busy;
    a->port_replies_dropped = mb->port_replies_dropped;
    a->port_conns_refused = mb->port_conns_refused;
    a->port_inflight = mb->port_inflight;
    if (fresh)
      for (size_t h = 0; h < n->health->n_actors; h++)
        if (strcmp(n->health->actors[h]->actor, c->name) == 0) {
          a->health = n->health->actors[h]->verdict;
          a->health_reason = n->health->actors[h]->reason;
          a->health_rtt_us = n->health->actors[h]->rtt_us;
        }
    stp[i] = a;
  }
  rep.n_actors = (size_t)n->core.nchildren;
  rep.actors = stp;
  if (n->raft && sup_core_find(&n->core, "raft-peer") >= 0) rep.raft = n->raft;
  s_control_send(n, identity, RV_MSG_STATUS_REPLY, &rep.base, corr);
}

static void s_reply_stops(sup_node_t *n) {
  Rv__StopReply rep = RV__STOP_REPLY__INIT;
  char *killed[SUP_MAX_CHILDREN], *stopped[SUP_MAX_CHILDREN];
  for (int i = 0; i < n->core.nkilled; i++) killed[i] = n->core.killed[i];
  for (int i = 0; i < n->core.nstopped; i++) stopped[i] = n->core.stopped[i];
  rep.n_killed = (size_t)n->core.nkilled;
  rep.killed = killed;
  rep.n_stopped = (size_t)n->core.nstopped;
  rep.stopped = stopped;
  Rv__ActorExit exits[SUP_MAX_CHILDREN], *exitp[SUP_MAX_CHILDREN];
  for (int i = 0; i < n->core.nchildren; i++) {
    sup_child_t *c = &n->core.children[i];
    Rv__ActorExit *e = &exits[i];
    rv__actor_exit__init(e);
    e->name = c->name;
    e->state_at_stop = (char *)sup_child_state_name(c->state_at_stop);
    e->exit = c->last_exit;
    e->code = c->has_status && WIFEXITED(c->last_status) ? WEXITSTATUS(c->last_status) : -1;
    e->signal = c->has_status && WIFSIGNALED(c->last_status) ? WTERMSIG(c->last_status) : 0;
    e->killed = c->killed_at_stop;
    e->clean = sup_child_stopped_cleanly(c);
    e->restarts = c->restarts;
    exitp[i] = e;
  }
  rep.n_exits = (size_t)n->core.nchildren;
  rep.exits = exitp;
  for (int i = 0; i < n->npending_stops; i++) {
    s_control_send(n, n->pending_stops[i], RV_MSG_STOP_REPLY, &rep.base, n->pending_stop_corr[i]);
    zframe_destroy(&n->pending_stops[i]);
  }
  n->npending_stops = 0;
}

/* ---- relaying CLI requests to actors ----------------------------------------------------- */

/* A FenceAttempt from the fencer (to this supervisor, as it relays the CLI's fences): logged and
 * counted by method and outcome. */
static void s_fence_attempt(sup_node_t *n, const rv_msg_t *m) {
  const Rv__FenceAttempt *at = (const Rv__FenceAttempt *)m->body;
  static const char *const outcomes[] = {"started", "fenced", "failed", "timed out",
                                         "interrupted (the fencer stopped; run again)"};
  static const char *const labels[] = {"started", "fenced", "failed", "timeout", "interrupted"};
  const char *o = at->outcome < 5 ? outcomes[at->outcome] : "?";
  const char *label = at->outcome < 5 ? labels[at->outcome] : "unknown";
  char method[64];
  snprintf(method, sizeof method, "%.*s", (int)strcspn(at->method, "("), at->method);
  int k = 0;
  while (k < n->nfences && !(strcmp(n->fences[k].method, method) == 0 &&
                             strcmp(n->fences[k].outcome, label) == 0))
    k++;
  if (k == n->nfences && k < SUP_METRICS_FENCE_MAX) {
    snprintf(n->fences[k].method, sizeof n->fences[k].method, "%s", method);
    snprintf(n->fences[k].outcome, sizeof n->fences[k].outcome, "%s", label);
    n->nfences++;
  }
  if (k < n->nfences) n->fences[k].count++;
  rv_info("fence %s of %s: method %u (%s) attempt %u: %s%s%s", at->request_id, at->target,
          at->method_index + 1, at->method, at->attempt, o, at->detail[0] ? ": " : "",
          at->detail);
}

/* Answers the CLI's request when actor is not running; false when it runs. */
static bool s_refuse_not_running(sup_node_t *n, zframe_t *identity, uint64_t cli_corr,
                                 const char *actor) {
  int child = sup_core_find(&n->core, actor);
  if (child >= 0 && n->core.children[child].state == SUP_CHILD_RUNNING) return false;
  char text[RV_NAME_MAX * 2 + 48];
  snprintf(text, sizeof text, "actor %s is not running on node %s", actor, n->cfg->node_id);
  s_reply(n, identity, cli_corr, RV_EUNAVAIL, text);
  return true;
}

/* Frees relay r's slot. */
static void s_relay_release(s_relay_t *r) {
  zframe_destroy(&r->identity);
  free(r->unsent);
  r->unsent = NULL;
}

/* Sends relay r's request (r->unsent) to its actor: sent (then it waits for the answer), or
 * kept for the next sweep, or given up with an answer of our own to the CLI. */
static void s_relay_send(sup_node_t *n, s_relay_t *r, uint64_t now, bool first) {
  if (s_refuse_not_running(n, r->identity, r->cli_corr, r->actor)) {
    s_relay_release(r);
    return;
  }
  rv_err_t err;
  if (rv_mailbox_send_frame(n->mb, r->actor, r->unsent, r->unsent_len, &err) == RV_OK) {
    free(r->unsent);
    r->unsent = NULL;
    return;
  }
  if (first)
    rv_info("relay #%llu to %s: %s; sending again for up to %llu ms",
            (unsigned long long)r->corr, r->actor, err.msg,
            (unsigned long long)(r->send_until_ms - now));
  if (now < r->send_until_ms) return;
  char text[RV_ERR_MSG_MAX + 64];
  snprintf(text, sizeof text, "cannot reach actor %s (it runs, but its inbox took nothing "
           "for %llu ms): %.400s", r->actor, (unsigned long long)(now - r->asked_ms), err.msg);
  s_reply(n, r->identity, r->cli_corr, RV_EUNAVAIL, text);
  s_relay_release(r);
}

/* Sends body to actor on behalf of the CLI connection identity (borrowed), remembering where the
 * answer goes for timeout_ms; answers the CLI at once when the actor is not running or the table
 * is full. */
static void s_relay(sup_node_t *n, zframe_t *identity, uint64_t cli_corr, const char *actor,
                    uint32_t type, const ProtobufCMessage *body, uint64_t timeout_ms) {
  if (s_refuse_not_running(n, identity, cli_corr, actor)) return;
  s_relay_t *r = NULL;
  for (int i = 0; i < S_MAX_RELAYS && !r; i++)
    if (!n->relays[i].identity) r = &n->relays[i];
  if (!r) {
    s_reply(n, identity, cli_corr, RV_EBUSY, "too many requests in flight; retry shortly");
    return;
  }
  uint64_t corr = ++n->relay_next;
  rv_err_t err;
  uint8_t *frame;
  size_t len;
  if (rv_mailbox_encode(n->mb, actor, type, body, corr, 0, &frame, &len, &err) != RV_OK) {
    s_reply(n, identity, cli_corr, err.code, err.msg);
    return;
  }
  uint64_t now = s_now();
  uint64_t wait_ms = timeout_ms < S_RELAY_SEND_WAIT_MS ? timeout_ms : S_RELAY_SEND_WAIT_MS;
  *r = (s_relay_t){.identity = zframe_dup(identity), .cli_corr = cli_corr, .corr = corr,
                   .deadline_ms = now + timeout_ms, .unsent = frame, .unsent_len = len,
                   .asked_ms = now, .send_until_ms = now + wait_ms};
  snprintf(r->actor, sizeof r->actor, "%s", actor);
  s_relay_send(n, r, now, true);
}

/* An actor's answer m (borrowed: a Reply, or a FenceResult): back, as it is, to the CLI waiting
 * for it; a late one is dropped. */
static void s_relay_answer(sup_node_t *n, const rv_msg_t *m) {
  for (int i = 0; i < S_MAX_RELAYS; i++) {
    s_relay_t *r = &n->relays[i];
    if (!r->identity || r->corr != m->corr_id) continue;
    s_control_send(n, r->identity, m->type, m->body, r->cli_corr);
    s_relay_release(r);
    return;
  }
  rv_debug("dropped a Reply #%llu from %s: nobody waits for it (timed out?)",
           (unsigned long long)m->corr_id, m->from.actor);
}

static int s_on_relay_sweep(zloop_t *loop, int id, void *arg) {
  sup_node_t *n = arg;
  uint64_t now = s_now();
  for (int i = 0; i < S_MAX_RELAYS; i++) {
    s_relay_t *r = &n->relays[i];
    if (!r->identity) continue;
    if (r->unsent) {
      s_relay_send(n, r, now, false);
      continue;
    }
    if (now < r->deadline_ms) continue;
    char text[96];
    snprintf(text, sizeof text, "no answer from the actor within %d ms", S_RELAY_TIMEOUT_MS);
    s_reply(n, r->identity, r->cli_corr, RV_ETIMEDOUT, text);
    s_relay_release(r);
  }
  return 0;
}

static int s_on_control(zloop_t *loop, zsock_t *sock, void *arg) {
  sup_node_t *n = arg;
  sup_core_observe(&n->core, s_now());
  for (int k = 0; k < 64; k++) {
    zmsg_t *msg = zmsg_recv_nowait(n->control);
    if (!msg) break;
    zframe_t *identity = zmsg_pop(msg);
    zframe_t *frame = zmsg_pop(msg);
    if (!identity || !frame || zmsg_size(msg) != 0) {
      rv_warn("dropped a malformed control request (%s)", frame ? "extra frames" : "no frame");
      zframe_destroy(&identity);
      zframe_destroy(&frame);
      zmsg_destroy(&msg);
      continue;
    }
    zmsg_destroy(&msg);
    rv_msg_t m;
    rv_err_t err;
    if (rv_mailbox_decode(n->mb, zframe_data(frame), zframe_size(frame), "control", &m, &err)) {
      s_reply(n, identity, 0, err.code, err.msg);
    } else {
      switch (m.type) {
        case RV_MSG_STATUS_REQUEST: s_status(n, identity, m.corr_id); break;
        case RV_MSG_STOP_REQUEST:
          if (n->npending_stops < S_MAX_PENDING_STOPS) {
            n->pending_stops[n->npending_stops] = zframe_dup(identity);
            n->pending_stop_corr[n->npending_stops++] = m.corr_id;
          }
          sup_core_stop(&n->core, RV_EXIT_OK, "stop requested", s_now());
          break;
        case RV_MSG_RESTART_REQUEST: {
          const char *name = ((Rv__RestartRequest *)m.body)->actor;
          int rc = sup_core_restart(&n->core, name, s_now());
          char text[160];
          if (rc == RV_ENOTFOUND)
            snprintf(text, sizeof text, "no actor named \"%s\" on node %s", name, n->cfg->node_id);
          else if (rc == RV_EBUSY)
            snprintf(text, sizeof text, "actor %s cannot be restarted now (node or actor stopping)",
                     name);
          else
            snprintf(text, sizeof text, "restarting actor %s", name);
          s_reply(n, identity, m.corr_id, rc, text);
          break;
        }
        case RV_MSG_RAFT_ADMIN:
          s_relay(n, identity, m.corr_id, "raft-peer", m.type, m.body, S_RELAY_TIMEOUT_MS);
          break;
        case RV_MSG_FENCE_REQUEST:
          s_relay(n, identity, m.corr_id, "fencer", m.type, m.body, sup_fence_budget_ms(n->cfg));
          break;
        default: {
          char tb[32], text[96];
          snprintf(text, sizeof text, "the supervisor does not handle %s requests",
                   rv_msgtype_name(m.type, tb, sizeof tb));
          s_reply(n, identity, m.corr_id, RV_EINVAL, text);
        }
      }
      rv_msg_clear(&m);
    }
    zframe_destroy(&identity);
    zframe_destroy(&frame);
  }
  return s_after_event(n);
}

/* ---- HTTP: /metrics, /health, /ready (metrics.listen) ------------------------------------- */

/* Answers on the loop's thread, from the state as it is now. */
static void s_on_http(void *arg, const char *path, sup_http_answer_t *out) {
  sup_node_t *n = arg;
  uint64_t now = s_now();
  sup_metrics_view_t v = {
      .cfg = n->cfg, .core = &n->core, .actors = n->metrics, .health = n->health,
      .health_fresh = n->health && now - n->health_at_ms <=
                                       3u * (uint64_t)n->cfg->health_ping_interval_ms + 500u,
      .raft = sup_core_find(&n->core, "raft-peer") >= 0 ? n->raft : NULL,
      .kv = sup_core_find(&n->core, "kv-store") >= 0 ? n->kv : NULL,
      .repl = sup_core_find(&n->core, "ots-replicator") >= 0 ? n->repl : NULL,
      .supervisor_mb = rv_mailbox_stats(n->mb), .uptime_ms = now - n->started_ms,
      .leader_changes = n->leader_changes, .fences = n->fences, .nfences = n->nfences,
      .http_requests = sup_http_requests(n->http)};
  out->status = 200;
  if (strcmp(path, "/metrics") == 0) {
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
    out->body = sup_metrics_render(&v, &out->len);
  } else if (strcmp(path, "/health") == 0 || strcmp(path, "/ready") == 0) {
    out->content_type = "application/json";
    bool ok = path[1] == 'h' ? sup_health_verdict(&v, &out->body, &out->len)
                             : sup_ready_verdict(&v, &out->body, &out->len);
    if (!ok) out->status = 503;
  } else {
    out->status = 404;
    out->body = strdup("not found: this node serves /metrics, /health and /ready\n");
    out->len = out->body ? strlen(out->body) : 0;
  }
  if (!out->body) out->status = 500;
}

/* ---- set-up and the loop ----------------------------------------------------------------- */

static zsock_t *s_bind(const cfg_node_t *cfg, int type, const char *what, rv_err_t *err) {
  char ep[256];
  if (rv_mailbox_endpoint(cfg, what, ep, sizeof ep, err)) return NULL;
  unlink(ep + strlen("ipc://"));
  zsock_t *s = zsock_new(type);
  if (!s) {
    rv_err_set(err, RV_EIO, "cannot create socket for %s", ep);
    return NULL;
  }
  zsock_set_maxmsgsize(s, RV_ENVELOPE_MAX + 4096);
  if (zsock_bind(s, "%s", ep) < 0) {
    rv_err_set(err, RV_EIO, "cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
    zsock_destroy(&s);
  }
  return s;
}

static void s_unlink_endpoint(const cfg_node_t *cfg, const char *what) {
  char ep[256];
  if (rv_mailbox_endpoint(cfg, what, ep, sizeof ep, NULL) == RV_OK) unlink(ep + strlen("ipc://"));
}

int sup_node_run(const cfg_node_t *cfg, int ready_fd) {
  sup_node_t node = {.cfg = cfg, .sigfd = -1, .timer_id = -1, .ready_fd = ready_fd};
  sup_node_t *n = &node;
  rv_err_t err;
  int lockfd = -1, code = RV_EXIT_FAILURE;
  rv_log_init(cfg->node_id, "supervisor", cfg->log_level);
  rv_log_set_format(cfg->log_format);
  n->started_ms = s_now();
  if (!realpath(cfg->source, n->config_path)) {
    rv_err_set(&err, RV_EIO, "cannot resolve %s: %s", cfg->source, strerror(errno));
    goto fail_early;
  }
  if (sup_node_prepare_dirs(cfg, &err) || sup_spawn_check_programs(cfg, &err) ||
      sup_lock_acquire(cfg, &lockfd, &err) || sup_preflight_network(cfg, true, &err)) {
    if (lockfd >= 0) close(lockfd);
    goto fail_early;
  }

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGPIPE);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  sigdelset(&mask, SIGPIPE);
  n->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  zsys_handler_set(NULL);

  if (!(n->tap_in = s_bind(cfg, ZMQ_XSUB, "tap-in", &err)) ||
      !(n->tap_out = s_bind(cfg, ZMQ_XPUB, "tap", &err)) ||
      !(n->control = s_bind(cfg, ZMQ_ROUTER, "control", &err)) ||
      rv_mailbox_new(cfg, "supervisor", &n->mb, &err) != RV_OK)
    goto fail;
  zsock_set_linger(n->control, 1000); /* the StopReply is sent just before the sockets close */

  n->loop = zloop_new();
  zloop_set_nonstop(n->loop, true);
  zloop_reader(n->loop, rv_mailbox_inbox(n->mb), s_on_inbox, n);
  zloop_reader(n->loop, n->control, s_on_control, n);
  zloop_reader(n->loop, n->tap_in, s_on_tap_in, n);
  zloop_reader(n->loop, n->tap_out, s_on_tap_out, n);
  if (rv_mailbox_tap_socket(n->mb)) zloop_reader(n->loop, rv_mailbox_tap_socket(n->mb), s_on_own_tap, n);
  zmq_pollitem_t sigitem = {.fd = n->sigfd, .events = ZMQ_POLLIN};
  zloop_poller(n->loop, &sigitem, s_on_signal, n);
  zloop_timer(n->loop, S_RELAY_SWEEP_MS, 0, s_on_relay_sweep, n);
  if (cfg->metrics_listen[0]) {
    if (sup_http_new(n->loop, cfg->metrics_listen, s_on_http, n, &n->http, &err) != RV_OK) goto fail;
    rv_info("serving /metrics, /health and /ready on http://%s", cfg->metrics_listen);
  }

  rv_info("supervisor of node %s (cluster %s) starting, pid %d, %d actors", cfg->node_id,
          cfg->cluster_id, (int)getpid(), cfg->nactors);
  if (cfg->security_insecure)
    rv_warn("INSECURE: security.insecure is true in %s: the raft and client ports authenticate "
            "no one and encrypt nothing; anyone who reaches them is trusted", cfg->source);
  else
    rv_info("security: CURVE on the raft and client ports (%d node keys, %d client keys)",
            cfg->nnodes, cfg->nclients);
  n->sched = sup_sched_supported();
  if (!n->sched)
    rv_warn("this kernel keeps no run-queue wait (/proc/PID/schedstat: CONFIG_SCHED_INFO): an "
            "actor that waits for a CPU on an overloaded host may be taken for hung");
  sup_core_init(&n->core, cfg);
  sup_core_start(&n->core, s_now());
  if (s_after_event(n) == 0) zloop_start(n->loop);
  code = n->exit_code;
  goto out;

fail:
  rv_error("%s", err.msg);
  if (n->ready_fd >= 0) dprintf(n->ready_fd, "failed %s\n", err.msg);
  code = RV_EXIT_FAILURE;
out:
  sup_http_destroy(&n->http);
  zloop_destroy(&n->loop);
  rv_mailbox_destroy(&n->mb);
  zsock_destroy(&n->control);
  zsock_destroy(&n->tap_in);
  zsock_destroy(&n->tap_out);
  for (int i = 0; i < n->npending_stops; i++) zframe_destroy(&n->pending_stops[i]);
  for (int i = 0; i < S_MAX_RELAYS; i++) s_relay_release(&n->relays[i]);
  if (n->health) rv__health_report__free_unpacked(n->health, NULL);
  if (n->raft) rv__raft_state__free_unpacked(n->raft, NULL);
  if (n->kv) rv__kv_stats__free_unpacked(n->kv, NULL);
  if (n->repl) rv__repl_status__free_unpacked(n->repl, NULL);
  if (lockfd >= 0) {
    const char *names[] = {"supervisor", "control", "tap", "tap-in"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) s_unlink_endpoint(cfg, names[i]);
    for (int i = 0; i < cfg->nactors; i++) s_unlink_endpoint(cfg, cfg->actors[i].name);
  }
  if (n->sigfd >= 0) close(n->sigfd);
  if (n->ready_fd >= 0) close(n->ready_fd);
  if (lockfd >= 0) close(lockfd); /* releases the node lock, last */
  return code;

fail_early:
  rv_error("%s", err.msg);
  if (n->ready_fd >= 0) {
    dprintf(n->ready_fd, "failed %s\n", err.msg);
    close(n->ready_fd);
  }
  return RV_EXIT_FAILURE;
}
