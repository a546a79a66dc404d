/* Workload profiles: each step function performs one operation of the
 * pressure it models.  The mix profile draws, step by step, from every
 * profile marked in_mix, so a thread's held blocks come from all of them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "stress.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int pick_other_thread(struct stress_thread *t)
{
	int n = t->run->nthreads;

	if (n < 2)
		return -1;
	int d = (int)rng_below(t, (uint64_t)n - 1);
	return d >= t->id ? d + 1 : d;
}

static int pick_other_cpu(struct stress_thread *t)
{
	int n = t->run->topo.nr_cpus;

	if (n < 2)
		return -1;
	int c = (int)rng_below(t, (uint64_t)n - 1);
	return c >= t->cpu ? c + 1 : c;
}

static int pick_node(struct stress_thread *t)
{
	return (int)rng_below(t, (uint64_t)t->run->topo.nr_nodes);
}

/* Free one held block: locally, on another CPU, or through another
 * thread, in the proportions given (per mille). */
static void free_some(struct stress_thread *t, unsigned int handoff_pm, unsigned int remote_pm, bool allow_pinned)
{
	/* what others handed over is freed here as often as we hand over */
	if (handoff_pm && rng_below(t, 1000) < handoff_pm && stress_recv_free(t))
		return;
	long s = stress_pick(t, allow_pinned);

	if (s < 0)
		return;
	unsigned int r = (unsigned int)rng_below(t, 1000);
	if (r < handoff_pm) {
		int dest = pick_other_thread(t);
		if (dest >= 0 && stress_handoff(t, (uint32_t)s, dest))
			return;
	} else if (r < handoff_pm + remote_pm) {
		int cpu = pick_other_cpu(t);
		if (cpu >= 0) {
			stress_free(t, (uint32_t)s, cpu);
			return;
		}
	}
	stress_free(t, (uint32_t)s, -1);
}

/* ---- pcp-churn: order-0 traffic where most frees happen on another CPU ---- */
static const gfp_t churn_gfps[] = {
	GFP_KERNEL, GFP_KERNEL, GFP_HIGHUSER_MOVABLE, GFP_HIGHUSER_MOVABLE, GFP_KERNEL | __GFP_RECLAIMABLE,
	GFP_ATOMIC, GFP_NOWAIT,
};

static void step_pcp_churn(struct stress_thread *t)
{
	unsigned int r = (unsigned int)rng_below(t, 1000);

	/* Blocks other threads handed over are freed here first, half the
	 * time: that is the cross-CPU free the profile is about. */
	if (r < 350) {
		if (stress_recv_free(t))
			return;
		/* nothing handed over: one of the other operations */
		r = 350 + (unsigned int)rng_below(t, 650);
	}
	if (r < 352) {
		stress_drain_local(t);
		return;
	}
	if (r < 353) {
		stress_drain_all(t);
		return;
	}
	if (r < 355) {
		/* the scheduler moves the thread to another CPU, and back */
		int cpu = t->cpu == t->home_cpu ? pick_other_cpu(t) : t->home_cpu;
		if (cpu >= 0) {
			stress_bind(t, cpu);
			t->touch_pcp = true;
		}
		return;
	}
	uint64_t target = stress_target_pages(t, 10, 80);
	if (t->held_pages < target) {
		if (r < 380) {
			stress_alloc_bulk(t, churn_gfps[rng_below(t, 2)], 8 + rng_below(t, 25));
			return;
		}
		if (r < 800) {
			stress_alloc(t, churn_gfps[rng_below(t, ARRAY_SIZE(churn_gfps))], 0, -1, 0);
			return;
		}
	}
	free_some(t, 600, 150, true);
}

/* ---- mixed-orders: every order, every common GFP combination ---- */
static unsigned int mixed_order(struct stress_thread *t, unsigned int max_order)
{
	/* weights of orders 0..10: mostly small, a tail up to MAX_PAGE_ORDER */
	static const unsigned int w[] = { 400, 150, 100, 100, 60, 50, 40, 30, 30, 30, 10 };
	unsigned int total = 0, r;

	for (unsigned int o = 0; o <= max_order && o < ARRAY_SIZE(w); o++)
		total += w[o];
	r = (unsigned int)rng_below(t, total);
	for (unsigned int o = 0; o <= max_order && o < ARRAY_SIZE(w); o++) {
		if (r < w[o])
			return o;
		r -= w[o];
	}
	return 0;
}

