/* rv_actor: the actor process runtime (I/O shell): command line, config, parent-death, signals,
 * the poll loop, the ready handshake and the runtime's own messages (heartbeats, health pings).
 * Actor logic lives behind rv_actor_def_t and never sees a socket it did not ask for. */
#include "rv_actor.h"
#include "rv_zap.h"
#include "rv_lag.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define S_BATCH 256       /* inbox frames handled per wake-up before others get a turn */
#define S_TURN_US 20000   /* ... or this much time spent on them: then timers and the other
                             sockets get their turn (an overloaded actor's inbox never holds
                             the loop for hundreds of ms) */
#define S_LAG_TICK_MS 100 /* period of the timer that measures loop lateness */

typedef struct s_timer {
  rv_actor_t *actor;
  rv_timer_fn *fn;
  void *arg;
  int id;
  size_t left; /* 0 = forever */
  uint64_t period_us;
  uint64_t due_us; /* when zloop runs it next (zloop keeps a fixed rate: due += period) */
  struct s_timer *next;
} s_timer_t;

typedef struct s_reader {
  rv_actor_t *actor;
  zsock_t *sock;
  rv_reader_fn *fn;
  void *arg;
  struct s_reader *next;
} s_reader_t;

typedef struct s_fd {
  rv_actor_t *actor;
  zmq_pollitem_t item;
  rv_fd_fn *fn;
  void *arg;
  struct s_fd *next;
} s_fd_t;

struct rv_actor {
  const rv_actor_def_t *def;
  void *state;
  cfg_node_t *cfg;
  char name[RV_NAME_MAX + 1];
  int argc;
  char **argv;
  rv_mailbox_t *mb;
  rv_zap_t *zap; /* the ZAP handler of the process's CURVE ports; NULL when insecure */
  zloop_t *loop;
  int sigfd;
  int exit_code;
  bool stopping;
  int ready_timer; /* > 0 while the Ready has not been sent: retried until it goes */
  s_timer_t *timers;
  s_reader_t *readers;
  s_fd_t *fds;
  uint64_t loop_started_us; /* when zloop_start was called (0 before) */
  uint64_t probe_due_us; /* when the runtime's lag probe timer is due next */
  rv_lag_t lag;          /* lateness of every timer run: p99 and max over the last 10-20 s */
  uint64_t lag_max_us;   /* worst lateness since the previous HealthPong */
  uint64_t slow_handlers;   /* handlers that held the loop S_SLOW_HANDLER_US or more */
  uint64_t slow_logged_us;  /* when the last one was logged */
  uint64_t late_hb_logged_us; /* when a late heartbeat answer was last logged */
  uint64_t hb_lag_max_us; /* the same, since the previous HeartbeatAck (for /metrics) */
};

/* A timer due at *due_us runs now: its lateness is the loop's lag (rv_lag.h). A timer that was
 * due before the loop started counts nothing (that was start-up, not a loop held up). The next
 * due time follows zloop's fixed rate; zloop running it before the time we expected (its clock
 * has ms resolution) means our schedule drifted late: it restarts from now. */
static void s_lag_note(rv_actor_t *a, uint64_t now, uint64_t *due_us, uint64_t period_us) {
  uint64_t lag = now > *due_us ? now - *due_us : 0;
  if (a->loop_started_us && *due_us >= a->loop_started_us) {
    rv_lag_record(&a->lag, now, lag);
    if (lag > a->lag_max_us) a->lag_max_us = lag;
    if (lag > a->hb_lag_max_us) a->hb_lag_max_us = lag;
  }
  *due_us = (*due_us < now ? *due_us : now) + period_us;
}

const cfg_node_t *rv_actor_config(const rv_actor_t *a) { return a->cfg; }
const char *rv_actor_name(const rv_actor_t *a) { return a->name; }
rv_mailbox_t *rv_actor_mailbox(rv_actor_t *a) { return a->mb; }
int rv_actor_argc(const rv_actor_t *a) { return a->argc; }
char **rv_actor_argv(const rv_actor_t *a) { return a->argv; }

void rv_actor_stop(rv_actor_t *a, int code) {
  a->exit_code = code;
  a->stopping = true;
}

