#!/bin/sh
# Case 23 bg_child: a background job in the same process group, then wait.
sleep 300 &
echo "started $!"
wait
