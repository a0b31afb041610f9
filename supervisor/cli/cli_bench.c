/* raftvisor bench: throughput and latency of the namespace as clients see it (a report, not a
 * test). N concurrent clients, closed loop (each starts its next operation when the previous
 * one returns), driven from one thread through librvclient's asynchronous interface (one lane,
 * and so one session, per client). A progress line while it runs; then ops/s and latency
 * percentiles per run, as text or one JSON object per line. bulk-load builds a namespace of a
 * given shape (directories x files) as fast as the cluster takes it, then times -count on it. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_auth.h"
#include "rv_client.h"
#include "rv_log.h"

/* --cpu: processes whose CPU time (user + system) is sampled at the start and the end of each
 * measured run, and reported per operation, summed by name (three raft-peers are one figure). */
#define S_CPU_MAX 48
#define S_CPU_NAME_MAX 32
typedef struct {
  char name[S_CPU_NAME_MAX];
  int pid;
  int64_t t0_us; /* at the start of the measured run; -1: unreadable */
} s_cpu_t;

typedef enum { W_CREATE, W_CREATE_SMALL, W_MKDIR, W_STAT, W_LS, W_MIXED, W_BULK } s_workload_t;
static const char *s_names[] = {"create", "create-small", "mkdir", "stat", "ls", "mixed",
                                "bulk-load"};

typedef struct {
  rv_client_t *client;
  s_workload_t w;
  long clients;
  double seconds;
  long ops_limit;
  double rate;                /* --rate: operations started per second (0: closed loop) */
  size_t size;
  bool stale, json;
  char root[256];             /* this run's directory */
  uint8_t payload[65536];
  uint64_t *lat;              /* latencies (µs) of completed operations */
  size_t nlat, cap;
  uint64_t errors;
  uint64_t done_all;          /* operations completed in the run, warm-up included */
  int first_error;
  char first_error_msg[RV_CLIENT_MSG_MAX];
  uint64_t *counter;          /* per lane: operations started */
  long stat_files;            /* files pre-created for stat/ls/mixed */
  long dirs, files;           /* bulk-load shape */
  uint64_t next_bulk;         /* bulk-load: next file number */
  bool tty;                   /* stderr is a terminal: progress rewritten in place */
  bool unreachable;           /* set-up found no node reachable (exit 3, as fs does) */
  s_cpu_t cpu[S_CPU_MAX];     /* --cpu NAME=PID,... */
  int ncpu;
  int64_t self_t0_us;         /* this process's CPU time at the start of the measured run */
} s_bench_t;

static void s_help(void) {
  printf(
      "usage: raftvisor bench (-c FILE | --nodes HOST:PORT,...) [--workload W] [--clients N,...]\n"
      "                       [--seconds S | --ops N] [--rate N] [--size BYTES] [--stale] [--json]\n"
      "                       [--cpu NAME=PID,...]\n"
      "       raftvisor bench (-c FILE | --nodes ...) --workload bulk-load --dirs D --files F\n"
      "                       [--clients N] [--json]\n"
      "Measures the namespace as clients see it: N clients, each starting its next operation\n"
      "when the previous one returns. Prints a progress line, then per run: ops/s, latency p50,\n"
      "p99, p99.9 and max, errors.\n"
      "workloads:\n"
      "  create        empty files (default)       create-small  files of --size bytes (256)\n"
      "  mkdir         directories                 stat          stat of existing files\n"
      "  ls            listing a 100-entry dir      mixed         70%% stat, 20%% create, 10%% cat\n"
      "  bulk-load     D directories holding F files in all, then -count of them, timed\n"
      "options:\n"
      "  --clients N,...  concurrent clients, one run each (default 1,16,64)\n"
      "  --seconds S      length of each run (default 10), after a 1 s warm-up\n"
      "  --ops N          or: stop each run after N operations\n"
      "  --rate N         paced: start N operations per second in all (at most --clients in\n"
      "                   flight; when all are busy the schedule slips and ops/s shows it);\n"
      "                   default: closed loop, as fast as the clients go\n"
      "  --stale          reads without ReadIndex (served by the contacted node)\n"
      "  --retry MS       give an operation up after this long (default 30000)\n"
      "  --key FILE       the client's CURVE key pair (default $RV_CLIENT_KEY, else the YAML's\n"
      "                   security.client-key)\n"
      "  --server-key HOST:PORT=KEY,...  the nodes' public keys (with --nodes; default\n"
      "                   $RV_SERVER_KEYS; with -c: the YAML's, these added)\n"
      "  --cpu NAME=PID,...  CPU time (user + system, /proc/PID/stat) of these processes over\n"
      "                   each measured run, reported in microseconds per operation, summed by\n"
      "                   NAME, with this client process's own as \"client\"\n"
      "  --json           one JSON object per run: workload, clients, ops, ops_per_s, p50_us,\n"
      "                   p99_us, p999_us, max_us, errors, seconds, ops_all (completed\n"
      "                   operations, warm-up and errors included), loadavg (1 min, at the end),\n"
      "                   and with --cpu, cpu_us_per_op {NAME: us, ..., client: us}\n"
      "Exit codes: 0 ok, 1 failure (e.g. no quorum, or every operation failed), 2 usage error,\n"
      "3 no node of the cluster could be reached (as raftvisor fs).\n");
}

