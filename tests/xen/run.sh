#!/usr/bin/env bash
# Opt-in trial (issue 10): Debian's Xen 4.17 hypervisor as a Multiboot v1
# kernel under vmon, with the test guest's Linux as its PV dom0. Not part of
# tests/run.sh: Xen is not in the repository and the boot takes minutes.
#   tests/xen/run.sh XEN VMLINUZ INITRD   (ENGINE=emu by default)
# XEN_EXTRA adds Xen options (no-real-mode: skip Xen's BIOS calls, see below).
# XEN is the unpacked hypervisor: `apt-get download xen-hypervisor-4.17-amd64`,
# `dpkg-deb -x`, then gunzip boot/xen-4.17-amd64.gz.
# What is checked: Xen's banner, dom0 built, dom0's Linux runs /init, and
# Xen's serial console takes input (CTRL-a three times switches the input
# from dom0 to Xen, then the debug key 'q' dumps the domains), with no Xen BUG
# or panic on the way. The run is then ended with SIGTERM (status 143), and
# stderr must hold no sanitizer report.
set -u
XEN=$1 KERNEL=$2 INITRD=$3
ENGINE=${ENGINE:-emu}
BUILD=${BUILD:-build}
VMON=${VMON:-$BUILD/vmon}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
XEN_EXTRA=${XEN_EXTRA:-} # more Xen options, e.g. no-real-mode
TMP=$(mktemp -d)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# wait_for PATTERN SECONDS: poll the console output until PATTERN appears.
wait_for() {
	local i
	for ((i = 0; i < $2; i++)); do
		grep -q -F -- "$1" "$TMP/out" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 1
	done
	return 1
}

# A write to the fifo after vmon ended must not kill this script.
trap '' PIPE
mkfifo "$TMP/in"
start=$(date +%s)
"$VMON" run --accel "$ENGINE" --mem 512M --kernel "$XEN" \
	--append "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot${XEN_EXTRA:+ $XEN_EXTRA}" \
	--initrd "$KERNEL console=hvc0 earlyprintk=xen,$INITRD" \
	<"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
pid=$!
exec 3>"$TMP/in"

if wait_for "Run /init as init process" "$BOOT_TIMEOUT"; then
	ok "[$ENGINE] dom0 runs /init after $(($(date +%s) - start)) s"
elif kill -0 "$pid" 2>/dev/null; then
	bad "[$ENGINE] dom0 did not reach /init in $BOOT_TIMEOUT s"
else
	bad "[$ENGINE] vmon ended before dom0 reached /init: $(head -1 "$TMP/err")"
fi
grep -q "^(XEN) Xen version 4" "$TMP/out" && ok "[$ENGINE] Xen banner" || bad "[$ENGINE] no Xen banner"
grep -q -F "*** Building a PV Dom0 ***" "$TMP/out" && ok "[$ENGINE] dom0 built" || bad "[$ENGINE] dom0 not built"

# Ctrl-A three times: Xen's console input goes from dom0 to Xen; 'q' dumps
# the domains (xen/drivers/char/console.c, xen/common/keyhandler.c).
printf '\001\001\001' >&3 2>/dev/null
sleep 2
printf 'q' >&3 2>/dev/null
if wait_for "'q' pressed -> dumping domain info" 120 && wait_for "VCPU0: CPU0" 60; then
	ok "[$ENGINE] Xen takes serial input: $(grep -m1 -o "pause_flags=[0-9]*" "$TMP/out" || echo "no pause_flags")"
else
	bad "[$ENGINE] Xen did not answer the debug key"
fi
if grep -q -E "Xen BUG|Panic on CPU|FATAL" "$TMP/out"; then
	bad "[$ENGINE] Xen crashed: $(grep -m1 -E "Xen BUG|Panic on CPU|FATAL" "$TMP/out")"
else
	ok "[$ENGINE] no Xen BUG or panic"
fi

kill -TERM "$pid" 2>/dev/null
wait "$pid"
st=$?
exec 3>&-
[ $st -eq 143 ] && ok "[$ENGINE] SIGTERM -> 143" || { bad "[$ENGINE] status $st, expected 143"; tail -3 "$TMP/err"; }
# Under an ASan+UBSan build (BUILD=build-asan) a report would be on stderr.
if grep -q -E "runtime error|AddressSanitizer|LeakSanitizer" "$TMP/err"; then
	bad "[$ENGINE] sanitizer report: $(grep -m1 -E "runtime error|AddressSanitizer|LeakSanitizer" "$TMP/err")"
else
	ok "[$ENGINE] no sanitizer report on stderr"
fi
if [ $fail -ne 0 ]; then
	echo "     last console lines:"
	tail -5 "$TMP/out" | sed 's/^/     /'
fi
rm -rf "$TMP"
echo "xen: $pass passed, $fail failed"
[ $fail -eq 0 ]
