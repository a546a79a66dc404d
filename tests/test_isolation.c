/* Page isolation, alloc_contig_range and CMA against the kernel's rules:
 * isolating moves free pages to the ISOLATE lists (out of NR_FREE_PAGES)
 * and splits free blocks that straddle the range; undo puts back every
 * pageblock type and free list; a pageblock holding unmovable pages cannot
 * be isolated; alloc_contig_range and cma_alloc migrate movable owners out
 * with their contents and hand the range over as order-0 pages; a failure
 * leaves everything as it was; every bad argument is refused.  The checker
 * runs after every step and must find nothing. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy/buddy.h"
#include "internal.h"
#include "tap.h"

/* ---- the instance ---- */
#define DMA32_END 8192
#define NORMAL_END 12288
#define HOLE_START 6144
#define HOLE_END 6656
#define CMA_START 9216
#define CMA_END 12288
#define PB 512

static void topology(struct buddy_topology *t)
{
	memset(t, 0, sizeof(*t));
	t->nr_nodes = 1;
	t->nr_cpus = 2;
	t->distance[0][0] = BUDDY_LOCAL_DISTANCE;
	t->zones[0][ZONE_DMA32] = (struct buddy_pfn_range){ 0, DMA32_END };
	t->zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ DMA32_END, NORMAL_END };
	t->nr_holes = 1;
	t->holes[0] = (struct buddy_pfn_range){ HOLE_START, HOLE_END };
	t->nr_cma = 1;
	t->cma[0] = (struct buddy_pfn_range){ CMA_START, CMA_END };
}

static struct buddy_system *create(void)
{
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err = { 0 };

	topology(&t);
	buddy_options_init(&o);
	o.backing = BUDDY_BACKING_MMAP;
	struct buddy_system *sys = buddy_system_create(&t, &o, &err);
	CHECK(sys != NULL, "create failed: %s: %s", err.field, err.message);
	if (!sys)
		exit(test_done() | 1);
	return sys;
}

static void check_clean(struct buddy_system *sys, const char *where)
{
	struct buddy_violation v[8];
	struct buddy_check_result res = { .capacity = 8, .v = v };
	size_t n = buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, &res);
	char line[320] = "";

	if (n)
		buddy_violation_format(&v[0], line, sizeof(line));
	CHECK(n == 0, "%s: %zu violations, first: %s", where, n, line);
}

static struct zone *zone_at(struct buddy_system *sys, enum zone_type z)
{
	return &sys->nodes[0]->node_zones[z];
}

/* Free pages the allocator can hand out: free lists (ISOLATE left out)
 * plus pcp lists, every zone. */
static long free_total(struct buddy_system *sys)
{
	long sum = 0;

	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct buddy_zone_info info;
		if (buddy_zone_info(sys, 0, (enum zone_type)z, &info) == 0 && info.populated)
			sum += (long)(info.free_pages + info.pcp_pages);
	}
	return sum;
}

/* What "nothing changed" means: pageblock types and free lists of every
 * zone, and the page counters. */
struct snapshot {
	uint8_t pb[NORMAL_END / PB];
	struct buddy_zone_info info[MAX_NR_ZONES];
};

static void snap(struct buddy_system *sys, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	for (uint64_t i = 0; i < NORMAL_END / PB; i++)
		s->pb[i] = (uint8_t)get_pfnblock_migratetype(sys, i * PB);
	for (int z = 0; z < MAX_NR_ZONES; z++)
		buddy_zone_info(sys, 0, (enum zone_type)z, &s->info[z]);
}

static bool same_state(const struct snapshot *a, const struct snapshot *b, const char *where)
{
	bool same = true;

	for (uint64_t i = 0; i < NORMAL_END / PB; i++)
		if (a->pb[i] != b->pb[i]) {
			CHECK(false, "%s: pageblock %llu was %d, is %d", where, (unsigned long long)i, a->pb[i], b->pb[i]);
			same = false;
		}
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		const struct buddy_zone_info *x = &a->info[z], *y = &b->info[z];
		if (x->free_pages != y->free_pages || x->pcp_pages != y->pcp_pages ||
		    x->allocated_pages != y->allocated_pages || x->present != y->present ||
		    x->managed != y->managed || x->free_cma_pages != y->free_cma_pages ||
		    memcmp(x->nr_free_blocks, y->nr_free_blocks, sizeof(x->nr_free_blocks)) ||
		    memcmp(x->nr_pageblocks, y->nr_pageblocks, sizeof(x->nr_pageblocks))) {
			CHECK(false, "%s: zone %d changed: free %llu -> %llu, pcp %llu -> %llu, allocated %llu -> %llu", where,
			      z, (unsigned long long)x->free_pages, (unsigned long long)y->free_pages,
			      (unsigned long long)x->pcp_pages, (unsigned long long)y->pcp_pages,
			      (unsigned long long)x->allocated_pages, (unsigned long long)y->allocated_pages);
			same = false;
		}
	}
	return same;
}

/* ---- an owner of movable pages: a table the migrate callback updates ---- */
#define MAX_OWNED 256

struct owner {
	struct buddy_mapping m;
	struct buddy_system *sys;
	pthread_mutex_t lock;
	struct page *pages[MAX_OWNED];
	int nr;
	int migrations;
	int pinned;      /* index whose migration is refused, -1 none */
};

