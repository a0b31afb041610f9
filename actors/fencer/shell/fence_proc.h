/* fence_proc: one fencing method run as a child process (I/O shell).
 *
 * The child runs in its own session and process group (setsid), so that a timeout kills the
 * whole group, grandchildren included, and a terminal's signals never reach it; its stdin is
 * /dev/null, or a pipe holding `input` (sshfence sends its remote script that way); its stdout
 * and stderr are pipes that the actor's loop reads without blocking; its exit is seen through a
 * pidfd in the same loop. The environment carries RV_FENCE_REQUEST=<request id>, which lets a
 * restarted fencer recognise (and kill) a group that its dead predecessor left running. */
#ifndef FENCE_PROC_H
#define FENCE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "rv_error.h"

#define FENCE_PROC_LINE_MAX 1024 /* longer output lines are logged in pieces */

typedef struct fence_proc fence_proc_t;

/* What to run. Borrowed for the call only. */
typedef struct {
  char *const *argv;        /* argv[0] is looked up in PATH */
  char *const *envp;        /* the whole environment */
  const char *input;        /* stdin's content, or NULL for /dev/null */
  size_t input_len;         /* at most a pipe's capacity (64 KiB) */
} fence_proc_spec_t;

/* Starts spec. Returns 0 with *out (caller owns; fence_proc_destroy), or RV_EIO with err. */
int fence_proc_start(const fence_proc_spec_t *spec, fence_proc_t **out, rv_err_t *err);

/* The child's pid, which is also its process group id. */
pid_t fence_proc_pid(const fence_proc_t *p);

/* Its stdout, stderr and pidfd (-1 once closed), to poll for readability. Borrowed. */
int fence_proc_fd(const fence_proc_t *p, int which); /* 1 stdout, 2 stderr, 0 the pidfd */

/* Reads what fd `which` (1 or 2) holds without blocking and calls line(text, arg) for each
 * complete line (and, at EOF, for what is left). Returns true at EOF (the fd is then closed). */
bool fence_proc_read(fence_proc_t *p, int which, void (*line)(const char *text, int which,
                                                             void *arg),
                     void *arg);

/* Reaps the child if it has exited: returns true with *status (waitpid's) set, after killing
 * what is left of its process group (a method's leftovers do not outlive it). */
bool fence_proc_reap(fence_proc_t *p, int *status);

/* Kills the whole process group with SIGKILL. */
void fence_proc_kill(fence_proc_t *p);

/* Kills the group (if still running), reaps, closes everything; nulls *p; safe on NULL. */
void fence_proc_destroy(fence_proc_t **p);

/* Kills process group pgid when its leader still carries RV_FENCE_REQUEST=id in its
 * environment (a group left by a dead fencer; a reused pid is left alone). Returns true when it
 * was killed. */
bool fence_proc_kill_stale(pid_t pgid, const char *id);

#endif
