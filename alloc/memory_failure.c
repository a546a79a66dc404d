/* Memory failure (mm/memory-failure.c: memory_failure, take_page_off_buddy,
 * break_down_buddy_pages, unpoison_memory; the hwpoison check of
 * free_pages_prepare in mm/page_alloc.c).
 *
 * A poisoned page carries PG_hwpoison.  A free one is cut out of its buddy
 * block at once and kept out (NR_ZONE_HWPOISON).  An allocated one is only
 * marked: the block stays its owner's until freed, and the free keeps the
 * poisoned page out and frees the rest.  When the block sits on an LRU and
 * its owner has a release op, the failure does what the kernel's kill or
 * truncation does: the owner is told to forget the block and the block is
 * freed at once.
 *
 * Marking a page of an allocated block races with the block's free.  The
 * mark is set with every lock of the zone held, and the head is looked at
 * after it: a block not yet being freed will see the mark when it is; a
 * block already being freed may or may not, so the failure waits until the
 * block has landed, then takes the page off the buddy itself if the free
 * did not keep it out. */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>

#include "bugs.h"
#include "isolation.h"

/* Waits for a free in progress, or a pcp list to drain, before giving up
 * with the page marked: its free then keeps it out. */
#define MF_RETRIES 1000

static void action_result(struct buddy_system *sys, uint64_t pfn, const char *type, const char *result)
{
	buddy_log(sys, "Memory failure: %#" PRIx64 ": recovery action for %s: %s", pfn, type, result);
}

/* take_page_off_buddy(): cut pfn out of the free block that holds it and
 * give every other page back in the largest blocks that fit
 * (break_down_buddy_pages).  Every lock of the zone held. */
static bool take_page_off_buddy(struct buddy_system *sys, struct zone *zone, uint64_t pfn)
{
	struct block_at b;

	find_block(sys, zone, pfn, &b);
	if (b.kind != BK_FREE)
		return false;
	int mt = get_pfnblock_migratetype(sys, b.head);
	uint64_t be = block_end(&b);
	__del_from_free_list(zone, pfn_to_page(sys, b.head), b.order, mt);
	account_freepages(zone, -(1L << b.order), mt);
	free_pfn_range(zone, b.head, pfn, mt);
#ifdef BUDDY_BUG_HWPOISON_BREAKDOWN
	free_pfn_range(zone, pfn, be, mt);
#else
	free_pfn_range(zone, pfn + 1, be, mt);
#endif
	struct page *page = pfn_to_page(sys, pfn);
	page->order = 0;
	set_page_flag(page, PG_hwpoison);
	mod_zone_page_state(zone, NR_ZONE_HWPOISON, 1);
	return true;
}

/* kill_procs / truncate for an LRU block whose owner can let go of it. */
static bool release_poisoned_block(struct buddy_system *sys, uint64_t head_pfn)
{
	struct page *head = pfn_to_page(sys, head_pfn);
	struct lruvec *lv = &sys->slow->lruvec[head->nid];
	struct buddy_mapping *m = NULL;

	pthread_mutex_lock(&lv->lock);
	if (page_flag(head, PG_lru))
		m = head->mapping;
	pthread_mutex_unlock(&lv->lock);
	if (!m || !m->ops || !m->ops->release || !isolate_allocated_page(sys, head))
		return false;
	if (head->mapping != m) {
		putback_isolated_page(sys, head);
		return false;
	}
	/* A free that met the isolation already let go. */
	if (!page_flag(head, PG_freeing) && m->ops->release(m, head)) {
		/* The owner is freeing it itself. */
		putback_isolated_page(sys, head);
		return false;
	}
	free_isolated_page(sys, head);
	return true;
}