static gfp_t mixed_gfp(struct stress_thread *t, unsigned int order, int *nid)
{
	static const gfp_t g[] = {
		GFP_KERNEL,
		GFP_KERNEL | __GFP_COMP,
		GFP_HIGHUSER_MOVABLE,
		GFP_KERNEL | __GFP_RECLAIMABLE,
		GFP_ATOMIC,
		GFP_ATOMIC | __GFP_COMP | __GFP_NOWARN,
		GFP_NOWAIT,
		GFP_KERNEL | __GFP_ZERO,
		GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN,
		GFP_KERNEL | GFP_DMA32,
		GFP_KERNEL | __GFP_THISNODE,
		GFP_HIGHUSER_MOVABLE | __GFP_ZERO,
	};
	gfp_t gfp = g[rng_below(t, ARRAY_SIZE(g))];

	*nid = -1;
	if (gfp & __GFP_THISNODE)
		*nid = pick_node(t);
	else if (rng_chance(t, 150))
		*nid = pick_node(t);
	if (order == 9 && rng_chance(t, 300))
		gfp = rng_chance(t, 500) ? GFP_TRANSHUGE_LIGHT : GFP_TRANSHUGE;
	/* __GFP_ZERO of the largest blocks costs more than it tests */
	if (order > 6)
		gfp &= ~__GFP_ZERO;
	return gfp;
}

static void step_mixed_orders(struct stress_thread *t)
{
	struct stress_run *run = t->run;
	unsigned int r = (unsigned int)rng_below(t, 1000);

	if (r < 2) {
		stress_drain_all(t);
		return;
	}
	if (r < 3) {
		/* percpu_pagelist_high_fraction-like retuning while others
		 * allocate (zone_pcp_update under pcp_batch_high_lock) */
		struct op_rec *op = op_begin(t, OP_SET_PCP);
		bool automatic = rng_chance(t, 500);
		int high = automatic ? 0 : 16 + (int)rng_below(t, 600);
		int batch = automatic ? 0 : 1 + (int)rng_below(t, 63);
		if (!automatic && batch > high / 4)
			batch = high / 4 ? high / 4 : 1;
		op->arg = (uint64_t)high;
		op->order = (uint8_t)batch;
		op->result = buddy_set_pcp_high_batch(run->sys, high, batch);
		op_end(t, op);
		t->touch_pcp = true;
		return;
	}
	uint64_t target = stress_target_pages(t, 30, 105);
	if (t->held_pages < target && r < 560) {
		unsigned int order = mixed_order(t, run->max_order);
		int nid;
		gfp_t gfp = mixed_gfp(t, order, &nid);
		/* half the movable blocks belong to a mapping (they can be
		 * migrated or reclaimed), half are plain */
		if ((gfp & __GFP_MOVABLE) && rng_chance(t, 500)) {
			stress_alloc_mapped(t, gfp, order, nid, rng_chance(t, 300));
		} else {
			/* ZONE_MOVABLE is for memory that can move: a plain
			 * movable block stays below it (gfp_zone() of MOVABLE
			 * without HIGHMEM is ZONE_NORMAL), as the kernel's
			 * non-LRU movable users do */
			if (gfp & __GFP_MOVABLE)
				gfp &= ~__GFP_HIGHMEM;
			stress_alloc(t, gfp, order, nid, 0);
		}
		return;
	}
	free_some(t, 100, 100, true);
}

