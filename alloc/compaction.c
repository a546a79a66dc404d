/* Memory compaction (mm/compaction.c, Linux 6.x): per zone a migrate
 * scanner walking up from the bottom isolates movable allocated blocks, a
 * free scanner walking down from the top isolates free blocks as targets,
 * and migration moves the one into the other until the scanners meet or a
 * block of the wanted order is free.  Around it: compaction_suitable() and
 * the fragmentation index, deferral, pageblock skip hints, capture of the
 * freed block by the task that compacts for it, direct compaction for the
 * slow path, kcompactd with proactive compaction, and the explicit
 * compact-zone/node/memory calls.
 *
 * What the model leaves out, and why:
 *  - fast_find_migrateblock() and fast_isolate_freepages(): search
 *    heuristics over the free lists; the linear scanners they shortcut are
 *    here and decide the outcome.
 *  - too_many_isolated(): the model keeps no NR_ISOLATED_ANON/FILE.
 *  - compact_init_{migrate,free}_pfn: whole_zone is inferred from the
 *    migrate scanner starting at the zone's first pfn.
 *  - page->order of a block nobody holds is never read: it is written under
 *    locks this file does not hold (pcp lists), so the scanners step over
 *    free and foreign blocks one pfn at a time where the kernel reads the
 *    order racily.  They count scanned pages as the kernel does.
 *
 * Locks: zone->lock guards the zone's compact_* fields and every change of
 * an isolated free block; pageblock skip bits are also written under it
 * because the migratetype bits in the same byte are (a plain load/store
 * outside it could undo a concurrent retype).  Owner callbacks run with no
 * lock held. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bugs.h"
#include "compaction.h"
#include "fault_inject.h"

/* migrate_pages(): attempts per block before it counts as failed. */
#define NR_MAX_MIGRATE_PAGES_RETRY 10

struct compact_control {
	struct list_head freepages[MAX_PAGE_ORDER_LIMIT + 1]; /* isolated free blocks by order */
	struct list_head migratepages;                        /* isolated source blocks */
	unsigned long nr_freepages;
	unsigned long nr_migratepages;
	unsigned long total_migrate_scanned;
	unsigned long total_free_scanned;
	uint64_t free_pfn;
	uint64_t migrate_pfn;
	struct buddy_system *sys;
	struct zone *zone;
	gfp_t gfp_mask;
	int order;                 /* -1: the whole zone, as /proc/sys/vm/compact_memory */
	int migratetype;
	unsigned int alloc_flags;
	int highest_zoneidx;
	enum migrate_mode mode;
	bool ignore_skip_hint;
	bool no_set_skip_hint;
	bool ignore_block_suitable;
	bool direct_compaction;
	bool proactive_compaction;
	bool whole_zone;
	bool contended;
	bool finish_pageblock;
	int kthread_nid;           /* kcompactd's node, -1 for everyone else */
};

struct capture_control {
	struct compact_control *cc;
	struct page *page;
};

/* current->capture_control: set only while this thread runs direct
 * compaction, read by __free_one_page on the same thread. */
_Thread_local struct capture_control *current_capture_control;

typedef enum { ISOLATE_ABORT, ISOLATE_NONE, ISOLATE_SUCCESS } isolate_migrate_t;

/* ---- pfn arithmetic ---- */
static uint64_t zone_end_pfn(const struct zone *zone)
{
	return zone->zone_start_pfn + zone->spanned_pages;
}

static uint64_t pageblock_start_pfn(const struct buddy_system *sys, uint64_t pfn)
{
	return pfn & ~((uint64_t)sys->pageblock_nr_pages - 1);
}

static uint64_t pageblock_end_pfn(const struct buddy_system *sys, uint64_t pfn)
{
	return pageblock_start_pfn(sys, pfn) + sys->pageblock_nr_pages;
}

static bool pageblock_aligned(const struct buddy_system *sys, uint64_t pfn)
{
	return !(pfn & ((uint64_t)sys->pageblock_nr_pages - 1));
}

static uint64_t block_start_pfn(uint64_t pfn, int order)
{
	return pfn & ~((1ULL << order) - 1);
}

static uint64_t block_end_pfn(uint64_t pfn, int order)
{
	return block_start_pfn(pfn + (1ULL << order), order);
}

static bool is_migrate_movable(int mt)
{
	return mt == MIGRATE_MOVABLE || mt == MIGRATE_CMA;
}

/* pfn_to_online_page() restricted to the zone. */
static bool pfn_usable(struct zone *zone, uint64_t pfn)
{
	return pfn < zone->sys->max_pfn && zone_spans_pfn(zone, pfn) &&
	       page_flag(pfn_to_page(zone->sys, pfn), PG_present);
}

/* pageblock_pfn_to_page(): the first page of [start, end) when both ends
 * are memory of this zone. */
static struct page *pageblock_pfn_to_page(struct zone *zone, uint64_t start_pfn, uint64_t end_pfn)
{
	if (end_pfn <= start_pfn || !pfn_usable(zone, start_pfn) || !pfn_usable(zone, end_pfn - 1))
		return NULL;
	return pfn_to_page(zone->sys, start_pfn);
}

static int gfp_migratetype(const struct buddy_system *sys, gfp_t gfp)
{
	int mt = buddy_gfp_migratetype(gfp);

	if (mt < 0)
		mt = MIGRATE_MOVABLE;
	return sys->page_group_by_mobility_disabled ? MIGRATE_UNMOVABLE : mt;
}

/* A stopping kcompactd gives up like a task with a fatal signal pending. */
static bool fatal_signal_pending(const struct compact_control *cc)
{
	return cc->kthread_nid >= 0 &&
	       atomic_load_explicit(&cc->sys->slow->kcompactd_should_stop[cc->kthread_nid], memory_order_relaxed);
}

/* compact_lock_irqsave(): async compaction notes contention and gives up
 * after the current block; the lock is taken either way. */
static void compact_lock(spinlock_t *lock, struct compact_control *cc)
{
	if (cc->mode == MIGRATE_ASYNC && !cc->contended) {
		if (spin_trylock(lock))
			return;
		cc->contended = true;
	}
	spin_lock(lock);
}

/* ---- deferral ---- */
static void defer_compaction_locked(struct zone *zone, int order)
{
	zone->compact_considered = 0;
	zone->compact_defer_shift++;
	if (order < zone->compact_order_failed)
		zone->compact_order_failed = order;
	if (zone->compact_defer_shift > COMPACT_MAX_DEFER_SHIFT)
		zone->compact_defer_shift = COMPACT_MAX_DEFER_SHIFT;
}

void defer_compaction(struct zone *zone, int order)
{
	spin_lock(&zone->lock);
	defer_compaction_locked(zone, order);
	spin_unlock(&zone->lock);
}

bool compaction_deferred(struct zone *zone, int order)
{
	bool deferred = true;

	spin_lock(&zone->lock);
	unsigned long defer_limit = 1UL << zone->compact_defer_shift;
	if (order < zone->compact_order_failed) {
		deferred = false;
	} else if (++zone->compact_considered >= defer_limit) {
		/* Capped so the counter cannot overflow. */
		zone->compact_considered = (unsigned int)defer_limit;
		deferred = false;
	}
	spin_unlock(&zone->lock);
	return deferred;
}

void compaction_defer_reset(struct zone *zone, int order, bool alloc_success)
{
	spin_lock(&zone->lock);
	if (alloc_success) {
		zone->compact_considered = 0;
		zone->compact_defer_shift = 0;
		zone->compact_blockskip_flush = false;
	}
	if (order >= zone->compact_order_failed)
		zone->compact_order_failed = order + 1;
	spin_unlock(&zone->lock);
}

static bool compaction_restarting_locked(struct zone *zone, int order)
{
	if (order < zone->compact_order_failed)
		return false;
	return zone->compact_defer_shift == COMPACT_MAX_DEFER_SHIFT &&
	       zone->compact_considered >= 1UL << zone->compact_defer_shift;
}

bool compaction_restarting(struct zone *zone, int order)
{
	spin_lock(&zone->lock);
	bool restarting = compaction_restarting_locked(zone, order);
	spin_unlock(&zone->lock);
	return restarting;
}

/* ---- skip hints and cached scanner positions (zone->lock) ---- */
static bool isolation_suitable(struct compact_control *cc, uint64_t pfn)
{
	return cc->ignore_skip_hint || !get_pageblock_skip(cc->sys, pfn);
}

static void reset_cached_positions(struct zone *zone)
{
	zone->compact_cached_migrate_pfn[0] = zone->zone_start_pfn;
	zone->compact_cached_migrate_pfn[1] = zone->zone_start_pfn;
	zone->compact_cached_free_pfn = pageblock_start_pfn(zone->sys, zone_end_pfn(zone) - 1);
}

/* __reset_isolation_pfn(): clear the hint of a block that a sample shows
 * could be a source (an LRU page) or a target (a free page). */
