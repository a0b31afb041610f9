/* kv_actor: the kv-store actor (I/O shell) around the pure namespace core (kv_core) and its
 * RocksDB store (kv_rocks, at <data-dir>/kv). It serves the client protocol (messages/kv.proto)
 * on this node's client-port and talks to the local raft-peer (messages/raft.proto):
 *
 *   kv-store -> raft-peer  ApplyFrom(durable + 1) on start, and again whenever raft-peer has been
 *                          silent (no RaftState) for a while: it may have restarted;
 *                          ProposeBatch: every write that arrived in one loop wake-up, in one
 *                          message (each hop costs a wake-up of ~40 us: batch across hops);
 *                          ReadIndexRequest: likewise, every linearizable read of a wake-up;
 *                          Applied(index): every ~100 ms, what is durable in RocksDB.
 *   raft-peer -> kv-store  ProposeResult (refusals at once: not-leader, busy; accepted
 *                          proposals' index and term only at raft-peer's tick when no ApplyBatch
 *                          took them), ApplyBatch (committed entries, in order, and the outcomes
 *                          of the accepted proposals since the last one, taken in first: an
 *                          outcome arrives before or with its entry, messages/raft.proto),
 *                          ReadIndexResult, RaftState.
 *   Snapshots (kv_snapshot.c): SnapshotRequest{id, offset} -> SnapshotData{pairs, last, applied}
 *                          (leader: the next ~1 MiB of one consistent RocksDB view);
 *                          SnapshotInstall{id, offset, pairs, last} -> SnapshotInstalled{applied}
 *                          (follower: written into <data-dir>/kv.snap, swapped in atomically on
 *                          the last chunk; then ApplyFrom(applied + 1) as after a restart).
 *
 *   Replica (kv_repl.c, messages/repl.proto; ots-replicator -> kv-store, while ots.enabled):
 *                          ReplChangesRequest{stream, page, after_index} -> ReplChanges{rows,
 *                          from_index, to_index, last, base_copy_needed}, ReplBaseCopyRequest ->
 *                          ReplBaseCopy (pages of one consistent RocksDB view each), ReplTrim ->
 *                          ReplStatus, ReplStatusRequest -> ReplStatus (the change log's bytes,
 *                          oldest index, whether a base copy is needed).
 *
 * Writes (leader only; a follower answers ENOTLEADER with the leader's client address, a
 * redirect that the client follows: HDFS' failover proxy does the same, and it keeps one hop
 * off the write path instead of forwarding through the follower): the leader stamps its wall
 * clock into the command (the mtime every replica records), encodes it with the client's id and
 * seq, proposes, and remembers the index and term raft-peer assigned. When that index is
 * applied, the client gets the command's result if the applied entry has the remembered term;
 * otherwise (another leader's entry took the index) a retriable error, and the client's retry
 * with the same id and seq is made exactly-once by the replicated session table.
 * Reads: linearizable by ReadIndex (Raft thesis §6.4) on any node, served once the applied
 * index reaches the read index; with the stale flag, served at once from local state. The
 * digest read (FS_DIGEST) hashes the whole namespace on the loop (O(namespace), a tool for
 * checks), and answers with this node's applied index.
 * Apply: each ApplyBatch is one kv_core_apply_batch, without fsync (the Raft log is the durable
 * record); about every 100 ms the next write syncs the WAL (an idle store is flushed instead)
 * and raft-peer learns the durable index (Applied), which bounds its log compaction.
 * Leadership changes: requests that a deposed leader (or a node whose leader changed) cannot
 * finish get a retriable error. Health: unhealthy, with the reason, while RocksDB writes fail
 * (the batch is asked for again every second). */
#ifndef KV_ACTOR_H
#define KV_ACTOR_H

#include "rv_actor.h"

extern const rv_actor_def_t kv_actor_def;

/* The actor's state; opaque to main.c, which allocates it and frees it after rv_actor_main. */
typedef struct kv_actor kv_actor_t;
kv_actor_t *kv_actor_new(void);
void kv_actor_destroy(kv_actor_t **s);

#endif
