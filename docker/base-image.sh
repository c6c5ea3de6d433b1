#!/bin/bash
# base-image.sh - make sure the base image the Dockerfiles start FROM
# (debian:bookworm-slim) exists in the local Docker daemon.
#
# In order: the image is already there (nothing to do); it can be pulled
# from a registry; a cached root file system tarball from an earlier run is
# imported; or a new one is built with debootstrap and imported. The last
# two are for machines that reach a Debian mirror but no Docker registry.
#
# The locally built image is what the official one is, made the same way:
# a `debootstrap --variant=minbase bookworm` system, upgraded from
# bookworm-updates and bookworm-security, slimmed as debuerreotype slims
# the official "-slim" images (no documentation, manual pages or
# translations, kept out by dpkg for later installs too, but copyright
# files kept), with apt set up as in the official images (no
# recommends cache, no translations, a policy-rc.d that stops packages from
# starting services during `docker build`). Its apt sources are the Debian
# mirror this machine's own apt uses (read from /etc/apt/sources.list*), so
# a build inside it downloads from where the host does. It carries the
# label org.the-eye.base=debootstrap, so `docker image inspect` tells it
# apart from the official image.
#
# Usage: docker/base-image.sh [--rebuild]
#   --rebuild   build a new tarball with debootstrap even when one is cached
#               (the cached system keeps the updates of the day it was made)
#
# Environment:
#   DOCKER              Docker client (default: docker)
#   EYE_BASE_IMAGE      image name to provide (default: debian:bookworm-slim)
#   EYE_BASE_CACHE      folder of the cached tarball (default:
#                       /var/cache/the-eye/docker)
#   EYE_BASE_PULL       1: try `docker pull` first (default), 0: never
#   EYE_BASE_PULL_TIMEOUT  seconds the pull may take before giving up (30)
#
# Needs root (debootstrap, chroot) only when it builds. Prints one line on
# stdout saying where the image came from: present, pulled, cached, built.
set -euo pipefail

DOCKER=${DOCKER:-docker}
IMAGE=${EYE_BASE_IMAGE:-debian:bookworm-slim}
CACHE=${EYE_BASE_CACHE:-/var/cache/the-eye/docker}
SUITE=bookworm
rebuild=0
[ "${1:-}" = --rebuild ] && rebuild=1

log() { echo "base-image: $*" >&2; }

# Debian mirror URIs of this machine's apt, for SUITE and its security
# suite: one-line sources.list files and deb822 .sources files. Prints
# "main URI" and "security URI" lines (the last matching entry wins).
host_mirrors() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # deb [options] URI SUITE COMPONENTS...
    sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
      awk -v s="$SUITE" '$1 == "deb" && $3 == s { print "main " $2 }
                         $1 == "deb" && $3 == s "-security" { print "security " $2 }'
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # Paragraphs of "Field: value" lines separated by blank lines.
    awk -v s="$SUITE" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no")
          for (i = 1; i <= nsu; i++) {
            if (su[i] == s) print "main " uri
            if (su[i] == s "-security") print "security " uri
          }
        types = ""; uri = ""; nsu = 0; enabled = ""
      }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      { sub(/#.*/, "") }
      tolower($1) == "types:"   { $1 = ""; types = $0 " " }
      tolower($1) == "uris:"    { uri = $2 }
      tolower($1) == "suites:"  { nsu = 0; for (i = 2; i <= NF; i++) su[++nsu] = $i }
      tolower($1) == "enabled:" { enabled = tolower($2) }
      END { flush() }' "$f"
  done
}

mirror_main=$(host_mirrors | awk '$1 == "main" { u = $2 } END { print u }')
mirror_security=$(host_mirrors | awk '$1 == "security" { u = $2 } END { print u }')
: "${mirror_main:=http://deb.debian.org/debian}"
: "${mirror_security:=http://deb.debian.org/debian-security}"
mirror_main=${mirror_main%/}
mirror_security=${mirror_security%/}

# One of us at a time: two runs would both build, and import twice. (A
# user who cannot write the cache folder needs no lock: they cannot build.)
if mkdir -p "$CACHE" 2>/dev/null && (: >>"$CACHE/.lock") 2>/dev/null; then
  exec 9>>"$CACHE/.lock"
  flock 9
fi

if [ $rebuild = 0 ] && $DOCKER image inspect "$IMAGE" >/dev/null 2>&1; then
  echo present
  exit 0
fi

if [ $rebuild = 0 ] && [ "${EYE_BASE_PULL:-1}" = 1 ]; then
  log "trying docker pull $IMAGE"
  if timeout "${EYE_BASE_PULL_TIMEOUT:-30}" $DOCKER pull -q "$IMAGE" >/dev/null 2>&1; then
    echo pulled
    exit 0
  fi
  log "no registry answered; making $IMAGE here, from $mirror_main"
fi

# One tarball per mirror pair, so a machine that changes mirrors rebuilds.
key=$(printf '%s %s %s\n' "$SUITE" "$mirror_main" "$mirror_security" | sha256sum | cut -c1-12)
tarball=$CACHE/$SUITE-minbase-slim-$key.tar

import() {
  $DOCKER import \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL org.the-eye.base=debootstrap org.the-eye.base.mirror=$mirror_main" \
    "$tarball" "$IMAGE" >/dev/null
}

if [ $rebuild = 0 ] && [ -s "$tarball" ]; then
  import
  echo cached
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  log "building the base image needs root (debootstrap); run this as root"
  exit 1
fi
command -v debootstrap >/dev/null || { log "debootstrap is missing: apt-get install debootstrap"; exit 1; }

root=$(mktemp -d "${TMPDIR:-/tmp}/eye-base.XXXXXX")
cleanup() {
  mountpoint -q "$root/proc" && umount "$root/proc"
  rm -rf "$root"
}
trap cleanup EXIT

log "debootstrap --variant=minbase $SUITE from $mirror_main"
if ! debootstrap --variant=minbase "$SUITE" "$root" "$mirror_main" >"$root.log" 2>&1; then
  tail -20 "$root.log" >&2
  exit 1
fi
rm -f "$root.log"

# apt as in the official images.
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror_main
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $mirror_security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
printf '#!/bin/sh\n# No service may start while an image is built.\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# Slim: what dpkg keeps out of every later install too.
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
# As in the official debian:*-slim images (debuerreotype-slimify).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
DPKG

log "upgrading from $SUITE-updates and $SUITE-security"
mount -t proc proc "$root/proc"
if ! chroot "$root" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive;
    apt-get update -q && apt-get -y -q upgrade && apt-get clean' >"$root.log" 2>&1; then
  tail -20 "$root.log" >&2
  exit 1
fi
umount "$root/proc"
rm -f "$root.log"

# What the slim rules exclude, removed from what is installed already.
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root/usr/share/info/"* "$root/usr/share/linda/"* "$root/usr/share/lintian/overrides/"* \
  "$root/usr/share/locale/"* "$root/usr/share/man/"*
# Machine state that must not be baked into an image.
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/var/cache/apt/archives/"*.deb \
  "$root/var/log/"*.log "$root/var/log/apt/"* "$root/tmp/"* "$root/root/.bash_history" \
  "$root/dev/"*
: >"$root/etc/machine-id"
rm -f "$root/etc/resolv.conf" "$root/etc/hostname"

tar --numeric-owner --xattrs -C "$root" -cf "$tarball.tmp" .
mv "$tarball.tmp" "$tarball"
import
echo built
