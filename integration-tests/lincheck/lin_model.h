/* lin_model: what the linearizability checker knows about the object under test.
 *
 * An operation is an input (what the client asked) and an output (what it was told). A model is
 * the object's sequential specification, given as a table of functions: an initial state, and
 * step(state, input, output) -> "could a sequential object in `state` have answered `output`,
 * and what state would it be in then". The checker (lin_check.h) searches for an order of the
 * operations, consistent with real time, in which every step succeeds.
 *
 * States are plain values of `state_size` bytes that the checker copies with memcpy, stores in
 * its memo cache and compares only through `equal` and `hash`; they must own no memory (a
 * string in a state is borrowed from the history, which outlives every check). This is the
 * one place the library uses `void *`: the checker is generic over the state's layout, as
 * qsort is over its elements.
 *
 * P-compositionality (Herlihy & Wing, 1990, section 3.3): a history is linearizable iff each of
 * its sub-histories on independent objects is. `partition` names the object an input touches;
 * the checker splits the history by that key and checks each part alone, which turns one
 * exponential search into many small ones.
 *
 * Pure: libc and rv_common only. */
#ifndef LIN_MODEL_H
#define LIN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rv_error.h"

/* Input flags (lin_input_t.flags). */
#define LIN_F_OVERWRITE 0x01u /* namespace put: replace an existing file (`fs -put -f`) */

/* What the client asked. Strings are NUL-terminated; in a history they are interned and owned
 * by the history (lin_history.h), so equal strings are usually, not necessarily, one pointer. */
typedef struct {
  int op;             /* model-specific operation code (lin_ns_op_t, lin_reg_op_t) */
  unsigned flags;     /* LIN_F_* */
  const char *key;    /* the object: a path, a register name; "" when the model has one */
  const char *value;  /* the value written (put, write, cas new value), or NULL */
  const char *expect; /* cas: the expected current value (NULL = never written), else NULL */
} lin_input_t;

/* What the client was told. Meaningless for an operation that never returned. */
typedef struct {
  int result;        /* RV_OK or an rv_code_t (RV_EEXIST, RV_ENOTFOUND, ...) */
  const char *value; /* the value read (cat, read), "file"/"dir" (stat), or NULL */
} lin_output_t;

typedef struct lin_history lin_history_t;

/* A sequential specification. Every function must be deterministic and pure. Functions marked
 * optional may be NULL. */
typedef struct {
  const char *name;      /* "namespace", "register": what --model selects */
  const char *key_field; /* the history file's field holding lin_input_t.key: "path", "key" */
  size_t state_size;     /* bytes of one state; > 0; states are stored 8-byte aligned */

  /* Writes the state every partition starts from into state (state_size bytes). */
  void (*init)(void *state);

  /* One sequential step. out == NULL means the operation never returned: its answer is
   * unknown, so step applies the operation as the specification says and returns true when
   * the operation can take effect at all. Otherwise returns true iff an object in `state`
   * answers exactly `out` to `in`. On true, writes the state after the operation into `next`
   * (never the same memory as `state`); on false, `next` is unspecified. */
  bool (*step)(const void *state, const lin_input_t *in, const lin_output_t *out, void *next);

  /* State equality and a hash consistent with it (equal states hash equal). */
  bool (*equal)(const void *a, const void *b);
  uint64_t (*hash)(const void *state);

  /* Optional. The partition key of an input (borrowed from in or static); operations with
   * equal keys (strcmp) are checked together. NULL: the whole history is one partition. */
  const char *(*partition)(const lin_input_t *in);

  /* Optional. True when the operation, answering `out`, leaves every state it is legal in
   * unchanged: a read, or a write that failed (EEXIST, ENOTFOUND, a failed cas). With out ==
   * NULL (never returned): true only when that holds whatever the answer (a read). Must be
   * exact for the search to stay sound: never true for an answer that can change a state.
   * The checker uses it twice (lin_check.h): a never-returned no-effect operation constrains
   * nothing and is dropped; a completed one the model accepts now can be linearized now without
   * trying the alternatives, since moving it earlier never breaks a linearization. */
  bool (*no_effect)(const lin_input_t *in, const lin_output_t *out);

  /* Operation names in history files: op_parse maps a name to a code (RV_OK, or RV_EINVAL for
   * an unknown name), op_name the reverse (a borrowed static string, "op?" when unknown). */
  int (*op_parse)(const char *name, int *op);
  const char *(*op_name)(int op);

  /* Checks one recorded operation before any search: the fields its op needs are there, and
   * (when it returned, pending false) its result is one the specification can produce for that
   * op at all. Returns RV_OK, or RV_EINVAL with err saying what is wrong (the caller adds the
   * line). A result outside the model (EIO, ENOTLEADER) is bad input, not a violation: record
   * an ambiguous outcome as never returned, and leave out operations that definitely failed
   * without effect. */
  int (*validate)(const lin_input_t *in, const lin_output_t *out, bool pending, rv_err_t *err);

  /* Optional. Checks the history as a whole (e.g. the namespace model refuses nested paths,
   * which its per-path partitions cannot express). RV_OK or RV_EINVAL with err set. */
  int (*validate_history)(const lin_history_t *h, rv_err_t *err);

  /* Human-readable text of an operation ("put /d/a \"x\" -> ok"; out == NULL: never returned)
   * and of a state ("file \"x\""), snprintf-style: writes at most cap bytes including the NUL
   * and returns the length the whole text needs. */
  size_t (*describe_op)(const lin_input_t *in, const lin_output_t *out, char *buf, size_t cap);
  size_t (*describe_state)(const void *state, char *buf, size_t cap);
} lin_model_t;

/* Helpers for models. */

/* String equality where NULL equals only NULL. */
bool lin_str_equal(const char *a, const char *b);

/* A 64-bit hash of a string (FNV-1a, then a finalizer); NULL hashes to a constant. */
uint64_t lin_str_hash(const char *s);

/* Appends s to buf as a JSON-style quoted string ("x\"y", control bytes as \u00XX), or `null`
 * when s is NULL, snprintf-style into buf[*len .. cap); *len grows by the full length even past
 * cap, so callers can size a second attempt. Used by describe functions and the JSON writer. */
void lin_str_quote(char *buf, size_t cap, size_t *len, const char *s);

/* snprintf-style append: formats into buf[*len .. cap) and adds the full length to *len. */
void lin_str_appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
