/* Reclaim (mm/vmscan.c): shrinking the LRU lists, kswapd's balance_pgdat,
 * direct reclaim (try_to_free_pages), and the kswapd and kcompactd threads.
 *
 * Only blocks whose mapping can reclaim them (the file LRU) are reclaimed:
 * the model has no swap, so anonymous memory is not, as on a kernel
 * without swap.  Without kthreads, kswapd's work runs inline where the
 * kernel would wake it, so a run replays exactly from its inputs. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "compaction.h"
#include "fault_inject.h"
#include "bugs.h"
#include "internal.h"

#define DEF_PRIORITY 12
#define SWAP_CLUSTER_MAX 32UL
#define RECLAIM_BATCH 64

struct scan_control {
	unsigned long nr_to_reclaim;
	unsigned long nr_reclaimed;
	unsigned long nr_scanned;
	int priority;
	bool kswapd;
};

static unsigned long lru_pages(struct buddy_system *sys, int nid, enum lru_list l)
{
	return (unsigned long)atomic_load_explicit(&sys->slow->lruvec[nid].nr_pages[l], memory_order_relaxed);
}

/* shrink_folio_list(): ask each isolated block's owner to let go. */
static void shrink_page_list(struct buddy_system *sys, struct page **pages, size_t n, struct scan_control *sc)
{
	for (size_t i = 0; i < n; i++) {
		struct page *page = pages[i];
		struct buddy_mapping *m = page->mapping;
		unsigned long nr = 1UL << page->order;
		int rc = -EBUSY;

		if (m && m->ops && m->ops->reclaim && !should_fail_site(sys, FAULT_SITE_RECLAIM))
			rc = m->ops->reclaim(m, page);
		if (rc == 0) {
			/* The owner let go: the charge leaves with it. */
			free_isolated_page(sys, page);
			sc->nr_reclaimed += nr;
		} else {
			/* Referenced or busy: give it another round on the active list. */
			atomic_fetch_or_explicit(&page->flags, PAGE_FLAG(PG_active), memory_order_acq_rel);
			putback_isolated_page(sys, page);
		}
	}
}

/* shrink_lruvec() for one node at one priority: scan the inactive file list
 * (lru size >> priority, at least a batch), refilling it from the active
 * list when it runs short, as shrink_active_list does. */
static void shrink_node(struct buddy_system *sys, int nid, struct scan_control *sc)
{
	unsigned long inactive = lru_pages(sys, nid, LRU_INACTIVE_FILE);
	unsigned long active = lru_pages(sys, nid, LRU_ACTIVE_FILE);
	unsigned long total = inactive + active;
	unsigned long nr_to_scan = total >> sc->priority;

	if (!total)
		return;
	if (nr_to_scan < SWAP_CLUSTER_MAX)
		nr_to_scan = SWAP_CLUSTER_MAX;
	if (inactive < active)
		deactivate_lru_pages(sys, nid, true, nr_to_scan);

	while (nr_to_scan && sc->nr_reclaimed < sc->nr_to_reclaim) {
		struct page *batch[RECLAIM_BATCH];
		size_t scanned = 0;
		size_t n = isolate_lru_pages(sys, nid, LRU_INACTIVE_FILE, nr_to_scan, batch, RECLAIM_BATCH, &scanned);
		sc->nr_scanned += scanned;
		count_vm_events(sys, sc->kswapd ? PGSCAN_KSWAPD : PGSCAN_DIRECT, scanned);
		unsigned long before = sc->nr_reclaimed;
		shrink_page_list(sys, batch, n, sc);
		count_vm_events(sys, sc->kswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT, sc->nr_reclaimed - before);
		if (!scanned)
			break;
		nr_to_scan = scanned >= nr_to_scan ? 0 : nr_to_scan - scanned;
	}
}

/* ---- kswapd ---- */
static bool zone_balanced(struct zone *zone, unsigned int order, int highest_zoneidx)
{
#ifdef BUDDY_BUG_KSWAPD_LOW_WMARK
	unsigned long mark = wmark_pages(zone, WMARK_LOW);
#else
	unsigned long mark = wmark_pages(zone, WMARK_HIGH);
#endif
	return __zone_watermark_ok(zone, order, mark, highest_zoneidx, 0, zone_page_state(zone, NR_FREE_PAGES));
}

