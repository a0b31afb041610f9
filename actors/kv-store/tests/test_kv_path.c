/* Unit tests of kv_path: every rule, the limits (255-byte names, 4096-byte paths), hostile
 * names, and the quoting of untrusted bytes in messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_path.h"

static kv_path_t s_p;

static int s_parse(const char *p, size_t len, rv_err_t *err) {
  return kv_path_parse(&s_p, p, len, err);
}
static int s_parse_s(const char *p, rv_err_t *err) { return s_parse(p, strlen(p), err); }

static void s_refused(const char *p, size_t len, const char *why) {
  rv_err_t err;
  assert_int_equal(s_parse(p, len, &err), RV_EINVAL);
  if (!strstr(err.msg, why)) fail_msg("\"%s\" does not say \"%s\"", err.msg, why);
  assert_non_null(strstr(err.msg, "path \""));
}

static void test_root_and_simple(void **state) {
  rv_err_t err;
  assert_int_equal(s_parse_s("/", &err), RV_OK);
  assert_int_equal(s_p.n, 0);
  assert_int_equal(kv_path_prefix_len(&s_p, 0), 1);
  assert_int_equal(s_parse_s("/a/bc/def", &err), RV_OK);
  assert_int_equal(s_p.n, 3);
  size_t nl;
  const char *n = kv_path_name(&s_p, 1, &nl);
  assert_int_equal(nl, 2);
  assert_memory_equal(n, "bc", 2);
  assert_int_equal(kv_path_prefix_len(&s_p, 2), 5); /* "/a/bc" */
  assert_int_equal(kv_path_prefix_len(&s_p, 3), 9);
}

static void test_trailing_slash_accepted(void **state) {
  rv_err_t err;
  assert_int_equal(s_parse_s("/a/b/", &err), RV_OK);
  assert_int_equal(s_p.n, 2);
  size_t nl;
  kv_path_name(&s_p, 1, &nl);
  assert_int_equal(nl, 1);
  s_refused("/a/b//", 6, "empty component");
}

static void test_refusals(void **state) {
  s_refused("", 0, "empty path");
  s_refused("a/b", 3, "not absolute");
  s_refused("//", 2, "empty component at offset 1");
  s_refused("/a//b", 5, "empty component at offset 3");
  s_refused("/a/./b", 6, "component 2 is \".\"");
  s_refused("/a/..", 5, "component 2 is \"..\"");
  s_refused("/..", 3, "component 1 is \"..\"");
  s_refused("/.", 2, "component 1 is \".\"");
  s_refused("/a:b", 4, "contains ':'");
  s_refused("/a\0b", 4, "NUL byte at offset 2");
  s_refused("/\xff", 2, "not valid UTF-8 at offset 1");
  s_refused("/\xc0\xaf", 3, "not valid UTF-8");         /* overlong '/' */
  s_refused("/\xed\xa0\x80", 4, "not valid UTF-8");     /* surrogate U+D800 */
  s_refused("/\xf4\x90\x80\x80", 5, "not valid UTF-8"); /* beyond U+10FFFF */
  s_refused("/\xe2\x82", 3, "not valid UTF-8");         /* truncated */
}

static void test_dots_inside_names_are_fine(void **state) {
  rv_err_t err;
  assert_int_equal(s_parse_s("/...", &err), RV_OK);
  assert_int_equal(s_parse_s("/.hidden/a..b/..c", &err), RV_OK);
  assert_int_equal(s_p.n, 3);
}

static void test_unicode_names(void **state) {
  rv_err_t err;
  assert_int_equal(s_parse_s("/日本語/données/😀", &err), RV_OK);
  assert_int_equal(s_p.n, 3);
  size_t nl;
  kv_path_name(&s_p, 2, &nl);
  assert_int_equal(nl, 4);
}

