/* Topology to allocator: nodes, zones, the page records, zonelists, and the
 * first free of all memory into the buddy lists (mm/mm_init.c,
 * build_all_zonelists in mm/page_alloc.c).  Also the per-thread CPU binding
 * and the log ring. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fault_inject.h"
#include "internal.h"
#include "isolation.h"

static void set_error(struct buddy_error *err, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(struct buddy_error *err, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	snprintf(err->field, sizeof(err->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* ---- CPU binding ----
 * A thread may use several instances; each remembers its own binding.  The
 * table is per thread (like the kernel's per-CPU current), not shared state. */
_Thread_local struct cpu_binding thread_bindings[BINDINGS_PER_THREAD];
static _Thread_local unsigned int thread_binding_next;

int buddy_bind_cpu(struct buddy_system *sys, int cpu)
{
	if (!sys || cpu < 0 || cpu >= sys->nr_cpus)
		return -EINVAL;
	for (int i = 0; i < BINDINGS_PER_THREAD; i++) {
		if (thread_bindings[i].sys == sys) {
			thread_bindings[i].cpu = cpu;
			return 0;
		}
	}
	thread_bindings[thread_binding_next % BINDINGS_PER_THREAD] = (struct cpu_binding){ sys, cpu };
	thread_binding_next++;
	return 0;
}

int buddy_current_cpu(const struct buddy_system *sys)
{
	return sys ? buddy_cpu_of_thread(sys) : -EINVAL;
}

/* ---- log ring ---- */
void buddy_log(struct buddy_system *sys, const char *fmt, ...)
{
	char line[BUDDY_LOG_LINE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&sys->report_lock);
	memcpy(sys->log_ring[sys->log_head % BUDDY_LOG_LINES], line, sizeof(line));
	sys->log_head++;
	pthread_mutex_unlock(&sys->report_lock);
	if (sys->opts.log)
		sys->opts.log(sys->opts.log_ctx, line);
}

size_t buddy_log_read(struct buddy_system *sys, char *buf, size_t len)
{
	size_t used = 0;

	if (!sys || !buf || !len)
		return 0;
	buf[0] = '\0';
	pthread_mutex_lock(&sys->report_lock);
	unsigned long first = sys->log_head > BUDDY_LOG_LINES ? sys->log_head - BUDDY_LOG_LINES : 0;
	for (unsigned long i = first; i < sys->log_head; i++) {
		int n = snprintf(buf + used, len - used, "%s\n", sys->log_ring[i % BUDDY_LOG_LINES]);
		if (n < 0 || (size_t)n >= len - used) {
			used = len - 1;
			break;
		}
		used += (size_t)n;
	}
	pthread_mutex_unlock(&sys->report_lock);
	return used;
}

/* ---- zonelists (build_all_zonelists) ---- */
static int node_distance(const struct buddy_system *sys, int a, int b)
{
	return sys->topo.distance[a][b];
}

/* find_next_best_node: nearest unused node, preferring nodes without CPUs
 * and spreading equal-distance nodes by node_load, as the kernel does. */
static int find_next_best_node(const struct buddy_system *sys, int node, bool *used, int *node_load)
{
	int best = -1, min_val = 0x7fffffff;

	if (!used[node]) {
		used[node] = true;
		return node;
	}
	for (int n = 0; n < sys->nr_nodes; n++) {
		if (used[n])
			continue;
		int val = node_distance(sys, node, n);
		val += (n < node);
		if (sys->nodes[n]->nr_cpus)
			val += 1; /* PENALTY_FOR_NODE_WITH_CPUS */
		val *= BUDDY_MAX_NODES;
		val += node_load[n];
		if (val < min_val) {
			min_val = val;
			best = n;
		}
	}
	if (best >= 0)
		used[best] = true;
	return best;
}