int rv_actor_send(rv_actor_t *a, const char *to, uint32_t type, const ProtobufCMessage *body,
                  uint64_t corr) {
  rv_err_t err;
  int rc = rv_mailbox_send(a->mb, to, type, body, corr, 0, &err);
  if (rc) rv_debug("send to %s failed: %s", to, err.msg);
  return rc;
}

int rv_actor_reply(rv_actor_t *a, const rv_msg_t *req, uint32_t type,
                   const ProtobufCMessage *body) {
  rv_err_t err;
  int rc = rv_mailbox_send(a->mb, req->from.actor, type, body, req->corr_id, req->trace_id, &err);
  if (rc) rv_debug("reply to %s failed: %s", req->from.actor, err.msg);
  return rc;
}

void rv_actor_reply_envelope(rv_actor_t *a, const rv_msg_t *req, rv_msg_t *out) {
  memset(out, 0, sizeof *out);
  rv_addr_set(&out->from, a->cfg->node_id, rv_mailbox_name(a->mb));
  rv_addr_set(&out->to, a->cfg->node_id, req->from.actor);
  out->corr_id = req->corr_id;
  out->trace_id = req->trace_id;
}

int rv_actor_send_frame(rv_actor_t *a, const char *to, const uint8_t *frame, size_t len) {
  rv_err_t err;
  int rc = rv_mailbox_send_frame(a->mb, to, frame, len, &err);
  if (rc) rv_debug("send to %s failed: %s", to, err.msg);
  return rc;
}

/* ---- timers and readers ------------------------------------------------------------------ */

static void s_timer_unlink(rv_actor_t *a, s_timer_t *t) {
  for (s_timer_t **p = &a->timers; *p; p = &(*p)->next)
    if (*p == t) {
      *p = t->next;
      free(t);
      return;
    }
}

/* A handler that held the loop S_SLOW_HANDLER_US or more is logged (at most once a second):
 * meanwhile no heartbeat, health ping or client was answered. */
#define S_SLOW_HANDLER_US 200000
static void s_slow_check(rv_actor_t *a, const char *what, uint32_t type, uint64_t took_us) {
  if (took_us < S_SLOW_HANDLER_US) return;
  a->slow_handlers++;
  uint64_t now = rv_mono_us();
  if (now - a->slow_logged_us < 1000000) return;
  a->slow_logged_us = now;
  char tb[32];
  rv_warn("handling %s%s%s held the loop for %llu ms (%llu such since start); nothing else was "
          "answered meanwhile", what, type ? " " : "", type ? rv_msgtype_name(type, tb, sizeof tb) : "",
          (unsigned long long)(took_us / 1000), (unsigned long long)a->slow_handlers);
}

static int s_on_timer(zloop_t *loop, int id, void *arg) {
  s_timer_t *t = arg;
  rv_actor_t *a = t->actor;
  rv_timer_fn *fn = t->fn;
  void *fn_arg = t->arg;
  /* t must not be touched after fn runs: fn may cancel its own timer. */
  uint64_t t0 = rv_mono_us();
  s_lag_note(a, t0, &t->due_us, t->period_us);
  if (t->left == 1)
    s_timer_unlink(a, t); /* zloop drops a timer that ran out */
  else if (t->left > 1)
    t->left--;
  fn(a, fn_arg);
  s_slow_check(a, "a timer", 0, rv_mono_us() - t0);
  return a->stopping ? -1 : 0;
}

static int s_send_ready(rv_actor_t *a) {
  Rv__Ready ready = RV__READY__INIT;
  ready.pid = (uint32_t)getpid();
  ready.version = "0.1.0";
  return rv_actor_send(a, "supervisor", RV_MSG_READY, &ready.base, 0);
}

static void s_retry_ready(rv_actor_t *a, void *arg) {
  if (s_send_ready(a) != RV_OK) return;
  rv_info("told the supervisor that this actor is ready");
  rv_actor_timer_cancel(a, a->ready_timer);
  a->ready_timer = 0;
}

int rv_actor_timer_add(rv_actor_t *a, unsigned ms, size_t times, rv_timer_fn *fn, void *arg) {
  s_timer_t *t = calloc(1, sizeof *t);
  if (!t) return -1;
  *t = (s_timer_t){.actor = a, .fn = fn, .arg = arg, .left = times, .next = a->timers,
                   .period_us = ms * 1000ull, .due_us = rv_mono_us() + ms * 1000ull};
  t->id = zloop_timer(a->loop, ms, times, s_on_timer, t);
  if (t->id < 0) {
    free(t);
    return -1;
  }
  a->timers = t;
  return t->id;
}

