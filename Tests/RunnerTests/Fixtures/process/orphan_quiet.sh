#!/bin/sh
# Leaves an orphan that holds no pipe and exits a moment after the shell.
sleep 1 </dev/null >/dev/null 2>&1 &
echo "orphan $!"
