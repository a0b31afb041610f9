/* kv_rocks: kv_store_t over RocksDB's C API (WriteBatch, iterators, checkpoints). I/O shell:
 * converts RocksDB's error strings into RV_EIO + message; holds no namespace logic. */
#include "kv_rocks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kv_snap.h"

struct kv_rocks {
  kv_store_t base; /* first: the interface */
  rocksdb_t *db;
  rocksdb_column_family_handle_t *cf; /* the default column family: batched MultiGet needs it */
  rocksdb_options_t *opts;
  rocksdb_block_based_table_options_t *topts;
  rocksdb_cache_t *cache;
  rocksdb_writeoptions_t *wopts;
  rocksdb_readoptions_t *ropts;
  rocksdb_writebatch_t *wb; /* reused for every write */
  kv_batch_op_t *ops;       /* a write's operations, sorted by key (reused) */
  size_t ops_cap;
  char *path;
  unsigned long long writes;
  uint64_t last_write_us;   /* how long the last write took */
  size_t last_write_keys;   /* ... and how many keys it wrote */
  /* the background WAL sync (kv_rocks_sync_start): state under mu */
  pthread_t sync_thread;
  bool sync_started;        /* the thread runs (joined by destroy) */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool sync_quit;           /* destroy asks the thread to end */
  bool sync_asked, sync_running, sync_ended; /* a sync asked / running / ended, not taken */
  uint64_t sync_tag;
  int sync_efd;
  int sync_rc;
  char sync_msg[RV_ERR_MSG_MAX];
  /* a write on the loop failed: no sync may start on the thread after it. RocksDB's WAL writer
   * takes nothing but a SyncWithoutFlush after an error of its own; Debian's build asserts on
   * anything else (WritableFileWriter::AssertFalseAndGetStatusForPrevError), which aborted
   * kv-store when a sync asked before a failed write ran after it (a full disk). */
  bool write_failed;
};

/* Converts a RocksDB error (freeing it) into RV_EIO with context. */
static int s_fail(rv_err_t *err, char *rerr, const char *what, const char *path) {
  rv_err_set(err, RV_EIO, "rocksdb %s %s: %s", what, path, rerr ? rerr : "unknown error");
  rocksdb_free(rerr);
  return RV_EIO;
}

static int s_get_with(kv_rocks_t *r, const rocksdb_readoptions_t *ro, const uint8_t *key,
                      size_t klen, kv_buf_t *val, rv_err_t *err) {
  char *rerr = NULL;
  rocksdb_pinnableslice_t *ps = rocksdb_get_pinned(r->db, ro, (const char *)key, klen, &rerr);
  if (rerr) return s_fail(err, rerr, "get in", r->path);
  if (!ps) return RV_ENOTFOUND;
  size_t vlen;
  const char *v = rocksdb_pinnableslice_value(ps, &vlen);
  kv_buf_reset(val);
  kv_buf_put(val, v, vlen);
  rocksdb_pinnableslice_destroy(ps);
  if (!kv_buf_ok(val)) return rv_err_set(err, RV_ENOMEM, "rocksdb get: out of memory");
  return RV_OK;
}

static int s_get(kv_store_t *s, const uint8_t *key, size_t klen, kv_buf_t *val, rv_err_t *err) {
  kv_rocks_t *r = (kv_rocks_t *)s;
  return s_get_with(r, r->ropts, key, klen, val, err);
}

static int s_scan_with(kv_rocks_t *r, const rocksdb_readoptions_t *ro, const uint8_t *from,
                       size_t flen, kv_scan_fn fn, void *arg, rv_err_t *err) {
  rocksdb_iterator_t *it = rocksdb_create_iterator(r->db, ro);
  int rc = RV_OK;
  for (rocksdb_iter_seek(it, (const char *)from, flen); rocksdb_iter_valid(it);
       rocksdb_iter_next(it)) {
    size_t kl, vl;
    const char *k = rocksdb_iter_key(it, &kl);
    const char *v = rocksdb_iter_value(it, &vl);
    rc = fn(arg, (const uint8_t *)k, kl, (const uint8_t *)v, vl);
    if (rc == KV_SCAN_STOP) {
      rc = RV_OK;
      break;
    }
    if (rc) break;
  }
  char *rerr = NULL;
  rocksdb_iter_get_error(it, &rerr);
  rocksdb_iter_destroy(it);
  if (rerr) return s_fail(err, rerr, "scan of", r->path);
  return rc;
}

static int s_scan(kv_store_t *s, const uint8_t *from, size_t flen, kv_scan_fn fn, void *arg,
                  rv_err_t *err) {
  kv_rocks_t *r = (kv_rocks_t *)s;
  return s_scan_with(r, r->ropts, from, flen, fn, arg, err);
}

/* Orders two batch operations by key (bytewise, shorter first on a tie: RocksDB's order). */
static int s_op_cmp(const void *a, const void *b) {
  const kv_batch_op_t *x = a, *y = b;
  size_t n = x->klen < y->klen ? x->klen : y->klen;
  int c = memcmp(x->key, y->key, n);
  if (c) return c;
  return (x->klen > y->klen) - (x->klen < y->klen);
}

/* Whether a write to this store failed: nothing but a close may touch it then. RocksDB 7.x,
 * built with assertions as Debian ships it, aborts the process when a file writer that saw an
 * error is used again (WritableFileWriter::AssertFalseAndGetStatusForPrevError; upstream
 * rocksdb#12448): a write or a WAL sync after a failed one (a full disk) killed kv-store with
 * SIGABRT in a long nemesis run. The store is reopened from disk instead (kv_store_failed). */
static bool s_failed(kv_rocks_t *r) {
  if (!r->sync_started) return r->write_failed;
  pthread_mutex_lock(&r->mu);
  bool failed = r->write_failed;
  pthread_mutex_unlock(&r->mu);
  return failed;
}