static int owner_migrate(struct buddy_mapping *m, struct page *old_page, struct page *new_page)
{
	struct owner *o = m->private_data;
	uint64_t idx = buddy_page_index(old_page);
	int ret = -EAGAIN;

	pthread_mutex_lock(&o->lock);
	if (idx < MAX_OWNED && (int)idx != o->pinned && o->pages[idx] == old_page) {
		/* Under our lock: no write of ours can race the copy. */
		buddy_migrate_copy(o->sys, new_page, old_page);
		o->pages[idx] = new_page;
		o->migrations++;
		ret = 0;
	}
	pthread_mutex_unlock(&o->lock);
	return ret;
}

static const struct buddy_mapping_ops owner_ops = { .migrate = owner_migrate };

static void owner_init(struct owner *o, struct buddy_system *sys)
{
	memset(o, 0, sizeof(*o));
	o->sys = sys;
	o->m.ops = &owner_ops;
	o->m.private_data = o;
	o->pinned = -1;
	pthread_mutex_init(&o->lock, NULL);
}

static void fill_pattern(struct buddy_system *sys, struct page *page, uint64_t idx)
{
	unsigned char *p = buddy_page_address(sys, page);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		p[i] = (unsigned char)(idx * 131 + i * 7 + 1);
	memcpy(p, &idx, sizeof(idx));
}

static bool pattern_ok(struct buddy_system *sys, struct page *page, uint64_t idx)
{
	const unsigned char *p = buddy_page_address(sys, page);
	uint64_t got;
	memcpy(&got, p, sizeof(got));
	if (got != idx)
		return false;
	for (size_t i = sizeof(idx); i < PAGE_SIZE; i++)
		if (p[i] != (unsigned char)(idx * 131 + i * 7 + 1))
			return false;
	return true;
}

/* Allocate nr movable pages for the owner with gfp, each with its pattern. */
static void owner_fill(struct buddy_system *sys, struct owner *o, gfp_t gfp, int nr)
{
	for (int i = 0; i < nr && o->nr < MAX_OWNED; i++) {
		int idx = o->nr;
		struct page *page = buddy_alloc_pages_mapping(sys, gfp, 0, -1, 0, &o->m, (uint64_t)idx);
		CHECK(page != NULL, "owner allocation %d failed", idx);
		if (!page)
			return;
		pthread_mutex_lock(&o->lock);
		o->pages[idx] = page;
		fill_pattern(sys, page, (uint64_t)idx);
		o->nr++;
		pthread_mutex_unlock(&o->lock);
	}
}

static int owner_verify(struct buddy_system *sys, struct owner *o)
{
	int bad = 0;
	pthread_mutex_lock(&o->lock);
	for (int i = 0; i < o->nr; i++)
		if (o->pages[i] && !pattern_ok(sys, o->pages[i], (uint64_t)i))
			bad++;
	pthread_mutex_unlock(&o->lock);
	return bad;
}

static int owner_count_in(struct buddy_system *sys, struct owner *o, uint64_t start, uint64_t end)
{
	int n = 0;
	pthread_mutex_lock(&o->lock);
	for (int i = 0; i < o->nr; i++) {
		uint64_t pfn = buddy_page_to_pfn(sys, o->pages[i]);
		n += pfn >= start && pfn < end;
	}
	pthread_mutex_unlock(&o->lock);
	return n;
}

static void owner_free(struct buddy_system *sys, struct owner *o)
{
	for (int i = 0; i < o->nr; i++) {
		/* Forget it first: a migration racing the free then fails. */
		pthread_mutex_lock(&o->lock);
		struct page *page = o->pages[i];
		o->pages[i] = NULL;
		pthread_mutex_unlock(&o->lock);
		if (page)
			CHECK_EQ(buddy_free_pages(sys, page, 0), 0);
	}
	o->nr = 0;
	pthread_mutex_destroy(&o->lock);
}

#define GFP_MOVABLE_DMA32 (GFP_USER | __GFP_MOVABLE | __GFP_DMA32)

