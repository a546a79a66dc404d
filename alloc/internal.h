/* Internal structures of the buddy model, shared by the files of alloc/.
 * Names follow mm/ so a reader of the kernel finds their way. */
#ifndef BUDDY_INTERNAL_H
#define BUDDY_INTERNAL_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buddy/buddy.h"

/* ---- lists ---- */
struct list_head {
	struct list_head *next, *prev;
};

static inline void INIT_LIST_HEAD(struct list_head *h) { h->next = h; h->prev = h; }
static inline bool list_empty(const struct list_head *h) { return h->next == h; }
static inline void list_insert_between(struct list_head *n, struct list_head *prev, struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}
static inline void list_add(struct list_head *n, struct list_head *h) { list_insert_between(n, h, h->next); }
static inline void list_add_tail(struct list_head *n, struct list_head *h) { list_insert_between(n, h->prev, h); }
static inline void list_del(struct list_head *n)
{
	/* Both read first: the compiler would reload n->next after the store
	 * to next->prev, which it cannot tell apart. */
	struct list_head *next = n->next, *prev = n->prev;

	next->prev = prev;
	prev->next = next;
	n->next = n->prev = NULL;
}
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* ---- struct page ---- */
enum page_flag_bits {
	PG_present,    /* pfn has memory (not a hole, not beyond a zone) */
	PG_buddy,      /* head of a free block on a zone free list */
	PG_pcp,        /* head of a block on a pcp list */
	PG_allocated,  /* head of a block handed out by the allocator */
	PG_head,       /* compound head (__GFP_COMP) */
	PG_tail,       /* compound tail */
	PG_quarantined,/* kept out of circulation by bad_page() */
	PG_offline,    /* taken off the allocator (offlined range) */
	PG_hwpoison,
	PG_isolated,   /* held by compaction / migration / contig allocation */
	PG_lru,
	PG_movable_alloc, /* allocated with a movable migratetype: counts as movable when claiming */
	PG_freeing,    /* claimed by one buddy_free_pages() call; makes a racing double free visible */
	PG_active,     /* on the active LRU list */
	PG_locked,     /* held by a migration or reclaim in progress */
	PG_mapped_file,/* its mapping can reclaim it: the file LRU, else anon */
};
#define PAGE_FLAG(bit) (1u << (bit))

struct page {
	struct list_head lru;   /* free list, pcp list or LRU links */
	/* Atomic so that a free racing another free of the same page is a
	 * reported double free, not a data race; updates under a lock use
	 * relaxed load/store and cost no more than plain ones. */
	_Atomic uint32_t flags;
	int32_t refcount;
	/* Atomic (relaxed) because a claim or compaction scan reads the order
	 * and type of blocks it does not lock, as the kernel does racily. */
	_Atomic uint8_t order;  /* buddy order, pcp order, or allocation order on a head */
	uint8_t pcp_mt;         /* migratetype cached when on a pcp list (kernel: page->index) */
	uint8_t nid;
	uint8_t zid;
	/* Which CPU's pcp holds the block, PCP_CPU_NONE off the pcp lists:
	 * written only under that CPU's pcp lock, so a checker holding one
	 * CPU's lock can tell its own blocks from blocks in flight elsewhere
	 * (atomic for that unlocked peek). */
	_Atomic uint16_t pcp_cpu;
	_Atomic uint8_t alloc_mt; /* migratetype the allocation asked for */
	uint8_t free_mt;        /* free list type while PG_buddy: what the list helper used, for the checker */
	uint32_t head_offset;   /* tail pages: pfn - head pfn */
	uint32_t owner;         /* owning task id (slow path / OOM); 0 none */
	void *mapping;          /* owner mapping (movable/reclaimable ops) */
	uint64_t private_data;  /* owner's cookie */
};

static inline uint32_t page_flags(const struct page *p)
{
	return atomic_load_explicit(&((struct page *)p)->flags, memory_order_relaxed);
}
static inline void page_flags_store(struct page *p, uint32_t f)
{
	atomic_store_explicit(&p->flags, f, memory_order_relaxed);
}
static inline void set_page_order(struct page *p, unsigned int order)
{
	atomic_store_explicit(&p->order, (uint8_t)order, memory_order_relaxed);
}
static inline unsigned int page_order(const struct page *p)
{
	return atomic_load_explicit(&((struct page *)p)->order, memory_order_relaxed);
}
static inline bool page_flag(const struct page *p, int bit) { return page_flags(p) & PAGE_FLAG(bit); }
/* A flag change of a block that is free, on a pcp list, or owned by the
 * caller (PG_freeing), made under the lock of the list it leaves or joins
 * (zone->lock, pcp->lock): a plain load and store, no locked instruction.
 * Nobody writes such a block's flags without that lock: isolators refuse a
 * block being freed, compaction takes free blocks under zone->lock, and
 * memory failure, hotplug and isolation mark pages only with every lock of
 * the zone held (zone_lock_all).  Marks on allocated blocks in use by their
 * owner keep to the atomic read-modify-writes below. */
static inline void page_flags_store_locked(struct page *p, uint32_t f)
{
	page_flags_store(p, f);
}
/* Read-modify-write: a mark set from outside the block's lock (memory
 * failure, an isolation) must never be lost to a concurrent update. */
static inline void set_page_flag(struct page *p, int bit)
{
	atomic_fetch_or_explicit(&p->flags, PAGE_FLAG(bit), memory_order_relaxed);
}
static inline void clear_page_flag(struct page *p, int bit)
{
	atomic_fetch_and_explicit(&p->flags, ~PAGE_FLAG(bit), memory_order_relaxed);
}

