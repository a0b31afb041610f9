/* Unit tests of kv_ops_xattr and kv_core_getxattrs: set / replace / remove, names and their
 * namespaces (HDFS' messages), the limits (32 per inode, 16384 bytes of name and value), who may
 * touch which namespace, READ to get, kept across a rename, dropped with the inode (rm, rm -r,
 * overwrite), covered by the namespace digest and fsck. */
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
}

/* A principal for c (NULL user: a version 1 command, unchecked). */
static void s_who(kv_cmd_t *c, const char *user) {
  if (!user) return;
  c->user = (kv_bytes_t){(const uint8_t *)user, strlen(user)};
  c->pflags = KV_P_ENFORCE | (strcmp(user, "root") == 0 ? KV_P_SUPERUSER : 0);
}

static kv_buf_t s_data;

static int s_set_as(const char *user, const char *path, const char *name, const void *v,
                    size_t vlen) {
  kv_buf_reset(&s_data);
  kv_buf_put_str8(&s_data, name, strlen(name));
  kv_buf_put_str16(&s_data, v, vlen);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_SETXATTR, path);
  c.data = (kv_bytes_t){s_data.data, s_data.len};
  s_who(&c, user);
  return kv_t_apply(s_e, &c);
}

static int s_set(const char *path, const char *name, const char *v) {
  return s_set_as(NULL, path, name, v, strlen(v));
}

static int s_rm_as(const char *user, const char *path, const char *name) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_REMOVEXATTR, path);
  c.data = (kv_bytes_t){(const uint8_t *)name, strlen(name)};
  s_who(&c, user);
  return kv_t_apply(s_e, &c);
}

/* getfattr -d as the reader (NULL: unchecked), rendered "name=value;..." into out. */
static int s_get_as(const kv_principal_t *p, const char *path, char *out, size_t cap) {
  kv_core_read_as(s_e->core, p);
  kv_buf_t b;
  kv_buf_init(&b);
  rv_err_t err;
  int rc = kv_core_getxattrs(s_e->core, path, strlen(path), &b, &err);
  kv_core_read_as(s_e->core, NULL);
  out[0] = '\0';
  if (rc == RV_OK && b.len) {
    kv_xattr_t xs[KV_XATTRS_MAX];
    size_t n, o = 0;
    assert_int_equal(kv_xattrs_decode(b.data, b.len, xs, &n), RV_OK);
    for (size_t i = 0; i < n; i++)
      o += (size_t)snprintf(out + o, cap - o, "%.*s=%.*s;", (int)xs[i].name.len,
                            (const char *)xs[i].name.p, (int)xs[i].value.len,
                            (const char *)xs[i].value.p);
  }
  kv_buf_close(&b);
  return rc;
}

static const char *s_get(const char *path) {
  static char out[4096];
  assert_int_equal(s_get_as(NULL, path, out, sizeof out), RV_OK);
  return out;
}

static void test_set_replace_remove(void **state) {
  kv_buf_init(&s_data);
  s_expect(kv_t_put(s_e, "/f", "x", 0), RV_OK, NULL);
  uint64_t d0 = kv_t_digest(s_e, KV_DIGEST_NAMESPACE);
  s_expect(s_set("/f", "user.b", "2"), RV_OK, NULL);
  assert_int_equal(s_e->res.n, 1);
  s_expect(s_set("/f", "USER.a", "1"), RV_OK, NULL); /* the namespace in any case */
  s_expect(s_set("/f", "trusted.t", ""), RV_OK, NULL); /* unchecked: the superuser */
  assert_string_equal(s_get("/f"), "trusted.t=;user.a=1;user.b=2;");
  assert_true(kv_t_digest(s_e, KV_DIGEST_NAMESPACE) != d0); /* in the namespace digest */
  s_expect(s_set("/f", "user.a", "one"), RV_OK, NULL); /* replace */
  assert_int_equal(s_e->res.n, 3);
  assert_string_equal(s_get("/f"), "trusted.t=;user.a=one;user.b=2;");
  s_expect(s_rm_as(NULL, "/f", "user.a"), RV_OK, NULL);
  s_expect(s_rm_as(NULL, "/f", "user.a"), RV_EINVAL,
           "No matching attributes found for remove operation");
  s_expect(s_rm_as(NULL, "/f", "trusted.t"), RV_OK, NULL);
  s_expect(s_rm_as(NULL, "/f", "user.b"), RV_OK, NULL);
  assert_string_equal(s_get("/f"), "");
  assert_true(kv_t_digest(s_e, KV_DIGEST_NAMESPACE) == d0); /* the key is gone */
  /* directories too */
  s_expect(s_set("/", "user.root", "r"), RV_OK, NULL);
  assert_string_equal(s_get("/"), "user.root=r;");
  kv_buf_close(&s_data);
}

