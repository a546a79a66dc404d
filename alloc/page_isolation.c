/* Page isolation, contiguous allocation and CMA (mm/page_isolation.c:
 * start_isolate_page_range, set_migratetype_isolate, has_unmovable_pages,
 * isolate_single_pageblock, undo_isolate_page_range, test_pages_isolated;
 * mm/page_alloc.c: alloc_contig_range, __alloc_contig_migrate_range,
 * free_contig_range; mm/cma.c: cma_alloc, cma_release).
 *
 * Isolating a pageblock retypes it MIGRATE_ISOLATE and moves its free pages
 * to the ISOLATE lists, where no allocation looks and NR_FREE_PAGES does not
 * count them.  A free block larger than a pageblock that reaches across the
 * edge of the range is split first (isolate_single_pageblock and
 * split_large_buddy), and after every retype the pageblock-sized blocks
 * around the range are freed again through __free_one_page, so that blocks
 * merge exactly as far as the allocator's own rules allow: ISOLATE with
 * ISOLATE, never across.  The whole range is checked and retyped under the
 * zone's locks at once, so a failed isolation leaves nothing to undo. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fault_inject.h"
#include "isolation.h"

/* ---- lifetime ---- */
int cma_state_init(struct buddy_system *sys)
{
	struct cma_state *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return -ENOMEM;
	cs->saved_mt = malloc(sys->nr_pageblocks ? sys->nr_pageblocks : 1);
	if (!cs->saved_mt) {
		free(cs);
		return -ENOMEM;
	}
	memset(cs->saved_mt, SAVED_MT_NONE, sys->nr_pageblocks ? sys->nr_pageblocks : 1);
	cs->nr_areas = sys->topo.nr_cma < BUDDY_MAX_CMA ? sys->topo.nr_cma : BUDDY_MAX_CMA;
	for (int i = 0; i < cs->nr_areas; i++) {
		struct cma_area_state *a = &cs->area[i];
		a->base_pfn = sys->topo.cma[i].start_pfn;
		a->count = sys->topo.cma[i].end_pfn - sys->topo.cma[i].start_pfn;
		a->available = a->count;
		a->bitmap = calloc((a->count + 63) / 64 + 1, sizeof(uint64_t));
		if (!a->bitmap) {
			for (int j = 0; j < i; j++)
				free(cs->area[j].bitmap);
			free(cs->saved_mt);
			free(cs);
			return -ENOMEM;
		}
	}
	pthread_mutex_init(&cs->lock, NULL);
	pthread_mutex_init(&cs->bitmap_lock, NULL);
	sys->cma = cs;
	return 0;
}

void cma_state_destroy(struct buddy_system *sys)
{
	struct cma_state *cs = sys->cma;

	if (!cs)
		return;
	for (int i = 0; i < cs->nr_areas; i++)
		free(cs->area[i].bitmap);
	pthread_mutex_destroy(&cs->bitmap_lock);
	pthread_mutex_destroy(&cs->lock);
	free(cs->saved_mt);
	free(cs);
	sys->cma = NULL;
}

/* ---- shared helpers ---- */
struct zone *zone_of_range(struct buddy_system *sys, uint64_t start, uint64_t end)
{
	if (start >= end || end > sys->max_pfn)
		return NULL;
	for (int nid = 0; nid < sys->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &sys->nodes[nid]->node_zones[z];
			if (!zone->spanned_pages)
				continue;
			if (start >= zone->zone_start_pfn && end <= zone->zone_start_pfn + zone->spanned_pages)
				return zone;
		}
	return NULL;
}

bool range_has_hole(const struct buddy_system *sys, uint64_t start, uint64_t end)
{
	for (int h = 0; h < sys->topo.nr_holes; h++)
		if (sys->topo.holes[h].start_pfn < end && sys->topo.holes[h].end_pfn > start)
			return true;
	return false;
}

bool range_has_offline(const struct buddy_system *sys, uint64_t start, uint64_t end)
{
	for (uint64_t pfn = start; pfn < end; pfn++)
		if (page_flag(&sys->mem_map[pfn], PG_offline))
			return true;
	return false;
}

bool pfn_in_cma_area(const struct buddy_system *sys, uint64_t pfn)
{
	for (int i = 0; i < sys->topo.nr_cma && i < BUDDY_MAX_CMA; i++)
		if (pfn >= sys->topo.cma[i].start_pfn && pfn < sys->topo.cma[i].end_pfn)
			return true;
	return false;
}

void zone_lock_all(struct zone *zone)
{
	if (zone->pcp)
		for (int cpu = 0; cpu < zone->sys->nr_cpus; cpu++)
			spin_lock(&zone->pcp[cpu].lock);
	spin_lock(&zone->lock);
}

void zone_unlock_all(struct zone *zone)
{
	spin_unlock(&zone->lock);
	if (zone->pcp)
		for (int cpu = zone->sys->nr_cpus - 1; cpu >= 0; cpu--)
			spin_unlock(&zone->pcp[cpu].lock);
}