static void test_name_length_limit(void **state) {
  char p[300];
  p[0] = '/';
  memset(p + 1, 'n', 255);
  rv_err_t err;
  assert_int_equal(s_parse(p, 256, &err), RV_OK);
  memset(p + 1, 'n', 256);
  s_refused(p, 257, "component 1 is 256 bytes, longer than the limit of 255 bytes");
  /* multibyte: 85 x 3-byte characters = 255 bytes ok, 86 = 258 refused */
  for (int i = 0; i < 86; i++) memcpy(p + 1 + 3 * i, "\xe2\x82\xac", 3);
  assert_int_equal(s_parse(p, 1 + 255, &err), RV_OK);
  s_refused(p, 1 + 258, "258 bytes");
}

static void test_path_length_limit(void **state) {
  char *p = malloc(KV_PATH_MAX + 2);
  /* "/aaaa...": 4096 bytes in 2048 components of 1 byte */
  for (int i = 0; i < KV_PATH_MAX; i += 2) {
    p[i] = '/';
    p[i + 1] = 'a';
  }
  rv_err_t err;
  assert_int_equal(s_parse(p, KV_PATH_MAX, &err), RV_OK);
  assert_int_equal(s_p.n, KV_DEPTH_MAX);
  p[KV_PATH_MAX] = '/';
  assert_int_equal(s_parse(p, KV_PATH_MAX + 1, &err), RV_EINVAL); /* 4097 even with a slash */
  assert_non_null(strstr(err.msg, "4097 bytes, longer than the limit of 4096"));
  /* the message shows a bounded prefix of the path */
  assert_true(strlen(err.msg) < 400);
  assert_non_null(strstr(err.msg, "...\""));
  free(p);
}

static void test_show_escapes(void **state) {
  char out[64];
  kv_path_show(out, sizeof out, "/a\"b\\c\n\x01\xff", 9);
  assert_string_equal(out, "/a\\\"b\\\\c\\x0a\\x01\\xff");
  kv_path_show(out, sizeof out, "/é", 3);
  assert_string_equal(out, "/é");
  kv_path_show(out, sizeof out, "a\0b", 3);
  assert_string_equal(out, "a\\x00b");
  /* tiny buffers never overflow */
  char tiny[8];
  kv_path_show(tiny, sizeof tiny, "/abcdefghijkl", 13);
  assert_true(strlen(tiny) < sizeof tiny);
}

static void test_utf8_valid(void **state) {
  size_t bad;
  assert_true(kv_utf8_valid("abc", 3, NULL));
  assert_false(kv_utf8_valid("ab\x80", 3, &bad));
  assert_int_equal(bad, 2);
  assert_false(kv_utf8_valid("a\0", 2, &bad));
  assert_int_equal(bad, 1);
  assert_true(kv_utf8_valid("", 0, NULL));
}

/* Random bytes never crash the parser, and whatever it accepts obeys the rules. */
static void test_random_bytes(void **state) {
  uint64_t x = 88172645463325252ull;
  char p[64];
  int accepted = 0;
  for (int round = 0; round < 200000; round++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t len = x % sizeof p;
    static const char alphabet[] = "/a./:\0\xc3\xa9\xff";
    for (size_t i = 0; i < len; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      p[i] = alphabet[x % (sizeof alphabet - 1)];
    }
    rv_err_t err;
    if (kv_path_parse(&s_p, p, len, &err) == RV_OK) {
      accepted++;
      assert_true(len >= 1 && p[0] == '/');
      for (size_t i = 0; i < s_p.n; i++) {
        size_t nl;
        const char *n = kv_path_name(&s_p, i, &nl);
        assert_true(nl >= 1 && nl <= KV_NAME_MAX);
        assert_null(memchr(n, '/', nl));
        assert_null(memchr(n, ':', nl));
        assert_null(memchr(n, 0, nl));
        assert_false(nl == 1 && n[0] == '.');
        assert_false(nl == 2 && n[0] == '.' && n[1] == '.');
      }
    }
  }
  assert_true(accepted > 100);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_root_and_simple),   cmocka_unit_test(test_trailing_slash_accepted),
      cmocka_unit_test(test_refusals),          cmocka_unit_test(test_dots_inside_names_are_fine),
      cmocka_unit_test(test_unicode_names),     cmocka_unit_test(test_name_length_limit),
      cmocka_unit_test(test_path_length_limit), cmocka_unit_test(test_show_escapes),
      cmocka_unit_test(test_utf8_valid),        cmocka_unit_test(test_random_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
