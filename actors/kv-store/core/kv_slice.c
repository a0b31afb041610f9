/* kv_slice: the apply slicing rule (kv_slice.h). Pure. */
#include "kv_slice.h"

#include "kv_cmd.h"
#include "kv_codec.h"

void kv_slice_limits_default(kv_slice_limits_t *lim) {
  *lim = (kv_slice_limits_t){.max_entries = KV_SLICE_MAX_ENTRIES,
                             .max_keys = KV_SLICE_MAX_KEYS,
                             .max_bytes = KV_SLICE_MAX_BYTES};
}

kv_slice_cost_t kv_slice_cost(const uint8_t *data, size_t len, bool raft_only) {
  kv_slice_cost_t c = {.keys = 1, .bytes = len};
  if (raft_only || len == 0) return c;
  kv_cmd_t cmd;
  rv_err_t err;
  if (kv_cmd_decode(data, len, &cmd, &err)) return c; /* a recorded failure: the meta key */
  c.keys = KV_SLICE_CMD_KEYS;
  if (cmd.op == KV_OP_RECOVERY_ROWS) {
    kv_reader_t r;
    kv_bytes_t after;
    kv_reader_init(&r, cmd.data.p, cmd.data.len);
    kv_reader_str16(&r, &after);
    uint32_t n = kv_reader_u32(&r);
    if (!r.failed) c.keys += n;
  }
  return c;
}

size_t kv_slice_take(const kv_slice_cost_t *costs, size_t n, const kv_slice_limits_t *lim) {
  size_t keys = 0, bytes = 0, i = 0;
  for (; i < n && i < lim->max_entries; i++) {
    keys += costs[i].keys;
    bytes += costs[i].bytes;
    if (i > 0 && (keys > lim->max_keys || bytes > lim->max_bytes)) break;
  }
  return i;
}
