/* rv_client_ops: librvclient's translations (no sockets): node lists, requests into envelopes,
 * replies into results, and the synchronous one-call-per-operation wrappers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_client_int.h"
#include "rv_codec.h"

const char *rv_client_op_name(int op) {
  switch (op) {
    case RV_CLIENT_MKDIR: return "mkdir";
    case RV_CLIENT_PUT: return "put";
    case RV_CLIENT_TOUCHZ: return "touchz";
    case RV_CLIENT_RM: return "rm";
    case RV_CLIENT_MV: return "mv";
    case RV_CLIENT_SETATTR: return "setattr";
    case RV_CLIENT_APPEND: return "append";
    case RV_CLIENT_TRUNCATE: return "truncate";
    case RV_CLIENT_CONCAT: return "concat";
    case RV_CLIENT_SETXATTR: return "setxattr";
    case RV_CLIENT_REMOVEXATTR: return "removexattr";
    case RV_CLIENT_GETXATTRS: return "getxattrs";
    case RV_CLIENT_STAT: return "stat";
    case RV_CLIENT_LS: return "ls";
    case RV_CLIENT_CAT: return "cat";
    case RV_CLIENT_COUNT: return "count";
    case RV_CLIENT_DIGEST: return "digest";
    case RV_CLIENT_NODE_STATUS: return "node-status";
    case RV_CLIENT_SNAPSHOT_READ: return "snapshot-read";
    case RV_CLIENT_RECOVERY_LEAVE: return "recovery-leave";
    default: return "op?";
  }
}

/* ---- node lists ---------------------------------------------------------------------------- */

/* One "host:port" or "[v6]:port" element of len bytes at p. */
static int s_node_parse(const char *p, size_t len, char *out, rv_err_t *err) {
  char el[RV_CLIENT_ADDR_MAX];
  if (len == 0)
    return rv_err_set(err, RV_EINVAL, "empty element (two commas, or a comma at an end)");
  if (len >= sizeof el)
    return rv_err_set(err, RV_EINVAL, "\"%.40s...\" is longer than %d bytes", p,
                      RV_CLIENT_ADDR_MAX - 1);
  memcpy(el, p, len);
  el[len] = '\0';
  const char *colon;
  if (el[0] == '[') {
    const char *close = strchr(el, ']');
    if (!close || close == el + 1)
      return rv_err_set(err, RV_EINVAL, "\"%s\": an IPv6 host needs its closing ']'", el);
    colon = close[1] == ':' ? close + 1 : NULL;
  } else {
    colon = strrchr(el, ':');
    if (colon && memchr(el, ':', (size_t)(colon - el)))
      return rv_err_set(err, RV_EINVAL, "\"%s\": write an IPv6 host in brackets, [host]:port", el);
  }
  if (!colon) return rv_err_set(err, RV_EINVAL, "\"%s\": expected host:port", el);
  if (colon == el) return rv_err_set(err, RV_EINVAL, "\"%s\": the host is empty", el);
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (!colon[1] || *end || port < 1 || port > 65535)
    return rv_err_set(err, RV_EINVAL, "\"%s\": the port \"%s\" is not a number in 1..65535", el,
                      colon + 1);
  for (const char *c = el; c < colon; c++)
    if (*c <= ' ' || *c == '/' || *c == ',')
      return rv_err_set(err, RV_EINVAL, "\"%s\": the host holds a '%c' character", el,
                        *c <= ' ' ? '?' : *c);
  memcpy(out, el, len + 1);
  return RV_OK;
}

int rv_client_nodes_parse(const char *list, char nodes[][RV_CLIENT_ADDR_MAX], int *n,
                          rv_err_t *err) {
  *n = 0;
  if (!list || !*list) return rv_err_set(err, RV_EINVAL, "the node list is empty");
  for (const char *p = list;;) {
    size_t len = strcspn(p, ",");
    if (*n == RV_CLIENT_NODES_MAX)
      return rv_err_set(err, RV_EINVAL, "more than %d nodes", RV_CLIENT_NODES_MAX);
    int rc = s_node_parse(p, len, nodes[*n], err);
    if (rc) return rv_err_prefix(err, "node %d of \"%s\"", *n + 1, list);
    for (int k = 0; k < *n; k++)
      if (strcmp(nodes[k], nodes[*n]) == 0)
        return rv_err_set(err, RV_EINVAL, "node list \"%s\": %s is listed twice", list, nodes[k]);
    (*n)++;
    if (!p[len]) break;
    p += len + 1;
  }
  return RV_OK;
}

