#!/usr/bin/env bash
# System tests: vmon run end to end — each test guest's stdout and exit status
# checked exactly, under every engine this host has; every bad input gets one
# error line and status 2; signals stop vmon with 128+n.
set -u
BUILD=${BUILD:-build}
VMON=$BUILD/vmon
G=$BUILD/guests
EXP=tests/system/expected
TMP=$(mktemp -d)
# No EXIT trap: a freshly forked background subshell that is killed before it
# has reset its traps would run it and delete $TMP under the running tests
# (seen on a slow machine). The directory is removed at the end.
pass=0 fail=0 skip=0

ok()   { pass=$((pass + 1)); echo "ok   $*"; }
bad()  { fail=$((fail + 1)); echo "FAIL $*"; }
skip() { skip=$((skip + 1)); echo "SKIP $*"; }

# Which engines can run here? KVM needs a usable /dev/kvm. VMON_TEST_ENGINES
# overrides (tests/nested/run.sh uses "kvm": emu already ran on the host).
. "$(dirname "$0")/../engines.sh"
ENGINES="emu"
if [ -n "${VMON_TEST_ENGINES:-}" ]; then
	ENGINES=$VMON_TEST_ENGINES
elif kvm_usable "$VMON" "$BUILD"; then
	ENGINES="kvm emu"
else
	echo "SKIP kvm engine: /dev/kvm is absent or unusable on this host ($(ls /dev/kvm 2>&1 | head -1))"
fi

# run_case NAME EXPECTED_STATUS EXPECTED_STDOUT_FILE -- vmon run args...
run_case() {
	local name=$1 want=$2 expfile=$3
	shift 4
	local eng exp note
	for eng in $ENGINES; do
		exp=$expfile note=
		timeout 120 "$VMON" run --accel "$eng" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
		local st=$?
		# On a nested KVM that cannot page outside long mode, paged32 must be
		# refused up front with a message that names the limit (issue 4).
		if [ "$eng" = kvm ] && [ $st -eq 2 ] && grep -q "cannot run paging outside long mode" "$TMP/err"; then
			ok "$name [$eng]: host KVM limit reported: $(head -1 "$TMP/err")"
			continue
		fi
		# A guest that kvm-pvm cannot run (ring 0 there is emulated in
		# software, without SSE): NAME.kvm-pvm.err is the start of vmon's
		# crash line, which must name what stopped it, with status 4.
		if [ "$eng" = kvm ] && kvm_pvm && [ -f "${expfile%.out}.kvm-pvm.err" ]; then
			if [ $st -eq 4 ] && head -1 "$TMP/err" | grep -q -F -f "${expfile%.out}.kvm-pvm.err" &&
				grep -q "rip=" "$TMP/err"; then
				ok "$name [$eng]: kvm-pvm cannot run it, and says why: $(cat "${expfile%.out}.kvm-pvm.err")"
			else
				bad "$name [$eng]: status $st, expected 4 and the crash line of ${expfile%.out}.kvm-pvm.err"
				head -3 "$TMP/err" | sed 's/^/     /'
			fi
			continue
		fi
		# kvm-pvm runs guest ring 3 in host user mode: instructions that
		# are sensitive but not privileged show the host's state there (the
		# Popek-Goldberg guest), so such a guest has an answer of its own.
		if [ "$eng" = kvm ] && kvm_pvm && [ -f "${expfile%.out}.kvm-pvm.out" ]; then
			exp=${expfile%.out}.kvm-pvm.out
			note=" (kvm-pvm's answer, ${exp##*/})"
		fi
		# Lines past KVM_LINES depend on the CPU model (e.g. UMIP): under KVM
		# they come from the host CPU, so only the part before is compared.
		# QEMU_CPU_LINES: the same when the host CPU is QEMU's emulation (the
		# nested run), for guests whose later lines test details QEMU's TCG
		# does not emulate (x87 exception details).
		local cut=${KVM_LINES:-}
		if [ -n "${QEMU_CPU_LINES:-}" ] && grep -q "QEMU Virtual CPU" /proc/cpuinfo; then
			cut=$QEMU_CPU_LINES
		fi
		if [ "$eng" = kvm ] && [ -n "$cut" ]; then
			head -n "$cut" "$TMP/out" >"$TMP/out.cut"; mv "$TMP/out.cut" "$TMP/out"
			head -n "$cut" "$exp" >"$TMP/exp.cut"; exp=$TMP/exp.cut
		fi
		if [ $st -ne "$want" ]; then
			bad "$name [$eng]: exit status $st, expected $want"
			sed 's/^/     stderr: /' "$TMP/err" | head -20
		elif ! cmp -s "$TMP/out" "$exp"; then
			bad "$name [$eng]: stdout differs from $exp"
			diff "$exp" "$TMP/out" | head -20 | sed 's/^/     /'
		else
			ok "$name [$eng]$note"
		fi
	done
}

raw() { # raw NAME MODE STATUS [extra args]
	local name=$1 mode=$2 st=$3
	shift 3
	run_case "$name.$mode" "$st" "$EXP/$name.$mode.out" -- --raw "$G/$name.$mode.bin" --mode "$mode" "$@"
}