#define HEAD_STATES                                                                                          \
	(PAGE_FLAG(PG_buddy) | PAGE_FLAG(PG_pcp) | PAGE_FLAG(PG_allocated) | PAGE_FLAG(PG_quarantined) |      \
	 PAGE_FLAG(PG_isolated))

static enum block_kind kind_of(uint32_t f)
{
	if (f & PAGE_FLAG(PG_buddy))
		return BK_FREE;
	if (f & PAGE_FLAG(PG_pcp))
		return BK_PCP;
	if (f & PAGE_FLAG(PG_allocated))
		return BK_ALLOCATED;
	if (f & PAGE_FLAG(PG_quarantined))
		return BK_QUARANTINED;
	if (f & PAGE_FLAG(PG_isolated))
		return BK_HELD;
	return BK_NONE;
}

/* A block containing pfn starts at pfn rounded down to its order; the
 * smallest such head that carries a state and an order reaching pfn is
 * it (heads never lie inside another block). */
void find_block(struct buddy_system *sys, struct zone *zone, uint64_t pfn, struct block_at *b)
{
	for (unsigned int o = 0; o <= sys->max_order; o++) {
		uint64_t head = pfn & ~((1ULL << o) - 1);
		if (head < zone->zone_start_pfn)
			break;
		const struct page *p = pfn_to_page(sys, head);
		uint32_t f = page_flags(p);
		if (!(f & HEAD_STATES))
			continue;
		if (p->order >= o && head + (1ULL << p->order) > pfn) {
			*b = (struct block_at){ .head = head, .order = p->order, .kind = kind_of(f), .flags = f };
			return;
		}
		/* A block of its own starts here and ends before pfn: no
		 * larger block can hold pfn without holding this head. */
		break;
	}
	*b = (struct block_at){ .head = pfn, .order = 0, .kind = BK_NONE,
				.flags = page_flags(pfn_to_page(sys, pfn)) };
}

/* The largest order a block at pfn may have inside [pfn, end) with one
 * pageblock type throughout (mt >= 0 forces that type on the caller). */
static unsigned int chunk_order(struct buddy_system *sys, uint64_t pfn, uint64_t end, bool check_types)
{
	unsigned int order = sys->max_order;

	while (order && ((pfn & ((1ULL << order) - 1)) || pfn + (1ULL << order) > end))
		order--;
	if (check_types && order > sys->pageblock_order) {
		int mt = get_pfnblock_migratetype(sys, pfn);
		for (uint64_t p = pfn + sys->pageblock_nr_pages; p < pfn + (1ULL << order); p += sys->pageblock_nr_pages)
			if (get_pfnblock_migratetype(sys, p) != mt)
				return sys->pageblock_order;
	}
	return order;
}

void free_pfn_range(struct zone *zone, uint64_t start, uint64_t end, int mt)
{
	struct buddy_system *sys = zone->sys;

	while (start < end) {
		unsigned int order = chunk_order(sys, start, end, mt < 0);
		__free_one_page(zone, pfn_to_page(sys, start), start, order,
				mt < 0 ? get_pfnblock_migratetype(sys, start) : mt);
		start += 1ULL << order;
	}
}

/* ---- retyping a range of pageblocks (zone locks held) ---- */

/* Split every free block above pageblock_order that overlaps [start, end)
 * into pageblocks of the same type, so that each pageblock's free pages
 * can change type on their own. */
static void split_large_free_blocks(struct zone *zone, uint64_t start, uint64_t end)
{
	struct buddy_system *sys = zone->sys;
	uint64_t pbn = sys->pageblock_nr_pages;

	for (uint64_t pb = start; pb < end; pb += pbn) {
		for (unsigned int o = sys->pageblock_order + 1; o <= sys->max_order; o++) {
			uint64_t head = pb & ~((1ULL << o) - 1);
			if (head < zone->zone_start_pfn)
				break;
			struct page *page = pfn_to_page(sys, head);
			if (!page_flag(page, PG_buddy))
				continue;
			if (page->order < o)
				break;
			unsigned int order = page->order;
			int mt = get_pfnblock_migratetype(sys, head);
			__del_from_free_list(zone, page, order, mt);
			for (uint64_t p = head; p < head + (1ULL << order); p += pbn)
				__add_to_free_list(zone, pfn_to_page(sys, p), sys->pageblock_order, mt, true);
			break;
		}
	}
}

/* move_freepages_block() for a pageblock no free block crosses. */
static void move_pageblock_free_pages(struct zone *zone, uint64_t pb, int old_mt, int new_mt)
{
	struct buddy_system *sys = zone->sys;

	for (uint64_t pfn = pb; pfn < pb + sys->pageblock_nr_pages;) {
		struct page *page = pfn_to_page(sys, pfn);
		if (!page_flag(page, PG_buddy)) {
			pfn++;
			continue;
		}
		unsigned int order = page->order;
		__del_from_free_list(zone, page, order, old_mt);
		__add_to_free_list(zone, page, order, new_mt, true);
		account_freepages(zone, -(1L << order), old_mt);
		account_freepages(zone, 1L << order, new_mt);
		pfn += 1ULL << order;
	}
}

