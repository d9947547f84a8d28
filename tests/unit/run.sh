#!/usr/bin/env bash
# Runs every unit-test binary given; prints one total line.
set -u
pass=0 fail=0 bad=0
for t in "$@"; do
	out=$("$t" 2>&1)
	st=$?
	echo "$out" | grep -v '^\s*$' | sed 's/^/  /'
	line=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(echo "$line" | sed -nE 's/.* ([0-9]+) passed.*/\1/p')
	f=$(echo "$line" | sed -nE 's/.*passed, ([0-9]+) failed.*/\1/p')
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ $st -ne 0 ] || [ -z "$line" ]; then
		bad=$((bad + 1))
		echo "  FAIL $t (exit status $st)"
	fi
done
echo "unit: $pass passed, $fail failed"
[ $bad -eq 0 ] && [ $fail -eq 0 ]
