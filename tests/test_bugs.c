/* The injected-bug registry (alloc/bugs.h) and one scenario per bug.
 *
 * In a normal build: the registry is well formed (unique names, known
 * engines and sanitizers, each bug's #ifdef really in the file it names, a
 * scenario for every entry), and every scenario runs quiet: the checker and
 * the scenario's oracle find nothing, so none of them can report a bug that
 * is not there.
 *
 * In a bug build (cmake -DBUDDY_BUG=name): the scenario of the bug compiled
 * in must trip the checker or the oracle it documents, proving the bug is
 * reachable through the allocator's own entry points.  Scenarios reach into
 * internal.h only to set up a state (a fragmented pageblock, a held pcp lock)
 * that the public API gets to only by chance. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buddy/buddy.h"
#include "bugs.h"
#include "internal.h"
#include "tap.h"

/* ---- the registry ---- */
struct bug_entry {
	const char *name, *file, *part, *engines, *profile, *sanitizer, *what;
};

#define AS_ENTRY(n, f, p, e, pr, s, w) { #n, f, p, e, pr, s, w },
static const struct bug_entry registry[] = { BUDDY_BUGS(AS_ENTRY) };
#define NR_BUGS (sizeof(registry) / sizeof(registry[0]))

/* ---- what a scenario saw ---- */
struct outcome {
	bool triggered;
	char what[256];
};

static void saw(struct outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void saw(struct outcome *o, const char *fmt, ...)
{
	va_list ap;

	o->triggered = true;
	va_start(ap, fmt);
	vsnprintf(o->what, sizeof(o->what), fmt, ap);
	va_end(ap);
}

/* In a bug build a triggered scenario may leave the allocator corrupt:
 * it is not destroyed then (the process ends with _exit). */
static bool bug_build(void)
{
	return BUDDY_BUG_ACTIVE != NULL;
}

static void finish(struct buddy_system *sys, const struct outcome *o)
{
	if (!(o->triggered && bug_build()))
		buddy_system_destroy(sys);
}

/* The checker over everything; the first violation into o. */
static bool checker_fires(struct buddy_system *sys, struct outcome *o)
{
	struct buddy_violation v[4];
	struct buddy_check_result res = { .capacity = 4, .v = v };
	char msg[320];

	if (!buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, &res))
		return false;
	buddy_violation_format(&v[0], msg, sizeof(msg));
	saw(o, "checker: %s", msg);
	return true;
}

/* ---- machines ---- */
static void topo_init(struct buddy_topology *t, int nodes, int cpus)
{
	memset(t, 0, sizeof(*t));
	t->nr_nodes = nodes;
	t->nr_cpus = cpus;
	for (int c = 0; c < cpus; c++)
		t->cpu_to_node[c] = c % nodes;
	for (int a = 0; a < nodes; a++)
		for (int b = 0; b < nodes; b++)
			t->distance[a][b] = a == b ? BUDDY_LOCAL_DISTANCE : BUDDY_REMOTE_DISTANCE;
}

static void zone_range(struct buddy_topology *t, int nid, enum zone_type z, uint64_t start, uint64_t end)
{
	t->zones[nid][z].start_pfn = start;
	t->zones[nid][z].end_pfn = end;
}

static struct buddy_system *make(const struct buddy_topology *t, unsigned pageblock_order, bool backing)
{
	struct buddy_options opts;
	struct buddy_error err;

	buddy_options_init(&opts);
	opts.max_order = 10;
	opts.pageblock_order = pageblock_order;
	opts.backing = backing ? BUDDY_BACKING_MMAP : BUDDY_BACKING_NONE;
	struct buddy_system *sys = buddy_system_create(t, &opts, &err);
	if (!sys)
		fprintf(stderr, "test_bugs: cannot create the machine: %s: %s\n", err.field, err.message);
	return sys;
}

/* One node, one Normal zone of nr pages. */
static struct buddy_system *make_flat(uint64_t nr, unsigned pageblock_order, bool backing)
{
	struct buddy_topology t;

