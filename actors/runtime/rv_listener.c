/* rv_listener: the client-facing ROUTER of an actor (I/O shell over ZeroMQ). See the header. */
#include "rv_listener.h"

#include <string.h>

#include "rv_curve.h"
#include "rv_log.h"

struct rv_listener {
  rv_mailbox_t *mb;
  char what[64];
  zsock_t *sock; /* ROUTER, bound */
  rv_listener_stats_t stats;
  rv_listener_filter_fn *filter; /* or NULL: every routing id is taken */
  void *filter_arg;
};

void rv_listener_set_filter(rv_listener_t *l, rv_listener_filter_fn *fn, void *arg) {
  l->filter = fn;
  l->filter_arg = arg;
}

int rv_listener_new(rv_mailbox_t *mb, const char *endpoint, const char *what, rv_listener_t **out,
                    rv_err_t *err) {
  return rv_listener_new_auth(mb, endpoint, what, NULL, NULL, out, err);
}

int rv_listener_new_auth(rv_mailbox_t *mb, const char *endpoint, const char *what,
                         const cfg_node_t *cfg, const char *domain, rv_listener_t **out,
                         rv_err_t *err) {
  *out = NULL;
  rv_listener_t *l = calloc(1, sizeof *l);
  if (!l) return rv_err_set(err, RV_ENOMEM, "out of memory");
  l->mb = mb;
  snprintf(l->what, sizeof l->what, "%s", what);
  l->sock = zsock_new(ZMQ_ROUTER);
  if (!l->sock) {
    rv_listener_destroy(&l);
    return rv_err_set(err, RV_EIO, "cannot create a socket: %s", zmq_strerror(zmq_errno()));
  }
  zsock_set_maxmsgsize(l->sock, RV_ENVELOPE_MAX);
  zsock_set_rcvhwm(l->sock, RV_LISTENER_HWM);
  zsock_set_sndhwm(l->sock, RV_LISTENER_HWM);
  zsock_set_router_mandatory(l->sock, 1);
  zsock_set_linger(l->sock, 0);
  int rc = cfg ? rv_curve_server(l->sock, cfg, domain, err) : RV_OK;
  if (rc) {
    rv_listener_destroy(&l);
    return rc;
  }
  if (zsock_bind(l->sock, "%s", endpoint) < 0) {
    int e = zmq_errno();
    rv_listener_destroy(&l);
    return rv_err_set(err, RV_EIO,
                      "cannot listen on %s (%s): %s; is another process using the port?", endpoint,
                      what, zmq_strerror(e));
  }
  *out = l;
  return RV_OK;
}

void rv_listener_destroy(rv_listener_t **lp) {
  if (!lp || !*lp) return;
  zsock_destroy(&(*lp)->sock);
  free(*lp);
  *lp = NULL;
}

zsock_t *rv_listener_socket(rv_listener_t *l) { return l->sock; }
rv_listener_stats_t rv_listener_stats(const rv_listener_t *l) { return l->stats; }

int rv_listener_recv(rv_listener_t *l, rv_listener_peer_t *from, rv_msg_t *m, rv_err_t *err) {
  rv_err_t local;
  if (!err) err = &local;
  memset(m, 0, sizeof *m);
  void *s = zsock_resolve(l->sock);
  zmq_msg_t id, frame;
  zmq_msg_init(&id);
  if (zmq_msg_recv(&id, s, ZMQ_DONTWAIT) < 0) {
    zmq_msg_close(&id);
    return rv_err_set(err, RV_EAGAIN, "nothing waiting");
  }
  zmq_msg_init(&frame);
  int rc = RV_OK;
  size_t idlen = zmq_msg_size(&id);
  if (!zmq_msg_more(&id) || zmq_msg_recv(&frame, s, ZMQ_DONTWAIT) < 0) {
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
  if (idlen == 0 || idlen > RV_LISTENER_ID_MAX) { /* ZeroMQ never makes one; be defensive */
    rc = rv_err_set(err, RV_EPROTO, "a routing id of %zu bytes", idlen);
    goto drop;
  }
  memcpy(from->id, zmq_msg_data(&id), idlen);
  from->len = (uint8_t)idlen;
  const char *user = zmq_msg_gets(&frame, "User-Id"); /* set by our ZAP handler (rv_zap) */
  snprintf(from->principal, sizeof from->principal, "%s", user ? user : "");
  char why[RV_ERR_MSG_MAX / 2];
  if (l->filter && !l->filter(from, l->filter_arg, why, sizeof why)) {
    rc = rv_err_set(err, RV_EPROTO, "%s", why);
    goto drop;
  }
  rc = rv_mailbox_decode(l->mb, zmq_msg_data(&frame), zmq_msg_size(&frame), l->what, m, err);
  if (rc) {
    l->stats.rejected++; /* logged and tapped by the mailbox */
    goto done;
  }
  l->stats.received++;
  goto done;
drop:
  l->stats.rejected++;
  rv_warn("dropped a message on the %s: %s", l->what, err->msg);
done:
  zmq_msg_close(&id);
  zmq_msg_close(&frame);
  return rc;
}

int rv_listener_reply(rv_listener_t *l, const rv_listener_peer_t *to, const rv_msg_t *req,
                      uint32_t type, const ProtobufCMessage *body, rv_err_t *err) {
  rv_msg_t m = {.type = type, .corr_id = req->corr_id, .trace_id = req->trace_id,
                .body = (ProtobufCMessage *)body};
  rv_addr_set(&m.from, rv_mailbox_node(l->mb), rv_mailbox_name(l->mb));
  m.to = req->from;
  uint8_t *frame;
  size_t len;
  int rc = rv_msg_encode(&m, &frame, &len, err);
  if (rc) return rc;
  rv_mailbox_tap(l->mb, frame, len, "out");
  void *s = zsock_resolve(l->sock);
  if (zmq_send(s, to->id, to->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
      zmq_send(s, frame, len, ZMQ_DONTWAIT) < 0) {
    int e = zmq_errno();
    free(frame);
    l->stats.dropped++;
    return rv_err_set(err, RV_EAGAIN, "a client of the %s is gone or not reading (%s)", l->what,
                      zmq_strerror(e));
  }
  free(frame);
  l->stats.replies++;
  return RV_OK;
}
