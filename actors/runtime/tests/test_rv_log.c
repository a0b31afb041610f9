/* rv_log, its output captured by pointing stderr at a temporary file: the threshold; the text
 * line's fields and timestamp form; the identity defaults; JSON lines (quotes, backslashes and
 * control bytes escaped, bytes >= 0x80 kept, an overlong message cut short yet well formed);
 * rv_log_reopen moving the output to a new file (0640), and keeping the old one when it
 * cannot; rv_log_to_file. */
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rv_log.h"

static char s_dir[64];
static char s_path[128];
static int s_saved_err = -1;
static int s_saved_out = -1;

/* Points stderr (and stdout) at a fresh file s_dir/NAME until s_release. */
static void s_capture(const char *name) {
  snprintf(s_path, sizeof s_path, "%s/%s", s_dir, name);
  int fd = open(s_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  fflush(stderr);
  fflush(stdout);
  s_saved_err = dup(STDERR_FILENO);
  s_saved_out = dup(STDOUT_FILENO);
  dup2(fd, STDERR_FILENO);
  close(fd);
}

/* Restores stderr and stdout; returns what went to the capture file (caller frees). */
static char *s_release(void) {
  fflush(stderr);
  fflush(stdout);
  dup2(s_saved_err, STDERR_FILENO);
  dup2(s_saved_out, STDOUT_FILENO);
  close(s_saved_err);
  close(s_saved_out);
  FILE *f = fopen(s_path, "r");
  assert_non_null(f);
  char *buf = calloc(1, 1 << 16);
  assert_non_null(buf);
  size_t n = fread(buf, 1, (1 << 16) - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

static char *s_read(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char *buf = calloc(1, 1 << 16);
  assert_non_null(buf);
  size_t n = fread(buf, 1, (1 << 16) - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

static int s_lines(const char *s) {
  int n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

static void s_assert_matches(const char *text, const char *re) {
  regex_t r;
  assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
  int rc = regexec(&r, text, 0, NULL, 0);
  regfree(&r);
  if (rc != 0) fail_msg("\"%s\" does not match /%s/", text, re);
}

#define TS "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

static int s_setup(void **state) {
  (void)state;
  snprintf(s_dir, sizeof s_dir, "/tmp/rvlog.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  return 0;
}

static int s_teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
  return system(cmd);
}

static void test_threshold(void **state) {
  (void)state;
  rv_log_set_format(CFG_LOG_TEXT);
  rv_log_init("n1", "kv-store", CFG_LOG_WARN);
  s_capture("threshold");
  rv_debug("d");
  rv_info("i");
  rv_warn("w");
  rv_error("e");
  char *out = s_release();
  assert_int_equal(s_lines(out), 2);
  s_assert_matches(out, "^" TS " n1 kv-store warn w$");
  s_assert_matches(out, "^" TS " n1 kv-store error e$");
  free(out);
  rv_log_init("n1", "kv-store", CFG_LOG_DEBUG);
  s_capture("threshold-debug");
  rv_debug("d");
  rv_info("i");
  out = s_release();
  assert_int_equal(s_lines(out), 2);
  s_assert_matches(out, "^" TS " n1 kv-store debug d$");
  s_assert_matches(out, "^" TS " n1 kv-store info i$");
  free(out);
}

static void test_text_line(void **state) {
  (void)state;
  rv_log_set_format(CFG_LOG_TEXT);
  rv_log_init("n1", "health-monitor", CFG_LOG_INFO);
  s_capture("text");
  rv_info("actor ready pid=%d", 1234);
  char *out = s_release();
  s_assert_matches(out, "^" TS " n1 health-monitor info actor ready pid=1234\n$");
  free(out);
  /* identity strings are copied; a missing or empty one prints as "-" */
  char node[8] = "n9";
  rv_log_init(node, "", CFG_LOG_INFO);
  strcpy(node, "zz");
  s_capture("text-ident");
  rv_info("x");
  rv_log_init(NULL, NULL, CFG_LOG_INFO);
  rv_info("y");
  rv_log_init("", "a1", CFG_LOG_INFO);
  rv_info("z");
  out = s_release();
  s_assert_matches(out, "^" TS " n9 - info x\n" TS " - - info y\n" TS " - a1 info z\n$");
  free(out);
  /* a message longer than the 2 KiB message buffer is cut, on one line */
  rv_log_init("n1", "a", CFG_LOG_INFO);
  char *longmsg = malloc(5000);
  assert_non_null(longmsg);
  memset(longmsg, 'x', 4999);
  longmsg[4999] = 0;
  s_capture("text-long");
  rv_info("%s", longmsg);
  out = s_release();
  free(longmsg);
  assert_int_equal(s_lines(out), 1);
  s_assert_matches(out, "^" TS " n1 a info x{2047}\n$");
  free(out);
  /* control bytes in a message are escaped: a newline cannot split the line nor forge one */
  s_capture("text-escape");
  rv_info("path /a\n2026-01-01T00:00:00.000Z n1 a error forged\r\tbell \x07 del \x7f high \xc3\xa9");
  out = s_release();
  assert_int_equal(s_lines(out), 1);
  const char *want = " n1 a info path /a\\x0a2026-01-01T00:00:00.000Z n1 a error forged\\x0d\\x09bell "
                     "\\x07 del \\x7f high \xc3\xa9\n";
  if (!strstr(out, want)) fail_msg("no %s in %s", want, out);
  free(out);
}

static void test_json_line(void **state) {
  (void)state;
  rv_log_init("n1", "kv-store", CFG_LOG_INFO);
  rv_log_set_format(CFG_LOG_JSON);
  s_capture("json");
  rv_info("plain %d", 5);
  rv_info("quote \" backslash \\ newline \n tab \t bell \x07 high \xc3\xa9");
  char *out = s_release();
  rv_log_set_format(CFG_LOG_TEXT);
  assert_int_equal(s_lines(out), 2);
  s_assert_matches(out, "^\\{\"time\":\"" TS "\",\"node\":\"n1\",\"actor\":\"kv-store\","
                        "\"level\":\"info\",\"msg\":\"plain 5\"\\}$");
  const char *want = "\"msg\":\"quote \\\" backslash \\\\ newline \\u000a tab \\u0009 bell "
                     "\\u0007 high \xc3\xa9\"}\n";
  if (!strstr(out, want)) fail_msg("no %s in %s", want, out);
  free(out);
  /* every byte of a long message expands to six: it is cut short, on a whole escape, still
   * one closed object; actor names of six lengths put the cut at every offset of an escape */
  char *ctl = malloc(2048);
  assert_non_null(ctl);
  memset(ctl, 0x01, 2047);
  ctl[2047] = 0;
  const char *actors[] = {"a", "ab", "abc", "abcd", "abcde", "abcdef"};
  for (size_t k = 0; k < sizeof actors / sizeof *actors; k++) {
    rv_log_init("n1", actors[k], CFG_LOG_INFO);
    rv_log_set_format(CFG_LOG_JSON);
    s_capture("json-long");
    rv_info("%s", ctl);
    out = s_release();
    rv_log_set_format(CFG_LOG_TEXT);
    assert_int_equal(s_lines(out), 1);
    s_assert_matches(out, "^\\{\"time\":\"" TS "\",.*\"msg\":\"(\\\\u0001)+\"\\}$");
    assert_true(strlen(out) < 4700);
    assert_true(strlen(out) > 4000); /* cut near the line's size, not at the first escape */
    free(out);
  }
  free(ctl);
}

/* Peer-chosen bytes cannot forge a line or a terminal escape: control bytes (text lines), 0x7f
 * and bytes that are not UTF-8 are written as \xNN; valid UTF-8 is kept. */
static void test_escaped_bytes(void **state) {
  (void)state;
  rv_log_init("n1", "kv-store", CFG_LOG_INFO);
  s_capture("escaped");
  rv_warn("path \"/a\nFAKE 2026 n1 kv-store error forged\x1b[31m\x7f\xff\xc3\xa9\xed\xa0\x80\"");
  char *out = s_release();
  assert_int_equal(s_lines(out), 1);
  assert_non_null(strstr(out, "/a\\x0aFAKE 2026"));
  assert_non_null(strstr(out, "forged\\x1b[31m\\x7f\\xff\xc3\xa9\\xed\\xa0\\x80\""));
  free(out);
  char buf[16];
  assert_int_equal(rv_log_escape("\x01" "ab", buf, sizeof buf, true), 6);
  assert_string_equal(buf, "\\x01ab");
  assert_int_equal(rv_log_escape("\x01" "ab", buf, sizeof buf, false), 3);
  assert_int_equal(rv_log_escape("0123456789abcdefgh", buf, sizeof buf, true), 15); /* cut */
}

/* At most one line a second per limiter; the next line says how many were left out. */
static void test_limited(void **state) {
  (void)state;
  rv_log_init("n1", "raft-peer", CFG_LOG_INFO);
  rv_log_limit_t lim = {0};
  s_capture("limited");
  assert_true(rv_log_limited(&lim, CFG_LOG_WARN, "bad frame %d", 1));
  for (int i = 2; i <= 50; i++) assert_false(rv_log_limited(&lim, CFG_LOG_WARN, "bad frame %d", i));
  lim.last_ms -= 1001; /* a second later */
  assert_true(rv_log_limited(&lim, CFG_LOG_WARN, "bad frame %d", 51));
  char *out = s_release();
  assert_int_equal(s_lines(out), 2);
  assert_non_null(strstr(out, "bad frame 1\n"));
  assert_non_null(strstr(out, "bad frame 51 (and 49 more like it in the last 1.0 s)"));
  assert_int_equal(lim.total, 51);
  free(out);
}

static void test_reopen_and_to_file(void **state) {
  (void)state;
  rv_log_set_format(CFG_LOG_TEXT);
  rv_log_init("n1", "a", CFG_LOG_INFO);
  char newpath[160];
  snprintf(newpath, sizeof newpath, "%s/rotated.log", s_dir);
  s_capture("before-rotate");
  bool to_file = rv_log_to_file();
  rv_info("first");
  mode_t old = umask(0);
  int rc = rv_log_reopen(newpath);
  umask(old);
  rv_info("second");
  char badpath[160];
  snprintf(badpath, sizeof badpath, "%s/no-such-dir/x.log", s_dir);
  int bad = rv_log_reopen(badpath);
  rv_info("third");
  char *before = s_release();
  assert_true(to_file);
  assert_int_equal(rc, RV_OK);
  assert_int_equal(bad, RV_EIO);
  s_assert_matches(before, "^" TS " n1 a info first\n$"); /* nothing after the reopen */
  char *after = s_read(newpath);
  assert_int_equal(s_lines(after), 4);
  s_assert_matches(after, "^" TS " n1 a info log file reopened \\(SIGHUP\\)$");
  s_assert_matches(after, "^" TS " n1 a info second$");
  s_assert_matches(after, "^" TS " n1 a error cannot reopen the log file .*/no-such-dir/x.log: "
                          "No such file or directory; still writing to the old one$");
  s_assert_matches(after, "^" TS " n1 a info third$");
  struct stat st;
  assert_int_equal(stat(newpath, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0640);
  free(before);
  free(after);
  /* a pipe is not a file */
  int p[2];
  assert_int_equal(pipe(p), 0);
  int saved = dup(STDERR_FILENO);
  dup2(p[1], STDERR_FILENO);
  bool pipe_is_file = rv_log_to_file();
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(p[0]);
  close(p[1]);
  assert_false(pipe_is_file);
}

static void test_mono_clock(void **state) {
  (void)state;
  uint64_t a = rv_mono_us(), b = rv_mono_us();
  assert_true(b >= a);
  uint64_t ms = rv_mono_ms(), us = rv_mono_us();
  assert_true(us / 1000 >= ms);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_threshold),
      cmocka_unit_test(test_text_line),
      cmocka_unit_test(test_json_line),
      cmocka_unit_test(test_escaped_bytes),
      cmocka_unit_test(test_limited),
      cmocka_unit_test(test_reopen_and_to_file),
      cmocka_unit_test(test_mono_clock),
  };
  return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
