/* Unit tests of kv_session (exactly-once by client session): a retried seq answers its first
 * result without re-applying, older seqs and unknown sessions are refused, and sessions expire
 * deterministically by time (TTL on the replicated clock) and by count (LRU), at a bounded
 * number per command; expiry does not depend on restarts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_testutil.h"

/* Applies cmd for (client, seq) at time now, at the next index. */
static int s_as(kv_t_env_t *e, uint64_t client, uint64_t seq, int64_t now, kv_cmd_t *c) {
  c->client_id = client;
  c->seq = seq;
  c->time_ms = now;
  kv_t_encode(c, &e->enc);
  return kv_t_apply_raw(e, e->enc.data, e->enc.len);
}

static int s_touch(kv_t_env_t *e, uint64_t client, uint64_t seq, int64_t now, const char *p) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_TOUCHZ, p);
  return s_as(e, client, seq, now, &c);
}

static bool s_has_session(kv_t_env_t *e, uint64_t client) {
  uint8_t key[16];
  size_t kl = kv_key_session(key, client);
  kv_buf_t v;
  kv_buf_init(&v);
  rv_err_t err;
  int rc = kv_store_get(e->store, key, kl, &v, &err);
  kv_buf_close(&v);
  return rc == RV_OK;
}

static void test_retry_returns_first_result(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_PUT, "/f");
  c.data = (kv_bytes_t){(const uint8_t *)"v1", 2};
  assert_int_equal(s_as(e, 7, 1, 1000, &c), RV_OK);
  kv_result_t first = e->res;
  assert_false(first.skipped);
  /* someone else removes the file; the client's retry must not recreate it */
  kv_cmd_t rm;
  kv_t_cmd(&rm, KV_OP_RM, "/f");
  assert_int_equal(s_as(e, 8, 1, 1001, &rm), RV_OK);
  uint64_t ns = kv_t_digest(e, KV_DIGEST_NAMESPACE);
  assert_int_equal(s_as(e, 7, 1, 1002, &c), RV_OK);
  assert_true(e->res.skipped);
  assert_int_equal(e->res.index, first.index);
  assert_int_equal(e->res.inode, first.inode);
  assert_int_equal(e->res.n, 2);
  assert_true(kv_t_digest(e, KV_DIGEST_NAMESPACE) == ns);
  kv_stat_t st;
  assert_int_equal(kv_t_stat(e, "/f", &st), RV_ENOTFOUND);
  /* a failure is recorded and answered the same way */
  kv_t_cmd(&c, KV_OP_MKDIR, "/x/y");
  assert_int_equal(s_as(e, 7, 2, 1003, &c), RV_ENOTFOUND);
  char msg[KV_MSG_MAX];
  snprintf(msg, sizeof msg, "%s", e->res.msg);
  e->now = 1003; /* (the env's default clock is far ahead: it would expire every session) */
  assert_int_equal(kv_t_mkdir(e, "/x", 0), RV_OK);
  assert_int_equal(s_as(e, 7, 2, 1004, &c),
                   RV_ENOTFOUND); /* not re-applied, though it would work now */
  assert_true(e->res.skipped);
  assert_string_equal(e->res.msg, msg);
  assert_int_equal(kv_t_stat(e, "/x/y", &st), RV_ENOTFOUND);
  /* the next seq applies */
  assert_int_equal(s_as(e, 7, 3, 1005, &c), RV_OK);
  assert_false(e->res.skipped);
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_t_env_destroy(&e);
}

static void test_old_and_unknown_seqs_refused(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(s_touch(e, 5, 1, 10, "/a"), RV_OK);
  assert_int_equal(s_touch(e, 5, 2, 11, "/b"), RV_OK);
  uint64_t ns = kv_t_digest(e, KV_DIGEST_NAMESPACE);
  assert_int_equal(s_touch(e, 5, 1, 12, "/c"), RV_ESTALE);
  assert_non_null(strstr(e->res.msg, "seq 1 is older than the last applied seq 2"));
  assert_int_equal(s_touch(e, 6, 4, 13, "/c"), RV_ESTALE);
  assert_non_null(strstr(e->res.msg, "no session (expired or never started) and seq 4 is not 1"));
  assert_int_equal(s_touch(e, 6, 0, 14, "/c"), RV_EINVAL);
  assert_non_null(strstr(e->res.msg, "sequence number 0"));
  assert_true(kv_t_digest(e, KV_DIGEST_NAMESPACE) == ns);
  assert_false(s_has_session(e, 6));
  /* seqs may jump forward */
  assert_int_equal(s_touch(e, 5, 10, 15, "/c"), RV_OK);
  assert_int_equal(kv_core_sessions(e->core), 1);
  kv_t_env_destroy(&e);
}

