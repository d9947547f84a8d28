#!/usr/bin/env bash
# Builds the libFuzzer targets (`make fuzz`: tests/fuzz/fuzz_NAME.c into
# $BUILD/fuzz/, clang with ASan+UBSan) and runs each for FUZZ_SECONDS
# (default 60) on a scratch copy of its seed corpus tests/fuzz/corpus/NAME/,
# so the committed seeds never change. A crash, sanitizer report, leak,
# timeout or out-of-memory is a failure: its input is kept in
# $BUILD/fuzz/findings/NAME/ and the command to replay it printed. Ends with
# "fuzz: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
secs=${FUZZ_SECONDS:-60}
if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
	echo "SKIP fuzz: ${FUZZ_CC:-clang} not installed"
	echo "fuzz: 0 passed, 0 failed"
	exit 0
fi
if ! ${MAKE:-make} --no-print-directory -s BUILD="$BUILD" fuzz >/dev/null; then
	echo "FAIL fuzz: make fuzz"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
pass=0 fail=0
for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	name=${t#fuzz_}
	bin=$BUILD/fuzz/$t
	work=$(mktemp -d)
	find="$BUILD/fuzz/findings/$name"
	rm -rf "$find"
	mkdir -p "$find" "$work/corpus"
	[ -d "tests/fuzz/corpus/$name" ] && cp "tests/fuzz/corpus/$name"/* "$work/corpus/" 2>/dev/null
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=16384 \
		-print_final_stats=1 -artifact_prefix="$find/" "$work/corpus" >"$work/log" 2>&1
	st=$?
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$work/log" | tail -1)
	rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$work/log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$work/log" | tail -1)
	if [ $st -eq 0 ]; then
		pass=$((pass + 1))
		echo "  PASS $t: ${runs:-?} runs in ${secs} s (${rate:-?}/s), ${cov:-cov: ?}, corpus $(ls "$work/corpus" | wc -l)"
		rmdir "$find" 2>/dev/null
	else
		fail=$((fail + 1))
		echo "  FAIL $t (exit status $st):"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)|runtime error' "$work/log" | head -8 | sed 's/^/    /'
		for f in "$find"/*; do [ -e "$f" ] && echo "    replay: $bin $f"; done
	fi
	rm -rf "$work"
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
