/* The allocator core against the kernel's rules: creation and zonelists,
 * gfp_zone routing, watermark arithmetic on worked examples, fallback order,
 * claiming and stealing, pcp refill and drain, THISNODE and nodemasks,
 * NOFRAGMENT, HIGHATOMIC, CMA and every bad input.  The checker runs after
 * each scenario and must find nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy/buddy.h"
#include "internal.h"
#include "tap.h"

static void check_clean(struct buddy_system *sys, const char *where)
{
	struct buddy_violation v[8];
	struct buddy_check_result res = { .capacity = 8, .v = v };
	size_t n = buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, &res);
	CHECK(n == 0, "%s: %zu violations, first: %s %s", where, n, n ? v[0].name : "", n ? v[0].message : "");
}

static void empty_topology(struct buddy_topology *t, int nodes, int cpus)
{
	memset(t, 0, sizeof(*t));
	t->nr_nodes = nodes;
	t->nr_cpus = cpus;
	for (int c = 0; c < cpus; c++)
		t->cpu_to_node[c] = c * nodes / cpus;
	for (int a = 0; a < nodes; a++)
		for (int b = 0; b < nodes; b++)
			t->distance[a][b] = a == b ? 10 : 20;
}

static struct buddy_system *create(const struct buddy_topology *t, const struct buddy_options *o)
{
	struct buddy_error err = { 0 };
	struct buddy_system *sys = buddy_system_create(t, o, &err);
	CHECK(sys != NULL, "create failed: %s: %s", err.field, err.message);
	if (!sys)
		exit(test_done() | 1);
	return sys;
}

static struct zone *zone_of(struct buddy_system *sys, int nid, enum zone_type z)
{
	return &sys->nodes[nid]->node_zones[z];
}

/* ---- creation, zonelists, min_free_kbytes ---- */
static void test_default_topology(void)
{
	test_section("default topology");
	struct buddy_topology t;
	struct buddy_options o;
	buddy_topology_default(&t);
	buddy_options_init(&o);
	struct buddy_system *sys = create(&t, &o);
	struct buddy_system_info info;
	buddy_system_info(sys, &info);
	CHECK(info.nr_nodes == 2 && info.nr_cpus == 4);
	CHECK(info.present_pages * PAGE_SIZE >= (8ULL << 30), "present %llu", (unsigned long long)info.present_pages);
	CHECK(info.page_struct_size <= 64, "struct page is %zu bytes", info.page_struct_size);

	int populated_types[MAX_NR_ZONES] = { 0 };
	for (int nid = 0; nid < 2; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			populated_types[z] += populated_zone(zone_of(sys, nid, (enum zone_type)z));
	for (int z = 0; z < MAX_NR_ZONES; z++)
		CHECK(populated_types[z] > 0, "zone type %d missing", z);
	CHECK(t.nr_holes >= 1);

	/* Own node first, zones high to low, then the other node. */
	int zl[MAX_ZONELIST];
	int n = buddy_zonelist(sys, 0, false, zl, MAX_ZONELIST);
	int expect0[] = { 0 * 4 + ZONE_MOVABLE, 0 * 4 + ZONE_NORMAL, 0 * 4 + ZONE_DMA32, 0 * 4 + ZONE_DMA,
			  1 * 4 + ZONE_MOVABLE, 1 * 4 + ZONE_NORMAL };
	CHECK_EQ(n, 6);
	for (int i = 0; i < 6 && i < n; i++)
		CHECK_EQ(zl[i], expect0[i]);
	n = buddy_zonelist(sys, 1, false, zl, MAX_ZONELIST);
	int expect1[] = { 1 * 4 + ZONE_MOVABLE, 1 * 4 + ZONE_NORMAL, 0 * 4 + ZONE_MOVABLE, 0 * 4 + ZONE_NORMAL,
			  0 * 4 + ZONE_DMA32, 0 * 4 + ZONE_DMA };
	CHECK_EQ(n, 6);
	for (int i = 0; i < 6 && i < n; i++)
		CHECK_EQ(zl[i], expect1[i]);
	n = buddy_zonelist(sys, 1, true, zl, MAX_ZONELIST);
	CHECK_EQ(n, 2);

	/* min_free_kbytes = sqrt(16 * lowmem kB), lowmem = all but Movable. */
	unsigned long lowmem = 0;
	for (int nid = 0; nid < 2; nid++)
		for (int z = 0; z < ZONE_MOVABLE; z++)
			lowmem += zone_of(sys, nid, (enum zone_type)z)->managed_pages;
	unsigned long kb = lowmem * 4, r = 0;
	while ((r + 1) * (r + 1) <= kb * 16)
		r++;
	CHECK_EQ(info.min_free_kbytes, (long)(r < 128 ? 128 : r > 262144 ? 262144 : r));

	/* Allocate across nodes from every CPU, then free. */
	struct page *pages[64];
	for (int i = 0; i < 64; i++) {
		buddy_bind_cpu(sys, i % 4);
		pages[i] = buddy_alloc_pages(sys, i % 2 ? GFP_KERNEL : GFP_HIGHUSER_MOVABLE, (unsigned)(i % 11));
		CHECK(pages[i] != NULL);
		if (pages[i])
			CHECK_EQ(buddy_page_nid(pages[i]), t.cpu_to_node[i % 4]);
	}
	check_clean(sys, "default after allocations");
	for (int i = 0; i < 64; i++) {
		buddy_bind_cpu(sys, (i + 1) % 4);
		CHECK_EQ(buddy_free_pages(sys, pages[i], (unsigned)(i % 11)), 0);
	}
	buddy_drain_all_pages(sys);
	check_clean(sys, "default after frees");
	for (int nid = 0; nid < 2; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = zone_of(sys, nid, (enum zone_type)z);
			CHECK_EQ(zone_page_state(zone, NR_FREE_PAGES), (long)zone->present_pages);
		}
	buddy_system_destroy(sys);
}

/* ---- gfp_zone routing ---- */
static void test_zone_routing(void)
{
	test_section("gfp_zone routing");
	struct buddy_topology t;
	buddy_topology_default(&t);
	struct buddy_system *sys = create(&t, NULL);
	struct {
		gfp_t gfp;
		enum zone_type zone;
	} cases[] = {
		{ GFP_DMA, ZONE_DMA },           { GFP_KERNEL | __GFP_DMA32, ZONE_DMA32 },
		{ GFP_KERNEL, ZONE_NORMAL },     { GFP_USER | __GFP_HIGHMEM, ZONE_NORMAL },
		{ GFP_HIGHUSER_MOVABLE, ZONE_MOVABLE }, { GFP_KERNEL | __GFP_MOVABLE, ZONE_NORMAL },
		{ GFP_KERNEL | __GFP_DMA | __GFP_MOVABLE, ZONE_DMA },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct page *p = buddy_alloc_pages(sys, cases[i].gfp, 0);
		CHECK(p != NULL, "case %zu", i);
		if (!p)
			continue;
		CHECK_EQ(buddy_page_zonenum(p), cases[i].zone);
		buddy_free_pages(sys, p, 0);
	}
	/* Every BAD combination fails with a warning, even under NOWARN. */
	gfp_t bad[] = { 0x3, 0x5, 0x6, 0x7, 0xb, 0xd, 0xe, 0xf };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t warns = buddy_vm_event(sys, BUDDY_ALLOC_WARN);
		CHECK(buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN | bad[i], 0) == NULL, "bad %#x", bad[i]);
		CHECK_EQ(buddy_vm_event(sys, BUDDY_ALLOC_WARN), warns + 1);
	}
	char log[BUDDY_LOG_LINES * BUDDY_LOG_LINE];
	buddy_log_read(sys, log, sizeof(log));
	CHECK(strstr(log, "GFP_ZONE_BAD") != NULL);
	check_clean(sys, "routing");
	buddy_system_destroy(sys);
}

