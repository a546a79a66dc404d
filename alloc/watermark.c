/* Watermarks: min_free_kbytes, the per-zone min/low/high/promo marks,
 * lowmem_reserve, watermark boost and the watermark checks of
 * mm/page_alloc.c (__setup_per_zone_wmarks, setup_per_zone_lowmem_reserve,
 * calculate_min_free_kbytes, __zone_watermark_ok, zone_watermark_fast). */
#include <errno.h>
#include <string.h>

#include "bugs.h"
#include "internal.h"

#define SWAP_CLUSTER_MAX 32UL

#define for_each_zone(sys, zone)                                               \
	for (int _nid = 0; _nid < (sys)->nr_nodes; _nid++)                     \
		for (int _z = 0; _z < MAX_NR_ZONES; _z++)                      \
			if (((zone) = &(sys)->nodes[_nid]->node_zones[_z]), 1)

static unsigned long int_sqrt(unsigned long x)
{
	unsigned long r = 0, bit = 1UL << (sizeof(unsigned long) * 8 - 2);

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/* nr_free_buffer_pages(): managed pages above the high watermark in every
 * zone a GFP_USER allocation may use (all but ZONE_MOVABLE). */
static unsigned long nr_free_buffer_pages(struct buddy_system *sys)
{
	struct zone *zone;
	unsigned long sum = 0;

	for_each_zone(sys, zone) {
		if (zone->zid > ZONE_NORMAL)
			continue;
		unsigned long high = zone->_watermark[WMARK_HIGH];
		if (zone->managed_pages > high)
			sum += zone->managed_pages - high;
	}
	return sum;
}

long calculate_min_free_kbytes(struct buddy_system *sys)
{
	unsigned long lowmem_kbytes = nr_free_buffer_pages(sys) * (PAGE_SIZE >> 10);
	long kbytes = (long)int_sqrt(lowmem_kbytes * 16);

	if (kbytes < 128)
		kbytes = 128;
	if (kbytes > 262144)
		kbytes = 262144;
	return kbytes;
}

void setup_per_zone_wmarks(struct buddy_system *sys)
{
	unsigned long pages_min = (unsigned long)sys->min_free_kbytes >> (PAGE_SHIFT - 10);
	unsigned long lowmem_pages = 0;
	struct zone *zone;

	for_each_zone(sys, zone)
		if (zone->zid != ZONE_MOVABLE)
			lowmem_pages += zone->managed_pages;

	for_each_zone(sys, zone) {
		spin_lock(&zone->lock);
		unsigned long tmp = lowmem_pages ? (unsigned long)((unsigned __int128)pages_min * zone->managed_pages /
								   lowmem_pages)
						 : 0;
		if (zone->zid == ZONE_MOVABLE) {
			/* __GFP_HIGH and PF_MEMALLOC allocations rarely need
			 * movable pages, so their share of min is capped small. */
			unsigned long min_pages = zone->managed_pages / 1024;
			if (min_pages < SWAP_CLUSTER_MAX)
				min_pages = SWAP_CLUSTER_MAX;
			if (min_pages > 128)
				min_pages = 128;
			zone->_watermark[WMARK_MIN] = min_pages;
		} else {
			zone->_watermark[WMARK_MIN] = tmp;
		}
		/* The kswapd gaps scale with memory but never fall below a
		 * quarter of min on small machines. */
		unsigned long scaled = (unsigned long)((unsigned __int128)zone->managed_pages *
						       (unsigned long)sys->watermark_scale_factor / 10000);
		tmp = tmp >> 2 > scaled ? tmp >> 2 : scaled;
		atomic_store_explicit(&zone->watermark_boost, 0, memory_order_relaxed);
		zone->_watermark[WMARK_LOW] = zone->_watermark[WMARK_MIN] + tmp;
		zone->_watermark[WMARK_HIGH] = zone->_watermark[WMARK_LOW] + tmp;
		zone->_watermark[WMARK_PROMO] = zone->_watermark[WMARK_HIGH] + tmp;
		spin_unlock(&zone->lock);
	}
}

void setup_per_zone_lowmem_reserve(struct buddy_system *sys)
{
	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		struct pglist_data *pgdat = sys->nodes[nid];
		for (int i = 0; i < MAX_NR_ZONES - 1; i++) {
			struct zone *zone = &pgdat->node_zones[i];
			int ratio = sys->lowmem_reserve_ratio[i];
			bool clear = !ratio || !zone->managed_pages;
			unsigned long managed = 0;
			for (int j = i + 1; j < MAX_NR_ZONES; j++) {
				managed += pgdat->node_zones[j].managed_pages;
				zone->lowmem_reserve[j] = clear ? 0 : managed / (unsigned long)ratio;
			}
		}
		/* The highest zone protects nothing above it. */
		for (int j = 0; j < MAX_NR_ZONES; j++)
			pgdat->node_zones[MAX_NR_ZONES - 1].lowmem_reserve[j] = 0;
	}
}

bool __zone_watermark_ok(struct zone *z, unsigned int order, unsigned long mark, int highest_zoneidx,
			 unsigned int alloc_flags, long free_pages)
{
	if (!zone_watermark_free_ok(z, order, mark, highest_zoneidx, alloc_flags, free_pages))
		return false;
	if (!order)
		return true;
	/* A high-order request also needs a block it may take. */
	for (unsigned int o = order; o <= z->sys->max_order; o++) {
		struct free_area *area = &z->free_area[o];
		if (!counter_read(&area->nr_free))
			continue;
		for (int mt = 0; mt < MIGRATE_PCPTYPES; mt++)
			if (counter_read(&area->nr_free_mt[mt]))
				return true;
		if ((alloc_flags & ALLOC_CMA) && counter_read(&area->nr_free_mt[MIGRATE_CMA]))
			return true;
		if ((alloc_flags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) && counter_read(&area->nr_free_mt[MIGRATE_HIGHATOMIC]))
			return true;
	}
	return false;
}