/* Free every pageblock-sized free block of the MAX_ORDER-aligned window
 * around [start, end) again, so that it merges as far as the new types
 * let it (unset_migratetype_isolate's __putback_isolated_page). */
static void remerge_window(struct zone *zone, uint64_t start, uint64_t end)
{
	struct buddy_system *sys = zone->sys;
	uint64_t max_block = 1ULL << sys->max_order, pbn = sys->pageblock_nr_pages;
	uint64_t zs = zone->zone_start_pfn, ze = zs + zone->spanned_pages;
	uint64_t ws = start & ~(max_block - 1), we = (end + max_block - 1) & ~(max_block - 1);

	if (ws < zs)
		ws = pageblock_start(sys, zs);
	if (we > ze)
		we = ze;
	for (uint64_t pfn = ws; pfn < we; pfn += pbn) {
		if (pfn < zs)
			continue;
		struct page *page = pfn_to_page(sys, pfn);
		if (!page_flag(page, PG_buddy) || page->order != sys->pageblock_order)
			continue;
		int mt = get_pfnblock_migratetype(sys, pfn);
		__del_from_free_list(zone, page, sys->pageblock_order, mt);
		account_freepages(zone, -(long)pbn, mt);
		__free_one_page(zone, page, pfn, sys->pageblock_order, mt);
	}
}

/* has_unmovable_pages() for [start, end) inside one pageblock: the first
 * page that keeps the block from being isolated, or UINT64_MAX. */
static uint64_t has_unmovable_pages(struct buddy_system *sys, struct zone *zone, uint64_t start, uint64_t end,
				    int migratetype, int flags)
{
	int pb_mt = get_pfnblock_migratetype(sys, start);

	/* CMA allocations must isolate CMA blocks whatever they hold; the
	 * migration that follows finds out whether it can empty them. */
	if (is_migrate_cma(pb_mt))
		return is_migrate_cma(migratetype) ? UINT64_MAX : start;
	for (uint64_t pfn = start; pfn < end;) {
		struct block_at b;
		find_block(sys, zone, pfn, &b);
		switch (b.kind) {
		case BK_FREE:
		case BK_PCP:
		case BK_HELD:
			break;
		case BK_QUARANTINED:
			/* bad_page() keeps it for good, like PageReserved. */
			return pfn;
		case BK_ALLOCATED:
			/* ZONE_MOVABLE promises movability: only reserved pages
			 * count there.  Elsewhere only LRU blocks are movable:
			 * only for them is the owner published under a lock a
			 * migration can take. */
			if (zone->zid != ZONE_MOVABLE && !(b.flags & PAGE_FLAG(PG_lru)))
				return pfn;
			break;
		case BK_NONE:
			if (!(b.flags & PAGE_FLAG(PG_present)))
				return pfn;
			if ((flags & MEMORY_OFFLINE) &&
			    (b.flags & (PAGE_FLAG(PG_hwpoison) | PAGE_FLAG(PG_offline))))
				break;
			/* A poisoned page taken off the buddy holds a reference. */
			if (b.flags & (PAGE_FLAG(PG_hwpoison) | PAGE_FLAG(PG_offline)))
				return pfn;
			break;
		}
		pfn = b.kind == BK_NONE ? pfn + 1 : block_end(&b);
	}
	return UINT64_MAX;
}

/* Is a block that is not free cut by the pageblock edge at boundary?  The
 * kernel migrates such a compound page away or gives up (-EBUSY) in
 * isolate_single_pageblock; freeing it later would put one free block
 * across an isolated and a non-isolated pageblock. */
static bool busy_block_across(struct buddy_system *sys, struct zone *zone, uint64_t boundary)
{
	struct block_at b;

	if (boundary <= zone->zone_start_pfn || boundary >= zone->zone_start_pfn + zone->spanned_pages)
		return false;
	find_block(sys, zone, boundary, &b);
	return b.kind != BK_NONE && b.kind != BK_FREE && b.head < boundary;
}

static void report_unmovable(struct buddy_system *sys, uint64_t pfn)
{
	const struct page *page = pfn_to_page(sys, pfn);

	buddy_log(sys, "page: refcount:%d order:%u pfn:%#" PRIx64 " flags:%#x", page->refcount, page->order, pfn,
		  (unsigned)page_flags(page));
	buddy_log(sys, "page dumped because: unmovable page");
}