/* ---- requests ------------------------------------------------------------------------------ */

/* path with every run of '/' collapsed to one (as Hadoop's Path does), into a new string. */
static char *s_normalise(const char *path) {
  size_t n = strlen(path);
  char *out = malloc(n + 1), *o = out;
  if (!out) return NULL;
  for (const char *p = path; *p; p++)
    if (!(*p == '/' && o > out && o[-1] == '/')) *o++ = *p;
  *o = '\0';
  return out;
}

/* An owner or group name for setattr: 1..RV_CLIENT_OWNER_MAX bytes, no control characters
 * (the server checks UTF-8 too). */
static int s_attr_name_ok(const char *path, const char *field, const char *v, rv_err_t *err) {
  if (!v || !*v) return rv_err_set(err, RV_EINVAL, "setattr %s: the %s is empty", path, field);
  if (strlen(v) > RV_CLIENT_OWNER_MAX)
    return rv_err_set(err, RV_EINVAL, "setattr %s: the %s \"%.20s...\" is longer than %d bytes",
                      path, field, v, RV_CLIENT_OWNER_MAX);
  for (const unsigned char *c = (const unsigned char *)v; *c; c++)
    if (*c < 0x20 || *c == 0x7f)
      return rv_err_set(err, RV_EINVAL, "setattr %s: the %s holds a control character", path,
                        field);
  return RV_OK;
}

/* The checks of a setattr request's attributes, before anything is sent. */
static int s_attrs_ok(const char *path, const rv_client_attrs_t *a, rv_err_t *err) {
  if (a->set == 0)
    return rv_err_set(err, RV_EINVAL, "setattr %s: nothing to set (attrs.set is 0)", path);
  if (a->set & ~(unsigned)RV_CLIENT_SET_ALL)
    return rv_err_set(err, RV_EINVAL, "setattr %s: unknown attrs.set bits 0x%x", path,
                      a->set & ~(unsigned)RV_CLIENT_SET_ALL);
  if ((a->set & RV_CLIENT_SET_PERM) && a->perm > 07777)
    return rv_err_set(err, RV_EINVAL, "setattr %s: permission %o is out of range (0..07777)",
                      path, a->perm);
  int rc = RV_OK;
  if (a->set & RV_CLIENT_SET_OWNER) rc = s_attr_name_ok(path, "owner", a->owner, err);
  if (!rc && (a->set & RV_CLIENT_SET_GROUP)) rc = s_attr_name_ok(path, "group", a->group, err);
  return rc;
}