static bool reset_isolation_pfn(struct zone *zone, uint64_t pfn, bool check_source, bool check_target)
{
	struct buddy_system *sys = zone->sys;

	if (!pfn_usable(zone, pfn))
		return false;
	if (check_source && check_target && !get_pageblock_skip(sys, pfn))
		return true;
	/* The free scanner must not restart in a block it would not use. */
	if (!check_source && check_target && get_pfnblock_migratetype(sys, pfn) != MIGRATE_MOVABLE)
		return false;

	uint64_t block_pfn = pageblock_start_pfn(sys, pfn);
	if (block_pfn < zone->zone_start_pfn)
		block_pfn = zone->zone_start_pfn;
	if (pfn_usable(zone, block_pfn))
		pfn = block_pfn;
	uint64_t end_pfn = pageblock_end_pfn(sys, pfn) - 1;
	if (end_pfn > zone_end_pfn(zone) - 1)
		end_pfn = zone_end_pfn(zone) - 1;
	if (!pfn_usable(zone, end_pfn))
		return false;

	for (; pfn <= end_pfn; pfn += 1ULL << PAGE_ALLOC_COSTLY_ORDER) {
		uint32_t f = page_flags(pfn_to_page(sys, pfn));
		if ((check_source && (f & PAGE_FLAG(PG_lru))) || (check_target && (f & PAGE_FLAG(PG_buddy)))) {
			set_pageblock_skip(sys, pfn, false);
			return true;
		}
	}
	return false;
}

/* __reset_isolation_suitable(), zone->lock held. */
static void reset_isolation_suitable_locked(struct zone *zone)
{
	struct buddy_system *sys = zone->sys;
	uint64_t migrate_pfn = zone->zone_start_pfn;
	uint64_t free_pfn = zone_end_pfn(zone) - 1;
	uint64_t reset_migrate = free_pfn, reset_free = migrate_pfn;
	bool source_set = false, free_set = false;

	if (!zone->compact_blockskip_flush)
		return;
	zone->compact_blockskip_flush = false;

	for (; migrate_pfn < free_pfn;
	     migrate_pfn += sys->pageblock_nr_pages, free_pfn -= sys->pageblock_nr_pages) {
		if (reset_isolation_pfn(zone, migrate_pfn, true, source_set) && migrate_pfn < reset_migrate) {
			source_set = true;
			reset_migrate = migrate_pfn;
			zone->compact_cached_migrate_pfn[0] = reset_migrate;
			zone->compact_cached_migrate_pfn[1] = reset_migrate;
		}
		if (reset_isolation_pfn(zone, free_pfn, free_set, true) && free_pfn > reset_free) {
			free_set = true;
			reset_free = free_pfn;
			zone->compact_cached_free_pfn = reset_free;
		}
		if (free_pfn < sys->pageblock_nr_pages)
			break;
	}
	/* Leave no distance if no suitable block was reset. */
	if (reset_migrate >= reset_free) {
		zone->compact_cached_migrate_pfn[0] = migrate_pfn;
		zone->compact_cached_migrate_pfn[1] = migrate_pfn;
		zone->compact_cached_free_pfn = free_pfn;
	}
}

void reset_isolation_suitable(struct buddy_system *sys, int nid)
{
	if (!sys || nid < 0 || nid >= sys->nr_nodes)
		return;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = &sys->nodes[nid]->node_zones[z];
		if (!populated_zone(zone))
			continue;
		spin_lock(&zone->lock);
		reset_isolation_suitable_locked(zone);
		spin_unlock(&zone->lock);
	}
}

/* test_and_set_skip(): claim a block for this scan; true if another scan
 * (or an earlier failure) had already marked it. */
static bool test_and_set_skip(struct compact_control *cc, uint64_t pfn)
{
	if (cc->ignore_skip_hint)
		return false;
	spin_lock(&cc->zone->lock);
	bool skip = get_pageblock_skip(cc->sys, pfn);
	if (!skip && !cc->no_set_skip_hint)
		set_pageblock_skip(cc->sys, pfn, true);
	spin_unlock(&cc->zone->lock);
	return skip;
}

static void set_skip_locked_out(struct compact_control *cc, uint64_t pfn)
{
	spin_lock(&cc->zone->lock);
	set_pageblock_skip(cc->sys, pfn, true);
	spin_unlock(&cc->zone->lock);
}

static void update_cached_migrate(struct compact_control *cc, uint64_t pfn)
{
	struct zone *zone = cc->zone;

	if (cc->no_set_skip_hint)
		return;
	pfn = pageblock_end_pfn(cc->sys, pfn);
	spin_lock(&zone->lock);
	if (pfn > zone->compact_cached_migrate_pfn[0])
		zone->compact_cached_migrate_pfn[0] = pfn;
	if (cc->mode != MIGRATE_ASYNC && pfn > zone->compact_cached_migrate_pfn[1])
		zone->compact_cached_migrate_pfn[1] = pfn;
	spin_unlock(&zone->lock);
}

/* update_pageblock_skip(): nothing to isolate in the block; remember it and
 * let the free scanner restart below it. */
static void update_pageblock_skip(struct compact_control *cc, uint64_t block_pfn, uint64_t pfn)
{
	struct zone *zone = cc->zone;

	if (cc->no_set_skip_hint)
		return;
	spin_lock(&zone->lock);
	set_pageblock_skip(cc->sys, block_pfn, true);
	if (pfn < zone->compact_cached_free_pfn)
		zone->compact_cached_free_pfn = pfn;
	spin_unlock(&zone->lock);
}

/* ---- fragmentation (mm/vmstat.c) ---- */
struct contig_page_info {
	unsigned long free_pages;
	unsigned long free_blocks_total;
	unsigned long free_blocks_suitable;
};

static void fill_contig_page_info(struct zone *zone, unsigned int suitable_order, struct contig_page_info *info)
{
	*info = (struct contig_page_info){ 0 };
	for (unsigned int order = 0; order <= zone->sys->max_order; order++) {
		/* Lockless: the counts only steer a heuristic. */
		unsigned long blocks = counter_read(&zone->free_area[order].nr_free);
		info->free_blocks_total += blocks;
		info->free_pages += blocks << order;
		if (order >= suitable_order)
			info->free_blocks_suitable += blocks << (order - suitable_order);
	}
}

static int __fragmentation_index(unsigned int order, const struct contig_page_info *info)
{
	unsigned long requested = 1UL << order;

	if (!info->free_blocks_total)
		return 0;
	/* The index only means something when the request would fail. */
	if (info->free_blocks_suitable)
		return -1000;
	return 1000 - (int)((1000 + info->free_pages * 1000 / requested) / info->free_blocks_total);
}

int fragmentation_index(struct zone *zone, unsigned int order)
{
	struct contig_page_info info;

	if (order > zone->sys->max_order)
		return 0;
	fill_contig_page_info(zone, order, &info);
	return __fragmentation_index(order, &info);
}

unsigned int extfrag_for_order(struct zone *zone, unsigned int order)
{
	struct contig_page_info info;

	fill_contig_page_info(zone, order, &info);
	if (!info.free_pages)
		return 0;
	return (unsigned int)((info.free_pages - (info.free_blocks_suitable << order)) * 100 / info.free_pages);
}

/* COMPACTION_HPAGE_ORDER is HPAGE_PMD_ORDER, which is the pageblock order
 * of a THP kernel; the model's configurable pageblock order plays it. */
unsigned int fragmentation_score_zone(struct zone *zone)
{
	return extfrag_for_order(zone, zone->sys->pageblock_order);
}

/* Weighted by size so that small zones never push the node over the mark. */
static unsigned int fragmentation_score_zone_weighted(struct zone *zone)
{
	struct pglist_data *pgdat = zone->sys->nodes[zone->nid];
	uint64_t score = zone->present_pages * fragmentation_score_zone(zone);

	return (unsigned int)(score / (pgdat->node_present_pages + 1));
}

unsigned int fragmentation_score_node(struct buddy_system *sys, int nid)
{
	unsigned int score = 0;

	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = &sys->nodes[nid]->node_zones[z];
		if (populated_zone(zone))
			score += fragmentation_score_zone_weighted(zone);
	}
	return score;
}

static unsigned int fragmentation_score_wmark(bool low)
{
	/* Capped so that a proactiveness near 100 does not compact forever. */
	unsigned int wmark_low = 100U - SYSCTL_COMPACTION_PROACTIVENESS;

	if (wmark_low < 5U)
		wmark_low = 5U;
	if (low)
		return wmark_low;
	return wmark_low + 10 < 100U ? wmark_low + 10 : 100U;
}

/* The kernel asks whether the kswapd task is running; the model's nearest
 * fact is a kswapd wakeup still being served. */
static bool kswapd_is_running(struct buddy_system *sys, int nid)
{
	return atomic_load_explicit(&sys->slow->kswapd_wanted[nid], memory_order_relaxed);
}

