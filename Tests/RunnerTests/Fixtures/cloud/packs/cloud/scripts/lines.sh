#!/bin/sh
# lines.sh N PAUSE: "line 1" .. "line N", sleeping PAUSE seconds after each.
i=1
while [ "$i" -le "$1" ]; do
  echo "line $i"
  [ "$2" = 0 ] || sleep "$2"
  i=$((i + 1))
done