int rv_client_encode(const rv_client_req_t *req, uint64_t client_id, uint64_t seq, uint64_t corr,
                     const char *user, uint8_t **frame, size_t *len, rv_err_t *err) {
  const char *name = rv_client_op_name(req->op);
  if (!strcmp(name, "op?")) return rv_err_set(err, RV_EINVAL, "unknown operation %d", req->op);
  if (req->op == RV_CLIENT_NODE_STATUS || req->op == RV_CLIENT_SNAPSHOT_READ ||
      req->op == RV_CLIENT_RECOVERY_LEAVE) {
    if (req->path && *req->path)
      return rv_err_set(err, RV_EINVAL, "%s: takes no path, got \"%s\"", name, req->path);
    if (req->op == RV_CLIENT_SNAPSHOT_READ && !req->snapshot_stream)
      return rv_err_set(err, RV_EINVAL, "snapshot-read: no stream id");
  } else if (req->op == RV_CLIENT_DIGEST) {
    if (req->path && *req->path)
      return rv_err_set(err, RV_EINVAL, "digest: takes no path (it covers the whole namespace), "
                        "got \"%s\"", req->path);
  } else if (!req->path || !*req->path) {
    return rv_err_set(err, RV_EINVAL, "%s: no path given", name);
  }
  if (req->op == RV_CLIENT_MV && (!req->path2 || !*req->path2))
    return rv_err_set(err, RV_EINVAL, "mv: no destination given");
  if (req->len > RV_CLIENT_DATA_MAX)
    return rv_err_set(err, RV_ETOOBIG, "%s %s: content of %zu bytes exceeds the limit of %u bytes",
                      name, req->path, req->len, RV_CLIENT_DATA_MAX);
  if (req->len && !req->data) return rv_err_set(err, RV_EINVAL, "%s: data is NULL", name);
  bool writes = rv_client_op_writes(req->op);
  unsigned rm_one = RV_CLIENT_RECURSIVE | RV_CLIENT_FILE_ONLY | RV_CLIENT_DIR_ONLY;
  unsigned allowed = req->op == RV_CLIENT_MKDIR ? RV_CLIENT_PARENTS
                     : req->op == RV_CLIENT_PUT ? RV_CLIENT_PARENTS | RV_CLIENT_OVERWRITE
                     : req->op == RV_CLIENT_RM  ? rm_one
                     : writes                   ? 0u
                                                : RV_CLIENT_STALE;
  if (req->flags & ~allowed)
    return rv_err_set(err, RV_EINVAL, "%s %s does not take flags 0x%x", name,
                      req->path && *req->path ? req->path : "/", req->flags & ~allowed);
  unsigned one = req->flags & rm_one;
  if (one & (one - 1))
    return rv_err_set(err, RV_EINVAL, "rm %s: flags 0x%x: give one of RECURSIVE, FILE_ONLY, "
                      "DIR_ONLY", req->path, one);
  int rc = req->op == RV_CLIENT_SETATTR ? s_attrs_ok(req->path, &req->attrs, err) : RV_OK;
  if (rc) return rc;
  if (req->op == RV_CLIENT_CONCAT && (req->nsources == 0 || req->nsources > 1024 || !req->sources))
    return rv_err_set(err, RV_EINVAL, "concat %s: %zu sources (expected 1..1024)", req->path,
                      req->nsources);
  if (req->op == RV_CLIENT_CONCAT)
    for (size_t i = 0; i < req->nsources; i++)
      if (!req->sources[i] || !*req->sources[i])
        return rv_err_set(err, RV_EINVAL, "concat %s: source %zu is empty", req->path, i + 1);
  char *path = s_normalise(req->path ? req->path : "");
  char *path2 = req->op == RV_CLIENT_MV ? s_normalise(req->path2) : NULL;
  if (!path || (req->op == RV_CLIENT_MV && !path2)) {
    free(path);
    free(path2);
    return rv_err_set(err, RV_ENOMEM, "out of memory");
  }
  Rv__FsRequest q = RV__FS_REQUEST__INIT;
  q.op = (Rv__FsOp)req->op;
  q.path.data = (uint8_t *)path;
  q.path.len = strlen(path);
  if (path2) {
    q.path2.data = (uint8_t *)path2;
    q.path2.len = strlen(path2);
  }
  if (writes) {
    q.client_id = client_id;
    q.seq = client_id ? seq : 0;
  }
  if (req->op == RV_CLIENT_PUT || req->op == RV_CLIENT_APPEND) {
    q.data.data = (uint8_t *)req->data;
    q.data.len = req->len;
  }
  if (req->op == RV_CLIENT_TRUNCATE) q.length = req->length;
  if (req->op == RV_CLIENT_SETXATTR || req->op == RV_CLIENT_REMOVEXATTR) {
    if (!req->xattr_name || !*req->xattr_name || (req->xattr_len && !req->xattr_value)) {
      free(path);
      free(path2);
      return rv_err_set(err, RV_EINVAL, "%s %s: no name (or a NULL value)", name, req->path);
    }
    q.xattr_name = (ProtobufCBinaryData){strlen(req->xattr_name), (uint8_t *)req->xattr_name};
    if (req->op == RV_CLIENT_SETXATTR)
      q.xattr_value = (ProtobufCBinaryData){req->xattr_len, (uint8_t *)req->xattr_value};
  }
  ProtobufCBinaryData *srcs = NULL;
  char **srcpaths = NULL;
  if (req->op == RV_CLIENT_CONCAT) {
    srcs = calloc(req->nsources, sizeof *srcs);
    srcpaths = calloc(req->nsources, sizeof *srcpaths);
    bool ok = srcs && srcpaths;
    for (size_t i = 0; ok && i < req->nsources; i++) {
      ok = (srcpaths[i] = s_normalise(req->sources[i])) != NULL;
      if (ok) srcs[i] = (ProtobufCBinaryData){strlen(srcpaths[i]), (uint8_t *)srcpaths[i]};
    }
    if (!ok) {
      for (size_t i = 0; srcpaths && i < req->nsources; i++) free(srcpaths[i]);
      free(srcpaths);
      free(srcs);
      free(path);
      free(path2);
      return rv_err_set(err, RV_ENOMEM, "out of memory");
    }
    q.sources = srcs;
    q.n_sources = req->nsources;
  }
  q.parents = (req->flags & RV_CLIENT_PARENTS) != 0;
  q.overwrite = (req->flags & RV_CLIENT_OVERWRITE) != 0;
  q.recursive = (req->flags & RV_CLIENT_RECURSIVE) != 0;
  q.file_only = (req->flags & RV_CLIENT_FILE_ONLY) != 0;
  q.dir_only = (req->flags & RV_CLIENT_DIR_ONLY) != 0;
  q.stale = (req->flags & RV_CLIENT_STALE) != 0;
  q.snapshot_stream = req->op == RV_CLIENT_SNAPSHOT_READ ? req->snapshot_stream : 0;
  q.snapshot_offset = req->op == RV_CLIENT_SNAPSHOT_READ ? req->snapshot_offset : 0;
  q.batch_replies = true; /* s_drain takes several replies in one multi-part message */
  if (req->op == RV_CLIENT_SETATTR) { /* only what attrs.set names */
    const rv_client_attrs_t *a = &req->attrs;
    unsigned times = a->set & (RV_CLIENT_SET_MTIME | RV_CLIENT_SET_ATIME);
    q.set_mask = a->set;
    q.perm = a->set & RV_CLIENT_SET_PERM ? a->perm : 0;
    q.owner = a->set & RV_CLIENT_SET_OWNER ? (char *)a->owner : "";
    q.group = a->set & RV_CLIENT_SET_GROUP ? (char *)a->group : "";
    q.times_now = a->times_now && times;
    q.mtime_ms = !q.times_now && (a->set & RV_CLIENT_SET_MTIME) ? a->mtime_ms : 0;
    q.atime_ms = !q.times_now && (a->set & RV_CLIENT_SET_ATIME) ? a->atime_ms : 0;
  }
  if (req->op == RV_CLIENT_LS) {
    if (req->start_after) {
      q.start_after.data = (uint8_t *)req->start_after;
      q.start_after.len = strlen(req->start_after);
    }
    q.limit = req->limit;
    if (req->pattern) {
      q.pattern.data = (uint8_t *)req->pattern;
      q.pattern.len = strlen(req->pattern);
    }
  }
  if (req->op == RV_CLIENT_MKDIR || req->op == RV_CLIENT_PUT || req->op == RV_CLIENT_TOUCHZ ||
      req->op == RV_CLIENT_APPEND)
    q.perm = req->perm; /* the owner is the user, the group the parent's: the server decides */
  q.user = (char *)user;
  char actor[RV_NAME_MAX + 1];
  snprintf(actor, sizeof actor, "c%016llx", (unsigned long long)client_id);
  rv_msg_t m = {.type = RV_MSG_FS_REQUEST, .corr_id = corr, .trace_id = corr, .body = &q.base};
  rv_addr_set(&m.from, "client", actor);
  rv_addr_set(&m.to, "", "kv-store");
  rc = rv_msg_encode(&m, frame, len, err);
  free(path);
  free(path2);
  for (size_t i = 0; srcpaths && i < req->nsources; i++) free(srcpaths[i]);
  free(srcpaths);
  free(srcs);
  return rc ? rv_err_prefix(err, "%s", name) : RV_OK;
}

