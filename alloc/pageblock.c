/* Pageblocks and migratetypes: pageblock flags, moving free pages between
 * types, fallback with claiming and stealing, and the HIGHATOMIC reserve
 * (mm/page_alloc.c: __rmqueue_claim, __rmqueue_steal, try_to_claim_block,
 * reserve_highatomic_pageblock, unreserve_highatomic_pageblock). */
#include "bugs.h"
#include "internal.h"

/* The kernel's fallbacks[]: which types a type may borrow from, in order. */
const int buddy_fallbacks[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1] = {
	[MIGRATE_UNMOVABLE] = { MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE },
	[MIGRATE_MOVABLE] = { MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE },
	[MIGRATE_RECLAIMABLE] = { MIGRATE_UNMOVABLE, MIGRATE_MOVABLE },
};

static _Atomic uint8_t *pageblock_word(const struct buddy_system *sys, uint64_t pfn)
{
	return &sys->pageblock_flags[pfn >> sys->pageblock_order];
}

void set_pageblock_migratetype(struct buddy_system *sys, uint64_t pfn, int mt)
{
	if (sys->page_group_by_mobility_disabled && mt < MIGRATE_PCPTYPES)
		mt = MIGRATE_UNMOVABLE;
	/* A CAS, so that a skip bit set beside it is never undone. */
	_Atomic uint8_t *w = pageblock_word(sys, pfn);
	uint8_t old = atomic_load_explicit(w, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(w, &old, (uint8_t)((old & ~PB_MIGRATE_MASK) | (unsigned)mt),
						      memory_order_relaxed, memory_order_relaxed))
		;
	if (sys->track_touched && (old & PB_MIGRATE_MASK) != (unsigned)mt) {
		const struct page *page = pfn_to_page(sys, pfn);
		if (page->nid < sys->nr_nodes && sys->nodes[page->nid] && page->zid < MAX_NR_ZONES) {
			struct zone *zone = page_zone(sys, page);
			unsigned int slot = atomic_fetch_add_explicit(&zone->pb_touched_n, 1, memory_order_relaxed);
			if (slot < PB_TOUCH_LOG_CAP)
				atomic_store_explicit(&zone->pb_touched[slot], pfn, memory_order_relaxed);
		}
	}
}

void change_pageblock_range(struct buddy_system *sys, uint64_t pfn, unsigned int order, int mt)
{
	uint64_t nr = order >= sys->pageblock_order ? 1ULL << (order - sys->pageblock_order) : 1;

	for (uint64_t i = 0; i < nr; i++)
		set_pageblock_migratetype(sys, pfn + (i << sys->pageblock_order), mt);
}

void set_pageblock_skip(struct buddy_system *sys, uint64_t pfn, bool skip)
{
	_Atomic uint8_t *w = pageblock_word(sys, pfn);
	if (skip)
		atomic_fetch_or_explicit(w, (uint8_t)PB_SKIP, memory_order_relaxed);
	else
		atomic_fetch_and_explicit(w, (uint8_t)~PB_SKIP, memory_order_relaxed);
}

bool get_pageblock_skip(const struct buddy_system *sys, uint64_t pfn)
{
	return atomic_load_explicit(pageblock_word(sys, pfn), memory_order_relaxed) & PB_SKIP;
}

static void move_to_free_list(struct zone *zone, struct page *page, unsigned int order, int old_mt, int new_mt)
{
	__del_from_free_list(zone, page, order, old_mt);
	__add_to_free_list(zone, page, order, new_mt, true);
	account_freepages(zone, -(1L << order), old_mt);
	account_freepages(zone, 1L << order, new_mt);
}

/* A free block larger than a pageblock covering pfn, if any: such a block
 * must be retyped whole, never one pageblock of it. */
static bool covered_by_large_buddy(struct zone *zone, uint64_t start_pfn)
{
	struct buddy_system *sys = zone->sys;

	for (unsigned int order = sys->pageblock_order + 1; order <= sys->max_order; order++) {
		uint64_t head = start_pfn & ~((1ULL << order) - 1);
		if (!zone_spans_pfn(zone, head))
			continue;
		struct page *page = pfn_to_page(sys, head);
		if (page_flag(page, PG_buddy) && page->order >= order)
			return true;
	}
	return false;
}

