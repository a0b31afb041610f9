/* ots_retry: whether and when to retry a failed Tablestore request (reference section 5.2), as a
 * pure function of the failure, the kind of operation, the attempt number, the time spent and a
 * random number. No clock, no sleep: the caller passes elapsed time and jitter in and waits
 * itself, so a test drives it on a fake clock.
 *
 * Classification (what every official SDK agrees on):
 *  - always retriable, any operation (the request was refused, so repeating it cannot apply it
 *    twice): OTSRowOperationConflict, OTSNotEnoughCapacityUnit, OTSTableNotReady,
 *    OTSPartitionUnavailable, OTSServerBusy, OTSStorageServerBusy (GO), OTSOperationThrottled
 *    (PY/NODE), and OTSQuotaExhausted only when the message is exactly
 *    "Too frequent table operations.";
 *  - retriable only when repeating is harmless (OTS_OP_IDEMPOTENT: reads, or a write the caller
 *    vouches for): OTSTimeout, OTSInternalServerError, OTSServerUnavailable, any other HTTP 5xx
 *    (JAVA), and a transport failure after the request may have been sent;
 *  - a transport failure before anything was sent (connect refused, DNS) is retriable for every
 *    operation (GO retries "connection refused" for writes too);
 *  - everything else (OTSConditionCheckFail, OTSParameterInvalid, OTSAuthFailed, 4xx, ...) is
 *    final.
 * Backoff: a ceiling of base * 2^(attempt-1) capped at cap (GO/JAVA: 10 ms doubling to 320 ms;
 * for the throttling codes PY's 500 ms doubling to 3 s, so a busy server is not hammered); the
 * delay is uniform in [ceiling/2, ceiling] (PY's jitter); give up after max_attempts attempts or
 * when waiting would cross the deadline measured from the first attempt (JAVA: 10 s).
 * Pure: libc only. */
#ifndef OTS_RETRY_H
#define OTS_RETRY_H

#include <stdbool.h>
#include <stdint.h>

/* Whether repeating the operation could apply it twice. */
typedef enum {
  OTS_OP_IDEMPOTENT = 0, /* reads (GetRow, GetRange, DescribeTable, ...) or a safe-to-repeat write */
  OTS_OP_WRITE = 1       /* PutRow/UpdateRow/DeleteRow/BatchWriteRow, transactions: may double-apply */
} ots_op_kind_t;

/* What happened on the wire. */
typedef enum {
  OTS_NET_RESPONSE = 0, /* an HTTP response arrived: see http_status and code */
  OTS_NET_NOT_SENT = 1, /* failed before the request left (connect refused, DNS, TLS handshake) */
  OTS_NET_UNKNOWN = 2   /* failed after sending (timeout, reset): the server may have applied it */
} ots_net_outcome_t;

typedef struct {
  int64_t base_ms;           /* first ceiling for ordinary retriable errors (10) */
  int64_t cap_ms;            /* ceiling cap for ordinary errors (320) */
  int64_t throttle_base_ms;  /* first ceiling for throttling codes (500) */
  int64_t throttle_cap_ms;   /* ceiling cap for throttling codes (3000) */
  unsigned max_attempts;     /* total attempts including the first (10); >= 1 */
  int64_t deadline_ms;       /* no retry may start later than this after the first (10000) */
} ots_retry_policy_t;

typedef struct {
  ots_net_outcome_t net;
  int http_status;      /* when net == OTS_NET_RESPONSE */
  const char *code;     /* OTS error code from the Error body; NULL or "" when none */
  const char *message;  /* its message; NULL when none */
  ots_op_kind_t kind;
  unsigned attempt;     /* attempts made so far, including the one that just failed (>= 1) */
  int64_t elapsed_ms;   /* since the first attempt started */
  uint32_t random;      /* uniformly random bits from the caller, for the jitter */
} ots_retry_input_t;

typedef struct {
  bool retry;           /* false: give up and report the error */
  int64_t delay_ms;     /* when retry: wait this long, then send again */
  const char *reason;   /* static text for logs: why retry or why not */
} ots_retry_decision_t;

/* The defaults described above. */
ots_retry_policy_t ots_retry_policy_default(void);

/* The decision for one failed attempt. policy and in are borrowed; asserts on misuse
 * (attempt 0, max_attempts 0, negative times). */
ots_retry_decision_t ots_retry_decide(const ots_retry_policy_t *policy, const ots_retry_input_t *in);

/* true when an OTS error code (with its message) is retriable for any operation; exposed for
 * BatchWriteRow, which retries a partial failure only if every failed row's code is (GO/JAVA). */
bool ots_retry_code_always(const char *code, const char *message);

#endif
