/* rv_listener: an actor's socket for requests from outside the node (clients: the raftvisor
 * CLI, librvclient, benchmarks), over tcp. One ROUTER bound at an endpoint; each client connects
 * a DEALER and sends one envelope per request; the answer goes back to the connection it came
 * from, matched by the envelope's correlation id.
 *   - every frame passes the one codec through the mailbox (rv_mailbox_decode): oversized,
 *     undecodable or unknown-type frames are dropped, counted, logged and tapped as BadFrame;
 *     a message that is not exactly [routing id][one frame] is dropped and counted too;
 *   - ZeroMQ itself refuses frames over RV_ENVELOPE_MAX (ZMQ_MAXMSGSIZE: it closes the
 *     connection of a client that sends one, before any byte is buffered);
 *   - replies never block: a reply to a client that went away (or whose queue is full) is
 *     dropped and counted (ZMQ_ROUTER_MANDATORY makes that visible instead of silent);
 *   - replies to a client that takes them together (rv_listener_peer_t.batch: librvclient says
 *     so in its requests) wait until the owner's turn ends (rv_listener_turn_end) and go out
 *     as one multi-part ZeroMQ message per connection, one envelope per part, at most
 *     RV_LISTENER_BATCH_BYTES each: a burst of replies (one apply batch answers hundreds of
 *     requests) costs one pipe slot, one I/O-thread wake-up and one client wake-up instead of
 *     one per reply, and never runs into the small reply queue of a limited port.
 * Every envelope received or sent is published on the node's tap. I/O shell. */
#ifndef RV_LISTENER_H
#define RV_LISTENER_H

#include "rv_mailbox.h"

#define RV_LISTENER_HWM 10000  /* frames queued per client connection, each way */
#define RV_LISTENER_ID_MAX 255 /* bytes of a ZeroMQ routing id */
#define RV_PRINCIPAL_MAX 256   /* bytes of an authenticated principal, NUL included */

typedef struct rv_listener rv_listener_t;

/* Who sent a request: the ZeroMQ routing id of its connection, and who the server knows it to
 * be. A value, copied freely. */
typedef struct {
  uint8_t id[RV_LISTENER_ID_MAX];
  uint8_t len;
  char principal[RV_PRINCIPAL_MAX]; /* the ZAP User-Id of its CURVE handshake: a client's
                                       principal (security.clients), or "node:<id>" on the Raft
                                       port; "" when the port is insecure. Decided by the
                                       server (rv_auth), never by what the client sends. */
  bool batch;                       /* its replies may share a multi-part message (set by the
                                       owner from the request; rv_listener_recv clears it) */
} rv_listener_peer_t;

typedef struct {
  uint64_t received; /* requests decoded and delivered */
  uint64_t rejected; /* messages dropped: bad framing or a frame the codec refused */
  uint64_t replies;  /* replies accepted by ZeroMQ */
  uint64_t dropped;  /* replies dropped: the client is gone or its queue is full */
  uint64_t busy;     /* requests delivered as RV_EBUSY: their connection's replies are backed up */
  uint64_t conns_refused; /* connections closed over the cap (rv_listener_set_limits) */
  uint64_t queued_bytes;  /* reply bytes waiting in the listener's own queues now */
  uint64_t inflight;      /* requests holding an in-flight slot now (rv_listener_slot_take) */
} rv_listener_stats_t;

/* Bounds on what one port and each of its connections may cost (rv_listener_set_limits). */
typedef struct {
  size_t max_frame;        /* largest frame taken (ZMQ_MAXMSGSIZE): the largest legitimate
                              request; ZeroMQ closes the connection of a client sending more,
                              before buffering it */
  unsigned max_conns;      /* connections held at once; more are closed and counted (0: none) */
  size_t max_queued_bytes; /* reply bytes queued per connection (the client does not read):
                              requests beyond it are delivered as RV_EBUSY, and replies beyond
                              it plus RV_LISTENER_BUSY_SLACK are dropped and counted */
  size_t turn_bytes;       /* request and reply bytes per loop turn: rv_listener_turn_over
                              turns true past it, so one client cannot starve heartbeats */
  unsigned max_inflight;   /* requests one connection may have waiting in the owner at once
                              (rv_listener_slot_take); more are answered RV_EBUSY (0: none) */
} rv_listener_limits_t;

#define RV_LISTENER_LIMITED_HWM 8          /* replies ZeroMQ queues per connection once limited:
                                              the rest waits in the listener's own queue,
                                              counted in bytes */
#define RV_LISTENER_BUSY_SLACK (1u << 20)  /* room beyond max_queued_bytes for busy answers */
#define RV_LISTENER_TRIM_BYTES (1u << 20)  /* after a frame this large, freed heap memory is
                                              returned to the system (malloc_trim) */
#define RV_LISTENER_BATCH_BYTES (256u << 10) /* envelope bytes in one multi-part reply message
                                              at most (a larger envelope goes alone): a
                                              limited port's ZeroMQ queue holds
                                              RV_LISTENER_LIMITED_HWM messages, so what it
                                              holds stays bounded as with single replies */

/* Binds a ROUTER at endpoint ("tcp://host:port"). mb (borrowed, outliving the listener) decodes,
 * counts and taps; what names the socket in messages ("client-port"). Returns 0, or RV_EIO with
 * err naming the endpoint and ZeroMQ's reason. */
int rv_listener_new(rv_mailbox_t *mb, const char *endpoint, const char *what, rv_listener_t **out,
                    rv_err_t *err);

