/* rv-fs-session: drives exactly-once sessions by hand, for the integration test of sessions
 * bound to their principal (test_fs_sessions_principal.sh). The user is librvclient's default
 * (HADOOP_USER_NAME, else the login name).
 *   rv-fs-session NODES write ID SEQ PATH   mkdir PATH as session (ID hex, SEQ); prints
 *                                           "code=C replayed=R index=I msg=M"
 *   rv-fs-session NODES flood N PATH        N writes (mkdir -p PATH), each on a new session,
 *                                           64 at a time; prints "ok=K failed=F" and the first
 *                                           failure's message (the writes after a failing
 *                                           client's are not tried: they count as failed)
 * Exit codes: 0 ran (whatever the outcomes), 1 a client error, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_client.h"

#define S_LANES 64

static int s_usage(void) {
  fprintf(stderr, "usage: rv-fs-session NODES write ID SEQ PATH | NODES flood N PATH\n");
  return 2;
}

static int s_write(const char *nodes, uint64_t id, uint64_t seq, const char *path) {
  rv_client_t *c;
  rv_err_t err;
  if (rv_client_new(nodes, NULL, &c, &err) != RV_OK) {
    fprintf(stderr, "rv-fs-session: %s\n", err.msg);
    return 1;
  }
  rv_client_session_set(c, 0, id, seq);
  rv_client_result_t r;
  rv_client_mkdir(c, path, 0, &r);
  printf("code=%d replayed=%d index=%llu msg=%s\n", r.code, r.replayed,
         (unsigned long long)r.index, r.msg);
  rv_client_result_clear(&r);
  rv_client_destroy(&c);
  return 0;
}

/* Every client made here starts S_LANES fresh sessions (random ids, seq 1): one write each. */
static int s_flood(const char *nodes, long n, const char *path) {
  long ok = 0, failed = 0;
  char first[RV_CLIENT_MSG_MAX] = "";
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  o.lanes = S_LANES;
  for (long done = 0; done < n;) {
    rv_client_t *c;
    rv_err_t err;
    if (rv_client_new(nodes, &o, &c, &err) != RV_OK) {
      fprintf(stderr, "rv-fs-session: %s\n", err.msg);
      return 1;
    }
    long batch = n - done < S_LANES ? n - done : S_LANES;
    for (long i = 0; i < batch; i++) {
      rv_client_req_t q = {.op = RV_CLIENT_MKDIR, .path = path, .flags = RV_CLIENT_PARENTS};
      if (rv_client_submit(c, &q, (uint64_t)i, &err) != RV_OK) {
        fprintf(stderr, "rv-fs-session: submit: %s\n", err.msg);
        rv_client_destroy(&c);
        return 1;
      }
    }
    long failed_before = failed;
    while (rv_client_inflight(c)) {
      rv_client_result_t r;
      if (rv_client_poll(c, 1000, &r) != RV_OK) continue;
      if (r.code == RV_OK) {
        ok++;
      } else {
        if (!failed++) snprintf(first, sizeof first, "%s", r.msg);
      }
      rv_client_result_clear(&r);
    }
    rv_client_stats_t st = rv_client_stats(c);
    rv_client_destroy(&c);
    done += batch;
    if (failed > failed_before) {
      /* the client that failed says what it saw, and the flood stops: every later client
       * would only wait out its own retry deadline the same way */
      fprintf(stderr, "rv-fs-session: client %ld of the flood: %ld of %ld failed; sends=%llu "
              "redirects=%llu timeouts=%llu retries=%llu busy=%llu stray=%llu\n",
              done / S_LANES + (done % S_LANES != 0), failed - failed_before, batch,
              (unsigned long long)st.sends, (unsigned long long)st.redirects,
              (unsigned long long)st.timeouts, (unsigned long long)st.retries,
              (unsigned long long)st.busy, (unsigned long long)st.stray);
      failed += n - done;
      break;
    }
  }
  printf("ok=%ld failed=%ld first=%s\n", ok, failed, first);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[2], "write") == 0) {
    char *end;
    uint64_t id = strtoull(argv[3], &end, 16);
    if (*end || !id) return s_usage();
    uint64_t seq = strtoull(argv[4], &end, 10);
    if (*end || !seq) return s_usage();
    return s_write(argv[1], id, seq, argv[5]);
  }
  if (argc == 5 && strcmp(argv[2], "flood") == 0) {
    char *end;
    long n = strtol(argv[3], &end, 10);
    if (*end || n < 1) return s_usage();
    return s_flood(argv[1], n, argv[4]);
  }
  return s_usage();
}
