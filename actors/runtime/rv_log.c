/* rv_log: structured log lines and the monotonic clock (I/O: writes stderr). */
#include "rv_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char s_node[CFG_ID_MAX + 1] = "-";
static char s_actor[CFG_ID_MAX + 1] = "-";
static cfg_log_level_t s_level = CFG_LOG_INFO;
static const char *s_level_names[] = {"debug", "info", "warn", "error"};

void rv_log_init(const char *node, const char *actor, cfg_log_level_t level) {
  snprintf(s_node, sizeof s_node, "%s", node && *node ? node : "-");
  snprintf(s_actor, sizeof s_actor, "%s", actor && *actor ? actor : "-");
  s_level = level;
}

void rv_log(cfg_log_level_t level, const char *fmt, ...) {
  if (level < s_level) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* one write per line, so lines from several processes sharing a file never interleave */
  char line[2300];
  int n = snprintf(line, sizeof line, "%s.%03ldZ %s %s %s %s\n", when, ts.tv_nsec / 1000000L,
                   s_node, s_actor, s_level_names[level], msg);
  if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
  fwrite(line, 1, (size_t)n, stderr);
  fflush(stderr);
}

int rv_log_reopen(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    int e = errno;
    rv_error("cannot reopen the log file %s: %s; still writing to the old one", path, strerror(e));
    return RV_EIO;
  }
  fflush(stdout);
  fflush(stderr);
  dup2(fd, STDOUT_FILENO);
  dup2(fd, STDERR_FILENO);
  close(fd);
  rv_info("log file reopened (SIGHUP)");
  return RV_OK;
}

bool rv_log_to_file(void) {
  struct stat st;
  return fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode);
}

uint64_t rv_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t rv_mono_ms(void) { return rv_mono_us() / 1000u; }