int rv_client_reencode(uint8_t **frame, size_t *len, uint64_t client_id, uint64_t seq,
                       rv_err_t *err) {
  rv_msg_t m;
  int rc = rv_msg_decode(*frame, *len, 0, &m, err);
  if (rc) return rc;
  Rv__FsRequest *q = (Rv__FsRequest *)m.body;
  q->client_id = client_id;
  q->seq = seq;
  snprintf(m.from.actor, sizeof m.from.actor, "c%016llx", (unsigned long long)client_id);
  m.sent_at_us = 0;
  uint8_t *out;
  size_t n;
  if ((rc = rv_msg_encode(&m, &out, &n, err)) == RV_OK) {
    free(*frame);
    *frame = out;
    *len = n;
  }
  rv_msg_clear(&m);
  return rc;
}

/* ---- results ------------------------------------------------------------------------------- */

static void s_stat_copy(rv_client_stat_t *o, const Rv__FsStat *st) {
  memset(o, 0, sizeof *o);
  snprintf(o->name, sizeof o->name, "%s", st->name ? st->name : "");
  o->dir = st->type == 1;
  o->perm = st->perm;
  o->mtime_ms = st->mtime_ms;
  o->atime_ms = st->atime_ms;
  o->size = st->size;
  o->nchildren = st->nchildren;
  snprintf(o->owner, sizeof o->owner, "%s", st->owner ? st->owner : "");
  snprintf(o->group, sizeof o->group, "%s", st->group ? st->group : "");
  o->inode = st->inode;
  o->dirs = st->dirs;
  o->files = st->files;
  o->bytes = st->bytes;
}

