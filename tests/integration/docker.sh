#!/bin/bash
# docker.sh - The Eye's Docker image and compose stack, for real (issue 18).
#
# Installs docker.io, docker-compose and debootstrap when missing, starts
# dockerd when none answers (and stops it at the end, only then), makes
# sure debian:bookworm-slim exists (docker/base-image.sh: pulled, or built
# with debootstrap from this machine's Debian mirror and cached), builds
# the runtime image and the MariaDB image, and brings compose.yaml up under
# a project name of its own, published on a port Docker picks. Then: the
# init service migrated and printed the demo key; the brief's example
# event gets 202 and reaches MariaDB's events table through the spool; the
# HEALTHCHECK follows /v1/health (unhealthy while MariaDB is stopped);
# `down` keeps the data volume and a new `up` finds the event still there,
# this time with a mounted rules folder, a mounted eye.yaml and an EYE_*
# variable, each of which shows in the answers. Finally `down -v`, and
# nothing of the project is left: containers, network, volumes. The
# runtime image's size is printed and must be under 150 MB.
#
# The images (the-eye:test, its build stage the-eye:test-build,
# the-eye-mariadb:test) and the base image stay, as Docker's build cache:
# a second run builds nothing. Run alone with
#   make check-docker      (or: make check TESTS=tests/integration/docker.sh)
. "$EYE_SRCDIR/tests/lib/harness.sh"

T0=$SECONDS
PROJECT=eyetest$$
TAG=test
DOCKERD_PID=
COMPOSE_FILES=(-f "$EYE_SRCDIR/compose.yaml")
EVENT_SESSION=e2085be5-9137-4e4e-80b5-f1ffddc25423
BRIEF_EVENT='{"session_id": "e2085be5-9137-4e4e-80b5-f1ffddc25423", "category": "page interaction",
  "name": "pageview", "data": {"host": "www.consumeraffairs.com", "path": "/"},
  "timestamp": "2021-01-01 09:15:27.243860"}'

# The web service is published on 127.0.0.1 at a port Docker picks when it
# binds (free by construction, unlike one chosen beforehand, which another
# test may take while the database starts); web_port reads it.
compose() {
  EYE_IMAGE_TAG=$TAG EYE_HTTP_PUBLISH=127.0.0.1: \
    docker-compose --ansi never -p "$PROJECT" "${COMPOSE_FILES[@]}" "$@"
}
web_port() {
  STACK_HTTP_PORT=$(compose port web 8080 2>/dev/null | sed -n 's/^127\.0\.0\.1:\([0-9][0-9]*\)\r\{0,1\}$/\1/p')
  BASE=http://127.0.0.1:$STACK_HTTP_PORT
  [ -n "$STACK_HTTP_PORT" ]
}

docker_cleanup() {
  if [ -n "${DOCKER:-}" ] && $DOCKER info >/dev/null 2>&1; then
    compose down -v --remove-orphans -t 10 >>"$STACK_DIR/compose.log" 2>&1
  fi
  if [ -n "$DOCKERD_PID" ]; then
    # Another user may have started containers on the daemon meanwhile:
    # then it stays up for them.
    if [ -n "$($DOCKER ps -q 2>/dev/null)" ]; then
      echo "# dockerd (pid $DOCKERD_PID) left running: other containers use it"
    else
      stack_stop_pid "$DOCKERD_PID" 30
    fi
    DOCKERD_PID=
  fi
}
trap 'rc=$?; docker_cleanup; (exit $rc); harness_cleanup' EXIT

# elapsed SINCE: seconds since SINCE (a $SECONDS value).
elapsed() { echo $((SECONDS - $1)); }

# sql QUERY: runs QUERY in the stack's MariaDB, as root over its socket.
sql() { compose exec -T db mariadb -N -B eye -e "$1" 2>>"$STACK_DIR/compose.log"; }

