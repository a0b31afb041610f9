/* rv_msgprint: descriptor-driven JSON rendering of protobuf-c messages (no I/O but the FILE the
 * caller gives). Used by `raftvisor tap`, status --json and logs. */
#include "rv_msgprint.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static void s_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    switch (*p) {
      case '"': fputs("\\\"", f); break;
      case '\\': fputs("\\\\", f); break;
      case '\n': fputs("\\n", f); break;
      case '\r': fputs("\\r", f); break;
      case '\t': fputs("\\t", f); break;
      default:
        if (*p < 0x20)
          fprintf(f, "\\u%04x", *p);
        else
          fputc(*p, f);
    }
  }
  fputc('"', f);
}

/* Prints one value of field fd stored at p. */
static void s_value(FILE *f, const ProtobufCFieldDescriptor *fd, const void *p) {
  switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: fprintf(f, "%" PRId32, *(const int32_t *)p); break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: fprintf(f, "%" PRIu32, *(const uint32_t *)p); break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: fprintf(f, "%" PRId64, *(const int64_t *)p); break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: fprintf(f, "%" PRIu64, *(const uint64_t *)p); break;
    case PROTOBUF_C_TYPE_FLOAT: fprintf(f, "%g", (double)*(const float *)p); break;
    case PROTOBUF_C_TYPE_DOUBLE: fprintf(f, "%g", *(const double *)p); break;
    case PROTOBUF_C_TYPE_BOOL: fputs(*(const protobuf_c_boolean *)p ? "true" : "false", f); break;
    case PROTOBUF_C_TYPE_ENUM: {
      const ProtobufCEnumValue *ev =
          protobuf_c_enum_descriptor_get_value(fd->descriptor, *(const int *)p);
      if (ev)
        s_json_string(f, ev->name);
      else
        fprintf(f, "%d", *(const int *)p);
      break;
    }
    case PROTOBUF_C_TYPE_STRING: s_json_string(f, *(char *const *)p); break;
    case PROTOBUF_C_TYPE_BYTES:
      fprintf(f, "{\"len\":%zu}", ((const ProtobufCBinaryData *)p)->len);
      break;
    case PROTOBUF_C_TYPE_MESSAGE: {
      const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
      if (sub)
        rv_msgprint_body_json(f, sub);
      else
        fputs("null", f);
      break;
    }
  }
}

static size_t s_elem_size(ProtobufCType t) {
  switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    default: return 4;
  }
}

void rv_msgprint_body_json(FILE *f, const ProtobufCMessage *body) {
  const ProtobufCMessageDescriptor *d = body->descriptor;
  fputc('{', f);
  int first = 1;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *fd = &d->fields[i];
    const char *base = (const char *)body + fd->offset;
    if (!first) fputc(',', f);
    first = 0;
    s_json_string(f, fd->name);
    fputc(':', f);
    if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *(const size_t *)((const char *)body + fd->quantifier_offset);
      const char *arr = *(char *const *)base;
      size_t sz = s_elem_size(fd->type);
      fputc('[', f);
      for (size_t k = 0; k < n; k++) {
        if (k) fputc(',', f);
        s_value(f, fd, arr + k * sz);
      }
      fputc(']', f);
    } else {
      s_value(f, fd, base);
    }
  }
  fputc('}', f);
}

static void s_time(FILE *f, uint64_t us) {
  time_t s = (time_t)(us / 1000000u);
  struct tm tm;
  gmtime_r(&s, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  fprintf(f, "%s.%06uZ", buf, (unsigned)(us % 1000000u));
}

void rv_msgprint_line(FILE *f, const rv_msg_t *m, const char *tap, bool json) {
  char tbuf[32];
  const char *tname = rv_msgtype_name(m->type, tbuf, sizeof tbuf);
  if (json) {
    fputs("{\"time\":\"", f);
    s_time(f, m->sent_at_us);
    fputs("\",\"from\":", f);
    char addr[2 * RV_NAME_MAX + 2];
    snprintf(addr, sizeof addr, "%s/%s", m->from.node, m->from.actor);
    s_json_string(f, addr);
    fputs(",\"to\":", f);
    snprintf(addr, sizeof addr, "%s/%s", m->to.node, m->to.actor);
    s_json_string(f, addr);
    if (tap) {
      fputs(",\"tap\":", f);
      s_json_string(f, tap);
    }
    fputs(",\"type\":", f);
    s_json_string(f, tname);
    fprintf(f, ",\"corr\":%" PRIu64 ",\"trace\":%" PRIu64 ",\"body\":", m->corr_id, m->trace_id);
    if (m->body)
      rv_msgprint_body_json(f, m->body);
    else
      fputs("null", f);
    fputc('}', f);
    return;
  }
  s_time(f, m->sent_at_us);
  if (tap) fprintf(f, " [%s]", tap);
  fprintf(f, " %s/%s -> %s/%s %s", m->from.node, m->from.actor, m->to.node, m->to.actor, tname);
  if (m->corr_id) fprintf(f, " #%" PRIu64, m->corr_id);
  if (m->trace_id) fprintf(f, " trace=%" PRIx64, m->trace_id);
  fputc(' ', f);
  if (m->body)
    rv_msgprint_body_json(f, m->body);
  else
    fputs("{}", f);
}