static bool pageblock_in_zone(struct zone *zone, uint64_t start_pfn)
{
	return zone_spans_pfn(zone, start_pfn) && zone_spans_pfn(zone, start_pfn + zone->sys->pageblock_nr_pages - 1);
}

/* prep_move_freepages_block(): free and movable pages of the block. */
static bool count_block_pages(struct zone *zone, uint64_t start_pfn, unsigned long *free_pages,
			      unsigned long *movable_pages)
{
	struct buddy_system *sys = zone->sys;
	uint64_t end = start_pfn + sys->pageblock_nr_pages;

	if (!pageblock_in_zone(zone, start_pfn))
		return false;
	*free_pages = *movable_pages = 0;
	for (uint64_t pfn = start_pfn; pfn < end;) {
		struct page *page = pfn_to_page(sys, pfn);
		uint32_t f = page_flags(page);
		/* Blocks outside the zone lock (pcp, allocated) may change under
		 * us; a stale order only skews the estimate, as in the kernel. */
		unsigned int order = page_order(page);
		if (order > sys->max_order)
			order = 0;
		if (f & PAGE_FLAG(PG_buddy)) {
			*free_pages += 1UL << order;
			pfn += 1ULL << order;
			continue;
		}
		if (f & (PAGE_FLAG(PG_allocated) | PAGE_FLAG(PG_pcp))) {
			if ((f & PAGE_FLAG(PG_allocated)) &&
			    atomic_load_explicit(&page->alloc_mt, memory_order_relaxed) == MIGRATE_MOVABLE)
				*movable_pages += 1UL << order;
			pfn += 1ULL << order;
			continue;
		}
		pfn++;
	}
	return true;
}

long move_freepages_block(struct zone *zone, uint64_t pfn, int old_mt, int new_mt)
{
	struct buddy_system *sys = zone->sys;
	uint64_t start = pfn & ~(sys->pageblock_nr_pages - 1), end = start + sys->pageblock_nr_pages;
	long moved = 0;

	if (!pageblock_in_zone(zone, start) || covered_by_large_buddy(zone, start))
		return -1;
	/* With grouping by mobility off the block will read UNMOVABLE: its
	 * free pages must go to that list, not to the one asked for. */
	if (sys->page_group_by_mobility_disabled && new_mt < MIGRATE_PCPTYPES)
		new_mt = MIGRATE_UNMOVABLE;
	for (uint64_t p = start; p < end;) {
		struct page *page = pfn_to_page(sys, p);
		if (!page_flag(page, PG_buddy)) {
			p++;
			continue;
		}
		unsigned int order = page->order;
		move_to_free_list(zone, page, order, old_mt, new_mt);
		p += 1ULL << order;
		moved += 1L << order;
	}
	set_pageblock_migratetype(sys, start, new_mt);
	return moved;
}

/* should_try_claim_block(): large or non-movable requests take whole
 * pageblocks, so that unmovable pages cluster together. */
static bool should_try_claim_block(const struct buddy_system *sys, unsigned int order, int start_mt)
{
	if (order >= sys->pageblock_order)
		return true;
	return order >= sys->pageblock_order / 2 || start_mt == MIGRATE_RECLAIMABLE ||
	       start_mt == MIGRATE_UNMOVABLE || sys->page_group_by_mobility_disabled;
}

/* find_suitable_fallback(): -1 nothing at this order, -2 too small to
 * claim, else the type to take from. */
static int find_suitable_fallback(const struct zone *zone, unsigned int order, int mt, bool claimable)
{
	const struct free_area *area = &zone->free_area[order];

	if (!area->nr_free)
		return -1;
	if (claimable && !should_try_claim_block(zone->sys, order, mt))
		return -2;
	for (int i = 0; i < MIGRATE_PCPTYPES - 1; i++) {
		int fallback_mt = buddy_fallbacks[mt][i];
		if (!list_empty(&area->free_list[fallback_mt]))
			return fallback_mt;
	}
	return -1;
}

static struct page *first_free(struct zone *zone, unsigned int order, int mt)
{
	return container_of(zone->free_area[order].free_list[mt].next, struct page, lru);
}

