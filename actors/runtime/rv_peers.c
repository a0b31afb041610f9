/* rv_peers: tcp links between the nodes of a cluster for one actor (I/O shell over ZeroMQ). */
#include "rv_peers.h"

#include <string.h>

#include "rv_auth.h"
#include "rv_curve.h"
#include "rv_listener.h"
#include "rv_log.h"

struct rv_peers {
  rv_mailbox_t *mb;
  const cfg_node_t *cfg;
  char actor[RV_NAME_MAX + 1];
  rv_listener_t *listen;             /* incoming: a ROUTER that takes only the cluster's nodes */
  zsock_t *out[CFG_MAX_NODES];       /* DEALER to each other node; NULL for self */
  char ident[CFG_MAX_NODES][2 * CFG_ID_MAX + 2]; /* "<cluster>/<node>" of each node */
  rv_peer_stats_t stats[CFG_MAX_NODES];
  uint64_t rejected;
};

/* The index of the node that sent from's message, or -1 (rv_auth_peer_node: its routing id,
 * and, when secure, the key its connection authenticated with). */
static int s_node_of(const rv_peers_t *p, const rv_listener_peer_t *from, char *why, size_t len) {
  return rv_auth_peer_node(p->cfg, from->id, from->len, from->principal, why, len);
}

/* Takes frames from the other nodes of this cluster only, each speaking as the node its key
 * belongs to, before decoding anything. */
static bool s_known_node(const rv_listener_peer_t *from, void *arg, char *why, size_t len) {
  rv_peers_t *p = arg;
  if (s_node_of(p, from, why, len) >= 0) return true;
  if (!p->cfg->security_insecure) rv_mailbox_note_auth_refused(p->mb);
  return false;
}

int rv_peers_new(rv_mailbox_t *mb, const cfg_node_t *cfg, const char *actor, rv_peers_t **out,
                 rv_err_t *err) {
  *out = NULL;
  rv_peers_t *p = calloc(1, sizeof *p);
  if (!p) return rv_err_set(err, RV_ENOMEM, "out of memory");
  p->mb = mb;
  p->cfg = cfg;
  snprintf(p->actor, sizeof p->actor, "%s", actor);
  for (int i = 0; i < cfg->nnodes; i++)
    snprintf(p->ident[i], sizeof p->ident[i], "%s/%s", cfg->cluster_id, cfg->nodes[i].id);

  char ep[CFG_HOST_MAX + 32];
  const cfg_peer_t *self = &cfg->nodes[cfg->self];
  cfg_node_listen_endpoint(cfg, self->raft_port, ep, sizeof ep);
  char what[64];
  snprintf(what, sizeof what, "%s link (cluster.nodes[%d].raft-port)", actor, cfg->self);
  /* what the port may cost: the largest frame a node sends (the codec refuses to encode more),
   * a few connections per node (reconnections overlap the old connection for a moment), and a
   * byte budget per loop turn so that a burst from the network never starves heartbeats. Links are
   * authenticated (CURVE): a connection without a node's key never gets a byte through. */
  rv_listener_limits_t lim = {.max_frame = RV_ENVELOPE_MAX,
                              .max_conns = (unsigned)cfg->nnodes * RV_PEERS_CONNS_PER_NODE,
                              .turn_bytes = RV_PEERS_TURN_BYTES};
  int rc = rv_listener_new_full(mb, ep, what, cfg, RV_AUTH_DOMAIN_RAFT, &lim, &p->listen, err);
  if (rc) {
    rv_peers_destroy(&p);
    return rc;
  }
  rv_listener_set_filter(p->listen, s_known_node, p);
  /* A node's restarted raft-peer connects with the same routing id as the process it replaces.
   * Without handover, a ROUTER that has not yet noticed the old connection's end rejects the
   * new one, silently (libzmq 4.3.4, issues #2892 and #4503): the new DEALER believes it is
   * connected and every message it sends is dropped, for good. Seen as a restarted follower that
   * never acknowledged the new leader again. With handover the newest connection wins; once
   * links are authenticated (CURVE), only the node that holds the id's key can present it: a
   * message whose routing id is not the node of its connection's key is refused by the filter
   * (rv_auth_peer_node), though the connection may have displaced the real one until that
   * node reconnects. */
  zsock_set_router_handover(rv_listener_socket(p->listen), 1);
  for (int i = 0; i < cfg->nnodes; i++) {
    if (i == cfg->self) continue;
    zsock_t *s = zsock_new(ZMQ_DEALER);
    if (!s) {
      rv_peers_destroy(&p);
      return rv_err_set(err, RV_EIO, "cannot create a socket: %s", zmq_strerror(zmq_errno()));
    }
    zsock_set_identity(s, p->ident[cfg->self]);
    zsock_set_immediate(s, 1);
    zsock_set_sndhwm(s, RV_PEERS_HWM);
    zsock_set_linger(s, 0);
    zsock_set_reconnect_ivl(s, 50);
    zsock_set_reconnect_ivl_max(s, 500);
    /* a SYN into a partition is given up after 500 ms and tried again, instead of waiting on
     * the kernel's SYN backoff (up to minutes): a healed partition is noticed within ~1 s */
    zsock_set_connect_timeout(s, 500);
    zsock_set_tcp_maxrt(s, 3000); /* unacknowledged data this long: the link is dead */
    zsock_set_heartbeat_ivl(s, 500);
    zsock_set_heartbeat_timeout(s, 1500);
    if ((rc = rv_curve_peer_client(s, cfg, i, err))) {
      zsock_destroy(&s);
      rv_peers_destroy(&p);
      return rc;
    }
    cfg_peer_endpoint(&cfg->nodes[i], cfg->nodes[i].raft_port, ep, sizeof ep);
    if (zsock_connect(s, "%s", ep) < 0) {
      int e = zmq_errno();
      zsock_destroy(&s);
      rv_peers_destroy(&p);
      return rv_err_set(err, RV_EIO, "cannot connect to %s (node %s): %s", ep, cfg->nodes[i].id,
                        zmq_strerror(e));
    }
    p->out[i] = s;
  }
  *out = p;
  return RV_OK;
}

