/* rv-fuzz: a seeded, bounded fuzzer of a running node's two tcp ports (test tool, not
 * installed). For every message type of messages/rv_msgtypes.h it builds a valid envelope whose
 * body has random values in its scalar fields, then sends it as is or mutated (bits flipped,
 * cut short, bytes inserted, replaced by random bytes, or announced far larger than allowed),
 * mixed with frames of random bytes, at the client port and at the Raft port. It asserts
 * nothing itself: the test around it checks that no actor crashed or restarted and that the
 * replicas still agree.
 *
 *   rv-fuzz -c NODE.yaml [--seed S] [--frames N | --minutes M] [--port client|raft|both]
 *           [--raft-as NODE] [--key CERT --server-key Z85]
 *     -c             the YAML of the node to fuzz (its ports; the cluster id and node names)
 *     --seed S       the PRNG seed (default: from getrandom); printed first, so a failing run
 *                    can be replayed with the same frames
 *     --frames N     frames per port (default 2000); --minutes M instead runs that long
 *     --raft-as NODE present NODE's routing id at the Raft port (default: an id that is not a
 *                    member, so frames stop at the routing-id filter). As a member, decodable
 *                    frames reach raft-peer's checks; before node links are authenticated
 *                    (CURVE), a forged Raft message from a member id can do what the review
 *                    showed, so this is for authenticated clusters with --key
 *     --key CERT     a czmq certificate file (public and secret key) applied to every socket as
 *                    a CURVE client, with --server-key the target node's public key (Z85): to
 *                    fuzz past the handshake of a cluster whose ports require CURVE
 *     --member NODE --incarnation HEX --term T --commit C
 *                    the Raft port as an authenticated member (give --key NODE's secret file;
 *                    implies --raft-as NODE): valid RaftBatch, SnapshotChunk and SnapshotAck
 *                    frames carrying the cluster id, NODE's Raft id and its real incarnation
 *                    (16 hex digits, from NODE's <data-dir>/raft/incarnation), each holding
 *                    seeded random Raft messages of every type (terms near T, indexes near C,
 *                    the target's at the start, or anything), mutated or not, mixed with random
 *                    bytes. What no Raft implementation can defend against a member that holds
 *                    a real key is left out, so that the test can still check safety: the
 *                    member never agrees to what it does not hold (its responses all reject),
 *                    never sends an append that could match a log or contradict a committed
 *                    entry (its previous index is 2^40 above C, with entries or without) nor a
 *                    snapshot above C; frames carrying those are not mutated.
 *                    Everything else a member may legitimately do (a higher term, a vote
 *                    request, TimeoutNow, heartbeats with any commit) is in.
 * Prints "rv-fuzz: seed S", then what it sent per port; exits 0, 1 on failure, 2 on bad usage. */
#include <czmq.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cfg_node.h"
#include "raft.pb-c.h"
#include "raft_core.h"
#include "raft_wire.h"
#include "rv_codec.h"
#include "rv_msgtypes.h"

static const struct {
  uint32_t id;
  const ProtobufCMessageDescriptor *desc;
} s_types[] = {
#define S_TYPE(name, num, desc) {num, &desc},
    RV_MSGTYPES(S_TYPE)
#undef S_TYPE
};
#define S_NTYPES (sizeof s_types / sizeof s_types[0])

