/* sup_sched: how long a child process has waited for a CPU (I/O shell: reads /proc). The hang
 * detector credits that wait (sup_core.h), so that an actor on a loaded host, runnable but not
 * scheduled, is not taken for hung.
 *
 * The figures come from /proc/PID/task/TID/schedstat, three numbers per thread: nanoseconds on a
 * CPU, nanoseconds runnable on a run queue waiting for one, time slices run. They exist when the
 * kernel has CONFIG_SCHED_INFO (Debian's and most distributions' kernels have; it is not the
 * kernel.sched_schedstats switch, which adds more and costs more); without them nothing is
 * credited and the detector works as before.
 *
 * The kernel adds a wait to the second number only when the wait ends (the thread gets a CPU):
 * a thread starved for 3 s shows nothing for 3 s, then all of it at once, too late for a
 * 1 s heartbeat timeout. So a wait in progress is inferred: a thread runnable (state R) at two
 * samples that did not run in between (its CPU time and slices unchanged; to leave R it would
 * have had to run) waited the whole interval; when its counter then moves, only what the
 * inference had not already credited is added. A process's wait is the sum over its threads
 * (the heartbeat crosses ZeroMQ's I/O thread before the loop thread sees it).
 *
 * A CPU quota's throttling (cgroup cpu.max, a container's CPU limit) is such a wait too: a
 * throttled thread stays runnable (R) and its counter jumps when the next period lets it run
 * (seen on Linux 6.18). */
#ifndef SUP_SCHED_H
#define SUP_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "sup_core.h"

#define SUP_SCHED_MAX_THREADS 64 /* threads of one process followed; more are left out */

/* One thread as last sampled. */
typedef struct {
  int tid;
  uint64_t run_ns, wait_ns, slices; /* its schedstat */
  char state;                       /* R, S, D, ... ('?' when not read) */
  uint64_t inferred_ns;             /* wait credited by inference since wait_ns last moved */
  bool seen;                        /* found by the sample under way */
} sup_sched_thread_t;

/* One process followed across samples (embedded, zeroed = nothing followed). */
typedef struct {
  int pid;                   /* 0: none yet */
  uint64_t at_ns;            /* monotonic time of the last sample */
  uint64_t wait_ns;          /* the wait counted so far, since the first sample */
  sup_sched_thread_t threads[SUP_SCHED_MAX_THREADS];
  int nthreads;
} sup_sched_proc_t;

/* Whether this kernel keeps the counters (checked on this process's own schedstat). */
bool sup_sched_supported(void);

/* Forgets the process followed: the next sample is a baseline. */
void sup_sched_reset(sup_sched_proc_t *p);

/* Samples process pid at now_ns (monotonic) into p (a new pid starts afresh: a baseline) and
 * writes its figures to out: wait_ns, the wait counted since the first sample (see above), and
 * cpu_ns, the CPU time of its main thread (the thread-group leader, which runs an actor's loop).
 * Returns 0, or -1 when the process is gone or unreadable (out untouched). */
int sup_sched_sample(sup_sched_proc_t *p, int pid, uint64_t now_ns, sup_sched_t *out);

/* The pure part of a sample: folds the threads' counters read at now_ns (n of them, borrowed;
 * inferred_ns and seen unused) into p, as described above. Exposed for tests. */
void sup_sched_fold(sup_sched_proc_t *p, int pid, const sup_sched_thread_t *now_threads,
                    int n, uint64_t now_ns);

#endif
