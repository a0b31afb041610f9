/* rv_test_port: for tests only. Finds a block of loopback TCP ports that are free now, instead
 * of a port derived from the pid that may already be taken (by another test, another worktree's
 * cluster, a client's ephemeral port). Header-only: tests include it, nothing else links it. */
#ifndef RV_TEST_PORT_H
#define RV_TEST_PORT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* True when a TCP socket can bind 127.0.0.1:port right now. */
static inline bool rv_test_port_free(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

/* The first port P of a block P..P+span-1 that is free on loopback, tried from a start point
 * drawn from the pid, in 10000..31999 (below the kernel's ephemeral range, 32768+, where
 * outgoing connections take ports). Prints it on stderr; aborts if 200 tries find none. */
static inline int rv_test_ports(int span) {
  unsigned x = (unsigned)getpid() * 2654435761u;
  for (int t = 0; t < 200; t++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    int base = 10000 + (int)(x % (unsigned)(22000 - span));
    bool all = true;
    for (int k = 0; k < span && all; k++) all = rv_test_port_free(base + k);
    if (all) {
      fprintf(stderr, "rv_test_ports: %d..%d\n", base, base + span - 1);
      return base;
    }
  }
  fprintf(stderr, "rv_test_ports: no block of %d free ports found in 200 tries\n", span);
  abort();
}

#endif
