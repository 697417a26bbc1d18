#!/bin/sh
# flood.sh MIB: MIB MiB of 1024-byte lines (1023 letters and a newline).
line=$(printf '%01023d' 0 | tr 0 x)
yes "$line" | head -c $(($1 * 1048576))