/* ---- watermarks on a worked example ---- */
static void test_watermarks(void)
{
	test_section("watermarks");
	/* One node: DMA32 of 1 GiB and Normal of 1 GiB, 2 CPUs. */
	struct buddy_topology t;
	empty_topology(&t, 1, 2);
	t.zones[0][ZONE_DMA32] = (struct buddy_pfn_range){ 0, 262144 };
	t.zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ 262144, 524288 };
	struct buddy_system *sys = create(&t, NULL);
	struct zone *dma32 = zone_of(sys, 0, ZONE_DMA32), *normal = zone_of(sys, 0, ZONE_NORMAL);

	/* lowmem 2 GiB = 2097152 kB; sqrt(16 * 2097152) = 5792 kB = 1448 pages,
	 * shared by managed pages: 724 each.  gap = max(724 / 4, 262144 * 10 /
	 * 10000) = 262. */
	struct buddy_system_info info;
	buddy_system_info(sys, &info);
	CHECK_EQ(info.min_free_kbytes, 5792);
	CHECK_EQ(dma32->_watermark[WMARK_MIN], 724);
	CHECK_EQ(dma32->_watermark[WMARK_LOW], 724 + 262);
	CHECK_EQ(dma32->_watermark[WMARK_HIGH], 724 + 2 * 262);
	CHECK_EQ(dma32->_watermark[WMARK_PROMO], 724 + 3 * 262);
	CHECK_EQ(normal->_watermark[WMARK_MIN], 724);
	/* lowmem_reserve: DMA32 keeps Normal's pages / 256 back from Normal
	 * and Movable requests; Normal keeps nothing (Movable is empty). */
	CHECK_EQ(dma32->lowmem_reserve[ZONE_NORMAL], 262144 / 256);
	CHECK_EQ(dma32->lowmem_reserve[ZONE_MOVABLE], 262144 / 256);
	CHECK_EQ(dma32->lowmem_reserve[ZONE_DMA32], 0);
	CHECK_EQ(normal->lowmem_reserve[ZONE_MOVABLE], 0);

	/* __zone_watermark_ok arithmetic: free must exceed min + reserve. */
	unsigned long mark = 1000;
	CHECK(__zone_watermark_ok(normal, 0, mark, ZONE_NORMAL, 0, 1001));
	CHECK(!__zone_watermark_ok(normal, 0, mark, ZONE_NORMAL, 0, 1000));
	/* DMA32 for a Normal request: add lowmem_reserve 1024. */
	CHECK(!__zone_watermark_ok(dma32, 0, mark, ZONE_NORMAL, 0, 2024));
	CHECK(__zone_watermark_ok(dma32, 0, mark, ZONE_NORMAL, 0, 2025));
	/* ALLOC_MIN_RESERVE halves min: 500; NON_BLOCK takes a quarter more: 375;
	 * OOM halves again. */
	CHECK(__zone_watermark_ok(normal, 0, mark, ZONE_NORMAL, ALLOC_MIN_RESERVE, 501));
	CHECK(!__zone_watermark_ok(normal, 0, mark, ZONE_NORMAL, ALLOC_MIN_RESERVE, 500));
	CHECK(__zone_watermark_ok(normal, 0, mark, ZONE_NORMAL, ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK, 376));
	CHECK(!__zone_watermark_ok(normal, 0, mark, ZONE_NORMAL, ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK, 375));
	CHECK(__zone_watermark_ok(normal, 0, mark, ZONE_NORMAL, ALLOC_OOM, 501));
	CHECK(!__zone_watermark_ok(normal, 0, mark, ZONE_NORMAL, ALLOC_OOM, 500));
	/* Order 3 subtracts 2^3 - 1 and needs a free block of order >= 3. */
	CHECK(!__zone_watermark_ok(normal, 3, mark, ZONE_NORMAL, 0, 1007));
	CHECK(__zone_watermark_ok(normal, 3, mark, ZONE_NORMAL, 0, 1008));
	/* Free CMA pages do not count without ALLOC_CMA, free HIGHATOMIC pages
	 * not without reserves. */
	atomic_store(&normal->vm_stat[NR_FREE_CMA_PAGES], 100);
	CHECK(!__zone_watermark_ok(normal, 0, mark, ZONE_NORMAL, 0, 1100));
	CHECK(__zone_watermark_ok(normal, 0, mark, ZONE_NORMAL, ALLOC_CMA, 1100));
	atomic_store(&normal->vm_stat[NR_FREE_CMA_PAGES], 0);
	atomic_store(&normal->nr_free_highatomic, 50);
	CHECK(!__zone_watermark_ok(normal, 0, mark, ZONE_NORMAL, 0, 1050));
	CHECK(__zone_watermark_ok(normal, 0, mark, ZONE_NORMAL, ALLOC_MIN_RESERVE, 1050));
	atomic_store(&normal->nr_free_highatomic, 0);

	/* Changing min_free_kbytes recomputes every mark. */
	CHECK_EQ(buddy_set_min_free_kbytes(sys, 8192), 0);
	CHECK_EQ(dma32->_watermark[WMARK_MIN], 1024);
	CHECK_EQ(dma32->_watermark[WMARK_LOW], 1024 + 262);
	CHECK_EQ(buddy_set_watermark_scale_factor(sys, 100), 0);
	CHECK_EQ(dma32->_watermark[WMARK_LOW], 1024 + 2621);
	CHECK(buddy_set_watermark_scale_factor(sys, 0) == -EINVAL);
	CHECK(buddy_set_min_free_kbytes(sys, -1) == -EINVAL);
	check_clean(sys, "watermarks");
	buddy_system_destroy(sys);
}

