/* Protection keys for user pages (SDM vol. 3 §4.6.2; RDPKRU/WRPKRU in
 * vol. 2).
 *
 * lib/user.c maps the first GiB as user 2 MiB pages with key 0; the guest
 * gives the page at 0x200000 key 1 (PDE bits 62:59). CPUID 7 ECX shows PKU,
 * and OSPKE only once CR4.PKE is set. From ring 3: RDPKRU is #UD while
 * CR4.PKE = 0; then it reads PKRU (0 at reset) with EDX = 0, #GP(0) for
 * ECX != 0; WRPKRU is #GP(0) for EDX != 0. With AD for key 1 a ring-3 read
 * faults (#PF error P | U | PK = 0x25), a fetch from the page does not;
 * with WD a read works and a write faults (0x27). From ring 0, a supervisor
 * data access to the (user) page obeys PKRU as well: AD faults reads (0x21),
 * WD faults writes only while CR0.WP = 1 (0x23). Key 0 (everything else)
 * stays unrestricted throughout. */
#include <stdint.h>

#include "lib/guestlib.h"

#define PAGE 0x200000ULL
#define CR4_PKE (1ULL << 22)

extern void u_rdpkru(void), u_rdpkru_ecx(void), u_wrpkru_ad(void), u_wrpkru_wd(void), u_wrpkru_edx(void),
	u_read(void), u_write(void);
__asm__(".text\n"
	"u_rdpkru:     mov $0x1234, %edx; xor %ecx, %ecx; rdpkru; " USER_RET
	"u_rdpkru_ecx: mov $1, %ecx; rdpkru; " USER_RET
	"u_wrpkru_ad:  mov $4, %eax; xor %ecx, %ecx; xor %edx, %edx; wrpkru; " USER_RET
	"u_wrpkru_wd:  mov $8, %eax; xor %ecx, %ecx; xor %edx, %edx; wrpkru; " USER_RET
	"u_wrpkru_edx: mov $0, %eax; xor %ecx, %ecx; mov $1, %edx; wrpkru; " USER_RET
	"u_read:       movb 0x200000, %al; movzbl %al, %eax; " USER_RET
	"u_write:      movb $0x77, 0x200000; " USER_RET);

static uint32_t cpuid7(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
	print("cpuid: pku %d ospke %d\n", (c >> 3) & 1, (c >> 4) & 1);
	return c;
}

/* show: how many of ring 3's eax, edx are results worth printing */
static void ring3(const char *what, void (*fn)(void), int show)
{
	uint64_t v = run_user(fn);
	if (v == USER_RETURNED && show == 2)
		print("%s: ok, eax %8x edx %8x\n", what, user_last.rax & 0xffffffff, user_last.rdx & 0xffffffff);
	else if (v == USER_RETURNED && show == 1)
		print("%s: ok, al %2x\n", what, user_last.rax & 0xff);
	else if (v == USER_RETURNED)
		print("%s: ok\n", what);
	else if (v == 14 || v == 13)
		print("%s: vector %d error %2x\n", what, (unsigned)v, user_last.error);
	else
		print("%s: vector %d\n", what, (unsigned)v);
}

static void do_rd(uint64_t a) { (void)*(volatile uint8_t *)a; }
static void do_wr(uint64_t a) { *(volatile uint8_t *)a = 0x55; }

static void ring0(const char *what, void (*fn)(uint64_t))
{
	/* #PF from ring 0 to the recorder, from ring 3 back to lib/user.c's stub */
	volatile uint8_t *gate = (volatile uint8_t *)(idt_base() + 14 * 16);
	uint8_t saved[16];
	for (unsigned i = 0; i < 16; i++)
		saved[i] = gate[i];
	trap_catch(14);
	uint64_t v = trap_probe(fn, PAGE);
	for (unsigned i = 0; i < 16; i++)
		gate[i] = saved[i];
	if (v == 14)
		print("%s: #PF error %2x cr2 %s\n", what, trap_last.error, trap_last.cr2 == PAGE ? "= address" : "WRONG");
	else if (v)
		print("%s: vector %d\n", what, (unsigned)v);
	else
		print("%s: ok\n", what);
}

static void wrpkru(uint32_t v) { __asm__ volatile("wrpkru" : : "a"(v), "c"(0), "d"(0) : "memory"); }

void guest_main(void)
{
	user_init();
	if (!((cpuid7() >> 3) & 1))
		guest_exit(0x10);

	/* key 1 for the 2 MiB page at PAGE */
	uint64_t cr3 = read_cr3();
	uint64_t *pml4 = (uint64_t *)(cr3 & ~0xfffULL);
	uint64_t *pdpt = (uint64_t *)(pml4[0] & 0xffffffffff000ULL);
	uint64_t *pd = (uint64_t *)(pdpt[0] & 0xffffffffff000ULL);
	pd[PAGE >> 21] |= 1ULL << 59;
	write_cr3(cr3);
	/* the ring-3 code that runs from the keyed page: USER_RET */
	static const uint8_t ret3[] = { 0xbf, 0, 0, 0, 0, 0xcc };
	for (unsigned i = 0; i < sizeof(ret3); i++)
		((volatile uint8_t *)PAGE)[0x800 + i] = ret3[i];
	*(volatile uint8_t *)PAGE = 0x42;

	ring3("rdpkru, CR4.PKE 0", u_rdpkru, 2);
	write_cr4(read_cr4() | CR4_PKE);
	(void)cpuid7();
	ring3("rdpkru", u_rdpkru, 2);
	ring3("rdpkru, ecx 1", u_rdpkru_ecx, 2);
	ring3("wrpkru, edx 1", u_wrpkru_edx, 0);
	ring3("read key 1, PKRU 0", u_read, 1);
	ring3("wrpkru AD1", u_wrpkru_ad, 0);
	ring3("rdpkru", u_rdpkru, 2);
	ring3("read key 1, AD", u_read, 1);
	ring3("write key 1, AD", u_write, 0);
	ring3("run code in key 1, AD", (void (*)(void))(PAGE + 0x800), 0);

	ring0("ring 0 read key 1, AD", do_rd);
	ring0("ring 0 write key 1, AD", do_wr);

	ring3("wrpkru WD1", u_wrpkru_wd, 0);
	ring3("read key 1, WD", u_read, 1);
	ring3("write key 1, WD", u_write, 0);
	ring0("ring 0 read key 1, WD", do_rd);
	ring0("ring 0 write key 1, WD, CR0.WP 1", do_wr);
	write_cr0(read_cr0() & ~(1ULL << 16));
	ring0("ring 0 write key 1, WD, CR0.WP 0", do_wr);
	write_cr0(read_cr0() | (1ULL << 16));
	print("byte at the page: %2x\n", *(volatile uint8_t *)PAGE & 0xff);

	wrpkru(0);
	ring3("write key 1, PKRU 0", u_write, 0);
	print("byte at the page: %2x\n", *(volatile uint8_t *)PAGE & 0xff);
	guest_exit(0x10);
}
