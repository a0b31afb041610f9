/* srv_fault.c: the fault file (see srv_fault.h): parse, reload on change, decide per request. */
#include "srv_fault.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { MAX_RULES = 32 };

typedef enum { K_ERROR, K_ROWFAIL, K_DELAY, K_DROP, K_BLACKHOLE, K_CORRUPT } kind_t;

typedef struct {
  kind_t kind;
  char word[16];
  int http;
  char code[48];
  const char *msg;
  long count;  /* remaining uses; -1 = unlimited */
  int percent; /* 0 = use count */
  int delay_ms;
  int corrupt; /* SRV_CORRUPT_* */
  srv_rowfail_t rowfail;
  char action[64]; /* "" = every action */
} rule_t;

struct srv_fault {
  char *path;
  pthread_mutex_t mu;
  struct stat seen;
  bool loaded;
  rule_t rules[MAX_RULES];
  int nrules;
  char error[300]; /* parse error of the current file, "" when fine */
  unsigned rng;
};

static const struct {
  const char *word;
  int http;
  const char *code, *msg;
} ERRORS[] = {
  {"busy", 503, "OTSServerBusy", "Server is busy."},
  {"partition", 503, "OTSPartitionUnavailable", "The partition is not available."},
  {"timeout", 503, "OTSTimeout", "Operation timeout."},
  {"unavailable", 503, "OTSServerUnavailable", "Server is not available."},
  {"conflict", 409, "OTSRowOperationConflict", "Data is being modified by the other request."},
  {"quota", 403, "OTSQuotaExhausted", "Too frequent table operations."},
};

srv_fault_t *srv_fault_new(const char *path) {
  srv_fault_t *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->path = path ? strdup(path) : NULL;
  pthread_mutex_init(&f->mu, NULL);
  const char *seed = getenv("RV_OTS_FAULT_SEED");
  f->rng = seed ? (unsigned)strtoul(seed, NULL, 10) : 1;
  return f;
}

void srv_fault_destroy(srv_fault_t **fp) {
  if (!fp || !*fp) return;
  pthread_mutex_destroy(&(*fp)->mu);
  free((*fp)->path);
  free(*fp);
  *fp = NULL;
}

/* "N" or "P%"; returns 0 or -1. */
static int parse_amount(const char *s, rule_t *r) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || v < 0) return -1;
  if (*end == '%' && end[1] == 0 && v <= 100) { r->percent = (int)v; r->count = -1; return 0; }
  if (*end) return -1;
  r->count = v;
  return 0;
}

static int parse_line(char *line, rule_t *r, char *err, size_t errlen) {
  char *tok[8];
  int n = 0;
  for (char *save = NULL, *t = strtok_r(line, " \t", &save); t && n < 8; t = strtok_r(NULL, " \t", &save)) tok[n++] = t;
  memset(r, 0, sizeof *r);
  r->count = -1;
  if (n && strncmp(tok[n - 1], "action=", 7) == 0) {
    snprintf(r->action, sizeof r->action, "%s", tok[n - 1] + 7);
    n--;
  }
  if (n == 0) { snprintf(err, errlen, "missing directive"); return -1; }
  snprintf(r->word, sizeof r->word, "%s", tok[0]);
  for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++)
    if (strcmp(tok[0], ERRORS[i].word) == 0) {
      r->kind = K_ERROR;
      r->http = ERRORS[i].http;
      snprintf(r->code, sizeof r->code, "%s", ERRORS[i].code);
      r->msg = ERRORS[i].msg;
      if (n != 2 || parse_amount(tok[1], r)) { snprintf(err, errlen, "%s takes N or P%%", tok[0]); return -1; }
      return 0;
    }
  if (strcmp(tok[0], "drop") == 0) {
    r->kind = K_DROP;
    if (n != 2 || parse_amount(tok[1], r)) { snprintf(err, errlen, "drop takes N or P%%"); return -1; }
    return 0;
  }
  if (strcmp(tok[0], "corrupt") == 0) {
    r->kind = K_CORRUPT;
    const char *what = n >= 2 ? tok[1] : "";
    r->corrupt = strcmp(what, "md5") == 0 ? SRV_CORRUPT_MD5 : strcmp(what, "sig") == 0 ? SRV_CORRUPT_SIG
               : strcmp(what, "crc") == 0 ? SRV_CORRUPT_CRC : 0;
    if (n != 3 || !r->corrupt || parse_amount(tok[2], r)) {
      snprintf(err, errlen, "corrupt takes md5, sig or crc and N or P%%");
      return -1;
    }
    return 0;
  }
  if (strcmp(tok[0], "blackhole") == 0) {
    r->kind = K_BLACKHOLE;
    if (n != 1) { snprintf(err, errlen, "blackhole takes no argument"); return -1; }
    return 0;
  }
  if (strcmp(tok[0], "delay") == 0) {
    r->kind = K_DELAY;
    char *end;
    long ms = n >= 2 ? strtol(tok[1], &end, 10) : -1;
    if (n < 2 || n > 3 || *end || ms < 0 || ms > 600000 || (n == 3 && parse_amount(tok[2], r))) {
      snprintf(err, errlen, "delay takes MS (0..600000) and an optional N or P%%");
      return -1;
    }
    r->delay_ms = (int)ms;
    return 0;
  }
  if (strcmp(tok[0], "rowfail") == 0) {
    r->kind = K_ROWFAIL;
    if (n < 3 || n > 4 || parse_amount(tok[1], r) || r->percent) {
      snprintf(err, errlen, "rowfail takes N, a list of row indices and an optional error code");
      return -1;
    }
    for (char *save = NULL, *t = strtok_r(tok[2], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      char *end;
      long ix = strtol(t, &end, 10);
      if (*end || ix < 0 || ix >= 200 || r->rowfail.count == 16) {
        snprintf(err, errlen, "rowfail: bad row index '%s' (0..199, at most 16)", t);
        return -1;
      }
      r->rowfail.index[r->rowfail.count++] = (int)ix;
    }
    snprintf(r->rowfail.code, sizeof r->rowfail.code, "%s", n == 4 ? tok[3] : "OTSPartitionUnavailable");
    return 0;
  }
  snprintf(err, errlen, "unknown directive '%s'", tok[0]);
  return -1;
}

