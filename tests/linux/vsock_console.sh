#!/usr/bin/env bash
# Linux guest, virtio-console and virtio-vsock (issue 11 item 6):
#   tests/linux/vsock_console.sh ENGINE VMLINUZ INITRD
# The guest boots with --console virtio and console=hvc0, so its shell runs
# on hvc0 (stdin/stdout); --vsock cid=3,uds=PATH. The initramfs gets, by a
# test-time cpio append (the kernel unpacks concatenated archives), an init
# that loads the virtio modules and a static helper (tests/linux/vsockecho.c;
# busybox nc has no AF_VSOCK) listening on vsock port 5000. Checks:
#   hvc0 carries a shell: it answers a command (the computed value, not the echo);
#   host -> guest: "CONNECT 5000\n" on PATH gets "OK <port>\n" and an echo;
#   guest -> host: the guest connects to CID 2 port 6000, reaching PATH_6000;
#   poweroff ends vmon with status 0.
set -u
ENGINE=$1 KERNEL=$2 INITRD=$3
BUILD=${BUILD:-build}
VMON=${VMON:-$BUILD/vmon}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
TMP=$(mktemp -d)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
VPID=
cleanup() {
	[ -n "$VPID" ] && kill "$VPID" 2>/dev/null
	exec 3>&- 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# The helper: static, so it runs in the guest and here alike.
ECHO=$BUILD/tests/linux/vsockecho
if [ ! -x "$ECHO" ] || [ tests/linux/vsockecho.c -nt "$ECHO" ]; then
	mkdir -p "$(dirname "$ECHO")"
	gcc -static -O2 -Wall -Wextra -Werror -o "$ECHO" tests/linux/vsockecho.c ||
		{ bad "gcc -static tests/linux/vsockecho.c"; echo "linux-vsock-console: $pass passed, $fail failed"; exit 1; }
fi

# The appended archive: /vtest-init (rdinit=) and the helper.
mkdir -p "$TMP/extra/bin"
cp "$ECHO" "$TMP/extra/bin/vsockecho"
cat >"$TMP/extra/vtest-init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in virtio_pci virtio_console vmw_vsock_virtio_transport; do modprobe $m; done
i=0
while [ ! -e /dev/hvc0 ] && [ $i -lt 100 ]; do usleep 100000; i=$((i + 1)); done
exec </dev/hvc0 >/dev/hvc0 2>&1
/bin/vsockecho vsock-listen 5000 &
echo "vmon-guest: boot marker"
exec /sbin/init
INIT
chmod +x "$TMP/extra/vtest-init"
(cd "$TMP/extra" && find . | cpio -o -H newc --quiet | gzip) >"$TMP/extra.cpio.gz"
cat "$INITRD" "$TMP/extra.cpio.gz" >"$TMP/initrd"

# Waits until the guest's output holds a line matching the regex $1.
wait_for() {
	local t=0
	while ! tr -d '\r' <"$TMP/out" | grep -q -E "$1"; do
		if [ $t -ge $((BOOT_TIMEOUT * 10)) ] || ! kill -0 "$VPID" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
		t=$((t + 1))
	done
}

mkfifo "$TMP/in"
SOCK=$TMP/v.sock
"$VMON" run --accel "$ENGINE" --kernel "$KERNEL" --initrd "$TMP/initrd" --mem 256M \
	--console virtio --vsock "cid=3,uds=$SOCK" --append "console=hvc0 rdinit=/vtest-init" \
	<"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
VPID=$!
exec 3>"$TMP/in"

if ! wait_for '^vmon-guest: boot marker'; then
	bad "[$ENGINE] no boot marker on hvc0 within $BOOT_TIMEOUT s"; tail -5 "$TMP/out" "$TMP/err" | sed 's/^/     /'
	echo "linux-vsock-console: $pass passed, $fail failed"
	exit 1
fi
ok "[$ENGINE] the guest's output reaches stdout through hvc0"

# A shell on hvc0: the tty echoes the command as typed; only the shell
# prints the computed value.
echo 'echo hvc-$((6 * 7))' >&3
if wait_for '^hvc-42$'; then
	ok "[$ENGINE] hvc0 carries a shell: 'echo hvc-\$((6 * 7))' printed hvc-42"
else
	bad "[$ENGINE] no answer from a shell on hvc0"; tail -5 "$TMP/out" | sed 's/^/     /'
fi

# Host -> guest: Firecracker's handshake on PATH, then an echo.
wait_for 'listening on vsock port 5000' || true
reply=$(timeout 60 "$ECHO" uds-connect "$SOCK" 5000 ping-from-host 2>"$TMP/hs")
okline=$(head -1 "$TMP/hs")
if echo "$okline" | grep -q -E '^OK [0-9]+$' && [ "$reply" = ping-from-host ]; then
	ok "[$ENGINE] host -> guest: CONNECT 5000 answered '$okline', the guest echoed ping-from-host"
else
	bad "[$ENGINE] host -> guest: handshake '$okline', reply '$reply'"; cat "$TMP/hs" | sed 's/^/     /'
fi
# No listener on a port: the connection closes without OK.
reply=$(timeout 60 "$ECHO" uds-connect "$SOCK" 5001 nobody 2>"$TMP/hs2")
if ! grep -q '^OK' "$TMP/hs2"; then
	ok "[$ENGINE] host -> guest: CONNECT 5001 (no listener) closed without OK"
else
	bad "[$ENGINE] host -> guest: CONNECT 5001 got '$(head -1 "$TMP/hs2")'"
fi

# Guest -> host: CID 2 port 6000 reaches PATH_6000.
timeout 120 "$ECHO" uds-listen "${SOCK}_6000" &
LPID=$!
for _ in $(seq 50); do [ -S "${SOCK}_6000" ] && break; sleep 0.1; done
echo 'echo "got:$(vsockecho vsock-connect 2 6000 ping-from-guest)"' >&3
if wait_for '^got:ping-from-guest$'; then
	ok "[$ENGINE] guest -> host: CID 2 port 6000 reached ${SOCK##*/}_6000 and echoed ping-from-guest"
else
	bad "[$ENGINE] guest -> host: no echo"; tail -5 "$TMP/out" | sed 's/^/     /'
fi
kill "$LPID" 2>/dev/null
wait "$LPID" 2>/dev/null

echo 'poweroff' >&3
st=0
for _ in $(seq $((BOOT_TIMEOUT * 10))); do kill -0 "$VPID" 2>/dev/null || break; sleep 0.1; done
wait "$VPID"
st=$?
VPID=
# Status 0 is the ACPI poweroff. The last lines before it (busybox init's
# "Sent SIGKILL", Linux's "reboot: Power down") did not reach stdout in the
# runs so far (not explained yet), so they are shown, not checked.
if [ $st -eq 0 ]; then
	ok "[$ENGINE] poweroff on hvc0: status 0"
else
	bad "[$ENGINE] poweroff: status $st"
	tail -n 3 "$TMP/out" "$TMP/err" | sed 's/^/     /'
fi
echo "     the output's last lines:"; tr -d '\r' <"$TMP/out" | tail -n 3 | sed 's/^/     /'
if [ ! -e "$SOCK" ]; then
	ok "[$ENGINE] vmon removed $SOCK at exit"
else
	bad "[$ENGINE] $SOCK left behind"
fi
echo "linux-vsock-console: $pass passed, $fail failed"
[ $fail -eq 0 ]
