/* 8042 controller commands and status bits: IBM PC/AT technical reference
 * ("Keyboard controller"), as documented for PS/2 systems. */
#include "dev/i8042.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define STS_OBF      0x01 /* output buffer full */
#define STS_SYS      0x04 /* system flag: self-test passed */
#define STS_CMD      0x08 /* last write was to 0x64 */
#define STS_UNLOCKED 0x10
#define OUTQ 8

struct i8042 {
	pthread_mutex_t lock;
	uint8_t status, cmd_byte, out_port;
	uint8_t pending_cmd;  /* a controller command waiting for its data byte */
	uint8_t kbd_pending;  /* a keyboard command waiting for its argument */
	uint8_t outq[OUTQ];
	unsigned out_head, out_count;
	i8042_reset_fn *reset;
	void *opaque;
};

static void push(struct i8042 *k, uint8_t v)
{
	if (k->out_count < OUTQ) {
		k->outq[(k->out_head + k->out_count) % OUTQ] = v;
		k->out_count++;
	}
}

/* Commands to the keyboard itself (data port), answered as a present,
 * idle MF2 keyboard would. */
static void keyboard_byte(struct i8042 *k, uint8_t v)
{
	if (k->kbd_pending) { /* the argument of 0xED/0xF0/0xF3 */
		k->kbd_pending = 0;
		push(k, 0xfa);
		return;
	}
	switch (v) {
	case 0xff: push(k, 0xfa); push(k, 0xaa); break;          /* reset, self-test OK */
	case 0xf2: push(k, 0xfa); push(k, 0xab); push(k, 0x83); break; /* identify */
	case 0xed: case 0xf0: case 0xf3: k->kbd_pending = v; push(k, 0xfa); break;
	case 0xee: push(k, 0xee); break;                          /* echo */
	default: push(k, 0xfa); break;                            /* ACK */
	}
}

/* Returns true when the command pulls the reset line. */
static bool controller_cmd(struct i8042 *k, uint8_t v)
{
	switch (v) {
	case 0x20: push(k, k->cmd_byte); break;                   /* read command byte */
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4: k->pending_cmd = v; break;
	case 0xa7: k->cmd_byte |= 0x20; break;                    /* disable aux */
	case 0xa8: k->cmd_byte &= (uint8_t)~0x20; break;
	case 0xa9: push(k, 0x00); break;                          /* aux interface test */
	case 0xaa: push(k, 0x55); k->status |= STS_SYS; break;    /* self-test */
	case 0xab: push(k, 0x00); break;                          /* keyboard interface test */
	case 0xad: k->cmd_byte |= 0x10; break;                    /* disable keyboard */
	case 0xae: k->cmd_byte &= (uint8_t)~0x10; break;
	case 0xd0: push(k, k->out_port); break;                   /* read output port */
	default:
		/* 0xF0-0xFF pulse output-port bits low for 6 us; bit 0 is the reset line. */
		if (v >= 0xf0 && !(v & 1))
			return true;
		break;
	}
	return false;
}

void i8042_io(struct i8042 *k, uint16_t port, bool is_write, uint8_t *value)
{
	bool reset = false;
	pthread_mutex_lock(&k->lock);
	if (port == 0x64) {
		if (is_write) {
			k->status |= STS_CMD;
			reset = controller_cmd(k, *value);
		} else {
			*value = (uint8_t)(k->status | STS_UNLOCKED | (k->out_count ? STS_OBF : 0));
		}
	} else if (is_write) {
		k->status &= (uint8_t)~STS_CMD;
		uint8_t cmd = k->pending_cmd;
		k->pending_cmd = 0;
		switch (cmd) {
		case 0x60: k->cmd_byte = *value; break;
		case 0xd1:
			k->out_port = *value;
			reset = !(*value & 1); /* bit 0 low: the CPU is held in reset */
			break;
		case 0xd2: case 0xd3: push(k, *value); break; /* write to our own output buffer */
		case 0xd4: push(k, 0xfe); break;               /* no mouse: resend */
		default: keyboard_byte(k, *value); break;
		}
	} else {
		if (k->out_count) {
			*value = k->outq[k->out_head];
			k->out_head = (k->out_head + 1) % OUTQ;
			k->out_count--;
		} else {
			*value = 0;
		}
	}
	pthread_mutex_unlock(&k->lock);
	if (reset && k->reset)
		k->reset(k->opaque);
}

static void bus_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value, uint16_t port)
{
	uint8_t b = (uint8_t)*value;
	(void)offset, (void)size;
	i8042_io(opaque, port, is_write, &b);
	if (!is_write)
		*value = b;
}
static void io_data(void *o, uint64_t off, unsigned size, bool w, uint64_t *v) { bus_io(o, off, size, w, v, 0x60); }
static void io_cmd(void *o, uint64_t off, unsigned size, bool w, uint64_t *v) { bus_io(o, off, size, w, v, 0x64); }

int i8042_create(struct io_bus *bus, i8042_reset_fn *reset, void *opaque, struct i8042 **out)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->lock, NULL);
	k->reset = reset;
	k->opaque = opaque;
	k->status = STS_SYS;
	k->cmd_byte = 0x45;  /* keyboard interrupt, system flag, translation */
	k->out_port = 0x03;  /* reset line high, A20 enabled */
	int r = 0;
	if (bus) {
		r = io_bus_register(bus, IO_SPACE_PIO, 0x60, 1, io_data, k, "i8042-data");
		if (!r)
			r = io_bus_register(bus, IO_SPACE_PIO, 0x64, 1, io_cmd, k, "i8042-cmd");
	}
	if (r < 0) {
		i8042_destroy(k);
		return r;
	}
	*out = k;
	return 0;
}

void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k);
}
