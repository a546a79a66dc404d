/* Compaction (alloc/compaction.c) against the kernel's behaviour: a zone
 * fragmented by movable pages compacts into high-order blocks with every
 * page's contents intact; a zone fragmented by unmovable pages does not and
 * says so; deferral arithmetic; the fragmentation index on a hand-computed
 * case; pageblock skip hints; kcompactd as a real thread beside concurrent
 * allocations; owners and fault injection refusing migration.  The checker
 * runs at every point where the zone is at rest and must find nothing. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buddy/buddy.h"
#include "compaction.h"
#include "internal.h"
#include "tap.h"

/* 64 MiB: 32 pageblocks of order 9, one DMA32 zone. */
#define NPAGES 16384
#define MAX_SLOTS (NPAGES * 2)

static void check_clean(struct buddy_system *sys, const char *where)
{
	struct buddy_violation v[8];
	struct buddy_check_result res = { .capacity = 8, .v = v };
	size_t n = buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, &res);
	char buf[256] = "";
	if (n)
		buddy_violation_format(&v[0], buf, sizeof(buf));
	CHECK(n == 0, "%s: %zu violations, first: %s", where, n, buf);
}

static struct buddy_system *create(void)
{
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err = { 0 };

	buddy_topology_small(&t, NPAGES, 2);
	buddy_options_init(&o);
	o.backing = BUDDY_BACKING_MMAP;
	o.poison = true;
	struct buddy_system *sys = buddy_system_create(&t, &o, &err);
	CHECK(sys != NULL, "create failed: %s: %s", err.field, err.message);
	if (!sys)
		exit(test_done() | 1);
	return sys;
}

static struct zone *dma32(struct buddy_system *sys)
{
	return &sys->nodes[0]->node_zones[ZONE_DMA32];
}

/* ---- an owner: a table of its pages, each with its own pattern ---- */
struct owner {
	pthread_mutex_t lock;
	struct buddy_mapping mapping;
	struct buddy_system *sys;
	struct page *pages[MAX_SLOTS];
	size_t nr;              /* slots in use by the fill */
	size_t nr_patterned;    /* slots below this carry a pattern */
	unsigned long migrations;
	unsigned long bad_copies;
	unsigned long refused;
	bool refuse;            /* answer -EAGAIN to every migration */
	int check_in_callback;  /* run the checker from this many callbacks */
	size_t callback_violations;
	char callback_violation[256];
};

static uint64_t pattern_word(size_t idx, size_t word)
{
	return (idx + 1) * 0x9E3779B97F4A7C15ULL ^ (word * 0xC2B2AE3D27D4EB4FULL) ^ 0x5A5A5A5A00000000ULL;
}

static void fill_pattern(struct buddy_system *sys, struct page *page, size_t idx)
{
	uint64_t *w = buddy_page_address(sys, page);
	for (size_t i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++)
		w[i] = pattern_word(idx, i);
}

static bool pattern_ok(struct buddy_system *sys, const struct page *page, size_t idx)
{
	const uint64_t *w = buddy_page_address(sys, page);
	for (size_t i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++)
		if (w[i] != pattern_word(idx, i))
			return false;
	return true;
}

static int owner_migrate(struct buddy_mapping *m, struct page *old_page, struct page *new_page)
{
	struct owner *o = m->private_data;
	size_t idx = (size_t)buddy_page_index(old_page);
	int rc = 0;

	/* Mid-compaction: a source isolated, a target allocated, isolated
	 * free blocks held.  The checker must accept all of it. */
	if (o->check_in_callback > 0) {
		o->check_in_callback--;
		struct buddy_violation v[1];
		struct buddy_check_result res = { .capacity = 1, .v = v };
		size_t n = buddy_check(o->sys, BUDDY_CHECK_ALL, 0, 0, 0, &res);
		if (n && !o->callback_violations)
			buddy_violation_format(&v[0], o->callback_violation, sizeof(o->callback_violation));
		o->callback_violations += n;
	}

	pthread_mutex_lock(&o->lock);
	if (o->refuse || idx >= MAX_SLOTS || o->pages[idx] != old_page) {
		/* Refused, or being freed by us: it stays where it is. */
		o->refused++;
		rc = -EAGAIN;
	} else {
		buddy_migrate_copy(o->sys, new_page, old_page);
		if (idx < o->nr_patterned && !pattern_ok(o->sys, new_page, idx))
			o->bad_copies++;
		o->pages[idx] = new_page;
		o->migrations++;
	}
	pthread_mutex_unlock(&o->lock);
	return rc;
}

static const struct buddy_mapping_ops owner_ops = { .migrate = owner_migrate };

static struct owner *owner_new(struct buddy_system *sys)
{
	struct owner *o = calloc(1, sizeof(*o));
	if (!o)
		exit(test_done() | 1);
	pthread_mutex_init(&o->lock, NULL);
	o->sys = sys;
	o->mapping.ops = &owner_ops;
	o->mapping.private_data = o;
	return o;
}

static void owner_free(struct owner *o)
{
	pthread_mutex_destroy(&o->lock);
	free(o);
}

/* Allocate order-0 movable pages for the owner until the zone is at its
 * min watermark (no reclaim, no compaction), each with its pattern. */
static void fill_zone_movable(struct buddy_system *sys, struct owner *o)
{
	o->nr = 0;
	while (o->nr < NPAGES) {
		struct page *page = buddy_alloc_pages_mapping(sys, __GFP_MOVABLE | __GFP_NOWARN, 0, -1, 0, &o->mapping,
							      o->nr);
		if (!page)
			break;
		fill_pattern(sys, page, o->nr);
		o->pages[o->nr++] = page;
	}
	o->nr_patterned = o->nr;
}