enum zone_stat_item {
	NR_FREE_PAGES,       /* free pages in the buddy lists, ISOLATE left out */
	NR_FREE_CMA_PAGES,
	NR_ZONE_ALLOCATED,   /* pages handed out (including those in pcp? no: pcp counted apart) */
	NR_ZONE_PCP,         /* pages on pcp lists of every CPU */
	NR_ZONE_QUARANTINED,
	NR_ZONE_OFFLINE,
	NR_ZONE_ISOLATED,    /* free pages held outside the free lists by compaction/isolation */
	NR_ZONE_HWPOISON,    /* pages kept out because memory failure poisoned them */
	NR_ZONE_LRU_FILE,    /* pages on the node's file LRU lists that sit in this zone */
	NR_ZONE_LRU_ANON,
	NR_VM_ZONE_STAT_ITEMS
};

/* ---- zone->lock and pcp->lock ---- */
#include "spinlock.h"

/* ---- pcp ---- */
#define NR_LOWORDER_PCP_LISTS (MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1))
#define NR_PCP_THP 2
#define NR_PCP_LISTS (NR_LOWORDER_PCP_LISTS + NR_PCP_THP)

/* The pfns whose list state changed since the checker last looked
 * (buddy_check(BUDDY_CHECK_TOUCHED)), kept only while sys->track_touched
 * is on.  Written under the lock of the lists it records: zone->lock for a
 * zone's free lists, pcp->lock for one CPU's pcp lists.  n keeps counting
 * past the capacity, so the checker knows it must walk the zone instead. */
#define TOUCH_LOG_CAP 256
struct touch_log {
	_Atomic unsigned int n;  /* atomic only so the checker may peek without the lock */
	uint64_t pfn[TOUCH_LOG_CAP];
};

static inline void touch_log_add(struct touch_log *log, uint64_t pfn)
{
	unsigned int n = atomic_load_explicit(&log->n, memory_order_relaxed);

	if (n < TOUCH_LOG_CAP)
		log->pfn[n] = pfn;
	if (n != UINT32_MAX)
		atomic_store_explicit(&log->n, n + 1, memory_order_relaxed);
}

static inline unsigned int touch_log_len(const struct touch_log *log)
{
	return atomic_load_explicit(&((struct touch_log *)log)->n, memory_order_relaxed);
}

#define PCP_CPU_NONE 0xffffu

struct per_cpu_pages {
	spinlock_t lock;
	int count;               /* pages on all lists */
	int high, high_min, high_max, batch;
	int free_count;          /* pages freed since the last allocation, scales the drain */
	int alloc_factor;        /* refill scale: doubles over runs of allocations */
	unsigned int flags;      /* PCPF_* of the free path */
	bool fixed;              /* high/batch set by the user */
	struct list_head lists[NR_PCP_LISTS];
	int list_pages[NR_PCP_LISTS]; /* pages on each list, for the checker and pagesets output */
	/* This CPU's part of the zone counters that the pcp paths change
	 * (the kernel's per-cpu vm_stat_diff): written under this lock with
	 * a plain load and store, folded into zone->vm_stat at refill and
	 * drain, added in by zone_page_state().  Atomic only so that readers
	 * without the lock see a relaxed value. */
	_Atomic long vm_stat_diff[NR_VM_ZONE_STAT_ITEMS];
	struct touch_log touched;
};

/* ---- zone ---- */
/* The counts are atomic because the watermark check reads them without the
 * zone lock (the kernel reads them racily); they change only under it. */
struct free_area {
	struct list_head free_list[MIGRATE_TYPES];
	_Atomic unsigned long nr_free;                    /* blocks, every type */
	_Atomic unsigned long nr_free_mt[MIGRATE_TYPES];  /* blocks per type */
};

/* An update of a counter that only changes under a lock: no RMW needed. */
static inline void counter_add_locked(_Atomic unsigned long *c, long delta)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + (unsigned long)delta,
			      memory_order_relaxed);
}
static inline unsigned long counter_read(const _Atomic unsigned long *c)
{
	return atomic_load_explicit((_Atomic unsigned long *)c, memory_order_relaxed);
}


struct zone {
	spinlock_t lock;
	struct buddy_system *sys;
	int nid;
	enum zone_type zid;
	const char *name;
	uint64_t zone_start_pfn;
	uint64_t spanned_pages;
	/* Atomic: memory hotplug changes them while others read them unlocked. */
	_Atomic uint64_t present_pages;
	_Atomic uint64_t managed_pages;
	uint64_t cma_pages;       /* pages in CMA pageblocks */
	/* Atomic: the fast path reads them without the zone lock while a
	 * sysctl writer may recompute them (READ_ONCE in the kernel). */
	_Atomic unsigned long _watermark[NR_WMARK];
	_Atomic unsigned long watermark_boost;
	_Atomic unsigned long lowmem_reserve[MAX_NR_ZONES];
	_Atomic unsigned long nr_reserved_highatomic; /* pages in HIGHATOMIC pageblocks */
	_Atomic long nr_free_highatomic;              /* free pages on HIGHATOMIC lists */
	_Atomic long free_pages_mt[MIGRATE_TYPES];    /* free pages per type (buddy lists) */
	_Atomic long vm_stat[NR_VM_ZONE_STAT_ITEMS];
	_Atomic bool boosted_watermark;               /* ZONE_BOOSTED_WATERMARK */
	_Atomic bool below_high;                      /* ZONE_BELOW_HIGH */
	struct free_area free_area[MAX_PAGE_ORDER_LIMIT + 1];
	struct per_cpu_pages *pcp;                    /* one per CPU */
	/* compaction.c, under zone->lock unless atomic */
	unsigned int compact_considered;
	unsigned int compact_defer_shift;
	int compact_order_failed;
	uint64_t compact_cached_free_pfn;
	uint64_t compact_cached_migrate_pfn[2];       /* async, sync */
	bool compact_blockskip_flush;
	uint64_t initial_present_pages;               /* present at creation: offline + present stays equal */
	/* The checker's incremental view (see struct touch_log): free-list
	 * changes under zone->lock, and the pageblocks whose type changed.
	 * Pageblock types may change under other locks (hotplug, CMA), so
	 * that log is atomic: a slot index taken by fetch_add. */
	struct touch_log touched;
#define PB_TOUCH_LOG_CAP 16
	_Atomic unsigned int pb_touched_n;
	_Atomic uint64_t pb_touched[PB_TOUCH_LOG_CAP];
};