static bool should_proactive_compact_node(struct buddy_system *sys, int nid)
{
	if (!SYSCTL_COMPACTION_PROACTIVENESS || kswapd_is_running(sys, nid))
		return false;
	return fragmentation_score_node(sys, nid) > fragmentation_score_wmark(false);
}

/* ---- suitability ---- */
static bool __compaction_suitable(struct zone *zone, int order, int highest_zoneidx, long wmark_target)
{
	/* Order-0 watermark plus room for the migration targets; costly
	 * orders ask for low rather than min to improve their chances. */
	unsigned long watermark = order > PAGE_ALLOC_COSTLY_ORDER ? wmark_pages(zone, WMARK_LOW)
								   : wmark_pages(zone, WMARK_MIN);
	watermark += compact_gap(order < 0 ? 0 : (unsigned int)order);
	return __zone_watermark_ok(zone, 0, watermark, highest_zoneidx, ALLOC_CMA, wmark_target);
}

bool compaction_suitable(struct zone *zone, int order, int highest_zoneidx)
{
	bool suitable = __compaction_suitable(zone, order, highest_zoneidx, zone_page_state(zone, NR_FREE_PAGES));

	/* For costly orders only compact when a failure would be due to
	 * fragmentation rather than lack of memory. */
	if (suitable && order > PAGE_ALLOC_COSTLY_ORDER) {
		int fragindex = fragmentation_index(zone, (unsigned int)order);
		if (fragindex >= 0 && fragindex <= SYSCTL_EXTFRAG_THRESHOLD)
			suitable = false;
	}
	return suitable;
}

bool compaction_zonelist_suitable(struct zone **zonerefs, int nr_zonerefs, int highest_zoneidx, uint64_t nodemask,
				  int order)
{
	for (int i = 0; i < nr_zonerefs; i++) {
		struct zone *zone = zonerefs[i];
		if ((int)zone->zid > highest_zoneidx || (nodemask && !(nodemask & (1ULL << zone->nid))))
			continue;
		/* Not all of the reclaimable memory: one high-order request is
		 * not worth thrashing for. */
		long available = (long)(zone_reclaimable_pages(zone) / (unsigned long)(order > 0 ? order : 1));
		available += zone_page_state(zone, NR_FREE_PAGES);
		if (__compaction_suitable(zone, order, highest_zoneidx, available))
			return true;
	}
	return false;
}

/* ---- the free scanner ---- */
/* __isolate_free_page(), zone->lock held: take a free block off its list as
 * an isolated free block (ACCOUNTING.md).  0 when the zone is too low on
 * free memory to give it away. */
static unsigned long isolate_free_block(struct zone *zone, struct page *page, uint64_t pfn, unsigned int order)
{
	struct buddy_system *sys = zone->sys;
	int mt = get_pfnblock_migratetype(sys, pfn);

	/* Obey the watermark as if the block were being allocated: a raised
	 * order-0 check stands in for the high-order one. */
	unsigned long watermark = zone->_watermark[WMARK_MIN] + (1UL << order);
	if (!__zone_watermark_ok(zone, 0, watermark, 0, ALLOC_CMA, zone_page_state(zone, NR_FREE_PAGES)))
		return 0;

	__del_from_free_list(zone, page, order, mt);
	account_freepages(zone, -(1L << order), mt);
	/* A block of half a pageblock or more makes its pageblocks movable
	 * targets for good.  Without mobility grouping every pageblock is
	 * UNMOVABLE and set_pageblock_migratetype would keep it so, leaving
	 * the moved free pages on the wrong list. */
	if (order + 1 >= sys->pageblock_order && !sys->page_group_by_mobility_disabled) {
		uint64_t end = pfn + (1ULL << order);
		for (uint64_t p = pfn; p < end; p += sys->pageblock_nr_pages) {
			int pb_mt = get_pfnblock_migratetype(sys, p);
			if (migratetype_is_mergeable(pb_mt) && pb_mt != MIGRATE_MOVABLE)
				move_freepages_block(zone, p, pb_mt, MIGRATE_MOVABLE);
		}
	}
	page->order = (uint8_t)order;
	set_page_flag(page, PG_isolated);
	mod_zone_page_state(zone, NR_ZONE_ISOLATED, 1L << order);
	return 1UL << order;
}

/* isolate_freepages_block() for compaction (never strict). */
static unsigned long isolate_freepages_block(struct compact_control *cc, uint64_t *start_pfn, uint64_t end_pfn,
					     unsigned int stride)
{
	struct buddy_system *sys = cc->sys;
	struct zone *zone = cc->zone;
	unsigned long nr_scanned = 0, total_isolated = 0;
	uint64_t blockpfn = *start_pfn;
	bool locked = false;

	for (; blockpfn < end_pfn; blockpfn += stride) {
		/* Drop the lock now and then for the allocators waiting on it. */
		if (!(blockpfn % COMPACT_CLUSTER_MAX)) {
			if (locked) {
				spin_unlock(&zone->lock);
				locked = false;
			}
			if (fatal_signal_pending(cc)) {
				cc->contended = true;
				break;
			}
		}
		nr_scanned++;
		struct page *page = pfn_to_page(sys, blockpfn);
		if (!page_flag(page, PG_buddy))
			continue;
		if (!locked) {
			compact_lock(&zone->lock, cc);
			locked = true;
			if (!page_flag(page, PG_buddy))
				continue;
		}
		/* An isolated pageblock belongs to whoever isolated it. */
		if (is_migrate_isolate(get_pfnblock_migratetype(sys, blockpfn)))
			continue;
		unsigned int order = page->order;
		unsigned long isolated = isolate_free_block(zone, page, blockpfn, order);
		if (!isolated)
			break;
		list_add_tail(&page->lru, &cc->freepages[order]);
		nr_scanned += isolated - 1;
		total_isolated += isolated;
		cc->nr_freepages += isolated;
		if (cc->nr_migratepages <= cc->nr_freepages) {
			blockpfn += isolated;
			break;
		}
		blockpfn += isolated - 1;
	}
	if (locked)
		spin_unlock(&zone->lock);
	if (blockpfn > end_pfn)
		blockpfn = end_pfn;
	*start_pfn = blockpfn;
	cc->total_free_scanned += nr_scanned;
	if (total_isolated)
		count_vm_events(sys, COMPACTISOLATED, total_isolated);
	return total_isolated;
}

/* suitable_migration_target(): a block worth taking free pages from. */
static bool suitable_migration_target(struct compact_control *cc, uint64_t pfn)
{
	int mt = get_pfnblock_migratetype(cc->sys, pfn);

	/* Never from a range somebody has isolated, whatever the priority. */
	if (is_migrate_isolate(mt))
		return false;
	/* A free pageblock is what compaction wants to create; breaking it
	 * up for targets is pointless.  The order of a free page is stable
	 * under the zone lock only. */
	struct page *page = pfn_to_page(cc->sys, pfn);
	if (page_flag(page, PG_buddy)) {
		spin_lock(&cc->zone->lock);
		bool large = page_flag(page, PG_buddy) && page->order >= cc->sys->pageblock_order;
		spin_unlock(&cc->zone->lock);
		if (large)
			return false;
	}
	if (cc->ignore_block_suitable)
		return true;
	return is_migrate_movable(mt);
}

static bool compact_scanners_met(const struct compact_control *cc)
{
	unsigned int pbo = cc->sys->pageblock_order;

#ifdef BUDDY_BUG_COMPACT_SCANNERS_CROSS
	return (cc->free_pfn >> pbo) < (cc->migrate_pfn >> pbo);
#else
	return (cc->free_pfn >> pbo) <= (cc->migrate_pfn >> pbo);
#endif
}

/* isolate_freepages(): walk down from the free scanner's position to the
 * pageblock above the migrate scanner, until enough targets are held. */
static void isolate_freepages(struct compact_control *cc)
{
	struct buddy_system *sys = cc->sys;
	struct zone *zone = cc->zone;
	uint64_t isolate_start_pfn = cc->free_pfn;
	uint64_t block_start = pageblock_start_pfn(sys, isolate_start_pfn);
	uint64_t block_end = block_start + sys->pageblock_nr_pages;
	uint64_t low_pfn = pageblock_end_pfn(sys, cc->migrate_pfn);
	unsigned int stride = cc->mode == MIGRATE_ASYNC ? COMPACT_CLUSTER_MAX : 1;

	if (block_end > zone_end_pfn(zone))
		block_end = zone_end_pfn(zone);
	for (; block_start >= low_pfn;
	     block_end = block_start, block_start -= sys->pageblock_nr_pages, isolate_start_pfn = block_start) {
		if (!pageblock_pfn_to_page(zone, block_start, block_end))
			continue;
		if (!suitable_migration_target(cc, block_start))
			continue;
		if (!isolation_suitable(cc, block_start))
			continue;

		unsigned long nr_isolated = isolate_freepages_block(cc, &isolate_start_pfn, block_end, stride);

		/* The whole block was scanned: skip it until the next reset. */
		if (isolate_start_pfn == block_end)
			update_pageblock_skip(cc, block_start, block_start - sys->pageblock_nr_pages);

		if (cc->nr_freepages >= cc->nr_migratepages) {
			/* Restart in the block below if this one is used up. */
			if (isolate_start_pfn >= block_end)
				isolate_start_pfn = block_start - sys->pageblock_nr_pages;
			break;
		} else if (isolate_start_pfn < block_end) {
			/* Isolation failed early (watermark, contention). */
			break;
		}
		if (nr_isolated) {
			stride = 1;
			continue;
		}
		stride = stride << 1 < COMPACT_CLUSTER_MAX ? stride << 1 : COMPACT_CLUSTER_MAX;
	}
	cc->free_pfn = isolate_start_pfn;
}

