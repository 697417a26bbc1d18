#!/bin/sh
# Leaves an orphan that holds no pipe and exits a moment after the shell.
# shellcheck disable=SC2217 # sleep reads nothing; </dev/null detaches it from our stdin
sleep 1 </dev/null >/dev/null 2>&1 &
echo "orphan $!"
