/* fence_core: the fencer's state machine, pure (libc only: no clock, no files, no processes).
 *
 * A fence request names a target node; the configured methods are tried in order until one
 * succeeds (fenced) or all have failed (not fenced), as Hadoop's NodeFencer does. Requests queue
 * and run one at a time. A fence is a supervised action: every request is persisted before its
 * first method starts, the record is rewritten before each method starts (with the method's
 * process group once it runs), and removed only after the result was sent; a fencer that died
 * mid-fence finds the record on restart (fence_core_recover) and runs the interrupted method
 * again (methods are idempotent, as Hadoop requires), counting the attempt.
 *
 * The shell carries out an update in this order: write the records in save[] (atomically, with
 * fsync), kill a stale process group, start the method, send the attempt and result messages,
 * then remove the records in remove[]. A record is text, one "key=value" per line, so that an
 * operator can read it (fence_record_format / fence_record_parse). */
#ifndef FENCE_CORE_H
#define FENCE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fence_methods.h"

#define FENCE_QUEUE_MAX 16     /* requests waiting or running; more are refused (busy) */
#define FENCE_ID_MAX 48        /* request ids and node ids, bytes with the NUL */
#define FENCE_DETAIL_MAX 256   /* an attempt's detail ("exit status 1"), bytes with the NUL */
#define FENCE_REASON_MAX 128   /* why the fence was asked for, bytes with the NUL */
#define FENCE_RECORD_MAX 4096  /* a formatted record, bytes with the NUL */

/* How one method ended. The numbers are written in records and messages: never renumber. */
typedef enum {
  FENCE_OUT_NONE = 0,        /* not run (yet) */
  FENCE_OUT_FENCED = 1,      /* exit 0: the target is fenced */
  FENCE_OUT_FAILED = 2,      /* non-zero exit, killed by a signal, or could not start */
  FENCE_OUT_TIMED_OUT = 3,   /* still running at the timeout: its process group was killed */
  FENCE_OUT_INTERRUPTED = 4  /* the fencer died while it ran; it is run again */
} fence_outcome_t;

/* One attempt of one method. */
typedef struct {
  int method;                      /* index into the configured methods */
  int attempt;                     /* 1 for the first run, +1 for each rerun after a restart */
  fence_outcome_t outcome;
  int code;                        /* exit status, or the signal for a signalled method; else 0 */
  uint64_t elapsed_ms;
  char detail[FENCE_DETAIL_MAX];   /* "exit status 1", "killed at the timeout of 2000 ms" */
} fence_attempt_t;

#define FENCE_ATTEMPTS_MAX (FENCE_METHODS_MAX * 4) /* attempts kept per request (reruns too) */

/* One request and how far it got. */
typedef struct {
  char id[FENCE_ID_MAX];           /* unique on this node (the shell makes it) */
  char target[FENCE_ID_MAX];       /* node id */
  char requester[FENCE_ID_MAX];    /* local process that gets the result ("supervisor") */
  char reason[FENCE_REASON_MAX];
  uint64_t corr, trace;            /* the requester's ids, echoed in the result */
  int method;                      /* the method running, or the next one */
  bool running;                    /* method is running (its record says so) */
  int pgid;                        /* its process group once started, else 0 */
  int restarts;                    /* fencer restarts seen by this request */
  fence_attempt_t attempts[FENCE_ATTEMPTS_MAX];
  int nattempts;
} fence_request_t;

/* What the shell must do, in order. Pointers are into the core: valid until its next call. */
typedef struct {
  const fence_request_t *save[2];  /* records to write (and fsync) first */
  int nsave;
  int kill_pgid;                   /* a process group left by a dead fencer: kill it, else 0 */
  const fence_request_t *start;    /* start method start->method for this request, or NULL */
  const fence_attempt_t *attempt;  /* an attempt that ended, to report, or NULL */
  const fence_request_t *attempt_of;
  const fence_request_t *done;     /* a request that ended, to answer (fenced or not), or NULL */
  bool fenced;                     /* done: some method succeeded */
  char remove[FENCE_ID_MAX];       /* the record to remove last ("" = none) */
} fence_update_t;

typedef struct {
  int nmethods;
  fence_request_t queue[FENCE_QUEUE_MAX]; /* queue[0] is the one running */
  int n;
  fence_request_t finished;        /* the last request that ended (update.done points here) */
} fence_core_t;

/* Sets up a core for nmethods configured methods (0..FENCE_METHODS_MAX). */
void fence_core_init(fence_core_t *c, int nmethods);

/* A new request (copied; its id must be new). Returns 0 with u saying what to do, or -1 when it
 * cannot be taken: the queue is full, or no method is configured (u is then empty; the shell
 * answers with the reason). */
int fence_core_request(fence_core_t *c, const fence_request_t *req, fence_update_t *u);

/* The shell started queue[0]'s method as process group pgid. */
void fence_core_started(fence_core_t *c, int pgid, fence_update_t *u);

/* queue[0]'s method ended. A fenced outcome ends the request (fenced); any other moves to the
 * next method, and after the last one the request ends (not fenced). detail is copied. */
void fence_core_finished(fence_core_t *c, fence_outcome_t outcome, int code, uint64_t elapsed_ms,
                         const char *detail, fence_update_t *u);

/* A request read back from its record after a restart (call for each, oldest first, before any
 * new request; the first call also gets the update that restarts the work). A method that was
 * running counts as interrupted and is started again. Returns 0, or -1 when the queue is full. */
int fence_core_recover(fence_core_t *c, const fence_request_t *req, fence_update_t *u);

/* The running request, or NULL. */
const fence_request_t *fence_core_current(const fence_core_t *c);

/* The outcome's name: "fenced", "failed", "timed out", "interrupted", "none". Static. */
const char *fence_outcome_name(fence_outcome_t o);

/* Writes req as a record into buf[len]; returns its length, or -1 when it does not fit. */
int fence_record_format(const fence_request_t *req, char *buf, size_t len);

/* Reads a record (text of n bytes) into *req. Returns 0, or -1 with why[len] naming the line. */
int fence_record_parse(const char *text, size_t n, fence_request_t *req, char *why, size_t len);

#endif