int start_isolate_page_range_locked(struct buddy_system *sys, struct zone *zone, uint64_t start, uint64_t end,
				    int migratetype, int flags)
{
	struct cma_state *cs = sys->cma;
	uint64_t iso_start = pageblock_start(sys, start), iso_end = pageblock_align_up(sys, end);
	uint64_t pbn = sys->pageblock_nr_pages, bad = UINT64_MAX;
	int ret = 0;

	zone_lock_all(zone);
	for (uint64_t pb = iso_start; pb < iso_end; pb += pbn) {
		/* Somebody else isolated it first. */
		if (is_migrate_isolate(get_pfnblock_migratetype(sys, pb))) {
			ret = -EBUSY;
			goto out;
		}
		uint64_t cs_start = pb > start ? pb : start, cs_end = pb + pbn < end ? pb + pbn : end;
		bad = has_unmovable_pages(sys, zone, cs_start, cs_end, migratetype, flags);
		if (bad != UINT64_MAX) {
			ret = -EBUSY;
			goto out;
		}
	}
	if (busy_block_across(sys, zone, iso_start) || busy_block_across(sys, zone, iso_end)) {
		ret = -EBUSY;
		goto out;
	}

	split_large_free_blocks(zone, iso_start, iso_end);
	for (uint64_t pb = iso_start; pb < iso_end; pb += pbn) {
		int old = get_pfnblock_migratetype(sys, pb);
		move_pageblock_free_pages(zone, pb, old, MIGRATE_ISOLATE);
		set_pageblock_migratetype(sys, pb, MIGRATE_ISOLATE);
		/* An isolated HIGHATOMIC block leaves the reserve; undo hands
		 * it back as an ordinary block. */
		if (is_migrate_highatomic(old)) {
			atomic_fetch_sub_explicit(&zone->nr_reserved_highatomic, pbn, memory_order_relaxed);
			old = migratetype < MIGRATE_PCPTYPES ? migratetype : MIGRATE_MOVABLE;
		}
		cs->saved_mt[pb >> sys->pageblock_order] = (uint8_t)old;
	}
	remerge_window(zone, iso_start, iso_end);
out:
	zone_unlock_all(zone);
	if (bad != UINT64_MAX && (flags & REPORT_FAILURE))
		report_unmovable(sys, bad);
	return ret;
}

void undo_isolate_page_range_locked(struct buddy_system *sys, struct zone *zone, uint64_t start, uint64_t end,
				    int migratetype)
{
	struct cma_state *cs = sys->cma;
	uint64_t iso_start = pageblock_start(sys, start), iso_end = pageblock_align_up(sys, end);
	uint64_t pbn = sys->pageblock_nr_pages;

	zone_lock_all(zone);
	split_large_free_blocks(zone, iso_start, iso_end);
	for (uint64_t pb = iso_start; pb < iso_end; pb += pbn) {
		if (!is_migrate_isolate(get_pfnblock_migratetype(sys, pb)))
			continue;
		uint8_t *saved = &cs->saved_mt[pb >> sys->pageblock_order];
		int mt = *saved;
		if (mt == SAVED_MT_NONE) {
			/* Only CMA blocks may be CMA: cma_pages must not change. */
			if (pfn_in_cma_area(sys, pb))
				mt = MIGRATE_CMA;
			else
				mt = is_migrate_cma(migratetype) ? MIGRATE_MOVABLE : migratetype;
		}
		/* Without mobility grouping the type folds to UNMOVABLE: the
		 * free pages follow the type the block really gets. */
		set_pageblock_migratetype(sys, pb, mt);
		move_pageblock_free_pages(zone, pb, MIGRATE_ISOLATE, get_pfnblock_migratetype(sys, pb));
		*saved = SAVED_MT_NONE;
	}
	remerge_window(zone, iso_start, iso_end);
	zone_unlock_all(zone);
}

int test_pages_isolated_locked(struct buddy_system *sys, struct zone *zone, uint64_t start, uint64_t end, int flags)
{
	for (uint64_t pb = pageblock_start(sys, start); pb < end; pb += sys->pageblock_nr_pages)
		if (!is_migrate_isolate(get_pfnblock_migratetype(sys, pb)))
			return -EBUSY;
	for (uint64_t pfn = start; pfn < end;) {
		struct block_at b;
		find_block(sys, zone, pfn, &b);
		if (b.kind == BK_FREE && is_migrate_isolate(get_pfnblock_migratetype(sys, b.head))) {
			pfn = block_end(&b);
			continue;
		}
		if (b.kind == BK_NONE && (flags & MEMORY_OFFLINE) && (b.flags & PAGE_FLAG(PG_present)) &&
		    (b.flags & PAGE_FLAG(PG_hwpoison))) {
			pfn++;
			continue;
		}
		return -EBUSY;
	}
	return 0;
}

/* ---- migration out of a range ---- */
#define MIGRATE_BATCH 32
#define MIGRATE_PASSES 5 /* __alloc_contig_migrate_range gives up on the 5th try */

/* alloc_migration_target(): the caller's reclaim behaviour, the source's
 * mobility, and ZONE_MOVABLE only for a source that lived there. */