static int s_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Builds the request a lane runs next into req, with its path in buf. */
static void s_next(s_bench_t *b, unsigned lane, rv_client_req_t *req, char *buf, size_t len,
                   char *buf2, size_t len2) {
  uint64_t i = b->counter[lane]++;
  memset(req, 0, sizeof *req);
  s_workload_t w = b->w;
  if (w == W_MIXED) {
    unsigned r = (unsigned)(i * 2654435761u + lane * 40503u) % 10;
    w = r < 7 ? W_STAT : r < 9 ? W_CREATE_SMALL : W_LS;
    if (w == W_LS) {
      req->op = RV_CLIENT_CAT;
      snprintf(buf, len, "%s/pre/f%" PRIu64, b->root, (i * 7919u + lane) % (uint64_t)b->stat_files);
      req->path = buf;
      req->flags = b->stale ? RV_CLIENT_STALE : 0;
      return;
    }
  }
  switch (w) {
    case W_CREATE:
    case W_CREATE_SMALL:
      snprintf(buf, len, "%s/c%u/f%" PRIu64, b->root, lane, i);
      req->op = RV_CLIENT_PUT;
      req->path = buf;
      req->data = b->payload;
      req->len = w == W_CREATE_SMALL || b->w == W_MIXED ? b->size : 0;
      break;
    case W_MKDIR:
      snprintf(buf, len, "%s/c%u/d%" PRIu64, b->root, lane, i);
      req->op = RV_CLIENT_MKDIR;
      req->path = buf;
      break;
    case W_STAT:
      snprintf(buf, len, "%s/pre/f%" PRIu64, b->root, (i * 7919u + lane) % (uint64_t)b->stat_files);
      req->op = RV_CLIENT_STAT;
      req->path = buf;
      req->flags = b->stale ? RV_CLIENT_STALE : 0;
      break;
    case W_LS:
      snprintf(buf, len, "%s/pre", b->root);
      req->op = RV_CLIENT_LS;
      req->path = buf;
      req->flags = b->stale ? RV_CLIENT_STALE : 0;
      break;
    case W_BULK: {
      uint64_t f = b->next_bulk++;
      snprintf(buf, len, "%s/d%" PRIu64 "/f%" PRIu64, b->root, f % (uint64_t)b->dirs, f);
      req->op = RV_CLIENT_PUT;
      req->path = buf;
      req->data = b->payload;
      req->len = b->size;
      break;
    }
    default: break;
  }
  (void)buf2;
  (void)len2;
}

/* Runs one operation synchronously, failing loudly: set-up must succeed. */
static int s_setup_op(s_bench_t *b, rv_client_req_t *req) {
  rv_client_result_t r = {0};
  int rc = rv_client_call(b->client, req, &r);
  /* as raftvisor fs: no node reachable at all is "not running" (exit 3) */
  if (rc == RV_ETIMEDOUT && r.attempts == 0) b->unreachable = true;
  if (rc && rc != RV_EEXIST)
    fprintf(stderr, "raftvisor bench: set-up %s: %s%s\n", req->path, r.msg,
            b->unreachable ? "; is the cluster running?" : "");
  rv_client_result_clear(&r);
  return rc == RV_EEXIST ? RV_OK : rc;
}