static uint64_t s_state;
static uint64_t s_rand(void) { /* splitmix64 */
  uint64_t z = (s_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static uint64_t s_below(uint64_t n) { return n ? s_rand() % n : 0; }

static int s_usage(const char *why) {
  if (why) fprintf(stderr, "rv-fuzz: %s\n", why);
  fprintf(stderr, "usage: rv-fuzz -c NODE.yaml [--seed S] [--frames N | --minutes M] "
                  "[--port client|raft|both] [--raft-as NODE] [--key CERT --server-key Z85]\n"
                  "               [--member NODE --incarnation HEX --term T --commit C]\n");
  return 2;
}

/* An interesting integer: 0, 1, small, a boundary, or anything. */
static uint64_t s_value(void) {
  static const uint64_t edges[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff,
                                   0x7fffffffffffffffull, 0x8000000000000000ull, UINT64_MAX};
  switch (s_below(4)) {
    case 0: return edges[s_below(sizeof edges / sizeof edges[0])];
    case 1: return s_below(16);
    case 2: return s_below(1u << 20);
    default: return s_rand();
  }
}

/* Random bytes for a string or bytes field (no NUL in strings): printable, control, high. */
static char *s_text(size_t *len, bool nul_free) {
  size_t n = s_below(4) == 0 ? s_below(4096) : s_below(32);
  char *t = malloc(n + 1);
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s_below(3) ? (uint8_t)(' ' + s_below(95)) : (uint8_t)s_rand();
    if (nul_free && !c) c = '/';
    t[i] = (char)c;
  }
  t[n] = 0;
  *len = n;
  return t;
}

/* A message of desc with random values in its scalar fields (repeated and message fields left
 * empty). Freed with s_body_free. */
static ProtobufCMessage *s_body(const ProtobufCMessageDescriptor *d) {
  ProtobufCMessage *m = calloc(1, d->sizeof_message);
  protobuf_c_message_init(d, m);
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->label == PROTOBUF_C_LABEL_REPEATED || s_below(3) == 0) continue;
    void *at = (char *)m + f->offset;
    uint64_t v = s_value();
    switch (f->type) {
      case PROTOBUF_C_TYPE_BOOL: *(protobuf_c_boolean *)at = v & 1; break;
      case PROTOBUF_C_TYPE_ENUM:
      case PROTOBUF_C_TYPE_INT32:
      case PROTOBUF_C_TYPE_SINT32:
      case PROTOBUF_C_TYPE_SFIXED32:
      case PROTOBUF_C_TYPE_UINT32:
      case PROTOBUF_C_TYPE_FIXED32: *(uint32_t *)at = (uint32_t)v; break;
      case PROTOBUF_C_TYPE_INT64:
      case PROTOBUF_C_TYPE_SINT64:
      case PROTOBUF_C_TYPE_SFIXED64:
      case PROTOBUF_C_TYPE_UINT64:
      case PROTOBUF_C_TYPE_FIXED64: *(uint64_t *)at = v; break;
      case PROTOBUF_C_TYPE_STRING: {
        size_t n;
        *(char **)at = s_text(&n, true);
        break;
      }
      case PROTOBUF_C_TYPE_BYTES: {
        size_t n;
        ProtobufCBinaryData *b = at;
        b->data = (uint8_t *)s_text(&n, false);
        b->len = n;
        break;
      }
      default: break; /* floats, messages: left at their defaults */
    }
  }
  return m;
}

static void s_body_free(const ProtobufCMessageDescriptor *d, ProtobufCMessage *m) {
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->label == PROTOBUF_C_LABEL_REPEATED) continue;
    void *at = (char *)m + f->offset;
    if (f->type == PROTOBUF_C_TYPE_STRING && *(char **)at != f->default_value &&
        *(char **)at != protobuf_c_empty_string)
      free(*(char **)at);
    if (f->type == PROTOBUF_C_TYPE_BYTES && ((ProtobufCBinaryData *)at)->data)
      free(((ProtobufCBinaryData *)at)->data); /* ours: proto3 bytes have no default data */
  }
  free(m);
}

/* --member: who the fuzzer is on the Raft port, and where the target was at the start. */
static struct {
  bool on;
  const char *name;       /* the member's node id */
  const char *cluster;
  uint64_t from, to;      /* Raft ids: the member's, the target's */
  uint64_t incarnation;
  uint64_t term, commit;
} s_member;

/* base, or a little off it (never below 0), or anything. */
static uint64_t s_near(uint64_t base, unsigned spread) {
  if (s_below(6) == 0) return s_value();
  uint64_t d = s_below(2 * spread + 1);
  return d >= spread ? base + (d - spread) : (base > spread - d ? base - (spread - d) : 0);
}

