#!/usr/bin/env bash
# `make check`, the README's test command: every suite, plain and under
# ASan+UBSan, the Linux guest and memtest86+ under the software CPU, and the
# KVM engine in a nested VM where this host has no /dev/kvm. Ends with one line adding up
# every suite's "N passed, N failed", so that the last line of the run is
# the whole run (not the last suite, which may have skipped itself).
set -u
cd "$(dirname "$0")/.."
out=$(mktemp)
mt=$(mktemp)
st=0
# memtest86+ (third-party images, booted with the plain build) runs beside
# the other suites: its boots are long and single-threaded, so they share the
# host's cores with the rest instead of adding their time to it. Its lines
# come after the others'.
${MAKE:-make} --no-print-directory all >/dev/null || st=1
BUILD=build tests/memtest/run.sh >"$mt" 2>&1 &
mtpid=$!
# So do the fuzz targets (tests/fuzz/run.sh: FUZZ_SECONDS, 60 by default, each).
fz=$(mktemp)
tests/fuzz/run.sh >"$fz" 2>&1 &
fzpid=$!
for target in test "SANITIZE=1 test" linux nested; do
	# shellcheck disable=SC2086
	${MAKE:-make} --no-print-directory $target 2>&1 | tee -a "$out"
	[ "${PIPESTATUS[0]}" -eq 0 ] || st=1
done
wait $mtpid || st=1
tee -a "$out" <"$mt"
rm -f "$mt"
wait $fzpid || st=1
tee -a "$out" <"$fz"
rm -f "$fz"
# The suites' own totals: build and build-asan (tests/run.sh), linux,
# linux-console, linux-virtio, linux-net, linux-vsock-console, memtest, nested, fuzz.
p=$(awk '/^(build|build-asan|linux|linux-console|linux-virtio|linux-net|linux-vsock-console|memtest|nested|fuzz): [0-9]+ passed/ { s += $2 } END { print s + 0 }' "$out")
f=$(awk '/^(build|build-asan|linux|linux-console|linux-virtio|linux-net|linux-vsock-console|memtest|nested|fuzz): [0-9]+ passed/ { s += $4 } END { print s + 0 }' "$out")
rm -f "$out"
# A suite that failed without printing its count still fails the run.
[ $st -ne 0 ] && [ "$f" -eq 0 ] && f=1
echo "check: $p passed, $f failed"
exit $st