/* ---- fallback order, claiming, stealing ---- */
static struct buddy_system *small_system(unsigned nr_pages, unsigned max_order, unsigned pb_order)
{
	struct buddy_topology t;
	struct buddy_options o;
	empty_topology(&t, 1, 1);
	t.zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ 0, nr_pages };
	buddy_options_init(&o);
	o.max_order = max_order;
	o.pageblock_order = pb_order;
	o.min_free_kbytes = 128;
	o.watermark_boost_factor = 0;
	return create(&t, &o);
}

/* Retype the pageblock of pfn with its free pages, as the tests need it. */
static void retype(struct buddy_system *sys, uint64_t pfn, int mt)
{
	struct zone *z = zone_of(sys, 0, ZONE_NORMAL);
	int old = get_pfnblock_migratetype(sys, pfn);
	spin_lock(&z->lock);
	long r = move_freepages_block(z, pfn, old, mt);
	spin_unlock(&z->lock);
	CHECK(r >= 0, "retype %llu", (unsigned long long)pfn);
}

static void test_fallback_order(void)
{
	test_section("fallback order");
	static const int expect[3][2] = {
		[MIGRATE_UNMOVABLE] = { MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE },
		[MIGRATE_MOVABLE] = { MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE },
		[MIGRATE_RECLAIMABLE] = { MIGRATE_UNMOVABLE, MIGRATE_MOVABLE },
	};
	static const gfp_t gfp_of[3] = { GFP_KERNEL, GFP_HIGHUSER_MOVABLE & ~__GFP_HIGHMEM, GFP_KERNEL | __GFP_RECLAIMABLE };
	for (int mt = 0; mt < 3; mt++)
		for (int i = 0; i < 2; i++)
			CHECK_EQ(buddy_fallbacks[mt][i], expect[mt][i]);

	for (int mt = 0; mt < 3; mt++) {
		/* Pageblocks of 8 pages (pageblock order = max order = 3): even
		 * blocks of mt's first fallback, odd blocks of its second, none
		 * of mt itself. */
		int first = expect[mt][0], second = expect[mt][1];
		struct buddy_system *sys = small_system(4096, 3, 3);
		for (uint64_t pfn = 0; pfn < 4096; pfn += 8)
			retype(sys, pfn, (pfn / 8) % 2 ? second : first);
		struct page *p = buddy_alloc_pages(sys, gfp_of[mt], 3);
		CHECK(p != NULL, "mt %d", mt);
		if (p) {
			uint64_t pfn = buddy_page_to_pfn(sys, p);
			/* Taken from the first fallback; order >= pageblock_order
			 * claims the block for mt. */
			CHECK((pfn / 8) % 2 == 0, "mt %d took pfn %llu", mt, (unsigned long long)pfn);
			CHECK_EQ(get_pfnblock_migratetype(sys, pfn), mt);
		}
		check_clean(sys, "fallback first");
		buddy_system_destroy(sys);

		/* Only the second fallback left: it serves. */
		sys = small_system(4096, 3, 3);
		for (uint64_t pfn = 0; pfn < 4096; pfn += 8)
			retype(sys, pfn, second);
		p = buddy_alloc_pages(sys, gfp_of[mt], 3);
		CHECK(p != NULL, "mt %d second", mt);
		if (p)
			CHECK_EQ(get_pfnblock_migratetype(sys, buddy_page_to_pfn(sys, p)), mt);
		check_clean(sys, "fallback second");
		buddy_system_destroy(sys);
	}
	/* HIGHATOMIC, CMA and ISOLATE have no fallbacks: claim and steal refuse. */
	struct buddy_system *sys = small_system(4096, 3, 3);
	struct zone *z = zone_of(sys, 0, ZONE_NORMAL);
	spin_lock(&z->lock);
	CHECK(__rmqueue_fallback_claim(z, 0, MIGRATE_HIGHATOMIC, 0) == NULL);
	CHECK(__rmqueue_fallback_steal(z, 0, MIGRATE_CMA) == NULL);
	spin_unlock(&z->lock);
	buddy_system_destroy(sys);
}

/* Every page of the zone allocated as movable order-0 pages, the pcp a
 * pass-through, so that single frees shape the free lists exactly. */
static struct buddy_system *full_system(struct page **all, size_t cap)
{
	struct buddy_system *sys = small_system((unsigned)cap, 5, 4);
	buddy_set_pcp_high_batch(sys, 1, 1);
	size_t n = 0;
	while (n < cap) {
		struct page *p = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_MOVABLE | __GFP_MEMALLOC | __GFP_NOWARN, 0);
		if (!p)
			break;
		all[buddy_page_to_pfn(sys, p)] = p;
		n++;
	}
	CHECK_EQ(n, cap);
	return sys;
}

static void free_pfns(struct buddy_system *sys, struct page **all, uint64_t from, uint64_t to)
{
	for (uint64_t pfn = from; pfn < to; pfn++) {
		CHECK_EQ(buddy_free_pages(sys, all[pfn], 0), 0);
		all[pfn] = NULL;
	}
}

