/* The invariant checker: a deterministic random run of allocations and frees
 * must stay clean under every scope, and every invariant the checker knows
 * must fire when the state is corrupted on purpose, each on a fresh system.
 * The slow path's legitimate states (offline, poisoned and isolated pages
 * built by the real code, owned blocks on the LRU, and compaction, reclaim
 * and the OOM reaper seen from inside their owner callbacks) must be clean.
 * The last section asserts that every name of buddy_invariants() was
 * triggered by some corruption.  The random runs print what a zone check
 * and a full check cost. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buddy/buddy.h"
#include "internal.h"
#include "tap.h"

#define NR_PAGES 16384
#define SPLIT_PFN 8192 /* DMA32 below, Normal above */

static bool covered[64];

/* ---- systems ---- */
struct config {
	unsigned int max_order, pageblock_order;
	bool hole;       /* a hole with odd edges in DMA32 */
	bool cma;        /* a CMA area in Normal */
};

#define HOLE_START 5003
#define HOLE_END 5037
#define CMA_START 12288
#define CMA_END (12288 + 2048)

static struct buddy_system *make_system(const struct config *cfg)
{
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err = { 0 };

	buddy_topology_small(&t, NR_PAGES, 2);
	t.zones[0][ZONE_DMA32] = (struct buddy_pfn_range){ 0, SPLIT_PFN };
	t.zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ SPLIT_PFN, NR_PAGES };
	if (cfg->hole) {
		t.nr_holes = 1;
		t.holes[0] = (struct buddy_pfn_range){ HOLE_START, HOLE_END };
	}
	if (cfg->cma) {
		t.nr_cma = 1;
		t.cma[0] = (struct buddy_pfn_range){ CMA_START, CMA_END };
	}
	buddy_options_init(&o);
	o.max_order = cfg->max_order;
	o.pageblock_order = cfg->pageblock_order;
	struct buddy_system *sys = buddy_system_create(&t, &o, &err);
	CHECK(sys != NULL, "create failed: %s: %s", err.field, err.message);
	if (!sys)
		exit(test_done() | 1);
	return sys;
}

static struct zone *zone_of(struct buddy_system *sys, enum zone_type z)
{
	return &sys->nodes[0]->node_zones[z];
}

static int invariant_index(const char *name)
{
	const struct buddy_invariant *list;
	size_t n = buddy_invariants(&list);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i].name, name))
			return (int)i;
	return -1;
}

static void print_violations(const struct buddy_check_result *res)
{
	char line[320];

	for (size_t i = 0; i < res->count && i < res->capacity; i++) {
		buddy_violation_format(&res->v[i], line, sizeof(line));
		fprintf(stderr, "    %s\n", line);
	}
}

/* Every scope over both zones must be clean. */
static size_t check_all_scopes(struct buddy_system *sys, const char *where)
{
	struct buddy_violation v[16];
	struct buddy_check_result res = { .capacity = 16, .v = v };
	size_t total = 0;

	for (int z = ZONE_DMA32; z <= ZONE_NORMAL; z++) {
		size_t n = buddy_check(sys, BUDDY_CHECK_ZONE, 0, (enum zone_type)z, 0, &res);
		if (n)
			print_violations(&res);
		total += n;
	}
	for (int cpu = 0; cpu < 2; cpu++) {
		size_t n = buddy_check(sys, BUDDY_CHECK_PCP, 0, 0, cpu, &res);
		if (n)
			print_violations(&res);
		total += n;
	}
	size_t n = buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, &res);
	if (n)
		print_violations(&res);
	total += n;
	CHECK(total == 0, "%s: %zu violations", where, total);
	return total;
}

/* Runs the checker and expects name among the results. */
static void expect(struct buddy_system *sys, enum buddy_check_scope scope, enum zone_type zone, int cpu,
		   const char *name)
{
	struct buddy_violation v[64];
	struct buddy_check_result res = { .capacity = 64, .v = v };
	size_t n = buddy_check(sys, scope, 0, zone, cpu, &res);
	bool found = false;

	CHECK_EQ(res.count, n);
	for (size_t i = 0; i < n && i < res.capacity; i++)
		if (!strcmp(v[i].name, name))
			found = true;
	CHECK(found, "expected %s, got %zu violations", name, n);
	if (!found)
		print_violations(&res);
	int idx = invariant_index(name);
	CHECK(idx >= 0, "%s is not a known invariant", name);
	if (found && idx >= 0 && idx < 64)
		covered[idx] = true;
}

static void expect_clean(struct buddy_system *sys, enum buddy_check_scope scope, enum zone_type zone,
			 const char *where)
{
	struct buddy_violation v[16];
	struct buddy_check_result res = { .capacity = 16, .v = v };
	size_t n = buddy_check(sys, scope, 0, zone, 0, &res);

	CHECK(n == 0, "%s: %zu violations", where, n);
	if (n)
		print_violations(&res);
}

/* ---- the random run ---- */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

struct held {
	struct page *page;
	unsigned int order;
};

static const gfp_t run_gfps[] = {
	GFP_KERNEL,
	GFP_HIGHUSER_MOVABLE,
	GFP_KERNEL | __GFP_RECLAIMABLE,
	GFP_ATOMIC,
	GFP_KERNEL | __GFP_DMA32,
	GFP_KERNEL | __GFP_COMP,
	GFP_HIGHUSER_MOVABLE | __GFP_COMP,
	GFP_ATOMIC | __GFP_COMP,
	GFP_NOWAIT,
};

static unsigned int random_order(uint64_t *s, unsigned int max_order)
{
	unsigned int r = (unsigned int)(next_rand(s) % 100);
	unsigned int o;

	if (r < 50)
		o = 0;
	else if (r < 80)
		o = 1 + (unsigned int)(next_rand(s) % 3);
	else
		o = (unsigned int)(next_rand(s) % (max_order + 1));
	return o > max_order ? max_order : o;
}

#define MAX_HELD 4096

static double elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e9 + (double)(b->tv_nsec - a->tv_nsec);
}

/* What a check costs on the zone a workload left behind: the zone scope
 * runs after every fuzzer operation, so it must stay O(free blocks + pcp
 * pages).  A printed figure, not an assertion (sanitizers, load). */
static void time_checks(struct buddy_system *sys, const char *where)
{
	enum { ZONE_ROUNDS = 200, ALL_ROUNDS = 10 };
	struct zone *zone = zone_of(sys, ZONE_NORMAL);
	struct timespec a, b;
	size_t bad = 0;
	unsigned long blocks = 0;

	for (unsigned int o = 0; o <= MAX_PAGE_ORDER_LIMIT; o++)
		blocks += counter_read(&zone->free_area[o].nr_free);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < ZONE_ROUNDS; i++)
		bad += buddy_check(sys, BUDDY_CHECK_ZONE, 0, ZONE_NORMAL, 0, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double zone_ns = elapsed_ns(&a, &b) / ZONE_ROUNDS;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < ALL_ROUNDS; i++)
		bad += buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double all_ns = elapsed_ns(&a, &b) / ALL_ROUNDS;
	/* The incremental scope after an order-0 alloc+free, against the pair alone. */
	double pair_ns[2];
	for (int with_check = 0; with_check < 2; with_check++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (int i = 0; i < ZONE_ROUNDS; i++) {
			struct page *p = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN, 0);
			if (p)
				buddy_free_pages(sys, p, 0);
			if (with_check)
				bad += buddy_check(sys, BUDDY_CHECK_TOUCHED, 0, ZONE_NORMAL, 0, NULL);
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		pair_ns[with_check] = elapsed_ns(&a, &b) / ZONE_ROUNDS;
	}
	printf("# %s: order-0 alloc+free %.0f ns, with BUDDY_CHECK_TOUCHED after it %.0f ns\n", where, pair_ns[0],
	       pair_ns[1]);
	printf("# %s: BUDDY_CHECK_ZONE(Normal) %.0f ns per check (%lu free blocks, %ld pcp pages);"
	       " BUDDY_CHECK_ALL %.0f ns (%d pages)\n",
	       where, zone_ns, blocks, zone_page_state(zone, NR_ZONE_PCP), all_ns, NR_PAGES);
	CHECK(bad == 0, "%s: %zu violations while timing", where, bad);
}

static void random_run(const struct config *cfg, uint64_t seed, int ops)
{
	struct buddy_system *sys = make_system(cfg);
	struct held *held = calloc(MAX_HELD, sizeof(*held));
	size_t nr_held = 0, failures = 0;
	uint64_t s = seed;
	struct buddy_violation v[8];
	struct buddy_check_result res = { .capacity = 8, .v = v };
	char where[96];

	bool filling = true;
	int phase_failures = 0;
	buddy_check_track(sys, true);
	for (int op = 0; op < ops; op++) {
		int cpu = (int)(next_rand(&s) & 1);
		buddy_bind_cpu(sys, cpu);
		unsigned int r = (unsigned int)(next_rand(&s) % 1000);
		/* Waves: fill until allocations keep failing (watermarks, the
		 * slow path, HIGHATOMIC reserves, fallbacks), then free most. */
		if (filling && (phase_failures > 20 || nr_held == MAX_HELD)) {
			filling = false;
		} else if (!filling && nr_held < 40) {
			filling = true;
			phase_failures = 0;
		}
		if (nr_held < MAX_HELD && (nr_held == 0 || r < (filling ? 850u : 150u))) {
			gfp_t gfp = run_gfps[next_rand(&s) % (sizeof(run_gfps) / sizeof(run_gfps[0]))];
			unsigned int order = random_order(&s, cfg->max_order);
			struct page *page = buddy_alloc_pages(sys, gfp | __GFP_NOWARN, order);
			if (page)
				held[nr_held++] = (struct held){ page, order };
			else if (order <= 1)
				phase_failures++; /* high orders fail early from fragmentation alone */
		} else if (nr_held) {
			size_t i = (size_t)(next_rand(&s) % nr_held);
			CHECK_EQ(buddy_free_pages(sys, held[i].page, held[i].order), 0);
			held[i] = held[--nr_held];
		}
		if (r % 97 == 0)
			buddy_drain_local_pages(sys);
		if (r % 211 == 0) {
			static const int hb[][2] = { { 8, 2 }, { 64, 8 }, { 0, 0 }, { 4, 1 } };
			int k = (int)(next_rand(&s) % 4);
			CHECK_EQ(buddy_set_pcp_high_batch(sys, hb[k][0], hb[k][1]), 0);
		}
		for (int z = ZONE_DMA32; z <= ZONE_NORMAL; z++) {
			/* The incremental scope first: the zone walk empties the logs. */
			size_t n = buddy_check(sys, BUDDY_CHECK_TOUCHED, 0, (enum zone_type)z, op % 2 ? cpu : -1, &res);
			if (n && failures++ < 3) {
				fprintf(stderr, "  op %d zone %d (touched):\n", op, z);
				print_violations(&res);
			}
			if (op % 3)
				continue;
			n = buddy_check(sys, BUDDY_CHECK_ZONE, 0, (enum zone_type)z, 0, &res);
			if (n && failures++ < 3) {
				fprintf(stderr, "  op %d zone %d:\n", op, z);
				print_violations(&res);
			}
		}
		if (op % 53 == 0) {
			size_t n = buddy_check(sys, BUDDY_CHECK_PCP, 0, 0, cpu, &res);
			if (n && failures++ < 3) {
				fprintf(stderr, "  op %d pcp %d:\n", op, cpu);
				print_violations(&res);
			}
		}
		if (op % 500 == 499) {
			size_t n = buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, &res);
			if (n && failures++ < 3) {
				fprintf(stderr, "  op %d all:\n", op);
				print_violations(&res);
			}
		}
	}
	snprintf(where, sizeof(where), "random run max_order %u pageblock_order %u%s%s", cfg->max_order,
		 cfg->pageblock_order, cfg->hole ? " hole" : "", cfg->cma ? " cma" : "");
	CHECK(failures == 0, "%s: %zu checks failed", where, failures);
	time_checks(sys, where);
	check_all_scopes(sys, where);
	while (nr_held) {
		nr_held--;
		CHECK_EQ(buddy_free_pages(sys, held[nr_held].page, held[nr_held].order), 0);
	}
	buddy_drain_all_pages(sys);
	check_all_scopes(sys, where);
	/* Everything back: every present page is free again. */
	for (int z = ZONE_DMA32; z <= ZONE_NORMAL; z++) {
		struct zone *zone = zone_of(sys, (enum zone_type)z);
		long free = 0;
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			free += atomic_load_explicit(&zone->free_pages_mt[mt], memory_order_relaxed);
		CHECK_EQ(free, (long)zone->present_pages);
	}
	free(held);
	buddy_system_destroy(sys);
}

