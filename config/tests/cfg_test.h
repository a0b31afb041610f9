/* cfg_test: helpers shared by the config tests (temporary files, capturing what is written to an
 * fd, parsing a string as if it were /etc/raftvisor/node.yaml). Header-only, test-only. */
#ifndef CFG_TEST_H
#define CFG_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_node.h"

#define CFG_TEST_NAME "/etc/raftvisor/node.yaml"

/* The smallest valid file: one node, this one. */
#define CFG_TEST_MINIMAL                         \
  "node:\n"                                      \
  "  id: n1\n"                                   \
  "  data-dir: /var/lib/rv\n"                    \
  "cluster:\n"                                   \
  "  nodes:\n"                                   \
  "    - {id: n1, host: 127.0.0.1, raft-port: 7101}\n"

/* What cfg_test_parse appends to a file that says nothing of security: these tests are about
 * everything else, and a file without keys must say it runs insecure (test_cfg_security.c tests
 * the keys themselves). Appended at the end, so line numbers in expected messages hold. */
#define CFG_TEST_INSECURE "security:\n  insecure: true\n"

/* Parses yaml as CFG_TEST_NAME (with CFG_TEST_INSECURE appended when yaml is a block document
 * with no "security" in it); warnings to warn_fd. */
static inline int cfg_test_parse(const char *yaml, cfg_node_t **cfg, int warn_fd, rv_err_t *err) {
  rv_err_clear(err);
  size_t n = strlen(yaml);
  if (strstr(yaml, "security") || !strstr(yaml, "node") || n == 0 || yaml[n - 1] != '\n' || yaml[0] == '{' || yaml[0] == '-')
    return cfg_node_parse(CFG_TEST_NAME, yaml, n, cfg, warn_fd, err);
  char *full = malloc(n + sizeof CFG_TEST_INSECURE);
  assert_non_null(full);
  memcpy(full, yaml, n);
  memcpy(full + n, CFG_TEST_INSECURE, sizeof CFG_TEST_INSECURE);
  int rc = cfg_node_parse(CFG_TEST_NAME, full, strlen(full), cfg, warn_fd, err);
  free(full);
  return rc;
}

/* Asserts that yaml is refused with exactly msg (and RV_ECONFIG), and that nothing is returned. */
static inline void cfg_test_refused(const char *yaml, const char *msg) {
  cfg_node_t *cfg = (cfg_node_t *)(uintptr_t)1;
  rv_err_t err;
  int rc = cfg_test_parse(yaml, &cfg, -1, &err);
  if (rc == 0 || strcmp(err.msg, msg) != 0)
    print_error("yaml:\n%s\nwant: %s\ngot:  %s (rc %d)\n", yaml, msg, err.msg, rc);
  assert_int_equal(rc, RV_ECONFIG);
  assert_int_equal(err.code, RV_ECONFIG);
  assert_string_equal(err.msg, msg);
  assert_null(cfg);
}

/* Parses yaml, asserting success; caller destroys. */
static inline cfg_node_t *cfg_test_ok(const char *yaml) {
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  int rc = cfg_test_parse(yaml, &cfg, -1, &err);
  if (rc) print_error("yaml:\n%s\nunexpected error: %s\n", yaml, err.msg);
  assert_int_equal(rc, 0);
  assert_non_null(cfg);
  return cfg;
}

/* A fresh directory under /tmp (caller removes it with cfg_test_rmdir). */
static inline void cfg_test_mkdtemp(char *dir, size_t len) {
  snprintf(dir, len, "/tmp/cfg-test-XXXXXX");
  assert_non_null(mkdtemp(dir));
}

/* Writes text to dir/name with mode; the full path into path. */
static inline void cfg_test_write(const char *dir, const char *name, const char *text, mode_t mode,
                                  char *path, size_t len) {
  snprintf(path, len, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  size_t n = strlen(text);
  assert_int_equal(write(fd, text, n), (ssize_t)n);
  assert_int_equal(fchmod(fd, mode), 0);
  close(fd);
}

static inline void cfg_test_rmdir(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

/* Everything readable from fd (a pipe whose writers are closed, or a file at its start), as a
 * NUL-terminated heap string. */
static inline char *cfg_test_slurp(int fd) {
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  assert_non_null(buf);
  for (;;) {
    if (n + 1 == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      assert_non_null(buf);
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    assert_true(r >= 0);
    if (r == 0) break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  return buf;
}

/* What write_fn wrote to an fd (a temporary file), as a heap string. */
static inline char *cfg_test_capture(void (*write_fn)(const cfg_node_t *, int),
                                     const cfg_node_t *cfg) {
  FILE *f = tmpfile();
  assert_non_null(f);
  write_fn(cfg, fileno(f));
  assert_int_equal(lseek(fileno(f), 0, SEEK_SET), 0);
  char *text = cfg_test_slurp(fileno(f));
  fclose(f);
  return text;
}

#endif
