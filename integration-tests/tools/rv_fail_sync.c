/* librvfailsync.so: makes fsync/fdatasync (or write) fail on chosen files, for node-level tests
 * of what a node does when its disk reports an I/O error (the fsyncgate case: after a failed
 * sync the kernel may have dropped the dirty pages, so a process must not retry the sync and
 * trust it).
 *
 * Loaded with LD_PRELOAD into a node's supervisor (its actors inherit it). Idle unless the file
 * named by RV_FAIL_SYNC_TRIGGER exists; that file holds one line "MATCH ERRNO COUNT [write]":
 * the next COUNT syncs (with "write": write calls instead) of a file whose path contains MATCH
 * (or, when MATCH holds a '*', matches it as an fnmatch pattern) fail with ERRNO (EIO or
 * ENOSPC), each logged on stderr ("rv-fail-sync: pid P: fdatasync(PATH) -> EIO (injected, N
 * left)", which lands in the actor's log); when COUNT reaches 0 the trigger file is removed.
 * Processes of several nodes may share one trigger: MATCH (a node's data-dir) decides which
 * files fail. flock on the trigger makes the count exact across processes and threads (RocksDB
 * syncs from its own threads). A line naming an unknown ERRNO or kind injects nothing and says
 * so on stderr, once per process. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

/* Set while the shim itself runs: its own writes (the log line, the trigger's update) pass
 * through untouched, and never take the trigger's lock a second time. */
static __thread int s_busy;

static int s_errno_named(const char *name) {
  if (strcmp(name, "EIO") == 0) return EIO;
  if (strcmp(name, "ENOSPC") == 0) return ENOSPC;
  if (strcmp(name, "EDQUOT") == 0) return EDQUOT;
  return 0;
}

/* Whether this call on fd (a sync, or with is_write a write) is to fail; sets *e. Never
 * disturbs errno when it says no. */
static int s_inject(int fd, const char *call, int is_write, int *e) {
  const char *trigger = getenv("RV_FAIL_SYNC_TRIGGER");
  if (s_busy || !trigger || !*trigger) return 0;
  s_busy = 1;
  int saved = errno, hit = 0;
  int tfd = open(trigger, O_RDWR | O_CLOEXEC);
  if (tfd < 0) {
    errno = saved;
    s_busy = 0;
    return 0;
  }
  char path[4096], link[64], line[4200] = {0};
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t pl = readlink(link, path, sizeof path - 1);
  if (pl > 0 && flock(tfd, LOCK_EX) == 0) {
    path[pl] = '\0';
    ssize_t n = pread(tfd, line, sizeof line - 1, 0);
    char match[4096], ename[32], kind[16] = "";
    long count = 0;
    int fields = n > 0 ? sscanf(line, "%4095s %31s %ld %15s", match, ename, &count, kind) : 0;
    static int warned; /* a malformed trigger would otherwise never fire, silently */
    if (fields >= 3 && !warned &&
        ((kind[0] && strcmp(kind, "write") != 0) || s_errno_named(ename) == 0)) {
      warned = 1;
      fprintf(stderr, "rv-fail-sync: %s: \"%s %s %ld %s\" names an unknown %s (ERRNO: EIO, "
              "ENOSPC or EDQUOT; the 4th field: write or nothing)\n", trigger, match, ename,
              count, kind, s_errno_named(ename) == 0 ? "errno" : "kind");
    }
    int is_match = fields >= 3 && (strchr(match, '*') ? fnmatch(match, path, 0) == 0
                                                      : strstr(path, match) != NULL);
    if (is_match && count > 0 && (is_write ? strcmp(kind, "write") == 0 : kind[0] == '\0') &&
        (*e = s_errno_named(ename)) != 0) {
      hit = 1;
      count--;
      fprintf(stderr, "rv-fail-sync: pid %d: %s(%s) -> %s (injected, %ld left)\n", (int)getpid(),
              call, path, ename, count);
      if (count == 0) {
        unlink(trigger);
      } else {
        char out[4200];
        int len = snprintf(out, sizeof out, "%s %s %ld %s\n", match, ename, count, kind);
        if (ftruncate(tfd, 0) != 0 || pwrite(tfd, out, (size_t)len, 0) != len)
          fprintf(stderr, "rv-fail-sync: cannot update %s\n", trigger);
      }
    }
    flock(tfd, LOCK_UN);
  }
  close(tfd);
  errno = saved;
  s_busy = 0;
  return hit;
}

static int s_call(const char *name, int fd) {
  int e = 0;
  if (s_inject(fd, name, 0, &e)) {
    errno = e;
    return -1;
  }
  sync_fn real = (sync_fn)dlsym(RTLD_NEXT, name);
  if (!real) {
    errno = ENOSYS;
    return -1;
  }
  return real(fd);
}

int fsync(int fd) { return s_call("fsync", fd); }
int fdatasync(int fd) { return s_call("fdatasync", fd); }

/* write: fails only while a trigger names writes ("... write"). The check opens the trigger,
 * so it costs a failed open() per write while no trigger exists. */
typedef ssize_t (*write_fn)(int, const void *, size_t);

ssize_t write(int fd, const void *buf, size_t n) {
  static write_fn real;
  if (!real) real = (write_fn)dlsym(RTLD_NEXT, "write");
  if (!real) {
    errno = ENOSYS;
    return -1;
  }
  int e = 0;
  if (s_inject(fd, "write", 1, &e)) {
    errno = e;
    return -1;
  }
  return real(fd, buf, n);
}