static inline bool populated_zone(const struct zone *z) { return z->present_pages != 0; }
static inline bool zone_spans_pfn(const struct zone *z, uint64_t pfn)
{
	return pfn >= z->zone_start_pfn && pfn < z->zone_start_pfn + z->spanned_pages;
}
static inline void mod_zone_page_state(struct zone *z, enum zone_stat_item i, long delta)
{
	atomic_fetch_add_explicit(&z->vm_stat[i], delta, memory_order_relaxed);
}
/* A zone counter that only changes under zone->lock: a plain
 * load-and-store is enough (readers without the lock see a relaxed value),
 * and costs no locked instruction on the split/merge paths. */
static inline void zone_counter_add_locked(_Atomic long *c, long delta)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + delta, memory_order_relaxed);
}
static inline unsigned long wmark_pages(const struct zone *z, int w)
{
	return z->_watermark[w] + atomic_load_explicit(&z->watermark_boost, memory_order_relaxed);
}

/* ---- node ---- */
#define MAX_ZONELIST (BUDDY_MAX_NODES * MAX_NR_ZONES)

struct pglist_data {
	int node_id;
	struct zone node_zones[MAX_NR_ZONES];
	int nr_zonerefs;                       /* ZONELIST_FALLBACK */
	struct zone *zonerefs[MAX_ZONELIST];
	int nr_zonerefs_nofallback;            /* ZONELIST_NOFALLBACK (__GFP_THISNODE) */
	struct zone *zonerefs_nofallback[MAX_NR_ZONES];
	/* first_zones_zonelist() of the fallback list for each highest zone
	 * index and no node mask, or NULL: the allocation fast path's zone.
	 * The lists are built once, at creation, so this never goes stale. */
	struct zone *first_zone[MAX_NR_ZONES];
	uint64_t node_start_pfn, node_spanned_pages;
	_Atomic uint64_t node_present_pages;   /* changed by memory hotplug */
	int nr_cpus;
};

/* ---- the slow path's shared state (owner.c) ---- */
enum lru_list { LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, LRU_INACTIVE_FILE, LRU_ACTIVE_FILE, NR_LRU_LISTS };

struct lruvec {
	struct buddy_system *sys;
	pthread_mutex_t lock;                  /* lru_lock: innermost but for report_lock */
	struct list_head lists[NR_LRU_LISTS];
	_Atomic long nr_pages[NR_LRU_LISTS];   /* pages, not blocks */
};

struct buddy_task_rec {
	_Atomic bool used;          /* read without task_lock by task_rec() */
	char comm[16];
	int oom_score_adj;
	unsigned int flags;
	_Atomic long rss;           /* pages of mapped blocks charged to the task */
	_Atomic bool oom_killed;
};

struct buddy_slowpath {
	pthread_mutex_t task_lock;
	struct buddy_task_rec tasks[BUDDY_MAX_TASKS + 1]; /* id 0 unused */
	struct lruvec lruvec[BUDDY_MAX_NODES];
	pthread_mutex_t oom_lock;   /* one OOM kill at a time, as oom_lock */
	/* kthreads (vmscan.c, compaction.c) */
	pthread_mutex_t kthread_lock;
	pthread_cond_t kthread_wake;
	bool kthreads_running;
	_Atomic bool kthreads_stop;
	_Atomic bool kswapd_wanted[BUDDY_MAX_NODES];
	_Atomic int kswapd_order[BUDDY_MAX_NODES];
	_Atomic int kswapd_highest_zoneidx[BUDDY_MAX_NODES];
	pthread_t kswapd[BUDDY_MAX_NODES];
	bool kswapd_started[BUDDY_MAX_NODES];
	pthread_t kcompactd[BUDDY_MAX_NODES];
	/* compaction.c: pgdat->kcompactd_max_order and friends.  kcompactd
	 * sleeps on kthread_wake; the request is updated under kthread_lock. */
	bool kcompactd_started[BUDDY_MAX_NODES];              /* kthread_lock */
	_Atomic bool kcompactd_should_stop[BUDDY_MAX_NODES];
	_Atomic int kcompactd_max_order[BUDDY_MAX_NODES];     /* 0: nothing asked */
	_Atomic int kcompactd_highest_zoneidx[BUDDY_MAX_NODES]; /* meaningful while max_order > 0 */
	int nr_kthreads;
};

/* ---- the instance ---- */
#define GFP_FAST_INDEX_MASK (GFP_ZONEMASK | GFP_MOVABLE_MASK)
#define GFP_FAST_VALID 0x80u
#define GFP_FAST_ZONE_MASK 0x3u
#define GFP_FAST_MT_SHIFT 2
#define GFP_FAST_MT_MASK 0x3u
_Static_assert(MAX_NR_ZONES - 1 <= GFP_FAST_ZONE_MASK && MIGRATE_PCPTYPES - 1 <= GFP_FAST_MT_MASK,
	       "a gfp_fast entry holds a zone index and a pcp migratetype");

#define BUDDY_LOG_LINES 256
#define BUDDY_LOG_LINE 256

