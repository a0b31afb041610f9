/* rv_listener: the client-facing ROUTER of an actor (I/O shell over ZeroMQ). See the header. */
#include "rv_listener.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>

#include "rv_curve.h"
#include "rv_conn_guard.h"
#include "rv_inflight.h"
#include "rv_log.h"

/* A reply waiting in the listener's own queue for its connection's ZeroMQ pipe to have room. */
typedef struct s_frame {
  struct s_frame *next;
  size_t len;
  uint8_t data[];
} s_frame_t;

/* A reply batched for the end of the turn (rv_listener_peer_t.batch). */
typedef struct {
  rv_listener_peer_t peer;
  uint8_t *frame; /* the encoded envelope (rv_msg_encode's), NULL once sent or queued */
  size_t len;
} s_out_t;

/* A connection with replies waiting, keyed by its routing id in hex. */
typedef struct {
  rv_listener_peer_t peer;
  s_frame_t *head, *tail;
  size_t bytes;
} s_conn_t;

struct rv_listener {
  rv_mailbox_t *mb;
  char what[64];
  zsock_t *sock; /* ROUTER, bound */
  rv_listener_stats_t stats;
  rv_listener_filter_fn *filter; /* or NULL: every routing id is taken */
  void *filter_arg;
  bool limited;                  /* rv_listener_set_limits was called */
  rv_listener_limits_t lim;
  rv_conn_guard_t *guard;        /* the connection cap, or NULL */
  rv_inflight_t *inflight;       /* the cap on requests in flight per connection, or NULL */
  zhashx_t *waiting;             /* s_conn_t by routing id (hex): connections with replies queued */
  size_t turn_used;              /* bytes taken and answered in this loop turn */
  bool trim;                     /* a large frame went by: return freed memory at the turn */
  uint64_t trimmed_ms;           /* the last malloc_trim */
  uint64_t busy_logged_ms;       /* rate limit of the busy warning */
  uint64_t busy_unlogged;
  rv_log_limit_t drop_log;       /* rate limit of the dropped-message warning */
  s_out_t *out;                  /* replies batched in this turn, in the order made */
  size_t nout, capout;
  size_t *parts;                 /* rv_listener_turn_end's scratch: one message's replies */
};

static void s_key(const rv_listener_peer_t *p, char *key) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < p->len; i++) {
    key[2 * i] = hex[p->id[i] >> 4];
    key[2 * i + 1] = hex[p->id[i] & 15];
  }
  key[2 * p->len] = '\0';
}

static void s_conn_free(void **item) {
  s_conn_t *c = *item;
  if (!c) return;
  for (s_frame_t *f = c->head, *n; f; f = n) {
    n = f->next;
    free(f);
  }
  free(c);
  *item = NULL;
}

static s_conn_t *s_conn_find(rv_listener_t *l, const rv_listener_peer_t *p) {
  if (!l->waiting) return NULL;
  char key[2 * RV_LISTENER_ID_MAX + 1];
  s_key(p, key);
  return zhashx_lookup(l->waiting, key);
}

/* Adds this port's counters to its process's (rv_mailbox_stats). */
static void s_port_stats(void *arg, rv_mailbox_stats_t *sum) {
  rv_listener_stats_t st = rv_listener_stats(arg);
  sum->port_rejected += st.rejected;
  sum->port_busy += st.busy;
  sum->port_replies_dropped += st.dropped;
  sum->port_conns_refused += st.conns_refused;
  sum->port_inflight += st.inflight;
  /* handshakes that failed before authentication, seen by the guard's monitor (rv_zap counts
   * the refusals it decides itself) */
  sum->auth_refused += rv_conn_guard_handshake_failed(((rv_listener_t *)arg)->guard);
}

void rv_listener_set_filter(rv_listener_t *l, rv_listener_filter_fn *fn, void *arg) {
  l->filter = fn;
  l->filter_arg = arg;
}

