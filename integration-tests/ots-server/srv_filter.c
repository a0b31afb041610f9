/* srv_filter.c: column conditions and read filters (reference 3.8): structure and limit checks
 * (at most 32 filters, NOT takes exactly one sub-filter, AND/OR at least two), evaluation
 * against the latest version of a row's columns, and the row-existence part of a Condition. */
#include <stdlib.h>
#include <string.h>

#include "srv.h"

enum { MAX_FILTERS = 32, MAX_DEPTH = 16 };

static int check(const uint8_t *p, size_t n, int depth, int *count, srv_err_t *e) {
  if (++*count > MAX_FILTERS)
    return srv_fail(e, SRV_PARAM, "The count of filters exceeds the limit: %d.", MAX_FILTERS);
  if (depth > MAX_DEPTH) return srv_fail(e, SRV_PARAM, "Filters are nested deeper than %d.", MAX_DEPTH);
  Otssrv__Filter *f = otssrv__filter__unpack(NULL, n, p);
  if (!f) return srv_fail(e, SRV_PARAM, "Malformed Filter (missing required field or bad protobuf).");
  int rc = 0;
  if (f->type == OTSSRV__FILTER_TYPE__FT_SINGLE_COLUMN_VALUE) {
    Otssrv__SingleColumnValueFilter *sf = otssrv__single_column_value_filter__unpack(NULL, f->filter.len, f->filter.data);
    if (!sf) {
      rc = srv_fail(e, SRV_PARAM, "Malformed SingleColumnValueFilter (missing required field or bad protobuf).");
    } else {
      srv_value_t v;
      uint8_t *owned;
      char perr[300];
      if (srv_pbuf_decode_bare_value(sf->column_value.data, sf->column_value.len, &v, &owned, perr, sizeof perr))
        rc = srv_fail(e, SRV_PARAM, "Invalid column_value of filter on '%s': %s", sf->column_name, perr);
      else if (v.type == SRV_VT_INF_MIN || v.type == SRV_VT_INF_MAX || v.type == SRV_VT_AUTO_INC)
        rc = srv_fail(e, SRV_PARAM, "Invalid column_value of filter on '%s': %s cannot be compared.", sf->column_name,
                      srv_vt_name(v.type));
      free(owned);
      otssrv__single_column_value_filter__free_unpacked(sf, NULL);
    }
  } else if (f->type == OTSSRV__FILTER_TYPE__FT_COMPOSITE_COLUMN_VALUE) {
    Otssrv__CompositeColumnValueFilter *cf = otssrv__composite_column_value_filter__unpack(NULL, f->filter.len, f->filter.data);
    if (!cf) {
      rc = srv_fail(e, SRV_PARAM, "Malformed CompositeColumnValueFilter (missing required field or bad protobuf).");
    } else {
      if (cf->combinator == OTSSRV__LOGICAL_OPERATOR__LO_NOT && cf->n_sub_filters != 1)
        rc = srv_fail(e, SRV_PARAM, "The number of sub filters of NOT must be 1, got %zu.", cf->n_sub_filters);
      else if (cf->combinator != OTSSRV__LOGICAL_OPERATOR__LO_NOT && cf->n_sub_filters < 2)
        rc = srv_fail(e, SRV_PARAM, "The number of sub filters of AND/OR must be at least 2, got %zu.", cf->n_sub_filters);
      for (size_t i = 0; rc == 0 && i < cf->n_sub_filters; i++) {
        size_t len = otssrv__filter__get_packed_size(cf->sub_filters[i]);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) { rc = srv_fail(e, 500, "OTSInternalServerError", "out of memory"); break; }
        otssrv__filter__pack(cf->sub_filters[i], buf);
        rc = check(buf, len, depth + 1, count, e);
        free(buf);
      }
      otssrv__composite_column_value_filter__free_unpacked(cf, NULL);
    }
  } else {
    rc = srv_fail(e, SRV_PARAM, "Column pagination filters are not allowed in a condition or by this server.");
  }
  otssrv__filter__free_unpacked(f, NULL);
  return rc;
}

int srv_filter_check(const uint8_t *p, size_t n, srv_err_t *e) {
  int count = 0;
  return check(p, n, 0, &count, e);
}

static const srv_cell_t *find_col(const srv_row_t *row, const char *name) {
  if (!row) return NULL;
  for (size_t i = 0; i < row->nattrs; i++)
    if (strcmp(row->attrs[i].name, name) == 0) return &row->attrs[i];
  return NULL;
}

