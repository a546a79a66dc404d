/* Memory offlining and onlining (mm/memory_hotplug.c: offline_pages,
 * scan_movable_pages, do_migrate_range, __offline_isolated_pages,
 * online_pages, adjust_present_page_count, init_per_zone_wmark_min).
 *
 * The kernel offlines whole memory blocks (sections of 128 MiB and up);
 * this model offlines whole pageblocks, the finest unit the kernel's
 * offline_pages itself accepts (it warns unless both ends are pageblock
 * aligned).  A range must lie in one zone and have no hole, as there.
 *
 * Offlined pages carry PG_offline, count in NR_ZONE_OFFLINE and leave
 * present_pages and managed_pages; their pageblocks stay MIGRATE_ISOLATE
 * until they come back online, as the kernel leaves them. */
#include <errno.h>
#include <inttypes.h>

#include "bugs.h"
#include "isolation.h"

/* Rounds of migrate + test before offlining gives up.  The kernel retries
 * until a signal arrives; a model needs an end. */
#define OFFLINE_RETRIES 8

/* init_per_zone_wmark_min() and the pcp update that follows a change of
 * managed pages.  tunables_lock held, no zone lock. */
static void recompute_after_hotplug(struct buddy_system *sys)
{
	if (!sys->user_min_free_kbytes)
		sys->min_free_kbytes = calculate_min_free_kbytes(sys);
	setup_per_zone_wmarks(sys);
	setup_per_zone_lowmem_reserve(sys);
	for (int nid = 0; nid < sys->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			zone_pcp_update(&sys->nodes[nid]->node_zones[z]);
}

/* adjust_managed_page_count + adjust_present_page_count.  Every lock of
 * the zone and tunables_lock held. */
static void adjust_present(struct buddy_system *sys, struct zone *zone, long delta)
{
	zone->present_pages = (uint64_t)((long)zone->present_pages + delta);
	zone->managed_pages = (uint64_t)((long)zone->managed_pages + delta);
	sys->nodes[zone->nid]->node_present_pages = (uint64_t)((long)sys->nodes[zone->nid]->node_present_pages + delta);
}

/* __offline_isolated_pages(): take every free page of the isolated range
 * off the ISOLATE lists; poisoned pages kept out become offline too. */
static void offline_isolated_pages(struct buddy_system *sys, struct zone *zone, uint64_t start, uint64_t end)
{
	long poisoned = 0;

	for (uint64_t pfn = start; pfn < end;) {
		struct block_at b;
		find_block(sys, zone, pfn, &b);
		if (b.kind != BK_FREE) {
			/* test_pages_isolated let only a lone poisoned page by. */
			struct page *page = pfn_to_page(sys, pfn);
			set_page_flag(page, PG_offline);
			page->order = 0;
			poisoned++;
			pfn++;
			continue;
		}
		uint64_t be = block_end(&b);
#ifndef BUDDY_BUG_OFFLINE_LEFTOVER
		__del_from_free_list(zone, pfn_to_page(sys, b.head), b.order, MIGRATE_ISOLATE);
		account_freepages(zone, -(1L << b.order), MIGRATE_ISOLATE);
#endif
		/* An ISOLATE block may have merged with a neighbour isolated
		 * by someone else: the part outside the range stays free. */
		if (b.head < start)
			free_pfn_range(zone, b.head, start, MIGRATE_ISOLATE);
		if (be > end)
			free_pfn_range(zone, end, be, MIGRATE_ISOLATE);
		for (uint64_t p = b.head > start ? b.head : start; p < be && p < end; p++)
			set_page_flag(pfn_to_page(sys, p), PG_offline);
		pfn = be;
	}
	mod_zone_page_state(zone, NR_ZONE_HWPOISON, -poisoned);
	mod_zone_page_state(zone, NR_ZONE_OFFLINE, (long)(end - start));
}

/* The arguments of offline_pages and online_pages: pageblock aligned,
 * one zone, no hole. */
static struct zone *hotplug_range(struct buddy_system *sys, uint64_t start, uint64_t nr)
{
	uint64_t pbn;

	if (!sys || !sys->cma || !nr || start >= sys->max_pfn || nr > sys->max_pfn - start)
		return NULL;
	pbn = sys->pageblock_nr_pages;
	if ((start & (pbn - 1)) || (nr & (pbn - 1)))
		return NULL;
	struct zone *zone = zone_of_range(sys, start, start + nr);
	if (!zone || range_has_hole(sys, start, start + nr))
		return NULL;
	return zone;
}

static void offline_failed(struct buddy_system *sys, uint64_t start, uint64_t end, const char *reason)
{
	buddy_log(sys, "memory offlining [mem %#010" PRIx64 "-%#010" PRIx64 "] failed due to %s", start * PAGE_SIZE,
		  end * PAGE_SIZE - 1, reason);
}

int buddy_offline_pages(struct buddy_system *sys, uint64_t start_pfn, uint64_t nr_pages)
{
	struct zone *zone = hotplug_range(sys, start_pfn, nr_pages);
	uint64_t end_pfn = start_pfn + nr_pages;
	int ret;

	if (!zone)
		return -EINVAL;
	pthread_mutex_lock(&sys->cma->lock);
	if (range_has_offline(sys, start_pfn, end_pfn)) {
		ret = -EINVAL;
		goto out;
	}
	ret = start_isolate_page_range_locked(sys, zone, start_pfn, end_pfn, MIGRATE_MOVABLE,
					      MEMORY_OFFLINE | REPORT_FAILURE);
	if (ret) {
		offline_failed(sys, start_pfn, end_pfn, "failure to isolate range");
		goto out;
	}
	buddy_drain_all_pages(sys);
	for (int tries = 0;; tries++) {
		/* do_migrate_range(): GFP_USER | __GFP_MOVABLE | __GFP_RETRY_MAYFAIL */
		struct migrate_range_ctl mc = {
			.start = start_pfn,
			.end = end_pfn,
			.avoid_start = start_pfn,
			.avoid_end = end_pfn,
			.gfp = GFP_USER | __GFP_MOVABLE | __GFP_RETRY_MAYFAIL,
		};
		migrate_range(sys, zone, &mc);

		pthread_mutex_lock(&sys->tunables_lock);
		zone_lock_all(zone);
		ret = test_pages_isolated_locked(sys, zone, start_pfn, end_pfn, MEMORY_OFFLINE);
		if (!ret) {
			offline_isolated_pages(sys, zone, start_pfn, end_pfn);
			adjust_present(sys, zone, -(long)nr_pages);
		}
		zone_unlock_all(zone);
		if (!ret) {
			/* The blocks stay isolated while offline: nothing to
			 * restore later but MOVABLE (online_pages). */
			for (uint64_t pb = start_pfn; pb < end_pfn; pb += sys->pageblock_nr_pages)
				sys->cma->saved_mt[pb >> sys->pageblock_order] = SAVED_MT_NONE;
			recompute_after_hotplug(sys);
		}
		pthread_mutex_unlock(&sys->tunables_lock);
		if (!ret)
			break;
		if (tries + 1 >= OFFLINE_RETRIES) {
			undo_isolate_page_range_locked(sys, zone, start_pfn, end_pfn, MIGRATE_MOVABLE);
			offline_failed(sys, start_pfn, end_pfn, "unmovable page");
			ret = -EBUSY;
			break;
		}
		/* Pages freed into the range since may wait on a pcp list. */
		buddy_drain_all_pages(sys);
	}
out:
	pthread_mutex_unlock(&sys->cma->lock);
	return ret;
}

int buddy_online_pages(struct buddy_system *sys, uint64_t start_pfn, uint64_t nr_pages)
{
	struct zone *zone = hotplug_range(sys, start_pfn, nr_pages);
	uint64_t end_pfn = start_pfn + nr_pages;
	int ret = 0;

	if (!zone)
		return -EINVAL;
	pthread_mutex_lock(&sys->cma->lock);
	for (uint64_t pfn = start_pfn; pfn < end_pfn; pfn++)
		if (!page_flag(pfn_to_page(sys, pfn), PG_offline)) {
			ret = -EINVAL;
			goto out;
		}
	/* Contents of memory that comes back are whatever free pages hold. */
	if (sys->backing)
		for (uint64_t pfn = start_pfn; pfn < end_pfn; pfn++)
			if (!page_flag(pfn_to_page(sys, pfn), PG_hwpoison))
				backing_on_free(sys, pfn, 0);

	pthread_mutex_lock(&sys->tunables_lock);
	zone_lock_all(zone);
	/* move_pfn_range_to_zone(..., MIGRATE_ISOLATE): the pages arrive on
	 * the ISOLATE lists and undo_isolate_page_range makes them MOVABLE. */
	for (uint64_t pb = start_pfn; pb < end_pfn; pb += sys->pageblock_nr_pages) {
		set_pageblock_migratetype(sys, pb, MIGRATE_ISOLATE);
		sys->cma->saved_mt[pb >> sys->pageblock_order] = SAVED_MT_NONE;
	}
	long poisoned = 0;
	uint64_t run = start_pfn;
	for (uint64_t pfn = start_pfn; pfn < end_pfn; pfn++) {
		struct page *page = pfn_to_page(sys, pfn);
		clear_page_flag(page, PG_offline);
		/* A poisoned page stays out, as free_pages_prepare keeps it. */
		if (page_flag(page, PG_hwpoison)) {
			free_pfn_range(zone, run, pfn, MIGRATE_ISOLATE);
			run = pfn + 1;
			poisoned++;
		}
	}
	free_pfn_range(zone, run, end_pfn, MIGRATE_ISOLATE);
	mod_zone_page_state(zone, NR_ZONE_HWPOISON, poisoned);
	mod_zone_page_state(zone, NR_ZONE_OFFLINE, -(long)nr_pages);
	adjust_present(sys, zone, (long)nr_pages);
	zone_unlock_all(zone);
	pthread_mutex_unlock(&sys->tunables_lock);

	undo_isolate_page_range_locked(sys, zone, start_pfn, end_pfn, MIGRATE_MOVABLE);
	pthread_mutex_lock(&sys->tunables_lock);
	recompute_after_hotplug(sys);
	pthread_mutex_unlock(&sys->tunables_lock);
out:
	pthread_mutex_unlock(&sys->cma->lock);
	return ret;
}