	topo_init(&t, 1, 2);
	zone_range(&t, 0, ZONE_NORMAL, 0, nr);
	return make(&t, pageblock_order, backing);
}

static struct zone *zone_of(struct buddy_system *sys, int nid, enum zone_type z)
{
	return &sys->nodes[nid]->node_zones[z];
}

/* Every free page of the zone, as allocated order-0 pages (zone lock held by
 * the caller), so that the caller can free back exactly the pattern it wants. */
static size_t take_all_movable(struct zone *zone, struct page **out, size_t max)
{
	size_t n = 0;
	struct page *p;

	while (n < max && (p = __rmqueue_smallest(zone, 0, MIGRATE_MOVABLE))) {
		page_set_allocated(zone, p, 0, MIGRATE_MOVABLE);
		out[n++] = p;
	}
	return n;
}

static void give_back(struct zone *zone, struct page *p)
{
	uint64_t pfn = page_to_pfn(zone->sys, p);

	page_clear_allocated(zone, p, 0);
	__free_one_page(zone, p, pfn, 0, get_pfnblock_migratetype(zone->sys, pfn));
}

/* ---- the scenarios ---- */
static void s_zone_merge(struct outcome *o)
{
	struct buddy_topology t;

	/* The DMA32/Normal boundary at 1536 is not aligned to order 10: the
	 * order-9 blocks on either side are buddies of each other. */
	topo_init(&t, 1, 2);
	zone_range(&t, 0, ZONE_DMA32, 0, 1536);
	zone_range(&t, 0, ZONE_NORMAL, 1536, 4096);
	struct buddy_system *sys = make(&t, 9, false);
	if (!sys)
		return;
	checker_fires(sys, o);
	finish(sys, o);
}

static void s_merge_isolated(struct outcome *o)
{
	struct buddy_topology t;

	topo_init(&t, 1, 2);
	zone_range(&t, 0, ZONE_NORMAL, 0, 4096);
	t.nr_cma = 1;
	t.cma[0].start_pfn = 512;
	t.cma[0].end_pfn = 1024;
	struct buddy_system *sys = make(&t, 9, false);
	if (!sys)
		return;
	/* An order-9 block of the movable pageblock next to the CMA one,
	 * allocated and freed again, meets its CMA buddy. */
	struct page *p = buddy_alloc_pages_node(sys, 0, GFP_HIGHUSER_MOVABLE | __GFP_NOWARN, 9);
	if (p) {
		buddy_free_pages(sys, p, 9);
		buddy_drain_all_pages(sys);
	}
	checker_fires(sys, o);
	finish(sys, o);
}

static void s_top_order_merge(struct outcome *o)
{
	struct buddy_system *sys = make_flat(4096, 9, false);
	if (!sys)
		return;
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, 9);
	if (p)
		buddy_free_pages(sys, p, 9);
	buddy_drain_all_pages(sys);
	checker_fires(sys, o);
	finish(sys, o);
}

static void s_expand_account(struct outcome *o)
{
	struct buddy_system *sys = make_flat(4096, 9, false);
	if (!sys)
		return;
	/* Movable requests (free memory starts movable, so they split blocks of
	 * their own type) of growing order, until one splits a larger block. */
	static const unsigned orders[] = { 0, 1, 3, 5, 9 };
	struct page *held[5] = { 0 };
	for (int i = 0; i < 5 && !o->triggered; i++) {
		held[i] = buddy_alloc_pages(sys, GFP_HIGHUSER_MOVABLE, orders[i]);
		checker_fires(sys, o);
	}
	for (int i = 0; i < 5 && !o->triggered; i++)
		if (held[i])
			buddy_free_pages(sys, held[i], orders[i]);
	finish(sys, o);
}

