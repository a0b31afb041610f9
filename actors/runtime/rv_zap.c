/* rv_zap: the ZAP handler of a process (I/O shell over a REP socket; decisions in rv_auth.c). */
#include "rv_zap.h"

#include <string.h>

#include "rv_auth.h"
#include "rv_log.h"

#define RV_ZAP_FRAMES 7 /* version, request id, domain, address, identity, mechanism, key */

struct rv_zap {
  const cfg_node_t *cfg;
  rv_mailbox_t *mb;
  zsock_t *sock; /* REP at RV_ZAP_ENDPOINT */
  rv_zap_stats_t stats;
  uint64_t logged_us;     /* when a refusal was last logged */
  uint64_t unlogged;      /* refusals since then */
};

int rv_zap_new(const cfg_node_t *cfg, rv_mailbox_t *mb, rv_zap_t **out, rv_err_t *err) {
  *out = NULL;
  rv_zap_t *z = calloc(1, sizeof *z);
  if (!z) return rv_err_set(err, RV_ENOMEM, "out of memory");
  z->cfg = cfg;
  z->mb = mb;
  z->sock = zsock_new(ZMQ_REP);
  if (!z->sock || zsock_bind(z->sock, RV_ZAP_ENDPOINT) < 0) {
    int e = zmq_errno();
    rv_zap_destroy(&z);
    return rv_err_set(err, RV_EIO, "cannot bind the ZAP handler at %s: %s (one per process)",
                      RV_ZAP_ENDPOINT, zmq_strerror(e));
  }
  zsock_set_linger(z->sock, 0);
  *out = z;
  return RV_OK;
}

void rv_zap_destroy(rv_zap_t **zp) {
  if (!zp || !*zp) return;
  zsock_destroy(&(*zp)->sock);
  free(*zp);
  *zp = NULL;
}

zsock_t *rv_zap_socket(rv_zap_t *z) { return z->sock; }
rv_zap_stats_t rv_zap_stats(const rv_zap_t *z) { return z->stats; }

/* frame i of msg as a NUL-terminated string into buf (cut to len - 1). */
static const char *s_text(zmsg_t *msg, int i, char *buf, size_t len) {
  zframe_t *f = zmsg_first(msg);
  while (f && i-- > 0) f = zmsg_next(msg);
  size_t n = f ? zframe_size(f) : 0;
  if (n >= len) n = len - 1;
  if (n) memcpy(buf, zframe_data(f), n);
  buf[n] = '\0';
  return buf;
}

static void s_refused(rv_zap_t *z, const char *domain, const char *address, const char *why) {
  z->stats.refused++;
  rv_mailbox_note_auth_refused(z->mb);
  z->unlogged++;
  uint64_t now = rv_mono_us();
  if (z->logged_us && now - z->logged_us < 1000000) return; /* a flood is one line a second */
  rv_warn("refused a connection from %s on the %s port: %s%s", address,
          strcmp(domain, RV_AUTH_DOMAIN_RAFT) ? "client" : "raft", why,
          z->unlogged > 1 ? " (and others since the last such line)" : "");
  z->logged_us = now;
  z->unlogged = 0;
}

void rv_zap_handle(rv_zap_t *z) {
  for (;;) {
    zmq_pollitem_t it = {.socket = zsock_resolve(z->sock), .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, 0) <= 0) return;
    zmsg_t *req = zmsg_recv(z->sock);
    if (!req) return;
    char version[8], domain[64], address[80], mech[16];
    char user[RV_AUTH_USER_MAX] = "", why[256] = "malformed ZAP request";
    s_text(req, 0, version, sizeof version);
    s_text(req, 2, domain, sizeof domain);
    s_text(req, 3, address, sizeof address);
    s_text(req, 5, mech, sizeof mech);
    zframe_t *key = NULL;
    if (zmsg_size(req) >= RV_ZAP_FRAMES) {
      key = zmsg_first(req);
      for (int i = 0; i < 6; i++) key = zmsg_next(req);
    }
    bool ok = !strcmp(version, "1.0") &&
              rv_auth_decide(z->cfg, domain, mech, key ? zframe_data(key) : NULL,
                             key ? zframe_size(key) : 0, user, sizeof user, why, sizeof why);
    if (ok) z->stats.accepted++;
    else s_refused(z, domain, address, why);
    /* the answer: version, request id, status code and text, User-Id, metadata */
    zmsg_t *rep = zmsg_new();
    zmsg_addstr(rep, "1.0");
    zframe_t *rid = zmsg_first(req);
    rid = rid ? zmsg_next(req) : NULL; /* the request id, echoed byte for byte */
    zframe_t *rid_copy = rid ? zframe_dup(rid) : zframe_new(NULL, 0);
    zmsg_append(rep, &rid_copy);
    zmsg_addstr(rep, ok ? "200" : "400");
    zmsg_addstr(rep, ok ? "OK" : "refused");
    zmsg_addstr(rep, user);
    zmsg_addmem(rep, NULL, 0);
    zmsg_send(&rep, z->sock);
    zmsg_destroy(&req);
  }
}
