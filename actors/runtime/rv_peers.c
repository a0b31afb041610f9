/* rv_peers: tcp links between the nodes of a cluster for one actor (I/O shell over ZeroMQ). */
#include "rv_peers.h"

#include <string.h>

#include "rv_log.h"

struct rv_peers {
  rv_mailbox_t *mb;
  const cfg_node_t *cfg;
  char actor[RV_NAME_MAX + 1];
  zsock_t *listen;                   /* ROUTER */
  zsock_t *out[CFG_MAX_NODES];       /* DEALER to each other node; NULL for self */
  char ident[CFG_MAX_NODES][2 * CFG_ID_MAX + 2]; /* "<cluster>/<node>" of each node */
  rv_peer_stats_t stats[CFG_MAX_NODES];
  uint64_t rejected;
};

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
  cfg_peer_endpoint(self, self->raft_port, ep, sizeof ep);
  p->listen = zsock_new(ZMQ_ROUTER);
  if (!p->listen) {
    rv_peers_destroy(&p);
    return rv_err_set(err, RV_EIO, "cannot create a socket: %s", zmq_strerror(zmq_errno()));
  }
  zsock_set_maxmsgsize(p->listen, RV_ENVELOPE_MAX);
  zsock_set_rcvhwm(p->listen, RV_PEERS_HWM * CFG_MAX_NODES);
  zsock_set_linger(p->listen, 0);
  if (zsock_bind(p->listen, "%s", ep) < 0) {
    int e = zmq_errno();
    rv_peers_destroy(&p);
    return rv_err_set(err, RV_EIO,
                      "cannot listen on %s (cluster.nodes[%d].raft-port): %s; is another process "
                      "using the port?",
                      ep, cfg->self, zmq_strerror(e));
  }
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
    zsock_set_heartbeat_ivl(s, 500);
    zsock_set_heartbeat_timeout(s, 1500);
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
  zsock_destroy(&p->listen);
  free(p);
  *pp = NULL;
}

zsock_t *rv_peers_socket(rv_peers_t *p) { return p->listen; }
rv_peer_stats_t rv_peers_stats(const rv_peers_t *p, int node) { return p->stats[node]; }
uint64_t rv_peers_rejected(const rv_peers_t *p) { return p->rejected; }

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
  memset(m, 0, sizeof *m);
  void *s = zsock_resolve(p->listen);
  zmq_msg_t id, frame;
  zmq_msg_init(&id);
  if (zmq_msg_recv(&id, s, ZMQ_DONTWAIT) < 0) {
    zmq_msg_close(&id);
    return rv_err_set(err, RV_EAGAIN, "nothing waiting");
  }
  zmq_msg_init(&frame);
  int more = zmq_msg_more(&id);
  int rc = RV_OK;
  if (!more || zmq_msg_recv(&frame, s, ZMQ_DONTWAIT) < 0) {
    rc = rv_err_set(err, RV_EPROTO, "a message without a frame");
    goto drop;
  }
  if (zmq_msg_more(&frame)) {
    while (zmq_msg_more(&frame)) { /* drain the rest: an envelope is one frame */
      zmq_msg_close(&frame);
      zmq_msg_init(&frame);
      if (zmq_msg_recv(&frame, s, ZMQ_DONTWAIT) < 0) break;
    }
    rc = rv_err_set(err, RV_EPROTO, "a multi-part message (an envelope is a single frame)");
    goto drop;
  }
  int who = -1;
  size_t idlen = zmq_msg_size(&id);
  for (int i = 0; i < p->cfg->nnodes; i++)
    if (i != p->cfg->self && strlen(p->ident[i]) == idlen &&
        memcmp(p->ident[i], zmq_msg_data(&id), idlen) == 0)
      who = i;
  if (who < 0) {
    rc = rv_err_set(err, RV_EPROTO, "a frame from \"%.*s\", not a node of cluster %s",
                    (int)(idlen < 64 ? idlen : 64), (char *)zmq_msg_data(&id), p->cfg->cluster_id);
    goto drop;
  }
  rc = rv_mailbox_decode(p->mb, zmq_msg_data(&frame), zmq_msg_size(&frame),
                         p->cfg->nodes[who].id, m, err);
  if (rc) goto done; /* counted, logged and tapped by the mailbox */
  if (strcmp(m->from.node, p->cfg->nodes[who].id) != 0 ||
      strcmp(m->to.node, p->cfg->node_id) != 0) {
    rc = rv_err_set(err, RV_EPROTO, "an envelope from %s to %s arrived on the link from %s",
                    m->from.node, m->to.node, p->cfg->nodes[who].id);
    rv_msg_clear(m);
    goto drop;
  }
  *node = who;
  p->stats[who].received++;
  goto done;
drop:
  p->rejected++;
  rv_warn("dropped a frame on the %s link: %s", p->actor, err->msg);
done:
  zmq_msg_close(&id);
  zmq_msg_close(&frame);
  return rc;
}