/* pgdat_balanced(): any eligible zone at its high watermark will do. */
static bool pgdat_balanced(struct buddy_system *sys, int nid, unsigned int order, int highest_zoneidx)
{
	bool any = false;

	for (int z = 0; z <= highest_zoneidx; z++) {
		struct zone *zone = &sys->nodes[nid]->node_zones[z];
		if (!zone->managed_pages)
			continue;
		any = true;
		if (zone_balanced(zone, order, highest_zoneidx))
			return true;
	}
	/* A node with no eligible zone has nothing to balance. */
	return !any;
}

static bool pgdat_watermark_boosted(struct buddy_system *sys, int nid, int highest_zoneidx)
{
	for (int z = highest_zoneidx; z >= 0; z--)
		if (atomic_load_explicit(&sys->nodes[nid]->node_zones[z].watermark_boost, memory_order_relaxed))
			return true;
	return false;
}

/* balance_pgdat(): reclaim at rising priority until the node is balanced
 * for the order, and the boost, if any, has been worked off. */
static unsigned long balance_pgdat(struct buddy_system *sys, int nid, unsigned int order, int highest_zoneidx)
{
	bool boosted = pgdat_watermark_boosted(sys, nid, highest_zoneidx);
	struct scan_control sc = { .kswapd = true, .priority = DEF_PRIORITY };

	count_vm_events(sys, PAGEOUTRUN, 1);
	do {
		if (pgdat_balanced(sys, nid, order, highest_zoneidx))
			break;
		/* kswapd_shrink_node(): aim for each eligible zone's high mark. */
		unsigned long target = 0;
		for (int z = 0; z <= highest_zoneidx; z++)
			if (sys->nodes[nid]->node_zones[z].managed_pages)
				target += wmark_pages(&sys->nodes[nid]->node_zones[z], WMARK_HIGH);
		sc.nr_to_reclaim = sc.nr_reclaimed + (target > SWAP_CLUSTER_MAX ? target : SWAP_CLUSTER_MAX);
		unsigned long before = sc.nr_reclaimed;
		shrink_node(sys, nid, &sc);
		/* Nothing left to reclaim at any priority: stop early. */
		if (sc.nr_reclaimed == before && !lru_pages(sys, nid, LRU_INACTIVE_FILE) &&
		    !lru_pages(sys, nid, LRU_ACTIVE_FILE))
			break;
	} while (--sc.priority >= 0);

	if (boosted) {
		/* The boost did its job (or cannot): drop it and let kcompactd
		 * act on the fragmentation that caused it. */
		for (int z = 0; z <= highest_zoneidx; z++)
			atomic_store_explicit(&sys->nodes[nid]->node_zones[z].watermark_boost, 0, memory_order_relaxed);
		wakeup_kcompactd(sys, nid, order, highest_zoneidx);
	}
	return sc.nr_reclaimed;
}

unsigned long buddy_kswapd_run(struct buddy_system *sys, int nid)
{
	if (!sys || nid < 0 || nid >= sys->nr_nodes)
		return 0;
	int order = atomic_exchange(&sys->slow->kswapd_order[nid], 0);
	int zoneidx = atomic_exchange(&sys->slow->kswapd_highest_zoneidx[nid], MAX_NR_ZONES - 1);
	atomic_store(&sys->slow->kswapd_wanted[nid], false);
	unsigned long reclaimed = balance_pgdat(sys, nid, (unsigned)order, zoneidx);
	/* kswapd_try_to_sleep: before sleeping, forget stale skip hints and
	 * let kcompactd make the order the wakeup asked for. */
	if (pgdat_balanced(sys, nid, (unsigned)order, zoneidx)) {
		reset_isolation_suitable(sys, nid);
		wakeup_kcompactd(sys, nid, order, zoneidx);
	}
	return reclaimed;
}

/* wakeup_kswapd(): nothing to do for a balanced, unboosted node; else hand
 * the work to the node's kswapd thread, or do it now without threads. */
