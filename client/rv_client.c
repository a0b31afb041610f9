/* rv_client: librvclient's engine (I/O): one DEALER per node, lanes of operations in flight,
 * attempts with timeouts, redirects to the leader, round-robin failover with backoff, and the
 * completed operations handed out by poll. See rv_client.h for the model. */
#include <czmq.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "rv_client_int.h"
#include "rv_codec.h"

#define S_CONNECT_WAIT_MS 100 /* the first send to a node waits this long at most for the
                                 connection (once per node: a node that is down costs it once) */
#define S_BACKOFF_MIN_MS 20   /* after a full round of nodes without an answer */
#define S_BACKOFF_MAX_MS 500
#define S_LANE_BITS 12        /* a correlation id is (operation number << 12) | lane */

typedef struct {
  bool busy;
  uint64_t client_id, seq; /* the session: seq is what the next write carries */
  /* the operation in flight */
  uint64_t corr, tag;
  rv_client_op_t op;
  uint8_t *frame; /* its envelope: every attempt sends the same bytes */
  size_t len;
  int node;                  /* where the current attempt went (or goes next) */
  bool in_flight;            /* an attempt awaits its answer */
  int64_t attempt_end_us;    /* ... until then */
  int64_t resend_us;         /* non-zero: send again at this time (backing off) */
  int64_t start_us, end_us;  /* submitted; the retry deadline */
  unsigned attempts;
  int missed;                /* nodes in a row that did not take or answer the request */
  int backoff_ms;
  char last[RV_CLIENT_MSG_MAX]; /* why the last attempt failed, for the final message */
} s_lane_t;

struct rv_client {
  char nodes[RV_CLIENT_NODES_MAX][RV_CLIENT_ADDR_MAX];
  zsock_t *socks[RV_CLIENT_NODES_MAX];
  zsock_t *mons[RV_CLIENT_NODES_MAX];  /* PAIR: socks[i]'s handshake events (socket monitor) */
  char refused[RV_CLIENT_NODES_MAX][RV_CLIENT_MSG_MAX - 40]; /* why node i's last handshake
                                                               failed; "" = it did not */
  bool unreachable[RV_CLIENT_NODES_MAX]; /* the last send to node i was refused by ZeroMQ */
  bool waited[RV_CLIENT_NODES_MAX]; /* the first send's wait for the connection is done */
  int nnodes;
  int cur; /* where new operations go first: the last node that decided one, or the leader */
  rv_client_opts_t opts;
  char user[RV_CLIENT_OWNER_MAX + 1]; /* sent with every request (opts.user) */
  s_lane_t *lanes;
  unsigned nlanes, nbusy;
  int64_t due_us; /* no lane's deadline, attempt timeout or backoff ends before this */
  uint64_t ops_started;
  rv_client_result_t *done; /* completed, not yet polled: a ring of nlanes */
  unsigned done_head, ndone;
  rv_client_stats_t stats;
};

/* A lane's clock now reads t (a deadline, an attempt's timeout, a backoff's end): s_advance
 * looks at the lanes again by then. */
static void s_due(rv_client_t *c, int64_t t) {
  if (t < c->due_us) c->due_us = t;
}

static int64_t s_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A random non-zero session id. */
static uint64_t s_client_id(void) {
  uint64_t id = 0;
  if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
    id = ((uint64_t)getpid() << 40) ^ (uint64_t)s_now_us() ^ (uint64_t)(uintptr_t)&id;
  return id ? id : 1;
}

void rv_client_opts_default(rv_client_opts_t *o) {
  *o = (rv_client_opts_t){.timeout_ms = 1000, .retry_ms = 15000, .lanes = 1};
}

/* ---- life cycle ---------------------------------------------------------------------------- */

static int s_check_opts(const rv_client_opts_t *o, rv_err_t *err) {
  if (o->timeout_ms < 1 || o->timeout_ms > 600000)
    return rv_err_set(err, RV_EINVAL, "timeout of %d ms: expected 1..600000", o->timeout_ms);
  if (o->retry_ms < o->timeout_ms || o->retry_ms > 86400000)
    return rv_err_set(err, RV_EINVAL,
                      "retry deadline of %d ms: expected %d (the timeout)..86400000", o->retry_ms,
                      o->timeout_ms);
  if (o->lanes < 1 || o->lanes > RV_CLIENT_LANES_MAX)
    return rv_err_set(err, RV_EINVAL, "%u lanes: expected 1..%d", o->lanes, RV_CLIENT_LANES_MAX);
  if (o->user && (strlen(o->user) == 0 || strlen(o->user) > RV_CLIENT_OWNER_MAX))
    return rv_err_set(err, RV_EINVAL, "user \"%s\": expected 1..%d bytes", o->user,
                      RV_CLIENT_OWNER_MAX);
  return RV_OK;
}

