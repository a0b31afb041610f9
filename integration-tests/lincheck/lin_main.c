/* rv-lincheck: checks a recorded history file for linearizability. The I/O shell around the
 * pure library: reads the file, sets the wall-clock deadline, prints the verdict.
 *
 *   rv-lincheck HISTORY.jsonl [--model namespace|register] [--timeout-s N] [--max-steps N]
 *               [--max-memory-mb N] [--stats]
 *
 * Exit codes (a contract with the integration tests that call it):
 *   0 linearizable, 1 NOT linearizable (the report on stdout), 2 bad input or usage ("error: "
 *   on stderr), 3 unknown: the budget ran out before a verdict. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lin_check.h"
#include "lin_history.h"
#include "lin_jsonl.h"
#include "lin_model_ns.h"
#include "lin_model_reg.h"

enum {
  LIN_EXIT_LINEARIZABLE = 0,
  LIN_EXIT_NOT_LINEARIZABLE = 1,
  LIN_EXIT_ERROR = 2,
  LIN_EXIT_UNKNOWN = 3
};

#define LIN_FILE_MAX ((size_t)4 << 30) /* refuse history files over 4 GiB */

typedef struct {
  const char *model;
  unsigned long long timeout_s, max_steps, max_memory_mb, stats;
} lin_cli_t;

typedef enum { LIN_OPT_FLAG, LIN_OPT_NAME, LIN_OPT_NUM } lin_opt_kind_t;

/* The options: one table for defaults, parsing, bounds and --help. */
static const struct {
  const char *name, *arg;
  lin_opt_kind_t kind;
  size_t field;                     /* offset in lin_cli_t */
  const char *def_name;             /* LIN_OPT_NAME: the default */
  unsigned long long min, max, def; /* LIN_OPT_NUM: bounds and default */
  const char *help;
} s_opts[] = {
    {"--model", "NAME", LIN_OPT_NAME, offsetof(lin_cli_t, model), "namespace", 0, 0, 0,
     "namespace (per-path fs ops) or register (read/write/cas)"},
    {"--timeout-s", "N", LIN_OPT_NUM, offsetof(lin_cli_t, timeout_s), NULL, 0, 86400, 60,
     "wall-clock budget in seconds, 0 = none"},
    {"--max-steps", "N", LIN_OPT_NUM, offsetof(lin_cli_t, max_steps), NULL, 0, UINT64_MAX, 0,
     "model-step budget, 0 = none"},
    {"--max-memory-mb", "N", LIN_OPT_NUM, offsetof(lin_cli_t, max_memory_mb), NULL, 0, 1u << 20,
     2048, "memo-cache budget of one partition in MiB, 0 = none"},
    {"--stats", NULL, LIN_OPT_FLAG, offsetof(lin_cli_t, stats), NULL, 0, 1, 0,
     "print ops, steps, time and cache size to stderr"},
};
#define LIN_NOPTS (sizeof s_opts / sizeof s_opts[0])

static const lin_model_t *const s_models[] = {&lin_model_ns, &lin_model_reg};

static void s_usage(FILE *f) {
  fprintf(f,
          "usage: rv-lincheck HISTORY.jsonl|- [options]\n"
          "Checks a history of concurrent operations (JSON lines, see lin_jsonl.h) for\n"
          "linearizability. Exit: 0 linearizable, 1 not, 2 bad input, 3 unknown.\n");
  for (size_t i = 0; i < LIN_NOPTS; i++) {
    char head[32];
    snprintf(head, sizeof head, "%s%s%s", s_opts[i].name, s_opts[i].arg ? " " : "",
             s_opts[i].arg ? s_opts[i].arg : "");
    fprintf(f, "  %-20s %s", head, s_opts[i].help);
    if (s_opts[i].kind == LIN_OPT_NAME) fprintf(f, " (default %s)", s_opts[i].def_name);
    if (s_opts[i].kind == LIN_OPT_NUM) fprintf(f, " (default %llu)", s_opts[i].def);
    fprintf(f, "\n");
  }
}

static int s_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int s_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "error: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return LIN_EXIT_ERROR;
}

