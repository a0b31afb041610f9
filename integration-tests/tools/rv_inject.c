/* rv-inject: sends hostile frames to a ZeroMQ endpoint, for tests that check that every process
 * drops bad input and keeps running.
 *   rv-inject ENDPOINT KIND COUNT
 * KIND: garbage (random bytes), empty, oversized (9 MiB), multipart (two frames), unknown-type
 * (a valid envelope of type 9999), truncated (a valid Heartbeat envelope cut short), valid (a
 * well-formed Applied message, which the runtime hands to the actor: for tests of batching).
 * The garbage is drawn from a seed: RV_INJECT_SEED if set, else the pid; it is printed on
 * stderr ("rv-inject: seed N") so that a red run can be replayed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "rv_codec.h"
#include "envelope.pb-c.h"
#include "raft.pb-c.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: rv-inject ENDPOINT garbage|empty|oversized|multipart|unknown-type|truncated|valid COUNT\n");
    return 2;
  }
  const char *kind = argv[2];
  int count = atoi(argv[3]);
  void *ctx = zmq_ctx_new();
  void *s = zmq_socket(ctx, ZMQ_PUSH);
  int linger = 2000;
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  if (zmq_connect(s, argv[1]) != 0) {
    fprintf(stderr, "rv-inject: cannot connect %s: %s\n", argv[1], zmq_strerror(zmq_errno()));
    return 1;
  }
  const char *seed_env = getenv("RV_INJECT_SEED");
  unsigned seed = seed_env && *seed_env ? (unsigned)strtoul(seed_env, NULL, 10) : (unsigned)getpid();
  fprintf(stderr, "rv-inject: seed %u (RV_INJECT_SEED replays it)\n", seed);
  srand(seed);
  for (int i = 0; i < count; i++) {
    if (strcmp(kind, "garbage") == 0) {
      char buf[300];
      size_t n = 1 + (size_t)rand() % sizeof buf;
      if (n == 9) n = 10; /* 9 bytes is the truncated kind's length: keep them apart for tests */
      for (size_t k = 0; k < n; k++) buf[k] = (char)rand();
      zmq_send(s, buf, n, 0);
    } else if (strcmp(kind, "empty") == 0) {
      zmq_send(s, "", 0, 0);
    } else if (strcmp(kind, "oversized") == 0) {
      size_t n = 9u << 20;
      char *buf = calloc(1, n);
      zmq_send(s, buf, n, 0);
      free(buf);
    } else if (strcmp(kind, "multipart") == 0) {
      zmq_send(s, "part1", 5, ZMQ_SNDMORE);
      zmq_send(s, "part2", 5, 0);
    } else if (strcmp(kind, "unknown-type") == 0 || strcmp(kind, "truncated") == 0) {
      Rv__Heartbeat hb = RV__HEARTBEAT__INIT;
      hb.seq = 123456789;
      uint8_t payload[32];
      size_t plen = rv__heartbeat__pack(&hb, payload);
      Rv__Envelope env = RV__ENVELOPE__INIT;
      env.version = 1;
      env.type = strcmp(kind, "unknown-type") == 0 ? 9999 : RV_MSG_HEARTBEAT;
      env.payload.data = payload;
      env.payload.len = plen;
      uint8_t buf[128];
      size_t n = rv__envelope__pack(&env, buf);
      zmq_send(s, buf, strcmp(kind, "truncated") == 0 ? n - 2 : n, 0);
    } else if (strcmp(kind, "valid") == 0) {
      Rv__Applied ap = RV__APPLIED__INIT;
      ap.index = (uint64_t)i + 1;
      rv_msg_t m = {.type = RV_MSG_APPLIED, .body = &ap.base};
      snprintf(m.from.node, sizeof m.from.node, "inject");
      snprintf(m.from.actor, sizeof m.from.actor, "rv-inject");
      uint8_t *buf;
      size_t n;
      rv_err_t err;
      if (rv_msg_encode(&m, &buf, &n, &err) != 0) {
        fprintf(stderr, "rv-inject: %s\n", err.msg);
        return 1;
      }
      zmq_send(s, buf, n, 0);
      free(buf);
    } else {
      fprintf(stderr, "rv-inject: unknown kind %s\n", kind);
      return 2;
    }
  }
  zmq_close(s);
  zmq_ctx_term(ctx);
  return 0;
}