void rv_actor_timer_cancel(rv_actor_t *a, int id) {
  for (s_timer_t *t = a->timers; t; t = t->next)
    if (t->id == id) {
      zloop_timer_end(a->loop, id);
      s_timer_unlink(a, t);
      return;
    }
}

static int s_on_reader(zloop_t *loop, zsock_t *sock, void *arg) {
  s_reader_t *r = arg;
  rv_actor_t *a = r->actor;
  uint64_t t0 = rv_mono_us();
  r->fn(a, sock, r->arg);
  s_slow_check(a, "a socket's input", 0, rv_mono_us() - t0);
  return a->stopping ? -1 : 0;
}

int rv_actor_reader_add(rv_actor_t *a, zsock_t *sock, rv_reader_fn *fn, void *arg) {
  s_reader_t *r = calloc(1, sizeof *r);
  if (!r) return -1;
  *r = (s_reader_t){.actor = a, .sock = sock, .fn = fn, .arg = arg, .next = a->readers};
  if (zloop_reader(a->loop, sock, s_on_reader, r) < 0) {
    free(r);
    return -1;
  }
  a->readers = r;
  return 0;
}

void rv_actor_reader_remove(rv_actor_t *a, zsock_t *sock) {
  for (s_reader_t **p = &a->readers; *p; p = &(*p)->next)
    if ((*p)->sock == sock) {
      s_reader_t *r = *p;
      zloop_reader_end(a->loop, sock);
      *p = r->next;
      free(r);
      return;
    }
}

static int s_on_fd(zloop_t *loop, zmq_pollitem_t *item, void *arg) {
  s_fd_t *f = arg;
  rv_actor_t *a = f->actor;
  uint64_t t0 = rv_mono_us();
  f->fn(a, item->fd, f->arg); /* may remove f */
  s_slow_check(a, "a file descriptor's input", 0, rv_mono_us() - t0);
  return a->stopping ? -1 : 0;
}

int rv_actor_fd_add(rv_actor_t *a, int fd, rv_fd_fn *fn, void *arg) {
  s_fd_t *f = calloc(1, sizeof *f);
  if (!f) return -1;
  *f = (s_fd_t){.actor = a, .fn = fn, .arg = arg, .next = a->fds};
  f->item = (zmq_pollitem_t){.fd = fd, .events = ZMQ_POLLIN};
  if (zloop_poller(a->loop, &f->item, s_on_fd, f) < 0) {
    free(f);
    return -1;
  }
  zloop_poller_set_tolerant(a->loop, &f->item); /* EOF or an error is the handler's to see */
  a->fds = f;
  return 0;
}

void rv_actor_fd_remove(rv_actor_t *a, int fd) {
  for (s_fd_t **p = &a->fds; *p; p = &(*p)->next)
    if ((*p)->item.fd == fd) {
      s_fd_t *f = *p;
      zloop_poller_end(a->loop, &f->item);
      *p = f->next;
      free(f);
      return;
    }
}

/* ---- runtime messages -------------------------------------------------------------------- */

static void s_answer_heartbeat(rv_actor_t *a, const rv_msg_t *m) {
  Rv__HeartbeatAck ack = RV__HEARTBEAT_ACK__INIT;
  ack.seq = ((Rv__Heartbeat *)m->body)->seq;
  ack.pid = (uint32_t)getpid();
  rv_mailbox_stats_t st = rv_mailbox_stats(a->mb);
  ack.msgs_in = st.msgs_in;
  ack.msgs_out = st.msgs_out;
  ack.bad_frames = st.bad_frames;
  ack.dropped_sends = st.dropped_sends;
  ack.auth_refused = st.auth_refused;
  ack.port_rejected = st.port_rejected;
  ack.port_busy = st.port_busy;
  ack.port_replies_dropped = st.port_replies_dropped;
  ack.port_conns_refused = st.port_conns_refused;
  ack.port_inflight = st.port_inflight;
  ack.loop_lag_us = a->hb_lag_max_us;
  a->hb_lag_max_us = 0;
  rv_lag_summary_t lag = rv_lag_summary(&a->lag, rv_mono_us());
  ack.loop_lag_p99_us = lag.p99_us;
  ack.loop_lag_max_us = lag.max_us;
  ack.loop_lag_samples = lag.samples;
  int rc = rv_actor_reply(a, m, RV_MSG_HEARTBEAT_ACK, &ack.base);
  /* the heartbeat's own age says whether it waited in the inbox (this loop was busy) or in
   * transit; either way a late answer is worth a line when the supervisor may kill us for it */
  uint64_t now_wall = rv_wall_us();
  uint64_t age_ms = m->sent_at_us && now_wall > m->sent_at_us ? (now_wall - m->sent_at_us) / 1000 : 0;
  if (age_ms >= 500 || rc != RV_OK) {
    uint64_t now = rv_mono_us();
    if (now - a->late_hb_logged_us >= 1000000) {
      a->late_hb_logged_us = now;
      rv_warn("answered heartbeat #%llu %llu ms after it was sent%s", (unsigned long long)ack.seq,
              (unsigned long long)age_ms, rc == RV_OK ? "" : "; the answer could not be sent");
    }
  }
}

