/* rv-hostile-peer: an attacker on the cluster's network, for tests that prove a node refuses
 * what a real member would not send. It reads the target node's YAML (for the cluster id, the
 * node list, the target's ports and public key), connects to the target's Raft port presenting
 * the routing id of another node of the cluster (`--as NODE`: one that is down, so the id is
 * free), or to its client port, and sends one forged message:
 *
 *   snapshot --term T --index I [--applied A]
 *       one SnapshotChunk (offset 0, last) of a snapshot at index I sent at term T, whose data
 *       is one made-up pair: the start of a stream that a deposed leader, or an impostor, would
 *       send. A node must refuse it before anything reaches its state machine.
 *   vote --term T
 *       a RequestVote at term T for a candidate whose log is far ahead (index and log term T):
 *       a node that takes it adopts term T, and a leader steps down.
 *   append --term T --prev-index I --prev-term PT --mkdir PATH
 *       an AppendEntries at term T after (I, PT) carrying one command, mkdir PATH, committed at
 *       once (commit I + 1): a follower that takes it applies a command no leader proposed.
 *   heartbeat --term T
 *       one RaftBatch holding one MsgHeartbeat at term T (UINT64_MAX: a term that would wrap the
 *       next campaign to 0). A node must refuse it before its Raft core sees it.
 *   client [--wait MS]
 *       a FsRequest (node status) to the target's client port; waits up to MS (default 3000)
 *       for the answer.
 *
 * How it authenticates (CURVE, pinning the target's public key from the YAML):
 *   --key none     no CURVE at all (the default): what any process can do;
 *   --key random   a fresh key pair that no configuration lists;
 *   --key FILE     a key pair file from `raftvisor keys gen` (e.g. another node's, to present
 *                  an id that is not its own).
 *
 * It prints one line saying what happened and exits 0 when the frame was handed over (Raft
 * kinds: ZeroMQ delivers it once connected; the socket lingers up to 2 s for that) or the
 * client was answered; 3 when the target refused the handshake (seen on the socket monitor,
 * "refused at the handshake") or did not answer the client; 1 on failure; 2 on bad usage. Test
 * tool: not installed, not part of the product.
 *
 * It never hangs a test: a watchdog (SIGALRM) ends it after every wait it may do has run out,
 * saying on stderr in which step it was stuck, with the outcome it already printed if it had one.
 * Stop 21's CI saw a run hang for good after the target refused its handshake, most likely in
 * libzmq's context termination (reports of that on loaded hosts: zeromq/libzmq#2733); so once
 * the outcome is known nothing lingers, and a teardown that still hangs keeps the outcome. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cfg_node.h"
#include "cfg_security.h"
#include "kv.pb-c.h"
#include "kv_cmd.h"
#include "raft.pb-c.h"
#include "raft_wire.h"
#include "rv_codec.h"
#include "rv_msgtypes.h"

typedef struct {
  const char *yaml, *as, *kind, *key, *mkdir;
  uint64_t term, index, applied, prev_index, prev_term, incarnation;
  bool have_term, have_index, have_applied, have_prev_index, have_prev_term, have_incarnation;
  long wait_ms;
} s_args_t;

/* What the watchdog reports: the step we are in, and the exit code once the outcome is known. */
static const char *volatile s_step = "starting";
static volatile sig_atomic_t s_outcome = -1;

static void s_watchdog(int sig) {
  (void)sig;
  const char *a = "rv-hostile-peer: stuck ", *b = (const char *)s_step;
  const char *c = s_outcome >= 0 ? "; exiting with the outcome printed\n" : "; giving up\n";
  ssize_t w = write(2, a, strlen(a));
  w = write(2, b, strlen(b));
  w = write(2, c, strlen(c));
  (void)w;
  _exit(s_outcome >= 0 ? s_outcome : 1);
}

