/* rv-bench-raft: commits per second and commit latency of the Raft layer alone, and failover
 * time after kill -9 of the leader (a report, not a test).
 *
 * It joins each node of a running cluster whose nodes run raft-peer but no kv-store, in the
 * kv-store's place: a mailbox named "kv-store" in each node's run directory. So it sees exactly
 * what kv-store would: it proposes through the leader's raft-peer (ProposeBatch, one per
 * wake-up, however many proposals are due), and learns of each commit from ApplyBatch. A
 * request's path: bench -> raft-peer (ipc), raft-peer -> followers -> raft-peer (tcp, with the
 * fsyncs), raft-peer -> bench (ipc): 2 ipc hops and one replication round trip.
 *   rv-bench-raft -c n1.yaml -c n2.yaml -c n3.yaml [--clients 1,16,64] [--seconds S]
 *                 [--size BYTES] [--failovers N] [--json] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rv_actor.h"

#define S_MAX_NODES 7
#define S_RING (1u << 20) /* outstanding proposals tracked by id */

typedef struct {
  cfg_node_t *cfg;
  rv_mailbox_t *mb;
  char role[32];
  char leader[CFG_ID_MAX + 1];
  uint64_t term;
  uint64_t state_at_ms;
  uint64_t applyfrom_at_ms;
  uint64_t taken; /* the last entry delivered here: asked again from the next one */
} s_node_t;

static s_node_t s_nodes[S_MAX_NODES];
static int s_n;
static uint64_t *s_sent_us;     /* by proposal id % S_RING: send time, 0 = none */
static uint64_t *s_index_of;    /* by proposal id % S_RING: log index once accepted */
static uint64_t *s_id_at;       /* by index % S_RING: proposal id, 0 = none */
static uint8_t s_payload[1 << 16];
static size_t s_size = 256;
static uint64_t s_next_id = 1;

/* stats of one run */
static uint64_t *s_lat;
static size_t s_nlat, s_cap_lat;
static uint64_t s_batches, s_batched, s_applies, s_applied_entries, s_errors;
static long s_outstanding;

static int s_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The node that says it leads in the highest term (a deposed leader that has not yet heard of
 * the new term still says "leader", in an older one). */
static int s_leader(void) {
  int best = -1;
  for (int i = 0; i < s_n; i++)
    if (strcmp(s_nodes[i].role, "leader") == 0 && (best < 0 || s_nodes[i].term > s_nodes[best].term))
      best = i;
  return best;
}

static void s_apply_from(int i) {
  Rv__ApplyFrom af = RV__APPLY_FROM__INIT;
  af.index = s_nodes[i].taken + 1;
  rv_mailbox_send(s_nodes[i].mb, "raft-peer", RV_MSG_APPLY_FROM, &af.base, 0, 0, NULL);
  s_nodes[i].applyfrom_at_ms = rv_mono_ms();
}

/* Where each proposal went: from a ProposeResult, or an ApplyBatch before its entries
 * (messages/raft.proto). */
static void s_outcomes(Rv__ProposeOutcome *const *outcomes, size_t n) {
  for (size_t k = 0; k < n; k++) {
    const Rv__ProposeOutcome *o = outcomes[k];
    uint32_t slot = (uint32_t)(o->id % S_RING);
    if (o->code) {
      s_errors++;
      if (s_sent_us[slot]) {
        s_sent_us[slot] = 0;
        s_outstanding--;
      }
      continue;
    }
    s_index_of[slot] = o->index;
    s_id_at[o->index % S_RING] = o->id;
  }
}

/* The leader applied b's entries: each proposal among them is done. */
static void s_applied(const Rv__ApplyBatch *b, uint64_t now) {
  s_applies++;
  s_applied_entries += b->n_entries;
  for (size_t k = 0; k < b->n_entries; k++) {
    uint64_t idx = b->entries[k]->index;
    uint64_t id = s_id_at[idx % S_RING];
    if (!id) continue;
    uint32_t slot = (uint32_t)(id % S_RING);
    if (s_index_of[slot] != idx || !s_sent_us[slot]) continue;
    if (s_nlat < s_cap_lat) s_lat[s_nlat++] = now - s_sent_us[slot];
    s_sent_us[slot] = 0;
    s_id_at[idx % S_RING] = 0;
    s_outstanding--;
  }
}

/* What kv-store says when an ApplyBatch asks (ack): it has taken the entries in, up to index,
 * and has nothing left to make durable (so raft-peer may compact its log behind it). Without it
 * raft-peer's window of entries in flight to kv-store (S_APPLY_WINDOW) fills after 4,096 commits
 * and delivers no more: every run after the first measured 0 commits/s. As kv-store does, the
 * bench then asks a restarted raft-peer for the entries after those it has taken (ApplyFrom),
 * not from 1: those are compacted away. */
