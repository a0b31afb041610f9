/* rv_peers: an actor's links to the same actor on the other nodes of the cluster, over tcp
 * (raft-peer's Raft traffic). Incoming: one ROUTER bound at this node's raft-port. Outgoing: one
 * DEALER per other node, connected to its raft-port, whose ZeroMQ routing id is
 * "<cluster>/<node>", so that a receiver knows who speaks before it decodes a byte:
 *   - a frame from an unknown routing id (another cluster, a node not in the configuration) is
 *     dropped and counted without being decoded;
 *   - a frame that fails the codec's checks, or whose envelope names another sender than the
 *     routing id, or another receiver than this node, is dropped, counted and tapped (BadFrame);
 *   - sends never block: with ZMQ_IMMEDIATE a message to an unconnected peer is refused at once
 *     (RV_EAGAIN, counted) and its queue is bounded; Raft retries on its own schedule.
 * ZeroMQ reconnects by itself (every 50 ms, backing off to 500 ms) and its heartbeats find dead
 * connections. Every envelope sent or received is published on the node's tap. */
#ifndef RV_PEERS_H
#define RV_PEERS_H

#include "rv_mailbox.h"

#define RV_PEERS_HWM 2000 /* frames queued per peer before sends are refused */
#define RV_PEERS_CONNS_PER_NODE 4  /* connections held at the raft-port per configured node */
#define RV_PEERS_TURN_BYTES (64u << 20) /* frame bytes taken per loop turn */

typedef struct rv_peers rv_peers_t;

typedef struct {
  uint64_t sent;        /* frames accepted for sending */
  uint64_t send_refused;/* not connected, or queue full */
  uint64_t received;    /* frames decoded and delivered */
} rv_peer_stats_t;

/* Binds this node's raft-port and connects to every other node's. mb (borrowed, outliving the
 * result) decodes, counts and taps; actor is the actor name on both ends. Returns 0, or RV_EIO
 * naming the endpoint that could not be bound. */
int rv_peers_new(rv_mailbox_t *mb, const cfg_node_t *cfg, const char *actor, rv_peers_t **out,
                 rv_err_t *err);

/* Closes every socket; nulls *p; safe on NULL and twice. */
void rv_peers_destroy(rv_peers_t **p);

/* The listening socket, to poll. Borrowed. */
zsock_t *rv_peers_socket(rv_peers_t *p);

/* Sends body to node (an index into cfg->nodes, not this node). Never blocks: RV_EAGAIN when the
 * peer is not connected or its queue is full; codec errors as rv_msg_encode. */
int rv_peers_send(rv_peers_t *p, int node, uint32_t type, const ProtobufCMessage *body,
                  uint64_t corr, rv_err_t *err);

/* Receives one frame without blocking. Returns 0 with *node (index into cfg->nodes) and *m set
 * (caller clears m); RV_EAGAIN when nothing waits; RV_EPROTO / RV_EDECODE for a dropped frame. */
int rv_peers_recv(rv_peers_t *p, int *node, rv_msg_t *m, rv_err_t *err);

/* The loop turn's byte budget (rv_listener_turn_begin / rv_listener_turn_over): the owner calls
 * turn_begin when the socket is readable and stops taking frames once turn_over is true. */
void rv_peers_turn_begin(rv_peers_t *p);
bool rv_peers_turn_over(const rv_peers_t *p);
/* Connections closed over the port's cap since the start. */
uint64_t rv_peers_conns_refused(const rv_peers_t *p);

/* Per-peer counters (index into cfg->nodes), and frames dropped from unknown senders. */
rv_peer_stats_t rv_peers_stats(const rv_peers_t *p, int node);
uint64_t rv_peers_rejected(const rv_peers_t *p);

#endif