# wait_for SECONDS COMMAND...: runs COMMAND every half second until it
# succeeds; 1 when it has not within SECONDS (wall clock: compose commands
# themselves take a second).
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.5
  done
}

health_of() { $DOCKER inspect -f '{{.State.Health.Status}}' "$(compose ps -q "$1")" 2>/dev/null; }
is_healthy() { [ "$(health_of "$1")" = healthy ]; }
stored_events() { sql "SELECT COUNT(*) FROM v_events WHERE session_id = '$EVENT_SESSION'"; }
queue_empty() { [ "$(sql 'SELECT COUNT(*) FROM event_queue')" = 0 ]; }
events_are() { [ "$(stored_events)" = "$1" ] && queue_empty; }

# --- tools and the daemon -----------------------------------------------------
missing=()
for pkg in docker.io docker-compose debootstrap; do
  [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  diag "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive flock /tmp/apt.lock apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >"$STACK_DIR/apt.log" 2>&1
fi
command -v dockerd >/dev/null && command -v docker-compose >/dev/null && command -v debootstrap >/dev/null
ok $? "docker.io, docker-compose and debootstrap are installed" || bail "cannot install the Docker tools"

# Debian's client, of the same release as Debian's daemon (another client
# earlier in PATH may be newer than the daemon it talks to).
DOCKER=docker
[ -x /usr/bin/docker ] && DOCKER=/usr/bin/docker
if ! $DOCKER info >/dev/null 2>&1; then
  # No systemd here to start it: run it in the background, with its own log.
  dockerd >"$STACK_DIR/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  diag "started dockerd (pid $DOCKERD_PID) for this test; it is stopped at the end"
fi
wait_for 60 $DOCKER info
ok $? "the Docker daemon answers ($($DOCKER version -f 'client {{.Client.Version}}, daemon {{.Server.Version}}' 2>/dev/null))" ||
  { tail -20 "$STACK_DIR/dockerd.log" 2>/dev/null | sed 's/^/# /'; bail "no Docker daemon"; }
diag "docker-compose: $(docker-compose version --short 2>/dev/null)"

# --- images ------------------------------------------------------------------
t=$SECONDS
base=$(DOCKER=$DOCKER "$EYE_SRCDIR/docker/base-image.sh" 2>"$STACK_DIR/base-image.log")
ok $? "base image debian:bookworm-slim is there: $base ($(elapsed $t) s)" ||
  { tail -20 "$STACK_DIR/base-image.log" | sed 's/^/# /'; bail "no base image"; }
label() { $DOCKER image inspect -f "{{index .Config.Labels \"$1\"}}" debian:bookworm-slim 2>/dev/null; }
if [ "$(label org.the-eye.base)" = debootstrap ]; then
  # Built here: its apt must use the Debian mirror this machine's apt uses.
  mirror=$(label org.the-eye.base.mirror)
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -v '^ *#' | grep -qF "$mirror"
  ok $? "the local base image was made from this machine's Debian mirror ($mirror)"
  like "$($DOCKER run --rm debian:bookworm-slim cat /etc/apt/sources.list.d/debian.sources 2>&1)" \
    "URIs: $mirror"$'\n' "and its apt sources name that mirror"
else
  diag "debian:bookworm-slim is the registry's image"
fi

# The build stage is tagged too: an untagged one would be removed with
# the leftovers below, and Docker's cache with it.
t=$SECONDS
$DOCKER build --target build -t "the-eye:$TAG-build" "$EYE_SRCDIR" >"$STACK_DIR/build-eye.log" 2>&1 &&
  $DOCKER build -t "the-eye:$TAG" "$EYE_SRCDIR" >>"$STACK_DIR/build-eye.log" 2>&1
ok $? "docker build of the runtime image ($(elapsed $t) s)" || tail -30 "$STACK_DIR/build-eye.log" | sed 's/^/# /'
t=$SECONDS
$DOCKER build -t "the-eye-mariadb:$TAG" -f "$EYE_SRCDIR/docker/mariadb/Dockerfile" "$EYE_SRCDIR" \
  >"$STACK_DIR/build-mariadb.log" 2>&1
ok $? "docker build of the MariaDB image ($(elapsed $t) s)" || tail -30 "$STACK_DIR/build-mariadb.log" | sed 's/^/# /'
$DOCKER image inspect "the-eye:$TAG" "the-eye-mariadb:$TAG" >/dev/null 2>&1 || bail "the images were not built"
# What earlier builds left untagged (only this project's images carry the
# label): a machine that runs this often does not fill its disk.
$DOCKER image prune -f --filter label=org.the-eye.stage >/dev/null 2>&1

size=$($DOCKER image inspect -f '{{.Size}}' "the-eye:$TAG")
size_mb=$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }')
diag "runtime image the-eye:$TAG: $size_mb MB (target: under 150 MB); the-eye-mariadb:$TAG:" \
  "$(awk -v b="$($DOCKER image inspect -f '{{.Size}}' "the-eye-mariadb:$TAG")" 'BEGIN { printf "%.1f", b / 1e6 }') MB"
