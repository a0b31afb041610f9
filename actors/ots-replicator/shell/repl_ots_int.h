/* repl_ots_int.h: what the files of the Tablestore backend share (not an API):
 *   repl_ots_codec.c  rows, keys, meta row and conditions <-> PlainBuffer / filters (no I/O)
 *   repl_ots_call.c   one Tablestore call under the retry policy (sleeps between attempts)
 *   repl_backend_ots.c open, schema, meta row, claim, scan, tidy
 *   repl_ots_write.c  incremental (transaction) and base (new generation) writes */
#ifndef REPL_OTS_INT_H
#define REPL_OTS_INT_H

#include "ots_client.h"
#include "ots_plainbuf.h"
#include "ots_wire.h"
#include "repl_backend_int.h"
#include "repl_backend_ots.h"

#define REPL_OTS_NAME_MAX 256

struct repl_ots {
  repl_backend_t head;       /* first: repl_backend.c's head (repl_backend_int.h) */
  ots_client_t *client;
  char endpoint[REPL_OTS_NAME_MAX];
  char table[REPL_OTS_NAME_MAX];
  char cluster[REPL_CLUSTER_ID_MAX];
  char describe[3 * REPL_OTS_NAME_MAX];
  ots_retry_policy_t retry;
  uint64_t rng;              /* xorshift state for the retry jitter */
  size_t txn_max_rows;
  uint64_t txn_max_bytes;
  int64_t txn_budget_ms;
  repl_ots_write_t *write;   /* the open write, NULL when none */
  const atomic_bool *cancel; /* repl_backend_cfg_t.cancel (borrowed; NULL: never) */
};

/* ---- repl_ots_codec.c (pure but for protobuf-c through ots_wire) ---- */

/* Which value the third key column takes in an encoded key. */
typedef enum { REPL_OTS_KEY_BYTES, REPL_OTS_KEY_MIN, REPL_OTS_KEY_MAX } repl_ots_keypos_t;

/* Appends a primary key (no delete marker) (cluster, gen, key|INF_MIN|INF_MAX); gen_inf < 0 puts
 * INF_MIN, > 0 INF_MAX in gen (and the key column follows suit). */
int repl_ots_encode_key(ots_buf_t *out, const char *cluster, int64_t gen, int gen_inf,
                        repl_ots_keypos_t pos, const uint8_t *key, size_t klen, rv_err_t *err);
/* Just (cluster): StartLocalTransaction's key. */
int repl_ots_encode_partition(ots_buf_t *out, const char *cluster, rv_err_t *err);
/* The row change of a data row: a PUT of (v[, vn]) with the value's first part, an UPDATE of
 * part `part` (>= 1) as column v<part>, or a delete (marker). */
int repl_ots_encode_put(ots_buf_t *out, const char *cluster, int64_t gen, const repl_row_t *r,
                        rv_err_t *err);
int repl_ots_encode_part(ots_buf_t *out, const char *cluster, int64_t gen, const repl_row_t *r,
                         size_t part, rv_err_t *err);
int repl_ots_encode_delete(ots_buf_t *out, const char *cluster, int64_t gen, const uint8_t *key,
                           size_t klen, rv_err_t *err);
/* Number of parts a value takes (1 up to REPL_OTS_PART_MAX bytes). */
size_t repl_ots_parts(size_t vlen);
/* The meta row with every column (a PUT that creates it, or an UPDATE that sets them all). */
int repl_ots_encode_meta(ots_buf_t *out, const char *cluster, const repl_meta_t *m, rv_err_t *err);
/* An UPDATE of the meta row's term and updated_ms only (a claim moves nothing else). */
int repl_ots_encode_meta_term(ots_buf_t *out, const char *cluster, uint64_t term,
                              int64_t updated_ms, rv_err_t *err);
/* The column condition "term <= term [AND generation == gen] [AND synced_index ==|<= index]":
 * with_gen and index_cmp select the parts. */