/* ---- bad arguments ---- */
static void test_bad_arguments(void)
{
	test_section("bad arguments");
	struct buddy_system *sys = create();
	struct snapshot before, after;
	uint64_t fail0 = buddy_vm_event(sys, CMA_ALLOC_FAIL);

	buddy_drain_all_pages(sys);
	snap(sys, &before);

	/* isolation */
	CHECK_EQ(buddy_start_isolate_page_range(NULL, 0, PB), -EINVAL);
	CHECK_EQ(buddy_start_isolate_page_range(sys, PB, PB), -EINVAL);
	CHECK_EQ(buddy_start_isolate_page_range(sys, 2 * PB, PB), -EINVAL);
	CHECK_EQ(buddy_start_isolate_page_range(sys, 0, UINT64_MAX), -EINVAL);
	CHECK_EQ(buddy_start_isolate_page_range(sys, NORMAL_END, NORMAL_END + PB), -EINVAL);
	CHECK_EQ(buddy_start_isolate_page_range(sys, DMA32_END - PB, DMA32_END + PB), -EINVAL); /* two zones */
	CHECK_EQ(buddy_start_isolate_page_range(sys, HOLE_START, HOLE_END), -EINVAL);           /* a hole */
	CHECK_EQ(buddy_start_isolate_page_range(sys, HOLE_START - PB, HOLE_START + 1), -EINVAL);
	CHECK_EQ(buddy_undo_isolate_page_range(sys, 0, PB, MIGRATE_MOVABLE), -EINVAL); /* not isolated */
	CHECK_EQ(buddy_undo_isolate_page_range(sys, 0, PB, MIGRATE_ISOLATE), -EINVAL);
	CHECK_EQ(buddy_undo_isolate_page_range(sys, 0, PB, MIGRATE_HIGHATOMIC), -EINVAL);
	CHECK_EQ(buddy_undo_isolate_page_range(sys, 0, PB, -1), -EINVAL);
	CHECK_EQ(buddy_undo_isolate_page_range(NULL, 0, PB, MIGRATE_MOVABLE), -EINVAL);

	/* contiguous allocation */
	CHECK_EQ(buddy_alloc_contig_range(NULL, 0, PB, MIGRATE_MOVABLE, GFP_KERNEL), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, 0, PB, MIGRATE_UNMOVABLE, GFP_KERNEL), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, 0, PB, MIGRATE_ISOLATE, GFP_KERNEL), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, 0, PB, 42, GFP_KERNEL), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, 0, PB, MIGRATE_MOVABLE, GFP_KERNEL | __GFP_HIGH), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, 0, PB, MIGRATE_MOVABLE, GFP_KERNEL | __GFP_NOFAIL), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, 0, PB, MIGRATE_MOVABLE, GFP_KERNEL | __GFP_NORETRY), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, 0, PB, MIGRATE_MOVABLE, 1u << 30), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, 0, PB, MIGRATE_MOVABLE, GFP_KERNEL | __GFP_COMP), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, 100, 100, MIGRATE_MOVABLE, GFP_KERNEL), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, 200, 100, MIGRATE_MOVABLE, GFP_KERNEL), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, DMA32_END - 8, DMA32_END + 8, MIGRATE_MOVABLE, GFP_KERNEL), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, HOLE_START + 4, HOLE_START + 8, MIGRATE_MOVABLE, GFP_KERNEL), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, NORMAL_END - 4, NORMAL_END + 4, MIGRATE_CMA, GFP_KERNEL), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, UINT64_MAX - 4, UINT64_MAX, MIGRATE_CMA, GFP_KERNEL), -EINVAL);

	/* CMA */
	CHECK(buddy_cma_alloc(NULL, 0, 1, 0) == NULL);
	CHECK(buddy_cma_alloc(sys, -1, 1, 0) == NULL);
	CHECK(buddy_cma_alloc(sys, 1, 1, 0) == NULL);
	CHECK(buddy_cma_alloc(sys, BUDDY_MAX_CMA, 1, 0) == NULL);
	CHECK(buddy_cma_alloc(sys, 0, 0, 0) == NULL);
	CHECK(buddy_cma_alloc(sys, 0, 1, 64) == NULL);
	CHECK_EQ(buddy_vm_event(sys, CMA_ALLOC_FAIL), fail0); /* refused before trying */
	/* Larger than the area: tried, and counted as a failure as cma_alloc does. */
	CHECK(buddy_cma_alloc(sys, 0, CMA_END - CMA_START + 1, 0) == NULL);
	CHECK_EQ(buddy_vm_event(sys, CMA_ALLOC_FAIL), fail0 + 1);
	struct page *cma_page = buddy_pfn_to_page(sys, CMA_START);
	struct page *dma_page = buddy_pfn_to_page(sys, 0);
	CHECK(!buddy_cma_release(NULL, 0, cma_page, 1));
	CHECK(!buddy_cma_release(sys, 1, cma_page, 1));
	CHECK(!buddy_cma_release(sys, -1, cma_page, 1));
	CHECK(!buddy_cma_release(sys, 0, NULL, 1));
	CHECK(!buddy_cma_release(sys, 0, cma_page, 0));
	CHECK(!buddy_cma_release(sys, 0, dma_page, 1));                   /* outside the area */
	CHECK(!buddy_cma_release(sys, 0, cma_page, CMA_END - CMA_START + 1)); /* runs past it */
	CHECK(!buddy_cma_release(sys, 0, cma_page, 4));                   /* never allocated */
	CHECK(!buddy_cma_release(sys, 0, (struct page *)((char *)cma_page + 1), 1));
	/* free_contig_range of pages nobody allocated frees nothing. */
	buddy_free_contig_range(sys, 0, 16);
	buddy_free_contig_range(sys, UINT64_MAX - 1, 16);
	buddy_free_contig_range(NULL, 0, 16);

	snap(sys, &after);
	CHECK(same_state(&before, &after, "after bad arguments"));
	check_clean(sys, "bad arguments");
	buddy_system_destroy(sys);
}

