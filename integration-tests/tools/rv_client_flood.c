/* rv-client-flood: a client that abuses a node's client port the way the resource review did,
 * for the tests that prove a node stays bounded (test tool: not installed).
 *
 *   rv-client-flood --addr HOST:PORT pipeline --path P --count N [--hold-ms H]
 *       one connection; sends N stale FS_CAT requests of P back to back without reading a reply
 *       (its receive queue is one frame and its kernel buffer small, so replies back up at the
 *       server), holds H ms (default 5000), then reads every reply that comes within 3 s of the
 *       last and prints "replies R ok A busy B other C" (busy: RV_EBUSY, retriable)
 *   rv-client-flood --addr HOST:PORT writes --path DIR --count N [--no-read]
 *       one connection; pipelines N FS_MKDIR requests of DIR/w1..DIR/wN back to back (taking
 *       the replies that come meanwhile, so that no reply waits unread), then reads the rest
 *       until every request is answered or none came for 10 s, and prints "replies R ok A busy
 *       B other C" (busy: RV_EBUSY, retriable: over the connection's cap on requests in
 *       flight). --no-read closes the connection right after the last send instead, with its
 *       requests still in flight at the server, and prints "sent N; closed"
 *   rv-client-flood --addr HOST:PORT partial --conns N --bytes B [--hold-ms H]
 *       N raw tcp connections, each completes a ZMTP 3.0 NULL handshake as a DEALER and sends
 *       the header of a B-byte frame and B-1 bytes of it (never the last byte: a frame the
 *       server must buffer or refuse), holds them H ms (default 5000) and prints "open O closed
 *       C" (C: connections the server closed, while sending or holding)
 *   rv-client-flood --addr HOST:PORT frames --count N --bytes B
 *       one ZeroMQ DEALER sends N complete frames of B zero bytes (garbage to the codec: each
 *       is dropped after being received whole), then waits 1 s and exits: what a process keeps
 *       of its memory afterwards shows whether large frames' buffers are given back
 * Exits 0 when it could do what it was asked, 1 otherwise, 2 on bad usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "kv.pb-c.h"
#include "rv_codec.h"

static int s_usage(const char *why) {
  if (why) fprintf(stderr, "rv-client-flood: %s\n", why);
  fprintf(stderr, "usage: rv-client-flood --addr HOST:PORT pipeline --path P --count N "
                  "[--hold-ms H]\n"
                  "       rv-client-flood --addr HOST:PORT writes --path DIR --count N "
                  "[--no-read]\n"
                  "       rv-client-flood --addr HOST:PORT partial --conns N --bytes B "
                  "[--hold-ms H]\n"
                  "       rv-client-flood --addr HOST:PORT frames --count N --bytes B\n");
  return 2;
}

static uint64_t s_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int s_pipeline(const char *addr, const char *path, long count, long hold_ms) {
  void *ctx = zmq_ctx_new();
  void *s = zmq_socket(ctx, ZMQ_DEALER);
  int zero = 0, one = 1, small = 4096;
  zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof zero); /* every request queued on our side */
  zmq_setsockopt(s, ZMQ_RCVHWM, &one, sizeof one);   /* and replies not taken off the wire */
  zmq_setsockopt(s, ZMQ_RCVBUF, &small, sizeof small);
  zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
  char ep[300];
  snprintf(ep, sizeof ep, "tcp://%s", addr);
  if (zmq_connect(s, ep) != 0) {
    fprintf(stderr, "rv-client-flood: connect %s: %s\n", ep, zmq_strerror(zmq_errno()));
    return 1;
  }
  for (long i = 0; i < count; i++) {
    Rv__FsRequest q = RV__FS_REQUEST__INIT;
    q.op = RV__FS_OP__FS_CAT;
    q.path.data = (uint8_t *)path;
    q.path.len = strlen(path);
    q.stale = true;
    /* the user an insecure cluster believes (the tests' clusters make the runner superuser) */
    struct passwd *pw = getpwuid(getuid());
    q.user = pw ? pw->pw_name : "root";
    rv_msg_t m = {.type = RV_MSG_FS_REQUEST, .corr_id = (uint64_t)i + 1, .body = &q.base};
    rv_addr_set(&m.from, "client", "flood");
    rv_addr_set(&m.to, "", "kv-store");
    uint8_t *frame;
    size_t len;
    rv_err_t err;
    if (rv_msg_encode(&m, &frame, &len, &err) != RV_OK) {
      fprintf(stderr, "rv-client-flood: %s\n", err.msg);
      return 1;
    }
    zmq_send(s, frame, len, 0);
    free(frame);
  }
  printf("sent %ld requests for %s; not reading for %ld ms\n", count, path, hold_ms);
  fflush(stdout);
  usleep((useconds_t)hold_ms * 1000);
  long replies = 0, ok = 0, busy = 0, other = 0;
  uint64_t last = s_now_ms();
  while (s_now_ms() - last < 3000 && replies < count) {
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 200) <= 0) continue;
    zmq_msg_t f;
    zmq_msg_init(&f);
    if (zmq_msg_recv(&f, s, 0) < 0) break;
    rv_msg_t m;
    rv_err_t err;
    if (rv_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), 0, &m, &err) == RV_OK &&
        m.type == RV_MSG_FS_REPLY) {
      unsigned code = ((Rv__FsReply *)m.body)->code;
      if (code == 0) ok++;
      else if (code == RV_EBUSY) busy++;
      else other++;
      rv_msg_clear(&m);
    } else {
      other++;
    }
    zmq_msg_close(&f);
    replies++;
    last = s_now_ms();
  }
  printf("replies %ld ok %ld busy %ld other %ld\n", replies, ok, busy, other);
  zmq_close(s);
  zmq_ctx_term(ctx);
  return 0;
}

