/* Unit tests of kv_ops_content: append (create, grow, the inline limit, totals, mtime, errors,
 * permissions, exactly-once under a retried seq), truncate (shrink, equal, HDFS' refusal of a
 * larger length, errors, permissions) and concat (HDFS' rules, order, totals, sources removed,
 * the limit, permissions). Failed commands change nothing; fsck after each test. */
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
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.inline_max = 64; /* small, so the limit is easy to reach */
  s_e = kv_t_env_new(&cfg);
  return 0;
}

static int s_teardown(void **state) {
  assert_int_equal(kv_t_check(s_e), RV_OK);
  kv_t_env_destroy(&s_e);
  return 0;
}

static void s_expect(int rc, int code, const char *frag) {
  if (rc != code)
    fail_msg("got %s (%s), want %s", rv_code_name(rc), s_e->res.msg, rv_code_name(code));
  if (frag && !strstr(s_e->res.msg, frag))
    fail_msg("message \"%s\" lacks \"%s\"", s_e->res.msg, frag);
  if (code == RV_OK) assert_string_equal(s_e->res.msg, "");
}

static kv_stat_t s_stat(const char *p) {
  kv_stat_t st;
  assert_int_equal(kv_t_stat(s_e, p, &st), RV_OK);
  return st;
}

static void s_cat_is(const char *p, const char *want) {
  kv_buf_t out;
  kv_buf_init(&out);
  rv_err_t err;
  assert_int_equal(kv_core_cat(s_e->core, p, strlen(p), &out, &err), RV_OK);
  assert_int_equal(out.len, strlen(want));
  if (out.len) assert_memory_equal(out.data, want, out.len);
  kv_buf_close(&out);
}

static int s_append(const char *p, const char *data) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_APPEND, p);
  c.data = (kv_bytes_t){(const uint8_t *)data, strlen(data)};
  return kv_t_apply(s_e, &c);
}

static int s_truncate(const char *p, uint64_t len) {
  kv_cmd_t c;
  uint8_t v[KV_TRUNCATE_LEN];
  kv_be64_put(v, len);
  kv_t_cmd(&c, KV_OP_TRUNCATE, p);
  c.data = (kv_bytes_t){v, sizeof v};
  return kv_t_apply(s_e, &c);
}

/* concat target src... (NULL-terminated) */
static int s_concat(const char *target, ...) {
  kv_bytes_t srcs[16];
  size_t n = 0;
  va_list ap;
  va_start(ap, target);
  for (const char *s; (s = va_arg(ap, const char *));)
    srcs[n++] = (kv_bytes_t){(const uint8_t *)s, strlen(s)};
  va_end(ap);
  kv_buf_t data;
  kv_buf_init(&data);
  rv_err_t err;
  assert_int_equal(kv_concat_srcs_encode(srcs, n, &data, &err), RV_OK);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_CONCAT, target);
  c.data = (kv_bytes_t){data.data, data.len};
  int rc = kv_t_apply(s_e, &c);
  kv_buf_close(&data);
  return rc;
}

/* The command as principal user (groups g), permissions enforced; root is the superuser. */
static int s_as(const char *user, const char *g, kv_cmd_t *c) {
  if (c->op == KV_OP_APPEND || c->op == KV_OP_PUT || c->op == KV_OP_MKDIR) c->owner = c->group = (kv_bytes_t){NULL, 0};
  c->user = (kv_bytes_t){(const uint8_t *)user, strlen(user)};
  c->pflags = KV_P_ENFORCE | (strcmp(user, "root") == 0 ? KV_P_SUPERUSER : 0);
  c->ngroups = 0;
  if (g) c->groups[c->ngroups++] = (kv_bytes_t){(const uint8_t *)g, strlen(g)};
  return kv_t_apply(s_e, c);
}

/* A failing command leaves the namespace as it was (the applied index moves). */
#define S_UNCHANGED(call, code, frag)                                           \
  do {                                                                          \
    uint64_t before_ = kv_t_digest(s_e, KV_DIGEST_NAMESPACE);                   \
    s_expect((call), (code), (frag));                                           \
    assert_true(kv_t_digest(s_e, KV_DIGEST_NAMESPACE) == before_);              \
    assert_int_equal(s_e->res.inode, 0);                                        \
    assert_int_equal(s_e->res.n, 0);                                            \
  } while (0)

