#!/usr/bin/env bash
# KVM tests on a host that has no /dev/kvm (this project's CI machine): boot
# Debian's cloud kernel in QEMU (TCG) with an emulated AMD-V CPU
# (-cpu qemu64,+svm,+npt), load kvm-amd there, and run vmon's system tests
# and Linux guest tests (tools/mkguest's kernel and initramfs, booted to a
# shell) with --accel kvm inside that VM. vmon's KVM engine then drives a
# real Linux KVM, one level down. What it cannot show: timing on hardware.
# One L1 vCPU by default (NESTED_SMP): QEMU 7.2's multi-threaded TCG with
# nested SVM was seen to crash or hang the L1 VM now and then. With one L1
# vCPU, an SMP Linux guest (two L2 vCPUs spinning for each other) boots in
# 11 s on a quiet machine but took minutes under load, so CI boots Linux with
# one vCPU here; SMP under KVM is covered by the smp guest (4 vCPUs). The
# kernel-panic case passed on a quiet machine but once hung there (the L2
# guest did not come back from its panic reboot): left out of CI until the
# Linux issue looks into it.
#   tests/nested/run.sh [--bench]      (after `make`)
# Where /dev/kvm is usable the system tests run KVM directly: SKIP here.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=$BUILD/nested
BENCH=0
[ "${1:-}" = --bench ] && BENCH=1
if [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ "${NESTED_FORCE:-0}" != 1 ]; then
	echo "SKIP nested: /dev/kvm is usable here; tests/system/run.sh runs the KVM engine directly"
	echo "nested: 0 passed, 0 failed"
	exit 0
