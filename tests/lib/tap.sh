# tap.sh - TAP output for shell tests (sourced). Counts go to automake's
# tap-driver, so every assertion is one counted test.

TAP_N=0
TAP_FAILED=0

# ok COND_STATUS DESCRIPTION: passes when the status is 0.
ok() {
  local status=$1; shift
  TAP_N=$((TAP_N + 1))
  if [ "$status" -eq 0 ]; then
    echo "ok $TAP_N - $*"
  else
    echo "not ok $TAP_N - $*"
    TAP_FAILED=$((TAP_FAILED + 1))
  fi
}

# is GOT EXPECTED DESCRIPTION
is() {
  local got=$1 want=$2; shift 2
  TAP_N=$((TAP_N + 1))
  if [ "$got" = "$want" ]; then
    echo "ok $TAP_N - $*"
  else
    echo "not ok $TAP_N - $*"
    echo "#   got:      '$got'"
    echo "#   expected: '$want'"
    TAP_FAILED=$((TAP_FAILED + 1))
  fi
}

# like GOT REGEX DESCRIPTION
like() {
  local got=$1 re=$2; shift 2
  TAP_N=$((TAP_N + 1))
  if [[ $got =~ $re ]]; then
    echo "ok $TAP_N - $*"
  else
    echo "not ok $TAP_N - $*"
    echo "#   got:      '$got'"
    echo "#   expected to match: '$re'"
    TAP_FAILED=$((TAP_FAILED + 1))
  fi
}

diag() { echo "# $*"; }

# bail MESSAGE: stops the whole run (the servers could not be started).
bail() { echo "Bail out! $*"; exit 1; }

# done_testing: prints the plan; call last.
done_testing() { echo "1..$TAP_N"; }
