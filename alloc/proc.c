/* /proc/buddyinfo, /proc/pagetypeinfo, /proc/zoneinfo and /proc/vmstat of an
 * instance, in the text layouts of mm/vmstat.c, plus buddy_zone_info().
 *
 * Every number about one zone comes from one snapshot taken with that zone's
 * pcp locks (ascending CPU order) and then its zone lock held, the order the
 * checker uses, so the free lists, the counters and the pcp counts of a zone
 * agree with each other.  Output is written only after the locks are dropped:
 * a slow FILE (a pipe) must not stall the allocator. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* pagetypeinfo_showfree_print stops walking a free list here and prints
 * ">100000": the walk runs under the zone lock. */
#define FREECOUNT_CAP 100000UL

struct pcp_snap {
	int count, high, batch, high_min, high_max;
};

struct zone_snap {
	struct buddy_zone_info info;
	unsigned long stat[NR_VM_ZONE_STAT_ITEMS];
	unsigned long free_pages_blocks; /* NR_FREE_PAGES_BLOCKS */
	/* Blocks found by walking each free list, capped like the kernel's walk. */
	unsigned long listed[MAX_PAGE_ORDER_LIMIT + 1][MIGRATE_TYPES];
};

static struct pglist_data *node_of(struct buddy_system *sys, int nid)
{
	if (!sys || nid < 0 || nid >= sys->nr_nodes)
		return NULL;
	return sys->nodes[nid];
}

static const char *zone_label(const struct zone *z)
{
	return z->name ? z->name : buddy_zone_name(z->zid);
}

static const char *mt_label(int mt)
{
	const char *name = buddy_migratetype_name(mt);
	return name ? name : "?";
}

/* The kernel's zone_page_state() hides a transiently negative counter. */
static unsigned long stat_value(const struct zone *z, enum zone_stat_item item)
{
	long v = zone_page_state(z, item);
	return v < 0 ? 0 : (unsigned long)v;
}

static bool node_has_memory(const struct pglist_data *pgdat)
{
	for (int z = 0; z < MAX_NR_ZONES; z++)
		if (populated_zone(&pgdat->node_zones[z]))
			return true;
	return false;
}

static void lock_zone_with_pcps(struct buddy_system *sys, struct zone *z)
{
	if (z->pcp)
		for (int cpu = 0; cpu < sys->nr_cpus; cpu++)
			spin_lock(&z->pcp[cpu].lock);
	spin_lock(&z->lock);
}

static void unlock_zone_with_pcps(struct buddy_system *sys, struct zone *z)
{
	spin_unlock(&z->lock);
	if (z->pcp)
		for (int cpu = sys->nr_cpus - 1; cpu >= 0; cpu--)
			spin_unlock(&z->pcp[cpu].lock);
}

/* pagetypeinfo_showblockcount_print: one probe per pageblock stride from the
 * zone start.  A pfn without memory is skipped the way the kernel skips a pfn
 * that pfn_to_online_page() does not resolve, and a pfn of another zone (an
 * interleaved node layout) is skipped by the page_zone() test. */
static void count_pageblocks(struct buddy_system *sys, const struct zone *z,
			     unsigned long count[MIGRATE_TYPES])
{
	uint64_t end = z->zone_start_pfn + z->spanned_pages;

	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		count[mt] = 0;
	if (end > sys->max_pfn)
		end = sys->max_pfn;
	for (uint64_t pfn = z->zone_start_pfn; pfn < end; pfn += sys->pageblock_nr_pages) {
		const struct page *page = pfn_to_page(sys, pfn);
		if (!page_flag(page, PG_present) || page->nid != z->nid || page->zid != z->zid)
			continue;
		int mt = get_pfnblock_migratetype(sys, pfn);
		if (mt < MIGRATE_TYPES)
			count[mt]++;
	}
}

static unsigned long walk_free_list(const struct list_head *head)
{
	unsigned long n = 0;

	for (const struct list_head *c = head->next; c != head; c = c->next)
		if (++n >= FREECOUNT_CAP)
			break;
	return n;
}