/* Makes the run's directories (and the files stat/ls/mixed read), pipelined. */
static int s_prepare(s_bench_t *b, long lanes) {
  rv_client_req_t req = {.op = RV_CLIENT_MKDIR, .flags = RV_CLIENT_PARENTS};
  char path[512];
  snprintf(path, sizeof path, "%s/pre", b->root);
  req.path = path;
  if (s_setup_op(b, &req)) return RV_EIO;
  long ndirs = b->w == W_BULK ? b->dirs : lanes;
  long nfiles = b->w == W_STAT || b->w == W_LS || b->w == W_MIXED ? b->stat_files : 0;
  long total = ndirs + nfiles, done = 0, sent = 0;
  uint64_t last = rv_mono_ms();
  while (done < total) {
    while (sent < total) {
      rv_client_req_t r = {0};
      if (sent < ndirs) {
        snprintf(path, sizeof path, "%s/%s%ld", b->root, b->w == W_BULK ? "d" : "c", sent);
        r.op = RV_CLIENT_MKDIR;
      } else {
        snprintf(path, sizeof path, "%s/pre/f%ld", b->root, sent - ndirs);
        r.op = RV_CLIENT_PUT;
        r.data = b->payload;
        r.len = b->size;
      }
      r.path = path;
      rv_err_t err;
      if (rv_client_submit(b->client, &r, (uint64_t)sent, &err) != RV_OK) break;
      sent++;
    }
    rv_client_result_t res = {0};
    if (rv_client_poll(b->client, 1000, &res) == RV_OK) {
      if (res.code && res.code != RV_EEXIST) {
        fprintf(stderr, "raftvisor bench: set-up failed: %s\n", res.msg);
        rv_client_result_clear(&res);
        return RV_EIO;
      }
      done++;
    }
    rv_client_result_clear(&res);
    if (!b->json && rv_mono_ms() - last >= (b->tty ? 1000u : 5000u)) {
      fprintf(stderr, "  set-up: %ld/%ld%s", done, total, b->tty ? "\r" : "\n");
      last = rv_mono_ms();
    }
  }
  return RV_OK;
}

/* CPU time (user + system) of pid in µs, from /proc/PID/stat; -1 when it cannot be read (the
 * process is gone). Fields 14 and 15 follow the command name, which may hold spaces: parse
 * after its last ')'. */
static int64_t s_proc_cpu_us(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')');
  unsigned long long ut, st;
  /* after ')': state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime */
  if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return -1;
  long hz = sysconf(_SC_CLK_TCK);
  return (int64_t)((ut + st) * 1000000ull / (unsigned long long)(hz > 0 ? hz : 100));
}