static void build_zonelists(struct buddy_system *sys, int local, int *node_load)
{
	struct pglist_data *pgdat = sys->nodes[local];
	bool used[BUDDY_MAX_NODES] = { false };
	int order[BUDDY_MAX_NODES], nr = 0, load = sys->nr_online_nodes, prev = local, node;

	while ((node = find_next_best_node(sys, local, used, node_load)) >= 0) {
		if (node_distance(sys, local, node) != node_distance(sys, local, prev))
			node_load[node] += load;
		order[nr++] = node;
		prev = node;
		load--;
	}
	pgdat->nr_zonerefs = 0;
	for (int i = 0; i < nr; i++) {
		struct pglist_data *n = sys->nodes[order[i]];
		for (int z = MAX_NR_ZONES - 1; z >= 0; z--)
			if (populated_zone(&n->node_zones[z]))
				pgdat->zonerefs[pgdat->nr_zonerefs++] = &n->node_zones[z];
	}
	pgdat->nr_zonerefs_nofallback = 0;
	for (int z = MAX_NR_ZONES - 1; z >= 0; z--)
		if (populated_zone(&pgdat->node_zones[z]))
			pgdat->zonerefs_nofallback[pgdat->nr_zonerefs_nofallback++] = &pgdat->node_zones[z];
	for (int highest = 0; highest < MAX_NR_ZONES; highest++) {
		pgdat->first_zone[highest] = NULL;
		for (int i = 0; i < pgdat->nr_zonerefs && !pgdat->first_zone[highest]; i++)
			if ((int)pgdat->zonerefs[i]->zid <= highest)
				pgdat->first_zone[highest] = pgdat->zonerefs[i];
	}
}

static void build_all_zonelists(struct buddy_system *sys)
{
	int node_load[BUDDY_MAX_NODES] = { 0 };

	for (int nid = 0; nid < sys->nr_nodes; nid++)
		build_zonelists(sys, nid, node_load);
}

int buddy_zonelist(struct buddy_system *sys, int nid, bool nofallback, int *entries, int max)
{
	if (!sys || nid < 0 || nid >= sys->nr_nodes || !entries || max < 0)
		return -EINVAL;
	struct pglist_data *pgdat = sys->nodes[nid];
	int n = nofallback ? pgdat->nr_zonerefs_nofallback : pgdat->nr_zonerefs;
	struct zone **refs = nofallback ? pgdat->zonerefs_nofallback : pgdat->zonerefs;
	for (int i = 0; i < n && i < max; i++)
		entries[i] = refs[i]->nid * MAX_NR_ZONES + (int)refs[i]->zid;
	return n;
}

/* ---- memory map ---- */
static uint64_t hole_overlap(const struct buddy_topology *topo, uint64_t start, uint64_t end)
{
	uint64_t total = 0;

	for (int h = 0; h < topo->nr_holes; h++) {
		uint64_t s = topo->holes[h].start_pfn > start ? topo->holes[h].start_pfn : start;
		uint64_t e = topo->holes[h].end_pfn < end ? topo->holes[h].end_pfn : end;
		if (e > s)
			total += e - s;
	}
	return total;
}

static bool pfn_in_hole(const struct buddy_topology *topo, uint64_t pfn)
{
	for (int h = 0; h < topo->nr_holes; h++)
		if (pfn >= topo->holes[h].start_pfn && pfn < topo->holes[h].end_pfn)
			return true;
	return false;
}

/* The next pfn >= pfn where the run of present pages or of pageblock types
 * can change: a hole edge, a CMA edge or the end. */
static uint64_t next_boundary(const struct buddy_topology *topo, uint64_t pfn, uint64_t end)
{
	uint64_t next = end;

	for (int h = 0; h < topo->nr_holes; h++) {
		if (topo->holes[h].start_pfn > pfn && topo->holes[h].start_pfn < next)
			next = topo->holes[h].start_pfn;
		if (topo->holes[h].end_pfn > pfn && topo->holes[h].end_pfn < next)
			next = topo->holes[h].end_pfn;
	}
	for (int c = 0; c < topo->nr_cma; c++) {
		if (topo->cma[c].start_pfn > pfn && topo->cma[c].start_pfn < next)
			next = topo->cma[c].start_pfn;
		if (topo->cma[c].end_pfn > pfn && topo->cma[c].end_pfn < next)
			next = topo->cma[c].end_pfn;
	}
	return next;
}

