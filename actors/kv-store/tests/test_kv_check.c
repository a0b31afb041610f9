/* Unit tests of kv_check: the replica digest (scopes, sensitivity) and fsck, which must catch
 * every kind of inconsistency planted directly in the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_testutil.h"

static kv_t_env_t *s_e;

static int s_setup(void **state) {
  s_e = kv_t_env_new(NULL);
  assert_int_equal(kv_t_put(s_e, "/d/e/f", "abc", KV_F_PARENTS), RV_OK);
  assert_int_equal(kv_t_touchz(s_e, "/d/empty"), RV_OK);
  return 0;
}

static int s_teardown(void **state) {
  kv_t_env_destroy(&s_e);
  return 0;
}

static void s_raw_put(const void *k, size_t kl, const void *v, size_t vl) {
  kv_batch_t *b = kv_batch_new();
  if (v)
    kv_batch_put(b, k, kl, v, vl);
  else
    kv_batch_del(b, k, kl);
  rv_err_t err;
  assert_int_equal(kv_store_write(s_e->store, b, &err), RV_OK);
  kv_batch_destroy(&b);
  /* The core must be the store's only writer (its cache copies the store): a write behind its
   * back is followed by a restart, as a repair tool would do. */
  kv_t_env_reopen(s_e);
}

static void s_expect_corrupt(const char *frag) {
  rv_err_t err;
  int rc = kv_core_check(s_e->core, NULL, &err);
  if (rc != RV_ECORRUPT) fail_msg("fsck said %s, want ECORRUPT (%s)", rv_code_name(rc), frag);
  if (!strstr(err.msg, frag)) fail_msg("fsck message \"%s\" lacks \"%s\"", err.msg, frag);
}

static uint64_t s_ino(const char *p) {
  kv_stat_t st;
  assert_int_equal(kv_t_stat(s_e, p, &st), RV_OK);
  return st.inode;
}

static void test_check_clean(void **state) {
  kv_check_t out;
  rv_err_t err;
  assert_int_equal(kv_core_check(s_e->core, &out, &err), RV_OK);
  assert_true(out.dirs == 3 && out.files == 2 && out.bytes == 3);
  assert_int_equal(out.sessions, 0);
  assert_int_equal(out.keys, 5 /* attrs */ + 4 /* dentries */ + 1 /* content */ + 2 /* meta */);
  assert_int_equal(out.keys, kv_memstore_count(s_e->ms));
}

static void test_check_counter_drift(void **state) {
  kv_attr_t a;
  rv_err_t err;
  uint8_t key[16];
  size_t kl = kv_key_attr(key, s_ino("/d"));
  kv_buf_t v;
  kv_buf_init(&v);
  assert_int_equal(kv_store_get(s_e->store, key, kl, &v, &err), RV_OK);
  assert_int_equal(kv_attr_decode(v.data, v.len, &a), RV_OK);
  a.sub_bytes++;
  kv_buf_reset(&v);
  kv_attr_encode(&a, &v);
  s_raw_put(key, kl, v.data, v.len);
  s_expect_corrupt("recount gives");
  /* and rm -r notices drifted counts too, refusing to apply */
  a.sub_bytes--;
  a.sub_files++;
  kv_buf_reset(&v);
  kv_attr_encode(&a, &v);
  s_raw_put(key, kl, v.data, v.len);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_RM, "/d");
  c.flags = KV_F_RECURSIVE;
  kv_t_encode(&c, &v);
  kv_result_t r;
  assert_int_equal(kv_core_apply(s_e->core, s_e->index + 1, v.data, v.len, &r, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "were found"));
  kv_buf_close(&v);
}

static void test_check_orphans(void **state) {
  uint8_t key[16];
  kv_attr_t a = {.type = KV_TYPE_FILE, .perm = 0644};
  snprintf(a.owner, sizeof a.owner, "x");
  snprintf(a.group, sizeof a.group, "y");
  kv_buf_t v;
  kv_buf_init(&v);
  kv_attr_encode(&a, &v);
  /* an attribute above next_inode */
  size_t kl = kv_key_attr(key, 999);
  s_raw_put(key, kl, v.data, v.len);
  s_expect_corrupt("not below next_inode");
  s_raw_put(key, kl, NULL, 0);
  /* an unreachable attribute below next_inode (inode 2 is /d; use a free number below 2? no:
   * delete /d/empty's dentry, leaving its attribute behind) */
  uint64_t dir = s_ino("/d");
  kl = kv_key_dentry(key, dir, "empty", 5);
  s_raw_put(key, kl, NULL, 0);
  s_expect_corrupt("recount gives"); /* /d's counters no longer match either */
  kv_buf_close(&v);
}