static bool s_is_resp(uint32_t t) {
  return t == RAFT_MSG_PRE_VOTE_RESP || t == RAFT_MSG_VOTE_RESP || t == RAFT_MSG_APP_RESP;
}

/* One Raft message of a random type (or an out-of-range one) with plausible or random fields;
 * *unsafe is set when a mutation of its bytes could turn it into agreement (a response, entries,
 * a snapshot), so the frame goes out as built. Freed with s_raft_msg_free. */
static void s_raft_msg(Rv__RaftMessage *m, bool *unsafe) {
  rv__raft_message__init(m);
  m->type = s_below(16) ? (uint32_t)(1 + s_below(RAFT_MSG_TYPE_MAX)) : (uint32_t)s_value();
  m->from = s_below(8) ? s_member.from : s_value();
  m->to = s_below(8) ? s_member.to : s_value();
  m->term = s_near(s_member.term, 3);
  m->log_term = s_near(s_member.term, 3);
  m->index = s_near(s_member.commit, 5);
  m->commit = s_near(s_member.commit, 5);
  m->reject = s_below(2);
  m->reject_hint = s_near(s_member.commit, 5);
  m->ctx = s_below(2) ? s_below(16) : s_rand();
  m->transfer = s_below(4) == 0;
  if (s_is_resp(m->type)) { /* a member may refuse anything; it never agrees */
    m->reject = true;
    *unsafe = true;
  }
  /* an append is never mutated: flipped bytes can grow it entries whose previous index and term
   * match the target's log, and a member that sends a committed index another term is one no
   * Raft can survive (the target stops, loud: seen once in CI as "log conflict with committed
   * entry 10") */
  if (m->type == RAFT_MSG_APP) {
    /* nor does an append name a previous entry at or below C: one whose previous index is the
     * target's commit index and whose term differs from the committed entry's is, to the
     * target, a leader whose log lost a committed entry, and it stops loudly (seen in CI,
     * "log conflict with committed entry 10: term 1 here, term 0 in MsgApp", whenever the
     * target's commit reached the random index); appends above every log still exercise the
     * reject path, with entries or without */
    *unsafe = true;
    m->index = s_member.commit + (1ull << 40) + s_below(1u << 20);
  }
  if (m->type == RAFT_MSG_APP && s_below(2)) { /* entries nobody's log can match */
    m->n_entries = 1 + s_below(3);
    m->entries = calloc(m->n_entries, sizeof *m->entries);
    for (size_t k = 0; k < m->n_entries; k++) {
      Rv__RaftEntry *e = calloc(1, sizeof *e);
      rv__raft_entry__init(e);
      e->term = s_near(s_member.term, 3);
      e->index = m->index + 1 + k;
      e->type = s_below(8) ? (uint32_t)s_below(3) : (uint32_t)s_value();
      size_t n;
      e->data.data = (uint8_t *)s_text(&n, false);
      e->data.len = n;
      m->entries[k] = e;
    }
  }
  if (m->type == RAFT_MSG_SNAP || s_below(16) == 0) { /* a snapshot no one can take: <= C */
    *unsafe = true;
    Rv__RaftSnapshotMeta *meta = calloc(1, sizeof *meta);
    rv__raft_snapshot_meta__init(meta);
    meta->index = s_below(s_member.commit + 1);
    meta->term = s_near(s_member.term, 3);
    m->snapshot = meta;
  }
}

static void s_raft_msg_free(Rv__RaftMessage *m) {
  for (size_t k = 0; k < m->n_entries; k++) {
    free(m->entries[k]->data.data);
    free(m->entries[k]);
  }
  free(m->entries);
  free(m->snapshot);
}

/* A member's frame: a RaftBatch (mostly), a SnapshotChunk or a SnapshotAck, encoded into
 * *frame; *unsafe as s_raft_msg. Returns 0, or an rv code when it could not be encoded. */
