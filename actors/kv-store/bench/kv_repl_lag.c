/* kv_repl_lag: how long kv-store's loop stays deaf while it serves the replica's pages. Not a
 * test.
 *
 *   kv_repl_lag [N] [--bin KV_STORE] [--rounds R]
 *
 * Runs the real kv-store program (default: the one built beside this program) against a
 * scripted raft-peer, as test_kv_repl does, with the replica on: N creates (default 100,000) by
 * 64 clients, each in its own directory, applied 256 per ApplyBatch. Then, with nothing else
 * going on, it plays the replicator: R times (default 3) every ReplChanges page after index 0
 * (1 MiB, 10,000 rows, as ots-replicator asks), one page at a time; all the while, every 2 ms, a
 * ReplStatusRequest, which the loop answers at once when it is free. The answer times of those
 * probes are the loop's deafness: p50, p99 and max, first for 2 s with no page asked (the
 * baseline), then while the pages stream. Also: the pages' answer times, and kv-store's CPU
 * (/proc/PID/stat, every thread) per row served. --bin runs another build's kv-store: the same
 * measure before and after a change, alternated on a noisy host. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kv_testutil.h"
#include "rv_log.h"
#include "rv_mailbox.h"

#define LANES 64
#define PROBE_US 2000

static rv_mailbox_t *s_mb;
static pid_t s_pid;

static int64_t s_now_us(void) { return zclock_usecs(); }

static void s_send(uint32_t type, const ProtobufCMessage *body, uint64_t corr) {
  rv_err_t err;
  for (int k = 0; k < 500; k++) {
    int rc = rv_mailbox_send(s_mb, "kv-store", type, body, corr, 0, &err);
    if (rc == RV_OK) return;
    if (rc != RV_EAGAIN) break;
    usleep(10000);
  }
  fprintf(stderr, "kv_repl_lag: cannot send to kv-store: %s\n", err.msg);
  exit(1);
}

static void s_publish(void) {
  Rv__RaftState rs = RV__RAFT_STATE__INIT;
  rs.role = "leader";
  rs.term = 1;
  rs.leader_node = "n1";
  s_send(RV_MSG_RAFT_STATE, &rs.base, 0);
}

/* The next message (waits up to ms); false when none came. raft-peer's state is published every
 * 300 ms meanwhile: kv-store takes a raft-peer silent for 1.5 s as restarted. */
static bool s_recv(rv_msg_t *m, int ms) {
  static int64_t published;
  int64_t end = s_now_us() + (int64_t)ms * 1000;
  for (;;) {
    if (s_now_us() - published >= 300000) {
      published = s_now_us();
      s_publish();
    }
    if (rv_mailbox_recv(s_mb, m, NULL) == RV_OK) return true;
    int64_t left = (end - s_now_us()) / 1000;
    if (left < 0) return false;
    zmq_pollitem_t it = {.socket = zsock_resolve(rv_mailbox_inbox(s_mb)), .events = ZMQ_POLLIN};
    zmq_poll(&it, 1, left < 1 ? 1 : left);
  }
}

static uint64_t s_cpu_ticks(void) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)s_pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  unsigned long long ut = 0, st = 0;
  if (p) sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
  return ut + st;
}

static uint64_t s_applied(void) {
  Rv__ReplStatusRequest q = RV__REPL_STATUS_REQUEST__INIT;
  s_send(RV_MSG_REPL_STATUS_REQUEST, &q.base, 0);
  rv_msg_t m;
  while (s_recv(&m, 30000)) {
    uint64_t a = m.type == RV_MSG_REPL_STATUS && ((Rv__ReplStatus *)m.body)->log
                     ? ((Rv__ReplStatus *)m.body)->log->applied
                     : UINT64_MAX;
    rv_msg_clear(&m);
    if (a != UINT64_MAX) return a;
  }
  fprintf(stderr, "kv_repl_lag: kv-store does not answer\n");
  exit(1);
}

/* Asks until kv-store has applied up to index (each answer waited for). */
static void s_wait_applied(uint64_t index) {
  while (s_applied() < index) continue;
}

typedef struct {
  int64_t *v;
  size_t n, cap;
} s_samples_t;

static void s_add(s_samples_t *s, int64_t us) {
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 1024;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    if (!s->v) abort();
  }
  s->v[s->n++] = us;
}