static void s_answer_health(rv_actor_t *a, const rv_msg_t *m) {
  Rv__HealthPong pong = RV__HEALTH_PONG__INIT;
  char reason[256] = "";
  pong.seq = ((Rv__HealthPing *)m->body)->seq;
  pong.pid = (uint32_t)getpid();
  pong.healthy = a->def->health ? a->def->health(a, a->state, reason, sizeof reason) : true;
  pong.reason = reason;
  pong.cannot_persist = a->def->cannot_persist ? a->def->cannot_persist(a, a->state) : false;
  rv_mailbox_stats_t st = rv_mailbox_stats(a->mb);
  pong.msgs_in = st.msgs_in;
  pong.msgs_out = st.msgs_out;
  pong.bad_frames = st.bad_frames;
  pong.dropped_sends = st.dropped_sends;
  pong.auth_refused = st.auth_refused;
  pong.loop_lag_us = a->lag_max_us;
  a->lag_max_us = 0;
  rv_actor_reply(a, m, RV_MSG_HEALTH_PONG, &pong.base);
}

static int s_on_zap(zloop_t *loop, zsock_t *sock, void *arg) {
  rv_actor_t *a = arg;
  rv_zap_handle(a->zap);
  return 0;
}

static int s_on_inbox(zloop_t *loop, zsock_t *sock, void *arg) {
  rv_actor_t *a = arg;
  bool handled = false;
  uint64_t turn_start = rv_mono_us();
  for (int i = 0; i < S_BATCH && !a->stopping; i++) {
    if (i > 0 && (i & 7) == 0 && rv_mono_us() - turn_start >= S_TURN_US) break;
    rv_msg_t m;
    int rc = rv_mailbox_recv(a->mb, &m, NULL);
    if (rc == RV_EAGAIN) break;
    if (rc) continue; /* bad frame: counted, logged and tapped by the mailbox */
    switch (m.type) {
      case RV_MSG_HEARTBEAT: s_answer_heartbeat(a, &m); break;
      case RV_MSG_HEALTH_PING: s_answer_health(a, &m); break;
      default:
        if (a->def->message) {
          uint64_t t0 = rv_mono_us();
          a->def->message(a, a->state, &m);
          s_slow_check(a, "a message", m.type, rv_mono_us() - t0);
        }
        handled = true;
    }
    rv_msg_clear(&m);
  }
  if (handled && !a->stopping && a->def->drained) {
    uint64_t t0 = rv_mono_us();
    a->def->drained(a, a->state);
    s_slow_check(a, "the drained hook", 0, rv_mono_us() - t0);
  }
  return a->stopping ? -1 : 0;
}

/* The system inbox: heartbeats, answered ahead of any work waiting in the inbox. */
static int s_on_sys(zloop_t *loop, zsock_t *sock, void *arg) {
  rv_actor_t *a = arg;
  for (int i = 0; i < 16 && !a->stopping; i++) {
    rv_msg_t m;
    int rc = rv_mailbox_recv_sys(a->mb, &m, NULL);
    if (rc == RV_EAGAIN) break;
    if (rc) continue;
    if (m.type == RV_MSG_HEARTBEAT) s_answer_heartbeat(a, &m);
    else if (m.type == RV_MSG_HEALTH_PING) s_answer_health(a, &m);
    else rv_debug("system inbox: ignored a message of type %u", m.type);
    rv_msg_clear(&m);
  }
  return a->stopping ? -1 : 0;
}

