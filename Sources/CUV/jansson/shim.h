/* Jansson: reads JSON keeping integers and reals apart and keys in order.
 * Its type tests and reference counting are macros or inline functions. */
#ifndef WARD_CJANSSON_SHIM_H
#define WARD_CJANSSON_SHIM_H
#include <jansson.h>

static inline int cjansson_typeof(const json_t *j) { return json_typeof(j); }
static inline void cjansson_decref(json_t *j) { json_decref(j); }
#endif
