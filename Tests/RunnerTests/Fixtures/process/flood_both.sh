#!/bin/sh
# Writes $1 bytes to stdout and to stderr at the same time. A runner that
# reads only one pipe at a time deadlocks here once the other pipe fills.
head -c "$1" /dev/zero &
head -c "$1" /dev/zero >&2
wait