int rv_listener_new(rv_mailbox_t *mb, const char *endpoint, const char *what, rv_listener_t **out,
                    rv_err_t *err) {
  return rv_listener_new_full(mb, endpoint, what, NULL, NULL, NULL, out, err);
}

int rv_listener_new_auth(rv_mailbox_t *mb, const char *endpoint, const char *what,
                         const cfg_node_t *cfg, const char *domain, rv_listener_t **out,
                         rv_err_t *err) {
  return rv_listener_new_full(mb, endpoint, what, cfg, domain, NULL, out, err);
}

int rv_listener_new_limited(rv_mailbox_t *mb, const char *endpoint, const char *what,
                            const rv_listener_limits_t *lim, rv_listener_t **out, rv_err_t *err) {
  return rv_listener_new_full(mb, endpoint, what, NULL, NULL, lim, out, err);
}

int rv_listener_new_full(rv_mailbox_t *mb, const char *endpoint, const char *what,
                         const cfg_node_t *cfg, const char *domain,
                         const rv_listener_limits_t *lim, rv_listener_t **out, rv_err_t *err) {
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
  /* CURVE and the limits before the bind: libzmq copies a socket's options to its listener
   * when it binds, and every connection accepted later takes them from there */
  bool guarded = lim && lim->max_conns, curve = cfg && !cfg->security_insecure;
  int rc = cfg ? rv_curve_server_opts(l->sock, cfg, domain, !guarded, err) : RV_OK;
  if (rc) {
    rv_listener_destroy(&l);
    return rc;
  }
  if (lim) {
    l->lim = *lim;
    l->limited = true;
    if (lim->max_frame) zsock_set_maxmsgsize(l->sock, (int)lim->max_frame);
    zsock_set_sndhwm(l->sock, RV_LISTENER_LIMITED_HWM);
    if (!(l->waiting = zhashx_new())) {
      rv_listener_destroy(&l);
      return rv_err_set(err, RV_ENOMEM, "out of memory");
    }
    zhashx_set_destructor(l->waiting, s_conn_free);
    if (lim->max_inflight && !(l->inflight = rv_inflight_new(lim->max_inflight))) {
      rv_listener_destroy(&l);
      return rv_err_set(err, RV_ENOMEM, "out of memory");
    }
  }
  if (zsock_bind(l->sock, "%s", endpoint) < 0) {
    int e = zmq_errno();
    rv_listener_destroy(&l);
    return rv_err_set(err, RV_EIO,
                      "cannot listen on %s (%s): %s; is another process using the port?", endpoint,
                      what, zmq_strerror(e));
  }
  if (lim && lim->max_conns) {
    if ((rc = rv_conn_guard_new(l->sock, lim->max_conns, l->what, curve, &l->guard, err))) {
      rv_listener_destroy(&l);
      return rc;
    }
  }
  rv_mailbox_add_port(mb, s_port_stats, l);
  *out = l;
  return RV_OK;
}

void rv_listener_destroy(rv_listener_t **lp) {
  if (!lp || !*lp) return;
  for (size_t i = 0; i < (*lp)->nout; i++) free((*lp)->out[i].frame);
  free((*lp)->out);
  free((*lp)->parts);
  rv_mailbox_remove_port((*lp)->mb, *lp);
  rv_conn_guard_destroy(&(*lp)->guard);
  zhashx_destroy(&(*lp)->waiting);
  rv_inflight_destroy(&(*lp)->inflight);
  zsock_destroy(&(*lp)->sock);
  free(*lp);
  *lp = NULL;
}

zsock_t *rv_listener_socket(rv_listener_t *l) { return l->sock; }
rv_listener_stats_t rv_listener_stats(const rv_listener_t *l) {
  rv_listener_stats_t st = l->stats;
  st.conns_refused = rv_conn_guard_refused(l->guard);
  st.inflight = rv_inflight_total(l->inflight);
  return st;
}