static struct page *rmqueue_direct(struct buddy_system *sys, unsigned order, int mt)
{
	struct zone *z = zone_of(sys, 0, ZONE_NORMAL);
	int mode = 0;
	spin_lock(&z->lock);
	struct page *p = __rmqueue(z, order, mt, 0, &mode);
	if (p)
		page_set_allocated(z, p, order, mt);
	spin_unlock(&z->lock);
	return p;
}

static void test_claim_and_steal(void)
{
	test_section("claim and steal");
	static struct page *all[2048];
	/* Pageblocks of 16 pages (order 4), max order 5. */
	struct buddy_system *sys = full_system(all, 2048);
	CHECK(!sys->page_group_by_mobility_disabled);

	/* 1. An unmovable request finding one free page in a movable block
	 * full of movable pages: 1 free + 0 alike < 8, so it steals the page
	 * and the block stays movable. */
	free_pfns(sys, all, 0, 1);
	struct page *p = rmqueue_direct(sys, 0, MIGRATE_UNMOVABLE);
	CHECK(p && buddy_page_to_pfn(sys, p) == 0);
	CHECK_EQ(get_pfnblock_migratetype(sys, 0), MIGRATE_MOVABLE);
	all[0] = p;
	check_clean(sys, "steal from movable");

	/* 2. A movable order-0 request meeting an unmovable block with a free
	 * order-1 block: order 1 < pageblock_order / 2 = 2, so nothing is
	 * claimed; it steals, splitting, and the rest stays unmovable. */
	retype(sys, 16, MIGRATE_UNMOVABLE);
	free_pfns(sys, all, 16, 18);
	p = rmqueue_direct(sys, 0, MIGRATE_MOVABLE);
	CHECK(p && buddy_page_to_pfn(sys, p) == 16);
	CHECK_EQ(get_pfnblock_migratetype(sys, 16), MIGRATE_UNMOVABLE);
	CHECK(page_flag(all[0] + 17, PG_buddy));
	CHECK_EQ(zone_of(sys, 0, ZONE_NORMAL)->free_area[0].nr_free_mt[MIGRATE_UNMOVABLE], 1);
	all[16] = p;
	check_clean(sys, "steal from unmovable");

	/* 3. A movable request meeting an unmovable block with a free order-3
	 * block (>= pageblock_order / 2) among movable pages: 8 free + 8
	 * movable >= 8, the whole block is claimed for movable. */
	retype(sys, 32, MIGRATE_UNMOVABLE);
	free_pfns(sys, all, 32, 40);
	p = rmqueue_direct(sys, 0, MIGRATE_MOVABLE);
	CHECK(p && buddy_page_to_pfn(sys, p) >= 32 && buddy_page_to_pfn(sys, p) < 40);
	CHECK_EQ(get_pfnblock_migratetype(sys, 32), MIGRATE_MOVABLE);
	if (p)
		all[buddy_page_to_pfn(sys, p)] = p;
	check_clean(sys, "claim for movable");

	/* 4. The half-block rule for an unmovable request: 7 free pages in a
	 * movable block whose other 9 pages are movable is not enough ... */
	free_pfns(sys, all, 48, 55);
	struct zone *z = zone_of(sys, 0, ZONE_NORMAL);
	spin_lock(&z->lock);
	struct page *c = __rmqueue_fallback_claim(z, 0, MIGRATE_UNMOVABLE, 0);
	spin_unlock(&z->lock);
	CHECK(c == NULL, "claimed with 7 free + 0 alike of 16");
	CHECK_EQ(get_pfnblock_migratetype(sys, 48), MIGRATE_MOVABLE);
	/* ... and is once the other 9 count as non-movable (alike). */
	for (uint64_t pfn = 55; pfn < 64; pfn++)
		all[pfn]->alloc_mt = MIGRATE_UNMOVABLE;
	spin_lock(&z->lock);
	c = __rmqueue_fallback_claim(z, 0, MIGRATE_UNMOVABLE, 0);
	if (c)
		page_set_allocated(z, c, 0, MIGRATE_UNMOVABLE);
	spin_unlock(&z->lock);
	CHECK(c != NULL, "not claimed with 7 free + 9 alike of 16");
	CHECK_EQ(get_pfnblock_migratetype(sys, 48), MIGRATE_UNMOVABLE);
	if (c)
		all[buddy_page_to_pfn(sys, c)] = c;
	check_clean(sys, "half-block claim");

	/* 5. NOFRAGMENT forbids stealing and claiming below a pageblock: a
	 * reclaimable request, with only small unmovable and movable free
	 * blocks about, fails under ALLOC_NOFRAGMENT and steals without. */
	int mode = 0;
	spin_lock(&z->lock);
	CHECK(__rmqueue(z, 0, MIGRATE_RECLAIMABLE, ALLOC_NOFRAGMENT, &mode) == NULL);
	spin_unlock(&z->lock);
	p = rmqueue_direct(sys, 0, MIGRATE_RECLAIMABLE);
	CHECK(p != NULL);
	if (p) {
		CHECK(get_pfnblock_migratetype(sys, buddy_page_to_pfn(sys, p)) != MIGRATE_RECLAIMABLE);
		all[buddy_page_to_pfn(sys, p)] = p;
	}
	check_clean(sys, "nofragment steal");

	for (uint64_t pfn = 0; pfn < 2048; pfn++)
		if (all[pfn])
			CHECK_EQ(buddy_free_pages(sys, all[pfn], 0), 0);
	buddy_drain_all_pages(sys);
	CHECK_EQ(zone_page_state(z, NR_FREE_PAGES), 2048);
	check_clean(sys, "claim end");
	buddy_system_destroy(sys);
}