static void test_random_runs(void)
{
	test_section("random runs stay clean");
	static const struct config cfgs[] = {
		{ 10, 9, false, false },
		{ 5, 3, false, false },
		{ 10, 9, true, true },
		{ 5, 3, true, true },
		{ 6, 6, true, false },
	};
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		random_run(&cfgs[i], 0x9e3779b97f4a7c15ULL + i, 6000);
}

/* ---- concurrent checking ---- */
struct worker {
	struct buddy_system *sys;
	int cpu;
	uint64_t seed;
	int ops;
	_Atomic bool *stop;
	size_t violations;
};

static void *alloc_worker(void *arg)
{
	struct worker *w = arg;
	struct held held[256];
	size_t nr = 0;
	uint64_t s = w->seed;

	buddy_bind_cpu(w->sys, w->cpu);
	for (int op = 0; op < w->ops; op++) {
		if (nr < 256 && (nr == 0 || next_rand(&s) % 100 < 55)) {
			gfp_t gfp = run_gfps[next_rand(&s) % (sizeof(run_gfps) / sizeof(run_gfps[0]))];
			unsigned int order = random_order(&s, 10);
			struct page *page = buddy_alloc_pages(w->sys, gfp | __GFP_NOWARN, order);
			if (page)
				held[nr++] = (struct held){ page, order };
		} else {
			size_t i = (size_t)(next_rand(&s) % nr);
			if (buddy_free_pages(w->sys, held[i].page, held[i].order))
				w->violations++;
			held[i] = held[--nr];
		}
	}
	while (nr) {
		nr--;
		if (buddy_free_pages(w->sys, held[nr].page, held[nr].order))
			w->violations++;
	}
	return NULL;
}

static void *check_worker(void *arg)
{
	struct worker *w = arg;
	struct buddy_violation v[8];
	struct buddy_check_result res = { .capacity = 8, .v = v };
	int round = 0;

	while (!atomic_load(w->stop)) {
		size_t n = buddy_check(w->sys, BUDDY_CHECK_ZONE, 0, (enum zone_type)(ZONE_DMA32 + round % 2), 0, &res);
		n += buddy_check(w->sys, BUDDY_CHECK_PCP, 0, 0, round % 2, &res);
		if (n && w->violations < 3)
			print_violations(&res);
		w->violations += n;
		round++;
	}
	return NULL;
}

static void test_concurrent(void)
{
	test_section("checking while two CPUs allocate");
	struct config cfg = { 10, 9, false, false };
	struct buddy_system *sys = make_system(&cfg);
	_Atomic bool stop = false;
	struct worker a = { sys, 0, 0x1234567ULL, 20000, &stop, 0 }, b = { sys, 1, 0x7654321ULL, 20000, &stop, 0 };
	struct worker checker = { sys, 0, 0, 0, &stop, 0 };
	pthread_t ta, tb, tc;

	CHECK_EQ(pthread_create(&tc, NULL, check_worker, &checker), 0);
	CHECK_EQ(pthread_create(&ta, NULL, alloc_worker, &a), 0);
	CHECK_EQ(pthread_create(&tb, NULL, alloc_worker, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	atomic_store(&stop, true);
	pthread_join(tc, NULL);
	CHECK_EQ(a.violations + b.violations, 0);
	CHECK(checker.violations == 0, "%zu violations seen while running", checker.violations);
	buddy_drain_all_pages(sys);
	check_all_scopes(sys, "after the concurrent run");
	buddy_system_destroy(sys);
}

/* ---- the names and the format ---- */
static void test_names(void)
{
	test_section("invariant names");
	const struct buddy_invariant *list = NULL;
	size_t n = buddy_invariants(&list);

	CHECK(n > 0 && n <= 64 && list != NULL);
	CHECK_EQ(buddy_invariants(NULL), n);
	for (size_t i = 0; i < n; i++) {
		const char *name = list[i].name;
		bool kebab = name && name[0] >= 'a' && name[0] <= 'z';
		for (const char *p = name; kebab && *p; p++)
			kebab = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (*p == '-' && p[1] && p[1] != '-');
		CHECK(kebab, "name %zu '%s' is not kebab-case", i, name ? name : "(null)");
		CHECK(list[i].meaning && strlen(list[i].meaning) > 10 && !strchr(list[i].meaning, '\n'),
		      "%s has no one-line meaning", name);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(list[j].name, name) != 0, "%s listed twice", name);
	}
	/* The names the brief fixes. */
	static const char *const required[] = {
		"list-corrupt", "block-misaligned", "block-outside-zone", "block-bad-order", "buddy-flags",
		"buddy-unmerged", "freelist-mt-mismatch", "nr-free-mismatch", "free-count-mismatch",
		"page-double-listed", "pcp-count-mismatch", "pcp-flags", "pcp-over-high", "page-conservation",
		"highatomic-count", "cma-count", "zone-mismatch", "allocated-count-mismatch",
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		CHECK(invariant_index(required[i]) >= 0, "%s missing", required[i]);
}

static void test_format(void)
{
	test_section("violation format");
	struct buddy_violation v = { .name = "buddy-unmerged", .nid = 0, .zone = ZONE_NORMAL, .cpu = -1,
				     .pfn = 0x12400, .order = 3 };
	char buf[256];

	snprintf(v.message, sizeof(v.message), "buddy 0x12408 is free at the same order");
	buddy_violation_format(&v, buf, sizeof(buf));
	CHECK(!strcmp(buf, "buddy-unmerged node 0 zone Normal pfn 0x12400 order 3: buddy 0x12408 is free at the same order"),
	      "got '%s'", buf);

	struct buddy_violation w = { .name = "pcp-over-high", .nid = 1, .zone = ZONE_DMA32, .cpu = 2,
				     .pfn = UINT64_MAX, .order = -1 };
	snprintf(w.message, sizeof(w.message), "count 9 is above 8");
	buddy_violation_format(&w, buf, sizeof(buf));
	CHECK(!strcmp(buf, "pcp-over-high node 1 zone DMA32 cpu 2: count 9 is above 8"), "got '%s'", buf);

	/* Truncation is safe and terminated. */
	char small[12];
	buddy_violation_format(&v, small, sizeof(small));
	CHECK(strlen(small) == sizeof(small) - 1 && !strncmp(small, "buddy-unmer", 11), "got '%s'", small);
	buddy_violation_format(&v, small, 0);
}

static void test_result_handling(void)
{
	test_section("result handling");
	struct config cfg = { 10, 9, false, false };
	struct buddy_system *sys = make_system(&cfg);
	struct zone *zone = zone_of(sys, ZONE_NORMAL);

	/* Several violations at once: count all, record up to capacity. */
	for (unsigned int o = 0; o <= 10; o++)
		zone->free_area[o].nr_free += 1;
	CHECK_EQ(buddy_check(sys, BUDDY_CHECK_ZONE, 0, ZONE_NORMAL, 0, NULL), 11);
	struct buddy_violation v[3];
	struct buddy_check_result res = { .capacity = 3, .v = v, .count = 99 };
	CHECK_EQ(buddy_check(sys, BUDDY_CHECK_ZONE, 0, ZONE_NORMAL, 0, &res), 11);
	CHECK_EQ(res.count, 11);
	for (int i = 0; i < 3; i++)
		CHECK(!strcmp(v[i].name, "nr-free-mismatch") && v[i].nid == 0 && v[i].zone == ZONE_NORMAL &&
		      v[i].cpu == -1 && v[i].order == i);
	struct buddy_check_result none = { .capacity = 0, .v = NULL };
	CHECK_EQ(buddy_check(sys, BUDDY_CHECK_ZONE, 0, ZONE_NORMAL, 0, &none), 11);
	CHECK_EQ(none.count, 11);
	/* Bad arguments check nothing. */
	CHECK_EQ(buddy_check(sys, BUDDY_CHECK_ZONE, 5, ZONE_NORMAL, 0, NULL), 0);
	CHECK_EQ(buddy_check(sys, BUDDY_CHECK_PCP, 0, 0, 7, NULL), 0);
	CHECK_EQ(buddy_check(NULL, BUDDY_CHECK_ALL, 0, 0, 0, NULL), 0);
	for (unsigned int o = 0; o <= 10; o++)
		zone->free_area[o].nr_free -= 1;
	CHECK_EQ(buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, NULL), 0);
	buddy_system_destroy(sys);
}

/* ---- corruption helpers ---- */
struct fixture {
	struct buddy_system *sys;
	struct zone *zone;                 /* Normal */
	struct page *small[16];            /* order-0 allocations still held */
	struct page *mid;                  /* an order-2 block held */
	struct page *comp;                 /* an order-2 compound block held */
	struct page *big;                  /* an order-4 movable block held */
};

/* A system with something in every state: allocated blocks, pcp pages on
 * CPU 0, free blocks of many orders. */
static void setup(struct fixture *f, const struct config *cfg)
{
	struct page *tmp[16];

	memset(f, 0, sizeof(*f));
	f->sys = make_system(cfg);
	f->zone = zone_of(f->sys, ZONE_NORMAL);
	buddy_bind_cpu(f->sys, 0);
	for (int i = 0; i < 16; i++)
		f->small[i] = buddy_alloc_pages(f->sys, GFP_KERNEL, 0);
	for (int i = 0; i < 16; i++)
		tmp[i] = buddy_alloc_pages(f->sys, GFP_KERNEL, 0);
	f->mid = buddy_alloc_pages(f->sys, GFP_KERNEL, 2);
	f->comp = buddy_alloc_pages(f->sys, GFP_KERNEL | __GFP_COMP, 2);
	f->big = buddy_alloc_pages(f->sys, GFP_HIGHUSER_MOVABLE, 4);
	for (int i = 0; i < 16; i += 2)
		buddy_free_pages(f->sys, tmp[i], 0);
	CHECK(f->small[15] && f->mid && f->comp && f->big, "setup allocations failed");
	CHECK(f->zone->pcp[0].count > 0, "nothing on cpu 0's pcp");
	check_all_scopes(f->sys, "fixture");
}

static void teardown(struct fixture *f)
{
	buddy_system_destroy(f->sys);
}

static uint64_t pfn_of(struct fixture *f, struct page *p)
{
	return page_to_pfn(f->sys, p);
}

/* A free block of exactly order o on some list of zone; NULL if none. */
static struct page *find_free(struct zone *zone, unsigned int o, int *mt)
{
	for (int t = 0; t < MIGRATE_TYPES; t++) {
		struct list_head *h = &zone->free_area[o].free_list[t];
		if (!list_empty(h)) {
			*mt = t;
			return container_of(h->next, struct page, lru);
		}
	}
	return NULL;
}

/* A free list of zone with at least two blocks. */
static struct list_head *find_long_list(struct zone *zone, unsigned int max_order)
{
	for (unsigned int o = 0; o <= max_order; o++)
		for (int t = 0; t < MIGRATE_TYPES; t++) {
			struct list_head *h = &zone->free_area[o].free_list[t];
			if (!list_empty(h) && h->next->next != h)
				return h;
		}
	return NULL;
}

static struct page *pcp_page(struct fixture *f, int *pindex)
{
	struct per_cpu_pages *pcp = &f->zone->pcp[0];

	for (int i = 0; i < NR_PCP_LISTS; i++)
		if (!list_empty(&pcp->lists[i])) {
			*pindex = i;
			return container_of(pcp->lists[i].next, struct page, lru);
		}
	return NULL;
}

/* Take a free block off its list with every counter adjusted. */
static void take_free(struct zone *zone, struct page *page, unsigned int o, int mt)
{
	__del_from_free_list(zone, page, o, mt);
	account_freepages(zone, -(1L << o), mt);
}

static void put_free(struct zone *zone, struct page *page, unsigned int o, int mt)
{
	__add_to_free_list(zone, page, o, mt, false);
	account_freepages(zone, 1L << o, mt);
}

/* Put a block on cpu's pcp with every counter adjusted. */
static void put_pcp(struct zone *zone, int cpu, struct page *page, unsigned int o, int mt, bool count)
{
	struct per_cpu_pages *pcp = &zone->pcp[cpu];
	int pindex = order_to_pindex(zone->sys, mt, o);

	list_add(&page->lru, &pcp->lists[pindex]);
	set_page_flag(page, PG_pcp);
	page->order = (uint8_t)o;
	page->pcp_mt = (uint8_t)mt;
	page->pcp_cpu = (uint16_t)cpu;
	if (count) {
		pcp->list_pages[pindex] += 1 << o;
		pcp->count += 1 << o;
		mod_zone_page_state(zone, NR_ZONE_PCP, 1L << o);
	}
}

static void set_pb(struct buddy_system *sys, uint64_t pfn, int mt)
{
	atomic_store(&sys->pageblock_flags[pfn >> sys->pageblock_order], (uint8_t)mt);
}

static const struct config base_cfg = { 10, 9, false, false };
#define PB 512 /* its pageblock_nr_pages */

/* ---- corruptions, one per invariant ---- */
static void test_list_corruption(void)
{
	struct fixture f;
	struct buddy_violation v[64];
	struct buddy_check_result res = { .capacity = 64, .v = v };

	test_section("list-corrupt: a cycle that skips the head");
	setup(&f, &base_cfg);
	struct list_head *h = find_long_list(f.zone, 10);
	CHECK(h != NULL);
	if (h) {
		h->next->next->next = h->next;
		expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "list-corrupt");
		expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "list-corrupt");
	}
	teardown(&f);

	test_section("list-corrupt: a cycle on a pcp list");
	setup(&f, &base_cfg);
	{
		int pindex = 0;
		struct page *p = pcp_page(&f, &pindex);
		CHECK(p != NULL);
		if (p) {
			p->lru.next = &p->lru;
			expect(f.sys, BUDDY_CHECK_PCP, 0, 0, "list-corrupt");
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "list-corrupt");
		}
	}
	teardown(&f);

	test_section("list-corrupt: a broken prev");
	setup(&f, &base_cfg);
	h = find_long_list(f.zone, 10);
	if (h) {
		h->next->next->prev = h;
		expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "list-corrupt");
		/* The forward links are sound, so the counts still add up. */
		size_t n = buddy_check(f.sys, BUDDY_CHECK_ZONE, 0, ZONE_NORMAL, 0, &res);
		for (size_t i = 0; i < n && i < res.capacity; i++)
			CHECK(!strcmp(v[i].name, "list-corrupt"), "also %s", v[i].name);
	}
	teardown(&f);

	test_section("list-corrupt: pointers that must not be followed");
	setup(&f, &base_cfg);
	h = find_long_list(f.zone, 10);
	if (h) {
		struct list_head *saved = h->next->next;
		struct list_head outside;
		/* Inside the mem_map, but not at a record boundary. */
		h->next->next = (struct list_head *)((char *)f.sys->mem_map + 8);
		expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "list-corrupt");
		/* Not a page record at all. */
		h->next->next = &outside;
		expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "list-corrupt");
		/* NULL, as list_del leaves it. */
		h->next->next = NULL;
		expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "list-corrupt");
		/* A real page record that is on no list: its links are NULL. */
		h->next->next = &f.mid->lru;
		expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "list-corrupt");
		/* Another list's head. */
		h->next->next = &f.zone->free_area[0].free_list[MIGRATE_CMA];
		expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "list-corrupt");
		h->next->next = saved;
		expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "links restored");
	}
	teardown(&f);
}

