#!/usr/bin/env bash
# Linux guest, virtio devices (issue 11): Debian's kernel with the initramfs
# and root.ext4 of tools/mkguest on vmon's virtio-blk and virtio-rng, driven
# through the serial console as in tests/linux/run.sh.
#   tests/linux/virtio.sh [ENGINE [VMLINUZ INITRD ROOT_EXT4]]
# ENGINE is emu (default) or kvm; without the files it uses $BUILD/guest/,
# built with tools/mkguest when one is missing. Each boot works on copies in
# a temporary directory (the guest's root.ext4 is never written).
# Cases (each boot is one case, so that a missing device fails only its own):
#   (a) --disk ROOT, root=/dev/vda rw: the kernel mounts ext4 from /dev/vda
#       read-write; a file of known sha256 written, sync, poweroff -> status 0;
#       on the host e2fsck -fn finds the file system clean and debugfs reads
#       the file back with that checksum
#   (c) while (a)'s vmon runs, a second vmon on the same image refuses:
#       status 2, one line naming the disk, and the first keeps running
#   (b) --disk ROOT --disk DATA,ro: /dev/vdb is read-only in the guest, a dd
#       to it fails with an error, the guest reads DATA's bytes, and DATA is
#       bit-identical on the host afterwards (sha256 before and after)
#   (d) root=/dev/vda rw, a file written, sync, SIGKILL to vmon as soon as the
#       guest prints that sync returned: after the journal replay that the
#       next mount would do (e2fsck -fy), debugfs finds the file, checksum
#       equal
#   (e) --rng: /dev/hwrng is virtio_rng.0 and two 32-byte reads give bytes,
#       not all zero and not equal
# VMM=qemu runs the same cases under qemu-system-x86_64 -accel tcg with the
# matching modern-only virtio-pci devices (disable-legacy=on), to prove the
# test itself (the refused second QEMU exits with 1, not 2). BOOT_TIMEOUT
# (default 300 s) bounds each wait; nothing else depends on timing.
set -u
cd "$(dirname "$0")/../.." || exit 2
ENGINE=${1:-emu}
BUILD=${BUILD:-build}
VMON=${VMON:-$BUILD/vmon}
VMM=${VMM:-vmon}
QEMU=${QEMU:-qemu-system-x86_64}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
MARKER="vmon-guest: boot marker"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
done_() {
	rm -rf "$TMP"
	echo "linux-virtio: $pass passed, $fail failed"
	[ $fail -eq 0 ]
	exit
}
TMP=$(mktemp -d)
# No EXIT trap (see tests/system/run.sh): $TMP is removed at the end.

if [ $# -ge 4 ]; then
	KERNEL=$2 INITRD=$3 ROOTIMG=$4
else
	G=$BUILD/guest
	KERNEL=$G/vmlinuz INITRD=$G/initrd.img ROOTIMG=$G/root.ext4
	if [ ! -f "$KERNEL" ] || [ ! -f "$INITRD" ] || [ ! -f "$ROOTIMG" ]; then
		tools/mkguest "$G" >/dev/null || { bad "tools/mkguest $G failed"; done_; }
	fi
fi
PATH=$PATH:/usr/sbin:/sbin
for tool in debugfs e2fsck sha256sum; do
	command -v $tool >/dev/null || { bad "needs $tool (e2fsprogs, coreutils) on the host"; done_; }
done
case $VMM in
vmon) TAG="[$ENGINE]"; REFUSED=2 REFUSED_LINES=1 ;;
qemu) TAG="[qemu-tcg]"; REFUSED=1 REFUSED_LINES=2 ;; # QEMU adds "Is another process using the image?"
*) bad "VMM=$VMM: vmon or qemu"; done_ ;;
esac

