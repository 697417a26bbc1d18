#!/bin/sh
# Counts from 1 to $1, after saying where it runs and what it was given.
set -eu
echo "counting to $1 in $(pwd) (COUNT=$COUNT MODE=$MODE LANG=${LANG:-unset})"
i=1
while [ "$i" -le "$1" ]; do
    echo "$i"
    i=$((i + 1))
done
