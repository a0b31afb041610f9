/* rv_curve: socket options for CURVE servers and Raft link clients (I/O shell). */
#include "rv_curve.h"

#include <string.h>

#include "rv_auth.h"
#include "rv_zap.h"

static int s_check(zsock_t *s, const char *what, rv_err_t *err) {
  if (zsock_mechanism(s) == ZMQ_CURVE) return RV_OK;
  return rv_err_set(err, RV_EINTERNAL, "cannot make the %s a CURVE socket: this libzmq has no "
                    "CURVE support (%s)", what, zmq_strerror(zmq_errno()));
}

int rv_curve_server(zsock_t *s, const cfg_node_t *cfg, const char *domain, rv_err_t *err) {
  return rv_curve_server_opts(s, cfg, domain, true, err);
}

int rv_curve_server_opts(zsock_t *s, const cfg_node_t *cfg, const char *domain, bool watch,
                         rv_err_t *err) {
  if (cfg->security_insecure) return RV_OK;
  zsock_set_zap_domain(s, domain);
  zsock_set_curve_server(s, 1);
  zsock_set_curve_secretkey(s, cfg->security_secret_z85);
  zsock_set_handshake_ivl(s, RV_CURVE_HANDSHAKE_MS);
  int rc = s_check(s, domain, err);
  if (rc || !watch) return rc;
  return rv_zap_watch(s, strcmp(domain, RV_AUTH_DOMAIN_RAFT) ? "client port" : "raft port", err);
}

int rv_curve_peer_client(zsock_t *s, const cfg_node_t *cfg, int node, rv_err_t *err) {
  if (cfg->security_insecure) return RV_OK;
  zsock_set_curve_serverkey(s, cfg->nodes[node].public_key);
  zsock_set_curve_publickey(s, cfg->security_public_z85);
  zsock_set_curve_secretkey(s, cfg->security_secret_z85);
  zsock_set_handshake_ivl(s, RV_CURVE_HANDSHAKE_MS);
  return s_check(s, "Raft link", err);
}