/* Counts one reply frame into ok / busy / other. */
static void s_count_reply(zmq_msg_t *f, long *ok, long *busy, long *other) {
  rv_msg_t m;
  rv_err_t err;
  if (rv_msg_decode(zmq_msg_data(f), zmq_msg_size(f), 0, &m, &err) == RV_OK &&
      m.type == RV_MSG_FS_REPLY) {
    unsigned code = ((Rv__FsReply *)m.body)->code;
    if (code == 0) (*ok)++;
    else if (code == RV_EBUSY) (*busy)++;
    else {
      if (*other < 3) fprintf(stderr, "rv-client-flood: answer %u: %s\n", code,
                              ((Rv__FsReply *)m.body)->message);
      (*other)++;
    }
    rv_msg_clear(&m);
  } else {
    (*other)++;
  }
}

static int s_writes(const char *addr, const char *dir, long count, bool read_replies) {
  void *ctx = zmq_ctx_new();
  void *s = zmq_socket(ctx, ZMQ_DEALER);
  int zero = 0;
  zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof zero); /* every request queued on our side */
  zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof zero);
  zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
  char ep[300];
  snprintf(ep, sizeof ep, "tcp://%s", addr);
  if (zmq_connect(s, ep) != 0) {
    fprintf(stderr, "rv-client-flood: connect %s: %s\n", ep, zmq_strerror(zmq_errno()));
    return 1;
  }
  struct passwd *pw = getpwuid(getuid());
  long replies = 0, ok = 0, busy = 0, other = 0;
  for (long i = 0; i < count; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/w%ld", dir, i + 1);
    Rv__FsRequest q = RV__FS_REQUEST__INIT;
    q.op = RV__FS_OP__FS_MKDIR;
    q.path.data = (uint8_t *)path;
    q.path.len = strlen(path);
    q.user = pw ? pw->pw_name : "root"; /* what an insecure cluster believes */
    rv_msg_t m = {.type = RV_MSG_FS_REQUEST, .corr_id = (uint64_t)i + 1, .body = &q.base};
    rv_addr_set(&m.from, "client", "flood");
    rv_addr_set(&m.to, "", "kv-store");
    uint8_t *frame;
    size_t len;
    rv_err_t err;
    if (rv_msg_encode(&m, &frame, &len, &err) != RV_OK) {
      fprintf(stderr, "rv-client-flood: %s\n", err.msg);
      return 1;
    }
    zmq_send(s, frame, len, 0);
    free(frame);
    zmq_msg_t f;
    zmq_msg_init(&f);
    while (read_replies && zmq_msg_recv(&f, s, ZMQ_DONTWAIT) >= 0) {
      s_count_reply(&f, &ok, &busy, &other);
      replies++;
    }
    zmq_msg_close(&f);
  }
  if (!read_replies) {
    printf("sent %ld; closed\n", count);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
  }
  uint64_t last = s_now_ms();
  while (s_now_ms() - last < 10000 && replies < count) {
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 200) <= 0) continue;
    zmq_msg_t f;
    zmq_msg_init(&f);
    if (zmq_msg_recv(&f, s, 0) < 0) break;
    s_count_reply(&f, &ok, &busy, &other);
    zmq_msg_close(&f);
    replies++;
    last = s_now_ms();
  }
  printf("replies %ld ok %ld busy %ld other %ld\n", replies, ok, busy, other);
  zmq_close(s);
  zmq_ctx_term(ctx);
  return 0;
}

