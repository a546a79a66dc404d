/* Memory offlining and onlining, and memory failure, against the kernel's
 * rules: offline migrates movable owners out (contents intact), takes the
 * range off the allocator and shrinks present and managed pages, and
 * online gives it all back with the same free count and watermarks; a
 * range with unmovable pages cannot go offline and nothing changes; a free
 * poisoned page is cut out of its buddy block, an allocated one is kept out
 * when freed, and unpoison returns it; every bad argument is refused.  The
 * checker runs after every step and must find nothing. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy/buddy.h"
#include "internal.h"
#include "tap.h"

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

static struct buddy_system *create(bool poison)
{
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err = { 0 };

	topology(&t);
	buddy_options_init(&o);
	o.backing = BUDDY_BACKING_MMAP;
	o.poison = poison;
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

struct snapshot {
	uint8_t pb[NORMAL_END / PB];
	struct buddy_zone_info info[MAX_NR_ZONES];
	long offline[MAX_NR_ZONES], poisoned[MAX_NR_ZONES];
};

static void snap(struct buddy_system *sys, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	for (uint64_t i = 0; i < NORMAL_END / PB; i++)
		s->pb[i] = (uint8_t)get_pfnblock_migratetype(sys, i * PB);
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		buddy_zone_info(sys, 0, (enum zone_type)z, &s->info[z]);
		s->offline[z] = zone_page_state(zone_at(sys, (enum zone_type)z), NR_ZONE_OFFLINE);
		s->poisoned[z] = zone_page_state(zone_at(sys, (enum zone_type)z), NR_ZONE_HWPOISON);
	}
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
		    x->managed != y->managed || memcmp(x->wmark, y->wmark, sizeof(x->wmark)) ||
		    memcmp(x->nr_free_blocks, y->nr_free_blocks, sizeof(x->nr_free_blocks)) ||
		    a->offline[z] != b->offline[z] || a->poisoned[z] != b->poisoned[z]) {
			CHECK(false, "%s: zone %d changed: free %llu -> %llu, present %llu -> %llu, offline %ld -> %ld", where,
			      z, (unsigned long long)x->free_pages, (unsigned long long)y->free_pages,
			      (unsigned long long)x->present, (unsigned long long)y->present, a->offline[z], b->offline[z]);
			same = false;
		}
	}
	return same;
}

/* ---- an owner of movable pages ---- */
#define MAX_OWNED 128

struct owner {
	struct buddy_mapping m;
	struct buddy_system *sys;
	pthread_mutex_t lock;
	struct page *pages[MAX_OWNED];
	int nr;
	int migrations;
	int releases;
};

static int owner_migrate(struct buddy_mapping *m, struct page *old_page, struct page *new_page)
{
	struct owner *o = m->private_data;
	uint64_t idx = buddy_page_index(old_page);
	int ret = -EAGAIN;

	pthread_mutex_lock(&o->lock);
	if (idx < MAX_OWNED && o->pages[idx] == old_page) {
		buddy_migrate_copy(o->sys, new_page, old_page);
		o->pages[idx] = new_page;
		o->migrations++;
		ret = 0;
	}
	pthread_mutex_unlock(&o->lock);
	return ret;
}

/* Memory failure took the page: forget it, never free it. */
static int owner_release(struct buddy_mapping *m, struct page *page)
{
	struct owner *o = m->private_data;
	uint64_t idx = buddy_page_index(page);
	int ret = -EBUSY;

	pthread_mutex_lock(&o->lock);
	if (idx < MAX_OWNED && o->pages[idx] == page) {
		o->pages[idx] = NULL;
		o->releases++;
		ret = 0;
	}
	pthread_mutex_unlock(&o->lock);
	return ret;
}

static const struct buddy_mapping_ops owner_ops = { .migrate = owner_migrate, .release = owner_release };

static void owner_init(struct owner *o, struct buddy_system *sys)
{
	memset(o, 0, sizeof(*o));
	o->m.ops = &owner_ops;
	o->m.private_data = o;
	o->sys = sys;
	pthread_mutex_init(&o->lock, NULL);
}

static void fill_pattern(struct buddy_system *sys, struct page *page, uint64_t idx)
{
	unsigned char *p = buddy_page_address(sys, page);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		p[i] = (unsigned char)(idx * 37 + i * 11 + 3);
}

