/* fence_store: the fencer's persisted requests, one file per request under
 * <data-dir>/fencer/requests/<id>.req, in fence_core's record format (I/O shell).
 * A record is written whole or not at all: written to <id>.req.new, fsynced, renamed over
 * <id>.req, and the directory fsynced; a leftover .new (a crash mid-write) is ignored. */
#ifndef FENCE_STORE_H
#define FENCE_STORE_H

#include "fence_core.h"
#include "rv_error.h"

/* Creates <data_dir>/fencer/requests (0700) if needed and puts its path in dir[len]. */
int fence_store_open(const char *data_dir, char *dir, size_t len, rv_err_t *err);

/* Writes req's record durably (see above). Returns 0 or RV_EIO with err. */
int fence_store_save(const char *dir, const fence_request_t *req, rv_err_t *err);

/* Removes the record of request id (absent is fine), durably. Returns 0 or RV_EIO. */
int fence_store_remove(const char *dir, const char *id, rv_err_t *err);

/* Reads every record, oldest id first, into out[0..max) (*n of them). A record that cannot be
 * read or parsed is renamed to <id>.req.bad and reported through bad(why, arg); it never stops
 * the others. Returns 0 or RV_EIO when the directory cannot be read. */
int fence_store_load(const char *dir, fence_request_t *out, int max, int *n,
                     void (*bad)(const char *why, void *arg), void *arg, rv_err_t *err);

#endif