/* ---- fragmenter: long-lived unmovable pins among movable pages ---- */
static void step_fragmenter(struct stress_thread *t)
{
	uint64_t share = t->run->managed_pages / (uint64_t)t->run->nthreads;
	unsigned int r = (unsigned int)rng_below(t, 1000);
	uint64_t target = stress_target_pages(t, 40, 95);

	if (r < 60) {
		/* a higher-order request that must steal or fail */
		static const gfp_t g[] = { GFP_KERNEL, GFP_KERNEL | __GFP_RECLAIMABLE, GFP_HIGHUSER_MOVABLE,
					   GFP_ATOMIC | __GFP_NOWARN, GFP_KERNEL | __GFP_NORETRY };
		stress_alloc(t, g[rng_below(t, ARRAY_SIZE(g))], 3 + (unsigned int)rng_below(t, 7), -1, 0);
		return;
	}
	if (r < 62) {
		/* a pin ends, rarely */
		long s = stress_pick(t, true);
		if (s >= 0)
			stress_free(t, (uint32_t)s, -1);
		return;
	}
	if (t->held_pages < target && r < 600) {
		/* every twelfth page is an unmovable pin, up to a tenth of
		 * the share: slab-like pages scattered through movable memory */
		if (t->pinned_pages < share / 10 && rng_chance(t, 83)) {
			static const gfp_t pin[] = { GFP_KERNEL, GFP_KERNEL | __GFP_RECLAIMABLE, GFP_NOFS };
			stress_alloc(t, pin[rng_below(t, ARRAY_SIZE(pin))], 0, -1, HELD_PINNED);
		} else {
			/* movable memory is migratable memory: compaction and
			 * offlining can move it, only the pins stay */
			stress_alloc_mapped(t, GFP_HIGHUSER_MOVABLE, rng_chance(t, 900) ? 0 : 1, -1, rng_chance(t, 300));
		}
		return;
	}
	free_some(t, 50, 50, false);
}

/* ---- thp: order-9 requests against mapped movable order-0 fillers ---- */
static void compact_op(struct stress_thread *t)
{
	struct stress_run *run = t->run;
	struct op_rec *op = op_begin(t, OP_COMPACT);
	int nid = pick_node(t);

	op->node = (int16_t)nid;
	if (rng_chance(t, 300)) {
		op->arg = UINT64_MAX; /* the node */
		op->result = buddy_compact_node(run->sys, nid);
	} else {
		/* a populated zone of the node, for the pageblock order */
		int zone = -1;
		for (int k = 0; k < MAX_NR_ZONES; k++) {
			int z = (int)((unsigned int)(k + (int)rng_below(t, MAX_NR_ZONES)) % MAX_NR_ZONES);
			if (run->populated[nid][z]) {
				zone = z;
				break;
			}
		}
		if (zone < 0) {
			op_end(t, op);
			return;
		}
		enum buddy_compact_mode mode = (enum buddy_compact_mode)rng_below(t, 3);
		/* the pageblock order, or the whole zone as compact_memory does */
		int order = rng_chance(t, 400) ? -1 : (int)run->pageblock_order;
		op->order = (uint8_t)(order < 0 ? 0xff : order);
		op->arg = (uint64_t)zone;
		op->result = buddy_compact_zone(run->sys, nid, (enum zone_type)zone, order, mode);
	}
	op_end(t, op);
}

static void step_thp(struct stress_thread *t)
{
	unsigned int r = (unsigned int)rng_below(t, 1000);
	/* room left free, but in pieces: what compaction is for */
	uint64_t target = stress_target_pages(t, 40, 80);

	if (r < 10) {
		compact_op(t);
		return;
	}
	if (r < 80) {
		gfp_t gfp = rng_chance(t, 500) ? GFP_TRANSHUGE_LIGHT : GFP_TRANSHUGE;
		if (rng_chance(t, 500))
			stress_alloc_mapped(t, gfp, t->run->pageblock_order, -1, false);
		else
			stress_alloc(t, gfp, t->run->pageblock_order, -1, 0);
		return;
	}
	if (t->held_pages < target && r < 600) {
		if (rng_chance(t, 900))
			stress_alloc_mapped(t, GFP_HIGHUSER_MOVABLE, 0, -1, rng_chance(t, 300));
		else
			stress_alloc(t, GFP_KERNEL, 0, -1, HELD_PINNED); /* a few unmovable pins spoil pageblocks */
		return;
	}
	free_some(t, 0, 50, rng_chance(t, 50));
}

