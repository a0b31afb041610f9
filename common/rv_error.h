/* rv_error: the one table of error codes, and an error buffer that gains context on its way up.
 *
 * Every function in raftvisor that can fail returns int: 0 (RV_OK) or a code from RV_ERRORS.
 * The detail goes into an rv_err_t that the caller owns; each layer that passes an error up may
 * prefix its own context, so the message that reaches the user reads outside-in:
 *   "node.yaml:12:5: cluster.peers[1].raft-port: expected 1..65535, got \"abc\""
 * Pure: libc only, so every core may link it. */
#ifndef RV_ERROR_H
#define RV_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* X(NAME, number, stable text). The numbers are a contract: they cross the wire in replies and
 * are printed by the CLI, so a code is never renumbered, only added. */
#define RV_ERRORS(X)                                                                 \
  X(OK, 0, "ok")                                                                     \
  X(EINVAL, 1, "invalid argument")                                                   \
  X(ECONFIG, 2, "configuration error")                                               \
  X(ENOMEM, 3, "out of memory")                                                      \
  X(EIO, 4, "I/O error")                                                             \
  X(ENOTFOUND, 5, "not found")                                                       \
  X(EEXIST, 6, "already exists")                                                     \
  X(ETIMEDOUT, 7, "timed out")                                                       \
  X(ETOOBIG, 8, "too large")                                                         \
  X(EDECODE, 9, "malformed message")                                                 \
  X(EUNAVAIL, 10, "unavailable")                                                     \
  X(ENOTLEADER, 11, "not the leader")                                                \
  X(EBUSY, 12, "busy, retry later")                                                  \
  X(ENOTDIR, 13, "not a directory")                                                  \
  X(EISDIR, 14, "is a directory")                                                    \
  X(ENOTEMPTY, 15, "directory not empty")                                            \
  X(ENOSPACE, 16, "no space left on device")                                         \
  X(ECLOSED, 17, "closed")                                                           \
  X(EAGAIN, 18, "temporarily unavailable, retry")                                    \
  X(EREADONLY, 19, "read-only")                                                      \
  X(EFENCED, 20, "fenced: a newer writer holds the fencing token")                   \
  X(ESTALE, 21, "stale term or cluster")                                             \
  X(ERUNNING, 22, "already running")                                                 \
  X(ENOTRUNNING, 23, "not running")                                                  \
  X(EPROTO, 24, "protocol error")                                                    \
  X(ECORRUPT, 25, "corrupt data")                                                    \
  X(EPERM, 26, "permission denied")                                                  \
  X(EINTERNAL, 27, "internal error")                                                 \
  X(EFEATURE, 70, "a node runs a build that does not know this command")             \
  X(ERECOVERY, 25021, "Namespace is under recovery mode, and is read-only.")

/* RV_EFEATURE: the leader refuses a command that some member of the cluster could not apply
 * (its build's feature level is below the command's: actors/kv-store/core/kv_feature.h); the
 * message names the level and the nodes below it. Not retriable: upgrade those nodes. (70: the
 * first of the block 70-79 this feature numbers its wire values in.)
 *
 * RV_ERECOVERY keeps the number JindoFS gives this condition (25021), so scripts written for it
 * keep matching. A write refused because the cluster is being rebuilt from the off-cluster
 * replica carries exactly this message (printed by `raftvisor fs` as it is): */
#define RV_ERECOVERY_MSG \
  "ErrorCode : 25021 , ErrorMsg: Namespace is under recovery mode, and is read-only."

typedef enum {
#define RV_ERROR_ENUM(name, num, text) RV_##name = num,
  RV_ERRORS(RV_ERROR_ENUM)
#undef RV_ERROR_ENUM
} rv_code_t;

/* Process exit codes: a contract between every actor, the supervisor and the CLI.
 * A signal (WIFSIGNALED) means a crash. */
enum {
  RV_EXIT_OK = 0,          /* clean stop: a transient actor is not restarted */
  RV_EXIT_FAILURE = 1,     /* failure (CLI: the command failed; node: stopped on an error) */
  RV_EXIT_USAGE = 2,       /* bad command line */
  RV_EXIT_NOT_RUNNING = 3, /* CLI: the addressed node is not running */
  RV_EXIT_TEMPFAIL = 75,   /* temporary failure (EX_TEMPFAIL): restart with backoff */
  RV_EXIT_CONFIG = 78      /* configuration error (EX_CONFIG): restarting cannot help */
};

#define RV_ERR_MSG_MAX 1024

/* An error: a code and a human message. Embedded by value in the caller's frame; never heap. */
typedef struct {
  int code;                  /* RV_OK or an rv_code_t */
  char msg[RV_ERR_MSG_MAX];  /* NUL-terminated; "" when code is RV_OK */
} rv_err_t;

/* Resets err to RV_OK with an empty message. err may be NULL (then nothing happens). */
void rv_err_clear(rv_err_t *err);

/* Sets err to code with a printf-style message and returns code, so a failing path reads
 * `return rv_err_set(err, RV_EINVAL, "...")`. err may be NULL (the code is still returned). */
int rv_err_set(rv_err_t *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int rv_err_vset(rv_err_t *err, int code, const char *fmt, va_list ap);

/* Prefixes context to err's message ("ctx: old message"); returns err->code. Truncates safely. */
int rv_err_prefix(rv_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The stable name ("EINVAL") and text of a code; "EUNKNOWN"/"unknown error" for other numbers.
 * Borrowed static strings. */
const char *rv_code_name(int code);
const char *rv_code_text(int code);

#endif