static int s_member_frame(uint8_t **frame, size_t *len, bool *unsafe, const char *to_node) {
  rv_msg_t env = {.corr_id = s_rand(), .trace_id = s_rand()};
  rv_addr_set(&env.to, to_node, "raft-peer");
  Rv__RaftBatch b = RV__RAFT_BATCH__INIT;
  Rv__SnapshotChunk c = RV__SNAPSHOT_CHUNK__INIT;
  Rv__SnapshotAck a = RV__SNAPSHOT_ACK__INIT;
  Rv__RaftSnapshotMeta meta = RV__RAFT_SNAPSHOT_META__INIT;
  Rv__RaftMessage msgs[4], *ptrs[4];
  size_t nmsgs = 0, n = 0;
  uint64_t inc = s_below(16) ? s_member.incarnation : s_value();
  unsigned kind = (unsigned)s_below(10);
  if (kind < 8) {
    nmsgs = 1 + s_below(4);
    for (size_t i = 0; i < nmsgs; i++) {
      s_raft_msg(&msgs[i], unsafe);
      ptrs[i] = &msgs[i];
    }
    b.cluster = (char *)s_member.cluster;
    b.from = s_below(16) ? s_member.from : s_value();
    b.msgs = ptrs;
    b.n_msgs = nmsgs;
    b.incarnation = inc;
    env.type = RV_MSG_RAFT_BATCH;
    env.body = &b.base;
  } else if (kind == 8) { /* a snapshot stream's chunk, at an index no one can take */
    *unsafe = true;
    c.cluster = (char *)s_member.cluster;
    c.from = s_member.from;
    meta.index = s_below(s_member.commit + 1);
    meta.term = s_near(s_member.term, 3);
    c.meta = &meta;
    c.offset = s_below(2) ? 0 : s_value();
    c.data.data = (uint8_t *)s_text(&n, false);
    c.data.len = n;
    c.last = s_below(2);
    c.term = s_near(s_member.term, 3);
    c.id = s_below(2) ? s_below(4) : s_rand();
    c.applied = s_below(s_member.commit + 1);
    c.incarnation = inc;
    env.type = RV_MSG_SNAPSHOT_CHUNK;
    env.body = &c.base;
  } else {
    a.cluster = (char *)s_member.cluster;
    a.from = s_member.from;
    a.index = s_near(s_member.commit, 5);
    a.offset = s_value();
    a.done = s_below(2);
    a.code = s_below(2) ? 0 : (uint32_t)s_value();
    a.id = s_below(2) ? s_below(4) : s_rand();
    a.incarnation = inc;
    env.type = RV_MSG_SNAPSHOT_ACK;
    env.body = &a.base;
  }
  rv_addr_set(&env.from, s_member.name, "raft-peer");
  rv_err_t err;
  int rc = rv_msg_encode(&env, frame, len, &err);
  for (size_t i = 0; i < nmsgs; i++) s_raft_msg_free(&msgs[i]);
  free(c.data.data);
  return rc;
}

typedef struct {
  const char *name;   /* "client" or "raft" */
  zsock_t *sock;
  const char *endpoint;
  const char *to_actor;
  uint64_t sent, mutated, random, refused;
} s_port_t;

