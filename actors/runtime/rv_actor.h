/* rv_actor: the one runtime every actor process links. An actor is a state struct plus handlers
 * (rv_actor_def_t); main.c of an actor is a few lines that call rv_actor_main. The runtime owns
 * everything else:
 *   - the command line (--config FILE --name NAME, then the actor's own options), loading and
 *     validating the node's YAML, structured logging;
 *   - dying with the supervisor (PR_SET_PDEATHSIG, and a check after exec that the parent is
 *     still the supervisor that spawned us);
 *   - the mailbox (inbox, outboxes, tap) and one poll loop with timers and extra sockets;
 *   - the ready handshake (Ready to the supervisor once start() succeeded), heartbeat answers,
 *     health pings answered with the actor's own verdict and the runtime's counters;
 *   - clean shutdown on SIGTERM or SIGINT (stop() runs, sockets close, exit 0).
 * Exit codes follow rv_error.h: RV_EXIT_CONFIG for a bad configuration (the supervisor does not
 * restart it), RV_EXIT_TEMPFAIL when start() fails for a reason a restart may cure. */
#ifndef RV_ACTOR_H
#define RV_ACTOR_H

#include <stdbool.h>

#include "rv_log.h"
#include "rv_mailbox.h"

typedef struct rv_actor rv_actor_t;

/* How long an actor reports a slow write or fsync (over health.slow-io-ms) as unhealthy after it
 * ended: long enough for the health-monitor to see it, short enough that an idle node, which
 * writes nothing more, recovers. A write that hangs stalls the actor's loop instead, which the
 * health pings catch. */
#define RV_SLOW_IO_MEMORY_US 10000000u

/* Called on a timer. */
typedef void(rv_timer_fn)(rv_actor_t *a, void *arg);
/* Called when an extra socket is readable. */
typedef void(rv_reader_fn)(rv_actor_t *a, zsock_t *sock, void *arg);

typedef struct {
  const char *name; /* the actor's default name; --name overrides it */
  /* Opens the actor's resources, adds its timers and sockets. Returns 0, or an rv code with err
   * set (RV_ECONFIG means "do not restart me"). Optional. */
  int (*start)(rv_actor_t *a, void *state, rv_err_t *err);
  /* Handles one message that is not a runtime message. m and its body are borrowed until the
   * handler returns. Optional. */
  void (*message)(rv_actor_t *a, void *state, const rv_msg_t *m);
  /* Called once after each wake-up's batch of inbox messages has been handled (the inbox is
   * empty, or a batch's worth was taken), if message() was called at least once. The place for
   * work worth doing once per batch rather than per message: Raft persists and sends here, so
   * proposals that queued up during one fsync share the next. Optional. */
  void (*drained)(rv_actor_t *a, void *state);
  /* Releases what start() opened; called once on shutdown. Optional. */
  void (*stop)(rv_actor_t *a, void *state);
  /* The actor's verdict on itself for health pings: true if healthy, else false with a reason
   * written to reason[len]. A healthy actor may write a short note there too (status shows
   * it). Optional (absent = healthy while the loop runs). */
  bool (*health)(rv_actor_t *a, void *state, char *reason, size_t len);
  /* Whether the actor's own writes to the data disk fail now (a failed Raft log save, a failed
   * RocksDB write): sent with the health pong (HealthPong.cannot_persist), from which the node
   * decides that it cannot persist (no campaign, a leader hands over). Optional (absent =
   * false). */
  bool (*cannot_persist)(rv_actor_t *a, void *state);
} rv_actor_def_t;

/* Runs the actor until it is told to stop; returns the process exit code. state is the actor's
 * own struct, passed back to every handler. */
int rv_actor_main(int argc, char **argv, const rv_actor_def_t *def, void *state);

/* The node configuration, the actor's name, its mailbox. Borrowed for the actor's lifetime. */
const cfg_node_t *rv_actor_config(const rv_actor_t *a);
const char *rv_actor_name(const rv_actor_t *a);
rv_mailbox_t *rv_actor_mailbox(rv_actor_t *a);

/* The actor's own command-line options (what followed the runtime's). Borrowed. */
int rv_actor_argc(const rv_actor_t *a);
char **rv_actor_argv(const rv_actor_t *a);

/* Sends to a local process by name; see rv_mailbox_send. Errors are logged at debug level. */
int rv_actor_send(rv_actor_t *a, const char *to, uint32_t type, const ProtobufCMessage *body,
                  uint64_t corr);

/* Answers req: to its sender, with its correlation and trace ids. */
int rv_actor_reply(rv_actor_t *a, const rv_msg_t *req, uint32_t type, const ProtobufCMessage *body);

/* An answer encoded off the loop (a worker thread packs a big message; the loop only sends it):
 * rv_actor_reply_envelope fills out with the addresses and ids of the answer to req (type and
 * body left to the caller), for rv_msg_encode on any thread; rv_actor_send_frame sends the
 * encoded frame (borrowed) to the local process `to` (the answer's receiver: req->from.actor).
 * Errors are logged at debug level, as rv_actor_send's. */
void rv_actor_reply_envelope(rv_actor_t *a, const rv_msg_t *req, rv_msg_t *out);
int rv_actor_send_frame(rv_actor_t *a, const char *to, const uint8_t *frame, size_t len);

/* Calls fn every ms milliseconds, times times (0 = until cancelled). Returns a timer id (> 0)
 * or -1. */
int rv_actor_timer_add(rv_actor_t *a, unsigned ms, size_t times, rv_timer_fn *fn, void *arg);
void rv_actor_timer_cancel(rv_actor_t *a, int id);

/* Polls sock (owned by the caller) in the actor's loop. Returns 0 or -1. */
int rv_actor_reader_add(rv_actor_t *a, zsock_t *sock, rv_reader_fn *fn, void *arg);
void rv_actor_reader_remove(rv_actor_t *a, zsock_t *sock);

/* Called when a file descriptor added with rv_actor_fd_add is readable (or at EOF or error). */
typedef void(rv_fd_fn)(rv_actor_t *a, int fd, void *arg);

/* Polls fd (owned by the caller: a pipe from a child, a pidfd) in the actor's loop, so an actor
 * never blocks reading it. Remove it before closing it. Returns 0 or -1. */
int rv_actor_fd_add(rv_actor_t *a, int fd, rv_fd_fn *fn, void *arg);
void rv_actor_fd_remove(rv_actor_t *a, int fd);

/* Ends the loop after the current handler; rv_actor_main then returns code. */
void rv_actor_stop(rv_actor_t *a, int code);

/* 64 random bits from the kernel (getrandom), for seeds and the first of a series of ids
 * (request, stream): never the wall clock, which may step back across a restart and make a new
 * id match an old one's late answer. Never 0. Blocks only until the kernel's pool is initialised
 * at boot; on a kernel without getrandom it reads /dev/urandom. */
uint64_t rv_random_u64(void);

#endif
