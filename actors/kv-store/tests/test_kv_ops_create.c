/* Unit tests of kv_ops_create: mkdir (-p), put (create, overwrite, inline limit, parents),
 * touchz and setattr; every error they return, with the message naming the path and the
 * reason; failed commands change nothing; hostile and limit-sized names. fsck after each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

/* Asserts the last result: code and a fragment of its message. */
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

static kv_count_t s_count(const char *p) {
  kv_count_t c;
  assert_int_equal(kv_t_count(s_e, p, &c), RV_OK);
  return c;
}

/* A failing command must leave the namespace as it was. */
static void s_expect_unchanged(int (*op)(void), int code, const char *frag) {
  uint64_t before = kv_t_digest(s_e, KV_DIGEST_NAMESPACE);
  uint64_t applied = kv_core_applied(s_e->core);
  s_expect(op(), code, frag);
  assert_true(kv_t_digest(s_e, KV_DIGEST_NAMESPACE) == before);
  assert_true(kv_core_applied(s_e->core) == applied + 1);
  assert_int_equal(s_e->res.inode, 0);
  assert_int_equal(s_e->res.n, 0);
}

/* ---- mkdir ---- */

static void test_mkdir_basic(void **state) {
  s_e->now = 5000;
  s_expect(kv_t_mkdir(s_e, "/a", 0), RV_OK, NULL);
  assert_int_equal(s_e->res.op, KV_OP_MKDIR);
  assert_int_equal(s_e->res.inode, 2);
  assert_int_equal(s_e->res.n, 1);
  kv_stat_t st = s_stat("/a");
  assert_int_equal(st.inode, 2);
  assert_int_equal(st.attr.type, KV_TYPE_DIR);
  assert_int_equal(st.attr.perm, 0755);
  assert_string_equal(st.attr.owner, "alice");
  assert_string_equal(st.attr.group, "users");
  assert_true(st.attr.mtime_ms == 5000 && st.attr.atime_ms == 5000);
  kv_stat_t root = s_stat("/");
  assert_int_equal(root.attr.nchildren, 1);
  assert_true(root.attr.mtime_ms == 5000); /* the parent's mtime moves */
  kv_count_t c = s_count("/");
  assert_true(c.dirs == 2 && c.files == 0 && c.bytes == 0);
}

static int s_mkdir_a(void) { return kv_t_mkdir(s_e, "/a", 0); }
static int s_mkdir_missing_parent(void) { return kv_t_mkdir(s_e, "/x/y/z", 0); }
static int s_mkdir_root(void) { return kv_t_mkdir(s_e, "/", 0); }
static int s_mkdir_under_file(void) { return kv_t_mkdir(s_e, "/f/sub", KV_F_PARENTS); }
static int s_mkdir_on_file(void) { return kv_t_mkdir(s_e, "/f", 0); }
static int s_mkdir_p_on_file(void) { return kv_t_mkdir(s_e, "/f", KV_F_PARENTS); }
static int s_mkdir_bad_path(void) { return kv_t_mkdir(s_e, "/a/../b", 0); }
static int s_mkdir_relative(void) { return kv_t_mkdir(s_e, "a", 0); }

static void test_mkdir_errors(void **state) {
  assert_int_equal(kv_t_mkdir(s_e, "/a", 0), RV_OK);
  assert_int_equal(kv_t_put(s_e, "/f", "x", 0), RV_OK);
  s_expect_unchanged(s_mkdir_a, RV_EEXIST, "mkdir /a: directory exists");
  s_expect_unchanged(s_mkdir_missing_parent, RV_ENOTFOUND,
                     "mkdir /x/y/z: /x: no such file or directory");
  s_expect_unchanged(s_mkdir_root, RV_EEXIST, "mkdir /: directory exists");
  s_expect_unchanged(s_mkdir_under_file, RV_ENOTDIR, "mkdir /f/sub: /f is not a directory");
  s_expect_unchanged(s_mkdir_on_file, RV_EEXIST, "mkdir /f: file exists");
  s_expect_unchanged(s_mkdir_p_on_file, RV_ENOTDIR, "mkdir /f: exists and is not a directory");
  s_expect_unchanged(s_mkdir_bad_path, RV_EINVAL, "mkdir: path \"/a/../b\": component 2 is \"..\"");
  s_expect_unchanged(s_mkdir_relative, RV_EINVAL, "not absolute");
}

