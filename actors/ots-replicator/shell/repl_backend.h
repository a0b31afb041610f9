/* repl_backend: where the off-cluster copy of the namespace lives (issue 9), behind one interface.
 * ots.endpoint chooses the backend: "http(s)://..." is Tablestore (repl_backend_ots.c, over
 * ots_client), "file:///dir" a shared directory (repl_backend_file.c). The replicator's upload
 * loop and the recovery loader use only this header; neither knows which backend it talks to.
 *
 * What the remote copy is: one row per namespace-scope kv-store key (kv_chlog_in_scope: what
 * `fs -digest` hashes), its value the key's value, under a GENERATION; plus one meta row per
 * cluster (repl_meta_t). The rows of meta.generation are exactly the namespace at
 * meta.synced_index: a reader that reads the meta row and then the rows of that generation
 * (repl_backend_scan) always sees one consistent namespace.
 *
 * Two ways to change it, both conditional on the fencing token (the uploader's Raft term):
 *  - an INCREMENTAL write: post-images and deletions of the keys changed in (from, to], applied
 *    to the current generation and made visible together with meta.synced_index = to, in ONE
 *    atomic step (Tablestore: one local transaction over the cluster's partition key holding
 *    the rows and the conditional meta update; file: one segment file and one new manifest).
 *    It is bounded (REPL_TXN_MAX_ROWS / REPL_TXN_MAX_BYTES, or the backend's own limit):
 *    repl_write_put answers RV_ETOOBIG past it and the caller aborts and does a BASE write.
 *  - a BASE write: every row, into a NEW generation (staged, invisible to readers), made current
 *    by one conditional update of the meta row (generation, synced_index); the old generation's
 *    rows are then deleted in the background (repl_backend_tidy).
 * The condition of every commit (and of repl_backend_claim): the meta row's term is not above
 * the writer's term, and (incremental) the meta row still names the generation and
 * synced_index the write started from. A deposed leader's late commit therefore fails with
 * RV_EFENCED (a higher term owns the copy; stop uploading) or RV_ESTALE (the copy moved on
 * under the same or a lower term: re-read the meta row and start again).
 *
 * The "term" every call takes and the meta row holds is a FENCING TOKEN, epoch << 32 | Raft
 * term (repl_token): the epoch is 0 for a cluster never recovered (the token is then its Raft
 * term, as before epochs existed) and, for a cluster rebuilt from a remote copy, one more than
 * the epoch of the copy it was rebuilt from (kv-store's replicated recovery state holds it). The
 * backends compare tokens as numbers, nothing else: leaders of one cluster fence each other as
 * Raft terms do, a recovered cluster's token is above every token of the cluster it came from,
 * and that cluster's late uploads are fenced. One rule knows epochs: synced_index counts the
 * log of the cluster (epoch) that wrote it, so a BASE commit over a meta row of a LOWER epoch
 * may set any synced_index (the row's index is another cluster's, not ahead of ours); within
 * one epoch the copy never goes back (RV_ESTALE). Limits: Raft terms below 2^32 once the epoch
 * is not 0 (repl_token refuses them); the Tablestore backend's base generations (token << 24) hold
 * tokens below 2^39, i.e. epochs below 128 (RV_EINVAL past it, repl_backend_ots.h).
 *
 * Threading: a backend handle is used by one thread at a time. Calls block (network, fsync);
 * the replicator runs them on its own worker thread, never on the loop that answers heartbeats.
 * The backend applies its own timeouts and retry policy (ots_retry.h for Tablestore) and
 * returns RV_EUNAVAIL / RV_ETIMEDOUT when it gives up, with err naming the endpoint (never the secret), the operation and the remote's words.
 *
 * Return codes: RV_OK; RV_ENOTFOUND (no meta row: nothing was ever uploaded for this cluster);
 * RV_EFENCED (fenced by a higher term); RV_ESTALE (the meta row moved); RV_ETOOBIG (past one
 * atomic step); RV_EUNAVAIL / RV_ETIMEDOUT (retriable later); RV_ECORRUPT (a remote row or file
 * fails its checksum or format: named in err); RV_EINVAL (bad configuration, named);
 * RV_EPERM (credentials refused); RV_ENOSPACE (file backend: disk full). */
