#!/usr/bin/env bash
# Linux guest, console cases (issue 10): the README's own piped example, run
# exactly as the README writes it (the command is read from README.md; only
# build/vmon and guest/ are replaced by this run's paths), and a reboot.
#   tests/linux/console.sh ENGINE VMLINUZ INITRD
# Checks: the piped commands run from the first byte (uname -r, nproc print,
# poweroff ends vmon with status 0), and `reboot` ends it with status 6.
set -u
ENGINE=$1 KERNEL=$2 INITRD=$3
BUILD=${BUILD:-build}
VMON=${VMON:-$BUILD/vmon}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
TMP=$(mktemp -d)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# The example: the line of README.md that pipes commands into vmon.
example=$(grep -m1 "^echo 'uname -r; nproc; poweroff' | build/vmon run " README.md)
if [ -z "$example" ]; then
	bad "the README's piped example: no line \"echo 'uname -r; nproc; poweroff' | build/vmon run ...\" in README.md"
else
	cmd=${example//build\/vmon/$VMON}
	cmd=${cmd//guest\/vmlinuz/$KERNEL}
	cmd=${cmd//guest\/initrd.img/$INITRD}
	cmd=${cmd//--accel emu/--accel $ENGINE}
	t0=$SECONDS
	timeout "$BOOT_TIMEOUT" bash -c "$cmd" >"$TMP/ex.out" 2>"$TMP/ex.err"
	st=$?
	secs=$((SECONDS - t0))
	if [ $st -eq 124 ]; then
		bad "[$ENGINE] README example: no exit within $BOOT_TIMEOUT s"
	elif [ $st -ne 0 ]; then
		bad "[$ENGINE] README example: status $st, expected 0"; tail -3 "$TMP/ex.err" | sed 's/^/     /'
	else
		ok "[$ENGINE] README example: status 0 (${secs}s): $example"
	fi
	# The tty echoes the line as it arrives (among the kernel's messages);
	# the shell shows it again after its prompt, then the output: uname -r,
	# nproc.
	kver=$(tr -d '\r' <"$TMP/ex.out" | grep -m1 -A1 -F '# uname -r; nproc; poweroff' | sed -n 2p)
	nproc=$(tr -d '\r' <"$TMP/ex.out" | grep -m1 -A2 -F '# uname -r; nproc; poweroff' | sed -n 3p)
	if echo "$kver" | grep -q -E '^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-cloud-amd64$' && [ "$nproc" = 1 ]; then
		ok "[$ENGINE] README example: the whole line reached the shell: uname -r = $kver, nproc = $nproc"
	else
		bad "[$ENGINE] README example: uname -r = '$kver', nproc = '$nproc'"; tail -5 "$TMP/ex.out" | sed 's/^/     /'
	fi
	if tr -d '\r' <"$TMP/ex.out" | grep -q "reboot: Power down"; then
		ok "[$ENGINE] README example: the guest powered off"
	else
		bad "[$ENGINE] README example: no 'reboot: Power down'"
	fi
fi

# A reboot ends vmon with the reset status, 6 (poweroff is 0).
echo 'reboot' | timeout "$BOOT_TIMEOUT" "$VMON" run --accel "$ENGINE" --kernel "$KERNEL" --initrd "$INITRD" \
	--mem 128M --append console=ttyS0 >"$TMP/rb.out" 2>"$TMP/rb.err"
st=$?
if [ $st -eq 6 ] && tr -d '\r' <"$TMP/rb.out" | grep -q "reboot: Restarting system"; then
	ok "[$ENGINE] reboot piped in: 'reboot: Restarting system', status 6"
else
	bad "[$ENGINE] reboot: status $st, expected 6"; tail -3 "$TMP/rb.out" | sed 's/^/     /'
fi

rm -rf "$TMP"
echo "linux-console: $pass passed, $fail failed"
[ $fail -eq 0 ]
