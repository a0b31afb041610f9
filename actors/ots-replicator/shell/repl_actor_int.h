/* repl_actor_int: the replicator actor's state, shared by its shell files (repl_actor.c: life
 * cycle, role, worker; repl_actor_kv.c: the kv-store messages and reports). */
#ifndef REPL_ACTOR_INT_H
#define REPL_ACTOR_INT_H

#include "repl_actor.h"
#include "repl_recover.h"
#include "repl_upload.h"
#include "repl_worker.h"

struct repl_actor {
  rv_actor_t *a;
  const cfg_node_t *cfg;
  bool recovery;            /* ots.recovery-mode: no uploads (the recovery loader's turn) */
  repl_recover_t *recover;  /* the recovery loader (repl_recover.h): load mode with
                               ots.recovery-mode, else leave mode (leaves a FINISHed recovery) */
  repl_upload_t core;
  repl_worker_t *worker;
  /* a backend op the core started while the worker was still busy with a stale one */
  bool queued;
  repl_op_t queued_op;
  /* the rows of the last kv page the core took, until REPL_OP_PUT hands them to the worker */
  repl_row_t *page_rows;
  size_t page_n;
  void *page_arena;
  /* Raft, as raft-peer last published it */
  bool raft_known;
  char role[24];
  uint64_t term, commit;
  /* kv-store's change log, from its last ReplStatus answer */
  bool log_known;
  uint64_t log_live_bytes, log_applied, log_floor;
  bool log_enabled;
  int64_t last_state_request_ms;
  char describe[CFG_PATH_MAX + 16];
};

/* repl_actor.c */
int64_t repl_actor_now_ms(void);
void repl_actor_carry_out(repl_actor_t *s, const repl_update_t *u);

/* repl_actor_kv.c */
void repl_actor_kv_send(repl_actor_t *s, const repl_op_t *op);
void repl_actor_kv_changes(repl_actor_t *s, const rv_msg_t *m);
void repl_actor_kv_base(repl_actor_t *s, const rv_msg_t *m);
void repl_actor_kv_status(repl_actor_t *s, const rv_msg_t *m);
void repl_actor_send_trim(repl_actor_t *s, uint64_t below);
void repl_actor_page_free(repl_actor_t *s);

#endif