/* try_to_claim_block(): take over the pageblock of a fallback block when
 * enough of it is free or compatible; NULL if it must only be stolen. */
static struct page *try_to_claim_block(struct zone *zone, struct page *page, unsigned int current_order,
				       unsigned int order, int start_mt, int block_mt, unsigned int alloc_flags)
{
	struct buddy_system *sys = zone->sys;
	uint64_t pfn = page_to_pfn(sys, page);
	unsigned long free_pages, movable_pages, alike_pages;

	if (current_order >= sys->pageblock_order) {
		__del_from_free_list(zone, page, current_order, block_mt);
		account_freepages(zone, -(1L << current_order), block_mt);
		change_pageblock_range(sys, pfn, current_order, start_mt);
		account_freepages(zone, (long)expand(zone, page, order, current_order, start_mt), start_mt);
		count_vm_events(sys, BUDDY_EXTFRAG, 1);
		return page;
	}
	/* Falling back means fragmentation pressure: boost the watermark so
	 * kswapd and compaction work ahead of the next fallback. */
	if (boost_watermark(zone) && (alloc_flags & ALLOC_KSWAPD))
		atomic_store_explicit(&zone->boosted_watermark, true, memory_order_relaxed);

	uint64_t start = pfn & ~(sys->pageblock_nr_pages - 1);
	if (!count_block_pages(zone, start, &free_pages, &movable_pages))
		return NULL;
	if (start_mt == MIGRATE_MOVABLE)
		alike_pages = movable_pages;
	else if (block_mt == MIGRATE_MOVABLE)
		/* Non-movable pages in a movable block: count them all as
		 * compatible, since unmovable and reclaimable cannot be told
		 * apart once allocated. */
		alike_pages = sys->pageblock_nr_pages - (free_pages + movable_pages);
	else
		alike_pages = 0;
	if (free_pages + alike_pages >= (1UL << (sys->pageblock_order - (sys->pageblock_order ? 1 : 0))) ||
	    sys->page_group_by_mobility_disabled) {
#ifdef BUDDY_BUG_CLAIM_LEFTOVER
		if (!pageblock_in_zone(zone, start) || covered_by_large_buddy(zone, start))
			return NULL;
		set_pageblock_migratetype(sys, start, start_mt);
#else
		if (move_freepages_block(zone, start, block_mt, start_mt) < 0)
			return NULL;
#endif
		count_vm_events(sys, BUDDY_EXTFRAG, 1);
		return __rmqueue_smallest(zone, order, start_mt);
	}
	return NULL;
}

struct page *__rmqueue_fallback_claim(struct zone *zone, unsigned int order, int start_mt, unsigned int alloc_flags)
{
	struct buddy_system *sys = zone->sys;
	unsigned int min_order = order;

	if (start_mt >= MIGRATE_PCPTYPES)
		return NULL;
	/* NOFRAGMENT: only whole pageblocks may change hands. */
	if (order < sys->pageblock_order && (alloc_flags & ALLOC_NOFRAGMENT))
		min_order = sys->pageblock_order;
	for (int current_order = (int)sys->max_order; current_order >= (int)min_order; current_order--) {
		int fallback_mt = find_suitable_fallback(zone, (unsigned)current_order, start_mt, true);
		if (fallback_mt == -1)
			continue;
		if (fallback_mt == -2)
			break;
		struct page *page = first_free(zone, (unsigned)current_order, fallback_mt);
		page = try_to_claim_block(zone, page, (unsigned)current_order, order, start_mt, fallback_mt,
					  alloc_flags);
		if (page)
			return page;
	}
	return NULL;
}

struct page *__rmqueue_fallback_steal(struct zone *zone, unsigned int order, int start_mt)
{
	if (start_mt >= MIGRATE_PCPTYPES)
		return NULL;
	for (unsigned int current_order = order; current_order <= zone->sys->max_order; current_order++) {
		int fallback_mt = find_suitable_fallback(zone, current_order, start_mt, false);
		if (fallback_mt < 0)
			continue;
		struct page *page = first_free(zone, current_order, fallback_mt);
#ifdef BUDDY_BUG_STEAL_WRONG_LIST
		page_del_and_expand(zone, page, order, current_order, start_mt);
#else
		page_del_and_expand(zone, page, order, current_order, fallback_mt);
#endif
		count_vm_events(zone->sys, BUDDY_EXTFRAG, 1);
		return page;
	}
	return NULL;
}