static void test_block_corruption(void)
{
	struct fixture f;
	int mt;

	test_section("block-misaligned");
	setup(&f, &base_cfg);
	{
		struct page *p = __rmqueue_smallest(f.zone, 1, MIGRATE_MOVABLE);
		CHECK(p != NULL);
		if (p) {
			put_free(f.zone, p + 1, 1, MIGRATE_MOVABLE);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "block-misaligned");
		}
	}
	teardown(&f);

	test_section("block-outside-zone: a free block in a hole");
	struct config hole_cfg = { 10, 9, true, false };
	setup(&f, &hole_cfg);
	{
		struct zone *dma32 = zone_of(f.sys, ZONE_DMA32);
		struct page *p = pfn_to_page(f.sys, HOLE_START + 1);
		put_free(dma32, p, 0, MIGRATE_MOVABLE);
		expect(f.sys, BUDDY_CHECK_ZONE, ZONE_DMA32, 0, "block-outside-zone");
	}
	teardown(&f);

	test_section("block-outside-zone: a free block reaching past the hole edge");
	setup(&f, &hole_cfg);
	{
		/* The block just below the hole, made one order larger. */
		struct zone *dma32 = zone_of(f.sys, ZONE_DMA32);
		uint64_t pfn = HOLE_START - 1;
		struct page *p = pfn_to_page(f.sys, pfn);
		CHECK(page_flag(p, PG_buddy) && p->order == 0, "pfn %llu: no order-0 free block below the hole",
		      (unsigned long long)pfn);
		if (page_flag(p, PG_buddy) && p->order == 0) {
			int pmt = get_pfnblock_migratetype(f.sys, pfn);
			take_free(dma32, p, 0, pmt);
			put_free(dma32, p, 1, pmt);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_DMA32, 0, "block-outside-zone");
		}
	}
	teardown(&f);

	test_section("block-outside-zone: a DMA32 page on a Normal list");
	setup(&f, &base_cfg);
	{
		struct zone *dma32 = zone_of(f.sys, ZONE_DMA32);
		struct page *p = find_free(dma32, 10, &mt);
		if (p) {
			take_free(dma32, p, 10, mt);
			put_free(f.zone, p, 10, mt);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "block-outside-zone");
		}
	}
	teardown(&f);

	test_section("block-bad-order: a free block above MAX_PAGE_ORDER");
	struct config small_cfg = { 5, 3, false, false };
	setup(&f, &small_cfg);
	{
		struct page *p = find_free(f.zone, 5, &mt);
		CHECK(p != NULL);
		if (p) {
			take_free(f.zone, p, 5, mt);
			put_free(f.zone, p, 6, mt);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "block-bad-order");
		}
	}
	teardown(&f);

	test_section("block-bad-order: a pcp block of an order the pcp cannot hold");
	setup(&f, &base_cfg);
	{
		int pindex = 0;
		struct page *p = pcp_page(&f, &pindex);
		if (p) {
			p->order = 5;
			expect(f.sys, BUDDY_CHECK_PCP, 0, 0, "block-bad-order");
		}
	}
	teardown(&f);

	test_section("block-bad-order: an allocated block above MAX_PAGE_ORDER");
	setup(&f, &small_cfg);
	f.mid->order = 7;
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "block-bad-order");
	teardown(&f);

	test_section("zone-mismatch: a free head that names another zone");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 3, &mt);
		if (!p)
			p = find_free(f.zone, 10, &mt);
		if (p) {
			p->zid = ZONE_DMA32;
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "zone-mismatch");
		}
	}
	teardown(&f);

	test_section("zone-mismatch: a tail page (page walk)");
	setup(&f, &base_cfg);
	f.big[3].nid = 1;
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "zone-mismatch");
	teardown(&f);
}

static void test_buddy_flags(void)
{
	struct fixture f;
	int mt;

	test_section("buddy-flags: PG_buddy cleared on a free head");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		CHECK(p != NULL);
		if (p) {
			clear_page_flag(p, PG_buddy);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "buddy-flags");
		}
	}
	teardown(&f);

	test_section("buddy-flags: a free head records another order");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		if (p) {
			p->order = 9;
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "buddy-flags");
		}
	}
	teardown(&f);

	test_section("buddy-flags: an owner flag left on a free head");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		if (p) {
			set_page_flag(p, PG_mapped_file);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "buddy-flags");
		}
	}
	teardown(&f);

	test_section("buddy-flags: a free head also allocated");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		if (p) {
			set_page_flag(p, PG_allocated);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "buddy-flags");
		}
	}
	teardown(&f);
}

