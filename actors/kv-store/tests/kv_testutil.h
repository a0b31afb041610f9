/* kv_testutil: helpers for the kv-store tests and the bench: command builders, an environment
 * (memory store + core + a log index counter and a virtual clock), and a seeded RNG whose seed
 * is printed and settable (KV_TEST_SEED). No cmocka here, so the bench links it too; an apply
 * that fails for storage reasons aborts the program (tests must not go on past it). */
#ifndef KV_TESTUTIL_H
#define KV_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_core.h"
#include "kv_memstore.h"

/* A command for op on path, with test defaults: perm 0755 (mkdir) or 0644, owner "alice",
 * group "users", no flags, no session, time 0. Borrowed strings. */
void kv_t_cmd(kv_cmd_t *c, uint8_t op, const char *path);

/* Encodes c into a fresh buffer content of out; aborts on failure. */
void kv_t_encode(const kv_cmd_t *c, kv_buf_t *out);

/* Entry i (from 0) of `raftvisor bench --workload create` as the replica benchmarks replay it:
 * lanes clients, each creating in its own directory. Entries 0..lanes-1 make the directories
 * (/bench/c<lane>), then /bench/c<lane>/f<k> round-robin; each lane a session (client id
 * lane + 1, its seqs[lane] counted up). Encoded into out. */
void kv_t_lane_create(size_t i, size_t lanes, uint64_t *seqs, kv_buf_t *out);

typedef struct {
  kv_memstore_t *ms; /* owned */
  kv_store_t *store; /* the store in use (ms's, or one the caller set) */
  kv_core_t *core;   /* owned */
  kv_core_config_t cfg;
  uint64_t index;  /* last log index applied */
  int64_t now;     /* time stamped into commands; tests advance it */
  uint64_t client; /* session used by kv_t_apply when non-zero */
  uint64_t seq;    /* last seq used by that client */
  kv_buf_t enc;
  kv_result_t res; /* outcome of the last apply */
} kv_t_env_t;

/* A memory store and a core over it (cfg NULL = defaults). Aborts on failure. */
kv_t_env_t *kv_t_env_new(const kv_core_config_t *cfg);
/* The same over a given store (not owned). */
kv_t_env_t *kv_t_env_new_on(kv_store_t *store, const kv_core_config_t *cfg);
void kv_t_env_destroy(kv_t_env_t **e);
/* Closes and reopens the core over the same store (a restart). */
void kv_t_env_reopen(kv_t_env_t *e);

/* Applies cmd at the next index, stamping time (e->now) and, when e->client is set, the
 * session (next seq). Returns e->res.code. */
int kv_t_apply(kv_t_env_t *e, kv_cmd_t *cmd);
/* Applies raw bytes at the next index. Returns e->res.code. */
int kv_t_apply_raw(kv_t_env_t *e, const uint8_t *p, size_t len);

int kv_t_mkdir(kv_t_env_t *e, const char *path, uint8_t flags);
int kv_t_put(kv_t_env_t *e, const char *path, const char *data, uint8_t flags);
int kv_t_putn(kv_t_env_t *e, const char *path, const void *data, size_t len, uint8_t flags);
int kv_t_touchz(kv_t_env_t *e, const char *path);
int kv_t_rm(kv_t_env_t *e, const char *path, uint8_t flags);
int kv_t_mv(kv_t_env_t *e, const char *src, const char *dst);

/* Reads by C string. */
int kv_t_stat(kv_t_env_t *e, const char *path, kv_stat_t *st);
int kv_t_count(kv_t_env_t *e, const char *path, kv_count_t *ct);
/* fsck; returns its code (err message printed to stderr on failure). */
int kv_t_check(kv_t_env_t *e);
uint64_t kv_t_digest(kv_t_env_t *e, kv_digest_scope_t scope);

/* ---- the change log (kv_chlog.h) ---- */
/* FNV over the namespace-scope keys and values of any store (what fs -digest hashes). */
uint64_t kv_t_ns_digest(kv_store_t *s);
/* A new memstore (caller owns) holding the namespace-scope keys of s: a replica at s's index. */
kv_memstore_t *kv_t_ns_copy(kv_store_t *s);
/* A new memstore holding every key of s but the change log ('L'): what a Raft snapshot carries. */
kv_memstore_t *kv_t_copy_no_chlog(kv_store_t *s);
/* Brings replica (holding the namespace at after) forward with the changes view serves after
 * after, in pages of at most max_rows rows / max_bytes bytes. Returns 0 with *to (the index the
 * replica now reflects), or kv_chlog_changes_begin's code (RV_ESTALE: a base copy is needed).
 * Aborts when a page serves a key twice or a page is empty before the end. */
int kv_t_chlog_catch_up(kv_store_t *view, kv_memstore_t *replica, uint64_t after,
                        size_t max_rows, size_t max_bytes, uint64_t *to);
/* A base copy of view, paged the same way, into a new memstore; *index = the view's index. */
kv_memstore_t *kv_t_chlog_base_copy(kv_store_t *view, size_t max_rows, size_t max_bytes,
                                    uint64_t *index);

/* xorshift64*, seeded from KV_TEST_SEED when set, else from dflt; prints the seed. */
typedef struct {
  uint64_t s;
} kv_t_rng_t;
uint64_t kv_t_seed(const char *test, uint64_t dflt);
void kv_t_rng_init(kv_t_rng_t *r, uint64_t seed);
uint64_t kv_t_rng_next(kv_t_rng_t *r);
/* Uniform in [0, n). */
uint64_t kv_t_rng_below(kv_t_rng_t *r, uint64_t n);

#endif
