#!/usr/bin/env bash
# Linux guest tests: boot Debian's cloud kernel with the busybox initramfs of
# tools/mkguest to its boot marker, type commands into its shell through the
# console, and check what it prints and how vmon exits.
#   tests/linux/run.sh ENGINE VMLINUZ INITRD      (ENGINE: kvm or emu)
# What is checked where:
#   on kvm-pvm: --accel kvm with a Linux kernel warns that it will crawl
#   bad inputs (no boot): truncated bzImage, bad magic, initrd larger than RAM
#     or than the room beside the kernel, command line over the kernel's limit:
#     one line on stderr, status 2
#   piped stdin, --cpus 1 and 2 (--mem 256M): nproc, memory, clock source, RTC
#     year, poweroff -> 0
#   --mem 128M --cpus 4: memory, nproc, reboot -> 6 (a reset);  --mem 5G: memory (RAM
#     above 4 GiB), -> 0
#   under emu, on the --cpus 1, 2 and 4 boots: the clock source is tsc, and
#     dmesg has none of the lines of a CPU model Linux distrusts (unknown
#     vendor, MTRRs disabled, no MCE, TSC unsynchronised or marked unstable,
#     no PS/2 controller, an ACPI error); the HPET is an available clocksource
#   kernel panic with panic=-1: vmon exits
#   on a pseudo-terminal ($BUILD/tests/ptydrive): a typed command's output,
#     Ctrl-A x -> 0; SIGTERM during boot -> 143; the terminal restored both times
# LINUX_CPUS (default "1 2") lists the vCPU counts to boot with; LINUX_PANIC=0
# leaves out the kernel-panic case; LINUX_BIG (default 5G) is the large memory
# size, left out when the host has less RAM than that (or when LINUX_BIG=0).
# The pty cases are left out where ptydrive is not built. One boot at a time.
set -u
ENGINE=$1 KERNEL=$2 INITRD=$3
BUILD=${BUILD:-build}
VMON=${VMON:-$BUILD/vmon}
PTYDRIVE=${PTYDRIVE:-$BUILD/tests/ptydrive}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
MARKER="vmon-guest: boot marker"
TMP=$(mktemp -d)
# No EXIT trap (see tests/system/run.sh): $TMP is removed at the end.
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
skip() { echo "SKIP $*"; }

