/* lin_model_reg: a register model (read, write, compare-and-set), partitioned by key.
 *
 * The classic object of linearizability checkers' own tests (Porcupine's and Knossos' suites
 * use it), here for this library's tests and for `rv-lincheck --model register`. A register
 * starts never written (value NULL; in files, "value_out":null). Values are strings.
 *
 *   op     input                   answer
 *   read   key -> value_out        ok, value_out the current value (null: never written)
 *   write  key value               ok -> value
 *   cas    key expect value        ok -> value if the current value equals expect (null: never
 *                                  written); ESTALE (unchanged) otherwise
 *
 * Pure: libc and rv_common only. */
#ifndef LIN_MODEL_REG_H
#define LIN_MODEL_REG_H

#include "lin_model.h"

typedef enum {
  LIN_REG_READ = 1,  /* "read" */
  LIN_REG_WRITE = 2, /* "write" */
  LIN_REG_CAS = 3    /* "cas" */
} lin_reg_op_t;

/* The model; static, never freed. */
extern const lin_model_t lin_model_reg;

#endif
