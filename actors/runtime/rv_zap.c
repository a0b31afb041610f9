/* rv_zap: the ZAP handler of a process (I/O shell over a REP socket; decisions in rv_auth.c). */
#include "rv_zap.h"

#include <string.h>

#include "rv_auth.h"
#include "rv_log.h"

#define RV_ZAP_FRAMES 7 /* version, request id, domain, address, identity, mechanism, key */
#define RV_ZAP_WATCH_MAX 4 /* CURVE server sockets of one process (raft-port, client-port) */

struct rv_zap {
  const cfg_node_t *cfg;
  rv_mailbox_t *mb;
  zsock_t *sock; /* REP at RV_ZAP_ENDPOINT */
  rv_zap_stats_t stats;
  uint64_t logged_us;     /* when a refusal was last logged */
  uint64_t unlogged;      /* refusals since then */
  zloop_t *loop;
  zsock_t *mon[RV_ZAP_WATCH_MAX]; /* PAIR: the monitor of a watched server socket */
  char mon_what[RV_ZAP_WATCH_MAX][64];
  int nmon;
};

static rv_zap_t *s_zap; /* the process's handler: one ZAP endpoint per ZeroMQ context */

int rv_zap_new(const cfg_node_t *cfg, rv_mailbox_t *mb, zloop_t *loop, rv_zap_t **out,
               rv_err_t *err) {
  *out = NULL;
  rv_zap_t *z = calloc(1, sizeof *z);
  if (!z) return rv_err_set(err, RV_ENOMEM, "out of memory");
  z->cfg = cfg;
  z->mb = mb;
  z->loop = loop;
  z->sock = zsock_new(ZMQ_REP);
  if (!z->sock || zsock_bind(z->sock, RV_ZAP_ENDPOINT) < 0) {
    int e = zmq_errno();
    rv_zap_destroy(&z);
    return rv_err_set(err, RV_EIO, "cannot bind the ZAP handler at %s: %s (one per process)",
                      RV_ZAP_ENDPOINT, zmq_strerror(e));
  }
  zsock_set_linger(z->sock, 0);
  s_zap = z;
  *out = z;
  return RV_OK;
}

void rv_zap_destroy(rv_zap_t **zp) {
  if (!zp || !*zp) return;
  rv_zap_t *z = *zp;
  for (int i = 0; i < z->nmon; i++) {
    if (z->loop) zloop_reader_end(z->loop, z->mon[i]);
    zsock_destroy(&z->mon[i]);
  }
  if (s_zap == z) s_zap = NULL;
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

/* Counts and (at most once a second) logs a refused connection; port names it. */
static void s_refused(rv_zap_t *z, const char *port, const char *address, const char *why) {
  z->stats.refused++;
  rv_mailbox_note_auth_refused(z->mb);
  z->unlogged++;
  uint64_t now = rv_mono_us();
  if (z->logged_us && now - z->logged_us < 1000000) return; /* a flood is one line a second */
  rv_warn("refused a connection from %s on the %s: %s%s", address, port, why,
          z->unlogged > 1 ? " (and others since the last such line)" : "");
  z->logged_us = now;
  z->unlogged = 0;
}

/* A watched socket's handshake events: failures libzmq decided alone are refusals. */
static int s_on_monitor(zloop_t *loop, zsock_t *mon, void *arg) {
  rv_zap_t *z = s_zap;
  if (!z) return 0;
  const char *what = arg;
  for (;;) {
    zmq_pollitem_t it = {.socket = zsock_resolve(mon), .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, 0) <= 0) return 0;
    zmsg_t *ev = zmsg_recv(mon);
    if (!ev) return 0;
    zframe_t *f = zmsg_first(ev);
    zframe_t *addr = zmsg_next(ev);
    uint16_t code = 0;
    if (f && zframe_size(f) >= 2) memcpy(&code, zframe_data(f), 2);
    /* the monitor names the listening endpoint, not the peer: said as such */
    char why[160];
    snprintf(why, sizeof why, "the handshake failed before authentication at %.*s (no CURVE key, "
             "or not a ZeroMQ peer)", addr ? (int)zframe_size(addr) : 1,
             addr ? (const char *)zframe_data(addr) : "?");
    if (code == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || code == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
      s_refused(z, what, "a peer", why);
    zmsg_destroy(&ev);
  }
}

int rv_zap_watch(zsock_t *s, const char *what, rv_err_t *err) {
  rv_zap_t *z = s_zap;
  if (!z)
    return rv_err_set(err, RV_EINTERNAL, "the %s would take CURVE keys with no ZAP handler in "
                      "this process: every key would be let in; not bound", what);
  if (z->nmon == RV_ZAP_WATCH_MAX || !z->loop)
    return rv_err_set(err, RV_EINTERNAL, "cannot watch the %s (at most %d sockets)", what,
                      RV_ZAP_WATCH_MAX);
  int i = z->nmon;
  char ep[64];
  snprintf(ep, sizeof ep, "inproc://rv-zap-monitor-%d", i);
  snprintf(z->mon_what[i], sizeof z->mon_what[i], "%s", what);
  if (zmq_socket_monitor(zsock_resolve(s), ep,
                         ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
      !(z->mon[i] = zsock_new(ZMQ_PAIR)) || zsock_connect(z->mon[i], "%s", ep) < 0 ||
      zloop_reader(z->loop, z->mon[i], s_on_monitor, z->mon_what[i]) != 0) {
    zsock_destroy(&z->mon[i]);
    return rv_err_set(err, RV_EIO, "cannot watch the %s: %s", what, zmq_strerror(zmq_errno()));
  }
  z->nmon++;
  return RV_OK;
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
    else s_refused(z, strcmp(domain, RV_AUTH_DOMAIN_RAFT) ? "client port" : "raft port", address,
                   why);
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
