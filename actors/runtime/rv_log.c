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

/* The length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one (overlong forms,
 * surrogates and code points past U+10FFFF included). */
static size_t s_utf8_len(const unsigned char *p) {
  unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80) return 0;
  if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))) return 0;
  if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))) return 0;
  return n;
}

size_t rv_log_escape(const char *in, char *out, size_t cap, bool controls) {
  static const char hex[] = "0123456789abcdef";
  size_t k = 0;
  if (!cap) return 0;
  for (const unsigned char *p = (const unsigned char *)in; *p;) {
    size_t n = s_utf8_len(p);
    bool bad = n == 0 || *p == 0x7f || (controls && *p < 0x20);
    if (bad) {
      if (k + 4 >= cap) break;
      out[k++] = '\\';
      out[k++] = 'x';
      out[k++] = hex[*p >> 4];
      out[k++] = hex[*p & 15];
      p++;
      continue;
    }
    if (k + n >= cap) break;
    memcpy(out + k, p, n);
    k += n;
    p += n;
  }
  out[k] = '\0';
  return k;
}

void rv_log(cfg_log_level_t level, const char *fmt, ...) {
  if (level < s_level) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  char raw[2048], msg[2048 * 2];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  /* messages carry peer-chosen bytes (paths, routing ids, reasons): control bytes (text lines)
   * and bytes that are not UTF-8 are written as \xNN, so that no line can forge another line or
   * a terminal escape (JSON lines escape control bytes their own way) */
  rv_log_escape(raw, msg, sizeof msg, !s_json);
  /* one write per line, so lines from several processes sharing a file never interleave */
  char line[4700]; /* a line is cut short past this (one write per line) */
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
    /* control bytes were escaped above: a message is one line, whatever it holds */
    n = snprintf(line, sizeof line, "%s.%03ldZ %s %s %s %s\n", when, ts.tv_nsec / 1000000L,
                 s_node, s_actor, s_level_names[level], msg);
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

static uint64_t s_clock_us(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t rv_mono_us(void) { return s_clock_us(CLOCK_MONOTONIC); }

uint64_t rv_boot_us(void) { return s_clock_us(CLOCK_BOOTTIME); }

uint64_t rv_mono_ms(void) { return rv_mono_us() / 1000u; }

bool rv_log_limited(rv_log_limit_t *lim, cfg_log_level_t level, const char *fmt, ...) {
  lim->total++;
  uint64_t now = rv_mono_ms();
  if (lim->last_ms && now - lim->last_ms < 1000) {
    lim->suppressed++;
    return false;
  }
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (lim->suppressed)
    rv_log(level, "%s (and %llu more like it in the last %.1f s)", msg,
           (unsigned long long)lim->suppressed, (double)(now - lim->last_ms) / 1000.0);
  else
    rv_log(level, "%s", msg);
  lim->last_ms = now;
  lim->suppressed = 0;
  return true;
}