static void test_mkdir_p(void **state) {
  s_expect(kv_t_mkdir(s_e, "/a/b/c/d", KV_F_PARENTS), RV_OK, NULL);
  assert_int_equal(s_e->res.n, 4);
  uint64_t d = s_e->res.inode;
  assert_int_equal(s_stat("/a/b/c/d").inode, d);
  /* again: nothing to do, not an error */
  s_expect(kv_t_mkdir(s_e, "/a/b/c/d", KV_F_PARENTS), RV_OK, NULL);
  assert_int_equal(s_e->res.n, 0);
  assert_int_equal(s_e->res.inode, d);
  s_expect(kv_t_mkdir(s_e, "/", KV_F_PARENTS), RV_OK, NULL);
  assert_int_equal(s_e->res.inode, KV_ROOT_INO);
  /* partially existing */
  s_expect(kv_t_mkdir(s_e, "/a/b/x/y", KV_F_PARENTS), RV_OK, NULL);
  assert_int_equal(s_e->res.n, 2);
  kv_count_t c = s_count("/a");
  assert_int_equal(c.dirs, 6); /* a b c d x y */
  assert_int_equal(s_stat("/a/b").attr.nchildren, 2);
  assert_int_equal(s_stat("/a/b/x").attr.nchildren, 1);
  assert_int_equal(s_count("/a/b/x").dirs, 2);
  assert_int_equal(s_count("/").dirs, 7);
}

static void test_mkdir_attrs_validated(void **state) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MKDIR, "/a");
  c.perm = 010000;
  s_expect(kv_t_apply(s_e, &c), RV_EINVAL, "mkdir /a: permission 10000 is out of range");
  kv_t_cmd(&c, KV_OP_MKDIR, "/a");
  c.owner = (kv_bytes_t){(const uint8_t *)"", 0};
  s_expect(kv_t_apply(s_e, &c), RV_EINVAL, "mkdir /a: owner is empty");
  kv_t_cmd(&c, KV_OP_MKDIR, "/a");
  c.group = (kv_bytes_t){(const uint8_t *)"a\tb", 3};
  s_expect(kv_t_apply(s_e, &c), RV_EINVAL, "group holds a control character");
  char longname[KV_OWNER_MAX + 1];
  memset(longname, 'o', sizeof longname);
  kv_t_cmd(&c, KV_OP_MKDIR, "/a");
  c.owner = (kv_bytes_t){(const uint8_t *)longname, sizeof longname};
  s_expect(kv_t_apply(s_e, &c), RV_EINVAL, "owner is longer than 64 bytes");
  c.owner.len = KV_OWNER_MAX;
  s_expect(kv_t_apply(s_e, &c), RV_OK, NULL);
  assert_int_equal(strlen(s_stat("/a").attr.owner), KV_OWNER_MAX);
  kv_t_cmd(&c, KV_OP_MKDIR, "/b");
  c.owner = (kv_bytes_t){(const uint8_t *)"\xff", 1};
  s_expect(kv_t_apply(s_e, &c), RV_EINVAL, "owner is not valid UTF-8");
  kv_t_cmd(&c, KV_OP_MKDIR, "/b");
  c.owner = (kv_bytes_t){(const uint8_t *)"José", 5};
  c.perm = 07777;
  s_expect(kv_t_apply(s_e, &c), RV_OK, NULL);
  assert_int_equal(s_stat("/b").attr.perm, 07777);
}