/* [BELIEF] values of different types never compare equal; only NOT_EQUAL passes. */
static int compare(int comparator, const srv_value_t *a, const srv_value_t *b) {
  if (a->type != b->type) return comparator == OTSSRV__COMPARATOR_TYPE__CT_NOT_EQUAL;
  int c = srv_value_cmp(a, b);
  switch (comparator) {
  case OTSSRV__COMPARATOR_TYPE__CT_EQUAL: return c == 0;
  case OTSSRV__COMPARATOR_TYPE__CT_NOT_EQUAL: return c != 0;
  case OTSSRV__COMPARATOR_TYPE__CT_GREATER_THAN: return c > 0;
  case OTSSRV__COMPARATOR_TYPE__CT_GREATER_EQUAL: return c >= 0;
  case OTSSRV__COMPARATOR_TYPE__CT_LESS_THAN: return c < 0;
  case OTSSRV__COMPARATOR_TYPE__CT_LESS_EQUAL: return c <= 0;
  default: return 0;
  }
}

static int eval_filter(const Otssrv__Filter *f, const srv_row_t *row);

static int eval_packed(const uint8_t *p, size_t n, const srv_row_t *row) {
  Otssrv__Filter *f = otssrv__filter__unpack(NULL, n, p);
  if (!f) return 0;
  int r = eval_filter(f, row);
  otssrv__filter__free_unpacked(f, NULL);
  return r;
}

static int eval_filter(const Otssrv__Filter *f, const srv_row_t *row) {
  int r = 0;
  if (f->type == OTSSRV__FILTER_TYPE__FT_SINGLE_COLUMN_VALUE) {
    Otssrv__SingleColumnValueFilter *sf = otssrv__single_column_value_filter__unpack(NULL, f->filter.len, f->filter.data);
    if (!sf) return 0;
    srv_value_t v;
    uint8_t *owned;
    char perr[300];
    if (srv_pbuf_decode_bare_value(sf->column_value.data, sf->column_value.len, &v, &owned, perr, sizeof perr) == 0) {
      const srv_cell_t *c = find_col(row, sf->column_name);
      r = c && c->has_value ? compare(sf->comparator, &c->v, &v) : !sf->filter_if_missing;
      free(owned);
    }
    otssrv__single_column_value_filter__free_unpacked(sf, NULL);
  } else if (f->type == OTSSRV__FILTER_TYPE__FT_COMPOSITE_COLUMN_VALUE) {
    Otssrv__CompositeColumnValueFilter *cf = otssrv__composite_column_value_filter__unpack(NULL, f->filter.len, f->filter.data);
    if (!cf) return 0;
    if (cf->combinator == OTSSRV__LOGICAL_OPERATOR__LO_NOT) {
      r = cf->n_sub_filters == 1 && !eval_filter(cf->sub_filters[0], row);
    } else {
      bool and_ = cf->combinator == OTSSRV__LOGICAL_OPERATOR__LO_AND;
      r = and_;
      for (size_t i = 0; i < cf->n_sub_filters; i++) {
        int x = eval_filter(cf->sub_filters[i], row);
        if (and_ && !x) { r = 0; break; }
        if (!and_ && x) { r = 1; break; }
      }
    }
    otssrv__composite_column_value_filter__free_unpacked(cf, NULL);
  }
  return r;
}

int srv_filter_eval(const uint8_t *p, size_t n, const srv_row_t *row) { return eval_packed(p, n, row); }

int srv_condition_check(const Otssrv__Condition *c, const srv_row_t *row, srv_err_t *e) {
  if (c->has_column_condition && c->column_condition.len && srv_filter_check(c->column_condition.data, c->column_condition.len, e))
    return -1;
  switch (c->row_existence) {
  case OTSSRV__ROW_EXISTENCE_EXPECTATION__IGNORE: break;
  case OTSSRV__ROW_EXISTENCE_EXPECTATION__EXPECT_EXIST:
    if (!row) return srv_fail(e, 403, "OTSConditionCheckFail", "Condition check failed.");
    break;
  case OTSSRV__ROW_EXISTENCE_EXPECTATION__EXPECT_NOT_EXIST:
    if (row) return srv_fail(e, 403, "OTSConditionCheckFail", "Condition check failed.");
    break;
  default: return srv_fail(e, SRV_PARAM, "Invalid row_existence %d.", (int)c->row_existence);
  }
  if (c->has_column_condition && c->column_condition.len && !srv_filter_eval(c->column_condition.data, c->column_condition.len, row))
    return srv_fail(e, 403, "OTSConditionCheckFail", "Condition check failed.");
  return 0;
}