struct buddy_system {
	struct buddy_options opts;
	struct buddy_topology topo;
	unsigned int max_order;        /* MAX_PAGE_ORDER */
	unsigned int pageblock_order;
	unsigned long pageblock_nr_pages;
	int nr_nodes;
	int nr_cpus;
	int nr_online_nodes;           /* nodes with memory */
	struct pglist_data *nodes[BUDDY_MAX_NODES];
	bool track_touched;            /* keep the touch logs (buddy_check_track) */
	uint64_t max_pfn;              /* one past the highest pfn */
	struct page *mem_map;          /* max_pfn records, mapped lazily */
	size_t mem_map_bytes;
	_Atomic uint8_t *pageblock_flags; /* per pageblock: bits 0-2 migratetype, bit 3 skip */
	uint64_t nr_pageblocks;
	unsigned char *backing;        /* BUDDY_BACKING_MMAP or _USER: max_pfn pages */
	size_t backing_bytes;
	bool backing_mapped;           /* ours to unmap (BUDDY_BACKING_MMAP) */
	long min_free_kbytes;
	bool user_min_free_kbytes;
	int watermark_scale_factor;
	int watermark_boost_factor;
	int lowmem_reserve_ratio[MAX_NR_ZONES];
	bool page_group_by_mobility_disabled;
	/* What the allocation fast path needs of a GFP mask's zone and
	 * mobility bits, indexed by them: 0 when buddy_gfp_zone() or
	 * buddy_gfp_migratetype() refuses them, else GFP_FAST_VALID, the
	 * highest zone and the migratetype as page_group_by_mobility_disabled
	 * leaves it.  Both functions are pure and the grouping is settled at
	 * creation, so the table never goes stale. */
	uint8_t gfp_fast[GFP_FAST_INDEX_MASK + 1];
	bool spin_bias; /* zone and pcp locks may get owners (spin_bias_register) */
	pthread_mutex_t tunables_lock; /* pcp_batch_high_lock + sysctl writers */
	/* vm events per simulated CPU, like the kernel's vm_event_states:
	 * counted without a locked instruction, summed when read. */
	struct buddy_cpu_events *cpu_events;
	struct buddy_fault_state *fault; /* fault injection (fault_inject.c); NULL when off */
	struct cma_state *cma;         /* CMA area bitmaps (page_isolation.c) */
	struct buddy_slowpath *slow;   /* tasks, LRU, kthreads, compaction state (owner.c and friends) */
	pthread_mutex_t report_lock;   /* the log ring */
	char log_ring[BUDDY_LOG_LINES][BUDDY_LOG_LINE];
	unsigned long log_head;        /* lines written so far */
};

#define PB_MIGRATE_MASK 0x7u
#define PB_SKIP 0x8u

static inline struct page *pfn_to_page(struct buddy_system *sys, uint64_t pfn) { return &sys->mem_map[pfn]; }
static inline uint64_t page_to_pfn(const struct buddy_system *sys, const struct page *p)
{
	return (uint64_t)(p - sys->mem_map);
}
static inline struct zone *page_zone(struct buddy_system *sys, const struct page *p)
{
	return &sys->nodes[p->nid]->node_zones[p->zid];
}
static inline int get_pfnblock_migratetype(const struct buddy_system *sys, uint64_t pfn)
{
	return atomic_load_explicit(&sys->pageblock_flags[pfn >> sys->pageblock_order], memory_order_relaxed) &
	       PB_MIGRATE_MASK;
}
static inline bool is_migrate_isolate(int mt) { return mt == MIGRATE_ISOLATE; }
static inline bool is_migrate_cma(int mt) { return mt == MIGRATE_CMA; }
static inline bool is_migrate_highatomic(int mt) { return mt == MIGRATE_HIGHATOMIC; }
static inline bool migratetype_is_mergeable(int mt) { return mt < MIGRATE_PCPTYPES; }
struct buddy_cpu_events {
	_Atomic uint64_t ev[NR_BUDDY_VM_EVENTS];
} __attribute__((aligned(64)));

/* __count_vm_events(): a CPU's own counter, load and store.  Two threads
 * bound to one simulated CPU at once may lose a count, as two tasks on one
 * CPU with preemption enabled would in the kernel; nothing else can. */
static inline void count_vm_events_cpu(struct buddy_system *sys, int cpu, enum buddy_vm_event ev, uint64_t n)
{
	_Atomic uint64_t *c = &sys->cpu_events[cpu].ev[ev];
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}
/* The simulated CPU the calling thread is bound to (mm_init.c): a thread
 * may use several instances; each remembers its own binding.  The table is
 * per thread (like the kernel's per-CPU current), not shared state. */
#define BINDINGS_PER_THREAD 8
struct cpu_binding {
	const struct buddy_system *sys;
	int cpu;
};
extern _Thread_local struct cpu_binding thread_bindings[BINDINGS_PER_THREAD];
static inline __attribute__((always_inline)) int buddy_cpu_of_thread(const struct buddy_system *sys)
{
	for (int i = 0; i < BINDINGS_PER_THREAD; i++) {
		if (thread_bindings[i].sys == sys) {
			/* A stale entry from a destroyed instance at the same address
			 * may name a CPU this one lacks. */
			int cpu = thread_bindings[i].cpu;
			return cpu < sys->nr_cpus ? cpu : 0;
		}
	}
	return 0;
}
static inline void count_vm_events(struct buddy_system *sys, enum buddy_vm_event ev, uint64_t n)
{
	count_vm_events_cpu(sys, buddy_cpu_of_thread(sys), ev, n);
}

/* The counters with a per-CPU part (struct per_cpu_pages.vm_stat_diff).
 * Their zone part changes only under zone->lock: the block state changes
 * made under it (page_set_allocated and friends) and the folds of the
 * per-CPU parts at refill and drain; so those are plain load-and-stores. */
static inline bool zone_stat_has_pcp_part(enum zone_stat_item i)
{
	return i == NR_ZONE_ALLOCATED || i == NR_ZONE_PCP;
}
/* zone_page_state_snapshot(): the zone's counter plus every CPU's part.
 * Exact with every pcp lock of the zone held (the checker); a racy but
 * bounded value otherwise, as the kernel's readers get. */
