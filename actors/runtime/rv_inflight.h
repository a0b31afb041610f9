/* rv_inflight: how many requests each connection of a port has in flight, capped (pure: libc
 * only, no sockets, no clock).
 *
 * A port's owner takes a slot when it accepts a request it cannot answer at once (kv-store: a
 * write waiting for its Raft commit, a read waiting for its read index) and gives it back when
 * the request is answered, whatever the answer (success, error, leader change, timeout, the
 * connection gone). A connection at its cap gets no slot: its request is answered at once with
 * the retriable busy error. Connections are named by their ZeroMQ routing id (bytes); a
 * connection holding no slot costs nothing (its entry is freed), so connections that come and
 * go leave nothing behind.
 *
 * Contract: every successful rv_inflight_take is matched by exactly one rv_inflight_give for the
 * same id; a give without a take is a caller's bug (asserted). */
#ifndef RV_INFLIGHT_H
#define RV_INFLIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "rv_error.h"

typedef struct rv_inflight rv_inflight_t;

/* A table capping each connection at cap requests in flight (cap >= 1). Returns NULL when out
 * of memory. Caller owns it. */
rv_inflight_t *rv_inflight_new(unsigned cap);

/* Frees the table; nulls *t; safe on NULL and twice. */
void rv_inflight_destroy(rv_inflight_t **t);

/* Takes a slot for connection id[0..len) (len 1..255). Returns RV_OK; RV_EBUSY when the
 * connection holds cap slots already (counted in rv_inflight_refused; nothing taken); RV_ENOMEM
 * when a new entry cannot be allocated (nothing taken). */
int rv_inflight_take(rv_inflight_t *t, const uint8_t *id, size_t len);

/* Gives back a slot taken by rv_inflight_take for the same id. */
void rv_inflight_give(rv_inflight_t *t, const uint8_t *id, size_t len);

/* Slots held now by connection id (0 for one unknown). */
unsigned rv_inflight_held(const rv_inflight_t *t, const uint8_t *id, size_t len);

/* Slots held now by every connection together; connections holding at least one; takes refused
 * since the table was made; the cap. */
uint64_t rv_inflight_total(const rv_inflight_t *t);
size_t rv_inflight_conns(const rv_inflight_t *t);
uint64_t rv_inflight_refused(const rv_inflight_t *t);
unsigned rv_inflight_cap(const rv_inflight_t *t);

#endif