/* ---- pcp refill and drain ---- */
static void test_pcp(void)
{
	test_section("pcp");
	struct buddy_topology t;
	empty_topology(&t, 1, 2);
	t.zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ 0, 65536 };
	struct buddy_system *sys = create(&t, NULL);
	struct zone *z = zone_of(sys, 0, ZONE_NORMAL);
	struct per_cpu_pages *pcp0 = &z->pcp[0];

	/* zone_batchsize: min(65536 >> 10, 256) / 4 = 16; rounddown_pow2(24) - 1 = 15. */
	CHECK_EQ(pcp0->batch, 15);
	/* high_min from the low watermark over the node's 2 CPUs, at least 4 x batch. */
	long low = (long)z->_watermark[WMARK_LOW];
	CHECK_EQ(pcp0->high_min, low / 2 > 60 ? low / 2 : 60);
	CHECK_EQ(pcp0->high_max, 65536 / 8 / 2);

	CHECK_EQ(buddy_set_pcp_high_batch(sys, 64, 16), 0);
	buddy_bind_cpu(sys, 0);
	long free_before = zone_page_state(z, NR_FREE_PAGES);
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	CHECK(p != NULL);
	/* One refill of batch pages; one of them handed out. */
	CHECK_EQ(pcp0->count, 15);
	CHECK_EQ(zone_page_state(z, NR_FREE_PAGES), free_before - 16);
	CHECK_EQ(zone_page_state(z, NR_ZONE_PCP), 15);
	/* The second refill doubles (alloc_factor). */
	struct page *more[200];
	for (int i = 0; i < 15; i++)
		more[i] = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	CHECK_EQ(pcp0->count, 0);
	more[15] = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	CHECK_EQ(pcp0->count, 31);
	for (int i = 16; i < 200; i++)
		more[i] = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	buddy_drain_all_pages(sys);
	CHECK_EQ(pcp0->count, 0);
	check_clean(sys, "pcp refill");

	/* Freeing on CPU 1 fills CPU 1's list up to high, then a drain of at
	 * least batch pages brings it back below high, leaving at least batch. */
	buddy_bind_cpu(sys, 1);
	struct per_cpu_pages *pcp1 = &z->pcp[1];
	int max_seen = 0, drains = 0, prev = 0;
	for (int i = 0; i < 200; i++) {
		buddy_free_pages(sys, more[i], 0);
		if (pcp1->count > max_seen)
			max_seen = pcp1->count;
		if (pcp1->count < prev) {
			drains++;
			CHECK(prev + 1 - pcp1->count >= 16, "drained %d", prev + 1 - pcp1->count);
			CHECK(pcp1->count >= 16, "left %d", pcp1->count);
		}
		prev = pcp1->count;
		CHECK(pcp1->count < 64, "count %d after a free", pcp1->count);
	}
	CHECK(drains > 0);
	CHECK_EQ(max_seen, 63);
	buddy_free_pages(sys, p, 0);
	check_clean(sys, "pcp drain");
	buddy_drain_cpu_pages(sys, 1);
	CHECK_EQ(pcp1->count, 0);
	CHECK_EQ(zone_page_state(z, NR_FREE_PAGES), (long)z->present_pages);

	/* Orders up to PAGE_ALLOC_COSTLY_ORDER and the pageblock order use pcp
	 * lists; a THP-sized free may drain at once, the others stay. */
	CHECK_EQ(buddy_set_pcp_high_batch(sys, 0, 0), 0);
	for (unsigned order = 0; order <= 10; order++) {
		struct page *q = buddy_alloc_pages(sys, GFP_KERNEL, order);
		CHECK(q != NULL);
		buddy_free_pages(sys, q, order);
		bool on_pcp = q && page_flag(q, PG_pcp);
		if (order != 9)
			CHECK_EQ(on_pcp, pcp_allowed_order(sys, order));
		CHECK_EQ(pcp_allowed_order(sys, order), order <= 3 || order == 9);
	}
	/* Bulk allocation fills from the pcp. */
	struct page *bulk[100];
	size_t got = buddy_alloc_pages_bulk(sys, GFP_KERNEL, -1, 0, 100, bulk);
	CHECK_EQ(got, 100);
	for (size_t i = 0; i < got; i++)
		CHECK(page_flag(bulk[i], PG_allocated));
	check_clean(sys, "bulk");
	for (size_t i = 0; i < got; i++)
		buddy_free_pages(sys, bulk[i], 0);
	buddy_drain_all_pages(sys);
	check_clean(sys, "pcp end");
	/* Bad pcp settings are refused. */
	CHECK(buddy_set_pcp_high_batch(sys, 4, 8) == -EINVAL);
	CHECK(buddy_set_pcp_high_batch(sys, -1, 8) == -EINVAL);
	buddy_system_destroy(sys);
}

/* ---- nodes: THISNODE, nodemask, NOFRAGMENT ---- */
static void two_node_topology(struct buddy_topology *t)
{
	empty_topology(t, 2, 2);
	t->zones[0][ZONE_DMA32] = (struct buddy_pfn_range){ 0, 8192 };
	t->zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ 8192, 16384 };
	t->zones[1][ZONE_NORMAL] = (struct buddy_pfn_range){ 16384, 24576 };
}

