/* kv_cmd: encode and decode namespace commands (see kv_cmd.h for the wire format). Pure. */
#include "kv_cmd.h"

#include <string.h>

/* Which fields each op takes; anything else must be zero / empty on the wire. */
typedef struct {
  const char *name;
  uint8_t flags; /* allowed KV_F_* */
  bool attrs;    /* perm, owner, group */
  bool setattr;  /* set_mask, mtime, atime */
  bool path2;
  bool data;
} s_op_rule_t;

static const s_op_rule_t s_rules[KV_OP_RECOVERY_LAST + 1] = {
    [KV_OP_MKDIR] = {"mkdir", KV_F_PARENTS, true, false, false, false},
    [KV_OP_PUT] = {"put", KV_F_PARENTS | KV_F_OVERWRITE, true, false, false, true},
    [KV_OP_TOUCHZ] = {"touchz", 0, true, false, false, false},
    [KV_OP_RM] = {"rm", KV_F_RECURSIVE | KV_F_FILE_ONLY | KV_F_DIR_ONLY, false, false, false,
                  false},
    [KV_OP_MV] = {"mv", 0, false, false, true, false},
    [KV_OP_SETATTR] = {"setattr", 0, true, true, false, false},
    [KV_OP_APPEND] = {"append", 0, true, false, false, true},
    [KV_OP_TRUNCATE] = {"truncate", 0, false, false, false, true},
    [KV_OP_CONCAT] = {"concat", 0, false, false, false, true},
    [KV_OP_SETXATTR] = {"setxattr", 0, false, false, false, true},
    [KV_OP_REMOVEXATTR] = {"removexattr", 0, false, false, false, true},
    [KV_OP_RECOVERY_BEGIN] = {"recovery-begin", 0, false, false, false, true},
    [KV_OP_RECOVERY_ROWS] = {"recovery-rows", 0, false, false, false, true},
    [KV_OP_RECOVERY_FINISH] = {"recovery-finish", 0, false, false, false, true},
    [KV_OP_RECOVERY_LEAVE] = {"recovery-leave", 0, false, false, false, false},
};

static bool s_op_known(int op) {
  return (op >= KV_OP_MIN && op <= KV_OP_LAST) || kv_op_is_recovery(op);
}

#define S_HEADER_LEN (1 + 1 + 8 + 8 + 8)

const char *kv_op_name(int op) {
  return s_op_known(op) ? s_rules[op].name : "op?";
}

/* The checks shared by encoder and decoder: which fields an op may carry. */
static int s_check_fields(const kv_cmd_t *c, int code, rv_err_t *err) {
  if (!s_op_known(c->op)) return rv_err_set(err, code, "command: unknown op %u", c->op);
  const s_op_rule_t *r = &s_rules[c->op];
  if (c->flags & ~r->flags)
    return rv_err_set(err, code, "%s command: flags 0x%02x not allowed (allowed 0x%02x)", r->name,
                      c->flags, r->flags);
  if (!r->attrs && (c->perm || c->owner.len || c->group.len))
    return rv_err_set(err, code, "%s command: perm/owner/group must be empty", r->name);
  if (!r->setattr && (c->set_mask || c->mtime_ms || c->atime_ms))
    return rv_err_set(err, code, "%s command: set_mask/mtime/atime must be empty", r->name);
  if (r->setattr && (c->set_mask & ~KV_SET_ALL))
    return rv_err_set(err, code, "%s command: unknown set_mask bits 0x%02x", r->name,
                      c->set_mask & ~KV_SET_ALL);
  if (!r->path2 && c->path2.len)
    return rv_err_set(err, code, "%s command: a second path is not allowed", r->name);
  if (!r->data && c->data.len)
    return rv_err_set(err, code, "%s command: data is not allowed", r->name);
  if (c->user.len == 0 && (c->pflags || c->ngroups))
    return rv_err_set(err, code, "%s command: pflags/groups without a user", r->name);
  if (c->user.len > KV_OWNER_MAX)
    return rv_err_set(err, code, "%s command: user of %zu bytes exceeds %d", r->name, c->user.len,
                      KV_OWNER_MAX);
  if (c->pflags & ~KV_P_ALL)
    return rv_err_set(err, code, "%s command: unknown pflags 0x%02x", r->name, c->pflags);
  if (c->ngroups > KV_CMD_GROUPS_MAX)
    return rv_err_set(err, code, "%s command: %u groups exceed %d", r->name, c->ngroups,
                      KV_CMD_GROUPS_MAX);
  for (unsigned i = 0; i < c->ngroups; i++)
    if (c->groups[i].len == 0 || c->groups[i].len > KV_OWNER_MAX)
      return rv_err_set(err, code, "%s command: group %u is empty or longer than %d bytes",
                        r->name, i, KV_OWNER_MAX);
  return RV_OK;
}