/* Free the owner's pages whose pfn satisfies keep_out(pfn). */
static size_t free_where(struct buddy_system *sys, struct owner *o, bool (*keep_out)(uint64_t pfn))
{
	size_t freed = 0;

	for (size_t i = 0; i < o->nr; i++) {
		struct page *page = o->pages[i];
		if (!page || !keep_out(buddy_page_to_pfn(sys, page)))
			continue;
		o->pages[i] = NULL;
		CHECK_EQ(buddy_free_pages(sys, page, 0), 0);
		freed++;
	}
	buddy_drain_all_pages(sys);
	return freed;
}

static bool even_pfn(uint64_t pfn)
{
	return !(pfn & 1);
}

/* Every other run of eight: a block's sampled pages (every eighth) then
 * include both LRU and free pages, which the skip-hint reset looks for. */
static bool odd_run_of_8(uint64_t pfn)
{
	return (pfn >> 3) & 1;
}

/* Lone holes below the middle, order-4 holes above: the free scanner then
 * holds high-order targets and splits them. */
static bool mixed_holes(uint64_t pfn)
{
	return pfn < NPAGES / 2 ? !(pfn & 1) : ((pfn >> 4) & 1);
}

static size_t live_pages(const struct owner *o)
{
	size_t n = 0;
	for (size_t i = 0; i < MAX_SLOTS; i++)
		n += o->pages[i] != NULL;
	return n;
}

/* Every page still owned holds its own bytes and knows its owner. */
static size_t verify_owner(struct buddy_system *sys, struct owner *o, int task)
{
	size_t bad = 0;

	pthread_mutex_lock(&o->lock);
	for (size_t i = 0; i < MAX_SLOTS; i++) {
		struct page *page = o->pages[i];
		if (!page)
			continue;
		if ((i < o->nr_patterned && !pattern_ok(sys, page, i)) || buddy_page_index(page) != i ||
		    buddy_page_mapping(page) != &o->mapping || (task && buddy_page_task(page) != task))
			bad++;
	}
	pthread_mutex_unlock(&o->lock);
	return bad;
}

static void release_owner(struct buddy_system *sys, struct owner *o)
{
	for (size_t i = 0; i < MAX_SLOTS; i++) {
		struct page *page = o->pages[i];
		if (!page)
			continue;
		o->pages[i] = NULL;
		CHECK_EQ(buddy_free_pages(sys, page, 0), 0);
	}
	buddy_drain_all_pages(sys);
}

static long lru_pages(struct buddy_system *sys)
{
	long n = 0;
	for (int l = 0; l < NR_LRU_LISTS; l++)
		n += atomic_load(&sys->slow->lruvec[0].nr_pages[l]);
	return n;
}

static bool order9_ok(struct buddy_system *sys)
{
	return buddy_zone_watermark_ok(sys, 0, ZONE_DMA32, 9, buddy_zone_wmark(sys, 0, ZONE_DMA32, WMARK_LOW),
				       ZONE_DMA32, 0);
}

struct free_snapshot {
	unsigned long blocks[MAX_PAGE_ORDER_LIMIT + 1];
	uint64_t free_pages;
};

static void snapshot(struct buddy_system *sys, struct free_snapshot *s)
{
	struct buddy_zone_info info;
	buddy_zone_info(sys, 0, ZONE_DMA32, &info);
	memset(s, 0, sizeof(*s));
	for (unsigned int o = 0; o <= MAX_PAGE_ORDER_LIMIT; o++)
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			s->blocks[o] += info.nr_free_blocks[o][mt];
	s->free_pages = info.free_pages;
}

