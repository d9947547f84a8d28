#!/usr/bin/env bash
# Linux guest on virtio-net over a tap, in a network namespace of its own:
#   tests/linux/net.sh [KERNEL INITRD]          (default guest/vmlinuz guest/initrd.img)
#   NET_ENGINE=emu (default) or kvm: the engine vmon runs the guest with.
#   NET_VMM=vmon (default, --accel emu) | qemu (QEMU TCG's virtio-net-pci, modern
#   only: proves this script against a reference device)
# The script re-runs itself under `unshare -n`: a namespace holding only lo and
# the tap vmtap0 (10.0.2.1/24), so no frame leaves it. The guest (busybox)
# loads virtio_pci and virtio_net, sets eth0 to 10.0.2.15/24, then:
#   ping the host, and the host pings the guest;
#   TCP host -> guest: the guest listens (nc -l), the host connects and sends
#     a random payload; the guest prints its md5sum, compared with the host's;
#   TCP guest -> host: the guest sends a random file of its own to the host's
#     listener, prints its md5sum, compared with what the host received;
#   the MAC given with --net (mac=) is eth0's; poweroff ends the VMM with 0.
# Needs root (a namespace and a tap), python3 (the host's TCP ends), ip.
# Prints "linux-net: N passed, M failed"; exit status 1 on a failure.
set -u
cd "$(dirname "$0")/../.."
KERNEL=${1:-guest/vmlinuz} INITRD=${2:-guest/initrd.img}
NET_VMM=${NET_VMM:-vmon}
BUILD=${BUILD:-build}
VMON=${VMON:-$BUILD/vmon}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
STEP_TIMEOUT=${STEP_TIMEOUT:-180}
PAYLOAD_KB=${PAYLOAD_KB:-256}
MAC=52:54:00:12:34:56
HOST=10.0.2.1 GUEST=10.0.2.15
MARKER="vmon-guest: boot marker"

if [ -z "${NET_IN_NS:-}" ]; then
	for f in "$KERNEL" "$INITRD"; do
		[ -f "$f" ] || { echo "SKIP linux-net: no $f (tools/mkguest guest)"; echo "linux-net: 0 passed, 0 failed"; exit 0; }
	done
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v ip >/dev/null ||
		! command -v python3 >/dev/null || [ ! -c /dev/net/tun ]; then
		echo "SKIP linux-net: needs root, unshare, ip, python3 and /dev/net/tun"
		echo "linux-net: 0 passed, 0 failed"
		exit 0
	fi
	exec unshare -n env NET_IN_NS=1 "$0" "$@"
fi

TMP=$(mktemp -d)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() {
	[ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null
	exec 7>&- 2>/dev/null
	rm -rf "$TMP"
	echo "linux-net: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

ip link set lo up
if ! ip tuntap add dev vmtap0 mode tap || ! ip addr add $HOST/24 dev vmtap0 || ! ip link set vmtap0 up; then
	bad "[$NET_VMM] creating vmtap0 in the namespace"
	finish
fi
links=$(ip -o link show | awk -F': ' '{ print $2 }' | sort | tr '\n' ' ')
if [ "$links" = "lo vmtap0 " ]; then
	ok "[$NET_VMM] the namespace holds only lo and vmtap0: no traffic leaves it"
else
	bad "[$NET_VMM] the namespace has other interfaces: $links"
	finish
fi

APPEND="console=ttyS0 panic=-1"
case $NET_VMM in
vmon) cmd=("$VMON" run --accel "${NET_ENGINE:-emu}" --kernel "$KERNEL" --initrd "$INITRD" --net "tap=vmtap0,mac=$MAC"
	   --append "$APPEND") ;;
qemu) cmd=(qemu-system-x86_64 -accel tcg -m 256 -nodefaults -display none -serial stdio -no-reboot
	   -netdev tap,id=n0,ifname=vmtap0,script=no,downscript=no
	   -device "virtio-net-pci,netdev=n0,disable-legacy=on,mac=$MAC"
	   -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND") ;;
*) echo "net.sh: NET_VMM is vmon or qemu"; exit 2 ;;
esac

mkfifo "$TMP/in"
"${cmd[@]}" <"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
pid=$!
exec 7>"$TMP/in"

# Serial output without CRs; typed commands are echoed, so the lines waited
# for start with a word the guest prints, never with the prompt.
out() { tr -d '\r' <"$TMP/out"; }
wait_for() { # wait_for REGEX SECONDS: 0 once a line of the output matches
	local t0=$SECONDS
	until out | grep -q -E "$1"; do
		kill -0 "$pid" 2>/dev/null || return 1
		[ $((SECONDS - t0)) -ge "$2" ] && return 1
		sleep 1
	done
}
type_cmd() { printf '%s\n' "$1" >&7; }

t0=$SECONDS
if ! wait_for "$MARKER" "$BOOT_TIMEOUT"; then
	bad "[$NET_VMM] no boot marker in ${BOOT_TIMEOUT}s"; tail -5 "$TMP/err" | sed 's/^/     /'
	finish
fi
ok "[$NET_VMM] booted in $((SECONDS - t0))s"
sleep 2