/* ---- pressure: page cache beyond memory, so kswapd and direct reclaim work ---- */
static void step_pressure(struct stress_thread *t)
{
	struct stress_run *run = t->run;
	unsigned int r = (unsigned int)rng_below(t, 1000);
	uint64_t target = stress_target_pages(t, 70, 140);

	if (r < 10) {
		struct op_rec *op = op_begin(t, OP_KSWAPD);
		op->node = (int16_t)pick_node(t);
		op->result = (int64_t)buddy_kswapd_run(run->sys, op->node);
		op_end(t, op);
		return;
	}
	if (r < 20) {
		struct op_rec *op = op_begin(t, OP_DIRECT_RECLAIM);
		op->node = (int16_t)pick_node(t);
		op->gfp = GFP_KERNEL;
		op->result = (int64_t)buddy_try_to_free_pages(run->sys, GFP_KERNEL, 0, op->node);
		op_end(t, op);
		t->touch_pcp = true;
		return;
	}
	if (t->held_pages < target && r < 700) {
		if (r < 620)
			stress_alloc_mapped(t, GFP_HIGHUSER_MOVABLE, rng_chance(t, 900) ? 0 : 2, -1, true);
		else if (r < 660)
			stress_alloc_mapped(t, GFP_HIGHUSER_MOVABLE, 0, -1, false);
		else
			stress_alloc(t, rng_chance(t, 500) ? GFP_KERNEL : GFP_NOFS, 0, -1, 0);
		return;
	}
	free_some(t, 0, 100, true);
}

/* ---- oom-storm: anonymous memory of tasks with every oom_score_adj ---- */
static int new_task(struct stress_thread *t)
{
	static const int adj[] = { BUDDY_OOM_SCORE_ADJ_MIN, -500, 0, 0, 0, 300, 800, BUDDY_OOM_SCORE_ADJ_MAX };
	char comm[16];

	snprintf(comm, sizeof(comm), "stress-%d", t->id);
	int task = buddy_task_create(t->run->sys, comm, adj[rng_below(t, sizeof(adj) / sizeof(adj[0]))]);
	if (task > 0)
		buddy_bind_task(t->run->sys, task);
	return task > 0 ? task : 0;
}

/* A killed task's thread lets go of what is left and starts a new task,
 * as a killed process exits and another one starts. */
static bool oom_respawn(struct stress_thread *t)
{
	struct buddy_task_info info;
	struct stress_run *run = t->run;

	if (!t->task || buddy_task_info(run->sys, t->task, &info) || !info.oom_killed)
		return false;
	for (;;) {
		long s = -1;
		pthread_mutex_lock(&t->lock);
		for (uint32_t i = 0; i < t->nlive; i++)
			if (t->slots[t->live[i]].flags & HELD_MAPPED) {
				s = t->live[i];
				break;
			}
		pthread_mutex_unlock(&t->lock);
		if (s < 0 || t->failed)
			break;
		stress_free(t, (uint32_t)s, -1);
	}
	buddy_bind_task(run->sys, 0);
	if (buddy_task_destroy(run->sys, t->task) && t->nzombies < (int)(sizeof(t->zombies) / sizeof(t->zombies[0])))
		t->zombies[t->nzombies++] = t->task;
	t->task = new_task(t);
	return true;
}

/* Killed tasks go away once nothing is charged to them any more. */
void stress_reap_zombies(struct stress_thread *t)
{
	for (int i = 0; i < t->nzombies;)
		if (buddy_task_destroy(t->run->sys, t->zombies[i]) == 0)
			t->zombies[i] = t->zombies[--t->nzombies];
		else
			i++;
}