int rv_client_result_fill(rv_client_result_t *res, const Rv__FsReply *r) {
  res->code = (int)r->code;
  snprintf(res->msg, sizeof res->msg, "%s", r->message ? r->message : "");
  res->index = r->index;
  res->inode = r->inode;
  res->n = r->n;
  res->replayed = r->replayed;
  res->more = r->more;
  if (r->resume_after.len && r->resume_after.len <= RV_CLIENT_NAME_MAX) {
    memcpy(res->resume, r->resume_after.data, r->resume_after.len);
    res->resume[r->resume_after.len] = '\0';
  }
  res->dirs = r->dirs;
  res->files = r->files;
  res->bytes = r->bytes;
  res->digest = r->digest;
  res->replicas = r->replicas;
  if (r->stat) s_stat_copy(&res->stat, r->stat);
  if (r->node_status) {
    const Rv__NodeStatus *ns = r->node_status;
    rv_client_node_status_t *o = &res->status;
    snprintf(o->node, sizeof o->node, "%s", ns->node);
    snprintf(o->cluster, sizeof o->cluster, "%s", ns->cluster);
    snprintf(o->role, sizeof o->role, "%s", ns->role);
    snprintf(o->leader, sizeof o->leader, "%s", ns->leader);
    snprintf(o->health, sizeof o->health, "%s", ns->health);
    snprintf(o->version, sizeof o->version, "%s", ns->version);
    o->term = ns->term;
    o->commit = ns->commit;
    o->applied = ns->applied;
    o->last_index = ns->last_index;
    o->db_size = ns->db_size;
    o->uptime_ms = ns->uptime_ms;
    o->feature_level = ns->feature_level;
    o->cluster_level = ns->cluster_level;
  }
  if (r->n_xattrs) {
    res->xattrs = calloc(r->n_xattrs, sizeof *res->xattrs);
    if (!res->xattrs) goto oom;
    for (size_t i = 0; i < r->n_xattrs; i++, res->nxattrs++) {
      rv_client_xattr_t *x = &res->xattrs[i];
      size_t nl = r->xattrs[i]->name.len < sizeof x->name - 1 ? r->xattrs[i]->name.len
                                                              : sizeof x->name - 1;
      if (nl) memcpy(x->name, r->xattrs[i]->name.data, nl);
      x->name[nl] = '\0';
      x->len = r->xattrs[i]->value.len;
      if (!(x->value = malloc(x->len + 1))) goto oom;
      if (x->len) memcpy(x->value, r->xattrs[i]->value.data, x->len);
      x->value[x->len] = '\0';
    }
  }
  if (r->n_entries) {
    res->entries = calloc(r->n_entries, sizeof *res->entries);
    if (!res->entries) goto oom;
    for (size_t i = 0; i < r->n_entries; i++) s_stat_copy(&res->entries[i], r->entries[i]);
    res->nentries = r->n_entries;
  }
  const ProtobufCBinaryData *bytes = res->op == RV_CLIENT_CAT ? &r->content
                                     : res->op == RV_CLIENT_SNAPSHOT_READ && r->image
                                         ? &r->image->pairs
                                         : NULL;
  if (bytes && res->code == RV_OK) {
    res->content = malloc(bytes->len + 1);
    if (!res->content) goto oom;
    if (bytes->len) memcpy(res->content, bytes->data, bytes->len);
    res->content[bytes->len] = '\0';
    res->len = bytes->len;
  }
  if (r->image) {
    const Rv__SnapshotImage *im = r->image;
    rv_client_image_t *o = &res->image;
    o->stream = im->stream;
    o->offset = im->offset;
    o->last = im->last;
    o->index = im->index;
    o->term = im->term;
    snprintf(o->cluster, sizeof o->cluster, "%s", im->cluster ? im->cluster : "");
    snprintf(o->node, sizeof o->node, "%s", im->node ? im->node : "");
    o->store_format = im->store_format;
    o->estimated_keys = im->estimated_keys;
  }
  return RV_OK;
oom:
  res->code = RV_ENOMEM;
  snprintf(res->msg, sizeof res->msg, "%s: out of memory for the answer",
           rv_client_op_name(res->op));
  return RV_ENOMEM;
}

