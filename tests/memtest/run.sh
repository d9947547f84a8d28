#!/usr/bin/env bash
# memtest86+ from Debian's `memtest86+` package, booted under vmon's software
# CPU until its first pass: a third-party guest on the Linux boot protocol.
#   tests/memtest/run.sh            (BUILD=build by default)
# The package is fetched at run time (apt-get download, as tools/mkguest
# does; a SKIP line if it cannot be had). Its two Linux boot-protocol images:
#   memtest86+x64.bin   protocol 2.12 with XLF_KERNEL_64: the 64-bit entry,
#                       and with --boot32 its 32-bit entry (startup32, which
#                       turns on long mode itself)
#   memtest86+ia32.bin  no 64-bit entry: the 32-bit entry (paging off), on
#                       two vCPUs (memtest finds the second in the ACPI MADT,
#                       starts it with INIT/SIPI and tests in parallel)
# Both have a syssize that ends 8 bytes past the end of the file (6.10); the
# x64 image cut by 16 bytes more is refused as truncated.
# Under KVM too, where the host's KVM runs guest ring 0 on the CPU (not
# kvm-pvm: SKIP there). Each boot runs with `console=ttyS0,115200` (memtest
# mirrors its screen on COM1) and --mem $MEMTEST_MEM (default 32M, so that a
# pass is short: the first pass is 10 tests over all of RAM and 160 s of
# "bit fade" wait) until the screen's status line says "Pass" (the first
# pass done without errors: main.c prints it only when error_count is 0);
# then vmon is killed. Nothing depends on timing: MEMTEST_TIMEOUT (default
# 3600 s, for a host loaded by other work) bounds the wait, and the seconds
# each boot took are printed for information.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
VMON=${VMON:-$BUILD/vmon}
TIMEOUT=${MEMTEST_TIMEOUT:-3600}
MEM=${MEMTEST_MEM:-32M}
TMP=$(mktemp -d)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() {
	rm -rf "$TMP"
	echo "memtest: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

# apt-get download writes into the current directory; the _apt user cannot
# enter a mktemp directory, so apt warns and downloads as root: quiet it.
if ! (cd "$TMP" && apt-get download -q memtest86+ >/dev/null 2>&1) ||
	! dpkg-deb -x "$TMP"/memtest86+_*.deb "$TMP/pkg" 2>/dev/null; then
	echo "SKIP memtest: cannot download Debian's memtest86+ package (apt-get download memtest86+)"
	finish
fi
ver=$(dpkg-deb -f "$TMP"/memtest86+_*.deb Version)
IMG=$TMP/pkg/boot

# Refused, with no boot: a real truncation (16 bytes beyond the paragraph
# rounding the loader accepts).
x64=$IMG/memtest86+x64.bin
if [ -f "$x64" ]; then
	head -c $(($(wc -c <"$x64") - 16)) "$x64" >"$TMP/cut.bin"
	timeout 60 "$VMON" run --accel emu --mem "$MEM" --kernel "$TMP/cut.bin" </dev/null >"$TMP/cut.out" 2>"$TMP/cut.err"
	st=$?
	if [ $st -eq 2 ] && [ "$(wc -l <"$TMP/cut.err")" -eq 1 ] && grep -q "^vmon: --kernel .*truncated" "$TMP/cut.err"; then
		ok "memtest86+x64.bin cut by 16 bytes: status 2, $(cat "$TMP/cut.err")"
	else
		bad "memtest86+x64.bin cut by 16 bytes: status $st, expected 2 and one 'truncated' line"
		head -3 "$TMP/cut.err" | sed 's/^/     /'
	fi
fi

# start NAME ENGINE IMAGE [vmon options...]: boots in the background; the
# boots run side by side (each emu VM is one host thread, and most of a
# first pass is memtest's 160 s wait), then wait_all watches them all.
names=() pids=() descs=()
start() {
	local name=$1 engine=$2 file=$3 image=$IMG/$3
	shift 3
	if [ ! -f "$image" ]; then
		bad "$name: $image is not in memtest86+ $ver"
		return
	fi
	"$VMON" run --accel "$engine" --mem "$MEM" --kernel "$image" --append console=ttyS0,115200 "$@" \
		</dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
	pids+=($!)
	names+=("$name")
	descs+=("$file --accel $engine $*${*:+ }--mem $MEM")
}

# wait_all: until each boot's status line says Pass (then it is killed),
# vmon ends on its own, or TIMEOUT; then one result line per boot.
wait_all() {
	local t0=$SECONDS i n=${#pids[@]}
	local -a state secs cpu status
	while :; do
		local running=0
		for ((i = 0; i < n; i++)); do
			[ -z "${state[i]:-}" ] || continue
			if grep -q "Status: Pass" "$TMP/${names[i]}.out"; then
				state[i]=pass
			elif ! kill -0 "${pids[i]}" 2>/dev/null; then
				state[i]=ended
			elif [ $((SECONDS - t0)) -ge "$TIMEOUT" ]; then
				state[i]=timeout
			else
				running=1
				continue
			fi
			secs[i]=$((SECONDS - t0))
			# vmon's CPU time (utime + stime, in clock ticks), before the kill.
			cpu[i]=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) / hz }' \
				"/proc/${pids[i]}/stat" 2>/dev/null)
			kill "${pids[i]}" 2>/dev/null
			# Reaped at once: bash forgets a dead child's status when a
			# later child (each grep and sleep here) gets its PID.
			wait "${pids[i]}"
			status[i]=$?
		done
		[ $running -eq 1 ] || break
		sleep 1
	done
	for ((i = 0; i < n; i++)); do
		local st=${status[i]} name=${names[i]}
		case ${state[i]} in
		pass)
			ok "$name (memtest86+ $ver, ${descs[i]}): first pass, no errors, after ${secs[i]} s (vmon: ${cpu[i]:-?} s of CPU)"
			continue
			;;
		ended) bad "$name (${descs[i]}): vmon ended with status $st before the first pass" ;;
		*) bad "$name (${descs[i]}): no pass within $TIMEOUT s" ;;
		esac
		# What the screen said last: the test and status lines.
		grep -a -o "#[0-9]* *\[[^]]*\]\|Status: [A-Za-z!]*\|Errors: *[0-9]*" "$TMP/$name.out" | tail -3 | sed 's/^/     /'
		head -5 "$TMP/$name.err" | sed 's/^/     /'
	done
	names=() pids=() descs=()
}

start x64 emu memtest86+x64.bin
# The x64 image by its 32-bit entry costs another ~7 CPU minutes; the 32-bit
# entry is already booted by the ia32 image (and unit-tested with --boot32 in
# test_linux), so this one runs only with MEMTEST_BOOT32=1.
[ "${MEMTEST_BOOT32:-0}" = 1 ] && start x64-boot32 emu memtest86+x64.bin --boot32
start ia32-smp2 emu memtest86+ia32.bin --cpus 2
wait_all

# Under KVM where it runs guest ring 0 on the CPU. kvm-pvm emulates ring 0,
# without x87: both images enter (the 32-bit and the 64-bit entry state
# load) and stop at their startup's FWAIT, status 4, "could not emulate".
. tests/engines.sh
if ! kvm_usable "$VMON" "$BUILD"; then
	echo "SKIP memtest under kvm: no usable /dev/kvm"
elif kvm_pvm; then
	echo "SKIP memtest under kvm: /dev/kvm is kvm-pvm, which emulates guest ring 0 without x87 (memtest's FWAIT)"
else
	start kvm-x64 kvm memtest86+x64.bin
	start kvm-ia32 kvm memtest86+ia32.bin --cpus 2
	wait_all
fi
finish
