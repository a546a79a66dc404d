/* The buddy core and the allocation entry points (mm/page_alloc.c): free
 * lists, expand, __free_one_page, __rmqueue, rmqueue, get_page_from_freelist,
 * the beginning of the slow path, the free path and bad_page(). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sched.h>

#include "compaction.h"
#include "fault_inject.h"
#include "internal.h"
#include "isolation.h"
#include "oom_kill.h"
#include "bugs.h"

/* ---- free lists ---- */
/* The list and block state of a free-list change, without the zone's
 * free_pages_mt[] sum: a split or a merge changes that sum once for all
 * its levels (zone->lock held throughout, so nobody sees the levels).
 * track is sys->track_touched, which a split or merge reads once: the
 * compiler would reload it after every byte store of a level. */
static inline void add_to_free_list_unsummed(struct zone *zone, struct page *page, unsigned int order, int mt,
					     bool tail, bool track)
{
	struct free_area *area = &zone->free_area[order];

	if (tail)
		list_add_tail(&page->lru, &area->free_list[mt]);
	else
		list_add(&page->lru, &area->free_list[mt]);
	counter_add_locked(&area->nr_free, 1);
	counter_add_locked(&area->nr_free_mt[mt], 1);
	set_page_order(page, order);
	page->free_mt = (uint8_t)mt;
	page_flags_store_locked(page, page_flags(page) | PAGE_FLAG(PG_buddy));
	if (track)
		touch_log_add(&zone->touched, page_to_pfn(zone->sys, page));
}

static inline void del_from_free_list_unsummed(struct zone *zone, struct page *page, unsigned int order, int mt,
					       bool track)
{
	struct free_area *area = &zone->free_area[order];

	list_del(&page->lru);
	page_flags_store_locked(page, page_flags(page) & ~PAGE_FLAG(PG_buddy));
	set_page_order(page, 0);
	counter_add_locked(&area->nr_free, -1);
	counter_add_locked(&area->nr_free_mt[mt], -1);
	if (track)
		touch_log_add(&zone->touched, page_to_pfn(zone->sys, page));
}

void __add_to_free_list(struct zone *zone, struct page *page, unsigned int order, int mt, bool tail)
{
	add_to_free_list_unsummed(zone, page, order, mt, tail, zone->sys->track_touched);
	zone_counter_add_locked(&zone->free_pages_mt[mt], 1L << order);
}

void __del_from_free_list(struct zone *zone, struct page *page, unsigned int order, int mt)
{
	del_from_free_list_unsummed(zone, page, order, mt, zone->sys->track_touched);
	zone_counter_add_locked(&zone->free_pages_mt[mt], -(1L << order));
}

void account_freepages(struct zone *zone, long nr_pages, int mt)
{
	if (is_migrate_isolate(mt))
		return;
	zone_counter_add_locked(&zone->vm_stat[NR_FREE_PAGES], nr_pages);
	if (is_migrate_cma(mt))
		zone_counter_add_locked(&zone->vm_stat[NR_FREE_CMA_PAGES], nr_pages);
#ifdef BUDDY_BUG_HIGHATOMIC_FREE_DRIFT
	else if (is_migrate_highatomic(mt) && nr_pages > 0)
#else
	else if (is_migrate_highatomic(mt))
#endif
		zone_counter_add_locked(&zone->nr_free_highatomic, nr_pages);
}

/* expand(): split a block of order high down to order low, putting the
 * upper halves back on the free lists.  Returns the pages put back.
 * Forced inline: a call costs about what a level does. */
static inline __attribute__((always_inline)) unsigned long expand_unsummed(struct zone *zone, struct page *page,
									    unsigned int low, unsigned int high, int mt,
									    bool track)
{
	unsigned long size = 1UL << high, nr_added = 0;

	while (high > low) {
		high--;
		size >>= 1;
		add_to_free_list_unsummed(zone, &page[size], high, mt, false, track);
		nr_added += size;
	}
	return nr_added;
}

unsigned long expand(struct zone *zone, struct page *page, unsigned int low, unsigned int high, int mt)
{
	unsigned long nr_added = expand_unsummed(zone, page, low, high, mt, zone->sys->track_touched);

	zone_counter_add_locked(&zone->free_pages_mt[mt], (long)nr_added);
	return nr_added;
}

void page_del_and_expand(struct zone *zone, struct page *page, unsigned int low, unsigned int high, int mt)
{
	long nr_pages = 1L << high;
	bool track = zone->sys->track_touched;

	del_from_free_list_unsummed(zone, page, high, mt, track);
	unsigned long nr_added = expand_unsummed(zone, page, low, high, mt, track);
	/* The block left its list and its upper halves went back. */
	zone_counter_add_locked(&zone->free_pages_mt[mt], (long)nr_added - nr_pages);
#ifndef BUDDY_BUG_EXPAND_ACCOUNT
	nr_pages -= (long)nr_added;
#endif
	account_freepages(zone, -nr_pages, mt);
}

struct page *__rmqueue_smallest(struct zone *zone, unsigned int order, int mt)
{
	const unsigned int max_order = zone->sys->max_order;

	/* Only list heads are looked at until one is not empty: a step from
	 * one order's list to the next is a pointer increment. */
	struct free_area *area = &zone->free_area[order];
	for (unsigned int current_order = order; current_order <= max_order; current_order++, area++) {
		struct list_head *head = &area->free_list[mt];
		if (list_empty(head))
			continue;
		struct page *page = container_of(head->next, struct page, lru);
		page_del_and_expand(zone, page, order, current_order, mt);
		return page;
	}
	return NULL;
}

enum rmqueue_mode { RMQUEUE_NORMAL, RMQUEUE_CMA, RMQUEUE_CLAIM, RMQUEUE_STEAL };

/* Keep movable allocations balanced between CMA and the rest once more
 * than half the free memory is CMA: such a request tries CMA first. */
static inline __attribute__((always_inline)) struct page *__rmqueue_cma_first(struct zone *zone, unsigned int order,
										 unsigned int alloc_flags)
{
	if ((alloc_flags & ALLOC_CMA) &&
	    zone_page_state(zone, NR_FREE_CMA_PAGES) > zone_page_state(zone, NR_FREE_PAGES) / 2)
		return __rmqueue_smallest(zone, order, MIGRATE_CMA);
	return NULL;
}

/* __rmqueue(): the requested type first, then fallbacks in increasing order
 * of fragmentation risk.  *mode remembers how far a bulk refill had to go so
 * that the next page of the same refill starts there. */
struct page *__rmqueue(struct zone *zone, unsigned int order, int mt, unsigned int alloc_flags, int *mode)
{
	struct page *page = __rmqueue_cma_first(zone, order, alloc_flags);