static int s_on_tap(zloop_t *loop, zsock_t *sock, void *arg) {
  rv_actor_t *a = arg;
  rv_mailbox_tap_subscriptions(a->mb);
  return 0;
}

static int s_on_signal(zloop_t *loop, zmq_pollitem_t *item, void *arg) {
  rv_actor_t *a = arg;
  struct signalfd_siginfo si;
  while (read(a->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
    if (si.ssi_signo == SIGHUP) { /* logrotate: the supervisor passes it on */
      char path[CFG_PATH_MAX + 64];
      snprintf(path, sizeof path, "%s/%s.log", a->cfg->log_dir, a->name);
      if (rv_log_to_file()) rv_log_reopen(path);
      continue;
    }
    rv_info("received %s, stopping", strsignal((int)si.ssi_signo));
    rv_actor_stop(a, RV_EXIT_OK);
  }
  return a->stopping ? -1 : 0;
}

/* The runtime's probe: a timer of its own in every actor, so that lag is measured even in an
 * actor with no timers (zloop runs a late periodic timer once per loop turn until it has caught
 * up with its schedule: each of those runs counts its own lateness). */
static int s_on_lag_tick(zloop_t *loop, int id, void *arg) {
  rv_actor_t *a = arg;
  s_lag_note(a, rv_mono_us(), &a->probe_due_us, S_LAG_TICK_MS * 1000u);
  return 0;
}

/* ---- start-up and shutdown --------------------------------------------------------------- */

static void s_usage(FILE *f, const char *prog, const char *name) {
  fprintf(f,
          "usage: %s --config FILE [--name NAME] [ACTOR OPTIONS...]\n"
          "Runs the %s actor of the node that FILE (the node's YAML) describes. It is normally\n"
          "started by the node's supervisor (raftvisor start), not by hand.\n"
          "  --config FILE  the node's YAML configuration\n"
          "  --name NAME    the actor's name in that file (default %s)\n",
          prog, name, name);
}

/* Dies with the supervisor: the kernel sends SIGKILL when our parent exits. If the parent that
 * spawned us (RV_SUPERVISOR_PID) is already gone, the signal will never come: exit now. */
static int s_tie_to_supervisor(void) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
  const char *want = getenv("RV_SUPERVISOR_PID");
  if (want && *want && (pid_t)atol(want) != getppid()) return -1;
  return 0;
}

