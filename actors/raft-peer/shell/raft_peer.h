/* raft_peer: the raft-peer actor's shell around the pure Raft core. It owns the node's Raft log
 * (raft_store, segment files under <data-dir>/raft), the tcp links to the other nodes' raft-peers
 * (rv_peers), the Raft clock (a timer every raft.tick-ms), and the conversation with the local
 * kv-store:
 *   kv-store -> raft-peer  ProposeBatch (commands to append), ReadIndexRequest, ApplyFrom (after
 *                          its start: "send me committed entries from index N"), Applied (what it
 *                          has made durable, which bounds log compaction)
 *   raft-peer -> kv-store  ProposeResult (at once: refusals, not-leader with a hint; at a tick:
 *                          accepted proposals' index/term no ApplyBatch carried yet), ApplyBatch
 *                          (committed entries, in order, contiguous, and the index/term of every
 *                          proposal accepted since the last message, to take in first: a
 *                          kv-store wake-up less per write, messages/raft.proto),
 *                          ReadIndexResult, RaftState
 * and for snapshots (raft_snap_stream.c has the whole protocol): as leader, SnapshotRequest ->
 * SnapshotData (the kv-store's state, a chunk at a time) relayed to the follower's raft-peer as
 * SnapshotChunk, flow-controlled by its SnapshotAck; as follower, SnapshotInstall (each chunk, in
 * order) -> SnapshotInstalled, after which the MsgSnap is stepped into the core and persisted.
 * Each core update is carried out in the order the core's contract requires: messages that may
 * go early, then one batched write + fdatasync of the log, then the messages that must wait for
 * it, then committed entries to kv-store, then advance. A failed write (disk full) keeps the
 * update and retries on the next tick; nothing that depends on it is sent meanwhile, and the
 * actor reports itself unhealthy with the reason. */
#ifndef RAFT_PEER_H
#define RAFT_PEER_H

#include "rv_actor.h"

extern const rv_actor_def_t raft_peer_def;

/* The actor's state; opaque to main.c, which only allocates it. */
typedef struct raft_peer raft_peer_t;
raft_peer_t *raft_peer_new(void);

#endif