# vm_cmd DISK... [-- rng] : the command line booting the guest with these
# disks ("FILE" or "FILE,ro", /dev/vda first) and $APPEND; "rng" adds the
# entropy device. Leaves it in the array CMD.
vm_cmd() {
	local d i=0
	CMD=()
	if [ "$VMM" = vmon ]; then
		CMD=("$VMON" run --accel "$ENGINE" --kernel "$KERNEL" --initrd "$INITRD" --mem 256M)
		for d in "$@"; do
			case $d in
			rng) CMD+=(--rng) ;;
			*) CMD+=(--disk "$d") ;;
			esac
		done
	else
		CMD=("$QEMU" -accel tcg -m 256M -display none -monitor none -serial stdio -no-reboot
			-kernel "$KERNEL" -initrd "$INITRD")
		for d in "$@"; do
			case $d in
			rng) CMD+=(-device "virtio-rng-pci,disable-legacy=on") ;;
			*,ro) CMD+=(-drive "file=${d%,ro},if=none,id=d$i,format=raw,readonly=on"
				-device "virtio-blk-pci,drive=d$i,disable-legacy=on") ;;
			*) CMD+=(-drive "file=$d,if=none,id=d$i,format=raw" -device "virtio-blk-pci,drive=d$i,disable-legacy=on") ;;
			esac
			i=$((i + 1))
		done
	fi
	if [ "$VMM" = vmon ]; then CMD+=(--append "$APPEND"); else CMD+=(-append "$APPEND"); fi
}

# start NAME: runs CMD with its console on $TMP/NAME.out (stdin a FIFO held
# open on fd 7); the process id in $pid.
start() {
	rm -f "$TMP/in"
	mkfifo "$TMP/in"
	"${CMD[@]}" <"$TMP/in" >"$TMP/$1.out" 2>"$TMP/$1.err" &
	pid=$!
	exec 7>"$TMP/in"
	t0=$SECONDS
}
# wait_for NAME PATTERN: until the console shows a line matching PATTERN
# (extended regex, CRs removed); 1 if the VMM ended or BOOT_TIMEOUT passed.
wait_for() {
	local t=$SECONDS
	until tr -d '\r' <"$TMP/$1.out" 2>/dev/null | grep -a -q -E "$2"; do
		kill -0 $pid 2>/dev/null && [ $((SECONDS - t)) -lt "$BOOT_TIMEOUT" ] || return 1
		sleep 0.1
	done
}
# boot NAME: waits for the marker and gives the shell a moment for its prompt;
# sets booted (what the checks say about the boot).
boot() {
	if wait_for "$1" "$MARKER"; then
		booted="$((SECONDS - t0)) s to the marker"
		sleep 2
	else
		booted="no boot marker"
		return 1
	fi
}
# finish: waits for the VMM to end (BOOT_TIMEOUT at most, then SIGKILL);
# the status in $st.
finish() {
	local i
	# (stderr away: bash's own "Killed" line for a VMM killed by signal)
	{
		for i in $(seq "$BOOT_TIMEOUT"); do kill -0 $pid || break; sleep 1; done
		kill -KILL $pid
		exec 7>&-
		wait $pid
		st=$?
	} 2>/dev/null
}
# val NAME KEY: the value of the guest's first "KEY=..." line.
val() { tr -d '\r' <"$TMP/$1.out" | sed -n "s/^$2=//p" | head -1; }
# why NAME: the end of a run's console and stderr, for a failed check.
why() {
	tr -d '\r' <"$TMP/$1.out" | grep -a -v '^$' | tail -4 | sed 's/^/     out: /'
	tail -3 "$TMP/$1.err" | sed 's/^/     err: /'
}
# check DESC WANT GOT NAME: GOT equals WANT.
check() {
	if [ "$3" = "$2" ]; then ok "$1"; else bad "$1: '$3', expected '$2'"; why "$4"; fi
}
# after NAME KEY DESC: true when the guest printed KEY=, so that a check on
# the host after it means something; else a failure for DESC.
after() {
	[ -n "$(val "$1" "$2")" ] && return 0
	bad "$3: the guest did not get that far"
	return 1
}
# host_sha IMAGE PATH: sha256 of a file in an ext4 image, read by debugfs.
host_sha() {
	local h
	h=$(debugfs -R "cat $2" "$1" 2>/dev/null | sha256sum | cut -d' ' -f1)
	[ "$h" = "$(sha256sum </dev/null | cut -d' ' -f1)" ] && h="no such file"
	echo "$h"
}