static inline long zone_page_state(const struct zone *z, enum zone_stat_item i)
{
	long v = atomic_load_explicit(&z->vm_stat[i], memory_order_relaxed);

	if (zone_stat_has_pcp_part(i) && z->pcp)
		for (int cpu = 0; cpu < z->sys->nr_cpus; cpu++)
			v += atomic_load_explicit(&z->pcp[cpu].vm_stat_diff[i], memory_order_relaxed);
	return v;
}
/* __mod_zone_page_state() on this CPU's part; pcp->lock held. */
static inline void mod_pcp_zone_state(struct per_cpu_pages *pcp, enum zone_stat_item i, long delta)
{
	_Atomic long *d = &pcp->vm_stat_diff[i];

	atomic_store_explicit(d, atomic_load_explicit(d, memory_order_relaxed) + delta, memory_order_relaxed);
}

/* page_set_allocated() and page_clear_allocated_set() for a block on its way
 * off or onto a pcp list, pcp->lock held: the pages are counted in this
 * CPU's part of NR_ZONE_ALLOCATED, and the flags take a plain load and
 * store.  Nobody else writes the flags of such a block meanwhile: a block on
 * a pcp list is touched only under that list's lock, and one being freed is
 * ours (PG_freeing) but for memory failure, which marks pages only with
 * every pcp lock of the zone held; isolators refuse a block being freed. */
static inline void pcp_page_set_allocated(struct per_cpu_pages *pcp, struct page *page, unsigned int order,
					  int alloc_mt)
{
	uint32_t set = PAGE_FLAG(PG_allocated) | (alloc_mt == MIGRATE_MOVABLE ? PAGE_FLAG(PG_movable_alloc) : 0);

	page_flags_store_locked(page, (page_flags(page) & ~(PAGE_FLAG(PG_buddy) | PAGE_FLAG(PG_pcp))) | set);
	set_page_order(page, order);
	atomic_store_explicit(&page->alloc_mt, (uint8_t)alloc_mt, memory_order_relaxed);
	page->refcount = 1;
	mod_pcp_zone_state(pcp, NR_ZONE_ALLOCATED, 1L << order);
}
static inline void pcp_page_clear_allocated_set(struct per_cpu_pages *pcp, struct page *page, unsigned int order,
						uint32_t set_flags)
{
	const uint32_t clear = PAGE_FLAG(PG_allocated) | PAGE_FLAG(PG_freeing) | PAGE_FLAG(PG_head) |
			       PAGE_FLAG(PG_movable_alloc);

	page_flags_store_locked(page, (page_flags(page) & ~clear) | set_flags);
	page->refcount = 0;
	page->owner = 0;
	page->mapping = NULL;
	page->private_data = 0;
	mod_pcp_zone_state(pcp, NR_ZONE_ALLOCATED, -(1L << order));
}