echo "== guests"
raw hello real 33
raw hello prot32 33
raw hello paged32 33
raw hello long64 33
raw hello long64 33 --mem 2G
raw hello long64 33 --mem 8G
raw hello real 33 --mem 1M
raw modeswitch real 33
raw exitcode prot32 255
raw triple prot32 4
# A guest reset ends vmon with status 6, not 0 (poweroff): through the
# i8042's reset line and through the reset register 0xcf9.
raw reset_kbd prot32 6
raw reset_cf9 prot32 6
raw smp prot32 33 --cpus 4
export KVM_LINES=20
raw popek long64 33
unset KVM_LINES
raw timer long64 33
raw hpet long64 33
# ISA IRQ 0 on I/O APIC pin 2 under both engines, as the MADT says: the PIT
# and the HPET's legacy timer 0 (KVM's default routing put GSI 0 on pin 0).
raw irqroute long64 33
# PCI configuration mechanism #1: CONFIG_ADDRESS, bus 0 scanned, the host bridge.
raw pciscan long64 33
# A virtio driver from scratch against virtio-rng (modern PCI transport):
# capabilities, the 64-bit BAR moved, features, a queue with MSI-X, two
# requests, a hostile one that must end in DEVICE_NEEDS_RESET, a reset.
raw virtio long64 33 --rng
# virtio-blk from a bare-metal driver on a 1 MiB image with a marker in
# sector 0: requests in flight together, FLUSH, the write read back, split
# framing, out-of-range and unknown requests, a chain without a status byte.
# Afterwards the host file holds the written sector (i * 7 + 3); with ,ro
# the write is refused (IOERR) and the file stays bit-identical.
blk_image() { head -c 1048576 /dev/zero >"$1" && printf 'vmon-disk-test' | dd of="$1" conv=notrunc 2>/dev/null; }
for eng in $ENGINES; do
	blk_image "$TMP/blk.img"
	ENGINES=$eng run_case "virtio_blk.long64 --disk" 33 "$EXP/virtio_blk.long64.out" -- \
		--raw "$G/virtio_blk.long64.bin" --mode long64 --disk "$TMP/blk.img"
	want=$(python3 -c 'print(" ".join("%02x" % ((i * 7 + 3) & 255) for i in range(512)))')
	got=$(od -An -v -tx1 -j 2560 -N 512 "$TMP/blk.img" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
	if [ "$got" = "$want" ]; then ok "virtio_blk.long64 [$eng]: sector 5 of the image holds what the guest wrote"
	else bad "virtio_blk.long64 [$eng]: sector 5 of the image: $(echo "$got" | cut -c1-48)..."; fi
	blk_image "$TMP/blkro.img"
	before=$(sha256sum <"$TMP/blkro.img")
	ENGINES=$eng run_case "virtio_blk.long64 --disk ,ro" 33 "$EXP/virtio_blk.long64.ro.out" -- \
		--raw "$G/virtio_blk.long64.bin" --mode long64 --disk "$TMP/blkro.img,ro"
	if [ "$(sha256sum <"$TMP/blkro.img")" = "$before" ]; then ok "virtio_blk.long64 ,ro [$eng]: the image is bit-identical"
	else bad "virtio_blk.long64 ,ro [$eng]: the read-only image changed"; fi
done
# A hostile driver (issue 11): 2500 operations from a fixed xorshift seed on
# both devices at once (random register writes of every width, config space
# through CF8 and ECAM, BARs moved over RAM and the APICs and back, random
# status and features, hostile rings and descriptors, random blk headers).
# vmon must survive without a sanitizer report, write nothing outside what
# the guest gave it (canaries around the scratch area), leave the image its
# size, warn at most 8 times per device (not once per reset: no log flood),
# and the devices must work again after a reset. --cpus 2: blk has
# two queues.
for eng in $ENGINES; do
	for cpus in 1 2; do
		exp=$EXP/virtio_hostile.long64.out
		[ $cpus = 2 ] && exp=$EXP/virtio_hostile.long64.cpus2.out
		blk_image "$TMP/hostile.img"
		ENGINES=$eng run_case "virtio_hostile.long64 --cpus $cpus" 33 "$exp" -- \
			--raw "$G/virtio_hostile.long64.bin" --mode long64 --mem 64M --cpus $cpus \
			--disk "$TMP/hostile.img" --rng
		if grep -q -E "AddressSanitizer|runtime error|LeakSanitizer" "$TMP/err"; then
			bad "virtio_hostile.long64 --cpus $cpus [$eng]: sanitizer report"
			grep -m3 -E "ERROR|runtime error" "$TMP/err" | sed 's/^/     /'
		elif [ "$(wc -l <"$TMP/err")" -gt 32 ]; then
			bad "virtio_hostile.long64 --cpus $cpus [$eng]: $(wc -l <"$TMP/err") lines on stderr: a guest floods the log"
		elif [ "$(stat -c %s "$TMP/hostile.img")" != 1048576 ]; then
			bad "virtio_hostile.long64 --cpus $cpus [$eng]: the image is now $(stat -c %s "$TMP/hostile.img") bytes"
		else
			ok "virtio_hostile.long64 --cpus $cpus [$eng]: no sanitizer report, $(wc -l <"$TMP/err") warnings, the image still 1 MiB"
		fi
	done
done
raw rsdp long64 33
raw sse long64 33
QEMU_CPU_LINES=22 raw x87 long64 33
# SSE at ring 0: every CPU runs it, but kvm-pvm's software emulation of
# ring 0 cannot; vmon must then end the run naming the instruction.
raw sse0 long64 33
# fw_cfg (QEMU docs/specs/fw_cfg.rst) on machines of several shapes: the
# expected files are the spec's answers for each --cpus and --mem.
raw fwcfg long64 33
fwcfg() { # fwcfg TAG vmon-args: expected/fwcfg.long64.TAG.out
	local tag=$1
	shift
	run_case "fwcfg.long64 $*" 33 "$EXP/fwcfg.long64.$tag.out" -- --raw "$G/fwcfg.long64.bin" --mode long64 "$@"
}
fwcfg cpus4-64M --cpus 4 --mem 64M
fwcfg cpus2-5G --cpus 2 --mem 5G
fwcfg mem1M --mem 1M
# Hardware task switches: kvm-pvm emulates ring 0 in software and cannot
# switch tasks (taskswitch.prot32.kvm-pvm.err: the crash line names the far
# call). QEMU's TCG (the nested run's CPU) agrees up to line 32; it leaves
# RF out of the EFLAGS a fault saves (SDM vol. 3 §17.3.1.1 sets it), and
# it raises a fault in loading the new task's segments at the caller's EIP
# (§8.3 step 13: before the new task's first instruction).
QEMU_CPU_LINES=32 raw taskswitch prot32 33
# Debug registers: kvm-pvm runs the guest, but its ring-0 emulator has no
# data or I/O breakpoints, no MOV SS hold and no RF in fault images: its
# answer is debugreg.long64.kvm-pvm.out. QEMU's TCG agrees up to line 25
# (after it: RF in trap and fault images, DR7.GD general detection, and a
# breakpoint on the instruction after a single-step trap, which QEMU puts
# in that trap's DR6 instead of a fault of its own after it, vol. 3 §6.9).
QEMU_CPU_LINES=25 raw debugreg long64 33
# SMAP/SMEP at ring 0: kvm-pvm enforces SMAP on the host's behalf but its
# emulator has no STAC, so there it must end naming the instruction.
raw smap long64 33
# Protection keys: this host's CPU has no PKU, so under kvm-pvm the guest
# finds CPUID 7 ECX.PKU clear and stops after saying so.
raw pku long64 33
# x2APIC and TSC-deadline: KVM's in-kernel x2APIC agrees with the SDM on
# everything this guest checks but one (it accepts a non-zero EOI write,
# which SDM vol. 3 table 10-6 makes #GP): kvm-pvm's answer has that line.
raw x2apic long64 33
# LLDT/LTR of 16-byte descriptors with a non-canonical base or a non-zero
# upper type: #GP(selector) per the SDM; kvm-pvm's ring-0 emulator checks
# neither and loads them (its answer).
raw sysdesc long64 33
# SYSCALL/SYSRET/SYSENTER from 64-bit and compatibility mode, by the CPUID
# vendor's rules (emu: Intel's unless the vendor is AMD). kvm-pvm runs guest
# ring 3 in host user mode and turns its SYSCALL into its own paravirtual
# entry (CS 0x33, R11 not RFLAGS; none from compatibility mode): its answer.
raw syscall long64 33
# MMX at ring 3: kvm-pvm runs it on the host CPU and agrees on every result,
# but ring 3 runs there under the host's CR0, not the guest's TS and EM.
raw mmx long64 33
# The firmware's MTRRs, PAT and MCG_STATUS (cpu/x86_fw_msrs.c), one state
# on both engines: the same 24 lines. After them the engine's machine-check
# model: emu has no banks (MCG_CAP 0); under KVM, the banks vmon set up with
# KVM_X86_SETUP_MCE, checked below against what vmon says it asked for.
KVM_LINES=24 raw fwmsr long64 33
# ... and the same MTRRs and PAT on every vCPU (the APs read them in real mode).
raw fwmsrsmp prot32 33 --cpus 4
if echo "$ENGINES" | grep -q kvm; then
	timeout 60 "$VMON" run --accel kvm --log-level info --raw "$G/fwmsr.long64.bin" --mode long64 \
		>"$TMP/out" 2>"$TMP/err" </dev/null
	st=$?
	cap=$(sed -n 's/.*KVM: MCG_CAP 0x\([0-9a-f]*\) .*/\1/p' "$TMP/err")
	got=$(sed -n 's/^MCG_CAP: \([0-9a-f]*\):.*/\1/p' "$TMP/out")
	banks=$(sed -n 's/^MCG_CAP: [0-9a-f]*: \([0-9]*\) banks.*/\1/p' "$TMP/out")
	if [ $st -eq 33 ] && [ -n "$cap" ] && [ -n "$got" ] && [ $((0x$cap)) -eq $((0x$got)) ] && [ "$banks" -ge 1 ] &&
		[ "$(grep -c '^MC[0-9]*_STATUS: 0000000000000000$' "$TMP/out")" -eq "$banks" ]; then
		ok "fwmsr.long64 [kvm]: MCG_CAP 0x$cap as set up, $banks banks with no error logged"
	elif [ $st -eq 33 ] && grep -q "no machine-check banks\|lacks KVM_CAP_MCE\|MCE_CAP_SUPPORTED" "$TMP/err" &&
		! grep -q '^MCG_CAP' "$TMP/out"; then
		ok "fwmsr.long64 [kvm]: no MCA on this host, none in the guest's CPUID: $(grep -m1 MC "$TMP/err")"
	else
		bad "fwmsr.long64 [kvm]: machine-check banks: status $st, vmon set 0x$cap, guest read 0x$got"
		sed 's/^/     /' "$TMP/err" | head -5
	fi
fi
run_case hello.elf32 33 "$EXP/hello.elf32.out" -- --kernel "$G/hello.elf32.elf"
run_case hello.elf64 33 "$EXP/hello.elf64.out" -- --kernel "$G/hello.elf64.elf"
run_case rsdp.elf64 33 "$EXP/rsdp.elf64.out" -- --kernel "$G/rsdp.elf64.elf"
# Expected output with the paths of this run: @G@ = $G, @TMP@ = $TMP (a
# Multiboot kernel sees its own --kernel path as argv[0], and module paths).
expect() { sed -e "s|@G@|$G|g" -e "s|@TMP@|$TMP|g" "$EXP/$1" >"$TMP/$1"; echo "$TMP/$1"; }
run_case mbinfo.multiboot 33 "$(expect mbinfo.multiboot.out)" -- --kernel "$G/mbinfo.multiboot.elf" \
	--mem 64M --append "console=ttyS0 hello=world"
# The same kernel with three modules made here with known content: 9 bytes,
# 5000 'B' + 01 02 03, and 2 bytes; ",," is a comma in the first one's string.
printf 'MODULE-A!' >"$TMP/mod-a.bin"
{ head -c 5000 /dev/zero | tr '\0' B; printf '\001\002\003'; } >"$TMP/mod-b.bin"
printf 'xy' >"$TMP/mod-c.bin"
run_case mbmods.multiboot 33 "$(expect mbmods.multiboot.out)" -- --kernel "$G/mbinfo.multiboot.elf" \
	--append "hello=world x" --initrd "$TMP/mod-a.bin arg1 a,,b,$TMP/mod-b.bin,$TMP/mod-c.bin"
# An ELF32 linked at 0x8000: vmon's GDT and stack move to 0x10000.
run_case lowaddr.elflow32 33 "$EXP/lowaddr.elflow32.out" -- --kernel "$G/lowaddr.elflow32.elf"

echo "== fw_cfg against QEMU"
# The same fwcfg guest on QEMU (Multiboot, through tests/system/mbwrap64.S):
# every line must agree with vmon's except the file list and the e820 map,
# which are each monitor's own (QEMU has more files and another map).
fwcfg_keep() { grep -v -E '^(fw_cfg: [0-9]+ files|fw_cfg: file |e820: )' "$1"; }
fwcfg_qemu() { # fwcfg_qemu CPUS MEM
	timeout 120 qemu-system-x86_64 -accel tcg -nographic -no-reboot -smp "$1" -m "$2" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$TMP/fwcfg.mb.elf" </dev/null 2>&1 |
		tr -d '\r' | sed -n 's/.*\(fw_cfg: signature\)/\1/; /^fw_cfg: signature/,$p' >"$TMP/qemu"
	timeout 120 "$VMON" run --accel emu --raw "$G/fwcfg.long64.bin" --mode long64 --cpus "$1" --mem "$2" \
		>"$TMP/vmon" 2>&1 </dev/null
	if [ "$(fwcfg_keep "$TMP/qemu" | wc -l)" -ge 10 ] && cmp -s <(fwcfg_keep "$TMP/qemu") <(fwcfg_keep "$TMP/vmon") &&
		grep -q -E '^fw_cfg: file [0-9a-f]{4} size [0-9]+ etc/e820$' "$TMP/qemu"; then
		ok "fw_cfg --cpus $1 --mem $2: QEMU reads the same signature, ID, CPUs, RAM size, DMA results"
	else
		bad "fw_cfg --cpus $1 --mem $2: QEMU and vmon differ"
		diff <(fwcfg_keep "$TMP/qemu") <(fwcfg_keep "$TMP/vmon") | head -10 | sed 's/^/     /'
	fi
}
if ! command -v qemu-system-x86_64 >/dev/null; then
	skip "fw_cfg against QEMU: qemu-system-x86_64 is not installed"
elif gcc -m32 -nostdlib -ffreestanding -fno-pic -no-pie -Wl,-m,elf_i386 -Wl,-N -Wl,-Ttext=0x100000 \
	-Wl,--build-id=none -Wl,--no-warn-rwx-segments -DPAYLOAD="\"$G/fwcfg.long64.bin\"" \
	-o "$TMP/fwcfg.mb.elf" tests/system/mbwrap64.S; then
	fwcfg_qemu 1 256M
	fwcfg_qemu 4 64M
	fwcfg_qemu 2 5G
else
	bad "fw_cfg against QEMU: cannot build the Multiboot wrapper"
fi

echo "== crash reports"
for eng in $ENGINES; do
	timeout 60 "$VMON" run --accel "$eng" --raw "$G/triple.prot32.bin" --mode prot32 >/dev/null 2>"$TMP/err" </dev/null
	if [ $? -eq 124 ]; then
		bad "triple fault [$eng]: vmon hung (no exit within 60 s)"
	elif grep -q "guest crashed" "$TMP/err" && grep -q "rip=" "$TMP/err" && grep -q "cr0=" "$TMP/err"; then
		ok "triple fault [$eng]: crash line and register dump on stderr"
	else
		bad "triple fault [$eng]: no register dump on stderr"; sed 's/^/     /' "$TMP/err" | head
	fi
done

echo "== bad input: one line on stderr, status 2"
printf '' >"$TMP/empty.bin"
head -c 2097152 /dev/zero >"$TMP/big.bin"
printf 'this is not an ELF file, nor anything else\n' >"$TMP/garbage.elf"
printf '\177ELF\002\001\001' >"$TMP/truncated.elf"
# bad_input DESCRIPTION EXPECTED_SUBSTRING -- args
bad_input() {
	local desc=$1 want=$2
	shift 3
	timeout 60 "${WRAP[@]}" "$VMON" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	local st=$? lines
	lines=$(wc -l <"$TMP/err")
	if [ $st -ne 2 ]; then
		bad "$desc: status $st, expected 2"; sed 's/^/     /' "$TMP/err" | head -5
	elif [ "$lines" -ne 1 ]; then
		bad "$desc: $lines lines on stderr, expected 1"; sed 's/^/     /' "$TMP/err" | head -5
	elif ! grep -q -- "$want" "$TMP/err"; then
		bad "$desc: stderr lacks '$want': $(cat "$TMP/err")"
	elif [ -s "$TMP/out" ]; then
		bad "$desc: wrote to stdout"
	else
		ok "$desc: $(cat "$TMP/err")"
	fi
}
WRAP=() # a command to run vmon under (below: no /dev/kvm, no permission)
R="run --accel emu"
bad_input "missing file" "No such file" -- $R --raw "$TMP/nope.bin" --mode real
bad_input "directory as image" "directory" -- $R --raw "$TMP" --mode real
bad_input "empty file" "empty" -- $R --raw "$TMP/empty.bin" --mode prot32
bad_input "image larger than RAM" "fit" -- $R --raw "$TMP/big.bin" --mode prot32 --mem 1M
bad_input "image past end of RAM" "fit" -- $R --raw "$G/hello.prot32.bin" --mode prot32 --mem 1M --addr 0xfffff
bad_input "image over vmon's boot area" "overlaps" -- $R --raw "$G/hello.prot32.bin" --mode prot32 --addr 0x1000
bad_input "real-mode entry above 1 MiB" "1 MiB" -- $R --raw "$G/hello.real.bin" --mode real --addr 0x100000
bad_input "--mem 0" "--mem" -- $R --raw "$G/hello.real.bin" --mode real --mem 0
bad_input "--mem garbage" "--mem" -- $R --raw "$G/hello.real.bin" --mode real --mem 12Q
bad_input "--mem too large for long64 page tables" "10 GiB" -- $R --raw "$G/hello.long64.bin" --mode long64 --mem 12G
bad_input "--cpus 0" "--cpus" -- $R --raw "$G/hello.real.bin" --mode real --cpus 0
bad_input "--cpus garbage" "--cpus" -- $R --raw "$G/hello.real.bin" --mode real --cpus two
bad_input "unknown mode" "--mode" -- $R --raw "$G/hello.real.bin" --mode protected
bad_input "--raw without --mode" "--mode" -- $R --raw "$G/hello.real.bin"
bad_input "unknown accel" "--accel" -- run --accel xen --raw "$G/hello.real.bin" --mode real
bad_input "unknown option" "--frobnicate" -- $R --frobnicate --raw "$G/hello.real.bin" --mode real
bad_input "missing option value" "--mem" -- $R --raw "$G/hello.real.bin" --mode real --mem
bad_input "nothing to boot" "nothing to boot" -- $R
bad_input "unknown command" "unknown command" -- launch
bad_input "garbage ELF" "--kernel" -- $R --kernel "$TMP/garbage.elf"
bad_input "truncated ELF" "--kernel" -- $R --kernel "$TMP/truncated.elf"
bad_input "kernel larger than RAM" "fit" -- $R --kernel "$TMP/big.bin" --mem 1M
# Multiboot modules: one that does not fit above the kernel, a missing one,
# an empty entry in the list; --initrd with a plain ELF.
head -c 1572864 /dev/zero >"$TMP/mod-big.bin"
bad_input "Multiboot module too big" "mod-big.bin: the module's 1572864 bytes at 0x104000 do not fit" -- \
	$R --kernel "$G/mbinfo.multiboot.elf" --mem 2M --initrd "$TMP/mod-a.bin,$TMP/mod-big.bin x"
bad_input "Multiboot module missing" "nope.bin: No such file" -- \
	$R --kernel "$G/mbinfo.multiboot.elf" --initrd "$TMP/mod-a.bin,$TMP/nope.bin"
bad_input "Multiboot module list with an empty entry" "empty module" -- \
	$R --kernel "$G/mbinfo.multiboot.elf" --initrd "$TMP/mod-a.bin,"
bad_input "--initrd with an ELF32 kernel" "Multiboot kernel takes --initrd" -- \
	$R --kernel "$G/hello.elf32.elf" --initrd "$TMP/mod-a.bin"
# The low ELF with its segment's memsz patched (p_memsz: program header
# + 20): up to 0x90000 leaves no 64 KiB below the EBDA for vmon's boot
# structures; up to 0xa0000 covers the EBDA itself. Both ranges are named.
patch_memsz() { # FILE MEMSZ
	local phoff
	phoff=$(od -An -t u4 -j 28 -N 4 "$1" | tr -d ' ')
	printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($2 & 255)) $(($2 >> 8 & 255)) \
		$(($2 >> 16 & 255)) $(($2 >> 24 & 255)))" |
		dd of="$1" bs=1 seek=$((phoff + 20)) conv=notrunc status=none
}
cp "$G/lowaddr.elflow32.elf" "$TMP/low-full.elf"; patch_memsz "$TMP/low-full.elf" $((0x88000))
bad_input "low ELF leaving no room for vmon's boot area" \
	"at \[0x8000, 0x90000) overlaps vmon's boot structures at \[0x500, 0x10000)" -- $R --kernel "$TMP/low-full.elf"
