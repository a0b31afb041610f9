/* sup_lock: one supervisor per node. The supervisor holds a POSIX write lock on
 * <run-dir>/supervisor.lock for its whole life; the kernel releases it when the process dies,
 * however it dies, so a stale pid file can never block a restart. F_GETLK lets the CLI ask who
 * holds it without taking it (no race with a supervisor that is starting). */
#ifndef SUP_LOCK_H
#define SUP_LOCK_H

#include <stdbool.h>
#include <sys/types.h>

#include "cfg_node.h"

/* Takes the node's lock and writes our pid into the file. Returns 0 with *fd open (keep it open;
 * never open and close the file elsewhere in this process: that would drop a POSIX lock), or
 * RV_ERUNNING naming the holder's pid, or RV_EIO. */
int sup_lock_acquire(const cfg_node_t *cfg, int *fd, rv_err_t *err);

/* The pid of the supervisor holding the node's lock: 0 and *pid set; RV_ENOTRUNNING; or
 * RV_EPERM when this user may not read the run directory (then whether it runs is unknown). */
int sup_lock_holder(const cfg_node_t *cfg, pid_t *pid, rv_err_t *err);

/* True if pid exists and is not a zombie (state Z in /proc/PID/stat counts as dead: a killed
 * orphan lingers there until PID 1 reaps it). */
bool sup_pid_alive(pid_t pid);

#endif