fi

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v cpio >/dev/null || need+=(cpio)
if [ ${#need[@]} -gt 0 ]; then
	echo "nested: installing ${need[*]}"
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"; } >/dev/null 2>&1 ||
		{ echo "FAIL nested: cannot install ${need[*]}"; echo "nested: 0 passed, 1 failed"; exit 1; }
fi

# Debian's packages for the L1 guest: the kernel (with kvm.ko, kvm-amd.ko),
# busybox and a static bash for the test scripts. Cached in $N/debs.
mkdir -p "$N/debs"
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$kpkg" ]; then
	apt-get update -q >/dev/null 2>&1
	kpkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
for p in "$kpkg" busybox-static bash-static; do
	ls "$N/debs/${p}"_*.deb >/dev/null 2>&1 && continue
	(cd "$N/debs" && apt-get download -q "$p" >/dev/null 2>&1) ||
		{ echo "FAIL nested: cannot download $p"; echo "nested: 0 passed, 1 failed"; exit 1; }
done

R=$N/root
rm -rf "$N/x" "$R"
mkdir -p "$N/x" "$R"/{bin,proc,sys,dev,tmp,mods,vmon/tests/system}
for d in "$N"/debs/*.deb; do dpkg-deb -x "$d" "$N/x"; done
kver=$(ls "$N/x/lib/modules")
cp "$N/x/bin/busybox" "$R/bin/busybox"
for a in $("$N/x/bin/busybox" --list); do
	case $a in busybox | bash) ;; *) ln -s busybox "$R/bin/$a" ;; esac
done
cp "$N/x/bin/bash-static" "$R/bin/bash"
for m in virt/lib/irqbypass.ko arch/x86/kvm/kvm.ko arch/x86/kvm/kvm-amd.ko; do
	cp "$N/x/lib/modules/$kver/kernel/$m" "$R/mods/"
done
mkdir -p "$R/vmon/$BUILD/guests" "$R/vmon/$BUILD/bench" "$R/vmon/bench"
cp "$BUILD/vmon-static" "$R/vmon/$BUILD/vmon"
mkdir -p "$R/vmon/$BUILD/tests"
gcc -O2 -static -o "$R/vmon/$BUILD/tests/randbytes" tests/system/randbytes.c
cp "$BUILD"/guests/*.bin "$BUILD"/guests/*.elf "$R/vmon/$BUILD/guests/"
cp -r tests/system/run.sh tests/system/expected "$R/vmon/tests/system/"
mkdir -p "$R/vmon/tests/linux" && cp tests/linux/run.sh "$R/vmon/tests/linux/"
cp tests/engines.sh "$R/vmon/tests/"
cp bench/exits "$R/vmon/bench/"
# The Linux guest (built once, cached).
if [ ! -f "$N/guest/vmlinuz" ] || [ ! -f "$N/guest/initrd.img" ]; then
	tools/mkguest "$N/guest" >/dev/null ||
		{ echo "FAIL nested: tools/mkguest failed"; echo "nested: 0 passed, 1 failed"; exit 1; }
fi
mkdir -p "$R/vmon/guest"
cp "$N/guest/vmlinuz" "$N/guest/initrd.img" "$R/vmon/guest/"
# NESTED_SCRIPT=FILE: a script to run in the L1 VM first (for debugging);
# NESTED_QEMU_ARGS: more QEMU options (e.g. a monitor socket);
# NESTED_TIMEOUT: seconds for the whole L1 run (default 900); NESTED_STALL:
# seconds without progress that count as a stalled L1 VM (default 240: more
# than a Linux test waits for anything, BOOT_TIMEOUT=150 here).
[ -n "${NESTED_SCRIPT:-}" ] && cp "$NESTED_SCRIPT" "$R/vmon/custom.sh"
# NESTED_FILES="A B": more files for it, in /vmon/extra.
if [ -n "${NESTED_FILES:-}" ]; then
	mkdir -p "$R/vmon/extra"
	# shellcheck disable=SC2086
	cp $NESTED_FILES "$R/vmon/extra/"
fi
cp "$BUILD/bench/raw_kvm-static" "$R/vmon/$BUILD/bench/raw_kvm"
cp "$BUILD/bench/firstbyte-static" "$R/vmon/$BUILD/bench/firstbyte"
cat >"$R/init" <<INIT
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
insmod /mods/irqbypass.ko && insmod /mods/kvm.ko && insmod /mods/kvm-amd.ko
echo "nested: L1 kernel \$(uname -r), \$(ls -l /dev/kvm 2>&1)"
cd /vmon
if [ -f /vmon/custom.sh ]; then /bin/bash /vmon/custom.sh; fi
# The suites run with stdin from /dev/null and their output in a file, not
# on the console: when the system tests wrote straight to the console, the
# next Linux boot under KVM stalled in the L1 VM (seen in CI; not in runs with
# the output redirected).
BUILD=$BUILD VMON_TEST_ENGINES=kvm /bin/bash tests/system/run.sh </dev/null >/tmp/system.log 2>&1
st=\$?
cat /tmp/system.log
echo "nested: system tests exit status \$st"
LINUX_CPUS=1 LINUX_PANIC=0 BOOT_TIMEOUT=150 BUILD=$BUILD /bin/bash tests/linux/run.sh kvm guest/vmlinuz guest/initrd.img </dev/null >/tmp/linux.log 2>&1
st=\$?
cat /tmp/linux.log
echo "nested: linux tests exit status \$st"
if [ $BENCH = 1 ]; then BUILD=$BUILD /bin/bash bench/exits; fi
poweroff -f
INIT
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$N/initrd.img"

echo "nested: booting $kpkg under QEMU TCG with AMD-V (svm, npt), running the system tests with --accel kvm"
# The L1 VM runs in the background, watched. Twice (once in CI, once in about
# 80 boots of probing) the L1 VM went idle for good in the middle of a Linux
# boot: QEMU at 0 % CPU, no more output, L1's own `sleep` loops stopped, so
# its clock or timer interrupt stopped too. Cause unknown; when the VM makes
# no progress for NESTED_STALL seconds (the console log does not grow and QEMU
# uses under 2 % of a CPU), the monitor's view of the vCPU and its LAPIC goes
# to $N/stall.txt and the run fails at once instead of at the timeout.
rm -f "$N/mon.in" "$N/mon.out" "$N/stall.txt"
mkfifo "$N/mon.in" "$N/mon.out"
exec 8<>"$N/mon.out" 9<>"$N/mon.in" # opened both ways: no open blocks
# shellcheck disable=SC2086
qemu-system-x86_64 -accel tcg -M pc -cpu qemu64,+svm,+npt -smp ${NESTED_SMP:-1} -m 2048 \
	-kernel "$N/x/boot/vmlinuz-$kver" -initrd "$N/initrd.img" \
	-append "console=ttyS0 quiet panic=-1" -display none -serial stdio -no-reboot \
	-chardev pipe,id=mon0,path="$N/mon" -mon chardev=mon0,mode=readline \
	${NESTED_QEMU_ARGS:-} </dev/null >"$N/log.txt" 2>&1 &
qpid=$!
monitor() { # monitor COMMAND: its output, appended to stall.txt
	echo "(qemu) $1" >>"$N/stall.txt"
	echo "$1" >&9
	local line
	IFS= read -r -t 3 line <&8 # readline's echo of the command
	while IFS= read -r -t 3 line <&8; do printf '%s\n' "$line" >>"$N/stall.txt"; done
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$qpid/stat" 2>/dev/null || echo 0; }
deadline=$((SECONDS + ${NESTED_TIMEOUT:-900})) stall=${NESTED_STALL:-240} hz=$(getconf CLK_TCK)
size=-1 ticks=$(cpu_ticks) since=$SECONDS qst=
while kill -0 $qpid 2>/dev/null; do
	sleep 5
	while IFS= read -r -t 0.1 _ <&8; do :; done # the monitor's banner and echoes
	nsize=$(stat -c %s "$N/log.txt" 2>/dev/null || echo 0) nticks=$(cpu_ticks)
	if [ "$nsize" != "$size" ] || [ $((nticks - ticks)) -gt $(((SECONDS - since) * hz / 50)) ]; then
		size=$nsize ticks=$nticks since=$SECONDS
	elif [ $((SECONDS - since)) -ge "$stall" ]; then
		echo "nested: the L1 VM made no progress for ${stall} s (QEMU idle, no output); its state: $N/stall.txt" |
			tee -a "$N/log.txt"
		monitor "info registers"
		monitor "info lapic"
		monitor "info pic"
		kill $qpid
		qst=125
		break
	fi
	if [ $SECONDS -ge $deadline ]; then
		echo "nested: timeout after ${NESTED_TIMEOUT:-900} s" | tee -a "$N/log.txt"
		kill $qpid
		qst=124
		break
	fi
done
wait $qpid
st=$?
qst=${qst:-$st}
exec 8<&- 9>&-
sed -n '/^nested: L1/,$p' "$N/log.txt" | grep -v '^\[' | sed -E 's/^(system|linux):/nested \1:/'
line=$(grep -E '^system: [0-9]+ passed' "$N/log.txt" | tail -1)
lline=$(grep -E '^linux: [0-9]+ passed' "$N/log.txt" | tail -1)
if [ -z "$line" ] || [ -z "$lline" ] || [ $qst -ne 0 ]; then
	echo "FAIL nested: the L1 VM did not finish the tests (qemu status $qst); log: $N/log.txt"
	tail -20 "$N/log.txt"
	echo "nested: 0 passed, 1 failed"
	exit 1
fi
p=$(printf '%s\n%s\n' "$line" "$lline" | awk '{ s += $2 } END { print s }')
f=$(printf '%s\n%s\n' "$line" "$lline" | awk '{ s += $4 } END { print s }')
echo "nested: $p passed, $f failed"
[ "$f" = 0 ]