static void s_taken(int i, uint64_t index) {
  Rv__Applied ap = RV__APPLIED__INIT;
  ap.index = index;
  ap.taken = index;
  rv_mailbox_send(s_nodes[i].mb, "raft-peer", RV_MSG_APPLIED, &ap.base, 0, 0, NULL);
}

/* Handles everything waiting on every node's mailbox. */
static void s_drain(void) {
  for (int i = 0; i < s_n; i++) {
    rv_msg_t m;
    while (rv_mailbox_recv(s_nodes[i].mb, &m, NULL) == RV_OK) {
      uint64_t now = rv_mono_us();
      if (m.type == RV_MSG_RAFT_STATE) {
        const Rv__RaftState *st = (const Rv__RaftState *)m.body;
        snprintf(s_nodes[i].role, sizeof s_nodes[i].role, "%s", st->role);
        snprintf(s_nodes[i].leader, sizeof s_nodes[i].leader, "%s", st->leader_node);
        s_nodes[i].term = st->term;
        s_nodes[i].state_at_ms = rv_mono_ms();
      } else if (m.type == RV_MSG_PROPOSE_RESULT) {
        const Rv__ProposeResult *r = (const Rv__ProposeResult *)m.body;
        s_outcomes(r->outcomes, r->n_outcomes);
      } else if (m.type == RV_MSG_APPLY_BATCH) {
        const Rv__ApplyBatch *b = (const Rv__ApplyBatch *)m.body;
        s_outcomes(b->outcomes, b->n_outcomes);
        if (strcmp(s_nodes[i].role, "leader") == 0) s_applied(b, now);
        if (b->n_entries) s_nodes[i].taken = b->entries[b->n_entries - 1]->index;
        if (b->ack) s_taken(i, s_nodes[i].taken);
      }
      rv_msg_clear(&m);
    }
    /* a restarted raft-peer forgets us: ask again when its state has gone quiet */
    uint64_t now_ms = rv_mono_ms();
    if (now_ms - s_nodes[i].state_at_ms > 400 && now_ms - s_nodes[i].applyfrom_at_ms > 200)
      s_apply_from(i);
  }
}

static void s_wait(int ms) {
  zmq_pollitem_t items[S_MAX_NODES];
  for (int i = 0; i < s_n; i++)
    items[i] = (zmq_pollitem_t){.socket = zsock_resolve(rv_mailbox_inbox(s_nodes[i].mb)),
                                .events = ZMQ_POLLIN};
  zmq_poll(items, s_n, ms);
}

/* Sends `count` new proposals to the leader in one ProposeBatch. */
static void s_propose(int leader, long count) {
  Rv__Proposal props[count], *ptrs[count];
  uint64_t now = rv_mono_us();
  for (long k = 0; k < count; k++) {
    uint64_t id = s_next_id++;
    rv__proposal__init(&props[k]);
    props[k].id = id;
    props[k].data.data = s_payload;
    props[k].data.len = s_size;
    ptrs[k] = &props[k];
    s_sent_us[id % S_RING] = now;
    s_index_of[id % S_RING] = 0;
  }
  Rv__ProposeBatch b = RV__PROPOSE_BATCH__INIT;
  b.n_proposals = (size_t)count;
  b.proposals = ptrs;
  if (rv_mailbox_send(s_nodes[leader].mb, "raft-peer", RV_MSG_PROPOSE_BATCH, &b.base, 0, 0, NULL) ==
      RV_OK) {
    s_outstanding += count;
    s_batches++;
    s_batched += (uint64_t)count;
  } else {
    for (long k = 0; k < count; k++) s_sent_us[(s_next_id - 1 - (uint64_t)k) % S_RING] = 0;
  }
}

static int s_wait_leader(int ms) {
  uint64_t deadline = rv_mono_ms() + (uint64_t)ms;
  int l;
  while ((l = s_leader()) < 0 && rv_mono_ms() < deadline) {
    s_wait(10);
    s_drain();
  }
  return l;
}

/* Forgets every outstanding proposal (after a failover, or between runs). */
static void s_reset(void) {
  memset(s_sent_us, 0, S_RING * sizeof *s_sent_us);
  memset(s_id_at, 0, S_RING * sizeof *s_id_at);
  s_outstanding = 0;
}

