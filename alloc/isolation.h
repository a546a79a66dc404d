/* Page isolation, contiguous allocation, CMA, memory hotplug and memory
 * failure: what alloc/page_isolation.c, memory_hotplug.c and
 * memory_failure.c share (mm/page_isolation.c, mm/cma.c,
 * mm/memory_hotplug.c, mm/memory-failure.c).
 *
 * Locks: cma_state.lock is outermost.  It stands for the kernel's
 * cma_mutex, mem_hotplug_lock and mf_mutex at once: every isolation, contig
 * allocation, offline, online, memory failure and unpoison holds it from
 * start to end, so the pageblocks one of them isolated are never touched by
 * another.  It is held while owners' migrate, reclaim and release callbacks
 * run (never a zone, pcp or lru lock): a callback must not call back into
 * these entry points.  Below it: tunables_lock -> every pcp lock of a zone
 * in ascending CPU order -> zone->lock, the checker's order.
 * cma_state.bitmap_lock (cma->lock) is a leaf. */
#ifndef BUDDY_ISOLATION_H
#define BUDDY_ISOLATION_H

#include "internal.h"

/* isol_flags of start_isolate_page_range / test_pages_isolated */
#define MEMORY_OFFLINE 0x1 /* poisoned and offline pages do not keep a range busy */
#define REPORT_FAILURE 0x2 /* log the page that made isolation fail */

#define SAVED_MT_NONE 0xffu

struct cma_area_state {
	uint64_t base_pfn;
	uint64_t count;        /* pages */
	uint64_t *bitmap;      /* one bit per page (order_per_bit 0): taken by cma_alloc */
	uint64_t available;    /* clear bits */
};

struct cma_state {
	pthread_mutex_t lock;        /* see above: outermost */
	pthread_mutex_t bitmap_lock; /* the bitmaps and available counts */
	/* Per pageblock, the type it had before isolation (SAVED_MT_NONE when
	 * not isolated by us), so that undo puts back what was there: the
	 * kernel restores the caller's migratetype, which would turn an
	 * UNMOVABLE block isolated by a failed attempt into MOVABLE.  Under
	 * lock. */
	uint8_t *saved_mt;
	/* Poisoned pages that sit inside allocated blocks.  While it is 0 the
	 * free path skips the scan for poisoned pages altogether. */
	_Atomic long poisoned_in_use;
	int nr_areas;
	struct cma_area_state area[BUDDY_MAX_CMA];
};

/* Lifetime: called by buddy_system_create / buddy_system_destroy. */
int cma_state_init(struct buddy_system *sys);  /* 0 or -ENOMEM */
void cma_state_destroy(struct buddy_system *sys);

/* Whether a poisoned page sits in some allocated block: until one does,
 * no free needs free_pages_hwpoison_check(). */
static inline bool hwpoison_in_use(const struct buddy_system *sys)
{
	return sys->cma && atomic_load_explicit(&sys->cma->poisoned_in_use, memory_order_seq_cst) > 0;
}

/* The free path's hook (page_alloc.c free_claimed_block): when a page of
 * the block being freed is poisoned, free the rest as smaller blocks, keep
 * the poisoned pages out (NR_ZONE_HWPOISON) and return true.  No lock held;
 * the caller owns the block (PG_freeing). */
bool free_pages_hwpoison_check(struct buddy_system *sys, struct page *head, unsigned int order);

/* ---- helpers shared by the three files ---- */

/* The zone whose span holds all of [start, end), or NULL. */
struct zone *zone_of_range(struct buddy_system *sys, uint64_t start, uint64_t end);
bool range_has_hole(const struct buddy_system *sys, uint64_t start, uint64_t end);
bool range_has_offline(const struct buddy_system *sys, uint64_t start, uint64_t end);
bool pfn_in_cma_area(const struct buddy_system *sys, uint64_t pfn);

/* Every pcp lock of the zone in ascending CPU order, then zone->lock: the
 * page records of the zone then hold still (orders, heads, lists). */
void zone_lock_all(struct zone *zone);
void zone_unlock_all(struct zone *zone);

enum block_kind {
	BK_NONE,        /* no block: a lone offline or poisoned page, a hole */
	BK_FREE,        /* on a free list */
	BK_PCP,
	BK_ALLOCATED,   /* possibly isolated by a migration, possibly being freed */
	BK_QUARANTINED,
	BK_HELD,        /* a free block held by compaction (PG_isolated, not allocated) */
};

struct block_at {
	uint64_t head;
	unsigned int order;
	enum block_kind kind;
	uint32_t flags;   /* of the head, or of the page itself for BK_NONE */
};

/* The block that covers pfn.  Every lock of the zone held. */
void find_block(struct buddy_system *sys, struct zone *zone, uint64_t pfn, struct block_at *b);
static inline uint64_t block_end(const struct block_at *b)
{
	return b->head + (1ULL << b->order);
}

/* Give [start, end) to the free lists as the largest aligned blocks, never
 * letting one block span pageblocks of different types.  mt < 0: each
 * block goes to its pageblock's type.  zone->lock held. */
void free_pfn_range(struct zone *zone, uint64_t start, uint64_t end, int mt);

/* mm/page_isolation.c.  Big lock held; no zone lock. */
int start_isolate_page_range_locked(struct buddy_system *sys, struct zone *zone, uint64_t start, uint64_t end,
				    int migratetype, int flags);
void undo_isolate_page_range_locked(struct buddy_system *sys, struct zone *zone, uint64_t start, uint64_t end,
				    int migratetype);
/* Every lock of the zone held.  0 when every page of [start, end) is free
 * on an ISOLATE list (or, with MEMORY_OFFLINE, poisoned and kept out) and
 * every pageblock is isolated; -EBUSY otherwise. */
int test_pages_isolated_locked(struct buddy_system *sys, struct zone *zone, uint64_t start, uint64_t end,
			       int flags);

/* Move the allocated blocks of [start, end) elsewhere (__alloc_contig_migrate_range,
 * do_migrate_range).  Targets come from the allocator with gfp adjusted to
 * each block's type and must fall outside [avoid_start, avoid_end).
 * reclaim_clean: drop reclaimable blocks through their owner first, as
 * reclaim_clean_pages_from_list.  0 when nothing allocated is left,
 * -ENOMEM when no target could be had, -EBUSY when blocks stayed. */
struct migrate_range_ctl {
	uint64_t start, end;
	uint64_t avoid_start, avoid_end;
	gfp_t gfp;
	bool reclaim_clean;
	unsigned long moved, failed;
};
int migrate_range(struct buddy_system *sys, struct zone *zone, struct migrate_range_ctl *mc);

static inline uint64_t pageblock_start(const struct buddy_system *sys, uint64_t pfn)
{
	return pfn & ~((uint64_t)sys->pageblock_nr_pages - 1);
}
static inline uint64_t pageblock_align_up(const struct buddy_system *sys, uint64_t pfn)
{
	return (pfn + sys->pageblock_nr_pages - 1) & ~((uint64_t)sys->pageblock_nr_pages - 1);
}

#endif
