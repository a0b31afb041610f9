/* repl_actor: the ots-replicator actor (issue 9): the shell around repl_upload (the pure upload
 * state machine). It learns Raft's role and term from raft-peer's RaftState, talks to its node's
 * kv-store (ReplChanges / ReplBaseCopy pages, ReplTrim with the uploader's report), runs the
 * backend on a worker thread (repl_worker.h), and reports the replica's state to the
 * health-monitor (ReplStatus, for the replica-lag check) and in its own health note
 * (`raftvisor status`). In recovery mode (ots.recovery-mode) it uploads nothing. */
#ifndef REPL_ACTOR_H
#define REPL_ACTOR_H

#include "rv_actor.h"

typedef struct repl_actor repl_actor_t;

extern const rv_actor_def_t repl_actor_def;

repl_actor_t *repl_actor_new(void);
void repl_actor_destroy(repl_actor_t **s);

#endif