static void test_names(void **state) {
  kv_buf_init(&s_data);
  s_expect(kv_t_put(s_e, "/f", "x", 0), RV_OK, NULL);
  const char *prefix = "An XAttr name must be prefixed with user/trusted/security/system/raw, "
                       "followed by a '.'";
  s_expect(s_set("/f", "foo", "v"), RV_EINVAL, prefix);
  s_expect(s_set("/f", "other.x", "v"), RV_EINVAL, prefix);
  s_expect(s_set("/f", "user", "v"), RV_EINVAL, prefix);
  s_expect(s_set("/f", "user.", "v"), RV_EINVAL, "XAttr name cannot be empty.");
  s_expect(s_set("/nope", "user.a", "v"), RV_ENOTFOUND, "/nope: no such file or directory");
  s_expect(s_rm_as(NULL, "/f", "bad"), RV_EINVAL, prefix);
  /* system., security., raw.: no client may */
  s_expect(s_set("/f", "system.x", "v"), RV_EPERM, "User doesn't have permission for xattr: system.x");
  s_expect(s_set("/f", "Security.x", "v"), RV_EPERM, "for xattr: security.x");
  s_expect(s_set("/f", "raw.x", "v"), RV_EPERM, "for xattr: raw.x");
  assert_string_equal(s_get("/f"), "");
  kv_buf_close(&s_data);
}

static void test_limits(void **state) {
  kv_buf_init(&s_data);
  s_expect(kv_t_put(s_e, "/f", "x", 0), RV_OK, NULL);
  static char big[KV_XATTR_SIZE_MAX + 1];
  memset(big, 'v', sizeof big);
  /* "user.a" is 6 bytes: a value of 16378 fits exactly */
  s_expect(s_set_as(NULL, "/f", "user.a", big, KV_XATTR_SIZE_MAX - 6), RV_OK, NULL);
  s_expect(s_set_as(NULL, "/f", "user.a", big, KV_XATTR_SIZE_MAX - 5), RV_EINVAL,
           "The XAttr is too big. The maximum combined size of the name and value is 16384, but "
           "the total size is 16385");
  for (int i = 1; i < KV_XATTRS_MAX; i++) {
    char name[32];
    snprintf(name, sizeof name, "user.n%02d", i);
    s_expect(s_set("/f", name, "v"), RV_OK, NULL);
  }
  assert_int_equal(s_e->res.n, KV_XATTRS_MAX);
  s_expect(s_set("/f", "user.zz", "v"), RV_EINVAL,
           "Cannot add additional XAttr to inode, would exceed limit of 32");
  s_expect(s_set("/f", "user.n05", "replaced"), RV_OK, NULL); /* a replace is no addition */
  kv_buf_close(&s_data);
}

static void test_permissions(void **state) {
  kv_buf_init(&s_data);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MKDIR, "/d");
  c.perm = 0777;
  s_expect(kv_t_apply(s_e, &c), RV_OK, NULL);
  kv_t_cmd(&c, KV_OP_PUT, "/d/f");
  c.owner = c.group = (kv_bytes_t){NULL, 0};
  s_who(&c, "alice");
  s_expect(kv_t_apply(s_e, &c), RV_OK, NULL); /* alice's, 0644 */
  s_expect(s_set_as("alice", "/d/f", "user.a", "1", 1), RV_OK, NULL);
  s_expect(s_set_as("bob", "/d/f", "user.b", "2", 1), RV_EPERM,
           "Permission denied: user=bob, access=WRITE, inode=\"/d/f\":alice:");
  s_expect(s_rm_as("bob", "/d/f", "user.a"), RV_EPERM, "user=bob, access=WRITE");
  s_expect(s_set_as("alice", "/d/f", "trusted.a", "1", 1), RV_EPERM,
           "User doesn't have permission for xattr: trusted.a");
  s_expect(s_set_as("root", "/d/f", "trusted.a", "1", 1), RV_OK, NULL);
  /* reads: READ on the entry; trusted.* only for the superuser */
  kv_principal_t bob = {.user = "bob", .enforce = true}, root = {.user = "root", .enforce = true,
                                                                 .superuser = true};
  char out[256];
  assert_int_equal(s_get_as(&bob, "/d/f", out, sizeof out), RV_OK);
  assert_string_equal(out, "user.a=1;");
  assert_int_equal(s_get_as(&root, "/d/f", out, sizeof out), RV_OK);
  assert_string_equal(out, "trusted.a=1;user.a=1;");
  kv_t_cmd(&c, KV_OP_SETATTR, "/d/f");
  c.set_mask = KV_SET_PERM;
  c.perm = 0600;
  c.owner = c.group = (kv_bytes_t){NULL, 0};
  s_expect(kv_t_apply(s_e, &c), RV_OK, NULL);
  assert_int_equal(s_get_as(&bob, "/d/f", out, sizeof out), RV_EPERM);
  kv_buf_close(&s_data);
}