/* A HIGHATOMIC pageblock with free pages in it (pageblocks of 8 pages). */
static struct page *reserve_one_highatomic(struct buddy_system *sys)
{
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	if (!p)
		return NULL;
	buddy_drain_all_pages(sys);
	reserve_highatomic_pageblock(page_zone(sys, p), p, 0);
	return p;
}

static void s_highatomic_free_drift(struct outcome *o)
{
	struct buddy_system *sys = make_flat(4096, 3, false);
	if (!sys)
		return;
	struct page *p = reserve_one_highatomic(sys);
	struct zone *zone = zone_of(sys, 0, ZONE_NORMAL);
	spin_lock(&zone->lock);
	struct page *h = __rmqueue_smallest(zone, 0, MIGRATE_HIGHATOMIC);
	if (h)
		page_set_allocated(zone, h, 0, MIGRATE_UNMOVABLE);
	spin_unlock(&zone->lock);
	if (!checker_fires(sys, o)) {
		if (h)
			buddy_free_pages(sys, h, 0);
		if (p)
			buddy_free_pages(sys, p, 0);
	}
	finish(sys, o);
}

static void s_cma_unmovable(struct outcome *o)
{
	struct buddy_topology t;

	topo_init(&t, 1, 2);
	zone_range(&t, 0, ZONE_NORMAL, 0, 4096);
	t.nr_cma = 1;
	t.cma[0].start_pfn = 2048;
	t.cma[0].end_pfn = 2560;
	struct buddy_system *sys = make(&t, 9, false);
	if (!sys)
		return;
	buddy_drain_all_pages(sys);
	struct zone *zone = zone_of(sys, 0, ZONE_NORMAL);
	static struct page *held[4096];
	size_t n = 0;
	/* Everything but CMA is taken, then an unmovable request without
	 * ALLOC_CMA comes: it must find nothing. */
	spin_lock(&zone->lock);
	for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
		struct page *p;
		if (mt == MIGRATE_CMA || mt == MIGRATE_ISOLATE)
			continue;
		while (n < 4096 && (p = __rmqueue_smallest(zone, 0, mt))) {
			page_set_allocated(zone, p, 0, mt);
			held[n++] = p;
		}
	}
	int mode = 0;
	struct page *u = __rmqueue(zone, 0, MIGRATE_UNMOVABLE, 0, &mode);
	if (u) {
		page_set_allocated(zone, u, 0, MIGRATE_UNMOVABLE);
		held[n++] = u;
	}
	spin_unlock(&zone->lock);
	if (u && get_pfnblock_migratetype(sys, page_to_pfn(sys, u)) == MIGRATE_CMA)
		saw(o, "oracle (model-placement): an unmovable request without ALLOC_CMA got pfn %#lx of a CMA pageblock",
		    (unsigned long)page_to_pfn(sys, u));
	for (size_t i = 0; i < n; i++)
		buddy_free_pages(sys, held[i], 0);
	finish(sys, o);
}