# Busybox has no hotplug helper here: the modules are loaded by hand (quietly
# when the initramfs already did), then eth0 is waited for.
type_cmd 'modprobe virtio_pci; modprobe virtio_net; for i in $(seq 100); do [ -e /sys/class/net/eth0 ] && break; sleep 0.2; done'
type_cmd "ip link set eth0 up && ip addr add $GUEST/24 dev eth0; echo NETUP=\$(cat /sys/class/net/eth0/address)"
if ! wait_for '^NETUP=[0-9a-f:]{17}$' "$STEP_TIMEOUT"; then
	bad "[$NET_VMM] no eth0: $(out | grep '^NETUP=' | head -1)"
	out | grep -i -E "virtio|eth0" | tail -5 | sed 's/^/     /'
	type_cmd 'poweroff'
	finish
elif out | grep -q "^NETUP=$MAC\$"; then
	ok "[$NET_VMM] eth0 is up with the MAC given to --net ($MAC)"
else
	bad "[$NET_VMM] eth0's MAC: $(out | grep '^NETUP=' | head -1), expected $MAC"
fi

type_cmd "ping -c 3 -W 10 $HOST >/dev/null && echo PING1=ok || echo PING1=fail"
if wait_for '^PING1=' "$STEP_TIMEOUT" && out | grep -q '^PING1=ok'; then
	ok "[$NET_VMM] the guest pings the host"
else
	bad "[$NET_VMM] the guest pings the host: $(out | grep '^PING1=')"
fi
# The host's ping: ICMP echo over a raw socket (no iputils needed), 3 replies.
host_ping() {
	python3 - "$1" <<'PY'
import os, socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sock.settimeout(10)
ident, got = os.getpid() & 0xffff, 0
for seq in range(1, 4):
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"vmon-net-test..."
    sock.sendto(body[:2] + struct.pack("!H", csum(body)) + body[4:], (sys.argv[1], 0))
    end = time.time() + 10
    while time.time() < end:
        try:
            pkt = sock.recv(2048)
        except socket.timeout:
            break
        icmp = pkt[(pkt[0] & 15) * 4:]
        if icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (ident, seq):
            got += 1
            break
sys.exit(0 if got == 3 else 1)
PY
}
if host_ping $GUEST; then
	ok "[$NET_VMM] the host pings the guest"
else
	bad "[$NET_VMM] the host pings the guest"
fi

# Host -> guest: the host connects to the guest's listener (retrying until it
# listens) and sends the payload, then half-closes; busybox nc ends at EOF.
head -c $((PAYLOAD_KB * 1024)) /dev/urandom >"$TMP/h2g"
type_cmd 'nc -l -p 5001 >/tmp/h2g; echo H2G=$(md5sum </tmp/h2g)'
python3 - "$GUEST" 5001 "$TMP/h2g" "$STEP_TIMEOUT" <<'EOF' >"$TMP/h2g.log" 2>&1 &
import socket, sys, time
host, port, path, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
end = time.time() + limit
while True:
    try:
        s = socket.create_connection((host, port), timeout=10)
        break
    except OSError:
        if time.time() > end:
            raise
        time.sleep(1)
s.settimeout(limit)
s.sendall(open(path, "rb").read())
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
s.close()
EOF
sender=$!
want=$(md5sum <"$TMP/h2g" | cut -d' ' -f1)
if wait_for '^H2G=' "$STEP_TIMEOUT" && out | grep -q "^H2G=$want"; then
	ok "[$NET_VMM] TCP host -> guest, $PAYLOAD_KB KiB: md5 $want on both sides"
else
	bad "[$NET_VMM] TCP host -> guest: host md5 $want, guest $(out | grep '^H2G=')"
	sed 's/^/     /' "$TMP/h2g.log" | tail -3
fi
wait "$sender" 2>/dev/null

# Guest -> host: the host listens first; the guest sends a file of its own.
python3 - "$HOST" 5002 "$TMP/g2h" "$STEP_TIMEOUT" <<'EOF' >"$TMP/g2h.log" 2>&1 &
import socket, sys
host, port, path, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((host, port))
l.listen(1)
l.settimeout(limit)
c, _ = l.accept()
c.settimeout(limit)
with open(path, "wb") as f:
    while True:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)
c.close()
EOF
receiver=$!
sleep 1
type_cmd "dd if=/dev/urandom of=/tmp/g2h bs=1024 count=$PAYLOAD_KB 2>/dev/null; echo G2H=\$(md5sum </tmp/g2h); nc $HOST 5002 </tmp/g2h; echo G2HDONE=1"
if wait_for '^G2HDONE=' "$STEP_TIMEOUT"; then
	wait "$receiver" 2>/dev/null
	got=$(md5sum <"$TMP/g2h" 2>/dev/null | cut -d' ' -f1)
	size=$(wc -c <"$TMP/g2h" 2>/dev/null)
	if out | grep -q "^G2H=$got" && [ "$size" -eq $((PAYLOAD_KB * 1024)) ]; then
		ok "[$NET_VMM] TCP guest -> host, $PAYLOAD_KB KiB: md5 $got on both sides"
	else
		bad "[$NET_VMM] TCP guest -> host: host got $size bytes md5 $got, guest $(out | grep '^G2H=')"
	fi
else
	bad "[$NET_VMM] TCP guest -> host: the guest's nc did not finish"
	kill "$receiver" 2>/dev/null
fi

type_cmd 'poweroff'
for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
kill -KILL "$pid" 2>/dev/null
wait "$pid"
st=$?
pid=
if [ $st -eq 0 ]; then
	ok "[$NET_VMM] poweroff -> status 0"
else
	bad "[$NET_VMM] poweroff: status $st"; tail -3 "$TMP/err" | sed 's/^/     /'
fi
finish
