/* kv_apply: committed entries from raft-peer (ApplyBatch) into the namespace, in bounded slices
 * (issue 11). I/O shell.
 *
 * An ApplyBatch is copied into a queue of waiting entries; a slice takes the longest prefix of
 * the queue within kv_slice.h's limits (entries, estimated keys, bytes: at least one entry) and
 * applies it with one kv_core_apply_batch (one RocksDB write holding the changes and the applied
 * index, exactly as before); what remains waits for the next loop turn (a one-shot timer), so
 * heartbeats, health pings, client requests and replies are served between slices. Nothing about
 * exactly-once changes: the core applies entries in order, in one atomic write per slice (changes
 * and applied index together), and skips what its applied index already covers; a crash between
 * slices loses only entries that raft-peer still holds (nothing above `durable` was reported)
 * and sends again. One exception to "whole entries": a RecoveryRows command alone over the key
 * bound is applied in parts of at most KV_SLICE_MAX_KEYS rows (kv_core_apply_part): the applied
 * index and the recovery cursor move only with its last part, and a crash in between applies it
 * again from its first row (kv_recovery.h says why that is exactly once).
 *
 * The queue is bounded by raft-peer's window (S_APPLY_WINDOW entries beyond the last `taken`):
 * `taken` (Applied) is reported only for applied entries, so raft-peer sends no more than the
 * window however slowly the slices go. It is dropped whenever the intake restarts (ApplyFrom,
 * a store reopened or replaced by a snapshot). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv_actor_int.h"

/* CPU time of this thread (us): what a slice costs whatever else the host runs. */
static uint64_t s_cpu_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Tells raft-peer what is taken in, so its window of entries in flight moves on. */
static void s_ack_taken(kv_actor_t *s) {
  Rv__Applied ap = RV__APPLIED__INIT;
  ap.index = s->durable;
  ap.taken = s->applied;
  if (rv_actor_send(s->a, "raft-peer", RV_MSG_APPLIED, &ap.base, 0) == RV_OK &&
      s->durable > s->reported)
    s->reported = s->durable;
}

/* Drops an entry's reference to its batch's bytes. */
static void s_ent_release(kv_apply_ent_t *e) {
  if (e->blk && --e->blk->refs == 0) free(e->blk);
  e->blk = NULL;
  e->data = NULL;
}

static void s_pend_free(kv_apply_q_t *q) {
  for (size_t i = q->head; i < q->n; i++) s_ent_release(&q->e[i]);
  q->head = q->n = 0;
}

void kv_apply_reset(kv_actor_t *s) { s_pend_free(&s->aq); }

void kv_apply_close(kv_actor_t *s) {
  kv_apply_reset(s);
  if (s->aq.timer) rv_actor_timer_cancel(s->a, s->aq.timer);
  s->aq.timer = 0;
  free(s->aq.e);
  free(s->aq.cost);
  free(s->aq.ents);
  free(s->aq.res);
  memset(&s->aq, 0, sizeof s->aq);
}

/* Room for more entries at the end (moving the waiting ones to the front first). */
static bool s_reserve(kv_apply_q_t *q, size_t more) {
  if (q->head > 0) {
    memmove(q->e, q->e + q->head, (q->n - q->head) * sizeof *q->e);
    memmove(q->cost, q->cost + q->head, (q->n - q->head) * sizeof *q->cost);
    q->n -= q->head;
    q->head = 0;
  }
  if (q->n + more <= q->cap) return true;
  size_t cap = q->cap ? q->cap : 256;
  while (cap < q->n + more) cap *= 2;
  kv_apply_ent_t *e = realloc(q->e, cap * sizeof *e);
  if (!e) return false;
  q->e = e;
  kv_slice_cost_t *c = realloc(q->cost, cap * sizeof *c);
  if (!c) return false;
  q->cost = c;
  q->cap = cap;
  return true;
}

/* A leader's clients get their outcomes before the slice's RocksDB write, which takes a
 * quarter of a slice's CPU: at 40 creates a slice, as at 64 clients, that is about a quarter of
 * a millisecond less for each of them to wait. It is safe because the outcomes are decided: the
 * entries are committed (in the Raft logs of a majority), and the core applies them the same way
 * whenever it applies them. If the write fails, the core goes back to its last written state
 * and the entries apply again (kv_store_failed); nothing moves `applied` before the write is
 * done, so a read after the answer still waits for the entry to be in the store (its read index
 * covers it); and the write follows in the same handler, before any read is taken. */
static void s_answer_early(kv_actor_t *s, const kv_apply_ent_t *first, const kv_result_t *res,
                           size_t n) {
  /* a follower's slice (1,024 entries) has no one to answer: no lookups before the write */
  if (!kv_clients_writes_waiting(s)) return;
  bool answered = false;
  for (size_t i = 0; i < n; i++)
    if (first[i].type == 0)
      answered |= kv_clients_answer_early(s, first[i].index, first[i].term, &res[i]);
  if (answered && s->clients) rv_listener_flush(s->clients);
}

