/* sup_http: the node's monitoring HTTP server (metrics.listen), libmicrohttpd run inside the
 * supervisor's own poll loop: no thread, so a handler reads the supervisor's state directly and
 * every answer is current (a scrape never sees a copy made earlier). libmicrohttpd parses HTTP;
 * this file only maps a GET of a path to the handler's answer. I/O: sockets. */
#ifndef SUP_HTTP_H
#define SUP_HTTP_H

#include <czmq.h>

#include "rv_error.h"

typedef struct sup_http sup_http_t;

/* One answer. body is heap memory that the server takes (freed after it was sent). */
typedef struct {
  unsigned status;          /* 200, 404, 503, ... */
  const char *content_type; /* static string */
  char *body;
  size_t len;
} sup_http_answer_t;

/* Answers a GET of path (no query string). Runs on the loop's thread, must not block. */
typedef void(sup_http_handler_fn)(void *arg, const char *path, sup_http_answer_t *out);

/* Listens on listen ("host:port", "[v6]:port"; a host name is resolved, its first address used)
 * and registers with loop. handler and arg are borrowed for the server's life. Returns 0, or
 * RV_EIO / RV_ECONFIG naming the address and the reason (e.g. the port is in use). */
int sup_http_new(zloop_t *loop, const char *listen, sup_http_handler_fn *handler, void *arg,
                 sup_http_t **out, rv_err_t *err);

/* Closes every connection and the listener; nulls *h; safe on NULL and twice. */
void sup_http_destroy(sup_http_t **h);

/* Requests answered and requests refused (anything but GET or HEAD) since start. */
uint64_t sup_http_requests(const sup_http_t *h);

#endif