static void memmap_init_zone(struct buddy_system *sys, struct zone *zone)
{
	uint64_t start = zone->zone_start_pfn, end = start + zone->spanned_pages;

	for (uint64_t pfn = start; pfn < end;) {
		uint64_t stop = next_boundary(&sys->topo, pfn, end);
		if (!pfn_in_hole(&sys->topo, pfn)) {
			for (uint64_t p = pfn; p < stop; p++) {
				struct page *page = pfn_to_page(sys, p);
				page_flags_store(page, PAGE_FLAG(PG_present));
				page->nid = (uint8_t)zone->nid;
				page->zid = (uint8_t)zone->zid;
			}
		}
		pfn = stop;
	}
}

/* Every pageblock starts MOVABLE, as memmap_init_range marks them (UNMOVABLE
 * when grouping by mobility is off: set_pageblock_migratetype folds it). */
static void init_zone_pageblocks(struct buddy_system *sys, struct zone *zone)
{
	uint64_t start = zone->zone_start_pfn, end = start + zone->spanned_pages;

	for (uint64_t pfn = start & ~(sys->pageblock_nr_pages - 1); pfn < end; pfn += sys->pageblock_nr_pages)
		set_pageblock_migratetype(sys, pfn, MIGRATE_MOVABLE);
}

static void init_cma_areas(struct buddy_system *sys)
{
	for (int c = 0; c < sys->topo.nr_cma; c++) {
		const struct buddy_pfn_range *r = &sys->topo.cma[c];
		struct zone *zone = page_zone(sys, pfn_to_page(sys, r->start_pfn));
		for (uint64_t pfn = r->start_pfn; pfn < r->end_pfn; pfn += sys->pageblock_nr_pages) {
			atomic_store_explicit(&sys->pageblock_flags[pfn >> sys->pageblock_order], MIGRATE_CMA,
					      memory_order_relaxed);
			zone->cma_pages += sys->pageblock_nr_pages;
		}
	}
}

/* memblock_free_all: hand every present page to the buddy allocator in the
 * largest aligned blocks, split where holes or CMA areas begin and end. */
static void free_all_zone_pages(struct buddy_system *sys, struct zone *zone)
{
	uint64_t start = zone->zone_start_pfn, end = start + zone->spanned_pages;

	for (uint64_t pfn = start; pfn < end;) {
		uint64_t stop = next_boundary(&sys->topo, pfn, end);
		if (pfn_in_hole(&sys->topo, pfn)) {
			pfn = stop;
			continue;
		}
		while (pfn < stop) {
			unsigned int order = sys->max_order;
			while (order && ((pfn & ((1ULL << order) - 1)) || pfn + (1ULL << order) > stop))
				order--;
			struct page *page = pfn_to_page(sys, pfn);
			if (sys->backing)
				backing_on_free(sys, pfn, order);
			__free_one_page(zone, page, pfn, order, get_pfnblock_migratetype(sys, pfn));
			pfn += 1ULL << order;
		}
	}
}

static void *map_anonymous(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void init_zone(struct buddy_system *sys, struct pglist_data *pgdat, enum zone_type zid)
{
	struct zone *zone = &pgdat->node_zones[zid];
	const struct buddy_pfn_range *r = &sys->topo.zones[pgdat->node_id][zid];

	zone->sys = sys;
	zone->nid = pgdat->node_id;
	zone->zid = zid;
	zone->name = buddy_zone_name(zid);
	spin_lock_init(&zone->lock, sys->spin_bias, SPIN_SLOT_ZONE);
	for (unsigned int o = 0; o <= MAX_PAGE_ORDER_LIMIT; o++)
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			INIT_LIST_HEAD(&zone->free_area[o].free_list[mt]);
	zone->zone_start_pfn = r->start_pfn;
	zone->spanned_pages = r->end_pfn - r->start_pfn;
	zone->present_pages = zone->spanned_pages - hole_overlap(&sys->topo, r->start_pfn, r->end_pfn);
	zone->managed_pages = zone->present_pages;
	zone->initial_present_pages = zone->present_pages;
}

void buddy_system_destroy(struct buddy_system *sys)
{
	if (!sys)
		return;
	buddy_stop_kthreads(sys);
	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		struct pglist_data *pgdat = sys->nodes[nid];
		if (!pgdat)
			continue;
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &pgdat->node_zones[z];
			if (zone->pcp)
				pcp_destroy_zone(zone);
			if (zone->sys)
				spin_lock_destroy(&zone->lock);
		}
		free(pgdat);
	}
	if (sys->mem_map)
		munmap(sys->mem_map, sys->mem_map_bytes);
	if (sys->backing) {
		backing_release(sys);
		if (sys->backing_mapped)
			munmap(sys->backing, sys->backing_bytes);
	}
	free((void *)sys->pageblock_flags);
	cma_state_destroy(sys);
	slowpath_destroy(sys);
	fault_inject_destroy(sys);
	free(sys->cpu_events);
	pthread_mutex_destroy(&sys->tunables_lock);
	pthread_mutex_destroy(&sys->report_lock);
	free(sys);
}