static bool pattern_ok(struct buddy_system *sys, struct page *page, uint64_t idx)
{
	const unsigned char *p = buddy_page_address(sys, page);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (p[i] != (unsigned char)(idx * 37 + i * 11 + 3))
			return false;
	return true;
}

static void owner_fill(struct buddy_system *sys, struct owner *o, gfp_t gfp, int nr)
{
	for (int i = 0; i < nr && o->nr < MAX_OWNED; i++) {
		int idx = o->nr;
		struct page *page = buddy_alloc_pages_mapping(sys, gfp, 0, -1, 0, &o->m, (uint64_t)idx);
		CHECK(page != NULL, "owner allocation %d failed", idx);
		if (!page)
			return;
		o->pages[idx] = page;
		fill_pattern(sys, page, (uint64_t)idx);
		o->nr++;
	}
}

static int owner_verify(struct buddy_system *sys, struct owner *o)
{
	int bad = 0;
	for (int i = 0; i < o->nr; i++)
		if (o->pages[i] && !pattern_ok(sys, o->pages[i], (uint64_t)i))
			bad++;
	return bad;
}

static int owner_count_in(struct buddy_system *sys, struct owner *o, uint64_t start, uint64_t end)
{
	int n = 0;
	for (int i = 0; i < o->nr; i++) {
		if (!o->pages[i])
			continue;
		uint64_t pfn = buddy_page_to_pfn(sys, o->pages[i]);
		n += pfn >= start && pfn < end;
	}
	return n;
}

static void owner_free(struct buddy_system *sys, struct owner *o)
{
	for (int i = 0; i < o->nr; i++)
		if (o->pages[i]) {
			CHECK_EQ(buddy_free_pages(sys, o->pages[i], 0), 0);
			o->pages[i] = NULL;
		}
	o->nr = 0;
	pthread_mutex_destroy(&o->lock);
}

#define GFP_MOVABLE_DMA32 (GFP_USER | __GFP_MOVABLE | __GFP_DMA32)

