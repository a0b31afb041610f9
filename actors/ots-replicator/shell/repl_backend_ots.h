/* repl_backend_ots: the Tablestore backend of the remote copy (repl_backend.h, issue 9), over
 * ots_client. The operations have repl_backend.h's contracts exactly (read them there); this
 * header adds only what is particular to Tablestore: the table's layout, the knobs tests use,
 * and the repl_ots_ names behind the vtable that repl_backend_ots_open (repl_backend_int.h)
 * hands to the dispatch in repl_backend.c. A repl_ots_t IS a repl_backend_t (its first member),
 * so a test may use either API on one handle.
 *
 * The table (default raftvisor_ns; created with local transactions when absent, its schema
 * checked when present):
 *   primary key  cluster STRING (the partition key: one cluster = one partition, so that one
 *                local transaction covers its rows and its meta row), gen INTEGER, key BINARY
 *   data row     (cluster, gen >= 1, kv key) with attribute v BINARY = the value. A value over
 *                one cell's limit (2 MiB, reference section 6) is split: v holds the first
 *                2 MiB, v1, v2, ... the next ones, and vn INTEGER the number of parts; the row
 *                is written as a PUT (v, vn) then one UPDATE per further part (a row change
 *                stays far below BatchWriteRow's 4 MiB). A reader refuses a row whose parts are
 *                missing (RV_ECORRUPT).
 *   meta row     (cluster, 0, "") with INTEGER columns format, synced_index, term, generation,
 *                updated_ms, rows, bytes and STRING cluster_id (repl_meta_t).
 * Generations: an incremental write from generation 0 (nothing uploaded yet) writes
 * generation 1; a base write writes generation (term << 24) + n, n = 1, 2, ... chosen above the
 * current one and found empty, so a deposed leader's staged rows (its own, lower term) can never
 * land in the generation a newer leader stages, and repl_ots_tidy never deletes a generation of a
 * higher term than its own. The term here is the fencing token (epoch << 32 | Raft term,
 * repl_backend.h), so base generations strictly increase across epochs as they do across terms
 * (token << 24 = epoch << 56 | term << 24): a recovered cluster's generations lie above every
 * one of the cluster it came from. The price: tokens below 2^39 (an INTEGER is signed 64-bit),
 * i.e. epochs below 128 with terms below 2^32; a larger token is refused with RV_EINVAL
 * (repl_ots_token_check) at claim and write, and the uploader says so. A crossing base write
 * (the meta row's token of a lower epoch) commits under "term < our epoch << 32 AND generation
 * == the one it replaces", whatever the row's synced_index (another cluster's index).
 * meta.rows / meta.bytes are exact after a base write that gives each key once; an incremental write adds the rows and
 * bytes it puts and subtracts the ones it deletes (a put that replaces a row counts as new), so
 * between base writes they are an estimate for progress and ETA, never used for correctness.
 *
 * Retries (ots_retry.h): a read, a post-image put or delete (idempotent) and a row whose batch
 * result says it failed are retried with backoff and jitter; a conditional meta update and a
 * CommitTransaction whose outcome is unknown are never sent twice blindly: the backend aborts
 * the transaction and re-reads the meta row to learn what happened. */
#ifndef REPL_BACKEND_OTS_H
#define REPL_BACKEND_OTS_H

#include "ots_retry.h"
#include "repl_backend.h"

#define REPL_OTS_TABLE_DEFAULT "raftvisor_ns"
#define REPL_OTS_PART_MAX (2u << 20)        /* bytes of one value part (an attribute's limit) */
#define REPL_OTS_TXN_BUDGET_MS 50000        /* an incremental write older than this is too big:
                                               the server aborts a transaction at 60 s */
#define REPL_OTS_GEN_TERM_SHIFT 24          /* base generation = (token << 24) + n */
#define REPL_OTS_TIDY_ROWS 200              /* rows one repl_ots_tidy call deletes at most */
#define REPL_OTS_REQUEST_TIMEOUT_MS 20000   /* one request's limit when the configuration says 0:
                                               a 4 MiB page takes well under it (10 s was too
                                               short for a 2 MiB part in the ASan build on a
                                               loaded host), and a stuck request (a blackholed
                                               server) is given up in 20 s, not the SDKs' 30 s */

typedef struct repl_ots repl_ots_t;
typedef struct repl_ots_write repl_ots_write_t;

/* repl_backend_open for an http(s):// endpoint: checks cfg (RV_EINVAL naming the field),
 * describes the table, creates it when absent (and waits until it answers), checks its schema
 * (RV_EINVAL naming the mismatch). Caller owns the handle. */
repl_ots_t *repl_ots_open(const repl_backend_cfg_t *cfg, rv_err_t *err);
void repl_ots_close(repl_ots_t **b);
const char *repl_ots_describe(const repl_ots_t *b);

int repl_ots_read_meta(repl_ots_t *b, repl_meta_t *meta, rv_err_t *err);
int repl_ots_claim(repl_ots_t *b, uint64_t term, repl_meta_t *meta, rv_err_t *err);
repl_ots_write_t *repl_ots_write_begin(repl_ots_t *b, uint64_t term, bool base, uint64_t generation,
                                       uint64_t from_index, rv_err_t *err);
int repl_ots_write_put(repl_ots_write_t *w, const repl_row_t *rows, size_t n, rv_err_t *err);
int repl_ots_write_commit(repl_ots_write_t **w, uint64_t to_index, repl_meta_t *meta, rv_err_t *err);
void repl_ots_write_abort(repl_ots_write_t **w);
int repl_ots_tidy(repl_ots_t *b, uint64_t term, bool *more, rv_err_t *err);
int repl_ots_scan(repl_ots_t *b, const repl_meta_t *meta, const uint8_t *after, size_t alen,
                  size_t max_rows, repl_row_fn fn, void *arg, uint8_t *last_key, size_t *last_len,
                  bool *done, rv_err_t *err);

/* ---- knobs for tests (defaults: ots_retry_policy_default, REPL_TXN_MAX_*, the budget) ---- */
void repl_ots_set_retry_policy(repl_ots_t *b, const ots_retry_policy_t *policy);
/* max_rows / max_bytes bound an incremental write, budget_ms its age (0 keeps the default). */
void repl_ots_set_txn_limits(repl_ots_t *b, size_t max_rows, uint64_t max_bytes, int64_t budget_ms);

#endif
