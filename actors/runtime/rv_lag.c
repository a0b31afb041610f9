/* rv_lag: the loop-lag histogram (pure: the caller passes the time; see rv_lag.h). Buckets are
 * log-linear: values 0..7 us each have their own; above, each power of two is split in
 * RV_LAG_SUB equal parts, so the bucket index grows with log2 and a bucket is at most 1/8 of its
 * lower bound wide. */
#include "rv_lag.h"

#include <string.h>

unsigned rv_lag_bucket(uint64_t v) {
  if (v < RV_LAG_SUB) return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v); /* v in [2^e, 2^(e+1)), e >= 3 */
  unsigned sub = (unsigned)(v >> (e - 3)) & (RV_LAG_SUB - 1);
  unsigned b = RV_LAG_SUB * (e - 2) + sub;
  return b < RV_LAG_BUCKETS ? b : RV_LAG_BUCKETS - 1;
}

uint64_t rv_lag_bucket_top(unsigned b) {
  if (b < RV_LAG_SUB) return b;
  unsigned e = b / RV_LAG_SUB + 2, sub = b % RV_LAG_SUB;
  uint64_t low = (uint64_t)(RV_LAG_SUB + sub) << (e - 3);
  return low + ((uint64_t)1 << (e - 3)) - 1;
}

void rv_lag_init(rv_lag_t *l) { memset(l, 0, sizeof *l); }

/* Moves to the window that holds now_us: one step clears the previous window and makes the
 * current one previous; a gap of two windows or more leaves both empty. */
static void s_rotate(rv_lag_t *l, uint64_t now_us) {
  if (l->window_start_us == 0) {
    l->window_start_us = now_us ? now_us : 1;
    return;
  }
  if (now_us < l->window_start_us + RV_LAG_WINDOW_US) return;
  uint64_t steps = (now_us - l->window_start_us) / RV_LAG_WINDOW_US;
  if (steps >= 2) {
    memset(l->win, 0, sizeof l->win);
  } else {
    l->cur ^= 1;
    memset(&l->win[l->cur], 0, sizeof l->win[l->cur]);
  }
  l->window_start_us += steps * RV_LAG_WINDOW_US;
}

void rv_lag_record(rv_lag_t *l, uint64_t now_us, uint64_t lag_us) {
  s_rotate(l, now_us);
  rv_lag_window_t *w = &l->win[l->cur];
  w->count[rv_lag_bucket(lag_us)]++;
  w->n++;
  if (lag_us > w->max_us) w->max_us = lag_us;
}

rv_lag_summary_t rv_lag_summary(rv_lag_t *l, uint64_t now_us) {
  rv_lag_summary_t s = {0};
  if (l->window_start_us) s_rotate(l, now_us);
  const rv_lag_window_t *a = &l->win[0], *b = &l->win[1];
  s.samples = a->n + b->n;
  if (!s.samples) return s;
  s.max_us = a->max_us > b->max_us ? a->max_us : b->max_us;
  /* the smallest bucket below which at most 1% of the samples lie above */
  uint64_t rank = s.samples - s.samples / 100; /* samples at or below the p99 */
  uint64_t seen = 0;
  for (unsigned k = 0; k < RV_LAG_BUCKETS; k++) {
    seen += (uint64_t)a->count[k] + b->count[k];
    if (seen >= rank) {
      uint64_t top = rv_lag_bucket_top(k);
      s.p99_us = top < s.max_us ? top : s.max_us;
      break;
    }
  }
  return s;
}