static gfp_t migration_target_gfp(gfp_t base, const struct page *page)
{
	gfp_t gfp = base & ~(GFP_MOVABLE_MASK | GFP_ZONEMASK);

	if (page->alloc_mt == MIGRATE_MOVABLE) {
		gfp |= __GFP_MOVABLE;
		if (page->zid == ZONE_MOVABLE)
			gfp |= __GFP_HIGHMEM;
	} else if (page->alloc_mt == MIGRATE_RECLAIMABLE) {
		gfp |= __GFP_RECLAIMABLE;
	}
	return gfp;
}

/* Move one allocated block away: 0 when it left, -EAGAIN to try again,
 * -EBUSY when it cannot move at all, -ENOMEM without a target. */
static int evacuate_block(struct buddy_system *sys, uint64_t head_pfn, struct migrate_range_ctl *mc)
{
	struct page *page = pfn_to_page(sys, head_pfn);
	struct lruvec *lv = &sys->slow->lruvec[page->nid];
	struct buddy_mapping *m = NULL;

	/* The owner is published under the lru_lock (see oom_reap_task_mm). */
	pthread_mutex_lock(&lv->lock);
	if (page_flag(page, PG_lru))
		m = page->mapping;
	pthread_mutex_unlock(&lv->lock);
	if (!m) {
		/* Held by another migration, or nothing can move it. */
		return page_flag(page, PG_isolated) ? -EAGAIN : -EBUSY;
	}
	if (!isolate_allocated_page(sys, page))
		return -EAGAIN;
	if (page->mapping != m || page_flag(page, PG_freeing)) {
		/* Freed meanwhile (putback finishes that free), or freed and
		 * allocated again to someone else. */
		bool gone = page_flag(page, PG_freeing);
		putback_isolated_page(sys, page);
		return gone ? 0 : -EAGAIN;
	}
	unsigned int order = page->order;
	if (mc->reclaim_clean && page_flag(page, PG_mapped_file) && m->ops && m->ops->reclaim &&
	    !should_fail_site(sys, FAULT_SITE_RECLAIM) && m->ops->reclaim(m, page) == 0) {
		free_isolated_page(sys, page);
		return 0;
	}
	if (!m->ops || !m->ops->migrate) {
		putback_isolated_page(sys, page);
		return -EBUSY;
	}
	if (should_fail_site(sys, FAULT_SITE_MIGRATE_EAGAIN)) {
		count_vm_events(sys, PGMIGRATE_FAIL, 1);
		putback_isolated_page(sys, page);
		return -EAGAIN;
	}
	struct page *dst = buddy_alloc_pages_nodemask(sys, migration_target_gfp(mc->gfp, page), order, page->nid, 0);
	if (!dst) {
		putback_isolated_page(sys, page);
		return -ENOMEM;
	}
	uint64_t dpfn = page_to_pfn(sys, dst);
	if (dpfn < mc->avoid_end && dpfn + (1ULL << order) > mc->avoid_start) {
		/* A pcp list still held a page of the range; freeing it now
		 * sends it to the ISOLATE list, where it is wanted. */
		buddy_free_pages(sys, dst, order);
		putback_isolated_page(sys, page);
		return -EAGAIN;
	}
	if (migrate_isolated_page(sys, page, dst)) {
		buddy_free_pages(sys, dst, order);
		putback_isolated_page(sys, page);
		return -EAGAIN;
	}
	return 0;
}

int migrate_range(struct buddy_system *sys, struct zone *zone, struct migrate_range_ctl *mc)
{
	int ret = -EBUSY;

	for (int pass = 0; pass < MIGRATE_PASSES; pass++) {
		bool found = false;
		for (uint64_t pfn = mc->start; pfn < mc->end;) {
			uint64_t heads[MIGRATE_BATCH];
			int n = 0;

			zone_lock_all(zone);
			while (pfn < mc->end && n < MIGRATE_BATCH) {
				struct block_at b;
				find_block(sys, zone, pfn, &b);
				if (b.kind == BK_ALLOCATED)
					heads[n++] = b.head;
				pfn = b.kind == BK_NONE ? pfn + 1 : block_end(&b);
			}
			zone_unlock_all(zone);
			for (int i = 0; i < n; i++) {
				int rc = evacuate_block(sys, heads[i], mc);
				found = true;
				if (!rc) {
					mc->moved++;
					continue;
				}
				mc->failed++;
				/* migrate_pages() bails out on -ENOMEM, and so does
				 * __alloc_contig_migrate_range. */
				if (rc == -ENOMEM)
					return -ENOMEM;
			}
		}
		if (!found)
			return 0;
	}
	return ret;
}

/* ---- contiguous allocation ---- */

/* Hand [start, end) to the caller as order-0 allocated pages; the free
 * blocks around it that were only partly wanted go back to the ISOLATE
 * lists (isolate_freepages_range + split_free_pages + free the ends).
 * Every lock of the zone held; the range tested isolated. */
