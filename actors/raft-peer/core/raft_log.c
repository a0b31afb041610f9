/* raft_log: the in-memory view of one node's log. Pure.
 *
 * Holds the compaction point (snapshot index/term/conf) and every entry after it, plus the
 * indexes that say which prefix is durable (stable), committed and applied. The shell owns the
 * durable copy; this view is what the protocol reads. Entries' data are owned here; data of
 * dropped entries goes to a graveyard because in-flight messages may still point at it (see
 * raft_ready.c). Misuse (an index out of range that the callers must have checked) asserts. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "raft_internal.h"

void raft_log_init(raft_log_t *log, const raft_snapshot_meta_t *snap) {
  memset(log, 0, sizeof *log);
  log->snap = *snap;
  log->stable = snap->index;
  log->committed = snap->index;
  log->applied = snap->index;
}

static void s_bury(raft_log_t *log, uint8_t *data) {
  if (!data) return;
  if (log->n_grave == log->cap_grave) {
    log->cap_grave = log->cap_grave ? 2 * log->cap_grave : 16;
    log->grave = raft_xrealloc(log->grave, log->cap_grave * sizeof *log->grave);
  }
  log->grave[log->n_grave++] = data;
}

void raft_log_close(raft_log_t *log) {
  for (size_t k = 0; k < log->n; k++) free(log->ents[k].data);
  free(log->ents);
  raft_log_grave_free_all(log);
  free(log->grave);
  memset(log, 0, sizeof *log);
}

void raft_log_grave_release(raft_log_t *log, size_t n) {
  assert(n <= log->n_grave);
  if (n == 0) return;
  for (size_t k = 0; k < n; k++) free(log->grave[k]);
  memmove(log->grave, log->grave + n, (log->n_grave - n) * sizeof *log->grave);
  log->n_grave -= n;
  log->n_grave_handed = log->n_grave_handed > n ? log->n_grave_handed - n : 0;
}

void raft_log_grave_free_all(raft_log_t *log) {
  raft_log_grave_release(log, log->n_grave);
}

raft_index_t raft_log_first_index(const raft_log_t *log) { return log->snap.index + 1; }

raft_index_t raft_log_last_index(const raft_log_t *log) { return log->snap.index + log->n; }

raft_term_t raft_log_last_term(const raft_log_t *log) {
  return log->n ? log->ents[log->n - 1].term : log->snap.term;
}

raft_entry_t *raft_log_entry(const raft_log_t *log, raft_index_t index) {
  if (index <= log->snap.index || index > raft_log_last_index(log)) return NULL;
  return &log->ents[index - log->snap.index - 1];
}

int raft_log_term(const raft_log_t *log, raft_index_t index, raft_term_t *term) {
  if (index == log->snap.index) {
    *term = log->snap.term;
    return 0;
  }
  const raft_entry_t *e = raft_log_entry(log, index);
  if (!e) return RV_ENOTFOUND;
  *term = e->term;
  return 0;
}

bool raft_log_match_term(const raft_log_t *log, raft_index_t index, raft_term_t term) {
  raft_term_t t;
  return raft_log_term(log, index, &t) == 0 && t == term;
}

/* §5.4.1: "Raft determines which of two logs is more up-to-date by comparing the index and term
 * of the last entries in the logs. If the logs have last entries with different terms, then the
 * log with the later term is more up-to-date. If the logs end with the same term, then whichever
 * log is longer is more up-to-date." */
bool raft_log_is_up_to_date(const raft_log_t *log, raft_index_t last_index,
                            raft_term_t last_term) {
  raft_term_t my_term = raft_log_last_term(log);
  return last_term > my_term ||
         (last_term == my_term && last_index >= raft_log_last_index(log));
}

/* Drops entries at index >= from (data to the graveyard). */
static void s_truncate(raft_log_t *log, raft_index_t from) {
  assert(from > log->snap.index);
  size_t keep = (size_t)(from - log->snap.index - 1);
  for (size_t k = keep; k < log->n; k++) s_bury(log, log->ents[k].data);
  log->n = keep;
  if (log->stable >= from) log->stable = from - 1;
}

