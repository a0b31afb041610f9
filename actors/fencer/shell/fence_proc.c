/* fence_proc: fork+exec of one fencing method in its own process group, with pipes and a pidfd
 * that the actor's loop polls (I/O shell; see the header). */
#include "fence_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct fence_proc {
  pid_t pid;
  bool reaped;
  int out[3];                         /* [0] pidfd, [1] stdout, [2] stderr; -1 = closed */
  char buf[3][FENCE_PROC_LINE_MAX];   /* partial lines of stdout and stderr */
  size_t nbuf[3];
};

pid_t fence_proc_pid(const fence_proc_t *p) { return p->pid; }
int fence_proc_fd(const fence_proc_t *p, int which) { return p->out[which]; }

static void s_close(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

int fence_proc_start(const fence_proc_spec_t *spec, fence_proc_t **out, rv_err_t *err) {
  *out = NULL;
  fence_proc_t *p = calloc(1, sizeof *p);
  if (!p) return rv_err_set(err, RV_ENOMEM, "out of memory");
  int po[2] = {-1, -1}, pe[2] = {-1, -1}, pin[2] = {-1, -1}, pexec[2] = {-1, -1};
  int rc = RV_OK;
  if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC) || pipe2(pexec, O_CLOEXEC) ||
      (spec->input && pipe2(pin, O_CLOEXEC))) {
    rc = rv_err_set(err, RV_EIO, "cannot create pipes: %s", strerror(errno));
    goto fail;
  }
  if (spec->input) { /* the whole input fits the pipe: written now, never blocks the loop */
    if (spec->input_len > 65536 ||
        write(pin[1], spec->input, spec->input_len) != (ssize_t)spec->input_len) {
      rc = rv_err_set(err, RV_EIO, "cannot write the method's input: %s", strerror(errno));
      goto fail;
    }
    s_close(&pin[1]);
  }
  pid_t child = fork();
  if (child < 0) {
    rc = rv_err_set(err, RV_EIO, "cannot fork: %s", strerror(errno));
    goto fail;
  }
  if (child == 0) {
    setsid(); /* its own session and process group: a timeout kills all of it */
    int in = spec->input ? pin[0] : open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(po[1], STDOUT_FILENO) < 0 ||
        dup2(pe[1], STDERR_FILENO) < 0)
      _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    execvpe(spec->argv[0], spec->argv, spec->envp);
    int e = errno;
    if (write(pexec[1], &e, sizeof e) < 0) { /* nothing more to do */
    }
    _exit(127);
  }
  p->pid = child;
  s_close(&po[1]);
  s_close(&pe[1]);
  s_close(&pexec[1]);
  s_close(&pin[0]);
  int child_errno = 0;
  ssize_t n;
  do n = read(pexec[0], &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  s_close(&pexec[0]);
  p->out[1] = po[0];
  p->out[2] = pe[0];
  fcntl(p->out[1], F_SETFL, O_NONBLOCK);
  fcntl(p->out[2], F_SETFL, O_NONBLOCK);
  p->out[0] = (int)syscall(SYS_pidfd_open, child, 0);
  if (n == (ssize_t)sizeof child_errno) {
    fence_proc_destroy(&p);
    return rv_err_set(err, RV_EIO, "cannot execute %s: %s", spec->argv[0], strerror(child_errno));
  }
  if (p->out[0] < 0) {
    rc = rv_err_set(err, RV_EIO, "pidfd_open: %s", strerror(errno));
    fence_proc_destroy(&p);
    return rc;
  }
  *out = p;
  return RV_OK;
fail:
  for (int i = 0; i < 2; i++) {
    s_close(&po[i]);
    s_close(&pe[i]);
    s_close(&pin[i]);
    s_close(&pexec[i]);
  }
  free(p);
  return rc;
}

bool fence_proc_read(fence_proc_t *p, int which,
                     void (*line)(const char *text, int which, void *arg), void *arg) {
  if (p->out[which] < 0) return true;
  char *b = p->buf[which];
  for (;;) {
    size_t room = sizeof p->buf[which] - 1 - p->nbuf[which];
    ssize_t n = read(p->out[which], b + p->nbuf[which], room);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    if (n > 0) p->nbuf[which] += (size_t)n;
    /* every complete line, and a full buffer as one piece */
    size_t start = 0;
    for (size_t i = 0; i < p->nbuf[which]; i++)
      if (b[i] == '\n') {
        b[i] = '\0';
        line(b + start, which, arg);
        start = i + 1;
      }
    memmove(b, b + start, p->nbuf[which] - start);
    p->nbuf[which] -= start;
    bool eof = n <= 0;
    if ((eof && p->nbuf[which] > 0) || p->nbuf[which] == sizeof p->buf[which] - 1) {
      b[p->nbuf[which]] = '\0';
      line(b, which, arg);
      p->nbuf[which] = 0;
    }
    if (eof) {
      s_close(&p->out[which]);
      return true;
    }
  }
}

void fence_proc_kill(fence_proc_t *p) {
  if (p->pid > 0) kill(-p->pid, SIGKILL);
}

bool fence_proc_reap(fence_proc_t *p, int *status) {
  if (p->reaped) return false;
  pid_t r;
  do r = waitpid(p->pid, status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r != p->pid) return false;
  p->reaped = true;
  fence_proc_kill(p); /* what the method left behind in its group */
  s_close(&p->out[0]);
  return true;
}

void fence_proc_destroy(fence_proc_t **pp) {
  fence_proc_t *p = pp ? *pp : NULL;
  if (!p) return;
  if (!p->reaped && p->pid > 0) {
    int st;
    fence_proc_kill(p);
    while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {
    }
  }
  for (int i = 0; i < 3; i++) s_close(&p->out[i]);
  free(p);
  *pp = NULL;
}

/* True when process pid's environment holds the string want. */
static bool s_env_has(pid_t pid, const char *want) {
  char path[64], buf[65536];
  snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return false;
  size_t wl = strlen(want);
  for (ssize_t o = 0; o < n;) {
    size_t l = strnlen(buf + o, (size_t)(n - o));
    if (l == wl && !memcmp(buf + o, want, wl)) return true;
    o += (ssize_t)l + 1;
  }
  return false;
}

/* The process group of pid, or -1. */
static pid_t s_pgid_of(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char *p = strrchr(buf, ')'); /* "pid (comm) S ppid pgrp ..." */
  int ppid, pgrp;
  char st;
  if (!p || sscanf(p + 1, " %c %d %d", &st, &ppid, &pgrp) != 3) return -1;
  return pgrp;
}

bool fence_proc_kill_stale(pid_t pgid, const char *id) {
  if (pgid <= 1) return false;
  char want[128];
  snprintf(want, sizeof want, "RV_FENCE_REQUEST=%s", id);
  DIR *d = opendir("/proc");
  if (!d) return false;
  bool found = false;
  struct dirent *e;
  while (!found && (e = readdir(d))) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end || pid <= 0) continue;
    found = s_pgid_of((pid_t)pid) == pgid && s_env_has((pid_t)pid, want);
  }
  closedir(d);
  if (found) kill(-pgid, SIGKILL);
  return found;
}
