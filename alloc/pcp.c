/* Per-CPU page lists (mm/page_alloc.c: rmqueue_pcplist, rmqueue_bulk,
 * nr_pcp_alloc, free_unref_page_commit, nr_pcp_high, nr_pcp_free,
 * free_pcppages_bulk, drain_pages_zone, zone_batchsize, zone_highsize).
 *
 * Each pcp has its own lock.  The allocating or freeing CPU takes it with a
 * trylock, as spin_trylock does, and goes straight to the zone if it is
 * busy; drains take it normally.  Order: pcp lock, then zone lock.  The
 * lock's owner entry, which spares the steady user of a pcp its locked
 * instruction, is described in spinlock.h. */
#include <errno.h>
#include <stdlib.h>

#include "bugs.h"
#include "internal.h"

/* MIN_PERCPU_PAGELIST_HIGH_FRACTION: high_max is managed/8 over the CPUs */
#define MIN_PERCPU_PAGELIST_HIGH_FRACTION 8

unsigned int pindex_to_order(const struct buddy_system *sys, int pindex)
{
	if (pindex >= NR_LOWORDER_PCP_LISTS)
		return sys->pageblock_order;
	return (unsigned int)(pindex / MIGRATE_PCPTYPES);
}

/* ---- sizing ---- */
static int zone_batchsize(const struct zone *zone)
{
	/* About a quarter of a megabyte, at most 1/4096 of the zone, rounded
	 * to 2^n - 1 so that batches do not alias the cache. */
	unsigned long batch = zone->managed_pages >> 10;

	if (batch > (1UL << 20) / PAGE_SIZE)
		batch = (1UL << 20) / PAGE_SIZE;
	batch /= 4;
	if (batch < 1)
		batch = 1;
	unsigned long x = batch + batch / 2, p = 1;
	while (p * 2 <= x)
		p *= 2;
	return (int)(p - 1);
}

static int zone_highsize(const struct zone *zone, int batch, int high_fraction)
{
	const struct buddy_system *sys = zone->sys;
	unsigned long total = high_fraction ? zone->managed_pages / (unsigned long)high_fraction
					    : zone->_watermark[WMARK_LOW];
	int nr_split_cpus = sys->nodes[zone->nid]->nr_cpus;

	if (!nr_split_cpus)
		nr_split_cpus = sys->nr_cpus;
	long high = (long)(total / (unsigned long)nr_split_cpus);
	if (high < (long)batch << 2)
		high = (long)batch << 2;
	return high > 0x3fffffff ? 0x3fffffff : (int)high;
}

static void pcp_set_high_and_batch(struct zone *zone, struct per_cpu_pages *pcp)
{
	const struct buddy_system *sys = zone->sys;

	if (pcp->fixed)
		return;
	/* A batch of 0 would keep freed pages on the pcp for good. */
	int batch = zone_batchsize(zone);
	if (batch < 1)
		batch = 1;
	pcp->batch = batch;
	pcp->high_min = zone_highsize(zone, batch, sys->opts.percpu_pagelist_high_fraction);
	pcp->high_max = zone_highsize(zone, batch, MIN_PERCPU_PAGELIST_HIGH_FRACTION);
	if (pcp->high_max < pcp->high_min)
		pcp->high_max = pcp->high_min;
	if (pcp->high < pcp->high_min)
		pcp->high = pcp->high_min;
	if (pcp->high > pcp->high_max)
		pcp->high = pcp->high_max;
}

int pcp_init_zone(struct zone *zone)
{
	int nr_cpus = zone->sys->nr_cpus;

	zone->pcp = calloc((size_t)nr_cpus, sizeof(*zone->pcp));
	if (!zone->pcp)
		return -ENOMEM;
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		struct per_cpu_pages *pcp = &zone->pcp[cpu];
		spin_lock_init(&pcp->lock, zone->sys->spin_bias, SPIN_SLOT_PCP);
		for (int i = 0; i < NR_PCP_LISTS; i++)
			INIT_LIST_HEAD(&pcp->lists[i]);
		pcp_set_high_and_batch(zone, pcp);
	}
	return 0;
}

