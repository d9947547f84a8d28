#!/usr/bin/env bash
# Differential instruction tests: each seed gives a random instruction
# sequence (tests/difftest/gen.c) run on the host CPU at user level (the
# oracle) and as a long64 guest under every vmon engine here; any difference
# fails and names the first divergent instruction (found by bisecting on
# prefixes of the sequence).
#   tests/difftest/run.sh [-n COUNT] [-e ENGINES] SEED...     e.g. 1 2 3, or 1-200
set -u
BUILD=${BUILD:-build}
COUNT=200
ENGINES=${ENGINES:-}
while getopts "n:e:" o; do
	case $o in
	n) COUNT=$OPTARG ;;
	e) ENGINES=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 1-20
D=tests/difftest
GEN=$BUILD/tests/difftest/gen
VMON=$BUILD/vmon
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
pass=0 fail=0
GUEST_CFLAGS="-m64 -O1 -ffreestanding -nostdlib -fno-pic -no-pie -mno-red-zone -mgeneral-regs-only
	-fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none -Wl,--build-id=none -Wl,--no-warn-rwx-segments"

build_case() { # build_case SEED PREFIX -> $W/host, $W/guest.bin
	"$GEN" "$1" "$COUNT" "$2" >"$W/case.S" || return 1
	gcc -O1 -static -I$D -DDIFF_CASE="\"$W/case.S\"" -o "$W/host" \
		$D/host_main.c $D/report.c $D/body.S || return 1
	# shellcheck disable=SC2086
	gcc $GUEST_CFLAGS -T $D/guest.ld -I$D -Itests/guests -DDIFF_CASE="\"$W/case.S\"" -o "$W/guest.elf" \
		$D/guest_start.S $D/guest_main.c $D/report.c $D/body.S tests/guests/lib/guestlib.c tests/guests/lib/user.c ||
		return 1
	objcopy -O binary "$W/guest.elf" "$W/guest.bin"
}

differs() { # differs ENGINE: 0 if host and guest disagree
	"$W/host" >"$W/host.out"
	timeout 60 "$VMON" run --accel "$1" --raw "$W/guest.bin" --mode long64 >"$W/guest.out" 2>"$W/guest.err" </dev/null
	local st=$?
	[ $st -ne 1 ] && return 0
	! cmp -s "$W/host.out" "$W/guest.out"
}

expand() { # 1-5 7 -> 1 2 3 4 5 7
	local a
	for a in "$@"; do
		case $a in
		*-*) seq "${a%-*}" "${a#*-}" ;;
		*) echo "$a" ;;
		esac
	done
}

# Every engine this host has (-e or ENGINES overrides): the case runs at
# ring 3, which KVM runs on the host CPU, so kvm is a second oracle.
. "$(dirname "$0")/../engines.sh"
if [ -z "$ENGINES" ]; then
	ENGINES=emu
	kvm_usable "$VMON" "$BUILD" && ENGINES="kvm emu"
fi

for seed in $(expand "$@"); do
	for eng in $ENGINES; do
		if ! build_case "$seed" "$COUNT"; then
			fail=$((fail + 1)); echo "FAIL seed $seed: the case does not build"; continue
		fi
		if ! differs "$eng"; then
			pass=$((pass + 1)); continue
		fi
		# Bisect: the shortest prefix that already disagrees.
		lo=0 hi=$COUNT
		while [ $((hi - lo)) -gt 1 ]; do
			mid=$(((lo + hi) / 2))
			build_case "$seed" "$mid" && differs "$eng" && hi=$mid || lo=$mid
		done
		build_case "$seed" "$hi"; differs "$eng"
		fail=$((fail + 1))
		echo "FAIL seed $seed [$eng]: first divergent instruction #$hi:"
		grep -E "/\* $hi \*/" "$W/case.S" | sed 's/^/     /'
		echo "     host vs $eng (exit status and first differences):"
		head -c 300 "$W/guest.err" | sed 's/^/     stderr: /'
		diff "$W/host.out" "$W/guest.out" | head -12 | sed 's/^/     /'
	done
done
echo "difftest: $pass passed, $fail failed"
[ $fail -eq 0 ]