void rv_peers_destroy(rv_peers_t **pp) {
  if (!pp || !*pp) return;
  rv_peers_t *p = *pp;
  for (int i = 0; i < CFG_MAX_NODES; i++) zsock_destroy(&p->out[i]);
  rv_listener_destroy(&p->listen);
  free(p);
  *pp = NULL;
}

zsock_t *rv_peers_socket(rv_peers_t *p) { return rv_listener_socket(p->listen); }
void rv_peers_turn_begin(rv_peers_t *p) { rv_listener_turn_begin(p->listen); }
bool rv_peers_turn_over(const rv_peers_t *p) { return rv_listener_turn_over(p->listen); }
uint64_t rv_peers_conns_refused(const rv_peers_t *p) {
  return rv_listener_stats(p->listen).conns_refused;
}
rv_peer_stats_t rv_peers_stats(const rv_peers_t *p, int node) { return p->stats[node]; }
uint64_t rv_peers_rejected(const rv_peers_t *p) {
  return p->rejected + rv_listener_stats(p->listen).rejected;
}

int rv_peers_send(rv_peers_t *p, int node, uint32_t type, const ProtobufCMessage *body,
                  uint64_t corr, rv_err_t *err) {
  if (node < 0 || node >= p->cfg->nnodes || !p->out[node])
    return rv_err_set(err, RV_EINVAL, "no link to node index %d", node);
  rv_msg_t m = {.type = type, .corr_id = corr, .body = (ProtobufCMessage *)body};
  rv_addr_set(&m.from, p->cfg->node_id, p->actor);
  rv_addr_set(&m.to, p->cfg->nodes[node].id, p->actor);
  uint8_t *frame;
  size_t len;
  int rc = rv_msg_encode(&m, &frame, &len, err);
  if (rc) return rc;
  rv_mailbox_tap(p->mb, frame, len, "out");
  if (zmq_send(zsock_resolve(p->out[node]), frame, len, ZMQ_DONTWAIT) < 0) {
    free(frame);
    p->stats[node].send_refused++;
    return rv_err_set(err, RV_EAGAIN, "node %s is not connected or its queue is full",
                      p->cfg->nodes[node].id);
  }
  free(frame);
  p->stats[node].sent++;
  return RV_OK;
}

int rv_peers_recv(rv_peers_t *p, int *node, rv_msg_t *m, rv_err_t *err) {
  rv_err_t local;
  if (!err) err = &local;
  rv_listener_peer_t from;
  int rc = rv_listener_recv(p->listen, &from, m, err);
  if (rc) return rc; /* nothing waiting, or dropped (counted and logged by the listener) */
  char why[RV_ERR_MSG_MAX / 2];
  int who = s_node_of(p, &from, why, sizeof why); /* >= 0: the filter took it */
  if (who < 0) { /* the listener's filter let it through: cannot happen */
    rv_msg_clear(m);
    p->rejected++;
    return rv_err_set(err, RV_EPROTO, "%s", why);
  }
  if (strcmp(m->from.node, p->cfg->nodes[who].id) != 0 ||
      strcmp(m->to.node, p->cfg->node_id) != 0) {
    rc = rv_err_set(err, RV_EPROTO, "an envelope from %s to %s arrived on the link from %s",
                    m->from.node, m->to.node, p->cfg->nodes[who].id);
    rv_msg_clear(m);
    p->rejected++;
    static rv_log_limit_t limit;
    rv_log_limited(&limit, CFG_LOG_WARN, "dropped a frame on the %s link: %s (%llu so far)",
                   p->actor, err->msg, (unsigned long long)p->rejected);
    return rc;
  }
  *node = who;
  p->stats[who].received++;
  return RV_OK;
}
