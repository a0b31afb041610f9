/* rv_msgtypes: the registry of message types that may travel in an envelope.
 *
 * One X-macro table: name, wire number, protobuf-c descriptor. The number is a contract (it
 * crosses sockets and appears in taps): never renumber, only add. Ranges by component:
 *   1-99 runtime and control, 100-199 health, 200-299 raft, 300-399 kv, 400-499 replication,
 *   500-599 fencing and HA. */
#ifndef RV_MSGTYPES_H
#define RV_MSGTYPES_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "control.pb-c.h"
#include "fence.pb-c.h"
#include "ha.pb-c.h"
#include "kv.pb-c.h"
#include "raft.pb-c.h"
#include "recovery.pb-c.h"
#include "repl.pb-c.h"

#define RV_MSGTYPES(X)                                              \
  X(READY, 1, rv__ready__descriptor)                                \
  X(HEARTBEAT, 2, rv__heartbeat__descriptor)                        \
  X(HEARTBEAT_ACK, 3, rv__heartbeat_ack__descriptor)                \
  X(STATUS_REQUEST, 10, rv__status_request__descriptor)             \
  X(STATUS_REPLY, 11, rv__status_reply__descriptor)                 \
  X(STOP_REQUEST, 12, rv__stop_request__descriptor)                 \
  X(STOP_REPLY, 13, rv__stop_reply__descriptor)                     \
  X(RESTART_REQUEST, 14, rv__restart_request__descriptor)           \
  X(REPLY, 15, rv__reply__descriptor)                               \
  X(BAD_FRAME, 16, rv__bad_frame__descriptor)                       \
  X(HEALTH_PING, 100, rv__health_ping__descriptor)                  \
  X(HEALTH_PONG, 101, rv__health_pong__descriptor)                  \
  X(HEALTH_REPORT, 102, rv__health_report__descriptor)              \
  X(RAFT_BATCH, 200, rv__raft_batch__descriptor)                    \
  X(SNAPSHOT_CHUNK, 201, rv__snapshot_chunk__descriptor)            \
  X(SNAPSHOT_ACK, 202, rv__snapshot_ack__descriptor)                \
  X(SNAPSHOT_REQUEST, 203, rv__snapshot_request__descriptor)        \
  X(SNAPSHOT_DATA, 204, rv__snapshot_data__descriptor)              \
  X(SNAPSHOT_INSTALL, 205, rv__snapshot_install__descriptor)        \
  X(SNAPSHOT_INSTALLED, 206, rv__snapshot_installed__descriptor)    \
  X(SNAPSHOT_PREPARED, 207, rv__snapshot_prepared__descriptor)      \
  X(SNAPSHOT_DECISION, 208, rv__snapshot_decision__descriptor)      \
  X(PROPOSE_BATCH, 210, rv__propose_batch__descriptor)              \
  X(PROPOSE_RESULT, 211, rv__propose_result__descriptor)            \
  X(APPLY_BATCH, 212, rv__apply_batch__descriptor)                  \
  X(APPLY_FROM, 213, rv__apply_from__descriptor)                    \
  X(APPLIED, 214, rv__applied__descriptor)                          \
  X(READ_INDEX_REQUEST, 215, rv__read_index_request__descriptor)    \
  X(READ_INDEX_RESULT, 216, rv__read_index_result__descriptor)      \
  X(RAFT_STATE, 220, rv__raft_state__descriptor)                    \
  X(RAFT_STATE_REQUEST, 221, rv__raft_state_request__descriptor)    \
  X(TRANSFER_LEADER, 222, rv__transfer_leader__descriptor)          \
  X(RAFT_ADMIN, 223, rv__raft_admin__descriptor)                    \
  X(FS_REQUEST, 300, rv__fs_request__descriptor)                    \
  X(FS_REPLY, 301, rv__fs_reply__descriptor)                        \
  X(KV_STATS, 310, rv__kv_stats__descriptor)                        \
  X(REPL_CHANGES_REQUEST, 400, rv__repl_changes_request__descriptor)  \
  X(REPL_CHANGES, 401, rv__repl_changes__descriptor)                  \
  X(REPL_BASE_COPY_REQUEST, 402, rv__repl_base_copy_request__descriptor) \
  X(REPL_BASE_COPY, 403, rv__repl_base_copy__descriptor)              \
  X(REPL_TRIM, 404, rv__repl_trim__descriptor)                        \
  X(REPL_STATUS_REQUEST, 405, rv__repl_status_request__descriptor)    \
  X(REPL_STATUS, 406, rv__repl_status__descriptor)                    \
  X(RECOVERY_COMMAND, 420, rv__recovery_command__descriptor)          \
  X(RECOVERY_ANSWER, 421, rv__recovery_answer__descriptor)            \
  X(FENCE_REQUEST, 500, rv__fence_request__descriptor)              \
  X(FENCE_ATTEMPT, 501, rv__fence_attempt__descriptor)              \
  X(FENCE_RESULT, 502, rv__fence_result__descriptor)              \
  X(HA_REQUEST, 510, rv__ha_request__descriptor)                  \
  X(HA_REPLY, 511, rv__ha_reply__descriptor)

typedef enum {
#define RV_MSGTYPE_ENUM(name, num, desc) RV_MSG_##name = num,
  RV_MSGTYPES(RV_MSGTYPE_ENUM)
#undef RV_MSGTYPE_ENUM
} rv_msgtype_id_t;

typedef struct {
  uint32_t id;                             /* wire number */
  const ProtobufCMessageDescriptor *desc;  /* payload type; desc->short_name is its name */
} rv_msgtype_t;

/* The registered type with this wire number, or NULL. Borrowed static. */
const rv_msgtype_t *rv_msgtype_by_id(uint32_t id);

/* The registered type whose name matches (case-insensitive; "HealthPing" or "health_ping"),
 * or NULL. Borrowed static. */
const rv_msgtype_t *rv_msgtype_by_name(const char *name);

/* The name of a wire number, or "type#N" in buf for an unknown one. */
const char *rv_msgtype_name(uint32_t id, char *buf, size_t len);

#endif