static void test_merge_and_types(void)
{
	struct fixture f;
	int mt;

	test_section("buddy-unmerged: two free halves");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 3, &mt);
		unsigned int o = 3;
		if (!p) {
			p = find_free(f.zone, 10, &mt);
			o = 10;
		}
		CHECK(p != NULL);
		if (p) {
			/* Consistent counters: only the merge is missing. */
			__del_from_free_list(f.zone, p, o, mt);
			__add_to_free_list(f.zone, p, o - 1, mt, false);
			__add_to_free_list(f.zone, p + (1 << (o - 1)), o - 1, mt, false);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "buddy-unmerged");
			struct buddy_violation v[8];
			struct buddy_check_result res = { .capacity = 8, .v = v };
			CHECK_EQ(buddy_check(f.sys, BUDDY_CHECK_ZONE, 0, ZONE_NORMAL, 0, &res), 1);
			CHECK_EQ(v[0].pfn, pfn_of(&f, p));
			CHECK_EQ(v[0].order, (int)o - 1);
		}
	}
	teardown(&f);

	test_section("buddy-unmerged: ordinary types merge at pageblock order");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		if (p && mt == MIGRATE_MOVABLE) {
			__del_from_free_list(f.zone, p, 10, mt);
			__add_to_free_list(f.zone, p, 9, MIGRATE_MOVABLE, false);
			set_pb(f.sys, pfn_of(&f, p) + 512, MIGRATE_UNMOVABLE);
			__add_to_free_list(f.zone, p + 512, 9, MIGRATE_UNMOVABLE, false);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "buddy-unmerged");
		}
	}
	teardown(&f);

	test_section("buddy-unmerged: ISOLATE next to MOVABLE is not a missed merge");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		CHECK(p && mt == MIGRATE_MOVABLE);
		if (p && mt == MIGRATE_MOVABLE) {
			__del_from_free_list(f.zone, p, 10, mt);
			__add_to_free_list(f.zone, p, 9, MIGRATE_MOVABLE, false);
			set_pb(f.sys, pfn_of(&f, p) + 512, MIGRATE_ISOLATE);
			__add_to_free_list(f.zone, p + 512, 9, MIGRATE_ISOLATE, false);
			account_freepages(f.zone, -512, MIGRATE_MOVABLE);
			expect_clean(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, "isolate half");
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "isolate half");
		}
	}
	teardown(&f);

	test_section("buddy-unmerged: a released HIGHATOMIC pageblock stays apart from its free buddy");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		CHECK(p && mt == MIGRATE_MOVABLE);
		if (p && mt == MIGRATE_MOVABLE) {
			/* Two free halves that could not merge: the upper one a
			 * HIGHATOMIC reserve. */
			__del_from_free_list(f.zone, p, 10, mt);
			__add_to_free_list(f.zone, p, 9, MIGRATE_MOVABLE, false);
			set_pb(f.sys, pfn_of(&f, p) + 512, MIGRATE_HIGHATOMIC);
			__add_to_free_list(f.zone, p + 512, 9, MIGRATE_HIGHATOMIC, false);
			account_freepages(f.zone, -512, MIGRATE_MOVABLE);
			account_freepages(f.zone, 512, MIGRATE_HIGHATOMIC);
			atomic_store_explicit(&f.zone->nr_reserved_highatomic, 512, memory_order_relaxed);
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "reserved half");
			/* unreserve_highatomic_pageblock retypes it in place, as
			 * the kernel does: the halves stay free side by side. */
			struct zone *z = f.zone;
			CHECK(unreserve_highatomic_pageblock(f.sys, &z, 1, MIGRATE_MOVABLE, true));
			expect_clean(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, "released half");
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "released half");
		}
	}
	teardown(&f);

	test_section("freelist-mt-mismatch: moved with its counters");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		if (p && mt == MIGRATE_MOVABLE) {
			__del_from_free_list(f.zone, p, 10, MIGRATE_MOVABLE);
			__add_to_free_list(f.zone, p, 10, MIGRATE_UNMOVABLE, false);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "freelist-mt-mismatch");
		}
	}
	teardown(&f);

	test_section("freelist-mt-mismatch: a free block over pageblocks of two types");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		if (p) {
			set_pb(f.sys, pfn_of(&f, p) + 512, MIGRATE_RECLAIMABLE);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "freelist-mt-mismatch");
		}
	}
	teardown(&f);

	test_section("nr-free-mismatch: moved without its counters");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		if (p) {
			list_del(&p->lru);
			list_add(&p->lru, &f.zone->free_area[10].free_list[MIGRATE_UNMOVABLE]);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "nr-free-mismatch");
		}
	}
	teardown(&f);

	test_section("nr-free-mismatch: nr_free bumped");
	setup(&f, &base_cfg);
	f.zone->free_area[2].nr_free++;
	expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "nr-free-mismatch");
	teardown(&f);

	test_section("free-count-mismatch: NR_FREE_PAGES bumped");
	setup(&f, &base_cfg);
	mod_zone_page_state(f.zone, NR_FREE_PAGES, 1);
	expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "free-count-mismatch");
	teardown(&f);

	test_section("free-count-mismatch: free_pages_mt, CMA and HIGHATOMIC counters");
	setup(&f, &base_cfg);
	atomic_fetch_add(&f.zone->free_pages_mt[MIGRATE_RECLAIMABLE], 4);
	expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "free-count-mismatch");
	atomic_fetch_sub(&f.zone->free_pages_mt[MIGRATE_RECLAIMABLE], 4);
	mod_zone_page_state(f.zone, NR_FREE_CMA_PAGES, 1);
	expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "free-count-mismatch");
	mod_zone_page_state(f.zone, NR_FREE_CMA_PAGES, -1);
	atomic_fetch_add(&f.zone->nr_free_highatomic, 1);
	expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "free-count-mismatch");
	atomic_fetch_sub(&f.zone->nr_free_highatomic, 1);
	expect_clean(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, "counters restored");
	teardown(&f);
}

static void test_double_listing(void)
{
	struct fixture f;

	test_section("page-double-listed: overlapping free blocks");
	setup(&f, &base_cfg);
	{
		struct page *p = __rmqueue_smallest(f.zone, 1, MIGRATE_MOVABLE);
		CHECK(p != NULL);
		if (p) {
			put_free(f.zone, p, 1, MIGRATE_MOVABLE);
			put_free(f.zone, p + 1, 0, MIGRATE_MOVABLE);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "page-double-listed");
		}
	}
	teardown(&f);

	test_section("page-double-listed: a free block overlapping a pcp block");
	setup(&f, &base_cfg);
	{
		struct page *p = __rmqueue_smallest(f.zone, 1, MIGRATE_MOVABLE);
		if (p) {
			put_pcp(f.zone, 1, p, 1, MIGRATE_MOVABLE, true);
			put_free(f.zone, p + 1, 0, MIGRATE_MOVABLE);
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "page-double-listed");
		}
	}
	teardown(&f);

	test_section("page-double-listed: an allocated head inside another allocated block (page walk)");
	setup(&f, &base_cfg);
	{
		set_page_flag(f.big + 5, PG_allocated);
		f.big[5].order = 0;
		f.big[5].refcount = 1;
		expect_clean(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, "the zone scope cannot see it");
		expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "page-double-listed");
	}
	teardown(&f);

	test_section("page-double-listed: a free tail marked allocated (page walk)");
	setup(&f, &base_cfg);
	{
		int mt;
		struct page *p = find_free(f.zone, 10, &mt);
		if (p) {
			set_page_flag(p + 100, PG_allocated);
			p[100].order = 0;
			p[100].refcount = 1;
			mod_zone_page_state(f.zone, NR_ZONE_ALLOCATED, 1);
			expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "page-double-listed");
		}
	}
	teardown(&f);
}

static void test_pcp_corruption(void)
{
	struct fixture f;
	int pindex = 0;

	test_section("pcp-count-mismatch: a page on a pcp list without counting");
	setup(&f, &base_cfg);
	{
		struct page *p = __rmqueue_smallest(f.zone, 0, MIGRATE_MOVABLE);
		if (p) {
			put_pcp(f.zone, 0, p, 0, MIGRATE_MOVABLE, false);
			expect(f.sys, BUDDY_CHECK_PCP, 0, 0, "pcp-count-mismatch");
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "pcp-count-mismatch");
		}
	}
	teardown(&f);

	test_section("pcp-count-mismatch: list_pages, count and NR_ZONE_PCP");
	setup(&f, &base_cfg);
	{
		struct per_cpu_pages *pcp = &f.zone->pcp[0];
		pcp_page(&f, &pindex);
		pcp->list_pages[pindex]++;
		expect(f.sys, BUDDY_CHECK_PCP, 0, 0, "pcp-count-mismatch");
		pcp->list_pages[pindex]--;
		pcp->count--;
		expect(f.sys, BUDDY_CHECK_PCP, 0, 0, "pcp-count-mismatch");
		pcp->count++;
		mod_zone_page_state(f.zone, NR_ZONE_PCP, 1);
		expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "pcp-count-mismatch");
		mod_zone_page_state(f.zone, NR_ZONE_PCP, -1);
		expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "pcp counters restored");
	}
	teardown(&f);

	test_section("pcp-flags");
	setup(&f, &base_cfg);
	{
		struct page *p = pcp_page(&f, &pindex);
		CHECK(p != NULL);
		if (p) {
			clear_page_flag(p, PG_pcp);
			expect(f.sys, BUDDY_CHECK_PCP, 0, 0, "pcp-flags");
			set_page_flag(p, PG_pcp);
			p->pcp_cpu = 1;
			expect(f.sys, BUDDY_CHECK_PCP, 0, 0, "pcp-flags");
			p->pcp_cpu = 0;
			uint8_t saved = p->pcp_mt;
			p->pcp_mt = (uint8_t)((saved + 1) % MIGRATE_PCPTYPES);
			expect(f.sys, BUDDY_CHECK_PCP, 0, 0, "pcp-flags");
			p->pcp_mt = MIGRATE_CMA;
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "pcp-flags");
			p->pcp_mt = saved;
			set_page_flag(p, PG_buddy);
			expect(f.sys, BUDDY_CHECK_PCP, 0, 0, "pcp-flags");
			clear_page_flag(p, PG_buddy);
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "pcp page restored");
		}
	}
	teardown(&f);

	test_section("pcp-flags: a HIGHATOMIC page rides the movable list");
	setup(&f, &base_cfg);
	{
		/* Free into a HIGHATOMIC pageblock: the page goes to the
		 * MOVABLE list with MOVABLE cached, and that is clean. */
		struct page *p = f.small[0];
		uint64_t pfn = pfn_of(&f, p);
		int old = get_pfnblock_migratetype(f.sys, pfn);
		CHECK_EQ(buddy_free_pages(f.sys, p, 0), 0);
		CHECK(page_flag(p, PG_pcp), "order-0 free did not reach the pcp");
		if (page_flag(p, PG_pcp)) {
			/* Retype the block as reserve_highatomic_pageblock does. */
			move_freepages_block(f.zone, pfn, old, MIGRATE_HIGHATOMIC);
			atomic_fetch_add(&f.zone->nr_reserved_highatomic, f.sys->pageblock_nr_pages);
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "highatomic block with a pcp page");
		}
	}
	teardown(&f);

	test_section("pcp-over-high");
	setup(&f, &base_cfg);
	{
		struct per_cpu_pages *pcp = &f.zone->pcp[0];
		long target = 4L * (pcp->high_max > pcp->high ? pcp->high_max : pcp->high) + 2048;
		struct page *p;
		while (pcp->count <= target && (p = __rmqueue_smallest(f.zone, 3, MIGRATE_MOVABLE)))
			put_pcp(f.zone, 0, p, 3, MIGRATE_MOVABLE, true);
		CHECK(pcp->count > target, "could only put %d pages on the pcp", pcp->count);
		expect(f.sys, BUDDY_CHECK_PCP, 0, 0, "pcp-over-high");
	}
	teardown(&f);

	test_section("pcp-over-high: a user high is honoured, not flagged");
	setup(&f, &base_cfg);
	{
		CHECK_EQ(buddy_set_pcp_high_batch(f.sys, 4, 1), 0);
		for (int i = 0; i < 16; i++)
			buddy_free_pages(f.sys, f.small[i], 0);
		expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "high 4");
		CHECK(f.zone->pcp[0].count < 4, "count %d", f.zone->pcp[0].count);
		CHECK_EQ(buddy_set_pcp_high_batch(f.sys, 0, 0), 0);
		expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "automatic high again");
	}
	teardown(&f);
}

