/* Owners of pages: simulated tasks (for the OOM killer), mappings with
 * migrate/reclaim/release callbacks (the kernel's address_space and
 * movable_operations), the per-node LRU lists, and the isolation and
 * migration of allocated blocks that compaction, reclaim, contiguous
 * allocation, offlining and the OOM reaper share (mm/migrate.c, mm/swap.c).
 *
 * An allocated block has one owner reference.  A migration or reclaim first
 * isolates it (PG_isolated, set by compare-and-swap on the page flags, so it
 * cannot race a free); a free arriving while it is isolated marks it
 * PG_freeing and returns at once, and whoever ends the isolation finishes
 * that free.  Callbacks run on any thread; an owner serialises its own
 * reference against them and answers -EAGAIN/-EBUSY for a block it no longer
 * holds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bugs.h"
#include "internal.h"

static inline uint32_t flags_or(struct page *p, uint32_t bits)
{
	return atomic_fetch_or_explicit(&p->flags, bits, memory_order_acq_rel);
}

static inline uint32_t flags_and(struct page *p, uint32_t bits)
{
	return atomic_fetch_and_explicit(&p->flags, bits, memory_order_acq_rel);
}

int slowpath_init(struct buddy_system *sys)
{
	struct buddy_slowpath *slow = calloc(1, sizeof(*slow));

	if (!slow)
		return -ENOMEM;
	pthread_mutex_init(&slow->task_lock, NULL);
	pthread_mutex_init(&slow->oom_lock, NULL);
	pthread_mutex_init(&slow->kthread_lock, NULL);
	pthread_cond_init(&slow->kthread_wake, NULL);
	for (int nid = 0; nid < BUDDY_MAX_NODES; nid++) {
		/* A first kswapd run with no wakeup before it balances every zone. */
		atomic_store(&slow->kswapd_highest_zoneidx[nid], MAX_NR_ZONES - 1);
		slow->lruvec[nid].sys = sys;
		pthread_mutex_init(&slow->lruvec[nid].lock, NULL);
		for (int l = 0; l < NR_LRU_LISTS; l++)
			INIT_LIST_HEAD(&slow->lruvec[nid].lists[l]);
	}
	sys->slow = slow;
	return 0;
}

void slowpath_destroy(struct buddy_system *sys)
{
	struct buddy_slowpath *slow = sys->slow;

	if (!slow)
		return;
	for (int nid = 0; nid < BUDDY_MAX_NODES; nid++)
		pthread_mutex_destroy(&slow->lruvec[nid].lock);
	pthread_cond_destroy(&slow->kthread_wake);
	pthread_mutex_destroy(&slow->kthread_lock);
	pthread_mutex_destroy(&slow->oom_lock);
	pthread_mutex_destroy(&slow->task_lock);
	free(slow);
	sys->slow = NULL;
}

/* ---- tasks ---- */
#define TASK_BINDINGS 8
struct task_binding {
	const struct buddy_system *sys;
	int task;
};
static _Thread_local struct task_binding task_bindings[TASK_BINDINGS];
static _Thread_local unsigned int task_binding_next;

static struct buddy_task_rec *task_rec(struct buddy_system *sys, int task)
{
	if (!sys || !sys->slow || task < 1 || task > BUDDY_MAX_TASKS || !sys->slow->tasks[task].used)
		return NULL;
	return &sys->slow->tasks[task];
}

int buddy_task_create(struct buddy_system *sys, const char *comm, int oom_score_adj)
{
	if (!sys || !sys->slow || oom_score_adj < BUDDY_OOM_SCORE_ADJ_MIN || oom_score_adj > BUDDY_OOM_SCORE_ADJ_MAX)
		return -EINVAL;
	pthread_mutex_lock(&sys->slow->task_lock);
	for (int id = 1; id <= BUDDY_MAX_TASKS; id++) {
		struct buddy_task_rec *t = &sys->slow->tasks[id];
		if (t->used)
			continue;
		/* Field by field, used last: lock-free readers look at used. */
		memset(t->comm, 0, sizeof(t->comm));
		t->flags = 0;
		atomic_store_explicit(&t->rss, 0, memory_order_relaxed);
		atomic_store_explicit(&t->oom_killed, false, memory_order_relaxed);
		snprintf(t->comm, sizeof(t->comm), "%s", comm ? comm : "task");
		t->oom_score_adj = oom_score_adj;
		atomic_store_explicit(&t->used, true, memory_order_release);
		pthread_mutex_unlock(&sys->slow->task_lock);
		return id;
	}
	pthread_mutex_unlock(&sys->slow->task_lock);
	return -ENOSPC;
}

