/* The CPU-bound workload of bench/emu: a prime sieve, CRC-32 over a buffer
 * and a small bytecode interpreter — the kinds of loops compilers emit for
 * integer code. Freestanding: the same source is built as a static Linux
 * program (host.c) and into the bootable benchmark guest (boot.S). Returns
 * a checksum that every runner prints, so a wrong answer cannot hide. */
#include <stdint.h>

#ifndef SCALE
#define SCALE 4
#endif

static uint8_t sieve_buf[1 << 16];
static uint8_t data_buf[1 << 14];

static uint32_t sieve(unsigned n)
{
	uint32_t count = 0;
	for (unsigned i = 0; i < n; i++)
		sieve_buf[i] = 1;
	for (unsigned i = 2; i < n; i++) {
		if (!sieve_buf[i])
			continue;
		count++;
		for (unsigned j = i * 2; j < n; j += i)
			sieve_buf[j] = 0;
	}
	return count;
}

static uint32_t crc32(const uint8_t *p, unsigned len, uint32_t crc)
{
	crc = ~crc;
	for (unsigned i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* A stack machine: PUSH imm, ADD, MUL, XOR, DUP, SWAP, JNZ (loop), DEC, HALT. */
enum { OP_PUSH, OP_ADD, OP_MUL, OP_XOR, OP_DUP, OP_SWAP, OP_DEC, OP_JNZ, OP_DROP, OP_HALT };

static uint32_t interp(uint32_t iterations)
{
	static const uint32_t prog[] = {
		OP_PUSH, 1,            /* acc */
		OP_PUSH, 0,            /* counter placeholder, replaced below */
		/* loop: stack = acc counter */
		OP_SWAP,               /* counter acc */
		OP_PUSH, 2654435761u, OP_MUL, OP_PUSH, 12345, OP_ADD, OP_DUP, OP_PUSH, 0x5bd1e995, OP_XOR, OP_ADD,
		OP_SWAP,               /* acc counter */
		OP_DEC, OP_DUP, OP_JNZ, 4,
		OP_DROP, OP_HALT,
	};
	uint32_t stack[16];
	unsigned sp = 0, pc = 0;
	for (;;) {
		uint32_t op = prog[pc++];
		switch (op) {
		case OP_PUSH: stack[sp++] = prog[pc++]; if (pc == 4) stack[sp - 1] = iterations; break;
		case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
		case OP_MUL: sp--; stack[sp - 1] *= stack[sp]; break;
		case OP_XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
		case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
		case OP_SWAP: { uint32_t t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; break; }
		case OP_DEC: stack[sp - 1]--; break;
		case OP_JNZ: { uint32_t target = prog[pc++]; if (stack[--sp]) pc = target; break; }
		case OP_DROP: sp--; break;
		default: return stack[sp - 1];
		}
	}
}

uint32_t workload(void)
{
	uint32_t sum = 0;
	for (unsigned round = 0; round < SCALE; round++) {
		sum += sieve(sizeof(sieve_buf));
		for (unsigned i = 0; i < sizeof(data_buf); i++)
			data_buf[i] = (uint8_t)(i * 7 + round + (sum >> 3));
		sum ^= crc32(data_buf, sizeof(data_buf), sum);
		sum += interp(100000);
	}
	return sum;
}