static void test_nodes(void)
{
	test_section("thisnode and nodemask");
	struct buddy_topology t;
	two_node_topology(&t);
	struct buddy_system *sys = create(&t, NULL);
	buddy_bind_cpu(sys, 0);

	struct page *p = buddy_alloc_pages_node(sys, 1, GFP_KERNEL | __GFP_THISNODE, 0);
	CHECK(p && buddy_page_nid(p) == 1);
	buddy_free_pages(sys, p, 0);
	p = buddy_alloc_pages_nodemask(sys, GFP_KERNEL, 0, -1, 1ULL << 1);
	CHECK(p && buddy_page_nid(p) == 1);
	buddy_free_pages(sys, p, 0);

	/* Exhaust node 1 with THISNODE: never a node-0 page. */
	static struct page *held[16384];
	size_t n = 0;
	for (;;) {
		struct page *q = buddy_alloc_pages_node(sys, 1, GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, 0);
		if (!q)
			break;
		CHECK_EQ(buddy_page_nid(q), 1);
		held[n++] = q;
	}
	CHECK(n > 7000, "only %zu pages from node 1", n);
	/* Without THISNODE the request falls back to node 0. */
	p = buddy_alloc_pages_node(sys, 1, GFP_KERNEL | __GFP_NOWARN, 0);
	CHECK(p && buddy_page_nid(p) == 0);
	if (p)
		buddy_free_pages(sys, p, 0);
	/* A nodemask of node 1 only fails like THISNODE. */
	p = buddy_alloc_pages_nodemask(sys, GFP_KERNEL | __GFP_NOWARN, 0, 0, 1ULL << 1);
	CHECK(p == NULL);
	check_clean(sys, "thisnode exhausted");
	for (size_t i = 0; i < n; i++)
		buddy_free_pages(sys, held[i], 0);
	buddy_drain_all_pages(sys);
	check_clean(sys, "thisnode freed");
	buddy_system_destroy(sys);

	test_section("nofragment");
	/* One node, DMA32 and Normal.  Fragment Normal so that it holds only
	 * scattered free movable pages; an unmovable request then goes to
	 * DMA32 (claiming a whole pageblock there) instead of stealing in
	 * Normal, because ALLOC_NOFRAGMENT is set for ZONE_NORMAL. */
	empty_topology(&t, 1, 1);
	t.zones[0][ZONE_DMA32] = (struct buddy_pfn_range){ 0, 8192 };
	t.zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ 8192, 16384 };
	struct buddy_options o;
	buddy_options_init(&o);
	o.min_free_kbytes = 128;
	sys = create(&t, &o);
	struct zone *normal = zone_of(sys, 0, ZONE_NORMAL);
	n = 0;
	for (;;) {
		struct page *q = buddy_alloc_pages_node(sys, 0, GFP_KERNEL | __GFP_MOVABLE | __GFP_NOWARN | __GFP_HIGH, 0);
		if (!q || buddy_page_zonenum(q) != ZONE_NORMAL) {
			if (q)
				buddy_free_pages(sys, q, 0);
			break;
		}
		held[n++] = q;
	}
	for (size_t i = 0; i < n; i += 2) {
		buddy_free_pages(sys, held[i], 0);
		held[i] = NULL;
	}
	buddy_drain_all_pages(sys);
	CHECK(zone_page_state(normal, NR_FREE_PAGES) > 3000);
	CHECK_EQ(normal->free_area[1].nr_free, 0);
	p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	CHECK(p && buddy_page_zonenum(p) == ZONE_DMA32, "unmovable went to zone %d", p ? (int)buddy_page_zonenum(p) : -1);
	if (p)
		buddy_free_pages(sys, p, 0);
	/* With DMA32 unable to serve (only a DMA32 allocation could), the
	 * second pass without NOFRAGMENT steals in Normal. */
	struct zone *dma32 = zone_of(sys, 0, ZONE_DMA32);
	size_t m = 0;
	static struct page *dheld[8192];
	for (;;) {
		struct page *q = buddy_alloc_pages(sys, GFP_DMA32 | __GFP_NOWARN | __GFP_HIGH, 0);
		if (!q)
			break;
		dheld[m++] = q;
	}
	buddy_drain_all_pages(sys);
	(void)dma32;
	p = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN, 0);
	CHECK(p && buddy_page_zonenum(p) == ZONE_NORMAL);
	if (p) {
		/* Half of each Normal block is free and none of the rest is
		 * unmovable-compatible: exactly the half-block threshold, so
		 * the second pass claims the block. */
		CHECK_EQ(get_pfnblock_migratetype(sys, buddy_page_to_pfn(sys, p)), MIGRATE_UNMOVABLE);
		buddy_free_pages(sys, p, 0);
	}
	check_clean(sys, "nofragment");
	for (size_t i = 0; i < m; i++)
		buddy_free_pages(sys, dheld[i], 0);
	for (size_t i = 0; i < n; i++)
		if (held[i])
			buddy_free_pages(sys, held[i], 0);
	buddy_drain_all_pages(sys);
	check_clean(sys, "nofragment end");
	buddy_system_destroy(sys);
}

/* ---- HIGHATOMIC ---- */
static void test_highatomic(void)
{
	test_section("highatomic");
	struct buddy_topology t;
	empty_topology(&t, 1, 1);
	t.zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ 0, 65536 };
	struct buddy_system *sys = create(&t, NULL);
	struct zone *z = zone_of(sys, 0, ZONE_NORMAL);
	unsigned long low = z->_watermark[WMARK_LOW], min = z->_watermark[WMARK_MIN];

	/* Bring free memory between min and low with movable order-0 pages. */
	static struct page *held[65536];
	size_t n = 0;
	while ((unsigned long)zone_page_state(z, NR_FREE_PAGES) > (low + min) / 2 + 64) {
		held[n++] = buddy_alloc_pages(sys, GFP_HIGHUSER_MOVABLE & ~__GFP_HIGHMEM, 0);
		buddy_drain_all_pages(sys);
	}
	/* The fast path refuses (low watermark); the slow path's atomic flags
	 * succeed and reserve the pageblock. */
	struct page *a = buddy_alloc_pages(sys, GFP_ATOMIC, 2);
	CHECK(a != NULL);
	CHECK_EQ(atomic_load(&z->nr_reserved_highatomic), sys->pageblock_nr_pages);
	CHECK_EQ(get_pfnblock_migratetype(sys, buddy_page_to_pfn(sys, a)), MIGRATE_HIGHATOMIC);
	CHECK(atomic_load(&z->nr_free_highatomic) > 0);
	check_clean(sys, "reserved");
	/* A second atomic order-2 allocation comes from the reserve. */
	struct page *b = buddy_alloc_pages(sys, GFP_ATOMIC, 2);
	CHECK(b && get_pfnblock_migratetype(sys, buddy_page_to_pfn(sys, b)) == MIGRATE_HIGHATOMIC);
	/* Ordinary allocations cannot reach the reserve: exhaust memory with
	 * GFP_KERNEL; the reserved block keeps its free pages.  (Nothing is
	 * reclaimable, so the slow path goes to OOM without releasing it, as
	 * the kernel's does: release needs reclaim progress or 16 fruitless
	 * retries.) */
	for (;;) {
		struct page *q = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN, 0);
		if (!q)
			break;
		held[n++] = q;
	}
	buddy_drain_all_pages(sys);
	CHECK(atomic_load(&z->nr_free_highatomic) > 0);
	CHECK_EQ(atomic_load(&z->nr_reserved_highatomic), sys->pageblock_nr_pages);
	check_clean(sys, "reserve kept");
	/* Release: without force the last reserved pageblock stays, with force
	 * it goes back to the requesting type and serves GFP_KERNEL. */
	struct zone *zl[1] = { z };
	CHECK(!unreserve_highatomic_pageblock(sys, zl, 1, MIGRATE_UNMOVABLE, false));
	CHECK(unreserve_highatomic_pageblock(sys, zl, 1, MIGRATE_UNMOVABLE, true));
	CHECK_EQ(atomic_load(&z->nr_reserved_highatomic), 0);
	CHECK_EQ(atomic_load(&z->nr_free_highatomic), 0);
	CHECK(buddy_vm_event(sys, BUDDY_HIGHATOMIC_UNRESERVE) >= 1);
	check_clean(sys, "unreserved");
	struct page *after = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN | __GFP_HIGH, 0);
	CHECK(after != NULL);
	if (after)
		held[n++] = after;
	buddy_free_pages(sys, a, 2);
	buddy_free_pages(sys, b, 2);
	for (size_t i = 0; i < n; i++)
		buddy_free_pages(sys, held[i], 0);
	buddy_drain_all_pages(sys);
	check_clean(sys, "highatomic end");
	buddy_system_destroy(sys);
}

