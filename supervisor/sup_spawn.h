/* sup_spawn: starting an actor process (I/O shell). fork, then in the child only
 * async-signal-safe calls: its own process group (so a terminal's Ctrl-C reaches the
 * supervisor alone, which then stops the actors in order), PR_SET_PDEATHSIG and a check that
 * the parent is still alive, stdout and stderr to the actor's log file, the signal mask and
 * dispositions reset, then execve. No ZeroMQ context crosses the fork: the child execs at once
 * (ZeroMQ's descriptors are close-on-exec). An exec failure is reported back through a
 * close-on-exec pipe, so "cannot execute X: No such file" reaches the operator. */
#ifndef SUP_SPAWN_H
#define SUP_SPAWN_H

#include <sys/types.h>

#include "cfg_node.h"

/* The program that runs actor a: a->exec if set, else raftvisor-<name> beside the running
 * raftvisor binary. Writes it to buf. */
void sup_spawn_program(const cfg_actor_t *a, char *buf, size_t len);

/* Checks that every configured actor's program exists and is executable, before anything
 * starts. Returns 0 or RV_ECONFIG naming the actor and the path. */
int sup_spawn_check_programs(const cfg_node_t *cfg, rv_err_t *err);

/* Starts actor a of the node cfg (whose YAML is at config_path, absolute). On success *pid is
 * the child's pid and 0 is returned; otherwise RV_EIO with err saying why (fork failed, exec
 * failed, log file not writable). */
int sup_spawn_actor(const cfg_node_t *cfg, const cfg_actor_t *a, const char *config_path,
                    pid_t *pid, rv_err_t *err);

/* The size of actor's log file (<log-dir>/<actor>.log) now; 0 if it does not exist. */
off_t sup_spawn_log_size(const cfg_node_t *cfg, const char *actor);

/* The reason actor gave for failing, from what it wrote to its log since offset from: the message
 * of its last error line (text "<time> <node> <actor> error <message>", or a JSON line with
 * "level":"error"), or else its last line that is not a log line (what it printed before its log
 * was set up). out gets "" when there is none. */
void sup_spawn_exit_note(const cfg_node_t *cfg, const char *actor, off_t from, char *out,
                         size_t len);

#endif