void wakeup_kswapd(struct buddy_system *sys, struct zone *zone, gfp_t gfp, unsigned int order, int highest_zoneidx)
{
	struct buddy_slowpath *slow = sys->slow;
	int nid = zone->nid;

	(void)gfp;
	if (!populated_zone(zone))
		return;
	if (pgdat_balanced(sys, nid, order, highest_zoneidx) && !pgdat_watermark_boosted(sys, nid, highest_zoneidx))
		return;
	int cur = atomic_load(&slow->kswapd_order[nid]);
	while ((int)order > cur && !atomic_compare_exchange_weak(&slow->kswapd_order[nid], &cur, (int)order))
		;
	atomic_store(&slow->kswapd_highest_zoneidx[nid], highest_zoneidx);
	pthread_mutex_lock(&slow->kthread_lock);
	bool threads = slow->kthreads_running;
	if (threads) {
		atomic_store(&slow->kswapd_wanted[nid], true);
		pthread_cond_broadcast(&slow->kthread_wake);
	}
	pthread_mutex_unlock(&slow->kthread_lock);
	if (!threads)
		buddy_kswapd_run(sys, nid);
}

/* ---- direct reclaim ---- */
unsigned long try_to_free_pages(struct buddy_system *sys, gfp_t gfp, unsigned int order, struct zone **zonerefs,
				int nr_zonerefs, int highest_zoneidx, uint64_t nodemask)
{
	static const enum buddy_vm_event stall[MAX_NR_ZONES] = {
		ALLOCSTALL_DMA, ALLOCSTALL_DMA32, ALLOCSTALL_NORMAL, ALLOCSTALL_MOVABLE,
	};
	struct scan_control sc = { .nr_to_reclaim = SWAP_CLUSTER_MAX, .priority = DEF_PRIORITY };
	bool seen[BUDDY_MAX_NODES] = { false };

	(void)order;
	if (!(gfp & __GFP_FS) && !(gfp & __GFP_IO)) {
		/* Without IO or FS the model's file pages cannot be written
		 * back or dropped, as the kernel's may_writepage/may_unmap. */
		return 0;
	}
	count_vm_events(sys, stall[highest_zoneidx], 1);
	do {
		for (int i = 0; i < nr_zonerefs && sc.nr_reclaimed < sc.nr_to_reclaim; i++) {
			struct zone *zone = zonerefs[i];
			if ((int)zone->zid > highest_zoneidx || (nodemask && !(nodemask & (1ULL << zone->nid))))
				continue;
			if (seen[zone->nid])
				continue;
			seen[zone->nid] = true;
			shrink_node(sys, zone->nid, &sc);
		}
		for (int i = 0; i < BUDDY_MAX_NODES; i++)
			seen[i] = false;
	} while (sc.nr_reclaimed < sc.nr_to_reclaim && --sc.priority >= 0);
	return sc.nr_reclaimed;
}

unsigned long buddy_try_to_free_pages(struct buddy_system *sys, gfp_t gfp, unsigned int order, int nid)
{
	if (!sys || nid < -1 || nid >= sys->nr_nodes)
		return 0;
	if (nid < 0)
		nid = sys->topo.cpu_to_node[buddy_cpu_of_thread(sys)];
	struct pglist_data *pgdat = sys->nodes[nid];
	enum zone_type highest = ZONE_MOVABLE;
	if (buddy_gfp_zone(gfp, &highest))
		return 0;
	return try_to_free_pages(sys, gfp, order, pgdat->zonerefs, pgdat->nr_zonerefs, (int)highest, 0);
}

/* zone_reclaimable_pages(): what reclaim could free in this zone. */
unsigned long zone_reclaimable_pages(struct zone *zone)
{
	long nr = zone_page_state(zone, NR_ZONE_LRU_FILE);
	return nr > 0 ? (unsigned long)nr : 0;
}

/* ---- threads ---- */
struct kswapd_arg {
	struct buddy_system *sys;
	int nid;
};

/* Wait for a wakeup; with a timeout (ms > 0), false when it ran out. */
static bool kswapd_wait(struct buddy_slowpath *slow, int nid, long ms)
{
	struct timespec until;
	bool woken = true;

	if (ms > 0) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += ms * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
	}
	pthread_mutex_lock(&slow->kthread_lock);
	while (!atomic_load(&slow->kswapd_wanted[nid]) && !atomic_load(&slow->kthreads_stop)) {
		if (ms <= 0) {
			pthread_cond_wait(&slow->kthread_wake, &slow->kthread_lock);
		} else if (pthread_cond_timedwait(&slow->kthread_wake, &slow->kthread_lock, &until)) {
			woken = false;
			break;
		}
	}
	pthread_mutex_unlock(&slow->kthread_lock);
	return woken;
}