static void s_run(long clients, double seconds, bool json) {
  s_reset();
  s_nlat = s_batches = s_batched = s_applies = s_applied_entries = s_errors = 0;
  int leader = s_wait_leader(10000);
  if (leader < 0) {
    fprintf(stderr, "rv-bench-raft: no leader\n");
    exit(1);
  }
  /* warm up for 1 s, then measure */
  uint64_t t0 = rv_mono_us(), warm = t0 + 1000000, end = warm + (uint64_t)(seconds * 1e6);
  bool measuring = false;
  uint64_t next_progress = t0 + 1000000;
  while (rv_mono_us() < end) {
    if (!measuring && rv_mono_us() >= warm) {
      measuring = true;
      s_nlat = s_batches = s_batched = s_applies = s_applied_entries = s_errors = 0;
      t0 = rv_mono_us();
    }
    leader = s_leader();
    if (leader >= 0 && s_outstanding < clients) s_propose(leader, clients - s_outstanding);
    s_wait(5);
    s_drain();
    if (!json && rv_mono_us() >= next_progress) {
      fprintf(stderr, "\r  clients %ld: %.0f s, %zu commits", clients,
              (double)(rv_mono_us() - t0) / 1e6, s_nlat);
      next_progress += 1000000;
    }
  }
  double secs = (double)(rv_mono_us() - t0) / 1e6;
  qsort(s_lat, s_nlat, sizeof *s_lat, s_cmp);
  uint64_t p50 = s_nlat ? s_lat[s_nlat / 2] : 0, p99 = s_nlat ? s_lat[(size_t)(s_nlat * 0.99)] : 0;
  double per_batch = s_batches ? (double)s_batched / (double)s_batches : 0;
  double per_apply = s_applies ? (double)s_applied_entries / (double)s_applies : 0;
  if (json)
    printf("{\"op\":\"raft-commit\",\"clients\":%ld,\"size\":%zu,\"ops_per_s\":%.0f,\"p50_us\":%llu,"
           "\"p99_us\":%llu,\"errors\":%llu,\"proposals_per_batch\":%.1f,"
           "\"entries_per_apply\":%.1f,\"ipc_hops\":2}\n",
           clients, s_size, (double)s_nlat / secs, (unsigned long long)p50,
           (unsigned long long)p99, (unsigned long long)s_errors, per_batch, per_apply);
  else
    fprintf(stderr, "\r  clients %3ld: %8.0f commits/s  p50 %6.2f ms  p99 %6.2f ms  errors %llu  "
                    "(%.1f proposals per ipc message, %.1f entries per apply message)\n",
            clients, (double)s_nlat / secs, (double)p50 / 1000, (double)p99 / 1000,
            (unsigned long long)s_errors, per_batch, per_apply);
}

/* The pid of actor `actor` on node i, from its answer to a health ping. */
static uint32_t s_pid_of(int i, const char *actor) {
  Rv__HealthPing ping = RV__HEALTH_PING__INIT;
  ping.seq = 424242;
  for (int tries = 0; tries < 50; tries++) {
    rv_mailbox_send(s_nodes[i].mb, actor, RV_MSG_HEALTH_PING, &ping.base, 0, 0, NULL);
    uint64_t deadline = rv_mono_ms() + 100;
    while (rv_mono_ms() < deadline) {
      s_wait(10);
      rv_msg_t m;
      while (rv_mailbox_recv(s_nodes[i].mb, &m, NULL) == RV_OK) {
        uint32_t pid = m.type == RV_MSG_HEALTH_PONG ? ((Rv__HealthPong *)m.body)->pid : 0;
        rv_msg_clear(&m);
        if (pid) return pid;
      }
    }
  }
  return 0;
}