/* ---- append ---- */

static void test_append_creates_then_grows(void **state) {
  s_expect(kv_t_mkdir(s_e, "/d", 0), RV_OK, NULL);
  s_e->now = 1000;
  s_expect(s_append("/d/log", "one\n"), RV_OK, NULL);
  assert_int_equal(s_e->res.op, KV_OP_APPEND);
  assert_int_equal(s_e->res.n, 4);
  uint64_t ino = s_e->res.inode;
  kv_stat_t st = s_stat("/d/log");
  assert_int_equal(st.attr.type, KV_TYPE_FILE);
  assert_int_equal(st.attr.perm, 0644);
  assert_true(st.attr.mtime_ms == 1000);
  assert_int_equal(s_stat("/d").attr.nchildren, 1);

  s_e->now = 2000;
  s_expect(s_append("/d/log", "two\n"), RV_OK, NULL);
  assert_int_equal(s_e->res.inode, ino); /* the same file, grown in place */
  assert_int_equal(s_e->res.n, 8);
  st = s_stat("/d/log");
  assert_int_equal(st.inode, ino);
  assert_int_equal(st.attr.size, 8);
  assert_true(st.attr.mtime_ms == 2000 && st.attr.atime_ms == 1000);
  assert_true(s_stat("/d").attr.mtime_ms == 1000); /* an append does not touch the parent */
  s_cat_is("/d/log", "one\ntwo\n");
  kv_count_t ct;
  assert_int_equal(kv_t_count(s_e, "/", &ct), RV_OK);
  assert_true(ct.dirs == 2 && ct.files == 1 && ct.bytes == 8);

  /* nothing appended: the content stays, the mtime moves */
  s_e->now = 3000;
  s_expect(s_append("/d/log", ""), RV_OK, NULL);
  assert_int_equal(s_stat("/d/log").attr.size, 8);
  assert_true(s_stat("/d/log").attr.mtime_ms == 3000);
  /* an empty new file */
  s_expect(s_append("/d/empty", ""), RV_OK, NULL);
  s_cat_is("/d/empty", "");
  s_expect(s_append("/d/empty", "x"), RV_OK, NULL);
  s_cat_is("/d/empty", "x");
}

static void test_append_limit(void **state) {
  char big[65];
  memset(big, 'a', 64);
  big[64] = '\0';
  s_expect(s_append("/f", big), RV_OK, NULL); /* exactly the limit */
  S_UNCHANGED(s_append("/f", "b"), RV_ETOOBIG,
              "append /f: the file would hold 65 bytes after the append, over the inline limit "
              "of 64 bytes");
  big[63] = '\0';
  s_expect(s_append("/g", "12"), RV_OK, NULL);
  s_expect(s_append("/g", big), RV_ETOOBIG, "inline limit of 64 bytes");
  s_cat_is("/g", "12");
  S_UNCHANGED(s_append("/h", "12345678901234567890123456789012345678901234567890123456789012345"),
              RV_ETOOBIG, "over the inline limit");
}

static void test_append_errors(void **state) {
  s_expect(kv_t_mkdir(s_e, "/d", 0), RV_OK, NULL);
  s_expect(kv_t_put(s_e, "/f", "x", 0), RV_OK, NULL);
  S_UNCHANGED(s_append("/d", "x"), RV_EISDIR, "append /d: is a directory");
  S_UNCHANGED(s_append("/", "x"), RV_EISDIR, "is a directory");
  S_UNCHANGED(s_append("/nope/f", "x"), RV_ENOTFOUND, "/nope: no such file or directory");
  S_UNCHANGED(s_append("/f/g", "x"), RV_ENOTDIR, "/f is not a directory");
  S_UNCHANGED(s_append("rel", "x"), RV_EINVAL, NULL);
}

