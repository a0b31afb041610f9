/* ots_client: the HTTP shell of the Tablestore client: one signed POST /<Action> per call over
 * libcurl, the response authenticated and its Error body decoded (reference sections 1 and 2).
 *
 * A client owns one curl handle and so one connection pool: calls reuse the connection
 * (keep-alive) and a client must be used by one thread at a time. The client does not retry:
 * each call reports what the retry policy (ots_retry.h) needs in ots_call_info_t (transport
 * outcome, HTTP status, OTS code and message), and the caller decides and waits.
 *
 * A 2xx response is accepted only when x-ots-contentmd5 matches the body, Authorization carries
 * our access key id and the right signature of the x-ots-* headers, and x-ots-date is within
 * max_clock_skew_ms of our clock. A 4xx/5xx response is checked the same way when it carries the
 * headers (Authorization is not checked on 403, where the server may not have been able to
 * authenticate us, as the Python and C# SDKs do), and its body decoded as an Error.
 *
 * Return codes (detail in rv_err_t, always naming the action):
 *   RV_OK        2xx, authenticated; the body is in *response.
 *   RV_EUNAVAIL  transport failure (info.net tells whether the request may have been sent), or
 *                HTTP 5xx / OTSServerBusy-like codes (see below).
 *   RV_ETIMEDOUT the request timed out (info.net = OTS_NET_UNKNOWN).
 *   RV_ECORRUPT  body does not match x-ots-contentmd5.
 *   RV_EPERM     response signature mismatch; or OTSAuthFailed / OTSNoPermissionAccess.
 *   RV_EPROTO    a required response header is missing or malformed, the body of an error is
 *                not an Error, or an OTS code with no better mapping.
 *   RV_ETOOBIG   response larger than the client accepts (OTS_CLIENT_BODY_MAX), or
 *                OTSRequestBodyTooLarge.
 *   RV_ESTALE    OTSConditionCheckFail: the row was not in the state the condition expected.
 *   RV_ENOTFOUND OTSObjectNotExist;  RV_EEXIST OTSObjectAlreadyExist;
 *   RV_EINVAL    OTSParameterInvalid, OTSInvalidPK;
 *   RV_EBUSY     the always-retriable codes (ots_retry_code_always: OTSServerBusy,
 *                OTSRowOperationConflict, OTSNotEnoughCapacityUnit, ...);
 *   RV_ENOMEM / RV_EINTERNAL.
 * The OTS code string itself is in info.error.code: decide on that, not on the mapping, when
 * the difference matters. */
#ifndef OTS_CLIENT_H
#define OTS_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ots_buf.h"
#include "ots_retry.h"
#include "ots_sign.h"
#include "ots_wire.h"
#include "rv_error.h"

#define OTS_CLIENT_BODY_MAX (64u << 20) /* response bodies above this are refused */

typedef struct ots_client ots_client_t;

/* Strings are copied by ots_client_new; 0 means the default for every number. */
typedef struct {
  const char *endpoint;        /* "http(s)://host[:port]", no path (a trailing '/' is dropped) */
  ots_cred_t cred;             /* access key id, secret, instance, optional STS token */
  long connect_timeout_ms;     /* default 15000 (GO SDK) */
  long request_timeout_ms;     /* whole request, default 30000 (GO SDK) */
  int64_t max_clock_skew_ms;   /* response x-ots-date vs. our clock, default 15 min (PY, C#) */
  const char *user_agent;      /* default "raftvisor-ots/0.1" */
  const atomic_bool *cancel;   /* optional, borrowed for the client's life: when another
                                  thread sets it, a call in flight is aborted (curl's progress
                                  callback, at least about once a second) and answers
                                  RV_ECLOSED ("cancelled") */
} ots_client_config_t;

/* What one call saw; filled on every return (zeroed first). */
typedef struct {
  ots_net_outcome_t net;       /* OTS_NET_RESPONSE when an HTTP response arrived */
  int http_status;             /* 0 when none */
  ots_error_t error;           /* the Error body of a 4xx/5xx ("" code when none or unparsable) */
  char request_id[80];         /* x-ots-requestid, "" when absent */
} ots_call_info_t;

/* A client, or NULL with err set (RV_EINVAL for a bad endpoint or missing credentials,
 * RV_ENOMEM, RV_EINTERNAL when curl cannot start). Caller owns it. */
ots_client_t *ots_client_new(const ots_client_config_t *cfg, rv_err_t *err);
/* Closes the connections and frees; nulls *c; safe on NULL and twice. */
void ots_client_destroy(ots_client_t **c);

/* POST /<action> with body (borrowed; may be NULL when len == 0). On RV_OK, *response (caller
 * owns; reset first) holds the 2xx body. info may be NULL. */
int ots_client_call(ots_client_t *c, const char *action, const void *body, size_t len,
                    ots_buf_t *response, ots_call_info_t *info, rv_err_t *err);

/* The retry policy's input for a failed call (borrows info's strings). */
ots_retry_input_t ots_call_retry_input(const ots_call_info_t *info, ots_op_kind_t kind,
                                       unsigned attempt, int64_t elapsed_ms, uint32_t random);

/* The rv code for an OTS error code and HTTP status (the table above); exposed for tests and
 * for BatchWriteRow's per-row errors. */
int ots_client_code_for(const char *ots_code, const char *message, int http_status);

#endif
