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
raw smp prot32 33 --cpus 4
export KVM_LINES=20
raw popek long64 33
unset KVM_LINES
raw timer long64 33
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
run_case hello.elf32 33 "$EXP/hello.elf32.out" -- --kernel "$G/hello.elf32.elf"
run_case hello.elf64 33 "$EXP/hello.elf64.out" -- --kernel "$G/hello.elf64.elf"
run_case mbinfo.multiboot 33 "$EXP/mbinfo.multiboot.out" -- --kernel "$G/mbinfo.multiboot.elf" \
	--mem 64M --append "console=ttyS0 hello=world"

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
# must end with a status of the contract (odd, 0, 2, 4, or 143 when stopped by
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
		elif [ $st -eq 0 ] || [ $st -eq 2 ] || [ $st -eq 4 ] || [ $st -eq 143 ] || { [ $st -lt 128 ] && [ $((st % 2)) -eq 1 ]; }; then
			ok "random guest $seed/$mode [$eng]: status $st"
		else
			bad "random guest $seed/$mode [$eng]: status $st"; tail -3 "$TMP/err" | sed 's/^/     /'
		fi
	done
	done
done

echo "== console: stdin to COM1"
for eng in $ENGINES; do
	printf 'hello, guest\nsecond line\n' | timeout 60 "$VMON" run --accel "$eng" --raw "$G/echo.prot32.bin" \
		--mode prot32 >"$TMP/out" 2>"$TMP/err"
	st=$?
	if [ $st -eq 33 ] && cmp -s "$TMP/out" "$EXP/echo.prot32.out"; then
		ok "piped input reaches the guest [$eng]"
	else
		bad "piped input [$eng]: status $st"; diff "$EXP/echo.prot32.out" "$TMP/out" | head -5 | sed 's/^/     /'
	fi
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
done

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

echo "== signals: clean stop, status 128+n"
for eng in $ENGINES; do
	for sig in TERM INT; do
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