/* ---- isolate + undo ---- */
static void test_isolate_undo(void)
{
	test_section("isolate and undo");
	struct buddy_system *sys = create();
	struct zone *dma32 = zone_at(sys, ZONE_DMA32);
	struct snapshot before, after;

	/* The zone starts as order-10 blocks of two pageblocks each: isolate
	 * [1 PB, 3 PB), which cuts the blocks [0, 2 PB) and [2 PB, 4 PB) in
	 * half. */
	buddy_drain_all_pages(sys);
	CHECK(buddy_page_is_free(sys, 0) && pfn_to_page(sys, 0)->order == 10, "block at 0 has order %u",
	      pfn_to_page(sys, 0)->order);
	CHECK(page_flag(pfn_to_page(sys, 2 * PB), PG_buddy) && pfn_to_page(sys, 2 * PB)->order == 10);
	snap(sys, &before);
	long nr_free = zone_page_state(dma32, NR_FREE_PAGES);

	CHECK_EQ(buddy_start_isolate_page_range(sys, PB, 3 * PB), 0);
	CHECK_EQ(get_pfnblock_migratetype(sys, 0), MIGRATE_MOVABLE);
	CHECK_EQ(get_pfnblock_migratetype(sys, PB), MIGRATE_ISOLATE);
	CHECK_EQ(get_pfnblock_migratetype(sys, 2 * PB), MIGRATE_ISOLATE);
	CHECK_EQ(get_pfnblock_migratetype(sys, 3 * PB), MIGRATE_MOVABLE);
	CHECK_EQ(zone_page_state(dma32, NR_FREE_PAGES), nr_free - 2 * PB);
	CHECK_EQ(atomic_load(&dma32->free_pages_mt[MIGRATE_ISOLATE]), 2 * PB);
	/* Split at the edges, merged inside: [0, PB) MOVABLE order 9, [PB, 3 PB)
	 * ISOLATE order 10, [3 PB, 4 PB) MOVABLE order 9. */
	CHECK(page_flag(pfn_to_page(sys, 0), PG_buddy) && pfn_to_page(sys, 0)->order == 9);
	CHECK(page_flag(pfn_to_page(sys, PB), PG_buddy) && pfn_to_page(sys, PB)->order == 9);
	CHECK(page_flag(pfn_to_page(sys, 2 * PB), PG_buddy) && pfn_to_page(sys, 2 * PB)->order == 9);
	CHECK(page_flag(pfn_to_page(sys, 3 * PB), PG_buddy) && pfn_to_page(sys, 3 * PB)->order == 9);
	CHECK_EQ(atomic_load(&dma32->free_area[9].nr_free_mt[MIGRATE_ISOLATE]), 2);
	check_clean(sys, "isolated");

	/* Isolated memory is not handed out. */
	struct page *pages[64];
	size_t got = 0;
	for (; got < 64; got++) {
		/* Movable: an unmovable request would claim a pageblock. */
		pages[got] = buddy_alloc_pages(sys, GFP_MOVABLE_DMA32, 3);
		if (!pages[got])
			break;
		uint64_t pfn = buddy_page_to_pfn(sys, pages[got]);
		CHECK(pfn + 8 <= PB || pfn >= 3 * PB, "allocation at %llu inside the isolated range",
		      (unsigned long long)pfn);
	}
	for (size_t i = 0; i < got; i++)
		buddy_free_pages(sys, pages[i], 3);
	buddy_drain_all_pages(sys);

	/* Already isolated: the second isolation is refused, nothing moves. */
	CHECK_EQ(buddy_start_isolate_page_range(sys, 2 * PB, 4 * PB), -EBUSY);
	CHECK_EQ(get_pfnblock_migratetype(sys, 3 * PB), MIGRATE_MOVABLE);
	check_clean(sys, "second isolation refused");

	CHECK_EQ(buddy_undo_isolate_page_range(sys, PB, 3 * PB, MIGRATE_MOVABLE), 0);
	snap(sys, &after);
	CHECK(same_state(&before, &after, "undo"));
	CHECK_EQ(zone_page_state(dma32, NR_FREE_PAGES), nr_free);
	CHECK_EQ(atomic_load(&dma32->free_pages_mt[MIGRATE_ISOLATE]), 0);
	CHECK(pfn_to_page(sys, 0)->order == 10 && pfn_to_page(sys, 2 * PB)->order == 10);
	check_clean(sys, "undone");

	/* An unaligned range isolates the pageblocks it touches. */
	CHECK_EQ(buddy_start_isolate_page_range(sys, 4 * PB + 7, 5 * PB + 1), 0);
	CHECK_EQ(get_pfnblock_migratetype(sys, 4 * PB), MIGRATE_ISOLATE);
	CHECK_EQ(get_pfnblock_migratetype(sys, 5 * PB), MIGRATE_ISOLATE);
	check_clean(sys, "unaligned isolation");
	CHECK_EQ(buddy_undo_isolate_page_range(sys, 4 * PB + 7, 5 * PB + 1, MIGRATE_MOVABLE), 0);
	check_clean(sys, "unaligned undo");

	/* A movable page without an owner cannot be migrated: it pins its
	 * pageblock like an unmovable one. */
	struct page *one = buddy_alloc_pages(sys, GFP_MOVABLE_DMA32, 0);
	CHECK(one != NULL);
	uint64_t pfn = buddy_page_to_pfn(sys, one);
	uint64_t pb = pfn & ~(uint64_t)(PB - 1);
	buddy_drain_all_pages(sys);
	CHECK_EQ(buddy_start_isolate_page_range(sys, pb, pb + PB), -EBUSY);
	CHECK_EQ(get_pfnblock_migratetype(sys, pb), MIGRATE_MOVABLE);
	CHECK_EQ(buddy_free_pages(sys, one, 0), 0);
	buddy_drain_all_pages(sys);
	check_clean(sys, "ownerless movable page");

	struct owner o;
	struct zone *z = dma32;
	long free_now, iso_before;
	/* Freeing into an isolated block: allocate, isolate around it (its
	 * owner makes it movable), free it: it lands on the ISOLATE list. */
	owner_init(&o, sys);
	owner_fill(sys, &o, GFP_MOVABLE_DMA32, 1);
	pfn = buddy_page_to_pfn(sys, o.pages[0]);
	pb = pfn & ~(uint64_t)(PB - 1);
	buddy_drain_all_pages(sys);
	CHECK_EQ(buddy_start_isolate_page_range(sys, pb, pb + PB), 0);
	iso_before = atomic_load(&z->free_pages_mt[MIGRATE_ISOLATE]);
	free_now = zone_page_state(z, NR_FREE_PAGES);
	long pcp_before = zone_page_state(z, NR_ZONE_PCP);
	owner_free(sys, &o);
	CHECK_EQ(atomic_load(&z->free_pages_mt[MIGRATE_ISOLATE]), iso_before + 1);
	CHECK_EQ(zone_page_state(z, NR_FREE_PAGES), free_now);
	CHECK_EQ(zone_page_state(z, NR_ZONE_PCP), pcp_before);
	check_clean(sys, "freed into an isolated block");
	CHECK_EQ(buddy_undo_isolate_page_range(sys, pb, pb + PB, MIGRATE_MOVABLE), 0);
	check_clean(sys, "undo after free");

	buddy_system_destroy(sys);
}