/* What a snapshot gathers beyond the counters: walking the free lists and
 * probing every pageblock cost time under the zone lock, so only the files
 * that print them ask. */
#define SNAP_LISTS 0x1u
#define SNAP_BLOCKS 0x2u

/* Everything known about one zone, consistent at one instant.  pcps, when
 * given, receives nr_cpus entries for the pagesets of zoneinfo. */
static void snapshot_zone(struct buddy_system *sys, struct zone *z, unsigned int what, struct zone_snap *s,
			  struct pcp_snap *pcps)
{
	struct buddy_zone_info *info = &s->info;
	int this_cpu = buddy_cpu_of_thread(sys);

	memset(s, 0, sizeof(*s));
	if (pcps)
		memset(pcps, 0, sizeof(*pcps) * (size_t)sys->nr_cpus);

	lock_zone_with_pcps(sys, z);

	info->populated = populated_zone(z);
	info->start_pfn = z->zone_start_pfn;
	info->spanned = z->spanned_pages;
	info->present = z->present_pages;
	info->managed = z->managed_pages;
	for (int i = 0; i < NR_VM_ZONE_STAT_ITEMS; i++)
		s->stat[i] = stat_value(z, (enum zone_stat_item)i);
	info->free_pages = s->stat[NR_FREE_PAGES];
	info->free_cma_pages = s->stat[NR_FREE_CMA_PAGES];
	info->allocated_pages = s->stat[NR_ZONE_ALLOCATED];
	info->quarantined_pages = s->stat[NR_ZONE_QUARANTINED];
	/* As zoneinfo prints them (min_wmark_pages() and friends): boost included. */
	for (int w = 0; w < NR_WMARK; w++)
		info->wmark[w] = wmark_pages(z, w);
	info->watermark_boost = atomic_load_explicit(&z->watermark_boost, memory_order_relaxed);
	for (int i = 0; i < MAX_NR_ZONES; i++)
		info->lowmem_reserve[i] = z->lowmem_reserve[i];
	info->nr_reserved_highatomic = atomic_load_explicit(&z->nr_reserved_highatomic, memory_order_relaxed);
	long hfree = atomic_load_explicit(&z->nr_free_highatomic, memory_order_relaxed);
	info->nr_free_highatomic = hfree < 0 ? 0 : (unsigned long)hfree;

	for (unsigned int order = 0; order <= sys->max_order && order <= MAX_PAGE_ORDER_LIMIT; order++) {
		const struct free_area *area = &z->free_area[order];
		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			info->nr_free_blocks[order][mt] = area->nr_free_mt[mt];
			if (what & SNAP_LISTS)
				s->listed[order][mt] = walk_free_list(&area->free_list[mt]);
			/* __add_to_free_list counts whole non-isolated pageblocks. */
			if (order >= sys->pageblock_order && !is_migrate_isolate(mt))
				s->free_pages_blocks += area->nr_free_mt[mt] << order;
		}
	}
	if (what & SNAP_BLOCKS)
		count_pageblocks(sys, z, info->nr_pageblocks);

	if (z->pcp) {
		for (int cpu = 0; cpu < sys->nr_cpus; cpu++) {
			const struct per_cpu_pages *pcp = &z->pcp[cpu];
			info->pcp_pages += pcp->count > 0 ? (uint64_t)pcp->count : 0;
			/* high is auto-tuned per CPU: report the one the
			 * caller's next allocation will meet. */
			if (cpu == this_cpu) {
				info->pcp_high = pcp->high;
				info->pcp_batch = pcp->batch;
			}
			if (pcps)
				pcps[cpu] = (struct pcp_snap){ pcp->count, pcp->high, pcp->batch,
							       pcp->high_min, pcp->high_max };
		}
	}

	unlock_zone_with_pcps(sys, z);
}

int buddy_zone_info(struct buddy_system *sys, int nid, enum zone_type zone, struct buddy_zone_info *info)
{
	struct pglist_data *pgdat = node_of(sys, nid);
	struct zone_snap *s;

	if (!pgdat || !info || (unsigned int)zone >= MAX_NR_ZONES)
		return -EINVAL;
	/* The snapshot is a few kilobytes: keep it off small thread stacks. */
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	snapshot_zone(sys, &pgdat->node_zones[zone], SNAP_BLOCKS, s, NULL);
	*info = s->info;
	free(s);
	return 0;
}

