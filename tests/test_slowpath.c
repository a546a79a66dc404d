/* The slow path as __alloc_pages_slowpath orders it: kswapd and direct
 * reclaim of file pages, the OOM killer behind them, and the documented
 * behaviour of __GFP_NORETRY, __GFP_RETRY_MAYFAIL, __GFP_NOFAIL,
 * __GFP_MEMALLOC and costly orders.  The checker runs after each scenario. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy/buddy.h"
#include "internal.h"
#include "tap.h"

#define ZONE_PAGES 16384

static void check_clean(struct buddy_system *sys, const char *where)
{
	struct buddy_violation v[8];
	struct buddy_check_result res = { .capacity = 8, .v = v };
	size_t n = buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, &res);
	CHECK(n == 0, "%s: %zu violations, first: %s %s", where, n, n ? v[0].name : "", n ? v[0].message : "");
}

/* An owner: a table of the blocks it holds, under its own lock, which every
 * callback and every free of its own takes (the contract of owner.c). */
struct owner {
	struct buddy_mapping map;
	struct buddy_system *sys;
	pthread_mutex_t lock;
	struct page **pages;
	size_t cap, count;
	size_t reclaimed, released, migrated;
	bool refuse_reclaim;
};

static long find(struct owner *o, struct page *p)
{
	for (size_t i = 0; i < o->cap; i++)
		if (o->pages[i] == p)
			return (long)i;
	return -1;
}

static int owner_migrate(struct buddy_mapping *m, struct page *old_page, struct page *new_page)
{
	struct owner *o = m->private_data;
	pthread_mutex_lock(&o->lock);
	long i = find(o, old_page);
	if (i >= 0) {
		buddy_migrate_copy(o->sys, new_page, old_page);
		o->pages[i] = new_page;
		o->migrated++;
	}
	pthread_mutex_unlock(&o->lock);
	return i >= 0 ? 0 : -EAGAIN;
}

static int owner_reclaim(struct buddy_mapping *m, struct page *page)
{
	struct owner *o = m->private_data;
	pthread_mutex_lock(&o->lock);
	long i = o->refuse_reclaim ? -1 : find(o, page);
	if (i >= 0) {
		o->pages[i] = NULL;
		o->count--;
		o->reclaimed++;
	}
	pthread_mutex_unlock(&o->lock);
	return i >= 0 ? 0 : -EBUSY;
}

static int owner_release(struct buddy_mapping *m, struct page *page)
{
	struct owner *o = m->private_data;
	pthread_mutex_lock(&o->lock);
	long i = find(o, page);
	if (i >= 0) {
		o->pages[i] = NULL;
		o->count--;
		o->released++;
	}
	pthread_mutex_unlock(&o->lock);
	return i >= 0 ? 0 : -EBUSY;
}

static const struct buddy_mapping_ops file_ops = { owner_migrate, owner_reclaim, owner_release };
static const struct buddy_mapping_ops anon_ops = { owner_migrate, NULL, owner_release };

static void owner_init(struct owner *o, struct buddy_system *sys, bool file)
{
	memset(o, 0, sizeof(*o));
	o->sys = sys;
	o->map.ops = file ? &file_ops : &anon_ops;
	o->map.private_data = o;
	pthread_mutex_init(&o->lock, NULL);
	o->cap = ZONE_PAGES * 2;
	o->pages = calloc(o->cap, sizeof(*o->pages));
}

/* Allocate order-0 mapped pages until n are held or allocation fails. */
static size_t owner_fill(struct owner *o, gfp_t gfp, size_t n)
{
	size_t got = 0;
	while (got < n) {
		struct page *p = buddy_alloc_pages_mapping(o->sys, gfp | __GFP_NOWARN, 0, -1, 0, &o->map, got);
		if (!p)
			break;
		pthread_mutex_lock(&o->lock);
		for (size_t i = 0; i < o->cap; i++)
			if (!o->pages[i]) {
				o->pages[i] = p;
				break;
			}
		o->count++;
		pthread_mutex_unlock(&o->lock);
		got++;
	}
	return got;
}

