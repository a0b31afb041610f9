/* raft_store_files: the files of raft-peer's segment log (I/O): names, writes and syncs through
 * the fault-injection hook, preparing segments (zeros really written, not fallocated, so that
 * later appends overwrite written space and fdatasync leaves the inode alone), the pool of
 * spares, and the thread that fills it off the hot path. The thread only ever writes zero files
 * under a temporary name and renames them into the pool; everything else runs on the caller's
 * thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "raft_store_int.h"

#define S_CHUNK (1u << 20) /* zeros written per system call while preparing */

static uint8_t s_zeros[S_CHUNK]; /* never written: .bss, shared read-only by both threads */

void rs_seg_name(char *buf, size_t len, uint64_t seq) {
  snprintf(buf, len, "seg-%016llx.log", (unsigned long long)seq);
}

void rs_spare_name(char *buf, size_t len, uint64_t id) {
  snprintf(buf, len, "spare-%016llx.log", (unsigned long long)id);
}

int rs_io_err(raft_store_t *s, rv_err_t *err, int e, const char *what, const char *file,
              uint64_t off) {
  int code = e == ENOSPC || e == EDQUOT ? RV_ENOSPACE : RV_EIO;
  const char *advice = code == RV_ENOSPACE ? "free space on that disk"
                                           : "check the disk and the kernel log (dmesg)";
  if (file)
    return rv_err_set(err, code, "raft log %s/%s: %s at offset %llu: %s; %s", s->dir, file, what,
                      (unsigned long long)off, strerror(e), advice);
  return rv_err_set(err, code, "raft log %s: %s: %s; %s", s->dir, what, strerror(e), advice);
}

/* ---- writes and syncs -------------------------------------------------------------------- */

static size_t s_iov_len(const struct iovec *iov, int n) {
  size_t t = 0;
  for (int i = 0; i < n; i++) t += iov[i].iov_len;
  return t;
}

