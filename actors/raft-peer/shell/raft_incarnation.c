/* raft_incarnation: this node's incarnation id and the table of the members' ones, as two small
 * files replaced atomically (I/O shell). See the header for the formats. */
#include "raft_incarnation.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rv_actor.h" /* rv_random_u64 */

#define S_SELF "incarnation"
#define S_TABLE "incarnations"
#define S_SELF_HEAD "raftvisor-incarnation 1"
#define S_TABLE_HEAD "raftvisor-incarnations 1"

/* Writes text to dir/name atomically and durably: dir/name.tmp, fsync, rename, fsync dir. */
static int s_replace(const char *dir, const char *name, const char *text, rv_err_t *err) {
  char tmp[PATH_MAX], final[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
  snprintf(final, sizeof final, "%s/%s", dir, name);
  int fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return rv_err_set(err, RV_EIO, "create %s: %s", tmp, strerror(errno));
  size_t len = strlen(text);
  const char *what = NULL;
  int e = 0;
  if (write(fd, text, len) != (ssize_t)len) e = errno ? errno : EIO, what = "write";
  else if (fsync(fd) != 0) e = errno, what = "fsync";
  close(fd);
  if (!e && rename(tmp, final) != 0) e = errno, what = "rename into place";
  if (!e) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) e = errno, what = "fsync the directory of";
    if (dfd >= 0) close(dfd);
  }
  if (e) {
    unlink(tmp);
    return rv_err_set(err, RV_EIO, "%s %s: %s", what, final, strerror(e));
  }
  return RV_OK;
}

/* Reads dir/name whole into buf (NUL-terminated). Returns 0, RV_ENOTFOUND when it does not
 * exist, RV_ECORRUPT when it is larger than buf, RV_EIO. */
static int s_read(const char *dir, const char *name, char *buf, size_t cap, rv_err_t *err) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? RV_ENOTFOUND
                           : rv_err_set(err, RV_EIO, "open %s: %s", path, strerror(errno));
  ssize_t n = read(fd, buf, cap - 1);
  int e = errno;
  close(fd);
  if (n < 0) return rv_err_set(err, RV_EIO, "read %s: %s", path, strerror(e));
  if ((size_t)n == cap - 1)
    return rv_err_set(err, RV_ECORRUPT, "%s: larger than %zu bytes", path, cap - 2);
  buf[n] = '\0';
  return RV_OK;
}

/* Parses exactly 16 lower-case hex digits at s into *v. */
static bool s_hex16(const char *s, uint64_t *v) {
  uint64_t x = 0;
  for (int i = 0; i < 16; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    x = x << 4 | (uint64_t)d;
  }
  *v = x;
  return true;
}

int raft_incarnation_self(const char *dir, uint64_t *inc, bool *created, rv_err_t *err) {
  char buf[128];
  *created = false;
  int rc = s_read(dir, S_SELF, buf, sizeof buf, err);
  if (rc == RV_ENOTFOUND) {
    uint64_t v;
    do v = rv_random_u64(); while (v == 0);
    char text[64];
    snprintf(text, sizeof text, "%s\n%016" PRIx64 "\n", S_SELF_HEAD, v);
    if ((rc = s_replace(dir, S_SELF, text, err))) return rc;
    *inc = v;
    *created = true;
    return RV_OK;
  }
  if (rc) return rc;
  size_t hl = strlen(S_SELF_HEAD);
  uint64_t v = 0;
  if (strncmp(buf, S_SELF_HEAD "\n", hl + 1) != 0)
    return rv_err_set(err, RV_ECORRUPT, "%s/%s:1: expected \"%s\"", dir, S_SELF, S_SELF_HEAD);
  if (strlen(buf + hl + 1) != 17 || !s_hex16(buf + hl + 1, &v) || buf[hl + 17] != '\n' || !v)
    return rv_err_set(err, RV_ECORRUPT,
                      "%s/%s:2: expected a non-zero incarnation of 16 hex digits; the file is "
                      "damaged: wipe this node's data-dir and `raftvisor raft rejoin` it",
                      dir, S_SELF);
  *inc = v;
  return RV_OK;
}

int raft_incarnation_load(const char *dir, raft_gate_table_t *t, rv_err_t *err) {
  memset(t, 0, sizeof *t);
  char buf[64 + RAFT_MAX_MEMBERS * 40];
  int rc = s_read(dir, S_TABLE, buf, sizeof buf, err);
  if (rc == RV_ENOTFOUND) return RV_OK;
  if (rc) return rc;
  int line = 1;
  char *p = buf, *nl = strchr(p, '\n');
  if (!nl || (size_t)(nl - p) != strlen(S_TABLE_HEAD) || strncmp(p, S_TABLE_HEAD, nl - p) != 0)
    return rv_err_set(err, RV_ECORRUPT, "%s/%s:1: expected \"%s\"", dir, S_TABLE, S_TABLE_HEAD);
  for (p = nl + 1; *p; p = nl + 1) {
    line++;
    nl = strchr(p, '\n');
    uint64_t id, inc;
    if (!nl || nl - p != 33 || p[16] != ' ' || !s_hex16(p, &id) || !s_hex16(p + 17, &inc) ||
        !id || !inc)
      return rv_err_set(err, RV_ECORRUPT,
                        "%s/%s:%d: expected \"<raft id> <incarnation>\" (16 hex digits each, not "
                        "0); the file is damaged: wipe this node's data-dir and `raftvisor raft "
                        "rejoin` it", dir, S_TABLE, line);
    if (!raft_gate_learn(t, id, inc))
      return rv_err_set(err, RV_ECORRUPT, "%s/%s:%d: raft id %016" PRIx64 " repeated, or more "
                        "than %d members", dir, S_TABLE, line, id, RAFT_MAX_MEMBERS);
  }
  return RV_OK;
}

int raft_incarnation_save(const char *dir, const raft_gate_table_t *t, rv_err_t *err) {
  char text[64 + RAFT_MAX_MEMBERS * 40];
  size_t n = (size_t)snprintf(text, sizeof text, "%s\n", S_TABLE_HEAD);
  for (size_t i = 0; i < t->n; i++)
    n += (size_t)snprintf(text + n, sizeof text - n, "%016" PRIx64 " %016" PRIx64 "\n",
                          t->ids[i], t->incs[i]);
  return s_replace(dir, S_TABLE, text, err);
}