/* build_all_zonelists: grouping by mobility is pointless when memory holds
 * fewer pageblocks than there are types to group. */
static void set_mobility_grouping(struct buddy_system *sys)
{
	uint64_t vm_total_pages = 0;

	for (int nid = 0; nid < sys->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &sys->nodes[nid]->node_zones[z];
			unsigned long high = zone->_watermark[WMARK_HIGH];
			if (zone->managed_pages > high)
				vm_total_pages += zone->managed_pages - high;
		}
	sys->page_group_by_mobility_disabled =
		sys->opts.no_mobility_grouping || vm_total_pages < sys->pageblock_nr_pages * MIGRATE_TYPES;
}

static void build_gfp_fast(struct buddy_system *sys)
{
	for (gfp_t bits = 0; bits <= GFP_FAST_INDEX_MASK; bits++) {
		enum zone_type highest;
		int mt = buddy_gfp_migratetype(bits);
		sys->gfp_fast[bits] = 0;
		if ((bits & ~GFP_FAST_INDEX_MASK) || mt < 0 || buddy_gfp_zone(bits, &highest))
			continue;
		if (sys->page_group_by_mobility_disabled)
			mt = MIGRATE_UNMOVABLE;
		sys->gfp_fast[bits] = (uint8_t)(GFP_FAST_VALID | (unsigned)mt << GFP_FAST_MT_SHIFT | (unsigned)highest);
	}
}

struct buddy_system *buddy_system_create(const struct buddy_topology *topo, const struct buddy_options *user_opts,
					 struct buddy_error *err)
{
	struct buddy_options opts;
	struct buddy_system *sys;

	if (!topo) {
		set_error(err, "topology", "no topology given");
		return NULL;
	}
	if (user_opts)
		opts = *user_opts;
	else
		buddy_options_init(&opts);
	if (buddy_topology_validate(topo, &opts, err))
		return NULL;

	sys = calloc(1, sizeof(*sys));
	if (!sys) {
		set_error(err, "memory", "cannot allocate the instance");
		return NULL;
	}
	sys->opts = opts;
	sys->spin_bias = spin_bias_register();
	sys->topo = *topo;
	sys->max_order = opts.max_order;
	sys->pageblock_order = opts.pageblock_order;
	sys->pageblock_nr_pages = 1UL << opts.pageblock_order;
	sys->nr_nodes = topo->nr_nodes;
	sys->nr_cpus = topo->nr_cpus;
	sys->cpu_events = aligned_alloc(64, (size_t)sys->nr_cpus * sizeof(*sys->cpu_events));
	if (!sys->cpu_events) {
		free(sys);
		set_error(err, "memory", "cannot allocate the event counters");
		return NULL;
	}
	memset(sys->cpu_events, 0, (size_t)sys->nr_cpus * sizeof(*sys->cpu_events));
	sys->watermark_scale_factor = opts.watermark_scale_factor;
	sys->watermark_boost_factor = opts.watermark_boost_factor;
	memcpy(sys->lowmem_reserve_ratio, opts.lowmem_reserve_ratio, sizeof(sys->lowmem_reserve_ratio));
	pthread_mutex_init(&sys->tunables_lock, NULL);
	pthread_mutex_init(&sys->report_lock, NULL);
	if (slowpath_init(sys) || fault_inject_init(sys)) {
		slowpath_destroy(sys);
		fault_inject_destroy(sys);
		pthread_mutex_destroy(&sys->tunables_lock);
		pthread_mutex_destroy(&sys->report_lock);
		free(sys->cpu_events);
		free(sys);
		set_error(err, "memory", "cannot allocate the slow-path state");
		return NULL;
	}

