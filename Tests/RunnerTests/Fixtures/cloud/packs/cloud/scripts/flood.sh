#!/bin/sh
# flood.sh MIB WIDTH: MIB MiB of WIDTH-byte lines (WIDTH-1 letters and a newline).
line=$(printf "%0$(($2 - 1))d" 0 | tr 0 x)
yes "$line" | head -c $(($1 * 1048576))