cp "$G/lowaddr.elflow32.elf" "$TMP/low-ebda.elf"; patch_memsz "$TMP/low-ebda.elf" $((0x98000))
bad_input "low ELF over the EBDA" \
	"at \[0x8000, 0xa0000) overlaps the extended BIOS data area at \[0x9fc00, 0xa0000)" -- \
	$R --kernel "$TMP/low-ebda.elf"
# Numbers are decimal or 0x-hex, each option once, no option of the other
# boot kind (issue 10).
bad_input "--cpus 065 is sixty-five, not octal 53" "--cpus: '065'" -- $R --raw "$G/hello.real.bin" --mode real --cpus 065
bad_input "an option given twice" "--mem: given twice" -- $R --raw "$G/hello.real.bin" --mode real --mem 1M --mem 2M
bad_input "--append with --raw" "--append: only with --kernel" -- $R --raw "$G/hello.real.bin" --mode real --append quiet
bad_input "--initrd with --raw" "--initrd: only with --kernel" -- $R --raw "$G/hello.real.bin" --mode real --initrd "$TMP/empty.bin"
bad_input "--addr with --kernel" "--addr: only with --raw" -- $R --kernel "$G/hello.elf32.elf" --addr 0x100000
bad_input "--entry with --kernel" "--entry: only with --raw" -- $R --kernel "$G/hello.elf32.elf" --entry 0x100000
bad_input "--mode with --kernel" "--mode: only with --raw" -- $R --kernel "$G/hello.elf32.elf" --mode prot32
# Without /dev/kvm (or, where it exists, in a mount namespace of vmon's own
# that hides /dev), and without permission to open it (as user nobody).
no_kvm_cases() {
	bad_input "no /dev/kvm" "--accel emu" -- run --accel kvm --raw "$G/hello.real.bin" --mode real
	bad_input "no /dev/kvm (default engine)" "/dev/kvm" -- run --raw "$G/hello.real.bin" --mode real
}
if [ ! -e /dev/kvm ]; then
	no_kvm_cases