static void free_pcppages_bulk(struct zone *zone, int count, struct per_cpu_pages *pcp, int pindex);

/* New sizes after a tunable or memory change.  A list above its new high
 * is brought down now: the kernel leaves that to later frees and the
 * vmstat worker, which the model does not have.  No zone lock held. */
void zone_pcp_update(struct zone *zone)
{
	if (!zone->pcp)
		return;
	for (int cpu = 0; cpu < zone->sys->nr_cpus; cpu++) {
		struct per_cpu_pages *pcp = &zone->pcp[cpu];
		spin_lock(&pcp->lock);
		pcp_set_high_and_batch(zone, pcp);
		if (pcp->high && pcp->count > pcp->high)
			free_pcppages_bulk(zone, pcp->count - pcp->high, pcp, 0);
		spin_unlock(&pcp->lock);
	}
}

void pcp_destroy_zone(struct zone *zone)
{
	for (int cpu = 0; cpu < zone->sys->nr_cpus; cpu++)
		spin_lock_destroy(&zone->pcp[cpu].lock);
	free(zone->pcp);
	zone->pcp = NULL;
}

/* Fold this CPU's counter parts into the zone's counters (the kernel's
 * refresh_cpu_vm_stats), at the refills and drains that take the zone lock
 * anyway.  pcp->lock and zone->lock held: the zone parts of these counters
 * change only under zone->lock (zone_counter_add_locked). */
static void fold_pcp_zone_stats(struct zone *zone, struct per_cpu_pages *pcp)
{
	for (int i = 0; i < NR_VM_ZONE_STAT_ITEMS; i++) {
		if (!zone_stat_has_pcp_part((enum zone_stat_item)i))
			continue;
		long d = atomic_load_explicit(&pcp->vm_stat_diff[i], memory_order_relaxed);
		if (!d)
			continue;
		atomic_store_explicit(&pcp->vm_stat_diff[i], 0, memory_order_relaxed);
		zone_counter_add_locked(&zone->vm_stat[i], d);
	}
}

/* rmqueue_bulk(): count blocks from the zone onto one pcp list. */
static int rmqueue_bulk(struct zone *zone, struct per_cpu_pages *pcp, int cpu, unsigned int order, int count,
			int mt, unsigned int alloc_flags)
{
	int mode = 0, i;

	spin_lock(&zone->lock);
	for (i = 0; i < count; i++) {
		struct page *page = __rmqueue(zone, order, mt, alloc_flags, &mode);
		if (!page)
			break;
		pcp_list_add(zone, pcp, cpu, page, order, mt, true);
	}
	fold_pcp_zone_stats(zone, pcp);
	spin_unlock(&zone->lock);
	return i;
}

/* nr_pcp_alloc(): how many to refill.  Runs of order-0 allocations without
 * a free in between double the batch, up to 2^PCP_BATCH_SCALE_MAX. */
static int nr_pcp_alloc(struct per_cpu_pages *pcp, struct zone *zone, unsigned int order)
{
	int base_batch = pcp->batch, batch;
	int high_min = pcp->high_min, high_max = pcp->high_max;
	int high = pcp->high;

	high = high < high_min ? high_min : high > high_max ? high_max : high;
	pcp->high = high;
	if (high < base_batch)
		return 1; /* pcp disabled */
	batch = order ? base_batch : base_batch << pcp->alloc_factor;
	if (high_min != high_max && !atomic_load_explicit(&zone->below_high, memory_order_relaxed)) {
		pcp->high = high + batch < high_max ? high + batch : high_max;
		high = pcp->high;
	}
	if (!order) {
		int max_nr_alloc = high - pcp->count - base_batch;
		if (max_nr_alloc < base_batch)
			max_nr_alloc = base_batch;
		if (batch <= max_nr_alloc && pcp->alloc_factor < PCP_BATCH_SCALE_MAX)
			pcp->alloc_factor++;
		if (batch > max_nr_alloc)
			batch = max_nr_alloc;
	}
	if (batch > 1) {
		batch >>= order;
		if (batch < 2)
			batch = 2;
	}
	return batch;
}