static void test_check_orphan_content(void **state) {
  uint8_t key[16];
  size_t kl = kv_key_content(key, s_ino("/d/empty"));
  s_raw_put(key, kl, "zz", 2);
  s_expect_corrupt("content of inode");
}

static void test_check_content_size_mismatch(void **state) {
  uint8_t key[16];
  size_t kl = kv_key_content(key, s_ino("/d/e/f"));
  s_raw_put(key, kl, "abcd", 4);
  s_expect_corrupt("does not match size 3");
  kv_buf_t out;
  kv_buf_init(&out);
  rv_err_t err;
  assert_int_equal(kv_core_cat(s_e->core, "/d/e/f", 6, &out, &err), RV_ECORRUPT);
  kv_buf_close(&out);
}

static void test_check_dangling_dentry(void **state) {
  uint8_t key[300], dv[KV_DENTRY_LEN];
  size_t kl = kv_key_dentry(key, KV_ROOT_INO, "ghost", 5);
  kv_dentry_encode(dv, 3, KV_TYPE_DIR); /* inode 3 is /d/e: a second name, wrong type or not */
  s_raw_put(key, kl, dv, sizeof dv);
  s_expect_corrupt("");
  kv_dentry_encode(dv, 4, KV_TYPE_DIR); /* inode 4 is the file /d/e/f */
  s_raw_put(key, kl, dv, sizeof dv);
  s_expect_corrupt("disagree on type");
  s_raw_put(key, kl, "bad", 3);
  s_expect_corrupt("malformed dentry");
}

static void test_check_missing_attr(void **state) {
  uint8_t key[16];
  size_t kl = kv_key_attr(key, s_ino("/d/e/f"));
  s_raw_put(key, kl, NULL, 0);
  s_expect_corrupt("attributes of inode 4 are missing");
}

static void test_check_sessions(void **state) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MKDIR, "/s");
  s_e->client = 77;
  assert_int_equal(kv_t_apply(s_e, &c), RV_OK);
  assert_int_equal(kv_t_check(s_e), RV_OK);
  uint8_t key[32];
  size_t kl = kv_key_session_lru(key, 12345, 77);
  s_raw_put(key, kl, "", 0);
  s_expect_corrupt("session LRU entry of client 000000000000004d has no matching session");
}

static void test_check_unknown_table(void **state) {
  s_raw_put("Xjunk", 5, "1", 1);
  s_expect_corrupt("unexpected key of 5 bytes (table 0x58)");
}

static void test_digest_scopes(void **state) {
  kv_t_env_t *other = kv_t_env_new(NULL);
  assert_int_equal(kv_t_put(other, "/d/e/f", "abc", KV_F_PARENTS), RV_OK);
  other->client = 5; /* same namespace, but with a session */
  assert_int_equal(kv_t_touchz(other, "/d/empty"), RV_OK);
  assert_true(kv_t_digest(s_e, KV_DIGEST_NAMESPACE) == kv_t_digest(other, KV_DIGEST_NAMESPACE));
  assert_true(kv_t_digest(s_e, KV_DIGEST_ALL) != kv_t_digest(other, KV_DIGEST_ALL));
  /* any change shows */
  uint64_t d = kv_t_digest(s_e, KV_DIGEST_NAMESPACE);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_SETATTR, "/d/e/f");
  c.set_mask = KV_SET_ATIME;
  c.atime_ms = 1;
  assert_int_equal(kv_t_apply(s_e, &c), RV_OK);
  assert_true(kv_t_digest(s_e, KV_DIGEST_NAMESPACE) != d);
  kv_t_env_destroy(&other);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_check_clean, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_check_counter_drift, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_check_orphans, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_check_orphan_content, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_check_content_size_mismatch, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_check_dangling_dentry, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_check_missing_attr, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_check_sessions, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_check_unknown_table, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_digest_scopes, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
