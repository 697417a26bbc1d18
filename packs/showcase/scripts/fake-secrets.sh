#!/bin/sh
# Fake credentials (AWS's documented example key and made-up values) that ward's
# built-in rules redact.
echo "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"
echo "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.ZmFrZS1kZW1vLXRva2Vu.c2lnbmF0dXJl"
echo "db: user=app password=correct-horse-battery-staple host=db-1"
echo "this line holds no secret"