static bool same_snapshot(const struct free_snapshot *a, const struct free_snapshot *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* ---- (1) a zone fragmented by movable pages ---- */
static void test_movable_fragmentation(void)
{
	test_section("movable fragmentation: compaction makes an order-9 block, contents intact");
	struct buddy_system *sys = create();
	struct owner *o = owner_new(sys);
	int task = buddy_task_create(sys, "owner", 0);
	CHECK(task > 0);
	buddy_bind_task(sys, task);

	fill_zone_movable(sys, o);
	CHECK(o->nr > NPAGES * 9 / 10, "filled %zu pages", o->nr);
	size_t freed = free_where(sys, o, even_pfn);
	CHECK(freed > o->nr / 3, "freed %zu", freed);
	check_clean(sys, "fragmented");

	printf("# /proc/buddyinfo before compaction:\n");
	buddy_proc_buddyinfo(sys, stdout);
	int fragindex = buddy_fragmentation_index(sys, 0, ZONE_DMA32, 9);
	CHECK(fragindex > SYSCTL_EXTFRAG_THRESHOLD, "fragmentation index %d", fragindex);
	CHECK(compaction_suitable(dma32(sys), 9, ZONE_DMA32));
	CHECK(!order9_ok(sys));
	/* No direct reclaim, so no compaction: it must fail now. */
	CHECK(buddy_alloc_pages(sys, __GFP_MOVABLE | __GFP_NOWARN, 9) == NULL);

	uint64_t mscan = buddy_vm_event(sys, COMPACTMIGRATE_SCANNED), fscan = buddy_vm_event(sys, COMPACTFREE_SCANNED);
	uint64_t isolated = buddy_vm_event(sys, COMPACTISOLATED), migrated = buddy_vm_event(sys, PGMIGRATE_SUCCESS);
	long lru_before = lru_pages(sys);
	o->check_in_callback = 40;
	CHECK_EQ(buddy_compact_memory(sys), 0);
	CHECK(o->callback_violations == 0, "checker mid-compaction: %zu violations, first: %s", o->callback_violations,
	      o->callback_violation);
	buddy_drain_all_pages(sys);
	printf("# /proc/buddyinfo after compaction:\n");
	buddy_proc_buddyinfo(sys, stdout);
	printf("# migrated %lu pages; compact_migrate_scanned %llu compact_free_scanned %llu compact_isolated %llu\n",
	       o->migrations, (unsigned long long)(buddy_vm_event(sys, COMPACTMIGRATE_SCANNED) - mscan),
	       (unsigned long long)(buddy_vm_event(sys, COMPACTFREE_SCANNED) - fscan),
	       (unsigned long long)(buddy_vm_event(sys, COMPACTISOLATED) - isolated));

	CHECK(o->migrations > 1000, "migrations %lu", o->migrations);
	CHECK_EQ(o->bad_copies, 0);
	CHECK_EQ(buddy_vm_event(sys, PGMIGRATE_SUCCESS) - migrated, o->migrations);
	CHECK(buddy_vm_event(sys, COMPACTMIGRATE_SCANNED) > mscan);
	CHECK(buddy_vm_event(sys, COMPACTFREE_SCANNED) > fscan);
	CHECK(buddy_vm_event(sys, COMPACTISOLATED) > isolated);
	CHECK_EQ(verify_owner(sys, o, task), 0);
	CHECK_EQ(zone_page_state(dma32(sys), NR_ZONE_ISOLATED), 0);
	CHECK_EQ(lru_pages(sys), lru_before);
	struct buddy_task_info ti;
	CHECK_EQ(buddy_task_info(sys, task, &ti), 0);
	CHECK_EQ(ti.rss_pages, live_pages(o));
	CHECK_EQ(buddy_fragmentation_index(sys, 0, ZONE_DMA32, 9), -1000);
	CHECK(order9_ok(sys));
	check_clean(sys, "after compaction");

	struct page *big = buddy_alloc_pages(sys, __GFP_MOVABLE | __GFP_NOWARN, 9);
	CHECK(big != NULL, "order-9 allocation after compaction");
	if (big)
		CHECK_EQ(buddy_free_pages(sys, big, 9), 0);
	/* A second pass has little left to do and loses nothing. */
	CHECK_EQ(buddy_compact_node(sys, 0), 0);
	CHECK_EQ(verify_owner(sys, o, task), 0);
	check_clean(sys, "after second compaction");

	release_owner(sys, o);
	CHECK_EQ(buddy_task_destroy(sys, task), 0);
	check_clean(sys, "released");
	buddy_system_destroy(sys);
	owner_free(o);
}

/* ---- (1b) direct compaction: capture, and the slow path ---- */
static void test_direct_compaction(void)
{
	test_section("direct compaction: capture and the allocator's slow path");
	struct buddy_system *sys = create();
	struct owner *o = owner_new(sys);
	struct pglist_data *pgdat = sys->nodes[0];

	fill_zone_movable(sys, o);
	free_where(sys, o, even_pfn);
	check_clean(sys, "fragmented");

	struct page *captured = NULL;
	enum buddy_compact_result rc =
		try_to_compact_pages(sys, GFP_KERNEL | __GFP_MOVABLE, 9, ALLOC_WMARK_MIN | ALLOC_CMA, pgdat->zonerefs,
				     pgdat->nr_zonerefs, ZONE_NORMAL, 0, COMPACT_PRIO_SYNC_LIGHT, &captured);
	printf("# try_to_compact_pages: result %d, captured %s\n", rc, captured ? "yes" : "no");
	CHECK_EQ(rc, COMPACT_SUCCESS);
	CHECK(captured != NULL, "the freed order-9 block was captured");
	if (captured) {
		CHECK(page_flag(captured, PG_allocated) && !page_flag(captured, PG_buddy));
		CHECK_EQ(captured->order, 9);
		CHECK_EQ(captured->alloc_mt, MIGRATE_MOVABLE);
		check_clean(sys, "captured block held");
		CHECK_EQ(buddy_free_pages(sys, captured, 9), 0);
	}
	CHECK_EQ(o->bad_copies, 0);
	CHECK_EQ(verify_owner(sys, o, 0), 0);
	check_clean(sys, "after capture");

	/* High-order targets: isolated whole, split as sources need them,
	 * the rest released; the checker accepts every state on the way. */
	release_owner(sys, o);
	fill_zone_movable(sys, o);
	free_where(sys, o, mixed_holes);
	check_clean(sys, "mixed holes");
	o->migrations = 0;
	o->check_in_callback = 200;
	CHECK_EQ(buddy_compact_zone(sys, 0, ZONE_DMA32, -1, BUDDY_COMPACT_SYNC), COMPACT_COMPLETE);
	CHECK(o->callback_violations == 0, "checker mid-compaction: %zu violations, first: %s", o->callback_violations,
	      o->callback_violation);
	CHECK(o->migrations > 0);
	CHECK_EQ(o->bad_copies, 0);
	CHECK_EQ(verify_owner(sys, o, 0), 0);
	CHECK_EQ(zone_page_state(dma32(sys), NR_ZONE_ISOLATED), 0);
	buddy_drain_all_pages(sys);
	CHECK(order9_ok(sys));
	check_clean(sys, "after compaction into high-order targets");

	/* Fragment again and let the slow path compact for a THP-like
	 * request. */
	release_owner(sys, o);
	fill_zone_movable(sys, o);
	free_where(sys, o, even_pfn);
	CHECK(!order9_ok(sys));
	uint64_t stall = buddy_vm_event(sys, COMPACTSTALL), success = buddy_vm_event(sys, COMPACTSUCCESS);
	struct page *thp = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_MOVABLE | __GFP_COMP | __GFP_NORETRY | __GFP_NOWARN,
					     9);
	CHECK(thp != NULL, "order-9 through direct compaction");
	CHECK(buddy_vm_event(sys, COMPACTSTALL) > stall);
	CHECK(buddy_vm_event(sys, COMPACTSUCCESS) > success);
	CHECK_EQ(verify_owner(sys, o, 0), 0);
	check_clean(sys, "after direct compaction");
	if (thp)
		CHECK_EQ(buddy_free_pages(sys, thp, 9), 0);
	release_owner(sys, o);
	check_clean(sys, "released");
	buddy_system_destroy(sys);
	owner_free(o);
}