static void s_failovers(int n, bool json, int sig) {
  uint64_t *t = calloc((size_t)n, sizeof *t);
  int done = 0;
  for (int k = 0; k < n; k++) {
    int leader = s_wait_leader(10000);
    if (leader < 0) {
      fprintf(stderr, "rv-bench-raft: failover %d: no leader within 10 s; stopping here\n", k + 1);
      break;
    }
    uint32_t pid = s_pid_of(leader, "raft-peer");
    if (!pid) {
      fprintf(stderr, "rv-bench-raft: failover %d: the leader's raft-peer (%s) did not answer a "
                      "ping with its pid; stopping here\n", k + 1, s_nodes[leader].cfg->node_id);
      break;
    }
    s_reset();
    s_nlat = 0;
    uint64_t t0 = rv_mono_us(), term = s_nodes[leader].term;
    kill((pid_t)pid, sig);
    snprintf(s_nodes[leader].role, sizeof s_nodes[leader].role, "dead");
    /* propose one entry every few ms to whoever leads now, in a later term (a killed raft-peer,
     * restarted within the election timeout, may well be elected again); done at the first
     * commit */
    uint64_t deadline = rv_mono_ms() + 10000, next = 0;
    while (s_nlat == 0 && rv_mono_ms() < deadline) {
      int l = s_leader();
      if (l >= 0 && s_nodes[l].term > term && rv_mono_us() >= next) {
        s_reset();
        s_propose(l, 1);
        next = rv_mono_us() + 5000;
      }
      s_wait(2);
      s_drain();
    }
    if (!s_nlat) {
      fprintf(stderr,
              "rv-bench-raft: failover %d: no write committed within 10 s of the %s of %s's "
              "raft-peer; stopping here\n",
              k + 1, sig == SIGSTOP ? "SIGSTOP" : "kill -9", s_nodes[leader].cfg->node_id);
      if (sig == SIGSTOP) kill((pid_t)pid, SIGCONT);
      break;
    }
    t[done++] = rv_mono_us() - t0;
    if (sig == SIGSTOP) kill((pid_t)pid, SIGCONT); /* the hung leader wakes up deposed */
    if (!json) fprintf(stderr, "\r  failover %d/%d: %.0f ms   ", done, n, (double)t[done - 1] / 1000);
    /* let the killed raft-peer come back and the cluster settle */
    uint64_t settle = rv_mono_ms() + 1500;
    while (rv_mono_ms() < settle) {
      s_wait(10);
      s_drain();
    }
  }
  qsort(t, (size_t)done, sizeof *t, s_cmp);
  uint64_t med = done ? t[done / 2] : 0, max = done ? t[done - 1] : 0, min = done ? t[0] : 0;
  if (json)
    printf("{\"op\":\"raft-failover\",\"fault\":\"%s\",\"runs\":%d,\"median_ms\":%.1f,"
           "\"min_ms\":%.1f,\"max_ms\":%.1f}\n",
           sig == SIGSTOP ? "hang" : "crash", done, (double)med / 1000, (double)min / 1000,
           (double)max / 1000);
  else
    fprintf(stderr, "\r  failover after %s of the leader's raft-peer, to a write committed "
                    "again (%d runs): median %.0f ms, min %.0f ms, max %.0f ms\n",
            sig == SIGSTOP ? "SIGSTOP" : "kill -9", done, (double)med / 1000, (double)min / 1000, (double)max / 1000);
  free(t);
}

int main(int argc, char **argv) {
  const char *clients_list = "1,16,64";
  double seconds = 5;
  int failovers = 0;
  bool json = false;
  const char *configs[S_MAX_NODES];
  int nconf = 0;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(o, "-c") == 0 && v && nconf < S_MAX_NODES) configs[nconf++] = argv[++i];
    else if (strcmp(o, "--clients") == 0 && v) clients_list = argv[++i];
    else if (strcmp(o, "--seconds") == 0 && v) seconds = atof(argv[++i]);
    else if (strcmp(o, "--size") == 0 && v) s_size = (size_t)atol(argv[++i]);
    else if (strcmp(o, "--failovers") == 0 && v) failovers = atoi(argv[++i]);
    else if (strcmp(o, "--json") == 0) json = true;
    else {
      fprintf(stderr, "usage: rv-bench-raft -c NODE.yaml... [--clients 1,16,64] [--seconds S] "
                      "[--size BYTES] [--failovers N] [--json]\n");
      return 2;
    }
  }
  if (nconf == 0 || s_size == 0 || s_size > sizeof s_payload || seconds <= 0) {
    fprintf(stderr, "rv-bench-raft: give each node's YAML with -c; --size 1..65536; --seconds > 0\n");
    return 2;
  }
  for (size_t k = 0; k < s_size; k++) s_payload[k] = (uint8_t)(k * 131 + 7);
  s_sent_us = calloc(S_RING, sizeof *s_sent_us);
  s_index_of = calloc(S_RING, sizeof *s_index_of);
  s_id_at = calloc(S_RING, sizeof *s_id_at);
  s_cap_lat = 50u << 20;
  s_lat = malloc(s_cap_lat * sizeof *s_lat);
  zsys_handler_set(NULL);
  rv_log_init("bench", "rv-bench-raft", CFG_LOG_WARN);
  for (int i = 0; i < nconf; i++) {
    rv_err_t err;
    if (cfg_node_load(configs[i], &s_nodes[i].cfg, 2, &err) ||
        rv_mailbox_new(s_nodes[i].cfg, "kv-store", &s_nodes[i].mb, &err)) {
      fprintf(stderr, "rv-bench-raft: %s\n", err.msg);
      return 1;
    }
    s_n++;
    s_apply_from(i);
  }
  for (const char *p = clients_list; *p;) {
    long c = strtol(p, (char **)&p, 10);
    if (c <= 0 || c > 100000) {
      fprintf(stderr, "rv-bench-raft: --clients takes positive numbers, e.g. 1,16,64\n");
      return 2;
    }
    s_run(c, seconds, json);
    if (*p == ',') p++;
  }
  if (failovers > 0) s_failovers(failovers, json, SIGKILL);
  if (failovers > 0) s_failovers(failovers, json, SIGSTOP);
  for (int i = 0; i < s_n; i++) {
    rv_mailbox_destroy(&s_nodes[i].mb);
    cfg_node_destroy(&s_nodes[i].cfg);
  }
  return 0;
}