bool zone_watermark_fast(struct zone *z, unsigned int order, unsigned long mark, int highest_zoneidx,
			 unsigned int alloc_flags, gfp_t gfp)
{
	long free_pages = zone_page_state(z, NR_FREE_PAGES);
	(void)gfp;

	/* Order-0 shortcut: most allocations pass here without touching the
	 * free areas. */
	if (!order && zone_watermark_order0_clear(z, free_pages, mark, highest_zoneidx, alloc_flags))
		return true;
	if (__zone_watermark_ok(z, order, mark, highest_zoneidx, alloc_flags, free_pages))
		return true;
	/* __GFP_HIGH order-0 requests ignore the boost when checking min. */
	if (!order && (alloc_flags & ALLOC_MIN_RESERVE) &&
	    atomic_load_explicit(&z->watermark_boost, memory_order_relaxed) &&
	    (alloc_flags & ALLOC_WMARK_MASK) == WMARK_MIN)
		return __zone_watermark_ok(z, order, z->_watermark[WMARK_MIN], highest_zoneidx, alloc_flags,
					   free_pages);
	return false;
}

bool boost_watermark(struct zone *zone)
{
	struct buddy_system *sys = zone->sys;

	if (!sys->watermark_boost_factor)
		return false;
	/* Boosting a tiny zone would push it straight into OOM. */
	if (sys->pageblock_nr_pages * 4 > zone->managed_pages)
		return false;
	unsigned long max_boost = zone->_watermark[WMARK_HIGH] * (unsigned long)sys->watermark_boost_factor / 10000;
	if (!max_boost)
		return false;
	if (max_boost < sys->pageblock_nr_pages)
		max_boost = sys->pageblock_nr_pages;
	unsigned long boost = atomic_load_explicit(&zone->watermark_boost, memory_order_relaxed) +
			      sys->pageblock_nr_pages;
	atomic_store_explicit(&zone->watermark_boost, boost < max_boost ? boost : max_boost, memory_order_relaxed);
	count_vm_events(sys, BUDDY_WMARK_BOOST, 1);
	return true;
}

/* ---- public ---- */
static struct zone *lookup_zone(struct buddy_system *sys, int nid, enum zone_type zid)
{
	if (!sys || nid < 0 || nid >= sys->nr_nodes || (unsigned)zid >= MAX_NR_ZONES)
		return NULL;
	return &sys->nodes[nid]->node_zones[zid];
}

bool buddy_zone_watermark_ok(struct buddy_system *sys, int nid, enum zone_type zid, unsigned int order,
			     unsigned long mark, enum zone_type highest_zoneidx, unsigned int alloc_flags)
{
	struct zone *z = lookup_zone(sys, nid, zid);

	if (!z || order > sys->max_order || (unsigned)highest_zoneidx >= MAX_NR_ZONES)
		return false;
	return __zone_watermark_ok(z, order, mark, highest_zoneidx, alloc_flags, zone_page_state(z, NR_FREE_PAGES));
}

unsigned long buddy_zone_wmark(struct buddy_system *sys, int nid, enum zone_type zid, enum zone_watermarks which)
{
	struct zone *z = lookup_zone(sys, nid, zid);

	if (!z || (unsigned)which >= NR_WMARK)
		return 0;
	return wmark_pages(z, which);
}

static void recompute_after_tunable(struct buddy_system *sys)
{
	setup_per_zone_wmarks(sys);
	setup_per_zone_lowmem_reserve(sys);
	for (int nid = 0; nid < sys->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			zone_pcp_update(&sys->nodes[nid]->node_zones[z]);
}

int buddy_set_min_free_kbytes(struct buddy_system *sys, long kbytes)
{
	if (!sys || kbytes < 0)
		return -EINVAL;
	pthread_mutex_lock(&sys->tunables_lock);
	if (kbytes == 0) {
		sys->user_min_free_kbytes = false;
		sys->min_free_kbytes = calculate_min_free_kbytes(sys);
	} else {
		sys->user_min_free_kbytes = true;
		sys->min_free_kbytes = kbytes;
	}
	recompute_after_tunable(sys);
	pthread_mutex_unlock(&sys->tunables_lock);
	return 0;
}

int buddy_set_watermark_scale_factor(struct buddy_system *sys, int factor)
{
	/* The sysctl's own bounds. */
	if (!sys || factor < 1 || factor > 3000)
		return -EINVAL;
	pthread_mutex_lock(&sys->tunables_lock);
	sys->watermark_scale_factor = factor;
	recompute_after_tunable(sys);
	pthread_mutex_unlock(&sys->tunables_lock);
	return 0;
}

int buddy_set_lowmem_reserve_ratio(struct buddy_system *sys, const int ratio[MAX_NR_ZONES])
{
	if (!sys || !ratio)
		return -EINVAL;
	for (int i = 0; i < MAX_NR_ZONES; i++)
		if (ratio[i] < 0)
			return -EINVAL;
	pthread_mutex_lock(&sys->tunables_lock);
	memcpy(sys->lowmem_reserve_ratio, ratio, sizeof(sys->lowmem_reserve_ratio));
	setup_per_zone_lowmem_reserve(sys);
	pthread_mutex_unlock(&sys->tunables_lock);
	return 0;
}
