/* Fault injection (alloc/fault_inject.c) against the kernel's fail_page_alloc
 * rules: probability, interval, times, min_order, the ignore-gfp-wait and
 * ignore-gfp-highmem filters, __GFP_NOFAIL, the slow-path sites, determinism
 * from the seed, and exact "times" under concurrent callers.  Then through
 * the allocator: an injected failure is a NULL from buddy_alloc_pages and
 * leaves the checker clean. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "buddy/buddy.h"
#include "fault_inject.h"
#include "tap.h"

static struct buddy_system *make(void)
{
	struct buddy_topology topo;
	struct buddy_options opts;
	struct buddy_error err = { 0 };

	buddy_options_init(&opts);
	buddy_topology_small(&topo, 8192, 2);
	struct buddy_system *sys = buddy_system_create(&topo, &opts, &err);
	CHECK(sys != NULL, "create: %s: %s", err.field, err.message);
	return sys;
}

static struct buddy_fault_attr attr_base(void)
{
	struct buddy_fault_attr a;

	memset(&a, 0, sizeof(a));
	a.probability = 100;
	a.interval = 1;
	a.times = -1;
	a.seed = 42;
	return a;
}

static void test_filters(void)
{
	test_section("filters");
	struct buddy_system *sys = make();
	if (!sys)
		return;
	CHECK(!should_fail_alloc_page(sys, GFP_KERNEL, 0), "off by default");

	struct buddy_fault_attr a = attr_base();
	a.min_order = 2;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), 0);
	CHECK(!should_fail_alloc_page(sys, GFP_KERNEL, 1), "below min_order");
	CHECK(should_fail_alloc_page(sys, GFP_KERNEL, 2), "at min_order");
	CHECK(!should_fail_alloc_page(sys, GFP_KERNEL | __GFP_NOFAIL, 5), "__GFP_NOFAIL never fails");

	a = attr_base();
	a.ignore_gfp_reclaim = true;
	a.ignore_gfp_highmem = true;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), 0);
	CHECK(!should_fail_alloc_page(sys, GFP_KERNEL, 0), "ignore-gfp-wait spares direct reclaim");
	CHECK(should_fail_alloc_page(sys, GFP_ATOMIC, 0), "GFP_ATOMIC cannot reclaim");
	CHECK(!should_fail_alloc_page(sys, GFP_NOWAIT | __GFP_HIGHMEM, 0), "ignore-gfp-highmem");

	a = attr_base();
	a.probability = 0;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), 0);
	CHECK(!should_fail_alloc_page(sys, GFP_ATOMIC, 0), "probability 0");

	CHECK_EQ(buddy_set_fault_injection(sys, NULL), 0);
	CHECK(!should_fail_alloc_page(sys, GFP_ATOMIC, 3), "off again");

	a = attr_base();
	a.probability = 101;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), -EINVAL);
	a = attr_base();
	a.migrate_eagain = 200;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), -EINVAL);
	a = attr_base();
	a.times = -2;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), -EINVAL);
	CHECK_EQ(buddy_set_fault_injection(NULL, &a), -EINVAL);
	buddy_system_destroy(sys);
}

static void test_interval_times(void)
{
	test_section("interval and times");
	struct buddy_system *sys = make();
	if (!sys)
		return;
	struct buddy_fault_attr a = attr_base();
	a.interval = 4;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), 0);
	int pattern_ok = 1;
	for (int i = 1; i <= 40; i++)
		if (should_fail_alloc_page(sys, GFP_ATOMIC, 0) != (i % 4 == 0))
			pattern_ok = 0;
	CHECK(pattern_ok, "every 4th eligible allocation fails with interval 4");

	a = attr_base();
	a.times = 3;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), 0);
	int fails = 0;
	for (int i = 0; i < 20; i++)
		fails += should_fail_alloc_page(sys, GFP_ATOMIC, 0);
	CHECK_EQ(fails, 3);
	struct buddy_fault_stats st;
	fault_inject_stats(sys, &st);
	CHECK_EQ(st.injected[FAULT_SITE_ALLOC_PAGE], 3);
	/* 10 from the interval run and 3 now: the total outlives a reset */
	CHECK_EQ(buddy_faults_injected(sys), 13);
	buddy_system_destroy(sys);
}