static void test_zone_counters(void)
{
	struct fixture f;

	test_section("page-conservation: a leaked allocated count");
	setup(&f, &base_cfg);
	mod_zone_page_state(f.zone, NR_ZONE_ALLOCATED, 1);
	expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "page-conservation");
	teardown(&f);

	test_section("page-conservation: offline pages must leave present_pages");
	setup(&f, &base_cfg);
	mod_zone_page_state(f.zone, NR_ZONE_OFFLINE, 1);
	expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "page-conservation");
	teardown(&f);

	test_section("allocated-count-mismatch");
	setup(&f, &base_cfg);
	mod_zone_page_state(f.zone, NR_ZONE_ALLOCATED, -4);
	mod_zone_page_state(f.zone, NR_ZONE_ISOLATED, 4); /* conservation still holds */
	expect_clean(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, "the zone scope cannot see it");
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "allocated-count-mismatch");
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "isolated-free-count");
	teardown(&f);

	test_section("held-count-mismatch: quarantined");
	setup(&f, &base_cfg);
	mod_zone_page_state(f.zone, NR_ZONE_QUARANTINED, 1);
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "held-count-mismatch");
	teardown(&f);

	test_section("held pages that are accounted are clean");
	setup(&f, &base_cfg);
	{
		/* The order-2 block quarantined. */
		uint32_t fl = page_flags(f.mid);
		page_flags_store(f.mid, (fl & ~PAGE_FLAG(PG_allocated)) | PAGE_FLAG(PG_quarantined));
		mod_zone_page_state(f.zone, NR_ZONE_ALLOCATED, -4);
		mod_zone_page_state(f.zone, NR_ZONE_QUARANTINED, 4);
		/* A free pageblock offlined: offline_pages takes whole
		 * pageblocks, which stay ISOLATE, and they leave present_pages. */
		int mt;
		struct page *p = find_free(f.zone, 10, &mt);
		CHECK(p != NULL);
		if (p)
			CHECK_EQ(buddy_offline_pages(f.sys, pfn_of(&f, p), PB), 0);
		/* One page held by the compaction free scanner. */
		page_flags_store(f.small[2], PAGE_FLAG(PG_present) | PAGE_FLAG(PG_isolated));
		f.small[2]->order = 0;
		mod_zone_page_state(f.zone, NR_ZONE_ALLOCATED, -1);
		mod_zone_page_state(f.zone, NR_ZONE_ISOLATED, 1);
		/* One page poisoned and kept out. */
		page_flags_store(f.small[3], PAGE_FLAG(PG_present) | PAGE_FLAG(PG_hwpoison));
		mod_zone_page_state(f.zone, NR_ZONE_ALLOCATED, -1);
		mod_zone_page_state(f.zone, NR_ZONE_HWPOISON, 1);
		/* A poisoned page inside an allocated block stays with it,
		 * counted in poisoned_in_use for the free that keeps it out
		 * (memory_failure of an in-use page); an allocated block
		 * isolated by a migration stays allocated. */
		CHECK_EQ(buddy_memory_failure(f.sys, pfn_of(&f, f.big) + 3), 0);
		CHECK(page_flag(f.big + 3, PG_hwpoison));
		set_page_flag(f.big, PG_isolated);
		expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "quarantined, offline, isolated, poisoned");
		/* A second offline page whose counters were not moved. */
		page_flags_store(f.small[4], PAGE_FLAG(PG_present) | PAGE_FLAG(PG_offline));
		expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "held-count-mismatch");
		expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "present-mismatch");
	}
	teardown(&f);

	test_section("highatomic-count: retyped without the counter");
	setup(&f, &base_cfg);
	{
		/* The pageblock of the held blocks: it has few free pages. */
		set_pb(f.sys, pfn_of(&f, f.big), MIGRATE_HIGHATOMIC);
		expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "highatomic-count");
	}
	teardown(&f);

	test_section("highatomic-count: a reserve counted but not retyped");
	setup(&f, &base_cfg);
	atomic_fetch_add(&f.zone->nr_reserved_highatomic, f.sys->pageblock_nr_pages);
	expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "highatomic-count");
	teardown(&f);

	test_section("cma-count");
	struct config cma_cfg = { 10, 9, false, true };
	setup(&f, &cma_cfg);
	{
		expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "cma area");
		f.zone->cma_pages += f.sys->pageblock_nr_pages;
		expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "cma-count");
		f.zone->cma_pages -= f.sys->pageblock_nr_pages;
		/* Isolating a CMA pageblock keeps it counted. */
		move_freepages_block(f.zone, CMA_START, MIGRATE_CMA, MIGRATE_ISOLATE);
		expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "isolated cma pageblock");
	}
	teardown(&f);
}

static void test_page_walk(void)
{
	struct fixture f;
	int mt;

	test_section("page-unaccounted: a free block dropped with its counters");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		if (p) {
			take_free(f.zone, p, 10, mt);
			expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "page-unaccounted");
		}
	}
	teardown(&f);

	test_section("stray-flags: PG_buddy on a tail of an allocated block");
	setup(&f, &base_cfg);
	set_page_flag(f.mid + 1, PG_buddy);
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "stray-flags");
	expect_clean(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, "the zone scope reads no tails");
	teardown(&f);

	test_section("stray-flags: an owner flag on a tail");
	setup(&f, &base_cfg);
	set_page_flag(f.big + 2, PG_lru);
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "stray-flags");
	teardown(&f);

	test_section("stray-flags: a poisoned page inside a free block");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		if (p) {
			set_page_flag(p + 9, PG_hwpoison);
			expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "stray-flags");
		}
	}
	teardown(&f);

	test_section("stray-flags: a state flag on a hole");
	struct config hole_cfg = { 10, 9, true, false };
	setup(&f, &hole_cfg);
	set_page_flag(pfn_to_page(f.sys, HOLE_START + 3), PG_pcp);
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "stray-flags");
	teardown(&f);

	test_section("compound-tail");
	setup(&f, &base_cfg);
	clear_page_flag(f.comp + 1, PG_tail);
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "compound-tail");
	set_page_flag(f.comp + 1, PG_tail);
	f.comp[2].head_offset = 1;
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "compound-tail");
	f.comp[2].head_offset = 2;
	set_page_flag(f.mid + 2, PG_tail);
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "compound-tail");
	clear_page_flag(f.mid + 2, PG_tail);
	expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "compound restored");
	teardown(&f);

	test_section("alloc-refcount");
	setup(&f, &base_cfg);
	f.mid->refcount = 0;
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "alloc-refcount");
	teardown(&f);

	test_section("present-mismatch");
	setup(&f, &base_cfg);
	{
		struct page *p = find_free(f.zone, 10, &mt);
		if (p) {
			clear_page_flag(p + 7, PG_present);
			expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "present-mismatch");
		}
	}
	teardown(&f);

	test_section("block-misaligned: an allocated head (page walk)");
	setup(&f, &base_cfg);
	{
		/* Shift the held order-2 block's head by one page. */
		struct page *p = f.mid;
		uint32_t fl = page_flags(p);
		page_flags_store(p, fl & ~PAGE_FLAG(PG_allocated));
		page_flags_store(p + 1, page_flags(p + 1) | PAGE_FLAG(PG_allocated));
		p[1].order = 2;
		p[1].refcount = 1;
		expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "block-misaligned");
	}
	teardown(&f);
}

/* ---- the slow path's states ---- */
/* An owner: a table of its blocks under its own lock, which its callbacks
 * and its own frees take (the contract of owner.c).  Each callback can run
 * the full check from inside, where the slow path's transient states live:
 * a migration's locked source and its target, compaction's held free
 * blocks, a reclaim batch isolated, the OOM reaper's pinned victim. */
#define OWNER_SLOTS 16384

struct owner {
	struct buddy_mapping map;
	struct buddy_system *sys;
	pthread_mutex_t lock;
	struct page **pages;
	size_t nr;
	bool refuse;               /* every callback keeps its block */
	int check_in_callback;     /* full checks still to run from callbacks */
	size_t checked, violations;
	char first[320];
	bool saw_locked_source, saw_held_free, saw_isolated_batch, saw_pinned_victim;
	size_t migrated, reclaimed, released;
};

static void owner_check(struct owner *o, struct page *page)
{
	struct buddy_violation v[4];
	struct buddy_check_result res = { .capacity = 4, .v = v };

	if (o->check_in_callback <= 0)
		return;
	o->check_in_callback--;
	o->checked++;
	size_t n = buddy_check(o->sys, BUDDY_CHECK_ALL, 0, 0, 0, &res);
	if (n && !o->violations)
		buddy_violation_format(&v[0], o->first, sizeof(o->first));
	o->violations += n;
	/* What the check just accepted. */
	struct zone *zone = page_zone(o->sys, page);
	if (page_flag(page, PG_locked) && page_flag(page, PG_isolated))
		o->saw_locked_source = true;
	if (zone_page_state(zone, NR_ZONE_ISOLATED) > 0)
		o->saw_held_free = true;
	int task = buddy_page_task(page);
	struct buddy_task_info ti;
	if (task && !buddy_task_info(o->sys, task, &ti) && ti.oom_killed)
		o->saw_pinned_victim = true;
}

/* The slot the owner keeps page in, under o->lock; -1 if it let go. */
static long owner_slot(struct owner *o, struct page *page)
{
	uint64_t idx = buddy_page_index(page);

	return idx < OWNER_SLOTS && o->pages[idx] == page ? (long)idx : -1;
}

static int owner_migrate(struct buddy_mapping *m, struct page *old_page, struct page *new_page)
{
	struct owner *o = m->private_data;
	int rc = -EAGAIN;

	owner_check(o, old_page);
	pthread_mutex_lock(&o->lock);
	long idx = owner_slot(o, old_page);
	if (idx >= 0 && !o->refuse) {
		buddy_migrate_copy(o->sys, new_page, old_page);
		o->pages[idx] = new_page;
		o->migrated++;
		rc = 0;
	}
	pthread_mutex_unlock(&o->lock);
	return rc;
}

static int owner_let_go(struct owner *o, struct page *page, size_t *count)
{
	int rc = -EBUSY;

	pthread_mutex_lock(&o->lock);
	long idx = owner_slot(o, page);
	if (idx >= 0 && !o->refuse) {
		o->pages[idx] = NULL;
		(*count)++;
		rc = 0;
	}
	pthread_mutex_unlock(&o->lock);
	return rc;
}

