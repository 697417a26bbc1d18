/* wslay: RFC 6455 framing, I/O-agnostic. Debian ships no .pc file, so the
 * module map names the library itself. */
#ifndef WARD_CWSLAY_SHIM_H
#define WARD_CWSLAY_SHIM_H
#include <wslay/wslay.h>
#endif
