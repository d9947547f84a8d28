/* A guest reset through the i8042's reset line: controller command 0xFE
 * pulses output-port bit 0, which is wired to the CPU's RESET on a PC
 * (IBM PC AT Technical Reference, "Keyboard controller", command FE).
 * Included by reset_kbd.prot32.S. With RESET_CF9 (reset_cf9.prot32.S):
 * through the reset control register at port 0xCF9 instead (PIIX4 / ICH "RST_CNT": SYS_RST bit 1 chooses a
 * hard reset, a 0 -> 1 edge of RST_CPU bit 2 starts it), written the way
 * Linux's reboot=pci does. vmon ends with the reset status, 6; a guest
 * still running after the reset prints so and fails with status 3. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	cld
	mov $msg, %esi
	call puts
#ifdef RESET_CF9
	mov $0xcf9, %dx
	inb %dx, %al
	and $~0x06, %al
	or $0x02, %al                  /* SYS_RST: nothing happens yet */
	outb %al, %dx
	or $0x04, %al                  /* RST_CPU rising: reset */
	outb %al, %dx
#else
	mov $0xfe, %al
	outb %al, $0x64
#endif
	mov $0x100000, %ecx            /* give the reset time to land */
1:	loop 1b
	mov $late, %esi
	call puts
	EXIT 0x01
	DEFINE_PUTS
#ifdef RESET_CF9
msg:	.asciz "reset: port 0xcf9 <- 0x02, 0x06\n"
#else
msg:	.asciz "reset: i8042 command 0xfe\n"
#endif
late:	.asciz "reset: still running\n"