int kv_cmd_encode(const kv_cmd_t *c, kv_buf_t *out, rv_err_t *err) {
  int rc = s_check_fields(c, RV_EINVAL, err);
  if (rc) return rc;
  if (c->path.len > UINT16_MAX || c->path2.len > UINT16_MAX)
    return rv_err_set(err, RV_EINVAL, "%s command: path of %zu bytes cannot be encoded",
                      kv_op_name(c->op), c->path.len > c->path2.len ? c->path.len : c->path2.len);
  if (c->owner.len > UINT8_MAX || c->group.len > UINT8_MAX)
    return rv_err_set(err, RV_EINVAL, "%s command: owner/group longer than 255 bytes",
                      kv_op_name(c->op));
  if (c->data.len > KV_DATA_MAX)
    return rv_err_set(err, RV_ETOOBIG, "%s command: data of %zu bytes exceeds the limit of %u",
                      kv_op_name(c->op), c->data.len, KV_DATA_MAX);
  size_t start = out->len;
  kv_buf_put_u8(out, c->user.len ? KV_CMD_VERSION : KV_CMD_VERSION_LEGACY);
  kv_buf_put_u8(out, c->op);
  kv_buf_put_u64(out, c->client_id);
  kv_buf_put_u64(out, c->seq);
  kv_buf_put_i64(out, c->time_ms);
  kv_buf_put_u8(out, c->flags);
  kv_buf_put_u8(out, c->set_mask);
  kv_buf_put_u16(out, c->perm);
  kv_buf_put_i64(out, c->mtime_ms);
  kv_buf_put_i64(out, c->atime_ms);
  kv_buf_put_str16(out, c->path.p, c->path.len);
  kv_buf_put_str16(out, c->path2.p, c->path2.len);
  kv_buf_put_str8(out, c->owner.p, c->owner.len);
  kv_buf_put_str8(out, c->group.p, c->group.len);
  kv_buf_put_str32(out, c->data.p, c->data.len);
  if (c->user.len) {
    kv_buf_put_str8(out, c->user.p, c->user.len);
    kv_buf_put_u8(out, c->pflags);
    kv_buf_put_u8(out, c->ngroups);
    for (unsigned i = 0; i < c->ngroups; i++)
      kv_buf_put_str8(out, c->groups[i].p, c->groups[i].len);
  }
  if (!kv_buf_ok(out)) return rv_err_set(err, RV_ENOMEM, "command encode: out of memory");
  if (out->len - start > KV_CMD_MAX) {
    kv_buf_truncate(out, start);
    return rv_err_set(err, RV_ETOOBIG, "%s command: encoding exceeds %u bytes", kv_op_name(c->op),
                      KV_CMD_MAX);
  }
  return RV_OK;
}

/* Reads one field; on truncation sets err naming it. */
static bool s_field_ok(kv_reader_t *r, const char *field, rv_err_t *err) {
  if (!r->failed) return true;
  rv_err_set(err, RV_EDECODE, "command truncated in field %s (%zu bytes)", field, r->len);
  return false;
}

/* Parses the layout every op shares; an op this build does not know is taken only when
 * any_op (kv_cmd_newer), and then the op's own rules are not checked. */