/* Undo puts back the type each pageblock had, not the caller's type. */
static void test_undo_restores_types(void)
{
	test_section("undo restores each pageblock's type");
	struct buddy_system *sys = create();
	struct snapshot before, after;

	/* An unmovable allocation claims a whole MOVABLE pageblock. */
	struct page *u = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_DMA32, 0);
	CHECK(u != NULL);
	uint64_t pb = buddy_page_to_pfn(sys, u) & ~(uint64_t)(PB - 1);
	CHECK_EQ(get_pfnblock_migratetype(sys, pb), MIGRATE_UNMOVABLE);
	buddy_drain_all_pages(sys);

	/* Holding an unmovable page, the block cannot be isolated. */
	snap(sys, &before);
	CHECK_EQ(buddy_start_isolate_page_range(sys, pb, pb + PB), -EBUSY);
	CHECK_EQ(buddy_start_isolate_page_range(sys, pb - (pb ? PB : 0), pb + 2 * PB), -EBUSY);
	snap(sys, &after);
	CHECK(same_state(&before, &after, "refused isolation"));
	check_clean(sys, "refused isolation");

	/* Empty, it can; undo with MOVABLE still restores UNMOVABLE. */
	CHECK_EQ(buddy_free_pages(sys, u, 0), 0);
	buddy_drain_all_pages(sys);
	CHECK_EQ(get_pfnblock_migratetype(sys, pb), MIGRATE_UNMOVABLE);
	snap(sys, &before);
	CHECK_EQ(buddy_start_isolate_page_range(sys, pb, pb + PB), 0);
	CHECK_EQ(get_pfnblock_migratetype(sys, pb), MIGRATE_ISOLATE);
	check_clean(sys, "isolated unmovable block");
	CHECK_EQ(buddy_undo_isolate_page_range(sys, pb, pb + PB, MIGRATE_MOVABLE), 0);
	CHECK_EQ(get_pfnblock_migratetype(sys, pb), MIGRATE_UNMOVABLE);
	snap(sys, &after);
	CHECK(same_state(&before, &after, "undo of an unmovable block"));
	check_clean(sys, "undo of an unmovable block");

	/* A CMA area goes back to CMA, whatever the caller says. */
	CHECK_EQ(buddy_start_isolate_page_range(sys, CMA_START, CMA_START + 2 * PB), 0);
	CHECK_EQ(get_pfnblock_migratetype(sys, CMA_START), MIGRATE_ISOLATE);
	check_clean(sys, "isolated CMA");
	CHECK_EQ(buddy_undo_isolate_page_range(sys, CMA_START, CMA_START + 2 * PB, MIGRATE_MOVABLE), 0);
	CHECK_EQ(get_pfnblock_migratetype(sys, CMA_START), MIGRATE_CMA);
	CHECK_EQ(get_pfnblock_migratetype(sys, CMA_START + PB), MIGRATE_CMA);
	check_clean(sys, "undone CMA");
	buddy_system_destroy(sys);
}

