/* lin_model_reg: a read / write / compare-and-set register per key (see lin_model_reg.h). Pure. */
#include "lin_model_reg.h"

#include <string.h>

/* The value of one register, borrowed from the history; NULL = never written. */
typedef struct {
  const char *value;
} lin_reg_state_t;

static const struct {
  int op;
  const char *name;
} s_ops[] = {{LIN_REG_READ, "read"}, {LIN_REG_WRITE, "write"}, {LIN_REG_CAS, "cas"}};
#define LIN_REG_NOPS (sizeof s_ops / sizeof s_ops[0])

static void s_init(void *state) { ((lin_reg_state_t *)state)->value = NULL; }

static bool s_step(const void *state, const lin_input_t *in, const lin_output_t *out, void *next) {
  const lin_reg_state_t *s = state;
  lin_reg_state_t *n = next;
  *n = *s;
  switch (in->op) {
    case LIN_REG_READ: return !out || (out->result == RV_OK && lin_str_equal(out->value, s->value));
    case LIN_REG_WRITE: n->value = in->value; return !out || out->result == RV_OK;
    case LIN_REG_CAS: {
      bool match = lin_str_equal(in->expect, s->value);
      if (match) n->value = in->value;
      return !out || out->result == (match ? RV_OK : RV_ESTALE);
    }
  }
  return false;
}

static bool s_equal(const void *a, const void *b) {
  return lin_str_equal(((const lin_reg_state_t *)a)->value, ((const lin_reg_state_t *)b)->value);
}

static uint64_t s_hash(const void *state) {
  return lin_str_hash(((const lin_reg_state_t *)state)->value);
}

static const char *s_partition(const lin_input_t *in) { return in->key; }

/* Reads, and a cas that failed. */
static bool s_no_effect(const lin_input_t *in, const lin_output_t *out) {
  return in->op == LIN_REG_READ || (in->op == LIN_REG_CAS && out && out->result == RV_ESTALE);
}

static int s_op_parse(const char *name, int *op) {
  for (size_t i = 0; i < LIN_REG_NOPS; i++)
    if (strcmp(s_ops[i].name, name) == 0) return *op = s_ops[i].op, RV_OK;
  return RV_EINVAL;
}

static const char *s_op_name(int op) {
  for (size_t i = 0; i < LIN_REG_NOPS; i++)
    if (s_ops[i].op == op) return s_ops[i].name;
  return "op?";
}

static int s_validate(const lin_input_t *in, const lin_output_t *out, bool pending, rv_err_t *err) {
  const char *name = s_op_name(in->op);
  if (in->op < LIN_REG_READ || in->op > LIN_REG_CAS)
    return rv_err_set(err, RV_EINVAL, "unknown register op %d", in->op);
  if (in->op != LIN_REG_READ && !in->value)
    return rv_err_set(err, RV_EINVAL, "%s %s: \"value\" is missing", name, in->key);
  if (in->op == LIN_REG_READ && in->value)
    return rv_err_set(err, RV_EINVAL, "read %s: a read's answer goes in \"value_out\"", in->key);
  if (in->op != LIN_REG_CAS && in->expect)
    return rv_err_set(err, RV_EINVAL, "%s %s: only cas takes \"expect\"", name, in->key);
  if (in->flags)
    return rv_err_set(err, RV_EINVAL, "%s %s: the register model takes no flags", name, in->key);
  if (pending) return RV_OK;
  if (out->result != RV_OK && !(in->op == LIN_REG_CAS && out->result == RV_ESTALE))
    return rv_err_set(err, RV_EINVAL, "%s %s: result %s is outside the model (ok%s)", name, in->key,
                      rv_code_name(out->result), in->op == LIN_REG_CAS ? ", ESTALE" : "");
  if (in->op != LIN_REG_READ && out->value)
    return rv_err_set(err, RV_EINVAL, "%s %s: \"value_out\" is only for read", name, in->key);
  return RV_OK;
}

static size_t s_describe_op(const lin_input_t *in, const lin_output_t *out, char *buf, size_t cap) {
  size_t len = 0;
  if (cap) buf[0] = '\0';
  lin_str_appendf(buf, cap, &len, "%s%s%s", s_op_name(in->op), in->key[0] ? " " : "", in->key);
  if (in->op == LIN_REG_CAS) {
    lin_str_appendf(buf, cap, &len, " ");
    lin_str_quote(buf, cap, &len, in->expect);
    lin_str_appendf(buf, cap, &len, "=>");
    lin_str_quote(buf, cap, &len, in->value);
  } else if (in->op == LIN_REG_WRITE) {
    lin_str_appendf(buf, cap, &len, " ");
    lin_str_quote(buf, cap, &len, in->value);
  }
  lin_str_appendf(buf, cap, &len, " -> ");
  if (!out)
    lin_str_appendf(buf, cap, &len, "no answer");
  else if (out->result != RV_OK)
    lin_str_appendf(buf, cap, &len, "%s", rv_code_name(out->result));
  else if (in->op == LIN_REG_READ)
    lin_str_quote(buf, cap, &len, out->value);
  else
    lin_str_appendf(buf, cap, &len, "ok");
  return len;
}

static size_t s_describe_state(const void *state, char *buf, size_t cap) {
  const lin_reg_state_t *s = state;
  size_t len = 0;
  if (cap) buf[0] = '\0';
  if (s->value)
    lin_str_quote(buf, cap, &len, s->value);
  else
    lin_str_appendf(buf, cap, &len, "never written");
  return len;
}

const lin_model_t lin_model_reg = {
    .name = "register",
    .key_field = "key",
    .state_size = sizeof(lin_reg_state_t),
    .init = s_init,
    .step = s_step,
    .equal = s_equal,
    .hash = s_hash,
    .partition = s_partition,
    .no_effect = s_no_effect,
    .op_parse = s_op_parse,
    .op_name = s_op_name,
    .validate = s_validate,
    .validate_history = NULL,
    .describe_op = s_describe_op,
    .describe_state = s_describe_state,
};