# The payload: seq's output, the same from busybox in the guest and
# coreutils here.
WANT_A=$(seq 1 20000 | sha256sum | cut -d' ' -f1)
WANT_D=$(seq 7 30007 | sha256sum | cut -d' ' -f1)

# (a) root on /dev/vda, a file through ext4; (c) a second VMM on its image
# while it runs.
cp --sparse=always "$ROOTIMG" "$TMP/a.ext4"
APPEND="console=ttyS0 root=/dev/vda rw"
vm_cmd "$TMP/a.ext4"
start a
# The disk is open once the kernel runs: try the second VMM then.
if wait_for a "Linux version"; then
	# (Without root=: were it not refused, it should not write the image.)
	APPEND="console=ttyS0" vm_cmd "$TMP/a.ext4"
	timeout 60 "${CMD[@]}" </dev/null >"$TMP/c.out" 2>"$TMP/c.err"
	cst=$?
	if [ $cst -eq "$REFUSED" ] && grep -q -F "$TMP/a.ext4" "$TMP/c.err" && [ "$(wc -l <"$TMP/c.err")" -eq $REFUSED_LINES ] &&
		kill -0 $pid 2>/dev/null; then
		ok "$TAG (c) a second VMM on a disk in use: status $cst, $(tr '\n' ' ' <"$TMP/c.err" | cut -c1-200)"
	else
		bad "$TAG (c) a second VMM on a disk in use: status $cst, expected $REFUSED and $REFUSED_LINES line(s) naming $TMP/a.ext4, the first still running"
		head -3 "$TMP/c.err" | sed 's/^/     err: /'
	fi
else
	bad "$TAG (c) a second VMM on a disk in use: the first did not start its guest"
	why a
fi
if boot a; then
	printf '%s\n' 'echo "ROOTMNT=$(grep " / " /proc/mounts | cut -d" " -f1-3) $(grep " / " /proc/mounts | cut -d" " -f4 | cut -d, -f1)"; mkdir -p /vt; seq 1 20000 >/vt/data; echo "GSHA=$(sha256sum </vt/data | cut -d" " -f1)"; sync; poweroff' >&7
fi
finish
check "$TAG (a) root=/dev/vda rw: the root file system ($booted)" "/dev/vda / ext4 rw" "$(val a ROOTMNT)" a
check "$TAG (a) the guest's sha256 of the file it wrote" "$WANT_A" "$(val a GSHA)" a
check "$TAG (a) poweroff: the status" 0 "$st" a
if ! after a GSHA "$TAG (a) e2fsck -fn"; then
	:
elif e2fsck -fn "$TMP/a.ext4" >"$TMP/a.fsck" 2>&1; then
	ok "$TAG (a) e2fsck -fn: the file system was left clean"
else
	bad "$TAG (a) e2fsck -fn: status $?"; tail -3 "$TMP/a.fsck" | sed 's/^/     /'
fi
check "$TAG (a) debugfs on the host: the file's sha256" "$WANT_A" "$(host_sha "$TMP/a.ext4" /vt/data)" a
rm -f "$TMP/a.ext4"

# (b) a read-only second disk, its bytes random.
cp --sparse=always "$ROOTIMG" "$TMP/b.ext4"
head -c 1048576 /dev/urandom >"$TMP/data.img"
sha_before=$(sha256sum <"$TMP/data.img" | cut -d' ' -f1)
APPEND="console=ttyS0"
vm_cmd "$TMP/b.ext4" "$TMP/data.img,ro"
start b
if boot b; then
	printf '%s\n' 'echo "RO=$(cat /sys/block/vdb/ro)"; dd if=/dev/zero of=/dev/vdb bs=4096 count=1 conv=fsync 2>/tmp/dd.err; echo "DDST=$?"; sed "s/^/DDERR=/" /tmp/dd.err; echo "GSHA=$(sha256sum </dev/vdb | cut -d" " -f1)"; poweroff' >&7