/* ---- names at the limits, hostile names ---- */

static void test_names_at_limits(void **state) {
  char p[KV_PATH_MAX + 8];
  p[0] = '/';
  memset(p + 1, 'n', 255);
  p[256] = '\0';
  s_expect(kv_t_mkdir(s_e, p, 0), RV_OK, NULL);
  assert_int_equal(s_stat(p).attr.type, KV_TYPE_DIR);
  p[256] = 'n';
  p[257] = '\0';
  s_expect(kv_t_mkdir(s_e, p, 0), RV_EINVAL, "256 bytes, longer than the limit of 255");
  /* a path of exactly 4096 bytes: 2048 levels via mkdir -p */
  for (int i = 0; i < KV_PATH_MAX; i += 2) {
    p[i] = '/';
    p[i + 1] = 'd';
  }
  p[KV_PATH_MAX] = '\0';
  s_expect(kv_t_mkdir(s_e, p, KV_F_PARENTS), RV_OK, NULL);
  assert_int_equal(s_e->res.n, KV_DEPTH_MAX);
  assert_int_equal(s_count("/d").dirs, KV_DEPTH_MAX);
  assert_int_equal(s_count("/").dirs, KV_DEPTH_MAX + 2);
  /* a file at the bottom, depth 2048: the whole chain counts it */
  memcpy(p + KV_PATH_MAX - 2, "/f", 2);
  s_expect(kv_t_put(s_e, p, "abc", 0), RV_OK, NULL);
  kv_count_t c = s_count("/d");
  assert_true(c.files == 1 && c.bytes == 3);
  /* one byte more is refused */
  p[KV_PATH_MAX] = 'x';
  p[KV_PATH_MAX + 1] = '\0';
  s_expect(kv_t_put(s_e, p, "abc", 0), RV_EINVAL, "4097 bytes, longer than the limit of 4096");
}

static void test_hostile_names(void **state) {
  assert_int_equal(kv_t_mkdir(s_e, "/d", 0), RV_OK);
  s_expect(kv_t_mkdir(s_e, "/d/.", 0), RV_EINVAL, "component 2 is \".\"");
  s_expect(kv_t_mkdir(s_e, "/d/..", 0), RV_EINVAL, "component 2 is \"..\"");
  s_expect(kv_t_mkdir(s_e, "/d//e", 0), RV_EINVAL, "empty component");
  s_expect(kv_t_mkdir(s_e, "", 0), RV_EINVAL, "empty path");
  s_expect(kv_t_mkdir(s_e, "/d/a:b", 0), RV_EINVAL, "contains ':'");
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MKDIR, "/d/x");
  c.path.len = 6; /* "/d/x\0y": a NUL inside */
  c.path.p = (const uint8_t *)"/d/x\0y";
  s_expect(kv_t_apply(s_e, &c), RV_EINVAL, "NUL byte at offset 4");
  assert_non_null(strstr(s_e->res.msg, "\\x00")); /* shown escaped */
  /* trailing slash names the same entry */
  s_expect(kv_t_mkdir(s_e, "/d/e/", 0), RV_OK, NULL);
  assert_int_equal(s_stat("/d/e").inode, s_e->res.inode);
  s_expect(kv_t_mkdir(s_e, "/d/e", 0), RV_EEXIST, NULL);
  /* Unicode and odd-but-legal names */
  s_expect(kv_t_mkdir(s_e, "/d/日本語", 0), RV_OK, NULL);
  s_expect(kv_t_put(s_e, "/d/😀 space ...", "x", 0), RV_OK, NULL);
  s_expect(kv_t_put(s_e, "/d/.hidden", "x", 0), RV_OK, NULL);
  assert_int_equal(s_stat("/d/日本語").attr.type, KV_TYPE_DIR);
  assert_int_equal(s_count("/d").files, 2);
}

/* ---- put ---- */

