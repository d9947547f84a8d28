#!/usr/bin/env bash
# The whole suite for one build (BUILD=build or build-asan): unit tests, then
# system tests. Ends with one "N passed, N failed" line.
set -u
BUILD=${BUILD:-build}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
st=0
tests/unit/run.sh "$BUILD"/tests/unit/test_* | tee -a "$out" || st=1
BUILD=$BUILD tests/system/run.sh | tee -a "$out" || st=1
# Differential instruction tests against the host CPU: a bounded number of
# seeds here; a long run is `tests/difftest/run.sh 1-5000`.
BUILD=$BUILD tests/difftest/run.sh -n 200 1-${DIFF_SEEDS:-40} | tee -a "$out" || st=1
p=$(awk '/^(unit|system|difftest): [0-9]+ passed/ { s += $2 } END { print s + 0 }' "$out")
f=$(awk '/^(unit|system|difftest): [0-9]+ passed/ { s += $4 } END { print s + 0 }' "$out")
echo "$BUILD: ${p:-0} passed, ${f:-0} failed"
exit $st