/* ---- offline and online ---- */
static void test_offline_online(void)
{
	test_section("offline then online");
	struct buddy_system *sys = create(true);
	struct zone *dma32 = zone_at(sys, ZONE_DMA32);
	struct owner o;
	struct snapshot before, after;

	owner_init(&o, sys);
	owner_fill(sys, &o, GFP_MOVABLE_DMA32, 60);
	uint64_t start = buddy_page_to_pfn(sys, o.pages[0]) & ~(uint64_t)(PB - 1);
	if (start + 2 * PB > HOLE_START && start < HOLE_END)
		start = 0;
	uint64_t nr = 2 * PB, end = start + nr;
	int inside = owner_count_in(sys, &o, start, end);
	CHECK(inside > 0, "no owned page in the range");
	buddy_drain_all_pages(sys);
	check_clean(sys, "before offline");
	snap(sys, &before);
	long free_before = free_total(sys);
	uint64_t present = dma32->present_pages, managed = dma32->managed_pages;
	unsigned long min_before = buddy_zone_wmark(sys, 0, ZONE_DMA32, WMARK_MIN);
	long min_kbytes = sys->min_free_kbytes;

	CHECK_EQ(buddy_offline_pages(sys, start, nr), 0);
	CHECK_EQ(owner_count_in(sys, &o, start, end), 0);
	CHECK_EQ(o.migrations, inside);
	CHECK_EQ(owner_verify(sys, &o), 0);
	CHECK_EQ(dma32->present_pages, present - nr);
	CHECK_EQ(dma32->managed_pages, managed - nr);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_OFFLINE), (long)nr);
	CHECK_EQ(free_total(sys), free_before - (long)nr);
	for (uint64_t pfn = start; pfn < end; pfn++)
		if (!page_flag(pfn_to_page(sys, pfn), PG_offline) || buddy_page_is_free(sys, pfn)) {
			CHECK(false, "pfn %llu not offline", (unsigned long long)pfn);
			break;
		}
	/* Less memory: the watermarks follow (init_per_zone_wmark_min). */
	CHECK(sys->min_free_kbytes <= min_kbytes);
	CHECK(buddy_zone_wmark(sys, 0, ZONE_DMA32, WMARK_MIN) <= min_before);
	long min_kbytes_offline = sys->min_free_kbytes;
	unsigned long min_offline = buddy_zone_wmark(sys, 0, ZONE_DMA32, WMARK_MIN);
	check_clean(sys, "offline");

	/* Offline memory serves nobody and takes no other state. */
	struct page *pages[64];
	int got = 0;
	for (; got < 64; got++) {
		pages[got] = buddy_alloc_pages(sys, GFP_MOVABLE_DMA32, 2);
		if (!pages[got])
			break;
		uint64_t pfn = buddy_page_to_pfn(sys, pages[got]);
		CHECK(pfn + 4 <= start || pfn >= end);
	}
	for (int i = 0; i < got; i++)
		buddy_free_pages(sys, pages[i], 2);
	buddy_drain_all_pages(sys);
	CHECK_EQ(buddy_offline_pages(sys, start, nr), -EINVAL);
	CHECK_EQ(buddy_offline_pages(sys, start, PB), -EINVAL);
	CHECK_EQ(buddy_start_isolate_page_range(sys, start, end), -EINVAL);
	CHECK_EQ(buddy_alloc_contig_range(sys, start, start + 8, MIGRATE_MOVABLE, GFP_KERNEL), -EINVAL);
	CHECK_EQ(buddy_memory_failure(sys, start + 3), -ENXIO);
	CHECK_EQ(buddy_unpoison_memory(sys, start + 3), -EBUSY);
	CHECK_EQ(buddy_online_pages(sys, start, nr + PB), -EINVAL); /* the last pageblock is online */
	check_clean(sys, "refused operations on offline memory");

	CHECK_EQ(buddy_online_pages(sys, start, nr), 0);
	CHECK_EQ(dma32->present_pages, present);
	CHECK_EQ(dma32->managed_pages, managed);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_OFFLINE), 0);
	CHECK_EQ(free_total(sys), free_before);
	/* Back up, though not to the boot value: at boot the high watermarks
	 * were still 0 when nr_free_buffer_pages() was summed, as in the
	 * kernel's first init_per_zone_wmark_min(). */
	CHECK(sys->min_free_kbytes >= min_kbytes_offline && sys->min_free_kbytes <= min_kbytes);
	CHECK(buddy_zone_wmark(sys, 0, ZONE_DMA32, WMARK_MIN) >= min_offline);
	for (uint64_t pb = start; pb < end; pb += PB)
		CHECK_EQ(get_pfnblock_migratetype(sys, pb), MIGRATE_MOVABLE);
	CHECK(buddy_page_is_free(sys, start) && buddy_page_is_free(sys, end - 1));
	CHECK_EQ(owner_verify(sys, &o), 0);
	check_clean(sys, "online");
	CHECK_EQ(buddy_online_pages(sys, start, nr), -EINVAL); /* already online */

	/* Onlined memory is handed out again, poison pattern intact. */
	struct page *big = buddy_alloc_pages_node(sys, 0, GFP_MOVABLE_DMA32, 9);
	CHECK(big != NULL);
	if (big)
		buddy_free_pages(sys, big, 9);
	CHECK_EQ(buddy_vm_event(sys, BUDDY_BAD_PAGE), 0);

	owner_free(sys, &o);
	buddy_drain_all_pages(sys);
	check_clean(sys, "owner freed");
	snap(sys, &after);
	(void)before;
	buddy_system_destroy(sys);
}