/* ---- CMA ---- */
static void test_cma(void)
{
	test_section("cma");
	struct buddy_topology t;
	empty_topology(&t, 1, 1);
	t.zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ 0, 16384 };
	t.nr_cma = 1;
	t.cma[0] = (struct buddy_pfn_range){ 8192, 12288 };
	struct buddy_system *sys = create(&t, NULL);
	struct zone *z = zone_of(sys, 0, ZONE_NORMAL);
	CHECK_EQ(z->cma_pages, 4096);
	CHECK_EQ(zone_page_state(z, NR_FREE_CMA_PAGES), 4096);
	CHECK_EQ(get_pfnblock_migratetype(sys, 8192), MIGRATE_CMA);

	static struct page *held[16384];
	size_t n = 0;
	for (;;) {
		struct page *q = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN, 0);
		if (!q)
			break;
		uint64_t pfn = buddy_page_to_pfn(sys, q);
		CHECK(pfn < 8192 || pfn >= 12288, "unmovable page %llu from CMA", (unsigned long long)pfn);
		held[n++] = q;
	}
	buddy_drain_all_pages(sys);
	CHECK_EQ(zone_page_state(z, NR_FREE_CMA_PAGES), 4096);
	/* Movable requests use CMA. */
	struct page *m = buddy_alloc_pages(sys, GFP_HIGHUSER_MOVABLE & ~__GFP_HIGHMEM, 0);
	CHECK(m != NULL);
	if (m) {
		uint64_t pfn = buddy_page_to_pfn(sys, m);
		CHECK(pfn >= 8192 && pfn < 12288);
		/* CMA pages ride the movable pcp list and go back to CMA lists. */
		buddy_free_pages(sys, m, 0);
		CHECK(page_flag(m, PG_pcp) && m->pcp_mt == MIGRATE_MOVABLE);
	}
	buddy_drain_all_pages(sys);
	CHECK_EQ(zone_page_state(z, NR_FREE_CMA_PAGES), 4096);
	CHECK_EQ(get_pfnblock_migratetype(sys, 8192), MIGRATE_CMA);
	check_clean(sys, "cma");
	for (size_t i = 0; i < n; i++)
		buddy_free_pages(sys, held[i], 0);
	buddy_drain_all_pages(sys);
	/* CMA blocks never merge into ordinary ones: pfn 8192 starts its own
	 * max-order block. */
	CHECK(page_flag(pfn_to_page(sys, 8192), PG_buddy));
	check_clean(sys, "cma end");
	buddy_system_destroy(sys);
}