[ "$size" -lt 150000000 ]
ok $? "the runtime image is under 150 MB ($size_mb MB)"
is "$($DOCKER image inspect -f '{{.Config.User}}' "the-eye:$TAG")" eye "the image runs as the user eye"
is "$($DOCKER run --rm "the-eye:$TAG" id -u 2>&1)" 10001 "a container of it is not root (uid 10001)"
like "$($DOCKER image inspect -f '{{json .Config.Healthcheck.Test}}' "the-eye:$TAG")" 'eye-healthcheck' \
  "the image has a HEALTHCHECK"
out=$($DOCKER run --rm "the-eye:$TAG" sh -c \
  'dpkg-query -W -f "\${Package}\n" | grep -e "-dev\$"; command -v cc gcc make;
   ldd /usr/libexec/eye.fcgi /usr/bin/eye-spool /usr/bin/eye-admin | grep "not found"' 2>&1)
is "$out" "" "runtime stage: no -dev package, no compiler, every library the programs link is there"

# --- the stack ---------------------------------------------------------------
# compose_up WHAT: up -d, then waits for the web container's health.
compose_up() {
  local t=$SECONDS
  compose up -d >>"$STACK_DIR/compose.log" 2>&1 && web_port
  ok $? "docker-compose up -d $1 (project $PROJECT, port $STACK_HTTP_PORT, $(elapsed $t) s)" ||
    { tail -30 "$STACK_DIR/compose.log" | sed 's/^/# /'; compose logs --tail=30 2>&1 | sed 's/^/# /'
      bail "the stack did not come up"; }
  wait_for 90 is_healthy web
  ok $? "the web container becomes healthy: HEALTHCHECK on /v1/health ($(elapsed $t) s after up)" ||
    { compose logs --tail=30 2>&1 | sed 's/^/# /'; bail "the web service is not healthy"; }
}
compose_up "from compose.yaml"
is "$($DOCKER inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$(compose ps -q init)" 2>&1)" "exited 0" \
  "the init service ran once and succeeded"
is "$(sql 'SELECT COUNT(*) FROM schema_migrations')" "$(ls "$EYE_SRCDIR"/migrations/[0-9]*.sql | wc -l)" \
  "init applied every migration (eye-admin migrate)"
is "$(sql "SELECT GROUP_CONCAT(CONCAT(user, '@', host) ORDER BY user) FROM mysql.user WHERE user LIKE 'eye\\_%'")" \
  "eye_admin@%,eye_analyst@%,eye_ingest@%,eye_spool@%" "init created the four least-privilege accounts"