/* Applies the next slice of the queue; true when entries remain. */
static bool s_slice(kv_actor_t *s) {
  kv_apply_q_t *q = &s->aq;
  if (s->store_retry_ms || !s->core || s->halted) return false; /* waiting to ask again */
  size_t waiting = q->n - q->head;
  if (waiting == 0) return false;
  kv_slice_limits_t lim;
  kv_slice_limits_default(&lim);
  size_t n = kv_slice_take(q->cost + q->head, waiting, &lim);
  kv_apply_ent_t *first = q->e + q->head;
  if (n > q->scratch_cap) { /* the slice's arrays, kept from one slice to the next */
    size_t cap = n < 256 ? 256 : n;
    kv_entry_t *e = realloc(q->ents, cap * sizeof *e);
    if (e) q->ents = e;
    kv_result_t *r = e ? realloc(q->res, cap * sizeof *r) : NULL;
    if (r) q->res = r;
    if (!e || !r) {
      rv_error("out of memory applying %zu entries; asking again later", n);
      s->store_retry_ms = kv_now_ms() + KV_STORE_RETRY_MS;
      return false;
    }
    q->scratch_cap = cap;
  }
  kv_entry_t *ents = q->ents;
  kv_result_t *res = q->res;
  for (size_t i = 0; i < n; i++)
    ents[i] = (kv_entry_t){.index = first[i].index, .data = first[i].data, .len = first[i].len,
                           .raft_only = first[i].type != 0};
  rv_err_t err;
  unsigned long long writes_before = kv_rocks_writes(s->rocks);
  uint64_t t0 = rv_mono_us(), c0 = s_cpu_us();
  /* an entry alone over the key bound (a RecoveryRows command of many rows) goes in parts */
  bool complete = true;
  int rc;
  if (n == 1 && q->cost[q->head].keys > lim.max_keys) {
    rc = kv_core_apply_part(s->core, ents, lim.max_keys, res, &complete, &err);
  } else {
    kv_core_prefetch(s->core, ents, n); /* the new names, read in one go (kv_core.h) */
    if (!(rc = kv_core_apply_batch_unwritten(s->core, ents, n, res, &err))) {
      s_answer_early(s, first, res, n);
      rc = kv_core_write_applied(s->core, &err);
    }
  }
  uint64_t slice_us = rv_mono_us() - t0, slice_cpu_us = s_cpu_us() - c0;
  size_t keys;
  uint64_t took = kv_rocks_last_write_us(s->rocks, &keys);
  if (kv_rocks_writes(s->rocks) != writes_before) { /* the health check's slow-I/O input */
    s->last_write_at_us = rv_mono_us();
    s->last_write_us = took;
    if (took >= KV_SLOW_WRITE_US) {
      char why[256];
      kv_rocks_describe_stall(s->rocks, why, sizeof why);
      rv_warn("a RocksDB write of %zu keys (%zu entries) took %llu ms: %s", keys, n,
              (unsigned long long)(took / 1000), why);
    }
  }
  s->slices++;
  if (slice_us > s->slice_max_us) s->slice_max_us = slice_us;
  if (slice_cpu_us > s->slice_cpu_max_us) s->slice_cpu_max_us = slice_cpu_us;
  if (slice_us >= KV_SLICE_SLOW_US && rv_mono_us() - s->slice_logged_us >= 1000000) {
    s->slice_logged_us = rv_mono_us(); /* at most one line a second */
    size_t est = 0;
    for (size_t i = 0; i < n; i++) est += q->cost[q->head + i].keys;
    rv_info("an apply slice of %zu entries (%zu estimated keys) took %llu ms (%llu ms of CPU), "
            "its RocksDB write of %zu keys %llu ms (longest slice so far %llu ms, most CPU %llu "
            "ms; %llu slices, %llu parts)", n, est, (unsigned long long)(slice_us / 1000),
            (unsigned long long)(slice_cpu_us / 1000),
            keys, (unsigned long long)(took / 1000),
            (unsigned long long)(s->slice_max_us / 1000),
            (unsigned long long)(s->slice_cpu_max_us / 1000),
            (unsigned long long)s->slices, (unsigned long long)s->parts);
  }
  if (rc == RV_ECONFIG) {
    /* a command of a newer build (kv_feature.h): skipping it would make this replica differ
     * from the others, and no restart can apply it: stop for good, saying why (the log line
     * becomes the node's stop reason) */
    rv_error("%s", err.msg);
    s->halted = true;
    rv_actor_stop(s->a, RV_EXIT_CONFIG);
    s_pend_free(q); /* the slice's arrays (ents, res) are the queue's own: freed there */
    return false;
  }
  if (rc) {
    kv_store_failed(s, &err);
  } else {
    if (s->store_error[0]) rv_info("RocksDB writes succeed again");
    s->store_error[0] = '\0';
    s->last_apply_ms = kv_now_ms();
    if (!complete) { /* a part: the entry is applied (and answered) once its last part is */
      s->parts++;
      return true;
    }
    kv_repl_applied(s);
    bool ack = false;
    for (size_t i = 0; i < n; i++) {
      const kv_apply_ent_t *e = &first[i];
      s->applied = e->index;
      s->applied_term = e->term;
      s->applied_term_index = e->index;
      kv_clients_applied(s, e->index, e->term, e->type != 0 ? NULL : &res[i]);
      ack |= e->ack;
    }
    for (size_t i = 0; i < n; i++) s_ent_release(&first[i]);
    q->head += n;
    if (q->head == q->n) q->head = q->n = 0;
    kv_reads_serve(s);
    if (ack) s_ack_taken(s);
  }
  return !rc && q->n > q->head;
}