static void test_put_create_and_cat(void **state) {
  assert_int_equal(kv_t_mkdir(s_e, "/d", 0), RV_OK);
  s_e->now = 7777;
  s_expect(kv_t_put(s_e, "/d/f", "hello", 0), RV_OK, NULL);
  assert_int_equal(s_e->res.op, KV_OP_PUT);
  assert_int_equal(s_e->res.n, 5);
  uint64_t ino = s_e->res.inode;
  kv_stat_t st = s_stat("/d/f");
  assert_int_equal(st.inode, ino);
  assert_int_equal(st.attr.type, KV_TYPE_FILE);
  assert_int_equal(st.attr.size, 5);
  assert_int_equal(st.attr.perm, 0644);
  assert_true(st.attr.mtime_ms == 7777);
  assert_true(st.count.dirs == 0 && st.count.files == 1 && st.count.bytes == 5);
  assert_true(s_stat("/d").attr.mtime_ms == 7777);
  kv_buf_t out;
  kv_buf_init(&out);
  rv_err_t err;
  assert_int_equal(kv_core_cat(s_e->core, "/d/f", 4, &out, &err), RV_OK);
  assert_int_equal(out.len, 5);
  assert_memory_equal(out.data, "hello", 5);
  /* an empty file: no content key, cat gives nothing */
  s_expect(kv_t_put(s_e, "/d/empty", "", 0), RV_OK, NULL);
  assert_int_equal(kv_core_cat(s_e->core, "/d/empty", 8, &out, &err), RV_OK);
  assert_int_equal(out.len, 0);
  kv_buf_close(&out);
  kv_count_t c = s_count("/");
  assert_true(c.dirs == 2 && c.files == 2 && c.bytes == 5);
  /* binary content with NULs */
  s_expect(kv_t_putn(s_e, "/d/bin", "a\0b\0", 4, 0), RV_OK, NULL);
  assert_int_equal(s_stat("/d/bin").attr.size, 4);
}

static int s_put_exists(void) { return kv_t_put(s_e, "/d/f", "new", 0); }
static int s_put_on_dir(void) { return kv_t_put(s_e, "/d", "x", KV_F_OVERWRITE); }
static int s_put_root(void) { return kv_t_put(s_e, "/", "x", 0); }
static int s_put_missing_parent(void) { return kv_t_put(s_e, "/nope/f", "x", 0); }
static int s_put_parent_is_file(void) { return kv_t_put(s_e, "/d/f/g", "x", KV_F_PARENTS); }

static void test_put_errors(void **state) {
  assert_int_equal(kv_t_mkdir(s_e, "/d", 0), RV_OK);
  assert_int_equal(kv_t_put(s_e, "/d/f", "old", 0), RV_OK);
  s_expect_unchanged(s_put_exists, RV_EEXIST, "put /d/f: file exists");
  s_expect_unchanged(s_put_on_dir, RV_EISDIR, "put /d: is a directory");
  s_expect_unchanged(s_put_root, RV_EISDIR, "put /: is a directory");
  s_expect_unchanged(s_put_missing_parent, RV_ENOTFOUND,
                     "put /nope/f: /nope: no such file or directory");
  s_expect_unchanged(s_put_parent_is_file, RV_ENOTDIR, "put /d/f/g: /d/f is not a directory");
}

static void test_put_overwrite(void **state) {
  assert_int_equal(kv_t_mkdir(s_e, "/d", 0), RV_OK);
  assert_int_equal(kv_t_put(s_e, "/d/f", "0123456789", 0), RV_OK);
  uint64_t old = s_e->res.inode;
  s_expect(kv_t_put(s_e, "/d/f", "abc", KV_F_OVERWRITE), RV_OK, NULL);
  assert_true(s_e->res.inode != old); /* HDFS: a new inode takes the name */
  kv_count_t c = s_count("/");
  assert_true(c.files == 1 && c.bytes == 3);
  assert_int_equal(s_stat("/d").attr.nchildren, 1);
  /* overwrite with empty content drops the content key (fsck in teardown checks) */
  s_expect(kv_t_put(s_e, "/d/f", "", KV_F_OVERWRITE), RV_OK, NULL);
  assert_int_equal(s_count("/").bytes, 0);
  /* overwrite of a missing file just creates */
  s_expect(kv_t_put(s_e, "/d/g", "xy", KV_F_OVERWRITE), RV_OK, NULL);
  assert_int_equal(s_count("/d").bytes, 2);
}

