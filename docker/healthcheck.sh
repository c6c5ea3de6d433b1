#!/bin/bash
# eye-healthcheck - the image's HEALTHCHECK: GET /v1/health on the port
# lighttpd listens on inside the container must answer 200 within 4 s.
# (bash's /dev/tcp, so the image needs no HTTP client; /v1/health answers
# 503 while MariaDB is unreachable, which makes the container unhealthy.)
port=${EYE_HTTP_PORT:-8080}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET /v1/health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 4 status <&3 || exit 1
case $status in
  "HTTP/1."[01]" 200 "*) exit 0 ;;
  *) echo "health: $status" >&2; exit 1 ;;
esac
