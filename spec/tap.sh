# Sourced by the suites of spec/suites/: they print TAP, one line a check,
# which spec/run-tests counts. $n numbers the checks, $failed is their
# exit status.
n=0
failed=0


# tap NAME COMMAND...: one TAP line, ok when COMMAND succeeds
tap() {
  name=$1
  shift
  n=$((n + 1))
  if "$@"; then
    echo "ok $n - $name"
  else
    echo "not ok $n - $name"
    failed=1
  fi
}


# check STATUS NAME: one TAP line, ok when STATUS (a $?) is 0
check() {
  tap "$2" [ "$1" = 0 ]
}


# same A B: succeeds when A and B are the same text
same() {
  [ "$1" = "$2" ]
}
