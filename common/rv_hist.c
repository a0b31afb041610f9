/* rv_hist: fixed-bucket latency histograms (pure). */
#include "rv_hist.h"

static const uint64_t s_bounds[RV_HIST_NBOUNDS] = RV_HIST_BOUNDS_US;

void rv_hist_observe(rv_hist_t *h, uint64_t us) {
  size_t i = 0;
  while (i < RV_HIST_NBOUNDS && us > s_bounds[i]) i++;
  h->buckets[i]++;
  h->count++;
  h->sum_us += us;
}

uint64_t rv_hist_bound_us(size_t i) { return i < RV_HIST_NBOUNDS ? s_bounds[i] : UINT64_MAX; }