static void test_offline_unmovable(void)
{
	test_section("offline of a range with unmovable pages");
	struct buddy_system *sys = create(false);
	struct owner o;
	struct snapshot before, after;

	owner_init(&o, sys);
	struct page *u = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_DMA32, 0);
	CHECK(u != NULL);
	uint64_t pb = buddy_page_to_pfn(sys, u) & ~(uint64_t)(PB - 1);
	owner_fill(sys, &o, GFP_MOVABLE_DMA32, 20);
	buddy_drain_all_pages(sys);
	snap(sys, &before);
	CHECK_EQ(buddy_offline_pages(sys, pb, PB), -EBUSY);
	uint64_t wide = pb >= PB ? pb - PB : pb;
	CHECK_EQ(buddy_offline_pages(sys, wide, 2 * PB + (wide == pb ? 0 : PB)), -EBUSY);
	snap(sys, &after);
	CHECK(same_state(&before, &after, "refused offline"));
	CHECK_EQ(o.migrations, 0);
	check_clean(sys, "refused offline");

	/* A CMA area cannot go offline either (has_unmovable_pages). */
	CHECK_EQ(buddy_offline_pages(sys, CMA_START, PB), -EBUSY);
	check_clean(sys, "refused CMA offline");

	/* An owner that never lets go: offline gives up after its retries. */
	struct owner stuck;
	owner_init(&stuck, sys);
	stuck.m.ops = &(const struct buddy_mapping_ops){ .migrate = NULL };
	owner_fill(sys, &stuck, GFP_MOVABLE_DMA32, 1);
	uint64_t spb = buddy_page_to_pfn(sys, stuck.pages[0]) & ~(uint64_t)(PB - 1);
	buddy_drain_all_pages(sys);
	long free_before = free_total(sys);
	snap(sys, &before);
	if (spb != pb) {
		CHECK_EQ(buddy_offline_pages(sys, spb, PB), -EBUSY);
		snap(sys, &after);
		CHECK_EQ(free_total(sys), free_before);
		CHECK_EQ(get_pfnblock_migratetype(sys, spb), before.pb[spb / PB]);
		CHECK_EQ(zone_page_state(zone_at(sys, ZONE_DMA32), NR_ZONE_OFFLINE), 0);
		check_clean(sys, "stuck owner");
	}
	owner_free(sys, &stuck);

	/* Bad arguments. */
	CHECK_EQ(buddy_offline_pages(NULL, 0, PB), -EINVAL);
	CHECK_EQ(buddy_offline_pages(sys, 0, 0), -EINVAL);
	CHECK_EQ(buddy_offline_pages(sys, 1, PB), -EINVAL);
	CHECK_EQ(buddy_offline_pages(sys, 0, PB + 1), -EINVAL);
	CHECK_EQ(buddy_offline_pages(sys, 0, PB / 2), -EINVAL);
	CHECK_EQ(buddy_offline_pages(sys, DMA32_END - PB, 2 * PB), -EINVAL);  /* two zones */
	CHECK_EQ(buddy_offline_pages(sys, HOLE_START - PB, 2 * PB), -EINVAL); /* a hole */
	CHECK_EQ(buddy_offline_pages(sys, NORMAL_END, PB), -EINVAL);
	CHECK_EQ(buddy_offline_pages(sys, UINT64_MAX - PB + 1, PB), -EINVAL);
	CHECK_EQ(buddy_online_pages(NULL, 0, PB), -EINVAL);
	CHECK_EQ(buddy_online_pages(sys, 0, PB), -EINVAL); /* not offline */
	CHECK_EQ(buddy_online_pages(sys, 0, 0), -EINVAL);
	CHECK_EQ(buddy_online_pages(sys, 3, PB), -EINVAL);
	check_clean(sys, "bad arguments");

	buddy_free_pages(sys, u, 0);
	owner_free(sys, &o);
	check_clean(sys, "freed");
	buddy_system_destroy(sys);
}

