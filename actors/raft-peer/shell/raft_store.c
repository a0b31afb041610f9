/* raft_store: the Raft log and hard state in raft-peer's own RocksDB (I/O shell). */
#include "raft_store.h"

#include <errno.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_POINT_DELETE_MAX 4096 /* truncations shorter than this delete key by key */

struct raft_store {
  char dir[4096];
  rocksdb_t *db;
  rocksdb_options_t *opts;
  rocksdb_writeoptions_t *wsync;   /* sync = true: fdatasync of the WAL before returning */
  rocksdb_writeoptions_t *wnosync;
  rocksdb_readoptions_t *ropts;
  raft_index_t first_index;        /* first persisted entry, 0 = none */
  raft_index_t last_index;         /* last persisted entry, 0 = none */
  raft_index_t snapshot_index;
};

/* ---- encoding ---------------------------------------------------------------------------- */

static void s_put_be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}
static uint64_t s_get_be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}
static void s_put_le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++, v >>= 8) p[i] = (uint8_t)v;
}
static uint64_t s_get_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void s_entry_key(uint8_t key[9], raft_index_t index) {
  key[0] = 'e';
  s_put_be64(key + 1, index);
}

/* Errors from RocksDB: ENOSPC is worth its own code, so the health-monitor can say "disk full". */
static int s_rocks_err(rv_err_t *err, char *msg, const char *what, const char *dir) {
  int code = strstr(msg, "No space left") ? RV_ENOSPACE
             : strstr(msg, "Corruption")  ? RV_ECORRUPT
                                          : RV_EIO;
  rv_err_set(err, code, "raft log %s: %s: %s", dir, what, msg);
  rocksdb_free(msg);
  return code;
}

static size_t s_conf_encode(const raft_conf_t *c, uint8_t *p) {
  uint8_t *q = p;
  *q++ = (uint8_t)c->n_voters;
  for (size_t i = 0; i < c->n_voters; i++, q += 8) s_put_le64(q, c->voters[i]);
  *q++ = (uint8_t)c->n_learners;
  for (size_t i = 0; i < c->n_learners; i++, q += 8) s_put_le64(q, c->learners[i]);
  return (size_t)(q - p);
}

static int s_conf_decode(raft_conf_t *c, const uint8_t *p, size_t len) {
  memset(c, 0, sizeof *c);
  if (len < 1) return -1;
  size_t nv = p[0];
  if (nv > RAFT_MAX_MEMBERS || len < 1 + 8 * nv + 1) return -1;
  for (size_t i = 0; i < nv; i++) c->voters[i] = s_get_le64(p + 1 + 8 * i);
  c->n_voters = nv;
  const uint8_t *q = p + 1 + 8 * nv;
  size_t nl = q[0];
  if (nl > RAFT_MAX_MEMBERS || len != 1 + 8 * nv + 1 + 8 * nl) return -1;
  for (size_t i = 0; i < nl; i++) c->learners[i] = s_get_le64(q + 1 + 8 * i);
  c->n_learners = nl;
  return 0;
}

/* ---- open and load ----------------------------------------------------------------------- */

static int s_get(raft_store_t *s, const char *key, size_t klen, char **val, size_t *vlen,
                 rv_err_t *err) {
  char *e = NULL;
  *val = rocksdb_get(s->db, s->ropts, key, klen, vlen, &e);
  if (e) return s_rocks_err(err, e, "read", s->dir);
  return RV_OK;
}