/* ---- (2) a zone fragmented by unmovable pages ---- */
static void test_unmovable_fragmentation(void)
{
	test_section("unmovable fragmentation: compaction cannot help and says so");
	struct buddy_system *sys = create();
	struct zone *zone = dma32(sys);
	static struct page *pages[NPAGES];
	size_t n = 0;

	while (n < NPAGES && (pages[n] = buddy_alloc_pages(sys, __GFP_NOWARN, 0)))
		n++;
	for (size_t i = 0; i < n; i++)
		if (even_pfn(buddy_page_to_pfn(sys, pages[i]))) {
			CHECK_EQ(buddy_free_pages(sys, pages[i], 0), 0);
			pages[i] = NULL;
		}
	buddy_drain_all_pages(sys);
	check_clean(sys, "fragmented");
	CHECK(buddy_fragmentation_index(sys, 0, ZONE_DMA32, 9) > SYSCTL_EXTFRAG_THRESHOLD);

	struct free_snapshot before, after;
	snapshot(sys, &before);
	uint64_t isolated = buddy_vm_event(sys, COMPACTISOLATED), migrated = buddy_vm_event(sys, PGMIGRATE_SUCCESS);
	uint64_t mscan = buddy_vm_event(sys, COMPACTMIGRATE_SCANNED);

	CHECK_EQ(buddy_compact_zone(sys, 0, ZONE_DMA32, 9, BUDDY_COMPACT_SYNC), COMPACT_COMPLETE);
	CHECK_EQ(buddy_compact_zone(sys, 0, ZONE_DMA32, -1, BUDDY_COMPACT_SYNC), COMPACT_COMPLETE);
	buddy_drain_all_pages(sys);
	snapshot(sys, &after);
	CHECK(same_snapshot(&before, &after), "the free blocks did not change");
	CHECK_EQ(buddy_vm_event(sys, COMPACTISOLATED), isolated);
	CHECK_EQ(buddy_vm_event(sys, PGMIGRATE_SUCCESS), migrated);
	CHECK(buddy_vm_event(sys, COMPACTMIGRATE_SCANNED) > mscan, "it did look");
	CHECK(!order9_ok(sys));
	check_clean(sys, "after compaction");

	/* Direct compaction at sync-light runs, completes, and defers the zone. */
	struct pglist_data *pgdat = sys->nodes[0];
	struct page *captured = NULL;
	compaction_defer_reset(zone, 9, true);
	enum buddy_compact_result rc = try_to_compact_pages(sys, GFP_KERNEL, 9, ALLOC_WMARK_MIN, pgdat->zonerefs,
							   pgdat->nr_zonerefs, ZONE_NORMAL, 0,
							   COMPACT_PRIO_SYNC_LIGHT, &captured);
	CHECK_EQ(rc, COMPACT_COMPLETE);
	CHECK(captured == NULL);
	CHECK_EQ(zone->compact_defer_shift, 1);
	CHECK_EQ(zone->compact_order_failed, 9);
	rc = try_to_compact_pages(sys, GFP_KERNEL, 9, ALLOC_WMARK_MIN, pgdat->zonerefs, pgdat->nr_zonerefs,
				  ZONE_NORMAL, 0, COMPACT_PRIO_SYNC_LIGHT, &captured);
	CHECK_EQ(rc, COMPACT_DEFERRED);

	/* The slow path gives up on a costly unmovable request without OOM. */
	uint64_t oom = buddy_vm_event(sys, OOM_KILL);
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN, 9);
	CHECK(p == NULL, "costly unmovable order-9 fails");
	if (p)
		buddy_free_pages(sys, p, 9);
	CHECK_EQ(buddy_vm_event(sys, OOM_KILL), oom);
	buddy_drain_all_pages(sys);
	snapshot(sys, &after);
	CHECK_EQ(after.free_pages, before.free_pages);
	check_clean(sys, "after the slow path");

	for (size_t i = 0; i < n; i++)
		if (pages[i])
			CHECK_EQ(buddy_free_pages(sys, pages[i], 0), 0);
	buddy_drain_all_pages(sys);
	check_clean(sys, "released");
	buddy_system_destroy(sys);
}

