/* Fault injection: the kernel's fail_page_alloc (mm/fail_page_alloc.c over
 * lib/fault-inject.c's should_fail_ex()) for buddy_alloc_pages*, and the
 * same kind of coin for three places inside the slow path: the free target
 * page compaction wants, a migration (-EAGAIN) and the reclaim of one block.
 *
 * The configuration is an immutable snapshot published through an atomic
 * pointer, so a hook never sees half of an update; a replaced snapshot is
 * kept until the instance goes away because a hook on another thread may
 * still be reading it.  The counters a decision needs (interval count, times
 * left, the draw number) are atomics in the snapshot: no lock on the hot
 * path, and when injection is off a hook costs one relaxed load. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault_inject.h"
#include "internal.h"

struct fault_config {
	struct buddy_fault_attr attr;
	unsigned int site_probability[NR_FAULT_SITES];
	/* should_fail_ex()'s attr->count: eligible allocations, for interval */
	_Atomic uint64_t count;
	/* attr->times: -1 unlimited, else failures left */
	_Atomic long times;
	/* draw numbers: the n-th decision of a site hashes (seed, site, n) */
	_Atomic uint64_t draws[NR_FAULT_SITES];
	_Atomic uint64_t injected[NR_FAULT_SITES];
	_Atomic uint64_t eligible[NR_FAULT_SITES];
	struct fault_config *retired_next;
};

static const char *const site_names[NR_FAULT_SITES] = {
	[FAULT_SITE_ALLOC_PAGE] = "alloc_page",
	[FAULT_SITE_COMPACTION_TARGET] = "compaction_target",
	[FAULT_SITE_MIGRATE_EAGAIN] = "migrate_eagain",
	[FAULT_SITE_RECLAIM] = "reclaim",
};

const char *fault_inject_site_name(int site)
{
	return site >= 0 && site < NR_FAULT_SITES ? site_names[site] : "unknown";
}

/* splitmix64's finaliser: every input bit reaches every output bit, so
 * consecutive draw numbers give independent-looking coins. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static struct fault_config *active_config(struct buddy_system *sys)
{
	struct buddy_fault_state *st = sys ? sys->fault : NULL;

	if (!st)
		return NULL;
	return atomic_load_explicit(&st->cfg, memory_order_acquire);
}

/* get_random_u32_below(100) for this site's next draw. */
static unsigned int draw_below_100(struct fault_config *c, int site)
{
	uint64_t n = atomic_fetch_add_explicit(&c->draws[site], 1, memory_order_relaxed);
	uint64_t r = mix64(c->attr.seed ^ mix64(((uint64_t)site << 56) ^ n));

	return (unsigned int)(((r >> 32) * 100) >> 32);
}

/* atomic_dec_not_zero(&attr->times), except that a decision only stands if
 * it got a unit of times: two threads racing for the last one cannot both
 * fail, so "times=N" injects exactly N. */
static bool take_one_time(struct fault_config *c)
{
	long t = atomic_load_explicit(&c->times, memory_order_relaxed);

	for (;;) {
		if (t == -1)
			return true;
		if (t <= 0)
			return false;
		if (atomic_compare_exchange_weak_explicit(&c->times, &t, t - 1, memory_order_relaxed,
							  memory_order_relaxed))
			return true;
	}
}

static bool inject(struct fault_config *c, int site)
{
	if (!take_one_time(c))
		return false;
	atomic_fetch_add_explicit(&c->injected[site], 1, memory_order_relaxed);
	return true;
}

bool should_fail_alloc_page(struct buddy_system *sys, gfp_t gfp, unsigned int order)
{
	struct fault_config *c = active_config(sys);

	if (!c || !c->attr.probability)
		return false;
	/* __should_fail_alloc_page()'s filters */
	if (order < c->attr.min_order)
		return false;
	if (gfp & __GFP_NOFAIL)
		return false;
	if (c->attr.ignore_gfp_highmem && (gfp & __GFP_HIGHMEM))
		return false;
	if (c->attr.ignore_gfp_reclaim && (gfp & __GFP_DIRECT_RECLAIM))
		return false;
	/* should_fail_ex() */
	if (atomic_load_explicit(&c->times, memory_order_relaxed) == 0)
		return false;
	atomic_fetch_add_explicit(&c->eligible[FAULT_SITE_ALLOC_PAGE], 1, memory_order_relaxed);
	if (c->attr.interval > 1) {
		uint64_t n = atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed) + 1;
		if (n % c->attr.interval)
			return false;
	}
	if (c->attr.probability <= draw_below_100(c, FAULT_SITE_ALLOC_PAGE))
		return false;
	return inject(c, FAULT_SITE_ALLOC_PAGE);
}

