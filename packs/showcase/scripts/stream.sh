#!/bin/sh
# Prints $1 numbered lines, a fifth of a second apart.
set -eu
i=1
while [ "$i" -le "$1" ]; do
    echo "line $i of $1"
    /usr/bin/sleep 0.2
    i=$((i + 1))
done