/* ---- alloc_contig_range ---- */
static void test_alloc_contig_movable(void)
{
	test_section("alloc_contig_range migrates movable pages");
	struct buddy_system *sys = create();
	struct owner o;

	owner_init(&o, sys);
	owner_fill(sys, &o, GFP_MOVABLE_DMA32, 40);
	uint64_t start = buddy_page_to_pfn(sys, o.pages[0]) & ~(uint64_t)(PB - 1);
	uint64_t end = start + PB;
	int inside = owner_count_in(sys, &o, start, end);
	CHECK(inside > 0, "no owned page in [%llu, %llu)", (unsigned long long)start, (unsigned long long)end);
	long free_before = free_total(sys);
	uint64_t migrated_before = buddy_vm_event(sys, PGMIGRATE_SUCCESS);
	check_clean(sys, "owner pages allocated");

	/* Unaligned inside the pageblock: [start + 3, end - 5). */
	CHECK_EQ(buddy_alloc_contig_range(sys, start + 3, end - 5, MIGRATE_MOVABLE, GFP_KERNEL), 0);
	CHECK_EQ(owner_count_in(sys, &o, start + 3, end - 5), 0);
	CHECK(o.migrations >= 1, "%d migrations", o.migrations);
	CHECK(buddy_vm_event(sys, PGMIGRATE_SUCCESS) > migrated_before);
	CHECK_EQ(owner_verify(sys, &o), 0);
	for (uint64_t pfn = start + 3; pfn < end - 5; pfn++) {
		struct page *page = buddy_pfn_to_page(sys, pfn);
		if (!page_flag(page, PG_allocated) || page->order != 0 || page->refcount != 1) {
			CHECK(false, "pfn %llu not an allocated order-0 page", (unsigned long long)pfn);
			break;
		}
	}
	CHECK_EQ(get_pfnblock_migratetype(sys, start), MIGRATE_MOVABLE);
	CHECK_EQ(free_total(sys), free_before - (long)(PB - 8));
	check_clean(sys, "contig range allocated");

	/* The pages are usable memory. */
	memset(buddy_page_address(sys, buddy_pfn_to_page(sys, start + 3)), 0x5a, (PB - 8) * PAGE_SIZE);
	buddy_free_contig_range(sys, start + 3, PB - 8);
	CHECK_EQ(free_total(sys), free_before);
	CHECK(buddy_page_is_free(sys, start + 3));
	check_clean(sys, "contig range freed");

	/* Zeroing on request; placement hints are dropped, not refused. */
	CHECK_EQ(buddy_alloc_contig_range(sys, start, start + 16, MIGRATE_MOVABLE,
					  GFP_KERNEL | __GFP_ZERO | __GFP_DMA32 | __GFP_THISNODE), 0);
	const unsigned char *mem = buddy_page_address(sys, buddy_pfn_to_page(sys, start));
	size_t nonzero = 0;
	for (size_t i = 0; i < 16 * PAGE_SIZE; i++)
		nonzero += mem[i] != 0;
	CHECK_EQ(nonzero, 0);
	buddy_free_contig_range(sys, start, 16);
	check_clean(sys, "zeroed contig range freed");

	owner_free(sys, &o);
	check_clean(sys, "owner freed");
	buddy_system_destroy(sys);
}

static void test_alloc_contig_unmovable(void)
{
	test_section("alloc_contig_range of a range with unmovable pages");
	struct buddy_system *sys = create();
	struct owner o;
	struct snapshot before, after;

	owner_init(&o, sys);
	struct page *u = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_DMA32, 0);
	CHECK(u != NULL);
	uint64_t upfn = buddy_page_to_pfn(sys, u), pb = upfn & ~(uint64_t)(PB - 1);
	owner_fill(sys, &o, GFP_MOVABLE_DMA32, 8);
	buddy_drain_all_pages(sys);
	snap(sys, &before);

	/* has_unmovable_pages refuses the pageblock: nothing moves. */
	CHECK_EQ(buddy_alloc_contig_range(sys, pb, pb + PB, MIGRATE_MOVABLE, GFP_KERNEL), -EBUSY);
	CHECK_EQ(buddy_alloc_contig_range(sys, upfn, upfn + 1, MIGRATE_MOVABLE, GFP_KERNEL), -EBUSY);
	snap(sys, &after);
	CHECK(same_state(&before, &after, "refused contig range"));
	CHECK_EQ(o.migrations, 0);
	check_clean(sys, "refused contig range");

	/* The part of the block without the unmovable page can be had. */
	uint64_t s = upfn >= pb + 64 ? pb : upfn + 1, e = upfn >= pb + 64 ? pb + 64 : upfn + 65;
	int ret = buddy_alloc_contig_range(sys, s, e, MIGRATE_MOVABLE, GFP_KERNEL);
	CHECK_EQ(ret, 0);
	CHECK_EQ(get_pfnblock_migratetype(sys, pb), MIGRATE_UNMOVABLE);
	check_clean(sys, "part of an unmovable block");
	if (!ret)
		buddy_free_contig_range(sys, s, e - s);

	/* An owner that refuses to let its page go: migration fails, the
	 * range is busy, everything is put back. */
	o.pinned = 0;
	uint64_t ppfn = buddy_page_to_pfn(sys, o.pages[0]), ppb = ppfn & ~(uint64_t)(PB - 1);
	buddy_drain_all_pages(sys);
	long free_before = free_total(sys);
	int types_before = get_pfnblock_migratetype(sys, ppb);
	CHECK_EQ(buddy_alloc_contig_range(sys, ppfn, ppfn + 1, MIGRATE_MOVABLE, GFP_KERNEL), -EBUSY);
	CHECK(o.pages[0] == buddy_pfn_to_page(sys, ppfn));
	CHECK_EQ(owner_verify(sys, &o), 0);
	CHECK_EQ(get_pfnblock_migratetype(sys, ppb), types_before);
	CHECK_EQ(free_total(sys), free_before);
	check_clean(sys, "pinned page");

	buddy_free_pages(sys, u, 0);
	owner_free(sys, &o);
	check_clean(sys, "freed");
	buddy_system_destroy(sys);
}

