/* The few services a freestanding C test guest needs: port I/O, COM1
 * output (polling LSR like a driver), hex numbers, and the debug exit. */
#ifndef VMON_GUESTLIB_H
#define VMON_GUESTLIB_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Control registers and MSRs (ring 0 only). */
#define DEFINE_CR(n)                                                                          \
	static inline uint64_t read_cr##n(void)                                               \
	{                                                                                     \
		uint64_t v;                                                                   \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                             \
		return v;                                                                     \
	}                                                                                     \
	static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(3)
DEFINE_CR(4)
static inline uint64_t rdmsr(uint32_t idx)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(idx));
	return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t idx, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(idx), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

void putc_(char c);
void puts_(const char *s);
void puthex(uint64_t v, int digits);
/* printf-like: %s (width pads), %c, %d (unsigned), %x (uint64_t; width 1-16 digits, default 16). */
void print(const char *fmt, ...);
__attribute__((noreturn)) void guest_exit(uint8_t code);

/* The guests' 64-bit IDT (256 entries, SDM vol. 3 §6.14.1): an interrupt
 * gate for vec to the code at handler, code selector sel (0: the current
 * CS), callable by INT n from privilege dpl; idt_load() points IDTR at it. */
void idt_set_gate(unsigned vec, uint64_t handler, uint16_t sel, unsigned dpl);
void idt_load(void);
uint64_t idt_base(void);

/* The 8259 pair at vectors 0x20-0x2f with only IRQ 0 unmasked, and a
 * handler at 0x20 that counts into irq0_ticks and sends the EOI. */
extern volatile uint32_t irq0_ticks;
void irq0_setup(void);
/* How many IRQ 0 arrived while the guest spun `loops` times with
 * interrupts enabled (they are disabled again on return). */
uint32_t irq0_during(unsigned loops);
/* Faults at ring 0: trap_catch(vec) sends #UD (6), #GP (13) or #PF (14) to
 * a recorder; trap_probe(fn, arg) calls fn(arg) and returns 0, or the vector
 * of the first caught fault, whose details are in trap_last (fn is then
 * abandoned; RFLAGS are those at the fault). */
struct trap_info {
	uint64_t vector, error, cr2;
};
extern volatile struct trap_info trap_last;
void trap_catch(unsigned vec);
uint64_t trap_probe(void (*fn)(uint64_t), uint64_t arg);

/* Ring 3 (lib/user.c). user_init() installs a GDT with user segments and a
 * TSS, user-accessible page tables for the first GiB and exception stubs
 * for vectors 0-31 (a guest may override a vector afterwards). run_user(fn)
 * runs fn at ring 3 (IOPL 0, IF 0) and returns USER_RETURNED when fn
 * returns or runs USER_RET, else the vector of the exception that ended
 * it; user_last holds the vector, error code and ring 3's rax and rdx.
 * putc_ and print work at ring 3 (through the kernel). */
#define USER_RETURNED 3
#define USER_RET "movl $0, %edi\n\tint3\n" /* leaves the flags alone */
struct user_trap {
	uint64_t vector, error, rax, rdx;
};
extern volatile struct user_trap user_last;
void user_init(void);
uint64_t user_gdt_base(void);
uint64_t run_user(void (*fn)(void));
/* run_user, and an exception from ring 3 ends the guest (status 5). */
void run_user_or_exit(void (*fn)(void));
int user_mode(void);

#endif