/* Re-reads the file when it changed; called with mu held. */
static void reload(srv_fault_t *f) {
  struct stat st;
  if (stat(f->path, &st) != 0) { /* no file: no faults */
    f->nrules = 0;
    f->error[0] = 0;
    f->loaded = false;
    return;
  }
  if (f->loaded && st.st_ino == f->seen.st_ino && st.st_size == f->seen.st_size &&
      st.st_mtim.tv_sec == f->seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == f->seen.st_mtim.tv_nsec)
    return;
  f->seen = st;
  f->loaded = true;
  f->nrules = 0;
  f->error[0] = 0;
  FILE *in = fopen(f->path, "r");
  if (!in) { snprintf(f->error, sizeof f->error, "fault file %s: %s", f->path, strerror(errno)); return; }
  char line[512];
  int lineno = 0;
  while (fgets(line, sizeof line, in)) {
    lineno++;
    char *hash = strchr(line, '#');
    if (hash) *hash = 0;
    line[strcspn(line, "\r\n")] = 0;
    if (strspn(line, " \t") == strlen(line)) continue;
    char err[200];
    if (f->nrules == MAX_RULES) { snprintf(f->error, sizeof f->error, "fault file %s: more than %d rules", f->path, MAX_RULES); break; }
    if (parse_line(line, &f->rules[f->nrules], err, sizeof err)) {
      snprintf(f->error, sizeof f->error, "fault file %s:%d: %s", f->path, lineno, err);
      f->nrules = 0;
      break;
    }
    f->nrules++;
  }
  fclose(in);
  fprintf(stderr, "rv-ots-server: fault file %s loaded: %d rule(s)%s%s\n", f->path, f->nrules, f->error[0] ? "; " : "",
          f->error);
}

/* Does rule r fire for this request? Consumes one use. */
static bool fires(srv_fault_t *f, rule_t *r, const char *action) {
  if (r->action[0] && strcmp(r->action, action) != 0) return false;
  if (r->percent) return (int)(rand_r(&f->rng) % 100) < r->percent;
  if (r->count == 0) return false;
  if (r->count > 0) r->count--;
  return true;
}

void srv_fault_decide(srv_fault_t *f, const char *action, srv_fault_plan_t *p) {
  memset(p, 0, sizeof *p);
  if (!f || !f->path) return;
  pthread_mutex_lock(&f->mu);
  reload(f);
  if (f->error[0]) {
    p->http = 500;
    snprintf(p->code, sizeof p->code, "OTSInternalServerError");
    snprintf(p->msg, sizeof p->msg, "%s", f->error);
    snprintf(p->what, sizeof p->what, "bad-fault-file");
  }
  for (int i = 0; i < f->nrules && !p->http; i++) {
    rule_t *r = &f->rules[i];
    if (r->kind == K_ROWFAIL && strcmp(action, "BatchWriteRow") != 0) continue;
    if (r->kind == K_BLACKHOLE && r->action[0] && strcmp(r->action, action) != 0) continue;
    if (r->kind == K_CORRUPT && p->corrupt) continue; /* one damage per answer: the first rule's */
    if (r->kind != K_BLACKHOLE && !fires(f, r, action)) continue;
    switch (r->kind) {
    case K_ERROR:
      p->http = r->http;
      snprintf(p->code, sizeof p->code, "%s", r->code);
      snprintf(p->msg, sizeof p->msg, "%s", r->msg);
      break;
    case K_ROWFAIL: p->rowfail = r->rowfail; break;
    case K_DELAY: p->delay_ms += r->delay_ms; break;
    case K_DROP: p->drop = true; break;
    case K_BLACKHOLE: p->blackhole = true; break;
    case K_CORRUPT: p->corrupt = r->corrupt; break;
    }
    size_t l = strlen(p->what);
    snprintf(p->what + l, sizeof p->what - l, "%s%s", l ? "," : "", r->word);
    if (p->drop || p->blackhole) break;
  }
  pthread_mutex_unlock(&f->mu);
}