static void test_replay_by_index_returns_recorded_result(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MKDIR, "/d");
  c.client_id = 9;
  c.seq = 1;
  c.time_ms = 50;
  kv_t_encode(&c, &e->enc);
  kv_result_t r1, r2;
  rv_err_t err;
  assert_int_equal(kv_core_apply(e->core, 1, e->enc.data, e->enc.len, &r1, &err), RV_OK);
  kv_t_env_reopen(e); /* a restart, then Raft replays entry 1 */
  assert_int_equal(kv_core_apply(e->core, 1, e->enc.data, e->enc.len, &r2, &err), RV_OK);
  assert_true(r2.skipped);
  assert_int_equal(r2.code, RV_OK);
  assert_int_equal(r2.inode, r1.inode);
  assert_int_equal(r2.index, 1);
  kv_t_env_destroy(&e);
}

/* ttl 1600 ms: last use is tracked in buckets of 100 ms, and a bucket expires once its end is
 * 1600 ms in the past (bucket <= now - 1700). */
static void test_ttl_expiry(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.session_ttl_ms = 1600;
  kv_t_env_t *e = kv_t_env_new(&cfg);
  assert_int_equal(s_touch(e, 1, 1, 0, "/a"), RV_OK);    /* bucket 0 */
  assert_int_equal(s_touch(e, 2, 1, 550, "/b"), RV_OK);  /* bucket 500 */
  assert_int_equal(s_touch(e, 3, 1, 1000, "/c"), RV_OK); /* bucket 1000 */
  assert_int_equal(s_touch(e, 3, 2, 1699, "/d"), RV_OK); /* 0 > 1699 - 1700: client 1 stays */
  assert_true(s_has_session(e, 1));
  assert_int_equal(kv_core_sessions(e->core), 3);
  assert_int_equal(s_touch(e, 3, 3, 1700, "/e"), RV_OK); /* now bucket 0 has expired */
  assert_false(s_has_session(e, 1));
  assert_int_equal(kv_core_sessions(e->core), 2);
  /* client 1 comes back with seq 2: its session is gone */
  assert_int_equal(s_touch(e, 1, 2, 1702, "/f"), RV_ESTALE);
  assert_non_null(strstr(e->res.msg, "start a new session"));
  /* using a session keeps it alive: client 2 moves to bucket 2000 */
  assert_int_equal(s_touch(e, 2, 2, 2050, "/g"), RV_OK);
  assert_int_equal(s_touch(e, 3, 4, 3000, "/h"), RV_OK); /* bucket 2000 > 1300: stays */
  assert_true(s_has_session(e, 2));
  assert_int_equal(s_touch(e, 3, 5, 3700, "/i"), RV_OK); /* bucket 2000 <= 2000: expires */
  assert_false(s_has_session(e, 2));
  assert_int_equal(kv_core_sessions(e->core), 1);
  /* a command never expires its own session: client 3 was last seen at 3700 */
  assert_int_equal(s_touch(e, 3, 6, 99999, "/j"), RV_OK);
  assert_int_equal(kv_core_sessions(e->core), 1);
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_t_env_destroy(&e);
}

static void test_count_expiry_is_lru(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.session_max = 3;
  cfg.session_ttl_ms = 160; /* buckets of 10 ms: each use below is in a bucket of its own */
  kv_t_env_t *e = kv_t_env_new(&cfg);
  assert_int_equal(s_touch(e, 1, 1, 10, "/a"), RV_OK);
  assert_int_equal(s_touch(e, 2, 1, 20, "/b"), RV_OK);
  assert_int_equal(s_touch(e, 3, 1, 30, "/c"), RV_OK);
  assert_int_equal(s_touch(e, 1, 2, 40, "/d"), RV_OK); /* 1 is now the most recent */
  assert_int_equal(s_touch(e, 4, 1, 50, "/e"), RV_OK); /* evicts 2, the least recently used */
  assert_int_equal(kv_core_sessions(e->core), 3);
  assert_false(s_has_session(e, 2));
  assert_true(s_has_session(e, 1) && s_has_session(e, 3) && s_has_session(e, 4));
  assert_int_equal(s_touch(e, 5, 1, 60, "/f"), RV_OK); /* evicts 3 */
  assert_false(s_has_session(e, 3));
  /* a command without a session evicts nothing */
  e->now = 70;
  assert_int_equal(kv_t_mkdir(e, "/g", 0), RV_OK);
  assert_int_equal(kv_core_sessions(e->core), 3);
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_t_env_destroy(&e);
}

static void test_eviction_bounded_per_command(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.session_ttl_ms = 100;
  kv_t_env_t *e = kv_t_env_new(&cfg);
  for (uint64_t c = 1; c <= 200; c++) {
    char p[32];
    snprintf(p, sizeof p, "/f%llu", (unsigned long long)c);
    assert_int_equal(s_touch(e, c, 1, 1000, p), RV_OK);
  }
  assert_int_equal(kv_core_sessions(e->core), 200);
  /* long after: each command drops at most KV_EVICT_PER_CMD */
  e->now = 100000;
  assert_int_equal(kv_t_mkdir(e, "/x1", 0), RV_OK);
  assert_int_equal(kv_core_sessions(e->core), 200 - KV_EVICT_PER_CMD);
  assert_int_equal(kv_t_mkdir(e, "/x2", 0), RV_OK);
  assert_int_equal(kv_t_mkdir(e, "/x3", 0), RV_OK);
  assert_int_equal(kv_core_sessions(e->core), 200 - 3 * KV_EVICT_PER_CMD);
  assert_int_equal(kv_t_mkdir(e, "/x4", 0), RV_OK);
  assert_int_equal(kv_core_sessions(e->core), 0);
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_t_env_destroy(&e);
}

