/* Basic enums shared by every part of the buddy model: zones, migratetypes,
 * watermarks and the ALLOC_* flags, with the values Linux 6.x uses. */
#ifndef BUDDY_TYPES_H
#define BUDDY_TYPES_H

#include <stdint.h>

typedef unsigned int gfp_t;

/* 64-bit kernels have no ZONE_HIGHMEM; ZONE_DEVICE is not modelled. */
enum zone_type {
	ZONE_DMA,
	ZONE_DMA32,
	ZONE_NORMAL,
	ZONE_MOVABLE,
	MAX_NR_ZONES
};

enum migratetype {
	MIGRATE_UNMOVABLE,
	MIGRATE_MOVABLE,
	MIGRATE_RECLAIMABLE,
	MIGRATE_PCPTYPES, /* the number of types on the pcp lists */
	MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES,
	MIGRATE_CMA,
	MIGRATE_ISOLATE,
	MIGRATE_TYPES
};

enum zone_watermarks {
	WMARK_MIN,
	WMARK_LOW,
	WMARK_HIGH,
	WMARK_PROMO,
	NR_WMARK
};

/* ALLOC_* flags of mm/internal.h. The low bits select a watermark. */
#define ALLOC_WMARK_MIN      WMARK_MIN
#define ALLOC_WMARK_LOW      WMARK_LOW
#define ALLOC_WMARK_HIGH     WMARK_HIGH
#define ALLOC_NO_WATERMARKS  0x04
#define ALLOC_WMARK_MASK     (ALLOC_NO_WATERMARKS - 1)
#define ALLOC_OOM            0x08
#define ALLOC_NON_BLOCK      0x10
#define ALLOC_MIN_RESERVE    0x20
#define ALLOC_CPUSET         0x40
#define ALLOC_CMA            0x80
#define ALLOC_NOFRAGMENT     0x100
#define ALLOC_HIGHATOMIC     0x200
#define ALLOC_TRYLOCK        0x400
#define ALLOC_KSWAPD         0x800
#define ALLOC_RESERVES (ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM)

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define MAX_PAGE_ORDER_DEFAULT 10
#define MAX_PAGE_ORDER_LIMIT 12
#define PAGEBLOCK_ORDER_DEFAULT 9
#define PAGE_ALLOC_COSTLY_ORDER 3
#define NR_PCP_ORDERS (PAGE_ALLOC_COSTLY_ORDER + 1)
#define BUDDY_MAX_NODES 64
#define BUDDY_MAX_CPUS 256

const char *buddy_zone_name(enum zone_type zone);        /* "DMA", "DMA32", "Normal", "Movable" */
const char *buddy_migratetype_name(int migratetype);     /* "Unmovable", ... as pagetypeinfo prints */

#endif