/* ---- memory failure ---- */
static void test_hwpoison_free(void)
{
	test_section("hwpoison of a free page");
	struct buddy_system *sys = create(true);
	struct zone *dma32 = zone_at(sys, ZONE_DMA32);

	buddy_drain_all_pages(sys);
	/* [2 PB, 4 PB) is one free order-10 block from the start. */
	uint64_t head = 2 * PB, bad = head + 37;
	CHECK(page_flag(pfn_to_page(sys, head), PG_buddy) && pfn_to_page(sys, head)->order == 10);
	unsigned long blocks[11];
	for (int o = 0; o <= 10; o++)
		blocks[o] = atomic_load(&dma32->free_area[o].nr_free);
	long free_before = free_total(sys);

	CHECK_EQ(buddy_memory_failure(sys, bad), 0);
	CHECK(page_flag(pfn_to_page(sys, bad), PG_hwpoison));
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 1);
	CHECK_EQ(free_total(sys), free_before - 1);
	/* 1023 pages free in one block of each order 0..9, the poisoned one out. */
	CHECK_EQ(atomic_load(&dma32->free_area[10].nr_free), blocks[10] - 1);
	for (int o = 0; o < 10; o++)
		CHECK_EQ(atomic_load(&dma32->free_area[o].nr_free), blocks[o] + 1);
	for (uint64_t pfn = head; pfn < head + 1024; pfn++)
		if (buddy_page_is_free(sys, pfn) != (pfn != bad)) {
			CHECK(false, "pfn %llu free: %d", (unsigned long long)pfn, buddy_page_is_free(sys, pfn));
			break;
		}
	check_clean(sys, "free page poisoned");
	CHECK_EQ(buddy_memory_failure(sys, bad), -EHWPOISON);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 1);

	/* Never handed out: take everything the zone gives. */
	struct page **all = calloc(DMA32_END, sizeof(*all));
	size_t n = 0;
	while (n < DMA32_END && (all[n] = buddy_alloc_pages(sys, GFP_ATOMIC | __GFP_DMA32 | __GFP_NOWARN, 0)))
		n++;
	CHECK(n > DMA32_END / 2, "only %zu pages", n);
	for (size_t i = 0; i < n; i++)
		CHECK(buddy_page_to_pfn(sys, all[i]) != bad);
	check_clean(sys, "zone drained");
	for (size_t i = 0; i < n; i++)
		buddy_free_pages(sys, all[i], 0);
	free(all);
	buddy_drain_all_pages(sys);
	check_clean(sys, "zone refilled");

	/* A contig allocation over the poisoned page cannot have it. */
	CHECK_EQ(buddy_alloc_contig_range(sys, bad - 1, bad + 2, MIGRATE_MOVABLE, GFP_KERNEL), -EBUSY);
	check_clean(sys, "contig over a poisoned page");

	/* Offline and online carry the poisoned page along. */
	CHECK_EQ(buddy_offline_pages(sys, head, 2 * PB), 0);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 0);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_OFFLINE), 2 * PB);
	check_clean(sys, "offline with a poisoned page");
	CHECK_EQ(buddy_online_pages(sys, head, 2 * PB), 0);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 1);
	CHECK(!buddy_page_is_free(sys, bad));
	check_clean(sys, "online with a poisoned page");

	CHECK_EQ(buddy_unpoison_memory(sys, bad), 0);
	CHECK(!page_flag(pfn_to_page(sys, bad), PG_hwpoison));
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 0);
	CHECK(page_flag(pfn_to_page(sys, head), PG_buddy) && pfn_to_page(sys, head)->order == 10);
	CHECK_EQ(free_total(sys), free_before);
	check_clean(sys, "unpoisoned");
	CHECK_EQ(buddy_unpoison_memory(sys, bad), -EBUSY); /* not poisoned any more */

	/* A page on a pcp list: drained first, then taken. */
	struct page *p = buddy_alloc_pages(sys, GFP_MOVABLE_DMA32, 0);
	uint64_t ppfn = buddy_page_to_pfn(sys, p);
	buddy_free_pages(sys, p, 0);
	CHECK(page_flag(p, PG_pcp));
	CHECK_EQ(buddy_memory_failure(sys, ppfn), 0);
	CHECK(!page_flag(p, PG_pcp) && !buddy_page_is_free(sys, ppfn));
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 1);
	check_clean(sys, "pcp page poisoned");
	CHECK_EQ(buddy_unpoison_memory(sys, ppfn), 0);
	check_clean(sys, "pcp page unpoisoned");
	CHECK_EQ(buddy_vm_event(sys, BUDDY_BAD_PAGE), 0);

	/* Bad arguments. */
	CHECK_EQ(buddy_memory_failure(NULL, 0), -EINVAL);
	CHECK_EQ(buddy_memory_failure(sys, HOLE_START + 1), -ENXIO);
	CHECK_EQ(buddy_memory_failure(sys, NORMAL_END), -ENXIO);
	CHECK_EQ(buddy_memory_failure(sys, UINT64_MAX), -ENXIO);
	CHECK_EQ(buddy_unpoison_memory(NULL, 0), -EINVAL);
	CHECK_EQ(buddy_unpoison_memory(sys, HOLE_START + 1), -ENXIO);
	CHECK_EQ(buddy_unpoison_memory(sys, UINT64_MAX), -ENXIO);
	CHECK_EQ(buddy_unpoison_memory(sys, 0), -EBUSY);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 0);
	check_clean(sys, "bad arguments");
	buddy_system_destroy(sys);
}