bool should_fail_site(struct buddy_system *sys, int site)
{
	struct fault_config *c = active_config(sys);

	if (!c || site <= FAULT_SITE_ALLOC_PAGE || site >= NR_FAULT_SITES)
		return false;
	unsigned int p = c->site_probability[site];
	if (!p || atomic_load_explicit(&c->times, memory_order_relaxed) == 0)
		return false;
	atomic_fetch_add_explicit(&c->eligible[site], 1, memory_order_relaxed);
	if (p <= draw_below_100(c, site))
		return false;
	return inject(c, site);
}

static struct buddy_fault_state *state_alloc(void)
{
	struct buddy_fault_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	atomic_init(&st->cfg, NULL);
	pthread_mutex_init(&st->lock, NULL);
	return st;
}

int fault_inject_init(struct buddy_system *sys)
{
	if (!sys)
		return -EINVAL;
	if (sys->fault)
		return 0;
	sys->fault = state_alloc();
	return sys->fault ? 0 : -ENOMEM;
}

void fault_inject_destroy(struct buddy_system *sys)
{
	struct buddy_fault_state *st = sys ? sys->fault : NULL;

	if (!st)
		return;
	while (st->retired) {
		struct fault_config *c = st->retired;
		st->retired = c->retired_next;
		free(c);
	}
	pthread_mutex_destroy(&st->lock);
	free(st);
	sys->fault = NULL;
}

static uint64_t config_injected(struct fault_config *c)
{
	uint64_t n = 0;

	for (int s = 0; s < NR_FAULT_SITES; s++)
		n += atomic_load_explicit(&c->injected[s], memory_order_relaxed);
	return n;
}

static bool percent_ok(unsigned int p)
{
	return p <= 100;
}

int buddy_set_fault_injection(struct buddy_system *sys, const struct buddy_fault_attr *attr)
{
	struct fault_config *c = NULL;

	if (!sys || !sys->fault)
		return -EINVAL;
	if (attr) {
		if (!percent_ok(attr->probability) || !percent_ok(attr->compaction_target_fail) ||
		    !percent_ok(attr->migrate_eagain) || !percent_ok(attr->reclaim_fail) || attr->times < -1)
			return -EINVAL;
	}
	struct buddy_fault_state *st = sys->fault;
	if (attr) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->attr = *attr;
		c->site_probability[FAULT_SITE_ALLOC_PAGE] = attr->probability;
		c->site_probability[FAULT_SITE_COMPACTION_TARGET] = attr->compaction_target_fail;
		c->site_probability[FAULT_SITE_MIGRATE_EAGAIN] = attr->migrate_eagain;
		c->site_probability[FAULT_SITE_RECLAIM] = attr->reclaim_fail;
		atomic_init(&c->count, 0);
		atomic_init(&c->times, attr->times);
		for (int s = 0; s < NR_FAULT_SITES; s++) {
			atomic_init(&c->draws[s], 0);
			atomic_init(&c->injected[s], 0);
			atomic_init(&c->eligible[s], 0);
		}
	}
	pthread_mutex_lock(&st->lock);
	struct fault_config *old = atomic_exchange_explicit(&st->cfg, c, memory_order_acq_rel);
	if (old)
		st->injected_before += config_injected(old);
	if (c) {
		c->retired_next = st->retired;
		st->retired = c;
	}
	pthread_mutex_unlock(&st->lock);
	return 0;
}

uint64_t buddy_faults_injected(struct buddy_system *sys)
{
	struct buddy_fault_state *st = sys ? sys->fault : NULL;
	uint64_t n;

	if (!st)
		return 0;
	/* The lock keeps a concurrent buddy_set_fault_injection() from
	 * counting a snapshot twice (or not at all) while it retires it. */
	pthread_mutex_lock(&st->lock);
	struct fault_config *c = atomic_load_explicit(&st->cfg, memory_order_acquire);
	n = st->injected_before + (c ? config_injected(c) : 0);
	pthread_mutex_unlock(&st->lock);
	return n;
}

void fault_inject_stats(struct buddy_system *sys, struct buddy_fault_stats *stats)
{
	if (!stats)
		return;
	memset(stats, 0, sizeof(*stats));
	struct fault_config *c = active_config(sys);
	if (!c)
		return;
	for (int s = 0; s < NR_FAULT_SITES; s++) {
		stats->injected[s] = atomic_load_explicit(&c->injected[s], memory_order_relaxed);
		stats->eligible[s] = atomic_load_explicit(&c->eligible[s], memory_order_relaxed);
	}
}