/* Counts a request answered busy and logs it at most once a second (why: what the log says). */
static void s_busy(rv_listener_t *l, const char *why) {
  l->stats.busy++;
  l->busy_unlogged++;
  uint64_t now = rv_mono_ms();
  if (now - l->busy_logged_ms >= 1000) {
    rv_warn("%s: %llu request(s) answered busy: %s; %llu so far", l->what,
            (unsigned long long)l->busy_unlogged, why, (unsigned long long)l->stats.busy);
    l->busy_logged_ms = now;
    l->busy_unlogged = 0;
  }
}

int rv_listener_slot_take(rv_listener_t *l, const rv_listener_peer_t *p, rv_err_t *err) {
  if (!l->inflight) return RV_OK;
  int rc = rv_inflight_take(l->inflight, p->id, p->len);
  if (rc == RV_ENOMEM) return rv_err_set(err, RV_ENOMEM, "%s: out of memory", l->what);
  if (rc == RV_EBUSY) {
    char why[160];
    snprintf(why, sizeof why, "their connection has %u requests in flight (limit %u per "
             "connection)", rv_inflight_held(l->inflight, p->id, p->len),
             rv_inflight_cap(l->inflight));
    s_busy(l, why);
    return rv_err_set(err, RV_EBUSY, "%s: this connection has %u requests in flight already "
                      "(the limit); retry once some are answered", l->what,
                      rv_inflight_cap(l->inflight));
  }
  return RV_OK;
}

void rv_listener_slot_give(rv_listener_t *l, const rv_listener_peer_t *p) {
  if (l && l->inflight) rv_inflight_give(l->inflight, p->id, p->len);
}

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
  from->batch = false;
  const char *user = zmq_msg_gets(&frame, "User-Id"); /* set by our ZAP handler (rv_zap) */
  snprintf(from->principal, sizeof from->principal, "%s", user ? user : "");
  char why[RV_ERR_MSG_MAX / 2];
  if (l->filter && !l->filter(from, l->filter_arg, why, sizeof why)) {
    rc = rv_err_set(err, RV_EPROTO, "%s", why);
    goto drop;
  }
  size_t flen = zmq_msg_size(&frame);
  l->turn_used += flen;
  if (flen >= RV_LISTENER_TRIM_BYTES) l->trim = true;
  rc = rv_mailbox_decode(l->mb, zmq_msg_data(&frame), flen, l->what, m, err);
  if (rc) {
    l->stats.rejected++; /* logged and tapped by the mailbox */
    goto done;
  }
  l->stats.received++;
  s_conn_t *c = l->limited ? s_conn_find(l, from) : NULL;
  if (c && c->bytes >= l->lim.max_queued_bytes) {
    char busy_why[160];
    snprintf(busy_why, sizeof busy_why, "their client has %zu reply bytes queued, not read "
             "(limit %zu per connection)", c->bytes, l->lim.max_queued_bytes);
    s_busy(l, busy_why);
    rc = rv_err_set(err, RV_EBUSY, "%s: the connection's replies are not being read (%zu bytes "
                    "queued); retry once they are", l->what, c->bytes);
  }
  goto done;
drop:
  l->stats.rejected++;
  rv_log_limited(&l->drop_log, CFG_LOG_WARN, "dropped a message on the %s: %s (%llu so far)",
                 l->what, err->msg, (unsigned long long)l->stats.rejected);
done:
  zmq_msg_close(&id);
  zmq_msg_close(&frame);
  return rc;
}

static int s_reply_limited(rv_listener_t *l, const rv_listener_peer_t *to, const uint8_t *frame,
                           size_t len, rv_err_t *err);

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
  l->turn_used += len;
  if (len >= RV_LISTENER_TRIM_BYTES) l->trim = true;
  if (to->batch) { /* sent with the turn's others to the same connection */
    if (l->nout == l->capout) {
      size_t cap = l->capout ? 2 * l->capout : 64;
      s_out_t *o = realloc(l->out, cap * sizeof *o);
      size_t *parts = realloc(l->parts, cap * sizeof *parts);
      if (o) l->out = o;
      if (parts) l->parts = parts;
      if (!o || !parts) {
        free(frame);
        l->stats.dropped++;
        return rv_err_set(err, RV_ENOMEM, "out of memory batching a reply");
      }
      l->capout = cap;
    }
    l->out[l->nout++] = (s_out_t){.peer = *to, .frame = frame, .len = len};
    return RV_OK;
  }
  if (l->limited) {
    rc = s_reply_limited(l, to, frame, len, err);
    free(frame);
    return rc;
  }
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