int buddy_task_set_oom_score_adj(struct buddy_system *sys, int task, int adj)
{
	struct buddy_task_rec *t = task_rec(sys, task);

	if (!t || adj < BUDDY_OOM_SCORE_ADJ_MIN || adj > BUDDY_OOM_SCORE_ADJ_MAX)
		return -EINVAL;
	pthread_mutex_lock(&sys->slow->task_lock);
	t->oom_score_adj = adj;
	pthread_mutex_unlock(&sys->slow->task_lock);
	return 0;
}

int buddy_task_set_flags(struct buddy_system *sys, int task, unsigned int task_flags)
{
	struct buddy_task_rec *t = task_rec(sys, task);

	if (!t || (task_flags & ~(BUDDY_TASK_RT | BUDDY_TASK_MEMALLOC)))
		return -EINVAL;
	pthread_mutex_lock(&sys->slow->task_lock);
	t->flags = task_flags;
	pthread_mutex_unlock(&sys->slow->task_lock);
	return 0;
}

int buddy_task_destroy(struct buddy_system *sys, int task)
{
	struct buddy_task_rec *t = task_rec(sys, task);

	if (!t)
		return -EINVAL;
	pthread_mutex_lock(&sys->slow->task_lock);
	int ret = atomic_load_explicit(&t->rss, memory_order_acquire) ? -EBUSY : 0;
	if (!ret)
		t->used = false;
	pthread_mutex_unlock(&sys->slow->task_lock);
	return ret;
}

int buddy_bind_task(struct buddy_system *sys, int task)
{
	if (!sys || (task != 0 && !task_rec(sys, task)))
		return -EINVAL;
	for (int i = 0; i < TASK_BINDINGS; i++)
		if (task_bindings[i].sys == sys) {
			task_bindings[i].task = task;
			return 0;
		}
	task_bindings[task_binding_next++ % TASK_BINDINGS] = (struct task_binding){ sys, task };
	return 0;
}

int buddy_task_of_thread(const struct buddy_system *sys)
{
	for (int i = 0; i < TASK_BINDINGS; i++)
		if (task_bindings[i].sys == sys)
			return task_rec((struct buddy_system *)sys, task_bindings[i].task) ? task_bindings[i].task : 0;
	return 0;
}

unsigned int current_task_flags(struct buddy_system *sys)
{
	struct buddy_task_rec *t = task_rec(sys, buddy_task_of_thread(sys));

	if (!t)
		return 0;
	pthread_mutex_lock(&sys->slow->task_lock);
	unsigned int flags = t->flags;
	pthread_mutex_unlock(&sys->slow->task_lock);
	return flags;
}

int buddy_task_info(struct buddy_system *sys, int task, struct buddy_task_info *info)
{
	struct buddy_task_rec *t = task_rec(sys, task);

	if (!t || !info)
		return -EINVAL;
	pthread_mutex_lock(&sys->slow->task_lock);
	info->id = task;
	memcpy(info->comm, t->comm, sizeof(info->comm));
	info->oom_score_adj = t->oom_score_adj;
	info->flags = t->flags;
	info->rss_pages = (uint64_t)atomic_load(&t->rss);
	info->oom_killed = atomic_load(&t->oom_killed);
	pthread_mutex_unlock(&sys->slow->task_lock);
	return 0;
}

static void charge_task(struct buddy_system *sys, int task, long nr_pages)
{
	struct buddy_task_rec *t = task_rec(sys, task);

	/* Release pairs with the acquire in buddy_task_destroy: an uncharge
	 * from another thread (reclaim, the reaper) must be seen there. */
	if (t)
		atomic_fetch_add_explicit(&t->rss, nr_pages, memory_order_release);
}

