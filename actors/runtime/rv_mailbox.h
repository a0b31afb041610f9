/* rv_mailbox: a process's place on the node's message fabric. Every process of a node (each
 * actor and the supervisor) has exactly one:
 *   - an inbox, a PULL socket bound at ipc://<run-dir>/<name>.sock, that any local process may
 *     push envelopes into;
 *   - outboxes, PUSH sockets to other local processes' inboxes, opened on first use, with
 *     ZMQ_IMMEDIATE so a message to an absent or restarting process is refused at once (and
 *     counted), never queued to arrive stale minutes later;
 *   - a tap publisher (XPUB, connected to the supervisor's tap proxy) on which it publishes every
 *     envelope it sends ("out") or receives ("in") under the topic "<node>/<name>/<dir>".
 *     The proxy forwards the taps' subscriptions to it; while none matches its topics it
 *     publishes nothing at all (the owner's loop calls rv_mailbox_tap_subscriptions when the
 *     tap socket is readable), so an unwatched tap costs a comparison per message.
 * Every frame received passes the one codec (rv_codec): oversized, multi-part, undecodable or
 * unknown-type frames are dropped, counted, logged and published on the tap as BadFrame. */
#ifndef RV_MAILBOX_H
#define RV_MAILBOX_H

#include <czmq.h>
#include <stdbool.h>

#include "cfg_node.h"
#include "rv_codec.h"

#define RV_MAILBOX_MAX_PEERS 32  /* distinct local destinations one process sends to */
#define RV_MAILBOX_HWM 10000     /* frames queued per destination before sends are refused */
#define RV_MAILBOX_MAX_TAP_SUBS 32  /* distinct tap filters followed at once */
#define RV_MAILBOX_CONNECT_WAIT_MS 50 /* first send to a destination waits this long at most */

typedef struct rv_mailbox rv_mailbox_t;

/* Counters, for health pongs and status. */
typedef struct {
  uint64_t msgs_in;        /* frames decoded and delivered */
  uint64_t msgs_out;       /* frames accepted by ZeroMQ for sending */
  uint64_t bad_frames;     /* frames dropped by the size or decode checks */
  uint64_t dropped_sends;  /* sends refused: receiver absent or its queue full */
  uint64_t auth_refused;   /* tcp connections or messages refused by authentication (rv_zap,
                              rv_peers): unknown keys, a node's key speaking as another */
  /* the process's tcp ports (rv_listener), summed: */
  uint64_t port_rejected;       /* messages dropped: bad framing, unknown sender, codec refusal */
  uint64_t port_busy;           /* requests answered busy: their connection does not read */
  uint64_t port_replies_dropped;/* replies dropped: client gone, or its queue over the limit */
  uint64_t port_conns_refused;  /* connections closed over a port's cap */
  uint64_t port_inflight;       /* requests holding an in-flight slot now (a gauge) */
} rv_mailbox_stats_t;

/* A tcp port of the process adds its counters to rv_mailbox_stats through this callback. */
typedef void(rv_mailbox_port_fn)(void *arg, rv_mailbox_stats_t *sum);
#define RV_MAILBOX_MAX_PORTS 4

/* Opens the mailbox of process `name` on the node that cfg describes: binds the inbox (an inbox
 * file left by a crashed predecessor is replaced) and connects the tap. cfg is borrowed and must
 * outlive the mailbox. Returns 0, or RV_EIO with err naming the endpoint and ZeroMQ's reason. */
int rv_mailbox_new(const cfg_node_t *cfg, const char *name, rv_mailbox_t **out, rv_err_t *err);

/* Closes every socket; nulls *mb; safe on NULL and twice. */
void rv_mailbox_destroy(rv_mailbox_t **mb);

/* The inbox socket, to register with a poll loop. Borrowed. */
zsock_t *rv_mailbox_inbox(rv_mailbox_t *mb);

/* The system inbox, a second PULL bound at ipc://<run-dir>/<name>.sys.sock, for the
 * supervisor's heartbeats: an owner's loop reads it ahead of the inbox, so a heartbeat never
 * waits behind a backlog of work, and is answered whenever the loop turns at all (a hung loop,
 * or a stopped process, still answers nothing). Send to it with rv_mailbox_send_sys. Borrowed. */
#define RV_MAILBOX_SYS_SUFFIX ".sys"
zsock_t *rv_mailbox_sys_inbox(rv_mailbox_t *mb);
/* As rv_mailbox_send, to the system inbox of local process `to` (the envelope is addressed to
 * `to` itself). */