/* reserve_highatomic_pageblock(): after a high-order atomic allocation
 * succeeds, keep its pageblock for later ones, up to ~1% of the zone. */
void reserve_highatomic_pageblock(struct zone *zone, struct page *page, unsigned int order)
{
	struct buddy_system *sys = zone->sys;
	unsigned long pb = sys->pageblock_nr_pages;

	if (zone->managed_pages / 100 < pb)
		return;
	unsigned long max_managed = (zone->managed_pages / 100 + pb - 1) & ~(pb - 1);
	if (atomic_load_explicit(&zone->nr_reserved_highatomic, memory_order_relaxed) >= max_managed)
		return;
	spin_lock(&zone->lock);
	if (atomic_load_explicit(&zone->nr_reserved_highatomic, memory_order_relaxed) >= max_managed)
		goto out;
	uint64_t pfn = page_to_pfn(sys, page);
	int mt = get_pfnblock_migratetype(sys, pfn);
	/* Only ordinary blocks, which could merge with others. */
	if (!migratetype_is_mergeable(mt))
		goto out;
	if (order < sys->pageblock_order) {
		if (move_freepages_block(zone, pfn, mt, MIGRATE_HIGHATOMIC) < 0)
			goto out;
		atomic_fetch_add_explicit(&zone->nr_reserved_highatomic, pb, memory_order_relaxed);
	} else {
		change_pageblock_range(sys, pfn, order, MIGRATE_HIGHATOMIC);
		atomic_fetch_add_explicit(&zone->nr_reserved_highatomic, 1UL << order, memory_order_relaxed);
	}
	count_vm_events(sys, BUDDY_HIGHATOMIC_RESERVE, 1);
out:
	spin_unlock(&zone->lock);
}

/* unreserve_highatomic_pageblock(): hand one reserved block back to the
 * allocating type.  Without force, one pageblock per zone stays reserved. */
bool unreserve_highatomic_pageblock(struct buddy_system *sys, struct zone **zones, int nr_zones, int migratetype,
				    bool force)
{
	unsigned long pb = sys->pageblock_nr_pages;

	for (int i = 0; i < nr_zones; i++) {
		struct zone *zone = zones[i];
		if (!force && atomic_load_explicit(&zone->nr_reserved_highatomic, memory_order_relaxed) <= pb)
			continue;
		spin_lock(&zone->lock);
		for (unsigned int order = 0; order <= sys->max_order; order++) {
			struct free_area *area = &zone->free_area[order];
			if (list_empty(&area->free_list[MIGRATE_HIGHATOMIC]))
				continue;
			struct page *page = first_free(zone, order, MIGRATE_HIGHATOMIC);
			uint64_t pfn = page_to_pfn(sys, page);
#ifdef BUDDY_BUG_HIGHATOMIC_UNRESERVE
			unsigned long size = 1UL << order;
#else
			unsigned long size = (1UL << order) > pb ? 1UL << order : pb;
#endif
			unsigned long reserved = atomic_load_explicit(&zone->nr_reserved_highatomic, memory_order_relaxed);
			if (size > reserved)
				size = reserved;
			long ret;
			if (order < sys->pageblock_order) {
				ret = move_freepages_block(zone, pfn, MIGRATE_HIGHATOMIC, migratetype);
			} else {
				move_to_free_list(zone, page, order, MIGRATE_HIGHATOMIC, migratetype);
				change_pageblock_range(sys, pfn, order, migratetype);
				ret = 1;
			}
			if (ret < 0)
				continue;
			atomic_store_explicit(&zone->nr_reserved_highatomic, reserved - size, memory_order_relaxed);
			count_vm_events(sys, BUDDY_HIGHATOMIC_UNRESERVE, 1);
			spin_unlock(&zone->lock);
			return true;
		}
		spin_unlock(&zone->lock);
	}
	return false;
}