/* ---- CMA ---- */
static void test_cma(void)
{
	test_section("cma_alloc migrates movable pages out of the area");
	struct buddy_system *sys = create();
	struct owner o;
	uint64_t area = CMA_END - CMA_START;

	/* More than half of Normal's free memory is CMA, so movable
	 * allocations land in the area first (__rmqueue's CMA balance). */
	owner_init(&o, sys);
	owner_fill(sys, &o, GFP_HIGHUSER_MOVABLE, 200);
	int in_area = owner_count_in(sys, &o, CMA_START, CMA_END);
	CHECK(in_area > 0, "%d of the owner's pages in the CMA area", in_area);
	CHECK_EQ(owner_verify(sys, &o), 0);
	check_clean(sys, "owner pages in CMA");

	long free_before = free_total(sys);
	uint64_t ok0 = buddy_vm_event(sys, CMA_ALLOC_SUCCESS), fail0 = buddy_vm_event(sys, CMA_ALLOC_FAIL);

	/* The whole area. */
	struct page *all = buddy_cma_alloc(sys, 0, area, 0);
	CHECK(all != NULL);
	CHECK_EQ(buddy_vm_event(sys, CMA_ALLOC_SUCCESS), ok0 + 1);
	CHECK_EQ(buddy_vm_event(sys, CMA_ALLOC_FAIL), fail0);
	if (all)
		CHECK_EQ(buddy_page_to_pfn(sys, all), CMA_START);
	CHECK_EQ(owner_count_in(sys, &o, CMA_START, CMA_END), 0);
	CHECK_EQ(o.migrations, in_area);
	CHECK_EQ(owner_verify(sys, &o), 0);
	for (uint64_t pb = CMA_START; pb < CMA_END; pb += PB)
		CHECK_EQ(get_pfnblock_migratetype(sys, pb), MIGRATE_CMA);
	CHECK_EQ(free_total(sys), free_before - (long)area);
	CHECK_EQ(zone_page_state(zone_at(sys, ZONE_NORMAL), NR_FREE_CMA_PAGES), 0);
	check_clean(sys, "whole area allocated");

	/* Nothing is left for another allocation. */
	CHECK(buddy_cma_alloc(sys, 0, 1, 0) == NULL);
	CHECK_EQ(buddy_vm_event(sys, CMA_ALLOC_FAIL), fail0 + 1);
	CHECK(buddy_cma_release(sys, 0, all, area));
	CHECK(!buddy_cma_release(sys, 0, all, area)); /* twice */
	CHECK_EQ(free_total(sys), free_before);
	check_clean(sys, "area released");

	/* Aligned allocations side by side. */
	struct page *a = buddy_cma_alloc(sys, 0, 100, 4);
	struct page *b = buddy_cma_alloc(sys, 0, 100, 4);
	CHECK(a && b);
	if (a && b) {
		uint64_t pa = buddy_page_to_pfn(sys, a), pbb = buddy_page_to_pfn(sys, b);
		CHECK_EQ(pa % 16, 0);
		CHECK_EQ(pbb % 16, 0);
		CHECK(pbb >= pa + 100 || pa >= pbb + 100, "overlap: %llu and %llu", (unsigned long long)pa,
		      (unsigned long long)pbb);
		CHECK(pa >= CMA_START && pa + 100 <= CMA_END);
		check_clean(sys, "two aligned CMA ranges");
		/* A release must name pages this area handed out. */
		CHECK(!buddy_cma_release(sys, 0, a, 101));
		CHECK(buddy_cma_release(sys, 0, a, 100));
		CHECK(buddy_cma_release(sys, 0, b, 100));
	}
	check_clean(sys, "aligned ranges released");

	/* A pinned page in the area: every attempt at the whole area fails,
	 * and the failure puts everything back. */
	owner_free(sys, &o);
	owner_init(&o, sys);
	buddy_drain_all_pages(sys);
	owner_fill(sys, &o, GFP_HIGHUSER_MOVABLE, 50);
	int pin = -1;
	for (int i = 0; i < o.nr && pin < 0; i++)
		if (buddy_page_to_pfn(sys, o.pages[i]) >= CMA_START)
			pin = i;
	CHECK(pin >= 0);
	o.pinned = pin;
	struct page *pinned_page = pin >= 0 ? o.pages[pin] : NULL;
	buddy_drain_all_pages(sys);
	free_before = free_total(sys);
	fail0 = buddy_vm_event(sys, CMA_ALLOC_FAIL);
	CHECK(buddy_cma_alloc(sys, 0, area, 0) == NULL);
	CHECK_EQ(buddy_vm_event(sys, CMA_ALLOC_FAIL), fail0 + 1);
	if (pin >= 0)
		CHECK(o.pages[pin] == pinned_page);
	CHECK_EQ(owner_verify(sys, &o), 0);
	for (uint64_t pb = CMA_START; pb < CMA_END; pb += PB)
		CHECK_EQ(get_pfnblock_migratetype(sys, pb), MIGRATE_CMA);
	CHECK_EQ(free_total(sys), free_before);
	check_clean(sys, "failed CMA allocation");
	/* A smaller one finds room beside the pinned page. */
	struct page *c = buddy_cma_alloc(sys, 0, PB, 0);
	CHECK(c != NULL);
	if (c && pin >= 0) {
		uint64_t pc = buddy_page_to_pfn(sys, c), pp = buddy_page_to_pfn(sys, pinned_page);
		CHECK(pp < pc || pp >= pc + PB);
		CHECK(buddy_cma_release(sys, 0, c, PB));
	}
	check_clean(sys, "CMA beside a pinned page");
	o.pinned = -1;
	owner_free(sys, &o);
	check_clean(sys, "all freed");
	buddy_system_destroy(sys);
}