/* Parses argv into cli (defaults first) and *path; returns -1 to go on, else an exit code. */
static int s_args(int argc, char **argv, lin_cli_t *cli, const char **path) {
  for (size_t o = 0; o < LIN_NOPTS; o++) {
    char *field = (char *)cli + s_opts[o].field;
    if (s_opts[o].kind == LIN_OPT_NAME)
      *(const char **)field = s_opts[o].def_name;
    else
      *(unsigned long long *)field = s_opts[o].def;
  }
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      s_usage(stdout);
      return LIN_EXIT_LINEARIZABLE;
    }
    if (strncmp(argv[i], "--", 2) != 0 || strcmp(argv[i], "-") == 0) {
      if (*path) return s_error("more than one history file (%s, %s)", *path, argv[i]);
      *path = argv[i];
      continue;
    }
    size_t o = 0;
    while (o < LIN_NOPTS && strcmp(s_opts[o].name, argv[i]) != 0) o++;
    if (o == LIN_NOPTS) return s_error("unknown option %s (see --help)", argv[i]);
    char *field = (char *)cli + s_opts[o].field;
    if (s_opts[o].kind == LIN_OPT_FLAG) {
      *(unsigned long long *)field = 1;
      continue;
    }
    if (i + 1 >= argc) return s_error("%s needs a value", argv[i]);
    const char *v = argv[++i];
    if (s_opts[o].kind == LIN_OPT_NAME) {
      *(const char **)field = v;
      continue;
    }
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || n < s_opts[o].min || n > s_opts[o].max)
      return s_error("%s: expected an integer in %llu..%llu, got \"%s\"", s_opts[o].name,
                     s_opts[o].min, s_opts[o].max, v);
    *(unsigned long long *)field = n;
  }
  if (!*path) return s_error("no history file given (see --help)");
  return -1;
}

/* Reads the whole file (or stdin for "-") into *buf (caller frees). */
static int s_read(const char *path, char **buf, size_t *len, rv_err_t *err) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f) return rv_err_set(err, RV_EIO, "%s: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  char *b = malloc(cap);
  int rc = b ? RV_OK : rv_err_set(err, RV_ENOMEM, "%s: out of memory", path);
  while (!rc) {
    if (n == cap) {
      char *nb = cap < LIN_FILE_MAX ? realloc(b, cap * 2) : NULL;
      if (!nb) {
        rc = rv_err_set(err, RV_ETOOBIG, "%s: too large or out of memory", path);
        break;
      }
      b = nb;
      cap *= 2;
    }
    size_t got = fread(b + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) rc = rv_err_set(err, RV_EIO, "%s: read error", path);
      break;
    }
  }
  if (f != stdin) fclose(f);
  if (rc) {
    free(b);
    return rc;
  }
  *buf = b;
  *len = n;
  return RV_OK;
}

static int64_t s_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool s_past_deadline(void *ctx) { return s_now_us() >= *(const int64_t *)ctx; }

int main(int argc, char **argv) {
  lin_cli_t cli;
  const char *path = NULL;
  int ex = s_args(argc, argv, &cli, &path);
  if (ex >= 0) return ex;
  const lin_model_t *m = NULL;
  for (size_t i = 0; i < sizeof s_models / sizeof *s_models; i++)
    if (strcmp(s_models[i]->name, cli.model) == 0) m = s_models[i];
  if (!m) return s_error("--model: unknown model \"%s\" (namespace, register)", cli.model);

  rv_err_t err;
  rv_err_clear(&err);
  char *text = NULL;
  size_t len = 0;
  lin_history_t *h = lin_history_new();
  lin_result_t *r = NULL;
  int64_t t0 = s_now_us(), deadline = t0 + (int64_t)cli.timeout_s * 1000000;
  lin_check_opts_t opts = {.max_steps = cli.max_steps,
                           .max_cache_bytes = (size_t)cli.max_memory_mb << 20,
                           .should_stop = cli.timeout_s ? s_past_deadline : NULL,
                           .stop_ctx = &deadline};
  int rc = h ? s_read(path, &text, &len, &err) : rv_err_set(&err, RV_ENOMEM, "out of memory");
  if (!rc) rc = lin_jsonl_parse(h, m, text, len, path, &err);
  if (!rc) rc = lin_history_validate(h, m, &err);
  if (!rc) rc = lin_check(h, m, &opts, &r, &err);
  if (rc) {
    ex = s_error("%s", err.msg);
  } else {
    printf("%s\n", r->summary);
    if (r->verdict == LIN_NOT_LINEARIZABLE) printf("%s", r->report);
    if (cli.stats)
      fprintf(stderr,
              "stats: %zu ops (%zu searched) in %zu partitions, %llu steps, %.1f ms, "
              "largest cache %zu KiB\n",
              r->n_ops, r->n_searched, r->n_partitions, (unsigned long long)r->steps,
              (double)(s_now_us() - t0) / 1000.0, r->cache_bytes >> 10);
    ex = r->verdict == LIN_LINEARIZABLE       ? LIN_EXIT_LINEARIZABLE
         : r->verdict == LIN_NOT_LINEARIZABLE ? LIN_EXIT_NOT_LINEARIZABLE
                                              : LIN_EXIT_UNKNOWN;
  }
  lin_result_destroy(&r);
  lin_history_destroy(&h);
  free(text);
  return ex;
}