int rv_mailbox_send_sys(rv_mailbox_t *mb, const char *to, uint32_t type,
                        const ProtobufCMessage *body, uint64_t corr, rv_err_t *err);
/* As rv_mailbox_recv, from the system inbox. */
int rv_mailbox_recv_sys(rv_mailbox_t *mb, rv_msg_t *m, rv_err_t *err);

/* This process's name and node. Borrowed. */
const char *rv_mailbox_name(const rv_mailbox_t *mb);
const char *rv_mailbox_node(const rv_mailbox_t *mb);

/* Sends body (of the type registered for `type`) to the local process `to`. corr and trace may be
 * 0. Never blocks: returns RV_EAGAIN when the receiver is absent or full (counted in
 * dropped_sends), RV_EINVAL / RV_ETOOBIG from the codec. */
int rv_mailbox_send(rv_mailbox_t *mb, const char *to, uint32_t type, const ProtobufCMessage *body,
                    uint64_t corr, uint64_t trace, rv_err_t *err);

/* Sends an envelope already encoded (rv_msg_encode: by another thread, so that a big message
 * costs the owner's loop no encoding) to the local process `to`, as rv_mailbox_send does (tap,
 * counters, never blocks). frame is borrowed. Returns 0 or RV_EAGAIN. */
int rv_mailbox_send_frame(rv_mailbox_t *mb, const char *to, const uint8_t *frame, size_t len,
                          rv_err_t *err);

/* Receives one frame from the inbox without blocking and decodes it into *m (caller clears it
 * with rv_msg_clear). Returns 0; RV_EAGAIN when nothing is waiting; RV_EDECODE / RV_ETOOBIG for
 * a bad frame (already counted, logged and tapped: the caller just moves on). */
int rv_mailbox_recv(rv_mailbox_t *mb, rv_msg_t *m, rv_err_t *err);

/* Whether frames are decoded into pooled arenas (rv_msg_decode_pooled) rather than the heap:
 * the actors' runtime turns it on for its loop; a process that keeps decoded bodies past
 * rv_msg_clear and frees them itself (the supervisor) leaves it off. Decoding happens on the
 * thread that calls recv/decode, and rv_msg_clear must run on that thread too. */
void rv_mailbox_set_pooled(rv_mailbox_t *mb, bool on);

/* Decodes a frame that arrived on another socket of this process (a control ROUTER, a tcp
 * listener) with the same checks, counting and tapping as the inbox. */
int rv_mailbox_decode(rv_mailbox_t *mb, const uint8_t *frame, size_t len, const char *from_hint,
                      rv_msg_t *m, rv_err_t *err);

/* Publishes an already-encoded envelope on the tap with direction "in" or "out". */
void rv_mailbox_tap(rv_mailbox_t *mb, const uint8_t *frame, size_t len, const char *dir);

/* Encodes a message from this process (sender filled in) to (node of this mailbox, to).
 * *out is malloc'd (caller frees). */
int rv_mailbox_encode(rv_mailbox_t *mb, const char *to, uint32_t type,
                      const ProtobufCMessage *body, uint64_t corr, uint64_t trace, uint8_t **out,
                      size_t *len, rv_err_t *err);

/* The tap socket (NULL when RV_TAP=off), to poll for readability; when readable, call
 * rv_mailbox_tap_subscriptions, which takes in the taps' (un)subscriptions. */
zsock_t *rv_mailbox_tap_socket(rv_mailbox_t *mb);
void rv_mailbox_tap_subscriptions(rv_mailbox_t *mb);

rv_mailbox_stats_t rv_mailbox_stats(const rv_mailbox_t *mb);

/* Counts one connection or message refused by authentication (auth_refused). */
void rv_mailbox_note_auth_refused(rv_mailbox_t *mb);
/* Registers (fn, arg) so that rv_mailbox_stats includes a port's counters (up to
 * RV_MAILBOX_MAX_PORTS; more are not counted); rv_mailbox_remove_port(mb, arg) before arg goes. */
void rv_mailbox_add_port(rv_mailbox_t *mb, rv_mailbox_port_fn *fn, void *arg);
void rv_mailbox_remove_port(rv_mailbox_t *mb, void *arg);

/* The ipc endpoint of local process or socket `what` ("supervisor", "control", "tap"...):
 * ipc://<run-dir>/<what>.sock. Returns RV_ECONFIG when the path does not fit a unix socket. */
int rv_mailbox_endpoint(const cfg_node_t *cfg, const char *what, char *buf, size_t len,
                        rv_err_t *err);

#endif