static int s_parse(const uint8_t *buf, size_t len, kv_cmd_t *c, bool any_op, rv_err_t *err) {
  if (len > KV_CMD_MAX)
    return rv_err_set(err, RV_ETOOBIG, "command of %zu bytes exceeds the limit of %u bytes", len,
                      KV_CMD_MAX);
  if (len == 0) return rv_err_set(err, RV_EDECODE, "empty command");
  kv_reader_t r;
  kv_reader_init(&r, buf, len);
  uint8_t version = kv_reader_u8(&r);
  if (version != KV_CMD_VERSION && version != KV_CMD_VERSION_LEGACY)
    return rv_err_set(err, RV_EDECODE, "command version %u unknown (expected %u or %u)", version,
                      KV_CMD_VERSION_LEGACY, KV_CMD_VERSION);
  c->op = kv_reader_u8(&r);
  if (!s_field_ok(&r, "op", err)) return RV_EDECODE;
  if (!any_op && !s_op_known(c->op))
    return rv_err_set(err, RV_EDECODE, "command: unknown op %u", c->op);
  c->client_id = kv_reader_u64(&r);
  c->seq = kv_reader_u64(&r);
  c->time_ms = kv_reader_i64(&r);
  if (!s_field_ok(&r, "header", err)) return RV_EDECODE;
  c->flags = kv_reader_u8(&r);
  c->set_mask = kv_reader_u8(&r);
  c->perm = kv_reader_u16(&r);
  c->mtime_ms = kv_reader_i64(&r);
  c->atime_ms = kv_reader_i64(&r);
  if (!s_field_ok(&r, "attributes", err)) return RV_EDECODE;
  kv_reader_str16(&r, &c->path);
  if (!s_field_ok(&r, "path", err)) return RV_EDECODE;
  kv_reader_str16(&r, &c->path2);
  if (!s_field_ok(&r, "path2", err)) return RV_EDECODE;
  kv_reader_str8(&r, &c->owner);
  if (!s_field_ok(&r, "owner", err)) return RV_EDECODE;
  kv_reader_str8(&r, &c->group);
  if (!s_field_ok(&r, "group", err)) return RV_EDECODE;
  /* Check the declared data length against the cap before looking for the bytes, so an
   * absurd length reads as "too big" rather than "truncated". */
  if (kv_reader_left(&r) >= 4) {
    uint32_t dlen = kv_be32_get(r.p + r.off);
    if (dlen > KV_DATA_MAX)
      return rv_err_set(err, RV_ETOOBIG, "%s command: data of %u bytes exceeds the limit of %u",
                        kv_op_name(c->op), dlen, KV_DATA_MAX);
  }
  kv_reader_str32(&r, &c->data);
  if (!s_field_ok(&r, "data", err)) return RV_EDECODE;
  if (version == KV_CMD_VERSION) {
    kv_reader_str8(&r, &c->user);
    c->pflags = kv_reader_u8(&r);
    c->ngroups = kv_reader_u8(&r);
    if (!s_field_ok(&r, "user", err)) return RV_EDECODE;
    if (c->user.len == 0) return rv_err_set(err, RV_EDECODE, "command version 2 without a user");
    if (c->ngroups > KV_CMD_GROUPS_MAX)
      return rv_err_set(err, RV_EDECODE, "command: %u groups exceed %d", c->ngroups,
                        KV_CMD_GROUPS_MAX);
    for (unsigned i = 0; i < c->ngroups; i++) kv_reader_str8(&r, &c->groups[i]);
    if (!s_field_ok(&r, "groups", err)) return RV_EDECODE;
  }
  if (!kv_reader_done(&r))
    return rv_err_set(err, RV_EDECODE, "%s command: %zu trailing bytes", kv_op_name(c->op),
                      r.len - r.off);
  return RV_OK;
}

static int s_decode(const uint8_t *buf, size_t len, kv_cmd_t *c, rv_err_t *err) {
  int rc = s_parse(buf, len, c, false, err);
  return rc ? rc : s_check_fields(c, RV_EDECODE, err);
}

int kv_cmd_decode(const uint8_t *buf, size_t len, kv_cmd_t *c, rv_err_t *err) {
  memset(c, 0, sizeof *c);
  int rc = s_decode(buf, len, c, err);
  if (rc) memset(c, 0, sizeof *c); /* a failed decode leaves nothing half-filled */
  return rc;
}

bool kv_cmd_newer(const uint8_t *buf, size_t len, uint8_t *op) {
  kv_cmd_t c;
  memset(&c, 0, sizeof c);
  if (s_parse(buf, len, &c, true, NULL) != RV_OK || s_op_known(c.op)) return false;
  *op = c.op;
  return true;
}

bool kv_cmd_peek_session(const uint8_t *buf, size_t len, uint64_t *client_id, uint64_t *seq) {
  if (!buf || len < S_HEADER_LEN || (buf[0] != KV_CMD_VERSION && buf[0] != KV_CMD_VERSION_LEGACY))
    return false;
  *client_id = kv_be64_get(buf + 2);
  *seq = kv_be64_get(buf + 10);
  return true;
}

int kv_concat_srcs_encode(const kv_bytes_t *srcs, size_t n, kv_buf_t *out, rv_err_t *err) {
  if (n == 0 || n > KV_CONCAT_SRCS_MAX)
    return rv_err_set(err, RV_EINVAL, "concat: %zu sources (expected 1..%d)", n,
                      KV_CONCAT_SRCS_MAX);
  kv_buf_put_u16(out, (uint16_t)n);
  for (size_t i = 0; i < n; i++) {
    if (srcs[i].len > UINT16_MAX)
      return rv_err_set(err, RV_EINVAL, "concat: source %zu of %zu bytes cannot be encoded", i,
                        srcs[i].len);
    kv_buf_put_str16(out, srcs[i].p, srcs[i].len);
  }
  return kv_buf_ok(out) ? RV_OK : rv_err_set(err, RV_ENOMEM, "concat: out of memory");
}

int kv_concat_srcs_decode(const kv_bytes_t *data, kv_bytes_t *srcs, size_t cap, size_t *n) {
  kv_reader_t r;
  kv_reader_init(&r, data->p, data->len);
  *n = kv_reader_u16(&r);
  if (r.failed || *n == 0 || *n > cap) return RV_EDECODE;
  for (size_t i = 0; i < *n; i++)
    if (!kv_reader_str16(&r, &srcs[i])) return RV_EDECODE;
  return kv_reader_done(&r) ? RV_OK : RV_EDECODE;
}