/* CMA allocations and releases on one thread while another allocates and
 * frees movable pages: a TSan run checks the locking. */
struct churn {
	struct buddy_system *sys;
	/* Not on the churn thread's stack: a free of a block that a migration
	 * holds isolated returns at once, and the migration may still call the
	 * owner back (it answers -EAGAIN), so the owner must outlive every
	 * migration that could hold one of its blocks -- here, the CMA loop. */
	struct owner o;
	_Atomic bool stop;
	_Atomic int errors;     /* tap's counters are not for other threads */
	_Atomic int rounds;
};

static void *churn_thread(void *arg)
{
	struct churn *ch = arg;
	struct buddy_system *sys = ch->sys;
	struct owner *o = &ch->o;

	buddy_bind_cpu(sys, 1);
	while (!atomic_load(&ch->stop) && atomic_load(&ch->rounds) < 2000) {
		for (int i = 0; i < 16; i++) {
			struct page *page = buddy_alloc_pages_mapping(sys, GFP_HIGHUSER_MOVABLE | __GFP_NOWARN, 0, -1, 0,
								      &o->m, (uint64_t)i);
			/* No contents: a write racing the allocator's copy of a
			 * migrating page would be a race by design (the kernel
			 * holds the page lock across it); contents are checked by
			 * the single-threaded tests. */
			pthread_mutex_lock(&o->lock);
			o->pages[i] = page;
			pthread_mutex_unlock(&o->lock);
		}
		o->nr = 16;
		for (int i = 0; i < 16; i++) {
			pthread_mutex_lock(&o->lock);
			struct page *page = o->pages[i];
			o->pages[i] = NULL;
			pthread_mutex_unlock(&o->lock);
			if (page && buddy_free_pages(sys, page, 0))
				atomic_fetch_add(&ch->errors, 1);
		}
		atomic_fetch_add(&ch->rounds, 1);
	}
	return NULL;
}

static void test_cma_concurrent(void)
{
	test_section("cma_alloc while others allocate");
	struct buddy_system *sys = create();
	struct churn ch = { .sys = sys };
	pthread_t t;

	owner_init(&ch.o, sys);

	CHECK_EQ(pthread_create(&t, NULL, churn_thread, &ch), 0);
	int ok = 0;
	/* At least 40, and on until the churn has run a few rounds alongside:
	 * on a busy machine the thread may not get going before 40 are done.
	 * Bounded, in case it never does. */
	for (int i = 0; i < 40 || (atomic_load(&ch.rounds) < 5 && i < 200000); i++) {
		struct page *p = buddy_cma_alloc(sys, 0, 3 * PB, 0);
		if (p) {
			ok++;
			CHECK(buddy_cma_release(sys, 0, p, 3 * PB));
		}
	}
	atomic_store(&ch.stop, true);
	pthread_join(t, NULL);
	CHECK(ok > 0, "no CMA allocation succeeded");
	CHECK_EQ(atomic_load(&ch.errors), 0);
	CHECK(atomic_load(&ch.rounds) >= 5, "the churn ran %d rounds alongside", atomic_load(&ch.rounds));
	pthread_mutex_destroy(&ch.o.lock);
	buddy_drain_all_pages(sys);
	check_clean(sys, "after concurrent CMA");
	buddy_system_destroy(sys);
}

/* isolate_single_pageblock: an allocated block larger than a pageblock
 * that the range would cut keeps the range from being isolated (freed
 * later, it would become one free block across both types). */
static void test_no_cut_through_allocated(void)
{
	test_section("isolation never cuts an allocated block");
	struct buddy_system *sys = create();
	struct snapshot before, after;

	struct page *big = buddy_alloc_pages(sys, GFP_MOVABLE_DMA32, 10);
	CHECK(big != NULL);
	if (big) {
		uint64_t pfn = buddy_page_to_pfn(sys, big);
		buddy_drain_all_pages(sys);
		snap(sys, &before);
		CHECK_EQ(buddy_start_isolate_page_range(sys, pfn + PB, pfn + 2 * PB), -EBUSY);
		if (pfn >= PB)
			CHECK_EQ(buddy_start_isolate_page_range(sys, pfn - PB, pfn + PB), -EBUSY);
		CHECK_EQ(buddy_alloc_contig_range(sys, pfn + PB, pfn + PB + 4, MIGRATE_MOVABLE, GFP_KERNEL), -EBUSY);
		snap(sys, &after);
		CHECK(same_state(&before, &after, "refused cut"));
		/* The whole block is fine (it is not movable, so has_unmovable
		 * refuses it anyway). */
		CHECK_EQ(buddy_start_isolate_page_range(sys, pfn, pfn + 2 * PB), -EBUSY);
		check_clean(sys, "refused cut");
		buddy_free_pages(sys, big, 10);
	}
	check_clean(sys, "freed");
	buddy_system_destroy(sys);
}

int main(void)
{
	test_bad_arguments();
	test_isolate_undo();
	test_undo_restores_types();
	test_alloc_contig_movable();
	test_alloc_contig_unmovable();
	test_cma();
	test_no_cut_through_allocated();
	test_cma_concurrent();
	return test_done();
}
