#!/bin/sh
# wait.sh SECONDS MODE: print the shell's pid, then sleep (ignoring SIGTERM in
# mode ignore-term, so only the kill after the grace ends it).
[ "$2" = ignore-term ] && trap '' TERM
echo "waiting $$"
sleep "$1"
echo "done waiting"