/* compaction_alloc(): a target of the source's order from the isolated
 * free blocks, splitting a larger one; it leaves as an allocated block
 * nobody owns, ready for migrate_isolated_page(). */
static struct page *compaction_alloc(struct compact_control *cc, unsigned int order, int alloc_mt)
{
	struct buddy_system *sys = cc->sys;
	struct zone *zone = cc->zone;
	bool has_isolated_pages = false;
	unsigned int start_order;

	if (should_fail_site(sys, FAULT_SITE_COMPACTION_TARGET))
		return NULL;
again:
	for (start_order = order; start_order <= sys->max_order; start_order++)
		if (!list_empty(&cc->freepages[start_order]))
			break;
	if (start_order > sys->max_order) {
		if (has_isolated_pages)
			return NULL;
		isolate_freepages(cc);
		has_isolated_pages = true;
		goto again;
	}

	spin_lock(&zone->lock);
	struct page *freepage = container_of(cc->freepages[start_order].next, struct page, lru);
	unsigned long size = 1UL << start_order;
	list_del(&freepage->lru);
	while (start_order > order) {
		start_order--;
		size >>= 1;
		struct page *half = freepage + size;
		half->order = (uint8_t)start_order;
		set_page_flag(half, PG_isolated);
		list_add(&half->lru, &cc->freepages[start_order]);
	}
	clear_page_flag(freepage, PG_isolated);
	mod_zone_page_state(zone, NR_ZONE_ISOLATED, -(1L << order));
	page_set_allocated(zone, freepage, order, alloc_mt);
	spin_unlock(&zone->lock);
	cc->nr_freepages -= 1UL << order;
	cc->nr_migratepages -= 1UL << order;

	if (sys->backing) {
		uint64_t pfn = page_to_pfn(sys, freepage), bad_pfn;
		size_t bad_offset;
		/* post_alloc_hook() checks the poison of every allocation. */
		if (backing_check_poison(sys, pfn, order, &bad_pfn, &bad_offset)) {
			count_vm_events(sys, BUDDY_BAD_PAGE, 1);
			buddy_log(sys, "pagealloc: memory corruption at pfn %#" PRIx64 " offset %zu (compaction target)",
				  bad_pfn, bad_offset);
		}
		backing_on_alloc(sys, pfn, order, false);
	}
	return freepage;
}

/* compaction_free(): a target the migration did not use goes back to the
 * isolated free blocks. */
static void compaction_free(struct compact_control *cc, struct page *dst)
{
	struct buddy_system *sys = cc->sys;
	struct zone *zone = cc->zone;
	unsigned int order = dst->order;

	if (sys->backing)
		backing_on_free(sys, page_to_pfn(sys, dst), order);
	spin_lock(&zone->lock);
	page_clear_allocated(zone, dst, order);
	dst->order = (uint8_t)order;
	set_page_flag(dst, PG_isolated);
	mod_zone_page_state(zone, NR_ZONE_ISOLATED, 1L << order);
	list_add(&dst->lru, &cc->freepages[order]);
	spin_unlock(&zone->lock);
	cc->nr_freepages += 1UL << order;
	cc->nr_migratepages += 1UL << order;
}

/* release_free_list(): every isolated free block back to the buddy lists.
 * Returns the highest pfn released. */
static uint64_t release_free_list(struct compact_control *cc)
{
	struct buddy_system *sys = cc->sys;
	struct zone *zone = cc->zone;
	uint64_t high_pfn = 0;

	spin_lock(&zone->lock);
	for (unsigned int order = 0; order <= sys->max_order; order++) {
		struct list_head *list = &cc->freepages[order];
		while (!list_empty(list)) {
			struct page *page = container_of(list->next, struct page, lru);
			uint64_t pfn = page_to_pfn(sys, page);
			list_del(&page->lru);
			clear_page_flag(page, PG_isolated);
			page->order = 0;
			mod_zone_page_state(zone, NR_ZONE_ISOLATED, -(1L << order));
			__free_one_page(zone, page, pfn, order, get_pfnblock_migratetype(sys, pfn));
			if (pfn > high_pfn)
				high_pfn = pfn;
		}
	}
	spin_unlock(&zone->lock);
	cc->nr_freepages = 0;
	return high_pfn;
}

/* ---- the migrate scanner ---- */
static void putback_movable_pages(struct compact_control *cc)
{
	while (!list_empty(&cc->migratepages)) {
		struct page *page = container_of(cc->migratepages.next, struct page, lru);
		list_del(&page->lru);
		putback_isolated_page(cc->sys, page);
	}
}

/* skip_isolation_on_order(): a block as large as the request cannot help
 * make one (there is no free block of that order to move it into), and
 * compaction never creates anything above a pageblock. */
static bool skip_isolation_on_order(const struct compact_control *cc, unsigned int order)
{
	if (cc->order != -1 && (int)order >= cc->order)
		return true;
	return order >= cc->sys->pageblock_order;
}

/* Can this isolated block be migrated by compaction at all? */
static bool migratable_block(const struct compact_control *cc, const struct page *page)
{
	const struct buddy_mapping *m = page->mapping;

	if (!m || !m->ops || !m->ops->migrate || !page_is_lru_candidate(page))
		return false;
	/* GFP_NOFS compaction leaves file pages alone: their migration may
	 * need the filesystem. */
	if (!(cc->gfp_mask & __GFP_FS) && page_flag(page, PG_mapped_file))
		return false;
	return true;
}

/* isolate_migratepages_block(): isolate the movable blocks of [low_pfn,
 * end_pfn), within one pageblock.  0, or -EINTR when told to stop. */