static void s_thisnode_fallback(struct outcome *o)
{
	struct buddy_topology t;

	topo_init(&t, 2, 2);
	zone_range(&t, 0, ZONE_NORMAL, 0, 1024);
	zone_range(&t, 1, ZONE_NORMAL, 1024, 4096);
	struct buddy_system *sys = make(&t, 9, false);
	if (!sys)
		return;
	static struct page *held[1100];
	size_t n = 0;
	buddy_bind_cpu(sys, 0);
	while (n < 1100) {
		struct page *p = buddy_alloc_pages_node(sys, 0, GFP_NOWAIT | __GFP_THISNODE | __GFP_NOWARN, 0);
		if (!p)
			break;
		held[n++] = p;
		if (buddy_page_nid(p) != 0) {
			saw(o, "oracle (model-placement): __GFP_THISNODE for node 0 served from node %d after %zu pages",
			    buddy_page_nid(p), n);
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		buddy_free_pages(sys, held[i], 0);
	finish(sys, o);
}

static void s_double_free(struct outcome *o)
{
	struct buddy_system *sys = make_flat(4096, 9, false);
	if (!sys)
		return;
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	if (p && buddy_free_pages(sys, p, 0) == 0 && buddy_free_pages(sys, p, 0) == 0)
		saw(o, "oracle (model-bad-free-accepted): a second free of a page on a pcp list was accepted");
	finish(sys, o);
}

static void s_pcp_bulk_count(struct outcome *o)
{
	struct buddy_system *sys = make_flat(4096, 9, false);
	if (!sys)
		return;
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, 1);
	if (p)
		buddy_free_pages(sys, p, 1);
	buddy_drain_all_pages(sys);
	checker_fires(sys, o);
	finish(sys, o);
}

static void s_pcp_unlocked(struct outcome *o)
{
	struct buddy_system *sys = make_flat(4096, 9, false);
	if (!sys)
		return;
	buddy_bind_cpu(sys, 0);
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	if (!p) {
		finish(sys, o);
		return;
	}
	/* Another context holds this CPU's pcp lock (a drain from another
	 * CPU, say): a free must not touch the list meanwhile. */
	struct per_cpu_pages *pcp = &page_zone(sys, p)->pcp[0];
	spin_lock(&pcp->lock);
	int before = pcp->count;
	buddy_free_pages(sys, p, 0);
	int after = pcp->count;
	spin_unlock(&pcp->lock);
	if (after != before)
		saw(o, "oracle (a race TSan reports): the free put the page on a pcp list whose lock another context held "
		       "(count %d -> %d)", before, after);
	finish(sys, o);
}

/* Every pageblock (8 pages) holds one movable page and keep_free free ones
 * at its top; then an unmovable order-0 request must fall back. */
static void fallback_scenario(struct outcome *o, unsigned keep_free)
{
	struct buddy_system *sys = make_flat(1024, 3, false);
	if (!sys)
		return;
	buddy_drain_all_pages(sys);
	struct zone *zone = zone_of(sys, 0, ZONE_NORMAL);
	static struct page *held[1024];
	size_t n, kept = 0;
	spin_lock(&zone->lock);
	n = take_all_movable(zone, held, 1024);
	for (size_t i = 0; i < n; i++) {
		uint64_t pfn = page_to_pfn(sys, held[i]);
		if ((pfn & 7) >= 8 - keep_free)
			give_back(zone, held[i]);
		else
			held[kept++] = held[i];
	}
	int mode = 0;
	struct page *u = __rmqueue(zone, 0, MIGRATE_UNMOVABLE, 0, &mode);
	if (u) {
		page_set_allocated(zone, u, 0, MIGRATE_UNMOVABLE);
		held[kept++] = u;
	}
	spin_unlock(&zone->lock);
	if (!checker_fires(sys, o))
		for (size_t i = 0; i < kept; i++)
			buddy_free_pages(sys, held[i], 0);
	finish(sys, o);
}

static void s_claim_leftover(struct outcome *o)
{
	fallback_scenario(o, 7); /* enough free to claim the pageblock */
}

static void s_steal_wrong_list(struct outcome *o)
{
	fallback_scenario(o, 2); /* too little to claim: one block is stolen */
}

static void s_highatomic_unreserve(struct outcome *o)
{
	struct buddy_system *sys = make_flat(4096, 3, false);
	if (!sys)
		return;
	struct page *p = reserve_one_highatomic(sys);
	struct zone *zone = zone_of(sys, 0, ZONE_NORMAL);
	unreserve_highatomic_pageblock(sys, &zone, 1, MIGRATE_MOVABLE, true);
	if (!checker_fires(sys, o) && p)
		buddy_free_pages(sys, p, 0);
	finish(sys, o);
}

static void s_wmark_lowmem(struct outcome *o)
{
	struct buddy_topology t;

	topo_init(&t, 1, 2);
	zone_range(&t, 0, ZONE_DMA32, 0, 2048);
	zone_range(&t, 0, ZONE_NORMAL, 2048, 8192);
	struct buddy_system *sys = make(&t, 9, false);
	if (!sys)
		return;
	/* Ratio 1: DMA32 keeps all of Normal's size back from Normal requests,
	 * more than it has. */
	int ratio[MAX_NR_ZONES] = { 1, 1, 1, 0 };
	buddy_set_lowmem_reserve_ratio(sys, ratio);
	struct buddy_zone_info info;
	buddy_zone_info(sys, 0, ZONE_DMA32, &info);
	unsigned long low = info.wmark[WMARK_LOW];
	bool ok = buddy_zone_watermark_ok(sys, 0, ZONE_DMA32, 0, low, ZONE_NORMAL, 0);
	bool want = (long)info.free_pages > (long)(low + info.lowmem_reserve[ZONE_NORMAL]);
	if (ok != want)
		saw(o, "oracle (a reference watermark check): DMA32 with %lu free, low %lu, lowmem_reserve[Normal] %lu "
		       "passes for a Normal request", (unsigned long)info.free_pages, low, info.lowmem_reserve[ZONE_NORMAL]);
	finish(sys, o);
}

static void s_gfp_bad_zone(struct outcome *o)
{
	struct buddy_topology t;

	topo_init(&t, 1, 2);
	zone_range(&t, 0, ZONE_DMA, 0, 1024);
	zone_range(&t, 0, ZONE_DMA32, 1024, 4096);
	struct buddy_system *sys = make(&t, 9, false);
	if (!sys)
		return;
	struct page *p = buddy_alloc_pages(sys, __GFP_DMA | __GFP_HIGHMEM | __GFP_NOWARN, 0);
	if (p)
		saw(o, "oracle (model-invalid-alloc): __GFP_DMA|__GFP_HIGHMEM was served from zone %s",
		    buddy_zone_name(buddy_page_zonenum(p)));
	if (p)
		buddy_free_pages(sys, p, 0);
	finish(sys, o);
}

struct compact_arg {
	struct buddy_system *sys;
	_Atomic bool done;
};

static void *compact_thread(void *p)
{
	struct compact_arg *a = p;
	buddy_compact_zone(a->sys, 0, ZONE_NORMAL, -1, BUDDY_COMPACT_SYNC);
	atomic_store(&a->done, true);
	return NULL;
}

static void s_compact_scanners_cross(struct outcome *o)
{
	struct buddy_system *sys = make_flat(4096, 9, false);
	if (!sys)
		return;
	static struct compact_arg a;
	pthread_t th;
	a.sys = sys;
	atomic_store(&a.done, false);
	if (pthread_create(&th, NULL, compact_thread, &a)) {
		finish(sys, o);
		return;
	}
	/* A whole-zone compaction of 8 pageblocks takes milliseconds. */
	for (int i = 0; i < 1000 && !atomic_load(&a.done); i++)
		usleep(10000);
	if (!atomic_load(&a.done)) {
		saw(o, "hang (libFuzzer's -timeout, AFL++'s hangs): compact_memory of an 8-pageblock zone still running "
		       "after 10 s");
		pthread_detach(th);
		return; /* the thread still uses sys */
	}
	pthread_join(th, NULL);
	finish(sys, o);
}

/* An owner that follows its block around and keeps a pattern in it. */
struct owner {
	struct buddy_mapping m;
	struct buddy_system *sys;
	struct page *page;
	int migrations;
	int released;
};

static int own_migrate(struct buddy_mapping *m, struct page *old_page, struct page *new_page)
{
	struct owner *ow = (struct owner *)m;

	if (old_page != ow->page)
		return -EAGAIN;
	buddy_migrate_copy(ow->sys, new_page, old_page);
	ow->page = new_page;
	ow->migrations++;
	return 0;
}

static int own_release(struct buddy_mapping *m, struct page *page)
{
	struct owner *ow = (struct owner *)m;

	(void)page;
	ow->released++;
	return 0;
}

static const struct buddy_mapping_ops owner_ops = { own_migrate, NULL, own_release };

static void migrate_scenario(struct outcome *o, bool want_copy)
{
	struct buddy_system *sys = make_flat(4096, 9, true);
	if (!sys)
		return;
	static struct owner ow;
	memset(&ow, 0, sizeof(ow));
	ow.m.ops = &owner_ops;
	ow.sys = sys;
	ow.page = buddy_alloc_pages_mapping(sys, GFP_HIGHUSER_MOVABLE, 0, -1, 0, &ow.m, 1);
	if (!ow.page) {
		finish(sys, o);
		return;
	}
	unsigned char *mem = buddy_page_address(sys, ow.page);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		mem[i] = (unsigned char)(i * 7 + 3);
	uint64_t pfn = buddy_page_to_pfn(sys, ow.page), start = pfn & ~511ULL;
	/* alloc_contig_range over the block's pageblock must move it away. */
	int ret = buddy_alloc_contig_range(sys, start, start + 512, MIGRATE_MOVABLE, GFP_KERNEL);
	if (ret == 0) {
		if (!ow.migrations) {
			if (!want_copy)
				saw(o, "oracle (model-double-alloc): alloc_contig_range got [%#lx, %#lx) while the owner, never "
				       "told of a migration, still holds pfn %#lx", (unsigned long)start,
				    (unsigned long)start + 512, (unsigned long)pfn);
		} else if (want_copy) {
			mem = buddy_page_address(sys, ow.page);
			for (size_t i = 0; i < PAGE_SIZE; i++)
				if (mem[i] != (unsigned char)(i * 7 + 3)) {
					saw(o, "oracle (model-contents / data-corrupt): byte %zu of the migrated block is %#x", i,
					    mem[i]);
					break;
				}
		}
		if (!o->triggered)
			buddy_free_contig_range(sys, start, 512);
	}
	if (!o->triggered)
		buddy_free_pages(sys, ow.page, 0);
	finish(sys, o);
}

static void s_migrate_nocopy(struct outcome *o)
{
	migrate_scenario(o, true);
}

static void s_migrate_no_notify(struct outcome *o)
{
	migrate_scenario(o, false);
}

static int rec_reclaim(struct buddy_mapping *m, struct page *page)
{
	bool *gone = m->private_data;

	gone[buddy_page_index(page)] = true;
	return 0;
}

static const struct buddy_mapping_ops reclaim_ops = { NULL, rec_reclaim, NULL };

static void s_kswapd_low_wmark(struct outcome *o)
{
	struct buddy_options opts;
	struct buddy_error err;
	struct buddy_topology t;

	topo_init(&t, 1, 2);
	zone_range(&t, 0, ZONE_NORMAL, 0, 16384);
	buddy_options_init(&opts);
	/* Gaps of ~400 pages between min, low and high: wider than one
	 * kswapd batch, narrower than what one balance_pgdat reclaims. */
	opts.watermark_scale_factor = 250;
	struct buddy_system *sys = buddy_system_create(&t, &opts, &err);
	if (!sys)
		return;
	static struct page *held[16384];
	static bool gone[16384];
	struct buddy_mapping m = { &reclaim_ops, gone };
	size_t n = 0;
	memset(gone, 0, sizeof(gone));
	/* A first run with nothing to do: on a fresh machine the node's
	 * kswapd_highest_zoneidx reads ZONE_DMA until a wakeup or a run sets
	 * it, and a run for DMA alone on a node without DMA does nothing. */
	buddy_kswapd_run(sys, 0);
	/* Page cache down to min, without waking kswapd on the way. */
	while (n < 16384) {
		struct page *p = buddy_alloc_pages_mapping(sys, __GFP_MOVABLE | __GFP_NOWARN, 0, -1, 0, &m, n);
		if (!p)
			break;
		held[n++] = p;
	}
	buddy_kswapd_run(sys, 0);
	struct buddy_zone_info info;
	buddy_zone_info(sys, 0, ZONE_NORMAL, &info);
	if (info.free_pages <= info.wmark[WMARK_HIGH])
		saw(o, "oracle (kswapd's post-condition): kswapd went to sleep with %lu free, high watermark %lu, and "
		       "%zu reclaimable pages left", (unsigned long)info.free_pages, info.wmark[WMARK_HIGH], n);
	for (size_t i = 0; i < n; i++)
		if (!gone[i])
			buddy_free_pages(sys, held[i], 0);
	finish(sys, o);
}

static void s_oom_unkillable(struct outcome *o)
{
	struct buddy_system *sys = make_flat(4096, 9, false);
	if (!sys)
		return;
	int task = buddy_task_create(sys, "unkillable", BUDDY_OOM_SCORE_ADJ_MIN);
	static struct page *held[64];
	size_t n = 0;
	buddy_bind_task(sys, task);
	while (n < 64) {
		struct page *p = buddy_alloc_pages_mapping(sys, GFP_KERNEL, 0, -1, 0, NULL, n);
		if (!p)
			break;
		held[n++] = p;
	}
	buddy_bind_task(sys, 0);
	int victim = buddy_out_of_memory(sys, GFP_KERNEL, 0, 0);
	if (victim == task)
		saw(o, "oracle (the victim's oom_score_adj): the OOM killer chose task %d with oom_score_adj -1000", task);
	for (size_t i = 0; i < n; i++)
		buddy_free_pages(sys, held[i], 0);
	buddy_task_destroy(sys, task);
	finish(sys, o);
}

static void s_offline_leftover(struct outcome *o)
{
	struct buddy_system *sys = make_flat(4096, 9, false);
	if (!sys)
		return;
	int ret = buddy_offline_pages(sys, 2048, 512);
	if (!checker_fires(sys, o) && ret == 0)
		buddy_online_pages(sys, 2048, 512);
	finish(sys, o);
}

static void s_hwpoison_breakdown(struct outcome *o)
{
	struct buddy_system *sys = make_flat(4096, 9, false);
	if (!sys)
		return;
	int ret = buddy_memory_failure(sys, 100);
	if (!checker_fires(sys, o) && ret == 0)
		buddy_unpoison_memory(sys, 100);
	finish(sys, o);
}

static const struct {
	const char *name;
	void (*run)(struct outcome *o);
} scenarios[] = {
	{ "zone_merge", s_zone_merge },
	{ "merge_isolated", s_merge_isolated },
	{ "top_order_merge", s_top_order_merge },
	{ "expand_account", s_expand_account },
	{ "highatomic_free_drift", s_highatomic_free_drift },
	{ "cma_unmovable", s_cma_unmovable },
	{ "thisnode_fallback", s_thisnode_fallback },
	{ "double_free", s_double_free },
	{ "pcp_bulk_count", s_pcp_bulk_count },
	{ "pcp_unlocked", s_pcp_unlocked },
	{ "claim_leftover", s_claim_leftover },
	{ "steal_wrong_list", s_steal_wrong_list },
	{ "highatomic_unreserve", s_highatomic_unreserve },
	{ "wmark_lowmem", s_wmark_lowmem },
	{ "gfp_bad_zone", s_gfp_bad_zone },
	{ "compact_scanners_cross", s_compact_scanners_cross },
	{ "migrate_nocopy", s_migrate_nocopy },
	{ "migrate_no_notify", s_migrate_no_notify },
	{ "kswapd_low_wmark", s_kswapd_low_wmark },
	{ "oom_unkillable", s_oom_unkillable },
	{ "offline_leftover", s_offline_leftover },
	{ "hwpoison_breakdown", s_hwpoison_breakdown },
};
#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static int scenario_of(const char *name)
{
	for (size_t i = 0; i < NR_SCENARIOS; i++)
		if (!strcmp(scenarios[i].name, name))
			return (int)i;
	return -1;
}

/* ---- registry checks ---- */
/* The source tree, from this file's own path (CMake compiles by absolute path). */
static void source_root(char *buf, size_t len)
{
	snprintf(buf, len, "%s", __FILE__);
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(buf, len, ".");
}

static bool file_mentions(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[512];
	bool hit = false;

	if (!f)
		return false;
	while (!hit && fgets(line, sizeof(line), f))
		hit = strstr(line, needle) != NULL;
	fclose(f);
	return hit;
}

static void check_registry(void)
{
	static const char *const engines[] = { "libfuzzer", "afl", "stress", "oracle" };
	char root[1024];

	test_section("registry");
	source_root(root, sizeof(root));
	CHECK(NR_BUGS >= 16, "%zu bugs, issue 7 asks for at least 16", NR_BUGS);
	for (size_t i = 0; i < NR_BUGS; i++) {
		const struct bug_entry *b = &registry[i];
		CHECK(strspn(b->name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(b->name) && b->name[0],
		      "bad name '%s'", b->name);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(b->name, registry[j].name), "%s listed twice", b->name);
		CHECK(b->part[0] && b->what[0] && b->profile[0], "%s: empty field", b->name);
		CHECK(!strcmp(b->sanitizer, "asan") || !strcmp(b->sanitizer, "tsan"), "%s: sanitizer '%s'", b->name,
		      b->sanitizer);
		bool any = false, bad = false;
		for (const char *p = b->engines; *p;) {
			const char *e = strchr(p, ',');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			bool known = false;
			for (size_t k = 0; k < 4; k++)
				known |= strlen(engines[k]) == len && !strncmp(engines[k], p, len);
			bad |= !known;
			any = true;
			p = e ? e + 1 : p + len;
		}
		CHECK(any && !bad, "%s: engines '%s'", b->name, b->engines);
		CHECK(scenario_of(b->name) >= 0, "%s has no scenario in tests/test_bugs.c", b->name);
		/* The guard is where the entry says. */
		char macro[96], path[1200];
		size_t k = (size_t)snprintf(macro, sizeof(macro), "BUDDY_BUG_");
		for (const char *c = b->name; *c && k + 1 < sizeof(macro); c++)
			macro[k++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
		macro[k] = '\0';
		snprintf(path, sizeof(path), "%s/%s", root, b->file);
		CHECK(file_mentions(path, macro), "%s: no %s in %s", b->name, macro, path);
		snprintf(path, sizeof(path), "%s/alloc/bugs.h", root);
		char defined[120];
		snprintf(defined, sizeof(defined), "defined(%s)", macro);
		CHECK(file_mentions(path, defined), "%s: missing from the one-bug check at the end of alloc/bugs.h", b->name);
	}
	for (size_t i = 0; i < NR_SCENARIOS; i++) {
		bool listed = false;
		for (size_t j = 0; j < NR_BUGS; j++)
			listed |= !strcmp(scenarios[i].name, registry[j].name);
		CHECK(listed, "scenario %s has no registry entry", scenarios[i].name);
	}
}

int main(void)
{
	check_registry();
	if (!bug_build()) {
		/* The control: with no bug in, no scenario may report one. */
		for (size_t i = 0; i < NR_SCENARIOS; i++) {
			struct outcome o = { 0 };
			test_section(scenarios[i].name);
			scenarios[i].run(&o);
			CHECK(!o.triggered, "%s fires on a clean build: %s", scenarios[i].name, o.what);
		}
		return test_done();
	}
	const char *active = BUDDY_BUG_ACTIVE;
	int s = scenario_of(active);
	test_section(active);
	CHECK(s >= 0, "the build's bug '%s' is not in the registry", active);
	if (s >= 0) {
		struct outcome o = { 0 };
		scenarios[s].run(&o);
		CHECK(o.triggered, "bug %s compiled in, but its scenario saw nothing", active);
		if (o.triggered)
			printf("# %s: %s\n", active, o.what);
	}
	/* A triggered bug may leave threads and corrupt lists behind. */
	fflush(stdout);
	_exit(test_done());
}