/* ---- (3) deferral ---- */
static void test_deferral(void)
{
	test_section("deferral arithmetic (defer_compaction, compaction_deferred, reset, restarting)");
	struct buddy_system *sys = create();
	struct zone *z = dma32(sys);

	compaction_defer_reset(z, 9, true);
	CHECK_EQ(z->compact_considered, 0);
	CHECK_EQ(z->compact_defer_shift, 0);
	CHECK_EQ(z->compact_order_failed, 10);
	CHECK(!compaction_deferred(z, 9), "nothing failed yet");

	defer_compaction(z, 9);
	CHECK_EQ(z->compact_defer_shift, 1);
	CHECK_EQ(z->compact_order_failed, 9);
	CHECK_EQ(z->compact_considered, 0);
	/* 1 << 1: one attempt skipped, the next allowed. */
	CHECK(compaction_deferred(z, 9));
	CHECK(!compaction_deferred(z, 9));
	CHECK_EQ(z->compact_considered, 2);
	/* Lower orders than the failed one are never deferred. */
	CHECK(!compaction_deferred(z, 8));

	defer_compaction(z, 9);
	CHECK_EQ(z->compact_defer_shift, 2);
	int skipped = 0;
	while (compaction_deferred(z, 9))
		skipped++;
	CHECK_EQ(skipped, 3);

	for (int i = 0; i < 10; i++)
		defer_compaction(z, 10);
	CHECK_EQ(z->compact_defer_shift, COMPACT_MAX_DEFER_SHIFT);
	CHECK_EQ(z->compact_order_failed, 9);
	CHECK(!compaction_restarting(z, 9));
	skipped = 0;
	while (compaction_deferred(z, 9))
		skipped++;
	CHECK_EQ(skipped, 63);
	CHECK_EQ(z->compact_considered, 64);
	CHECK(compaction_restarting(z, 9), "64 skipped: restarting");
	CHECK(!compaction_restarting(z, 8));

	/* Expected success raises the failed order but keeps the backoff. */
	compaction_defer_reset(z, 9, false);
	CHECK_EQ(z->compact_order_failed, 10);
	CHECK_EQ(z->compact_defer_shift, COMPACT_MAX_DEFER_SHIFT);
	CHECK(!compaction_deferred(z, 9));
	compaction_defer_reset(z, 9, true);
	CHECK_EQ(z->compact_defer_shift, 0);
	CHECK_EQ(z->compact_considered, 0);
	check_clean(sys, "deferral");
	buddy_system_destroy(sys);
}

/* ---- (4) fragmentation index ---- */
static void test_fragmentation_index(void)
{
	test_section("fragmentation index and score against hand-computed values");
	struct buddy_system *sys = create();
	struct zone *z = dma32(sys);
	static struct page *pages[NPAGES];
	size_t n = 0;

	/* Everything, reserves included. */
	while (n < NPAGES && (pages[n] = buddy_alloc_pages(sys, __GFP_MEMALLOC | __GFP_NOWARN, 0)))
		n++;
	buddy_drain_all_pages(sys);
	CHECK_EQ(zone_page_state(z, NR_FREE_PAGES), 0);
	CHECK_EQ(fragmentation_index(z, 3), 0);
	CHECK_EQ(buddy_fragmentation_score(sys, 0), 0);

	/* Six lone pages and two order-2 blocks: 14 pages in 8 blocks. */
	static const uint64_t singles[] = { 100, 102, 104, 106, 108, 110 };
	static const uint64_t quads[] = { 200, 208 };
	for (size_t i = 0; i < 6; i++)
		CHECK_EQ(buddy_free_pages(sys, buddy_pfn_to_page(sys, singles[i]), 0), 0);
	for (size_t i = 0; i < 2; i++)
		for (uint64_t p = quads[i]; p < quads[i] + 4; p++)
			CHECK_EQ(buddy_free_pages(sys, buddy_pfn_to_page(sys, p), 0), 0);
	buddy_drain_all_pages(sys);
	struct buddy_zone_info info;
	buddy_zone_info(sys, 0, ZONE_DMA32, &info);
	CHECK_EQ(info.free_pages, 14);
	CHECK_EQ(counter_read(&z->free_area[0].nr_free), 6);
	CHECK_EQ(counter_read(&z->free_area[2].nr_free), 2);

	/* 1000 - (1000 + 14 * 1000 / 2^order) / 8 */
	CHECK_EQ(buddy_fragmentation_index(sys, 0, ZONE_DMA32, 3), 657); /* 1000 - 2750 / 8 */
	CHECK_EQ(buddy_fragmentation_index(sys, 0, ZONE_DMA32, 4), 766); /* 1000 - 1875 / 8 */
	CHECK_EQ(buddy_fragmentation_index(sys, 0, ZONE_DMA32, 9), 872); /* 1000 - 1027 / 8 */
	CHECK_EQ(buddy_fragmentation_index(sys, 0, ZONE_DMA32, 2), -1000);
	CHECK_EQ(buddy_fragmentation_index(sys, 0, ZONE_DMA32, 0), -1000);
	/* extfrag: pages in blocks below the order, percent */
	CHECK_EQ(extfrag_for_order(z, 2), 42); /* (14 - 8) * 100 / 14 */
	CHECK_EQ(extfrag_for_order(z, 9), 100);
	/* The node score weighs the zone by its share: 16384 * 100 / 16385. */
	CHECK_EQ(buddy_fragmentation_score(sys, 0), 99);
	/* 14 free pages are far below min + compact_gap: not suitable. */
	CHECK(!compaction_suitable(z, 9, ZONE_DMA32));
	CHECK(!compaction_suitable(z, 1, ZONE_DMA32));
	check_clean(sys, "fragmentation index");

	for (size_t i = 0; i < n; i++) {
		uint64_t pfn = buddy_page_to_pfn(sys, pages[i]);
		bool freed = (pfn >= 100 && pfn <= 110 && !(pfn & 1)) || (pfn >= 200 && pfn < 204) ||
			     (pfn >= 208 && pfn < 212);
		if (!freed)
			CHECK_EQ(buddy_free_pages(sys, pages[i], 0), 0);
	}
	buddy_drain_all_pages(sys);
	CHECK_EQ(buddy_fragmentation_index(sys, 0, ZONE_DMA32, 9), -1000);
	check_clean(sys, "released");
	buddy_system_destroy(sys);
}

/* ---- (5) skip hints ---- */
static void count_skips(struct buddy_system *sys, struct zone *z, unsigned long *set, unsigned long *total)
{
	*set = *total = 0;
	for (uint64_t pfn = z->zone_start_pfn; pfn < z->zone_start_pfn + z->spanned_pages; pfn += sys->pageblock_nr_pages) {
		(*total)++;
		*set += get_pageblock_skip(sys, pfn);
	}
}