static int isolate_migratepages_block(struct compact_control *cc, uint64_t low_pfn, uint64_t end_pfn)
{
	struct buddy_system *sys = cc->sys;
	struct zone *zone = cc->zone;
	struct lruvec *lv = &sys->slow->lruvec[zone->nid];
	unsigned long nr_scanned = 0, nr_isolated = 0;
	uint64_t valid_pfn = 0, next_skip_pfn = 0;
	bool valid_page = false, skip_on_failure = false, skip_updated = false;
	int ret = 0;

	cc->migrate_pfn = low_pfn;
	/* Async direct compaction wants a whole cc->order block or nothing:
	 * one failure in an order-aligned block gives the block up. */
	if (cc->direct_compaction && cc->mode == MIGRATE_ASYNC) {
		skip_on_failure = true;
		next_skip_pfn = block_end_pfn(low_pfn, cc->order);
	}

	for (; low_pfn < end_pfn; low_pfn++) {
		if (skip_on_failure && low_pfn >= next_skip_pfn) {
			/* The previous aligned block is all isolated: go and
			 * migrate it. */
			if (nr_isolated)
				break;
			next_skip_pfn = block_end_pfn(low_pfn, cc->order);
		}
		if (!(low_pfn % COMPACT_CLUSTER_MAX) && fatal_signal_pending(cc)) {
			cc->contended = true;
			ret = -EINTR;
			goto fatal_pending;
		}
		nr_scanned++;
		struct page *page = pfn_to_page(sys, low_pfn);

		/* The skip hint is checked once per pageblock, at its start. */
		if (!valid_page && (pageblock_aligned(sys, low_pfn) || low_pfn == zone->zone_start_pfn)) {
			if (!isolation_suitable(cc, low_pfn)) {
				low_pfn = end_pfn;
				goto isolate_abort;
			}
			valid_page = true;
			valid_pfn = low_pfn;
		}

		uint32_t f = page_flags(page);
		if (f & PAGE_FLAG(PG_buddy)) {
			/* Step over the whole free block, as the kernel does with
			 * buddy_order_unsafe(): its tails are no failures.  The
			 * order may be stale; a sane one is enough. */
			unsigned int freepage_order = page_order(page);
			if (freepage_order > 0 && freepage_order <= sys->max_order) {
				low_pfn += (1ULL << freepage_order) - 1;
				nr_scanned += (1UL << freepage_order) - 1;
			}
			continue;
		}
		if (!(f & PAGE_FLAG(PG_present)) || !(f & PAGE_FLAG(PG_lru)))
			goto isolate_fail;

		if (cc->mode == MIGRATE_ASYNC && !cc->contended) {
			/* The kernel notes contention when it takes the
			 * lru_lock; isolate_allocated_page takes it itself. */
			if (pthread_mutex_trylock(&lv->lock))
				cc->contended = true;
			else
				pthread_mutex_unlock(&lv->lock);
		}
		/* Claim the pageblock for this scan; if another scan had it,
		 * leave it unless this is the rescan that finishes it. */
		if (!skip_updated && valid_page) {
			skip_updated = true;
			if (test_and_set_skip(cc, valid_pfn) && !cc->finish_pageblock) {
				low_pfn = end_pfn;
				goto isolate_abort;
			}
		}
		if (!isolate_allocated_page(sys, page))
			goto isolate_fail;

		/* Held now: its order and owner are stable. */
		unsigned int order = page->order;
		if (!migratable_block(cc, page) || skip_isolation_on_order(cc, order)) {
			low_pfn += (1ULL << order) - 1;
			nr_scanned += (1UL << order) - 1;
			putback_isolated_page(sys, page);
			goto isolate_fail;
		}
		low_pfn += (1ULL << order) - 1;
		list_add(&page->lru, &cc->migratepages);
		cc->nr_migratepages += 1UL << order;
		nr_isolated += 1UL << order;
		nr_scanned += (1UL << order) - 1;

		/* Enough for one batch, unless this scan must finish the
		 * block or is already contended. */
		if (cc->nr_migratepages >= COMPACT_CLUSTER_MAX && !cc->finish_pageblock && !cc->contended) {
			++low_pfn;
			break;
		}
		continue;

isolate_fail:
		if (!skip_on_failure)
			continue;
		/* The cc->order block cannot be made free: release what was
		 * isolated of it rather than migrating for nothing. */
		if (nr_isolated) {
			putback_movable_pages(cc);
			cc->nr_migratepages = 0;
			nr_isolated = 0;
		}
		if (low_pfn < next_skip_pfn) {
			low_pfn = next_skip_pfn - 1;
			next_skip_pfn += 1ULL << cc->order;
		}
	}
	if (low_pfn > end_pfn)
		low_pfn = end_pfn;

isolate_abort:
	/* Scanned to the end with nothing isolated (or the rescan that
	 * finishes the block): skip it for a while, and move the cached start
	 * past it. */
	if (low_pfn == end_pfn && (!nr_isolated || cc->finish_pageblock)) {
		if (!cc->no_set_skip_hint && valid_page && !skip_updated)
			set_skip_locked_out(cc, valid_pfn);
		update_cached_migrate(cc, low_pfn);
	}

fatal_pending:
	cc->total_migrate_scanned += nr_scanned;
	if (nr_isolated)
		count_vm_events(sys, COMPACTISOLATED, nr_isolated);
	cc->migrate_pfn = low_pfn;
	return ret;
}

/* suitable_migration_source(): async direct compaction only scans blocks of
 * the type it allocates for. */
static bool suitable_migration_source(struct compact_control *cc, uint64_t pfn)
{
	if (cc->mode != MIGRATE_ASYNC || !cc->direct_compaction)
		return true;
	int block_mt = get_pfnblock_migratetype(cc->sys, pfn);
	if (cc->migratetype == MIGRATE_MOVABLE)
		return is_migrate_movable(block_mt);
	return block_mt == cc->migratetype;
}

/* isolate_migratepages(): from the first suitable pageblock at or after the
 * migrate scanner, never crossing the free scanner. */
static isolate_migrate_t isolate_migratepages(struct compact_control *cc)
{
	struct buddy_system *sys = cc->sys;
	struct zone *zone = cc->zone;
	uint64_t low_pfn = cc->migrate_pfn;
	uint64_t block_start = pageblock_start_pfn(sys, low_pfn);
	uint64_t block_end = pageblock_end_pfn(sys, low_pfn);

	if (block_start < zone->zone_start_pfn)
		block_start = zone->zone_start_pfn;
	for (; block_end <= cc->free_pfn;
	     cc->migrate_pfn = low_pfn = block_end, block_start = block_end, block_end += sys->pageblock_nr_pages) {
		if (!pageblock_pfn_to_page(zone, block_start, block_end))
			continue;
		/* A pageblock is visited several times (COMPACT_CLUSTER_MAX
		 * at a time); its hint is looked at on the first visit. */
		if ((pageblock_aligned(sys, low_pfn) || low_pfn == zone->zone_start_pfn) &&
		    !isolation_suitable(cc, block_start))
			continue;
		if (!suitable_migration_source(cc, block_start)) {
			update_cached_migrate(cc, block_end);
			continue;
		}
		if (isolate_migratepages_block(cc, low_pfn, block_end))
			return ISOLATE_ABORT;
		break;
	}
	return cc->nr_migratepages ? ISOLATE_SUCCESS : ISOLATE_NONE;
}

/* ---- migration ---- */
/* migrate_pages() with compaction_alloc/compaction_free: each source gets
 * NR_MAX_MIGRATE_PAGES_RETRY attempts.  Returns the blocks left unmigrated
 * (still on cc->migratepages), or -ENOMEM when no target could be had. */
static int compact_migrate_pages(struct compact_control *cc)
{
	struct buddy_system *sys = cc->sys;
	struct list_head retry;
	int nr_failed = 0;

	for (int pass = 0; pass < NR_MAX_MIGRATE_PAGES_RETRY && !list_empty(&cc->migratepages); pass++) {
		INIT_LIST_HEAD(&retry);
		while (!list_empty(&cc->migratepages)) {
			struct page *src = container_of(cc->migratepages.next, struct page, lru);
			list_del(&src->lru);
			/* Freed by its owner while isolated: the putback
			 * finishes that free, and there is nothing to move. */
			if (page_flag(src, PG_freeing)) {
				putback_isolated_page(sys, src);
				continue;
			}
			unsigned int order = src->order;
			struct page *dst = compaction_alloc(cc, order, src->alloc_mt);
			if (!dst) {
				list_add(&src->lru, &cc->migratepages);
				while (!list_empty(&retry)) {
					struct page *p = container_of(retry.next, struct page, lru);
					list_del(&p->lru);
					list_add_tail(&p->lru, &cc->migratepages);
				}
				return -ENOMEM;
			}
			int rc;
			if (should_fail_site(sys, FAULT_SITE_MIGRATE_EAGAIN)) {
				count_vm_events(sys, PGMIGRATE_FAIL, 1);
				rc = -EAGAIN;
			} else {
				rc = migrate_isolated_page(sys, src, dst);
			}
			if (!rc)
				continue;
			compaction_free(cc, dst);
			list_add_tail(&src->lru, &retry);
		}
		while (!list_empty(&retry)) {
			struct page *p = container_of(retry.next, struct page, lru);
			list_del(&p->lru);
			list_add_tail(&p->lru, &cc->migratepages);
		}
	}
	for (struct list_head *l = cc->migratepages.next; l != &cc->migratepages; l = l->next)
		nr_failed++;
	return nr_failed;
}

/* ---- the compaction run ---- */
/* find_suitable_fallback(..., claimable): could the request claim a block
 * of another type at this order? */
static bool fallback_claimable(struct buddy_system *sys, struct free_area *area, unsigned int order, int mt)
{
	if (!counter_read(&area->nr_free) || mt >= MIGRATE_PCPTYPES)
		return false;
	for (int i = 0; i < MIGRATE_PCPTYPES - 1; i++) {
		int fallback_mt = buddy_fallbacks[mt][i];
		if (!counter_read(&area->nr_free_mt[fallback_mt]))
			continue;
		if (order >= sys->pageblock_order || order >= sys->pageblock_order / 2 || mt == MIGRATE_RECLAIMABLE ||
		    mt == MIGRATE_UNMOVABLE || sys->page_group_by_mobility_disabled)
			return true;
	}
	return false;
}

static enum buddy_compact_result __compact_finished(struct compact_control *cc)
{
	struct buddy_system *sys = cc->sys;
	struct zone *zone = cc->zone;
	enum buddy_compact_result ret;

	if (compact_scanners_met(cc)) {
		spin_lock(&zone->lock);
		reset_cached_positions(zone);
		/* kswapd flushes the skip hints before it sleeps; only a
		 * direct compactor asks, as the decision should follow an
		 * allocation request. */
		if (cc->direct_compaction)
			zone->compact_blockskip_flush = true;
		spin_unlock(&zone->lock);
		return cc->whole_zone ? COMPACT_COMPLETE : COMPACT_PARTIAL_SKIPPED;
	}

	if (cc->proactive_compaction) {
		if (kswapd_is_running(sys, zone->nid))
			return COMPACT_PARTIAL_SKIPPED;
		ret = fragmentation_score_zone(zone) > fragmentation_score_wmark(true) ? COMPACT_CONTINUE
											   : COMPACT_SUCCESS;
		goto out;
	}
	if (cc->order == -1)
		return COMPACT_CONTINUE;
	/* Finish the pageblock: fewer fallbacks later. */
	if (!pageblock_aligned(sys, cc->migrate_pfn))
		return COMPACT_CONTINUE;

