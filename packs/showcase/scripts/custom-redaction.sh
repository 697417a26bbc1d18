#!/bin/sh
# The ticket matches the pack's corp-ticket rule, the token the action's demo-token rule.
echo "working on ticket TKT-20261203 for the migration"
echo "demo token issued: DEMO-424242"
echo "nothing to hide on this line"