static int s_frames(const char *addr, long count, long bytes) {
  void *ctx = zmq_ctx_new();
  void *s = zmq_socket(ctx, ZMQ_DEALER);
  int linger = 5000;
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  char ep[300];
  snprintf(ep, sizeof ep, "tcp://%s", addr);
  uint8_t *buf = calloc(1, (size_t)bytes);
  if (!buf || zmq_connect(s, ep) != 0) {
    fprintf(stderr, "rv-client-flood: connect %s: %s\n", ep, zmq_strerror(zmq_errno()));
    return 1;
  }
  for (long i = 0; i < count; i++) zmq_send(s, buf, (size_t)bytes, 0);
  usleep(1000000);
  printf("sent %ld frames of %ld bytes\n", count, bytes);
  free(buf);
  zmq_close(s); /* lingers until they are delivered */
  zmq_ctx_term(ctx);
  return 0;
}

/* Connects a tcp socket to host:port; -1 on failure. */
static int s_tcp(const char *addr) {
  char host[256];
  snprintf(host, sizeof host, "%s", addr);
  char *colon = strrchr(host, ':');
  if (!colon) return -1;
  *colon = '\0';
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
  if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) return -1;
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(ai);
  return fd;
}

static bool s_send_all(int fd, const void *buf, size_t len) {
  const uint8_t *p = buf;
  while (len) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n <= 0) return false;
    p += n;
    len -= (size_t)n;
  }
  return true;
}

/* ZMTP 3.0 greeting and NULL handshake as a DEALER; then the header of a len-byte frame and
 * len - 1 bytes of it. */
static bool s_partial_frame(int fd, uint64_t len) {
  uint8_t greet[64] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0, 'N', 'U', 'L', 'L'};
  if (!s_send_all(fd, greet, sizeof greet)) return false;
  uint8_t peer[64];
  size_t got = 0;
  while (got < sizeof peer) {
    ssize_t n = recv(fd, peer + got, sizeof peer - got, 0);
    if (n <= 0) return false;
    got += (size_t)n;
  }
  static const uint8_t ready[] = {0x04, 28, 5, 'R', 'E', 'A', 'D', 'Y', 11, 'S', 'o', 'c', 'k',
                                  'e', 't', '-', 'T', 'y', 'p', 'e', 0, 0, 0, 6, 'D', 'E', 'A',
                                  'L', 'E', 'R'};
  if (!s_send_all(fd, ready, sizeof ready)) return false;
  uint8_t head[9] = {0x02};
  for (int i = 0; i < 8; i++) head[1 + i] = (uint8_t)(len >> (56 - 8 * i));
  if (!s_send_all(fd, head, sizeof head)) return false;
  static uint8_t chunk[65536];
  for (uint64_t left = len - 1; left;) {
    size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;
    struct pollfd p = {fd, POLLOUT, 0};
    if (poll(&p, 1, 2000) <= 0) return true; /* the server stopped reading: it holds the rest */
    ssize_t k = send(fd, chunk, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0 && errno == EAGAIN) continue;
    if (k <= 0) return false;
    left -= (uint64_t)k;
  }
  return true;
}