/* kswapd(): balance on each wakeup, then kswapd_try_to_sleep: a short nap
 * first (HZ/10); woken during it, memory went low again quickly; still
 * unbalanced after it, the high mark was hit quickly; either way kswapd
 * goes on, unless its last run reclaimed nothing (it would only spin: the
 * kernel's kswapd_failures). */
static void *kswapd_main(void *arg)
{
	struct buddy_system *sys = ((struct kswapd_arg *)arg)->sys;
	int nid = ((struct kswapd_arg *)arg)->nid;
	struct buddy_slowpath *slow = sys->slow;

	free(arg);
	for (;;) {
		kswapd_wait(slow, nid, 0);
		if (atomic_load(&slow->kthreads_stop))
			break;
		unsigned long reclaimed = buddy_kswapd_run(sys, nid);
		if (pgdat_balanced(sys, nid, 0, MAX_NR_ZONES - 1)) {
			bool woken = kswapd_wait(slow, nid, 100);
			if (atomic_load(&slow->kthreads_stop))
				break;
			if (woken) {
				count_vm_events(sys, KSWAPD_LOW_WMARK_HIT_QUICKLY, 1);
				continue;
			}
			if (pgdat_balanced(sys, nid, 0, MAX_NR_ZONES - 1))
				continue; /* fully asleep until the next wakeup */
		}
		count_vm_events(sys, KSWAPD_HIGH_WMARK_HIT_QUICKLY, 1);
		if (reclaimed)
			atomic_store(&slow->kswapd_wanted[nid], true);
	}
	return NULL;
}

int buddy_start_kthreads(struct buddy_system *sys)
{
	if (!sys)
		return -EINVAL;
	struct buddy_slowpath *slow = sys->slow;
	pthread_mutex_lock(&slow->kthread_lock);
	if (slow->kthreads_running) {
		pthread_mutex_unlock(&slow->kthread_lock);
		return -EBUSY;
	}
	atomic_store(&slow->kthreads_stop, false);
	slow->kthreads_running = true;
	pthread_mutex_unlock(&slow->kthread_lock);
	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		if (!sys->nodes[nid]->node_present_pages)
			continue;
		struct kswapd_arg *arg = malloc(sizeof(*arg));
		if (!arg)
			goto fail;
		*arg = (struct kswapd_arg){ sys, nid };
		if (pthread_create(&slow->kswapd[nid], NULL, kswapd_main, arg)) {
			free(arg);
			goto fail;
		}
		slow->kswapd_started[nid] = true;
		if (kcompactd_start(sys, nid))
			goto fail;
	}
	return 0;
fail:
	buddy_stop_kthreads(sys);
	return -ENOMEM;
}

void buddy_stop_kthreads(struct buddy_system *sys)
{
	if (!sys || !sys->slow)
		return;
	struct buddy_slowpath *slow = sys->slow;
	pthread_mutex_lock(&slow->kthread_lock);
	if (!slow->kthreads_running) {
		pthread_mutex_unlock(&slow->kthread_lock);
		return;
	}
	atomic_store(&slow->kthreads_stop, true);
	pthread_cond_broadcast(&slow->kthread_wake);
	pthread_mutex_unlock(&slow->kthread_lock);
	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		if (slow->kswapd_started[nid]) {
			pthread_join(slow->kswapd[nid], NULL);
			slow->kswapd_started[nid] = false;
		}
		kcompactd_stop(sys, nid);
	}
	pthread_mutex_lock(&slow->kthread_lock);
	slow->kthreads_running = false;
	pthread_mutex_unlock(&slow->kthread_lock);
}

bool kthreads_running(struct buddy_system *sys)
{
	pthread_mutex_lock(&sys->slow->kthread_lock);
	bool running = sys->slow->kthreads_running;
	pthread_mutex_unlock(&sys->slow->kthread_lock);
	return running;
}
