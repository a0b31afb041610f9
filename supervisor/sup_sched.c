/* sup_sched: a child's run-queue wait, waits in progress included, and its loop thread's CPU
 * time, from /proc/PID/task/TID/{schedstat,stat} (I/O shell; see sup_sched.h). The supervisor
 * samples only children that are late to answer or still starting (sup_core_wants_sched), so a
 * healthy node reads nothing; a late process of ~10 threads costs ~60 system calls a tick. */
#include "sup_sched.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads up to len - 1 bytes of path (relative to dirfd) into buf, terminated; -1 on failure. */
static int s_read(int dirfd, const char *path, char *buf, size_t len) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  return 0;
}

/* "RUN WAIT SLICES" of a schedstat file. */
static int s_schedstat(int dirfd, const char *path, uint64_t v[3]) {
  char buf[128];
  if (s_read(dirfd, path, buf, sizeof buf) != 0) return -1;
  return sscanf(buf, "%" SCNu64 " %" SCNu64 " %" SCNu64, &v[0], &v[1], &v[2]) == 3 ? 0 : -1;
}

/* The state letter of a stat file ("TID (comm) S ..."; comm may hold spaces and parentheses),
 * or '?'. */
static char s_state(int dirfd, const char *path) {
  char buf[512];
  if (s_read(dirfd, path, buf, sizeof buf) != 0) return '?';
  const char *p = strrchr(buf, ')');
  return p && p[1] == ' ' && p[2] ? p[2] : '?';
}

bool sup_sched_supported(void) {
  uint64_t v[3];
  return s_schedstat(AT_FDCWD, "/proc/self/schedstat", v) == 0;
}

void sup_sched_reset(sup_sched_proc_t *p) {
  p->pid = 0;
  p->nthreads = 0;
  p->wait_ns = 0;
  p->at_ns = 0;
}

static sup_sched_thread_t *s_find(sup_sched_proc_t *p, int tid) {
  for (int i = 0; i < p->nthreads; i++)
    if (p->threads[i].tid == tid) return &p->threads[i];
  return NULL;
}

void sup_sched_fold(sup_sched_proc_t *p, int pid, const sup_sched_thread_t *now_threads,
                    int n, uint64_t now_ns) {
  bool baseline = p->pid != pid;
  if (baseline) {
    sup_sched_reset(p);
    p->pid = pid;
  }
  uint64_t interval = !baseline && now_ns > p->at_ns ? now_ns - p->at_ns : 0;
  for (int i = 0; i < p->nthreads; i++) p->threads[i].seen = false;
  for (int k = 0; k < n; k++) {
    const sup_sched_thread_t *v = &now_threads[k];
    sup_sched_thread_t *t = s_find(p, v->tid);
    bool moved = t && (v->run_ns != t->run_ns || v->slices != t->slices);
    if (!t) { /* new (or the baseline): its counts so far are not ours to credit */
      if (p->nthreads == SUP_SCHED_MAX_THREADS) continue;
      t = &p->threads[p->nthreads++];
      *t = (sup_sched_thread_t){.tid = v->tid};
    } else if (v->wait_ns > t->wait_ns) {
      /* a wait ended: what the inference did not credit already */
      uint64_t ended = v->wait_ns - t->wait_ns;
      p->wait_ns += ended > t->inferred_ns ? ended - t->inferred_ns : 0;
      t->inferred_ns = 0;
    } else if (!moved && v->state == 'R' && t->state == 'R') {
      /* runnable at both samples and never ran in between: it waited all along */
      p->wait_ns += interval;
      t->inferred_ns += interval;
    }
    t->run_ns = v->run_ns;
    t->wait_ns = v->wait_ns;
    t->slices = v->slices;
    t->state = v->state;
    t->seen = true;
  }
  int keep = 0; /* threads that ended are forgotten */
  for (int i = 0; i < p->nthreads; i++)
    if (p->threads[i].seen) p->threads[keep++] = p->threads[i];
  p->nthreads = keep;
  p->at_ns = now_ns;
}

int sup_sched_sample(sup_sched_proc_t *p, int pid, uint64_t now_ns, sup_sched_t *out) {
  char path[64];
  uint64_t main_v[3];
  snprintf(path, sizeof path, "/proc/%d/schedstat", pid);
  if (s_schedstat(AT_FDCWD, path, main_v) != 0) return -1;
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return -1;
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    return -1;
  }
  sup_sched_thread_t now_threads[SUP_SCHED_MAX_THREADS];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < SUP_SCHED_MAX_THREADS) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char rel[300];
    uint64_t v[3];
    snprintf(rel, sizeof rel, "%s/schedstat", e->d_name);
    if (s_schedstat(dirfd(d), rel, v) != 0) continue; /* a thread that ended meanwhile */
    snprintf(rel, sizeof rel, "%s/stat", e->d_name);
    now_threads[n++] = (sup_sched_thread_t){.tid = atoi(e->d_name), .run_ns = v[0],
                                            .wait_ns = v[1], .slices = v[2],
                                            .state = s_state(dirfd(d), rel)};
  }
  closedir(d);
  if (!n) return -1; /* gone */
  sup_sched_fold(p, pid, now_threads, n, now_ns);
  out->wait_ns = p->wait_ns;
  out->cpu_ns = main_v[0];
  return 0;
}