static void set_all_skips(struct buddy_system *sys, struct zone *z)
{
	spin_lock(&z->lock);
	for (uint64_t pfn = z->zone_start_pfn; pfn < z->zone_start_pfn + z->spanned_pages; pfn += sys->pageblock_nr_pages)
		set_pageblock_skip(sys, pfn, true);
	spin_unlock(&z->lock);
}

static void test_skip_hints(void)
{
	test_section("pageblock skip hints: honoured, set, flushed");
	struct buddy_system *sys = create();
	struct owner *o = owner_new(sys);
	struct zone *z = dma32(sys);
	unsigned long set, total;

	fill_zone_movable(sys, o);
	free_where(sys, o, odd_run_of_8);
	check_clean(sys, "fragmented");
	CHECK(!order9_ok(sys));

	/* Every block marked: a compaction that honours hints moves nothing. */
	set_all_skips(sys, z);
	uint64_t isolated = buddy_vm_event(sys, COMPACTISOLATED);
	enum buddy_compact_result rc = (enum buddy_compact_result)buddy_compact_zone(sys, 0, ZONE_DMA32, 9,
										      BUDDY_COMPACT_SYNC_LIGHT);
	CHECK(rc == COMPACT_COMPLETE || rc == COMPACT_PARTIAL_SKIPPED, "result %d", rc);
	CHECK_EQ(o->migrations, 0);
	CHECK_EQ(buddy_vm_event(sys, COMPACTISOLATED), isolated);
	/* Direct compaction at sync-light also honours them. */
	struct page *captured = NULL;
	compaction_defer_reset(z, 9, true);
	rc = try_to_compact_pages(sys, GFP_KERNEL | __GFP_MOVABLE, 9, ALLOC_WMARK_MIN, sys->nodes[0]->zonerefs,
				  sys->nodes[0]->nr_zonerefs, ZONE_NORMAL, 0, COMPACT_PRIO_SYNC_LIGHT, &captured);
	CHECK(captured == NULL);
	CHECK_EQ(o->migrations, 0);
	/* ... and having met the free scanner, asks for the hints to go. */
	CHECK(z->compact_blockskip_flush);
	check_clean(sys, "skipped");

	/* reset_isolation_suitable (kswapd before sleeping) clears the hints
	 * of blocks with LRU or free pages: all of them here. */
	reset_isolation_suitable(sys, 0);
	count_skips(sys, z, &set, &total);
	CHECK_EQ(set, 0);
	CHECK(!z->compact_blockskip_flush);

	/* Now it works, and a pageblock it emptied is marked for skipping. */
	compaction_defer_reset(z, 9, true);
	rc = (enum buddy_compact_result)buddy_compact_zone(sys, 0, ZONE_DMA32, 9, BUDDY_COMPACT_SYNC_LIGHT);
	CHECK_EQ(rc, COMPACT_SUCCESS);
	CHECK(o->migrations > 0);
	count_skips(sys, z, &set, &total);
	CHECK(set > 0, "%lu of %lu blocks marked", set, total);
	buddy_drain_all_pages(sys);
	CHECK(order9_ok(sys));

	/* The minimum priority ignores the hints. */
	release_owner(sys, o);
	fill_zone_movable(sys, o);
	free_where(sys, o, odd_run_of_8);
	o->migrations = 0;
	set_all_skips(sys, z);
	compaction_defer_reset(z, 9, true);
	rc = try_to_compact_pages(sys, GFP_KERNEL | __GFP_MOVABLE, 9, ALLOC_WMARK_MIN, sys->nodes[0]->zonerefs,
				  sys->nodes[0]->nr_zonerefs, ZONE_NORMAL, 0, MIN_COMPACT_PRIORITY, &captured);
	CHECK_EQ(rc, COMPACT_SUCCESS);
	CHECK(o->migrations > 0);
	if (captured)
		CHECK_EQ(buddy_free_pages(sys, captured, 9), 0);
	CHECK_EQ(verify_owner(sys, o, 0), 0);
	check_clean(sys, "after compaction");

	release_owner(sys, o);
	check_clean(sys, "released");
	buddy_system_destroy(sys);
	owner_free(o);
}

/* ---- (6) kcompactd ---- */
struct worker {
	struct buddy_system *sys;
	struct owner *o;
	size_t first, count;
	unsigned int seed;
	int iterations;
	unsigned long high_order_ok;
	unsigned long free_errors;  /* tap.c is not thread-safe: checked by main */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct owner *o = w->o;

