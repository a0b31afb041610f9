/* rv-lin-workload: concurrent clients doing single-path namespace operations against a cluster,
 * recording every operation (call and return time, result) as a JSON-lines history for
 * rv-lincheck. Each client has at most one operation in flight (its own session), so a
 * client's operations never overlap; different clients' do. Written values are unique
 * ("c<client>-<n>"), so a read names its writer. An operation the client library gave up on
 * (RV_ETIMEDOUT: no node decided it in time), or answered RV_ESTALE (the session that would
 * tell is gone), is recorded as never returned: it may or may not have taken effect.
 * With --unique, every operation creates a new file (DIR/c<client>-<n>, never touched again):
 * a stream of writes whose acknowledged ones must all be found on every node afterwards (the
 * nemesis suite's acknowledged-writes check).
 * With --stop-file F, it also stops (takes no new operation, waits for those in flight) as soon
 * as F exists: a test ends the load when it has seen what it needs, and the history stays whole
 * (killing the workload would leave operations in flight unrecorded, which a later read could
 * then contradict).
 *   rv-lin-workload --nodes LIST --out FILE [--clients N] [--paths P] [--seconds S]
 *                   [--seed N] [--dir /lin] [--unique] [--stop-file F] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rv_client.h"

#define S_MAX_CLIENTS 256

typedef struct {
  bool busy;
  int op;              /* 0 put -f, 1 put (create), 2 cat, 3 stat, 4 rm */
  char path[128];
  char value[64];
  uint64_t call_us;
  uint64_t n;
} s_client_t;

static uint64_t s_wall_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t s_rng;
static uint64_t s_rand(void) {
  s_rng ^= s_rng << 13;
  s_rng ^= s_rng >> 7;
  s_rng ^= s_rng << 17;
  return s_rng;
}