static void test_put_parents(void **state) {
  s_expect(kv_t_put(s_e, "/a/b/c/f", "data", KV_F_PARENTS), RV_OK, NULL);
  kv_count_t c = s_count("/a");
  assert_true(c.dirs == 3 && c.files == 1 && c.bytes == 4);
  assert_int_equal(s_stat("/a/b").attr.perm, 0755); /* 0644 plus x where r is set */
  assert_int_equal(s_stat("/a/b/c").attr.nchildren, 1);
}

static void test_put_inline_limit(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  assert_int_equal(cfg.inline_max, 1u << 20);
  size_t max = cfg.inline_max;
  char *data = malloc(max + 1);
  memset(data, 'z', max + 1);
  s_expect(kv_t_putn(s_e, "/big", data, max, 0), RV_OK, NULL);
  assert_int_equal(s_stat("/big").attr.size, max);
  s_expect(kv_t_putn(s_e, "/big2", data, max + 1, 0), RV_ETOOBIG,
           "put /big2: content of 1048577 bytes exceeds the inline limit of 1048576 bytes");
  free(data);
  /* a smaller configured limit */
  kv_t_env_destroy(&s_e);
  cfg.inline_max = 10;
  s_e = kv_t_env_new(&cfg);
  s_expect(kv_t_put(s_e, "/ok", "0123456789", 0), RV_OK, NULL);
  s_expect(kv_t_put(s_e, "/no", "0123456789a", 0), RV_ETOOBIG, "inline limit of 10 bytes");
}

/* ---- touchz ---- */

static void test_touchz(void **state) {
  assert_int_equal(kv_t_mkdir(s_e, "/d", 0), RV_OK);
  s_e->now = 100;
  s_expect(kv_t_touchz(s_e, "/d/t"), RV_OK, NULL);
  assert_int_equal(s_e->res.op, KV_OP_TOUCHZ);
  uint64_t ino = s_e->res.inode;
  kv_stat_t st = s_stat("/d/t");
  assert_true(st.attr.size == 0 && st.attr.mtime_ms == 100);
  /* again on the empty file: succeeds, times move, same inode, counts unchanged */
  s_e->now = 200;
  s_expect(kv_t_touchz(s_e, "/d/t"), RV_OK, NULL);
  assert_int_equal(s_e->res.inode, ino);
  st = s_stat("/d/t");
  assert_true(st.attr.mtime_ms == 200 && st.attr.atime_ms == 200);
  assert_int_equal(s_count("/").files, 1);
  assert_int_equal(kv_t_put(s_e, "/d/full", "x", 0), RV_OK);
  s_expect(kv_t_touchz(s_e, "/d/full"), RV_EEXIST,
           "touchz /d/full: file exists with non-zero length (1 bytes)");
  s_expect(kv_t_touchz(s_e, "/d"), RV_EISDIR, "touchz /d: is a directory");
  s_expect(kv_t_touchz(s_e, "/"), RV_EISDIR, "touchz /: is a directory");
  s_expect(kv_t_touchz(s_e, "/x/t"), RV_ENOTFOUND, "touchz /x/t: /x: no such file or directory");
  s_expect(kv_t_touchz(s_e, "/d/full/t"), RV_ENOTDIR, "/d/full is not a directory");
}

/* ---- setattr ---- */