# bad_input DESC PATTERN vmon-run-args...: vmon must refuse to start: status 2,
# nothing on stdout, one line on stderr "vmon: ..." matching PATTERN.
bad_input() {
	local desc=$1 pat=$2
	shift 2
	timeout 60 "$VMON" run --accel "$ENGINE" "$@" </dev/null >"$TMP/bad.out" 2>"$TMP/bad.err"
	local st=$? lines
	lines=$(wc -l <"$TMP/bad.err")
	if [ $st -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$TMP/bad.out" ] && grep -q -E "^vmon: .*$pat" "$TMP/bad.err"; then
		ok "[$ENGINE] bad input, $desc: status 2, $(cut -c1-150 "$TMP/bad.err")"
	else
		bad "[$ENGINE] bad input, $desc: status $st, $lines line(s) on stderr, expected 2 and one line /$pat/"
		head -3 "$TMP/bad.err" | sed 's/^/     /'
	fi
}

# Bad files derived from the kernel. cmdline_size (boot protocol header at
# 0x238) is the longest command line this kernel takes.
head -c 1024 "$KERNEL" >"$TMP/setup-only"
head -c $(($(wc -c <"$KERNEL") / 2)) "$KERNEL" >"$TMP/half"
cp "$KERNEL" "$TMP/badmagic"
printf 'XXXX' | dd of="$TMP/badmagic" bs=1 seek=$((0x202)) conv=notrunc 2>/dev/null # "HdrS"
truncate -s 200M "$TMP/initrd-200M"
truncate -s 120M "$TMP/initrd-120M"
cmax=$(od -A n -t u4 -j $((0x238)) -N 4 "$KERNEL" | tr -d ' ')
bad_input "bzImage cut inside its setup sectors" "--kernel" --kernel "$TMP/setup-only"
bad_input "bzImage cut in half" "--kernel.*truncated" --kernel "$TMP/half"
bad_input "bzImage with a bad HdrS magic" "--kernel" --kernel "$TMP/badmagic"
bad_input "initrd larger than RAM (200M, --mem 128M)" "--initrd" --kernel "$KERNEL" --initrd "$TMP/initrd-200M" --mem 128M
bad_input "initrd with no room beside the kernel (120M, --mem 128M)" "--initrd" --kernel "$KERNEL" --initrd "$TMP/initrd-120M" --mem 128M
if [ -n "$cmax" ]; then
	bad_input "command line of $((cmax + 1)) bytes (cmdline_size $cmax)" "--append" --kernel "$KERNEL" --initrd "$INITRD" \
		--append "$(head -c $((cmax + 1)) /dev/zero | tr '\0' a)"
	# Exactly cmdline_size bytes is allowed: the only error left is the missing initrd.
	timeout 60 "$VMON" run --accel "$ENGINE" --kernel "$KERNEL" --initrd "$TMP/missing" --append "$(head -c "$cmax" /dev/zero | tr '\0' a)" \
		</dev/null >/dev/null 2>"$TMP/bad.err"
	if grep -q -e "--initrd" "$TMP/bad.err" && ! grep -q -e "--append" "$TMP/bad.err"; then
		ok "[$ENGINE] a command line of exactly cmdline_size ($cmax) bytes is taken"
	else
		bad "[$ENGINE] a command line of $cmax bytes: $(head -1 "$TMP/bad.err")"
	fi
else
	skip "[$ENGINE] command-line length: cannot read cmdline_size from $KERNEL"
fi
rm -f "$TMP"/setup-only "$TMP"/half "$TMP"/badmagic "$TMP"/initrd-*

# On kvm-pvm (a software-assisted KVM: guest ring 0 emulated), --accel kvm
# with a Linux kernel says at once that the boot will crawl.
. "$(dirname "$0")/../engines.sh"
if kvm_pvm && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	timeout 5 "$VMON" run --accel kvm --kernel "$KERNEL" --initrd "$INITRD" --append console=ttyS0 \
		</dev/null >/dev/null 2>"$TMP/pvm.err"
	if head -1 "$TMP/pvm.err" | grep -q -e "kvm-pvm.*--accel emu boots it"; then
		ok "[kvm-pvm] --accel kvm with a Linux kernel: warned at once"
	else
		bad "[kvm-pvm] --accel kvm with a Linux kernel: no warning"; head -3 "$TMP/pvm.err" | sed 's/^/     /'
	fi
fi

# boot NAME "COMMANDS" vmon-args...: boots, waits for the marker, types the
# commands, waits for vmon to end; leaves $TMP/NAME.out and the status in $st.
boot() {
	local name=$1 cmds=$2 i
	shift 2
	rm -f "$TMP/in"
	mkfifo "$TMP/in"
	"$VMON" run --accel "$ENGINE" --kernel "$KERNEL" --initrd "$INITRD" "$@" <"$TMP/in" >"$TMP/$name.out" \
		2>"$TMP/$name.err" &
	local pid=$!
	exec 7>"$TMP/in"
	local t0=$SECONDS
	until grep -q "$MARKER" "$TMP/$name.out" 2>/dev/null; do
		if ! kill -0 $pid 2>/dev/null || [ $((SECONDS - t0)) -ge "$BOOT_TIMEOUT" ]; then
			break
		fi
		sleep 1
	done
	boot_s=$((SECONDS - t0))
	# The shell needs a moment after the marker to print its prompt.
	sleep 2
	printf '%s\n' "$cmds" >&7
	for i in $(seq "$BOOT_TIMEOUT"); do kill -0 $pid 2>/dev/null || break; sleep 1; done
	kill -KILL $pid 2>/dev/null
	exec 7>&-
	wait $pid
	st=$?
}

check() { # check DESC PATTERN FILE
	if grep -q -E "$2" "$3"; then
		ok "$1"
	else
		bad "$1 (no /$2/ in the output)"
		grep -E "^(NPROC|MEM|CS|YEAR|HIGH)=" "$3" | sed 's/^/     /'
		tail -3 "$3" | sed 's/^/     /'
	fi
}

status_is() { # status_is DESC WANT NAME
	if [ "$st" -eq "$2" ]; then
		ok "$1 -> status $st"
	else
		bad "$1: status $st, expected $2"
		tail -3 "$TMP/$3.err" | sed 's/^/     /'
	fi
}

MEMCMD='echo "MEM=$(free -m | awk "/Mem:/ { print \$2 }")"'
# What Linux prints when it distrusts the CPU model (cpu/common.c, mtrr.c,
# mce/core.c, tsc.c) or misses a PC device the ACPI tables must describe
# (i8042.c's PNP probe; any ACPI table or AML error); DMESGCMD prints each such line as "BAD: ..." and their
# count as BADN=.
DISTRUST='vendor_id|unknown|may be unstable|MTRRs disabled|Unable to init MCE|TSCs unsynchronized|Marking TSC unstable|No PS/2 controller found|ACPI (BIOS )?Error'
DMESGCMD='dmesg | grep -E "'"$DISTRUST"'" | sed "s/^/BAD: /"; echo "BADN=$(dmesg | grep -c -E "'"$DISTRUST"'")"'
CSCMD='echo "CS=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"'
# check_trusted NAME DESC: under emu, the boot NAME ended on tsc with no
# distrust line in dmesg.
check_trusted() {
	[ "$ENGINE" = emu ] || return 0
	local out=$TMP/$1.out
	check "[$ENGINE] $2: the clock source is tsc" "^CS=tsc" "$out"
	if grep -q "^BADN=0" "$out"; then
		ok "[$ENGINE] $2: dmesg has no line of distrust (/$DISTRUST/)"
	else
		bad "[$ENGINE] $2: dmesg says:"
		grep "^BAD: \|^BADN=" "$out" | head -10 | sed 's/^/     /'
	fi
}
for cpus in ${LINUX_CPUS:-1 2}; do
	boot "smp$cpus" 'echo "NPROC=$(nproc)"; '"$MEMCMD; $DMESGCMD; $CSCMD"'; echo "AVAIL=$(cat /sys/devices/system/clocksource/clocksource0/available_clocksource)"; echo "YEAR=$(date +%Y)"; poweroff' \
		--cpus $cpus --mem 256M --append "console=ttyS0"
	out=$TMP/smp$cpus.out
	check "[$ENGINE] --cpus $cpus: boot marker (${boot_s}s)" "$MARKER" "$out"
	check "[$ENGINE] --cpus $cpus: nproc is $cpus" "NPROC=$cpus" "$out"
	check "[$ENGINE] --cpus $cpus: memory about 256 MiB" "MEM=(19|2[0-5])[0-9]" "$out"
	check "[$ENGINE] --cpus $cpus: clock source is not jiffies" "CS=(tsc|kvm-clock|acpi_pm|hpet)" "$out"
	check "[$ENGINE] --cpus $cpus: the HPET is an available clock source" "AVAIL=.*hpet" "$out"
	# KVM's paravirtual clock (KVM_FEATURE_CLOCKSOURCE2 in CPUID 0x40000001)
	[ "$ENGINE" = kvm ] && check "[$ENGINE] --cpus $cpus: kvm-clock is offered" "AVAIL=.*kvm-clock" "$out"
	check "[$ENGINE] --cpus $cpus: the RTC gives this year" "YEAR=$(date -u +%Y)" "$out"
	check_trusted "smp$cpus" "--cpus $cpus"
	status_is "[$ENGINE] --cpus $cpus: poweroff" 0 "smp$cpus"
done

# Four vCPUs on the boot that reboots (no boot of its own).
boot reboot 'echo "NPROC=$(nproc)"; '"$MEMCMD; $DMESGCMD; $CSCMD; reboot" --mem 128M --cpus 4 --append "console=ttyS0"
check "[$ENGINE] --mem 128M: memory about 128 MiB (${boot_s}s)" "MEM=(8[0-9]|9[0-9]|1[0-2][0-9])[^0-9]" "$TMP/reboot.out"
check "[$ENGINE] --mem 128M --cpus 4: nproc is 4" "NPROC=4" "$TMP/reboot.out"
check_trusted reboot "--mem 128M --cpus 4"
status_is "[$ENGINE] --mem 128M: reboot" 6 reboot

# RAM above 3 GiB continues at 4 GiB: the guest must see all 5 GiB, and an
# e820 RAM range starting at 4 GiB.
big=${LINUX_BIG:-5G}
host_mib=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
big_mib=$(echo "$big" | awk '/G$/ { print $0 * 1024; next } /M$/ { print $0 + 0 }')
if [ "$big" = 0 ] || [ -z "$big_mib" ]; then
	skip "[$ENGINE] --mem $big: LINUX_BIG=$big"
elif [ "${host_mib:-0}" -lt "$big_mib" ]; then
	skip "[$ENGINE] --mem $big: this host has $host_mib MiB of RAM"
else
	boot big "$MEMCMD"'; echo "HIGH=$(dmesg | grep -c "e820: \[mem 0x0000000100000000-.*usable")"; poweroff' \
		--mem "$big" --append "console=ttyS0"
	mem=$(sed -n 's/^MEM=\([0-9]*\).*/\1/p' "$TMP/big.out" | head -1)
	if [ -n "$mem" ] && [ "$mem" -ge $((big_mib * 90 / 100)) ] && [ "$mem" -le "$big_mib" ]; then
		ok "[$ENGINE] --mem $big: the guest sees $mem MiB (${boot_s}s)"
	else
		bad "[$ENGINE] --mem $big: the guest sees ${mem:-no} MiB, expected 90-100% of $big_mib"
		tail -3 "$TMP/big.out" | sed 's/^/     /'
	fi
	if [ "$big_mib" -gt 3072 ]; then
		check "[$ENGINE] --mem $big: e820 RAM from 4 GiB up" "HIGH=[1-9]" "$TMP/big.out"
	fi
	status_is "[$ENGINE] --mem $big: poweroff" 0 big
fi

if [ "${LINUX_PANIC:-1}" = 1 ]; then
	boot panic 'echo c > /proc/sysrq-trigger' --mem 128M --append "console=ttyS0 panic=-1"
	if [ "$st" -eq 0 ] || [ "$st" -eq 4 ] || [ "$st" -eq 6 ]; then ok "[$ENGINE] kernel panic with panic=-1: vmon exits (status $st)";
	else bad "[$ENGINE] panic: status $st"; fi
fi

# pty NAME STEP...: vmon on a pseudo-terminal driven by ptydrive; each of its
# "ok"/"FAIL" lines counts as one check.
pty() {
	local name=$1 line
	shift
	"$PTYDRIVE" -t "$BOOT_TIMEOUT" -o "$TMP/$name.out" "$@" -- "$VMON" run --accel "$ENGINE" --kernel "$KERNEL" \
		--initrd "$INITRD" --append "console=ttyS0" >"$TMP/$name.steps" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok   "*) ok "[$ENGINE] $name: ${line#ok   }" ;;
		"FAIL "*) bad "[$ENGINE] $name: ${line#FAIL }" ;;
		*) echo "$line" ;;
		esac
	done <"$TMP/$name.steps"
}

if [ -x "$PTYDRIVE" ]; then
	# The interactive console: raw mode while the guest runs, a typed command
	# and its output, Ctrl-A x; the terminal's settings as before.
	pty "console on a terminal" "expect:$MARKER" raw 'expect:# ' 'send:echo $((6*7))\r' 'expect:\n42\r' \
		'send:\x01x' exit:0
	# SIGTERM as soon as the kernel has printed its first line.
	pty "SIGTERM during boot" "expect:Linux version" signal:TERM exit:143
else
	skip "[$ENGINE] terminal tests: $PTYDRIVE is not built"
fi

rm -rf "$TMP"
echo "linux: $pass passed, $fail failed"
[ $fail -eq 0 ]
