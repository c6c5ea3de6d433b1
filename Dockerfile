# Dockerfile - The Eye's image: eye.fcgi under lighttpd, eye-spool and
# eye-admin, in one image whose command picks the role (docker/entrypoint.sh):
#
#   web       lighttpd on port 8080 spawning eye.fcgi (the default)
#   spool     eye-spool
#   init      create the database accounts, migrate, create the demo key
#             (run once, as root, before the others; see compose.yaml)
#   demo-key  print the demo application's key
#   anything else runs as a command: eye-admin rules check, bash... (eye-admin
#             commands that reach the database read the admin password,
#             which is root's: docker compose exec -u root web eye-admin stats)
#
# Configuration: /etc/eye/eye.yaml (docker/eye.yaml; mount your own over it)
# and the EYE_* environment variables every program reads (README,
# "Configuration"). Rules: /etc/eye/rules, a copy of the shipped ones; mount
# a folder there to add event types without rebuilding.
#
# Two stages: the build stage has the compiler and the -dev packages and
# runs the autotools build; the runtime stage has only the libraries the
# programs link, lighttpd, and the mariadb client (the init role feeds
# `eye-admin accounts` to it, as the README's production steps do).
#
#   docker/base-image.sh          # debian:bookworm-slim, built locally if no registry
#   docker build -t the-eye .
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
# The label lets a cleanup find this project's untagged leftovers:
#   docker image prune --filter label=org.the-eye.stage
LABEL org.the-eye.stage=build
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      build-essential autoconf automake libtool pkg-config \
      libjson-c-dev libyaml-dev libmariadb-dev libfcgi-dev libpcre2-dev libssl-dev \
      zlib1g-dev uuid-dev libcurl4-openssl-dev libcmocka-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# MAKE_JOBS: parallel compile jobs (docker build --build-arg MAKE_JOBS=8).
ARG MAKE_JOBS=2
RUN ./autogen.sh >/dev/null 2>&1 \
 && mkdir /build && cd /build \
 && /src/configure -q --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
      --libexecdir=/usr/libexec \
 && make -s -j"$MAKE_JOBS" \
 && make -s install DESTDIR=/staging \
 # The image is the server: the client library, eye-send, headers, man
 # pages (no man in a slim image), systemd units and the Apache example
 # stay out.
 && rm -rf /staging/usr/include /staging/usr/lib /staging/usr/share/man \
      /staging/usr/bin/eye-send /staging/usr/share/the-eye/examples/apache-eye.conf \
 && rm -rf /staging/etc/eye

FROM ${BASE_IMAGE}
LABEL org.the-eye.stage=runtime
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libfcgi0ldbl libjson-c5 libyaml-0-2 libmariadb3 libpcre2-8-0 libssl3 zlib1g libuuid1 \
      lighttpd lighttpd-modules-lua mariadb-client-core \
 && rm -rf /var/lib/apt/lists/* /etc/lighttpd /var/www \
 && groupadd --system --gid 10001 eye \
 && useradd --system --uid 10001 --gid eye --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin eye
COPY --from=build /staging/ /
COPY docker/eye.yaml docker/lighttpd.conf /etc/eye/
COPY docker/entrypoint.sh /usr/local/bin/eye-docker
COPY docker/healthcheck.sh /usr/local/bin/eye-healthcheck
ENV EYE_CONFIG=/etc/eye/eye.yaml \
    EYE_HTTP_PORT=8080 \
    EYE_RUN_DIR=/run/eye \
    EYE_FCGI_BIN=/usr/libexec/eye.fcgi \
    EYE_FCGI_PROCS=2 \
    EYE_ERRORS_DIR=/usr/share/the-eye/errors \
    EYE_JS_DIR=/usr/share/the-eye/js
RUN cp -r /usr/share/the-eye/rules /etc/eye/rules \
 # Passwords live in a volume mounted here: the init role writes them.
 && install -d -m 0711 /etc/eye/secrets \
 # lighttpd's pid file and eye.fcgi's socket (EYE_RUN_DIR).
 && install -d -o eye -g eye -m 0755 /run/eye \
 && eye-admin --config /etc/eye/eye.yaml config >/dev/null \
 && lighttpd -tt -f /etc/eye/lighttpd.conf

USER eye
EXPOSE 8080
# GET /v1/health must answer 200 (it answers 503 while MariaDB is away).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["eye-healthcheck"]
ENTRYPOINT ["eye-docker"]
CMD ["web"]