static void test_follow_the_inode(void **state) {
  kv_buf_init(&s_data);
  s_expect(kv_t_mkdir(s_e, "/a/b", KV_F_PARENTS), RV_OK, NULL);
  s_expect(kv_t_put(s_e, "/a/b/f", "x", 0), RV_OK, NULL);
  s_expect(s_set("/a/b/f", "user.k", "v"), RV_OK, NULL);
  s_expect(s_set("/a/b", "user.d", "v"), RV_OK, NULL);
  s_expect(kv_t_mv(s_e, "/a", "/z"), RV_OK, NULL); /* a rename keeps them */
  assert_string_equal(s_get("/z/b/f"), "user.k=v;");
  assert_string_equal(s_get("/z/b"), "user.d=v;");
  assert_int_equal(kv_t_check(s_e), RV_OK);
  /* an overwrite is a new inode: none (as HDFS) */
  s_expect(kv_t_put(s_e, "/z/b/f", "y", KV_F_OVERWRITE), RV_OK, NULL);
  assert_string_equal(s_get("/z/b/f"), "");
  s_expect(s_set("/z/b/f", "user.k", "v"), RV_OK, NULL);
  /* rm -r drops every xattr below (fsck in teardown finds none left over) */
  s_expect(kv_t_rm(s_e, "/z", KV_F_RECURSIVE), RV_OK, NULL);
  s_expect(kv_t_put(s_e, "/g", "x", 0), RV_OK, NULL);
  s_expect(s_set("/g", "user.k", "v"), RV_OK, NULL);
  s_expect(kv_t_rm(s_e, "/g", 0), RV_OK, NULL);
  kv_buf_close(&s_data);
}

/* The off-cluster replica carries them: a base copy and the change log's catch-up give a store
 * with the same namespace digest, through a set, a replace and the inode's removal. */
static void test_replica_carries_them(void **state) {
  kv_t_env_destroy(&s_e);
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.chlog_max_bytes = 1 << 20;
  s_e = kv_t_env_new(&cfg);
  kv_buf_init(&s_data);
  s_expect(kv_t_put(s_e, "/f", "x", 0), RV_OK, NULL);
  s_expect(s_set("/f", "user.a", "1"), RV_OK, NULL);
  uint64_t at;
  kv_memstore_t *replica = kv_t_chlog_base_copy(s_e->store, 2, 1 << 20, &at);
  assert_true(kv_t_ns_digest(kv_memstore_store(replica)) == kv_t_ns_digest(s_e->store));
  s_expect(s_set("/f", "user.a", "2"), RV_OK, NULL);
  s_expect(s_set("/f", "user.b", "3"), RV_OK, NULL);
  uint64_t to;
  assert_int_equal(kv_t_chlog_catch_up(s_e->store, replica, at, 100, 1 << 20, &to), RV_OK);
  assert_true(kv_t_ns_digest(kv_memstore_store(replica)) == kv_t_ns_digest(s_e->store));
  s_expect(kv_t_rm(s_e, "/f", 0), RV_OK, NULL);
  assert_int_equal(kv_t_chlog_catch_up(s_e->store, replica, to, 100, 1 << 20, &to), RV_OK);
  assert_true(kv_t_ns_digest(kv_memstore_store(replica)) == kv_t_ns_digest(s_e->store));
  kv_memstore_destroy(&replica);
  kv_buf_close(&s_data);
}

static void test_codec(void **state) {
  kv_xattr_t xs[2] = {{{(const uint8_t *)"user.a", 6}, {(const uint8_t *)"1", 1}},
                      {{(const uint8_t *)"user.b", 6}, {NULL, 0}}},
             out[KV_XATTRS_MAX];
  kv_buf_t b;
  kv_buf_init(&b);
  kv_xattrs_encode(xs, 2, &b);
  size_t n;
  assert_int_equal(kv_xattrs_decode(b.data, b.len, out, &n), RV_OK);
  assert_int_equal(n, 2);
  assert_int_equal(kv_xattrs_decode(b.data, b.len - 1, out, &n), RV_ECORRUPT);
  kv_buf_reset(&b);
  kv_xattrs_encode((kv_xattr_t[]){xs[1], xs[0]}, 2, &b); /* out of order */
  assert_int_equal(kv_xattrs_decode(b.data, b.len, out, &n), RV_ECORRUPT);
  kv_buf_close(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_set_replace_remove, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_names, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_limits, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_permissions, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_follow_the_inode, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_replica_carries_them, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_codec, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