static void test_append_exactly_once(void **state) {
  s_e->client = 0x42;
  s_expect(s_append("/f", "a"), RV_OK, NULL);
  s_expect(s_append("/f", "b"), RV_OK, NULL);
  uint64_t index = s_e->res.index;
  /* the same command again (same client and seq, a later log index): a retry */
  s_expect(kv_t_apply_raw(s_e, s_e->enc.data, s_e->enc.len), RV_OK, NULL);
  assert_true(s_e->res.skipped);
  assert_int_equal(s_e->res.index, index);
  assert_int_equal(s_e->res.n, 2);
  s_cat_is("/f", "ab");
  s_expect(s_append("/f", "c"), RV_OK, NULL);
  s_cat_is("/f", "abc");
}

static void test_append_permissions(void **state) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MKDIR, "/home");
  c.perm = 0777;
  assert_int_equal(s_as("root", NULL, &c), RV_OK);
  kv_t_cmd(&c, KV_OP_APPEND, "/home/a");
  c.data = (kv_bytes_t){(const uint8_t *)"alice\n", 6};
  s_expect(s_as("alice", "staff", &c), RV_OK, NULL);
  assert_string_equal(s_stat("/home/a").attr.owner, "alice");
  kv_t_cmd(&c, KV_OP_APPEND, "/home/a");
  c.data = (kv_bytes_t){(const uint8_t *)"bob\n", 4};
  S_UNCHANGED(s_as("bob", "users", &c), RV_EPERM,
              "Permission denied: user=bob, access=WRITE, inode=\"/home/a\":alice:");
  /* a create needs WRITE on the parent */
  kv_t_cmd(&c, KV_OP_APPEND, "/new");
  c.data = (kv_bytes_t){(const uint8_t *)"x", 1};
  S_UNCHANGED(s_as("bob", "users", &c), RV_EPERM, "access=WRITE, inode=\"/\":");
  kv_t_cmd(&c, KV_OP_APPEND, "/home/a");
  c.data = (kv_bytes_t){(const uint8_t *)"root\n", 5};
  s_expect(s_as("root", NULL, &c), RV_OK, NULL);
  s_cat_is("/home/a", "alice\nroot\n");
}

/* ---- truncate ---- */

static void test_truncate(void **state) {
  s_expect(kv_t_mkdir(s_e, "/d", 0), RV_OK, NULL);
  s_e->now = 100;
  s_expect(kv_t_put(s_e, "/d/f", "0123456789", 0), RV_OK, NULL);
  uint64_t ino = s_e->res.inode;
  s_e->now = 200;
  s_expect(s_truncate("/d/f", 4), RV_OK, NULL);
  assert_int_equal(s_e->res.op, KV_OP_TRUNCATE);
  assert_int_equal(s_e->res.inode, ino);
  assert_int_equal(s_e->res.n, 4);
  s_cat_is("/d/f", "0123");
  kv_stat_t st = s_stat("/d/f");
  assert_int_equal(st.attr.size, 4);
  assert_true(st.attr.mtime_ms == 200);
  kv_count_t ct;
  assert_int_equal(kv_t_count(s_e, "/d", &ct), RV_OK);
  assert_true(ct.files == 1 && ct.bytes == 4);
  assert_int_equal(kv_t_count(s_e, "/", &ct), RV_OK);
  assert_true(ct.bytes == 4);
  /* the same length: nothing changes, not even the mtime (as HDFS) */
  s_e->now = 300;
  s_expect(s_truncate("/d/f", 4), RV_OK, NULL);
  assert_true(s_stat("/d/f").attr.mtime_ms == 200);
  /* to zero: the content key goes */
  s_expect(s_truncate("/d/f", 0), RV_OK, NULL);
  s_cat_is("/d/f", "");
  assert_int_equal(kv_t_count(s_e, "/", &ct), RV_OK);
  assert_true(ct.bytes == 0);
  s_expect(s_append("/d/f", "again"), RV_OK, NULL);
  s_cat_is("/d/f", "again");
}