static int s_check_identity(raft_store_t *s, const char *cluster, raft_id_t node, rv_err_t *err) {
  char want[256];
  int n = snprintf(want, sizeof want, "%s\n%llu", cluster, (unsigned long long)node);
  char *val;
  size_t vlen;
  int rc = s_get(s, "i", 1, &val, &vlen, err);
  if (rc) return rc;
  if (!val) {
    char *e = NULL;
    rocksdb_put(s->db, s->wsync, "i", 1, want, (size_t)n, &e);
    if (e) return s_rocks_err(err, e, "write identity", s->dir);
    return RV_OK;
  }
  bool same = vlen == (size_t)n && memcmp(val, want, vlen) == 0;
  if (!same) {
    char have[256];
    snprintf(have, sizeof have, "%.*s", (int)(vlen < 200 ? vlen : 200), val);
    for (char *p = have; *p; p++)
      if (*p == '\n') *p = '/';
    rv_err_set(err, RV_ESTALE,
               "raft log %s belongs to cluster/node %s, not %s/%llu: it is another node's data; "
               "point node.data-dir elsewhere or remove it to join afresh",
               s->dir, have, cluster, (unsigned long long)node);
  }
  rocksdb_free(val);
  return same ? RV_OK : RV_ESTALE;
}

int raft_store_open(const char *dir, const char *cluster, raft_id_t node, raft_store_t **out,
                    rv_err_t *err) {
  *out = NULL;
  raft_store_t *s = calloc(1, sizeof *s);
  if (!s) return rv_err_set(err, RV_ENOMEM, "out of memory");
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  s->opts = rocksdb_options_create();
  rocksdb_options_set_create_if_missing(s->opts, 1);
  rocksdb_options_set_wal_recovery_mode(s->opts, 0 /* kTolerateCorruptedTailRecords */);
  rocksdb_options_set_write_buffer_size(s->opts, 16u << 20);
  rocksdb_options_set_max_total_wal_size(s->opts, 64u << 20);
  rocksdb_options_set_max_background_jobs(s->opts, 2);
  rocksdb_options_set_keep_log_file_num(s->opts, 2);
  s->wsync = rocksdb_writeoptions_create();
  rocksdb_writeoptions_set_sync(s->wsync, 1);
  s->wnosync = rocksdb_writeoptions_create();
  s->ropts = rocksdb_readoptions_create();
  char *e = NULL;
  s->db = rocksdb_open(s->opts, dir, &e);
  int rc;
  if (e) {
    rc = s_rocks_err(err, e, "open", dir);
    raft_store_close(&s);
    return rc;
  }
  if ((rc = s_check_identity(s, cluster, node, err))) {
    raft_store_close(&s);
    return rc;
  }
  *out = s;
  return RV_OK;
}

void raft_store_close(raft_store_t **sp) {
  if (!sp || !*sp) return;
  raft_store_t *s = *sp;
  if (s->db) rocksdb_close(s->db);
  if (s->opts) rocksdb_options_destroy(s->opts);
  if (s->wsync) rocksdb_writeoptions_destroy(s->wsync);
  if (s->wnosync) rocksdb_writeoptions_destroy(s->wnosync);
  if (s->ropts) rocksdb_readoptions_destroy(s->ropts);
  free(s);
  *sp = NULL;
}

raft_index_t raft_store_last_index(const raft_store_t *s) { return s->last_index; }

void raft_store_state_free(raft_storage_state_t *st) {
  if (!st) return;
  raft_entry_t *ents = (raft_entry_t *)st->entries;
  for (size_t i = 0; i < st->n_entries; i++) free(ents[i].data);
  free(ents);
  memset(st, 0, sizeof *st);
}

