/* lin_jsonl: history files, one JSON object per line.
 *
 * The format (what the integration-test workload writes, what rv-lincheck reads). One line per
 * operation, completed or not, in any order; blank lines are skipped:
 *
 *   {"client":3,"op":"put","path":"/lin/f7","value":"c3-41","call_us":1700000000123456,
 *    "return_us":1700000000124001,"result":"ok"}
 *   {"client":5,"op":"cat","path":"/lin/f7","call_us":...,"return_us":...,"result":"ok",
 *    "value_out":"c3-41"}
 *   {"client":2,"op":"rm","path":"/lin/f7","call_us":...,"return_us":null}
 *
 *   client     integer >= 0, required. The client that issued it; each client is sequential.
 *   op         string, required. The model's op name (namespace: mkdir put touchz rm cat stat;
 *              register: read write cas).
 *   path       string: the object (the register model calls this field "key"). Required by
 *              the namespace model.
 *   value      string or null: the content written (put, write, cas).
 *   expect     string or null: cas only, the expected current value (null: never written).
 *   overwrite  true or false: put only; true is `fs -put -f` (replace an existing file).
 *   call_us    integer >= 0, required: when the client sent it (microseconds, any one clock
 *              shared by all clients).
 *   return_us  integer >= call_us, or null, required: when the answer arrived; null when none
 *              did (timeout, lost connection, client killed): the operation may or may not
 *              have taken effect, at any time after its call.
 *   result     string, required unless return_us is null: "ok" or an error code name from
 *              rv_error.h ("EEXIST", "ENOTFOUND", "EISDIR", "ESTALE"). Only results the model
 *              can produce are accepted; record an ambiguous outcome (ETIMEDOUT, EUNAVAIL, a
 *              lost leader) with return_us null, and leave out operations that surely failed
 *              without effect (rejected before being proposed).
 *   value_out  string or null: what a read returned (cat: the content; stat: "file" or "dir";
 *              read: the value, null when never written).
 *
 * Keys the format does not name are ignored when their value is a string, number, true, false
 * or null (a workload may add "node" or "seq" for its own use); a key given twice, a nested
 * object or array, a fraction or exponent, a raw control character in a string, or "\u0000" is
 * an error. Strings are JSON strings (escapes, \uXXXX with surrogate pairs, stored as UTF-8).
 * Errors name the file, line and column: "h.jsonl:12:31: call_us: expected an integer".
 *
 * Pure: libc and rv_common only (the caller reads the file). */
#ifndef LIN_JSONL_H
#define LIN_JSONL_H

#include <stddef.h>

#include "lin_history.h"
#include "lin_model.h"
#include "rv_error.h"

/* Parses text[0..len) (need not be NUL-terminated) and appends its operations to h, checking
 * each with m->validate. name (e.g. the file name) starts every error message. Returns RV_OK,
 * RV_EINVAL (err names the line) or RV_ENOMEM; on error h holds the lines before the bad one. */
int lin_jsonl_parse(lin_history_t *h, const lin_model_t *m, const char *text, size_t len,
                    const char *name, rv_err_t *err);

/* Writes op as one line of the format (without the newline), snprintf-style into buf: returns
 * the length the whole line needs. Parsing the line gives op back. */
size_t lin_jsonl_format(const lin_op_t *op, const lin_model_t *m, char *buf, size_t cap);

#endif