static int s_cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static void s_print(const char *what, s_samples_t *s) {
  if (!s->n) return;
  qsort(s->v, s->n, sizeof *s->v, s_cmp);
  size_t i99 = s->n * 99 / 100;
  printf("  %-34s %6zu: p50 %6.1f ms, p99 %6.1f ms, max %6.1f ms\n", what, s->n,
         (double)s->v[s->n / 2] / 1e3, (double)s->v[i99 < s->n ? i99 : s->n - 1] / 1e3,
         (double)s->v[s->n - 1] / 1e3);
  s->n = 0;
}

/* Probes every PROBE_US for ms (and pages, when rounds > 0, until they are all read); answer
 * times into probes and pages. */
static void s_measure(int ms, int rounds, s_samples_t *probes, s_samples_t *pages, size_t *rows) {
  int64_t end = s_now_us() + (int64_t)ms * 1000, next_probe = s_now_us();
  uint64_t corr = 1000, stream = 1, page = 0;
  int64_t probe_sent[64] = {0}; /* by corr % 64 */
  int64_t page_sent = 0;
  bool page_out = false;
  int done = 0;
  while (rounds ? done < rounds : s_now_us() < end) {
    int64_t now = s_now_us();
    if (now >= next_probe) {
      Rv__ReplStatusRequest q = RV__REPL_STATUS_REQUEST__INIT;
      corr++;
      probe_sent[corr % 64] = now;
      s_send(RV_MSG_REPL_STATUS_REQUEST, &q.base, corr);
      next_probe = now + PROBE_US;
    }
    if (rounds && !page_out) {
      Rv__ReplChangesRequest q = RV__REPL_CHANGES_REQUEST__INIT;
      q.stream = stream;
      q.page = page;
      q.after_index = 0;
      q.max_bytes = 1u << 20;
      q.max_rows = 10000;
      page_sent = now;
      page_out = true;
      s_send(RV_MSG_REPL_CHANGES_REQUEST, &q.base, 1);
    }
    rv_msg_t m;
    int wait = (int)((next_probe - s_now_us()) / 1000);
    if (!s_recv(&m, wait < 1 ? 1 : wait)) continue;
    now = s_now_us();
    if (m.type == RV_MSG_REPL_STATUS && m.corr_id > 1000) {
      s_add(probes, now - probe_sent[m.corr_id % 64]);
    } else if (m.type == RV_MSG_REPL_CHANGES) {
      const Rv__ReplChanges *a = (const Rv__ReplChanges *)m.body;
      if (a->code) {
        fprintf(stderr, "kv_repl_lag: page %llu: %s\n", (unsigned long long)a->page, a->message);
        exit(1);
      }
      s_add(pages, now - page_sent);
      *rows += a->n_rows;
      page_out = false;
      page++;
      if (a->last) {
        done++;
        stream++;
        page = 0;
      }
    }
    rv_msg_clear(&m);
  }
  /* the last probes' answers */
  rv_msg_t m;
  while (s_recv(&m, 50)) {
    if (m.type == RV_MSG_REPL_STATUS && m.corr_id > 1000)
      s_add(probes, s_now_us() - probe_sent[m.corr_id % 64]);
    rv_msg_clear(&m);
  }
}