	if (page)
		return page;
	switch (*mode) {
	case RMQUEUE_NORMAL:
		page = __rmqueue_smallest(zone, order, mt);
		if (page)
			return page;
		/* fall through */
	case RMQUEUE_CMA:
#ifdef BUDDY_BUG_CMA_UNMOVABLE
		if (1) {
#else
		if (alloc_flags & ALLOC_CMA) {
#endif
			page = __rmqueue_smallest(zone, order, MIGRATE_CMA);
			if (page) {
				*mode = RMQUEUE_CMA;
				return page;
			}
		}
		/* fall through */
	case RMQUEUE_CLAIM:
		page = __rmqueue_fallback_claim(zone, order, mt, alloc_flags);
		if (page) {
			*mode = RMQUEUE_NORMAL;
			return page;
		}
		/* fall through */
	case RMQUEUE_STEAL:
		if (!(alloc_flags & ALLOC_NOFRAGMENT)) {
			page = __rmqueue_fallback_steal(zone, order, mt);
			if (page) {
				*mode = RMQUEUE_STEAL;
				return page;
			}
		}
	}
	return NULL;
}

/* ---- freeing into the buddy lists ---- */
/* What finding a buddy needs, loaded once per free: the merge's own byte
 * stores might alias the instance's fields for the compiler, and none of
 * these changes after creation. */
struct buddy_finder {
	struct page *mem_map;
	uint64_t max_pfn;
	unsigned int nid_zid; /* the zone's nid and zid, as two adjacent bytes of a page read */
};

static inline struct buddy_finder buddy_finder_of(const struct zone *zone)
{
	return (struct buddy_finder){
		.mem_map = zone->sys->mem_map,
		.max_pfn = zone->sys->max_pfn,
		.nid_zid = (uint8_t)zone->nid | (unsigned int)(uint8_t)zone->zid << 8,
	};
}

static inline struct page *find_buddy_page(const struct buddy_finder *bf, uint64_t pfn, unsigned int order,
					   uint64_t *buddy_pfn)
{
	uint64_t bpfn = pfn ^ (1ULL << order);

	if (bpfn >= bf->max_pfn)
		return NULL;
	struct page *buddy = &bf->mem_map[bpfn];
#ifdef BUDDY_BUG_ZONE_MERGE
	if (!page_flag(buddy, PG_buddy) || buddy->order != order)
#else
	if (!page_flag(buddy, PG_buddy) || buddy->order != order ||
	    (buddy->nid | (unsigned int)buddy->zid << 8) != bf->nid_zid)
#endif
		return NULL;
	if (buddy_pfn)
		*buddy_pfn = bpfn;
	return buddy;
}

/* A block whose next-larger buddy is free is likely to merge soon; putting
 * it at the tail keeps it from being handed out first. */
static bool buddy_merge_likely(const struct buddy_finder *bf, unsigned int max_order, uint64_t pfn,
			       unsigned int order)
{
	if (order >= max_order - 1)
		return false;
	uint64_t higher = pfn & ~(1ULL << order);
	return find_buddy_page(bf, higher, order + 1, NULL) != NULL;
}

void __free_one_page(struct zone *zone, struct page *page, uint64_t pfn, unsigned int order, int mt)
{
	struct buddy_system *sys = zone->sys;
	/* Loaded once, not at every level: see struct buddy_finder. */
	const struct buddy_finder bf = buddy_finder_of(zone);
	const unsigned int max_order = sys->max_order, pageblock_order = sys->pageblock_order;
	const bool track = sys->track_touched;
	/* Only this thread sets its capture control, and never from in here:
	 * one look serves every level. */
	const bool capturing = current_capture_control != NULL;
	uint64_t buddy_pfn;
	/* free_pages_mt[mt] for the buddies of this type that left their
	 * lists, settled once at the end. */
	long unsummed = 0;

	account_freepages(zone, 1L << order, mt);
#ifdef BUDDY_BUG_TOP_ORDER_MERGE
	while (order < max_order - 1) {
#else
	while (order < max_order) {
#endif
		/* A task compacting for this order takes the block as it forms. */
		if (capturing && __compaction_capture(zone, page, order, mt)) {
			zone_counter_add_locked(&zone->free_pages_mt[mt], unsummed);
			return;
		}
		struct page *buddy = find_buddy_page(&bf, pfn, order, &buddy_pfn);
		int buddy_mt = mt;
		if (!buddy)
			break;
		if (order >= pageblock_order) {
			buddy_mt = get_pfnblock_migratetype(sys, buddy_pfn);
			/* ISOLATE, CMA and HIGHATOMIC blocks keep to themselves. */
#ifndef BUDDY_BUG_MERGE_ISOLATED
			if (mt != buddy_mt && (!migratetype_is_mergeable(mt) || !migratetype_is_mergeable(buddy_mt)))
				break;
#endif
		}
		if (buddy_mt == mt) {
			del_from_free_list_unsummed(zone, buddy, order, mt, track);
			unsummed -= 1L << order;
		} else {
			__del_from_free_list(zone, buddy, order, buddy_mt);
			change_pageblock_range(sys, buddy_pfn, order, mt);
		}
		/* The merged block starts at the lower of the two. */
		pfn &= buddy_pfn;
		if (buddy < page)
			page = buddy;
		order++;
	}
	add_to_free_list_unsummed(zone, page, order, mt,
				  buddy_merge_likely(&bf, max_order, pfn, order), track);
	zone_counter_add_locked(&zone->free_pages_mt[mt], unsummed + (1L << order));
}

void free_one_page(struct zone *zone, struct page *page, uint64_t pfn, unsigned int order)
{
	spin_lock(&zone->lock);
	__free_one_page(zone, page, pfn, order, get_pfnblock_migratetype(zone->sys, pfn));
	spin_unlock(&zone->lock);
}

/* ---- page states ---- */
static const char *const page_flag_names[] = {
	"present", "buddy", "pcp", "allocated", "head", "tail", "quarantined", "offline",
	"hwpoison", "isolated", "lru", "movable", "freeing",
};

static void format_page_flags(uint32_t flags, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int bit = 0; bit < sizeof(page_flag_names) / sizeof(page_flag_names[0]); bit++) {
		if (!(flags & PAGE_FLAG(bit)))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "|" : "", page_flag_names[bit]);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

/* bad_page(): the kernel's report, then the page is kept away for good. */
static __attribute__((cold, noinline)) void report_bad_page(struct buddy_system *sys, const struct page *page,
							     const char *reason)
{
	char flags[160];
	uint64_t pfn = page_to_pfn(sys, page);

	format_page_flags(page_flags(page), flags, sizeof(flags));
	count_vm_events(sys, BUDDY_BAD_PAGE, 1);
	buddy_log(sys, "BUG: Bad page state in process cpu%d  pfn:%05" PRIx64, buddy_cpu_of_thread(sys), pfn);
	buddy_log(sys, "page: refcount:%d order:%u node:%u zone:%s pfn:%#" PRIx64, page->refcount, page->order,
		  page->nid, buddy_zone_name((enum zone_type)page->zid), pfn);
	buddy_log(sys, "flags: %#x(%s)", (unsigned)page_flags(page), flags);
	buddy_log(sys, "page dumped because: %s", reason);
}

/* Move an allocated (or being freed) block out of circulation.  The pages
 * stay accounted, as quarantined, so conservation still holds. */
static __attribute__((cold, noinline)) void quarantine_block(struct buddy_system *sys, struct page *page,
							      unsigned int order)
{
	struct zone *zone = page_zone(sys, page);
	uint32_t f;

	/* Off the LRU and uncharged first, as the kernel takes a page off the
	 * LRU before its free checks: the owner's task must stay destroyable. */
	owner_on_free(sys, page, order);
	spin_lock(&zone->lock);
	f = page_flags(page);
	while (!atomic_compare_exchange_weak_explicit(
		&page->flags, &f, (f & ~(PAGE_FLAG(PG_allocated) | PAGE_FLAG(PG_freeing))) | PAGE_FLAG(PG_quarantined),
		memory_order_relaxed, memory_order_relaxed))
		;
	set_page_order(page, order);
	mod_zone_page_state(zone, NR_ZONE_ALLOCATED, -(1L << order));
	mod_zone_page_state(zone, NR_ZONE_QUARANTINED, 1L << order);
	spin_unlock(&zone->lock);
}

/* prep_new_page(), the part that must happen under the lock that took the
 * block off its list: it becomes an allocated block.  The block was free,
 * so its flags change only under that lock (page_flags_store_locked). */
void page_set_allocated(struct zone *zone, struct page *page, unsigned int order, int alloc_mt)
{
	uint32_t set = PAGE_FLAG(PG_allocated) | (alloc_mt == MIGRATE_MOVABLE ? PAGE_FLAG(PG_movable_alloc) : 0);

	page_flags_store_locked(page, (page_flags(page) & ~(PAGE_FLAG(PG_buddy) | PAGE_FLAG(PG_pcp))) | set);
	set_page_order(page, order);
	atomic_store_explicit(&page->alloc_mt, (uint8_t)alloc_mt, memory_order_relaxed);
	page->refcount = 1;
	zone_counter_add_locked(&zone->vm_stat[NR_ZONE_ALLOCATED], 1L << order);
}

/* The reverse, under the lock of the list the block goes to; set_flags
 * (e.g. PG_pcp) are set in the same store.  The caller owns the block
 * (PG_freeing, or a compaction target nobody else knows), so its flags
 * change only under that lock (page_flags_store_locked). */
void page_clear_allocated_set(struct zone *zone, struct page *page, unsigned int order, uint32_t set_flags)
{
	const uint32_t clear = PAGE_FLAG(PG_allocated) | PAGE_FLAG(PG_freeing) | PAGE_FLAG(PG_head) |
			       PAGE_FLAG(PG_movable_alloc);

	page_flags_store_locked(page, (page_flags(page) & ~clear) | set_flags);
	page->refcount = 0;
	page->owner = 0;
	page->mapping = NULL;
	page->private_data = 0;
	zone_counter_add_locked(&zone->vm_stat[NR_ZONE_ALLOCATED], -(1L << order));
}

static void prep_compound_page(struct page *page, unsigned int order)
{
	set_page_flag(page, PG_head);
	for (uint32_t i = 1; i < (1U << order); i++) {
		struct page *tail = page + i;
		set_page_flag(tail, PG_tail);
		tail->head_offset = i;
	}
}

/* ---- rmqueue ---- */
static struct page *rmqueue_buddy(struct zone *zone, unsigned int order, unsigned int alloc_flags, int mt)
{
	struct page *page = NULL;

	spin_lock(&zone->lock);
	if (alloc_flags & ALLOC_HIGHATOMIC)
		page = __rmqueue_smallest(zone, order, MIGRATE_HIGHATOMIC);
	if (!page) {
		int mode = RMQUEUE_NORMAL;
		page = __rmqueue(zone, order, mt, alloc_flags, &mode);
		/* Failing an atomic or OOM allocation now is worse than failing
		 * a high-order atomic one later: let them at the reserve. */
		if (!page && (alloc_flags & (ALLOC_OOM | ALLOC_NON_BLOCK)))
			page = __rmqueue_smallest(zone, order, MIGRATE_HIGHATOMIC);
	}
	if (page)
		page_set_allocated(zone, page, order, mt);
	spin_unlock(&zone->lock);
	return page;
}

/* rmqueue_buddy() when __rmqueue() needs no fallback: the CMA balance, then
 * a block of the requested type.  NULL, with nothing changed, when neither
 * has one, so that the caller can take the general path as if this had
 * not been tried.  The fast flags never hold ALLOC_HIGHATOMIC, which
 * would try the reserve first. */
static inline __attribute__((always_inline)) struct page *rmqueue_buddy_fast(struct zone *zone, unsigned int order,
									       unsigned int alloc_flags, int mt)
{
	spin_lock(&zone->lock);
	struct page *page = __rmqueue_cma_first(zone, order, alloc_flags);
	if (!page)
		page = __rmqueue_smallest(zone, order, mt);
	if (page)
		page_set_allocated(zone, page, order, mt);
	spin_unlock(&zone->lock);
	return page;
}

static struct page *rmqueue(struct zone *zone, int cpu, unsigned int order, unsigned int alloc_flags, int mt)
{
	struct page *page = NULL;

	if (pcp_allowed_order(zone->sys, order))
		page = rmqueue_pcplist(zone, cpu, order, mt, alloc_flags);
	if (!page)
		page = rmqueue_buddy(zone, order, alloc_flags, mt);
	/* A boosted watermark wants kswapd; until it exists the flag only
	 * clears, as the kernel clears it on wake. */
	if ((alloc_flags & ALLOC_KSWAPD) && atomic_load_explicit(&zone->boosted_watermark, memory_order_relaxed))
		atomic_store_explicit(&zone->boosted_watermark, false, memory_order_relaxed);
	return page;
}

/* ---- get_page_from_freelist ---- */
struct alloc_context {
	struct zone **zonerefs;
	int nr_zonerefs;
	uint64_t nodemask;       /* 0: any node */
	int highest_zoneidx;
	int migratetype;
	int preferred;           /* index of the preferred zoneref, -1 if none */
	int cpu;
};

static bool zone_allowed(const struct alloc_context *ac, const struct zone *zone)
{
	if ((int)zone->zid > ac->highest_zoneidx)
		return false;
	return !ac->nodemask || (ac->nodemask & (1ULL << zone->nid));
}

static void first_zones_zonelist(struct alloc_context *ac)
{
	ac->preferred = -1;
	for (int i = 0; i < ac->nr_zonerefs; i++)
		if (zone_allowed(ac, ac->zonerefs[i])) {
			ac->preferred = i;
			return;
		}
}

static struct page *get_page_from_freelist(struct buddy_system *sys, gfp_t gfp, unsigned int order,
					   unsigned int alloc_flags, const struct alloc_context *ac)
{
	(void)gfp;
retry:;
	bool no_fallback = alloc_flags & ALLOC_NOFRAGMENT;
	if (ac->preferred < 0)
		return NULL;
	struct zone *preferred = ac->zonerefs[ac->preferred];
	for (int i = ac->preferred; i < ac->nr_zonerefs; i++) {
		struct zone *zone = ac->zonerefs[i];
		if (!zone_allowed(ac, zone))
			continue;
		/* Locality beats fragmentation avoidance: before going remote,
		 * retry locally allowing fragmenting fallbacks. */
		if (no_fallback && sys->nr_online_nodes > 1 && zone != preferred && zone->nid != preferred->nid) {
			alloc_flags &= ~ALLOC_NOFRAGMENT;
			goto retry;
		}
		if (!atomic_load_explicit(&zone->below_high, memory_order_relaxed)) {
			if (zone_watermark_fast(zone, order, wmark_pages(zone, WMARK_HIGH), ac->highest_zoneidx,
						alloc_flags, gfp))
				goto try_this_zone;
			atomic_store_explicit(&zone->below_high, true, memory_order_relaxed);
		}
		unsigned long mark = wmark_pages(zone, alloc_flags & ALLOC_WMARK_MASK);
		if (!zone_watermark_fast(zone, order, mark, ac->highest_zoneidx, alloc_flags, gfp)) {
			if (!(alloc_flags & ALLOC_NO_WATERMARKS))
				continue;
		}
try_this_zone:;
		struct page *page = rmqueue(zone, ac->cpu, order, alloc_flags, ac->migratetype);
		if (page) {
			if (alloc_flags & ALLOC_HIGHATOMIC)
				reserve_highatomic_pageblock(zone, page, order);
			return page;
		}
	}
	/* A UMA machine can get here with every zone fragmented. */
	if (no_fallback) {
		alloc_flags &= ~ALLOC_NOFRAGMENT;
		goto retry;
	}
	return NULL;
}

/* alloc_flags_nofragment(): avoid fragmenting fallbacks in ZONE_NORMAL
 * while a DMA32 zone could serve instead. */
static unsigned int alloc_flags_nofragment(struct buddy_system *sys, struct zone *zone, gfp_t gfp)
{
	unsigned int flags = (gfp & __GFP_KSWAPD_RECLAIM) ? ALLOC_KSWAPD : 0;

	if (!zone || zone->zid != ZONE_NORMAL)
		return flags;
	if (sys->nr_online_nodes > 1 && !populated_zone(&sys->nodes[zone->nid]->node_zones[ZONE_DMA32]))
		return flags;
	return flags | ALLOC_NOFRAGMENT;
}

/* gfp_to_alloc_flags_cma(): CMA only for a request whose effective type is
 * movable; with grouping by mobility off, that is none. */
static unsigned int cma_alloc_flags(const struct alloc_context *ac, unsigned int alloc_flags)
{
	if (ac->migratetype != MIGRATE_MOVABLE)
		alloc_flags &= ~ALLOC_CMA;
	return alloc_flags;
}

/* ---- the slow path (__alloc_pages_slowpath) ---- */
#define MAX_RECLAIM_RETRIES 16
#define MAX_COMPACT_RETRIES 16
/* The kernel loops on "progress" as long as it takes: other tasks free
 * memory meanwhile.  A model run may have nobody else to do so, so the
 * loops that only wait are bounded; hitting the bound is reported as the
 * stall the kernel would warn about. */
#define MAX_STALL_LOOPS 64

static void wake_all_kswapds(struct buddy_system *sys, gfp_t gfp, unsigned int order, const struct alloc_context *ac)
{
	int last_nid = -1;

	for (int i = 0; i < ac->nr_zonerefs; i++) {
		struct zone *zone = ac->zonerefs[i];
		if (!zone_allowed(ac, zone) || zone->nid == last_nid)
			continue;
		last_nid = zone->nid;
		wakeup_kswapd(sys, zone, gfp, order, ac->highest_zoneidx);
	}
}

/* __gfp_pfmemalloc_flags(): who may dip below min, and how far. */
static unsigned int gfp_pfmemalloc_flags(struct buddy_system *sys, gfp_t gfp)
{
	if (gfp & __GFP_NOMEMALLOC)
		return 0;
	if (gfp & __GFP_MEMALLOC)
		return ALLOC_NO_WATERMARKS;
	unsigned int task_flags = current_task_flags(sys);
	if (task_flags & BUDDY_TASK_MEMALLOC)
		return ALLOC_NO_WATERMARKS;
	if (oom_reserves_allowed(sys))
		return ALLOC_OOM;
	return 0;
}

static struct page *alloc_pages_direct_compact(struct buddy_system *sys, gfp_t gfp, unsigned int order,
					       unsigned int alloc_flags, struct alloc_context *ac,
					       enum compact_priority prio, int *compact_result)
{
	struct page *page = NULL;

	*compact_result = COMPACT_SKIPPED;
	if (!order)
		return NULL;
	*compact_result = try_to_compact_pages(sys, gfp, order, alloc_flags, ac->zonerefs, ac->nr_zonerefs,
					       ac->highest_zoneidx, ac->nodemask, prio, &page);
	if (*compact_result == COMPACT_SKIPPED)
		return NULL;
	count_vm_events(sys, COMPACTSTALL, 1);
	if (!page)
		page = get_page_from_freelist(sys, gfp, order, alloc_flags, ac);
	if (page) {
		/* Clears compact_blockskip_flush too, under the zone lock. */
		compaction_defer_reset(page_zone(sys, page), (int)order, true);
		count_vm_events(sys, COMPACTSUCCESS, 1);
		return page;
	}
	count_vm_events(sys, COMPACTFAIL, 1);
	return NULL;
}

static struct page *alloc_pages_direct_reclaim(struct buddy_system *sys, gfp_t gfp, unsigned int order,
					       unsigned int alloc_flags, struct alloc_context *ac,
					       unsigned long *did_some_progress)
{
	struct page *page;
	bool drained = false;

	*did_some_progress = try_to_free_pages(sys, gfp, order, ac->zonerefs, ac->nr_zonerefs, ac->highest_zoneidx,
					       ac->nodemask);
	if (!*did_some_progress)
		return NULL;
retry:
	page = get_page_from_freelist(sys, gfp, order, alloc_flags, ac);
	/* Pages may sit on the pcp lists or in the high-atomic reserve. */
	if (!page && !drained) {
		unreserve_highatomic_pageblock(sys, ac->zonerefs, ac->nr_zonerefs, ac->migratetype, false);
		buddy_drain_all_pages(sys);
		drained = true;
		goto retry;
	}
	return page;
}

/* should_reclaim_retry(): could reclaiming everything reclaimable get the
 * allocation over the min watermark in some zone? */
static bool should_reclaim_retry(struct buddy_system *sys, gfp_t gfp, unsigned int order,
				 const struct alloc_context *ac, unsigned int alloc_flags, bool did_some_progress,
				 int *no_progress_loops)
{
	(void)gfp;
	if (did_some_progress && order <= PAGE_ALLOC_COSTLY_ORDER)
		*no_progress_loops = 0;
	else
		(*no_progress_loops)++;
	if (*no_progress_loops > MAX_RECLAIM_RETRIES) {
		/* Before OOM, exhaust the high-atomic reserve. */
		return unreserve_highatomic_pageblock(sys, ac->zonerefs, ac->nr_zonerefs, ac->migratetype, true);
	}
	for (int i = ac->preferred < 0 ? 0 : ac->preferred; i < ac->nr_zonerefs; i++) {
		struct zone *zone = ac->zonerefs[i];
		if (!zone_allowed(ac, zone))
			continue;
		long available = (long)zone_reclaimable_pages(zone) + zone_page_state(zone, NR_FREE_PAGES);
		if (__zone_watermark_ok(zone, order, zone->_watermark[WMARK_MIN], ac->highest_zoneidx, alloc_flags,
					available))
			return zone_reclaimable_pages(zone) > 0 || did_some_progress;
	}
	return false;
}

/* should_compact_retry(): retry a failed compaction some, raising its
 * priority before giving up. */
static bool should_compact_retry(const struct alloc_context *ac, unsigned int order, int compact_result,
				 enum compact_priority *prio, int *compaction_retries)
{
	int max_retries = MAX_COMPACT_RETRIES;

	if (!order)
		return false;
	if (compact_result == COMPACT_SKIPPED) {
		/* Not enough free order-0 targets: retry if reclaim could give them. */
		return compaction_zonelist_suitable(ac->zonerefs, ac->nr_zonerefs, ac->highest_zoneidx, ac->nodemask,
						    (int)order);
	}
	if (compact_result == COMPACT_SUCCESS) {
		if (order > PAGE_ALLOC_COSTLY_ORDER)
			max_retries /= 4;
		if (++(*compaction_retries) <= max_retries)
			return true;
	}
	enum compact_priority min_priority =
		order > PAGE_ALLOC_COSTLY_ORDER ? MIN_COMPACT_COSTLY_PRIORITY : MIN_COMPACT_PRIORITY;
	if (*prio > min_priority) {
		(*prio)--;
		*compaction_retries = 0;
		return true;
	}
	return false;
}

/* __alloc_pages_may_oom(): one more try at the high watermark to catch a
 * parallel kill, then the OOM killer unless the request is one it cannot
 * help. */
static struct page *alloc_pages_may_oom(struct buddy_system *sys, gfp_t gfp, unsigned int order,
					struct alloc_context *ac, unsigned long *did_some_progress)
{
	struct page *page = NULL;

	*did_some_progress = 0;
	if (pthread_mutex_trylock(&sys->slow->oom_lock)) {
		/* Somebody else is killing for us. */
		*did_some_progress = 1;
		sched_yield();
		return NULL;
	}
	page = get_page_from_freelist(sys, (gfp | __GFP_HARDWALL) & ~__GFP_DIRECT_RECLAIM, order,
				      ALLOC_WMARK_HIGH | ALLOC_CPUSET, ac);
	if (page)
		goto out;
	if (order > PAGE_ALLOC_COSTLY_ORDER)
		goto out;
	if (gfp & (__GFP_RETRY_MAYFAIL | __GFP_THISNODE))
		goto out;
	if (ac->highest_zoneidx < ZONE_NORMAL)
		goto out;
	if (out_of_memory(sys, gfp, order, ac->nodemask) || (gfp & __GFP_NOFAIL)) {
		*did_some_progress = 1;
		if (gfp & __GFP_NOFAIL)
			page = get_page_from_freelist(sys, gfp, order, ALLOC_NO_WATERMARKS | ALLOC_CPUSET, ac);
	}
out:
	pthread_mutex_unlock(&sys->slow->oom_lock);
	return page;
}

/* Out of line and cold: inlined, its set-up would be hoisted into the fast
 * path of every allocation. */
static __attribute__((cold, noinline)) struct page *
alloc_pages_slowpath(struct buddy_system *sys, gfp_t gfp, unsigned int order, struct alloc_context *ac)
{
	bool can_direct_reclaim = gfp & __GFP_DIRECT_RECLAIM;
	bool costly_order = order > PAGE_ALLOC_COSTLY_ORDER;
	unsigned int task_flags = current_task_flags(sys);
	unsigned int alloc_flags;
	unsigned long did_some_progress;
	enum compact_priority compact_priority = INIT_COMPACT_PRIORITY;
	int compact_result = COMPACT_SKIPPED, compaction_retries = 0, no_progress_loops = 0, stall_loops = 0;
	struct page *page;

	alloc_flags = cma_alloc_flags(ac, buddy_gfp_to_alloc_flags(gfp, task_flags));
	if (!order)
		alloc_flags &= ~ALLOC_HIGHATOMIC;
	if (alloc_flags & ALLOC_KSWAPD)
		wake_all_kswapds(sys, gfp, order, ac);
	page = get_page_from_freelist(sys, gfp, order, alloc_flags & ~ALLOC_NO_WATERMARKS, ac);
	if (page)
		return page;

	/* Costly orders and non-movable high orders try compaction before
	 * reclaim: reclaim alone rarely makes a contiguous block. */
	if (can_direct_reclaim && (costly_order || (order > 0 && ac->migratetype != MIGRATE_MOVABLE)) &&
	    !gfp_pfmemalloc_flags(sys, gfp)) {
		page = alloc_pages_direct_compact(sys, gfp, order, alloc_flags, ac, INIT_COMPACT_PRIORITY,
						  &compact_result);
		if (page)
			return page;
		if (costly_order && (gfp & __GFP_NORETRY)) {
			if (compact_result == COMPACT_SKIPPED || compact_result == COMPACT_DEFERRED)
				goto nopage;
			compact_priority = INIT_COMPACT_PRIORITY;
		}
	}

retry:
	if (alloc_flags & ALLOC_KSWAPD)
		wake_all_kswapds(sys, gfp, order, ac);
	unsigned int reserve_flags = gfp_pfmemalloc_flags(sys, gfp);
	if (reserve_flags)
		alloc_flags = reserve_flags | (alloc_flags & ALLOC_KSWAPD) |
			      (ac->migratetype == MIGRATE_MOVABLE ? ALLOC_CMA : 0);
	page = get_page_from_freelist(sys, gfp, order, alloc_flags, ac);
	if (page)
		return page;
	if (!can_direct_reclaim)
		goto nopage;
	/* A reclaimer's own allocations must not recurse into reclaim. */
	if (task_flags & BUDDY_TASK_MEMALLOC)
		goto nopage;

	page = alloc_pages_direct_reclaim(sys, gfp, order, alloc_flags, ac, &did_some_progress);
	if (page)
		return page;
	page = alloc_pages_direct_compact(sys, gfp, order, alloc_flags, ac, compact_priority, &compact_result);
	if (page)
		return page;
	if (gfp & __GFP_NORETRY)
		goto nopage;
	/* Costly orders retry only when the caller asked to. */
	if (costly_order && !(gfp & __GFP_RETRY_MAYFAIL))
		goto nopage;
	if (should_reclaim_retry(sys, gfp, order, ac, alloc_flags, did_some_progress > 0, &no_progress_loops))
		goto retry_bounded;
	if (did_some_progress > 0 &&
	    should_compact_retry(ac, order, compact_result, &compact_priority, &compaction_retries))
		goto retry_bounded;

	page = alloc_pages_may_oom(sys, gfp, order, ac, &did_some_progress);
	if (page)
		return page;
	/* An OOM victim with reserves already open has nowhere else to go. */
	if (oom_reserves_allowed(sys) && ((alloc_flags & ALLOC_OOM) || (gfp & __GFP_NOMEMALLOC)))
		goto nopage;
	if (did_some_progress) {
		no_progress_loops = 0;
		goto retry_bounded;
	}

nopage:
	if (gfp & __GFP_NOFAIL) {
		/* Blockable NOFAIL callers never see NULL in the kernel; give
		 * them some of the reserves and keep trying. */
		if (!can_direct_reclaim) {
			buddy_log(sys, "WARNING: __GFP_NOFAIL without __GFP_DIRECT_RECLAIM cannot be honoured");
			return NULL;
		}
		page = get_page_from_freelist(sys, gfp, order, ALLOC_MIN_RESERVE | ALLOC_CPUSET, ac);
		if (page)
			return page;
		goto retry_bounded;
	}
	return NULL;

retry_bounded:
	if (++stall_loops > MAX_STALL_LOOPS) {
		char gfp_text[BUDDY_GFP_STR_MAX];
		buddy_gfp_format(gfp, gfp_text, sizeof(gfp_text));
		count_vm_events(sys, BUDDY_ALLOC_STALL, 1);
		buddy_log(sys, "cpu%d: page allocation stalls after %d retries, order:%u, mode:%#x(%s): "
			  "the kernel would keep retrying%s", buddy_cpu_of_thread(sys), stall_loops - 1, order, gfp,
			  gfp_text, (gfp & __GFP_NOFAIL) ? " forever (__GFP_NOFAIL)" : "");
		return NULL;
	}
	goto retry;
}

/* ---- entry points ---- */
static __attribute__((cold, noinline)) void warn_alloc(struct buddy_system *sys, gfp_t gfp, unsigned int order,
							uint64_t nodemask, const char *why)
{
	char gfp_text[BUDDY_GFP_STR_MAX];

	if (gfp & __GFP_NOWARN)
		return;
	count_vm_events(sys, BUDDY_ALLOC_WARN, 1);
	buddy_gfp_format(gfp, gfp_text, sizeof(gfp_text));
	buddy_log(sys, "cpu%d: page allocation failure: order:%u, mode:%#x(%s), nodemask=%#" PRIx64 ": %s",
		  buddy_cpu_of_thread(sys), order, gfp, gfp_text, nodemask, why);
}

/* prepare_alloc_pages(): check the request and fill the context.  Returns 0
 * or a reason the request is invalid. */
static const char *prepare_alloc_pages(struct buddy_system *sys, gfp_t gfp, unsigned int order,
				       int preferred_nid, uint64_t nodemask, struct alloc_context *ac)
{
	enum zone_type highest;

	if (order > sys->max_order)
		return "order above MAX_PAGE_ORDER";
	if (gfp & ~__GFP_BITS_MASK)
		return "unknown GFP bits";
	if (buddy_gfp_zone(gfp, &highest))
		return "invalid GFP zone modifier combination (GFP_ZONE_BAD)";
	int mt = buddy_gfp_migratetype(gfp);
	if (mt < 0)
		return "__GFP_MOVABLE and __GFP_RECLAIMABLE together";
	ac->cpu = buddy_cpu_of_thread(sys);
	if (preferred_nid < 0)
		preferred_nid = sys->topo.cpu_to_node[ac->cpu];
	if (preferred_nid >= sys->nr_nodes)
		return "node id out of range";
	if (sys->nr_nodes < 64)
		nodemask &= (1ULL << sys->nr_nodes) - 1;
	struct pglist_data *pgdat = sys->nodes[preferred_nid];
#ifdef BUDDY_BUG_THISNODE_FALLBACK
	if (0) {
#else
	if (gfp & __GFP_THISNODE) {
#endif
		ac->zonerefs = pgdat->zonerefs_nofallback;
		ac->nr_zonerefs = pgdat->nr_zonerefs_nofallback;
	} else {
		ac->zonerefs = pgdat->zonerefs;
		ac->nr_zonerefs = pgdat->nr_zonerefs;
	}
	ac->nodemask = nodemask;
	ac->highest_zoneidx = highest;
	ac->migratetype = sys->page_group_by_mobility_disabled ? MIGRATE_UNMOVABLE : mt;
	first_zones_zonelist(ac);
	return NULL;
}

/* The part of prep_new_page() done outside any lock: contents. */
static bool prep_new_page_contents(struct buddy_system *sys, struct page *page, unsigned int order, gfp_t gfp)
{
	uint64_t pfn = page_to_pfn(sys, page);

	if (sys->backing) {
		if (sys->opts.poison) {
			uint64_t bad_pfn;
			size_t bad_offset;
			if (backing_check_poison(sys, pfn, order, &bad_pfn, &bad_offset)) {
				char reason[96];
				snprintf(reason, sizeof(reason),
					 "pagealloc: memory corruption at pfn %#" PRIx64 " offset %zu",
					 bad_pfn, bad_offset);
				report_bad_page(sys, pfn_to_page(sys, bad_pfn), reason);
				quarantine_block(sys, page, order);
				return false;
			}
		}
		backing_on_alloc(sys, pfn, order, gfp & __GFP_ZERO);
	}
	if (gfp & __GFP_COMP && order)
		prep_compound_page(page, order);
	return true;
}

/* The common case, without the general path's generality: a block from
 * the preferred zone, off its pcp list for a pcp order, else off the free
 * lists of the requested type.  The steps are those of
 * get_page_from_freelist() and rmqueue() for the preferred zone, in their
 * order: the alloc flags, the watermark check (ZONE_BELOW_HIGH clear and
 * the high watermark met), then the pcp list or the zone.  Whenever one of
 * them would send the request another way -- the zone below high, the pcp
 * lock busy, the list empty and needing a refill, the zone needing a
 * fallback type -- it returns NULL having changed nothing, and the caller
 * runs the general path as if this had not been tried. */
static inline __attribute__((always_inline)) struct page *
alloc_pages_fast(gfp_t gfp, unsigned int order, struct zone *zone, int highest_zoneidx, int mt, int cpu,
		 bool owned_only)
{
	/* ALLOC_NOFRAGMENT is left out: only a fallback to another type
	 * looks at it (a pcp refill, __rmqueue() past the requested type),
	 * and this path takes none.  Nor is there ALLOC_HIGHATOMIC, so
	 * get_page_from_freelist() would reserve nothing.  ALLOC_CMA, for a
	 * movable request that gets a movable block, comes from mt, which
	 * says both. */
	unsigned int alloc_flags =
		(buddy_gfp_fast_alloc_flags(gfp) & ~ALLOC_CMA) | (mt == MIGRATE_MOVABLE ? ALLOC_CMA : 0);
	if (atomic_load_explicit(&zone->below_high, memory_order_relaxed))
		return NULL;
	unsigned long mark = wmark_pages(zone, WMARK_HIGH);
	long free_pages = zone_page_state(zone, NR_FREE_PAGES);
	struct page *page;
	if (pcp_allowed_order(zone->sys, order)) {
		if (owned_only) {
			/* No call: the whole check inline for orders above 0,
			 * and for order 0 its shortcut, which the general path,
			 * when that fails, follows with the rest of
			 * zone_watermark_fast(). */
			if (order ? !zone_watermark_ok_inline(zone, order, mark, highest_zoneidx, alloc_flags, free_pages)
				  : !zone_watermark_order0_clear(zone, free_pages, mark, highest_zoneidx, alloc_flags))
				return NULL;
		} else if (!(order == 0 &&
			     zone_watermark_order0_clear(zone, free_pages, mark, highest_zoneidx, alloc_flags)) &&
			   !zone_watermark_fast(zone, order, mark, highest_zoneidx, alloc_flags, gfp)) {
			return NULL;
		}
		page = rmqueue_pcplist_fast(zone, cpu, order, mt, owned_only);
	} else {
		/* The watermark's scan for a block of the order (order > 0
		 * here) needs no separate look: the block taken under the
		 * lock, of a pcp type or CMA that the flags allow, is one the
		 * scan would find; without one we give up anyway. */
		if (!zone_watermark_free_ok(zone, order, mark, highest_zoneidx, alloc_flags, free_pages))
			return NULL;
		page = rmqueue_buddy_fast(zone, order, alloc_flags, mt);
	}
	if (!page)
		return NULL;
	/* The rest of rmqueue(). */
	if ((alloc_flags & ALLOC_KSWAPD) && atomic_load_explicit(&zone->boosted_watermark, memory_order_relaxed))
		atomic_store_explicit(&zone->boosted_watermark, false, memory_order_relaxed);
	return page;
}

static const enum buddy_vm_event pgalloc_event[MAX_NR_ZONES] = {
	PGALLOC_DMA, PGALLOC_DMA32, PGALLOC_NORMAL, PGALLOC_MOVABLE,
};

/* Out of line so that the fast path's frame stays small. */
static __attribute__((noinline)) struct page *alloc_pages_general(struct buddy_system *sys, gfp_t gfp,
								  unsigned int order, int preferred_nid,
								  uint64_t nodemask)
{
	struct alloc_context ac;
	const char *invalid;
	struct page *page;

	invalid = prepare_alloc_pages(sys, gfp, order, preferred_nid, nodemask, &ac);
	if (invalid) {
		/* The kernel warns even under __GFP_NOWARN for a bad zone
		 * combination; an order too large honours NOWARN. */
		count_vm_events(sys, BUDDY_ALLOC_FAIL, 1);
		if (order > sys->max_order)
			warn_alloc(sys, gfp, order, nodemask, invalid);
		else
			warn_alloc(sys, gfp & ~__GFP_NOWARN, order, nodemask, invalid);
		return NULL;
	}
	/* sys->fault is NULL until fault injection is first configured. */
	if (sys->fault && should_fail_alloc_page(sys, gfp, order)) {
		count_vm_events(sys, BUDDY_ALLOC_FAIL, 1);
		warn_alloc(sys, gfp, order, nodemask, "injected failure (fail_page_alloc)");
		return NULL;
	}
	for (;;) {
		page = NULL;
		if (ac.preferred >= 0 && pcp_allowed_order(sys, order))
			page = alloc_pages_fast(gfp, order, ac.zonerefs[ac.preferred], ac.highest_zoneidx,
						ac.migratetype, ac.cpu, false);
		if (!page) {
			unsigned int alloc_flags =
				cma_alloc_flags(&ac, ALLOC_WMARK_LOW | buddy_gfp_fast_alloc_flags(gfp));
			if (ac.preferred >= 0)
				alloc_flags |= alloc_flags_nofragment(sys, ac.zonerefs[ac.preferred], gfp);
			page = get_page_from_freelist(sys, gfp, order, alloc_flags, &ac);
		}
		if (!page)
			page = alloc_pages_slowpath(sys, gfp, order, &ac);
		if (!page)
			break;
		/* check_new_pages(): a corrupted block is dropped and the
		 * allocation tried again, as the kernel loops. */
		if (prep_new_page_contents(sys, page, order, gfp))
			break;
	}
	if (!page) {
		count_vm_events(sys, BUDDY_ALLOC_FAIL, 1);
		warn_alloc(sys, gfp, order, nodemask, ac.preferred < 0 ? "no zone allowed" : "out of memory");
		return NULL;
	}
	count_vm_events_cpu(sys, ac.cpu, pgalloc_event[page->zid], 1UL << order);
	return page;
}

/* buddy_alloc_pages_nodemask() without the NULL check: inline for order 0,
 * for orders 1 to 3 and (out of line) for the rest, so that each copy is
 * compiled for its own orders. */
static inline __attribute__((always_inline)) struct page *
alloc_pages_try_fast(struct buddy_system *sys, gfp_t gfp, unsigned int order, int preferred_nid, uint64_t nodemask)
{
	/* What prepare_alloc_pages() and the checks before the first attempt
	 * come to for a plain request: a valid GFP without
	 * __GFP_THISNODE, no node mask, fault injection off and no backing
	 * memory to check or clear.  Anything else, bad requests included,
	 * goes the general way, which also reports them. */
	unsigned int facts = sys->gfp_fast[gfp & GFP_FAST_INDEX_MASK];
	if (__builtin_expect(order > sys->max_order ||
				     (gfp & (~__GFP_BITS_MASK | __GFP_THISNODE)) || nodemask ||
				     !(facts & GFP_FAST_VALID) || sys->backing || fault_inject_on(sys->fault),
			     0))
		return alloc_pages_general(sys, gfp, order, preferred_nid, nodemask);
	int highest = (int)(facts & GFP_FAST_ZONE_MASK);
	int cpu = buddy_cpu_of_thread(sys);
	int nid = preferred_nid < 0 ? sys->topo.cpu_to_node[cpu] : preferred_nid;
	struct zone *zone = nid < sys->nr_nodes ? sys->nodes[nid]->first_zone[highest] : NULL;
	int mt = (int)((facts >> GFP_FAST_MT_SHIFT) & GFP_FAST_MT_MASK);
	/* The pcp lock by the owner's way only: a thread that does not own
	 * it goes the general way, which takes the lock word. */
	struct page *page = zone ? alloc_pages_fast(gfp, order, zone, highest, mt, cpu, true) : NULL;
	if (__builtin_expect(!page, 0))
		return alloc_pages_general(sys, gfp, order, preferred_nid, nodemask);
	count_vm_events_cpu(sys, cpu, pgalloc_event[zone->zid], 1UL << order);
	/* All that prep_new_page_contents() does without backing memory, and
	 * it cannot fail then: no loop back as in alloc_pages_general(). */
	if ((gfp & __GFP_COMP) && order)
		prep_compound_page(page, order);
	return page;
}

static __attribute__((noinline)) struct page *alloc_pages_high_order(struct buddy_system *sys, gfp_t gfp,
								     unsigned int order, int preferred_nid,
								     uint64_t nodemask)
{
	return alloc_pages_try_fast(sys, gfp, order, preferred_nid, nodemask);
}

struct page *buddy_alloc_pages_nodemask(struct buddy_system *sys, gfp_t gfp, unsigned int order,
					int preferred_nid, uint64_t nodemask)
{
	if (!sys)
		return NULL;
	if (order > PAGE_ALLOC_COSTLY_ORDER)
		return alloc_pages_high_order(sys, gfp, order, preferred_nid, nodemask);
	if (order == 0)
		return alloc_pages_try_fast(sys, gfp, 0, preferred_nid, nodemask);
	return alloc_pages_try_fast(sys, gfp, order, preferred_nid, nodemask);
}

struct page *buddy_alloc_pages_mapping(struct buddy_system *sys, gfp_t gfp, unsigned int order, int preferred_nid,
				       uint64_t nodemask, struct buddy_mapping *mapping, uint64_t index)
{
	struct page *page = buddy_alloc_pages_nodemask(sys, gfp, order, preferred_nid, nodemask);

	if (page)
		owner_on_alloc(sys, page, order, mapping, index);
	return page;
}

struct page *buddy_alloc_pages(struct buddy_system *sys, gfp_t gfp, unsigned int order)
{
	return buddy_alloc_pages_nodemask(sys, gfp, order, -1, 0);
}

struct page *buddy_alloc_pages_node(struct buddy_system *sys, int nid, gfp_t gfp, unsigned int order)
{
	if (sys && (nid < -1 || nid >= sys->nr_nodes)) {
		count_vm_events(sys, BUDDY_ALLOC_FAIL, 1);
		warn_alloc(sys, gfp & ~__GFP_NOWARN, order, 0, "node id out of range");
		return NULL;
	}
	return buddy_alloc_pages_nodemask(sys, gfp, order, nid, 0);
}

size_t buddy_alloc_pages_bulk(struct buddy_system *sys, gfp_t gfp, int preferred_nid, uint64_t nodemask,
			      size_t nr_pages, struct page **array)
{
	struct alloc_context ac;
	size_t done = 0;

	if (!sys || !array || !nr_pages)
		return 0;
	if (prepare_alloc_pages(sys, gfp, 0, preferred_nid, nodemask, &ac) || ac.preferred < 0)
		return 0;
	/* Poison checks and zeroing need the per-page path. */
	if (!sys->backing && nr_pages > 1) {
		unsigned int alloc_flags = cma_alloc_flags(&ac, ALLOC_WMARK_LOW | buddy_gfp_fast_alloc_flags(gfp));
		for (int i = ac.preferred; i < ac.nr_zonerefs; i++) {
			struct zone *zone = ac.zonerefs[i];
			if (!zone_allowed(&ac, zone))
				continue;
			/* Only a zone with room for all of them above low. */
			if (!zone_watermark_fast(zone, 0, wmark_pages(zone, WMARK_LOW) + nr_pages, ac.highest_zoneidx,
						 alloc_flags, gfp))
				continue;
			done = rmqueue_pcplist_bulk(zone, ac.cpu, ac.migratetype, alloc_flags, nr_pages, array);
			for (size_t j = 0; j < done; j++)
				if (gfp & __GFP_ZERO && sys->backing)
					backing_on_alloc(sys, page_to_pfn(sys, array[j]), 0, true);
			if (done)
				count_vm_events(sys, pgalloc_event[zone->zid], done);
			break;
		}
	}
	/* The rest one by one, through the slow path if need be. */
	while (done < nr_pages) {
		struct page *page = buddy_alloc_pages_nodemask(sys, gfp, 0, preferred_nid, nodemask);
		if (!page)
			break;
		array[done++] = page;
	}
	return done;
}

/* ---- free ---- */
/* page is a page record of sys: then true, with its pfn. */
static inline bool page_pointer_pfn(const struct buddy_system *sys, const struct page *page, uint64_t *pfn)
{
	/* Below mem_map (NULL too) the difference wraps past mem_map_bytes. */
	uintptr_t off = (uintptr_t)page - (uintptr_t)sys->mem_map;

	if (off >= sys->mem_map_bytes || off % sizeof(struct page))
		return false;
	*pfn = off / sizeof(struct page);
	return true;
}

/* Claims the block with PG_freeing if its flags are still *f; else false
 * with *f updated. */
static inline bool free_pages_claim(struct page *page, uint32_t *f)
{
	/* Release too: when the free is deferred to an isolator, the owner's
	 * last use of the block must come before its free. */
	return atomic_compare_exchange_weak_explicit(&page->flags, f, *f | PAGE_FLAG(PG_freeing), memory_order_acq_rel,
						     memory_order_relaxed);
}

static int free_pages_check_claimed(struct buddy_system *sys, struct page *page, unsigned int order, uint32_t f);

/* free_pages_prepare(): the checks of a free.  Claims the block with
 * PG_freeing and returns 0; returns 1 when the block is isolated by a
 * migration or reclaim, which then finishes the free; on a bad page
 * reports it and returns a negative errno. */
static int free_pages_prepare(struct buddy_system *sys, struct page *page, unsigned int order)
{
	uint32_t f = page_flags(page);
	char reason[128];

	for (;;) {
		if (!(f & PAGE_FLAG(PG_present))) {
			report_bad_page(sys, page, "free of a pfn with no memory (hole)");
			return -EFAULT;
		}
		if (f & PAGE_FLAG(PG_tail)) {
			report_bad_page(sys, page, "free of a compound tail page");
			return -EINVAL;
		}
#ifdef BUDDY_BUG_DOUBLE_FREE
		if (!(f & (PAGE_FLAG(PG_allocated) | PAGE_FLAG(PG_pcp))) || (f & PAGE_FLAG(PG_freeing))) {
#else
		if (!(f & PAGE_FLAG(PG_allocated)) || (f & PAGE_FLAG(PG_freeing))) {
#endif
			const char *why = (f & PAGE_FLAG(PG_freeing)) ? "double free (a free of this page is under way)"
					  : (f & PAGE_FLAG(PG_buddy))   ? "double free (page is in the buddy free lists)"
					  : (f & PAGE_FLAG(PG_pcp))     ? "double free (page is on a pcp list)"
					  : (f & PAGE_FLAG(PG_quarantined)) ? "free of a page kept out by bad_page"
									    : "free of a page that is not allocated";
			report_bad_page(sys, page, why);
			return -EINVAL;
		}
		if (page->order != order) {
			snprintf(reason, sizeof(reason), "free with order %u of a block allocated with order %u", order,
				 page->order);
			report_bad_page(sys, page, reason);
			if (f & PAGE_FLAG(PG_isolated))
				return -EINVAL;
			/* Claim it to keep it out; a racing free may win instead. */
			if (atomic_compare_exchange_strong_explicit(&page->flags, &f, f | PAGE_FLAG(PG_freeing),
								    memory_order_acq_rel, memory_order_relaxed))
				quarantine_block(sys, page, page->order);
			return -EINVAL;
		}
		if (free_pages_claim(page, &f))
			break;
	}
	return free_pages_check_claimed(sys, page, order, f);
}

/* The rest of free_pages_prepare() once the block is claimed; f is its
 * flags before the claim. */
static int free_pages_check_claimed(struct buddy_system *sys, struct page *page, unsigned int order, uint32_t f)
{
	char reason[128];

	if (f & PAGE_FLAG(PG_isolated))
		return 1;
	/* The block is ours now. */
#ifdef BUDDY_BUG_DOUBLE_FREE
	if (page->refcount > 1) {
#else
	if (page->refcount != 1) {
#endif
		snprintf(reason, sizeof(reason), "nonzero _refcount after put (%d)", page->refcount - 1);
		report_bad_page(sys, page, reason);
		quarantine_block(sys, page, order);
		return -EINVAL;
	}
	if (f & PAGE_FLAG(PG_head)) {
		for (uint32_t i = 1; i < (1U << order); i++) {
			struct page *tail = page + i;
			if (!page_flag(tail, PG_tail) || tail->head_offset != i) {
				report_bad_page(sys, tail, "corrupted compound tail page");
				quarantine_block(sys, page, order);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* The end of a free that the pcp does not take: the block leaves the
 * allocated state and merges, under one hold of zone->lock.  Out of line:
 * inlined, its lock and call cost the pcp orders' free registers. */
static __attribute__((noinline)) void free_claimed_to_zone(struct zone *zone, struct page *page, uint64_t pfn,
							     unsigned int order)
{
	spin_lock(&zone->lock);
	page_clear_allocated(zone, page, order);
	__free_one_page(zone, page, pfn, order, get_pfnblock_migratetype(zone->sys, pfn));
	spin_unlock(&zone->lock);
}

void free_claimed_block(struct buddy_system *sys, struct page *page, unsigned int order)
{
	uint64_t pfn = page_to_pfn(sys, page);
	struct zone *zone = page_zone(sys, page);

	/* owner_on_free() has nothing to do for a block never owned. */
	if ((page_flags(page) & PAGE_FLAG(PG_lru)) || page->mapping)
		owner_on_free(sys, page, order);
	if (page_flag(page, PG_head))
		for (uint32_t i = 1; i < (1U << order); i++) {
			clear_page_flag(page + i, PG_tail);
			page[i].head_offset = 0;
		}
	if (sys->backing)
		backing_on_free(sys, pfn, order);
	int cpu = buddy_cpu_of_thread(sys);
	count_vm_events_cpu(sys, cpu, PGFREE, 1UL << order);
	/* The check's own first test, made here to spare the call. */
	if (hwpoison_in_use(sys) && free_pages_hwpoison_check(sys, page, order))
		return;
	if (pcp_allowed_order(sys, order) && free_unref_page(zone, cpu, page, order))
		return;
	free_claimed_to_zone(zone, page, pfn, order);
}

/* buddy_free_pages() for every block its fast path turns down before
 * claiming it: a bad pointer, order or block, a compound or lru block, a
 * race with another claim.  free_pages_prepare() makes every check. */
static __attribute__((noinline)) int free_pages_general(struct buddy_system *sys, struct page *page,
							unsigned int order)
{
	uint64_t pfn;

	if (!page || !page_pointer_pfn(sys, page, &pfn)) {
		count_vm_events(sys, BUDDY_BAD_PAGE, 1);
		buddy_log(sys, "BUG: free of %p: not a page record of this allocator", (void *)page);
		return -EFAULT;
	}
	if (order > sys->max_order) {
		report_bad_page(sys, page, "free with an order above MAX_PAGE_ORDER");
		return -EINVAL;
	}
	int ret = free_pages_prepare(sys, page, order);
	if (ret)
		return ret < 0 ? ret : 0;
	free_claimed_block(sys, page, order);
	return 0;
}

/* The rest of a free that the fast path claimed and then turned down,
 * having changed nothing but the claim; f is the flags before it. */
static __attribute__((noinline)) int free_claimed_general(struct buddy_system *sys, struct page *page,
							  unsigned int order, uint32_t f)
{
	int ret = free_pages_check_claimed(sys, page, order, f);

	if (ret)
		return ret < 0 ? ret : 0;
	free_claimed_block(sys, page, order);
	return 0;
}

/* The drain a fast free found due, pcp->lock still held by the owner's
 * way; out of line, as it is rare. */
static __attribute__((noinline)) int free_fast_drain(struct zone *zone, struct per_cpu_pages *pcp,
						     unsigned int order, int mt, int high, bool free_high)
{
	free_unref_page_drain(zone, pcp, order_to_pindex(zone->sys, mt, order), pcp->batch, high, free_high);
	spin_unlock_owned(&pcp->lock, SPIN_SLOT_PCP);
	count_vm_events(zone->sys, PGFREE, 1UL << order);
	return 0;
}

/* The usual free -- a valid, allocated block, not compound, lru, owned or
 * isolated, no backing memory to poison, no poisoned page in use anywhere,
 * for a pcp order the pcp lock this thread's by the owner's way -- is
 * free_pages_prepare() and free_claimed_block() with all that cannot
 * happen left out.  Where one of those does not hold, the general path
 * takes over as if this one had not been tried from that point. */
static inline __attribute__((always_inline)) int free_pages_try_fast(struct buddy_system *sys, struct page *page,
								     unsigned int order)
{
	const uint32_t look = PAGE_FLAG(PG_present) | PAGE_FLAG(PG_tail) | PAGE_FLAG(PG_allocated) |
			      PAGE_FLAG(PG_freeing) | PAGE_FLAG(PG_head) | PAGE_FLAG(PG_isolated) |
			      PAGE_FLAG(PG_lru);
	uint32_t f = 0;
	uint64_t pfn;
	if (__builtin_expect(!page || !page_pointer_pfn(sys, page, &pfn) || order > sys->max_order ||
				     ((f = page_flags(page)) & look) != (PAGE_FLAG(PG_present) | PAGE_FLAG(PG_allocated)) ||
				     page_order(page) != order || !free_pages_claim(page, &f),
			     0))
		return free_pages_general(sys, page, order);
	/* Claimed: the block is ours, and its owner fields stay put. */
	if (__builtin_expect(page->refcount != 1 || page->mapping || sys->backing || hwpoison_in_use(sys), 0))
		return free_claimed_general(sys, page, order, f);
	if (!pcp_allowed_order(sys, order)) {
		free_claimed_to_zone(page_zone(sys, page), page, pfn, order);
		count_vm_events(sys, PGFREE, 1UL << order);
		return 0;
	}
	/* free_unref_page() */
	int mt = pcp_free_migratetype(sys, pfn);
	if (mt < 0)
		return free_claimed_general(sys, page, order, f);
	int cpu = buddy_cpu_of_thread(sys);
	struct zone *zone = page_zone(sys, page);
	struct per_cpu_pages *pcp = &zone->pcp[cpu];
	if (!spin_trylock_owned(&pcp->lock, SPIN_SLOT_PCP))
		return free_claimed_general(sys, page, order, f);
	bool free_high;
	int high = free_unref_page_commit_add(zone, pcp, cpu, page, mt, order, &free_high);
	if (__builtin_expect(pcp->count >= high, 0))
		return free_fast_drain(zone, pcp, order, mt, high, free_high);
	spin_unlock_owned(&pcp->lock, SPIN_SLOT_PCP);
	count_vm_events_cpu(sys, cpu, PGFREE, 1UL << order);
	return 0;
}

/* As alloc_pages_high_order(). */
static __attribute__((noinline)) int free_pages_high_order(struct buddy_system *sys, struct page *page,
							   unsigned int order)
{
	return free_pages_try_fast(sys, page, order);
}

int buddy_free_pages(struct buddy_system *sys, struct page *page, unsigned int order)
{
	if (!sys)
		return -EINVAL;
	if (order > PAGE_ALLOC_COSTLY_ORDER)
		return free_pages_high_order(sys, page, order);
	if (order == 0)
		return free_pages_try_fast(sys, page, 0);
	return free_pages_try_fast(sys, page, order);
}
