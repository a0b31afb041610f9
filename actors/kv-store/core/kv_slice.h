/* kv_slice: how much of the committed entries waiting in kv-store one apply slice takes, so that
 * no apply holds the actor's loop longer than about KV_SLICE_TARGET_MS (issue 11: heartbeats,
 * health pings and client replies are served between slices).
 *
 * An apply's time grows with the keys it writes and the bytes it copies, not with the number of
 * entries: one RecoveryRows command of 1 MiB writes some 12,000 keys, a create writes a handful.
 * So each entry gets a cost (kv_slice_cost: keys estimated from the command itself, bytes = its
 * length) and a slice is the longest prefix of the waiting entries whose summed cost stays
 * within the limits (kv_slice_take), but always at least one entry: an entry is never cut here
 * (its apply is one atomic store write, with the applied index, as kv_core.h requires), so the
 * producers keep single entries within the bound (the recovery loader's command size).
 *
 * The slices change nothing of what is applied, in which order or with which results: only how
 * many entries go into one kv_core_apply_batch (one store write), which is already free to vary
 * (raft-peer's ApplyBatch sizes vary with load). Pure: libc and kv_cmd only. */
#ifndef KV_SLICE_H
#define KV_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits of one slice, measured on this project's 2-core test host (kv-store's README): a key
 * written by an apply costs some 2-5 us of CPU (decode, checks, batch, RocksDB memtable), so
 * 8,192 keys stay near 20-40 ms; the byte bound keeps a slice of big contents (puts of a few MiB)
 * to one memcpy-bound write of a few ms. */
#define KV_SLICE_MAX_ENTRIES 2048   /* entries per slice (raft-peer's ApplyBatch holds as many) */
#define KV_SLICE_MAX_KEYS 8192      /* estimated keys written per slice */
#define KV_SLICE_MAX_BYTES (2u << 20) /* command bytes per slice */

/* Estimated keys a client command writes beyond its rows: its dentry and attributes, the
 * parent's attributes, the session, the meta key, and one per ancestor above the parent for the
 * subtree totals: 8 for a file four levels down (/a/b/c/f), with content one more. Deeper paths
 * write more, but their ancestors are the keys that the commands of a slice share: each is
 * written once per slice, not once per command. (16 until 2026-12-05, when a slice held at most
 * 256 entries: a follower's kv-store spent a quarter more CPU per file of a bulk load than with
 * slices of 1,024 creates; main README, Benchmarks.) */
#define KV_SLICE_CMD_KEYS 8

typedef struct {
  size_t max_entries, max_keys, max_bytes;
} kv_slice_limits_t;

typedef struct {
  size_t keys;  /* estimated keys the entry writes */
  size_t bytes; /* the entry's command bytes */
} kv_slice_cost_t;

/* The default limits above. */
void kv_slice_limits_default(kv_slice_limits_t *lim);

/* The cost of one entry (data borrowed, len bytes; raft_only: an empty or configuration entry,
 * which writes only the applied index). Never fails: a command that does not decode costs what
 * its apply costs (a recorded failure: one key). */
kv_slice_cost_t kv_slice_cost(const uint8_t *data, size_t len, bool raft_only);

/* How many of the n entries (costs in order) the next slice takes: the longest prefix within
 * every limit, at least 1 when n > 0 (an entry over a limit alone is a slice of its own), 0 when
 * n == 0. */
size_t kv_slice_take(const kv_slice_cost_t *costs, size_t n, const kv_slice_limits_t *lim);

#endif
