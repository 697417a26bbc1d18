#!/bin/sh
# Modes for the timeout tests; each prints its pid line first so tests can find it.
case "$1" in
  plain) echo "started $$"; exec sleep 300 ;;
  grandchild) sleep 300 & echo "started $$ child $!"; wait ;;
  setsid) setsid sleep 300 & echo "started $$ child $!"; wait ;;
  ignore-term) trap '' TERM; echo "started $$"; sleep 300 ;;
  holder) sleep 300 & echo "started $$ child $!"; exit 0 ;;
  detached)
    # shellcheck disable=SC2217 # sleep reads nothing; </dev/null detaches it from the run's stdin
    sleep 300 </dev/null >/dev/null 2>&1 &
    echo "started $$ child $!"; exit 0 ;;
  jobgroup)
    # Job control (bash's, which needs no terminal) gives the background job
    # a process group of its own, in the run's session.
    # shellcheck disable=SC2016 # expanded by the inner bash
    exec bash -c 'set -m; (exec >/dev/null 2>&1; exec sleep 300) & echo "started $$ child $!"' ;;
esac