/* ---- /proc/buddyinfo (frag_show_print) ---- */
void buddy_proc_buddyinfo(struct buddy_system *sys, FILE *out)
{
	unsigned long nr_free[MAX_PAGE_ORDER_LIMIT + 1];

	if (!sys || !out)
		return;
	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		struct pglist_data *pgdat = sys->nodes[nid];
		if (!pgdat)
			continue;
		for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
			struct zone *z = &pgdat->node_zones[zid];
			if (!populated_zone(z))
				continue;
			spin_lock(&z->lock);
			for (unsigned int order = 0; order <= sys->max_order; order++)
				nr_free[order] = z->free_area[order].nr_free;
			spin_unlock(&z->lock);

			fprintf(out, "Node %d, zone %8s ", nid, zone_label(z));
			for (unsigned int order = 0; order <= sys->max_order; order++)
				fprintf(out, "%6lu ", nr_free[order]);
			fputc('\n', out);
		}
	}
}

/* ---- /proc/pagetypeinfo (pagetypeinfo_show) ---- */
static void print_pagetypeinfo_node(struct buddy_system *sys, struct pglist_data *pgdat, struct zone_snap *snaps,
				    FILE *out)
{
	int nid = pgdat->node_id;
	bool populated[MAX_NR_ZONES];

	/* One snapshot per zone serves both tables, so they agree. */
	for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
		struct zone *z = &pgdat->node_zones[zid];
		populated[zid] = populated_zone(z);
		if (populated[zid])
			snapshot_zone(sys, z, SNAP_LISTS | SNAP_BLOCKS, &snaps[zid], NULL);
	}

	fprintf(out, "Page block order: %u\n", sys->pageblock_order);
	fprintf(out, "Pages per block:  %lu\n", sys->pageblock_nr_pages);
	fputc('\n', out);

	fprintf(out, "%-43s ", "Free pages count per migrate type at order");
	for (unsigned int order = 0; order <= sys->max_order; order++)
		fprintf(out, "%6u ", order);
	fputc('\n', out);
	for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
		if (!populated[zid])
			continue;
		const struct zone *z = &pgdat->node_zones[zid];
		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			fprintf(out, "Node %4d, zone %8s, type %12s ", nid, zone_label(z), mt_label(mt));
			for (unsigned int order = 0; order <= sys->max_order; order++) {
				unsigned long n = snaps[zid].listed[order][mt];
				fprintf(out, "%s%6lu ", n >= FREECOUNT_CAP ? ">" : "", n);
			}
			fputc('\n', out);
		}
	}

	fprintf(out, "\n%-23s", "Number of blocks type ");
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		fprintf(out, "%12s ", mt_label(mt));
	fputc('\n', out);
	for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
		if (!populated[zid])
			continue;
		fprintf(out, "Node %d, zone %8s ", nid, zone_label(&pgdat->node_zones[zid]));
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			fprintf(out, "%12lu ", snaps[zid].info.nr_pageblocks[mt]);
		fputc('\n', out);
	}
	/* The "Number of mixed blocks" table needs CONFIG_PAGE_OWNER: not modelled. */
}

void buddy_proc_pagetypeinfo(struct buddy_system *sys, FILE *out)
{
	struct zone_snap *snaps;

	if (!sys || !out)
		return;
	snaps = malloc(sizeof(*snaps) * MAX_NR_ZONES);
	if (!snaps)
		return;
	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		struct pglist_data *pgdat = sys->nodes[nid];
		/* Memoryless nodes print nothing (the N_MEMORY test). */
		if (pgdat && node_has_memory(pgdat))
			print_pagetypeinfo_node(sys, pgdat, snaps, out);
	}
	free(snaps);
}

/* ---- /proc/zoneinfo (zoneinfo_show_print) ---- */

/* Zone counters in the order of the kernel's enum zone_stat_item, then the
 * model's own, which have no kernel twin and carry a buddy_ prefix.  The LRU,
 * mlock, zspages and bounce counters are not modelled and not printed. */