static void s_set_failed(kv_rocks_t *r) {
  if (r->sync_started) pthread_mutex_lock(&r->mu);
  r->write_failed = true;
  if (r->sync_started) pthread_mutex_unlock(&r->mu);
}

static int s_refuse(kv_rocks_t *r, const char *what, rv_err_t *err) {
  return rv_err_set(err, RV_EIO, "rocksdb: %s %s refused: an earlier write to it failed (the "
                    "store is reopened from disk)", what, r->path);
}

static int s_write(kv_store_t *s, const kv_batch_t *batch, rv_err_t *err) {
  kv_rocks_t *r = (kv_rocks_t *)s;
  if (s_failed(r)) return s_refuse(r, "write to", err);
  size_t live = kv_batch_live(batch);
  if (live > r->ops_cap) {
    size_t cap = live < 256 ? 256 : live * 2;
    kv_batch_op_t *ops = realloc(r->ops, cap * sizeof *ops);
    if (!ops) return rv_err_set(err, RV_ENOMEM, "rocksdb write to %s: out of memory", r->path);
    r->ops = ops;
    r->ops_cap = cap;
  }
  size_t cur = 0, n = 0;
  kv_batch_op_t op;
  while (n < live && kv_batch_next(batch, &cur, &op)) r->ops[n++] = op;
  qsort(r->ops, n, sizeof *r->ops, s_op_cmp);
  rocksdb_writebatch_clear(r->wb);
  for (size_t i = 0; i < n; i++) {
    const kv_batch_op_t *o = &r->ops[i];
    if (o->del)
      rocksdb_writebatch_delete(r->wb, (const char *)o->key, o->klen);
    else
      rocksdb_writebatch_put(r->wb, (const char *)o->key, o->klen, (const char *)o->val, o->vlen);
  }
  char *rerr = NULL;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  rocksdb_write(r->db, r->wopts, r->wb, &rerr);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  r->last_write_us = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000u +
                     (uint64_t)((t1.tv_nsec - t0.tv_nsec) / 1000);
  r->last_write_keys = n;
  rocksdb_writebatch_clear(r->wb);
  if (rerr) {
    s_set_failed(r);
    return s_fail(err, rerr, "write to", r->path);
  }
  r->writes++;
  return RV_OK;
}

uint64_t kv_rocks_last_write_us(const kv_rocks_t *r, size_t *keys) {
  if (keys) *keys = r->last_write_keys;
  return r->last_write_us;
}

void kv_rocks_describe_stall(kv_rocks_t *r, char *buf, size_t len) {
  char *l0 = rocksdb_property_value(r->db, "rocksdb.num-files-at-level0");
  char *imm = rocksdb_property_value(r->db, "rocksdb.num-immutable-mem-table");
  char *stop = rocksdb_property_value(r->db, "rocksdb.is-write-stopped");
  char *delay = rocksdb_property_value(r->db, "rocksdb.actual-delayed-write-rate");
  snprintf(buf, len, "L0 files %s, immutable memtables %s, writes stopped %s, delayed write "
           "rate %s", l0 ? l0 : "?", imm ? imm : "?", stop ? stop : "?", delay ? delay : "?");
  rocksdb_free(l0);
  rocksdb_free(imm);
  rocksdb_free(stop);
  rocksdb_free(delay);
}

/* memcmp order, shorter first on a tie (RocksDB's bytewise comparator). */
static int s_key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
  int c = memcmp(a, b, al < bl ? al : bl);
  return c ? c : (al > bl) - (al < bl);
}

/* One key of a multi-get, with its position in the caller's keys. */
typedef struct {
  const uint8_t *p;
  size_t len, i;
} s_sorted_t;

static int s_sorted_cmp(const void *a, const void *b) {
  const s_sorted_t *x = a, *y = b;
  return s_key_cmp(x->p, x->len, y->p, y->len);
}

/* RocksDB's batched MultiGet (the keys sorted, each once): every memtable and SST file is
 * visited once for all the keys, their bloom filters probed together, where a get per key
 * visits them all for each. The values are pinned, not copied; fn sees each key's. */