compose exec -T web cat /etc/eye/secrets/admin.pw >/dev/null 2>&1
isnt_zero=$?
[ $isnt_zero -ne 0 ]
ok $? "the web service's user cannot read the admin account's password"
like "$(compose exec -T -u root web eye-admin stats 2>&1)" "[Qq]ueue" "eye-admin stats works as root in the web container"

KEY=$(compose logs --no-color init 2>/dev/null | sed -n 's/.*demo key: //p' | tail -1 | tr -d '\r')
like "$KEY" '^eye_[0-9a-f]{8}_[0-9a-f]{56}_[0-9a-f]{8}$' "the init service prints the demo key"
is "$(compose exec -T web eye-docker demo-key 2>&1 | tr -d '\r')" "$KEY" "eye-docker demo-key prints the same key"

http GET /v1/health
is "$HTTP_STATUS $(json_get "$HTTP_BODY" '.database')" "200 up" "GET /v1/health through the published port: 200, database up"
post_events "$KEY" "$BRIEF_EVENT"
is "$HTTP_STATUS $(printf '%s' "$HTTP_BODY" | jq -c .)" '202 {"accepted":1,"rejected":0,"errors":[]}' \
  "the brief's example event: 202"
wait_for 30 events_are 1
ok $? "the spool stored it in MariaDB's events table and emptied the queue"
is "$(sql "SELECT CONCAT_WS(' | ', application, category, name, data, occurred_at) FROM v_events WHERE session_id = '$EVENT_SESSION'")" \
  'demo | page interaction | pageview | {"host":"www.consumeraffairs.com","path":"/"} | 2021-01-01 09:15:27.243860' \
  "stored as sent, by the demo application"

# The HEALTHCHECK reports what /v1/health reports: MariaDB gone, unhealthy.
compose stop db >>"$STACK_DIR/compose.log" 2>&1
http GET /v1/health
is "$HTTP_STATUS" 503 "with MariaDB stopped, /v1/health answers 503"
compose exec -T web eye-healthcheck >/dev/null 2>&1
isnt_zero=$?
[ $isnt_zero -ne 0 ]
ok $? "and the image's health check fails (exit $isnt_zero)"
compose start db >>"$STACK_DIR/compose.log" 2>&1
wait_for 60 compose exec -T web eye-healthcheck
ok $? "MariaDB back: the health check passes again"

# --- down keeps the data; up again, configured from outside -------------------
t=$SECONDS
compose down >>"$STACK_DIR/compose.log" 2>&1
ok $? "docker-compose down ($(elapsed $t) s)"
is "$($DOCKER ps -aq --filter "label=com.docker.compose.project=$PROJECT" | wc -l)" 0 "no container of the project is left"
$DOCKER volume inspect "${PROJECT}_data" >/dev/null 2>&1
ok $? "down keeps the data volume ${PROJECT}_data"