	ret = COMPACT_NO_SUITABLE_PAGE;
	for (unsigned int order = (unsigned int)cc->order; order <= sys->max_order; order++) {
		struct free_area *area = &zone->free_area[order];
		if (counter_read(&area->nr_free_mt[cc->migratetype]))
			return COMPACT_SUCCESS;
		if (cc->migratetype == MIGRATE_MOVABLE && counter_read(&area->nr_free_mt[MIGRATE_CMA]))
			return COMPACT_SUCCESS;
		if (fallback_claimable(sys, area, order, cc->migratetype))
			return COMPACT_SUCCESS;
	}
out:
	if (cc->contended || fatal_signal_pending(cc))
		ret = COMPACT_CONTENDED;
	return ret;
}

static enum buddy_compact_result compact_finished(struct compact_control *cc)
{
	enum buddy_compact_result ret = __compact_finished(cc);

	return ret == COMPACT_NO_SUITABLE_PAGE ? COMPACT_CONTINUE : ret;
}

static void init_cc_lists(struct compact_control *cc)
{
	for (unsigned int o = 0; o <= MAX_PAGE_ORDER_LIMIT; o++)
		INIT_LIST_HEAD(&cc->freepages[o]);
	INIT_LIST_HEAD(&cc->migratepages);
}

static enum buddy_compact_result compact_zone(struct compact_control *cc, struct capture_control *capc)
{
	struct buddy_system *sys = cc->sys;
	struct zone *zone = cc->zone;
	uint64_t start_pfn = zone->zone_start_pfn, end_pfn = zone_end_pfn(zone);
	uint64_t last_migrated_pfn = 0;
	const bool sync = cc->mode != MIGRATE_ASYNC;
	bool update_cached;
	enum buddy_compact_result ret;

	cc->total_migrate_scanned = 0;
	cc->total_free_scanned = 0;
	cc->nr_migratepages = 0;
	cc->nr_freepages = 0;
	cc->contended = false;
	init_cc_lists(cc);
	cc->migratetype = gfp_migratetype(sys, cc->gfp_mask);

	if (cc->order != -1) {
		/* The allocation can already succeed: nothing to do. */
		unsigned long watermark = wmark_pages(zone, cc->alloc_flags & ALLOC_WMARK_MASK);
		if (__zone_watermark_ok(zone, (unsigned int)cc->order, watermark, cc->highest_zoneidx, cc->alloc_flags,
					zone_page_state(zone, NR_FREE_PAGES)))
			return COMPACT_SUCCESS;
		if (!compaction_suitable(zone, cc->order, cc->highest_zoneidx))
			return COMPACT_SKIPPED;
	}

	spin_lock(&zone->lock);
	/* Retrying after many deferrals: forget the skip hints. */
	if (compaction_restarting_locked(zone, cc->order))
		reset_isolation_suitable_locked(zone);
	if (cc->whole_zone) {
		cc->migrate_pfn = start_pfn;
		cc->free_pfn = pageblock_start_pfn(sys, end_pfn - 1);
	} else {
		/* A zone never compacted has all three at 0: for a zone that
		 * starts at pfn 0 that reads as met scanners, so start afresh. */
		if (!zone->compact_cached_free_pfn && !zone->compact_cached_migrate_pfn[0] &&
		    !zone->compact_cached_migrate_pfn[1])
			reset_cached_positions(zone);
		cc->migrate_pfn = zone->compact_cached_migrate_pfn[sync];
		cc->free_pfn = zone->compact_cached_free_pfn;
		if (cc->free_pfn < start_pfn || cc->free_pfn >= end_pfn) {
			cc->free_pfn = pageblock_start_pfn(sys, end_pfn - 1);
			zone->compact_cached_free_pfn = cc->free_pfn;
		}
		if (cc->migrate_pfn < start_pfn || cc->migrate_pfn >= end_pfn) {
			cc->migrate_pfn = start_pfn;
			zone->compact_cached_migrate_pfn[0] = cc->migrate_pfn;
			zone->compact_cached_migrate_pfn[1] = cc->migrate_pfn;
		}
		if (cc->migrate_pfn <= start_pfn)
			cc->whole_zone = true;
	}
	/* Until a block with candidates is found, keep the async and sync
	 * cached starts together so neither revisits empty blocks. */
	update_cached = !sync && zone->compact_cached_migrate_pfn[0] == zone->compact_cached_migrate_pfn[1];
	spin_unlock(&zone->lock);

	while ((ret = compact_finished(cc)) == COMPACT_CONTINUE) {
		uint64_t iteration_start_pfn = cc->migrate_pfn;

		/* Rescanning the block just migrated from: take all of it
		 * this time, then let the skip hint have it. */
		cc->finish_pageblock = pageblock_start_pfn(sys, last_migrated_pfn) ==
				       pageblock_start_pfn(sys, iteration_start_pfn);
rescan:
		switch (isolate_migratepages(cc)) {
		case ISOLATE_ABORT:
			ret = COMPACT_CONTENDED;
			putback_movable_pages(cc);
			cc->nr_migratepages = 0;
			goto out;
		case ISOLATE_NONE:
			if (update_cached) {
				spin_lock(&zone->lock);
				zone->compact_cached_migrate_pfn[1] = zone->compact_cached_migrate_pfn[0];
				spin_unlock(&zone->lock);
			}
			goto check_drain;
		case ISOLATE_SUCCESS:
			update_cached = false;
			last_migrated_pfn = pageblock_start_pfn(sys, cc->migrate_pfn - 1);
			if (last_migrated_pfn < start_pfn)
				last_migrated_pfn = start_pfn;
			break;
		}

		int err = compact_migrate_pages(cc);
		cc->nr_migratepages = 0;
		if (err) {
			putback_movable_pages(cc);
			/* No targets left: let compact_finished see the met
			 * scanners, else give up. */
			if (err == -ENOMEM && !compact_scanners_met(cc)) {
				ret = COMPACT_CONTENDED;
				goto out;
			}
			/* A failure inside a pageblock: scan the rest of it so
			 * it gets its skip hint instead of being revisited. */
			if (!pageblock_aligned(sys, cc->migrate_pfn) && !cc->ignore_skip_hint && !cc->finish_pageblock &&
			    cc->mode < MIGRATE_SYNC) {
				cc->finish_pageblock = true;
				if (cc->order == (int)sys->pageblock_order)
					last_migrated_pfn = 0;
				goto rescan;
			}
		}
		if (capc && capc->page) {
			ret = COMPACT_SUCCESS;
			break;
		}
check_drain:
		/* Past the cc->order block migrated from: flush this CPU's
		 * freed pages so they merge (and can be captured) now. */
		if (cc->order > 0 && last_migrated_pfn) {
			uint64_t current_block_start = block_start_pfn(cc->migrate_pfn, cc->order);
			if (last_migrated_pfn < current_block_start) {
				drain_zone_pages(zone, buddy_cpu_of_thread(sys));
				last_migrated_pfn = 0;
			}
		}
	}

out:
	/* Release the unused targets and let the free scanner restart where
	 * they were, never further up than it already is. */
	if (cc->nr_freepages > 0) {
		uint64_t free_pfn = pageblock_start_pfn(sys, release_free_list(cc));
		spin_lock(&zone->lock);
		if (free_pfn > zone->compact_cached_free_pfn)
			zone->compact_cached_free_pfn = free_pfn;
		spin_unlock(&zone->lock);
	}
	count_vm_events(sys, COMPACTMIGRATE_SCANNED, cc->total_migrate_scanned);
	count_vm_events(sys, COMPACTFREE_SCANNED, cc->total_free_scanned);
	return ret;
}

/* ---- capture ---- */
bool __compaction_capture(struct zone *zone, struct page *page, unsigned int order, int mt)
{
	struct capture_control *capc = current_capture_control;

	if (!capc || capc->page || capc->cc->zone != zone || (int)order != capc->cc->order)
		return false;
	/* Do not pollute CMA or isolated ranges. */
	if (is_migrate_cma(mt) || is_migrate_isolate(mt))
		return false;
	/* Nor let a smaller non-movable request take from a movable block. */
	if (order < zone->sys->pageblock_order && mt == MIGRATE_MOVABLE && capc->cc->migratetype != MIGRATE_MOVABLE)
		return false;
	account_freepages(zone, -(1L << order), mt);
	page_set_allocated(zone, page, order, capc->cc->migratetype);
	capc->page = page;
	return true;
}

