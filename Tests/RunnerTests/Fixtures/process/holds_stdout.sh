#!/bin/sh
# The direct child exits at once; its background job keeps stdout open.
sleep 300 &
echo "bye $!"