static int s_multi_get(kv_store_t *s, const kv_bytes_t *keys, size_t n, kv_multi_fn fn,
                       void *arg, rv_err_t *err) {
  kv_rocks_t *r = (kv_rocks_t *)s;
  if (s_failed(r)) return s_refuse(r, "read of", err);
  if (n == 0) return RV_OK;
  s_sorted_t *sorted = malloc(n * sizeof *sorted);
  size_t *klen = malloc(n * sizeof *klen);
  const char **kp = malloc(n * sizeof *kp);
  rocksdb_pinnableslice_t **vals = calloc(n, sizeof *vals);
  char **errs = calloc(n, sizeof *errs);
  int rc = RV_OK;
  size_t m = 0;
  if (!sorted || !klen || !kp || !vals || !errs) {
    rc = rv_err_set(err, RV_ENOMEM, "rocksdb multi-get: out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) sorted[i] = (s_sorted_t){keys[i].p, keys[i].len, i};
  qsort(sorted, n, sizeof *sorted, s_sorted_cmp);
  for (size_t i = 0; i < n; i++) { /* each key once */
    if (m && s_sorted_cmp(&sorted[i], &sorted[i - 1]) == 0) continue;
    kp[m] = (const char *)sorted[i].p;
    klen[m++] = sorted[i].len;
  }
  rocksdb_batched_multi_get_cf(r->db, r->ropts, r->cf, m, kp, klen, vals, errs, true);
  for (size_t i = 0, j = 0; i < n; i++) {
    if (i && s_sorted_cmp(&sorted[i], &sorted[i - 1]) != 0) j++; /* the next distinct key */
    if (errs[j]) {
      rc = s_fail(err, errs[j], "multi-get in", r->path);
      errs[j] = NULL;
      break;
    }
    size_t vl = 0;
    const char *v = vals[j] ? rocksdb_pinnableslice_value(vals[j], &vl) : NULL;
    if ((rc = fn(arg, sorted[i].i, (const uint8_t *)v, v ? vl : 0))) break;
  }
out:
  for (size_t i = 0; vals && errs && i < m; i++) {
    if (vals[i]) rocksdb_pinnableslice_destroy(vals[i]);
    rocksdb_free(errs[i]);
  }
  free(sorted);
  free(klen);
  free(kp);
  free(vals);
  free(errs);
  return rc;
}

static const kv_store_ops_t s_ops = {.name = "rocksdb",
                                     .get = s_get,
                                     .scan = s_scan,
                                     .write = s_write,
                                     .multi_get = s_multi_get};

/* Block-based tables with a 10-bit bloom filter per key (the filter policy is owned by the
 * table options). The same for the database and for the files a loader writes. */
static rocksdb_block_based_table_options_t *s_table_options(void) {
  rocksdb_block_based_table_options_t *t = rocksdb_block_based_options_create();
  rocksdb_block_based_options_set_filter_policy(t, rocksdb_filterpolicy_create_bloom(10));
  return t;
}

/* One memtable's size when the caller sets none; kv_rocks_new says why and what was measured. */
#define S_MEMTABLE_BYTES (4u << 20)

void kv_rocks_opts_default(kv_rocks_opts_t *o) {
  memset(o, 0, sizeof *o);
  o->sync = true;
  o->create_if_missing = true;
  o->write_buffer_bytes = S_MEMTABLE_BYTES;
}

/* fsync of path's parent directory. */
static int s_sync_parent(const char *path, rv_err_t *err) {
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (!slash) snprintf(parent, sizeof parent, ".");
  else slash[slash == parent ? 1 : 0] = '\0';
  int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int e = fd < 0 || fsync(fd) != 0 ? errno : 0;
  if (fd >= 0) close(fd);
  if (e)
    return rv_err_set(err, RV_EIO, "rocksdb: cannot fsync %s after creating %s in it: %s", parent,
                      path, strerror(e));
  return RV_OK;
}

int kv_rocks_new(const kv_rocks_opts_t *o, kv_rocks_t **out, rv_err_t *err) {
  *out = NULL;
  if (!o || !o->path || !o->path[0])
    return rv_err_set(err, RV_EINVAL, "rocksdb: no database path given");
  kv_rocks_t *r = calloc(1, sizeof *r);
  if (!r || !(r->path = strdup(o->path))) {
    free(r);
    return rv_err_set(err, RV_ENOMEM, "rocksdb: out of memory");
  }
  r->base.ops = &s_ops;
  r->opts = rocksdb_options_create();
  rocksdb_options_set_create_if_missing(r->opts, o->create_if_missing);
  rocksdb_options_set_write_buffer_size(
      r->opts, o->write_buffer_bytes ? o->write_buffer_bytes : S_MEMTABLE_BYTES);
  /* Writes go into a small memtable; a flush merges eight full ones into one L0 file.
   * - Compaction was a fifth of kv-store's CPU under a create load when every 8 MiB flush made
   *   an L0 file: every few of them, L0 was merged into all of L1 (nearly the whole namespace)
   *   again. One L0 file per 32 MiB of writes (the hot keys, parent attributes and sessions,
   *   overwritten many times, are written once) and a merge every 8 L0 files made a bulk load
   *   of 300,000 files spend 0.0 s compacting per node instead of 2.3 s.
   * - But the memtable insert, a search of a skip list, is most of what is left: half of a
   *   follower's kv-store CPU under creates. With three nodes' 32 MiB memtables on one host,
   *   each search was mostly cache misses (the L3 is 32 MiB). A 4 MiB memtable takes the
   *   writes and up to eleven full ones wait; a flush merges eight
   *   (min_write_buffer_number_to_merge), so L0 files and compactions are those of 32 MiB
   *   memtables. scripts/bench-ab.sh --fresh --by-role, 3 rounds each, 1.5 M-file bulk loads:
   *   - 32 MiB -> 8 MiB (four merged; 2026-12-04, 300,000 files): kv-store CPU per file 83.6 ->
   *     72.6 us over the cluster, 15,641 -> 17,657 files/s; creates at 64 clients 53.5 -> 46.7
   *     us; stats unchanged;
   *   - 8 MiB -> 4 MiB (eight merged; 2026-12-05): kv-stores 65.5 -> 62.3 us per file, lower
   *     in every round (the leader's and the followers'), 20,356 -> 20,789 files/s; creates at
   *     64 clients the same; stats at 16 clients about 5% slower (a get looks in more
   *     memtables: 29,667 against 31,265/s, lower in three rounds of three);
   *   - 4 MiB -> 2 MiB (sixteen merged): 61.4 -> 62.3 us, no better; kept at 4.
   *   (kv_core_bench alone, with its one memtable in the whole L3, shows no difference.)
   * Point reads look in up to twelve memtables and 8 L0 files, each behind a bloom filter.
   * Memory: twelve memtables at most, 48 MiB (two of 32 MiB, then six of 8 MiB before). */
  rocksdb_options_set_min_write_buffer_number_to_merge(r->opts, 8);
  rocksdb_options_set_max_write_buffer_number(r->opts, 12);
  rocksdb_options_set_level0_file_num_compaction_trigger(r->opts, 8);
  /* Point lookups of absent keys (every create checks its name is free) skip the memtable. */
  rocksdb_options_set_memtable_prefix_bloom_size_ratio(r->opts, 0.1);
  rocksdb_options_set_memtable_whole_key_filtering(r->opts, 1);
  /* The per-operation perf counters cost a third of a small write (thread-local lookups in a
   * shared library); the actor does not read them. The level is per thread: the actor's. */
  rocksdb_set_perf_level(rocksdb_disable);
  r->topts = s_table_options();
  if (o->block_cache_bytes) {
    r->cache = rocksdb_cache_create_lru(o->block_cache_bytes);
    rocksdb_block_based_options_set_block_cache(r->topts, r->cache);
  }
  rocksdb_options_set_block_based_table_factory(r->opts, r->topts);
  r->wopts = rocksdb_writeoptions_create();
  rocksdb_writeoptions_set_sync(r->wopts, o->sync);
  r->ropts = rocksdb_readoptions_create();
  r->wb = rocksdb_writebatch_create();
  char *rerr = NULL;
  struct stat st;
  bool created = stat(r->path, &st) != 0 && errno == ENOENT;
  const char *cf_names[1] = {"default"};
  const rocksdb_options_t *cf_opts[1] = {r->opts};
  rocksdb_column_family_handle_t *cfs[1] = {NULL};
  r->db = rocksdb_open_column_families(r->opts, r->path, 1, cf_names, cf_opts, cfs, &rerr);
  r->cf = cfs[0];
  if (rerr || !r->db) {
    s_fail(err, rerr, "open", o->path);
    kv_rocks_destroy(&r);
    return RV_EIO;
  }
  /* RocksDB syncs its own directory, not the new directory's entry in its parent: without this
   * a crash soon after the first start could lose the whole database directory */
  if (created) {
    int rc = s_sync_parent(r->path, err);
    if (rc) {
      kv_rocks_destroy(&r);
      return rc;
    }
  }
  *out = r;
  return RV_OK;
}

void kv_rocks_destroy(kv_rocks_t **rp) {
  if (!rp || !*rp) return;
  kv_rocks_t *r = *rp;
  if (r->sync_started) { /* a sync in progress ends first: the database outlives it */
    pthread_mutex_lock(&r->mu);
    r->sync_quit = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->sync_thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
  }
  if (r->cf) rocksdb_column_family_handle_destroy(r->cf);
  if (r->db) rocksdb_close(r->db);
  if (r->wb) rocksdb_writebatch_destroy(r->wb);
  if (r->ropts) rocksdb_readoptions_destroy(r->ropts);
  if (r->wopts) rocksdb_writeoptions_destroy(r->wopts);
  if (r->opts) rocksdb_options_destroy(r->opts);
  /* The table options own the filter policy. */
  if (r->topts) rocksdb_block_based_options_destroy(r->topts);
  if (r->cache) rocksdb_cache_destroy(r->cache);
  free(r->ops);
  free(r->path);
  free(r);
  *rp = NULL;
}

kv_store_t *kv_rocks_store(kv_rocks_t *r) { return &r->base; }

void kv_rocks_thread_setup(void) { rocksdb_set_perf_level(rocksdb_disable); }

void kv_rocks_set_sync(kv_rocks_t *r, bool sync) { rocksdb_writeoptions_set_sync(r->wopts, sync); }

int kv_rocks_checkpoint(kv_rocks_t *r, const char *dir, rv_err_t *err) {
  char *rerr = NULL;
  rocksdb_checkpoint_t *cp = rocksdb_checkpoint_object_create(r->db, &rerr);
  if (rerr) return s_fail(err, rerr, "checkpoint of", r->path);
  /* log_size_for_flush 0: always flush the memtable first, so the copy needs no WAL replay. */
  rocksdb_checkpoint_create(cp, dir, 0, &rerr);
  rocksdb_checkpoint_object_destroy(cp);
  if (rerr) return s_fail(err, rerr, "checkpoint into", dir);
  return RV_OK;
}

int kv_rocks_sync_wal(kv_rocks_t *r, rv_err_t *err) {
  if (s_failed(r)) return s_refuse(r, "sync of the write-ahead log of", err);
  char *rerr = NULL;
  rocksdb_flush_wal(r->db, 1, &rerr);
  if (rerr) {
    s_set_failed(r);
    return s_fail(err, rerr, "sync of the write-ahead log of", r->path);
  }
  return RV_OK;
}

static void *s_sync_main(void *arg) {
  kv_rocks_t *r = arg;
  pthread_mutex_lock(&r->mu);
  while (true) {
    while (!r->sync_asked && !r->sync_quit) pthread_cond_wait(&r->cv, &r->mu);
    if (r->sync_quit) break;
    r->sync_asked = false;
    r->sync_running = true;
    bool failed = r->write_failed;
    pthread_mutex_unlock(&r->mu);
    char *rerr = NULL;
    rv_err_t err = {0};
    int rc;
    if (failed) { /* a write failed since this sync was asked: the store is reopened instead */
      rc = rv_err_set(&err, RV_EIO, "sync of the write-ahead log of %s: not tried, a write to "
                      "it failed", r->path);
    } else {
      rocksdb_flush_wal(r->db, 1, &rerr);
      rc = rerr ? s_fail(&err, rerr, "sync of the write-ahead log of", r->path) : RV_OK;
    }
    pthread_mutex_lock(&r->mu);
    if (rc) r->write_failed = true; /* nothing but a close touches the store now */
    r->sync_rc = rc;
    snprintf(r->sync_msg, sizeof r->sync_msg, "%s", rc ? err.msg : "");
    r->sync_running = false;
    r->sync_ended = true;
    uint64_t one = 1;
    if (write(r->sync_efd, &one, sizeof one) < 0) { /* the eventfd cannot overflow here */ }
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

int kv_rocks_sync_start(kv_rocks_t *r, uint64_t tag, int efd, rv_err_t *err) {
  if (!r->sync_started) {
    if (pthread_mutex_init(&r->mu, NULL)) return rv_err_set(err, RV_EINTERNAL, "sync: mutex");
    if (pthread_cond_init(&r->cv, NULL)) {
      pthread_mutex_destroy(&r->mu);
      return rv_err_set(err, RV_EINTERNAL, "sync: condition variable");
    }
    if (pthread_create(&r->sync_thread, NULL, s_sync_main, r)) {
      pthread_cond_destroy(&r->cv);
      pthread_mutex_destroy(&r->mu);
      return rv_err_set(err, RV_ENOMEM, "sync: cannot start the WAL sync thread");
    }
    r->sync_started = true;
  }
  pthread_mutex_lock(&r->mu);
  if (r->sync_asked || r->sync_running || r->sync_ended) {
    pthread_mutex_unlock(&r->mu);
    return rv_err_set(err, RV_EBUSY, "sync: one is already running");
  }
  r->sync_asked = true;
  r->sync_tag = tag;
  r->sync_efd = efd;
  pthread_cond_signal(&r->cv);
  pthread_mutex_unlock(&r->mu);
  return RV_OK;
}

bool kv_rocks_sync_take(kv_rocks_t *r, uint64_t *tag, int *rc, rv_err_t *err) {
  if (!r->sync_started) return false;
  pthread_mutex_lock(&r->mu);
  bool ended = r->sync_ended;
  if (ended) {
    r->sync_ended = false;
    *tag = r->sync_tag;
    *rc = r->sync_rc;
    if (*rc) rv_err_set(err, *rc, "%s", r->sync_msg);
  }
  pthread_mutex_unlock(&r->mu);
  return ended;
}

int kv_rocks_flush(kv_rocks_t *r, rv_err_t *err) {
  if (s_failed(r)) return s_refuse(r, "flush of", err);
  rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
  rocksdb_flushoptions_set_wait(fo, 1);
  char *rerr = NULL;
  rocksdb_flush(r->db, fo, &rerr);
  rocksdb_flushoptions_destroy(fo);
  if (rerr) return s_fail(err, rerr, "flush of", r->path);
  return RV_OK;
}

unsigned long long kv_rocks_writes(const kv_rocks_t *r) { return r->writes; }

/* ---- consistent readers for snapshot streaming ----------------------------------------------- */

struct kv_rocks_reader {
  kv_rocks_t *r; /* borrowed */
  const rocksdb_snapshot_t *snap;
  rocksdb_readoptions_t *ropts;
  rocksdb_iterator_t *it;
  bool skip;     /* keys whose first byte is skip_byte are not read out */
  uint8_t skip_byte;
};

void kv_rocks_reader_skip(kv_rocks_reader_t *rd, uint8_t first_byte) {
  rd->skip = true;
  rd->skip_byte = first_byte;
}

int kv_rocks_reader_new(kv_rocks_t *r, kv_rocks_reader_t **out, rv_err_t *err) {
  kv_rocks_reader_t *rd = calloc(1, sizeof *rd);
  if (!rd) return rv_err_set(err, RV_ENOMEM, "rocksdb reader: out of memory");
  rd->r = r;
  rd->snap = rocksdb_create_snapshot(r->db);
  rd->ropts = rocksdb_readoptions_create();
  rocksdb_readoptions_set_snapshot(rd->ropts, rd->snap);
  /* a full scan should not evict the working set of point lookups */
  rocksdb_readoptions_set_fill_cache(rd->ropts, 0);
  rd->it = rocksdb_create_iterator(r->db, rd->ropts);
  rocksdb_iter_seek_to_first(rd->it);
  *out = rd;
  return RV_OK;
}

int kv_rocks_reader_next(kv_rocks_reader_t *rd, kv_buf_t *out, size_t target, bool *last,
                         rv_err_t *err) {
  *last = false;
  while (rocksdb_iter_valid(rd->it) && out->len < target) {
    size_t kl, vl;
    const char *k = rocksdb_iter_key(rd->it, &kl);
    if (rd->skip && kl > 0 && (uint8_t)k[0] == rd->skip_byte) {
      if (rd->skip_byte == 0xff) { /* nothing sorts after it but more of it */
        rocksdb_iter_seek_to_last(rd->it);
        rocksdb_iter_next(rd->it);
      } else {
        char next = (char)(rd->skip_byte + 1);
        rocksdb_iter_seek(rd->it, &next, 1);
      }
      continue;
    }
    const char *v = rocksdb_iter_value(rd->it, &vl);
    if (kv_snap_put(out, k, kl, v, vl) != RV_OK)
      return rv_err_set(err, RV_ETOOBIG, "rocksdb %s: a pair of %zu + %zu bytes cannot be "
                        "streamed", rd->r->path, kl, vl);
    if (!kv_buf_ok(out)) return rv_err_set(err, RV_ENOMEM, "snapshot chunk: out of memory");
    rocksdb_iter_next(rd->it);
  }
  char *rerr = NULL;
  rocksdb_iter_get_error(rd->it, &rerr);
  if (rerr) return s_fail(err, rerr, "snapshot scan of", rd->r->path);
  *last = !rocksdb_iter_valid(rd->it);
  return RV_OK;
}

void kv_rocks_reader_destroy(kv_rocks_reader_t **rdp) {
  if (!rdp || !*rdp) return;
  kv_rocks_reader_t *rd = *rdp;
  rocksdb_iter_destroy(rd->it);
  rocksdb_readoptions_destroy(rd->ropts);
  rocksdb_release_snapshot(rd->r->db, rd->snap);
  free(rd);
  *rdp = NULL;
}

/* ---- consistent views ------------------------------------------------------------------- */

struct kv_rocks_view {
  kv_store_t base; /* first: the interface */
  kv_rocks_t *r;   /* borrowed */
  const rocksdb_snapshot_t *snap;
  rocksdb_readoptions_t *ropts;  /* scans: the snapshot, blocks read not cached */
  rocksdb_readoptions_t *pointo; /* get, multi_get: the snapshot, blocks cached (or not) */
  kv_rocks_read_t read;  /* how multi_get reads */
  s_sorted_t *sorted;    /* multi_get's keys in key order (reused) */
  size_t sorted_cap;
  uint64_t seeks, steps; /* the walk's seeks and nexts so far (kv_rocks_view_counts) */
};

static int s_view_get(kv_store_t *s, const uint8_t *key, size_t klen, kv_buf_t *val,
                      rv_err_t *err) {
  kv_rocks_view_t *v = (kv_rocks_view_t *)s;
  return s_get_with(v->r, v->pointo, key, klen, val, err);
}

static int s_view_scan(kv_store_t *s, const uint8_t *from, size_t flen, kv_scan_fn fn, void *arg,
                       rv_err_t *err) {
  kv_rocks_view_t *v = (kv_rocks_view_t *)s;
  return s_scan_with(v->r, v->ropts, from, flen, fn, arg, err);
}

static int s_view_write(kv_store_t *s, const kv_batch_t *batch, rv_err_t *err) {
  (void)batch;
  return rv_err_set(err, RV_EINVAL, "rocksdb %s: a view is read-only",
                    ((kv_rocks_view_t *)s)->r->path);
}

/* RocksDB's MultiGet: one call, each value copied into a malloc'd buffer. */
static int s_view_multi_rocks(kv_rocks_view_t *v, const kv_bytes_t *keys, size_t n,
                              kv_multi_fn fn, void *arg, rv_err_t *err) {
  const char **kp = malloc(n * sizeof *kp);
  size_t *kl = malloc(n * sizeof *kl), *vl = calloc(n, sizeof *vl);
  char **vals = calloc(n, sizeof *vals), **errs = calloc(n, sizeof *errs);
  int rc = RV_OK;
  if (!kp || !kl || !vl || !vals || !errs) {
    rc = rv_err_set(err, RV_ENOMEM, "rocksdb multi-get: out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    kp[i] = (const char *)keys[i].p;
    kl[i] = keys[i].len;
  }
  rocksdb_multi_get(v->r->db, v->pointo, n, kp, kl, vals, vl, errs);
  for (size_t i = 0; i < n && rc == RV_OK; i++) {
    if (errs[i]) {
      rc = s_fail(err, errs[i], "multi-get in", v->r->path);
      errs[i] = NULL;
    } else {
      rc = fn(arg, i, (const uint8_t *)vals[i], vals[i] ? vl[i] : 0);
    }
  }
out:
  for (size_t i = 0; vals && errs && i < n; i++) {
    rocksdb_free(vals[i]);
    rocksdb_free(errs[i]);
  }
  free(kp);
  free(kl);
  free(vl);
  free(vals);
  free(errs);
  return rc;
}

/* One iterator walked through the keys in key order: a key close after the previous one is
 * reached by a few nexts (cheap: the iterator stays in its blocks) rather than a seek into every
 * memtable and file; a key farther away is sought. */
#define S_WALK_STEPS 16 /* nexts tried before a seek */
static int s_view_multi_walk(kv_rocks_view_t *v, const kv_bytes_t *keys, size_t n,
                             kv_multi_fn fn, void *arg, rv_err_t *err) {
  if (n > v->sorted_cap) {
    size_t cap = n < 256 ? 256 : n;
    s_sorted_t *ns = realloc(v->sorted, cap * sizeof *ns);
    if (!ns) return rv_err_set(err, RV_ENOMEM, "rocksdb multi-get: out of memory");
    v->sorted = ns;
    v->sorted_cap = cap;
  }
  for (size_t i = 0; i < n; i++) v->sorted[i] = (s_sorted_t){keys[i].p, keys[i].len, i};
  qsort(v->sorted, n, sizeof *v->sorted, s_sorted_cmp);
  rocksdb_iterator_t *it = rocksdb_create_iterator(v->r->db, v->pointo);
  int rc = RV_OK;
  bool placed = false;
  for (size_t j = 0; j < n && rc == RV_OK; j++) {
    const s_sorted_t *want = &v->sorted[j];
    int c = 1;
    size_t kl = 0;
    const char *k = NULL;
    for (int step = 0; placed && rocksdb_iter_valid(it); step++) {
      k = rocksdb_iter_key(it, &kl);
      c = s_key_cmp((const uint8_t *)k, kl, want->p, want->len);
      if (c >= 0 || step == S_WALK_STEPS) break;
      rocksdb_iter_next(it);
      v->steps++;
    }
    /* placed and past the last key: no later key is there either */
    if (!placed || (c < 0 && rocksdb_iter_valid(it))) {
      rocksdb_iter_seek(it, (const char *)want->p, want->len);
      v->seeks++;
      placed = true;
      c = 1;
      if (rocksdb_iter_valid(it)) {
        k = rocksdb_iter_key(it, &kl);
        c = s_key_cmp((const uint8_t *)k, kl, want->p, want->len);
      }
    }
    size_t vl = 0;
    const char *val = c == 0 ? rocksdb_iter_value(it, &vl) : NULL;
    rc = fn(arg, want->i, (const uint8_t *)val, vl);
  }
  char *rerr = NULL;
  rocksdb_iter_get_error(it, &rerr);
  rocksdb_iter_destroy(it);
  if (rerr) return s_fail(err, rerr, "multi-get in", v->r->path);
  return rc;
}

static int s_view_multi_get(kv_store_t *s, const kv_bytes_t *keys, size_t n, kv_multi_fn fn,
                            void *arg, rv_err_t *err) {
  kv_rocks_view_t *v = (kv_rocks_view_t *)s;
  if (n == 0) return RV_OK;
  if (v->read == KV_ROCKS_READ_MULTIGET) return s_view_multi_rocks(v, keys, n, fn, arg, err);
  if (v->read == KV_ROCKS_READ_WALK) return s_view_multi_walk(v, keys, n, fn, arg, err);
  kv_buf_t val;
  kv_buf_init(&val);
  int rc = RV_OK;
  for (size_t i = 0; i < n && rc == RV_OK; i++) {
    rc = s_get_with(v->r, v->pointo, keys[i].p, keys[i].len, &val, err);
    if (rc == RV_OK || rc == RV_ENOTFOUND)
      rc = fn(arg, i, rc ? NULL : val.data, rc ? 0 : val.len);
  }
  kv_buf_close(&val);
  return rc;
}

static const kv_store_ops_t s_view_ops = {.name = "rocksdb view",
                                          .get = s_view_get,
                                          .scan = s_view_scan,
                                          .write = s_view_write,
                                          .multi_get = s_view_multi_get};

int kv_rocks_view_new(kv_rocks_t *r, kv_rocks_view_t **out, rv_err_t *err) {
  kv_rocks_view_t *v = calloc(1, sizeof *v);
  if (!v) return rv_err_set(err, RV_ENOMEM, "rocksdb view: out of memory");
  v->base.ops = &s_view_ops;
  v->r = r;
  v->read = KV_ROCKS_READ_DEFAULT;
  v->snap = rocksdb_create_snapshot(r->db);
  v->ropts = rocksdb_readoptions_create();
  rocksdb_readoptions_set_snapshot(v->ropts, v->snap);
  /* a scan (a base copy, the change log's entries) reads each block once: caching it would
   * evict the working set. The post-images of the changes are that working set (the keys just
   * written, which the applies read too); uncached, every one decompressed its block again: 4.3
   * against 1.9 us per row in kv_repl_bench */
  rocksdb_readoptions_set_fill_cache(v->ropts, 0);
  v->pointo = rocksdb_readoptions_create();
  rocksdb_readoptions_set_snapshot(v->pointo, v->snap);
  *out = v;
  return RV_OK;
}

kv_store_t *kv_rocks_view_store(kv_rocks_view_t *v) { return &v->base; }

void kv_rocks_view_set_read(kv_rocks_view_t *v, kv_rocks_read_t read, bool fill_cache) {
  v->read = read;
  rocksdb_readoptions_set_fill_cache(v->pointo, fill_cache);
}

void kv_rocks_view_counts(const kv_rocks_view_t *v, uint64_t *seeks, uint64_t *steps) {
  *seeks = v->seeks;
  *steps = v->steps;
}

void kv_rocks_view_destroy(kv_rocks_view_t **vp) {
  if (!vp || !*vp) return;
  kv_rocks_view_t *v = *vp;
  rocksdb_readoptions_destroy(v->ropts);
  rocksdb_readoptions_destroy(v->pointo);
  rocksdb_release_snapshot(v->r->db, v->snap);
  free(v->sorted);
  free(v);
  *vp = NULL;
}

unsigned long long kv_rocks_estimate_keys(kv_rocks_t *r) {
  char *p = rocksdb_property_value(r->db, "rocksdb.estimate-num-keys");
  unsigned long long n = p ? strtoull(p, NULL, 10) : 0;
  rocksdb_free(p);
  return n;
}

/* ---- bulk loader ------------------------------------------------------------------------- */

struct kv_rocks_loader {
  char *path;    /* the database to create */
  char *staging; /* <path>/ingest: the SST files until they are ingested */
  size_t file_bytes;
  rocksdb_options_t *opts;
  rocksdb_block_based_table_options_t *topts;
  rocksdb_envoptions_t *env;
  rocksdb_sstfilewriter_t *w; /* the file being written, NULL between files */
  char **files;               /* finished files */
  size_t nfiles, cap;
  uint64_t cur_bytes;         /* key + value bytes in the current file */
  kv_buf_t last;              /* the last key added, for the order check */
  unsigned long long pairs;
};

int kv_rocks_loader_new(const char *path, size_t file_bytes, kv_rocks_loader_t **out,
                        rv_err_t *err) {
  *out = NULL;
  kv_rocks_loader_t *l = calloc(1, sizeof *l);
  size_t n = strlen(path) + sizeof "/ingest";
  if (!l || !(l->path = strdup(path)) || !(l->staging = malloc(n))) {
    if (l) free(l->path);
    free(l);
    return rv_err_set(err, RV_ENOMEM, "rocksdb loader %s: out of memory", path);
  }
  snprintf(l->staging, n, "%s/ingest", path);
  l->file_bytes = file_bytes ? file_bytes : 64u << 20;
  kv_buf_init(&l->last);
  l->opts = rocksdb_options_create();
  l->topts = s_table_options();
  rocksdb_options_set_block_based_table_factory(l->opts, l->topts);
  l->env = rocksdb_envoptions_create();
  if (mkdir(path, 0755) != 0 || mkdir(l->staging, 0755) != 0) {
    int e = errno;
    kv_rocks_loader_destroy(&l);
    return rv_err_set(err, RV_EIO, "rocksdb loader: mkdir %s: %s", path, strerror(e));
  }
  *out = l;
  return RV_OK;
}

/* Finishes the current file (RocksDB syncs it) and records it for ingestion. */
static int s_loader_close_file(kv_rocks_loader_t *l, rv_err_t *err) {
  if (!l->w) return RV_OK;
  char *rerr = NULL;
  rocksdb_sstfilewriter_finish(l->w, &rerr);
  rocksdb_sstfilewriter_destroy(l->w);
  l->w = NULL;
  l->cur_bytes = 0;
  if (rerr) return s_fail(err, rerr, "finish of a file in", l->staging);
  return RV_OK;
}

static int s_loader_open_file(kv_rocks_loader_t *l, rv_err_t *err) {
  if (l->nfiles == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    char **f = realloc(l->files, cap * sizeof *f);
    if (!f) return rv_err_set(err, RV_ENOMEM, "rocksdb loader %s: out of memory", l->path);
    l->files = f;
    l->cap = cap;
  }
  size_t n = strlen(l->staging) + 32;
  char *name = malloc(n);
  if (!name) return rv_err_set(err, RV_ENOMEM, "rocksdb loader %s: out of memory", l->path);
  snprintf(name, n, "%s/part-%06zu.sst", l->staging, l->nfiles);
  l->files[l->nfiles++] = name;
  l->w = rocksdb_sstfilewriter_create(l->env, l->opts);
  char *rerr = NULL;
  rocksdb_sstfilewriter_open(l->w, name, &rerr);
  if (rerr) {
    rocksdb_sstfilewriter_destroy(l->w);
    l->w = NULL;
    int rc = s_fail(err, rerr, "create of", name);
    l->nfiles--;
    free(name);
    return rc;
  }
  return RV_OK;
}

int kv_rocks_loader_put(kv_rocks_loader_t *l, const void *key, size_t klen, const void *val,
                        size_t vlen, rv_err_t *err) {
  if (l->pairs > 0) {
    size_t m = l->last.len < klen ? l->last.len : klen;
    int c = memcmp(l->last.data, key, m);
    if (c > 0 || (c == 0 && l->last.len >= klen))
      return rv_err_set(err, RV_EINVAL, "rocksdb loader %s: pair %llu is not after the one "
                        "before it (keys must increase strictly)", l->path, l->pairs + 1);
  }
  int rc;
  if (l->w && l->cur_bytes >= l->file_bytes && (rc = s_loader_close_file(l, err))) return rc;
  if (!l->w && (rc = s_loader_open_file(l, err))) return rc;
  char *rerr = NULL;
  rocksdb_sstfilewriter_put(l->w, key, klen, val, vlen, &rerr);
  if (rerr) return s_fail(err, rerr, "write into", l->staging);
  kv_buf_reset(&l->last);
  kv_buf_put(&l->last, key, klen);
  if (!kv_buf_ok(&l->last)) return rv_err_set(err, RV_ENOMEM, "rocksdb loader: out of memory");
  l->cur_bytes += klen + vlen;
  l->pairs++;
  return RV_OK;
}

/* fsyncs every regular file in dir, then dir itself: the ingested database must be on disk
 * before the caller's commit point, whatever RocksDB's own ingestion syncs. */
static int s_fsync_dir_files(const char *dir, rv_err_t *err) {
  DIR *d = opendir(dir);
  if (!d) return rv_err_set(err, RV_EIO, "rocksdb loader: opendir %s: %s", dir, strerror(errno));
  int rc = RV_OK;
  struct dirent *e;
  while (rc == RV_OK && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || (S_ISREG(st.st_mode) && fsync(fd) != 0))
      rc = rv_err_set(err, RV_EIO, "rocksdb loader: fsync %s/%s: %s", dir, e->d_name,
                      strerror(errno));
    if (fd >= 0) close(fd);
  }
  if (rc == RV_OK && fsync(dirfd(d)) != 0)
    rc = rv_err_set(err, RV_EIO, "rocksdb loader: fsync %s: %s", dir, strerror(errno));
  closedir(d);
  return rc;
}

int kv_rocks_loader_finish(kv_rocks_loader_t *l, rv_err_t *err) {
  int rc = s_loader_close_file(l, err);
  if (rc) return rc;
  kv_rocks_opts_t o;
  kv_rocks_opts_default(&o);
  o.path = l->path;
  kv_rocks_t *r;
  if ((rc = kv_rocks_new(&o, &r, err))) return rc;
  if (l->nfiles) {
    rocksdb_ingestexternalfileoptions_t *io = rocksdb_ingestexternalfileoptions_create();
    rocksdb_ingestexternalfileoptions_set_move_files(io, 1);
    char *rerr = NULL;
    rocksdb_ingest_external_file(r->db, (const char *const *)l->files, l->nfiles, io, &rerr);
    rocksdb_ingestexternalfileoptions_destroy(io);
    if (rerr) {
      rc = s_fail(err, rerr, "ingest of snapshot files into", l->path);
      kv_rocks_destroy(&r);
      return rc;
    }
  }
  kv_rocks_destroy(&r);
  /* moved: only the empty staging directory is left */
  for (size_t i = 0; i < l->nfiles; i++) unlink(l->files[i]);
  if (rmdir(l->staging) != 0)
    return rv_err_set(err, RV_EIO, "rocksdb loader: rmdir %s: %s", l->staging, strerror(errno));
  return s_fsync_dir_files(l->path, err);
}

unsigned long long kv_rocks_loader_pairs(const kv_rocks_loader_t *l) { return l->pairs; }

void kv_rocks_loader_destroy(kv_rocks_loader_t **lp) {
  if (!lp || !*lp) return;
  kv_rocks_loader_t *l = *lp;
  if (l->w) rocksdb_sstfilewriter_destroy(l->w);
  for (size_t i = 0; i < l->nfiles; i++) free(l->files[i]);
  free(l->files);
  if (l->env) rocksdb_envoptions_destroy(l->env);
  if (l->opts) rocksdb_options_destroy(l->opts);
  if (l->topts) rocksdb_block_based_options_destroy(l->topts);
  kv_buf_close(&l->last);
  free(l->staging);
  free(l->path);
  free(l);
  *lp = NULL;
}

uint64_t kv_rocks_size(kv_rocks_t *r) {
  static const char *const props[] = {"rocksdb.total-sst-files-size",
                                      "rocksdb.cur-size-all-mem-tables"};
  uint64_t total = 0;
  for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
    char *v = rocksdb_property_value(r->db, props[i]);
    if (v) total += strtoull(v, NULL, 10);
    free(v);
  }
  return total;
}

uint64_t kv_rocks_property(kv_rocks_t *r, const char *name) {
  char *v = rocksdb_property_value(r->db, name);
  uint64_t n = v ? strtoull(v, NULL, 10) : 0;
  free(v);
  return n;
}