void rv_client_result_clear(rv_client_result_t *res) {
  if (!res) return;
  for (size_t i = 0; i < res->nxattrs; i++) free(res->xattrs[i].value);
  free(res->xattrs);
  free(res->entries);
  free(res->content);
  memset(res, 0, sizeof *res);
}

/* ---- synchronous wrappers ------------------------------------------------------------------ */

int rv_client_mkdir(rv_client_t *c, const char *path, unsigned flags, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_MKDIR, .path = path, .flags = flags};
  return rv_client_call(c, &q, res);
}

int rv_client_put(rv_client_t *c, const char *path, const void *data, size_t len, unsigned flags,
                  rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_PUT, .path = path, .data = data, .len = len, .flags = flags};
  return rv_client_call(c, &q, res);
}

int rv_client_touchz(rv_client_t *c, const char *path, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_TOUCHZ, .path = path};
  return rv_client_call(c, &q, res);
}

int rv_client_rm(rv_client_t *c, const char *path, unsigned flags, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_RM, .path = path, .flags = flags};
  return rv_client_call(c, &q, res);
}

int rv_client_mv(rv_client_t *c, const char *src, const char *dst, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_MV, .path = src, .path2 = dst};
  return rv_client_call(c, &q, res);
}

int rv_client_stat(rv_client_t *c, const char *path, unsigned flags, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_STAT, .path = path, .flags = flags};
  return rv_client_call(c, &q, res);
}

int rv_client_ls(rv_client_t *c, const char *path, const char *start_after, unsigned limit,
                 unsigned flags, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_LS, .path = path, .start_after = start_after,
                       .limit = limit, .flags = flags};
  return rv_client_call(c, &q, res);
}

int rv_client_ls_match(rv_client_t *c, const char *path, const char *start_after,
                       const char *pattern, unsigned flags, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_LS, .path = path, .start_after = start_after,
                       .pattern = pattern, .flags = flags};
  return rv_client_call(c, &q, res);
}

int rv_client_cat(rv_client_t *c, const char *path, unsigned flags, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_CAT, .path = path, .flags = flags};
  return rv_client_call(c, &q, res);
}

int rv_client_count(rv_client_t *c, const char *path, unsigned flags, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_COUNT, .path = path, .flags = flags};
  return rv_client_call(c, &q, res);
}

int rv_client_setattr(rv_client_t *c, const char *path, const rv_client_attrs_t *a,
                      rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_SETATTR, .path = path, .attrs = *a};
  return rv_client_call(c, &q, res);
}

int rv_client_append(rv_client_t *c, const char *path, const void *data, size_t len,
                     rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_APPEND, .path = path, .data = data, .len = len};
  return rv_client_call(c, &q, res);
}

int rv_client_truncate(rv_client_t *c, const char *path, uint64_t length,
                       rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_TRUNCATE, .path = path, .length = length};
  return rv_client_call(c, &q, res);
}

int rv_client_concat(rv_client_t *c, const char *target, const char *const *sources,
                     size_t nsources, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_CONCAT, .path = target, .sources = sources,
                       .nsources = nsources};
  return rv_client_call(c, &q, res);
}

int rv_client_setxattr(rv_client_t *c, const char *path, const char *name, const void *value,
                       size_t len, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_SETXATTR, .path = path, .xattr_name = name,
                       .xattr_value = value, .xattr_len = len};
  return rv_client_call(c, &q, res);
}

int rv_client_removexattr(rv_client_t *c, const char *path, const char *name,
                          rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_REMOVEXATTR, .path = path, .xattr_name = name};
  return rv_client_call(c, &q, res);
}

int rv_client_getxattrs(rv_client_t *c, const char *path, unsigned flags,
                        rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_GETXATTRS, .path = path, .flags = flags};
  return rv_client_call(c, &q, res);
}

int rv_client_node_status(rv_client_t *c, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_NODE_STATUS, .flags = RV_CLIENT_STALE};
  return rv_client_call(c, &q, res);
}

int rv_client_recovery_leave(rv_client_t *c, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_RECOVERY_LEAVE};
  return rv_client_call(c, &q, res);
}

int rv_client_digest(rv_client_t *c, unsigned flags, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_DIGEST, .flags = flags};
  return rv_client_call(c, &q, res);
}
