#!/bin/sh
# Writes to both pipes, ends stdout without a newline, exits 3.
echo out-1
echo err-1 >&2
echo out-2
printf 'last-no-newline'
exit 3