/* ---- LRU ---- */
static enum lru_list page_lru(const struct page *page)
{
	bool file = page_flag(page, PG_mapped_file);
	bool active = page_flag(page, PG_active);
	return file ? (active ? LRU_ACTIVE_FILE : LRU_INACTIVE_FILE) : (active ? LRU_ACTIVE_ANON : LRU_INACTIVE_ANON);
}

bool page_is_lru_candidate(const struct page *page)
{
	return page->mapping && (page->alloc_mt == MIGRATE_MOVABLE || page_flag(page, PG_mapped_file));
}

static struct buddy_system *sys_of_lruvec(struct lruvec *lv)
{
	return lv->sys;
}

/* lru_lock held; the caller has set PG_lru in the same atomic step. */
static void lru_list_add(struct lruvec *lv, struct page *page)
{
	enum lru_list l = page_lru(page);

	list_add(&page->lru, &lv->lists[l]);
	atomic_fetch_add_explicit(&lv->nr_pages[l], 1L << page->order, memory_order_relaxed);
	mod_zone_page_state(page_zone(sys_of_lruvec(lv), page),
			    l >= LRU_INACTIVE_FILE ? NR_ZONE_LRU_FILE : NR_ZONE_LRU_ANON, 1L << page->order);
}

static void lru_list_del(struct lruvec *lv, struct page *page)
{
	enum lru_list l = page_lru(page);

	list_del(&page->lru);
	atomic_fetch_sub_explicit(&lv->nr_pages[l], 1L << page->order, memory_order_relaxed);
	mod_zone_page_state(page_zone(sys_of_lruvec(lv), page),
			    l >= LRU_INACTIVE_FILE ? NR_ZONE_LRU_FILE : NR_ZONE_LRU_ANON, -(1L << page->order));
}

void owner_on_alloc(struct buddy_system *sys, struct page *page, unsigned int order, struct buddy_mapping *m,
		    uint64_t index)
{
	int task = buddy_task_of_thread(sys);

	(void)order;
	if (!m)
		return;
	/* Not yet published: plain stores are enough for these fields. */
	page->mapping = m;
	page->private_data = index;
	page->owner = (uint32_t)task;
	if (m->ops && m->ops->reclaim)
		flags_or(page, PAGE_FLAG(PG_mapped_file));
	charge_task(sys, task, 1L << page->order);
	if (page_is_lru_candidate(page)) {
		struct lruvec *lv = &sys->slow->lruvec[page->nid];
		pthread_mutex_lock(&lv->lock);
		flags_or(page, PAGE_FLAG(PG_lru));
		lru_list_add(lv, page);
		pthread_mutex_unlock(&lv->lock);
	}
}

/* The owner's part of a free: off the LRU, uncharged.  PG_freeing is ours. */
void owner_on_free(struct buddy_system *sys, struct page *page, unsigned int order)
{
	if (page_flag(page, PG_lru)) {
		struct lruvec *lv = &sys->slow->lruvec[page->nid];
		pthread_mutex_lock(&lv->lock);
		if (flags_and(page, ~PAGE_FLAG(PG_lru)) & PAGE_FLAG(PG_lru))
			lru_list_del(lv, page);
		pthread_mutex_unlock(&lv->lock);
	}
	/* Unowned blocks, the common case, cost no atomic operation here. */
	if (!page->mapping)
		return;
	charge_task(sys, (int)page->owner, -(1L << order));
	page->mapping = NULL;
	page->owner = 0;
	page->private_data = 0;
	if (page_flags(page) & (PAGE_FLAG(PG_mapped_file) | PAGE_FLAG(PG_active)))
		flags_and(page, ~(PAGE_FLAG(PG_mapped_file) | PAGE_FLAG(PG_active)));
}