static void s_on_slice(rv_actor_t *a, void *arg);

/* The next slice on the next loop turn (after what the loop has waiting: heartbeats, pings,
 * client requests), unless one is already due. */
static void s_schedule(kv_actor_t *s) {
  if (s->aq.timer) return;
  int id = rv_actor_timer_add(s->a, 0, 1, s_on_slice, s);
  if (id < 0) { /* cannot happen short of memory: the tick's ApplyFrom starts again */
    rv_error("cannot add the apply timer; asking raft-peer for the entries again");
    s->store_retry_ms = kv_now_ms() + KV_STORE_RETRY_MS;
    return;
  }
  s->aq.timer = id;
}

static void s_on_slice(rv_actor_t *a, void *arg) {
  (void)a;
  kv_actor_t *s = arg;
  s->aq.timer = 0; /* a one-shot timer: gone once it ran */
  if (s_slice(s)) s_schedule(s);
}

void kv_apply_take(kv_actor_t *s, const Rv__ApplyBatch *b) {
  if (s->store_retry_ms || s->halted) return; /* waiting to ask again after a failed write */
  kv_apply_q_t *q = &s->aq;
  bool idle = q->n == q->head;
  uint64_t last = idle ? s->applied : q->e[q->n - 1].index;
  size_t k = 0;
  while (k < b->n_entries && b->entries[k]->index <= last) k++; /* seen already */
  if (k == b->n_entries) {
    if (b->ack) {
      if (idle) s_ack_taken(s);
      else q->e[q->n - 1].ack = true; /* once what waits is applied */
    }
    return;
  }
  if (b->entries[k]->index != last + 1) {
    /* a gap: a batch sent before our last ApplyFrom; the resent entries will follow */
    rv_debug("ignored entries from %llu (expected %llu)",
             (unsigned long long)b->entries[k]->index, (unsigned long long)last + 1);
    return;
  }
  if (!s_reserve(q, b->n_entries - k)) {
    rv_error("out of memory taking %zu entries; asking again later", b->n_entries - k);
    s->store_retry_ms = kv_now_ms() + KV_STORE_RETRY_MS;
    return;
  }
  /* the bytes of every entry taken, in one block (one allocation, not one per entry) */
  size_t bytes = 0;
  for (size_t i = k; i < b->n_entries; i++) bytes += b->entries[i]->data.len;
  kv_apply_blk_t *blk = NULL;
  if (bytes && !(blk = malloc(sizeof *blk + bytes))) {
    rv_error("out of memory taking %zu entries; asking again later", b->n_entries - k);
    s->store_retry_ms = kv_now_ms() + KV_STORE_RETRY_MS;
    return;
  }
  if (blk) blk->refs = 1; /* ours, while we fill it */
  size_t off = 0;
  for (size_t i = k; i < b->n_entries; i++) {
    const Rv__RaftEntry *e = b->entries[i];
    if (i > k && e->index != b->entries[i - 1]->index + 1) {
      rv_warn("ApplyBatch is not contiguous at %llu; ignoring the rest",
              (unsigned long long)e->index);
      break;
    }
    uint8_t *data = NULL;
    if (e->data.len) {
      data = blk->data + off;
      memcpy(data, e->data.data, e->data.len);
      off += e->data.len;
      blk->refs++;
    }
    /* a command; empty and configuration entries are Raft's own: they only move the applied
     * index (written with the slice), so applied reaches commit on an idle cluster */
    q->e[q->n] = (kv_apply_ent_t){.index = e->index, .term = e->term, .type = e->type,
                                  .data = data, .len = e->data.len,
                                  .blk = data ? blk : NULL};
    q->cost[q->n] = kv_slice_cost(data, e->data.len, e->type != 0);
    q->n++;
  }
  if (blk && --blk->refs == 0) free(blk); /* no entry took any of it */
  if (b->ack) q->e[q->n - 1].ack = true;
  /* an idle queue applies its first slice at once (the common case: one small batch, no added
   * latency); anything left, or anything arriving behind waiting entries, waits for the timer */
  if (!idle || s_slice(s)) s_schedule(s);
}
