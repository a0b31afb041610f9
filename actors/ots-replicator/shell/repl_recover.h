/* repl_recover: the recovery loader inside the ots-replicator actor (issue 9, "Recovery of a new
 * cluster"): the I/O shell around core/repl_recover_core.h.
 *
 * Where things run:
 *  - the actor's loop: the state machine, the RecoveryCommand / RecoveryAnswer exchange with the
 *    node's kv-store (messages/recovery.proto, corr = the core's ticket), the chunks held until
 *    their ROWS are answered, a poll of kv-store every second (RECOVERY_STATE: whether this
 *    node leads, and the replicated state), the rate and ETA it reports with its commands;
 *  - a worker thread (a czmq zactor): every backend call (repl_backend_read_meta, the scans of
 *    repl_recover_scan.h), which block on the network or the disk, so the loop keeps answering
 *    heartbeats. The worker opens the backend at its first job; jobs and results travel as
 *    pointers over the zactor's inproc pipe.
 * Only the leader's replicator loads (kv-store says who leads); a follower's is idle. Losing the
 * lead, a restart of this actor or of kv-store, a lost answer: the core resyncs from the
 * replicated state (its cursor), so nothing is applied twice and nothing is skipped.
 *
 * Modes: load (ots.recovery-mode on) or leave (ots.recovery-mode off, replica on: the
 * published way out: a FINISHed recovery is left by the leader; a RUNNING one is refused, and
 * the loader's status says why, in its log and in `status`).
 *
 * Use from the actor's main.c: repl_recover_new in start, repl_recover_message first in the
 * message handler (true = it was the loader's), repl_recover_destroy in stop. */
#ifndef REPL_RECOVER_H
#define REPL_RECOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg_node.h"
#include "rv_actor.h"

typedef struct repl_recover repl_recover_t;

/* Starts the loader for actor a (borrowed, as cfg, for the loader's lifetime). leave: leave mode
 * (see above). Returns 0 and *out (caller owns; repl_recover_destroy), or RV_ENOMEM / RV_EIO
 * (err says which). The backend is opened by the worker, later: a bad endpoint shows in the
 * status, retried. */
int repl_recover_new(rv_actor_t *a, const cfg_node_t *cfg, bool leave, repl_recover_t **out,
                     rv_err_t *err);
/* Stops the worker (waits for the backend call in progress, bounded by the backend's own
 * timeouts), frees everything; nulls *r; safe on NULL. */
void repl_recover_destroy(repl_recover_t **r);
/* Handles m when it is the loader's (a RecoveryAnswer); returns false otherwise. */
bool repl_recover_message(repl_recover_t *r, const rv_msg_t *m);
/* This cluster's epoch (kv-store's replicated recovery state, kv_recovery.h) as the last poll
 * of kv-store (every second, on every node) gave it: true with *epoch when the recovery state
 * is none (epoch 0) or LEFT on a store kv-store has open; false before the first answer and
 * while a recovery is RUNNING or FINISHed and not left (the uploader must not claim then). */
bool repl_recover_epoch(const repl_recover_t *r, uint64_t *epoch);
/* One line for logs and health notes: "recovery load: 120000/1500000 rows, 52000 rows/s, eta
 * 27 s" or the reason it waits. Borrowed until the next call into r. */
const char *repl_recover_describe(repl_recover_t *r);

#endif