static int s_usage(const char *why) {
  if (why) fprintf(stderr, "rv-hostile-peer: %s\n", why);
  fprintf(stderr,
          "usage: rv-hostile-peer -c TARGET.yaml [--key none|random|FILE] KIND ...\n"
          "  --as NODE snapshot --term T --index I [--applied A]\n"
          "  --as NODE vote --term T\n"
          "  --as NODE append --term T --prev-index I --prev-term PT --mkdir PATH\n"
          "  --as NODE heartbeat --term T\n"
          "  client [--wait MS]\n"
          "  (Raft kinds: [--incarnation N] presents incarnation N, default 0)\n");
  return 2;
}

static int s_u64(const char *s, uint64_t *out) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (!*s || *end) return -1;
  *out = v;
  return 0;
}

static int s_parse(int argc, char **argv, s_args_t *a) {
  *a = (s_args_t){.key = "none", .wait_ms = 3000};
  struct {
    const char *name;
    uint64_t *v;
    bool *have;
  } nums[] = {{"--term", &a->term, &a->have_term},
              {"--index", &a->index, &a->have_index},
              {"--applied", &a->applied, &a->have_applied},
              {"--prev-index", &a->prev_index, &a->have_prev_index},
              {"--prev-term", &a->prev_term, &a->have_prev_term},
              {"--incarnation", &a->incarnation, &a->have_incarnation}};
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    bool more = i + 1 < argc, done = false;
    for (size_t k = 0; k < sizeof nums / sizeof *nums && !done; k++)
      if (strcmp(o, nums[k].name) == 0 && more) {
        if (s_u64(argv[++i], nums[k].v)) return s_usage("a number option takes an unsigned integer");
        *nums[k].have = done = true;
      }
    if (done) continue;
    if (strcmp(o, "-c") == 0 && more) a->yaml = argv[++i];
    else if (strcmp(o, "--as") == 0 && more) a->as = argv[++i];
    else if (strcmp(o, "--key") == 0 && more) a->key = argv[++i];
    else if (strcmp(o, "--mkdir") == 0 && more) a->mkdir = argv[++i];
    else if (strcmp(o, "--wait") == 0 && more) a->wait_ms = atol(argv[++i]);
    else if (o[0] != '-' && !a->kind) a->kind = o;
    else return s_usage("unknown or incomplete argument");
  }
  if (!a->yaml || !a->kind) return s_usage("-c and a message kind are required");
  bool raft = strcmp(a->kind, "client") != 0;
  if (raft && !a->as) return s_usage("--as NODE is required for messages to the Raft port");
  if (!strcmp(a->kind, "snapshot") && !(a->have_term && a->have_index))
    return s_usage("snapshot needs --term and --index");
  if (!strcmp(a->kind, "vote") && !a->have_term) return s_usage("vote needs --term");
  if (!strcmp(a->kind, "heartbeat") && !a->have_term) return s_usage("heartbeat needs --term");
  if (!strcmp(a->kind, "append") &&
      !(a->have_term && a->have_prev_index && a->have_prev_term && a->mkdir))
    return s_usage("append needs --term, --prev-index, --prev-term and --mkdir");
  if (strcmp(a->kind, "snapshot") && strcmp(a->kind, "vote") && strcmp(a->kind, "append") &&
      strcmp(a->kind, "heartbeat") && strcmp(a->kind, "client"))
    return s_usage("unknown message kind (known: snapshot, vote, append, heartbeat, client)");
  if (!a->have_applied) a->applied = a->index;
  return 0;
}

/* Sets the CURVE options of s (a client of the server whose public key is server_key) from
 * --key. Returns 0, or 1 after saying why. */
