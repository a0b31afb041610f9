/* repl_file_merge: a key-ordered merge of the file backend's data files, oldest layer first:
 * for each key the newest layer's record wins (deletions included: the caller decides whether a
 * deletion hides the key or is passed on). Used by scans and by compaction. I/O shell. */
#ifndef REPL_FILE_MERGE_H
#define REPL_FILE_MERGE_H

#include "repl_file_seg.h"

typedef struct repl_file_merge repl_file_merge_t;

/* Opens every file of m (in the manifest's order: base runs, then segments) in dir, positioned
 * after `after` (alen 0: from the first key). Errors as repl_seg_reader_open. */
int repl_file_merge_open(const char *dir, const repl_manifest_t *m, const uint8_t *after,
                         size_t alen, repl_file_merge_t **out, rv_err_t *err);
/* The next key's winning record (borrowed until the next call), or *eof. */
int repl_file_merge_next(repl_file_merge_t *g, repl_seg_rec_t *rec, bool *eof, rv_err_t *err);
void repl_file_merge_close(repl_file_merge_t **g);

#endif
