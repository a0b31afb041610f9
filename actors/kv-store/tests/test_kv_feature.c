/* Unit tests of kv_feature (the level table and the leader's gate) and of the apply side of
 * feature levels in the core: a well-formed command of a newer build (an op number this build
 * does not know) stops the apply (RV_ECONFIG, nothing written, the log index and op named)
 * where garbage bytes are a failed outcome as before; a core told it stands for level 1 refuses
 * an op of level 2 the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kv_cmd.h"
#include "kv_feature.h"
#include "kv_testutil.h"

/* The table: level 1 is exactly e7e8172's ops, level 2 this build's additions; every op this
 * build knows has a level, and nothing else does. */
static void test_level_table(void **state) {
  const int one[] = {KV_OP_MKDIR, KV_OP_PUT, KV_OP_TOUCHZ, KV_OP_RM, KV_OP_MV, KV_OP_SETATTR};
  const int two[] = {KV_OP_APPEND,          KV_OP_TRUNCATE,       KV_OP_CONCAT,
                     KV_OP_SETXATTR,        KV_OP_REMOVEXATTR,    KV_OP_RECOVERY_BEGIN,
                     KV_OP_RECOVERY_ROWS,   KV_OP_RECOVERY_FINISH, KV_OP_RECOVERY_LEAVE};
  for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
    assert_int_equal(kv_feature_op_level(one[i]), 1);
  for (size_t i = 0; i < sizeof two / sizeof two[0]; i++)
    assert_int_equal(kv_feature_op_level(two[i]), 2);
  for (int op = -1; op < 300; op++) {
    bool known = strcmp(kv_op_name(op), "op?") != 0;
    unsigned l = kv_feature_op_level(op);
    if (known) assert_true(l >= 1 && l <= KV_FEATURE_LEVEL);
    else assert_int_equal(l, 0);
  }
  assert_int_equal(KV_FEATURE_LEVEL, 2);
}

static void s_member(kv_feature_view_t *v, const char *node, unsigned level, bool active) {
  kv_feature_member_t *m = &v->m[v->n++];
  snprintf(m->node, sizeof m->node, "%s", node);
  m->level = level;
  m->active = active;
}

static void test_gate(void **state) {
  char why[512];
  kv_feature_view_t v = {0};
  assert_int_equal(kv_feature_cluster_level(&v), 0);
  assert_int_equal(kv_feature_gate(&v, 2, why, sizeof why), RV_OK);
  s_member(&v, "n1", 2, true);
  s_member(&v, "n2", 2, true);
  s_member(&v, "n3", 1, true);
  assert_int_equal(kv_feature_cluster_level(&v), 1);
  assert_int_equal(kv_feature_gate(&v, 1, why, sizeof why), RV_OK);
  assert_int_equal(kv_feature_gate(&v, 2, why, sizeof why), RV_EFEATURE);
  assert_string_equal(why, "needs every node at feature level 2; n3 runs level 1: upgrade it "
                           "(raftvisor endpoints shows each node's level)");
  v.m[1].level = 1;
  assert_int_equal(kv_feature_gate(&v, 2, why, sizeof why), RV_EFEATURE);
  assert_string_equal(why, "needs every node at feature level 2; n2 runs level 1, n3 runs level "
                           "1: upgrade them (raftvisor endpoints shows each node's level)");
  v.m[1].level = v.m[2].level = 2;
  assert_int_equal(kv_feature_cluster_level(&v), 2);
  assert_int_equal(kv_feature_gate(&v, 2, why, sizeof why), RV_OK);
  /* an op of a level above every member's (a number this build does not know) */
  assert_int_equal(kv_feature_gate(&v, 3, why, sizeof why), RV_EFEATURE);
  assert_non_null(strstr(why, "n1 runs level 2, n2 runs level 2, n3 runs level 2: upgrade them"));

  /* a level not known: it counts as 1 ... */
  v.m[2].level = 0;
  v.m[2].active = false;
  assert_int_equal(kv_feature_cluster_level(&v), 1);
  assert_int_equal(kv_feature_gate(&v, 1, why, sizeof why), RV_OK);
  assert_int_equal(kv_feature_gate(&v, 2, why, sizeof why), RV_EFEATURE);
  assert_string_equal(why, "needs every node at feature level 2; n3 has not answered the leader "
                           "(its level is not known: it counts as 1): upgrade it (raftvisor "
                           "endpoints shows each node's level)");
  /* ... but a new leader waits for it, as for a member that answers and has not said yet */
  v.settling = true;
  assert_int_equal(kv_feature_gate(&v, 2, why, sizeof why), RV_EUNAVAIL);
  assert_string_equal(why, "needs every node at feature level 2; the level of n3 is not known "
                           "yet (the leader has not heard it since it began to lead): retry");
  v.settling = false;
  v.m[2].active = true;
  assert_int_equal(kv_feature_gate(&v, 2, why, sizeof why), RV_EUNAVAIL);
  /* a member known to be below decides, whatever is still unknown */
  v.m[1].level = 1;
  assert_int_equal(kv_feature_gate(&v, 2, why, sizeof why), RV_EFEATURE);
  assert_non_null(strstr(why, "; n2 runs level 1: upgrade it"));
  /* a message cut by a small buffer stays a string */
  char tiny[16];
  assert_int_equal(kv_feature_gate(&v, 2, tiny, sizeof tiny), RV_EFEATURE);
  assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

/* A mkdir's bytes with its op byte set to op (the layout every op shares still parses). */
static void s_cmd_with_op(kv_buf_t *b, uint8_t op) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MKDIR, "/new");
  c.time_ms = 5;
  kv_t_encode(&c, b);
  b->data[1] = op;
}