int raft_store_load(raft_store_t *s, raft_storage_state_t *st, rv_err_t *err) {
  memset(st, 0, sizeof *st);
  char *val;
  size_t vlen;
  int rc = s_get(s, "h", 1, &val, &vlen, err);
  if (rc) return rc;
  if (val) {
    if (vlen != 24) {
      rocksdb_free(val);
      return rv_err_set(err, RV_ECORRUPT, "raft log %s: hard state of %zu bytes (want 24)",
                        s->dir, vlen);
    }
    st->hard.term = s_get_le64((uint8_t *)val);
    st->hard.vote = s_get_le64((uint8_t *)val + 8);
    st->hard.commit = s_get_le64((uint8_t *)val + 16);
    rocksdb_free(val);
  }
  if ((rc = s_get(s, "s", 1, &val, &vlen, err))) return rc;
  if (val) {
    if (vlen < 17 || s_conf_decode(&st->snapshot.conf, (uint8_t *)val + 16, vlen - 16) != 0) {
      rocksdb_free(val);
      return rv_err_set(err, RV_ECORRUPT, "raft log %s: snapshot metadata does not decode", s->dir);
    }
    st->snapshot.index = s_get_le64((uint8_t *)val);
    st->snapshot.term = s_get_le64((uint8_t *)val + 8);
    rocksdb_free(val);
  }
  s->snapshot_index = st->snapshot.index;

  size_t cap = 1024, n = 0;
  raft_entry_t *ents = malloc(cap * sizeof *ents);
  if (!ents) return rv_err_set(err, RV_ENOMEM, "out of memory loading the raft log");
  rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->ropts);
  uint8_t start[9];
  s_entry_key(start, st->snapshot.index + 1);
  rc = RV_OK;
  for (rocksdb_iter_seek(it, (char *)start, sizeof start); rocksdb_iter_valid(it);
       rocksdb_iter_next(it)) {
    size_t klen;
    const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &klen);
    if (klen != 9 || k[0] != 'e') break;
    raft_index_t index = s_get_be64(k + 1);
    raft_index_t want = n ? ents[n - 1].index + 1 : st->snapshot.index + 1;
    if (index != want) {
      rc = rv_err_set(err, RV_ECORRUPT,
                      "raft log %s: entry %llu follows %llu: entries are missing; the log is "
                      "damaged (restore this node from its peers: wipe its data-dir)",
                      s->dir, (unsigned long long)index, (unsigned long long)(want - 1));
      break;
    }
    size_t vl;
    const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vl);
    if (vl < 9 || v[8] > RAFT_ENTRY_CONF) {
      rc = rv_err_set(err, RV_ECORRUPT, "raft log %s: entry %llu does not decode", s->dir,
                      (unsigned long long)index);
      break;
    }
    if (n == cap) {
      cap *= 2;
      raft_entry_t *bigger = realloc(ents, cap * sizeof *ents);
      if (!bigger) {
        rc = rv_err_set(err, RV_ENOMEM, "out of memory loading the raft log");
        break;
      }
      ents = bigger;
    }
    raft_entry_t *en = &ents[n];
    en->index = index;
    en->term = s_get_le64(v);
    en->type = (raft_entry_type_t)v[8];
    en->len = vl - 9;
    en->data = en->len ? malloc(en->len) : NULL;
    if (en->len) memcpy(en->data, v + 9, en->len);
    n++;
  }
  char *e = NULL;
  rocksdb_iter_get_error(it, &e);
  rocksdb_iter_destroy(it);
  if (e && rc == RV_OK) rc = s_rocks_err(err, e, "scan", s->dir);
  st->entries = ents;
  st->n_entries = n;
  if (rc) {
    raft_store_state_free(st);
    return rc;
  }
  s->first_index = n ? ents[0].index : 0;
  s->last_index = n ? ents[n - 1].index : st->snapshot.index;
  return RV_OK;
}

/* ---- writing ----------------------------------------------------------------------------- */

/* Deletes persisted entries in [from, to] within batch b. */
static void s_delete_entries(rocksdb_writebatch_t *b, raft_index_t from, raft_index_t to) {
  if (from == 0) from = 1;
  if (to < from) return;
  uint8_t k1[9], k2[9];
  if (to - from < S_POINT_DELETE_MAX) {
    for (raft_index_t i = from; i <= to; i++) {
      s_entry_key(k1, i);
      rocksdb_writebatch_delete(b, (char *)k1, sizeof k1);
    }
    return;
  }
  s_entry_key(k1, from);
  s_entry_key(k2, to + 1);
  rocksdb_writebatch_delete_range(b, (char *)k1, sizeof k1, (char *)k2, sizeof k2);
}