static int s_key(void *s, const char *key, const char *server_key) {
  if (!strcmp(key, "none")) return 0;
  char pub[41], sec[41];
  if (!strcmp(key, "random")) {
    if (zmq_curve_keypair(pub, sec) != 0) {
      fprintf(stderr, "rv-hostile-peer: no CURVE in this libzmq\n");
      return 1;
    }
  } else {
    FILE *f = fopen(key, "r");
    char text[4096], why[256];
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    text[n] = '\0';
    if (!f || cfg_security_parse_pair(text, sec, pub, why, sizeof why)) {
      fprintf(stderr, "rv-hostile-peer: --key %s: %s\n", key, f ? why : "cannot read");
      return 1;
    }
  }
  zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_key, 40);
  zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
  zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
  return 0;
}

/* The frame of the Raft kinds, into *frame (caller frees). */
static int s_raft_frame(const s_args_t *a, const cfg_node_t *cfg, int who, uint8_t **frame,
                        size_t *len) {
  rv_err_t err;
  uint64_t voters[CFG_MAX_NODES];
  for (int i = 0; i < cfg->nnodes; i++) voters[i] = raft_wire_node_id(cfg->nodes[i].id);
  rv_msg_t m = {0};
  rv_addr_set(&m.from, a->as, "raft-peer");
  rv_addr_set(&m.to, cfg->node_id, "raft-peer");
  int rc;
  if (!strcmp(a->kind, "snapshot")) {
    Rv__RaftConf conf = RV__RAFT_CONF__INIT;
    conf.n_voters = (size_t)cfg->nnodes;
    conf.voters = voters;
    Rv__RaftSnapshotMeta meta = RV__RAFT_SNAPSHOT_META__INIT;
    meta.index = a->index;
    meta.term = a->term;
    meta.conf = &conf;
    static const uint8_t pair[] = {6, 0, 0, 0, 'f', 'o', 'r', 'g', 'e', 'd', 1, 0, 0, 0, 'x'};
    Rv__SnapshotChunk c = RV__SNAPSHOT_CHUNK__INIT;
    c.cluster = (char *)cfg->cluster_id;
    c.from = voters[who];
    c.meta = &meta;
    c.data.data = (uint8_t *)pair;
    c.data.len = sizeof pair;
    c.last = true;
    c.term = a->term;
    c.id = 0x6f726765; /* any stream id */
    c.applied = a->applied;
    c.incarnation = a->incarnation;
    m.type = RV_MSG_SNAPSHOT_CHUNK;
    m.body = &c.base;
    rc = rv_msg_encode(&m, frame, len, &err);
  } else if (!strcmp(a->kind, "heartbeat")) {
    /* built by hand, not by raft_wire (which would refuse a term past RAFT_TERM_MAX): the
     * receiver must refuse it, e.g. UINT64_MAX, before its core sees it */
    Rv__RaftMessage hb = RV__RAFT_MESSAGE__INIT, *hbp = &hb;
    hb.type = RAFT_MSG_HEARTBEAT;
    hb.from = voters[who];
    hb.to = voters[cfg->self];
    hb.term = a->term;
    Rv__RaftBatch b = RV__RAFT_BATCH__INIT;
    b.cluster = (char *)cfg->cluster_id;
    b.from = voters[who];
    b.n_msgs = 1;
    b.msgs = &hbp;
    b.incarnation = a->incarnation;
    m.type = RV_MSG_RAFT_BATCH;
    m.body = &b.base;
    rc = rv_msg_encode(&m, frame, len, &err);
  } else {
    raft_msg_t rm = {.from = voters[who], .to = voters[cfg->self], .term = a->term};
    raft_entry_t e = {0};
    kv_buf_t cmd;
    kv_buf_init(&cmd);
    if (!strcmp(a->kind, "vote")) {
      rm.type = RAFT_MSG_VOTE;
      rm.index = 1u << 30; /* a log far ahead: any voter finds it up to date */
      rm.log_term = a->term;
    } else {
      kv_cmd_t k = {.op = KV_OP_MKDIR, .flags = KV_F_PARENTS, .perm = 0755,
                    .path = {(const uint8_t *)a->mkdir, strlen(a->mkdir)},
                    .owner = {(const uint8_t *)"forged", 6}, .group = {(const uint8_t *)"forged", 6}};
      if (kv_cmd_encode(&k, &cmd, &err) != RV_OK) {
        fprintf(stderr, "rv-hostile-peer: --mkdir: %s\n", err.msg);
        kv_buf_close(&cmd);
        return 1;
      }
      e = (raft_entry_t){.term = a->term, .index = a->prev_index + 1, .type = 0,
                         .data = cmd.data, .len = cmd.len};
      rm.type = RAFT_MSG_APP;
      rm.index = a->prev_index;
      rm.log_term = a->prev_term;
      rm.commit = a->prev_index + 1;
      rm.entries = &e;
      rm.n_entries = 1;
    }
    raft_wire_msg_t w;
    rc = raft_wire_msg_encode(&rm, &w, &err);
    if (rc == RV_OK) {
      Rv__RaftMessage *ptrs[1] = {&w.msg};
      Rv__RaftBatch b = RV__RAFT_BATCH__INIT;
      b.cluster = (char *)cfg->cluster_id;
      b.from = voters[who];
      b.n_msgs = 1;
      b.msgs = ptrs;
      b.incarnation = a->incarnation;
      m.type = RV_MSG_RAFT_BATCH;
      m.body = &b.base;
      rc = rv_msg_encode(&m, frame, len, &err);
      raft_wire_msg_release(&w);
    }
    kv_buf_close(&cmd);
  }
  if (rc != RV_OK) fprintf(stderr, "rv-hostile-peer: %s\n", err.msg);
  return rc != RV_OK;
}