static void test_newer_command_detected(void **state) {
  kv_buf_t b;
  kv_buf_init(&b);
  uint8_t op = 0;
  s_cmd_with_op(&b, KV_OP_MKDIR);
  assert_false(kv_cmd_newer(b.data, b.len, &op)); /* known */
  s_cmd_with_op(&b, 12);
  assert_true(kv_cmd_newer(b.data, b.len, &op));
  assert_int_equal(op, 12);
  kv_cmd_t c;
  rv_err_t err;
  assert_int_equal(kv_cmd_decode(b.data, b.len, &c, &err), RV_EDECODE);
  assert_false(kv_cmd_newer(b.data, b.len - 1, &op)); /* truncated: garbage */
  kv_buf_put_u8(&b, 0);
  assert_false(kv_cmd_newer(b.data, b.len, &op)); /* trailing byte */
  s_cmd_with_op(&b, 200);
  b.data[0] = 9; /* an unknown version: no layout to check */
  assert_false(kv_cmd_newer(b.data, b.len, &op));
  assert_false(kv_cmd_newer((const uint8_t *)"", 0, &op));
  kv_buf_close(&b);
}

/* The apply refuses a newer build's command (nothing written, the reason names the index and
 * the op) and takes garbage as before; a later start with a build that knows the op (here: the
 * same entries, minus it) goes on from where the store was. */
static void test_apply_stops_at_a_newer_command(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(kv_t_mkdir(e, "/a", 0), RV_OK);
  uint64_t applied = kv_core_applied(e->core), digest = kv_t_digest(e, KV_DIGEST_ALL);
  kv_buf_t b;
  kv_buf_init(&b);
  s_cmd_with_op(&b, 70);
  kv_result_t res;
  rv_err_t err;
  assert_int_equal(kv_core_apply(e->core, applied + 1, b.data, b.len, &res, &err), RV_ECONFIG);
  char want[128];
  snprintf(want, sizeof want, "log index %llu holds op 70, which this build does not know",
           (unsigned long long)applied + 1);
  assert_non_null(strstr(err.msg, want));
  assert_non_null(strstr(err.msg, "this build is older than the cluster: upgrade this node"));
  assert_int_equal(kv_core_applied(e->core), applied);
  assert_true(kv_t_digest(e, KV_DIGEST_ALL) == digest);
  /* in a batch: the entries before it are not written either (the node stops) */
  kv_buf_t mk;
  kv_buf_init(&mk);
  s_cmd_with_op(&mk, KV_OP_MKDIR);
  kv_entry_t ents[2] = {{.index = applied + 1, .data = mk.data, .len = mk.len},
                        {.index = applied + 2, .data = b.data, .len = b.len}};
  kv_result_t rs[2];
  assert_int_equal(kv_core_apply_batch(e->core, ents, 2, rs, &err), RV_ECONFIG);
  assert_int_equal(kv_core_applied(e->core), applied);
  assert_true(kv_t_digest(e, KV_DIGEST_ALL) == digest);
  /* garbage: a failed outcome at its index, as before, the same on every replica */
  uint8_t junk[] = {1, 70, 0, 0};
  assert_int_equal(kv_core_apply(e->core, applied + 1, junk, sizeof junk, &res, &err), RV_OK);
  assert_int_equal(res.code, RV_EDECODE);
  assert_int_equal(kv_core_applied(e->core), applied + 1);
  kv_buf_close(&mk);
  kv_buf_close(&b);
  kv_t_env_destroy(&e);
}

/* A core standing for level 1 (RV_TEST_FEATURE_LEVEL=1) applies level 1's ops and stops at an
 * op of level 2; the configuration takes 1..KV_FEATURE_LEVEL only. */
static void test_level_one_replica(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  assert_int_equal(cfg.feature_level, KV_FEATURE_LEVEL);
  kv_memstore_t *ms = kv_memstore_new();
  kv_core_t *core = NULL;
  rv_err_t err;
  cfg.feature_level = KV_FEATURE_LEVEL + 1;
  assert_int_equal(kv_core_new(kv_memstore_store(ms), &cfg, &core, &err), RV_EINVAL);
  cfg.feature_level = 0;
  assert_int_equal(kv_core_new(kv_memstore_store(ms), &cfg, &core, &err), RV_EINVAL);
  kv_memstore_destroy(&ms);
  cfg.feature_level = 1;
  kv_t_env_t *e = kv_t_env_new(&cfg);
  assert_int_equal(kv_t_put(e, "/f", "x", 0), RV_OK);
  assert_int_equal(kv_t_mv(e, "/f", "/g"), RV_OK);
  uint64_t applied = kv_core_applied(e->core);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_APPEND, "/g");
  c.data = (kv_bytes_t){(const uint8_t *)"y", 1};
  kv_buf_t b;
  kv_buf_init(&b);
  kv_t_encode(&c, &b);
  kv_result_t res;
  assert_int_equal(kv_core_apply(e->core, applied + 1, b.data, b.len, &res, &err), RV_ECONFIG);
  char want[160];
  snprintf(want, sizeof want, "log index %llu holds op 7 (append), which needs feature level 2; "
           "this node runs level 1: this build is older than the cluster: upgrade this node",
           (unsigned long long)applied + 1);
  assert_string_equal(err.msg, want);
  assert_int_equal(kv_core_applied(e->core), applied);
  kv_buf_close(&b);
  kv_t_env_destroy(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_level_table),
      cmocka_unit_test(test_gate),
      cmocka_unit_test(test_newer_command_detected),
      cmocka_unit_test(test_apply_stops_at_a_newer_command),
      cmocka_unit_test(test_level_one_replica),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
