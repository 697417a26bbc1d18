/* PCRE2, 8-bit code units. The generic names (pcre2_compile, ...) are macros
 * over the _8 functions, so Swift calls the _8 functions directly. */
#ifndef WARD_CPCRE2_SHIM_H
#define WARD_CPCRE2_SHIM_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* PCRE2_ZERO_TERMINATED and PCRE2_UNSET are casts Swift does not import. */
static inline size_t cpcre2_unset(void) { return PCRE2_UNSET; }
#endif