/* The public key pinned for addr, or NULL. */
static const char *s_server_key(const rv_client_t *c, const char *addr) {
  for (unsigned k = 0; k < c->opts.nserver_keys; k++) {
    char one[1][RV_CLIENT_ADDR_MAX];
    int n;
    rv_err_t err;
    const rv_client_server_key_t *sk = &c->opts.server_keys[k];
    if (sk->addr && sk->key && rv_client_nodes_parse(sk->addr, one, &n, &err) == RV_OK &&
        !strcmp(one[0], addr))
      return sk->key;
  }
  return NULL;
}

/* Makes s a CURVE client of node i (when the client has keys) and watches its handshakes:
 * ZeroMQ says nothing to the sender when a server refuses a key, its monitor does. */
static int s_secure(rv_client_t *c, int i, zsock_t *s, rv_err_t *err) {
  if (c->opts.curve_secret) {
    const char *key = s_server_key(c, c->nodes[i]);
    if (!key)
      return rv_err_set(err, RV_EINVAL, "no CURVE public key is known for node %s (its "
                        "cluster.nodes[].public-key): cannot authenticate it", c->nodes[i]);
    zsock_set_curve_serverkey(s, key);
    zsock_set_curve_publickey(s, c->opts.curve_public);
    zsock_set_curve_secretkey(s, c->opts.curve_secret);
    if (zsock_mechanism(s) != ZMQ_CURVE)
      return rv_err_set(err, RV_EINVAL, "cannot use the CURVE keys (is the key file a pair "
                        "from `raftvisor keys gen`, and libzmq built with CURVE?)");
  }
  zsock_set_handshake_ivl(s, 3000);
  /* a name never used before in this process: a socket's address is reused after it is freed,
   * and the monitor of the old one may still hold the old name for a moment */
  static _Atomic unsigned long monitors;
  char ep[96];
  snprintf(ep, sizeof ep, "inproc://rvclient-monitor-%d-%lu-%d", (int)getpid(),
           (unsigned long)atomic_fetch_add(&monitors, 1), i);
  if (zmq_socket_monitor(zsock_resolve(s), ep,
                         ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0 ||
      !(c->mons[i] = zsock_new(ZMQ_PAIR)) || zsock_connect(c->mons[i], "%s", ep) < 0)
    return rv_err_set(err, RV_EIO, "cannot watch the connection to %s: %s", c->nodes[i],
                      zmq_strerror(zmq_errno()));
  c->refused[i][0] = '\0';
  return RV_OK;
}

/* Reads node i's handshake events: a failure is remembered (c->refused[i]) with what it means
 * for the operator, a success forgets it. */
static void s_watch(rv_client_t *c, int i) {
  if (!c->mons[i]) return;
  void *m = zsock_resolve(c->mons[i]);
  for (;;) {
    zmq_msg_t f;
    zmq_msg_init(&f);
    if (zmq_msg_recv(&f, m, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&f);
      return;
    }
    uint16_t ev = 0;
    if (zmq_msg_size(&f) >= 6) memcpy(&ev, zmq_msg_data(&f), sizeof ev);
    bool more = zmq_msg_more(&f);
    while (more) { /* the endpoint frame */
      zmq_msg_close(&f);
      zmq_msg_init(&f);
      if (zmq_msg_recv(&f, m, ZMQ_DONTWAIT) < 0) break;
      more = zmq_msg_more(&f);
    }
    zmq_msg_close(&f);
    const char *who = c->opts.principal && c->opts.principal[0] ? c->opts.principal : "this client";
    char why[sizeof c->refused[i]] = "";
    size_t len = sizeof why;
    if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
      c->refused[i][0] = '\0';
    else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
      snprintf(why, len, "%.280s: the server refused our key: is %.64s's public key listed in "
               "security.clients?", c->nodes[i], who);
    else if (ev && c->opts.curve_secret)
      snprintf(why, len, "%.280s: the CURVE handshake failed: is the node run with keys (not "
               "security.insecure), and is its public key the one in cluster.nodes?", c->nodes[i]);
    else if (ev)
      snprintf(why, len, "%.280s: the handshake failed: the node expects a CURVE key (give --key "
               "FILE, RV_CLIENT_KEY or security.client-key)", c->nodes[i]);
    if (why[0]) memcpy(c->refused[i], why, sizeof why);
  }
}

/* true when some node refused our handshake and every other one cannot be reached either: no
 * retry can help (an operator must list the key), so the operation ends now rather than at its
 * deadline. */
static bool s_all_refused(rv_client_t *c) {
  bool any = false;
  for (int i = 0; i < c->nnodes; i++) {
    s_watch(c, i);
    if (c->refused[i][0]) any = true;
    else if (!c->unreachable[i]) return false;
  }
  return any;
}

/* Opens the DEALER to node i. */
static int s_connect(rv_client_t *c, int i, rv_err_t *err) {
  zsock_t *s = zsock_new(ZMQ_DEALER);
  if (!s) return rv_err_set(err, RV_EIO, "cannot create a socket: %s", zmq_strerror(zmq_errno()));
  c->socks[i] = s;
  int rc = s_secure(c, i, s, err);
  if (rc) return rc;
  zsock_set_immediate(s, 1); /* a node that is down is skipped at once, not queued for */
  zsock_set_linger(s, 0);
  zsock_set_maxmsgsize(s, RV_ENVELOPE_MAX);
  zsock_set_sndhwm(s, RV_CLIENT_LANES_MAX);
  zsock_set_rcvhwm(s, RV_CLIENT_LANES_MAX);
  zsock_set_reconnect_ivl(s, 50);
  zsock_set_reconnect_ivl_max(s, 500);
  zsock_set_connect_timeout(s, 500); /* not the kernel's SYN backoff: see rv_peers.c */
  zsock_set_heartbeat_ivl(s, 1000);
  zsock_set_heartbeat_timeout(s, 3000);
  if (zsock_connect(s, "tcp://%s", c->nodes[i]) < 0)
    return rv_err_set(err, RV_EINVAL, "cannot connect to %s: %s", c->nodes[i],
                      zmq_strerror(zmq_errno()));
  return RV_OK;
}

int rv_client_new(const char *list, const rv_client_opts_t *o, rv_client_t **out, rv_err_t *err) {
  *out = NULL;
  rv_client_opts_t defaults;
  rv_client_opts_default(&defaults);
  if (!o) o = &defaults;
  int rc = s_check_opts(o, err);
  if (rc) return rc;
  rv_client_t *c = calloc(1, sizeof *c);
  if (!c) return rv_err_set(err, RV_ENOMEM, "out of memory");
  if ((rc = rv_client_nodes_parse(list, c->nodes, &c->nnodes, err))) {
    free(c);
    return rc;
  }
  c->opts = *o;
  const char *user = o->user;
  if (!user) { /* as Hadoop's simple authentication: HADOOP_USER_NAME, else the login name */
    const char *env = getenv("HADOOP_USER_NAME");
    struct passwd *pw = env && *env ? NULL : getpwuid(geteuid());
    user = env && *env ? env : pw && pw->pw_name && *pw->pw_name ? pw->pw_name : "nobody";
  }
  snprintf(c->user, sizeof c->user, "%s", user);
  c->nlanes = o->lanes;
  c->lanes = calloc(c->nlanes, sizeof *c->lanes);
  c->done = calloc(c->nlanes, sizeof *c->done);
  if (!c->lanes || !c->done) {
    rv_client_destroy(&c);
    return rv_err_set(err, RV_ENOMEM, "out of memory for %u lanes", o->lanes);
  }
  for (unsigned i = 0; i < c->nlanes; i++) {
    c->lanes[i].client_id = s_client_id();
    c->lanes[i].seq = 1;
  }
  zsys_handler_set(NULL); /* the caller owns signals; czmq must not install handlers */
  for (int i = 0; i < c->nnodes; i++)
    if ((rc = s_connect(c, i, err))) {
      rv_client_destroy(&c);
      return rc;
    }
  *out = c;
  return RV_OK;
}

void rv_client_destroy(rv_client_t **cp) {
  if (!cp || !*cp) return;
  rv_client_t *c = *cp;
  for (int i = 0; i < RV_CLIENT_NODES_MAX; i++) {
    zsock_destroy(&c->socks[i]);
    zsock_destroy(&c->mons[i]);
  }
  for (unsigned i = 0; c->lanes && i < c->nlanes; i++) free(c->lanes[i].frame);
  while (c->done && c->ndone) {
    rv_client_result_clear(&c->done[c->done_head]);
    c->done_head = (c->done_head + 1) % c->nlanes;
    c->ndone--;
  }
  free(c->lanes);
  free(c->done);
  free(c);
  *cp = NULL;
}

size_t rv_client_inflight(const rv_client_t *c) { return (size_t)c->nbusy + c->ndone; }
rv_client_stats_t rv_client_stats(const rv_client_t *c) { return c->stats; }
const char *rv_client_current(const rv_client_t *c) { return c->nodes[c->cur]; }

int rv_client_session_set(rv_client_t *c, unsigned lane, uint64_t client_id, uint64_t next_seq) {
  if (lane >= c->nlanes || (client_id && !next_seq)) return RV_EINVAL;
  if (c->lanes[lane].busy) return RV_EBUSY;
  c->lanes[lane].client_id = client_id;
  c->lanes[lane].seq = next_seq;
  return RV_OK;
}

void rv_client_session_get(const rv_client_t *c, unsigned lane, uint64_t *client_id,
                           uint64_t *next_seq) {
  const s_lane_t *l = &c->lanes[lane < c->nlanes ? lane : 0];
  *client_id = l->client_id;
  *next_seq = l->seq;
}

/* ---- completing --------------------------------------------------------------------------- */

/* Ends lane l's operation: its result (res, moved) joins the completed ring. */
static void s_complete(rv_client_t *c, s_lane_t *l, rv_client_result_t *res, int node) {
  res->tag = l->tag;
  res->op = l->op;
  res->attempts = l->attempts;
  res->latency_us = (uint64_t)(s_now_us() - l->start_us);
  if (node >= 0) snprintf(res->node, sizeof res->node, "%s", c->nodes[node]);
  if (rv_client_op_writes(l->op) && l->client_id) {
    if (res->code == RV_ETIMEDOUT || res->code == RV_ESTALE) {
      /* the outcome is unknown (it may still be applied later) or the session is gone: a new
       * session, so that no later write can be mistaken for this one */
      l->client_id = s_client_id();
      l->seq = 1;
    } else if (res->index) {
      l->seq++; /* it reached the log: the session moved on */
    } /* else: refused before the log (bad path, too big): the seq was not used */
  }
  free(l->frame);
  l->frame = NULL;
  l->busy = false;
  c->nbusy--;
  c->stats.ops++;
  c->done[(c->done_head + c->ndone) % c->nlanes] = *res;
  c->ndone++;
}

static void s_timed_out(rv_client_t *c, s_lane_t *l) {
  rv_client_result_t res;
  memset(&res, 0, sizeof res);
  res.op = l->op;
  res.code = RV_ETIMEDOUT;
  if (l->attempts == 0) {
    /* nothing was ever sent: no node accepted a connection (attempts stays 0, so the caller
     * can tell "nothing runs there" from "running, but nobody decided") */
    char list[400] = "";
    for (int i = 0; i < c->nnodes; i++) {
      size_t used = strlen(list);
      snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", c->nodes[i]);
    }
    snprintf(res.msg, sizeof res.msg, "%s: no node could be reached within %d ms (tried %.300s%s%.250s)",
             rv_client_op_name(l->op), c->opts.retry_ms, list, l->last[0] ? "; last: " : "",
             l->last);
  } else {
    snprintf(res.msg, sizeof res.msg, "%s: no node decided it within %d ms (%u attempts%s%.400s)",
             rv_client_op_name(l->op), c->opts.retry_ms, l->attempts,
             l->last[0] ? "; last: " : "", l->last);
  }
  s_complete(c, l, &res, -1);
}

/* Every node refused our handshake: the operation ends now, with what the last refusal said. */
static void s_refused(rv_client_t *c, s_lane_t *l) {
  rv_client_result_t res;
  memset(&res, 0, sizeof res);
  res.op = l->op;
  res.code = RV_EPERM;
  snprintf(res.msg, sizeof res.msg, "%s: %.600s", rv_client_op_name(l->op), l->last);
  s_complete(c, l, &res, -1);
}

/* ---- sending ------------------------------------------------------------------------------- */

/* After a node failed the lane: the next node, at once, or after a backoff once every node
 * has failed in a row. */
static void s_next_node(rv_client_t *c, s_lane_t *l, int64_t now) {
  l->in_flight = false;
  l->node = (l->node + 1) % c->nnodes;
  if (++l->missed >= c->nnodes) {
    l->missed = 0;
    l->resend_us = now + (int64_t)l->backoff_ms * 1000;
    l->backoff_ms = l->backoff_ms * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : l->backoff_ms * 2;
  } else {
    l->resend_us = now; /* right away */
  }
  s_due(c, l->resend_us);
}

/* Sends lane l's request to l->node; a node that cannot take it is skipped (in the same call,
 * until every node was tried: then a backoff). */
static void s_send(rv_client_t *c, s_lane_t *l, int64_t now) {
  for (int k = 0; k < c->nnodes; k++) {
    l->resend_us = 0;
    void *s = zsock_resolve(c->socks[l->node]);
    if (!c->waited[l->node]) {
      /* connecting is asynchronous (and ZMQ_IMMEDIATE refuses sends until it is done): the
       * first request to a node, e.g. right after a redirect to it, waits for it briefly */
      c->waited[l->node] = true;
      zmq_pollitem_t it = {.socket = s, .events = ZMQ_POLLOUT};
      zmq_poll(&it, 1, S_CONNECT_WAIT_MS);
    }
    if (zmq_send(s, l->frame, l->len, ZMQ_DONTWAIT) >= 0) {
      c->unreachable[l->node] = false;
      l->attempts++;
      c->stats.sends++;
      l->in_flight = true;
      l->attempt_end_us = now + (int64_t)c->opts.timeout_ms * 1000;
      s_due(c, l->attempt_end_us);
      return;
    }
    c->unreachable[l->node] = true;
    s_watch(c, l->node);
    if (c->refused[l->node][0])
      snprintf(l->last, sizeof l->last, "%s", c->refused[l->node]);
    else
      snprintf(l->last, sizeof l->last, "%s is not reachable", c->nodes[l->node]);
    if (s_all_refused(c)) {
      for (int i = 0; i < c->nnodes; i++)
        if (c->refused[i][0]) {
          snprintf(l->last, sizeof l->last, "%s", c->refused[i]);
          break;
        }
      s_refused(c, l);
      return;
    }
    s_next_node(c, l, now);
    if (l->resend_us > now) return; /* a full round failed: back off */
  }
}

int rv_client_submit(rv_client_t *c, const rv_client_req_t *req, uint64_t tag, rv_err_t *err) {
  /* every lane in flight, or holding a completed result not yet polled */
  if (c->nbusy + c->ndone >= c->nlanes)
    return rv_err_set(err, RV_EBUSY, "all %u lanes are busy (%u in flight, %u to poll)",
                      c->nlanes, c->nbusy, c->ndone);
  unsigned i = 0;
  while (c->lanes[i].busy) i++;
  s_lane_t *l = &c->lanes[i];
  uint64_t corr = (++c->ops_started << S_LANE_BITS) | i;
  int rc = rv_client_encode(req, l->client_id, l->seq, corr, c->user, &l->frame, &l->len,
                            err);
  if (rc) return rc;
  int64_t now = s_now_us();
  l->busy = true;
  c->nbusy++;
  l->corr = corr;
  l->tag = tag;
  l->op = req->op;
  l->node = c->cur;
  l->attempts = 0;
  l->missed = 0;
  l->backoff_ms = S_BACKOFF_MIN_MS;
  l->last[0] = '\0';
  l->start_us = now;
  l->end_us = now + (int64_t)c->opts.retry_ms * 1000;
  s_due(c, l->end_us);
  s_send(c, l, now);
  return RV_OK;
}

/* ---- answers ------------------------------------------------------------------------------- */

/* The index of the node a leader hint names; a leader the list lacks (a client given only some
 * of the nodes) is added, as long as there is room: the hint comes from the cluster's own
 * configuration. -1 for no (or a malformed) hint. */
static int s_node_index(rv_client_t *c, const char *addr) {
  if (!addr || !*addr) return -1;
  for (int i = 0; i < c->nnodes; i++)
    if (strcmp(c->nodes[i], addr) == 0) return i;
  char one[1][RV_CLIENT_ADDR_MAX];
  int n;
  rv_err_t err;
  if (c->nnodes == RV_CLIENT_NODES_MAX || rv_client_nodes_parse(addr, one, &n, &err) != RV_OK)
    return -1;
  int i = c->nnodes;
  memcpy(c->nodes[i], one[0], sizeof one[0]);
  if (s_connect(c, i, &err) != RV_OK) {
    zsock_destroy(&c->socks[i]);
    return -1;
  }
  c->nnodes++;
  return i;
}

static void s_answer(rv_client_t *c, int node, const rv_msg_t *m) {
  uint64_t lane = m->corr_id & ((1u << S_LANE_BITS) - 1);
  s_lane_t *l = lane < c->nlanes ? &c->lanes[lane] : NULL;
  if (!l || !l->busy || l->corr != m->corr_id || m->type != RV_MSG_FS_REPLY) {
    c->stats.stray++;
    return;
  }
  const Rv__FsReply *r = (const Rv__FsReply *)m->body;
  int64_t now = s_now_us();
  if (!r->retry && r->code == RV_ESTALE && rv_client_op_writes(l->op) && l->attempts == 1 &&
      l->client_id) {
    /* the session is unknown to the cluster (expired while this client idled, or evicted) and
     * this write was never sent before: it was not applied, so it may go again under a new
     * session without breaking exactly-once */
    uint64_t id = s_client_id();
    rv_err_t err;
    if (rv_client_reencode(&l->frame, &l->len, id, 1, &err) == RV_OK) {
      l->client_id = id;
      l->seq = 1;
      l->in_flight = false;
      c->stats.retries++;
      s_send(c, l, now);
      return;
    }
  }
  if (!r->retry) {
    /* a decision, whichever attempt it answers: a write's retries all get the same outcome */
    rv_client_result_t res;
    memset(&res, 0, sizeof res);
    res.op = l->op;
    rv_client_result_fill(&res, r);
    c->cur = node;
    s_complete(c, l, &res, node);
    return;
  }
  if (node != l->node || !l->in_flight) { /* an older attempt's "not here": the lane moved on */
    c->stats.stray++;
    return;
  }
  c->stats.retries++;
  snprintf(l->last, sizeof l->last, "%s: %s", c->nodes[node], r->message ? r->message : "");
  if (r->code == RV_EBUSY) {
    /* the right node, holding too much of this connection's work (its in-flight cap, or
     * replies not read yet): the same node again after a backoff, not another node (which
     * would only send it back here) */
    c->stats.busy++;
    l->in_flight = false;
    l->resend_us = now + (int64_t)l->backoff_ms * 1000;
    s_due(c, l->resend_us);
    l->backoff_ms = l->backoff_ms * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : l->backoff_ms * 2;
    return;
  }
  int leader = s_node_index(c, r->leader);
  if (leader >= 0 && leader != node) {
    /* a redirect; nodes that keep pointing elsewhere (a stale hint) back off like failures */
    c->stats.redirects++;
    c->cur = leader;
    l->node = leader;
    l->in_flight = false;
    if (++l->missed >= c->nnodes) {
      l->missed = 0;
      l->resend_us = now + (int64_t)l->backoff_ms * 1000;
      s_due(c, l->resend_us);
      l->backoff_ms = l->backoff_ms * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : l->backoff_ms * 2;
    } else {
      s_send(c, l, now);
    }
  } else {
    s_next_node(c, l, now);
  }
}

/* Takes every answer waiting on node i's socket. A message is one envelope, or several (one per
 * part: the node batches the replies of one turn to a client that says it takes them,
 * FsRequest.batch_replies). */
static void s_drain(rv_client_t *c, int i) {
  void *s = zsock_resolve(c->socks[i]);
  for (;;) {
    zmq_msg_t f;
    zmq_msg_init(&f);
    if (zmq_msg_recv(&f, s, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&f);
      return;
    }
    for (;;) {
      rv_msg_t m;
      rv_err_t err;
      if (rv_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), 0, &m, &err) == RV_OK) {
        s_answer(c, i, &m);
        rv_msg_clear(&m);
      } else {
        c->stats.stray++; /* not an envelope: a node never sends that; ignore it */
      }
      bool more = zmq_msg_more(&f);
      zmq_msg_close(&f);
      if (!more) break;
      zmq_msg_init(&f);
      if (zmq_msg_recv(&f, s, ZMQ_DONTWAIT) < 0) { /* the parts of a message arrive together */
        zmq_msg_close(&f);
        return;
      }
    }
  }
}

