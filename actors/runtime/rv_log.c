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
static bool s_json;
static const char *s_level_names[] = {"debug", "info", "warn", "error"};

void rv_log_init(const char *node, const char *actor, cfg_log_level_t level) {
  snprintf(s_node, sizeof s_node, "%s", node && *node ? node : "-");
  snprintf(s_actor, sizeof s_actor, "%s", actor && *actor ? actor : "-");
  s_level = level;
}

/* Appends s to out[*n..cap) as a JSON string body; stops short rather than overflow. */
static void s_json_append(char *out, size_t cap, size_t *n, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p && *n + 7 < cap; p++) {
    if (*p == '"' || *p == '\\') {
      out[(*n)++] = '\\';
      out[(*n)++] = (char)*p;
    } else if (*p < 0x20) {
      *n += (size_t)snprintf(out + *n, cap - *n, "\\u%04x", *p);
    } else {
      out[(*n)++] = (char)*p;
    }
  }
}

/* Copies s into out[cap] with control bytes escaped (\n, \r, \t as such, others as \xNN), so
 * that a message holding a newline (a name or an error text from outside) cannot split its line
 * or forge another; stops short, on a whole escape, rather than overflow. */
static void s_text_escape(char *out, size_t cap, const char *s) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p && n + 5 < cap; p++) {
    if (*p >= 0x20 && *p != 0x7f) {
      out[n++] = (char)*p;
    } else if (*p == '\n' || *p == '\r' || *p == '\t') {
      out[n++] = '\\';
      out[n++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
    } else {
      n += (size_t)snprintf(out + n, cap - n, "\\x%02x", *p);
    }
  }
  out[n] = '\0';
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
  char line[4700];
  int n;
  if (s_json) {
    size_t k = (size_t)snprintf(line, sizeof line,
                                "{\"time\":\"%s.%03ldZ\",\"node\":\"%s\",\"actor\":\"%s\","
                                "\"level\":\"%s\",\"msg\":\"",
                                when, ts.tv_nsec / 1000000L, s_node, s_actor, s_level_names[level]);
    s_json_append(line, sizeof line - 3, &k, msg);
    memcpy(line + k, "\"}\n", 3);
    n = (int)k + 3;
  } else {
    char esc[sizeof msg * 4]; /* control bytes escaped: a message is one line, whatever it holds */
    s_text_escape(esc, sizeof esc, msg);
    n = snprintf(line, sizeof line, "%s.%03ldZ %s %s %s %s\n", when, ts.tv_nsec / 1000000L,
                 s_node, s_actor, s_level_names[level], esc);
    if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
  }
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

void rv_log_set_format(cfg_log_format_t format) { s_json = format == CFG_LOG_JSON; }

uint64_t rv_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t rv_mono_ms(void) { return rv_mono_us() / 1000u; }