static void test_truncate_errors(void **state) {
  s_expect(kv_t_mkdir(s_e, "/d", 0), RV_OK, NULL);
  s_expect(kv_t_put(s_e, "/f", "abc", 0), RV_OK, NULL);
  S_UNCHANGED(s_truncate("/f", 4), RV_EINVAL,
              "truncate /f: Cannot truncate to a larger file size. Current size: 3, truncate "
              "size: 4.");
  S_UNCHANGED(s_truncate("/d", 0), RV_EISDIR, "truncate /d: is a directory");
  S_UNCHANGED(s_truncate("/", 0), RV_EISDIR, "is a directory");
  S_UNCHANGED(s_truncate("/nope", 0), RV_ENOTFOUND, "/nope: no such file or directory");
  /* a malformed length */
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_TRUNCATE, "/f");
  c.data = (kv_bytes_t){(const uint8_t *)"1", 1};
  S_UNCHANGED(kv_t_apply(s_e, &c), RV_EINVAL, "the new length is 1 bytes");
  /* permissions: WRITE on the file */
  uint8_t v[8];
  kv_be64_put(v, 1);
  kv_t_cmd(&c, KV_OP_TRUNCATE, "/f");
  c.data = (kv_bytes_t){v, 8};
  S_UNCHANGED(s_as("bob", "users", &c), RV_EPERM, "user=bob, access=WRITE, inode=\"/f\"");
  s_cat_is("/f", "abc");
}

/* An append after a truncate keeps both, in log order (what a read-and-put-back lost). */
static void test_truncate_then_append_in_order(void **state) {
  s_expect(kv_t_put(s_e, "/f", "aaaa", 0), RV_OK, NULL);
  s_expect(s_truncate("/f", 2), RV_OK, NULL);
  s_expect(s_append("/f", "b"), RV_OK, NULL);
  s_expect(s_truncate("/f", 3), RV_OK, NULL);
  s_expect(s_append("/f", "c"), RV_OK, NULL);
  s_cat_is("/f", "aabc");
}

/* ---- concat ---- */

static void test_concat(void **state) {
  s_expect(kv_t_mkdir(s_e, "/d", 0), RV_OK, NULL);
  s_expect(kv_t_put(s_e, "/d/t", "T", 0), RV_OK, NULL);
  uint64_t ino = s_e->res.inode;
  s_expect(kv_t_put(s_e, "/d/a", "A", 0), RV_OK, NULL);
  s_expect(kv_t_put(s_e, "/d/b", "BB", 0), RV_OK, NULL);
  s_expect(kv_t_touchz(s_e, "/d/e"), RV_OK, NULL);
  s_e->now = 5000;
  s_expect(s_concat("/d/t", "/d/b", "/d/e", "/d/a", NULL), RV_OK, NULL);
  assert_int_equal(s_e->res.op, KV_OP_CONCAT);
  assert_int_equal(s_e->res.inode, ino);
  assert_int_equal(s_e->res.n, 4);
  s_cat_is("/d/t", "TBBA"); /* in the order given */
  kv_stat_t st;
  assert_int_equal(kv_t_stat(s_e, "/d/a", &st), RV_ENOTFOUND);
  assert_int_equal(kv_t_stat(s_e, "/d/b", &st), RV_ENOTFOUND);
  assert_int_equal(kv_t_stat(s_e, "/d/e", &st), RV_ENOTFOUND);
  st = s_stat("/d");
  assert_int_equal(st.attr.nchildren, 1);
  assert_true(st.attr.mtime_ms == 5000);
  assert_true(s_stat("/d/t").attr.mtime_ms == 5000);
  kv_count_t ct;
  assert_int_equal(kv_t_count(s_e, "/", &ct), RV_OK);
  assert_true(ct.dirs == 2 && ct.files == 1 && ct.bytes == 4);
}

