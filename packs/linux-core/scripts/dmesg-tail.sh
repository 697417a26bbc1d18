#!/bin/sh
# Prints the newest $1 lines of the kernel ring buffer with ISO timestamps.
set -eu
/usr/bin/dmesg --time-format=iso | /usr/bin/tail -n "$1"
