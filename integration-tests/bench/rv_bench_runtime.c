/* rv-bench-runtime: measures the actor runtime on a running node (a report, not a test):
 *   rtt      envelope round trip between this process and an actor over ipc, one at a time
 *            (HealthPing -> HealthPong through the full runtime: encode, send, poll, decode,
 *            dispatch, answer): p50, p99, max;
 *   pipe     round trips per second with a window of requests in flight;
 *   restart  kill -9 of the actor to its Ready (as the supervisor receives it, timed by the
 *            envelope's send time), over N kills: p50, p99, max.
 * It joins the node as a process named "bench" with its own mailbox, as any actor would.
 *   rv-bench-runtime -c FILE --actor NAME [--rtt N] [--pipe N] [--window W] [--kills N]
 *                    [--kill-gap-ms MS] [--label TEXT] [--json] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rv_actor.h"

static int s_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static uint64_t s_pct(uint64_t *v, size_t n, double p) {
  if (!n) return 0;
  size_t i = (size_t)(p * (double)(n - 1) + 0.5);
  return v[i];
}

/* Waits up to ms for one message of type `type` (from `from` unless NULL) on the inbox. */
static int s_wait(rv_mailbox_t *mb, uint32_t type, const char *from, int ms, rv_msg_t *out) {
  uint64_t deadline = rv_mono_ms() + (uint64_t)ms;
  while (rv_mono_ms() < deadline) {
    zmq_pollitem_t it = {.socket = zsock_resolve(rv_mailbox_inbox(mb)), .events = ZMQ_POLLIN};
    zmq_poll(&it, 1, 10);
    rv_msg_t m;
    while (rv_mailbox_recv(mb, &m, NULL) == RV_OK) {
      if (m.type == type && (!from || strcmp(m.from.actor, from) == 0)) {
        *out = m;
        return 0;
      }
      rv_msg_clear(&m);
    }
  }
  return -1;
}

