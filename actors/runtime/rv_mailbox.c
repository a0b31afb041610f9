/* rv_mailbox: inbox, outboxes and tap of one process (I/O shell over ZeroMQ). See the header
 * for the model; this file holds the socket plumbing that no actor repeats. */
#include "rv_mailbox.h"

#include <errno.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "rv_log.h"

struct rv_mailbox {
  const cfg_node_t *cfg;
  char name[RV_NAME_MAX + 1];
  zsock_t *inbox; /* PULL, bound */
  zsock_t *sys;   /* PULL, bound at <name>.sys: the supervisor's heartbeats, read first */
  zsock_t *tap;   /* XPUB, connected to the supervisor's tap proxy */
  /* the topic prefixes that some tap subscribes to, as the proxy forwards them: publishing is
   * skipped unless one matches, so an unwatched tap costs one comparison */
  char subs[RV_MAILBOX_MAX_TAP_SUBS][64];
  int nsubs;
  struct {
    char name[RV_NAME_MAX + 1];
    zsock_t *sock; /* PUSH, connected to name's inbox */
  } out[RV_MAILBOX_MAX_PEERS];
  int nout;
  rv_mailbox_stats_t stats;
  struct {
    rv_mailbox_port_fn *fn;
    void *arg;
  } ports[RV_MAILBOX_MAX_PORTS];
  bool pooled; /* decode into pooled arenas (rv_msg_decode_pooled): rv_mailbox_set_pooled */
};

void rv_mailbox_set_pooled(rv_mailbox_t *mb, bool on) { mb->pooled = on; }

