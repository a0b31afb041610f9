/* repl_worker: the thread that owns the replicator's backend handle (repl_backend.h) and runs
 * its blocking calls (network, fsync) one at a time, so that the actor's loop keeps answering
 * heartbeats and pings within milliseconds whatever the remote store does. I/O shell.
 *
 * One job at a time: submit while idle, then the result is announced on an eventfd the actor
 * polls (rv_actor_fd_add) and taken with repl_worker_take. The backend is opened by the worker at
 * its first job (opening may be a network call); RV_EINVAL from the open is a configuration
 * error the actor reports. A job that starts a new write, or that is not PUT/COMMIT, first
 * aborts a write left open by an earlier attempt. */
#ifndef REPL_WORKER_H
#define REPL_WORKER_H

#include <stdbool.h>

#include "repl_backend.h"
#include "repl_upload.h"

typedef struct repl_worker repl_worker_t;

typedef struct {
  uint64_t id;
  repl_op_kind_t kind;
  int rc;
  char message[RV_ERR_MSG_MAX];
  repl_meta_t meta;
  bool more;                /* TIDY: work left */
  bool open_failed;         /* the backend could not be opened (rc, message say why) */
} repl_worker_result_t;

/* Copies cfg (its strings included) and starts the thread. */
int repl_worker_new(const repl_backend_cfg_t *cfg, repl_worker_t **out, rv_err_t *err);
/* How long repl_worker_destroy waits for the thread (well under the default 3 s shutdown
 * timeout of an actor). */
#define REPL_WORKER_STOP_MS 2000

/* Stops the thread: the job in flight is cancelled (repl_backend_cfg_t.cancel: a Tablestore
 * request is aborted, no retry waits, a file write stops before its next file or fsync), then
 * waits at most REPL_WORKER_STOP_MS for the thread. A thread still stuck past that (a syscall
 * that does not return, such as a write to a hung NFS mount) is left to die with the process,
 * and its memory with it: the caller is about to exit (logged). An abandoned write never
 * committed, so the remote copy is unchanged. Nulls *w; safe on NULL. */
void repl_worker_destroy(repl_worker_t **w);
/* Readable when a result waits. */
int repl_worker_fd(const repl_worker_t *w);
bool repl_worker_busy(const repl_worker_t *w);
/* Starts op (a backend op of repl_upload.h). For REPL_OP_PUT, takes ownership of rows[n] and
 * arena (freed by the worker; both may be NULL when n is 0). RV_EBUSY when a job is running. */
int repl_worker_submit(repl_worker_t *w, const repl_op_t *op, repl_row_t **rows, size_t n,
                       void **arena);
/* Takes the finished job's result; false when none waits. Clears the eventfd. */
bool repl_worker_take(repl_worker_t *w, repl_worker_result_t *res);
/* repl_backend_describe of the open backend, or the endpoint before it is open (copied into
 * buf). */
void repl_worker_describe(repl_worker_t *w, char *buf, size_t len);

#endif
