/* Unit tests of kv_glob: Hadoop's GlobPattern syntax (wildcards, classes, negation, ranges,
 * groups nested, escapes), its error messages, case folding for -iname, the literal prefix the
 * kv-store scans from, and a cross-check against a naive matcher on random patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_glob.h"

static bool s_m(const char *pat, const char *name) {
  return kv_glob_match(pat, strlen(pat), name, strlen(name), false);
}

static void s_yes(const char *pat, const char *name) {
  if (!s_m(pat, name)) fail_msg("\"%s\" should match \"%s\"", pat, name);
}
static void s_no(const char *pat, const char *name) {
  if (s_m(pat, name)) fail_msg("\"%s\" should not match \"%s\"", pat, name);
}

static void test_wildcards(void **state) {
  (void)state;
  s_yes("*", "");
  s_yes("*", "abc");
  s_yes("*", ".hidden"); /* Hadoop does not hide dot files */
  s_yes("a*", "a");
  s_yes("a*c", "abbbc");
  s_no("a*c", "abcd");
  s_yes("*.txt", "x.txt");
  s_no("*.txt", "x.txt.gz");
  s_yes("?", "a");
  s_no("?", "");
  s_no("?", "ab");
  s_yes("a?c", "abc");
  s_yes("**b", "aab");
  s_yes("a*b*c", "axxbyyc");
  s_no("a*b*c", "axxbyy");
  s_yes("literal", "literal");
  s_no("literal", "literal2");
}

static void test_classes(void **state) {
  (void)state;
  s_yes("[abc]", "b");
  s_no("[abc]", "d");
  s_yes("[a-z]x", "qx");
  s_no("[a-z]x", "Qx");
  s_yes("[^a]", "b");
  s_no("[^a]", "a");
  s_yes("[!a]", "b");
  s_no("[!a]", "a");
  s_yes("[a-cx-z]", "y");
  s_no("[a-cx-z]", "m");
  s_yes("[\\]]", "]");
  s_yes("[a\\-z]", "-");
  s_no("[a\\-z]", "m");
  s_yes("[-a]", "-");
  s_yes("f[0-9][0-9]", "f42");
}

static void test_groups(void **state) {
  (void)state;
  s_yes("{a,b}", "a");
  s_yes("{a,b}", "b");
  s_no("{a,b}", "c");
  s_no("{a,b}", "ab");
  s_yes("x{a,bc}y", "xbcy");
  s_yes("{a,b{c,d}}", "bd");
  s_no("{a,b{c,d}}", "b");
  s_yes("{*.txt,*.log}", "z.log");
  s_yes("{,x}y", "y");
  s_yes("a,b", "a,b"); /* a comma outside a group is itself */
  s_yes("a}", "a}");   /* so is a lone '}' */
  s_yes("{a*,b}c", "axxc");
  s_yes("{[ab],c}", "b");
}

static void test_escapes(void **state) {
  (void)state;
  s_yes("a\\*", "a*");
  s_no("a\\*", "ab");
  s_yes("\\{a\\}", "{a}");
  s_yes("\\\\", "\\");
  s_yes("a\\?b", "a?b");
  assert_false(kv_glob_magic("a\\*b", 4));
  assert_true(kv_glob_magic("a*", 2));
  assert_true(kv_glob_magic("{a}", 3));
  assert_true(kv_glob_magic("[a]", 3));
  assert_false(kv_glob_magic("plain.txt", 9));
  char out[16];
  assert_int_equal(kv_glob_unescape("a\\{b", 4, out, sizeof out), 3);
  assert_string_equal(out, "a{b");
}

static void s_bad(const char *pat, const char *why) {
  char buf[128];
  assert_int_equal(kv_glob_check(pat, strlen(pat), buf, sizeof buf), -1);
  if (strcmp(buf, why) != 0) fail_msg("\"%s\": got \"%s\", want \"%s\"", pat, buf, why);
  assert_false(s_m(pat, pat)); /* a bad pattern matches nothing */
}

static void test_errors(void **state) {
  (void)state;
  s_bad("a[bc", "Unclosed character class near index 4");
  s_bad("a{b,c", "Unclosed group near index 5");
  s_bad("ab\\", "Missing escaped character near index 3");
  s_bad("[a\\", "Missing escaped character near index 3");
  char buf[64];
  assert_int_equal(kv_glob_check("a{b}c", 5, buf, sizeof buf), 0);
  char big[KV_GLOB_MAX + 2];
  memset(big, 'a', sizeof big);
  assert_int_equal(kv_glob_check(big, sizeof big, buf, sizeof buf), -1);
  char deep[80] = "";
  for (int i = 0; i < 35; i++) strcat(deep, "{");
  for (int i = 0; i < 35; i++) strcat(deep, "}");
  assert_int_equal(kv_glob_check(deep, strlen(deep), buf, sizeof buf), -1);
}

static void test_fold(void **state) {
  (void)state;
  assert_true(kv_glob_match("*.TXT", 5, "a.txt", 5, true));
  assert_false(kv_glob_match("*.TXT", 5, "a.txt", 5, false));
  assert_true(kv_glob_match("[a-c]", 5, "B", 1, true));
  assert_true(kv_glob_match("[A-C]", 5, "b", 1, true));
  assert_false(kv_glob_match("[^a]", 4, "A", 1, true));
}

static void test_prefix(void **state) {
  (void)state;
  char out[32];
  assert_int_equal(kv_glob_prefix("abc*", 4, out, sizeof out), 3);
  assert_memory_equal(out, "abc", 3);
  assert_int_equal(kv_glob_prefix("ab\\*c?", 6, out, sizeof out), 4);
  assert_memory_equal(out, "ab*c", 4);
  assert_int_equal(kv_glob_prefix("*x", 2, out, sizeof out), 0);
  assert_int_equal(kv_glob_prefix("a{b,c}", 6, out, sizeof out), 1);
  assert_int_equal(kv_glob_prefix("abcdef", 6, out, 2), 2);
}

/* A naive matcher for patterns over {a, b, *, ?} only, to cross-check the real one. */
static bool s_naive(const char *p, const char *n) {
  if (!*p) return !*n;
  if (*p == '*') return s_naive(p + 1, n) || (*n && s_naive(p, n + 1));
  if (!*n) return false;
  return (*p == '?' || *p == *n) && s_naive(p + 1, n + 1);
}

static void test_random_against_naive(void **state) {
  (void)state;
  unsigned seed = getenv("RV_SEED") ? (unsigned)atoi(getenv("RV_SEED")) : 1234;
  srand(seed);
  const char pa[] = "ab*?", na[] = "ab";
  for (int t = 0; t < 20000; t++) {
    char p[8], n[8];
    int pl = rand() % 7, nl = rand() % 7;
    for (int i = 0; i < pl; i++) p[i] = pa[rand() % 4];
    for (int i = 0; i < nl; i++) n[i] = na[rand() % 2];
    p[pl] = n[nl] = '\0';
    if (s_m(p, n) != s_naive(p, n))
      fail_msg("seed %u: \"%s\" vs \"%s\": got %d", seed, p, n, s_m(p, n));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wildcards), cmocka_unit_test(test_classes),
      cmocka_unit_test(test_groups),    cmocka_unit_test(test_escapes),
      cmocka_unit_test(test_errors),    cmocka_unit_test(test_fold),
      cmocka_unit_test(test_prefix),    cmocka_unit_test(test_random_against_naive),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