static void step_oom_storm(struct stress_thread *t)
{
	struct stress_run *run = t->run;
	unsigned int r = (unsigned int)rng_below(t, 1000);

	if (!t->task) {
		t->task = new_task(t);
		return;
	}
	if (oom_respawn(t))
		return;
	if (t->nzombies && rng_chance(t, 20))
		stress_reap_zombies(t);
	if (r < 3) {
		struct op_rec *op = op_begin(t, OP_OOM);
		op->gfp = GFP_KERNEL;
		op->result = buddy_out_of_memory(run->sys, GFP_KERNEL, 0, 0);
		op_end(t, op);
		return;
	}
	if (r < 6) {
		int adj = (int)rng_below(t, 2001) - 1000;
		buddy_task_set_oom_score_adj(run->sys, t->task, adj);
		return;
	}
	uint64_t target = stress_target_pages(t, 90, 160);
	if (t->held_pages < target && r < 750) {
		stress_alloc_mapped(t, GFP_HIGHUSER_MOVABLE, rng_chance(t, 950) ? 0 : 3, -1, false);
		return;
	}
	free_some(t, 0, 0, true);
}

/* ---- cma: cma_alloc and alloc_contig_range against movable traffic ---- */
static void release_range(struct stress_thread *t, int i)
{
	struct stress_run *run = t->run;
	struct range_hold h;

	if (!stress_range_detach(t, i, &h))
		return;
	if (h.kind == RANGE_CMA) {
		struct op_rec *op = op_begin(t, OP_CMA_RELEASE);
		op->pfn = h.pfn;
		op->arg = h.count;
		op->node = (int16_t)h.area;
		op->result = buddy_cma_release(run->sys, h.area, buddy_pfn_to_page(run->sys, h.pfn), h.count);
		op_end(t, op);
		if (!op->result)
			stress_violation(t, "cma-release-refused", "cma_release of [0x%" PRIx64 ", +%" PRIu64 ") in area %d",
					 h.pfn, h.count, h.area);
	} else {
		struct op_rec *op = op_begin(t, OP_CONTIG_FREE);
		op->pfn = h.pfn;
		op->arg = h.count;
		buddy_free_contig_range(run->sys, h.pfn, h.count);
		op_end(t, op);
	}
	t->touch_pcp = true;
}

void stress_release_ranges(struct stress_thread *t)
{
	while (t->nranges && !t->failed)
		release_range(t, t->nranges - 1);
}

static void cma_alloc_op(struct stress_thread *t)
{
	struct stress_run *run = t->run;

	if (!run->topo.nr_cma || t->nranges >= STRESS_MAX_RANGES)
		return;
	int area = (int)rng_below(t, (uint64_t)run->topo.nr_cma);
	uint64_t size = run->topo.cma[area].end_pfn - run->topo.cma[area].start_pfn;
	uint64_t count = 1 + rng_below(t, size / 8 < 512 ? size / 8 : 512);
	unsigned int align = (unsigned int)rng_below(t, 5);
	struct op_rec *op = op_begin(t, OP_CMA_ALLOC);
	op->node = (int16_t)area;
	op->arg = count;
	op->order = (uint8_t)align;
	struct page *page = buddy_cma_alloc(run->sys, area, count, align);
	op->pfn = page ? buddy_page_to_pfn(run->sys, page) : UINT64_MAX;
	op->result = page != NULL;
	op_end(t, op);
	t->touch_pcp = true;
	if (!page)
		return;
	uint64_t pfn = buddy_page_to_pfn(run->sys, page);
	if (pfn < run->topo.cma[area].start_pfn || pfn + count > run->topo.cma[area].end_pfn ||
	    (pfn & ((1ULL << align) - 1))) {
		stress_violation(t, "cma-range-wrong", "cma_alloc(area %d, %" PRIu64 " pages, align %u) gave [0x%" PRIx64
				 ", +%" PRIu64 ") outside the area or misaligned",
				 area, count, align, pfn, count);
		return;
	}
	stress_range_take(t, RANGE_CMA, area, pfn, count);
}

