/* rv_conn_guard: a cap on the connections a listening ZeroMQ socket holds at once (I/O shell).
 * ZeroMQ accepts every tcp connection and gives the application no way to refuse one; each may
 * make it buffer a partial frame up to the socket's ZMQ_MAXMSGSIZE. The guard watches the
 * socket's monitor events (ZMQ_EVENT_ACCEPTED, ZMQ_EVENT_DISCONNECTED) on a small thread of its
 * own (a czmq zactor: it never touches the socket itself) and, when an accepted connection is
 * one over the cap, shuts its file descriptor down (shutdown(2), not close: ZeroMQ still owns
 * the descriptor, sees end-of-file and closes it, so the number cannot be reused under it).
 * Refused connections are counted, and logged at most once a second with a count. */
#ifndef RV_CONN_GUARD_H
#define RV_CONN_GUARD_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "rv_error.h"

typedef struct rv_conn_guard rv_conn_guard_t;

/* Starts guarding sock (borrowed: destroy the guard before the socket) so that it holds at most
 * max_conns connections; what names it in logs ("client-port"). Returns 0, or RV_EIO. */
int rv_conn_guard_new(zsock_t *sock, unsigned max_conns, const char *what, bool handshakes,
                      rv_conn_guard_t **out, rv_err_t *err);

/* A socket has one monitor: with handshakes (a CURVE socket) the guard's also takes the
 * handshakes that failed before authentication (no CURVE key, not a ZeroMQ peer), which the ZAP
 * handler never sees; they are counted here and logged once a second. */
uint64_t rv_conn_guard_handshake_failed(const rv_conn_guard_t *g);

/* Stops the monitor and the thread; nulls *g; safe on NULL and twice. */
void rv_conn_guard_destroy(rv_conn_guard_t **g);

/* Connections open now (as far as the monitor has told), and refused since the start. */
uint64_t rv_conn_guard_open(const rv_conn_guard_t *g);
uint64_t rv_conn_guard_refused(const rv_conn_guard_t *g);

#endif