static void test_hwpoison_allocated(void)
{
	test_section("hwpoison of an allocated page");
	struct buddy_system *sys = create(true);
	struct zone *dma32 = zone_at(sys, ZONE_DMA32);

	struct page *blk = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_DMA32 | __GFP_COMP, 2);
	CHECK(blk != NULL);
	uint64_t pfn = buddy_page_to_pfn(sys, blk), bad = pfn + 1;
	long free_before = free_total(sys);

	CHECK_EQ(buddy_memory_failure(sys, bad), 0);
	CHECK(page_flag(pfn_to_page(sys, bad), PG_hwpoison));
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 0); /* still its owner's */
	CHECK_EQ(free_total(sys), free_before);
	check_clean(sys, "allocated page poisoned");
	CHECK_EQ(buddy_unpoison_memory(sys, bad), -EBUSY); /* someone holds it */
	CHECK_EQ(buddy_memory_failure(sys, bad), -EHWPOISON);

	/* The free keeps the poisoned page out and frees the other three. */
	CHECK_EQ(buddy_free_pages(sys, blk, 2), 0);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 1);
	CHECK_EQ(free_total(sys), free_before + 3);
	CHECK(buddy_page_is_free(sys, pfn) && !buddy_page_is_free(sys, bad) && buddy_page_is_free(sys, pfn + 2) &&
	      buddy_page_is_free(sys, pfn + 3));
	check_clean(sys, "poisoned block freed");
	CHECK_EQ(buddy_unpoison_memory(sys, bad), 0);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 0);
	CHECK_EQ(free_total(sys), free_before + 4);
	check_clean(sys, "unpoisoned after free");

	/* Poisoning every page of a block keeps all of them out. */
	blk = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_DMA32, 1);
	pfn = buddy_page_to_pfn(sys, blk);
	CHECK_EQ(buddy_memory_failure(sys, pfn), 0);
	CHECK_EQ(buddy_memory_failure(sys, pfn + 1), 0);
	CHECK_EQ(buddy_free_pages(sys, blk, 1), 0);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 2);
	check_clean(sys, "fully poisoned block freed");
	CHECK_EQ(buddy_unpoison_memory(sys, pfn + 1), 0);
	CHECK_EQ(buddy_unpoison_memory(sys, pfn), 0);
	check_clean(sys, "fully poisoned block unpoisoned");

	/* An LRU page whose owner can let go: released and freed at once. */
	struct owner o;
	owner_init(&o, sys);
	owner_fill(sys, &o, GFP_MOVABLE_DMA32, 4);
	uint64_t victim = buddy_page_to_pfn(sys, o.pages[2]);
	long poisoned = zone_page_state(dma32, NR_ZONE_HWPOISON);
	CHECK_EQ(buddy_memory_failure(sys, victim), 0);
	CHECK_EQ(o.releases, 1);
	CHECK(o.pages[2] == NULL);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), poisoned + 1);
	CHECK(!buddy_page_is_free(sys, victim));
	check_clean(sys, "LRU page poisoned and released");
	CHECK_EQ(buddy_unpoison_memory(sys, victim), 0);
	owner_free(sys, &o);

	/* A poisoned page of a migrated block stays behind with the source. */
	owner_init(&o, sys);
	owner_fill(sys, &o, GFP_MOVABLE_DMA32, 8);
	o.m.ops = &(const struct buddy_mapping_ops){ .migrate = owner_migrate };
	uint64_t src = buddy_page_to_pfn(sys, o.pages[5]);
	CHECK_EQ(buddy_memory_failure(sys, src), 0); /* no release op: delayed */
	CHECK(o.pages[5] != NULL);
	uint64_t spb = src & ~(uint64_t)(PB - 1);
	buddy_drain_all_pages(sys);
	CHECK_EQ(buddy_offline_pages(sys, spb, PB), 0);
	CHECK(buddy_page_to_pfn(sys, o.pages[5]) != src);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 0); /* offline with the range */
	check_clean(sys, "poisoned source offlined");
	CHECK_EQ(buddy_online_pages(sys, spb, PB), 0);
	CHECK_EQ(zone_page_state(dma32, NR_ZONE_HWPOISON), 1);
	CHECK(!buddy_page_is_free(sys, src));
	check_clean(sys, "poisoned source online");
	CHECK_EQ(buddy_unpoison_memory(sys, src), 0);
	owner_free(sys, &o);
	check_clean(sys, "all freed");
	CHECK_EQ(buddy_vm_event(sys, BUDDY_BAD_PAGE), 0);
	buddy_system_destroy(sys);
}

int main(void)
{
	test_offline_online();
	test_offline_unmovable();
	test_hwpoison_free();
	test_hwpoison_allocated();
	return test_done();
}