static void owner_free_all(struct owner *o)
{
	pthread_mutex_lock(&o->lock);
	for (size_t i = 0; i < o->cap; i++)
		if (o->pages[i]) {
			CHECK_EQ(buddy_free_pages(o->sys, o->pages[i], 0), 0);
			o->pages[i] = NULL;
			o->count--;
		}
	pthread_mutex_unlock(&o->lock);
}

static void owner_destroy(struct owner *o)
{
	owner_free_all(o);
	pthread_mutex_destroy(&o->lock);
	free(o->pages);
}

static struct buddy_system *make_system(void)
{
	struct buddy_topology t;
	struct buddy_options opts;
	struct buddy_error err;
	buddy_topology_small(&t, ZONE_PAGES, 2);
	buddy_options_init(&opts);
	struct buddy_system *sys = buddy_system_create(&t, &opts, &err);
	CHECK(sys != NULL, "%s: %s", err.field, err.message);
	if (!sys)
		exit(test_done() | 1);
	return sys;
}

static long free_pages_total(struct buddy_system *sys)
{
	long n = 0;
	for (int z = 0; z < MAX_NR_ZONES; z++)
		n += zone_page_state(&sys->nodes[0]->node_zones[z], NR_FREE_PAGES);
	return n;
}

/* kswapd and direct reclaim take file pages back from their owner. */
static void test_reclaim(void)
{
	test_section("reclaim");
	struct buddy_system *sys = make_system();
	struct owner cache;
	owner_init(&cache, sys, true);
	/* Page cache fills memory without waking kswapd... */
	size_t n = owner_fill(&cache, (GFP_KERNEL | __GFP_MOVABLE) & ~__GFP_RECLAIM, ZONE_PAGES);
	CHECK(n > ZONE_PAGES / 2, "filled %zu", n);
	check_clean(sys, "filled with cache");
	uint64_t steal_before = buddy_vm_event(sys, PGSTEAL_KSWAPD);
	/* ...then an ordinary allocation wakes kswapd (inline here), which
	 * reclaims the node back to its high watermark. */
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	CHECK(p != NULL);
	CHECK(buddy_vm_event(sys, PGSTEAL_KSWAPD) > steal_before);
	CHECK(buddy_vm_event(sys, PAGEOUTRUN) >= 1);
	CHECK(cache.reclaimed > 0);
	struct zone *normal = &sys->nodes[0]->node_zones[ZONE_NORMAL];
	struct zone *dma32 = &sys->nodes[0]->node_zones[ZONE_DMA32];
	struct zone *z = populated_zone(normal) ? normal : dma32;
	CHECK((unsigned long)zone_page_state(z, NR_FREE_PAGES) + (unsigned long)zone_page_state(z, NR_ZONE_PCP) >=
		      z->_watermark[WMARK_HIGH],
	      "free %ld high %lu", zone_page_state(z, NR_FREE_PAGES), (unsigned long)z->_watermark[WMARK_HIGH]);
	buddy_free_pages(sys, p, 0);
	check_clean(sys, "after kswapd");

	/* Direct reclaim: refill, then allocate without kswapd. */
	owner_fill(&cache, (GFP_KERNEL | __GFP_MOVABLE) & ~__GFP_RECLAIM, ZONE_PAGES);
	uint64_t stall = buddy_vm_event(sys, ALLOCSTALL_NORMAL) + buddy_vm_event(sys, ALLOCSTALL_DMA32);
	uint64_t direct = buddy_vm_event(sys, PGSTEAL_DIRECT);
	struct page *held[256];
	int got = 0;
	for (int i = 0; i < 256; i++) {
		held[got] = buddy_alloc_pages(sys, GFP_KERNEL & ~__GFP_KSWAPD_RECLAIM, 0);
		if (held[got])
			got++;
	}
	CHECK_EQ(got, 256);
	CHECK(buddy_vm_event(sys, PGSTEAL_DIRECT) > direct);
	CHECK(buddy_vm_event(sys, ALLOCSTALL_NORMAL) + buddy_vm_event(sys, ALLOCSTALL_DMA32) > stall);
	check_clean(sys, "after direct reclaim");
	for (int i = 0; i < got; i++)
		buddy_free_pages(sys, held[i], 0);

	/* GFP_NOIO may not reclaim file pages: with memory full of cache it
	 * fails rather than reclaiming. */
	owner_fill(&cache, (GFP_KERNEL | __GFP_MOVABLE) & ~__GFP_RECLAIM, ZONE_PAGES);
	direct = buddy_vm_event(sys, PGSTEAL_DIRECT);
	size_t noio = 0;
	for (;;) {
		struct page *q = buddy_alloc_pages(sys, (GFP_NOIO & ~__GFP_KSWAPD_RECLAIM) | __GFP_NOWARN, 0);
		if (!q)
			break;
		held[noio++ % 256] = q;
		if (noio > ZONE_PAGES)
			break;
	}
	CHECK_EQ(buddy_vm_event(sys, PGSTEAL_DIRECT), direct);
	CHECK(noio < 1024, "GFP_NOIO got %zu pages from full memory", noio);
	check_clean(sys, "noio");
	/* The NOIO pages are unowned; they were lost to the test on purpose
	 * except the last 256 kept: let the checker count them as allocated. */
	owner_destroy(&cache);
	buddy_system_destroy(sys);
}