/* ---- direct compaction ---- */
static enum buddy_compact_result compact_zone_order(struct buddy_system *sys, struct zone *zone, int order,
						   gfp_t gfp, enum compact_priority prio, unsigned int alloc_flags,
						   int highest_zoneidx, struct page **capture)
{
	struct compact_control cc = {
		.sys = sys,
		.zone = zone,
		.order = order,
		.gfp_mask = gfp,
		.mode = prio == COMPACT_PRIO_ASYNC ? MIGRATE_ASYNC : MIGRATE_SYNC_LIGHT,
		.alloc_flags = alloc_flags,
		.highest_zoneidx = highest_zoneidx,
		.direct_compaction = true,
		.whole_zone = prio == MIN_COMPACT_PRIORITY,
		.ignore_skip_hint = prio == MIN_COMPACT_PRIORITY,
		.ignore_block_suitable = prio == MIN_COMPACT_PRIORITY,
		.kthread_nid = -1,
	};
	struct capture_control capc = { .cc = &cc, .page = NULL };
	struct capture_control *saved = current_capture_control;

	/* compact_zone sets the migratetype; capture reads it before. */
	cc.migratetype = gfp_migratetype(sys, gfp);
	current_capture_control = &capc;
	enum buddy_compact_result ret = compact_zone(&cc, &capc);
	current_capture_control = saved;
	*capture = capc.page;
	/* A page captured by luck still counts as success for the
	 * stall/fail accounting. */
	if (*capture)
		ret = COMPACT_SUCCESS;
	return ret;
}

enum buddy_compact_result try_to_compact_pages(struct buddy_system *sys, gfp_t gfp, unsigned int order,
					       unsigned int alloc_flags, struct zone **zonerefs, int nr_zonerefs,
					       int highest_zoneidx, uint64_t nodemask, enum compact_priority prio,
					       struct page **capture)
{
	enum buddy_compact_result rc = COMPACT_SKIPPED;

	*capture = NULL;
	/* GFP_NOIO: migration might need IO. */
	if (!(gfp & __GFP_IO))
		return COMPACT_SKIPPED;
	for (int i = 0; i < nr_zonerefs; i++) {
		struct zone *zone = zonerefs[i];
		if ((int)zone->zid > highest_zoneidx || (nodemask && !(nodemask & (1ULL << zone->nid))) ||
		    !populated_zone(zone))
			continue;
		if (prio > MIN_COMPACT_PRIORITY && compaction_deferred(zone, (int)order)) {
			if (rc < COMPACT_DEFERRED)
				rc = COMPACT_DEFERRED;
			continue;
		}
		enum buddy_compact_result status =
			compact_zone_order(sys, zone, (int)order, gfp, prio, alloc_flags, highest_zoneidx, capture);
		if (status > rc)
			rc = status;
		if (status == COMPACT_SUCCESS) {
			/* Likely but not certain to succeed: the caller resets
			 * with alloc_success once it has the page. */
			compaction_defer_reset(zone, (int)order, false);
			break;
		}
		if (prio != COMPACT_PRIO_ASYNC && (status == COMPACT_COMPLETE || status == COMPACT_PARTIAL_SKIPPED))
			defer_compaction(zone, (int)order);
	}
	return rc;
}

/* ---- whole zones ---- */
/* Every populated zone of a node, whole: an explicit request (kthread_nid
 * -1) or kcompactd's proactive round. */
static void compact_node_zones(struct buddy_system *sys, int nid, enum migrate_mode mode, bool proactive,
			       int kthread_nid)
{
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = &sys->nodes[nid]->node_zones[z];
		if (!populated_zone(zone))
			continue;
		struct compact_control cc = {
			.sys = sys,
			.zone = zone,
			.order = -1,
			.mode = mode,
			.ignore_skip_hint = true,
			.whole_zone = true,
			.gfp_mask = GFP_KERNEL,
			.proactive_compaction = proactive,
			.kthread_nid = kthread_nid,
		};
		compact_zone(&cc, NULL);
	}
}

static void compact_node(struct buddy_system *sys, int nid, enum migrate_mode mode)
{
	compact_node_zones(sys, nid, mode, false, -1);
}

static void proactive_compact_node(struct buddy_system *sys, int nid, int kthread_nid)
{
	compact_node_zones(sys, nid, MIGRATE_SYNC_LIGHT, true, kthread_nid);
}

/* ---- kcompactd ---- */
static bool kcompactd_should_stop(struct buddy_system *sys, int nid)
{
	return atomic_load_explicit(&sys->slow->kcompactd_should_stop[nid], memory_order_relaxed);
}

/* The request, as kcompactd sees it: order 0 means none. */
static void kcompactd_request(struct buddy_system *sys, int nid, int *order, int *highest_zoneidx)
{
	struct buddy_slowpath *slow = sys->slow;

	pthread_mutex_lock(&slow->kthread_lock);
	*order = atomic_load_explicit(&slow->kcompactd_max_order[nid], memory_order_relaxed);
	*highest_zoneidx = *order ? atomic_load_explicit(&slow->kcompactd_highest_zoneidx[nid], memory_order_relaxed)
				  : MAX_NR_ZONES - 1;
	pthread_mutex_unlock(&slow->kthread_lock);
}

static bool kcompactd_node_suitable(struct buddy_system *sys, int nid)
{
	int order, highest_zoneidx;

	kcompactd_request(sys, nid, &order, &highest_zoneidx);
	for (int z = 0; z <= highest_zoneidx; z++) {
		struct zone *zone = &sys->nodes[nid]->node_zones[z];
		if (!populated_zone(zone))
			continue;
		/* The allocation can already succeed here: look further. */
		if (__zone_watermark_ok(zone, (unsigned int)order, wmark_pages(zone, WMARK_MIN), highest_zoneidx, 0,
					zone_page_state(zone, NR_FREE_PAGES)))
			continue;
		if (compaction_suitable(zone, order, highest_zoneidx))
			return true;
	}
	return false;
}

/* The kernel's kcompactd_do_work(): compact for the requested order. */
static void kcompactd_do_order_work(struct buddy_system *sys, int nid, int kthread_nid)
{
	struct buddy_slowpath *slow = sys->slow;
	int order, highest_zoneidx;

	kcompactd_request(sys, nid, &order, &highest_zoneidx);
	if (order <= 0)
		return;
	count_vm_events(sys, KCOMPACTD_WAKE, 1);
	for (int z = 0; z <= highest_zoneidx; z++) {
		struct zone *zone = &sys->nodes[nid]->node_zones[z];
		if (!populated_zone(zone))
			continue;
		if (compaction_deferred(zone, order))
			continue;
		if (__zone_watermark_ok(zone, (unsigned int)order, wmark_pages(zone, WMARK_MIN), z, 0,
					zone_page_state(zone, NR_FREE_PAGES)))
			continue;
		if (!compaction_suitable(zone, order, z))
			continue;
		if (kthread_nid >= 0 && kcompactd_should_stop(sys, nid))
			return;
		struct compact_control cc = {
			.sys = sys,
			.zone = zone,
			.order = order,
			.highest_zoneidx = highest_zoneidx,
			.mode = MIGRATE_SYNC_LIGHT,
			.gfp_mask = GFP_KERNEL,
			.kthread_nid = kthread_nid,
		};
		enum buddy_compact_result status = compact_zone(&cc, NULL);
		if (status == COMPACT_SUCCESS) {
			compaction_defer_reset(zone, order, false);
		} else if (status == COMPACT_PARTIAL_SKIPPED || status == COMPACT_COMPLETE) {
			/* Freed pages stranded on pcp lists could merge into
			 * the order wanted; the deferral below rate-limits. */
			for (int cpu = 0; cpu < sys->nr_cpus; cpu++)
				drain_zone_pages(zone, cpu);
			defer_compaction(zone, order);
		}
	}
	/* Done until woken again, unless a larger or tighter request came in
	 * meanwhile. */
	pthread_mutex_lock(&slow->kthread_lock);
	if (atomic_load_explicit(&slow->kcompactd_max_order[nid], memory_order_relaxed) <= order)
		atomic_store_explicit(&slow->kcompactd_max_order[nid], 0, memory_order_relaxed);
	if (atomic_load_explicit(&slow->kcompactd_highest_zoneidx[nid], memory_order_relaxed) >= highest_zoneidx)
		atomic_store_explicit(&slow->kcompactd_highest_zoneidx[nid], MAX_NR_ZONES - 1, memory_order_relaxed);
	pthread_mutex_unlock(&slow->kthread_lock);
}

/* The timeout branch of kcompactd(): proactive compaction.  Returns the
 * next timeout in ms. */
static long kcompactd_proactive(struct buddy_system *sys, int nid, int kthread_nid)
{
	long timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC;

	if (should_proactive_compact_node(sys, nid)) {
		unsigned int prev_score = fragmentation_score_node(sys, nid);
		proactive_compact_node(sys, nid, kthread_nid);
		/* No progress: back off as far as deferral would. */
		if (fragmentation_score_node(sys, nid) >= prev_score)
			timeout = (long)HPAGE_FRAG_CHECK_INTERVAL_MSEC << COMPACT_MAX_DEFER_SHIFT;
	}
	return timeout;
}