/* Sends one frame to peer now: 0; EAGAIN when its pipe is full; another errno (EHOSTUNREACH:
 * the client is gone) otherwise. */
static int s_send_now(rv_listener_t *l, const rv_listener_peer_t *to, const uint8_t *frame,
                      size_t len) {
  void *s = zsock_resolve(l->sock);
  if (zmq_send(s, to->id, to->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return zmq_errno();
  if (zmq_send(s, frame, len, ZMQ_DONTWAIT) < 0) return zmq_errno();
  return 0;
}

/* With limits: replies go out in order, through the connection's own queue once its ZeroMQ pipe
 * is full; the queue holds max_queued_bytes (plus RV_LISTENER_BUSY_SLACK for the busy answers
 * that the limit itself causes), beyond which replies are dropped and counted. */
static int s_reply_limited(rv_listener_t *l, const rv_listener_peer_t *to, const uint8_t *frame,
                           size_t len, rv_err_t *err) {
  s_conn_t *c = s_conn_find(l, to);
  if (!c) {
    int e = s_send_now(l, to, frame, len);
    if (e == 0) {
      l->stats.replies++;
      return RV_OK;
    }
    if (e != EAGAIN) {
      l->stats.dropped++;
      return rv_err_set(err, RV_EAGAIN, "a client of the %s is gone (%s)", l->what,
                        zmq_strerror(e));
    }
  }
  size_t cap = l->lim.max_queued_bytes + RV_LISTENER_BUSY_SLACK;
  if ((c ? c->bytes : 0) + len > cap) {
    l->stats.dropped++;
    return rv_err_set(err, RV_EAGAIN, "a client of the %s does not read its replies: %zu bytes "
                      "queued for it already (limit %zu)", l->what, c ? c->bytes : 0, cap);
  }
  s_frame_t *f = malloc(sizeof *f + len);
  if (!f) {
    l->stats.dropped++;
    return rv_err_set(err, RV_ENOMEM, "out of memory queueing a reply");
  }
  f->next = NULL;
  f->len = len;
  memcpy(f->data, frame, len);
  if (!c) {
    c = calloc(1, sizeof *c);
    if (!c) {
      free(f);
      l->stats.dropped++;
      return rv_err_set(err, RV_ENOMEM, "out of memory queueing a reply");
    }
    c->peer = *to;
    char key[2 * RV_LISTENER_ID_MAX + 1];
    s_key(to, key);
    zhashx_insert(l->waiting, key, c);
  }
  if (c->tail) c->tail->next = f;
  else c->head = f;
  c->tail = f;
  c->bytes += len;
  l->stats.queued_bytes += len;
  return RV_OK;
}

static bool s_same_conn(const rv_listener_peer_t *a, const rv_listener_peer_t *b) {
  return a->len == b->len && memcmp(a->id, b->id, a->len) == 0;
}

/* Sends out[parts[0..n)] (the same connection's) as one multi-part message: 0, or the errno of
 * a refusal at its first part (EAGAIN: the connection's pipe is full; EHOSTUNREACH: gone), in
 * which case nothing was sent. Once the first part is taken ZeroMQ takes the rest of the
 * message whatever its queue holds (a multi-part message counts once against the high-water
 * mark). */
static int s_send_parts(rv_listener_t *l, const size_t *parts, size_t n) {
  void *s = zsock_resolve(l->sock);
  const rv_listener_peer_t *to = &l->out[parts[0]].peer;
  if (zmq_send(s, to->id, to->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return zmq_errno();
  for (size_t k = 0; k < n; k++) {
    s_out_t *o = &l->out[parts[k]];
    if (zmq_send(s, o->frame, o->len, (k + 1 < n ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0) {
      /* cannot happen once the routing id went through (the router has the pipe): what was
       * not taken is dropped and counted */
      for (; k < n; k++) l->stats.dropped++;
      return 0;
    }
    l->stats.replies++;
  }
  return 0;
}

void rv_listener_turn_end(rv_listener_t *l) {
  if (!l->nout) return;
  for (size_t i = 0; i < l->nout; i++) {
    if (!l->out[i].frame) continue;
    const rv_listener_peer_t peer = l->out[i].peer;
    /* a connection with replies already waiting in the listener's queue: these go after them */
    bool queue = l->limited && s_conn_find(l, &peer) != NULL;
    int e = 0;
    for (size_t j = i; j < l->nout;) {
      size_t n = 0, bytes = 0;
      for (; j < l->nout; j++) {
        s_out_t *o = &l->out[j];
        if (!o->frame || !s_same_conn(&o->peer, &peer)) continue;
        if (n && bytes + o->len > RV_LISTENER_BATCH_BYTES) break;
        l->parts[n++] = j;
        bytes += o->len;
      }
      if (!n) break;
      if (!queue && !e) {
        e = s_send_parts(l, l->parts, n);
        if (e == 0) {
          for (size_t k = 0; k < n; k++) {
            free(l->out[l->parts[k]].frame);
            l->out[l->parts[k]].frame = NULL;
          }
          continue;
        }
      }
      /* not sent: a limited port queues them (counted in bytes, bounded) while the pipe is
       * full; a gone client's, or an unlimited port's, are dropped */
      for (size_t k = 0; k < n; k++) {
        s_out_t *o = &l->out[l->parts[k]];
        rv_err_t err;
        if (l->limited && (queue || e == EAGAIN)) {
          s_reply_limited(l, &o->peer, o->frame, o->len, &err);
          queue = true; /* what follows for this connection goes after it */
        } else {
          l->stats.dropped++;
        }
        free(o->frame);
        o->frame = NULL;
      }
    }
  }
  l->nout = 0;
}

void rv_listener_flush(rv_listener_t *l) {
  rv_listener_turn_end(l);
  if (!l->waiting || !zhashx_size(l->waiting)) return;
  zlistx_t *keys = zhashx_keys(l->waiting);
  for (const char *k = zlistx_first(keys); k; k = zlistx_next(keys)) {
    s_conn_t *c = zhashx_lookup(l->waiting, k);
    int e = 0;
    while (c->head && (e = s_send_now(l, &c->peer, c->head->data, c->head->len)) == 0) {
      s_frame_t *f = c->head;
      c->head = f->next;
      c->bytes -= f->len;
      l->stats.queued_bytes -= f->len;
      l->stats.replies++;
      free(f);
    }
    if (c->head && e != EAGAIN) { /* gone: what waits for it goes */
      for (s_frame_t *f = c->head; f; f = f->next) {
        l->stats.dropped++;
        l->stats.queued_bytes -= f->len;
      }
      c->bytes = 0;
      zhashx_delete(l->waiting, k);
    } else if (!c->head) {
      zhashx_delete(l->waiting, k);
    }
  }
  zlistx_destroy(&keys);
}

void rv_listener_turn_begin(rv_listener_t *l) {
  l->turn_used = 0;
  rv_listener_flush(l);
  if (l->trim) { /* glibc keeps freed large buffers in its arenas: give them back */
    uint64_t now = rv_mono_ms();
    if (now - l->trimmed_ms >= 1000) {
      malloc_trim(0);
      l->trimmed_ms = now;
      l->trim = false;
    }
  }
}

bool rv_listener_turn_over(const rv_listener_t *l) {
  return l->limited && l->lim.turn_bytes && l->turn_used >= l->lim.turn_bytes;
}