/* ---- the engine ---------------------------------------------------------------------------- */

/* Moves every lane along its clock (deadlines, attempt timeouts, backoffs); returns the time
 * of the next thing to do (INT64_MAX when nothing waits). Looks at the lanes only once
 * something is due (c->due_us): a poll that returns one of 256 lanes' answers does not walk
 * all 256 (7% of a bulk load's client CPU did). */
static int64_t s_advance(rv_client_t *c, int64_t now) {
  if (now < c->due_us) return c->due_us;
  int64_t next = INT64_MAX;
  for (unsigned i = 0; i < c->nlanes && c->nbusy; i++) {
    s_lane_t *l = &c->lanes[i];
    if (!l->busy) continue;
    if (now >= l->end_us) {
      s_timed_out(c, l);
      continue;
    }
    if (l->in_flight && now >= l->attempt_end_us) {
      c->stats.timeouts++;
      snprintf(l->last, sizeof l->last, "%s did not answer within %d ms", c->nodes[l->node],
               c->opts.timeout_ms);
      s_next_node(c, l, now);
    }
    if (!l->in_flight && l->resend_us && now >= l->resend_us) s_send(c, l, now);
    int64_t t = l->in_flight ? l->attempt_end_us : l->resend_us ? l->resend_us : l->end_us;
    if (l->end_us < t) t = l->end_us;
    if (t < next) next = t;
  }
  c->due_us = next;
  return next;
}