/* ---- functions shared between files ---- */
/* mm_init.c */
void buddy_log(struct buddy_system *sys, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* pageblock.c: pageblock flags, moving free pages between types, fallback */
void set_pageblock_migratetype(struct buddy_system *sys, uint64_t pfn, int mt);
void change_pageblock_range(struct buddy_system *sys, uint64_t pfn, unsigned int order, int mt);
void set_pageblock_skip(struct buddy_system *sys, uint64_t pfn, bool skip);
bool get_pageblock_skip(const struct buddy_system *sys, uint64_t pfn);
extern const int buddy_fallbacks[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1];
/* Move the free pages of the pageblock holding pfn from old_mt to new_mt and
 * retype the block.  -1 if the block is not wholly inside the zone, else the
 * number of pages moved.  Zone lock held. */
long move_freepages_block(struct zone *zone, uint64_t pfn, int old_mt, int new_mt);
struct page *__rmqueue_fallback_claim(struct zone *zone, unsigned int order, int start_mt,
				      unsigned int alloc_flags);
struct page *__rmqueue_fallback_steal(struct zone *zone, unsigned int order, int start_mt);
void reserve_highatomic_pageblock(struct zone *zone, struct page *page, unsigned int order);
bool unreserve_highatomic_pageblock(struct buddy_system *sys, struct zone **zones, int nr_zones,
				    int migratetype, bool force);

/* page_alloc.c: the buddy core; zone lock held where it says "__" */
void __add_to_free_list(struct zone *zone, struct page *page, unsigned int order, int mt, bool tail);
void __del_from_free_list(struct zone *zone, struct page *page, unsigned int order, int mt);
void account_freepages(struct zone *zone, long nr_pages, int mt);
struct page *__rmqueue_smallest(struct zone *zone, unsigned int order, int mt);
struct page *__rmqueue(struct zone *zone, unsigned int order, int mt, unsigned int alloc_flags, int *mode);
void __free_one_page(struct zone *zone, struct page *page, uint64_t pfn, unsigned int order, int mt);
unsigned long expand(struct zone *zone, struct page *page, unsigned int low, unsigned int high, int mt);
void page_set_allocated(struct zone *zone, struct page *page, unsigned int order, int alloc_mt);
void page_clear_allocated_set(struct zone *zone, struct page *page, unsigned int order, uint32_t set_flags);
static inline void page_clear_allocated(struct zone *zone, struct page *page, unsigned int order)
{
	page_clear_allocated_set(zone, page, order, 0);
}
void page_del_and_expand(struct zone *zone, struct page *page, unsigned int low, unsigned int high, int mt);
void free_one_page(struct zone *zone, struct page *page, uint64_t pfn, unsigned int order);

/* owner.c: tasks, mappings, LRU, isolation of allocated blocks, migration.
 * Lock order: pcp -> zone -> lru_lock -> task_lock -> report_lock. */
int buddy_task_of_thread(const struct buddy_system *sys);
unsigned int current_task_flags(struct buddy_system *sys); /* BUDDY_TASK_* of the calling thread's task */
void owner_on_alloc(struct buddy_system *sys, struct page *page, unsigned int order, struct buddy_mapping *m,
		    uint64_t index);
void owner_on_free(struct buddy_system *sys, struct page *page, unsigned int order);
bool page_is_lru_candidate(const struct page *page);
/* Take an allocated block off its LRU and away from its owner's free path
 * for a while (PG_isolated).  False if it is not on an LRU, is being freed,
 * or is already isolated. */
bool isolate_allocated_page(struct buddy_system *sys, struct page *page);
/* End an isolation: back on the LRU, or, if the owner freed the block in the
 * meantime, finish that free now. */
void putback_isolated_page(struct buddy_system *sys, struct page *page);
/* Migrate an isolated block into dst, an allocated block of the same order
 * that nobody owns: copy, tell the owner, move the charge and LRU place;
 * the source is freed.  0, or -EAGAIN with both left as they were (dst
 * still the caller's, src still isolated). */
int migrate_isolated_page(struct buddy_system *sys, struct page *src, struct page *dst);
/* Isolate up to nr blocks from the tail of one LRU list (reclaim's
 * isolate_lru_folios); the scan counts pages looked at.  Returns how many
 * were isolated into out[]. */
size_t isolate_lru_pages(struct buddy_system *sys, int nid, enum lru_list lru, size_t nr_to_scan, struct page **out,
			 size_t max, size_t *nr_scanned);
/* Move up to nr blocks from the tail of the active list to the inactive one. */
void deactivate_lru_pages(struct buddy_system *sys, int nid, bool file, size_t nr);
/* Finish the free of an isolated block nobody needs any more (reclaimed,
 * reaped, or migrated away). */
void free_isolated_page(struct buddy_system *sys, struct page *page);
/* Finish the free of an allocated block whose PG_freeing the caller owns. */
void free_claimed_block(struct buddy_system *sys, struct page *page, unsigned int order);
void slowpath_destroy(struct buddy_system *sys);
int slowpath_init(struct buddy_system *sys);

/* vmscan.c */
void wakeup_kswapd(struct buddy_system *sys, struct zone *zone, gfp_t gfp, unsigned int order, int highest_zoneidx);
unsigned long try_to_free_pages(struct buddy_system *sys, gfp_t gfp, unsigned int order, struct zone **zonerefs,
				int nr_zonerefs, int highest_zoneidx, uint64_t nodemask);
unsigned long zone_reclaimable_pages(struct zone *zone);
bool kthreads_running(struct buddy_system *sys);

/* pcp.c */
static inline bool pcp_allowed_order(const struct buddy_system *sys, unsigned int order)
{
	return order <= PAGE_ALLOC_COSTLY_ORDER || order == sys->pageblock_order;
}
static inline int order_to_pindex(const struct buddy_system *sys, int mt, unsigned int order)
{
	(void)sys;
	if (order > PAGE_ALLOC_COSTLY_ORDER)
		return NR_LOWORDER_PCP_LISTS + (mt == MIGRATE_MOVABLE);
	return MIGRATE_PCPTYPES * (int)order + mt;
}
unsigned int pindex_to_order(const struct buddy_system *sys, int pindex);
struct page *rmqueue_pcplist(struct zone *zone, int cpu, unsigned int order, int mt, unsigned int alloc_flags);
/* Takes a block off a pcp list, pcp->lock held.  Inline, as is
 * rmqueue_pcplist_fast(), for the allocation fast path. */
static inline void pcp_list_del(struct zone *zone, struct per_cpu_pages *pcp, struct page *page, int pindex)
{
	unsigned int order = page->order;

	/* PG_pcp is cleared by the next owner of the block: page_set_allocated
	 * for an allocation, free_pcppages_bulk before the buddy lists. */
	list_del(&page->lru);
	atomic_store_explicit(&page->pcp_cpu, PCP_CPU_NONE, memory_order_relaxed);
	pcp->list_pages[pindex] -= 1 << order;
	pcp->count -= 1 << order;
	mod_pcp_zone_state(pcp, NR_ZONE_PCP, -(1L << order));
	if (zone->sys->track_touched)
		touch_log_add(&pcp->touched, page_to_pfn(zone->sys, page));
}
/* rmqueue_pcplist() when it needs no refill: NULL, with nothing changed,
 * when the lock is busy or the list is empty, so that the caller can take
 * the general path as if this had not been tried. */
/* owned_only (a constant): the lock by the owner's way or not at all, so
 * that the path makes no call (spin_trylock_owned). */
static inline __attribute__((always_inline)) struct page *rmqueue_pcplist_fast(struct zone *zone, int cpu,
										 unsigned int order, int mt,
										 bool owned_only)
{
	struct per_cpu_pages *pcp = &zone->pcp[cpu];
	int pindex = order_to_pindex(zone->sys, mt, order);
	struct list_head *list = &pcp->lists[pindex];

	if (owned_only ? !spin_trylock_owned(&pcp->lock, SPIN_SLOT_PCP) : !spin_trylock(&pcp->lock))
		return NULL;
	struct page *page = NULL;
	if (!list_empty(list)) {
		pcp->free_count >>= 1;
		page = container_of(list->next, struct page, lru);
		pcp_list_del(zone, pcp, page, pindex);
		pcp_page_set_allocated(pcp, page, order, mt);
	}
	if (owned_only)
		spin_unlock_owned(&pcp->lock, SPIN_SLOT_PCP);
	else
		spin_unlock(&pcp->lock);
	return page;
}
size_t rmqueue_pcplist_bulk(struct zone *zone, int cpu, int mt, unsigned int alloc_flags, size_t nr,
			    struct page **out);
/* CONFIG_PCP_BATCH_SCALE_MAX */
#define PCP_BATCH_SCALE_MAX 5
/* Puts a block on a pcp list, pcp->lock held.  Inline with the rest of the
 * free path's pcp step, so that buddy_free_pages() makes no call for it. */
static inline void pcp_list_add(struct zone *zone, struct per_cpu_pages *pcp, int cpu, struct page *page,
				unsigned int order, int mt, bool tail)
{
	int pindex = order_to_pindex(zone->sys, mt, order);

	if (tail)
		list_add_tail(&page->lru, &pcp->lists[pindex]);
	else
		list_add(&page->lru, &pcp->lists[pindex]);
	/* The free path sets PG_pcp in the step that ends the allocation; a
	 * refill from the zone sets it here, with the zone lock held as well:
	 * nobody else may write the flags of a free block meanwhile. */
	if (!(page_flags(page) & PAGE_FLAG(PG_pcp)))
		page_flags_store_locked(page, page_flags(page) | PAGE_FLAG(PG_pcp));
	set_page_order(page, order);
	page->pcp_mt = (uint8_t)mt;
	atomic_store_explicit(&page->pcp_cpu, (uint16_t)cpu, memory_order_relaxed);
	pcp->list_pages[pindex] += 1 << order;
	pcp->count += 1 << order;
	mod_pcp_zone_state(pcp, NR_ZONE_PCP, 1L << order);
	if (zone->sys->track_touched)
		touch_log_add(&pcp->touched, page_to_pfn(zone->sys, page));
}
static inline int nr_pcp_high(struct per_cpu_pages *pcp, struct zone *zone, int batch, bool free_high)
{
	int high_min = pcp->high_min, high_max = pcp->high_max;
	int high = pcp->high < high_min ? high_min : pcp->high > high_max ? high_max : pcp->high;

	pcp->high = high;
	if (!high)
		return 0;
	if (free_high) {
		int lowered = high - (batch << PCP_BATCH_SCALE_MAX);
		pcp->high = lowered > high_min ? lowered : high_min;
		return 0;
	}
	if (high_min == high_max)
		return high;
	if (atomic_load_explicit(&zone->below_high, memory_order_relaxed)) {
		int free_count = pcp->free_count > batch ? pcp->free_count : batch;
		int lowered = high - free_count;
		pcp->high = lowered > high_min ? lowered : high_min;
		high = pcp->count > high_min ? pcp->count : high_min;
	} else if (pcp->count >= high) {
		int need_high = pcp->free_count + batch;
		if (pcp->high < need_high)
			pcp->high = need_high < high_min ? high_min : need_high > high_max ? high_max : need_high;
	}
	return high;
}
void free_unref_page_drain(struct zone *zone, struct per_cpu_pages *pcp, int pindex, int batch, int high,
			   bool free_high);

#define PCPF_PREV_FREE_HIGH_ORDER 0x1
#define PCPF_FREE_HIGH_BATCH 0x2

/* free_unref_page_commit() up to its decision to drain, which it leaves
 * to the caller: pcp->count >= the high returned means drain, with
 * *free_high for free_unref_page_drain(). */
static inline __attribute__((always_inline)) int free_unref_page_commit_add(struct zone *zone,
									   struct per_cpu_pages *pcp, int cpu,
									   struct page *page, int mt, unsigned int order,
									   bool *free_high_out)
{
	int batch = pcp->batch;
	bool free_high = false;

	/* A free shortens the next refill. */
	pcp->alloc_factor >>= 1;
	pcp_page_clear_allocated_set(pcp, page, order, PAGE_FLAG(PG_pcp));
	pcp_list_add(zone, pcp, cpu, page, order, mt, false);
	/* Many high-order frees without allocations in between: such pages
	 * fragment memory if they linger, so drain them eagerly. */
	if (order && order <= PAGE_ALLOC_COSTLY_ORDER) {
		free_high = pcp->free_count >= batch + pcp->high_min / 2 && (pcp->flags & PCPF_PREV_FREE_HIGH_ORDER) &&
			    (!(pcp->flags & PCPF_FREE_HIGH_BATCH) || pcp->count >= batch);
		pcp->flags |= PCPF_PREV_FREE_HIGH_ORDER;
	} else if (pcp->flags & PCPF_PREV_FREE_HIGH_ORDER) {
		pcp->flags &= ~PCPF_PREV_FREE_HIGH_ORDER;
	}
	if (pcp->free_count < (batch << PCP_BATCH_SCALE_MAX))
		pcp->free_count += 1 << order;
	*free_high_out = free_high;
	return nr_pcp_high(pcp, zone, batch, free_high);
}
static inline void free_unref_page_commit(struct zone *zone, struct per_cpu_pages *pcp, int cpu, struct page *page,
					  int mt, unsigned int order)
{
	bool free_high;
	int high = free_unref_page_commit_add(zone, pcp, cpu, page, mt, order, &free_high);

	if (pcp->count >= high)
		free_unref_page_drain(zone, pcp, order_to_pindex(zone->sys, mt, order), pcp->batch, high, free_high);
}

/* The pcp list type of a block freed at pfn: its pageblock's, HIGHATOMIC
 * and CMA riding the movable list; -1 in an isolated pageblock, whose
 * blocks must not hide on a pcp. */
static inline int pcp_free_migratetype(const struct buddy_system *sys, uint64_t pfn)
{
	int mt = get_pfnblock_migratetype(sys, pfn);

	if (__builtin_expect(mt >= MIGRATE_PCPTYPES, 0)) {
		if (is_migrate_isolate(mt))
			return -1;
		mt = MIGRATE_MOVABLE;
	}
	return mt;
}
/* true if the page went to the pcp; false, with nothing changed, if the
 * caller must free to the zone. */
static inline __attribute__((always_inline)) bool free_unref_page(struct zone *zone, int cpu, struct page *page,
								  unsigned int order)
{
	int mt = pcp_free_migratetype(zone->sys, page_to_pfn(zone->sys, page));

	if (mt < 0)
		return false;
	struct per_cpu_pages *pcp = &zone->pcp[cpu];
#ifdef BUDDY_BUG_PCP_UNLOCKED
	free_unref_page_commit(zone, pcp, cpu, page, mt, order);
#else
	if (!spin_trylock(&pcp->lock))
		return false;
	free_unref_page_commit(zone, pcp, cpu, page, mt, order);
	spin_unlock(&pcp->lock);
#endif
	return true;
}
void drain_zone_pages(struct zone *zone, int cpu);
int pcp_init_zone(struct zone *zone); /* 0 or -ENOMEM */
void zone_pcp_update(struct zone *zone);
void pcp_destroy_zone(struct zone *zone);

/* watermark.c */
void setup_per_zone_wmarks(struct buddy_system *sys);
void setup_per_zone_lowmem_reserve(struct buddy_system *sys);
long calculate_min_free_kbytes(struct buddy_system *sys);
bool __zone_watermark_ok(struct zone *z, unsigned int order, unsigned long mark, int highest_zoneidx,
			 unsigned int alloc_flags, long free_pages);
bool zone_watermark_fast(struct zone *z, unsigned int order, unsigned long mark, int highest_zoneidx,
			 unsigned int alloc_flags, gfp_t gfp);
/* Free pages this request may not count against the watermark. */
static inline long zone_watermark_unusable_free(struct zone *z, unsigned int order, unsigned int alloc_flags)
{
	long unusable = (1L << order) - 1;

	if (!(alloc_flags & ALLOC_RESERVES))
		unusable += atomic_load_explicit(&z->nr_free_highatomic, memory_order_relaxed);
	if (!(alloc_flags & ALLOC_CMA))
		unusable += zone_page_state(z, NR_FREE_CMA_PAGES);
	return unusable;
}
/* The first half of __zone_watermark_ok(): enough free pages above the
 * mark, the reserves this request may dip into and lowmem_reserve.  The
 * second half, a free block of the order, is a scan of the free areas that
 * a caller about to take such a block under zone->lock may learn there. */
static inline bool zone_watermark_free_ok(struct zone *z, unsigned int order, unsigned long mark,
					  int highest_zoneidx, unsigned int alloc_flags, long free_pages)
{
	long min = (long)mark;

	free_pages -= zone_watermark_unusable_free(z, order, alloc_flags);
	if (alloc_flags & ALLOC_RESERVES) {
		if (alloc_flags & ALLOC_MIN_RESERVE) {
			min -= min / 2;
			if (alloc_flags & ALLOC_NON_BLOCK)
				min -= min / 4;
		}
		if (alloc_flags & ALLOC_OOM)
			min -= min / 2;
	}
#ifdef BUDDY_BUG_WMARK_LOWMEM
	(void)highest_zoneidx;
	return free_pages > min;
#else
	return free_pages > min + (long)z->lowmem_reserve[highest_zoneidx];
#endif
}
/* __zone_watermark_ok(), inline for the allocation fast path. */
static inline __attribute__((always_inline)) bool zone_watermark_ok_inline(struct zone *z, unsigned int order,
									  unsigned long mark, int highest_zoneidx,
									  unsigned int alloc_flags, long free_pages)
{
	if (!zone_watermark_free_ok(z, order, mark, highest_zoneidx, alloc_flags, free_pages))
		return false;
	if (!order)
		return true;
	/* A high-order request also needs a block it may take. */
	for (unsigned int o = order; o <= z->sys->max_order; o++) {
		struct free_area *area = &z->free_area[o];
		if (!counter_read(&area->nr_free))
			continue;
		for (int mt = 0; mt < MIGRATE_PCPTYPES; mt++)
			if (counter_read(&area->nr_free_mt[mt]))
				return true;
		if ((alloc_flags & ALLOC_CMA) && counter_read(&area->nr_free_mt[MIGRATE_CMA]))
			return true;
		if ((alloc_flags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) && counter_read(&area->nr_free_mt[MIGRATE_HIGHATOMIC]))
			return true;
	}
	return false;
}
/* zone_watermark_fast()'s order-0 shortcut, inline so that the allocation
 * fast path pays no call for the usual answer.  false only means that the
 * full check must decide. */
static inline bool zone_watermark_order0_clear(struct zone *z, long free_pages, unsigned long mark,
					       int highest_zoneidx, unsigned int alloc_flags)
{
	long usable = free_pages;
	/* Free CMA pages, when the request may not use them, are part of
	 * what is unusable: subtracted once, as 6.x does. */
	long reserved = zone_watermark_unusable_free(z, 0, alloc_flags);
	usable -= usable < reserved ? (usable > 0 ? usable : 0) : reserved;
#ifdef BUDDY_BUG_WMARK_LOWMEM
	(void)highest_zoneidx;
	return usable > (long)mark;
#else
	return usable > (long)(mark + z->lowmem_reserve[highest_zoneidx]);
#endif
}
bool boost_watermark(struct zone *zone);

/* backing.c: real memory behind pfns */
void backing_on_alloc(struct buddy_system *sys, uint64_t pfn, unsigned int order, bool zero);
void backing_on_free(struct buddy_system *sys, uint64_t pfn, unsigned int order);
/* Lift every ASan poison mark before the backing is unmapped: ASan keeps
 * them across munmap and the next mapping at that address would trip. */
void backing_release(struct buddy_system *sys);
/* 0, or -1 and the first bad byte's pfn/offset when the poison pattern was overwritten */
int backing_check_poison(struct buddy_system *sys, uint64_t pfn, unsigned int order, uint64_t *bad_pfn,
			 size_t *bad_offset);

#endif