#ifndef REPL_BACKEND_H
#define REPL_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rv_error.h"

#define REPL_FORMAT 1                  /* the meta row's format version this build writes */
#define REPL_CLUSTER_ID_MAX 128
#define REPL_TXN_MAX_ROWS 100000       /* an incremental write holds at most this many rows */
#define REPL_TXN_MAX_BYTES (64u << 20) /* ... and this many key + value bytes */

/* Fencing tokens (see above): epoch << REPL_EPOCH_SHIFT | Raft term. */
#define REPL_EPOCH_SHIFT 32
#define REPL_TERM_MASK ((1ull << REPL_EPOCH_SHIFT) - 1)
#define REPL_EPOCH_MAX ((1ull << (64 - REPL_EPOCH_SHIFT)) - 1)

/* The token of (epoch, Raft term) into *token: 0, or RV_EINVAL when it cannot be formed (a term
 * of 2^32 or more with a non-zero epoch, an epoch past REPL_EPOCH_MAX). Epoch 0: the term
 * itself, whatever its size (the tokens of clusters never recovered are their terms). */
static inline int repl_token(uint64_t epoch, uint64_t term, uint64_t *token) {
  if (epoch == 0) {
    *token = term;
    return 0;
  }
  if (term > REPL_TERM_MASK || epoch > REPL_EPOCH_MAX) return RV_EINVAL;
  *token = epoch << REPL_EPOCH_SHIFT | term;
  return 0;
}
static inline uint64_t repl_token_epoch(uint64_t token) { return token >> REPL_EPOCH_SHIFT; }
static inline uint64_t repl_token_term(uint64_t token) { return token & REPL_TERM_MASK; }
/* A token for messages: "7" in epoch 0, "4294967298 (epoch 1, term 2)" otherwise; into buf
 * (REPL_TOKEN_STR_MAX bytes), returned. */
#define REPL_TOKEN_STR_MAX 64
static inline const char *repl_token_str(uint64_t token, char *buf) {
  if (repl_token_epoch(token) == 0)
    snprintf(buf, REPL_TOKEN_STR_MAX, "%llu", (unsigned long long)token);
  else
    snprintf(buf, REPL_TOKEN_STR_MAX, "%llu (epoch %llu, term %llu)", (unsigned long long)token,
             (unsigned long long)repl_token_epoch(token), (unsigned long long)repl_token_term(token));
  return buf;
}

/* The meta row: the remote copy's state. */
typedef struct {
  uint32_t format;                      /* REPL_FORMAT of the writer */
  char cluster_id[REPL_CLUSTER_ID_MAX]; /* cluster.name of the YAML */
  uint64_t synced_index;                /* the rows of `generation` are the namespace at it */
  uint64_t term;                        /* the fencing token of the last claimer or committer:
                                           epoch << 32 | Raft term (repl_token) */
  uint64_t generation;                  /* which rows are current (>= 1 once anything is) */
  int64_t updated_ms;                   /* wall clock of the last commit, ms since the epoch */
  uint64_t rows;                        /* rows in the current generation (for progress/ETA) */
  uint64_t bytes;                       /* their key + value bytes */
} repl_meta_t;

/* One row: key and value borrowed for the call; deleted rows have no value. */
typedef struct {
  const uint8_t *key;
  size_t klen;
  const uint8_t *val;
  size_t vlen;
  bool deleted;
} repl_row_t;

/* Configuration, borrowed by repl_backend_open (copied inside). */
typedef struct {
  const char *endpoint;   /* ots.endpoint: "http(s)://host[:port]" or "file:///abs/dir" */
  const char *instance;   /* ots.instance (Tablestore) */
  const char *access_key_id;
  const char *access_key_secret; /* already resolved from "@file" by the config loader */
  const char *cluster_id; /* cluster.name: the partition key / the directory's subfolder */
  const char *table;      /* Tablestore table name; NULL = "raftvisor_ns" */
  long request_timeout_ms; /* 0 = the backend's default */
  const atomic_bool *cancel; /* optional, borrowed for the handle's life: when another thread
                                sets it, blocking calls give up promptly with RV_ECLOSED
                                (Tablestore: the request in flight is aborted and no retry
                                waits; file: checked between files and before each fsync), so
                                that a stopping replicator never waits for a slow store. An
                                abandoned write changes nothing visible: it never committed. */
} repl_backend_cfg_t;

