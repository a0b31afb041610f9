/* srv_fault.h: faults on demand for rv-ots-server, driven by a small text file that the server
 * re-reads whenever it changes (inode, size or mtime), so a test replaces it (write a new file,
 * rename it over the old) and the next request sees the new plan. Counters restart with every
 * new version of the file. One directive per line, '#' starts a comment:
 *
 *   busy N|P%            503 OTSServerBusy "Server is busy."       (next N requests / P percent)
 *   partition N|P%       503 OTSPartitionUnavailable "The partition is not available."
 *   timeout N|P%         503 OTSTimeout "Operation timeout."
 *   unavailable N|P%     503 OTSServerUnavailable "Server is not available."
 *   conflict N|P%        409 OTSRowOperationConflict "Data is being modified by the other request."
 *   quota N|P%           403 OTSQuotaExhausted "Too frequent table operations."
 *   rowfail N I[,I..] [CODE]  the next N BatchWriteRow requests: rows at these request indices
 *                        (0-based over all tables) fail with CODE (OTSPartitionUnavailable)
 *   delay MS [N]         wait MS ms before answering (the next N requests, or all)
 *   drop N|P%            read the request, then close the connection without an answer
 *   blackhole            accept and read requests, never answer (until the file changes)
 *   corrupt md5|sig|crc N|P%  run the request, then damage its answer: md5 = an
 *                        x-ots-contentmd5 that is not the body's; sig = an Authorization signed
 *                        with another secret; crc = the body's last byte flipped (in a GetRow
 *                        answer, the row checksum of its PlainBuffer), MD5 and signature made
 *                        over the damaged body (a server bug, not transit damage)
 *
 * Any line may end with `action=NAME` to apply only to that operation (e.g. action=PutRow).
 * Percentages draw from a generator seeded by RV_OTS_FAULT_SEED (default 1). A file that does
 * not parse makes every request fail with 500 and the parse error, so a typo cannot pass
 * silently. Thread-safe. */
#ifndef SRV_FAULT_H
#define SRV_FAULT_H
#include <stdbool.h>
#include <stddef.h>

#include "srv.h"

typedef struct srv_fault srv_fault_t;

enum { SRV_CORRUPT_MD5 = 1, SRV_CORRUPT_SIG = 2, SRV_CORRUPT_CRC = 3 };

/* What to do with one request. */
typedef struct {
  int delay_ms;          /* wait this long first (0 = none) */
  bool drop;             /* close without answering */
  bool blackhole;        /* never answer */
  int http;              /* != 0: answer this error instead of running the request */
  char code[48];
  char msg[512];
  srv_rowfail_t rowfail; /* BatchWriteRow row failures */
  int corrupt;           /* SRV_CORRUPT_*: damage the answer (0 = none) */
  char what[64];         /* short description for the request log, "" when no fault */
} srv_fault_plan_t;

/* path may be NULL (no faults ever). Caller owns; never fails but on memory exhaustion (NULL). */
srv_fault_t *srv_fault_new(const char *path);
void srv_fault_destroy(srv_fault_t **f);
/* Decides the faults for one request of `action`. */
void srv_fault_decide(srv_fault_t *f, const char *action, srv_fault_plan_t *plan);

#endif