	for (int nid = 0; nid < topo->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			if (topo->zones[nid][z].end_pfn > sys->max_pfn)
				sys->max_pfn = topo->zones[nid][z].end_pfn;
	/* Round up so that a buddy pfn computed at max order never leaves the map. */
	uint64_t max_block = 1ULL << sys->max_order;
	sys->max_pfn = (sys->max_pfn + max_block - 1) & ~(max_block - 1);
	if (sys->max_pfn == 0)
		sys->max_pfn = max_block;

	sys->mem_map_bytes = sys->max_pfn * sizeof(struct page);
	sys->mem_map = map_anonymous(sys->mem_map_bytes);
	sys->nr_pageblocks = (sys->max_pfn + sys->pageblock_nr_pages - 1) >> sys->pageblock_order;
	sys->pageblock_flags = calloc(sys->nr_pageblocks, sizeof(*sys->pageblock_flags));
	if (!sys->mem_map || !sys->pageblock_flags) {
		set_error(err, "memory", "cannot map page records for %llu pfns", (unsigned long long)sys->max_pfn);
		goto fail;
	}
	if (opts.backing == BUDDY_BACKING_MMAP) {
		sys->backing_bytes = sys->max_pfn * PAGE_SIZE;
		sys->backing = map_anonymous(sys->backing_bytes);
		if (!sys->backing) {
			set_error(err, "backing", "cannot map %llu bytes of backing memory",
				  (unsigned long long)sys->backing_bytes);
			goto fail;
		}
		sys->backing_mapped = true;
	} else if (opts.backing == BUDDY_BACKING_USER) {
		sys->backing_bytes = sys->max_pfn * PAGE_SIZE;
		if (!opts.backing_mem || ((uintptr_t)opts.backing_mem & (PAGE_SIZE - 1))) {
			set_error(err, "backing_mem", "the caller's backing memory must be page aligned and not NULL");
			goto fail;
		}
		if (opts.backing_len < sys->backing_bytes) {
			set_error(err, "backing_len", "%zu bytes of backing memory, the topology needs %llu", opts.backing_len,
				  (unsigned long long)sys->backing_bytes);
			goto fail;
		}
		sys->backing = opts.backing_mem;
	}

	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		struct pglist_data *pgdat = calloc(1, sizeof(*pgdat));
		if (!pgdat) {
			set_error(err, "memory", "cannot allocate node %d", nid);
			goto fail;
		}
		sys->nodes[nid] = pgdat;
		pgdat->node_id = nid;
		uint64_t lo = UINT64_MAX, hi = 0;
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			init_zone(sys, pgdat, (enum zone_type)z);
			struct zone *zone = &pgdat->node_zones[z];
			pgdat->node_present_pages += zone->present_pages;
			if (zone->spanned_pages) {
				if (zone->zone_start_pfn < lo)
					lo = zone->zone_start_pfn;
				if (zone->zone_start_pfn + zone->spanned_pages > hi)
					hi = zone->zone_start_pfn + zone->spanned_pages;
			}
		}
		pgdat->node_start_pfn = lo == UINT64_MAX ? 0 : lo;
		pgdat->node_spanned_pages = hi > pgdat->node_start_pfn ? hi - pgdat->node_start_pfn : 0;
		if (pgdat->node_present_pages)
			sys->nr_online_nodes++;
	}
	for (int cpu = 0; cpu < sys->nr_cpus; cpu++)
		sys->nodes[topo->cpu_to_node[cpu]]->nr_cpus++;

	for (int nid = 0; nid < sys->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			memmap_init_zone(sys, &sys->nodes[nid]->node_zones[z]);

	/* Watermarks and mobility grouping depend only on managed pages, so
	 * they are known before the first page is freed. */
	build_all_zonelists(sys);
	if (opts.min_free_kbytes > 0) {
		sys->min_free_kbytes = opts.min_free_kbytes;
		sys->user_min_free_kbytes = true;
	} else {
		sys->min_free_kbytes = calculate_min_free_kbytes(sys);
	}
	setup_per_zone_wmarks(sys);
	setup_per_zone_lowmem_reserve(sys);
	set_mobility_grouping(sys);
	build_gfp_fast(sys);

	for (int nid = 0; nid < sys->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			init_zone_pageblocks(sys, &sys->nodes[nid]->node_zones[z]);
	init_cma_areas(sys);
	for (int nid = 0; nid < sys->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			if (populated_zone(&sys->nodes[nid]->node_zones[z]))
				free_all_zone_pages(sys, &sys->nodes[nid]->node_zones[z]);
	for (int nid = 0; nid < sys->nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &sys->nodes[nid]->node_zones[z];
			if (pcp_init_zone(zone)) {
				set_error(err, "memory", "cannot allocate pcp lists");
				goto fail;
			}
		}
	if (cma_state_init(sys)) {
		set_error(err, "memory", "cannot allocate the CMA and isolation state");
		goto fail;
	}
	return sys;
fail:
	buddy_system_destroy(sys);
	return NULL;
}

void buddy_system_info(struct buddy_system *sys, struct buddy_system_info *info)
{
	memset(info, 0, sizeof(*info));
	if (!sys)
		return;
	info->nr_nodes = sys->nr_nodes;
	info->nr_cpus = sys->nr_cpus;
	info->max_order = sys->max_order;
	info->pageblock_order = sys->pageblock_order;
	info->min_free_kbytes = sys->min_free_kbytes;
	info->page_group_by_mobility_disabled = sys->page_group_by_mobility_disabled;
	info->max_pfn = sys->max_pfn;
	for (int nid = 0; nid < sys->nr_nodes; nid++)
		info->present_pages += sys->nodes[nid]->node_present_pages;
	info->page_struct_size = sizeof(struct page);
	/* Counted as if every pfn's record were touched; holes are never. */
	info->metadata_bytes = sys->mem_map_bytes + sys->nr_pageblocks * sizeof(*sys->pageblock_flags);
}

uint64_t buddy_vm_event(struct buddy_system *sys, enum buddy_vm_event ev)
{
	uint64_t sum = 0;

	if (!sys || (unsigned)ev >= NR_BUDDY_VM_EVENTS)
		return 0;
	for (int cpu = 0; cpu < sys->nr_cpus; cpu++)
		sum += atomic_load_explicit(&sys->cpu_events[cpu].ev[ev], memory_order_relaxed);
	return sum;
}

/* ---- page helpers ---- */
uint64_t buddy_page_to_pfn(const struct buddy_system *sys, const struct page *page)
{
	return page_to_pfn(sys, page);
}

struct page *buddy_pfn_to_page(struct buddy_system *sys, uint64_t pfn)
{
	if (!sys || pfn >= sys->max_pfn)
		return NULL;
	struct page *page = pfn_to_page(sys, pfn);
	return page_flag(page, PG_present) ? page : NULL;
}

void *buddy_page_address(const struct buddy_system *sys, const struct page *page)
{
	if (!sys || !sys->backing)
		return NULL;
	return sys->backing + page_to_pfn(sys, page) * PAGE_SIZE;
}

int buddy_page_nid(const struct page *page)
{
	return page->nid;
}

enum zone_type buddy_page_zonenum(const struct page *page)
{
	return (enum zone_type)page->zid;
}

unsigned int buddy_page_order(const struct page *page)
{
	return page->order;
}

bool buddy_page_is_free(const struct buddy_system *sys, uint64_t pfn)
{
	if (!sys || pfn >= sys->max_pfn)
		return false;
	/* Walk up to the head of a possible free block containing pfn. */
	for (unsigned int order = 0; order <= sys->max_order; order++) {
		uint64_t head = pfn & ~((1ULL << order) - 1);
		const struct page *p = &sys->mem_map[head];
		uint32_t f = page_flags(p);
		if ((f & PAGE_FLAG(PG_buddy)) && p->order >= order)
			return true;
	}
	return false;
}
