/* ots_retry: the retry policy of reference section 5.2 as a pure function (no clock, no sleep,
 * randomness passed in). Pure: libc only. */
#include "ots_retry.h"

#include <assert.h>
#include <string.h>

ots_retry_policy_t ots_retry_policy_default(void) {
  ots_retry_policy_t p = {.base_ms = 10,
                          .cap_ms = 320,
                          .throttle_base_ms = 500,
                          .throttle_cap_ms = 3000,
                          .max_attempts = 10,
                          .deadline_ms = 10000};
  return p;
}

static bool s_eq(const char *a, const char *b) { return a && strcmp(a, b) == 0; }

static bool s_quota_too_frequent(const char *code, const char *message) {
  return s_eq(code, "OTSQuotaExhausted") && s_eq(message, "Too frequent table operations.");
}

/* Codes that mean "the server is overloaded": back off longer. */
static bool s_throttling(const char *code, const char *message) {
  return s_eq(code, "OTSServerBusy") || s_eq(code, "OTSNotEnoughCapacityUnit") ||
         s_eq(code, "OTSOperationThrottled") || s_eq(code, "OTSStorageServerBusy") ||
         s_quota_too_frequent(code, message);
}

bool ots_retry_code_always(const char *code, const char *message) {
  return s_eq(code, "OTSRowOperationConflict") || s_eq(code, "OTSNotEnoughCapacityUnit") ||
         s_eq(code, "OTSTableNotReady") || s_eq(code, "OTSPartitionUnavailable") ||
         s_eq(code, "OTSServerBusy") || s_eq(code, "OTSStorageServerBusy") ||
         s_eq(code, "OTSOperationThrottled") || s_quota_too_frequent(code, message);
}

static bool s_code_if_idempotent(const char *code) {
  return s_eq(code, "OTSTimeout") || s_eq(code, "OTSInternalServerError") ||
         s_eq(code, "OTSServerUnavailable");
}

static ots_retry_decision_t s_no(const char *reason) {
  ots_retry_decision_t d = {false, 0, reason};
  return d;
}

ots_retry_decision_t ots_retry_decide(const ots_retry_policy_t *policy,
                                      const ots_retry_input_t *in) {
  assert(policy && in);
  assert(in->attempt >= 1 && policy->max_attempts >= 1);
  assert(in->elapsed_ms >= 0 && policy->base_ms > 0 && policy->throttle_base_ms > 0);
  const char *code = in->code && in->code[0] ? in->code : NULL;
  bool idem = in->kind == OTS_OP_IDEMPOTENT;
  const char *why;
  bool throttle = false;
  switch (in->net) {
    case OTS_NET_NOT_SENT:
      why = "request not sent (connect failed): safe to repeat";
      break;
    case OTS_NET_UNKNOWN:
      if (!idem) return s_no("transport failure after sending a write: it may have applied");
      why = "transport failure on an idempotent operation";
      break;
    case OTS_NET_RESPONSE:
    default:
      if (code && ots_retry_code_always(code, in->message)) {
        why = "retriable error code";
        throttle = s_throttling(code, in->message);
      } else if (code && s_code_if_idempotent(code)) {
        if (!idem) return s_no("server-side timeout or failure on a write: it may have applied");
        why = "server-side timeout or failure on an idempotent operation";
      } else if (in->http_status >= 500 && in->http_status <= 599) {
        if (!idem) return s_no("HTTP 5xx on a write: it may have applied");
        why = "HTTP 5xx on an idempotent operation";
      } else {
        return s_no(code ? "error code is not retriable" : "HTTP status is not retriable");
      }
      break;
  }
  if (in->attempt >= policy->max_attempts) return s_no("attempts exhausted");
  int64_t base = throttle ? policy->throttle_base_ms : policy->base_ms;
  int64_t cap = throttle ? policy->throttle_cap_ms : policy->cap_ms;
  int64_t ceiling = base;
  for (unsigned i = 1; i < in->attempt && ceiling < cap; i++) ceiling *= 2;
  if (ceiling > cap) ceiling = cap;
  int64_t half = ceiling / 2;
  int64_t delay = half + (int64_t)(in->random % (uint64_t)(ceiling - half + 1));
  if (in->elapsed_ms + delay > policy->deadline_ms) return s_no("retry deadline reached");
  ots_retry_decision_t d = {true, delay, why};
  return d;
}