/* ---- bad input ---- */
static void test_bad_input(void)
{
	test_section("bad input");
	struct buddy_system *sys = small_system(4096, 10, 9);
	char log[BUDDY_LOG_LINES * BUDDY_LOG_LINE];

	/* Order above max: NULL with a warning, and none under NOWARN. */
	uint64_t warns = buddy_vm_event(sys, BUDDY_ALLOC_WARN);
	CHECK(buddy_alloc_pages(sys, GFP_KERNEL, 11) == NULL);
	CHECK_EQ(buddy_vm_event(sys, BUDDY_ALLOC_WARN), warns + 1);
	CHECK(buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN, 11) == NULL);
	CHECK_EQ(buddy_vm_event(sys, BUDDY_ALLOC_WARN), warns + 1);
	CHECK(buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN, 0xffffffffu) == NULL);
	/* Unknown GFP bits, MOVABLE|RECLAIMABLE, a bad node. */
	CHECK(buddy_alloc_pages(sys, 0x80000000u, 0) == NULL);
	CHECK(buddy_alloc_pages(sys, GFP_KERNEL | __GFP_MOVABLE | __GFP_RECLAIMABLE, 0) == NULL);
	CHECK(buddy_alloc_pages_node(sys, 5, GFP_KERNEL, 0) == NULL);
	CHECK(buddy_alloc_pages_node(sys, -7, GFP_KERNEL, 0) == NULL);
	CHECK(buddy_bind_cpu(sys, 9) == -EINVAL);

	/* Double free, at both levels (pcp and buddy). */
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	CHECK_EQ(buddy_free_pages(sys, p, 0), 0);
	CHECK_EQ(buddy_free_pages(sys, p, 0), -EINVAL);
	buddy_log_read(sys, log, sizeof(log));
	CHECK(strstr(log, "double free (page is on a pcp list)") != NULL);
	CHECK(strstr(log, "BUG: Bad page state") != NULL);
	p = buddy_alloc_pages(sys, GFP_KERNEL, 5);
	CHECK_EQ(buddy_free_pages(sys, p, 5), 0);
	CHECK_EQ(buddy_free_pages(sys, p, 5), -EINVAL);
	buddy_log_read(sys, log, sizeof(log));
	CHECK(strstr(log, "double free (page is in the buddy free lists)") != NULL);
	check_clean(sys, "double free");

	/* Wrong order: reported, the block kept out, the state consistent. */
	struct zone *z = zone_of(sys, 0, ZONE_NORMAL);
	p = buddy_alloc_pages(sys, GFP_KERNEL, 2);
	CHECK_EQ(buddy_free_pages(sys, p, 1), -EINVAL);
	CHECK_EQ(zone_page_state(z, NR_ZONE_QUARANTINED), 4);
	CHECK(page_flag(p, PG_quarantined));
	CHECK_EQ(buddy_free_pages(sys, p, 2), -EINVAL);
	buddy_log_read(sys, log, sizeof(log));
	CHECK(strstr(log, "free with order 1 of a block allocated with order 2") != NULL);
	check_clean(sys, "wrong order");

	/* A tail page of a compound allocation, and a page never allocated. */
	p = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_COMP, 3);
	CHECK(page_flag(p, PG_head) && page_flag(p + 1, PG_tail) && p[5].head_offset == 5);
	CHECK_EQ(buddy_free_pages(sys, p + 1, 0), -EINVAL);
	buddy_log_read(sys, log, sizeof(log));
	CHECK(strstr(log, "free of a compound tail page") != NULL);
	CHECK_EQ(buddy_free_pages(sys, p, 3), 0);
	CHECK(!page_flag(p + 1, PG_tail));
	buddy_drain_all_pages(sys);
	struct page *never = buddy_pfn_to_page(sys, 4000);
	CHECK_EQ(buddy_free_pages(sys, never, 0), -EINVAL);
	/* Not a page record at all. */
	char junk[64];
	CHECK_EQ(buddy_free_pages(sys, (struct page *)junk, 0), -EFAULT);
	CHECK_EQ(buddy_free_pages(sys, (struct page *)((char *)p + 3), 0), -EFAULT);
	CHECK_EQ(buddy_free_pages(sys, NULL, 0), -EFAULT);
	CHECK_EQ(buddy_free_pages(sys, p, 40), -EINVAL);
	CHECK(buddy_pfn_to_page(sys, 1ULL << 40) == NULL);
	check_clean(sys, "bad frees");
	CHECK(buddy_vm_event(sys, BUDDY_BAD_PAGE) >= 7);
	buddy_system_destroy(sys);

	/* A bad topology is refused with the field named. */
	struct buddy_topology t;
	struct buddy_error err;
	empty_topology(&t, 1, 1);
	t.zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ 100, 50 };
	memset(&err, 0, sizeof(err));
	CHECK(buddy_system_create(&t, NULL, &err) == NULL);
	CHECK(err.field[0] != '\0' && err.message[0] != '\0');
	CHECK(strstr(err.field, "zones") != NULL, "field '%s'", err.field);
	empty_topology(&t, 1, 1);
	t.zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ 0, 4096 };
	struct buddy_options o;
	buddy_options_init(&o);
	o.pageblock_order = 11;
	memset(&err, 0, sizeof(err));
	CHECK(buddy_system_create(&t, &o, &err) == NULL);
	CHECK(strstr(err.field, "pageblock_order") != NULL, "field '%s'", err.field);
	CHECK(buddy_system_create(NULL, NULL, &err) == NULL);
}

/* ---- mixed random operations stay clean ---- */
static void test_random_mix(void)
{
	test_section("random mix");
	struct buddy_topology t;
	two_node_topology(&t);
	t.nr_cma = 1;
	t.cma[0] = (struct buddy_pfn_range){ 18432, 19456 };
	struct buddy_options o;
	buddy_options_init(&o);
	o.max_order = 6;
	o.pageblock_order = 4;
	struct buddy_system *sys = create(&t, &o);
	static const gfp_t gfps[] = { GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_HIGHUSER_MOVABLE,
				      GFP_KERNEL | __GFP_RECLAIMABLE, GFP_DMA32, GFP_KERNEL | __GFP_COMP,
				      GFP_KERNEL | __GFP_THISNODE };
	struct {
		struct page *p;
		unsigned order;
	} live[512] = { 0 };
	uint64_t x = 88172645463325252ULL;
	for (int step = 0; step < 20000; step++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int slot = (int)(x % 512);
		buddy_bind_cpu(sys, (int)((x >> 12) % 2));
		if (live[slot].p) {
			CHECK_EQ(buddy_free_pages(sys, live[slot].p, live[slot].order), 0);
			live[slot].p = NULL;
		} else {
			unsigned order = (unsigned)((x >> 20) % 7);
			if ((x >> 30) % 4)
				order = order % 2;
			live[slot].p = buddy_alloc_pages_node(sys, (int)((x >> 40) % 2),
							      gfps[(x >> 33) % 8] | __GFP_NOWARN, order);
			live[slot].order = order;
		}
		if ((x >> 50) % 97 == 0)
			buddy_drain_all_pages(sys);
		if (step % 500 == 0) {
			struct buddy_violation v[4];
			struct buddy_check_result res = { .capacity = 4, .v = v };
			for (int nid = 0; nid < 2; nid++)
				for (int zt = 0; zt < MAX_NR_ZONES; zt++)
					if (buddy_check(sys, BUDDY_CHECK_ZONE, nid, (enum zone_type)zt, 0, &res)) {
						CHECK(false, "step %d: %s %s", step, v[0].name, v[0].message);
						goto out;
					}
		}
	}
out:
	check_clean(sys, "random mix");
	for (int i = 0; i < 512; i++)
		if (live[i].p)
			buddy_free_pages(sys, live[i].p, live[i].order);
	buddy_drain_all_pages(sys);
	for (int nid = 0; nid < 2; nid++)
		for (int zt = 0; zt < MAX_NR_ZONES; zt++) {
			struct zone *zone = zone_of(sys, nid, (enum zone_type)zt);
			CHECK_EQ(zone_page_state(zone, NR_FREE_PAGES), (long)zone->present_pages);
		}
	check_clean(sys, "random mix end");
	buddy_system_destroy(sys);
}

int main(void)
{
	test_default_topology();
	test_zone_routing();
	test_watermarks();
	test_fallback_order();
	test_claim_and_steal();
	test_pcp();
	test_nodes();
	test_highatomic();
	test_cma();
	test_bad_input();
	test_random_mix();
	return test_done();
}
