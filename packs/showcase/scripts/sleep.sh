#!/bin/sh
# Sleeps far longer than the action's timeout allows.
echo "going to sleep for 60 seconds"
/usr/bin/sleep 60
echo "woke up (this line should never appear)"