static void contig_alloc_op(struct stress_thread *t)
{
	struct stress_run *run = t->run;

	if (t->nranges >= STRESS_MAX_RANGES)
		return;
	/* pageblock-aligned ranges of node 1's Normal zone (or node 0's
	 * last zone), where movable traffic lives */
	int nid = run->topo.nr_nodes - 1;
	const struct buddy_pfn_range *z = NULL;
	for (int zi = MAX_NR_ZONES - 1; zi >= 0; zi--) {
		const struct buddy_pfn_range *c = &run->topo.zones[nid][zi];
		if (c->end_pfn > c->start_pfn) {
			z = c;
			break;
		}
	}
	if (!z)
		return;
	uint64_t pb = 1ULL << run->pageblock_order;
	uint64_t first = (z->start_pfn + pb - 1) / pb, last = z->end_pfn / pb;
	if (last <= first)
		return;
	uint64_t nr = 1 + rng_below(t, 2);
	uint64_t b = first + rng_below(t, last - first);
	if (b + nr > last)
		nr = last - b;
	struct op_rec *op = op_begin(t, OP_CONTIG_ALLOC);
	op->pfn = b * pb;
	op->arg = nr * pb;
	op->node = (int16_t)nid;
	op->gfp = GFP_KERNEL;
	op->result = buddy_alloc_contig_range(run->sys, b * pb, (b + nr) * pb, MIGRATE_MOVABLE, GFP_KERNEL);
	op_end(t, op);
	t->touch_pcp = true;
	if (op->result == 0)
		stress_range_take(t, RANGE_CONTIG, -1, b * pb, nr * pb);
}

static void step_cma(struct stress_thread *t)
{
	unsigned int r = (unsigned int)rng_below(t, 1000);
	uint64_t target = stress_target_pages(t, 40, 95);

	if (r < 40) {
		cma_alloc_op(t);
		return;
	}
	if (r < 50) {
		contig_alloc_op(t);
		return;
	}
	if (r < 100 && t->nranges) {
		release_range(t, (int)rng_below(t, (uint64_t)t->nranges));
		return;
	}
	if (t->held_pages < target && r < 650) {
		stress_alloc_mapped(t, GFP_HIGHUSER_MOVABLE, rng_chance(t, 900) ? 0 : 2, -1, rng_chance(t, 300));
		return;
	}
	free_some(t, 0, 50, true);
}

/* ---- hotplug: offline and online movable ranges while others allocate ---- */
static int setup_hotplug(struct stress_run *run)
{
	/* memory blocks of 4 pageblocks in the last zone of the last node
	 * (ZONE_MOVABLE in the built-in topology) */
	int nid = run->topo.nr_nodes - 1;
	const struct buddy_pfn_range *z = NULL;
	for (int zi = MAX_NR_ZONES - 1; zi >= 0 && !z; zi--)
		if (run->topo.zones[nid][zi].end_pfn > run->topo.zones[nid][zi].start_pfn)
			z = &run->topo.zones[nid][zi];
	if (!z)
		return 0;
	uint64_t blk = 4ULL << run->pageblock_order;
	uint64_t start = (z->start_pfn + blk - 1) / blk * blk;
	for (run->nr_hotplug = 0; run->nr_hotplug < 4 && start + blk <= z->end_pfn; start += blk)
		run->hotplug[run->nr_hotplug++] = (struct buddy_pfn_range){ start, start + blk };
	return 0;
}