int buddy_memory_failure(struct buddy_system *sys, uint64_t pfn)
{
	if (!sys || !sys->cma)
		return -EINVAL;
	if (pfn >= sys->max_pfn || !page_flag(pfn_to_page(sys, pfn), PG_present)) {
		if (pfn < sys->max_pfn)
			buddy_log(sys, "Memory failure: %#" PRIx64 ": memory outside kernel control", pfn);
		return -ENXIO;
	}
	struct cma_state *cs = sys->cma;
	struct page *page = pfn_to_page(sys, pfn);
	struct zone *zone = page_zone(sys, page);
	bool marked = false, in_use = false;
	uint64_t in_use_head = 0;
	const char *type = NULL, *result = NULL; /* logged with no zone lock held */
	int ret = -EBUSY;

	if (!zone_spans_pfn(zone, pfn))
		return -ENXIO;
	pthread_mutex_lock(&cs->lock);
	if (page_flag(page, PG_offline)) {
		buddy_log(sys, "Memory failure: %#" PRIx64 ": memory outside kernel control", pfn);
		ret = -ENXIO;
		goto out;
	}
	if (page_flag(page, PG_hwpoison)) {
		buddy_log(sys, "Memory failure: %#" PRIx64 ": already hardware poisoned", pfn);
		ret = -EHWPOISON;
		goto out;
	}
	for (int tries = 0; tries < MF_RETRIES; tries++) {
		struct block_at b;
		bool drain = false, done = false;

		zone_lock_all(zone);
		find_block(sys, zone, pfn, &b);
		switch (b.kind) {
		case BK_FREE:
			take_page_off_buddy(sys, zone, pfn);
			if (marked)
				atomic_fetch_sub_explicit(&cs->poisoned_in_use, 1, memory_order_seq_cst);
			type = "free buddy page";
			result = "Recovered";
			ret = 0;
			done = true;
			break;
		case BK_NONE:
			/* Marked while its block was being freed, and the free
			 * kept it out. */
			if (marked && (b.flags & PAGE_FLAG(PG_hwpoison))) {
				type = "free buddy page";
				result = "Recovered";
				ret = 0;
			}
			done = true;
			break;
		case BK_ALLOCATED:
			if (!marked) {
				atomic_fetch_add_explicit(&cs->poisoned_in_use, 1, memory_order_seq_cst);
				atomic_fetch_or_explicit(&page->flags, PAGE_FLAG(PG_hwpoison), memory_order_seq_cst);
				marked = true;
			}
			/* Not being freed: its free will see the mark. */
			if (!(atomic_load_explicit(&pfn_to_page(sys, b.head)->flags, memory_order_seq_cst) &
			      PAGE_FLAG(PG_freeing))) {
				in_use = true;
				in_use_head = b.head;
				ret = 0;
				done = true;
			}
			break;
		case BK_PCP:
			drain = true;
			break;
		case BK_QUARANTINED:
			/* bad_page() keeps it for good; a mark set earlier stays
			 * with it and no free will come for it. */
			if (marked) {
				atomic_fetch_sub_explicit(&cs->poisoned_in_use, 1, memory_order_seq_cst);
				ret = 0;
			}
			type = "reserved kernel page";
			result = marked ? "Recovered" : "Ignored";
			done = true;
			break;
		case BK_HELD:
			break;
		}
		zone_unlock_all(zone);
		if (done)
			break;
		if (drain)
			buddy_drain_all_pages(sys);
		else
			sched_yield();
	}
	if (type)
		action_result(sys, pfn, type, result);
	if (in_use) {
		if (release_poisoned_block(sys, in_use_head))
			action_result(sys, pfn, "LRU page", "Recovered");
		else
			action_result(sys, pfn, "in-use page", "Delayed");
	} else if (ret && marked) {
		/* Still being freed after all this: the mark is set, and the
		 * free path or a later memory_failure finds it. */
		action_result(sys, pfn, "in-use page", "Delayed");
		ret = 0;
	} else if (ret && !type) {
		action_result(sys, pfn, "unknown page", "Ignored");
	}
out:
	pthread_mutex_unlock(&cs->lock);
	return ret;
}

bool free_pages_hwpoison_check(struct buddy_system *sys, struct page *head, unsigned int order)
{
	struct cma_state *cs = sys->cma;
	uint64_t nr = 1ULL << order;
	bool any = false;

	if (!hwpoison_in_use(sys))
		return false;
	for (uint64_t i = 0; i < nr && !any; i++)
		any = atomic_load_explicit(&head[i].flags, memory_order_seq_cst) & PAGE_FLAG(PG_hwpoison);
	if (!any)
		return false;

	struct zone *zone = page_zone(sys, head);
	uint64_t pfn = page_to_pfn(sys, head), run = pfn;
	long poisoned = 0;

	spin_lock(&zone->lock);
	page_clear_allocated(zone, head, order);
	/* Marks only change under this lock now: read them again. */
	for (uint64_t i = 0; i < nr; i++) {
		struct page *p = head + i;
		if (!page_flag(p, PG_hwpoison))
			continue;
		free_pfn_range(zone, run, pfn + i, -1);
		p->order = 0;
		run = pfn + i + 1;
		poisoned++;
	}
	free_pfn_range(zone, run, pfn + nr, -1);
	mod_zone_page_state(zone, NR_ZONE_HWPOISON, poisoned);
	atomic_fetch_sub_explicit(&cs->poisoned_in_use, poisoned, memory_order_seq_cst);
	spin_unlock(&zone->lock);
	return true;
}

int buddy_unpoison_memory(struct buddy_system *sys, uint64_t pfn)
{
	if (!sys || !sys->cma)
		return -EINVAL;
	if (pfn >= sys->max_pfn || !page_flag(pfn_to_page(sys, pfn), PG_present))
		return -ENXIO;
	struct cma_state *cs = sys->cma;
	struct page *page = pfn_to_page(sys, pfn);
	struct zone *zone = page_zone(sys, page);
	int ret = -EBUSY;

	if (!zone_spans_pfn(zone, pfn))
		return -ENXIO;
	pthread_mutex_lock(&cs->lock);
	if (!page_flag(page, PG_hwpoison)) {
		buddy_log(sys, "Unpoison: %#" PRIx64 ": page was already unpoisoned", pfn);
		goto out;
	}
	if (page_flag(page, PG_offline)) {
		buddy_log(sys, "Unpoison: %#" PRIx64 ": the hwpoison page is offline", pfn);
		goto out;
	}
	zone_lock_all(zone);
	struct block_at b;
	find_block(sys, zone, pfn, &b);
	if (b.kind == BK_NONE) {
		clear_page_flag(page, PG_hwpoison);
		mod_zone_page_state(zone, NR_ZONE_HWPOISON, -1);
		if (sys->backing)
			backing_on_free(sys, pfn, 0);
		__free_one_page(zone, page, pfn, 0, get_pfnblock_migratetype(sys, pfn));
		ret = 0;
	}
	zone_unlock_all(zone);
	if (ret)
		buddy_log(sys, "Unpoison: %#" PRIx64 ": someone grabs the hwpoison page", pfn);
	else
		buddy_log(sys, "Unpoison: Software-unpoisoned page %#" PRIx64, pfn);
out:
	pthread_mutex_unlock(&cs->lock);
	return ret;
}