static void s_put_snapshot(rocksdb_writebatch_t *b, const raft_snapshot_meta_t *m) {
  uint8_t v[16 + 2 + 16 * RAFT_MAX_MEMBERS];
  s_put_le64(v, m->index);
  s_put_le64(v + 8, m->term);
  size_t n = 16 + s_conf_encode(&m->conf, v + 16);
  rocksdb_writebatch_put(b, "s", 1, (char *)v, n);
}

static int s_write(raft_store_t *s, rocksdb_writebatch_t *b, bool sync, rv_err_t *err) {
  char *e = NULL;
  rocksdb_write(s->db, sync ? s->wsync : s->wnosync, b, &e);
  rocksdb_writebatch_destroy(b);
  if (e) return s_rocks_err(err, e, "write", s->dir);
  return RV_OK;
}

int raft_store_save(raft_store_t *s, const raft_update_t *u, rv_err_t *err) {
  rocksdb_writebatch_t *b = rocksdb_writebatch_create();
  raft_index_t first = s->first_index, last = s->last_index;
  if (u->has_snapshot) {
    s_put_snapshot(b, &u->snapshot);
    if (first) s_delete_entries(b, first, last);
    first = 0;
    last = u->snapshot.index;
    s->snapshot_index = u->snapshot.index;
  }
  if (u->n_entries) {
    raft_index_t from = u->entries[0].index;
    if (first && from <= last) s_delete_entries(b, from, last);
    uint8_t key[9];
    for (size_t i = 0; i < u->n_entries; i++) {
      const raft_entry_t *en = &u->entries[i];
      size_t vlen = 9 + en->len;
      uint8_t stackbuf[512];
      uint8_t *v = vlen <= sizeof stackbuf ? stackbuf : malloc(vlen);
      if (!v) {
        rocksdb_writebatch_destroy(b);
        return rv_err_set(err, RV_ENOMEM, "out of memory writing the raft log");
      }
      s_put_le64(v, en->term);
      v[8] = (uint8_t)en->type;
      if (en->len) memcpy(v + 9, en->data, en->len);
      s_entry_key(key, en->index);
      rocksdb_writebatch_put(b, (char *)key, sizeof key, (char *)v, vlen);
      if (v != stackbuf) free(v);
    }
    if (!first || from < first) first = from;
    last = u->entries[u->n_entries - 1].index;
  }
  if (u->has_hard_state) {
    uint8_t v[24];
    s_put_le64(v, u->hard.term);
    s_put_le64(v + 8, u->hard.vote);
    s_put_le64(v + 16, u->hard.commit);
    rocksdb_writebatch_put(b, "h", 1, (char *)v, sizeof v);
  }
  if (rocksdb_writebatch_count(b) == 0) {
    rocksdb_writebatch_destroy(b);
    return RV_OK;
  }
  int rc = s_write(s, b, u->must_sync, err);
  if (rc == RV_OK) {
    s->first_index = first;
    s->last_index = last;
  }
  return rc;
}

int raft_store_compact(raft_store_t *s, const raft_snapshot_meta_t *meta, rv_err_t *err) {
  rocksdb_writebatch_t *b = rocksdb_writebatch_create();
  s_put_snapshot(b, meta);
  if (s->first_index && s->first_index <= meta->index)
    s_delete_entries(b, s->first_index, meta->index < s->last_index ? meta->index : s->last_index);
  int rc = s_write(s, b, true, err);
  if (rc == RV_OK) {
    s->snapshot_index = meta->index;
    if (s->first_index && s->first_index <= meta->index)
      s->first_index = meta->index < s->last_index ? meta->index + 1 : 0;
    if (s->last_index < meta->index) s->last_index = meta->index;
  }
  return rc;
}