typedef struct repl_backend repl_backend_t;
typedef struct repl_write repl_write_t;

/* Opens the backend ots.endpoint names; creates its table or directory when absent (the
 * Tablestore table with local transactions enabled; file: the cluster's folder inside the
 * endpoint's directory, which must exist: a missing mount is RV_EUNAVAIL, retried, never
 * replaced by a local directory). NULL with err set on failure; RV_EINVAL names a bad endpoint.
 * Does not read the meta row. Backends plug in through repl_backend_int.h. */
repl_backend_t *repl_backend_open(const repl_backend_cfg_t *cfg, rv_err_t *err);
/* Closes and frees; nulls *b; safe on NULL. Aborts an open write. */
void repl_backend_close(repl_backend_t **b);
/* "tablestore https://host instance=x table=y" or "file /dir": for logs and status. */
const char *repl_backend_describe(const repl_backend_t *b);

/* The meta row. RV_ENOTFOUND when nothing was ever uploaded for this cluster. */
int repl_backend_read_meta(repl_backend_t *b, repl_meta_t *meta, rv_err_t *err);

/* A new leader's first step: sets meta.term = term if the remote term is not above it (creating
 * the meta row, generation 0 and synced_index 0, when absent); *meta gets the row as written.
 * RV_EFENCED when the remote term is above term (this node is deposed). */
int repl_backend_claim(repl_backend_t *b, uint64_t term, repl_meta_t *meta, rv_err_t *err);

/* Starts a write under term. base false: incremental from (generation, from_index), which must
 * be what the meta row holds at commit time. base true: a new generation above `generation`
 * (the current one; from_index ignored). At most one write is open per backend: RV_EBUSY (NULL)
 * for a second one. */
repl_write_t *repl_write_begin(repl_backend_t *b, uint64_t term, bool base, uint64_t generation,
                               uint64_t from_index, rv_err_t *err);
/* Adds rows (in any order; a key may repeat, the last one wins). RV_ETOOBIG past an incremental
 * write's bound (the write stays open until aborted). */
int repl_write_put(repl_write_t *w, const repl_row_t *rows, size_t n, rv_err_t *err);
/* Makes the write visible with meta.synced_index = to_index (and, for a base write, the new
 * generation): the one conditional step. On success *meta is the new meta row. The write is
 * freed whatever the outcome. A base commit whose to_index is below the meta row's
 * synced_index fails with RV_ESTALE (the copy never goes back), unless the meta row's token is
 * of a lower epoch than the writer's (its index counts another cluster's log). */
int repl_write_commit(repl_write_t **w, uint64_t to_index, repl_meta_t *meta, rv_err_t *err);
/* Abandons a write (a base write's staged rows are left for repl_backend_tidy). Safe on NULL. */
void repl_write_abort(repl_write_t **w);

/* Background housekeeping, bounded work per call: deletes rows of generations other than the
 * meta row's (and, file backend, compacts segments into a new base file). *more is set when
 * work is left. Safe to run on any node holding the leader's term; never needed for
 * correctness. */
int repl_backend_tidy(repl_backend_t *b, uint64_t term, bool *more, rv_err_t *err);

/* Reads the rows of meta->generation in key order, starting after the key `after` (alen 0:
 * from the first), at most max_rows rows (at least one if any is left) per call: fn is called
 * for each (its non-zero return stops the scan and is returned). *last_key (caller's buffer of
 * REPL_KEY_MAX bytes) and *last_len get the last key given, *done is set at the end. The
 * backend checks that meta is still current when it can (RV_ESTALE if the generation was
 * replaced meanwhile: the reader starts again). A call whose `after` is the previous call's
 * last key continues where that one stopped (file: without seeking again). */
#define REPL_KEY_MAX 4096
typedef int (*repl_row_fn)(void *arg, const repl_row_t *row);
int repl_backend_scan(repl_backend_t *b, const repl_meta_t *meta, const uint8_t *after,
                      size_t alen, size_t max_rows, repl_row_fn fn, void *arg, uint8_t *last_key,
                      size_t *last_len, bool *done, rv_err_t *err);

#endif
