#!/bin/bash
# soak.sh - the soak of bench/soak.sh (issue 14), one minute of it: mixed
# traffic (valid, invalid and hostile bodies, reads) at a steady rate;
# eye.fcgi and eye-spool keep the same processes, a flat RSS (within 10%
# after a 20 s warm-up) and a constant number of open descriptors, and
# every acknowledged event is stored exactly once. The 10-minute run is
# `bench/soak.sh` (see bench/README.md).
: "${EYE_SRCDIR:?run through make check}"
export SOAK_SECONDS=60 SOAK_WARMUP=20 SOAK_INTERVAL=10
exec bash "$EYE_SRCDIR/bench/soak.sh"