void kcompactd_do_work(struct buddy_system *sys, int nid)
{
	int order, highest_zoneidx;

	if (!sys || nid < 0 || nid >= sys->nr_nodes)
		return;
	/* kcompactd is a kthread: task_capc() never captures for it. */
	struct capture_control *saved = current_capture_control;
	current_capture_control = NULL;
	kcompactd_request(sys, nid, &order, &highest_zoneidx);
	if (order > 0)
		kcompactd_do_order_work(sys, nid, -1);
	else
		kcompactd_proactive(sys, nid, -1);
	current_capture_control = saved;
}

void wakeup_kcompactd(struct buddy_system *sys, int nid, int order, int highest_zoneidx)
{
	struct buddy_slowpath *slow;

	if (!sys || order <= 0 || nid < 0 || nid >= sys->nr_nodes)
		return;
	slow = sys->slow;
	pthread_mutex_lock(&slow->kthread_lock);
	int cur = atomic_load_explicit(&slow->kcompactd_max_order[nid], memory_order_relaxed);
	if (!cur || atomic_load_explicit(&slow->kcompactd_highest_zoneidx[nid], memory_order_relaxed) > highest_zoneidx)
		atomic_store_explicit(&slow->kcompactd_highest_zoneidx[nid], highest_zoneidx, memory_order_relaxed);
	if (cur < order)
		atomic_store_explicit(&slow->kcompactd_max_order[nid], order, memory_order_relaxed);
	bool threads = slow->kcompactd_started[nid] && !kcompactd_should_stop(sys, nid);
	pthread_mutex_unlock(&slow->kthread_lock);

	if (!kcompactd_node_suitable(sys, nid))
		return;
	if (!threads) {
		struct capture_control *saved = current_capture_control;
		current_capture_control = NULL;
		kcompactd_do_order_work(sys, nid, -1);
		current_capture_control = saved;
		return;
	}
	pthread_mutex_lock(&slow->kthread_lock);
	pthread_cond_broadcast(&slow->kthread_wake);
	pthread_mutex_unlock(&slow->kthread_lock);
}

struct kcompactd_arg {
	struct buddy_system *sys;
	int nid;
};

static void deadline_after_ms(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *kcompactd_main(void *p)
{
	struct kcompactd_arg *arg = p;
	struct buddy_system *sys = arg->sys;
	int nid = arg->nid;
	struct buddy_slowpath *slow = sys->slow;
	long timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC;

	free(arg);
	for (;;) {
		struct timespec deadline;
		bool requested, stop;

		deadline_after_ms(&deadline, timeout);
		pthread_mutex_lock(&slow->kthread_lock);
		/* kthread_wake is shared with kswapd: wake-ups for it come
		 * here too, so the predicate decides. */
		while (!(stop = kcompactd_should_stop(sys, nid)) &&
		       !atomic_load_explicit(&slow->kcompactd_max_order[nid], memory_order_relaxed))
			if (pthread_cond_timedwait(&slow->kthread_wake, &slow->kthread_lock, &deadline) == ETIMEDOUT)
				break;
		requested = atomic_load_explicit(&slow->kcompactd_max_order[nid], memory_order_relaxed) > 0;
		pthread_mutex_unlock(&slow->kthread_lock);
		if (stop)
			break;
		if (requested) {
			kcompactd_do_order_work(sys, nid, nid);
			timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC;
			continue;
		}
		timeout = kcompactd_proactive(sys, nid, nid);
	}
	return NULL;
}

int kcompactd_start(struct buddy_system *sys, int nid)
{
	if (!sys || !sys->slow || nid < 0 || nid >= sys->nr_nodes)
		return -EINVAL;
	struct buddy_slowpath *slow = sys->slow;
	pthread_mutex_lock(&slow->kthread_lock);
	if (slow->kcompactd_started[nid]) {
		pthread_mutex_unlock(&slow->kthread_lock);
		return 0;
	}
	struct kcompactd_arg *arg = malloc(sizeof(*arg));
	if (!arg) {
		pthread_mutex_unlock(&slow->kthread_lock);
		return -ENOMEM;
	}
	*arg = (struct kcompactd_arg){ sys, nid };
	atomic_store_explicit(&slow->kcompactd_should_stop[nid], false, memory_order_relaxed);
	atomic_store_explicit(&slow->kcompactd_max_order[nid], 0, memory_order_relaxed);
	atomic_store_explicit(&slow->kcompactd_highest_zoneidx[nid], MAX_NR_ZONES - 1, memory_order_relaxed);
	int rc = pthread_create(&slow->kcompactd[nid], NULL, kcompactd_main, arg);
	if (rc) {
		free(arg);
		pthread_mutex_unlock(&slow->kthread_lock);
		return -rc;
	}
	slow->kcompactd_started[nid] = true;
	pthread_mutex_unlock(&slow->kthread_lock);
	return 0;
}

void kcompactd_stop(struct buddy_system *sys, int nid)
{
	if (!sys || !sys->slow || nid < 0 || nid >= sys->nr_nodes)
		return;
	struct buddy_slowpath *slow = sys->slow;
	pthread_mutex_lock(&slow->kthread_lock);
	/* Not running, or another stop is already waiting for it. */
	if (!slow->kcompactd_started[nid] || kcompactd_should_stop(sys, nid)) {
		pthread_mutex_unlock(&slow->kthread_lock);
		return;
	}
	atomic_store_explicit(&slow->kcompactd_should_stop[nid], true, memory_order_relaxed);
	pthread_cond_broadcast(&slow->kthread_wake);
	pthread_t thread = slow->kcompactd[nid];
	pthread_mutex_unlock(&slow->kthread_lock);
	pthread_join(thread, NULL);
	pthread_mutex_lock(&slow->kthread_lock);
	slow->kcompactd_started[nid] = false;
	atomic_store_explicit(&slow->kcompactd_should_stop[nid], false, memory_order_relaxed);
	pthread_mutex_unlock(&slow->kthread_lock);
}

/* ---- public calls ---- */
static struct zone *lookup_zone(struct buddy_system *sys, int nid, enum zone_type zid)
{
	if (!sys || nid < 0 || nid >= sys->nr_nodes || (int)zid < 0 || zid >= MAX_NR_ZONES)
		return NULL;
	return &sys->nodes[nid]->node_zones[zid];
}

int buddy_compact_zone(struct buddy_system *sys, int nid, enum zone_type zid, int order, enum buddy_compact_mode mode)
{
	struct zone *zone = lookup_zone(sys, nid, zid);

	if (!zone || order < -1 || order > (int)sys->max_order || (int)mode < BUDDY_COMPACT_ASYNC ||
	    mode > BUDDY_COMPACT_SYNC)
		return -EINVAL;
	if (!populated_zone(zone))
		return COMPACT_SKIPPED;
	static const enum migrate_mode modes[] = {
		[BUDDY_COMPACT_ASYNC] = MIGRATE_ASYNC,
		[BUDDY_COMPACT_SYNC_LIGHT] = MIGRATE_SYNC_LIGHT,
		[BUDDY_COMPACT_SYNC] = MIGRATE_SYNC,
	};
	struct compact_control cc = {
		.sys = sys,
		.zone = zone,
		.order = order,
		.mode = modes[mode],
		.kthread_nid = -1,
	};
	if (order == -1) {
		/* /proc/sys/vm/compact_memory: the whole zone, hints ignored. */
		cc.gfp_mask = GFP_KERNEL;
		cc.ignore_skip_hint = true;
		cc.whole_zone = true;
	} else {
		/* For a movable block of this order, the way kcompactd
		 * would, starting where the last run stopped. */
		cc.gfp_mask = GFP_KERNEL | __GFP_MOVABLE;
		cc.highest_zoneidx = (int)zid;
		cc.alloc_flags = ALLOC_WMARK_MIN | ALLOC_CMA;
	}
	return compact_zone(&cc, NULL);
}

int buddy_compact_node(struct buddy_system *sys, int nid)
{
	if (!sys || nid < 0 || nid >= sys->nr_nodes)
		return -EINVAL;
	compact_node(sys, nid, MIGRATE_SYNC);
	return 0;
}

int buddy_compact_memory(struct buddy_system *sys)
{
	if (!sys)
		return -EINVAL;
	for (int nid = 0; nid < sys->nr_nodes; nid++)
		if (sys->nodes[nid]->node_present_pages)
			compact_node(sys, nid, MIGRATE_SYNC);
	return 0;
}

int buddy_fragmentation_index(struct buddy_system *sys, int nid, enum zone_type zid, unsigned int order)
{
	struct zone *zone = lookup_zone(sys, nid, zid);

	if (!zone || order > sys->max_order)
		return -EINVAL;
	return fragmentation_index(zone, order);
}

unsigned int buddy_fragmentation_score(struct buddy_system *sys, int nid)
{
	if (!sys || nid < 0 || nid >= sys->nr_nodes)
		return 0;
	return fragmentation_score_node(sys, nid);
}