static void step_hotplug(struct stress_thread *t)
{
	struct stress_run *run = t->run;
	unsigned int r = (unsigned int)rng_below(t, 1000);
	uint64_t target = stress_target_pages(t, 30, 80);

	if (r < 15 && run->nr_hotplug) {
		int i = (int)rng_below(t, (uint64_t)run->nr_hotplug);
		int state = atomic_load(&run->hotplug_state[i]);
		int want = state == 0 ? 1 : state == 2 ? 3 : -1;
		/* 1: going offline, 3: coming online; one thread at a time */
		if (want < 0 || !atomic_compare_exchange_strong(&run->hotplug_state[i], &state, want))
			return;
		uint64_t pfn = run->hotplug[i].start_pfn, nr = run->hotplug[i].end_pfn - pfn;
		struct op_rec *op = op_begin(t, want == 1 ? OP_OFFLINE : OP_ONLINE);
		op->pfn = pfn;
		op->arg = nr;
		op->result = want == 1 ? buddy_offline_pages(run->sys, pfn, nr) : buddy_online_pages(run->sys, pfn, nr);
		op_end(t, op);
		t->touch_pcp = true;
		if (want == 1)
			atomic_store(&run->hotplug_state[i], op->result == 0 ? 2 : 0);
		else if (op->result == 0)
			atomic_store(&run->hotplug_state[i], 0);
		else
			stress_violation(t, "online-failed", "online of [0x%" PRIx64 ", +%" PRIu64 ") returned %" PRId64, pfn, nr,
					 op->result);
		return;
	}
	if (t->held_pages < target && r < 600) {
		stress_alloc_mapped(t, GFP_HIGHUSER_MOVABLE, rng_chance(t, 900) ? 0 : 1, -1, rng_chance(t, 300));
		return;
	}
	if (t->held_pages < target && r < 650) {
		stress_alloc(t, GFP_KERNEL, 0, -1, 0);
		return;
	}
	free_some(t, 0, 50, true);
}

static void teardown_hotplug(struct stress_run *run)
{
	for (int i = 0; i < run->nr_hotplug; i++) {
		if (atomic_load(&run->hotplug_state[i]) != 2)
			continue;
		uint64_t pfn = run->hotplug[i].start_pfn;
		int ret = buddy_online_pages(run->sys, pfn, run->hotplug[i].end_pfn - pfn);
		if (ret)
			stress_record_violation(run, -1, STRESS_TEARDOWN, "online-failed", "online of [0x%" PRIx64 ", ...) at teardown returned %d",
						pfn, ret);
		atomic_store(&run->hotplug_state[i], 0);
	}
}

/* ---- hwpoison: memory_failure on random pfns while running ---- */
static void step_hwpoison(struct stress_thread *t)
{
	struct stress_run *run = t->run;
	unsigned int r = (unsigned int)rng_below(t, 1000);
	uint64_t target = stress_target_pages(t, 30, 90);

	if (r < 4) {
		/* any pfn of a zone: free, on a pcp list, or somebody's */
		int nid = pick_node(t);
		int zi = (int)rng_below(t, MAX_NR_ZONES);
		const struct buddy_pfn_range *z = &run->topo.zones[nid][zi];
		if (z->end_pfn <= z->start_pfn)
			return;
		uint64_t pfn = z->start_pfn + rng_below(t, z->end_pfn - z->start_pfn);
		pthread_mutex_lock(&run->poison_lock);
		bool room = run->nr_poisoned < STRESS_MAX_POISON;
		pthread_mutex_unlock(&run->poison_lock);
		if (!room)
			return; /* every poisoned pfn must be remembered for unpoison */
		struct op_rec *op = op_begin(t, OP_MEMORY_FAILURE);
		op->pfn = pfn;
		op->result = buddy_memory_failure(run->sys, pfn);
		op_end(t, op);
		t->touch_pcp = true;
		t->touch_nid = nid;
		t->touch_zone = zi;
		if (op->result == 0) {
			pthread_mutex_lock(&run->poison_lock);
			if (run->nr_poisoned < STRESS_MAX_POISON)
				run->poisoned[run->nr_poisoned++] = pfn;
			pthread_mutex_unlock(&run->poison_lock);
		}
		return;
	}
	if (r < 8) {
		uint64_t pfn = UINT64_MAX;
		pthread_mutex_lock(&run->poison_lock);
		if (run->nr_poisoned) {
			size_t i = rng_below(t, run->nr_poisoned);
			pfn = run->poisoned[i];
			run->poisoned[i] = run->poisoned[--run->nr_poisoned];
		}
		pthread_mutex_unlock(&run->poison_lock);
		if (pfn == UINT64_MAX)
			return;
		struct op_rec *op = op_begin(t, OP_UNPOISON);
		op->pfn = pfn;
		op->result = buddy_unpoison_memory(run->sys, pfn);
		op_end(t, op);
		t->touch_pcp = true;
		if (op->result == -EBUSY) {
			/* still in a block somebody holds: later */
			pthread_mutex_lock(&run->poison_lock);
			run->poisoned[run->nr_poisoned++] = pfn;
			pthread_mutex_unlock(&run->poison_lock);
		}
		return;
	}
	if (t->held_pages < target && r < 600) {
		if (rng_chance(t, 700))
			stress_alloc_mapped(t, GFP_HIGHUSER_MOVABLE, rng_chance(t, 900) ? 0 : 2, -1, rng_chance(t, 500));
		else
			stress_alloc(t, GFP_KERNEL, (unsigned int)rng_below(t, 3), -1, 0);
		return;
	}
	free_some(t, 0, 50, true);
}

