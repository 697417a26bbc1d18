#!/bin/sh
# Prints the secret split across two writes with a pause, then encoded forms.
half=$(printf '%s' "$TOKEN" | cut -c1-5)
rest=$(printf '%s' "$TOKEN" | cut -c6-)
printf 'pre %s' "$half"; sleep 0.4; printf '%s post\n' "$rest"
printf '{"token":"%s"}\n' "$TOKEN"
printf '%s' "$TOKEN" | base64
echo "argv and env done"
