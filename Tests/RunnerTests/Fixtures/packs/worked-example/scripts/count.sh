#!/bin/sh
# Counts from 1 to $1.
set -eu
i=1
while [ "$i" -le "$1" ]; do
    echo "$i"
    i=$((i + 1))
done