/* One frame: a valid envelope of a random type (mutated half of the time), or random bytes. */
static void s_one(s_port_t *p, const cfg_node_t *cfg, const char *as) {
  uint8_t *frame = NULL;
  size_t len = 0;
  bool member = s_member.on && strcmp(p->name, "raft") == 0;
  if (member && s_below(8) != 0) {
    bool unsafe = false;
    if (s_member_frame(&frame, &len, &unsafe, cfg->node_id) != RV_OK) return;
    if (!unsafe && s_below(2)) {
      p->mutated++;
      for (uint64_t k = 1 + s_below(8); k && len; k--)
        frame[s_below(len)] ^= (uint8_t)(1u << s_below(8));
    }
  } else if (s_below(8) == 0) {
    len = s_below(8) == 0 ? s_below(1u << 20) : s_below(512);
    frame = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) frame[i] = (uint8_t)s_rand();
    p->random++;
  } else {
    size_t t = s_below(S_NTYPES);
    ProtobufCMessage *body = s_body(s_types[t].desc);
    rv_msg_t m = {.type = s_types[t].id, .corr_id = s_rand(), .trace_id = s_rand(),
                  .body = body};
    rv_addr_set(&m.from, s_below(2) ? as : "fuzz", s_below(4) ? p->to_actor : "supervisor");
    rv_addr_set(&m.to, s_below(4) ? cfg->node_id : "", p->to_actor);
    rv_err_t err;
    int rc = rv_msg_encode(&m, &frame, &len, &err);
    s_body_free(s_types[t].desc, body);
    if (rc) return;
    if (s_below(2)) {
      p->mutated++;
      switch (s_below(4)) {
        case 0: /* flip bits */
          for (uint64_t k = 1 + s_below(8); k && len; k--)
            frame[s_below(len)] ^= (uint8_t)(1u << s_below(8));
          break;
        case 1: len = s_below(len + 1); break; /* cut short */
        case 2: { /* insert bytes */
          size_t at = s_below(len + 1), n = 1 + s_below(16);
          frame = realloc(frame, len + n);
          memmove(frame + at + n, frame + at, len - at);
          for (size_t i = 0; i < n; i++) frame[at + i] = (uint8_t)s_rand();
          len += n;
          break;
        }
        default: /* overwrite a varint with 0xff bytes (lengths and numbers run away) */
          for (size_t i = s_below(len + 1), k = 0; i < len && k < 10; i++, k++) frame[i] = 0xff;
      }
    }
  }
  if (zmq_send(zsock_resolve(p->sock), frame, len, ZMQ_DONTWAIT) < 0) p->refused++;
  else p->sent++;
  free(frame);
  zmq_msg_t r; /* drain replies: the fuzzer must not grow */
  zmq_msg_init(&r);
  while (zmq_msg_recv(&r, zsock_resolve(p->sock), ZMQ_DONTWAIT) >= 0) {
  }
  zmq_msg_close(&r);
}

