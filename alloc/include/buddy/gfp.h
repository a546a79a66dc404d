/* GFP flags with the values of Linux 6.12+ include/linux/gfp_types.h, plus
 * the helpers the page allocator derives from them (gfp_zone,
 * gfp_migratetype, gfp_to_alloc_flags) and the ftrace text form.
 *
 * The config-dependent bits are modelled as a kernel built with
 * CONFIG_KASAN_HW_TAGS, CONFIG_LOCKDEP and CONFIG_SLAB_OBJ_EXT all enabled,
 * so every flag has a real bit and none collapses to 0. The bit numbers of
 * the later flags shift when any of those is off in a real kernel, so raw
 * hex from another kernel only means the same thing if its config matches.
 * CONFIG_ZONE_DMA and CONFIG_ZONE_DMA32 are on and CONFIG_HIGHMEM is off
 * (x86-64). */
#ifndef BUDDY_GFP_H
#define BUDDY_GFP_H

#include <stddef.h>

#include "buddy/types.h"

enum {
	___GFP_DMA_BIT,
	___GFP_HIGHMEM_BIT,
	___GFP_DMA32_BIT,
	___GFP_MOVABLE_BIT,
	___GFP_RECLAIMABLE_BIT,
	___GFP_HIGH_BIT,
	___GFP_IO_BIT,
	___GFP_FS_BIT,
	___GFP_ZERO_BIT,
	___GFP_UNUSED_BIT, /* 0x200 has no flag */
	___GFP_DIRECT_RECLAIM_BIT,
	___GFP_KSWAPD_RECLAIM_BIT,
	___GFP_WRITE_BIT,
	___GFP_NOWARN_BIT,
	___GFP_RETRY_MAYFAIL_BIT,
	___GFP_NOFAIL_BIT,
	___GFP_NORETRY_BIT,
	___GFP_MEMALLOC_BIT,
	___GFP_COMP_BIT,
	___GFP_NOMEMALLOC_BIT,
	___GFP_HARDWALL_BIT,
	___GFP_THISNODE_BIT,
	___GFP_ACCOUNT_BIT,
	___GFP_ZEROTAGS_BIT,
	___GFP_SKIP_ZERO_BIT,  /* CONFIG_KASAN_HW_TAGS */
	___GFP_SKIP_KASAN_BIT, /* CONFIG_KASAN_HW_TAGS */
	___GFP_NOLOCKDEP_BIT,  /* CONFIG_LOCKDEP */
	___GFP_NO_OBJ_EXT_BIT, /* CONFIG_SLAB_OBJ_EXT */
	___GFP_LAST_BIT
};

#define ___GFP_DMA            (1u << ___GFP_DMA_BIT)
#define ___GFP_HIGHMEM        (1u << ___GFP_HIGHMEM_BIT)
#define ___GFP_DMA32          (1u << ___GFP_DMA32_BIT)
#define ___GFP_MOVABLE        (1u << ___GFP_MOVABLE_BIT)
#define ___GFP_RECLAIMABLE    (1u << ___GFP_RECLAIMABLE_BIT)
#define ___GFP_HIGH           (1u << ___GFP_HIGH_BIT)
#define ___GFP_IO             (1u << ___GFP_IO_BIT)
#define ___GFP_FS             (1u << ___GFP_FS_BIT)
#define ___GFP_ZERO           (1u << ___GFP_ZERO_BIT)
#define ___GFP_DIRECT_RECLAIM (1u << ___GFP_DIRECT_RECLAIM_BIT)
#define ___GFP_KSWAPD_RECLAIM (1u << ___GFP_KSWAPD_RECLAIM_BIT)
#define ___GFP_WRITE          (1u << ___GFP_WRITE_BIT)
#define ___GFP_NOWARN         (1u << ___GFP_NOWARN_BIT)
#define ___GFP_RETRY_MAYFAIL  (1u << ___GFP_RETRY_MAYFAIL_BIT)
#define ___GFP_NOFAIL         (1u << ___GFP_NOFAIL_BIT)
#define ___GFP_NORETRY        (1u << ___GFP_NORETRY_BIT)
#define ___GFP_MEMALLOC       (1u << ___GFP_MEMALLOC_BIT)
#define ___GFP_COMP           (1u << ___GFP_COMP_BIT)
#define ___GFP_NOMEMALLOC     (1u << ___GFP_NOMEMALLOC_BIT)
#define ___GFP_HARDWALL       (1u << ___GFP_HARDWALL_BIT)
#define ___GFP_THISNODE       (1u << ___GFP_THISNODE_BIT)
#define ___GFP_ACCOUNT        (1u << ___GFP_ACCOUNT_BIT)
#define ___GFP_ZEROTAGS       (1u << ___GFP_ZEROTAGS_BIT)
#define ___GFP_SKIP_ZERO      (1u << ___GFP_SKIP_ZERO_BIT)
#define ___GFP_SKIP_KASAN     (1u << ___GFP_SKIP_KASAN_BIT)
#define ___GFP_NOLOCKDEP      (1u << ___GFP_NOLOCKDEP_BIT)
#define ___GFP_NO_OBJ_EXT     (1u << ___GFP_NO_OBJ_EXT_BIT)