int rv_actor_main(int argc, char **argv, const rv_actor_def_t *def, void *state) {
  rv_actor_t actor = {.def = def, .state = state, .sigfd = -1};
  rv_actor_t *a = &actor;
  const char *config = NULL;
  snprintf(a->name, sizeof a->name, "%s", def->name);
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      s_usage(stdout, argv[0], def->name);
      return RV_EXIT_OK;
    } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
      config = argv[++i];
    } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
      if (strlen(argv[i + 1]) > RV_NAME_MAX) {
        fprintf(stderr, "%s: --name \"%s\" is longer than %d bytes\n", argv[0], argv[i + 1],
                RV_NAME_MAX);
        return RV_EXIT_CONFIG;
      }
      snprintf(a->name, sizeof a->name, "%s", argv[++i]);
    } else {
      break; /* the actor's own options start here */
    }
  }
  a->argc = argc - i;
  a->argv = argv + i;
  if (!config) {
    fprintf(stderr, "%s: missing --config FILE\n", argv[0]);
    s_usage(stderr, argv[0], def->name);
    return RV_EXIT_CONFIG;
  }
  if (s_tie_to_supervisor() != 0) {
    fprintf(stderr, "%s: the supervisor that started this actor is gone; exiting\n", argv[0]);
    return RV_EXIT_FAILURE;
  }
  rv_err_t err;
  if (cfg_node_load(config, &a->cfg, 2, &err) != RV_OK) {
    fprintf(stderr, "%s: %s\n", argv[0], err.msg);
    return RV_EXIT_CONFIG;
  }
  rv_log_init(a->cfg->node_id, a->name, a->cfg->log_level);
  rv_log_set_format(a->cfg->log_format);

  /* Signals arrive through the loop, never as asynchronous handlers; block them before ZeroMQ
   * starts its threads so that they inherit the mask. */
  zsys_handler_set(NULL);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGPIPE);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  sigdelset(&mask, SIGPIPE);
  a->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  int code = RV_EXIT_TEMPFAIL;
  if (rv_mailbox_new(a->cfg, a->name, &a->mb, &err) != RV_OK) {
    rv_error("cannot open mailbox: %s", err.msg);
    code = err.code == RV_ECONFIG ? RV_EXIT_CONFIG : RV_EXIT_TEMPFAIL;
    goto out;
  }
  rv_mailbox_set_pooled(a->mb, true); /* bodies are borrowed by handlers (rv_actor.h) */
  a->loop = zloop_new();
  zloop_set_nonstop(a->loop, true);
  zloop_reader(a->loop, rv_mailbox_sys_inbox(a->mb), s_on_sys, a); /* polled first */
  zloop_reader(a->loop, rv_mailbox_inbox(a->mb), s_on_inbox, a);
  if (rv_mailbox_tap_socket(a->mb)) zloop_reader(a->loop, rv_mailbox_tap_socket(a->mb), s_on_tap, a);
  zmq_pollitem_t sigitem = {.fd = a->sigfd, .events = ZMQ_POLLIN};
  zloop_poller(a->loop, &sigitem, s_on_signal, a);
  rv_lag_init(&a->lag);
  a->probe_due_us = rv_mono_us() + S_LAG_TICK_MS * 1000u;
  zloop_timer(a->loop, S_LAG_TICK_MS, 0, s_on_lag_tick, a);
  /* before start(): a CURVE server socket bound with no ZAP handler would let any key in */
  if (a->cfg->security_insecure) {
    rv_warn("INSECURE: security.insecure is true: the raft and client ports authenticate no one "
            "and encrypt nothing; anyone who reaches them is trusted");
  } else {
    if (rv_zap_new(a->cfg, a->mb, a->loop, &a->zap, &err) != RV_OK) {
      rv_error("cannot start authentication: %s", err.msg);
      goto out;
    }
    zloop_reader(a->loop, rv_zap_socket(a->zap), s_on_zap, a);
  }

  if (def->start && def->start(a, state, &err) != RV_OK) {
    rv_error("cannot start: %s", err.msg);
    code = err.code == RV_ECONFIG ? RV_EXIT_CONFIG : RV_EXIT_TEMPFAIL;
    goto out;
  }
  if (s_send_ready(a) != RV_OK) {
    /* The first send to the supervisor waits a bounded time for the connection; on a loaded
     * machine it can take longer, and a Ready never sent means a kill at the start timeout.
     * Retry until it goes (the supervisor ignores a Ready it already has). */
    rv_warn("could not tell the supervisor that this actor is ready yet; retrying");
    a->ready_timer = rv_actor_timer_add(a, 20, 0, s_retry_ready, NULL);
  }
  rv_info("ready pid=%d", (int)getpid());

  a->loop_started_us = rv_mono_us();
  if (!a->stopping) zloop_start(a->loop);
  code = a->exit_code;
  if (def->stop) def->stop(a, state);
  rv_info("stopped (exit code %d)", code);
out:
  while (a->readers) rv_actor_reader_remove(a, a->readers->sock);
  while (a->fds) rv_actor_fd_remove(a, a->fds->item.fd);
  while (a->timers) rv_actor_timer_cancel(a, a->timers->id);
  rv_zap_destroy(&a->zap); /* its monitors are readers of the loop */
  zloop_destroy(&a->loop);
  rv_mailbox_destroy(&a->mb);
  rv_arena_pool_free(); /* the loop's pooled decode arenas */
  if (a->sigfd >= 0) close(a->sigfd);
  cfg_node_destroy(&a->cfg);
  return code;
}

uint64_t rv_random_u64(void) {
  uint64_t v = 0;
  size_t got = 0;
  while (got < sizeof v) {
    ssize_t n = getrandom((char *)&v + got, sizeof v - got, 0);
    if (n > 0) {
      got += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
      if (fd < 0 || read(fd, &v, sizeof v) != (ssize_t)sizeof v) {
        /* no entropy source at all: this process cannot make safe ids */
        rv_error("no random source (getrandom: %s; /dev/urandom unreadable)", strerror(errno));
        abort();
      }
      close(fd);
      got = sizeof v;
    }
  }
  return v ? v : 1;
}