/* Writes all of iov at off (retrying short writes), or only the first limit bytes. */
static int s_write_all(int fd, struct iovec *iov, int n, uint64_t off, size_t limit) {
  struct iovec v[8];
  int k = 0;
  for (int i = 0; i < n && k < 8 && limit; i++) {
    if (!iov[i].iov_len) continue;
    size_t l = iov[i].iov_len < limit ? iov[i].iov_len : limit;
    v[k++] = (struct iovec){iov[i].iov_base, l};
    limit -= l;
  }
  struct iovec *p = v;
  while (k > 0) {
    ssize_t w = pwritev(fd, p, k, (off_t)off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    off += (uint64_t)w;
    while (k > 0 && (size_t)w >= p->iov_len) {
      w -= (ssize_t)p->iov_len;
      p++;
      k--;
    }
    if (k > 0) {
      p->iov_base = (uint8_t *)p->iov_base + w;
      p->iov_len -= (size_t)w;
    }
  }
  return 0;
}

int rs_pwritev(raft_store_t *s, int fd, const char *file, struct iovec *iov, int n,
               uint64_t off) {
  size_t total = s_iov_len(iov, n), len = total;
  if (s->opts.fault) {
    int e = s->opts.fault(s->opts.fault_arg, RAFT_STORE_IO_WRITE, file, off, &len);
    if (len < total) {
      s_write_all(fd, iov, n, off, len);
      return e ? e : EIO;
    }
    if (e) return e;
  }
  return s_write_all(fd, iov, n, off, total);
}

int rs_datasync(raft_store_t *s, int fd, const char *file) {
  if (s->opts.fault) {
    size_t len = 0;
    int e = s->opts.fault(s->opts.fault_arg, RAFT_STORE_IO_SYNC, file, 0, &len);
    if (e) return e;
  }
  return fdatasync(fd) == 0 ? 0 : errno;
}

int rs_dirsync(raft_store_t *s) {
  if (s->opts.fault) {
    size_t len = 0;
    int e = s->opts.fault(s->opts.fault_arg, RAFT_STORE_IO_SYNC, NULL, 0, &len);
    if (e) return e;
  }
  return fsync(s->dirfd) == 0 ? 0 : errno;
}

int rs_zero_range(raft_store_t *s, int fd, const char *file, uint64_t off, uint64_t len) {
  while (len) {
    size_t n = len < S_CHUNK ? (size_t)len : S_CHUNK;
    struct iovec v = {s_zeros, n};
    int e = rs_pwritev(s, fd, file, &v, 1, off);
    if (e) return e;
    off += n;
    len -= n;
  }
  return rs_datasync(s, fd, file);
}

/* ---- preparing segments ------------------------------------------------------------------ */

static bool s_stopping(raft_store_t *s) {
  pthread_mutex_lock(&s->mu);
  bool stop = s->stop;
  pthread_mutex_unlock(&s->mu);
  return stop;
}

int rs_prepare(raft_store_t *s, uint64_t size, const char *final, const char **what) {
  *what = "prepare a segment";
  if (s->opts.fault) {
    size_t len = size;
    int e = s->opts.fault(s->opts.fault_arg, RAFT_STORE_IO_PREPARE, final, 0, &len);
    if (e) return e;
  }
  /* a full disk fails at once, rather than after writing all the space there is (a save that
   * needs a segment is retried every tick) */
  struct statvfs vfs;
  if (fstatvfs(s->dirfd, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < size) return ENOSPC;
  pthread_mutex_lock(&s->mu);
  uint64_t id = s->next_spare_id++;
  pthread_mutex_unlock(&s->mu);
  char tmp[64];
  snprintf(tmp, sizeof tmp, "tmp-%016llx.zero", (unsigned long long)id);
  int fd = openat(s->dirfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    *what = "create a segment";
    return errno;
  }
  int e = 0;
  for (uint64_t off = 0; off < size && !e; off += S_CHUNK) {
    if (s_stopping(s)) e = ECANCELED;
    struct iovec v = {s_zeros, size - off < S_CHUNK ? (size_t)(size - off) : S_CHUNK};
    if (!e) e = s_write_all(fd, &v, 1, off, v.iov_len);
    /* write each chunk back now, so that little is ever dirty: a final fsync of 64 MiB would
     * hold up the log's own fdatasyncs (measured: stalls of 35 ms without this) */
    if (!e && sync_file_range(fd, (off64_t)off, (off64_t)v.iov_len,
                              SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                  SYNC_FILE_RANGE_WAIT_AFTER) != 0)
      e = errno;
  }
  if (e)
    *what = "write zeros into a new segment";
  else if (fsync(fd) != 0)
    e = errno, *what = "sync a new segment";
  close(fd);
  if (!e && renameat(s->dirfd, tmp, s->dirfd, final) != 0)
    e = errno, *what = "rename a new segment";
  if (e) {
    unlinkat(s->dirfd, tmp, 0);
    return e;
  }
  if ((e = rs_dirsync(s))) *what = "sync the directory";
  return e;
}

/* ---- the pool ---------------------------------------------------------------------------- */

/* With mu held: adds a spare, or says there is no room. */
static bool s_push(raft_store_t *s, uint64_t id, uint64_t size) {
  if (s->n_spares >= RS_MAX_SPARES) return false;
  s->spares[s->n_spares++] = (rs_spare_t){id, size};
  return true;
}

int rs_spare_take(raft_store_t *s, uint64_t need, uint64_t size, rs_spare_t *out, rv_err_t *err) {
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->n_spares; i++) {
    if (s->spares[i].size < need) continue;
    *out = s->spares[i];
    s->spares[i] = s->spares[--s->n_spares];
    pthread_mutex_unlock(&s->mu);
    return RV_OK;
  }
  uint64_t id = s->next_spare_id++;
  pthread_mutex_unlock(&s->mu);
  /* none ready: prepare one now (the stall the preparing thread exists to avoid) */
  if (size < need) size = need;
  char name[64];
  rs_spare_name(name, sizeof name, id);
  const char *what;
  int e = rs_prepare(s, size, name, &what);
  /* Short of space for a whole segment: a smaller one that holds what must be written now
   * (recycling drops it later), so that writes resume as soon as that much is free rather
   * than a whole segment's worth. */
  uint64_t small = (need + RS_MIN_SEGMENT - 1) / RS_MIN_SEGMENT * RS_MIN_SEGMENT;
  if ((e == ENOSPC || e == EDQUOT) && small < size) {
    e = rs_prepare(s, small, name, &what);
    if (!e) size = small;
  }
  if (e == ENOSPC || e == EDQUOT) {
    struct statvfs vfs;
    unsigned long long avail =
        fstatvfs(s->dirfd, &vfs) == 0 ? (unsigned long long)vfs.f_bavail * vfs.f_frsize : 0;
    return rv_err_set(err, RV_ENOSPACE,
                      "raft log %s: no space for the next segment: it needs %llu bytes free on "
                      "that disk, %llu are; free space there: writes resume by themselves as "
                      "soon as it has room", s->dir, (unsigned long long)small, avail);
  }
  if (e) return rs_io_err(s, err, e, what, name, 0);
  *out = (rs_spare_t){id, size};
  return RV_OK;
}

void rs_spare_untake(raft_store_t *s, const rs_spare_t *sp) {
  pthread_mutex_lock(&s->mu);
  bool kept = s_push(s, sp->id, sp->size);
  pthread_mutex_unlock(&s->mu);
  if (!kept) {
    char name[64];
    rs_spare_name(name, sizeof name, sp->id);
    unlinkat(s->dirfd, name, 0);
  }
}

int rs_spare_give(raft_store_t *s, const rs_seg_t *seg) {
  char from[64], to[64];
  rs_seg_name(from, sizeof from, seg->seq);
  pthread_mutex_lock(&s->mu);
  bool keep = seg->size >= s->opts.segment_bytes && s->n_spares < s->opts.spares;
  uint64_t id = keep ? s->next_spare_id++ : 0;
  pthread_mutex_unlock(&s->mu);
  if (!keep) return unlinkat(s->dirfd, from, 0) == 0 ? 0 : errno;
  rs_spare_name(to, sizeof to, id);
  if (renameat(s->dirfd, from, s->dirfd, to) != 0) return errno;
  pthread_mutex_lock(&s->mu);
  keep = s_push(s, id, seg->size);
  pthread_mutex_unlock(&s->mu);
  if (!keep) unlinkat(s->dirfd, to, 0);
  return 0;
}

void rs_spare_found(raft_store_t *s, uint64_t id, uint64_t size) {
  pthread_mutex_lock(&s->mu);
  if (id >= s->next_spare_id) s->next_spare_id = id + 1;
  bool keep = s->n_spares < s->opts.spares && s_push(s, id, size);
  pthread_mutex_unlock(&s->mu);
  if (!keep) {
    char name[64];
    rs_spare_name(name, sizeof name, id);
    unlinkat(s->dirfd, name, 0);
  }
}

void rs_spare_ask(raft_store_t *s, uint64_t size) {
  pthread_mutex_lock(&s->mu);
  bool have = false;
  for (size_t i = 0; i < s->n_spares; i++) have = have || s->spares[i].size >= size;
  if (!have && !s->want_spare) {
    s->want_spare = true;
    s->want_size = size;
    pthread_cond_signal(&s->cv);
  }
  pthread_mutex_unlock(&s->mu);
}

/* The preparing thread: one spare per request, while not stopped. */
static void *s_thread(void *arg) {
  raft_store_t *s = arg;
  pthread_mutex_lock(&s->mu);
  while (!s->stop) {
    if (!s->want_spare) {
      pthread_cond_wait(&s->cv, &s->mu);
      continue;
    }
    uint64_t size = s->want_size, id = s->next_spare_id++;
    pthread_mutex_unlock(&s->mu);
    char name[64];
    rs_spare_name(name, sizeof name, id);
    const char *what;
    int e = rs_prepare(s, size, name, &what);
    pthread_mutex_lock(&s->mu);
    s->want_spare = false; /* on failure, the roll-over prepares one itself and says why */
    if (!e && !s_push(s, id, size)) unlinkat(s->dirfd, name, 0);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

int rs_spares_start(raft_store_t *s, rv_err_t *err) {
  int e = pthread_create(&s->thread, NULL, s_thread, s);
  if (e) return rv_err_set(err, RV_EIO, "raft log %s: cannot start the thread that prepares "
                           "segments: %s", s->dir, strerror(e));
  s->thread_running = true;
  return RV_OK;
}

void rs_spares_stop(raft_store_t *s) {
  if (!s->thread_running) return;
  pthread_mutex_lock(&s->mu);
  s->stop = true;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  s->thread_running = false;
}
