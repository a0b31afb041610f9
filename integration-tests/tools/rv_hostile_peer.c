/* rv-hostile-peer: an attacker on the cluster's network, for tests that prove a node refuses
 * what a real member would not send. It reads the target node's YAML (for the cluster id, the
 * node list and the target's Raft port), connects to the target's Raft port presenting the
 * routing id of another node of the cluster (`--as NODE`: one that is down, so the id is free),
 * and sends one forged message:
 *
 *   rv-hostile-peer -c TARGET.yaml --as NODE snapshot --term T --index I [--applied A]
 *       one SnapshotChunk (offset 0, last) of a snapshot at index I sent at term T, whose data
 *       is one made-up pair: the start of a stream that a deposed leader, or an impostor, would
 *       send. A node must refuse it before anything reaches its state machine.
 *
 *   rv-hostile-peer -c TARGET.yaml --as NODE heartbeat --term T [--incarnation N]
 *       one RaftBatch holding one MsgHeartbeat at term T (UINT64_MAX: a term that would wrap the
 *       next campaign to 0), presenting incarnation N (default 0, a build without them). A node
 *       must refuse it before its Raft core sees it.
 *
 * It prints one line saying what it sent and exits 0 once the frame is handed to the
 * connection (ZeroMQ delivers it when connected; the socket lingers up to 2 s for that), 1 on
 * failure, 2 on bad usage. Test tool: not installed, not part of the product. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cfg_node.h"
#include "raft.pb-c.h"
#include "raft_wire.h"
#include "rv_codec.h"

static int s_usage(const char *why) {
  if (why) fprintf(stderr, "rv-hostile-peer: %s\n", why);
  fprintf(stderr,
          "usage: rv-hostile-peer -c TARGET.yaml --as NODE snapshot --term T --index I "
          "[--applied A]\n"
          "       rv-hostile-peer -c TARGET.yaml --as NODE heartbeat --term T [--incarnation N]\n");
  return 2;
}

static int s_u64(const char *s, uint64_t *out) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (!*s || *end) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  const char *yaml = NULL, *as = NULL, *kind = NULL;
  uint64_t term = 0, index = 0, applied = 0, incarnation = 0;
  bool have_term = false, have_index = false, have_applied = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool more = i + 1 < argc;
    if (strcmp(a, "-c") == 0 && more) {
      yaml = argv[++i];
    } else if (strcmp(a, "--as") == 0 && more) {
      as = argv[++i];
    } else if (strcmp(a, "--term") == 0 && more) {
      if (s_u64(argv[++i], &term)) return s_usage("--term takes an unsigned integer");
      have_term = true;
    } else if (strcmp(a, "--index") == 0 && more) {
      if (s_u64(argv[++i], &index)) return s_usage("--index takes an unsigned integer");
      have_index = true;
    } else if (strcmp(a, "--applied") == 0 && more) {
      if (s_u64(argv[++i], &applied)) return s_usage("--applied takes an unsigned integer");
      have_applied = true;
    } else if (strcmp(a, "--incarnation") == 0 && more) {
      if (s_u64(argv[++i], &incarnation)) return s_usage("--incarnation takes an unsigned integer");
    } else if (a[0] != '-' && !kind) {
      kind = a;
    } else {
      return s_usage("unknown or incomplete argument");
    }
  }
  if (!yaml || !as || !kind) return s_usage("-c, --as and a message kind are required");
  bool heartbeat = strcmp(kind, "heartbeat") == 0;
  if (!heartbeat && strcmp(kind, "snapshot") != 0)
    return s_usage("unknown message kind (known: snapshot, heartbeat)");
  if (!have_term || (!heartbeat && !have_index))
    return s_usage("snapshot needs --term and --index; heartbeat needs --term");
  if (!have_applied) applied = index;

  cfg_node_t *cfg = NULL;
  rv_err_t err;
  if (cfg_node_load(yaml, &cfg, -1, &err) != RV_OK) {
    fprintf(stderr, "rv-hostile-peer: %s\n", err.msg);
    return 1;
  }
  int who = -1;
  for (int i = 0; i < cfg->nnodes; i++)
    if (strcmp(cfg->nodes[i].id, as) == 0) who = i;
  if (who < 0 || who == cfg->self) {
    fprintf(stderr, "rv-hostile-peer: --as %s: not another node of %s's cluster\n", as, yaml);
    cfg_node_destroy(&cfg);
    return 2;
  }

  /* the snapshot: every node of the YAML a voter, one made-up pair as its data */
  uint64_t voters[CFG_MAX_NODES];
  for (int i = 0; i < cfg->nnodes; i++) voters[i] = raft_wire_node_id(cfg->nodes[i].id);
  Rv__RaftConf conf = RV__RAFT_CONF__INIT;
  conf.n_voters = (size_t)cfg->nnodes;
  conf.voters = voters;
  Rv__RaftSnapshotMeta meta = RV__RAFT_SNAPSHOT_META__INIT;
  meta.index = index;
  meta.term = term;
  meta.conf = &conf;
  static const uint8_t pair[] = {6, 0, 0, 0, 'f', 'o', 'r', 'g', 'e', 'd', 1, 0, 0, 0, 'x'};
  Rv__SnapshotChunk c = RV__SNAPSHOT_CHUNK__INIT;
  c.cluster = cfg->cluster_id;
  c.from = voters[who];
  c.meta = &meta;
  c.offset = 0;
  c.data.data = (uint8_t *)pair;
  c.data.len = sizeof pair;
  c.last = true;
  c.term = term;
  c.id = 0x6f726765; /* any stream id */
  c.applied = applied;
  c.incarnation = incarnation;
  /* or one heartbeat in a batch */
  Rv__RaftMessage hb = RV__RAFT_MESSAGE__INIT, *hbp = &hb;
  hb.type = RAFT_MSG_HEARTBEAT;
  hb.from = voters[who];
  hb.to = voters[cfg->self];
  hb.term = term;
  Rv__RaftBatch batch = RV__RAFT_BATCH__INIT;
  batch.cluster = cfg->cluster_id;
  batch.from = voters[who];
  batch.n_msgs = 1;
  batch.msgs = &hbp;
  batch.incarnation = incarnation;
  rv_msg_t m = {.type = heartbeat ? RV_MSG_RAFT_BATCH : RV_MSG_SNAPSHOT_CHUNK,
                .body = heartbeat ? &batch.base : &c.base};
  rv_addr_set(&m.from, as, "raft-peer");
  rv_addr_set(&m.to, cfg->node_id, "raft-peer");
  uint8_t *frame = NULL;
  size_t len = 0;
  if (rv_msg_encode(&m, &frame, &len, &err) != RV_OK) {
    fprintf(stderr, "rv-hostile-peer: %s\n", err.msg);
    cfg_node_destroy(&cfg);
    return 1;
  }

  char ident[2 * CFG_ID_MAX + 2], ep[CFG_HOST_MAX + 32];
  snprintf(ident, sizeof ident, "%s/%s", cfg->cluster_id, as);
  const cfg_peer_t *target = &cfg->nodes[cfg->self];
  cfg_peer_endpoint(target, target->raft_port, ep, sizeof ep);
  void *ctx = zmq_ctx_new();
  void *s = zmq_socket(ctx, ZMQ_DEALER);
  int linger = 2000;
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(s, ZMQ_ROUTING_ID, ident, strlen(ident));
  int rc = 1;
  if (zmq_connect(s, ep) != 0) {
    fprintf(stderr, "rv-hostile-peer: cannot connect to %s: %s\n", ep, zmq_strerror(zmq_errno()));
  } else if (zmq_send(s, frame, len, 0) < 0) {
    fprintf(stderr, "rv-hostile-peer: send to %s: %s\n", ep, zmq_strerror(zmq_errno()));
  } else {
    if (heartbeat)
      printf("sent to %s (%s) as %s: RaftBatch with a heartbeat at term %llu\n", ep,
             cfg->node_id, ident, (unsigned long long)term);
    else
      printf("sent to %s (%s) as %s: SnapshotChunk index %llu term %llu applied %llu\n", ep,
             cfg->node_id, ident, (unsigned long long)index, (unsigned long long)term,
             (unsigned long long)applied);
    rc = 0;
  }
  zmq_close(s);
  zmq_ctx_term(ctx);
  free(frame);
  cfg_node_destroy(&cfg);
  return rc;
}