static int s_setattr(const char *path, uint8_t mask, uint16_t perm, int64_t mt, int64_t at,
                     const char *owner, const char *group) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_SETATTR, path);
  c.set_mask = mask;
  c.perm = perm;
  c.mtime_ms = mt;
  c.atime_ms = at;
  if (owner) c.owner = (kv_bytes_t){(const uint8_t *)owner, strlen(owner)};
  if (group) c.group = (kv_bytes_t){(const uint8_t *)group, strlen(group)};
  return kv_t_apply(s_e, &c);
}

static void test_setattr(void **state) {
  assert_int_equal(kv_t_put(s_e, "/f", "x", 0), RV_OK);
  uint64_t ino = s_e->res.inode;
  uint64_t before = kv_t_digest(s_e, KV_DIGEST_NAMESPACE);
  s_expect(s_setattr("/f", KV_SET_PERM, 0600, 0, 0, NULL, NULL), RV_OK, NULL);
  assert_int_equal(s_e->res.inode, ino);
  assert_true(kv_t_digest(s_e, KV_DIGEST_NAMESPACE) != before);
  s_expect(s_setattr("/f", KV_SET_MTIME | KV_SET_ATIME, 0, 123, -456, NULL, NULL), RV_OK, NULL);
  s_expect(s_setattr("/f", KV_SET_OWNER | KV_SET_GROUP, 0, 0, 0, "bob", "staff"), RV_OK, NULL);
  kv_stat_t st = s_stat("/f");
  assert_int_equal(st.attr.perm, 0600);
  assert_true(st.attr.mtime_ms == 123 && st.attr.atime_ms == -456);
  assert_string_equal(st.attr.owner, "bob");
  assert_string_equal(st.attr.group, "staff");
  assert_int_equal(st.attr.size, 1); /* untouched */
  s_expect(s_setattr("/f", KV_SET_OWNER, 0, 0, 0, "carol", NULL), RV_OK, NULL);
  assert_string_equal(s_stat("/f").attr.group, "staff");
  /* the root can be changed too */
  s_expect(s_setattr("/", KV_SET_PERM, 0777, 0, 0, NULL, NULL), RV_OK, NULL);
  assert_int_equal(s_stat("/").attr.perm, 0777);
  /* errors */
  s_expect(s_setattr("/f", 0, 0, 0, 0, NULL, NULL), RV_EINVAL, "setattr /f: nothing to set");
  s_expect(s_setattr("/f", KV_SET_PERM, 010000, 0, 0, NULL, NULL), RV_EINVAL, "out of range");
  s_expect(s_setattr("/f", KV_SET_PERM, 0644, 5, 0, NULL, NULL), RV_EINVAL,
           "not named in the mask");
  s_expect(s_setattr("/f", KV_SET_MTIME, 0, 5, 0, "eve", NULL), RV_EINVAL, "not named in the mask");
  s_expect(s_setattr("/f", KV_SET_OWNER, 0, 0, 0, "", NULL), RV_EINVAL, "owner is empty");
  s_expect(s_setattr("/f", KV_SET_GROUP, 0, 0, 0, NULL, "\x7f"), RV_EINVAL, "control character");
  s_expect(s_setattr("/nope", KV_SET_PERM, 0644, 0, 0, NULL, NULL), RV_ENOTFOUND,
           "setattr /nope: /nope: no such file or directory");
  s_expect(s_setattr("/f/g", KV_SET_PERM, 0644, 0, 0, NULL, NULL), RV_ENOTDIR,
           "/f is not a directory");
  s_expect(s_setattr("f", KV_SET_PERM, 0644, 0, 0, NULL, NULL), RV_EINVAL, "not absolute");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_mkdir_basic, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_mkdir_errors, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_mkdir_p, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_mkdir_attrs_validated, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_names_at_limits, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_hostile_names, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_put_create_and_cat, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_put_errors, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_put_overwrite, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_put_parents, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_put_inline_limit, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_touchz, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_setattr, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
