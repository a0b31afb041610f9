/* lin_report: the human-readable account of a failed check.
 *
 * For the failing partition it lists the longest linearizable prefix the search found (each
 * operation with the state after it), the state there, the completed operation that had to
 * take effect before it returned, and every candidate that could have come next with why it
 * did not ("impossible in this state", or, for an operation that never returned, "fits this
 * state, but no linearization continues from it"). Long lists keep their end, where the
 * failure is.
 * Pure: libc and rv_common only. */
#ifndef LIN_REPORT_H
#define LIN_REPORT_H

#include "lin_check.h"

#define LIN_REPORT_PREFIX_MAX 40 /* prefix operations shown (the last ones) */
#define LIN_REPORT_STUCK_MAX 40  /* candidates shown */
#define LIN_REPORT_OP_MAX 400    /* bytes of one operation's text; longer is cut with "..." */

/* Writes r's report into *out (caller frees): the text above for LIN_NOT_LINEARIZABLE, ""
 * otherwise. r's indices must refer to h; m must be the model r was checked with. Returns
 * RV_OK or RV_ENOMEM. */
int lin_report_format(const lin_result_t *r, const lin_history_t *h, const lin_model_t *m,
                      char **out);

/* One operation as a report line: "client 3  put /d/a \"x\" -> ok  [line 4, 100..250 us]"
 * (never-returned operations: "[..., 100.. never]"), snprintf-style into buf. */
size_t lin_report_op(const lin_op_t *op, const lin_model_t *m, char *buf, size_t cap);

#endif
