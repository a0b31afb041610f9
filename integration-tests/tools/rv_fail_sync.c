/* librvfailsync.so: makes fsync/fdatasync fail on chosen files, for node-level tests of what a
 * node does when its disk reports an I/O error (the fsyncgate case: after a failed sync the
 * kernel may have dropped the dirty pages, so a process must not retry the sync and trust it).
 *
 * Loaded with LD_PRELOAD into a node's supervisor (its actors inherit it). Idle unless the file
 * named by RV_FAIL_SYNC_TRIGGER exists; that file holds one line "MATCH ERRNO COUNT": the next
 * COUNT syncs of a file whose path contains MATCH fail with ERRNO (EIO or ENOSPC), each logged
 * on stderr ("rv-fail-sync: pid P: fdatasync(PATH) -> EIO (injected, N left)", which lands in the
 * actor's log); when COUNT reaches 0 the trigger file is removed. Processes of several nodes may
 * share one trigger: MATCH (a node's data-dir) decides which files fail. flock on the trigger
 * makes the count exact across processes and threads (RocksDB syncs from its own threads). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

static int s_errno_named(const char *name) {
  if (strcmp(name, "EIO") == 0) return EIO;
  if (strcmp(name, "ENOSPC") == 0) return ENOSPC;
  if (strcmp(name, "EDQUOT") == 0) return EDQUOT;
  return 0;
}

/* Whether this sync of fd is to fail; sets *e. Never disturbs errno when it says no. */
static int s_inject(int fd, const char *call, int *e) {
  const char *trigger = getenv("RV_FAIL_SYNC_TRIGGER");
  if (!trigger || !*trigger) return 0;
  int saved = errno, hit = 0;
  int tfd = open(trigger, O_RDWR | O_CLOEXEC);
  if (tfd < 0) {
    errno = saved;
    return 0;
  }
  char path[4096], link[64], line[4200] = {0};
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t pl = readlink(link, path, sizeof path - 1);
  if (pl > 0 && flock(tfd, LOCK_EX) == 0) {
    path[pl] = '\0';
    ssize_t n = pread(tfd, line, sizeof line - 1, 0);
    char match[4096], ename[32];
    long count = 0;
    if (n > 0 && sscanf(line, "%4095s %31s %ld", match, ename, &count) == 3 && count > 0 &&
        strstr(path, match) && (*e = s_errno_named(ename)) != 0) {
      hit = 1;
      count--;
      fprintf(stderr, "rv-fail-sync: pid %d: %s(%s) -> %s (injected, %ld left)\n", (int)getpid(),
              call, path, ename, count);
      if (count == 0) {
        unlink(trigger);
      } else {
        char out[4200];
        int len = snprintf(out, sizeof out, "%s %s %ld\n", match, ename, count);
        if (ftruncate(tfd, 0) != 0 || pwrite(tfd, out, (size_t)len, 0) != len)
          fprintf(stderr, "rv-fail-sync: cannot update %s\n", trigger);
      }
    }
    flock(tfd, LOCK_UN);
  }
  close(tfd);
  errno = saved;
  return hit;
}

static int s_call(const char *name, int fd) {
  int e = 0;
  if (s_inject(fd, name, &e)) {
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
