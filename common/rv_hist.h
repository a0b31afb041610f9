/* rv_hist: a latency histogram with fixed bucket bounds, shared by every process that measures
 * (raft-peer's log saves, kv-store's operations) and by the supervisor that exposes them as
 * Prometheus histograms (raftvisor_..._seconds_bucket{le=...}). Fixed bounds let a histogram
 * cross the wire as plain counts. Pure: libc only. */
#ifndef RV_HIST_H
#define RV_HIST_H

#include <stddef.h>
#include <stdint.h>

/* Upper bounds in microseconds, ascending; a last bucket (+Inf) follows them. */
#define RV_HIST_BOUNDS_US                                                                    \
  { 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000 }
#define RV_HIST_NBOUNDS 13
#define RV_HIST_NBUCKETS (RV_HIST_NBOUNDS + 1)

/* Per-bucket counts (not cumulative), their number and their sum. Zero it to start. */
typedef struct {
  uint64_t buckets[RV_HIST_NBUCKETS];
  uint64_t count;
  uint64_t sum_us;
} rv_hist_t;

/* Counts one observation of us microseconds. */
void rv_hist_observe(rv_hist_t *h, uint64_t us);

/* The bound of bucket i in microseconds (i < RV_HIST_NBOUNDS). */
uint64_t rv_hist_bound_us(size_t i);

#endif