static void test_sites(void)
{
	test_section("slow-path sites");
	struct buddy_system *sys = make();
	if (!sys)
		return;
	struct buddy_fault_attr a = attr_base();
	a.probability = 0;
	a.compaction_target_fail = 100;
	a.migrate_eagain = 0;
	a.reclaim_fail = 100;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), 0);
	CHECK(should_fail_site(sys, FAULT_SITE_COMPACTION_TARGET), "compaction target at 100%%");
	CHECK(!should_fail_site(sys, FAULT_SITE_MIGRATE_EAGAIN), "migration at 0%%");
	CHECK(should_fail_site(sys, FAULT_SITE_RECLAIM), "reclaim at 100%%");
	CHECK(!should_fail_site(sys, FAULT_SITE_ALLOC_PAGE), "the allocation site has its own hook");
	CHECK(!should_fail_site(sys, NR_FAULT_SITES), "no such site");
	CHECK(!should_fail_alloc_page(sys, GFP_ATOMIC, 0), "allocations at 0%%");
	struct buddy_fault_stats st;
	fault_inject_stats(sys, &st);
	CHECK_EQ(st.injected[FAULT_SITE_COMPACTION_TARGET], 1);
	CHECK_EQ(st.injected[FAULT_SITE_RECLAIM], 1);
	CHECK_EQ(st.eligible[FAULT_SITE_MIGRATE_EAGAIN], 0);
	a.times = 1;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), 0);
	CHECK(should_fail_site(sys, FAULT_SITE_RECLAIM), "first within times");
	CHECK(!should_fail_site(sys, FAULT_SITE_COMPACTION_TARGET), "times spent: nothing more, any site");
	CHECK(!strcmp(fault_inject_site_name(FAULT_SITE_MIGRATE_EAGAIN), "migrate_eagain"), "site names");
	buddy_system_destroy(sys);
}

static void decisions(uint64_t seed, char *out, int n)
{
	struct buddy_system *sys = make();

	if (!sys)
		return;
	struct buddy_fault_attr a = attr_base();
	a.probability = 30;
	a.migrate_eagain = 50;
	a.seed = seed;
	buddy_set_fault_injection(sys, &a);
	for (int i = 0; i < n; i++)
		out[i] = (char)('0' + should_fail_alloc_page(sys, GFP_ATOMIC, 0) +
				2 * should_fail_site(sys, FAULT_SITE_MIGRATE_EAGAIN));
	out[n] = '\0';
	buddy_system_destroy(sys);
}

static void test_determinism(void)
{
	test_section("determinism");
	char a[201], b[201], c[201];
	decisions(7, a, 200);
	decisions(7, b, 200);
	decisions(8, c, 200);
	CHECK(!strcmp(a, b), "the same seed draws the same decisions");
	CHECK(strcmp(a, c) != 0, "another seed draws others");
	int ones = 0;
	for (int i = 0; i < 200; i++)
		ones += (a[i] - '0') & 1;
	CHECK(ones > 30 && ones < 90, "30%% probability gave %d of 200", ones);
}

struct racer {
	struct buddy_system *sys;
	int fails;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < 20000; i++)
		r->fails += should_fail_alloc_page(r->sys, GFP_ATOMIC, 0);
	return NULL;
}

static void test_concurrent_times(void)
{
	test_section("times under concurrency");
	struct buddy_system *sys = make();
	if (!sys)
		return;
	struct buddy_fault_attr a = attr_base();
	a.probability = 50;
	a.times = 1000;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), 0);
	struct racer r[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ sys, 0 };
		pthread_create(&th[i], NULL, race, &r[i]);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += r[i].fails;
	}
	CHECK_EQ(total, 1000);
	CHECK_EQ(buddy_faults_injected(sys), 1000);
	buddy_system_destroy(sys);
}

static void test_through_allocator(void)
{
	test_section("through buddy_alloc_pages");
	struct buddy_system *sys = make();
	if (!sys)
		return;
	struct buddy_fault_attr a = attr_base();
	a.times = 2;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), 0);
	CHECK(buddy_alloc_pages(sys, GFP_KERNEL, 0) == NULL, "first allocation fails");
	CHECK(buddy_alloc_pages(sys, GFP_KERNEL, 3) == NULL, "second allocation fails");
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	CHECK(p != NULL, "times spent: allocations succeed again");
	struct page *nofail = NULL;
	a.times = -1;
	CHECK_EQ(buddy_set_fault_injection(sys, &a), 0);
	nofail = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOFAIL, 0);
	CHECK(nofail != NULL, "__GFP_NOFAIL is never failed");
	CHECK_EQ(buddy_faults_injected(sys), 2);
	if (p)
		buddy_free_pages(sys, p, 0);
	if (nofail)
		buddy_free_pages(sys, nofail, 0);
	struct buddy_violation v[4];
	struct buddy_check_result res = { .capacity = 4, .v = v };
	size_t n = buddy_check(sys, BUDDY_CHECK_ALL, 0, ZONE_DMA, 0, &res);
	CHECK(n == 0, "checker clean after injected failures: %zu, %s", n, n ? v[0].name : "");
	buddy_system_destroy(sys);
}

int main(void)
{
	test_filters();
	test_interval_times();
	test_sites();
	test_determinism();
	test_concurrent_times();
	test_through_allocator();
	return test_done();
}
