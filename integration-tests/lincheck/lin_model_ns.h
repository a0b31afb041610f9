/* lin_model_ns: the namespace model, one path at a time.
 *
 * The sequential specification of the single-path operations `raftvisor fs` offers, as the
 * kv-store applies them (actors/kv-store/core/kv_ops_create.c, kv_ops_remove.c, kv_read.c).
 * The state of one path is absent | directory | file(content):
 *
 *   op      input                 absent             directory        file(c)
 *   mkdir   path                  ok -> dir          EEXIST           EEXIST
 *   put     path value            ok -> file(value)  EISDIR           EEXIST (ok -> file(value)
 *                                                                      with "overwrite":true)
 *   touchz  path                  ok -> file("")     EISDIR           ok if c == "", else EEXIST
 *   rm      path                  ENOTFOUND          ok -> absent     ok -> absent
 *   cat     path -> value_out     ENOTFOUND          EISDIR           ok, value_out c
 *   stat    path -> value_out     ENOTFOUND          ok, "dir"        ok, "file"
 *
 * The model is partitioned by path, which is sound only while the paths of a history are
 * independent objects. Therefore:
 *  - operations spanning two paths (mv, rm -r, mkdir -p of several levels, put -p) are OUTSIDE
 *    this model: their histories cannot be checked per path and are refused (the op names are
 *    unknown to it);
 *  - every path must have an existing parent directory that the history does not touch: the
 *    test workload pre-creates a parent (e.g. /lin) and works on single-level paths under it
 *    (/lin/f0 .. /lin/f99), so ENOTFOUND/ENOTDIR of a missing parent cannot occur;
 *  - no path of a history may be an ancestor of another (validate_history refuses /lin/a with
 *    /lin/a/b), so a directory in the model never has children and rm of it succeeds
 *    (ENOTEMPTY cannot occur).
 * Paths must be absolute, without empty components, "." or "..", or a trailing slash, and not
 * the root: they are compared as strings, so one file must have one spelling.
 *
 * Reads and failed operations have no effect (lin_model_t.no_effect): never-returned reads are
 * dropped, and the search linearizes the others as soon as they fit.
 * Pure: libc and rv_common only. */
#ifndef LIN_MODEL_NS_H
#define LIN_MODEL_NS_H

#include "lin_model.h"

/* Operation codes (lin_input_t.op); names in history files in brackets. */
typedef enum {
  LIN_NS_MKDIR = 1,  /* "mkdir" */
  LIN_NS_PUT = 2,    /* "put"; LIN_F_OVERWRITE with "overwrite":true */
  LIN_NS_TOUCHZ = 3, /* "touchz" */
  LIN_NS_RM = 4,     /* "rm" (not -r) */
  LIN_NS_CAT = 5,    /* "cat" */
  LIN_NS_STAT = 6    /* "stat" */
} lin_ns_op_t;

/* The model; static, never freed. */
extern const lin_model_t lin_model_ns;

#endif