static void test_concat_rules(void **state) {
  s_expect(kv_t_mkdir(s_e, "/d", 0), RV_OK, NULL);
  s_expect(kv_t_mkdir(s_e, "/o", 0), RV_OK, NULL);
  s_expect(kv_t_mkdir(s_e, "/d/sub", 0), RV_OK, NULL);
  s_expect(kv_t_put(s_e, "/d/t", "T", 0), RV_OK, NULL);
  s_expect(kv_t_put(s_e, "/d/a", "A", 0), RV_OK, NULL);
  s_expect(kv_t_put(s_e, "/o/x", "X", 0), RV_OK, NULL);
  S_UNCHANGED(s_concat("/d/t", "/o/x", NULL), RV_EINVAL,
              "concat /d/t: Source file /o/x is not in the same directory with the target");
  S_UNCHANGED(s_concat("/d/t", "/d/t", NULL), RV_EINVAL, "the src file /d/t is the same");
  S_UNCHANGED(s_concat("/d/t", "/d/a", "/d/a", NULL), RV_EINVAL, "source /d/a is given twice");
  S_UNCHANGED(s_concat("/d/t", "/d/sub", NULL), RV_EISDIR, "source /d/sub is a directory");
  S_UNCHANGED(s_concat("/d/t", "/d/nope", NULL), RV_ENOTFOUND,
              "source /d/nope: no such file or directory");
  S_UNCHANGED(s_concat("/d", "/d/a", NULL), RV_EISDIR, "the target is a directory");
  S_UNCHANGED(s_concat("/d/none", "/d/a", NULL), RV_ENOTFOUND, "no such file or directory");
  /* a later source failing leaves the earlier ones in place */
  S_UNCHANGED(s_concat("/d/t", "/d/a", "/d/nope", NULL), RV_ENOTFOUND, NULL);
  s_cat_is("/d/a", "A");
  /* no sources at all */
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_CONCAT, "/d/t");
  c.data = (kv_bytes_t){(const uint8_t *)"\0\0", 2};
  S_UNCHANGED(kv_t_apply(s_e, &c), RV_EINVAL, "the sources do not decode");
  /* the limit covers the result */
  char big[64];
  memset(big, 'z', 63);
  big[63] = '\0';
  s_expect(kv_t_put(s_e, "/d/big", big, 0), RV_OK, NULL);
  S_UNCHANGED(s_concat("/d/t", "/d/a", "/d/big", NULL), RV_ETOOBIG,
              "the file would hold 65 bytes after the concat, over the inline limit of 64");
  /* permissions: READ on a source, WRITE on its parent and on the target */
  kv_t_cmd(&c, KV_OP_SETATTR, "/d");
  c.set_mask = KV_SET_PERM;
  c.perm = 0777;
  c.owner = c.group = (kv_bytes_t){NULL, 0};
  s_expect(kv_t_apply(s_e, &c), RV_OK, NULL);
  kv_bytes_t one = {(const uint8_t *)"/d/a", 4};
  kv_buf_t data;
  kv_buf_init(&data);
  rv_err_t err;
  assert_int_equal(kv_concat_srcs_encode(&one, 1, &data, &err), RV_OK);
  kv_t_cmd(&c, KV_OP_CONCAT, "/d/t");
  c.data = (kv_bytes_t){data.data, data.len};
  S_UNCHANGED(s_as("bob", "users", &c), RV_EPERM, "user=bob, access=WRITE, inode=\"/d/t\"");
  kv_t_cmd(&c, KV_OP_CONCAT, "/d/t");
  c.data = (kv_bytes_t){data.data, data.len};
  s_expect(s_as("root", NULL, &c), RV_OK, NULL);
  kv_buf_close(&data);
  s_cat_is("/d/t", "TA");
}

static void test_concat_srcs_codec(void **state) {
  kv_bytes_t srcs[2] = {{(const uint8_t *)"/a", 2}, {(const uint8_t *)"/b/c", 4}}, out[4];
  kv_buf_t b;
  kv_buf_init(&b);
  rv_err_t err;
  assert_int_equal(kv_concat_srcs_encode(srcs, 2, &b, &err), RV_OK);
  size_t n;
  kv_bytes_t d = {b.data, b.len};
  assert_int_equal(kv_concat_srcs_decode(&d, out, 4, &n), RV_OK);
  assert_int_equal(n, 2);
  assert_memory_equal(out[1].p, "/b/c", 4);
  assert_int_equal(kv_concat_srcs_decode(&d, out, 1, &n), RV_EDECODE); /* over cap */
  d.len--;
  assert_int_equal(kv_concat_srcs_decode(&d, out, 4, &n), RV_EDECODE); /* truncated */
  assert_int_equal(kv_concat_srcs_encode(srcs, 0, &b, &err), RV_EINVAL);
  kv_buf_close(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_append_creates_then_grows, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_append_limit, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_append_errors, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_append_exactly_once, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_append_permissions, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_truncate, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_truncate_errors, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_truncate_then_append_in_order, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_concat, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_concat_rules, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_concat_srcs_codec, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
