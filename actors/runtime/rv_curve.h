/* rv_curve: CURVE settings of the tcp sockets of a node's actors, in one place. A server socket
 * (raft-port, client-port) gets this node's key pair and a ZAP domain (rv_auth.h), and is then
 * judged at every handshake by the process's ZAP handler (rv_zap.h); a Raft link to another
 * node pins that node's public key, so a man in the middle without its secret key cannot
 * complete the handshake. With security.insecure nothing is set (plain tcp). I/O shell. */
#ifndef RV_CURVE_H
#define RV_CURVE_H

#include <stdbool.h>
#include <czmq.h>

#include "cfg_node.h"
#include "rv_error.h"

/* A handshake not completed within this is given up (and a client says why). */
#define RV_CURVE_HANDSHAKE_MS 3000

/* Makes s (not yet bound) a CURVE server of ZAP domain domain with this node's key pair, watched
 * by the process's ZAP handler (rv_zap_watch). Returns 0 (nothing done when insecure), or
 * RV_EINTERNAL when libzmq refuses an option (a libzmq without CURVE) or the process has no ZAP
 * handler (the socket must then not be bound: it would let every key in). */
int rv_curve_server(zsock_t *s, const cfg_node_t *cfg, const char *domain, rv_err_t *err);
/* The same; watch false leaves the handshakes that fail before authentication to the socket's
 * own monitor (rv_conn_guard: a socket has one monitor). */
int rv_curve_server_opts(zsock_t *s, const cfg_node_t *cfg, const char *domain, bool watch,
                         rv_err_t *err);

/* Makes s (not yet connected) a CURVE client of node `node` (an index into cfg->nodes), with
 * this node's key pair. Returns 0 (nothing done when insecure), or RV_EINTERNAL. */
int rv_curve_peer_client(zsock_t *s, const cfg_node_t *cfg, int node, rv_err_t *err);

#endif