int rv_mailbox_endpoint(const cfg_node_t *cfg, const char *what, char *buf, size_t len,
                        rv_err_t *err) {
  int n = snprintf(buf, len, "ipc://%s/%s.sock", cfg->run_dir, what);
  size_t path_len = n > 0 ? (size_t)n - strlen("ipc://") : 0;
  if ((size_t)n >= len || path_len >= sizeof(((struct sockaddr_un *)0)->sun_path))
    return rv_err_set(err, RV_ECONFIG,
                      "node.run-dir \"%s\" is too long for unix sockets (\"%s\" is %zu bytes, the "
                      "limit is %zu): choose a shorter node.run-dir",
                      cfg->run_dir, buf, path_len, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
  return RV_OK;
}

int rv_mailbox_new(const cfg_node_t *cfg, const char *name, rv_mailbox_t **out, rv_err_t *err) {
  *out = NULL;
  rv_mailbox_t *mb = calloc(1, sizeof *mb);
  if (!mb) return rv_err_set(err, RV_ENOMEM, "out of memory");
  mb->cfg = cfg;
  snprintf(mb->name, sizeof mb->name, "%s", name);

  char ep[256];
  int rc = rv_mailbox_endpoint(cfg, name, ep, sizeof ep, err);
  if (rc) goto fail;
  /* A crashed predecessor leaves its socket file behind; binding over it is what we want (the
   * supervisor's lock guarantees no live process of this name exists on this node). */
  unlink(ep + strlen("ipc://"));
  mb->inbox = zsock_new(ZMQ_PULL);
  if (!mb->inbox) {
    rc = rv_err_set(err, RV_EIO, "cannot create inbox socket: %s", zmq_strerror(zmq_errno()));
    goto fail;
  }
  /* no ZeroMQ size limit on the inboxes: with one, libzmq drops an oversized frame and the
   * sender's connection before this process sees a byte, uncounted; only local processes of
   * the node's user reach an inbox (0700 run dir), and the codec refuses and counts a frame
   * over RV_ENVELOPE_MAX, as this file's header says */
  zsock_set_maxmsgsize(mb->inbox, -1);
  zsock_set_rcvhwm(mb->inbox, RV_MAILBOX_HWM);
  if (zsock_bind(mb->inbox, "%s", ep) < 0) {
    rc = rv_err_set(err, RV_EIO, "cannot bind inbox %s: %s", ep, zmq_strerror(zmq_errno()));
    goto fail;
  }
  char sysname[RV_NAME_MAX + 8];
  snprintf(sysname, sizeof sysname, "%s" RV_MAILBOX_SYS_SUFFIX, name);
  if ((rc = rv_mailbox_endpoint(cfg, sysname, ep, sizeof ep, err))) goto fail;
  unlink(ep + strlen("ipc://"));
  mb->sys = zsock_new(ZMQ_PULL);
  if (!mb->sys) {
    rc = rv_err_set(err, RV_EIO, "cannot create system inbox socket: %s", zmq_strerror(zmq_errno()));
    goto fail;
  }
  zsock_set_maxmsgsize(mb->sys, -1); /* as the inbox */
  zsock_set_rcvhwm(mb->sys, RV_MAILBOX_HWM);
  if (zsock_bind(mb->sys, "%s", ep) < 0) {
    rc = rv_err_set(err, RV_EIO, "cannot bind system inbox %s: %s", ep, zmq_strerror(zmq_errno()));
    goto fail;
  }
  /* RV_TAP=off removes the tap altogether: the benchmark's baseline for what a tap costs. */
  const char *tap_env = getenv("RV_TAP");
  if (tap_env && strcmp(tap_env, "off") == 0) {
    *out = mb;
    return RV_OK;
  }
  if ((rc = rv_mailbox_endpoint(cfg, "tap-in", ep, sizeof ep, err))) goto fail;
  mb->tap = zsock_new(ZMQ_XPUB);
  if (!mb->tap) {
    rc = rv_err_set(err, RV_EIO, "cannot create tap socket: %s", zmq_strerror(zmq_errno()));
    goto fail;
  }
  zsock_set_sndhwm(mb->tap, RV_MAILBOX_HWM);
  zsock_set_reconnect_ivl(mb->tap, 10);
  if (zsock_connect(mb->tap, "%s", ep) < 0) {
    rc = rv_err_set(err, RV_EIO, "cannot connect tap %s: %s", ep, zmq_strerror(zmq_errno()));
    goto fail;
  }
  *out = mb;
  return RV_OK;
fail:
  rv_mailbox_destroy(&mb);
  return rc;
}

void rv_mailbox_destroy(rv_mailbox_t **mbp) {
  if (!mbp || !*mbp) return;
  rv_mailbox_t *mb = *mbp;
  for (int i = 0; i < mb->nout; i++) zsock_destroy(&mb->out[i].sock);
  zsock_destroy(&mb->tap);
  zsock_destroy(&mb->inbox);
  zsock_destroy(&mb->sys);
  free(mb);
  *mbp = NULL;
}

zsock_t *rv_mailbox_inbox(rv_mailbox_t *mb) { return mb->inbox; }
zsock_t *rv_mailbox_sys_inbox(rv_mailbox_t *mb) { return mb->sys; }
const char *rv_mailbox_name(const rv_mailbox_t *mb) { return mb->name; }
const char *rv_mailbox_node(const rv_mailbox_t *mb) { return mb->cfg->node_id; }
void rv_mailbox_note_auth_refused(rv_mailbox_t *mb) { mb->stats.auth_refused++; }

rv_mailbox_stats_t rv_mailbox_stats(const rv_mailbox_t *mb) {
  rv_mailbox_stats_t st = mb->stats;
  for (int i = 0; i < RV_MAILBOX_MAX_PORTS; i++)
    if (mb->ports[i].fn) mb->ports[i].fn(mb->ports[i].arg, &st);
  return st;
}

void rv_mailbox_add_port(rv_mailbox_t *mb, rv_mailbox_port_fn *fn, void *arg) {
  for (int i = 0; i < RV_MAILBOX_MAX_PORTS; i++)
    if (!mb->ports[i].fn) {
      mb->ports[i].fn = fn;
      mb->ports[i].arg = arg;
      return;
    }
}

void rv_mailbox_remove_port(rv_mailbox_t *mb, void *arg) {
  for (int i = 0; i < RV_MAILBOX_MAX_PORTS; i++)
    if (mb->ports[i].arg == arg) mb->ports[i].fn = NULL, mb->ports[i].arg = NULL;
}

zsock_t *rv_mailbox_tap_socket(rv_mailbox_t *mb) { return mb->tap; }

void rv_mailbox_tap_subscriptions(rv_mailbox_t *mb) {
  if (!mb->tap) return;
  void *s = zsock_resolve(mb->tap);
  for (;;) {
    char buf[sizeof mb->subs[0] + 1]; /* the flag byte, then a prefix that fits subs[] */
    int n = zmq_recv(s, buf, sizeof buf - 1, ZMQ_DONTWAIT);
    if (n < 0) return;
    if (n < 1 || n > (int)sizeof buf - 1) continue; /* a topic longer than ours cannot match */
    buf[n] = '\0';
    const char *prefix = buf + 1;
    int found = -1;
    for (int i = 0; i < mb->nsubs; i++)
      if (strcmp(mb->subs[i], prefix) == 0) found = i;
    if (buf[0] == 1 && found < 0 && mb->nsubs < RV_MAILBOX_MAX_TAP_SUBS)
      snprintf(mb->subs[mb->nsubs++], sizeof mb->subs[0], "%s", prefix);
    else if (buf[0] == 0 && found >= 0)
      memcpy(mb->subs[found], mb->subs[--mb->nsubs], sizeof mb->subs[0]);
  }
}

void rv_mailbox_tap(rv_mailbox_t *mb, const uint8_t *frame, size_t len, const char *dir) {
  if (!mb->tap || mb->nsubs == 0) return;
  char topic[2 * RV_NAME_MAX + 8];
  int tlen = snprintf(topic, sizeof topic, "%s/%s/%s", mb->cfg->node_id, mb->name, dir);
  bool wanted = false;
  for (int i = 0; i < mb->nsubs && !wanted; i++)
    wanted = strncmp(topic, mb->subs[i], strlen(mb->subs[i])) == 0;
  if (!wanted) return;
  void *s = zsock_resolve(mb->tap);
  /* Best effort by design: a tap must never slow or block the traffic it watches. */
  if (zmq_send(s, topic, (size_t)tlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return;
  zmq_send(s, frame, len, ZMQ_DONTWAIT);
}

/* The outbox to `to`, connected on first use. */
static zsock_t *s_outbox(rv_mailbox_t *mb, const char *to, rv_err_t *err) {
  for (int i = 0; i < mb->nout; i++)
    if (strcmp(mb->out[i].name, to) == 0) return mb->out[i].sock;
  if (mb->nout == RV_MAILBOX_MAX_PEERS) {
    rv_err_set(err, RV_EINVAL, "too many destinations (max %d) from %s", RV_MAILBOX_MAX_PEERS,
               mb->name);
    return NULL;
  }
  char ep[256];
  if (rv_mailbox_endpoint(mb->cfg, to, ep, sizeof ep, err)) return NULL;
  zsock_t *s = zsock_new(ZMQ_PUSH);
  if (!s) {
    rv_err_set(err, RV_EIO, "cannot create socket to %s: %s", to, zmq_strerror(zmq_errno()));
    return NULL;
  }
  zsock_set_immediate(s, 1);
  zsock_set_sndhwm(s, RV_MAILBOX_HWM);
  zsock_set_reconnect_ivl(s, 10);
  zsock_set_reconnect_ivl_max(s, 100);
  if (zsock_connect(s, "%s", ep) < 0) {
    rv_err_set(err, RV_EIO, "cannot connect to %s: %s", ep, zmq_strerror(zmq_errno()));
    zsock_destroy(&s);
    return NULL;
  }
  /* Connecting is asynchronous, and with ZMQ_IMMEDIATE a send before the connection exists is
   * refused: wait (once per destination, bounded) until it can take a message. A destination
   * that is absent costs this wait once; later sends to it fail at once. */
  zmq_pollitem_t item = {.socket = zsock_resolve(s), .events = ZMQ_POLLOUT};
  zmq_poll(&item, 1, RV_MAILBOX_CONNECT_WAIT_MS);
  snprintf(mb->out[mb->nout].name, sizeof mb->out[mb->nout].name, "%s", to);
  mb->out[mb->nout].sock = s;
  mb->nout++;
  return s;
}

int rv_mailbox_encode(rv_mailbox_t *mb, const char *to, uint32_t type,
                      const ProtobufCMessage *body, uint64_t corr, uint64_t trace, uint8_t **out,
                      size_t *len, rv_err_t *err) {
  rv_msg_t m = {.type = type, .corr_id = corr, .trace_id = trace, .body = (ProtobufCMessage *)body};
  rv_addr_set(&m.from, mb->cfg->node_id, mb->name);
  rv_addr_set(&m.to, mb->cfg->node_id, to);
  return rv_msg_encode(&m, out, len, err);
}

static int s_send(rv_mailbox_t *mb, const char *endpoint, const char *to, uint32_t type,
                  const ProtobufCMessage *body, uint64_t corr, uint64_t trace, rv_err_t *err);

int rv_mailbox_send(rv_mailbox_t *mb, const char *to, uint32_t type, const ProtobufCMessage *body,
                    uint64_t corr, uint64_t trace, rv_err_t *err) {
  return s_send(mb, to, to, type, body, corr, trace, err);
}

int rv_mailbox_send_sys(rv_mailbox_t *mb, const char *to, uint32_t type,
                        const ProtobufCMessage *body, uint64_t corr, rv_err_t *err) {
  char ep[RV_NAME_MAX + sizeof RV_MAILBOX_SYS_SUFFIX];
  snprintf(ep, sizeof ep, "%s" RV_MAILBOX_SYS_SUFFIX, to);
  return s_send(mb, ep, to, type, body, corr, 0, err);
}

/* Sends an encoded envelope to the inbox named `endpoint` (its receiver `to`, for messages). */
static int s_send_frame(rv_mailbox_t *mb, const char *endpoint, const char *to,
                        const uint8_t *frame, size_t len, rv_err_t *err) {
  zsock_t *s = s_outbox(mb, endpoint, err);
  if (!s) return err ? err->code : RV_EIO;
  rv_mailbox_tap(mb, frame, len, "out");
  if (zmq_send(zsock_resolve(s), frame, len, ZMQ_DONTWAIT) < 0) {
    int e = zmq_errno();
    mb->stats.dropped_sends++;
    return rv_err_set(err, RV_EAGAIN, "%s is not reachable (%s)", to,
                      e == EAGAIN ? "not running or its queue is full" : zmq_strerror(e));
  }
  mb->stats.msgs_out++;
  return RV_OK;
}

/* Sends to the inbox named `endpoint` an envelope addressed to `to`. */
static int s_send(rv_mailbox_t *mb, const char *endpoint, const char *to, uint32_t type,
                  const ProtobufCMessage *body, uint64_t corr, uint64_t trace, rv_err_t *err) {
  uint8_t *frame;
  size_t len;
  /* the outbox first: a destination that cannot exist costs no encoding */
  if (!s_outbox(mb, endpoint, err)) return err ? err->code : RV_EIO;
  int rc = rv_mailbox_encode(mb, to, type, body, corr, trace, &frame, &len, err);
  if (rc) return rc;
  rc = s_send_frame(mb, endpoint, to, frame, len, err);
  free(frame);
  return rc;
}

int rv_mailbox_send_frame(rv_mailbox_t *mb, const char *to, const uint8_t *frame, size_t len,
                          rv_err_t *err) {
  return s_send_frame(mb, to, to, frame, len, err);
}

#define S_BAD_REASONS 64 /* rate limiters of bad-frame lines, by error code */

/* Counts, logs and taps a frame that failed the checks. */
static void s_bad_frame(rv_mailbox_t *mb, size_t size, const char *from, const rv_err_t *why) {
  mb->stats.bad_frames++;
  /* one line per second per reason (the error code), with a count: a peer sending garbage at
   * line rate cannot fill the disk with logs; the counter and the tap still see every frame */
  static rv_log_limit_t limits[S_BAD_REASONS];
  rv_log_limited(&limits[(unsigned)why->code % S_BAD_REASONS], CFG_LOG_WARN,
                 "dropped a bad frame of %zu bytes from %s: %s (%llu bad frames so far)", size,
                 from, why->msg, (unsigned long long)mb->stats.bad_frames);
  Rv__BadFrame bf = RV__BAD_FRAME__INIT;
  bf.reason = (char *)why->msg;
  bf.size = (uint32_t)size;
  bf.from = (char *)from;
  uint8_t *frame;
  size_t len;
  if (rv_mailbox_encode(mb, mb->name, RV_MSG_BAD_FRAME, &bf.base, 0, 0, &frame, &len, NULL) == 0) {
    rv_mailbox_tap(mb, frame, len, "in");
    free(frame);
  }
}

int rv_mailbox_decode(rv_mailbox_t *mb, const uint8_t *frame, size_t len, const char *from_hint,
                      rv_msg_t *m, rv_err_t *err) {
  rv_err_t local;
  if (!err) err = &local;
  int rc = mb->pooled ? rv_msg_decode_pooled(frame, len, RV_ENVELOPE_MAX, m, err)
                      : rv_msg_decode(frame, len, RV_ENVELOPE_MAX, m, err);
  if (rc) {
    s_bad_frame(mb, len, from_hint, err);
    return rc;
  }
  rv_mailbox_tap(mb, frame, len, "in");
  mb->stats.msgs_in++;
  return RV_OK;
}

static int s_recv(rv_mailbox_t *mb, zsock_t *sock, rv_msg_t *m, rv_err_t *err);

int rv_mailbox_recv(rv_mailbox_t *mb, rv_msg_t *m, rv_err_t *err) {
  return s_recv(mb, mb->inbox, m, err);
}

int rv_mailbox_recv_sys(rv_mailbox_t *mb, rv_msg_t *m, rv_err_t *err) {
  return s_recv(mb, mb->sys, m, err);
}

static int s_recv(rv_mailbox_t *mb, zsock_t *sock, rv_msg_t *m, rv_err_t *err) {
  memset(m, 0, sizeof *m);
  void *s = zsock_resolve(sock);
  zmq_msg_t frame;
  zmq_msg_init(&frame);
  if (zmq_msg_recv(&frame, s, ZMQ_DONTWAIT) < 0) {
    zmq_msg_close(&frame);
    return rv_err_set(err, RV_EAGAIN, "inbox empty");
  }
  int rc;
  if (zmq_msg_more(&frame)) {
    /* an envelope is one frame; drain and refuse the whole multi-part message */
    size_t total = zmq_msg_size(&frame);
    while (zmq_msg_more(&frame)) {
      zmq_msg_close(&frame);
      zmq_msg_init(&frame);
      if (zmq_msg_recv(&frame, s, ZMQ_DONTWAIT) < 0) break;
      total += zmq_msg_size(&frame);
    }
    rv_err_t e;
    rv_err_set(&e, RV_EDECODE, "multi-part message (an envelope is a single frame)");
    s_bad_frame(mb, total, "inbox", &e);
    rc = rv_err_set(err, RV_EDECODE, "%s", e.msg);
  } else {
    rc = rv_mailbox_decode(mb, zmq_msg_data(&frame), zmq_msg_size(&frame), "inbox", m, err);
  }
  zmq_msg_close(&frame);
  return rc;
}