static int owner_reclaim(struct buddy_mapping *m, struct page *page)
{
	struct owner *o = m->private_data;

	owner_check(o, page);
	/* shrink_page_list asks one block at a time of an isolated batch. */
	if (page_flag(page, PG_isolated) && !page_flag(page, PG_lru))
		o->saw_isolated_batch = true;
	return owner_let_go(o, page, &o->reclaimed);
}

static int owner_release(struct buddy_mapping *m, struct page *page)
{
	struct owner *o = m->private_data;

	owner_check(o, page);
	return owner_let_go(o, page, &o->released);
}

static const struct buddy_mapping_ops anon_ops = { .migrate = owner_migrate, .release = owner_release };
static const struct buddy_mapping_ops file_ops = { .migrate = owner_migrate, .reclaim = owner_reclaim,
						   .release = owner_release };

static void owner_init(struct owner *o, struct buddy_system *sys, bool file)
{
	memset(o, 0, sizeof(*o));
	o->sys = sys;
	o->map.ops = file ? &file_ops : &anon_ops;
	o->map.private_data = o;
	pthread_mutex_init(&o->lock, NULL);
	o->pages = calloc(OWNER_SLOTS, sizeof(*o->pages));
	if (!o->pages)
		exit(test_done() | 1);
}

/* Up to nr blocks of order for the owner, charged to the calling thread's
 * task; how many it got. */
static size_t owner_fill(struct owner *o, gfp_t gfp, unsigned int order, size_t nr)
{
	size_t got = 0;

	while (got < nr && o->nr < OWNER_SLOTS) {
		size_t idx = o->nr;
		struct page *page = buddy_alloc_pages_mapping(o->sys, gfp | __GFP_NOWARN, order, -1, 0, &o->map, idx);
		if (!page)
			break;
		pthread_mutex_lock(&o->lock);
		o->pages[idx] = page;
		o->nr++;
		pthread_mutex_unlock(&o->lock);
		got++;
	}
	return got;
}

/* The owner frees the blocks whose slot satisfies pick, each with the
 * order it was allocated with. */
static void owner_free_where(struct owner *o, bool (*pick)(size_t idx))
{
	for (size_t i = 0; i < o->nr; i++) {
		unsigned int order = 0;
		pthread_mutex_lock(&o->lock);
		struct page *page = o->pages[i];
		if (page && pick(i)) {
			o->pages[i] = NULL;
			order = page_order(page);
		} else {
			page = NULL;
		}
		pthread_mutex_unlock(&o->lock);
		if (page)
			CHECK_EQ(buddy_free_pages(o->sys, page, order), 0);
	}
}

static bool every(size_t idx)
{
	(void)idx;
	return true;
}

static bool every_other(size_t idx)
{
	return idx & 1;
}

static void owner_destroy(struct owner *o)
{
	owner_free_where(o, every);
	pthread_mutex_destroy(&o->lock);
	free(o->pages);
}

static struct page *owner_first(struct owner *o)
{
	for (size_t i = 0; i < o->nr; i++)
		if (o->pages[i])
			return o->pages[i];
	return NULL;
}

#define MOVABLE_NOWAIT ((GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM) | __GFP_NOWARN)
#define FILE_NOWAIT ((GFP_KERNEL & ~__GFP_DIRECT_RECLAIM) | __GFP_RECLAIMABLE | __GFP_NOWARN)

/* A system with owned blocks on every LRU list: the fixture plus a task
 * with anonymous (movable) and file (reclaimable) blocks, some active. */
struct slow_fixture {
	struct fixture f;
	struct owner anon, file;
	int task;
};

static void slow_setup(struct slow_fixture *s)
{
	setup(&s->f, &base_cfg);
	s->task = buddy_task_create(s->f.sys, "owner", 0);
	CHECK(s->task > 0);
	buddy_bind_task(s->f.sys, s->task);
	owner_init(&s->anon, s->f.sys, false);
	owner_init(&s->file, s->f.sys, true);
	CHECK_EQ(owner_fill(&s->anon, MOVABLE_NOWAIT, 0, 64), 64);
	CHECK_EQ(owner_fill(&s->anon, MOVABLE_NOWAIT, 2, 8), 8);
	CHECK_EQ(owner_fill(&s->file, FILE_NOWAIT, 0, 64), 64);
	/* Half of each to the active lists, as a second reference would. */
	struct lruvec *lv = &s->f.sys->slow->lruvec[0];
	pthread_mutex_lock(&lv->lock);
	for (int l = LRU_INACTIVE_ANON; l <= LRU_INACTIVE_FILE; l += LRU_INACTIVE_FILE - LRU_INACTIVE_ANON) {
		struct list_head *head = &lv->lists[l];
		for (int i = 0; i < 16 && !list_empty(head); i++) {
			struct page *page = container_of(head->prev, struct page, lru);
			unsigned int o = page_order(page);
			list_del(&page->lru);
			atomic_fetch_sub(&lv->nr_pages[l], 1L << o);
			set_page_flag(page, PG_active);
			list_add(&page->lru, &lv->lists[l + 1]);
			atomic_fetch_add(&lv->nr_pages[l + 1], 1L << o);
		}
	}
	pthread_mutex_unlock(&lv->lock);
	for (int l = 0; l < NR_LRU_LISTS; l++)
		CHECK(atomic_load(&lv->nr_pages[l]) > 0, "LRU list %d is empty", l);
	expect_clean(s->f.sys, BUDDY_CHECK_ALL, 0, "slow fixture");
}

static void slow_teardown(struct slow_fixture *s)
{
	buddy_bind_task(s->f.sys, 0);
	owner_destroy(&s->anon);
	owner_destroy(&s->file);
	teardown(&s->f);
}

/* A page of LRU list l of node 0. */
static struct page *lru_page(struct buddy_system *sys, enum lru_list l)
{
	struct list_head *head = &sys->slow->lruvec[0].lists[l];

	return list_empty(head) ? NULL : container_of(head->next, struct page, lru);
}

static void test_isolation_states(void)
{
	struct fixture f;

	test_section("offline-count: an offline pageblock that is not isolated");
	setup(&f, &base_cfg);
	{
		int mt;
		struct page *p = find_free(f.zone, 10, &mt);
		CHECK(p != NULL);
		if (p) {
			uint64_t pfn = pfn_of(&f, p);
			CHECK_EQ(buddy_offline_pages(f.sys, pfn, PB), 0);
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "offline");
			set_pageblock_migratetype(f.sys, pfn, MIGRATE_MOVABLE);
			expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "offline-count");
			set_pageblock_migratetype(f.sys, pfn, MIGRATE_ISOLATE);
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "offline restored");
			CHECK_EQ(buddy_online_pages(f.sys, pfn, PB), 0);
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "online");
		}
	}
	teardown(&f);

	test_section("offline-count: one offline page with its counters moved");
	setup(&f, &base_cfg);
	page_flags_store(f.small[1], PAGE_FLAG(PG_present) | PAGE_FLAG(PG_offline));
	mod_zone_page_state(f.zone, NR_ZONE_ALLOCATED, -1);
	mod_zone_page_state(f.zone, NR_ZONE_OFFLINE, 1);
	f.zone->present_pages--;
	expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "offline-count");
	teardown(&f);

	test_section("hwpoison-count: a poisoned page in an allocated block the free path was not told of");
	setup(&f, &base_cfg);
	{
		struct page *p = buddy_alloc_pages(f.sys, GFP_KERNEL | __GFP_DMA32, 1);
		CHECK(p != NULL);
		if (p) {
			uint64_t pfn = buddy_page_to_pfn(f.sys, p) + 1;
			set_page_flag(p + 1, PG_hwpoison);
			expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "hwpoison-count");
			clear_page_flag(p + 1, PG_hwpoison);
			CHECK_EQ(buddy_memory_failure(f.sys, pfn), 0);
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "told through memory_failure");
			CHECK_EQ(buddy_free_pages(f.sys, p, 1), 0);
			CHECK(page_flag(p + 1, PG_hwpoison) && !page_flag(p + 1, PG_buddy), "kept out by the free");
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "freed, poisoned page kept out");
			CHECK_EQ(buddy_unpoison_memory(f.sys, pfn), 0);
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "unpoisoned");
		}
	}
	teardown(&f);

	test_section("isolate-straddle: an allocated block across an isolated pageblock's edge");
	setup(&f, &base_cfg);
	{
		struct page *big = buddy_alloc_pages(f.sys, GFP_HIGHUSER_MOVABLE | __GFP_NOWARN, 10);
		CHECK(big != NULL);
		if (big) {
			uint64_t pfn = buddy_page_to_pfn(f.sys, big);
			int mt = get_pfnblock_migratetype(f.sys, pfn + PB);
			/* isolation itself refuses to cut it */
			CHECK_EQ(buddy_start_isolate_page_range(f.sys, pfn + PB, pfn + 2 * PB), -EBUSY);
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "isolation refused");
			set_pageblock_migratetype(f.sys, pfn + PB, MIGRATE_ISOLATE);
			expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "isolate-straddle");
			set_pageblock_migratetype(f.sys, pfn + PB, mt);
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "straddle restored");
			CHECK_EQ(buddy_free_pages(f.sys, big, 10), 0);
		}
		expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "all freed");
	}
	teardown(&f);

	test_section("isolated-free-count: a held free block dropped without its counter");
	setup(&f, &base_cfg);
	{
		/* What compaction's free scanner does, and then a leak. */
		struct page *p = __rmqueue_smallest(f.zone, 3, MIGRATE_MOVABLE);
		CHECK(p != NULL);
		if (p) {
			p->order = 3;
			set_page_flag(p, PG_isolated);
			mod_zone_page_state(f.zone, NR_ZONE_ISOLATED, 8);
			expect_clean(f.sys, BUDDY_CHECK_ALL, 0, "a held free block");
			mod_zone_page_state(f.zone, NR_ZONE_ISOLATED, -8);
			mod_zone_page_state(f.zone, NR_ZONE_ALLOCATED, 8); /* conservation still holds */
			expect(f.sys, BUDDY_CHECK_ALL, 0, 0, "isolated-free-count");
		}
	}
	teardown(&f);
}