	for (int it = 0; it < w->iterations; it++) {
		size_t idx = w->first + (size_t)(rand_r(&w->seed) % w->count);
		pthread_mutex_lock(&o->lock);
		struct page *page = o->pages[idx];
		o->pages[idx] = NULL;
		pthread_mutex_unlock(&o->lock);
		if (page) {
			/* Taken from the table first: a migration of it from
			 * now on is refused, and the free waits for it. */
			if (buddy_free_pages(w->sys, page, 0))
				w->free_errors++;
			continue;
		}
		page = buddy_alloc_pages_mapping(w->sys, __GFP_MOVABLE | __GFP_NOWARN, 0, -1, 0, &o->mapping, idx);
		if (page) {
			pthread_mutex_lock(&o->lock);
			o->pages[idx] = page;
			pthread_mutex_unlock(&o->lock);
		}
		if (!(it % 64)) {
			struct page *big = buddy_alloc_pages(w->sys, __GFP_MOVABLE | __GFP_NOWARN, 3 + (unsigned)(it % 7));
			if (big) {
				w->high_order_ok++;
				buddy_free_pages(w->sys, big, 3 + (unsigned)(it % 7));
			}
		}
	}
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void test_kcompactd_threads(void)
{
	test_section("kcompactd: a real thread beside concurrent allocations");
	struct buddy_system *sys = create();
	struct owner *o = owner_new(sys);

	fill_zone_movable(sys, o);
	free_where(sys, o, even_pfn);
	check_clean(sys, "fragmented");
	unsigned int score_before = buddy_fragmentation_score(sys, 0);
	CHECK(score_before > 90, "score %u above the proactive high mark", score_before);

	uint64_t wakes = buddy_vm_event(sys, KCOMPACTD_WAKE);
	CHECK_EQ(kcompactd_start(sys, 0), 0);
	CHECK_EQ(kcompactd_start(sys, 0), 0); /* already running */

	struct worker w[2];
	pthread_t t[2];
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ .sys = sys, .o = o, .first = NPAGES + (size_t)i * 2048, .count = 2048,
					.seed = 7u + (unsigned)i, .iterations = 6000 };
		CHECK_EQ(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 6; i++) {
		wakeup_kcompactd(sys, 0, 9, ZONE_NORMAL);
		sleep_ms(100);
	}
	/* Past one proactive interval. */
	sleep_ms(700);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(w[i].free_errors, 0);
	}
	kcompactd_stop(sys, 0);
	kcompactd_stop(sys, 0); /* already stopped */

	printf("# kcompactd: %llu wakes, %lu migrations, score %u -> %u, high-order allocations %lu\n",
	       (unsigned long long)(buddy_vm_event(sys, KCOMPACTD_WAKE) - wakes), o->migrations, score_before,
	       buddy_fragmentation_score(sys, 0), w[0].high_order_ok + w[1].high_order_ok);
	CHECK(buddy_vm_event(sys, KCOMPACTD_WAKE) > wakes);
	CHECK(o->migrations > 0);
	CHECK_EQ(o->bad_copies, 0);
	CHECK_EQ(verify_owner(sys, o, 0), 0);
	CHECK_EQ(zone_page_state(dma32(sys), NR_ZONE_ISOLATED), 0);
	buddy_drain_all_pages(sys);
	check_clean(sys, "after kcompactd");

	release_owner(sys, o);
	check_clean(sys, "released");
	buddy_system_destroy(sys);

	/* Without the thread, a wakeup does the work inline (a fresh system:
	 * the skip hints the thread left would steer this run). */
	sys = create();
	o->sys = sys;
	o->migrations = 0;
	fill_zone_movable(sys, o);
	free_where(sys, o, even_pfn);
	compaction_defer_reset(dma32(sys), 9, true);
	wakes = buddy_vm_event(sys, KCOMPACTD_WAKE);
	wakeup_kcompactd(sys, 0, 9, ZONE_NORMAL);
	CHECK_EQ(buddy_vm_event(sys, KCOMPACTD_WAKE), wakes + 1);
	CHECK(o->migrations > 0);
	CHECK_EQ(atomic_load(&sys->slow->kcompactd_max_order[0]), 0);
	buddy_drain_all_pages(sys);
	CHECK(order9_ok(sys));
	/* And the proactive round, inline. */
	release_owner(sys, o);
	o->migrations = 0;
	fill_zone_movable(sys, o);
	free_where(sys, o, even_pfn);
	score_before = buddy_fragmentation_score(sys, 0);
	kcompactd_do_work(sys, 0);
	CHECK(o->migrations > 0);
	buddy_drain_all_pages(sys);
	CHECK(buddy_fragmentation_score(sys, 0) < score_before, "score %u -> %u", score_before,
	      buddy_fragmentation_score(sys, 0));
	CHECK_EQ(verify_owner(sys, o, 0), 0);
	check_clean(sys, "inline kcompactd");

	/* The lead's kthread start/stop runs it too. */
	CHECK_EQ(buddy_start_kthreads(sys), 0);
	wakeup_kcompactd(sys, 0, 9, ZONE_NORMAL);
	sleep_ms(100);
	buddy_stop_kthreads(sys);
	CHECK(!sys->slow->kcompactd_started[0]);
	check_clean(sys, "after buddy_stop_kthreads");

	release_owner(sys, o);
	check_clean(sys, "released");
	buddy_system_destroy(sys);
	owner_free(o);
}

