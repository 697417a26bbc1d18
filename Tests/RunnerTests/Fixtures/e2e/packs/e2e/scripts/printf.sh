#!/bin/sh
# Fixed outputs for the line-handling tests.
case "$1" in
  no-newline) printf 'fatal: disk full' ;;
  mixed) printf 'a\nb' ;;
  just-newline) printf '\n' ;;
  err-no-newline) printf 'oops' >&2; exit 3 ;;
  invalid-utf8) printf 'ok\n\037\213\010\000\377\376abc\n\303\251t\303\251\n' ;;
  split-mb) printf 'caf\303'; sleep 0.4; printf '\251\n' ;;
  long-line) seq 1 3; head -c 70000 /dev/zero | tr '\0' x; echo; seq 4 6 ;;
  huge-line) head -c 10000000 /dev/zero | tr '\0' y; echo; echo after ;;
  pem) printf 'before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAplaceholder\nQUFBQUJCQkJDQ0NDRERERA==\n-----END RSA PRIVATE KEY-----\nafter\n' ;;
  builtins) printf 'id AKIAABCDEFGHIJKLMNOP here\nAuthorization: Bearer abcdefghijklmnopqrstuvwxyz012345\npassword=hunter2hunter2 user=bob\npass_count=3\n' ;;
  ticket) echo "see TKT-12345678 for details" ;;
  interleave) printf 'abc'; printf 'ERR-1\n' >&2; printf 'def\n'; printf 'MARK:v=none\n'; echo ERR-2 >&2 ;;
  env) env ;;
  controls) printf '0123456789abcdef\177ghij\033[0mtail\tend\n' ;;
  c1-controls) printf 'csi \302\2332J and \302\205 next, \302\240 is a space, \303\251 stays\n' ;;
esac
