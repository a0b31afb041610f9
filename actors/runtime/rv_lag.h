/* rv_lag: loop-lag statistics of one actor loop, pure (no clock, no I/O: the caller passes the
 * time). What is measured is the lateness of timers: for every timer handler the loop runs, the
 * time from the moment the timer was due to the moment its handler starts. Every actor has at
 * least the runtime's 100 ms probe timer, so a loop held by a long handler, a blocked system call
 * or a SIGSTOP shows here even in an actor with no timers of its own.
 *
 * Samples go into a log-linear histogram (8 buckets per power of two, so a reported percentile is
 * at most 12.5% above the true value, and never below it). Two windows of RV_LAG_WINDOW_US each:
 * a summary covers the current window and the previous one, i.e. the last 10 to 20 s. */
#ifndef RV_LAG_H
#define RV_LAG_H

#include <stdint.h>

#define RV_LAG_WINDOW_US 10000000u /* one window: 10 s */
#define RV_LAG_SUB 8               /* buckets per power of two */
#define RV_LAG_BUCKETS (40 * RV_LAG_SUB) /* up to 2^40 us (12 days): more is clamped */

typedef struct {
  uint32_t count[RV_LAG_BUCKETS];
  uint64_t n;      /* samples in the window */
  uint64_t max_us; /* the largest sample, exact */
} rv_lag_window_t;

typedef struct {
  rv_lag_window_t win[2]; /* win[cur] fills; the other one is the previous window */
  int cur;
  uint64_t window_start_us; /* 0 until the first sample */
} rv_lag_t;

typedef struct {
  uint64_t samples; /* how many timer runs the figures cover */
  uint64_t p99_us;  /* 99th percentile (upper bound of its bucket, capped at max_us) */
  uint64_t max_us;  /* the largest lateness seen */
} rv_lag_summary_t;

/* Starts empty. */
void rv_lag_init(rv_lag_t *l);

/* One timer ran lag_us after it was due, at now_us (any monotonic clock, the same for every
 * call). Windows rotate as now_us passes their end. */
void rv_lag_record(rv_lag_t *l, uint64_t now_us, uint64_t lag_us);

/* The figures over the current and the previous window as of now_us (windows that ended before
 * now_us - 2 windows count as empty). All zero when there is no sample. */
rv_lag_summary_t rv_lag_summary(rv_lag_t *l, uint64_t now_us);

/* The histogram bucket of a value, and the largest value a bucket holds (exposed for tests). */
unsigned rv_lag_bucket(uint64_t v);
uint64_t rv_lag_bucket_top(unsigned b);

#endif