int main(int argc, char **argv) {
  size_t n = 100000;
  int rounds = 3;
  char bin[4096];
  snprintf(bin, sizeof bin, "%s", argv[0]);
  char *slash = strrchr(bin, '/');
  snprintf(slash ? slash + 1 : bin, sizeof bin - (size_t)(slash ? slash + 1 - bin : 0),
           "raftvisor-kv-store");
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--bin") == 0 && i + 1 < argc) snprintf(bin, sizeof bin, "%s", argv[++i]);
    else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (argv[i][0] != '-') n = strtoul(argv[i], NULL, 10);
    else {
      fprintf(stderr, "usage: kv_repl_lag [N] [--bin KV_STORE] [--rounds R]\n");
      return 2;
    }
  }
  rv_log_init("kv_repl_lag", "kv_repl_lag", CFG_LOG_ERROR);
  char dir[] = "/tmp/kv_repl_lag.XXXXXX", yaml[128], cmd[CFG_PATH_MAX + 16];
  if (!mkdtemp(dir)) return 1;
  zsys_handler_set(NULL);
  snprintf(yaml, sizeof yaml, "%s/n1.yaml", dir);
  FILE *f = fopen(yaml, "w");
  int port = 30000 - (int)(getpid() % 12000);
  fprintf(f,
          "node: {id: n1, data-dir: %s/n1}\nsecurity: {insecure: true}\n"
          "cluster:\n  id: c1\n  nodes:\n"
          "    - {id: n1, host: 127.0.0.1, raft-port: %d, client-port: %d}\n"
          "ots: {enabled: true, endpoint: \"file://%s/remote\", change-log-max-bytes: 1073741824}\n",
          dir, port, port + 100, dir);
  fclose(f);
  cfg_node_t *cfg;
  rv_err_t err;
  if (cfg_node_load(yaml, &cfg, -1, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  snprintf(cmd, sizeof cmd, "mkdir -p %s", cfg->run_dir);
  if (system(cmd) != 0 || rv_mailbox_new(cfg, "raft-peer", &s_mb, &err)) return 1;
  s_pid = fork();
  if (s_pid == 0) {
    char log[160];
    snprintf(log, sizeof log, "%s/kv-store.log", dir);
    if (!freopen(log, "w", stderr)) _exit(127);
    execl(bin, bin, "--config", yaml, (char *)NULL);
    _exit(127);
  }
  rv_msg_t m;
  while (s_recv(&m, 10000) && m.type != RV_MSG_APPLY_FROM) rv_msg_clear(&m);
  rv_msg_clear(&m);
  s_publish();
  /* the backlog: the directories, then the creates, 256 entries per ApplyBatch */
  enum { BATCH = 256 };
  kv_buf_t bufs[BATCH];
  Rv__RaftEntry ents[BATCH], *ep[BATCH];
  for (int j = 0; j < BATCH; j++) kv_buf_init(&bufs[j]);
  uint64_t index = 0, seqs[LANES] = {0};
  int64_t t0 = s_now_us();
  for (size_t i = 0; i < n + LANES; i += BATCH) {
    size_t k = 0;
    for (; k < BATCH && i + k < n + LANES; k++) {
      kv_t_lane_create(i + k, LANES, seqs, &bufs[k]);
      rv__raft_entry__init(&ents[k]);
      ents[k].index = ++index;
      ents[k].term = 1;
      ents[k].data.data = bufs[k].data;
      ents[k].data.len = bufs[k].len;
      ep[k] = &ents[k];
    }
    Rv__ApplyBatch b = RV__APPLY_BATCH__INIT;
    b.n_entries = k;
    b.entries = ep;
    s_send(RV_MSG_APPLY_BATCH, &b.base, 0);
    if ((i / BATCH) % 20 == 19) s_wait_applied(index - 2 * BATCH); /* its inbox short */
  }
  s_wait_applied(index);
  FILE *la = fopen("/proc/loadavg", "r");
  char load[64] = "?";
  if (la && fgets(load, sizeof load, la)) load[strcspn(load, " ")] = '\0';
  if (la) fclose(la);
  printf("kv_repl_lag: %s, %zu creates applied in %.1f s, load average %s\n", bin, n,
         (double)(s_now_us() - t0) / 1e6, load);
  s_samples_t probes = {0}, pages = {0};
  size_t rows = 0;
  s_measure(2000, 0, &probes, &pages, &rows);
  s_print("loop answer time, no page asked", &probes);
  uint64_t c0 = s_cpu_ticks();
  int64_t w0 = s_now_us();
  s_measure(0, rounds, &probes, &pages, &rows);
  uint64_t c1 = s_cpu_ticks();
  double secs = (double)(s_now_us() - w0) / 1e6;
  s_print("loop answer time, pages streaming", &probes);
  s_print("page answer time", &pages);
  printf("  %zu rows in %.1f s; kv-store CPU %.2f us per row (every thread)\n", rows, secs,
         (double)(c1 - c0) * 1e6 / (double)sysconf(_SC_CLK_TCK) / (double)(rows ? rows : 1));
  kill(s_pid, SIGTERM);
  waitpid(s_pid, NULL, 0);
  rv_mailbox_destroy(&s_mb);
  cfg_node_destroy(&cfg);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : 1;
}