static struct page *__rmqueue_pcplist(struct zone *zone, struct per_cpu_pages *pcp, int cpu, unsigned int order,
				      int mt, unsigned int alloc_flags)
{
	int pindex = order_to_pindex(zone->sys, mt, order);
	struct list_head *list = &pcp->lists[pindex];

	if (list_empty(list)) {
		int batch = nr_pcp_alloc(pcp, zone, order);
		if (!rmqueue_bulk(zone, pcp, cpu, order, batch, mt, alloc_flags))
			return NULL;
	}
	struct page *page = container_of(list->next, struct page, lru);
	pcp_list_del(zone, pcp, page, pindex);
	return page;
}

struct page *rmqueue_pcplist(struct zone *zone, int cpu, unsigned int order, int mt, unsigned int alloc_flags)
{
	struct per_cpu_pages *pcp = &zone->pcp[cpu];

	if (!spin_trylock(&pcp->lock))
		return NULL;
	/* An allocation ends a run of frees. */
	pcp->free_count >>= 1;
	struct page *page = __rmqueue_pcplist(zone, pcp, cpu, order, mt, alloc_flags);
	if (page)
		pcp_page_set_allocated(pcp, page, order, mt);
	spin_unlock(&pcp->lock);
	return page;
}

size_t rmqueue_pcplist_bulk(struct zone *zone, int cpu, int mt, unsigned int alloc_flags, size_t nr,
			    struct page **out)
{
	struct per_cpu_pages *pcp = &zone->pcp[cpu];
	size_t done = 0;

	spin_lock(&pcp->lock);
	pcp->free_count >>= 1;
	while (done < nr) {
		struct page *page = __rmqueue_pcplist(zone, pcp, cpu, 0, mt, alloc_flags);
		if (!page)
			break;
		pcp_page_set_allocated(pcp, page, 0, mt);
		out[done++] = page;
	}
	spin_unlock(&pcp->lock);
	return done;
}

/* ---- freeing ---- */
/* free_pcppages_bulk(): give count pages back to the zone, round-robin over
 * the lists from their tails, starting with the list just freed to. */
static void free_pcppages_bulk(struct zone *zone, int count, struct per_cpu_pages *pcp, int pindex)
{
	struct buddy_system *sys = zone->sys;

	if (count > pcp->count)
		count = pcp->count;
	if (count <= 0)
		return;
	pindex--;
	spin_lock(&zone->lock);
	while (count > 0) {
		struct list_head *list;
		do {
			if (++pindex > NR_PCP_LISTS - 1)
				pindex = 0;
			list = &pcp->lists[pindex];
		} while (list_empty(list));
		do {
			struct page *page = container_of(list->prev, struct page, lru);
			unsigned int order = page->order;
			uint64_t pfn = page_to_pfn(sys, page);
			pcp_list_del(zone, pcp, page, pindex);
			page_flags_store_locked(page, page_flags(page) & ~PAGE_FLAG(PG_pcp));
#ifdef BUDDY_BUG_PCP_BULK_COUNT
			pcp->count += (1 << order) - 1;
#endif
			count -= 1 << order;
			/* The block goes to its pageblock's list as it is now, not
			 * as it was when the block was put on the pcp. */
			__free_one_page(zone, page, pfn, order, get_pfnblock_migratetype(sys, pfn));
		} while (count > 0 && !list_empty(list));
	}
	fold_pcp_zone_stats(zone, pcp);
	spin_unlock(&zone->lock);
}

