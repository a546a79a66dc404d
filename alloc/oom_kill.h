/* The OOM killer (alloc/oom_kill.c, mm/oom_kill.c): what page_alloc.c's
 * slow path needs from it.
 *
 * How __alloc_pages_may_oom() uses this, as mm/page_alloc.c orders it:
 *
 *	*did_some_progress = 0;
 *	if (pthread_mutex_trylock(&sys->slow->oom_lock)) {
 *		*did_some_progress = 1;          somebody else is killing for us
 *		return NULL;
 *	}
 *	page = get_page_from_freelist((gfp | __GFP_HARDWALL) & ~__GFP_DIRECT_RECLAIM, order,
 *				      ALLOC_WMARK_HIGH | ALLOC_CPUSET, ac);
 *	if (!page && oom_allowed(gfp, order, ac->highest_zoneidx) &&
 *	    (out_of_memory(sys, gfp, order, ac->nodemask) || (gfp & __GFP_NOFAIL))) {
 *		*did_some_progress = 1;
 *		if (gfp & __GFP_NOFAIL)
 *			page = <cpuset fallback with ALLOC_NO_WATERMARKS>;
 *	}
 *	pthread_mutex_unlock(&sys->slow->oom_lock);
 *
 * __GFP_NOFAIL does not bypass the gates of oom_allowed() (it did before
 * Linux 4.12); it only turns "no progress" into progress and opens the
 * reserves.
 *
 * The OOM reaper runs inside out_of_memory(), under oom_lock, so when the
 * call returns the victim's reapable pages are back in the allocator.  It
 * calls the owners' mapping->ops->release with oom_lock held and no other
 * allocator lock: a release callback must not allocate with
 * __GFP_DIRECT_RECLAIM (its own slow path would find oom_lock taken and
 * retry forever), and an owner must not hold the lock its release takes
 * while it allocates with direct reclaim (migrate and reclaim callbacks
 * already forbid that).  release returns void and cannot refuse, so an
 * owner must drop its reference and call buddy_free_pages() under the lock
 * its release takes: otherwise a block it has let go of but not yet freed
 * is released (a no-op for the owner) and freed by the reaper, and then
 * freed again by the owner.  Under that lock the reaper either finds the
 * block still held, or the owner's free already under way (PG_freeing, in
 * which case release is not called and the reaper finishes that free).
 */
#ifndef BUDDY_OOM_KILL_H
#define BUDDY_OOM_KILL_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* include/linux/oom.h; the model has no cpusets or memcgs, so only NONE
 * and MEMORY_POLICY ever occur. */
enum oom_constraint {
	CONSTRAINT_NONE,
	CONSTRAINT_CPUSET,
	CONSTRAINT_MEMORY_POLICY,
	CONSTRAINT_MEMCG,
};

/* The gates of __alloc_pages_may_oom() that sit between the high-watermark
 * retry and out_of_memory(): false for costly orders, __GFP_RETRY_MAYFAIL,
 * __GFP_THISNODE and a highest zone below ZONE_NORMAL (the OOM killer does
 * not kill for lowmem).  PF_DUMPCORE and pm_suspended_storage() have no
 * model. */
bool oom_allowed(gfp_t gfp, unsigned int order, int highest_zoneidx);

/* out_of_memory(): the caller holds sys->slow->oom_lock.  nodemask is the
 * allocation's (0: all nodes).  true when the OOM killer made progress: a
 * task was killed and reaped, or the request is one the kernel answers
 * with "progress" without killing (a gfp without __GFP_FS).  false when no
 * task is eligible (where the kernel would panic). */
bool out_of_memory(struct buddy_system *sys, gfp_t gfp, unsigned int order, uint64_t nodemask);
/* The same, also giving the victim's task id (0 when nobody was killed). */
bool out_of_memory_victim(struct buddy_system *sys, gfp_t gfp, unsigned int order, uint64_t nodemask,
			  int *victim);

/* oom_reserves_allowed(current): the calling thread's task is an OOM
 * victim, so __gfp_pfmemalloc_flags() gives it ALLOC_OOM. */
bool oom_reserves_allowed(struct buddy_system *sys);
/* tsk_is_oom_victim() for any task id. */
bool task_is_oom_victim(struct buddy_system *sys, int task);

/* oom_badness(); LONG_MIN for a task that may never be chosen. */
long oom_badness(struct buddy_system *sys, int task, unsigned long totalpages);

#endif