# A rules folder with one more event type, an eye.yaml of our own and an
# EYE_* variable, all given to the web service from outside the image.
mkdir -p "$STACK_DIR/rules"
cp "$EYE_SRCDIR"/rules/*.yaml "$STACK_DIR/rules/"
cat >"$STACK_DIR/rules/shop.checkout.yaml" <<'RULE'
category: shop
name: checkout
data:
  type: object
  additionalProperties: false
  required: [order_id]
  properties:
    order_id: {type: string, minLength: 1, maxLength: 64}
RULE
chmod -R a+rX "$STACK_DIR/rules"
cp "$EYE_SRCDIR/docker/eye.yaml" "$STACK_DIR/eye.yaml"
printf 'ingest:\n  max_events_per_request: 3\n' >>"$STACK_DIR/eye.yaml"
chmod a+r "$STACK_DIR/eye.yaml"
cat >"$STACK_DIR/compose.override.yaml" <<YAML
services:
  web:
    environment:
      EYE_INGEST_MAX_BODY_BYTES: "2048"
    volumes:
      - $STACK_DIR/rules:/etc/eye/rules:ro
      - $STACK_DIR/eye.yaml:/etc/eye/eye.yaml:ro
YAML
COMPOSE_FILES+=(-f "$STACK_DIR/compose.override.yaml")
compose_up "again, with a rules folder, an eye.yaml and an EYE_* variable from outside"
is "$(stored_events)" 1 "the event is still in MariaDB after down and up"
is "$(compose exec -T web eye-docker demo-key 2>&1 | tr -d '\r')" "$KEY" "the demo key is the same"

post_events "$KEY" '{"session_id": "e2085be5-9137-4e4e-80b5-f1ffddc25423", "category": "page interaction",
  "name": "cta click", "data": {"host": "www.consumeraffairs.com", "path": "/", "element": "chat bubble"},
  "timestamp": "2021-01-01 09:15:27.243860"}'
is "$HTTP_STATUS $(json_get "$HTTP_BODY" '.accepted')" "202 1" "the demo key still works: the brief's cta click event, 202"
http GET /v1/health
is "$(json_get "$HTTP_BODY" '.event_types')" 4 "health counts 4 event types: the mounted rules folder is live"
post_events "$KEY" '{"session_id": "e2085be5-9137-4e4e-80b5-f1ffddc25423", "category": "shop", "name": "checkout",
  "data": {"order_id": "A-1"}, "timestamp": "2021-01-01 09:15:28"}'
is "$HTTP_STATUS $(json_get "$HTTP_BODY" '.accepted')" "202 1" "an event of the mounted rule's type is accepted"
ev='{"session_id": "s-4", "category": "page interaction", "name": "pageview", "data": {"host": "a.example", "path": "/"}, "timestamp": "2021-01-01 09:15:27"}'
post_events "$KEY" "[$ev,$ev,$ev,$ev]"
is "$HTTP_STATUS $(json_get "$HTTP_BODY" '.error.code')" "413 too_many_events" \
  "the mounted eye.yaml is in force: 4 events, above its max_events_per_request of 3, get 413"
long=$(printf '/%02500d' 0)
post_events "$KEY" "{\"session_id\": \"s-5\", \"category\": \"page interaction\", \"name\": \"pageview\",
  \"data\": {\"host\": \"a.example\", \"path\": \"$long\"}, \"timestamp\": \"2021-01-01 09:15:27\"}"
is "$HTTP_STATUS $(json_get "$HTTP_BODY" '.error.code')" "413 body_too_large" \
  "EYE_INGEST_MAX_BODY_BYTES reaches eye.fcgi through lighttpd: a 2.5 kB body gets 413"
wait_for 30 events_are 3
ok $? "the spool stored the new events too (3 in the session)"

if $DOCKER compose version >/dev/null 2>&1; then
  $DOCKER compose -p "$PROJECT" "${COMPOSE_FILES[@]}" config -q >>"$STACK_DIR/compose.log" 2>&1
  ok $? "docker compose (the plugin) accepts compose.yaml"
else
  diag "no docker compose plugin on this machine: the stack ran under docker-compose $(docker-compose version --short 2>/dev/null)"
fi

# --- teardown ----------------------------------------------------------------
t=$SECONDS
compose down -v --remove-orphans -t 10 >>"$STACK_DIR/compose.log" 2>&1
ok $? "docker-compose down -v ($(elapsed $t) s)"
left="$($DOCKER ps -aq --filter "label=com.docker.compose.project=$PROJECT")"
left+="$($DOCKER network ls -q --filter "label=com.docker.compose.project=$PROJECT")"
left+="$($DOCKER volume ls -q --filter "label=com.docker.compose.project=$PROJECT")"
left+="$($DOCKER volume ls -q --filter "name=${PROJECT}_")"
is "$left" "" "nothing of the project is left: no container, network or volume"

diag "whole test: $(elapsed $T0) s; images kept as the build cache: the-eye:$TAG, the-eye:$TAG-build, the-eye-mariadb:$TAG, debian:bookworm-slim"
done_testing
