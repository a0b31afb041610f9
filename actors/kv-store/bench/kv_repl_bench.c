/* kv_repl_bench: what serving the off-cluster replica's pages costs, per row, and which way of
 * reading the post-images is cheapest. Not a test.
 *
 *   kv_repl_bench [N] [--dir DIR] [--rounds R] [--flush]
 *
 * Builds a RocksDB store as the actor does under `raftvisor bench --workload create`: N creates
 * by 64 clients, each in its own directory (/bench/c<lane>/f<i>, round-robin), applied 64 per
 * write with the change log on (uncapped). Then reads the whole backlog as the replicator asks
 * for it: ReplChanges pages (1 MiB, 10,000 rows) after index 0 from one view, with each way of
 * reading the post-images (kv_rocks_read_t: one Get per key, RocksDB's MultiGet, an iterator walk
 * in key order; Get and the walk also without caching the blocks they read, marked *), rotated R times (default 3) so that a noisy host hurts every way alike; then a
 * base copy (4 MiB pages). Per way: thread CPU us per row (the least noisy figure) and per page,
 * the slowest page's CPU and wall time, and for the walk its seeks and nexts. Every way must
 * serve the same rows (a hash of them is compared). --flush flushes the memtables first (every
 * post-image then comes from SST files). The store lives in a fresh directory under DIR
 * (default /tmp), removed afterwards. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv_chlog.h"
#include "kv_core.h"
#include "kv_rocks.h"
#include "kv_testutil.h"

#define LANES 64
#define GROUP 64

static double s_clock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int s_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(p);
}

typedef struct {
  uint64_t h;
  size_t rows, bytes;
} s_acc_t;

static int s_row(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_acc_t *a = arg;
  a->h = kv_digest_pair(a->h, KV_DIGEST_ALL, k, kl, v ? v : (const uint8_t *)"", v ? vl : 0);
  a->rows++;
  a->bytes += kl + vl;
  return 0;
}

typedef struct {
  const char *name;
  double cpu, page_cpu_max, page_wall_max;
  size_t rows, pages;
  uint64_t seeks, steps, h;
} s_stat_t;

/* One page's CPU and wall time, added to the stat. */
typedef struct {
  double c0, w0;
} s_page_timer_t;

static void s_page_start(s_page_timer_t *pt) {
  pt->c0 = s_clock(CLOCK_THREAD_CPUTIME_ID);
  pt->w0 = s_clock(CLOCK_MONOTONIC);
}

static void s_page_end(const s_page_timer_t *pt, s_stat_t *st) {
  double c = s_clock(CLOCK_THREAD_CPUTIME_ID) - pt->c0, w = s_clock(CLOCK_MONOTONIC) - pt->w0;
  st->cpu += c;
  if (c > st->page_cpu_max) st->page_cpu_max = c;
  if (w > st->page_wall_max) st->page_wall_max = w;
  st->pages++;
}

