/* fence_store: fence requests on disk, atomically (I/O shell; see the header). */
#include "fence_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int s_sync_dir(const char *dir, rv_err_t *err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    return rv_err_set(err, RV_EIO, "cannot fsync %s: %s", dir, strerror(e));
  }
  close(fd);
  return RV_OK;
}

/* Creates path if missing; a new directory's entry is made durable in parent, since a request
 * saved inside must be found again after a crash. */
static int s_mkdir(const char *path, const char *parent, rv_err_t *err) {
  if (mkdir(path, 0700) == 0) return s_sync_dir(parent, err);
  if (errno != EEXIST)
    return rv_err_set(err, RV_EIO, "cannot create directory %s: %s", path, strerror(errno));
  return RV_OK;
}

int fence_store_open(const char *data_dir, char *dir, size_t len, rv_err_t *err) {
  int w = snprintf(dir, len, "%s/fencer", data_dir);
  if (w < 0 || (size_t)w >= len) return rv_err_set(err, RV_EIO, "%s: path too long", data_dir);
  char fencer[4200];
  snprintf(fencer, sizeof fencer, "%s", dir);
  int rc = s_mkdir(dir, data_dir, err);
  if (rc) return rc;
  w = snprintf(dir, len, "%s/fencer/requests", data_dir);
  if (w < 0 || (size_t)w >= len) return rv_err_set(err, RV_EIO, "%s: path too long", data_dir);
  return s_mkdir(dir, fencer, err);
}

int fence_store_save(const char *dir, const fence_request_t *req, rv_err_t *err) {
  char text[FENCE_RECORD_MAX], path[4200], tmp[4210];
  int n = fence_record_format(req, text, sizeof text);
  if (n < 0) return rv_err_set(err, RV_EIO, "request %s: record too large", req->id);
  snprintf(path, sizeof path, "%s/%s.req", dir, req->id);
  snprintf(tmp, sizeof tmp, "%s.new", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return rv_err_set(err, RV_EIO, "cannot create %s: %s", tmp, strerror(errno));
  ssize_t w = write(fd, text, (size_t)n);
  if (w != n || fsync(fd) != 0) {
    int e = w < 0 || w == n ? errno : EIO;
    close(fd);
    unlink(tmp);
    return rv_err_set(err, RV_EIO, "cannot write %s: %s", tmp, strerror(e));
  }
  close(fd);
  if (rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return rv_err_set(err, RV_EIO, "cannot rename %s: %s", tmp, strerror(e));
  }
  return s_sync_dir(dir, err);
}

int fence_store_remove(const char *dir, const char *id, rv_err_t *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s.req", dir, id);
  if (unlink(path) != 0 && errno != ENOENT)
    return rv_err_set(err, RV_EIO, "cannot remove %s: %s", path, strerror(errno));
  return s_sync_dir(dir, err);
}

static int s_by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads path whole into buf[len); returns the byte count or -1. */
static ssize_t s_read_file(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t o = 0;
  for (;;) {
    ssize_t r = read(fd, buf + o, len - o);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    o += (size_t)r;
    if (o == len) break;
  }
  close(fd);
  return (ssize_t)o;
}

int fence_store_load(const char *dir, fence_request_t *out, int max, int *n,
                     void (*bad)(const char *why, void *arg), void *arg, rv_err_t *err) {
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return rv_err_set(err, RV_EIO, "cannot read %s: %s", dir, strerror(errno));
  char *names[256];
  int k = 0;
  struct dirent *e;
  while ((e = readdir(d)) && k < 256) {
    size_t l = strlen(e->d_name);
    if (l > 4 && !strcmp(e->d_name + l - 4, ".req")) names[k++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)k, sizeof *names, s_by_name);
  for (int i = 0; i < k; i++) {
    char path[4200], text[FENCE_RECORD_MAX + 1], why[512], msg[9000];
    if (!names[i]) continue;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    ssize_t len = s_read_file(path, text, sizeof text);
    int rc = -1;
    if (len < 0) snprintf(why, sizeof why, "cannot read: %s", strerror(errno));
    else if ((size_t)len > FENCE_RECORD_MAX) snprintf(why, sizeof why, "larger than a record");
    else if (*n >= max) snprintf(why, sizeof why, "more than %d requests", max);
    else rc = fence_record_parse(text, (size_t)len, &out[*n], why, sizeof why);
    if (rc == 0) {
      char want[FENCE_ID_MAX + 8];
      snprintf(want, sizeof want, "%s.req", out[*n].id);
      if (strcmp(want, names[i]) != 0) {
        snprintf(why, sizeof why, "holds request \"%s\"", out[*n].id);
        rc = -1;
      }
    }
    if (rc == 0) {
      (*n)++;
    } else {
      char badpath[4210];
      snprintf(badpath, sizeof badpath, "%s.bad", path);
      rename(path, badpath);
      snprintf(msg, sizeof msg, "%s: %s (kept as %s)", path, why, badpath);
      bad(msg, arg);
    }
    free(names[i]);
  }
  return RV_OK;
}