/* Zone modifiers: the low four bits index the zone table. */
#define __GFP_DMA     ((gfp_t)___GFP_DMA)
#define __GFP_HIGHMEM ((gfp_t)___GFP_HIGHMEM)
#define __GFP_DMA32   ((gfp_t)___GFP_DMA32)
#define __GFP_MOVABLE ((gfp_t)___GFP_MOVABLE)
#define GFP_ZONEMASK  (__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE)

/* Mobility and placement hints */
#define __GFP_RECLAIMABLE ((gfp_t)___GFP_RECLAIMABLE)
#define __GFP_WRITE       ((gfp_t)___GFP_WRITE)
#define __GFP_HARDWALL    ((gfp_t)___GFP_HARDWALL)
#define __GFP_THISNODE    ((gfp_t)___GFP_THISNODE)
#define __GFP_ACCOUNT     ((gfp_t)___GFP_ACCOUNT)
#define __GFP_NO_OBJ_EXT  ((gfp_t)___GFP_NO_OBJ_EXT)

/* Watermark modifiers */
#define __GFP_HIGH       ((gfp_t)___GFP_HIGH)
#define __GFP_MEMALLOC   ((gfp_t)___GFP_MEMALLOC)
#define __GFP_NOMEMALLOC ((gfp_t)___GFP_NOMEMALLOC)

/* Reclaim modifiers */
#define __GFP_IO             ((gfp_t)___GFP_IO)
#define __GFP_FS             ((gfp_t)___GFP_FS)
#define __GFP_DIRECT_RECLAIM ((gfp_t)___GFP_DIRECT_RECLAIM)
#define __GFP_KSWAPD_RECLAIM ((gfp_t)___GFP_KSWAPD_RECLAIM)
#define __GFP_RECLAIM        ((gfp_t)(___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM))
#define __GFP_RETRY_MAYFAIL  ((gfp_t)___GFP_RETRY_MAYFAIL)
#define __GFP_NOFAIL         ((gfp_t)___GFP_NOFAIL)
#define __GFP_NORETRY        ((gfp_t)___GFP_NORETRY)

/* Action modifiers */
#define __GFP_NOWARN     ((gfp_t)___GFP_NOWARN)
#define __GFP_COMP       ((gfp_t)___GFP_COMP)
#define __GFP_ZERO       ((gfp_t)___GFP_ZERO)
#define __GFP_ZEROTAGS   ((gfp_t)___GFP_ZEROTAGS)
#define __GFP_SKIP_ZERO  ((gfp_t)___GFP_SKIP_ZERO)
#define __GFP_SKIP_KASAN ((gfp_t)___GFP_SKIP_KASAN)
#define __GFP_NOLOCKDEP  ((gfp_t)___GFP_NOLOCKDEP)

#define __GFP_BITS_SHIFT ___GFP_LAST_BIT
#define __GFP_BITS_MASK  ((gfp_t)((1u << __GFP_BITS_SHIFT) - 1))

/* The combinations of gfp_types.h */
#define GFP_ATOMIC         (__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL         (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)
#define GFP_NOWAIT         (__GFP_KSWAPD_RECLAIM | __GFP_NOWARN)
#define GFP_NOIO           (__GFP_RECLAIM)
#define GFP_NOFS           (__GFP_RECLAIM | __GFP_IO)
#define GFP_USER           (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL)
#define GFP_DMA            __GFP_DMA
#define GFP_DMA32          __GFP_DMA32
#define GFP_HIGHUSER       (GFP_USER | __GFP_HIGHMEM)
#define GFP_HIGHUSER_MOVABLE (GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN)
#define GFP_TRANSHUGE_LIGHT ((GFP_HIGHUSER_MOVABLE | __GFP_COMP | \
			      __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM)
#define GFP_TRANSHUGE      (GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM)