static void s_push(raft_log_t *log, const raft_entry_t *e, const void *data) {
  if (log->n == log->cap) {
    log->cap = log->cap ? 2 * log->cap : 64;
    log->ents = raft_xrealloc(log->ents, log->cap * sizeof *log->ents);
  }
  raft_entry_t *d = &log->ents[log->n++];
  *d = *e;
  d->index = raft_log_last_index(log);
  d->data = NULL;
  if (e->len) {
    d->data = raft_xmalloc(e->len);
    memcpy(d->data, data, e->len);
  }
}

raft_index_t raft_log_append(raft_log_t *log, const raft_entry_t *ents, size_t n) {
  if (n == 0) return 0;
  raft_index_t from = ents[0].index;
  /* §5.3: "If an existing entry conflicts with a new one, delete the existing entry and all that
   * follow it" - but never a committed one (§5.4: committed entries are permanent). */
  assert(from > log->committed && from <= raft_log_last_index(log) + 1);
  if (from <= raft_log_last_index(log)) s_truncate(log, from);
  for (size_t k = 0; k < n; k++) {
    assert(ents[k].index == from + k);
    s_push(log, &ents[k], ents[k].data);
  }
  return from;
}

raft_index_t raft_log_append_new(raft_log_t *log, raft_term_t term, raft_entry_type_t type,
                                 const void *data, size_t len) {
  raft_entry_t e = {.term = term, .type = type, .len = len};
  s_push(log, &e, data);
  return raft_log_last_index(log);
}

raft_index_t raft_log_find_conflict(const raft_log_t *log, const raft_entry_t *ents, size_t n) {
  for (size_t k = 0; k < n; k++) {
    /* Entries at or below the compaction point are committed, hence equal (§5.4.3). */
    if (ents[k].index <= log->snap.index) continue;
    if (!raft_log_match_term(log, ents[k].index, ents[k].term)) return ents[k].index;
  }
  return 0;
}

void raft_log_find_conflict_by_term(const raft_log_t *log, raft_index_t index, raft_term_t term,
                                    raft_index_t *out_index, raft_term_t *out_term) {
  for (; index > 0; index--) {
    raft_term_t t;
    if (raft_log_term(log, index, &t) != 0) {
      /* Compacted: it may match, the term is unknown. */
      *out_index = index;
      *out_term = 0;
      return;
    }
    if (t <= term) {
      *out_index = index;
      *out_term = t;
      return;
    }
  }
  *out_index = 0;
  *out_term = 0;
}

void raft_log_commit_to(raft_log_t *log, raft_index_t index) {
  /* The commit index never decreases (§5.3). */
  if (index <= log->committed) return;
  assert(index <= raft_log_last_index(log));
  log->committed = index;
}

size_t raft_log_slice(const raft_log_t *log, raft_index_t lo, size_t max_n, uint64_t max_bytes,
                      const raft_entry_t **out) {
  raft_index_t last = raft_log_last_index(log);
  *out = NULL;
  if (lo > last) return 0;
  assert(lo > log->snap.index);
  const raft_entry_t *base = &log->ents[lo - log->snap.index - 1];
  size_t avail = (size_t)(last - lo + 1), n = 0;
  uint64_t bytes = 0;
  while (n < avail && n < max_n) {
    bytes += base[n].len;
    if (n > 0 && bytes > max_bytes) break;
    n++;
  }
  *out = base;
  return n;
}

void raft_log_restore(raft_log_t *log, const raft_snapshot_meta_t *snap) {
  for (size_t k = 0; k < log->n; k++) s_bury(log, log->ents[k].data);
  log->n = 0;
  log->snap = *snap;
  log->stable = snap->index;
  log->committed = snap->index;
  /* applied moves when the shell has installed the snapshot (raft_core_advance). */
}

void raft_log_compact(raft_log_t *log, const raft_snapshot_meta_t *snap) {
  assert(snap->index > log->snap.index && snap->index <= log->applied);
  assert(snap->index <= raft_log_last_index(log));
  size_t drop = (size_t)(snap->index - log->snap.index);
  for (size_t k = 0; k < drop; k++) s_bury(log, log->ents[k].data);
  memmove(log->ents, log->ents + drop, (log->n - drop) * sizeof *log->ents);
  log->n -= drop;
  log->snap = *snap;
  if (log->stable < snap->index) log->stable = snap->index;
}