int main(int argc, char **argv) {
  const char *config = NULL, *actor = "a1", *label = "";
  long rtt_n = 2000, pipe_n = 50000, window = 64, kills = 0, kill_gap_ms = 300;
  bool json = false;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(o, "-c") == 0 && v) config = argv[++i];
    else if (strcmp(o, "--actor") == 0 && v) actor = argv[++i];
    else if (strcmp(o, "--rtt") == 0 && v) rtt_n = atol(argv[++i]);
    else if (strcmp(o, "--pipe") == 0 && v) pipe_n = atol(argv[++i]);
    else if (strcmp(o, "--window") == 0 && v) window = atol(argv[++i]);
    else if (strcmp(o, "--kills") == 0 && v) kills = atol(argv[++i]);
    else if (strcmp(o, "--kill-gap-ms") == 0 && v) kill_gap_ms = atol(argv[++i]);
    else if (strcmp(o, "--label") == 0 && v) label = argv[++i];
    else if (strcmp(o, "--json") == 0) json = true;
    else {
      fprintf(stderr, "usage: rv-bench-runtime -c FILE --actor NAME [--rtt N] [--pipe N] "
                      "[--window W] [--kills N] [--kill-gap-ms MS] [--label TEXT] [--json]\n");
      return 2;
    }
  }
  if (!config || window < 1 || window > 1000) {
    fprintf(stderr, "rv-bench-runtime: -c FILE is required; --window is 1..1000\n");
    return 2;
  }
  cfg_node_t *cfg;
  rv_err_t err;
  if (cfg_node_load(config, &cfg, 2, &err)) {
    fprintf(stderr, "rv-bench-runtime: %s\n", err.msg);
    return 1;
  }
  zsys_handler_set(NULL);
  rv_mailbox_t *mb;
  if (rv_mailbox_new(cfg, "bench", &mb, &err)) {
    fprintf(stderr, "rv-bench-runtime: %s\n", err.msg);
    return 1;
  }
  Rv__HealthPing ping = RV__HEALTH_PING__INIT;
  rv_msg_t m;
  /* warm up, and learn the actor's pid */
  uint32_t pid = 0;
  for (int k = 0; k < 100 && !pid; k++) {
    ping.seq = (uint64_t)k + 1;
    rv_mailbox_send(mb, actor, RV_MSG_HEALTH_PING, &ping.base, ping.seq, 0, NULL);
    if (s_wait(mb, RV_MSG_HEALTH_PONG, actor, 100, &m) == 0) {
      pid = ((Rv__HealthPong *)m.body)->pid;
      rv_msg_clear(&m);
    }
  }
  if (!pid) {
    fprintf(stderr, "rv-bench-runtime: actor %s does not answer pings\n", actor);
    return 1;
  }
  uint64_t seq = 1000;
  uint64_t p50 = 0, p99 = 0, pmax = 0;
  double rtt_rate = 0, pipe_rate = 0;
  if (rtt_n > 0) {
    uint64_t *lat = calloc((size_t)rtt_n, sizeof *lat);
    uint64_t t0 = rv_mono_us();
    for (long k = 0; k < rtt_n; k++) {
      ping.seq = ++seq;
      uint64_t s = rv_mono_us();
      rv_mailbox_send(mb, actor, RV_MSG_HEALTH_PING, &ping.base, ping.seq, 0, NULL);
      if (s_wait(mb, RV_MSG_HEALTH_PONG, actor, 1000, &m)) {
        fprintf(stderr, "rv-bench-runtime: ping %ld lost\n", k);
        return 1;
      }
      lat[k] = rv_mono_us() - s;
      rv_msg_clear(&m);
    }
    rtt_rate = (double)rtt_n * 1e6 / (double)(rv_mono_us() - t0);
    qsort(lat, (size_t)rtt_n, sizeof *lat, s_cmp);
    p50 = s_pct(lat, (size_t)rtt_n, 0.50);
    p99 = s_pct(lat, (size_t)rtt_n, 0.99);
    pmax = lat[rtt_n - 1];
    free(lat);
  }
  if (pipe_n > 0) {
    long sent = 0, done = 0;
    uint64_t t0 = rv_mono_us();
    while (done < pipe_n) {
      while (sent < pipe_n && sent - done < window) {
        ping.seq = ++seq;
        if (rv_mailbox_send(mb, actor, RV_MSG_HEALTH_PING, &ping.base, ping.seq, 0, NULL)) break;
        sent++;
      }
      if (s_wait(mb, RV_MSG_HEALTH_PONG, actor, 2000, &m)) {
        fprintf(stderr, "rv-bench-runtime: pipelined pongs stopped at %ld/%ld\n", done, pipe_n);
        return 1;
      }
      rv_msg_clear(&m);
      done++;
    }
    pipe_rate = (double)pipe_n * 1e6 / (double)(rv_mono_us() - t0);
  }
  uint64_t r50 = 0, r99 = 0, rmax = 0;
  long rdone = 0;
  if (kills > 0) {
    /* watch the supervisor's inbox on the tap for the actor's Ready */
    char ep[256], topic[128];
    rv_mailbox_endpoint(cfg, "tap", ep, sizeof ep, NULL);
    snprintf(topic, sizeof topic, "%s/supervisor/in", cfg->node_id);
    zsock_t *sub = zsock_new_sub(ep, topic);
    usleep(200000); /* the subscription must reach the publishers before the first kill */
    uint64_t *lat = calloc((size_t)kills, sizeof *lat);
    for (long k = 0; k < kills; k++) {
      uint64_t t0 = rv_wall_us();
      if (kill((pid_t)pid, SIGKILL) != 0) {
        fprintf(stderr, "rv-bench-runtime: kill %u: %m\n", pid);
        break;
      }
      uint32_t newpid = 0;
      uint64_t deadline = rv_mono_ms() + 10000;
      while (!newpid && rv_mono_ms() < deadline) {
        zmsg_t *zm = zmsg_recv(sub);
        if (!zm) break;
        zframe_t *tp = zmsg_pop(zm), *fr = zmsg_pop(zm);
        rv_msg_t r;
        if (fr && rv_msg_decode(zframe_data(fr), zframe_size(fr), 0, &r, NULL) == RV_OK) {
          if (r.type == RV_MSG_READY && strcmp(r.from.actor, actor) == 0) {
            newpid = ((Rv__Ready *)r.body)->pid;
            lat[rdone++] = r.sent_at_us - t0;
          }
          rv_msg_clear(&r);
        }
        zframe_destroy(&tp);
        zframe_destroy(&fr);
        zmsg_destroy(&zm);
      }
      if (!newpid) {
        fprintf(stderr, "rv-bench-runtime: no Ready from %s within 10 s after kill %ld\n", actor, k);
        break;
      }
      pid = newpid;
      if (!json) fprintf(stderr, "\rrestart: %ld/%ld kills", k + 1, kills);
      usleep((useconds_t)kill_gap_ms * 1000u);
    }
    if (!json) fprintf(stderr, "\n");
    zsock_destroy(&sub);
    qsort(lat, (size_t)rdone, sizeof *lat, s_cmp);
    r50 = s_pct(lat, (size_t)rdone, 0.50);
    r99 = s_pct(lat, (size_t)rdone, 0.99);
    rmax = rdone ? lat[rdone - 1] : 0;
    free(lat);
  }
  if (json) {
    printf("{\"label\":\"%s\",\"rtt_n\":%ld,\"rtt_p50_us\":%llu,\"rtt_p99_us\":%llu,"
           "\"rtt_max_us\":%llu,\"rtt_per_s\":%.0f,\"pipe_n\":%ld,\"window\":%ld,"
           "\"pipe_round_trips_per_s\":%.0f,\"kills\":%ld,\"restart_p50_us\":%llu,"
           "\"restart_p99_us\":%llu,\"restart_max_us\":%llu}\n",
           label, rtt_n, (unsigned long long)p50, (unsigned long long)p99,
           (unsigned long long)pmax, rtt_rate, pipe_n, window, pipe_rate, rdone,
           (unsigned long long)r50, (unsigned long long)r99, (unsigned long long)rmax);
  } else {
    printf("%s\n", label);
    if (rtt_n > 0)
      printf("  envelope round trip (1 in flight, %ld): p50 %llu us  p99 %llu us  max %llu us  "
             "(%.0f round trips/s)\n",
             rtt_n, (unsigned long long)p50, (unsigned long long)p99, (unsigned long long)pmax,
             rtt_rate);
    if (pipe_n > 0)
      printf("  pipelined (%ld in flight, %ld): %.0f round trips/s (%.0f msgs/s)\n", window,
             pipe_n, pipe_rate, 2 * pipe_rate);
    if (rdone > 0)
      printf("  kill -9 to ready (%ld kills): p50 %.1f ms  p99 %.1f ms  max %.1f ms\n", rdone,
             (double)r50 / 1000, (double)r99 / 1000, (double)rmax / 1000);
  }
  rv_mailbox_destroy(&mb);
  cfg_node_destroy(&cfg);
  return 0;
}