static int64_t s_self_cpu_us(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
         (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

/* Parses --cpu NAME=PID,...; returns false on a malformed list. */
static bool s_cpu_parse(s_bench_t *b, const char *list) {
  for (const char *p = list; *p;) {
    const char *eq = strchr(p, '='), *comma = strchr(p, ',');
    if (!comma) comma = p + strlen(p);
    if (!eq || eq > comma || eq == p || (size_t)(eq - p) >= S_CPU_NAME_MAX || b->ncpu == S_CPU_MAX)
      return false;
    char *end;
    long pid = strtol(eq + 1, &end, 10);
    if (end != comma || pid <= 0 || pid > 4194304) return false;
    s_cpu_t *c = &b->cpu[b->ncpu++];
    memcpy(c->name, p, (size_t)(eq - p));
    c->name[eq - p] = '\0';
    c->pid = (int)pid;
    p = *comma ? comma + 1 : comma;
  }
  return b->ncpu > 0;
}

static void s_cpu_begin(s_bench_t *b) {
  for (int i = 0; i < b->ncpu; i++) b->cpu[i].t0_us = s_proc_cpu_us(b->cpu[i].pid);
  b->self_t0_us = s_self_cpu_us();
}

/* Writes the CPU per operation since s_cpu_begin, by name (first-seen order), as JSON members
 * ("name":us, ... ,"client":us) or text ("name us, ..."); a name with a process that could not
 * be read at either end (restarted, gone) is null / "?". */
static void s_cpu_end(s_bench_t *b, size_t ops, bool json, char *out, size_t len) {
  size_t w = 0;
  out[0] = '\0';
  if (!b->ncpu) return;
  int64_t now[S_CPU_MAX];
  for (int i = 0; i < b->ncpu; i++) now[i] = s_proc_cpu_us(b->cpu[i].pid);
  int64_t self = s_self_cpu_us();
  double n = ops ? (double)ops : 1;
  for (int i = 0; i <= b->ncpu && w < len; i++) {
    const char *name = i < b->ncpu ? b->cpu[i].name : "client";
    bool seen = false, bad = false;
    int64_t sum = 0;
    if (i < b->ncpu) {
      for (int k = 0; k < i && !seen; k++) seen = !strcmp(b->cpu[k].name, name);
      if (seen) continue;
      for (int k = i; k < b->ncpu; k++) {
        if (strcmp(b->cpu[k].name, name)) continue;
        if (b->cpu[k].t0_us < 0 || now[k] < 0) bad = true;
        else sum += now[k] - b->cpu[k].t0_us;
      }
    } else {
      bad = b->self_t0_us < 0 || self < 0;
      sum = self - b->self_t0_us;
    }
    const char *sep = w ? ", " : "";
    if (json) sep = w ? "," : "";
    int k;
    if (bad) k = json ? snprintf(out + w, len - w, "%s\"%s\":null", sep, name)
                      : snprintf(out + w, len - w, "%s%s ?", sep, name);
    else k = json ? snprintf(out + w, len - w, "%s\"%s\":%.1f", sep, name, (double)sum / n)
                  : snprintf(out + w, len - w, "%s%s %.1f", sep, name, (double)sum / n);
    if (k < 0) break;
    w += (size_t)k;
  }
  if (w >= len) out[len - 1] = '\0';
}

static double s_loadavg(void) {
  double l[1];
  return getloadavg(l, 1) == 1 ? l[0] : -1;
}

static void s_report(s_bench_t *b, double secs, long clients) {
  qsort(b->lat, b->nlat, sizeof *b->lat, s_cmp);
  size_t n = b->nlat;
  uint64_t p50 = n ? b->lat[n / 2] : 0, p99 = n ? b->lat[(size_t)((double)n * 0.99)] : 0,
           p999 = n ? b->lat[(size_t)((double)n * 0.999)] : 0, max = n ? b->lat[n - 1] : 0;
  double rate = secs > 0 ? (double)n / secs : 0;
  char cpu[S_CPU_MAX * (S_CPU_NAME_MAX + 16) + 64];
  s_cpu_end(b, n, b->json, cpu, sizeof cpu);
  if (b->json) {
    printf("{\"workload\":\"%s\",\"clients\":%ld,\"ops\":%zu,\"ops_per_s\":%.0f,\"p50_us\":%" PRIu64
           ",\"p99_us\":%" PRIu64 ",\"p999_us\":%" PRIu64 ",\"max_us\":%" PRIu64
           ",\"errors\":%" PRIu64 ",\"seconds\":%.2f,\"ops_all\":%" PRIu64
           ",\"loadavg\":%.2f%s%s%s}\n",
           s_names[b->w], clients, n, rate, p50, p99, p999, max, b->errors, secs, b->done_all,
           s_loadavg(), b->ncpu ? ",\"cpu_us_per_op\":{" : "", cpu, b->ncpu ? "}" : "");
  } else {
    if (b->tty) fprintf(stderr, "\r%*s\r", 60, "");
    printf("%-12s clients %-4ld %9.0f ops/s  p50 %7.2f ms  p99 %7.2f ms  p99.9 %7.2f ms  max "
           "%7.2f ms  errors %" PRIu64 "\n",
           s_names[b->w], clients, rate, (double)p50 / 1000, (double)p99 / 1000,
           (double)p999 / 1000, (double)max / 1000, b->errors);
    if (b->errors) printf("  first error: %s (%s)\n", b->first_error_msg, rv_code_name(b->first_error));
    if (b->ncpu) printf("  CPU us per operation: %s\n", cpu);
  }
  fflush(stdout);
}

/* One closed-loop run with `clients` lanes; returns operations completed. */
static size_t s_run(s_bench_t *b, long clients, bool warm) {
  b->nlat = 0;
  b->errors = 0;
  b->done_all = 0;
  b->first_error = 0;
  char paths[2][512];
  uint64_t start = rv_mono_us(), measure_from = start + (warm ? 1000000u : 0);
  uint64_t end = b->ops_limit || b->w == W_BULK ? UINT64_MAX
                                               : measure_from + (uint64_t)(b->seconds * 1e6);
  uint64_t last = rv_mono_ms();
  size_t last_n = 0;                 /* bulk-load: files loaded at the last progress line */
  uint64_t last_us = rv_mono_us();
  long started = 0;
  bool measuring = !warm;
  uint64_t t0 = measure_from;
  if (measuring) s_cpu_begin(b);
  double slot_us = b->rate > 0 ? 1e6 / b->rate : 0; /* --rate: one start per slot */
  for (;;) {
    uint64_t now = rv_mono_us();
    /* paced: the starts the schedule allows by now (a slipped schedule does not burst more
     * than the clients in flight allow) */
    long allowed = slot_us > 0 ? (long)((double)(now - start) / slot_us) + 1 : LONG_MAX;
    if (!measuring && now >= measure_from) {
      measuring = true;
      b->nlat = 0;
      b->errors = 0;
      t0 = now;
      s_cpu_begin(b);
    }
    bool stop = now >= end || (b->ops_limit && started >= b->ops_limit) ||
                (b->w == W_BULK && b->next_bulk >= (uint64_t)b->files);
    while (!stop && started < allowed && (long)rv_client_inflight(b->client) < clients) {
      rv_client_req_t req;
      unsigned lane = (unsigned)(started % clients);
      s_next(b, lane, &req, paths[0], sizeof paths[0], paths[1], sizeof paths[1]);
      rv_err_t err;
      if (rv_client_submit(b->client, &req, (uint64_t)lane, &err) != RV_OK) {
        b->counter[lane]--; /* not started: its name is used by the next attempt */
        if (b->w == W_BULK) b->next_bulk--;
        break;
      }
      started++;
      if ((b->ops_limit && started >= b->ops_limit) ||
          (b->w == W_BULK && b->next_bulk >= (uint64_t)b->files))
        break;
    }
    if (stop && rv_client_inflight(b->client) == 0) break;
    rv_client_result_t res = {0};
    int wait_ms = slot_us > 0 ? 1 : 100; /* paced: wake up for the next slot */
    if (rv_client_poll(b->client, wait_ms, &res) == RV_OK) {
      b->done_all++;
      if (res.code) {
        if (!b->errors) {
          b->first_error = res.code;
          snprintf(b->first_error_msg, sizeof b->first_error_msg, "%s", res.msg);
        }
        b->errors++;
      } else if (measuring && b->nlat < b->cap) {
        b->lat[b->nlat++] = res.latency_us;
      }
    }
    rv_client_result_clear(&res);
    /* progress: rewritten in place on a terminal; one line every 5 s into a pipe or file. A bulk
     * load into a pipe or file (--json too, on stderr) prints one line every 10 s with the rate
     * over those 10 s, so that a slowdown as the store grows shows. */
    if (b->w == W_BULK && !b->tty && measuring && rv_mono_ms() - last >= 10000u) {
      last = rv_mono_ms();
      uint64_t now_us = rv_mono_us();
      fprintf(stderr, "  bulk-load: %.0f s: %zu/%ld files, %.0f files/s over the last %.0f s\n",
              (double)(now_us - t0) / 1e6, b->nlat, b->files,
              (double)(b->nlat - last_n) * 1e6 / (double)(now_us - last_us),
              (double)(now_us - last_us) / 1e6);
      last_n = b->nlat;
      last_us = now_us;
    } else if (!b->json && !(b->w == W_BULK && !b->tty) &&
               rv_mono_ms() - last >= (b->tty ? 1000u : 5000u)) {
      last = rv_mono_ms();
      const char *eol = b->tty ? "   \r" : "\n";
      double secs = measuring ? (double)(rv_mono_us() - t0) / 1e6 : 0;
      if (!measuring)
        fprintf(stderr, "  %s, %ld clients: warming up%s", s_names[b->w], clients, eol);
      else if (b->w == W_BULK)
        fprintf(stderr, "  bulk-load: %zu/%ld files, %.0f files/s%s", b->nlat, b->files,
                secs > 0 ? (double)b->nlat / secs : 0, eol);
      else
        fprintf(stderr, "  %s, %ld clients: %.0f s, %zu ops, %.0f ops/s%s", s_names[b->w],
                clients, secs, b->nlat, secs > 0 ? (double)b->nlat / secs : 0, eol);
    }
  }
  if (!b->json && b->tty) fprintf(stderr, "%78s\r", "");
  double secs = (double)(rv_mono_us() - t0) / 1e6;
  s_report(b, secs, clients);
  return b->nlat;
}

int cli_bench_main(int argc, char **argv) {
  static s_bench_t bench;
  s_bench_t *b = &bench;
  const char *config = NULL, *nodes = NULL, *clients_list = NULL, *workload = "create";
  const char *key = NULL, *server_key = NULL;
  long retry_ms = 30000;
  b->seconds = 10;
  b->size = 256;
  b->stat_files = 1000;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool v = i + 1 < argc;
    char *end = NULL;
    if (cli_is_help(a)) {
      s_help();
      return CLI_OK;
    } else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && v) {
      config = argv[++i];
    } else if (strcmp(a, "--nodes") == 0 && v) {
      nodes = argv[++i];
    } else if (strcmp(a, "--key") == 0 && v) {
      key = argv[++i];
    } else if (strcmp(a, "--server-key") == 0 && v) {
      server_key = argv[++i];
    } else if (strcmp(a, "--workload") == 0 && v) {
      workload = argv[++i];
    } else if (strcmp(a, "--clients") == 0 && v) {
      clients_list = argv[++i];
    } else if (strcmp(a, "--seconds") == 0 && v) {
      b->seconds = strtod(argv[++i], &end);
      if (*end || b->seconds <= 0 || b->seconds > 86400)
        return cli_usage_error("bench", "--seconds expects 0 < S <= 86400, got \"%s\"", argv[i]);
    } else if (strcmp(a, "--rate") == 0 && v) {
      b->rate = strtod(argv[++i], &end);
      if (*end || b->rate < 1 || b->rate > 1e6)
        return cli_usage_error("bench", "--rate expects 1..1000000 operations/s, got \"%s\"",
                               argv[i]);
    } else if (strcmp(a, "--ops") == 0 && v) {
      b->ops_limit = strtol(argv[++i], &end, 10);
      if (*end || b->ops_limit <= 0)
        return cli_usage_error("bench", "--ops expects a positive integer, got \"%s\"", argv[i]);
    } else if (strcmp(a, "--size") == 0 && v) {
      long s = strtol(argv[++i], &end, 10);
      if (*end || s < 0 || s > (long)sizeof b->payload)
        return cli_usage_error("bench", "--size expects 0..%zu bytes, got \"%s\"", sizeof b->payload,
                               argv[i]);
      b->size = (size_t)s;
    } else if (strcmp(a, "--dirs") == 0 && v) {
      b->dirs = strtol(argv[++i], &end, 10);
      if (*end || b->dirs <= 0 || b->dirs > 10000000)
        return cli_usage_error("bench", "--dirs expects 1..10000000, got \"%s\"", argv[i]);
    } else if (strcmp(a, "--files") == 0 && v) {
      b->files = strtol(argv[++i], &end, 10);
      if (*end || b->files <= 0 || b->files > 1000000000)
        return cli_usage_error("bench", "--files expects 1..1000000000, got \"%s\"", argv[i]);
    } else if (strcmp(a, "--retry") == 0 && v) {
      retry_ms = strtol(argv[++i], &end, 10);
      if (*end || retry_ms < 100 || retry_ms > 3600000)
        return cli_usage_error("bench", "--retry expects 100..3600000 ms, got \"%s\"", argv[i]);
    } else if (strcmp(a, "--cpu") == 0 && v) {
      if (!s_cpu_parse(b, argv[++i]))
        return cli_usage_error("bench", "--cpu expects NAME=PID,... (at most %d), got \"%s\"",
                               S_CPU_MAX, argv[i]);
    } else if (strcmp(a, "--stale") == 0) {
      b->stale = true;
    } else if (strcmp(a, "--json") == 0) {
      b->json = true;
    } else {
      return cli_usage_error("bench", "unexpected argument \"%s\"", a);
    }
  }
  b->tty = isatty(STDERR_FILENO);
  int w = -1;
  for (int k = 0; k < (int)(sizeof s_names / sizeof s_names[0]); k++)
    if (strcmp(workload, s_names[k]) == 0) w = k;
  if (w < 0) return cli_usage_error("bench", "unknown workload \"%s\"", workload);
  b->w = (s_workload_t)w;
  if (!config == !nodes) return cli_usage_error("bench", "give either -c FILE or --nodes HOST:PORT,...");
  if (b->w == W_BULK && (!b->dirs || !b->files))
    return cli_usage_error("bench", "bulk-load needs --dirs D and --files F");
  if (!clients_list) clients_list = b->w == W_BULK ? "64" : "1,16,64";
  long clients[16];
  int nclients = 0;
  for (const char *p = clients_list; *p && nclients < 16;) {
    char *end;
    long c = strtol(p, &end, 10);
    if (end == p || c <= 0 || c > RV_CLIENT_LANES_MAX)
      return cli_usage_error("bench", "--clients expects numbers in 1..%d, e.g. 1,16,64",
                             RV_CLIENT_LANES_MAX);
    clients[nclients++] = c;
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') return cli_usage_error("bench", "--clients: bad list \"%s\"", clients_list);
  }
  char list[2048];
  cfg_node_t *cfg = NULL;
  if (config) {
    int rc = cli_load_config(config, &cfg);
    if (rc) return rc;
    cli_cluster_nodes(cfg, list, sizeof list);
    nodes = list;
  }
  long maxc = 0;
  for (int k = 0; k < nclients; k++)
    if (clients[k] > maxc) maxc = clients[k];
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  o.lanes = (unsigned)maxc;
  o.retry_ms = (int)retry_ms;
  static cli_auth_t auth;
  if (cli_auth_load("bench", cfg, key, server_key, &auth, &o)) {
    cfg_node_destroy(&cfg);
    return CLI_FAILURE;
  }
  rv_err_t err;
  int rc = rv_client_new(nodes, &o, &b->client, &err);
  cfg_node_destroy(&cfg);
  if (rc) return rc == RV_EINVAL ? cli_usage_error("bench", "--nodes: %s", err.msg) : CLI_FAILURE;
  for (size_t k = 0; k < sizeof b->payload; k++) b->payload[k] = (uint8_t)('a' + k % 26);
  b->cap = 20u << 20;
  b->lat = malloc(b->cap * sizeof *b->lat);
  b->counter = calloc(RV_CLIENT_LANES_MAX, sizeof *b->counter);
  snprintf(b->root, sizeof b->root, "/bench/%s-%d-%llu", s_names[b->w], (int)getpid(),
           (unsigned long long)rv_wall_us() / 1000000u);
  int code = CLI_OK;
  if (!b->json)
    printf("raftvisor bench: %s, nodes %s, %s\n", s_names[b->w], nodes,
           b->w == W_BULK ? "bulk load" : b->ops_limit ? "fixed op count" : "timed runs");
  fflush(stdout); /* before any set-up error on stderr */
  if (s_prepare(b, maxc) != RV_OK) {
    code = b->unreachable ? CLI_NOT_RUNNING : CLI_FAILURE;
    goto out;
  }
  if (b->w == W_BULK) {
    uint64_t t = rv_mono_us();
    size_t ok = s_run(b, clients[0], false);
    double load_s = (double)(rv_mono_us() - t) / 1e6;
    rv_client_result_t res = {0};
    t = rv_mono_us();
    rc = rv_client_count(b->client, b->root, 0, &res);
    double count_ms = (double)(rv_mono_us() - t) / 1e3;
    if (b->json)
      printf("{\"workload\":\"bulk-load-summary\",\"dirs\":%ld,\"files\":%ld,\"loaded\":%zu,"
             "\"load_seconds\":%.2f,\"count_ms\":%.2f,\"count_dirs\":%" PRIu64
             ",\"count_files\":%" PRIu64 "}\n",
             b->dirs, b->files, ok, load_s, count_ms, res.dirs, res.files);
    else
      printf("bulk-load: %ld directories, %zu files in %.1f s; -count %s: %" PRIu64
             " dirs, %" PRIu64 " files in %.1f ms\n",
             b->dirs, ok, load_s, b->root, res.dirs, res.files, count_ms);
    if (rc) {
      fprintf(stderr, "raftvisor bench: -count %s: %s\n", b->root, res.msg);
      code = CLI_FAILURE;
    }
    rv_client_result_clear(&res);
  } else {
    for (int k = 0; k < nclients; k++) {
      /* --ops N: N operations counted, no warm-up (a warm-up second could take all N, and
       * the run would report none) */
      size_t ok = s_run(b, clients[k], !b->ops_limit);
      if (ok == 0 && b->errors) code = CLI_FAILURE;
    }
  }
out:
  rv_client_destroy(&b->client);
  free(b->lat);
  free(b->counter);
  return code;
}