static void teardown_hwpoison(struct stress_run *run)
{
	/* Every block is free by now: pages still poisoned go back, so the
	 * leak check can count them (one that stays out shows there). */
	for (size_t i = 0; i < run->nr_poisoned; i++)
		buddy_unpoison_memory(run->sys, run->poisoned[i]);
	run->nr_poisoned = 0;
}

/* ---- mix ---- */
static void step_mix(struct stress_thread *t);
static int setup_mix(struct stress_run *run);
static void teardown_mix(struct stress_run *run);

static const struct stress_profile profiles[] = {
	{ "pcp-churn", "order-0 traffic, most frees on another CPU than the allocation (hand-off between threads)",
	  step_pcp_churn, NULL, NULL, true, true },
	{ "mixed-orders", "orders 0..MAX_PAGE_ORDER with every common GFP combination, pcp retuning",
	  step_mixed_orders, NULL, NULL, true, true },
	{ "fragmenter", "long-lived unmovable pins among movable pages, higher-order requests that must steal",
	  step_fragmenter, NULL, NULL, true, true },
	{ "thp", "order-9 GFP_TRANSHUGE(_LIGHT) requests against mapped movable fillers (compaction's work)",
	  step_thp, NULL, NULL, true, true },
	{ "pressure", "page cache beyond memory: kswapd and direct reclaim take mapped file pages back",
	  step_pressure, NULL, NULL, true, true },
	{ "oom-storm", "anonymous memory of tasks with oom_score_adj -1000..1000 past what exists: OOM kills",
	  step_oom_storm, NULL, NULL, true, true },
	{ "cma", "cma_alloc and alloc_contig_range against movable traffic that must migrate away",
	  step_cma, NULL, NULL, true, true },
	{ "hotplug", "offline and online movable memory blocks while others allocate",
	  step_hotplug, setup_hotplug, teardown_hotplug, true, true },
	{ "hwpoison", "memory_failure and unpoison on random pfns while others allocate",
	  step_hwpoison, NULL, teardown_hwpoison, true, true },
	{ "mix", "every other profile at once, drawn step by step", step_mix, setup_mix, teardown_mix, false, true },
};

static int setup_mix(struct stress_run *run)
{
	for (size_t i = 0; i < ARRAY_SIZE(profiles); i++)
		if (profiles[i].in_mix && profiles[i].setup && profiles[i].setup(run))
			return -1;
	return 0;
}

static void teardown_mix(struct stress_run *run)
{
	for (size_t i = 0; i < ARRAY_SIZE(profiles); i++)
		if (profiles[i].in_mix && profiles[i].teardown)
			profiles[i].teardown(run);
}

static void step_mix(struct stress_thread *t)
{
	size_t n = 0;
	const struct stress_profile *in[ARRAY_SIZE(profiles)];

	for (size_t i = 0; i < ARRAY_SIZE(profiles); i++)
		if (profiles[i].in_mix)
			in[n++] = &profiles[i];
	in[rng_below(t, n)]->step(t);
}

size_t stress_profiles(const struct stress_profile **list)
{
	if (list)
		*list = profiles;
	return ARRAY_SIZE(profiles);
}

const struct stress_profile *stress_profile_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(profiles); i++)
		if (!strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

void stress_profiles_list(FILE *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(profiles); i++)
		fprintf(out, "  %-13s %s\n", profiles[i].name, profiles[i].what);
}
