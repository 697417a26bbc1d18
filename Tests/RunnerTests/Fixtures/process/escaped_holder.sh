#!/bin/sh
# The direct child exits at once; an escaped job (its own session, so no
# group kill reaches it) keeps the pipes open.
setsid /bin/sh -c 'echo "started $$"; exec sleep 300' &
