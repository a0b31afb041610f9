/* kv_core_bench: how fast the namespace state machine applies creates, in memory and into
 * RocksDB, one entry per write and grouped (kv_core_apply_batch), so we know it is not the
 * bottleneck of the replicated path. Not a test.
 *
 *   kv_core_bench [N] [--dir DIR] [--big-dir M] [--chlog BYTES]
 *
 * Two workloads of N commands each: "create" (an empty file, as `hadoop fs -touchz` or a
 * create before any data) and "put 16 B" (a small file with inline content); 1000 files per
 * directory, parents made on the fly, 64 client sessions round-robin, 1 ms between commands.
 * Commands are encoded first; only applying is timed. Each run checks its final digest
 * against the in-memory run of the same log. RocksDB runs in a fresh temporary directory under
 * DIR (default /tmp), removed afterwards.
 *
 * --big-dir M adds a run on one directory of M children in RocksDB: filling it, paging through
 * it with ls (1000 per page), one page from the middle, and rm -r of it as one command (one
 * batch; refused beyond rm_max_entries), with the process's peak memory.
 *
 * --chlog BYTES runs every core with the replica's change log on (kv_chlog.h), capped at BYTES
 * and never trimmed (a dead remote copy: the log only grows), to compare the cost with a run
 * without it. Each line also shows the process's CPU time per command (RocksDB's background
 * threads included). */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "kv_core.h"
#include "kv_memstore.h"
#include "kv_rocks.h"
#include "kv_testutil.h"

#define GROUP 64

static bool s_rm_after; /* time an rm -r of the whole tree after the next run */
static uint64_t s_chlog_bytes; /* --chlog: the change log's cap; 0 = off */
static double s_cpu_us; /* CPU time per command of the last run */
static bool s_lanes;    /* --lanes: each of the 64 clients creates in a directory of its own */
static bool s_quick;    /* --quick: only the create run into RocksDB, 64 per write */

static double s_cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double s_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int s_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  return remove(p);
}

typedef struct {
  kv_buf_t *bufs;
  kv_entry_t *entries;
  size_t n;
} s_log_t;

static void s_log_make(s_log_t *log, size_t n, size_t data_len) {
  log->n = n;
  log->bufs = calloc(n, sizeof *log->bufs);
  log->entries = calloc(n, sizeof *log->entries);
  if (!log->bufs || !log->entries) abort();
  static const char data[] = "0123456789abcdef";
  uint64_t seqs[64] = {0};
  for (size_t i = 0; i < n; i++) {
    char p[64];
    if (s_lanes) /* as `raftvisor bench --workload create` does: lane i % 64 in c<lane> */
      snprintf(p, sizeof p, "/bench/c%zu/f%zu", i % 64, i / 64);
    else
      snprintf(p, sizeof p, "/bench/d%zu/f%zu", i / 1000, i);
    kv_cmd_t c;
    kv_t_cmd(&c, KV_OP_PUT, p);
    c.flags = KV_F_PARENTS;
    c.data = (kv_bytes_t){(const uint8_t *)data, data_len};
    c.client_id = 1 + i % 64;
    c.seq = ++seqs[i % 64];
    c.time_ms = 1700000000000 + (int64_t)i;
    kv_buf_init(&log->bufs[i]);
    kv_t_encode(&c, &log->bufs[i]);
    log->entries[i] = (kv_entry_t){i + 1, log->bufs[i].data, log->bufs[i].len, false};
  }
}

static void s_log_free(s_log_t *log) {
  for (size_t i = 0; i < log->n; i++) kv_buf_close(&log->bufs[i]);
  free(log->bufs);
  free(log->entries);
}

/* Applies log[0..n) in groups of group; returns ops/s, or < 0 on failure. */
static double s_run(kv_store_t *store, const s_log_t *log, size_t n, size_t group,
                    uint64_t *digest) {
  kv_core_t *core;
  rv_err_t err;
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.chlog_max_bytes = s_chlog_bytes;
  if (kv_core_new(store, &cfg, &core, &err)) {
    fprintf(stderr, "kv_core_new: %s\n", err.msg);
    return -1;
  }
  kv_result_t *res = calloc(group, sizeof *res);
  double t0 = s_now(), c0 = s_cpu_now();
  for (size_t i = 0; i < n; i += group) {
    size_t k = n - i < group ? n - i : group;
    if (kv_core_apply_batch(core, log->entries + i, k, res, &err)) {
      fprintf(stderr, "apply: %s\n", err.msg);
      return -1;
    }
    for (size_t j = 0; j < k; j++) {
      if (res[j].code != RV_OK) {
        fprintf(stderr, "entry %zu: %s\n", i + j, res[j].msg);
        return -1;
      }
    }
  }
  double dt = s_now() - t0;
  s_cpu_us = (s_cpu_now() - c0) * 1e6 / (double)n;
  if (kv_core_digest(core, KV_DIGEST_ALL, digest, &err)) return -1;
  if (s_rm_after) { /* then remove everything in one command */
    kv_buf_t b;
    kv_buf_init(&b);
    kv_cmd_t c;
    kv_t_cmd(&c, KV_OP_RM, "/bench");
    c.flags = KV_F_RECURSIVE;
    c.time_ms = 1700000000000 + (int64_t)n;
    kv_t_encode(&c, &b);
    double r0 = s_now();
    if (kv_core_apply(core, n + 1, b.data, b.len, res, &err) || res[0].code != RV_OK) {
      fprintf(stderr, "rm -r: %s %s\n", err.msg, res[0].msg);
      return -1;
    }
    printf("      rm -r of those %llu entries, one command: %.2f s\n", (unsigned long long)res[0].n,
           s_now() - r0);
    kv_buf_close(&b);
  }
  free(res);
  kv_core_destroy(&core);
  return (double)n / dt;
}