static void test_lru_corruption(void)
{
	struct slow_fixture s;

	test_section("lru-corrupt: nr_pages[] and NR_ZONE_LRU_* off by one");
	slow_setup(&s);
	{
		struct lruvec *lv = &s.f.sys->slow->lruvec[0];
		atomic_fetch_add(&lv->nr_pages[LRU_ACTIVE_FILE], 1);
		expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "lru-corrupt");
		expect_clean(s.f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, "the zone scope leaves the LRU alone");
		atomic_fetch_sub(&lv->nr_pages[LRU_ACTIVE_FILE], 1);
		struct page *p = lru_page(s.f.sys, LRU_INACTIVE_ANON);
		struct zone *zone = page_zone(s.f.sys, p);
		mod_zone_page_state(zone, NR_ZONE_LRU_ANON, 1);
		expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "lru-corrupt");
		mod_zone_page_state(zone, NR_ZONE_LRU_ANON, -1);
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "LRU counters restored");
	}
	slow_teardown(&s);

	test_section("lru-corrupt: a page on the list its flags do not name");
	slow_setup(&s);
	{
		struct page *p = lru_page(s.f.sys, LRU_INACTIVE_FILE);
		set_page_flag(p, PG_active);
		expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "lru-corrupt");
		clear_page_flag(p, PG_active);
		clear_page_flag(p, PG_mapped_file);
		expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "lru-corrupt");
		set_page_flag(p, PG_mapped_file);
		clear_page_flag(p, PG_lru);
		expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "lru-corrupt");
		set_page_flag(p, PG_lru);
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "flags restored");
	}
	slow_teardown(&s);

	test_section("lru-corrupt: a PG_lru block on no list");
	slow_setup(&s);
	{
		struct lruvec *lv = &s.f.sys->slow->lruvec[0];
		struct page *p = lru_page(s.f.sys, LRU_INACTIVE_ANON);
		/* Off the list with every count, PG_lru left behind. */
		list_del(&p->lru);
		atomic_fetch_sub(&lv->nr_pages[LRU_INACTIVE_ANON], 1L << page_order(p));
		mod_zone_page_state(page_zone(s.f.sys, p), NR_ZONE_LRU_ANON, -(1L << page_order(p)));
		expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "lru-corrupt");
		list_add(&p->lru, &lv->lists[LRU_INACTIVE_ANON]);
		atomic_fetch_add(&lv->nr_pages[LRU_INACTIVE_ANON], 1L << page_order(p));
		mod_zone_page_state(page_zone(s.f.sys, p), NR_ZONE_LRU_ANON, 1L << page_order(p));
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "back on the list");
	}
	slow_teardown(&s);

	test_section("lru-corrupt: a cycle, and a free page linked in");
	slow_setup(&s);
	{
		struct lruvec *lv = &s.f.sys->slow->lruvec[0];
		struct list_head *h = &lv->lists[LRU_INACTIVE_ANON];
		struct list_head *saved = h->next->next->next;
		h->next->next->next = h->next;
		struct buddy_violation v[64];
		struct buddy_check_result res = { .capacity = 64, .v = v };
		size_t n = buddy_check(s.f.sys, BUDDY_CHECK_ALL, 0, 0, 0, &res);
		for (size_t i = 0; i < n && i < res.capacity; i++)
			CHECK(strcmp(v[i].name, "list-corrupt") != 0, "an LRU cycle reported as %s", v[i].name);
		expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "lru-corrupt");
		h->next->next->next = saved;
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "cycle undone");
		/* An order-0 free page linked into the list (its free list
		 * link given up for it: the free lists lose a block). */
		struct page *freep = __rmqueue_smallest(s.f.zone, 0, MIGRATE_MOVABLE);
		CHECK(freep != NULL);
		if (freep) {
			list_add(&freep->lru, &lv->lists[LRU_INACTIVE_ANON]);
			atomic_fetch_add(&lv->nr_pages[LRU_INACTIVE_ANON], 1);
			expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "lru-corrupt");
			list_del(&freep->lru);
			atomic_fetch_sub(&lv->nr_pages[LRU_INACTIVE_ANON], 1);
			put_free(s.f.zone, freep, 0, MIGRATE_MOVABLE);
		}
	}
	slow_teardown(&s);
}

static void test_owner_corruption(void)
{
	struct slow_fixture s;

	test_section("owner-accounting: an rss that drifted");
	slow_setup(&s);
	{
		struct buddy_task_rec *t = &s.f.sys->slow->tasks[s.task];
		atomic_fetch_add(&t->rss, 1);
		expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "owner-accounting");
		expect_clean(s.f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, "the zone scope leaves the tasks alone");
		atomic_fetch_sub(&t->rss, 1);
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "rss restored");
	}
	slow_teardown(&s);

	test_section("owner-accounting: a block charged to an unused task slot");
	slow_setup(&s);
	{
		struct page *p = owner_first(&s.anon);
		p->owner = BUDDY_MAX_TASKS;
		expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "owner-accounting");
		p->owner = (uint32_t)s.task;
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "owner restored");
	}
	slow_teardown(&s);

	test_section("owner-accounting: an owner without a mapping, a free block with a mapping");
	setup(&s.f, &base_cfg);
	{
		int task = buddy_task_create(s.f.sys, "t", 0);
		s.f.mid->owner = (uint32_t)task;
		expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "owner-accounting");
		s.f.mid->owner = 0;
		int mt;
		struct page *p = find_free(s.f.zone, 3, &mt);
		CHECK(p != NULL);
		if (p) {
			p->mapping = &s.f; /* any non-NULL pointer: never followed */
			expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "owner-accounting");
			p->mapping = NULL;
		}
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "restored");
	}
	teardown(&s.f);
}

static void test_compaction_held_corruption(void)
{
	struct slow_fixture s;

	test_section("compaction-held: PG_locked on a block no migration holds");
	slow_setup(&s);
	{
		/* A locked, isolated source is legal only with its target
		 * beside it, inside a migrate callback (test_slowpath_clean). */
		struct page *p = owner_first(&s.anon);
		set_page_flag(p, PG_locked);
		expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "compaction-held");
		clear_page_flag(p, PG_locked);
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "unlocked");
	}
	slow_teardown(&s);

	test_section("compaction-held: isolated while PG_lru");
	slow_setup(&s);
	{
		struct page *p = owner_first(&s.file);
		CHECK(isolate_allocated_page(s.f.sys, p));
		set_page_flag(p, PG_lru);
		expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "compaction-held");
		clear_page_flag(p, PG_lru);
		putback_isolated_page(s.f.sys, p);
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "put back");
	}
	slow_teardown(&s);

	test_section("compaction-held: a held free block with owner state or compound tails");
	setup(&s.f, &base_cfg);
	{
		struct page *p = __rmqueue_smallest(s.f.zone, 2, MIGRATE_MOVABLE);
		CHECK(p != NULL);
		if (p) {
			p->order = 2;
			set_page_flag(p, PG_isolated);
			mod_zone_page_state(s.f.zone, NR_ZONE_ISOLATED, 4);
			expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "held free block");
			set_page_flag(p, PG_active);
			expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "compaction-held");
			clear_page_flag(p, PG_active);
			p->mapping = &s.f;
			expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "compaction-held");
			p->mapping = NULL;
			set_page_flag(p + 1, PG_tail);
			p[1].head_offset = 1;
			expect(s.f.sys, BUDDY_CHECK_ALL, 0, 0, "compaction-held");
			clear_page_flag(p + 1, PG_tail);
			p[1].head_offset = 0;
			expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "held free block restored");
		}
	}
	teardown(&s.f);
}

/* ---- the legitimate slow-path states are clean ---- */
static void test_slowpath_clean(void)
{
	struct slow_fixture s;

	test_section("clean: owned blocks isolated, freed while isolated, put back");
	slow_setup(&s);
	{
		struct page *a = owner_first(&s.anon), *b = owner_first(&s.file);
		CHECK(isolate_allocated_page(s.f.sys, a) && isolate_allocated_page(s.f.sys, b));
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "two isolated, still charged");
		/* The owner frees b while it is isolated: PG_freeing waits. */
		pthread_mutex_lock(&s.file.lock);
		s.file.pages[buddy_page_index(b)] = NULL;
		pthread_mutex_unlock(&s.file.lock);
		CHECK_EQ(buddy_free_pages(s.f.sys, b, 0), 0);
		CHECK(page_flag(b, PG_freeing) && page_flag(b, PG_allocated));
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "a free waiting on an isolation");
		putback_isolated_page(s.f.sys, b);
		putback_isolated_page(s.f.sys, a);
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "put back, free finished");
		deactivate_lru_pages(s.f.sys, 0, true, 8);
		deactivate_lru_pages(s.f.sys, 0, false, 8);
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "deactivated");
	}
	slow_teardown(&s);

	test_section("clean: a bad free of an owned block quarantines it off its LRU and uncharged");
	slow_setup(&s);
	{
		struct page *p = NULL;
		pthread_mutex_lock(&s.anon.lock);
		for (size_t i = 0; i < s.anon.nr && !p; i++)
			if (s.anon.pages[i] && page_order(s.anon.pages[i]) == 2) {
				p = s.anon.pages[i];
				s.anon.pages[i] = NULL;
			}
		pthread_mutex_unlock(&s.anon.lock);
		CHECK(p != NULL);
		if (p) {
			CHECK(buddy_free_pages(s.f.sys, p, 1) < 0);
			CHECK(page_flag(p, PG_quarantined) && !page_flag(p, PG_lru) && !buddy_page_mapping(p));
			expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "quarantined off the LRU");
		}
	}
	/* The quarantined block left its owner's charge: the task can go. */
	buddy_bind_task(s.f.sys, 0);
	owner_destroy(&s.anon);
	owner_destroy(&s.file);
	expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "owners gone, the quarantined block stays");
	CHECK_EQ(buddy_task_destroy(s.f.sys, s.task), 0);
	teardown(&s.f);

	test_section("clean: compaction seen from inside migrate callbacks");
	{
		struct config cfg = { 10, 9, false, false };
		struct buddy_system *sys = make_system(&cfg);
		struct owner o;
		int task = buddy_task_create(sys, "compact", 0);
		buddy_bind_task(sys, task);
		owner_init(&o, sys, false);
		owner_fill(&o, MOVABLE_NOWAIT, 0, OWNER_SLOTS);
		CHECK(o.nr > 8192, "only %zu pages", o.nr);
		owner_free_where(&o, every_other);
		buddy_drain_all_pages(sys);
		expect_clean(sys, BUDDY_CHECK_ALL, 0, "fragmented");
		o.check_in_callback = 12;
		CHECK_EQ(buddy_compact_memory(sys), 0);
		CHECK(o.migrated > 0);
		CHECK(o.checked > 0);
		CHECK(o.violations == 0, "%zu violations inside callbacks, first: %s", o.violations, o.first);
		CHECK(o.saw_locked_source && o.saw_held_free, "states seen: locked source %d, held free %d",
		      o.saw_locked_source, o.saw_held_free);
		buddy_drain_all_pages(sys);
		expect_clean(sys, BUDDY_CHECK_ALL, 0, "compacted");
		/* Refused migrations: targets go back to the held free blocks. */
		o.refuse = true;
		o.check_in_callback = 4;
		o.violations = 0;
		CHECK_EQ(buddy_compact_memory(sys), 0);
		CHECK(o.violations == 0, "%zu violations inside refused callbacks, first: %s", o.violations, o.first);
		o.refuse = false;
		expect_clean(sys, BUDDY_CHECK_ALL, 0, "refused compaction");
		owner_destroy(&o);
		buddy_bind_task(sys, 0);
		CHECK_EQ(buddy_task_destroy(sys, task), 0);
		buddy_drain_all_pages(sys);
		expect_clean(sys, BUDDY_CHECK_ALL, 0, "released");
		buddy_system_destroy(sys);
	}

	test_section("clean: reclaim seen from inside reclaim callbacks");
	slow_setup(&s);
	{
		s.file.check_in_callback = 4;
		CHECK(buddy_try_to_free_pages(s.f.sys, GFP_KERNEL, 0, 0) > 0);
		CHECK(s.file.reclaimed > 0 && s.file.checked > 0);
		CHECK(s.file.violations == 0, "%zu violations inside reclaim, first: %s", s.file.violations,
		      s.file.first);
		CHECK(s.file.saw_isolated_batch);
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "after reclaim");
	}
	slow_teardown(&s);

	test_section("clean: the OOM reaper seen from inside release callbacks");
	slow_setup(&s);
	{
		s.anon.check_in_callback = 3;
		s.file.check_in_callback = 3;
		int victim = buddy_out_of_memory(s.f.sys, GFP_KERNEL, 0, 0);
		CHECK_EQ(victim, s.task);
		CHECK(s.anon.released + s.file.released > 0);
		CHECK(s.anon.violations + s.file.violations == 0, "%zu violations inside the reap, first: %s",
		      s.anon.violations + s.file.violations, s.anon.violations ? s.anon.first : s.file.first);
		CHECK(s.anon.saw_pinned_victim || s.file.saw_pinned_victim);
		expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "after the reap");
	}
	slow_teardown(&s);

	test_section("clean: offline, poisoned and isolated states built by the real code");
	slow_setup(&s);
	{
		int mt;
		struct page *p = find_free(s.f.zone, 10, &mt);
		CHECK(p != NULL);
		if (p) {
			uint64_t pfn = pfn_of(&s.f, p);
			/* A free pageblock offlined, the next one isolated, a
			 * free page of it poisoned, a page of an allocated block
			 * poisoned, an owned block's page poisoned (released). */
			CHECK_EQ(buddy_offline_pages(s.f.sys, pfn, PB), 0);
			CHECK_EQ(buddy_start_isolate_page_range(s.f.sys, pfn + PB, pfn + 2 * PB), 0);
			expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "isolated range next to an offline one");
			CHECK_EQ(buddy_memory_failure(s.f.sys, pfn + PB + 3), 0);
			CHECK_EQ(buddy_memory_failure(s.f.sys, buddy_page_to_pfn(s.f.sys, s.f.big) + 1), 0);
			CHECK_EQ(buddy_memory_failure(s.f.sys, buddy_page_to_pfn(s.f.sys, owner_first(&s.file))), 0);
			CHECK_EQ(s.file.released, 1);
			expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "offline, isolated and poisoned");
			CHECK_EQ(buddy_undo_isolate_page_range(s.f.sys, pfn + PB, pfn + 2 * PB, MIGRATE_MOVABLE), 0);
			CHECK_EQ(buddy_online_pages(s.f.sys, pfn, PB), 0);
			expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "online again");
			CHECK_EQ(buddy_unpoison_memory(s.f.sys, pfn + PB + 3), 0);
			expect_clean(s.f.sys, BUDDY_CHECK_ALL, 0, "unpoisoned");
		}
	}
	slow_teardown(&s);
}

