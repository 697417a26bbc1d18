#!/bin/sh
# Case 23 ignores_term: SIGTERM is ignored by the shell and its job.
trap '' TERM
sleep 300 &
echo "started $!"
wait