/* The leader's clock may step back after a failover; the replicated clock does not. */
static void test_clock_never_goes_back(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.session_ttl_ms = 1600; /* buckets of 100 ms; bucket b expires when b <= now - 1700 */
  kv_t_env_t *e = kv_t_env_new(&cfg);
  assert_int_equal(s_touch(e, 1, 1, 5000, "/a"), RV_OK);
  assert_int_equal(s_touch(e, 2, 1, 100, "/b"), RV_OK); /* clock stays 5000: 2 is at 5000 too */
  assert_int_equal(s_touch(e, 3, 1, 5500, "/c"), RV_OK);
  assert_int_equal(s_touch(e, 3, 2, 6699, "/d"), RV_OK);
  assert_true(s_has_session(e, 1) && s_has_session(e, 2));
  assert_int_equal(s_touch(e, 3, 3, 6700, "/e"), RV_OK); /* 1 and 2 (bucket 5000) expire */
  assert_false(s_has_session(e, 1));
  assert_false(s_has_session(e, 2));
  assert_true(s_has_session(e, 3));
  kv_t_env_destroy(&e);
}

/* A session's LRU entry moves only when the client enters a new bucket. */
static void test_lru_entry_moves_per_bucket(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.session_ttl_ms = 1600;
  kv_t_env_t *e = kv_t_env_new(&cfg);
  assert_int_equal(s_touch(e, 9, 1, 1000, "/a"), RV_OK);
  size_t keys = kv_memstore_count(e->ms);
  assert_int_equal(s_touch(e, 9, 2, 1099, "/b"), RV_OK); /* same bucket: + dentry + attr only */
  assert_int_equal(kv_memstore_count(e->ms), keys + 2);
  assert_int_equal(s_touch(e, 9, 3, 1100, "/c"), RV_OK); /* next bucket: the T key moves */
  assert_int_equal(kv_memstore_count(e->ms), keys + 4);
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_t_env_destroy(&e);
}

/* Two replicas, one restarted often (its expiry cache starts cold each time), one not: the same
 * entries give byte-identical stores. */
static void test_expiry_independent_of_restarts(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.session_ttl_ms = 300;
  cfg.session_max = 7;
  kv_t_env_t *a = kv_t_env_new(&cfg), *b = kv_t_env_new(&cfg);
  kv_t_rng_t rng;
  kv_t_rng_init(&rng, kv_t_seed("expiry restarts", 11));
  uint64_t seqs[20] = {0};
  int64_t now = 0;
  for (int i = 0; i < 2000; i++) {
    uint64_t client = kv_t_rng_below(&rng, 20);
    now += (int64_t)kv_t_rng_below(&rng, 60) - 10; /* sometimes back in time */
    char p[32];
    snprintf(p, sizeof p, "/f%d", i % 50);
    uint64_t seq = client ? ++seqs[client] : 0;
    if (client && kv_t_rng_below(&rng, 10) == 0 && seq > 1) seq--; /* a retry */
    int ra = s_touch(a, client, seq, now, p);
    int rb = s_touch(b, client, seq, now, p);
    assert_int_equal(ra, rb);
    if (ra == RV_ESTALE) seqs[client] = 0; /* the client starts a new session */
    if (i % 7 == 0) kv_t_env_reopen(b);
    if (i % 100 == 0) {
      assert_true(kv_t_digest(a, KV_DIGEST_ALL) == kv_t_digest(b, KV_DIGEST_ALL));
      assert_int_equal(kv_t_check(a), RV_OK);
    }
  }
  assert_true(kv_t_digest(a, KV_DIGEST_ALL) == kv_t_digest(b, KV_DIGEST_ALL));
  assert_true(kv_core_sessions(a->core) <= 7);
  kv_t_env_destroy(&a);
  kv_t_env_destroy(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_retry_returns_first_result),
      cmocka_unit_test(test_old_and_unknown_seqs_refused),
      cmocka_unit_test(test_replay_by_index_returns_recorded_result),
      cmocka_unit_test(test_ttl_expiry),
      cmocka_unit_test(test_count_expiry_is_lru),
      cmocka_unit_test(test_eviction_bounded_per_command),
      cmocka_unit_test(test_clock_never_goes_back),
      cmocka_unit_test(test_lru_entry_moves_per_bucket),
      cmocka_unit_test(test_expiry_independent_of_restarts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
