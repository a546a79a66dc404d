/* The state lives in the instance (sys->fault): fault_inject_init() at
 * buddy_system_create(), fault_inject_destroy() at buddy_system_destroy(),
 * so buddy_set_fault_injection() may be called while other threads
 * allocate.
 *
 * Fault injection, like the kernel's fail_page_alloc plus failures inside
 * compaction and reclaim.  The hooks are called by page_alloc.c,
 * compaction.c and vmscan.c; with injection off each costs two loads and
 * a branch.
 *
 * Determinism: the decision for the n-th eligible event of a site is a hash
 * of (seed, site, n), with n drawn from an atomic counter, so a
 * single-threaded run replays exactly and a multithreaded one draws the
 * same sequence of decisions (only which thread meets which decision
 * depends on the interleaving).  No lock is taken on the hot path. */
#ifndef BUDDY_FAULT_INJECT_H
#define BUDDY_FAULT_INJECT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "buddy/buddy.h"

struct fault_config;

/* Here rather than in fault_inject.c so that the allocation fast path can
 * see that injection is off without a call. */
struct buddy_fault_state {
	_Atomic(struct fault_config *) cfg; /* NULL: injection off */
	pthread_mutex_t lock;               /* writers only */
	struct fault_config *retired;       /* every snapshot ever published */
	uint64_t injected_before;           /* totals of snapshots replaced */
};

/* false: no configuration is published, so every hook would say no. */
static inline bool fault_inject_on(struct buddy_fault_state *st)
{
	return st && atomic_load_explicit(&st->cfg, memory_order_acquire);
}

enum buddy_fault_site {
	FAULT_SITE_ALLOC_PAGE,        /* should_fail_alloc_page(): fail_page_alloc */
	FAULT_SITE_COMPACTION_TARGET, /* compaction_alloc() finds no free target page */
	FAULT_SITE_MIGRATE_EAGAIN,    /* migrate_pages() gets -EAGAIN for one block */
	FAULT_SITE_RECLAIM,           /* shrink_folio_list() fails to reclaim one block */
	NR_FAULT_SITES
};

/* __should_fail_alloc_page(): true when this allocation must fail.  Called
 * from the allocation entry (before get_page_from_freelist), as the kernel's
 * prepare_alloc_pages() does. */
bool should_fail_alloc_page(struct buddy_system *sys, gfp_t gfp, unsigned int order);

/* true when the event at site (FAULT_SITE_COMPACTION_TARGET,
 * FAULT_SITE_MIGRATE_EAGAIN or FAULT_SITE_RECLAIM) must fail this time. */
bool should_fail_site(struct buddy_system *sys, int site);

/* Injected failures per site since the last buddy_set_fault_injection(). */
struct buddy_fault_stats {
	uint64_t injected[NR_FAULT_SITES];
	uint64_t eligible[NR_FAULT_SITES]; /* events that reached the decision */
};
void fault_inject_stats(struct buddy_system *sys, struct buddy_fault_stats *stats);
const char *fault_inject_site_name(int site);

/* Lifetime, from buddy_system_create()/destroy().  init: 0 or -ENOMEM. */
int fault_inject_init(struct buddy_system *sys);
void fault_inject_destroy(struct buddy_system *sys);

#endif