/* Fill memory with a task's anonymous (unreclaimable) pages. */
static size_t fill_task(struct buddy_system *sys, struct owner *o, int task)
{
	buddy_bind_task(sys, task);
	size_t n = owner_fill(o, GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM, ZONE_PAGES);
	buddy_bind_task(sys, 0);
	return n;
}

static void test_gfp_semantics(void)
{
	test_section("NORETRY, RETRY_MAYFAIL, OOM, NOFAIL, costly");
	struct buddy_system *sys = make_system();
	struct owner big, small;
	owner_init(&big, sys, false);
	owner_init(&small, sys, false);
	int t_small = buddy_task_create(sys, "small", 0);
	int t_big = buddy_task_create(sys, "big", 0);
	CHECK(t_small > 0 && t_big > 0);
	buddy_bind_task(sys, t_small);
	owner_fill(&small, GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM, 1000);
	buddy_bind_task(sys, 0);
	fill_task(sys, &big, t_big);
	struct buddy_task_info info;
	buddy_task_info(sys, t_big, &info);
	CHECK(info.rss_pages > 10000, "big rss %llu", (unsigned long long)info.rss_pages);

	/* __GFP_NORETRY and __GFP_RETRY_MAYFAIL fail without invoking the OOM
	 * killer; so does a costly order. */
	uint64_t kills = buddy_vm_event(sys, OOM_KILL);
	CHECK(buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 0) == NULL);
	CHECK(buddy_alloc_pages(sys, GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN, 0) == NULL);
	CHECK(buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN, 4) == NULL);
	CHECK(buddy_alloc_pages(sys, GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, 0) == NULL);
	CHECK_EQ(buddy_vm_event(sys, OOM_KILL), kills);
	check_clean(sys, "no oom");

	/* A plain GFP_KERNEL allocation invokes the OOM killer, which picks the
	 * largest task and reaps its pages; the allocation then succeeds. */
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	CHECK(p != NULL);
	CHECK_EQ(buddy_vm_event(sys, OOM_KILL), kills + 1);
	buddy_task_info(sys, t_big, &info);
	CHECK(info.oom_killed);
	CHECK_EQ(info.rss_pages, 0);
	CHECK(big.released > 10000);
	buddy_task_info(sys, t_small, &info);
	CHECK(!info.oom_killed);
	char log[BUDDY_LOG_LINES * BUDDY_LOG_LINE];
	buddy_log_read(sys, log, sizeof(log));
	CHECK(strstr(log, "invoked oom-killer") != NULL);
	CHECK(strstr(log, "Out of memory: Killed process") != NULL);
	if (p)
		buddy_free_pages(sys, p, 0);
	check_clean(sys, "after oom kill");

	/* __GFP_MEMALLOC reaches below the min watermark. */
	buddy_task_set_oom_score_adj(sys, t_small, BUDDY_OOM_SCORE_ADJ_MIN);
	struct owner rest;
	owner_init(&rest, sys, false);
	int t_rest = buddy_task_create(sys, "unkillable", BUDDY_OOM_SCORE_ADJ_MIN);
	/* Kswapd may run (inline): earlier fallbacks boosted the watermarks,
	 * and only kswapd takes a boost away again. */
	buddy_bind_task(sys, t_rest);
	owner_fill(&rest, GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM, ZONE_PAGES);
	buddy_bind_task(sys, 0);
	long free_before = free_pages_total(sys);
	CHECK(free_before > 0, "some reserve left below min: %ld", free_before);
	CHECK(buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN, 0) == NULL);
	buddy_log_read(sys, log, sizeof(log));
	CHECK(strstr(log, "no killable processes") != NULL || strstr(log, "Out of memory and no killable") != NULL);
	struct page *m = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_MEMALLOC | __GFP_NOWARN, 0);
	CHECK(m != NULL);
	/* __GFP_NOFAIL gets the reserves when nobody can be killed. */
	struct page *nf = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOFAIL, 0);
	CHECK(nf != NULL);
	check_clean(sys, "memalloc and nofail");
	if (m)
		buddy_free_pages(sys, m, 0);
	if (nf)
		buddy_free_pages(sys, nf, 0);
	owner_destroy(&rest);
	owner_destroy(&big);
	owner_destroy(&small);
	CHECK_EQ(buddy_task_destroy(sys, t_rest), 0);
	check_clean(sys, "end");
	buddy_system_destroy(sys);
}

