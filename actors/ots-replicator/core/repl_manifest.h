/* repl_manifest: the file backend's manifest, the one small file that says what the remote copy
 * is (issue 9). A manifest carries the meta row's fields (repl_meta_t) and the data files of the
 * current generation, oldest first: the base files (sorted runs of a base write or a
 * compaction), then the segments of incremental writes. Manifests are numbered (seq); a commit
 * is the exclusive creation of manifest seq+1 (see repl_backend_file.c), so this codec only
 * turns a manifest into text and back. Pure: libc and rv_common.
 *
 * Text, one field per line, so an operator can read it with cat:
 *   rv-replica-manifest 1
 *   seq 17
 *   format 1
 *   cluster c1
 *   synced_index 1234
 *   term 5
 *   generation 2
 *   updated_ms 1764760000000
 *   rows 1000
 *   bytes 65536
 *   file B g2-t5-0123456789abcdef.rvs 4096 10     (kind, name, size in bytes, records)
 *   file S g2-t5-fedcba9876543210.rvs 512 3
 *   end crc32c 1a2b3c4d                            (CRC-32C of every byte before "end")
 * Unknown keys are refused (a newer writer's manifest is not half-understood). */
#ifndef REPL_MANIFEST_H
#define REPL_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repl_backend.h"
#include "rv_error.h"

#define REPL_MANIFEST_VERSION 1
#define REPL_FILE_NAME_MAX 64     /* a data file's name (no directory) */
#define REPL_MANIFEST_FILES_MAX 100000

typedef struct {
  char kind;                        /* 'B' base (a sorted run of the generation), 'S' segment */
  char name[REPL_FILE_NAME_MAX];    /* file name in the cluster's directory */
  uint64_t size;                    /* bytes: a shorter file is truncated */
  uint64_t records;                 /* records in it, deletions included */
} repl_mfile_t;

typedef struct {
  uint64_t seq;          /* its number: manifest-<seq> */
  repl_meta_t meta;      /* the meta row */
  repl_mfile_t *files;   /* owned; base files first, then segments, oldest first */
  size_t nfiles, cap;
} repl_manifest_t;

void repl_manifest_init(repl_manifest_t *m);
void repl_manifest_close(repl_manifest_t *m);
/* Deep copy of src into dst (dst initialised or closed before). RV_ENOMEM. */
int repl_manifest_copy(repl_manifest_t *dst, const repl_manifest_t *src, rv_err_t *err);
/* Appends a file. RV_EINVAL for a bad name or kind, RV_ETOOBIG past REPL_MANIFEST_FILES_MAX,
 * RV_ENOMEM. */
int repl_manifest_add(repl_manifest_t *m, char kind, const char *name, uint64_t size,
                      uint64_t records, rv_err_t *err);
/* Files of a kind. */
size_t repl_manifest_count(const repl_manifest_t *m, char kind);

/* The text of m, NUL-terminated, in *out (caller frees) of *len bytes. RV_EINVAL when the cluster
 * id holds whitespace or is empty; RV_ENOMEM. */
int repl_manifest_encode(const repl_manifest_t *m, char **out, size_t *len, rv_err_t *err);
/* Parses text of len bytes into m (initialised; replaced). RV_ECORRUPT with err naming the line
 * and what is wrong (the caller prefixes the file's path). */
int repl_manifest_decode(const char *text, size_t len, repl_manifest_t *m, rv_err_t *err);

/* Whether name is a data file name this backend writes: "g<gen>-t<term>-<16 hex>.rvs"; *term
 * gets its term (the fencing rule of the housekeeping uses it). */
bool repl_manifest_parse_name(const char *name, uint64_t *gen, uint64_t *term);

#endif