static void take_isolated_range(struct buddy_system *sys, struct zone *zone, uint64_t start, uint64_t end,
				int alloc_mt)
{
	for (uint64_t pfn = start; pfn < end;) {
		struct block_at b;
		find_block(sys, zone, pfn, &b);
		struct page *head = pfn_to_page(sys, b.head);
		uint64_t be = block_end(&b);
		__del_from_free_list(zone, head, b.order, MIGRATE_ISOLATE);
		account_freepages(zone, -(1L << b.order), MIGRATE_ISOLATE);
		if (b.head < start)
			free_pfn_range(zone, b.head, start, MIGRATE_ISOLATE);
		if (be > end)
			free_pfn_range(zone, end, be, MIGRATE_ISOLATE);
		uint64_t s = b.head > start ? b.head : start, e = be < end ? be : end;
		for (uint64_t p = s; p < e; p++)
			page_set_allocated(zone, pfn_to_page(sys, p), 0, alloc_mt);
		pfn = be;
	}
}

/* post_alloc_hook() for pages that never passed the allocation path. */
static void prep_contig_pages(struct buddy_system *sys, uint64_t start, uint64_t end, bool zero)
{
	if (!sys->backing)
		return;
	for (uint64_t pfn = start; pfn < end; pfn++) {
		uint64_t bad_pfn;
		size_t bad_offset;
		if (sys->opts.poison && backing_check_poison(sys, pfn, 0, &bad_pfn, &bad_offset)) {
			count_vm_events(sys, BUDDY_BAD_PAGE, 1);
			buddy_log(sys, "pagealloc: memory corruption at pfn %#" PRIx64 " offset %zu", bad_pfn,
				  bad_offset);
		}
		backing_on_alloc(sys, pfn, 0, zero);
	}
}

/* __alloc_contig_verify_gfp_mask(): placement hints are dropped, these
 * are honoured, anything else is refused. */
#define CONTIG_GFP_PLACEMENT                                                                                \
	(GFP_ZONEMASK | __GFP_RECLAIMABLE | __GFP_WRITE | __GFP_HARDWALL | __GFP_THISNODE | __GFP_MOVABLE)
#define CONTIG_GFP_RECLAIM (__GFP_IO | __GFP_FS | __GFP_RECLAIM)
#define CONTIG_GFP_ACTION                                                                                   \
	(__GFP_COMP | __GFP_RETRY_MAYFAIL | __GFP_NOWARN | __GFP_ZERO | __GFP_ZEROTAGS | __GFP_SKIP_ZERO |   \
	 __GFP_SKIP_KASAN)

/* alloc_contig_range() with the big lock held and the arguments checked. */
static int alloc_contig_range_locked(struct buddy_system *sys, struct zone *zone, uint64_t start, uint64_t end,
				     int migratetype, gfp_t gfp)
{
	uint64_t iso_start = pageblock_start(sys, start), iso_end = pageblock_align_up(sys, end);
	struct migrate_range_ctl mc = {
		.start = start,
		.end = end,
		.avoid_start = iso_start,
		.avoid_end = iso_end,
		/* The targets: movable, and never worth an OOM kill. */
		.gfp = (gfp & (CONTIG_GFP_RECLAIM | __GFP_NOWARN)) | __GFP_MOVABLE | __GFP_RETRY_MAYFAIL,
		.reclaim_clean = true,
	};
	int ret = start_isolate_page_range_locked(sys, zone, start, end, migratetype, 0);

	if (ret)
		return ret;
	buddy_drain_all_pages(sys);
	ret = migrate_range(sys, zone, &mc);
	/* -EBUSY falls through: the busy pages may have gone since, and
	 * test_pages_isolated has the last word. */
	if (ret && ret != -EBUSY)
		goto done;
	for (int tries = 0; tries < 2; tries++) {
		zone_lock_all(zone);
		ret = test_pages_isolated_locked(sys, zone, start, end, 0);
		if (!ret)
			take_isolated_range(sys, zone, start, end,
					    migratetype == MIGRATE_MOVABLE ? MIGRATE_MOVABLE : MIGRATE_UNMOVABLE);
		zone_unlock_all(zone);
		if (!ret)
			break;
		/* A free that raced the isolation may have parked a page of
		 * the range on a pcp list. */
		buddy_drain_all_pages(sys);
	}
done:
	undo_isolate_page_range_locked(sys, zone, start, end, migratetype);
	if (!ret)
		prep_contig_pages(sys, start, end, gfp & __GFP_ZERO);
	return ret;
}

/* The checks every entry point makes on a range: inside one zone's span,
 * no hole, nothing offline. */
static struct zone *checked_range(struct buddy_system *sys, uint64_t start, uint64_t end)
{
	if (!sys || start >= end || end > sys->max_pfn)
		return NULL;
	struct zone *zone = zone_of_range(sys, pageblock_start(sys, start), pageblock_align_up(sys, end));
	if (!zone || range_has_hole(sys, start, end) || range_has_offline(sys, start, end))
		return NULL;
	return zone;
}