static double s_run_rocks(const char *base, const char *name, bool sync, const s_log_t *log,
                          size_t n, size_t group, uint64_t *digest) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", base, name);
  kv_rocks_opts_t o;
  kv_rocks_opts_default(&o);
  o.path = path;
  o.sync = sync;
  kv_rocks_t *r;
  rv_err_t err;
  if (kv_rocks_new(&o, &r, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return -1;
  }
  double ops = s_run(kv_rocks_store(r), log, n, group, digest);
  kv_rocks_destroy(&r);
  return ops;
}

static long s_peak_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

/* One directory of m children: fill, page through, one page from the middle, rm -r. */
static int s_big_dir(const char *base, size_t m) {
  char path[1024];
  snprintf(path, sizeof path, "%s/big", base);
  kv_rocks_opts_t o;
  kv_rocks_opts_default(&o);
  o.path = path;
  o.sync = false;
  kv_rocks_t *r;
  kv_core_t *core;
  rv_err_t err;
  if (kv_rocks_new(&o, &r, &err) || kv_core_new(kv_rocks_store(r), NULL, &core, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  kv_buf_t bufs[GROUP];
  kv_entry_t ent[GROUP];
  kv_result_t res[GROUP];
  for (size_t j = 0; j < GROUP; j++) kv_buf_init(&bufs[j]);
  uint64_t index = 0;
  double t0 = s_now();
  for (size_t i = 0; i <= m; i += GROUP) {
    size_t k = 0;
    for (; k < GROUP && i + k <= m; k++) {
      char p[64];
      kv_cmd_t c;
      if (i + k == 0) {
        kv_t_cmd(&c, KV_OP_MKDIR, "/big");
      } else {
        snprintf(p, sizeof p, "/big/f%09zu", i + k);
        kv_t_cmd(&c, KV_OP_TOUCHZ, p);
      }
      c.time_ms = 1700000000000 + (int64_t)(i + k);
      kv_t_encode(&c, &bufs[k]);
      ent[k] = (kv_entry_t){++index, bufs[k].data, bufs[k].len, false};
    }
    if (kv_core_apply_batch(core, ent, k, res, &err)) {
      fprintf(stderr, "%s\n", err.msg);
      return 1;
    }
  }
  printf("  big dir  %zu children in one directory: filled at %.0f creates/s\n", m,
         (double)m / (s_now() - t0));
  kv_ls_t ls;
  kv_ls_init(&ls);
  char after[KV_NAME_MAX + 1] = "";
  size_t seen = 0, pages = 0;
  t0 = s_now();
  for (;;) {
    if (kv_core_ls(core, "/big", 4, after, strlen(after), 1000, &ls, &err)) return 1;
    seen += ls.n;
    pages++;
    if (!ls.more) break;
    snprintf(after, sizeof after, "%s", ls.items[ls.n - 1].name);
  }
  double dt = s_now() - t0;
  printf("           ls, pages of 1000: %zu entries in %zu pages, %.0f entries/s, %.2f ms/page\n",
         seen, pages, (double)seen / dt, dt * 1000 / (double)pages);
  snprintf(after, sizeof after, "f%09zu", m / 2);
  t0 = s_now();
  if (kv_core_ls(core, "/big", 4, after, strlen(after), 1000, &ls, &err)) return 1;
  printf("           ls of one page from the middle: %.2f ms\n", (s_now() - t0) * 1000);
  kv_ls_close(&ls);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_RM, "/big");
  c.flags = KV_F_RECURSIVE;
  kv_t_encode(&c, &bufs[0]);
  t0 = s_now();
  if (kv_core_apply(core, ++index, bufs[0].data, bufs[0].len, res, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  printf("           rm -r, one command: %s in %.2f s (%llu entries); peak RSS %ld MiB\n",
         res[0].code == RV_OK ? "done" : res[0].msg, s_now() - t0, (unsigned long long)res[0].n,
         s_peak_rss_mb());
  for (size_t j = 0; j < GROUP; j++) kv_buf_close(&bufs[j]);
  kv_core_destroy(&core);
  kv_rocks_destroy(&r);
  return 0;
}

int main(int argc, char **argv) {
  size_t n = 200000, big = 0;
  const char *dir = "/tmp";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if (strcmp(argv[i], "--big-dir") == 0 && i + 1 < argc)
      big = (size_t)atol(argv[++i]);
    else if (strcmp(argv[i], "--chlog") == 0 && i + 1 < argc)
      s_chlog_bytes = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--lanes") == 0)
      s_lanes = true;
    else if (strcmp(argv[i], "--quick") == 0)
      s_quick = true;
    else if (atol(argv[i]) > 0)
      n = (size_t)atol(argv[i]);
    else {
      fprintf(stderr, "usage: kv_core_bench [N] [--dir DIR] [--big-dir M] [--chlog BYTES] [--lanes] "
            "[--quick]\n");
      return 2;
    }
  }
  char base[1024];
  snprintf(base, sizeof base, "%s/kv_core_bench.XXXXXX", dir);
  if (!mkdtemp(base)) {
    perror(base);
    return 1;
  }
  printf("kv_core_bench: %zu commands per run, %s, 64 client sessions; change log %s\n", n,
         s_lanes ? "each client in a directory of its own" : "1000 files per directory",
         s_chlog_bytes ? "on" : "off");
  if (s_quick) { /* the create run into RocksDB, 64 per write, alone */
    s_log_t log;
    s_log_make(&log, n, 0);
    uint64_t d;
    double ops = s_run_rocks(base, "q", false, &log, n, GROUP, &d);
    printf("  create   rocksdb sync=off  %d per write : %9.0f ops/s %6.2f us cpu/op\n", GROUP, ops,
           s_cpu_us);
    s_log_free(&log);
    nftw(base, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return ops < 0;
  }
  const struct {
    const char *name;
    size_t data;
  } loads[] = {{"create", 0}, {"put 16 B", 16}};
  int run = 0;
  for (size_t l = 0; l < sizeof loads / sizeof loads[0]; l++) {
    s_log_t log;
    s_log_make(&log, n, loads[l].data);
    uint64_t dmem, d;
    char name[16];
    kv_memstore_t *ms = kv_memstore_new();
    double ops = s_run(kv_memstore_store(ms), &log, n, 1, &dmem);
    printf("  %-8s memory             1 per write : %9.0f ops/s %6.2f us cpu/op\n", loads[l].name,
           ops, s_cpu_us);
    kv_memstore_destroy(&ms);
    ms = kv_memstore_new();
    ops = s_run(kv_memstore_store(ms), &log, n, GROUP, &d);
    printf("  %-8s memory            %d per write : %9.0f ops/s %6.2f us cpu/op%s\n",
           loads[l].name, GROUP, ops, s_cpu_us, d == dmem ? "" : "  DIGEST MISMATCH");
    kv_memstore_destroy(&ms);
    snprintf(name, sizeof name, "r%d", run++);
    ops = s_run_rocks(base, name, false, &log, n, 1, &d);
    printf("  %-8s rocksdb sync=off   1 per write : %9.0f ops/s %6.2f us cpu/op%s\n",
           loads[l].name, ops, s_cpu_us, d == dmem ? "" : "  DIGEST MISMATCH");
    snprintf(name, sizeof name, "r%d", run++);
    s_rm_after = l == 0;
    ops = s_run_rocks(base, name, false, &log, n, GROUP, &d);
    s_rm_after = false;
    printf("  %-8s rocksdb sync=off  %d per write : %9.0f ops/s %6.2f us cpu/op%s\n",
           loads[l].name, GROUP, ops, s_cpu_us, d == dmem ? "" : "  DIGEST MISMATCH");
    size_t ns = n < 20000 ? n : 20000;
    snprintf(name, sizeof name, "r%d", run++);
    ops = s_run_rocks(base, name, true, &log, ns, GROUP, &d);
    printf("  %-8s rocksdb sync=on   %d per write : %9.0f ops/s (first %zu)\n", loads[l].name,
           GROUP, ops, ns);
    snprintf(name, sizeof name, "r%d", run++);
    ops = s_run_rocks(base, name, true, &log, ns / 20, 1, &d);
    printf("  %-8s rocksdb sync=on    1 per write : %9.0f ops/s (first %zu)\n", loads[l].name, ops,
           ns / 20);
    s_log_free(&log);
  }
  int rc = big ? s_big_dir(base, big) : 0;
  nftw(base, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
  return rc;
}