int main(int argc, char **argv) {
  const char *yaml = NULL, *port = "both", *raft_as = NULL, *key = NULL, *server_key = NULL;
  const char *member = NULL, *incarnation = NULL;
  uint64_t term0 = 0, commit0 = 0;
  uint64_t seed = 0;
  bool have_seed = false;
  long frames = 2000, minutes = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool more = i + 1 < argc;
    if (strcmp(a, "-c") == 0 && more) yaml = argv[++i];
    else if (strcmp(a, "--seed") == 0 && more) seed = strtoull(argv[++i], NULL, 10), have_seed = true;
    else if (strcmp(a, "--frames") == 0 && more) frames = atol(argv[++i]);
    else if (strcmp(a, "--minutes") == 0 && more) minutes = atol(argv[++i]);
    else if (strcmp(a, "--port") == 0 && more) port = argv[++i];
    else if (strcmp(a, "--raft-as") == 0 && more) raft_as = argv[++i];
    else if (strcmp(a, "--key") == 0 && more) key = argv[++i];
    else if (strcmp(a, "--server-key") == 0 && more) server_key = argv[++i];
    else if (strcmp(a, "--member") == 0 && more) member = argv[++i];
    else if (strcmp(a, "--incarnation") == 0 && more) incarnation = argv[++i];
    else if (strcmp(a, "--term") == 0 && more) term0 = strtoull(argv[++i], NULL, 10);
    else if (strcmp(a, "--commit") == 0 && more) commit0 = strtoull(argv[++i], NULL, 10);
    else return s_usage("unknown or incomplete argument");
  }
  if (!yaml) return s_usage("-c NODE.yaml is required");
  if (frames < 1 || minutes < 0) return s_usage("--frames >= 1, --minutes >= 0");
  if (strcmp(port, "client") && strcmp(port, "raft") && strcmp(port, "both"))
    return s_usage("--port is client, raft or both");
  if (!key != !server_key) return s_usage("--key and --server-key go together");
  if (member) {
    char *end = NULL;
    if (!key || !incarnation) return s_usage("--member needs --key (its key pair) and --incarnation");
    s_member.incarnation = strtoull(incarnation, &end, 16);
    if (!*incarnation || *end || !s_member.incarnation)
      return s_usage("--incarnation takes the member's 16 hex digits");
    s_member.on = true;
    s_member.name = member;
    s_member.term = term0;
    s_member.commit = commit0;
    raft_as = member;
  }
  if (!have_seed && getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = (uint64_t)time(NULL);
  s_state = seed;
  printf("rv-fuzz: seed %llu\n", (unsigned long long)seed);
  fflush(stdout);

  cfg_node_t *cfg = NULL;
  rv_err_t err;
  if (cfg_node_load(yaml, &cfg, -1, &err) != RV_OK) {
    fprintf(stderr, "rv-fuzz: %s\n", err.msg);
    return 1;
  }
  zcert_t *cert = NULL;
  if (key && !(cert = zcert_load(key))) {
    fprintf(stderr, "rv-fuzz: --key %s: not a czmq certificate file\n", key);
    cfg_node_destroy(&cfg);
    return 1;
  }
  const cfg_peer_t *self = &cfg->nodes[cfg->self];
  s_member.cluster = cfg->cluster_id;
  if (member) {
    s_member.from = raft_wire_node_id(member);
    s_member.to = raft_wire_node_id(cfg->node_id);
  }
  char eps[2][CFG_HOST_MAX + 32], ident[2 * CFG_ID_MAX + 2];
  cfg_peer_endpoint(self, self->client_port, eps[0], sizeof eps[0]);
  cfg_peer_endpoint(self, self->raft_port, eps[1], sizeof eps[1]);
  if (raft_as) snprintf(ident, sizeof ident, "%s/%s", cfg->cluster_id, raft_as);
  else snprintf(ident, sizeof ident, "%s/fuzz-%04x", cfg->cluster_id, (unsigned)(seed & 0xffff));
  s_port_t ports[2] = {{.name = "client", .endpoint = eps[0], .to_actor = "kv-store"},
                       {.name = "raft", .endpoint = eps[1], .to_actor = "raft-peer"}};
  int rc = 0;
  for (int i = 0; i < 2; i++) {
    if (strcmp(port, "both") && strcmp(port, ports[i].name)) continue;
    zsock_t *s = zsock_new(ZMQ_DEALER);
    zsock_set_linger(s, 1000);
    zsock_set_sndhwm(s, 100);
    zsock_set_rcvhwm(s, 100);
    zsock_set_reconnect_ivl(s, 20);
    if (i == 1) zsock_set_identity(s, ident);
    if (cert) {
      zcert_apply(cert, s);
      zsock_set_curve_serverkey(s, server_key);
    }
    if (zsock_connect(s, "%s", ports[i].endpoint) < 0) {
      fprintf(stderr, "rv-fuzz: cannot connect to %s\n", ports[i].endpoint);
      rc = 1;
    }
    ports[i].sock = s;
  }
  const char *as = raft_as ? raft_as : "fuzz";
  uint64_t deadline = minutes ? (uint64_t)zclock_mono() + (uint64_t)minutes * 60000u : 0;
  for (long k = 0; !rc && (deadline ? (uint64_t)zclock_mono() < deadline : k < frames); k++) {
    for (int i = 0; i < 2; i++)
      if (ports[i].sock) s_one(&ports[i], cfg, as);
    if (k % 64 == 63) zclock_sleep(2); /* a flood, not a denial of service of the test itself */
  }
  for (int i = 0; i < 2; i++) {
    if (!ports[i].sock) continue;
    printf("rv-fuzz: %s port %s: %llu frames sent (%llu mutated envelopes, %llu random), %llu "
           "refused by the local queue\n", ports[i].name, ports[i].endpoint,
           (unsigned long long)ports[i].sent, (unsigned long long)ports[i].mutated,
           (unsigned long long)ports[i].random, (unsigned long long)ports[i].refused);
    zsock_destroy(&ports[i].sock);
  }
  zcert_destroy(&cert);
  cfg_node_destroy(&cfg);
  return rc;
}