int rv_client_poll(rv_client_t *c, int timeout_ms, rv_client_result_t *res) {
  memset(res, 0, sizeof *res);
  int64_t until = timeout_ms < 0 ? INT64_MAX : s_now_us() + (int64_t)timeout_ms * 1000;
  for (bool looked = false;; looked = true) {
    int64_t now = s_now_us();
    int64_t next = s_advance(c, now);
    if (c->ndone) {
      *res = c->done[c->done_head];
      memset(&c->done[c->done_head], 0, sizeof *res);
      c->done_head = (c->done_head + 1) % c->nlanes;
      c->ndone--;
      return RV_OK;
    }
    if (!c->nbusy) return RV_ECLOSED;
    if (now >= until && looked) return RV_EAGAIN; /* timeout 0 still reads what has arrived */
    int64_t wake = next < until ? next : until;
    long wait_ms = wake == INT64_MAX ? -1 : wake <= now ? 0 : (long)((wake - now + 999) / 1000);
    zmq_pollitem_t items[RV_CLIENT_NODES_MAX];
    int nn = c->nnodes; /* an answer may add a node (a leader hint): not polled this round */
    for (int i = 0; i < nn; i++)
      items[i] = (zmq_pollitem_t){.socket = zsock_resolve(c->socks[i]), .events = ZMQ_POLLIN};
    int n = zmq_poll(items, nn, wait_ms);
    if (n < 0 && zmq_errno() == EINTR) return RV_EAGAIN;
    for (int i = 0; i < nn && n > 0; i++)
      if (items[i].revents & ZMQ_POLLIN) s_drain(c, i);
  }
}

int rv_client_call(rv_client_t *c, const rv_client_req_t *req, rv_client_result_t *res) {
  memset(res, 0, sizeof *res);
  res->op = req->op;
  if (c->nbusy || c->ndone) {
    res->code = RV_EBUSY;
    snprintf(res->msg, sizeof res->msg, "%s: operations are in flight (poll them first)",
             rv_client_op_name(req->op));
    return res->code;
  }
  rv_err_t err;
  int rc = rv_client_submit(c, req, 0, &err);
  if (rc) {
    res->code = rc;
    snprintf(res->msg, sizeof res->msg, "%.600s", err.msg);
    return rc;
  }
  do /* RV_EAGAIN: a signal interrupted the wait; the retry deadline still bounds it */
    rc = rv_client_poll(c, -1, res);
  while (rc == RV_EAGAIN);
  return res->code;
}