int buddy_alloc_contig_range(struct buddy_system *sys, uint64_t start_pfn, uint64_t end_pfn, int migratetype,
			     gfp_t gfp)
{
	struct zone *zone;
	int ret;

	if (!sys || !sys->cma)
		return -EINVAL;
	if (migratetype != MIGRATE_MOVABLE && migratetype != MIGRATE_CMA)
		return -EINVAL;
	gfp &= ~CONTIG_GFP_PLACEMENT;
	if (gfp & ~(CONTIG_GFP_RECLAIM | CONTIG_GFP_ACTION))
		return -EINVAL;
	/* A compound contig allocation is not modelled. */
	if (gfp & __GFP_COMP)
		return -EINVAL;
	pthread_mutex_lock(&sys->cma->lock);
	/* Offline state changes only under the lock: look again with it. */
	zone = checked_range(sys, start_pfn, end_pfn);
	ret = zone ? alloc_contig_range_locked(sys, zone, start_pfn, end_pfn, migratetype, gfp) : -EINVAL;
	pthread_mutex_unlock(&sys->cma->lock);
	return ret;
}

/* Every page of [pfn, pfn + nr) an order-0 allocated page nobody is
 * freeing: what free_contig_range may free. */
static bool contig_pages_allocated(struct buddy_system *sys, uint64_t pfn, uint64_t nr)
{
	if (!nr || pfn >= sys->max_pfn || nr > sys->max_pfn - pfn)
		return false;
	for (uint64_t p = pfn; p < pfn + nr; p++) {
		const struct page *page = pfn_to_page(sys, p);
		uint32_t f = page_flags(page);
		if ((f & (PAGE_FLAG(PG_allocated) | PAGE_FLAG(PG_present))) !=
			    (PAGE_FLAG(PG_allocated) | PAGE_FLAG(PG_present)) ||
		    (f & (PAGE_FLAG(PG_freeing) | PAGE_FLAG(PG_tail) | PAGE_FLAG(PG_head))))
			return false;
		/* The caller owns these pages: nobody else writes their order. */
		if (page->order != 0)
			return false;
	}
	return true;
}

void buddy_free_contig_range(struct buddy_system *sys, uint64_t pfn, uint64_t nr_pages)
{
	if (!sys)
		return;
	if (!contig_pages_allocated(sys, pfn, nr_pages)) {
		buddy_log(sys, "free_contig_range: [%#" PRIx64 ", +%" PRIu64 ") is not a range of allocated order-0 pages",
			  pfn, nr_pages);
		return;
	}
	for (uint64_t p = pfn; p < pfn + nr_pages; p++)
		buddy_free_pages(sys, pfn_to_page(sys, p), 0);
}

/* ---- isolation, public ---- */
int buddy_start_isolate_page_range(struct buddy_system *sys, uint64_t start_pfn, uint64_t end_pfn)
{
	int ret;

	if (!sys || !sys->cma)
		return -EINVAL;
	pthread_mutex_lock(&sys->cma->lock);
	struct zone *zone = checked_range(sys, start_pfn, end_pfn);
	if (!zone) {
		ret = -EINVAL;
	} else {
		/* What a caller isolating a CMA area passes (cma_alloc). */
		bool cma = pfn_in_cma_area(sys, start_pfn);
		for (uint64_t pb = pageblock_start(sys, start_pfn); cma && pb < end_pfn; pb += sys->pageblock_nr_pages)
			cma = pfn_in_cma_area(sys, pb);
		ret = start_isolate_page_range_locked(sys, zone, start_pfn, end_pfn,
						      cma ? MIGRATE_CMA : MIGRATE_MOVABLE, 0);
	}
	pthread_mutex_unlock(&sys->cma->lock);
	return ret;
}

int buddy_undo_isolate_page_range(struct buddy_system *sys, uint64_t start_pfn, uint64_t end_pfn, int migratetype)
{
	int ret = 0;

	if (!sys || !sys->cma)
		return -EINVAL;
	if (migratetype != MIGRATE_UNMOVABLE && migratetype != MIGRATE_MOVABLE && migratetype != MIGRATE_RECLAIMABLE &&
	    migratetype != MIGRATE_CMA)
		return -EINVAL;
	pthread_mutex_lock(&sys->cma->lock);
	struct zone *zone = checked_range(sys, start_pfn, end_pfn);
	if (!zone)
		ret = -EINVAL;
	/* Only a range that is wholly isolated can be undone. */
	for (uint64_t pb = pageblock_start(sys, start_pfn); !ret && pb < end_pfn; pb += sys->pageblock_nr_pages)
		if (!is_migrate_isolate(get_pfnblock_migratetype(sys, pb)))
			ret = -EINVAL;
	if (!ret)
		undo_isolate_page_range_locked(sys, zone, start_pfn, end_pfn, migratetype);
	pthread_mutex_unlock(&sys->cma->lock);
	return ret;
}

/* ---- CMA ---- */
static bool bit_test(const uint64_t *map, uint64_t bit)
{
	return map[bit / 64] >> (bit % 64) & 1;
}