fi
finish
check "$TAG (b) --disk FILE,ro: /sys/block/vdb/ro ($booted)" 1 "$(val b RO)" b
ddst=$(val b DDST) dderr=$(val b DDERR)
if [ -n "$ddst" ] && [ "$ddst" != 0 ] && [ -n "$dderr" ]; then
	ok "$TAG (b) a write to /dev/vdb fails in the guest: dd status $ddst, $dderr"
else
	bad "$TAG (b) a write to /dev/vdb: dd status '${ddst}', message '${dderr}', expected a failure"; why b
fi
check "$TAG (b) the guest reads the read-only disk's bytes (sha256)" "$sha_before" "$(val b GSHA)" b
after b DDST "$TAG (b) the read-only file on the host" &&
	check "$TAG (b) the read-only file is bit-identical on the host (sha256 before and after)" "$sha_before" \
		"$(sha256sum <"$TMP/data.img" | cut -d' ' -f1)" b
check "$TAG (b) poweroff: the status" 0 "$st" b
rm -f "$TMP/b.ext4" "$TMP/data.img"

# (d) SIGKILL right after sync returned.
cp --sparse=always "$ROOTIMG" "$TMP/d.ext4"
APPEND="console=ttyS0 root=/dev/vda rw"
vm_cmd "$TMP/d.ext4"
start d
if boot d; then
	# The line typed is echoed before it runs: the pattern below is only in
	# what the guest prints after sync returned.
	printf '%s\n' 'mkdir -p /vt; seq 7 30007 >/vt/crash; sync; echo "SYNC""ED=$(sha256sum </vt/crash | cut -d" " -f1)"' >&7
	if wait_for d "^SYNCED="; then
		kill -KILL $pid
	fi
fi
finish
check "$TAG (d) the guest's sha256 before the kill ($booted)" "$WANT_D" "$(val d SYNCED)" d
check "$TAG (d) the VMM was killed by SIGKILL (status 137)" 137 "$st" d
if after d SYNCED "$TAG (d) e2fsck -fy after the kill"; then
	e2fsck -fy "$TMP/d.ext4" >"$TMP/d.fsck" 2>&1
	fst=$?
	if [ $fst -le 1 ]; then
		ok "$TAG (d) e2fsck -fy after the kill: status $fst$(grep -q -i 'recovering journal' "$TMP/d.fsck" && echo ', the journal replayed')"
	else
		bad "$TAG (d) e2fsck -fy after the kill: status $fst"; tail -5 "$TMP/d.fsck" | sed 's/^/     /'
	fi
fi
check "$TAG (d) debugfs on the host after the kill: the synced file's sha256" "$WANT_D" "$(host_sha "$TMP/d.ext4" /vt/crash)" d
rm -f "$TMP/d.ext4"

# (e) the entropy device.
APPEND="console=ttyS0"
vm_cmd rng
start e
if boot e; then
	printf '%s\n' 'echo "RNGCUR=$(cat /sys/class/misc/hw_random/rng_current)"; for i in 1 2; do echo "RNG$i=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d " \n")"; done; poweroff' >&7
fi
finish
check "$TAG (e) --rng: the kernel's current hw_random source ($booted)" virtio_rng.0 "$(val e RNGCUR)" e
r1=$(val e RNG1) r2=$(val e RNG2)
if echo "$r1" | grep -q -E '^[0-9a-f]{64}$' && echo "$r2" | grep -q -E '^[0-9a-f]{64}$' && [ "$r1" != "$r2" ] &&
	echo "$r1$r2" | grep -q '[1-9a-f]'; then
	ok "$TAG (e) /dev/hwrng: two 32-byte reads, $r1 and $r2"
else
	bad "$TAG (e) /dev/hwrng: reads '$r1' and '$r2', expected two different 32-byte values"; why e
fi
check "$TAG (e) poweroff: the status" 0 "$st" e

done_