/* ---- (7) migration refused ---- */
static void test_migration_refused(void)
{
	test_section("a migrate callback answering -EAGAIN, and injected failures, leave everything consistent");
	struct buddy_system *sys = create();
	struct owner *o = owner_new(sys);
	int task = buddy_task_create(sys, "owner", 0);
	buddy_bind_task(sys, task);
	struct zone *z = dma32(sys);

	fill_zone_movable(sys, o);
	free_where(sys, o, even_pfn);
	struct page **saved = malloc(sizeof(o->pages));
	if (!saved)
		exit(test_done() | 1);
	memcpy(saved, o->pages, sizeof(o->pages));
	struct free_snapshot before, after;
	snapshot(sys, &before);
	long lru_before = lru_pages(sys);
	struct buddy_task_info ti;
	buddy_task_info(sys, task, &ti);
	uint64_t rss_before = ti.rss_pages;

	o->refuse = true;
	uint64_t fail = buddy_vm_event(sys, PGMIGRATE_FAIL), ok = buddy_vm_event(sys, PGMIGRATE_SUCCESS);
	CHECK_EQ(buddy_compact_memory(sys), 0);
	buddy_drain_all_pages(sys);
	CHECK(o->refused > 0);
	CHECK(buddy_vm_event(sys, PGMIGRATE_FAIL) > fail);
	CHECK_EQ(buddy_vm_event(sys, PGMIGRATE_SUCCESS), ok);
	CHECK_EQ(o->migrations, 0);
	CHECK(!memcmp(saved, o->pages, sizeof(o->pages)), "every page where it was");
	snapshot(sys, &after);
	CHECK(same_snapshot(&before, &after), "free blocks unchanged");
	CHECK_EQ(zone_page_state(z, NR_ZONE_ISOLATED), 0);
	CHECK_EQ(lru_pages(sys), lru_before);
	buddy_task_info(sys, task, &ti);
	CHECK_EQ(ti.rss_pages, rss_before);
	CHECK_EQ(verify_owner(sys, o, task), 0);
	check_clean(sys, "after refused migrations");
	o->refuse = false;

	/* Injected -EAGAIN on every migration: the same. */
	struct buddy_fault_attr attr = { .times = -1, .migrate_eagain = 100, .seed = 1 };
	CHECK_EQ(buddy_set_fault_injection(sys, &attr), 0);
	CHECK_EQ(buddy_compact_memory(sys), 0);
	buddy_drain_all_pages(sys);
	CHECK_EQ(o->migrations, 0);
	CHECK(!memcmp(saved, o->pages, sizeof(o->pages)));
	snapshot(sys, &after);
	CHECK(same_snapshot(&before, &after));
	CHECK(buddy_faults_injected(sys) > 0);
	check_clean(sys, "after injected -EAGAIN");

	/* No target can be had: the direct-style run stops, contended. */
	attr = (struct buddy_fault_attr){ .times = -1, .compaction_target_fail = 100, .seed = 2 };
	CHECK_EQ(buddy_set_fault_injection(sys, &attr), 0);
	int rc = buddy_compact_zone(sys, 0, ZONE_DMA32, 9, BUDDY_COMPACT_SYNC);
	CHECK_EQ(rc, COMPACT_CONTENDED);
	buddy_drain_all_pages(sys);
	CHECK_EQ(o->migrations, 0);
	CHECK(!memcmp(saved, o->pages, sizeof(o->pages)));
	snapshot(sys, &after);
	CHECK(same_snapshot(&before, &after));
	check_clean(sys, "after injected target failures");

	/* Some of each: whatever moved is intact, the rest stayed. */
	attr = (struct buddy_fault_attr){ .times = -1, .migrate_eagain = 40, .compaction_target_fail = 5, .seed = 3 };
	CHECK_EQ(buddy_set_fault_injection(sys, &attr), 0);
	CHECK_EQ(buddy_compact_memory(sys), 0);
	CHECK_EQ(buddy_set_fault_injection(sys, NULL), 0);
	buddy_drain_all_pages(sys);
	CHECK(o->migrations > 0);
	CHECK_EQ(o->bad_copies, 0);
	CHECK_EQ(verify_owner(sys, o, task), 0);
	buddy_task_info(sys, task, &ti);
	CHECK_EQ(ti.rss_pages, rss_before);
	CHECK_EQ(lru_pages(sys), lru_before);
	CHECK_EQ(zone_page_state(z, NR_ZONE_ISOLATED), 0);
	check_clean(sys, "after partly failed migrations");

	release_owner(sys, o);
	CHECK_EQ(buddy_task_destroy(sys, task), 0);
	check_clean(sys, "released");
	free(saved);
	buddy_system_destroy(sys);
	owner_free(o);
}

static void test_bad_input(void)
{
	test_section("bad input");
	struct buddy_system *sys = create();
	CHECK_EQ(buddy_compact_zone(NULL, 0, ZONE_DMA32, -1, BUDDY_COMPACT_SYNC), -EINVAL);
	CHECK_EQ(buddy_compact_zone(sys, 1, ZONE_DMA32, -1, BUDDY_COMPACT_SYNC), -EINVAL);
	CHECK_EQ(buddy_compact_zone(sys, 0, MAX_NR_ZONES, -1, BUDDY_COMPACT_SYNC), -EINVAL);
	CHECK_EQ(buddy_compact_zone(sys, 0, ZONE_DMA32, 11, BUDDY_COMPACT_SYNC), -EINVAL);
	CHECK_EQ(buddy_compact_zone(sys, 0, ZONE_DMA32, -2, BUDDY_COMPACT_SYNC), -EINVAL);
	CHECK_EQ(buddy_compact_zone(sys, 0, ZONE_DMA32, -1, (enum buddy_compact_mode)7), -EINVAL);
	CHECK_EQ(buddy_compact_zone(sys, 0, ZONE_NORMAL, -1, BUDDY_COMPACT_SYNC), COMPACT_SKIPPED);
	CHECK_EQ(buddy_compact_node(sys, 3), -EINVAL);
	CHECK_EQ(buddy_compact_memory(NULL), -EINVAL);
	CHECK_EQ(buddy_fragmentation_index(sys, 0, ZONE_DMA32, 11), -EINVAL);
	CHECK_EQ(buddy_fragmentation_score(sys, 5), 0);
	CHECK_EQ(kcompactd_start(sys, 2), -EINVAL);
	kcompactd_stop(sys, 2);
	wakeup_kcompactd(sys, 0, 0, ZONE_NORMAL);
	/* An empty system compacts to nothing. */
	CHECK_EQ(buddy_compact_memory(sys), 0);
	check_clean(sys, "bad input");
	buddy_system_destroy(sys);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_movable_fragmentation();
	test_direct_compaction();
	test_unmovable_fragmentation();
	test_deferral();
	test_fragmentation_index();
	test_skip_hints();
	test_kcompactd_threads();
	test_migration_refused();
	test_bad_input();
	return test_done();
}