typedef enum { REPL_OTS_INDEX_ANY, REPL_OTS_INDEX_EQUAL, REPL_OTS_INDEX_AT_MOST } repl_ots_index_cmp_t;
int repl_ots_encode_condition(ots_buf_t *out, uint64_t term, bool with_gen, uint64_t gen,
                              repl_ots_index_cmp_t index_cmp, uint64_t index, rv_err_t *err);
/* Reads the meta row out of a decoded row; RV_ECORRUPT naming the column otherwise. */
int repl_ots_decode_meta(const ots_row_t *row, const char *cluster, repl_meta_t *m, rv_err_t *err);
/* A data row of (cluster, gen): *key points into the row; the value too when it has one part,
 * else it is assembled into scratch (reset first). RV_ECORRUPT naming the key otherwise. */
int repl_ots_decode_data(const ots_row_t *row, const char *cluster, int64_t gen, repl_row_t *out,
                         ots_buf_t *scratch, rv_err_t *err);
/* "(cluster, gen, key=hex...)" for messages. */
void repl_ots_key_text(char *out, size_t cap, int64_t gen, const uint8_t *key, size_t klen);

/* ---- repl_ots_call.c ---- */

/* One call of action with body req under b's retry policy: kind OTS_OP_IDEMPOTENT when
 * repeating cannot apply it twice. On RV_OK, resp holds the 2xx body. On failure, info is the
 * last attempt's (may be NULL), and the code is the last one's with RV_EBUSY (the always
 * retriable codes) reported as RV_EUNAVAIL once the policy gives up; err says how many
 * attempts were made. */
int repl_ots_call(repl_ots_t *b, const char *action, ots_op_kind_t kind, const ots_buf_t *req,
                  ots_buf_t *resp, ots_call_info_t *info, rv_err_t *err);
/* Waits the policy's delay for a retry of attempt (>= 1) of a failure with this OTS code, or
 * returns false when the policy gives up (elapsed_ms since the first attempt). */
bool repl_ots_backoff(repl_ots_t *b, const char *code, ots_op_kind_t kind, unsigned attempt,
                      int64_t elapsed_ms);
int64_t repl_ots_now_ms(void);      /* monotonic */
int64_t repl_ots_wall_ms(void);     /* wall clock, ms since the epoch */

/* ---- shared by repl_backend_ots.c and repl_ots_write.c ---- */

/* GetRow of the meta row, in transaction txn when not NULL. RV_ENOTFOUND when absent. */
int repl_ots_get_meta(repl_ots_t *b, const char *txn, repl_meta_t *meta, rv_err_t *err);
/* RV_OK when term (a fencing token) fits this backend's generations (1 <= token < 2^39: base
 * generations are token << REPL_OTS_GEN_TERM_SHIFT), else RV_EINVAL with err naming it. */
int repl_ots_token_check(const repl_ots_t *b, const char *what, uint64_t term, rv_err_t *err);
/* After a conditional meta update failed its condition: reads the meta row and says why:
 * RV_EFENCED (a higher term), RV_ESTALE (it moved), RV_ENOTFOUND (gone) with err set. */
int repl_ots_explain_condition(repl_ots_t *b, uint64_t term, uint64_t gen,
                               repl_ots_index_cmp_t cmp, uint64_t index, rv_err_t *err);
/* BatchWriteRow of changes (all of b's table) under txn (NULL outside one): retried as a whole
 * on retriable failures, and the failed rows alone while every failure is retriable. Only for
 * idempotent changes (post-image puts, deletes, parts). */
typedef struct {
  ots_batch_op_t type;
  ots_bytes_t change;
  const uint8_t *key; /* for messages */
  size_t klen;
  int64_t gen;
} repl_ots_change_t;
int repl_ots_batch(repl_ots_t *b, const char *txn, const repl_ots_change_t *changes, size_t n,
                   rv_err_t *err);
/* The generation an open write puts its rows in (repl_ots_tidy keeps it). */
int64_t repl_ots_write_gen(const repl_ots_write_t *w);

#endif
