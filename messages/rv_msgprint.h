/* rv_msgprint: renders any registered message as one line of JSON or text, driven by the
 * protobuf-c descriptors, so taps and logs print every message type without per-type code. */
#ifndef RV_MSGPRINT_H
#define RV_MSGPRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "rv_codec.h"

/* Writes body as a compact JSON object ({"seq":3,"actors":[...]}) to f. Bytes fields print as
 * {"len":N} (contents may be large or secret). Enums print by name. */
void rv_msgprint_body_json(FILE *f, const ProtobufCMessage *body);

/* Writes a decoded envelope as one line (no newline): in JSON when json, else as
 *   2026-11-22T00:10:00.123456Z [n1/health-monitor/out] n1/health-monitor -> n1/supervisor
 *   HealthReport #12 {...}
 * (one line). tap is the tap topic that carried it ("<node>/<observer>/<in|out>") or NULL. */
void rv_msgprint_line(FILE *f, const rv_msg_t *m, const char *tap, bool json);

#endif
