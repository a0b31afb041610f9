/* rv-fs-rw-probe: writes a value through one node and reads it back at once through another,
 * in one process (no process start-up between them, so a follower that serves from a state
 * that is behind is caught). Round k: put -f PATH = "v<k>" via WRITE_NODES, then cat PATH via
 * READ_NODE, stale, then linearizable (which must see v<k>). Prints one summary line:
 *   rounds=50 linearizable_behind=0 stale_behind=17
 *   rv-fs-rw-probe WRITE_NODES READ_NODE PATH ROUNDS [--lin-only]
 * --lin-only skips the stale read, so the linearizable read follows the write as closely as it
 * can: the likeliest moment for a follower that answers before applying up to its read index.
 * Exit codes: 0 every linearizable read saw the write before it, 1 one did not (or an operation
 * failed: its message on stderr), 2 usage. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_client.h"

int main(int argc, char **argv) {
  bool lin_only = argc == 6 && strcmp(argv[5], "--lin-only") == 0;
  if ((argc != 5 && !lin_only) || atoi(argv[4]) < 1) {
    fprintf(stderr, "usage: rv-fs-rw-probe WRITE_NODES READ_NODE PATH ROUNDS [--lin-only]\n");
    return 2;
  }
  rv_client_t *w, *r;
  rv_err_t err;
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  static rv_client_env_keys_t keys; /* RV_CLIENT_KEY, RV_SERVER_KEYS: a secure cluster */
  if (rv_client_opts_env(&o, &keys, &err) || rv_client_new(argv[1], &o, &w, &err) ||
      rv_client_new(argv[2], &o, &r, &err)) {
    fprintf(stderr, "rv-fs-rw-probe: %s\n", err.msg);
    return 1;
  }
  int rounds = atoi(argv[4]), lin_behind = 0, stale_behind = 0, rc = 0;
  for (int k = 1; k <= rounds && !rc; k++) {
    char v[32];
    int n = snprintf(v, sizeof v, "v%d", k);
    rv_client_result_t res;
    const unsigned flags[2] = {RV_CLIENT_STALE, 0}; /* stale first: the closest to the write */
    if (rv_client_put(w, argv[3], v, (size_t)n, RV_CLIENT_OVERWRITE, &res) != RV_OK) {
      fprintf(stderr, "put: %s\n", res.msg);
      rc = 1;
    }
    rv_client_result_clear(&res);
    for (int s = lin_only ? 1 : 0; s < 2 && !rc; s++) {
      int crc = rv_client_cat(r, argv[3], flags[s], &res);
      if (crc == RV_ENOTFOUND && s == 0 && k == 1) {
        stale_behind++; /* a stale read may not even have the first write yet */
      } else if (crc != RV_OK) {
        fprintf(stderr, "cat: %s\n", res.msg);
        rc = 1;
      } else if (res.len != (size_t)n || memcmp(res.content, v, (size_t)n) != 0) {
        if (s) lin_behind++;
        else stale_behind++;
      }
      rv_client_result_clear(&res);
    }
  }
  printf("rounds=%d linearizable_behind=%d stale_behind=%d\n", rounds, lin_behind, stale_behind);
  rv_client_destroy(&w);
  rv_client_destroy(&r);
  return rc || lin_behind ? 1 : 0;
}
