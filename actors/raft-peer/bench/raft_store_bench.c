/* rv-bench-raft-store: saves per second and save latency of raft-peer's durable log alone (a
 * report, not a test; built, not run by ctest).
 *
 * It saves the way raft-peer does: each save is one update with n entries of the given size, the
 * hard state, and must_sync (one fdatasync), and the log is compacted behind the writes every
 * compact-entries entries, as raft-peer's default raft.compact-entries does.
 *   rv-bench-raft-store [--dir D] [--seconds S] [--entries 1,64] [--size BYTES]
 *                       [--compact-entries N] [--json]
 * D (default /tmp) gets a fresh temporary folder per shape, removed afterwards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "raft_store.h"

static uint64_t s_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int s_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* One shape: n entries of size bytes per save, for seconds (after a 1 s warm-up). */
static int s_run(const char *base, double seconds, size_t n, size_t size, uint64_t compact_every,
                 int json) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/rv-bench-raft-store.XXXXXX", base);
  if (!mkdtemp(dir)) {
    perror(dir);
    return 1;
  }
  raft_store_t *s;
  rv_err_t err;
  if (raft_store_open(dir, "bench", 1, NULL, &s, &err) != RV_OK) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  uint8_t *payload = malloc(size ? size : 1);
  raft_entry_t *ents = calloc(n, sizeof *ents);
  size_t cap = 1u << 20, nlat = 0;
  uint64_t *lat = malloc(cap * sizeof *lat);
  if (!payload || !ents || !lat) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  memset(payload, 'x', size);
  raft_index_t next = 1, compacted = 0;
  uint64_t t0 = s_now_us(), warm = t0 + 1000000, end = warm + (uint64_t)(seconds * 1e6);
  uint64_t saves = 0, measured_from = 0;
  int rc = 0;
  for (uint64_t now = t0; now < end; now = s_now_us()) {
    if (!measured_from && now >= warm) {
      measured_from = now;
      saves = 0;
      nlat = 0;
    }
    for (size_t i = 0; i < n; i++)
      ents[i] = (raft_entry_t){.term = 1, .index = next + i, .type = RAFT_ENTRY_NORMAL,
                               .data = payload, .len = size};
    raft_update_t u = {0};
    u.entries = ents;
    u.n_entries = n;
    u.has_hard_state = true;
    u.hard = (raft_hard_state_t){.term = 1, .vote = 1, .commit = next - 1};
    u.must_sync = true;
    uint64_t a = s_now_us();
    if (raft_store_save(s, &u, &err) != RV_OK) {
      fprintf(stderr, "%s\n", err.msg);
      rc = 1;
      break;
    }
    uint64_t b = s_now_us();
    next += n;
    if (nlat == cap) {
      cap *= 2;
      uint64_t *bigger = realloc(lat, cap * sizeof *lat);
      if (!bigger) break;
      lat = bigger;
    }
    lat[nlat++] = b - a;
    saves++;
    if (next - 1 - compacted >= 2 * compact_every) {
      raft_snapshot_meta_t m = {.index = next - 1 - compact_every, .term = 1};
      m.conf.n_voters = 1;
      m.conf.voters[0] = 1;
      if (raft_store_compact(s, &m, &err) != RV_OK) {
        fprintf(stderr, "%s\n", err.msg);
        rc = 1;
        break;
      }
      compacted = m.index;
    }
  }
  double secs = (double)(s_now_us() - measured_from) / 1e6;
  if (rc == 0 && nlat) {
    qsort(lat, nlat, sizeof *lat, s_cmp);
    double rate = (double)saves / secs;
    uint64_t p50 = lat[nlat / 2], p99 = lat[nlat * 99 / 100], max = lat[nlat - 1];
    if (json)
      printf("{\"op\":\"raft-store-save\",\"entries_per_save\":%zu,\"entry_bytes\":%zu,"
             "\"saves_per_s\":%.0f,\"entries_per_s\":%.0f,\"p50_us\":%llu,\"p99_us\":%llu,"
             "\"max_us\":%llu}\n",
             n, size, rate, rate * (double)n, (unsigned long long)p50, (unsigned long long)p99,
             (unsigned long long)max);
    else
      printf("  %2zu entries of %zu bytes per save: %.0f saves/s (%.0f entries/s), p50 %.3f ms, "
             "p99 %.3f ms, max %.3f ms\n",
             n, size, rate, rate * (double)n, (double)p50 / 1000, (double)p99 / 1000,
             (double)max / 1000);
  }
  raft_store_close(&s);
  free(lat);
  free(ents);
  free(payload);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return rc;
}

static int s_usage(void) {
  fprintf(stderr, "usage: rv-bench-raft-store [--dir D] [--seconds S] [--entries 1,64] "
                  "[--size BYTES] [--compact-entries N] [--json]\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *base = "/tmp", *shapes = "1,64";
  double seconds = 5;
  size_t size = 100;
  uint64_t compact_every = 50000;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "--json") == 0) {
      json = 1;
      continue;
    }
    if (!v) return s_usage();
    if (strcmp(argv[i], "--dir") == 0)
      base = v;
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(v);
    else if (strcmp(argv[i], "--entries") == 0)
      shapes = v;
    else if (strcmp(argv[i], "--size") == 0)
      size = (size_t)strtoull(v, NULL, 10);
    else if (strcmp(argv[i], "--compact-entries") == 0)
      compact_every = strtoull(v, NULL, 10);
    else
      return s_usage();
    i++;
  }
  if (seconds <= 0 || compact_every == 0 || size > (64u << 20)) return s_usage();
  if (!json)
    printf("raft store benchmark: %s, %.1f s per shape, compaction every %llu entries\n", base,
           seconds, (unsigned long long)compact_every);
  for (const char *p = shapes; *p;) {
    char *endp;
    unsigned long n = strtoul(p, &endp, 10);
    if (endp == p || n == 0 || n > 100000) return s_usage();
    if (s_run(base, seconds, n, size, compact_every, json)) return 1;
    p = *endp == ',' ? endp + 1 : endp;
  }
  return 0;
}
