/* A guest reset through the reset control register at port 0xCF9 (PIIX4 /
 * ICH "RST_CNT": SYS_RST bit 1 chooses a hard reset, a 0 -> 1 edge of
 * RST_CPU bit 2 starts it), the way Linux's reboot=pci writes it. vmon
 * ends with the reset status, 6; a guest still running after it prints so
 * and fails with status 3. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	cld
	mov $msg, %esi
	call puts
	mov $0xcf9, %dx
	inb %dx, %al
	and $~0x06, %al
	or $0x02, %al                  /* SYS_RST: nothing happens yet */
	outb %al, %dx
	or $0x04, %al                  /* RST_CPU rising: reset */
	outb %al, %dx
	mov $0x100000, %ecx
1:	loop 1b
	mov $late, %esi
	call puts
	EXIT 0x01
	DEFINE_PUTS
msg:	.asciz "reset: port 0xcf9 <- 0x02, 0x06\n"
late:	.asciz "reset: still running\n"
