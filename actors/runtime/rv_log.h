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

/* Reopens the log file at path (append, created 0640 if missing) onto stdout and stderr, as
 * logrotate's postrotate expects after SIGHUP. Returns 0, or RV_EIO (logged where the log went
 * before) and the old file stays in use. */
int rv_log_reopen(const char *path);

/* True when stderr is a regular file (a log file, not a terminal or a pipe). */
bool rv_log_to_file(void);

/* Monotonic clock in milliseconds / microseconds (for timeouts and latencies). */
uint64_t rv_mono_ms(void);
uint64_t rv_mono_us(void);

#endif
