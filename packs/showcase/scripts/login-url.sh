#!/bin/sh
# Echoes the secret back inside a URL; ward must redact it wherever it appears.
set -eu
echo "open https://login.example.invalid/session?token=$LOGIN_TOKEN to continue"
echo "token length: ${#LOGIN_TOKEN}"
