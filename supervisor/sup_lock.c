/* sup_lock: the node lock and process liveness (I/O: files under the run directory, /proc). */
#include "sup_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void s_lock_path(const cfg_node_t *cfg, char *buf, size_t len) {
  snprintf(buf, len, "%s/supervisor.lock", cfg->run_dir);
}

int sup_lock_acquire(const cfg_node_t *cfg, int *fd_out, rv_err_t *err) {
  char path[CFG_PATH_MAX + 32];
  s_lock_path(cfg, path, sizeof path);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return rv_err_set(err, RV_EIO, "cannot open %s: %s", path, strerror(errno));
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  if (fcntl(fd, F_SETLK, &fl) != 0) {
    int e = errno;
    struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    pid_t holder = fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK ? q.l_pid : 0;
    close(fd);
    if (e == EACCES || e == EAGAIN)
      return rv_err_set(err, RV_ERUNNING,
                        "node %s is already running (supervisor pid %d holds %s); stop it with "
                        "'raftvisor stop -c %s'",
                        cfg->node_id, (int)holder, path, cfg->source);
    return rv_err_set(err, RV_EIO, "cannot lock %s: %s", path, strerror(e));
  }
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
    /* the lock is what matters; the pid inside is for humans */
  }
  *fd_out = fd;
  return RV_OK;
}

int sup_lock_holder(const cfg_node_t *cfg, pid_t *pid, rv_err_t *err) {
  char path[CFG_PATH_MAX + 32];
  s_lock_path(cfg, path, sizeof path);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && (errno == EACCES || errno == EPERM))
    return rv_err_set(err, RV_EPERM,
                      "permission denied: cannot read %s, so whether node %s runs is unknown "
                      "(run as the node's user, who owns %s)",
                      path, cfg->node_id, cfg->run_dir);
  if (fd < 0) return rv_err_set(err, RV_ENOTRUNNING, "cannot open %s: %s", path, strerror(errno));
  struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  int rc = fcntl(fd, F_GETLK, &q);
  close(fd);
  if (rc != 0 || q.l_type == F_UNLCK)
    return rv_err_set(err, RV_ENOTRUNNING, "no process holds %s", path);
  *pid = q.l_pid;
  return RV_OK;
}

bool sup_pid_alive(pid_t pid) {
  if (pid <= 0) return false;
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "re");
  if (!f) return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* "pid (comm) S ...": comm may hold spaces and parentheses, so find the last ')' */
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ') return false;
  char state = p[2];
  return state != 'Z' && state != 'X';
}