enum zone_line {
	ZL_FREE_PAGES,
	ZL_FREE_PAGES_BLOCKS,
	ZL_FREE_CMA,
	ZL_ALLOCATED,
	ZL_PCP,
	ZL_QUARANTINED,
	ZL_OFFLINE,
	ZL_ISOLATED,
	NR_ZONE_LINES
};

static const char *const zone_line_names[NR_ZONE_LINES] = {
	[ZL_FREE_PAGES] = "nr_free_pages",
	[ZL_FREE_PAGES_BLOCKS] = "nr_free_pages_blocks",
	[ZL_FREE_CMA] = "nr_free_cma",
	[ZL_ALLOCATED] = "buddy_nr_allocated",
	[ZL_PCP] = "buddy_nr_pcp",
	[ZL_QUARANTINED] = "buddy_nr_quarantined",
	[ZL_OFFLINE] = "buddy_nr_offline",
	[ZL_ISOLATED] = "buddy_nr_isolated",
};

static void zone_lines(const struct zone_snap *s, unsigned long v[NR_ZONE_LINES])
{
	v[ZL_FREE_PAGES] = s->stat[NR_FREE_PAGES];
	v[ZL_FREE_PAGES_BLOCKS] = s->free_pages_blocks;
	v[ZL_FREE_CMA] = s->stat[NR_FREE_CMA_PAGES];
	v[ZL_ALLOCATED] = s->stat[NR_ZONE_ALLOCATED];
	v[ZL_PCP] = s->stat[NR_ZONE_PCP];
	v[ZL_QUARANTINED] = s->stat[NR_ZONE_QUARANTINED];
	v[ZL_OFFLINE] = s->stat[NR_ZONE_OFFLINE];
	v[ZL_ISOLATED] = s->stat[NR_ZONE_ISOLATED];
}

static void print_zoneinfo_zone(struct buddy_system *sys, struct pglist_data *pgdat, int zid,
				bool first_populated, const struct zone_snap *s, const struct pcp_snap *pcps,
				FILE *out)
{
	const struct zone *z = &pgdat->node_zones[zid];
	const struct buddy_zone_info *info = &s->info;

	fprintf(out, "Node %d, zone %8s", pgdat->node_id, zone_label(z));
	/* The kernel lists its node counters (LRU sizes, slab, dirty, ...)
	 * here.  The model keeps none of them, so the block has its title only. */
	if (first_populated)
		fprintf(out, "\n  per-node stats");
	fprintf(out,
		"\n  pages free     %lu"
		"\n        boost    %lu"
		"\n        min      %lu"
		"\n        low      %lu"
		"\n        high     %lu"
		"\n        promo    %lu"
		"\n        spanned  %lu"
		"\n        present  %lu"
		"\n        managed  %lu"
		"\n        cma      %lu",
		s->stat[NR_FREE_PAGES], info->watermark_boost, info->wmark[WMARK_MIN], info->wmark[WMARK_LOW],
		info->wmark[WMARK_HIGH], info->wmark[WMARK_PROMO], (unsigned long)info->spanned,
		(unsigned long)info->present, (unsigned long)info->managed, (unsigned long)z->cma_pages);
	fprintf(out, "\n        protection: (%ld", (long)info->lowmem_reserve[0]);
	for (int i = 1; i < MAX_NR_ZONES; i++)
		fprintf(out, ", %ld", (long)info->lowmem_reserve[i]);
	fputc(')', out);

	if (!info->populated) {
		fputc('\n', out);
		return;
	}

	unsigned long v[NR_ZONE_LINES];
	zone_lines(s, v);
	for (int i = 0; i < NR_ZONE_LINES; i++)
		fprintf(out, "\n      %-12s %lu", zone_line_names[i], v[i]);
	/* The numa_hit..numa_other events are not modelled. */

	fprintf(out, "\n  pagesets");
	for (int cpu = 0; cpu < sys->nr_cpus; cpu++) {
		const struct pcp_snap *p = &pcps[cpu];
		fprintf(out,
			"\n    cpu: %i"
			"\n              count:    %i"
			"\n              high:     %i"
			"\n              batch:    %i"
			"\n              high_min: %i"
			"\n              high_max: %i",
			cpu, p->count, p->high, p->batch, p->high_min, p->high_max);
		/* The model updates its counters exactly, with no per-CPU
		 * deltas to fold: a threshold of 0 says just that. */
		fprintf(out, "\n  vm stats threshold: %d", 0);
	}
	/* No kswapd, so no node is ever given up as unreclaimable. */
	fprintf(out,
		"\n  node_unreclaimable:  %u"
		"\n  start_pfn:           %lu"
		"\n  reserved_highatomic: %lu"
		"\n  free_highatomic:     %lu",
		0u, (unsigned long)info->start_pfn, info->nr_reserved_highatomic, info->nr_free_highatomic);
	fputc('\n', out);
}