/* include/linux/gfp.h (the kernel #undefs these after gfp_migratetype) */
#define GFP_MOVABLE_MASK  (__GFP_RECLAIMABLE | __GFP_MOVABLE)
#define GFP_MOVABLE_SHIFT 3

/* mm/internal.h */
#define GFP_RECLAIM_MASK (__GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | \
			  __GFP_NOWARN | __GFP_RETRY_MAYFAIL | __GFP_NOFAIL | \
			  __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC | \
			  __GFP_NOLOCKDEP)
#define GFP_BOOT_MASK       (__GFP_BITS_MASK & ~(__GFP_RECLAIM | __GFP_IO | __GFP_FS))
#define GFP_CONSTRAINT_MASK (__GFP_HARDWALL | __GFP_THISNODE)
#define GFP_SLAB_BUG_MASK   (__GFP_DMA32 | __GFP_HIGHMEM | ~__GFP_BITS_MASK)

/* task_flags: what the kernel reads from `current` */
#define BUDDY_TASK_RT       0x1u /* rt_or_dl_task(current) && in_task() */
#define BUDDY_TASK_MEMALLOC 0x2u /* current->flags & PF_MEMALLOC */

/* Enough for buddy_gfp_format() of any gfp_t, NUL included (the test
 * checks the bound against the table). */
#define BUDDY_GFP_STR_MAX 1024

struct buddy_gfp_name {
	const char *name;
	gfp_t value;
	int is_group; /* 0 only for the single-bit __GFP_* names */
};

/* gfp_zone(): 0 and *zone set, or -EINVAL for a GFP_ZONE_BAD combination
 * of the low four bits (where the kernel would VM_BUG_ON). */
int buddy_gfp_zone(gfp_t gfp, enum zone_type *zone);

/* gfp_migratetype() without the page_group_by_mobility_disabled check,
 * which the caller applies (it is zone-list state, not a gfp property).
 * MOVABLE|RECLAIMABLE together returns -EINVAL: the kernel only warns and
 * yields MIGRATE_HIGHATOMIC, which no request may ask for. */
int buddy_gfp_migratetype(gfp_t gfp);

/* Slow-path gfp_to_alloc_flags() of 6.12, including
 * gfp_to_alloc_flags_cma(). The kernel sets ALLOC_HIGHATOMIC only when
 * order > 0; there is no order here, so an order-0 caller must clear it.
 * (A 2025 upstream patch also requires __GFP_HIGH for it; not modelled.)
 * BUDDY_TASK_MEMALLOC has no effect here, as in the kernel: see
 * buddy_gfp_pfmemalloc_flags(). */
unsigned int buddy_gfp_to_alloc_flags(gfp_t gfp, unsigned int task_flags);

/* The flags __alloc_pages() starts its fast path with: ALLOC_WMARK_LOW,
 * ALLOC_KSWAPD and ALLOC_CMA. ALLOC_NOFRAGMENT (zone dependent) and the
 * cpuset ALLOC_CPUSET are the caller's. */
unsigned int buddy_gfp_fast_alloc_flags(gfp_t gfp);

/* __gfp_pfmemalloc_flags() in task context: ALLOC_NO_WATERMARKS for
 * __GFP_MEMALLOC or a BUDDY_TASK_MEMALLOC task unless __GFP_NOMEMALLOC,
 * else 0. OOM victims (ALLOC_OOM) are not modelled. */
unsigned int buddy_gfp_pfmemalloc_flags(gfp_t gfp, unsigned int task_flags);

/* Parses the trace text form: names joined by '|', hex ("0xcc0"), decimal,
 * "0" or "none", whitespace around tokens allowed. Returns 0 and sets *out,
 * or -EINVAL with *out untouched and a message in err (if err && errlen). */
int buddy_gfp_parse(const char *text, gfp_t *out, char *err, size_t errlen);

/* show_gfp_flags(): names in the kernel's __def_gfpflag_names order,
 * leftover bits as "0x..", 0 as "none". snprintf semantics: returns the
 * length it needs, writes at most len bytes, NUL-terminates if len > 0. */
size_t buddy_gfp_format(gfp_t gfp, char *buf, size_t len);

/* "__GFP_ZERO" for ___GFP_ZERO_BIT; NULL for the unused bit and bits past
 * ___GFP_LAST_BIT. */
const char *buddy_gfp_bit_name(unsigned bit);

/* The name table in format order; names may be NULL to get the count. */
size_t buddy_gfp_names(const struct buddy_gfp_name **names);

#endif
