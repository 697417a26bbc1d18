#!/bin/sh
# Case 23 escaped_child: the job leaves the group with setsid. The inner
# shell prints its pid only once it leads its own session, then becomes sleep.
setsid /bin/sh -c 'echo "started $$"; exec sleep 300' &
wait