void buddy_proc_zoneinfo(struct buddy_system *sys, FILE *out)
{
	struct zone_snap *s;
	struct pcp_snap *pcps;

	if (!sys || !out)
		return;
	s = malloc(sizeof(*s));
	pcps = calloc((size_t)sys->nr_cpus, sizeof(*pcps));
	if (!s || !pcps)
		goto out_free;
	/* Every zone of every node, populated or not, as zoneinfo_show does:
	 * lowmem_reserve_ratio acts on the set of all zones. */
	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		struct pglist_data *pgdat = sys->nodes[nid];
		bool seen_populated = false;
		if (!pgdat)
			continue;
		for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
			struct zone *z = &pgdat->node_zones[zid];
			bool first = populated_zone(z) && !seen_populated;
			if (populated_zone(z))
				seen_populated = true;
			snapshot_zone(sys, z, 0, s, pcps);
			print_zoneinfo_zone(sys, pgdat, zid, first, s, pcps, out);
		}
	}
out_free:
	free(pcps);
	free(s);
}

/* ---- /proc/vmstat (vmstat_show) ---- */
static const char *const vm_event_names[NR_BUDDY_VM_EVENTS] = {
	[PGALLOC_DMA] = "pgalloc_dma",
	[PGALLOC_DMA32] = "pgalloc_dma32",
	[PGALLOC_NORMAL] = "pgalloc_normal",
	[PGALLOC_MOVABLE] = "pgalloc_movable",
	[ALLOCSTALL_DMA] = "allocstall_dma",
	[ALLOCSTALL_DMA32] = "allocstall_dma32",
	[ALLOCSTALL_NORMAL] = "allocstall_normal",
	[ALLOCSTALL_MOVABLE] = "allocstall_movable",
	[PGFREE] = "pgfree",
	[PGSCAN_KSWAPD] = "pgscan_kswapd",
	[PGSCAN_DIRECT] = "pgscan_direct",
	[PGSTEAL_KSWAPD] = "pgsteal_kswapd",
	[PGSTEAL_DIRECT] = "pgsteal_direct",
	[COMPACTMIGRATE_SCANNED] = "compact_migrate_scanned",
	[COMPACTFREE_SCANNED] = "compact_free_scanned",
	[COMPACTISOLATED] = "compact_isolated",
	[COMPACTSTALL] = "compact_stall",
	[COMPACTFAIL] = "compact_fail",
	[COMPACTSUCCESS] = "compact_success",
	[KCOMPACTD_WAKE] = "compact_daemon_wake",
	[KSWAPD_LOW_WMARK_HIT_QUICKLY] = "kswapd_low_wmark_hit_quickly",
	[KSWAPD_HIGH_WMARK_HIT_QUICKLY] = "kswapd_high_wmark_hit_quickly",
	[PAGEOUTRUN] = "pageoutrun",
	[OOM_KILL] = "oom_kill",
	[CMA_ALLOC_SUCCESS] = "cma_alloc_success",
	[CMA_ALLOC_FAIL] = "cma_alloc_fail",
	[PGMIGRATE_SUCCESS] = "pgmigrate_success",
	[PGMIGRATE_FAIL] = "pgmigrate_fail",
	[BUDDY_ALLOC_FAIL] = "buddy_alloc_fail",
	[BUDDY_ALLOC_WARN] = "buddy_alloc_warn",
	[BUDDY_BAD_PAGE] = "buddy_bad_page",
	[BUDDY_EXTFRAG] = "buddy_extfrag",
	[BUDDY_HIGHATOMIC_RESERVE] = "buddy_highatomic_reserve",
	[BUDDY_HIGHATOMIC_UNRESERVE] = "buddy_highatomic_unreserve",
	[BUDDY_WMARK_BOOST] = "buddy_wmark_boost",
	[BUDDY_ALLOC_STALL] = "buddy_alloc_stall",
};