/* ---- isolation ---- */
bool isolate_allocated_page(struct buddy_system *sys, struct page *page)
{
	struct lruvec *lv = &sys->slow->lruvec[page->nid];

	/* Only from the LRU, as folio_isolate_lru: a block not yet put there
	 * by owner_on_alloc, or never to be, is not the isolator's to take. */
	if (!page_flag(page, PG_lru))
		return false;
	pthread_mutex_lock(&lv->lock);
	uint32_t f = page_flags(page);
	for (;;) {
		if (!(f & PAGE_FLAG(PG_lru)) || !(f & PAGE_FLAG(PG_allocated)) ||
		    (f & (PAGE_FLAG(PG_freeing) | PAGE_FLAG(PG_isolated) | PAGE_FLAG(PG_tail)))) {
			pthread_mutex_unlock(&lv->lock);
			return false;
		}
		uint32_t nf = (f | PAGE_FLAG(PG_isolated)) & ~PAGE_FLAG(PG_lru);
		if (atomic_compare_exchange_weak_explicit(&page->flags, &f, nf, memory_order_acq_rel,
							  memory_order_relaxed))
			break;
	}
	lru_list_del(lv, page);
	pthread_mutex_unlock(&lv->lock);
	return true;
}

/* Finish the free of an isolated block once nobody needs it any more. */
void free_isolated_page(struct buddy_system *sys, struct page *page)
{
	uint32_t f = page_flags(page);

	/* Take PG_freeing unless the owner's free already did; either way it is
	 * ours to finish. */
	while (!atomic_compare_exchange_weak_explicit(
		&page->flags, &f, (f | PAGE_FLAG(PG_freeing)) & ~(PAGE_FLAG(PG_isolated) | PAGE_FLAG(PG_locked)),
		memory_order_acq_rel, memory_order_relaxed))
		;
	free_claimed_block(sys, page, page->order);
}

void putback_isolated_page(struct buddy_system *sys, struct page *page)
{
	struct lruvec *lv = &sys->slow->lruvec[page->nid];
	bool lru = page_is_lru_candidate(page);
	uint32_t f;

	if (lru)
		pthread_mutex_lock(&lv->lock);
	f = page_flags(page);
	for (;;) {
		if (f & PAGE_FLAG(PG_freeing)) {
			if (lru)
				pthread_mutex_unlock(&lv->lock);
			free_isolated_page(sys, page);
			return;
		}
		uint32_t nf = f & ~(PAGE_FLAG(PG_isolated) | PAGE_FLAG(PG_locked));
		if (lru)
			nf |= PAGE_FLAG(PG_lru);
		if (atomic_compare_exchange_weak_explicit(&page->flags, &f, nf, memory_order_acq_rel,
							  memory_order_relaxed))
			break;
	}
	if (lru) {
		lru_list_add(lv, page);
		pthread_mutex_unlock(&lv->lock);
	}
}

size_t isolate_lru_pages(struct buddy_system *sys, int nid, enum lru_list lru, size_t nr_to_scan, struct page **out,
			 size_t max, size_t *nr_scanned)
{
	struct lruvec *lv = &sys->slow->lruvec[nid];
	struct list_head *head = &lv->lists[lru];
	size_t taken = 0, scanned = 0;

	pthread_mutex_lock(&lv->lock);
	struct list_head *pos = head->prev;
	while (pos != head && scanned < nr_to_scan && taken < max) {
		struct page *page = container_of(pos, struct page, lru);
		struct list_head *prev = pos->prev;
		uint32_t f = page_flags(page);
		scanned += 1UL << page->order;
		/* A block being freed stays for its free to take off the list. */
		if ((f & PAGE_FLAG(PG_allocated)) && !(f & (PAGE_FLAG(PG_freeing) | PAGE_FLAG(PG_isolated))) &&
		    atomic_compare_exchange_strong_explicit(&page->flags, &f,
							    (f | PAGE_FLAG(PG_isolated)) & ~PAGE_FLAG(PG_lru),
							    memory_order_acq_rel, memory_order_relaxed)) {
			lru_list_del(lv, page);
			out[taken++] = page;
		} else {
			/* Rotate it to the head so the scan moves on. */
			list_del(pos);
			list_add(pos, head);
		}
		pos = prev;
	}
	pthread_mutex_unlock(&lv->lock);
	if (nr_scanned)
		*nr_scanned = scanned;
	return taken;
}