static void bits_assign(uint64_t *map, uint64_t bit, uint64_t nr, bool set)
{
	for (uint64_t b = bit; b < bit + nr; b++) {
		if (set)
			map[b / 64] |= 1ULL << (b % 64);
		else
			map[b / 64] &= ~(1ULL << (b % 64));
	}
}

/* bitmap_find_next_zero_area_off(): the first clear run of nr bits at or
 * after start whose index plus offset is a multiple of mask + 1; size or
 * more when there is none. */
static uint64_t find_zero_area(const uint64_t *map, uint64_t size, uint64_t start, uint64_t nr, uint64_t mask,
			       uint64_t offset)
{
	for (;;) {
		uint64_t index = start;
		while (index < size && bit_test(map, index))
			index++;
		index = ((index + offset + mask) & ~mask) - offset;
		uint64_t end = index + nr;
		if (end > size)
			return end;
		uint64_t i = index;
		while (i < end && !bit_test(map, i))
			i++;
		if (i == end)
			return index;
		start = i + 1;
	}
}

struct page *buddy_cma_alloc(struct buddy_system *sys, int cma_area, uint64_t count, unsigned int align_order)
{
	if (!sys || !sys->cma || cma_area < 0 || cma_area >= sys->cma->nr_areas || !count || align_order > 40)
		return NULL;
	struct cma_state *cs = sys->cma;
	struct cma_area_state *a = &cs->area[cma_area];
	/* cma_bitmap_aligned_mask / _offset with order_per_bit 0 */
	uint64_t mask = (1ULL << align_order) - 1;
	uint64_t offset = (((a->base_pfn + mask) & ~mask) - a->base_pfn) & mask;
	uint64_t start = 0;
	struct page *page = NULL;
	int ret = -ENOMEM;

	for (;;) {
		pthread_mutex_lock(&cs->bitmap_lock);
		if (count > a->available) {
			pthread_mutex_unlock(&cs->bitmap_lock);
			break;
		}
		uint64_t bit = find_zero_area(a->bitmap, a->count, start, count, mask, offset);
		if (bit >= a->count || bit + count > a->count) {
			pthread_mutex_unlock(&cs->bitmap_lock);
			break;
		}
		/* Ours now: the lock can go while the range is emptied. */
		bits_assign(a->bitmap, bit, count, true);
		a->available -= count;
		pthread_mutex_unlock(&cs->bitmap_lock);

		uint64_t pfn = a->base_pfn + bit;
		ret = buddy_alloc_contig_range(sys, pfn, pfn + count, MIGRATE_CMA, GFP_KERNEL);
		if (!ret) {
			page = pfn_to_page(sys, pfn);
			break;
		}
		pthread_mutex_lock(&cs->bitmap_lock);
		bits_assign(a->bitmap, bit, count, false);
		a->available += count;
		pthread_mutex_unlock(&cs->bitmap_lock);
		if (ret != -EBUSY)
			break;
		/* Try again a little further on. */
		start = bit + mask + 1;
	}
	if (page) {
		count_vm_events(sys, CMA_ALLOC_SUCCESS, 1);
	} else {
		count_vm_events(sys, CMA_ALLOC_FAIL, 1);
		buddy_log(sys, "cma_alloc: cma%d: alloc failed, req-size: %" PRIu64 " pages, ret: %d", cma_area, count,
			  ret);
	}
	return page;
}

bool buddy_cma_release(struct buddy_system *sys, int cma_area, struct page *pages, uint64_t count)
{
	if (!sys || !sys->cma || cma_area < 0 || cma_area >= sys->cma->nr_areas || !pages || !count)
		return false;
	struct cma_state *cs = sys->cma;
	struct cma_area_state *a = &cs->area[cma_area];
	uintptr_t base = (uintptr_t)sys->mem_map, p = (uintptr_t)pages;

	if (p < base || p >= base + sys->mem_map_bytes || (p - base) % sizeof(struct page))
		return false;
	uint64_t pfn = page_to_pfn(sys, pages);
	/* cma_pages_valid() */
	if (pfn < a->base_pfn || pfn >= a->base_pfn + a->count || count > a->base_pfn + a->count - pfn)
		return false;
	if (!contig_pages_allocated(sys, pfn, count))
		return false;
	/* Claim the bits first, so that of two racing releases of the same
	 * pages only one frees them. */
	pthread_mutex_lock(&cs->bitmap_lock);
	bool all_set = true;
	for (uint64_t b = pfn - a->base_pfn; b < pfn - a->base_pfn + count && all_set; b++)
		all_set = bit_test(a->bitmap, b);
	if (all_set) {
		bits_assign(a->bitmap, pfn - a->base_pfn, count, false);
		a->available += count;
	}
	pthread_mutex_unlock(&cs->bitmap_lock);
	if (!all_set)
		return false;
	for (uint64_t q = pfn; q < pfn + count; q++)
		buddy_free_pages(sys, pfn_to_page(sys, q), 0);
	return true;
}