/* The order of vmstat_text[]: the enum above follows topics, the file
 * follows the kernel's enum vm_event_item. */
static const enum buddy_vm_event vmstat_event_order[] = {
	PGALLOC_DMA, PGALLOC_DMA32, PGALLOC_NORMAL, PGALLOC_MOVABLE,
	ALLOCSTALL_DMA, ALLOCSTALL_DMA32, ALLOCSTALL_NORMAL, ALLOCSTALL_MOVABLE,
	PGFREE,
	PGSTEAL_KSWAPD, PGSTEAL_DIRECT,
	PGSCAN_KSWAPD, PGSCAN_DIRECT,
	KSWAPD_LOW_WMARK_HIT_QUICKLY, KSWAPD_HIGH_WMARK_HIT_QUICKLY, PAGEOUTRUN,
	OOM_KILL,
	PGMIGRATE_SUCCESS, PGMIGRATE_FAIL,
	COMPACTMIGRATE_SCANNED, COMPACTFREE_SCANNED, COMPACTISOLATED,
	COMPACTSTALL, COMPACTFAIL, COMPACTSUCCESS, KCOMPACTD_WAKE,
	CMA_ALLOC_SUCCESS, CMA_ALLOC_FAIL,
	BUDDY_ALLOC_FAIL, BUDDY_ALLOC_WARN, BUDDY_BAD_PAGE, BUDDY_EXTFRAG,
	BUDDY_HIGHATOMIC_RESERVE, BUDDY_HIGHATOMIC_UNRESERVE, BUDDY_WMARK_BOOST, BUDDY_ALLOC_STALL,
};
_Static_assert(sizeof(vmstat_event_order) / sizeof(vmstat_event_order[0]) == NR_BUDDY_VM_EVENTS,
	       "a new vm event needs its place in the vmstat order and a name");

const char *buddy_vm_event_name(enum buddy_vm_event ev)
{
	if ((unsigned int)ev >= NR_BUDDY_VM_EVENTS)
		return NULL;
	return vm_event_names[ev];
}

void buddy_proc_vmstat(struct buddy_system *sys, FILE *out)
{
	unsigned long total[NR_ZONE_LINES] = { 0 };
	struct zone_snap *s;

	if (!sys || !out)
		return;
	s = malloc(sizeof(*s));
	if (!s)
		return;
	/* global_zone_page_state: the sum over every zone, one zone at a time. */
	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		struct pglist_data *pgdat = sys->nodes[nid];
		if (!pgdat)
			continue;
		for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
			unsigned long v[NR_ZONE_LINES];
			snapshot_zone(sys, &pgdat->node_zones[zid], 0, s, NULL);
			zone_lines(s, v);
			for (int i = 0; i < NR_ZONE_LINES; i++)
				total[i] += v[i];
		}
	}
	free(s);

	/* The kernel's zone counters first, its events next, the model's own last. */
	for (int i = 0; i <= ZL_FREE_CMA; i++)
		fprintf(out, "%s %lu\n", zone_line_names[i], total[i]);
	for (int i = 0; i < NR_BUDDY_VM_EVENTS; i++) {
		enum buddy_vm_event ev = vmstat_event_order[i];
		fprintf(out, "%s %llu\n", vm_event_names[ev],
			(unsigned long long)buddy_vm_event(sys, ev));
	}
	for (int i = ZL_FREE_CMA + 1; i < NR_ZONE_LINES; i++)
		fprintf(out, "%s %lu\n", zone_line_names[i], total[i]);
}