/* Real kswapd threads while two CPUs allocate cache and kernel pages. */
struct worker_arg {
	struct buddy_system *sys;
	struct owner *cache;
	int cpu;
};

static void *worker(void *arg)
{
	struct worker_arg *w = arg;
	buddy_bind_cpu(w->sys, w->cpu);
	struct page *mine[64] = { 0 };
	for (int i = 0; i < 4000; i++) {
		owner_fill(w->cache, GFP_KERNEL | __GFP_MOVABLE, 4);
		int slot = i % 64;
		if (mine[slot])
			buddy_free_pages(w->sys, mine[slot], 0);
		mine[slot] = buddy_alloc_pages(w->sys, GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY, 0);
	}
	for (int i = 0; i < 64; i++)
		if (mine[i])
			buddy_free_pages(w->sys, mine[i], 0);
	return NULL;
}

static void test_kthreads(void)
{
	test_section("kswapd threads");
	struct buddy_system *sys = make_system();
	struct owner cache;
	owner_init(&cache, sys, true);
	CHECK_EQ(buddy_start_kthreads(sys), 0);
	CHECK_EQ(buddy_start_kthreads(sys), -EBUSY);
	pthread_t th[2];
	struct worker_arg args[2] = { { sys, &cache, 0 }, { sys, &cache, 1 } };
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, worker, &args[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	buddy_stop_kthreads(sys);
	CHECK(cache.reclaimed > 0, "kswapd reclaimed %zu", cache.reclaimed);
	check_clean(sys, "kthreads");
	owner_destroy(&cache);
	buddy_drain_all_pages(sys);
	check_clean(sys, "kthreads end");
	buddy_system_destroy(sys);
}

int main(void)
{
	test_reclaim();
	test_gfp_semantics();
	test_kthreads();
	return test_done();
}