elif [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	WRAP=(unshare -m sh -c 'mount -t tmpfs tmpfs /dev && exec "$0" "$@"')
	no_kvm_cases
else
	skip "no /dev/kvm: cannot hide this host's /dev/kvm (not root, or no mount namespaces)"
fi
if [ -e /dev/kvm ] && [ "$(id -u)" = 0 ] && [ "$(stat -c %a /dev/kvm)" = 600 ] && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$VMON"; then
	WRAP=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	bad_input "/dev/kvm without permission" "group kvm" -- run --accel kvm --raw "$G/hello.real.bin" --mode real
elif [ -e /dev/kvm ]; then
	skip "/dev/kvm without permission: needs root, /dev/kvm mode 600, setpriv and a vmon that user nobody can read"
fi
WRAP=()

echo "== random guests: whatever a guest does, vmon survives it (every engine)"
# 4 KiB of random bytes in every mode. A guest may spin, fault or crash; vmon
# must end with a status of the contract (odd, 0, 2, 4, 6, or 143 when stopped by
# the SIGTERM below), never die of a signal or a sanitizer report.
for seed in 1 2 3 4 5 6; do
	"$BUILD/tests/randbytes" $seed 4096 >"$TMP/rand.bin"
	for eng in $ENGINES; do
	for mode in real prot32 paged32 long64; do
		# SIGTERM after 2 s (vmon must stop cleanly: 143), SIGKILL after 12.
		"$VMON" run --accel "$eng" --raw "$TMP/rand.bin" --mode $mode >/dev/null 2>"$TMP/err" </dev/null &
		pid=$!
		( sleep 2; kill -TERM $pid 2>/dev/null; sleep 10; kill -KILL $pid 2>/dev/null ) &
		killer=$!
		wait $pid
		st=$?
		kill $killer 2>/dev/null
		wait $killer 2>/dev/null
		if grep -q -E "AddressSanitizer|runtime error|LeakSanitizer" "$TMP/err"; then
			bad "random guest $seed/$mode [$eng]: sanitizer report"
			grep -m3 -E "ERROR|runtime error" "$TMP/err" | sed 's/^/     /'
		elif [ $st -eq 0 ] || [ $st -eq 2 ] || [ $st -eq 4 ] || [ $st -eq 6 ] || [ $st -eq 143 ] || { [ $st -lt 128 ] && [ $((st % 2)) -eq 1 ]; }; then
			ok "random guest $seed/$mode [$eng]: status $st"
		else
			bad "random guest $seed/$mode [$eng]: status $st"; tail -3 "$TMP/err" | sed 's/^/     /'
		fi
	done
	done
done

echo "== console: stdin to COM1"
for eng in $ENGINES; do
	# Piped input reaches the guest (echo). echo_reset: input that arrives
	# before a guest is ready is held, not lost: a guest that sets the UART
	# up as Linux does (FIFO reset, then the receive interrupt) still gets
	# every byte, from the first.
	for guest in echo echo_reset; do
		printf 'hello, guest\nsecond line\n' | timeout 60 "$VMON" run --accel "$eng" --raw "$G/$guest.prot32.bin" \
			--mode prot32 >"$TMP/out" 2>"$TMP/err"
		st=$?
		what="piped input reaches the guest"
		[ $guest = echo_reset ] && what="piped input held until the guest's UART is set up: no byte lost to its FIFO reset"
		if [ $st -eq 33 ] && cmp -s "$TMP/out" "$EXP/$guest.prot32.out"; then
			ok "$what [$eng]"
		else
			bad "$what [$eng]: status $st"; diff "$EXP/$guest.prot32.out" "$TMP/out" | head -5 | sed 's/^/     /'
		fi
	done
	# Many more bytes than the 16-byte FIFO holds: none may be lost.
	head -c 3000 /dev/zero | tr '\0' 'q' >"$TMP/in.txt"
	printf '\n\n' >>"$TMP/in.txt"
	timeout 60 "$VMON" run --accel "$eng" --raw "$G/echo.prot32.bin" --mode prot32 <"$TMP/in.txt" >"$TMP/out" 2>"$TMP/err"
	n=$(tr -cd 'Q' <"$TMP/out" | wc -c)
	if [ "$n" -eq 3000 ]; then ok "3000 bytes of input, none lost [$eng]"; else bad "input lost [$eng]: $n of 3000 bytes"; fi
	# A terminal: raw mode, Ctrl-A x quits with status 0, the terminal is restored.
	if command -v script >/dev/null; then
		(sleep 1; printf 'ab\001x') | timeout 60 script -qec "sh -c '$VMON run --accel $eng --raw $G/echo.prot32.bin \
			--mode prot32; echo status=\$?; stty -a'" /dev/null >"$TMP/out" 2>&1
		if grep -q "status=0" "$TMP/out" && grep -q -E "(^| )icanon" "$TMP/out" && grep -q -E "(^| )echo( |$)" "$TMP/out"; then
			ok "Ctrl-A x on a terminal: status 0, terminal restored [$eng]"
		else
			bad "Ctrl-A x on a terminal [$eng]"; tr -d '\r' <"$TMP/out" | head -5 | sed 's/^/     /'
		fi
	fi
	# --console none: nothing on stdout, stdin not read (the guest waits).
	printf 'ignored\n\n' | timeout 5 "$VMON" run --accel "$eng" --console none --raw "$G/echo.prot32.bin" \
		--mode prot32 >"$TMP/out" 2>"$TMP/err"
	st=$?
	if [ $st -eq 124 ] && [ ! -s "$TMP/out" ] && [ ! -s "$TMP/err" ]; then
		ok "--console none: no output, stdin not read (the guest still waits) [$eng]"
	else
		bad "--console none [$eng]: status $st, $(wc -c <"$TMP/out") bytes out"; head -3 "$TMP/err" | sed 's/^/     /'
	fi
	timeout 60 "$VMON" run --accel "$eng" --console none --raw "$G/hello.prot32.bin" --mode prot32 \
		>"$TMP/out" 2>"$TMP/err" </dev/null
	st=$?
	if [ $st -eq 33 ] && [ ! -s "$TMP/out" ]; then ok "--console none: the guest runs to its end, status 33 [$eng]"
	else bad "--console none, hello [$eng]: status $st"; fi
	# On a pseudo-terminal (ptydrive): output keeps LF -> CR LF (no
	# staircase), Ctrl-A h lists the keys, typed lines reach the guest, the
	# terminal is restored.
	if [ -x "$BUILD/tests/ptydrive" ]; then
		"$BUILD/tests/ptydrive" -t 60 -o "$TMP/pty.log" 'expect:echo: ready\r\n' raw 'send:\x01h' \
			'expect:Ctrl-A x quit' 'send:ab\n' 'expect:AB\r\n' 'send:\n' exit:33 -- \
			"$VMON" run --accel "$eng" --raw "$G/echo.prot32.bin" --mode prot32 >"$TMP/pty.steps" 2>&1
		if [ $? -eq 0 ]; then
			ok "terminal: LF -> CR LF, Ctrl-A h, typed input, status 33, terminal restored [$eng]"
		else
			bad "terminal [$eng]"; grep -v "^ok" "$TMP/pty.steps" | head -5 | sed 's/^/     /'
		fi
	else
		skip "terminal [$eng]: $BUILD/tests/ptydrive is not built"
	fi
done

echo "== --mem larger than the host's RAM: one warning, the run goes on"
host_mib=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
if [ "${host_mib:-65536}" -lt 65536 ]; then
	for eng in $ENGINES; do
		timeout 60 "$VMON" run --accel "$eng" --mem 64G --raw "$G/hello.real.bin" --mode real >"$TMP/out" 2>"$TMP/err" </dev/null
		st=$?
		if [ $st -eq 33 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "^vmon: --mem: .*host's RAM ($host_mib MiB)" "$TMP/err" &&
			cmp -s "$TMP/out" "$EXP/hello.real.out"; then
			ok "--mem 64G on $host_mib MiB: $(cat "$TMP/err") [$eng]"
		else
			bad "--mem 64G [$eng]: status $st"; head -3 "$TMP/err" | sed 's/^/     /'
		fi
	done
	timeout 60 "$VMON" run --accel emu --mem 1M --raw "$G/hello.real.bin" --mode real >/dev/null 2>"$TMP/err" </dev/null
	if [ ! -s "$TMP/err" ]; then ok "--mem 1M: no warning"; else bad "--mem 1M warns: $(cat "$TMP/err")"; fi
	# A run refused before the guest starts keeps its one error line.
	bad_input "--mem 64G and a missing image: only the error" "No such file" -- run --accel emu --mem 64G \
		--raw "$TMP/nope.bin" --mode real
else
	skip "--mem larger than the host's RAM: this host has $host_mib MiB, more than the 64G limit"
fi

echo "== --trace (emu)"
if echo "$ENGINES" | grep -q emu; then
	timeout 60 "$VMON" run --accel emu --trace "$TMP/trace.txt" --raw "$G/hello.prot32.bin" --mode prot32 \
		>/dev/null 2>&1 </dev/null
	# The first instruction: its address, bytes, text; then a register change.
	if head -1 "$TMP/trace.txt" | grep -q -E '^cpu0 0008:0000000000010000 +fc +cld' &&
		sed -n 2p "$TMP/trace.txt" | grep -q -E 'mov esi, 0x[0-9a-f]+ +rsi=' &&
		[ "$(wc -l <"$TMP/trace.txt")" -gt 100 ] &&
		# The guest loops over its string: every pass at an address shows that address's bytes.
		awk '{ k = $2; v = substr($0, 29, 31); if (k in seen && seen[k] != v) bad = 1; seen[k] = v }
			END { exit bad }' "$TMP/trace.txt"; then
		ok "--trace: one line per instruction with bytes, text and changed registers; a loop's bytes repeat"
	else
		bad "--trace output"; head -3 "$TMP/trace.txt" | sed 's/^/     /'
	fi
	bad_input "--trace into a missing directory" "--trace" -- run --accel emu --trace /nonexistent/t \
		--raw "$G/hello.real.bin" --mode real
fi

echo "== help and version"
if "$VMON" --help | grep -q "vmon run" && "$VMON" run --help | grep -q -- "--accel" &&
	"$VMON" --version | grep -qE '^vmon [0-9]'; then
	ok "--help, run --help, --version"
else
	bad "--help, run --help, --version"
fi
# The README's usage block is exactly `vmon run --help`, so they cannot drift.
awk '/^## Usage/ { u = 1; next } u && /^```/ { if (inb) exit; inb = 1; next } inb' README.md >"$TMP/readme-usage"
"$VMON" run --help >"$TMP/run-help"
if [ -s "$TMP/readme-usage" ] && cmp -s "$TMP/readme-usage" "$TMP/run-help"; then
	ok "README's Usage block is exactly vmon run --help"
else
	bad "README's Usage block differs from vmon run --help"; diff "$TMP/readme-usage" "$TMP/run-help" | head -10 | sed 's/^/     /'
fi
# --help gives the ranges and the console keys.
if "$VMON" run --help | grep -q "1-64" && "$VMON" run --help | grep -q "1M-64G" && "$VMON" run --help | grep -q "9G" &&
	"$VMON" run --help | grep -q "Ctrl-A x" && "$VMON" run --help | grep -q "Ctrl-A h" &&
	"$VMON" run --help | grep -q "6 the guest"; then
	ok "run --help: CPU and memory ranges, the long64 limit, Ctrl-A x and h, the reset status"
else
	bad "run --help lacks a range, a console key or the reset status"
fi

echo "== signals: clean stop, status 128+n"
for eng in $ENGINES; do
	for sig in TERM INT; do
		# The last run's "spinning" must not be read as this one's: the
		# child truncates the file only when it gets to its redirection,
		# and a signal sent before vmon blocks it is lost (bash starts a
		# background command with SIGINT ignored), so vmon would spin on.
		rm -f "$TMP/out"
		"$VMON" run --accel "$eng" --raw "$G/spin.prot32.bin" --mode prot32 >"$TMP/out" 2>"$TMP/err" </dev/null &
		pid=$!
		# Wait for the guest's line, then signal.
		for _ in $(seq 100); do grep -q spinning "$TMP/out" 2>/dev/null && break; sleep 0.1; done
		kill -s "$sig" $pid
		wait $pid
		st=$?
		want=$((128 + $(kill -l "$sig")))
		if [ $st -eq $want ] && grep -q spinning "$TMP/out"; then
			ok "SIG$sig [$eng]: status $st"
		else
			bad "SIG$sig [$eng]: status $st, expected $want"; sed 's/^/     /' "$TMP/err" | head -5
		fi
	done
done

rm -rf "$TMP"
echo "system: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
