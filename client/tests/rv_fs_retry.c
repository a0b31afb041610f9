/* rv-fs-retry: sends one write, then the same write again with the same client id and seq (as
 * a client retrying after a lost answer would), then a different write that carries that same
 * id and seq; prints each outcome, one line each:
 *   first code=0 replayed=0 index=7 inode=9 msg=
 *   again code=0 replayed=1 index=7 inode=9 msg=
 *   other code=0 replayed=1 index=7 inode=9 msg=
 * Exactly-once means "again" and "other" answer what "first" did and change nothing (the other
 * path is not made). The integration test (test_fs_retry_once.sh) checks that.
 *   rv-fs-retry NODES PATH OTHER_PATH      (NODES: host:port,...; writes are mkdir)
 * Exit codes: 0 ran (whatever the outcomes), 1 a client error, 2 usage. */
#include <stdio.h>

#include "rv_client.h"

static void s_print(const char *what, const rv_client_result_t *r) {
  printf("%s code=%d replayed=%d index=%llu inode=%llu msg=%s\n", what, r->code, r->replayed,
         (unsigned long long)r->index, (unsigned long long)r->inode, r->msg);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: rv-fs-retry NODES PATH OTHER_PATH\n");
    return 2;
  }
  rv_client_t *c;
  rv_err_t err;
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  static rv_client_env_keys_t keys; /* RV_CLIENT_KEY, RV_SERVER_KEYS: a secure cluster */
  if (rv_client_opts_env(&o, &keys, &err) != RV_OK || rv_client_new(argv[1], &o, &c, &err) != RV_OK) {
    fprintf(stderr, "rv-fs-retry: %s\n", err.msg);
    return 1;
  }
  uint64_t id, seq;
  rv_client_session_get(c, 0, &id, &seq);
  printf("session %016llx seq %llu\n", (unsigned long long)id, (unsigned long long)seq);
  rv_client_result_t r;
  rv_client_mkdir(c, argv[2], 0, &r);
  s_print("first", &r);
  rv_client_result_clear(&r);
  rv_client_session_set(c, 0, id, seq);
  rv_client_mkdir(c, argv[2], 0, &r);
  s_print("again", &r);
  rv_client_result_clear(&r);
  rv_client_session_set(c, 0, id, seq);
  rv_client_mkdir(c, argv[3], 0, &r);
  s_print("other", &r);
  rv_client_result_clear(&r);
  rv_client_destroy(&c);
  return 0;
}