static int s_partial(const char *addr, long conns, long bytes, long hold_ms) {
  int *fds = calloc((size_t)conns, sizeof *fds);
  long open = 0, refused = 0;
  for (long i = 0; i < conns; i++) {
    fds[i] = s_tcp(addr);
    if (fds[i] < 0) {
      fprintf(stderr, "rv-client-flood: cannot connect to %s\n", addr);
      free(fds);
      return 1;
    }
    if (!s_partial_frame(fds[i], (uint64_t)bytes)) { /* the server closed it on us */
      close(fds[i]);
      fds[i] = -1;
      refused++;
      continue;
    }
    open++;
  }
  printf("opened %ld of %ld connections with a partial frame of %ld bytes (%ld closed by the "
         "server while sending); holding %ld ms\n", open, conns, bytes, refused, hold_ms);
  fflush(stdout);
  usleep((useconds_t)hold_ms * 1000);
  long closed = 0;
  for (long i = 0; i < conns; i++) {
    if (fds[i] < 0) continue;
    uint8_t b[4096];
    ssize_t n;
    while ((n = recv(fds[i], b, sizeof b, MSG_DONTWAIT)) > 0) {
    }
    if (n == 0 || (n < 0 && errno != EAGAIN)) closed++;
    close(fds[i]);
  }
  printf("open %ld closed %ld\n", open - closed, closed + refused);
  free(fds);
  return 0;
}

int main(int argc, char **argv) {
  const char *addr = NULL, *mode = NULL, *path = NULL;
  long count = 0, hold = 5000, conns = 0, bytes = 0;
  bool no_read = false;
  for (int i = 1; i < argc; i++) {
    bool more = i + 1 < argc;
    if (strcmp(argv[i], "--addr") == 0 && more) addr = argv[++i];
    else if (strcmp(argv[i], "--path") == 0 && more) path = argv[++i];
    else if (strcmp(argv[i], "--count") == 0 && more) count = atol(argv[++i]);
    else if (strcmp(argv[i], "--hold-ms") == 0 && more) hold = atol(argv[++i]);
    else if (strcmp(argv[i], "--conns") == 0 && more) conns = atol(argv[++i]);
    else if (strcmp(argv[i], "--bytes") == 0 && more) bytes = atol(argv[++i]);
    else if (strcmp(argv[i], "--no-read") == 0) no_read = true;
    else if (argv[i][0] != '-' && !mode) mode = argv[i];
    else return s_usage("unknown or incomplete argument");
  }
  if (!addr || !mode) return s_usage("--addr and a mode are required");
  if (hold < 0) return s_usage("--hold-ms must be >= 0");
  if (strcmp(mode, "pipeline") == 0) {
    if (!path || count < 1) return s_usage("pipeline needs --path and --count >= 1");
    return s_pipeline(addr, path, count, hold);
  }
  if (strcmp(mode, "writes") == 0) {
    if (!path || count < 1) return s_usage("writes needs --path and --count >= 1");
    return s_writes(addr, path, count, !no_read);
  }
  if (strcmp(mode, "partial") == 0) {
    if (conns < 1 || bytes < 2) return s_usage("partial needs --conns >= 1 and --bytes >= 2");
    return s_partial(addr, conns, bytes, hold);
  }
  if (strcmp(mode, "frames") == 0) {
    if (count < 1 || bytes < 1) return s_usage("frames needs --count >= 1 and --bytes >= 1");
    return s_frames(addr, count, bytes);
  }
  return s_usage("unknown mode (pipeline, writes, partial, frames)");
}
