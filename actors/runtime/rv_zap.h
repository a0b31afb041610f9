/* rv_zap: the process's ZAP handler (ZeroMQ RFC 27), shared by every CURVE server socket of the
 * process: the Raft listener (rv_peers) and the client listener (rv_listener).
 *
 * Our own handler rather than czmq's zauth: zauth runs in a thread of its own and knows keys,
 * not who they stand for (it answers with the key as User-Id, and one certificate store for
 * every domain); here one REP socket at inproc://zeromq.zap.01 is polled by the actor's own loop
 * (libzmq waits for the answer asynchronously, so no thread is needed), and each request is
 * judged by rv_auth_decide (pure): on the Raft port a node's key becomes User-Id "node:<id>", on
 * the client port a client's key becomes its principal. A refused handshake is counted (the
 * mailbox's auth_refused: status and /metrics show it) and logged at most once a second, with
 * the number refused since the last line.
 *
 * It must exist before any CURVE server socket binds: without a handler libzmq lets every key
 * in. rv_actor creates it before the actor's start() when security.insecure is false. */
#ifndef RV_ZAP_H
#define RV_ZAP_H

#include "rv_mailbox.h"

#define RV_ZAP_ENDPOINT "inproc://zeromq.zap.01"

typedef struct rv_zap rv_zap_t;

typedef struct {
  uint64_t accepted; /* handshakes let in */
  uint64_t refused;  /* handshakes refused: unknown key, a node's key on the client port, ... */
} rv_zap_stats_t;

/* Binds the handler. cfg, mb and loop (where the monitors of rv_zap_watch are read) are borrowed
 * and must outlive it. The process's handler from then on (rv_zap_watch finds it). Returns 0,
 * or RV_EIO (another handler is bound in this process: a programming error, said as such). */
int rv_zap_new(const cfg_node_t *cfg, rv_mailbox_t *mb, zloop_t *loop, rv_zap_t **out,
               rv_err_t *err);

/* Watches CURVE server socket s (named what in logs) for handshakes that fail before the ZAP
 * handler is asked (no key at all, a mechanism other than CURVE, garbage): libzmq refuses those
 * by itself, silently; its socket monitor tells, and they are counted and logged as refusals
 * too. Returns 0, or RV_EINTERNAL when the process has no ZAP handler: a CURVE server without
 * one would let every key in, so its owner must not bind it. */
int rv_zap_watch(zsock_t *s, const char *what, rv_err_t *err);

/* Unbinds; nulls *z; safe on NULL and twice. */
void rv_zap_destroy(rv_zap_t **z);

/* The socket, to poll. Borrowed. */
zsock_t *rv_zap_socket(rv_zap_t *z);

/* Answers every request waiting, without blocking. */
void rv_zap_handle(rv_zap_t *z);

rv_zap_stats_t rv_zap_stats(const rv_zap_t *z);

#endif