static int s_client_frame(const cfg_node_t *cfg, uint8_t **frame, size_t *len) {
  Rv__FsRequest q = RV__FS_REQUEST__INIT;
  q.op = RV__FS_OP__FS_NODE_STATUS;
  rv_msg_t m = {.type = RV_MSG_FS_REQUEST, .corr_id = 42, .body = &q.base};
  rv_addr_set(&m.from, "client", "hostile");
  rv_addr_set(&m.to, cfg->node_id, "kv-store");
  rv_err_t err;
  if (rv_msg_encode(&m, frame, len, &err) == RV_OK) return 0;
  fprintf(stderr, "rv-hostile-peer: %s\n", err.msg);
  return 1;
}

/* Waits up to ms for the handshake's outcome on monitor mon: 1 succeeded, -1 refused, 0 unknown. */
static int s_handshake(void *mon, long ms) {
  zmq_pollitem_t it = {.socket = mon, .events = ZMQ_POLLIN};
  for (long left = ms; left > 0; left -= 50) {
    if (zmq_poll(&it, 1, 50) <= 0) continue;
    zmq_msg_t f;
    zmq_msg_init(&f);
    if (zmq_msg_recv(&f, mon, 0) < 0) return 0;
    uint16_t ev = 0;
    if (zmq_msg_size(&f) >= 2) memcpy(&ev, zmq_msg_data(&f), 2);
    while (zmq_msg_more(&f)) {
      zmq_msg_close(&f);
      zmq_msg_init(&f);
      zmq_msg_recv(&f, mon, 0);
    }
    zmq_msg_close(&f);
    if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) return 1;
    if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
        ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL || ev == ZMQ_EVENT_DISCONNECTED)
      return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  s_args_t a;
  int prc = s_parse(argc, argv, &a);
  if (prc) return prc;
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  if (cfg_node_load(a.yaml, &cfg, -1, &err) != RV_OK) {
    fprintf(stderr, "rv-hostile-peer: %s\n", err.msg);
    return 1;
  }
  bool client = !strcmp(a.kind, "client");
  int who = -1;
  for (int i = 0; !client && i < cfg->nnodes; i++)
    if (strcmp(cfg->nodes[i].id, a.as) == 0) who = i;
  if (!client && (who < 0 || who == cfg->self)) {
    fprintf(stderr, "rv-hostile-peer: --as %s: not another node of %s's cluster\n", a.as, a.yaml);
    cfg_node_destroy(&cfg);
    return 2;
  }
  /* every wait below: the handshake (3 s), the client's answer, the linger (2 s), and slack */
  signal(SIGALRM, s_watchdog);
  alarm((unsigned)(a.wait_ms > 0 ? a.wait_ms / 1000 : 0) + 20);
  uint8_t *frame = NULL;
  size_t len = 0;
  if (client ? s_client_frame(cfg, &frame, &len) : s_raft_frame(&a, cfg, who, &frame, &len)) {
    cfg_node_destroy(&cfg);
    return 1;
  }
  char ident[2 * CFG_ID_MAX + 2], ep[CFG_HOST_MAX + 32];
  const cfg_peer_t *target = &cfg->nodes[cfg->self];
  cfg_peer_endpoint(target, client ? target->client_port : target->raft_port, ep, sizeof ep);
  void *ctx = zmq_ctx_new();
  void *s = zmq_socket(ctx, ZMQ_DEALER);
  int linger = 2000, hs = 2000;
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(s, ZMQ_HANDSHAKE_IVL, &hs, sizeof hs);
  if (!client) {
    snprintf(ident, sizeof ident, "%s/%s", cfg->cluster_id, a.as);
    zmq_setsockopt(s, ZMQ_ROUTING_ID, ident, strlen(ident));
  } else {
    snprintf(ident, sizeof ident, "(a client)");
  }
  int rc = s_key(s, a.key, target->public_key);
  void *mon = NULL;
  if (!rc) {
    zmq_socket_monitor(s, "inproc://hostile-monitor",
                       ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_DISCONNECTED);
    mon = zmq_socket(ctx, ZMQ_PAIR);
    zmq_connect(mon, "inproc://hostile-monitor");
    rc = 1;
  }
  s_step = "connecting";
  if (mon && zmq_connect(s, ep) != 0) {
    fprintf(stderr, "rv-hostile-peer: cannot connect to %s: %s\n", ep, zmq_strerror(zmq_errno()));
  } else if (mon && zmq_send(s, frame, len, 0) < 0) {
    fprintf(stderr, "rv-hostile-peer: send to %s: %s\n", ep, zmq_strerror(zmq_errno()));
  } else if (mon) {
    s_step = "waiting for the handshake";
    int h = s_handshake(mon, 3000);
    if (h < 0) {
      printf("refused at the handshake by %s (%s) as %s with key %s: %s not delivered\n", ep,
             cfg->node_id, ident, a.key, a.kind);
      rc = 3;
    } else if (!client) {
      printf("sent to %s (%s) as %s with key %s: %s term %llu\n", ep, cfg->node_id, ident, a.key,
             a.kind, (unsigned long long)a.term);
      rc = 0;
    } else {
      s_step = "waiting for the answer";
      zmq_pollitem_t it = {.socket = s, .events = ZMQ_POLLIN};
      if (zmq_poll(&it, 1, a.wait_ms) == 1) {
        printf("answered by %s (%s) with key %s\n", ep, cfg->node_id, a.key);
        rc = 0;
      } else {
        printf("no answer from %s (%s) within %ld ms with key %s\n", ep, cfg->node_id, a.wait_ms,
               a.key);
        rc = 3;
      }
    }
    /* a refused handshake or a client that has its answer: nothing is left to deliver */
    if (rc == 3 || client) {
      int zero = 0;
      zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    }
  }
  fflush(stdout);
  s_outcome = rc;
  s_step = "closing (libzmq's context did not terminate)";
  if (mon) zmq_close(mon);
  zmq_close(s);
  zmq_ctx_term(ctx);
  free(frame);
  cfg_node_destroy(&cfg);
  return rc;
}
