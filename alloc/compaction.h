/* Compaction (mm/compaction.c): the declarations page_alloc.c, vmscan.c and
 * the tests use.  The public calls (buddy_compact_zone and friends) are in
 * buddy/buddy.h. */
#ifndef BUDDY_COMPACTION_H
#define BUDDY_COMPACTION_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* Do not skip compaction more than 64 times. */
#define COMPACT_MAX_DEFER_SHIFT 6
/* SWAP_CLUSTER_MAX: pages isolated per migration batch. */
#define COMPACT_CLUSTER_MAX 32UL
/* kcompactd's proactive check interval. */
#define HPAGE_FRAG_CHECK_INTERVAL_MSEC 500
/* The sysctls at their defaults (vm.extfrag_threshold,
 * vm.compaction_proactiveness); the model has no writer for them. */
#define SYSCTL_EXTFRAG_THRESHOLD 500
#define SYSCTL_COMPACTION_PROACTIVENESS 20U

/* include/linux/compaction.h: how hard direct compaction tries. */
enum compact_priority {
	COMPACT_PRIO_SYNC_FULL,
	MIN_COMPACT_PRIORITY = COMPACT_PRIO_SYNC_FULL,
	COMPACT_PRIO_SYNC_LIGHT,
	MIN_COMPACT_COSTLY_PRIORITY = COMPACT_PRIO_SYNC_LIGHT,
	DEF_COMPACT_PRIORITY = COMPACT_PRIO_SYNC_LIGHT,
	COMPACT_PRIO_ASYNC,
	INIT_COMPACT_PRIORITY = COMPACT_PRIO_ASYNC
};

/* include/linux/migrate_mode.h */
enum migrate_mode { MIGRATE_ASYNC, MIGRATE_SYNC_LIGHT, MIGRATE_SYNC };

/* compact_gap(): free pages compaction wants beyond the watermark, room for
 * the isolated targets. */
static inline unsigned long compact_gap(unsigned int order)
{
	return 2UL << order;
}

/* ---- the free path's hook ---- */
/* Called by __free_one_page (zone lock held) at the top of its merge loop,
 * after account_freepages.  When the calling thread is in direct compaction
 * for this zone and the block has the order and a migratetype it wants, the
 * block is taken: the free-page accounting is undone and the block becomes
 * allocated (PG_allocated, NR_ZONE_ALLOCATED, alloc_mt = the request's type),
 * so it is in a checker-visible state at once.  The caller must then return
 * without putting it on a free list. */
struct capture_control;
extern _Thread_local struct capture_control *current_capture_control;
/* The merge loop calls it only when current_capture_control is set, which
 * it looks at once per free: a thread that is not compacting, the common
 * case, pays no call. */
bool __compaction_capture(struct zone *zone, struct page *page, unsigned int order, int mt);

/* ---- direct compaction (the slow path) ---- */
/* The zones of zonerefs[0..nr_zonerefs) up to highest_zoneidx and inside
 * nodemask (0: every node), as for_each_zone_zonelist_nodemask.  A block
 * captured while compacting is returned in *capture already allocated (see
 * __compaction_capture): the caller does only the content part of
 * prep_new_page.  COMPACTSTALL/FAIL/SUCCESS are the caller's to count, as
 * __alloc_pages_direct_compact does. */
enum buddy_compact_result try_to_compact_pages(struct buddy_system *sys, gfp_t gfp, unsigned int order,
					       unsigned int alloc_flags, struct zone **zonerefs, int nr_zonerefs,
					       int highest_zoneidx, uint64_t nodemask, enum compact_priority prio,
					       struct page **capture);
/* Is compaction worth running in this zone for this order now? */
bool compaction_suitable(struct zone *zone, int order, int highest_zoneidx);
/* should_compact_retry()'s question for COMPACT_SKIPPED: would one zone pass
 * __compaction_suitable if reclaim freed what it can? */
bool compaction_zonelist_suitable(struct zone **zonerefs, int nr_zonerefs, int highest_zoneidx, uint64_t nodemask,
				  int order);

/* Deferral.  Each takes zone->lock itself: call with no zone lock held. */
void defer_compaction(struct zone *zone, int order);
bool compaction_deferred(struct zone *zone, int order);
/* alloc_success also clears compact_blockskip_flush, as the kernel's only
 * alloc_success caller (__alloc_pages_direct_compact) does just before. */
void compaction_defer_reset(struct zone *zone, int order, bool alloc_success);
bool compaction_restarting(struct zone *zone, int order);

/* mm/vmstat.c: fragmentation_index(), -1000 when a block of the order is
 * free, else 0 (lack of memory) .. 1000 (fragmentation). */
int fragmentation_index(struct zone *zone, unsigned int order);
/* extfrag_for_order(): percent of free memory in blocks below order. */
unsigned int extfrag_for_order(struct zone *zone, unsigned int order);
unsigned int fragmentation_score_zone(struct zone *zone);
unsigned int fragmentation_score_node(struct buddy_system *sys, int nid);

/* Clear the pageblock skip hints of a node whose last full compaction
 * asked for it (compact_blockskip_flush); kswapd calls it before sleeping. */
void reset_isolation_suitable(struct buddy_system *sys, int nid);

/* ---- kcompactd ---- */
/* Record that the node wants a block of order (kswapd calls it when it goes
 * to sleep).  With the node's kcompactd running it is woken when
 * compaction looks worthwhile; without threads the work runs here, now,
 * so that a run replays exactly.  Takes kthread_lock: call with no lock
 * held. */
void wakeup_kcompactd(struct buddy_system *sys, int nid, int order, int highest_zoneidx);
/* One round of kcompactd's work, inline: the pending request if any, else a
 * proactive compaction when the node's fragmentation score is above the
 * high mark.  For the deterministic mode (threads not running). */
void kcompactd_do_work(struct buddy_system *sys, int nid);
/* The node's kcompactd thread; 0 or a negative errno.  Both take
 * kthread_lock: call them without it. */
int kcompactd_start(struct buddy_system *sys, int nid);
void kcompactd_stop(struct buddy_system *sys, int nid);

#endif