/* The same, as a CURVE server of ZAP domain `domain` (rv_auth.h) with cfg's key pair, unless
 * cfg->security_insecure: a connection whose key the process's ZAP handler (rv_zap) refuses
 * never gets a byte through, and every request carries its connection's principal. cfg is
 * borrowed and must outlive the listener. */
int rv_listener_new_auth(rv_mailbox_t *mb, const char *endpoint, const char *what,
                         const cfg_node_t *cfg, const char *domain, rv_listener_t **out,
                         rv_err_t *err);

/* Decides, from a connection's routing id and principal and before a byte of its frame is decoded,
 * whether to take its message: returns true to accept, or false with why[len] filled (the
 * message is then dropped, counted and logged). */
typedef bool(rv_listener_filter_fn)(const rv_listener_peer_t *from, void *arg, char *why,
                                    size_t len);

/* As rv_listener_new, with limits (copied; NULL = none): the frame size and the ZeroMQ reply
 * queue are set before the bind (libzmq gives accepted connections the options of bind time),
 * the connection cap is an rv_conn_guard, the reply queues and the turn budget are the
 * listener's own. */
int rv_listener_new_limited(rv_mailbox_t *mb, const char *endpoint, const char *what,
                            const rv_listener_limits_t *lim, rv_listener_t **out, rv_err_t *err);

/* Both: a CURVE server (cfg, domain as rv_listener_new_auth; cfg NULL = plain) with limits (lim
 * as rv_listener_new_limited; NULL = none). The ports of the node use this one. */
int rv_listener_new_full(rv_mailbox_t *mb, const char *endpoint, const char *what,
                         const cfg_node_t *cfg, const char *domain,
                         const rv_listener_limits_t *lim, rv_listener_t **out, rv_err_t *err);

/* Installs a filter (NULL removes it); arg is passed back, borrowed. */
void rv_listener_set_filter(rv_listener_t *l, rv_listener_filter_fn *fn, void *arg);

/* Closes the socket (pending replies are dropped); nulls *l; safe on NULL and twice. */
void rv_listener_destroy(rv_listener_t **l);

/* The socket, to poll. Borrowed. */
zsock_t *rv_listener_socket(rv_listener_t *l);

/* Receives one request without blocking: 0 with *from and *m set (caller clears m with
 * rv_msg_clear); RV_EBUSY with *from and *m set too when the connection's queued replies are
 * over its limit (the caller answers it with its retriable busy error, and clears m);
 * RV_EAGAIN when nothing waits; RV_EPROTO / RV_EDECODE / RV_ETOOBIG for a message that was
 * dropped (already counted and logged: the caller moves on). */
int rv_listener_recv(rv_listener_t *l, rv_listener_peer_t *from, rv_msg_t *m, rv_err_t *err);

/* Answers req (borrowed) to the connection `to` with body of type `type`: the envelope goes from
 * this process to req's sender, with req's correlation and trace ids. Never blocks. Returns 0;
 * RV_EAGAIN when the client is gone or its queue is full (counted); codec errors as
 * rv_msg_encode (RV_ETOOBIG for a body over the frame limit). With to->batch the envelope waits
 * for rv_listener_turn_end (or the next rv_listener_turn_begin / rv_listener_flush) and 0 is
 * returned; a failure to send it then is counted as dropped. */
int rv_listener_reply(rv_listener_t *l, const rv_listener_peer_t *to, const rv_msg_t *req,
                      uint32_t type, const ProtobufCMessage *body, rv_err_t *err);

rv_listener_stats_t rv_listener_stats(const rv_listener_t *l);

/* The cap on requests in flight per connection (limits.max_inflight; rv_inflight.h). The owner
 * takes a slot for a request it accepts but cannot answer at once (it waits on something:
 * Raft's commit, a read index) and gives it back when it answers that request, whatever the
 * answer. rv_listener_slot_take returns RV_OK (a slot is held: give it back exactly once; also
 * when the listener has no such cap, and then giving back does nothing), or RV_EBUSY with err
 * saying so when the connection holds max_inflight slots (counted in stats.busy, logged once a
 * second; answer the request with the retriable busy error), or RV_ENOMEM. */
int rv_listener_slot_take(rv_listener_t *l, const rv_listener_peer_t *p, rv_err_t *err);
void rv_listener_slot_give(rv_listener_t *l, const rv_listener_peer_t *p);


/* The owner's loop turn: rv_listener_turn_begin when its reader is called (it also retries the
 * replies waiting in the listener's queues), rv_listener_turn_over after each request: true
 * once the turn's byte budget is spent (stop taking requests; the socket stays readable, so the
 * loop comes back after serving its other sockets and timers). */
void rv_listener_turn_begin(rv_listener_t *l);
bool rv_listener_turn_over(const rv_listener_t *l);

/* Retries sending the replies waiting in the listener's queues (the owner may call it from a
 * timer too: a client that reads again gets them without sending anything). Sends the batched
 * replies first (rv_listener_turn_end). */
void rv_listener_flush(rv_listener_t *l);

/* Sends the replies batched during this turn: per connection, in the order they were made, as
 * multi-part messages of at most RV_LISTENER_BATCH_BYTES (through the connection's own queue
 * when it has one, as single replies). The owner calls it when a handler that may have answered
 * returns; cheap when nothing is batched. */
void rv_listener_turn_end(rv_listener_t *l);

#endif
