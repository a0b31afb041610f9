/* rv_log: structured log lines, one per event, to stderr (which the supervisor points at the
 * actor's own log file):
 *   2026-11-22T00:10:00.123Z n1 health-monitor info actor ready pid=1234
 * Fields are space-separated; the message is free text at the end. */
#ifndef RV_LOG_H
#define RV_LOG_H

#include "cfg_node.h"

/* Sets the identity and threshold printed by later calls. Strings are copied. */
void rv_log_init(const char *node, const char *actor, cfg_log_level_t level);

/* Text lines (the default) or one JSON object per line:
 *   {"time":"2026-11-22T00:10:00.123Z","node":"n1","actor":"kv-store","level":"info","msg":"..."} */
void rv_log_set_format(cfg_log_format_t format);

void rv_log(cfg_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define rv_debug(...) rv_log(CFG_LOG_DEBUG, __VA_ARGS__)
#define rv_info(...) rv_log(CFG_LOG_INFO, __VA_ARGS__)
#define rv_warn(...) rv_log(CFG_LOG_WARN, __VA_ARGS__)
#define rv_error(...) rv_log(CFG_LOG_ERROR, __VA_ARGS__)

/* Copies in to out[cap] (NUL-terminated, cut short rather than overflow) with every byte that is
 * not part of valid UTF-8, 0x7f, and (when controls) every byte below 0x20 written as \xNN.
 * rv_log does this to every message. Returns the length written. */
size_t rv_log_escape(const char *in, char *out, size_t cap, bool controls);

/* Rate limiting, one limiter per reason (a static or a field of the caller): at most one line
 * per second; the lines suppressed meanwhile are counted and reported on the next line written
 * ("... (and 41 more like it in the last 1.0 s)"), or by rv_log_limited_flush. */
typedef struct {
  uint64_t last_ms;      /* when a line was last written */
  uint64_t suppressed;   /* lines not written since */
  uint64_t total;        /* lines asked for since the start */
} rv_log_limit_t;

/* Logs like rv_log unless a line went through lim less than a second ago. Returns true when the
 * line was written. */
bool rv_log_limited(rv_log_limit_t *lim, cfg_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reopens the log file at path (append, created 0640 if missing) onto stdout and stderr, as
 * logrotate's postrotate expects after SIGHUP. Returns 0, or RV_EIO (logged where the log went
 * before) and the old file stays in use. */
int rv_log_reopen(const char *path);

/* True when stderr is a regular file (a log file, not a terminal or a pipe). */
bool rv_log_to_file(void);

/* Monotonic clock in milliseconds / microseconds (for timeouts and latencies). */
uint64_t rv_mono_ms(void);
uint64_t rv_mono_us(void);
/* CLOCK_BOOTTIME in microseconds: never stepped, and it runs on through a suspend (Raft leases). */
uint64_t rv_boot_us(void);

#endif
