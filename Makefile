# vmon build. `make` builds vmon and the test guests; `make check` runs every
# test twice: a normal build and an AddressSanitizer+UBSan build.
CC      ?= gcc
BUILD   ?= build
VERSION := 0.1.0

CFLAGS_BASE := -std=gnu11 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-Isrc -pthread -D_GNU_SOURCE -DVMON_VERSION='"$(VERSION)"'
ifeq ($(SANITIZE),1)
BUILD   := build-asan
CFLAGS  ?= -O1
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
else
CFLAGS  ?= -O2
endif
ALL_CFLAGS := $(CFLAGS_BASE) $(CFLAGS)
LDLIBS  := -pthread $(LDFLAGS_SAN)

LIB_SRCS  := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
# vmon and the unit tests link the objects they use out of one archive, so a
# test of a pure part (a request parser) does not need the device's transport.
LIB_A     := $(BUILD)/libvmon.a
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

# Test guests: the file name says how a guest is built and started.
#   NAME.real.S NAME.prot32.S NAME.paged32.S NAME.long64.S  flat binary at 0x10000 (--raw --mode M)
#   NAME.elf32.S NAME.elf64.S NAME.multiboot.S              ELF executable at 1 MiB (--kernel)
#   NAME.elflow32.S                                         ELF32 executable at 0x8000 (--kernel)
GUEST_DIR  := tests/guests
G_RAW16    := $(wildcard $(GUEST_DIR)/*.real.S)
G_RAW32    := $(wildcard $(GUEST_DIR)/*.prot32.S $(GUEST_DIR)/*.paged32.S)
G_RAW64    := $(wildcard $(GUEST_DIR)/*.long64.S)
G_ELF32    := $(wildcard $(GUEST_DIR)/*.elf32.S $(GUEST_DIR)/*.multiboot.S)
G_ELF64    := $(wildcard $(GUEST_DIR)/*.elf64.S)
G_ELFLOW   := $(wildcard $(GUEST_DIR)/*.elflow32.S)
G_C64      := $(wildcard $(GUEST_DIR)/*.long64.c)
GUEST_LIB  := $(GUEST_DIR)/lib/start64.S $(GUEST_DIR)/lib/guestlib.c $(GUEST_DIR)/lib/user.c
# C guests: freestanding, no SSE (KVM here emulates ring 0 and lacks SSE there).
GUEST_CFLAGS := -m64 -O2 -ffreestanding -nostdlib -fno-pic -no-pie -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none -Wall -Wextra -Werror \
	-I$(GUEST_DIR) -Wl,--build-id=none -Wl,--no-warn-rwx-segments -T $(GUEST_DIR)/lib/long64.ld
GUEST_BINS := $(patsubst $(GUEST_DIR)/%.S,$(BUILD)/guests/%.bin,$(G_RAW16) $(G_RAW32) $(G_RAW64)) \
	      $(patsubst $(GUEST_DIR)/%.c,$(BUILD)/guests/%.bin,$(G_C64)) \
	      $(patsubst $(GUEST_DIR)/%.S,$(BUILD)/guests/%.elf,$(G_ELF32) $(G_ELF64) $(G_ELFLOW))
GUEST_ASFLAGS := -I$(GUEST_DIR) -nostdlib -ffreestanding -fno-pic -no-pie -Wl,--no-warn-rwx-segments

.PHONY: all check test unit system bench clean guests static nested linux
all: $(BUILD)/vmon guests $(UNIT_BINS) $(BENCH_BINS) $(BUILD)/tests/difftest/gen $(BUILD)/tests/randbytes $(BUILD)/tests/ptydrive
guests: $(GUEST_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/vmon: $(BUILD)/src/main.o $(LIB_A)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/unit.h tests/unit/unit_vm.h $(LIB_A)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(LIB_A) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS)

# Real-mode guests are linked at offset 0 of their segment (CS = 0x1000).
$(BUILD)/guests/%.real.bin: $(GUEST_DIR)/%.real.S $(wildcard $(GUEST_DIR)/*.h)
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	@$(CC) -m32 $(GUEST_ASFLAGS) -Wl,-Ttext=0 -Wl,-N -Wl,--build-id=none -Wl,-m,elf_i386 -o $@.elf $<
	@objcopy -O binary $@.elf $@
$(BUILD)/guests/%.bin: $(GUEST_DIR)/%.S $(wildcard $(GUEST_DIR)/*.h)
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	@$(CC) $(if $(filter %.long64.S,$<),-m64,-m32 -Wl,-m,elf_i386) $(GUEST_ASFLAGS) \
		-Wl,-Ttext=0x10000 -Wl,-N -Wl,--build-id=none -o $@.elf $<
	@objcopy -O binary $@.elf $@
$(BUILD)/guests/%.long64.bin: $(GUEST_DIR)/%.long64.c $(GUEST_LIB) $(wildcard $(GUEST_DIR)/lib/*)
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	@$(CC) $(GUEST_CFLAGS) -o $@.elf $(GUEST_LIB) $<
	@objcopy -O binary $@.elf $@
$(BUILD)/guests/%.elf: $(GUEST_DIR)/%.S $(wildcard $(GUEST_DIR)/*.h)
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	@$(CC) $(if $(filter %.elf64.S,$<),-m64,-m32 -Wl,-m,elf_i386) $(GUEST_ASFLAGS) \
		-Wl,-Ttext=0x100000 -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,noseparate-code -o $@ $<

# Low-address ELF guests: one segment (-N) from 0x8000, below vmon's usual
# boot area.
$(BUILD)/guests/%.elflow32.elf: $(GUEST_DIR)/%.elflow32.S $(wildcard $(GUEST_DIR)/*.h)
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	@$(CC) -m32 -Wl,-m,elf_i386 $(GUEST_ASFLAGS) -Wl,-Ttext=0x8000 -Wl,-N -Wl,--build-id=none -o $@ $<

# The differential-test generator is a host tool (tests/difftest/run.sh).
$(BUILD)/tests/difftest/gen: tests/difftest/gen.c
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS)

# Static builds for tests/nested/run.sh, which runs them in a minimal VM.
static: $(BUILD)/vmon-static $(BUILD)/bench/raw_kvm-static $(BUILD)/bench/firstbyte-static
$(BUILD)/vmon-static: $(LIB_SRCS) src/main.c
	@echo "  STATIC  $@"
	@$(CC) $(CFLAGS_BASE) -O2 -static -o $@ $(LIB_SRCS) src/main.c -pthread
$(BUILD)/bench/%-static: bench/%.c
	@mkdir -p $(dir $@)
	@echo "  STATIC  $@"
	@$(CC) $(CFLAGS_BASE) -O2 -static -o $@ $< -pthread

$(BUILD)/tests/randbytes: tests/system/randbytes.c
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS)

# Drives vmon on a pseudo-terminal for tests/linux/run.sh.
$(BUILD)/tests/ptydrive: tests/linux/ptydrive.c
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS)

unit: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)

system: $(BUILD)/vmon guests
	@BUILD=$(BUILD) tests/system/run.sh

test: all
	@BUILD=$(BUILD) tests/run.sh

# The README's test command: everything, plain and under ASan+UBSan, then
# the KVM engine inside a nested VM when this host has no /dev/kvm.
check:
	@MAKE="$(MAKE)" tests/check.sh

# Debian's kernel booted to a shell under the software CPU (a minute a boot;
# the plain build only: under ASan it would take several times longer).
linux: all
	@BUILD=$(BUILD) tests/linux/emu.sh

# KVM engine tests inside a QEMU TCG VM with nested AMD-V (no /dev/kvm here).
nested: all static
	@BUILD=$(BUILD) tests/nested/run.sh

bench: all
	@BUILD=$(BUILD) bench/run.sh

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/src $(BUILD)/tests -name '*.d' -type f 2>/dev/null)