static void test_coverage(void)
{
	test_section("every invariant has a corruption test");
	const struct buddy_invariant *list;
	size_t n = buddy_invariants(&list);

	for (size_t i = 0; i < n && i < 64; i++)
		CHECK(covered[i], "no test triggers %s", list[i].name);
}

/* ---- the incremental scope ---- */
/* Corruptions made through the list helpers are logged, so
 * BUDDY_CHECK_TOUCHED must see each of them; a corruption of an untouched
 * block is seen only by the zone walk, and a log that overflowed is replaced
 * by the walk. */
static void touched_setup(struct fixture *f)
{
	setup(f, &base_cfg);
	buddy_check_track(f->sys, true);
	expect_clean(f->sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, "fresh logs");
}

static void test_touched(void)
{
	struct fixture f;
	int mt;

	test_section("touched: ordinary traffic is clean and cheap to check");
	touched_setup(&f);
	{
		struct page *p[8];
		for (int round = 0; round < 50; round++) {
			buddy_bind_cpu(f.sys, round & 1);
			for (int i = 0; i < 8; i++)
				p[i] = buddy_alloc_pages(f.sys, GFP_KERNEL, (unsigned)(i % 4));
			expect_clean(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, "after allocations");
			for (int i = 0; i < 8; i++)
				if (p[i])
					buddy_free_pages(f.sys, p[i], (unsigned)(i % 4));
			expect_clean(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, "after frees");
		}
		buddy_drain_all_pages(f.sys);
		expect_clean(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, "after the drain");
	}
	teardown(&f);

	test_section("touched: overlapping free blocks");
	touched_setup(&f);
	{
		struct page *p = __rmqueue_smallest(f.zone, 1, MIGRATE_MOVABLE);
		CHECK(p != NULL);
		if (p) {
			put_free(f.zone, p, 1, MIGRATE_MOVABLE);
			put_free(f.zone, p + 1, 0, MIGRATE_MOVABLE);
			expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, -1, "page-double-listed");
		}
	}
	teardown(&f);

	test_section("touched: a free block inside a pcp block the log never saw");
	touched_setup(&f);
	{
		struct page *p = __rmqueue_smallest(f.zone, 2, MIGRATE_MOVABLE);
		CHECK(p != NULL);
		if (p) {
			put_pcp(f.zone, 1, p, 2, MIGRATE_MOVABLE, true); /* bypasses the helpers: not logged */
			buddy_check_track(f.sys, true);
			put_free(f.zone, p + 3, 0, MIGRATE_MOVABLE);
			expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, -1, "page-double-listed");
		}
	}
	teardown(&f);

	test_section("touched: a large free block swallowing a listed one");
	touched_setup(&f);
	{
		struct page *p = __rmqueue_smallest(f.zone, 4, MIGRATE_MOVABLE);
		CHECK(p != NULL);
		if (p) {
			put_pcp(f.zone, 1, p + 6, 1, MIGRATE_MOVABLE, true);
			buddy_check_track(f.sys, true);
			put_free(f.zone, p, 4, MIGRATE_MOVABLE);
			expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, -1, "page-double-listed");
		}
	}
	teardown(&f);

	test_section("touched: two free buddies");
	touched_setup(&f);
	{
		struct page *p = find_free(f.zone, 3, &mt);
		CHECK(p != NULL);
		if (p) {
			__del_from_free_list(f.zone, p, 3, mt);
			__add_to_free_list(f.zone, p, 2, mt, false);
			__add_to_free_list(f.zone, p + 4, 2, mt, false);
			expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, -1, "buddy-unmerged");
		}
	}
	teardown(&f);

	test_section("touched: a block on the list of another type");
	touched_setup(&f);
	{
		struct page *p = __rmqueue_smallest(f.zone, 0, MIGRATE_MOVABLE);
		CHECK(p != NULL);
		if (p) {
			put_free(f.zone, p, 0, MIGRATE_UNMOVABLE);
			expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, -1, "freelist-mt-mismatch");
		}
	}
	teardown(&f);

	test_section("touched: a pageblock retyped without moving its free blocks");
	touched_setup(&f);
	{
		struct page *p = find_free(f.zone, 3, &mt);
		CHECK(p != NULL);
		if (p) {
			int other = mt == MIGRATE_MOVABLE ? MIGRATE_UNMOVABLE : MIGRATE_MOVABLE;
			set_pageblock_migratetype(f.sys, pfn_of(&f, p), other);
			expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, -1, "freelist-mt-mismatch");
		}
	}
	teardown(&f);

	test_section("touched: broken links around a logged block");
	touched_setup(&f);
	{
		struct page *p = __rmqueue_smallest(f.zone, 0, MIGRATE_MOVABLE);
		CHECK(p != NULL);
		if (p) {
			put_free(f.zone, p, 0, MIGRATE_MOVABLE);
			struct list_head *saved = p->lru.next->prev;
			p->lru.next->prev = p->lru.next;
			expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, -1, "list-corrupt");
			p->lru.next->prev = saved;
		}
	}
	teardown(&f);

	test_section("touched: counters that disagree with each other");
	touched_setup(&f);
	{
		/* The free counters change only with a free list: with nothing
		 * logged they are left to the walk, after any list change checked. */
		f.zone->free_area[2].nr_free++;
		expect_clean(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, "no list changed");
		expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "nr-free-mismatch");
		touch_log_add(&f.zone->touched, pfn_of(&f, f.big));
		expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, -1, "nr-free-mismatch");
		f.zone->free_area[2].nr_free--;
		f.zone->free_pages_mt[MIGRATE_MOVABLE] += 3;
		touch_log_add(&f.zone->touched, pfn_of(&f, f.big));
		expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, -1, "free-count-mismatch");
		f.zone->free_pages_mt[MIGRATE_MOVABLE] -= 3;
		f.zone->pcp[0].count++;
		touch_log_add(&f.zone->pcp[0].touched, pfn_of(&f, f.big));
		expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, -1, "pcp-count-mismatch");
		f.zone->pcp[0].count--;
		f.zone->pcp[1].list_pages[0]++;
		f.zone->pcp[1].count++;
		touch_log_add(&f.zone->pcp[1].touched, pfn_of(&f, f.big));
		expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, 1, "pcp-count-mismatch");
		f.zone->pcp[1].list_pages[0]--;
		f.zone->pcp[1].count--;
		mod_zone_page_state(f.zone, NR_ZONE_ALLOCATED, 5);
		expect_clean(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, "one CPU's scope leaves the sums to the others");
		expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, -1, "page-conservation");
		mod_zone_page_state(f.zone, NR_ZONE_ALLOCATED, -5);
		expect_clean(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, "counters restored");
	}
	teardown(&f);

	test_section("touched: an untouched corruption waits for the zone walk, an overflowed log is a walk");
	touched_setup(&f);
	{
		int pindex;
		struct page *p = pcp_page(&f, &pindex);
		CHECK(p != NULL);
		if (p) {
			p->pcp_cpu = 1; /* not through a helper: nothing is logged */
			expect_clean(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, "not logged");
			expect(f.sys, BUDDY_CHECK_ZONE, ZONE_NORMAL, 0, "pcp-flags");
			/* More changes than the log holds: the check walks. */
			struct page *q[TOUCH_LOG_CAP];
			buddy_bind_cpu(f.sys, 1);
			for (int i = 0; i < TOUCH_LOG_CAP; i++)
				q[i] = buddy_alloc_pages(f.sys, GFP_KERNEL, 3);
			expect(f.sys, BUDDY_CHECK_TOUCHED, ZONE_NORMAL, -1, "pcp-flags");
			p->pcp_cpu = 0;
			for (int i = 0; i < TOUCH_LOG_CAP; i++)
				if (q[i])
					buddy_free_pages(f.sys, q[i], 3);
		}
	}
	teardown(&f);
}

int main(void)
{
	test_names();
	test_format();
	test_result_handling();
	test_list_corruption();
	test_block_corruption();
	test_buddy_flags();
	test_merge_and_types();
	test_double_listing();
	test_touched();
	test_pcp_corruption();
	test_zone_counters();
	test_page_walk();
	test_isolation_states();
	test_lru_corruption();
	test_owner_corruption();
	test_compaction_held_corruption();
	test_slowpath_clean();
	test_coverage();
	test_random_runs();
	test_concurrent();
	return test_done();
}