/* Every page of the changes after 0, read with `read`; adds to st. */
static int s_changes(kv_rocks_t *r, kv_rocks_read_t read, bool fill, s_stat_t *st) {
  kv_rocks_view_t *v;
  rv_err_t err;
  kv_chlog_info_t info;
  kv_chlog_cursor_t cur;
  if (kv_rocks_view_new(r, &v, &err) || kv_chlog_view_info(kv_rocks_view_store(v), &info, &err) ||
      kv_chlog_changes_begin(&info, 0, &cur, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  kv_rocks_view_set_read(v, read, fill);
  kv_chlog_limits_t lim = {.max_bytes = 1u << 20, .max_rows = 10000};
  s_acc_t acc = {.h = KV_FNV64_INIT};
  s_page_timer_t pt;
  while (!cur.done) {
    size_t n, bytes;
    s_page_start(&pt);
    if (kv_chlog_changes_next(kv_rocks_view_store(v), &cur, &lim, s_row, &acc, &n, &bytes,
                              &err)) {
      fprintf(stderr, "%s\n", err.msg);
      return 1;
    }
    s_page_end(&pt, st);
  }
  uint64_t seeks, steps;
  kv_rocks_view_counts(v, &seeks, &steps);
  st->seeks += seeks;
  st->steps += steps;
  st->rows += acc.rows;
  if (st->h && st->h != acc.h) {
    fprintf(stderr, "%s: the rows differ from one round to the next\n", st->name);
    return 1;
  }
  st->h = acc.h;
  kv_rocks_view_destroy(&v);
  return 0;
}

static int s_base(kv_rocks_t *r, s_stat_t *st) {
  kv_rocks_view_t *v;
  rv_err_t err;
  if (kv_rocks_view_new(r, &v, &err)) return 1;
  kv_buf_t cursor;
  kv_buf_init(&cursor);
  kv_chlog_limits_t lim = {.max_bytes = 4u << 20, .max_rows = 10000};
  s_acc_t acc = {.h = KV_FNV64_INIT};
  s_page_timer_t pt;
  for (bool done = false; !done;) {
    size_t n, bytes;
    s_page_start(&pt);
    if (kv_chlog_base_next(kv_rocks_view_store(v), &cursor, &lim, s_row, &acc, &n, &bytes, &done,
                           &err)) {
      fprintf(stderr, "%s\n", err.msg);
      return 1;
    }
    s_page_end(&pt, st);
  }
  st->rows += acc.rows;
  kv_buf_close(&cursor);
  kv_rocks_view_destroy(&v);
  return 0;
}

static void s_print(const s_stat_t *st) {
  printf("  %-9s %8zu rows in %5zu pages: %.3f us/row CPU, %.1f ms/page CPU (slowest %.1f ms CPU, "
         "%.1f ms wall)",
         st->name, st->rows, st->pages, st->cpu * 1e6 / (double)(st->rows ? st->rows : 1),
         st->cpu * 1e3 / (double)(st->pages ? st->pages : 1), st->page_cpu_max * 1e3,
         st->page_wall_max * 1e3);
  if (st->seeks || st->steps)
    printf(", %.2f seeks and %.2f nexts per row", (double)st->seeks / (double)st->rows,
           (double)st->steps / (double)st->rows);
  printf("\n");
}

int main(int argc, char **argv) {
  size_t n = 200000;
  int rounds = 3;
  bool flush = false;
  const char *dir = "/tmp";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) dir = argv[++i];
    else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (strcmp(argv[i], "--flush") == 0) flush = true;
    else if (argv[i][0] != '-') n = strtoul(argv[i], NULL, 10);
    else {
      fprintf(stderr, "usage: kv_repl_bench [N] [--dir DIR] [--rounds R] [--flush]\n");
      return 2;
    }
  }
  char path[1024];
  snprintf(path, sizeof path, "%s/kv_repl_bench.XXXXXX", dir);
  if (!mkdtemp(path)) {
    perror(path);
    return 1;
  }
  char db[1100];
  snprintf(db, sizeof db, "%s/db", path);
  kv_rocks_opts_t o;
  kv_rocks_opts_default(&o);
  o.path = db;
  o.sync = false;
  kv_rocks_t *r;
  kv_core_t *core;
  rv_err_t err;
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.chlog_max_bytes = 1ull << 40;
  if (kv_rocks_new(&o, &r, &err) || kv_core_new(kv_rocks_store(r), &cfg, &core, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  /* the directories, then the creates, 64 per write */
  kv_buf_t bufs[GROUP];
  kv_entry_t ent[GROUP];
  kv_result_t res[GROUP];
  for (size_t j = 0; j < GROUP; j++) kv_buf_init(&bufs[j]);
  uint64_t index = 0, seqs[LANES] = {0};
  double t0 = s_clock(CLOCK_MONOTONIC);
  for (size_t i = 0; i < n + LANES; i += GROUP) {
    size_t k = 0;
    for (; k < GROUP && i + k < n + LANES; k++) {
      kv_t_lane_create(i + k, LANES, seqs, &bufs[k]);
      ent[k] = (kv_entry_t){++index, bufs[k].data, bufs[k].len, false};
    }
    if (kv_core_apply_batch(core, ent, k, res, &err)) {
      fprintf(stderr, "apply: %s\n", err.msg);
      return 1;
    }
    for (size_t j = 0; j < k; j++)
      if (res[j].code) {
        fprintf(stderr, "entry %llu: %s\n", (unsigned long long)ent[j].index, res[j].msg);
        return 1;
      }
  }
  for (size_t j = 0; j < GROUP; j++) kv_buf_close(&bufs[j]);
  kv_chlog_info_t info;
  kv_core_chlog_info(core, &info);
  printf("kv_repl_bench: %zu creates by %d clients in %.1f s; change log %llu bytes; load "
         "average ",
         n, LANES, s_clock(CLOCK_MONOTONIC) - t0, (unsigned long long)info.live_bytes);
  FILE *la = fopen("/proc/loadavg", "r");
  char line[64] = "?";
  if (la && fgets(line, sizeof line, la)) line[strcspn(line, " ")] = '\0';
  if (la) fclose(la);
  printf("%s%s", line, flush ? "; memtables flushed first" : "");
  if (flush && kv_rocks_flush(r, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  printf("; %llu L0 files, %llu bytes in memtables\n",
         (unsigned long long)kv_rocks_property(r, "rocksdb.num-files-at-level0"),
         (unsigned long long)kv_rocks_property(r, "rocksdb.cur-size-all-mem-tables"));
  enum { WAYS = 5 };
  s_stat_t st[WAYS] = {{.name = "get*"}, {.name = "walk*"}, {.name = "get"}, {.name = "multiget"},
                       {.name = "walk"}};
  const kv_rocks_read_t how[WAYS] = {KV_ROCKS_READ_GET, KV_ROCKS_READ_WALK, KV_ROCKS_READ_GET,
                                     KV_ROCKS_READ_MULTIGET, KV_ROCKS_READ_WALK};
  for (int round = 0; round < rounds; round++)
    for (int w = 0; w < WAYS; w++) {
      int k = (w + round) % WAYS; /* rotated: no way always goes first */
      if (s_changes(r, how[k], k >= 2, &st[k])) return 1;
    }
  for (int k = 1; k < WAYS; k++)
    if (st[k].h != st[0].h) {
      fprintf(stderr, "%s serves other rows than %s\n", st[k].name, st[0].name);
      return 1;
    }
  printf("changes after 0, pages of 1 MiB / 10,000 rows, %d rounds (* = blocks not cached):\n",
         rounds);
  for (int k = 0; k < WAYS; k++) s_print(&st[k]);
  s_stat_t base = {.name = "base copy"};
  for (int round = 0; round < rounds; round++)
    if (s_base(r, &base)) return 1;
  printf("base copy, pages of 4 MiB / 10,000 rows, %d rounds:\n", rounds);
  s_print(&base);
  kv_core_destroy(&core);
  kv_rocks_destroy(&r);
  nftw(path, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}
