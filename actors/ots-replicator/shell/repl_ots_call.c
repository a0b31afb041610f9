/* repl_ots_call.c: one Tablestore call under the retry policy (ots_retry.h), and the batch
 * writer that re-sends only a batch's failed rows. I/O: network (ots_client), clocks, sleeps;
 * the decision itself stays in the pure ots_retry_decide. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "repl_ots_int.h"

int64_t repl_ots_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t repl_ots_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t s_random(repl_ots_t *b) {
  uint64_t x = b->rng ? b->rng : 0x9e3779b97f4a7c15ull;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  b->rng = x;
  return (uint32_t)(x >> 32);
}

static bool s_cancelled(const repl_ots_t *b) { return b->cancel && atomic_load(b->cancel); }

/* Sleeps ms, in slices of at most 20 ms so that a cancel is seen; false when cancelled. */
static bool s_sleep_ms(const repl_ots_t *b, int64_t ms) {
  while (ms > 0) {
    if (s_cancelled(b)) return false;
    int64_t step = ms < 20 ? ms : 20;
    struct timespec ts = {0, (long)step * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    ms -= step;
  }
  return !s_cancelled(b);
}

bool repl_ots_backoff(repl_ots_t *b, const char *code, ots_op_kind_t kind, unsigned attempt,
                      int64_t elapsed_ms) {
  /* a row of a batch has no HTTP status of its own: its code alone decides */
  ots_retry_input_t in = {.net = OTS_NET_RESPONSE, .http_status = 0, .code = code,
                          .kind = kind, .attempt = attempt, .elapsed_ms = elapsed_ms,
                          .random = s_random(b)};
  ots_retry_decision_t d = ots_retry_decide(&b->retry, &in);
  if (!d.retry) return false;
  return s_sleep_ms(b, d.delay_ms); /* cancelled: no retry */
}

int repl_ots_call(repl_ots_t *b, const char *action, ots_op_kind_t kind, const ots_buf_t *req,
                  ots_buf_t *resp, ots_call_info_t *info, rv_err_t *err) {
  ots_call_info_t local;
  if (!info) info = &local;
  int64_t t0 = repl_ots_now_ms();
  for (unsigned attempt = 1;; attempt++) {
    int rc = ots_client_call(b->client, action, req->data, req->len, resp, info, err);
    if (rc == RV_OK) return RV_OK;
    /* A response that fails authentication or its checksum is not a transient fault: hostile
     * or broken answers are reported at once, never papered over by a retry. */
    if (rc == RV_EPERM || rc == RV_ECORRUPT || rc == RV_EPROTO || rc == RV_ENOMEM ||
        rc == RV_ECLOSED)
      return rc;
    int64_t elapsed = repl_ots_now_ms() - t0;
    ots_retry_input_t in = ots_call_retry_input(info, kind, attempt, elapsed, s_random(b));
    ots_retry_decision_t d = ots_retry_decide(&b->retry, &in);
    if (!d.retry) {
      if (attempt > 1)
        rv_err_prefix(err, "gave up after %u attempts in %" PRId64 " ms (%s)", attempt, elapsed,
                      d.reason);
      if (rc == RV_EBUSY) { /* busy past the policy: unavailable, as repl_backend.h says */
        rc = RV_EUNAVAIL;
        if (err) err->code = rc;
      }
      return rc;
    }
    if (!s_sleep_ms(b, d.delay_ms))
      return rv_err_set(err, RV_ECLOSED, "%s: cancelled while waiting to retry (the replicator "
                        "is stopping)", action);
  }
}

/* Copies a row error into a message. */
static int s_row_error(const ots_batch_row_result_t *r, const repl_ots_change_t *c, size_t i,
                       rv_err_t *err) {
  char kt[160];
  repl_ots_key_text(kt, sizeof kt, c->gen, c->key, c->klen);
  int rc = ots_client_code_for(r->error.code, r->error.message, 0);
  if (rc == RV_EBUSY) rc = RV_EUNAVAIL;
  return rv_err_set(err, rc, "BatchWriteRow row %zu %s: %s: %s", i, kt, r->error.code,
                    r->error.message);
}

int repl_ots_batch(repl_ots_t *b, const char *txn, const repl_ots_change_t *changes, size_t n,
                   rv_err_t *err) {
  if (n == 0) return RV_OK;
  size_t *idx = malloc(n * sizeof *idx);
  ots_batch_row_t *rows = malloc(n * sizeof *rows);
  ots_buf_t req, resp;
  ots_buf_init(&req);
  ots_buf_init(&resp);
  int rc = RV_OK;
  if (!idx || !rows) {
    rc = rv_err_set(err, RV_ENOMEM, "BatchWriteRow: out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) idx[i] = i;
  size_t left = n;
  int64_t t0 = repl_ots_now_ms();
  for (unsigned attempt = 1;; attempt++) {
    for (size_t i = 0; i < left; i++)
      rows[i] = (ots_batch_row_t){.type = changes[idx[i]].type,
                                  .row_change = changes[idx[i]].change,
                                  .condition = {.row_existence = OTS_EXPECT_IGNORE}};
    ots_batch_table_t tab = {.table = b->table, .rows = rows, .nrows = left};
    ots_buf_reset(&req);
    if ((rc = ots_wire_batch_write_row(&req, &tab, 1, txn, false, err))) goto out;
    if ((rc = repl_ots_call(b, "BatchWriteRow", OTS_OP_IDEMPOTENT, &req, &resp, NULL, err)))
      goto out;
    ots_batch_result_t *res = NULL;
    if ((rc = ots_wire_parse_batch_write_row_response(resp.data, resp.len, &tab, 1, &res, err)))
      goto out;
    /* Keep the failed rows; the first one that may not be retried ends the write. */
    size_t kept = 0, first_final = SIZE_MAX, first_failed = SIZE_MAX;
    for (size_t i = 0; i < left; i++) {
      const ots_batch_row_result_t *r = &res->rows[0][i];
      if (r->ok) continue;
      if (first_failed == SIZE_MAX) first_failed = i;
      /* a post-image put or a delete may be repeated whatever the failure was */
      ots_retry_input_t in = {.net = OTS_NET_RESPONSE, .http_status = 0, .code = r->error.code,
                              .message = r->error.message, .kind = OTS_OP_IDEMPOTENT,
                              .attempt = 1, .elapsed_ms = 0};
      if (!ots_retry_decide(&b->retry, &in).retry && first_final == SIZE_MAX) first_final = i;
      idx[kept++] = idx[i];
    }
    if (kept == 0) {
      ots_batch_result_destroy(&res);
      break;
    }
    size_t bad = first_final != SIZE_MAX ? first_final : first_failed;
    const ots_batch_row_result_t *br = &res->rows[0][bad];
    /* idx was compacted in place: position bad's change index is found again by scanning */
    size_t ci = 0, seen = 0;
    for (size_t i = 0; i < left; i++) {
      if (res->rows[0][i].ok) continue;
      if (i == bad) {
        ci = idx[seen];
        break;
      }
      seen++;
    }
    if (first_final != SIZE_MAX ||
        !repl_ots_backoff(b, br->error.code, OTS_OP_IDEMPOTENT, attempt, repl_ots_now_ms() - t0)) {
      rc = s_row_error(br, &changes[ci], ci, err);
      if (first_final == SIZE_MAX)
        rv_err_prefix(err, "%zu of %zu rows still failing after %u attempts", kept, n, attempt);
      ots_batch_result_destroy(&res);
      goto out;
    }
    ots_batch_result_destroy(&res);
    left = kept;
  }
out:
  ots_buf_close(&req);
  ots_buf_close(&resp);
  free(idx);
  free(rows);
  return rc;
}