static void s_json_str(FILE *f, const char *s, size_t len) {
  fputc('"', f);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

static const char *s_opname[] = {"put", "put", "cat", "stat", "rm"};

int main(int argc, char **argv) {
  const char *nodes = NULL, *out = NULL, *dir = "/lin", *stop_file = NULL;
  int clients = 8, paths = 8;
  bool unique = false;
  double seconds = 10;
  s_rng = 88172645463325252ull;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(o, "--nodes") == 0 && v) nodes = argv[++i];
    else if (strcmp(o, "--out") == 0 && v) out = argv[++i];
    else if (strcmp(o, "--clients") == 0 && v) clients = atoi(argv[++i]);
    else if (strcmp(o, "--paths") == 0 && v) paths = atoi(argv[++i]);
    else if (strcmp(o, "--seconds") == 0 && v) seconds = atof(argv[++i]);
    else if (strcmp(o, "--seed") == 0 && v) s_rng = strtoull(argv[++i], NULL, 10) | 1;
    else if (strcmp(o, "--dir") == 0 && v) dir = argv[++i];
    else if (strcmp(o, "--unique") == 0) unique = true;
    else if (strcmp(o, "--stop-file") == 0 && v) stop_file = argv[++i];
    else {
      fprintf(stderr, "usage: rv-lin-workload --nodes LIST --out FILE [--clients N] [--paths P] "
                      "[--seconds S] [--seed N] [--dir /lin] [--unique] [--stop-file F]\n");
      return 2;
    }
  }
  if (!nodes || !out || clients < 1 || clients > S_MAX_CLIENTS || paths < 1 || seconds <= 0) {
    fprintf(stderr, "rv-lin-workload: --nodes and --out are required; clients 1..%d\n",
            S_MAX_CLIENTS);
    return 2;
  }
  FILE *f = fopen(out, "w");
  if (!f) {
    perror(out);
    return 1;
  }
  setvbuf(f, NULL, _IOLBF, 0); /* one line per operation, visible at once: tests watch progress */
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  o.lanes = (unsigned)clients;
  o.timeout_ms = 500;
  o.retry_ms = 5000;
  rv_client_t *c;
  rv_err_t err;
  static rv_client_env_keys_t keys; /* RV_CLIENT_KEY, RV_SERVER_KEYS: a secure cluster */
  if (rv_client_opts_env(&o, &keys, &err) || rv_client_new(nodes, &o, &c, &err)) {
    fprintf(stderr, "rv-lin-workload: %s\n", err.msg);
    return 1;
  }
  rv_client_result_t res = {0};
  if (rv_client_mkdir(c, dir, RV_CLIENT_PARENTS, &res) && res.code != RV_EEXIST) {
    fprintf(stderr, "rv-lin-workload: mkdir %s: %s\n", dir, res.msg);
    return 1;
  }
  rv_client_result_clear(&res);
  static s_client_t cl[S_MAX_CLIENTS];
  uint64_t end = s_wall_us() + (uint64_t)(seconds * 1e6);
  long total = 0, never = 0;
  for (;;) {
    bool running = s_wall_us() < end && !(stop_file && access(stop_file, F_OK) == 0);
    for (int k = 0; k < clients && running; k++) {
      if (cl[k].busy) continue;
      s_client_t *x = &cl[k];
      x->op = unique ? 1 : (int)(s_rand() % 5);
      snprintf(x->value, sizeof x->value, "c%d-%" PRIu64, k, ++x->n);
      if (unique)
        snprintf(x->path, sizeof x->path, "%s/c%d-%" PRIu64, dir, k, x->n); /* = the value */
      else
        snprintf(x->path, sizeof x->path, "%s/f%d", dir, (int)(s_rand() % (uint64_t)paths));
      rv_client_req_t req = {.path = x->path};
      switch (x->op) {
        case 0: req.op = RV_CLIENT_PUT, req.flags = RV_CLIENT_OVERWRITE; break;
        case 1: req.op = RV_CLIENT_PUT; break;
        case 2: req.op = RV_CLIENT_CAT; break;
        case 3: req.op = RV_CLIENT_STAT; break;
        default: req.op = RV_CLIENT_RM;
      }
      if (x->op <= 1) {
        req.data = x->value;
        req.len = strlen(x->value);
      }
      x->call_us = s_wall_us();
      if (rv_client_submit(c, &req, (uint64_t)k, &err) != RV_OK) {
        fprintf(stderr, "rv-lin-workload: submit: %s\n", err.msg);
        return 1;
      }
      x->busy = true;
    }
    if (!running && rv_client_inflight(c) == 0) break;
    if (rv_client_poll(c, 100, &res) != RV_OK) continue;
    uint64_t ret = s_wall_us();
    s_client_t *x = &cl[res.tag];
    x->busy = false;
    total++;
    fprintf(f, "{\"client\":%" PRIu64 ",\"op\":\"%s\",\"path\":\"%s\"", res.tag, s_opname[x->op],
            x->path);
    if (x->op <= 1) fprintf(f, ",\"value\":\"%s\",\"overwrite\":%s", x->value, x->op ? "false" : "true");
    fprintf(f, ",\"call_us\":%" PRIu64, x->call_us);
    /* ESTALE: the cluster no longer knows this client's session (expired, or lost), so the
     * outcome of a write that was retried is unknown: it may have been applied before the
     * session went. Like a timeout, it is an answer that did not come. */
    if (res.code == RV_ETIMEDOUT || res.code == RV_ESTALE) {
      never++;
      fprintf(f, ",\"return_us\":null}\n");
    } else {
      fprintf(f, ",\"return_us\":%" PRIu64 ",\"result\":\"%s\"", ret,
              res.code ? rv_code_name(res.code) : "ok");
      if (res.code == RV_OK && x->op == 2) {
        fputs(",\"value_out\":", f);
        s_json_str(f, (const char *)res.content, res.len);
      } else if (res.code == RV_OK && x->op == 3) {
        fprintf(f, ",\"value_out\":\"%s\"", res.stat.dir ? "dir" : "file");
      }
      fputs("}\n", f);
    }
    rv_client_result_clear(&res);
  }
  fclose(f);
  rv_client_stats_t st = rv_client_stats(c);
  printf("rv-lin-workload: %ld operations by %d clients on %d paths, %ld never returned; %"
         PRIu64 " redirects, %" PRIu64 " timeouts, %" PRIu64 " retries\n",
         total, clients, paths, never, st.redirects, st.timeouts, st.retries);
  rv_client_destroy(&c);
  return 0;
}
