/* QEMU's firmware configuration interface (fw_cfg), the x86 port-I/O form
 * (QEMU docs/specs/fw_cfg.rst): a 16-bit selector at 0x510, an 8-bit data
 * port at 0x511 and the DMA address register at 0x514-0x51b. Firmware and
 * test kernels written for QEMU find the machine's CPU count, RAM size and
 * memory map here. Every item is read-only and built once at create time. */
#ifndef VMON_DEV_FW_CFG_H
#define VMON_DEV_FW_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/io_bus.h"
#include "mem/guest_mem.h"

/* fw_cfg.rst "Register Locations", x86. The claimed range is 0x510-0x51b. */
#define FW_CFG_PORT_SELECTOR 0x510
#define FW_CFG_PORT_DATA     0x511
#define FW_CFG_PORT_DMA      0x514 /* high half; the low half at 0x518 */
#define FW_CFG_PORT_COUNT    12

/* Selector keys (fw_cfg.rst "Firmware Configuration Items"; the numbers
 * are those of QEMU's fw_cfg.h). */
#define FW_CFG_SIGNATURE  0x0000
#define FW_CFG_ID         0x0001
#define FW_CFG_RAM_SIZE   0x0003
#define FW_CFG_NB_CPUS    0x0005
#define FW_CFG_MAX_CPUS   0x000f
#define FW_CFG_FILE_DIR   0x0019
#define FW_CFG_FILE_FIRST 0x0020
#define FW_CFG_WRITE_CHANNEL 0x4000 /* selector bit 14: names the same item */

/* FW_CFG_ID feature bits */
#define FW_CFG_VERSION     0x01u
#define FW_CFG_VERSION_DMA 0x02u

/* FWCfgDmaAccess.control bits (fw_cfg.rst "Guest-side DMA Interface") */
#define FW_CFG_DMA_CTL_ERROR  0x01u
#define FW_CFG_DMA_CTL_READ   0x02u
#define FW_CFG_DMA_CTL_SKIP   0x04u
#define FW_CFG_DMA_CTL_SELECT 0x08u
#define FW_CFG_DMA_CTL_WRITE  0x10u

#define FW_CFG_DMA_SIGNATURE 0x51454d5520434647ULL /* "QEMU CFG", big-endian */
#define FW_CFG_FILE_ENTRY_SIZE 64
#define FW_CFG_FILE_NAME_MAX   56 /* with the terminating NUL */

struct fw_cfg;

/* Builds the items for a machine of ram_size bytes and cpus vCPUs and, when
 * bus is not NULL, claims ports 0x510-0x51b. DMA goes to and from mem. */
int fw_cfg_create(struct io_bus *bus, const struct guest_mem *mem, uint64_t ram_size, unsigned cpus,
		  struct fw_cfg **out) __attribute__((warn_unused_result));
void fw_cfg_destroy(struct fw_cfg *fc);

/* One port access (what the bus calls; unit tests call it directly). */
void fw_cfg_io(struct fw_cfg *fc, uint16_t port, unsigned size, bool is_write, uint64_t *value);

#endif