static int nr_pcp_free(struct per_cpu_pages *pcp, int batch, int high, bool free_high)
{
	if (free_high) {
		int most = batch << PCP_BATCH_SCALE_MAX;
		return pcp->count < most ? pcp->count : most;
	}
	if (high < batch)
		return 1;
	/* Leave at least a batch behind; free more the longer the run of frees. */
	int min_nr_free = batch, max_nr_free = high - batch;
	int n = pcp->free_count;
	if (n > max_nr_free)
		n = max_nr_free;
	if (n < min_nr_free)
		n = min_nr_free;
	return n;
}

/* The end of free_unref_page_commit() when the list reached high: out of
 * line, as it takes the zone lock. */
void free_unref_page_drain(struct zone *zone, struct per_cpu_pages *pcp, int pindex, int batch, int high,
			   bool free_high)
{
	free_pcppages_bulk(zone, nr_pcp_free(pcp, batch, high, free_high), pcp, pindex);
	if (atomic_load_explicit(&zone->below_high, memory_order_relaxed) &&
	    __zone_watermark_ok(zone, 0, wmark_pages(zone, WMARK_HIGH), ZONE_MOVABLE, 0,
				zone_page_state(zone, NR_FREE_PAGES)))
		atomic_store_explicit(&zone->below_high, false, memory_order_relaxed);
}

void drain_zone_pages(struct zone *zone, int cpu)
{
	struct per_cpu_pages *pcp = &zone->pcp[cpu];

	spin_lock(&pcp->lock);
	free_pcppages_bulk(zone, pcp->count, pcp, 0);
	spin_unlock(&pcp->lock);
}

/* ---- public ---- */
void buddy_drain_cpu_pages(struct buddy_system *sys, int cpu)
{
	if (!sys || cpu < 0 || cpu >= sys->nr_cpus)
		return;
	for (int nid = 0; nid < sys->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &sys->nodes[nid]->node_zones[z];
			if (populated_zone(zone))
				drain_zone_pages(zone, cpu);
		}
}

void buddy_drain_local_pages(struct buddy_system *sys)
{
	if (sys)
		buddy_drain_cpu_pages(sys, buddy_cpu_of_thread(sys));
}

void buddy_drain_all_pages(struct buddy_system *sys)
{
	if (!sys)
		return;
	for (int cpu = 0; cpu < sys->nr_cpus; cpu++)
		buddy_drain_cpu_pages(sys, cpu);
}

int buddy_set_pcp_high_batch(struct buddy_system *sys, int high, int batch)
{
	if (!sys || high < 0 || batch < 0 || (high == 0) != (batch == 0))
		return -EINVAL;
	/* Bounds far above any real pcp, that keep batch << PCP_BATCH_SCALE_MAX
	 * and the free counts inside an int. */
	if (high > (1 << 24) || batch > (1 << 16))
		return -EINVAL;
	/* A high below the batch would disable the pcp; the kernel refuses
	 * that for the fraction sysctl too. */
	if (high && high < batch)
		return -EINVAL;
	pthread_mutex_lock(&sys->tunables_lock);
	for (int nid = 0; nid < sys->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &sys->nodes[nid]->node_zones[z];
			for (int cpu = 0; cpu < sys->nr_cpus; cpu++) {
				struct per_cpu_pages *pcp = &zone->pcp[cpu];
				spin_lock(&pcp->lock);
				pcp->fixed = high != 0;
				if (high) {
					pcp->batch = batch;
					pcp->high = pcp->high_min = pcp->high_max = high;
				} else {
					pcp_set_high_and_batch(zone, pcp);
				}
				/* Bring the list under the new high at once. */
				if (pcp->count >= pcp->high && pcp->high)
					free_pcppages_bulk(zone, pcp->count - pcp->high + 1, pcp, 0);
				spin_unlock(&pcp->lock);
			}
		}
	pthread_mutex_unlock(&sys->tunables_lock);
	return 0;
}
