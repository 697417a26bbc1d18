#!/bin/sh
# wide.sh MIB: MIB MiB of 1000-byte lines (999 letters and a newline).
line=$(printf '%0999d' 0 | tr 0 w)
yes "$line" | head -c $(($1 * 1048576))