void deactivate_lru_pages(struct buddy_system *sys, int nid, bool file, size_t nr)
{
	struct lruvec *lv = &sys->slow->lruvec[nid];
	enum lru_list active = file ? LRU_ACTIVE_FILE : LRU_ACTIVE_ANON;
	size_t moved = 0;

	pthread_mutex_lock(&lv->lock);
	while (moved < nr && !list_empty(&lv->lists[active])) {
		struct page *page = container_of(lv->lists[active].prev, struct page, lru);
		lru_list_del(lv, page);
		flags_and(page, ~PAGE_FLAG(PG_active));
		lru_list_add(lv, page);
		moved++;
	}
	pthread_mutex_unlock(&lv->lock);
}

/* ---- migration ---- */
int migrate_isolated_page(struct buddy_system *sys, struct page *src, struct page *dst)
{
	unsigned int order = src->order;
	struct buddy_mapping *m = src->mapping;

	if (!m || !m->ops || !m->ops->migrate || dst->order != order) {
		count_vm_events(sys, PGMIGRATE_FAIL, 1);
		return -EAGAIN;
	}
	/* dst is not published yet: set it up as the owner will see it, and
	 * isolated, so that a free of it from inside the callback waits for
	 * the putback below. */
	dst->mapping = m;
	dst->private_data = src->private_data;
	dst->owner = src->owner;
	dst->alloc_mt = src->alloc_mt;
	uint32_t extra = page_flags(src) & (PAGE_FLAG(PG_mapped_file) | PAGE_FLAG(PG_active) |
					     PAGE_FLAG(PG_movable_alloc) | PAGE_FLAG(PG_head));
	flags_or(dst, extra | PAGE_FLAG(PG_isolated));
	if (extra & PAGE_FLAG(PG_head))
		for (uint32_t i = 1; i < (1U << order); i++) {
			flags_or(dst + i, PAGE_FLAG(PG_tail));
			dst[i].head_offset = i;
		}
	flags_or(src, PAGE_FLAG(PG_locked));

#ifdef BUDDY_BUG_MIGRATE_NO_NOTIFY
	int rc = 0;
#else
	int rc = m->ops->migrate(m, src, dst);
#endif
	if (rc) {
		/* The owner kept src: give dst back to the caller unowned. */
		if (extra & PAGE_FLAG(PG_head))
			for (uint32_t i = 1; i < (1U << order); i++) {
				flags_and(dst + i, ~PAGE_FLAG(PG_tail));
				dst[i].head_offset = 0;
			}
		flags_and(dst, ~(extra | PAGE_FLAG(PG_isolated)));
		dst->mapping = NULL;
		dst->owner = 0;
		dst->private_data = 0;
		flags_and(src, ~PAGE_FLAG(PG_locked));
		count_vm_events(sys, PGMIGRATE_FAIL, 1);
		return -EAGAIN;
	}
	/* The charge moves with the block: src leaves without uncharging. */
	src->mapping = NULL;
	src->owner = 0;
	src->private_data = 0;
	flags_and(src, ~(PAGE_FLAG(PG_mapped_file) | PAGE_FLAG(PG_active)));
	free_isolated_page(sys, src);
	putback_isolated_page(sys, dst);
	count_vm_events(sys, PGMIGRATE_SUCCESS, 1UL << order);
	return 0;
}

int buddy_migrate_copy(struct buddy_system *sys, struct page *dst, const struct page *src)
{
	if (!sys || !dst || !src || page_order(dst) != page_order(src))
		return -EINVAL;
#ifndef BUDDY_BUG_MIGRATE_NOCOPY
	if (sys->backing)
		memcpy(buddy_page_address(sys, dst), buddy_page_address(sys, src), PAGE_SIZE << page_order(src));
#endif
	return 0;
}

/* ---- public page accessors ---- */
struct buddy_mapping *buddy_page_mapping(const struct page *page)
{
	return page ? page->mapping : NULL;
}

uint64_t buddy_page_index(const struct page *page)
{
	return page ? page->private_data : 0;
}

int buddy_page_task(const struct page *page)
{
	return page ? (int)page->owner : 0;
}
