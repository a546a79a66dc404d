/* Internal structures of the buddy model, shared by the files of alloc/.
 * Names follow mm/ so a reader of the kernel finds their way. */
#ifndef BUDDY_INTERNAL_H
#define BUDDY_INTERNAL_H

#include <pthread.h>
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
	n->next->prev = n->prev;
	n->prev->next = n->next;
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
};
#define PAGE_FLAG(bit) (1u << (bit))

struct page {
	struct list_head lru;   /* free list, pcp list or LRU links */
	/* Atomic so that a free racing another free of the same page is a
	 * reported double free, not a data race; updates under a lock use
	 * relaxed load/store and cost no more than plain ones. */
	_Atomic uint32_t flags;
	int32_t refcount;
	uint8_t order;          /* buddy order, pcp order, or allocation order on a head */
	uint8_t pcp_mt;         /* migratetype cached when on a pcp list (kernel: page->index) */
	uint8_t nid;
	uint8_t zid;
	uint16_t pcp_cpu;       /* which CPU's pcp holds the block */
	uint8_t alloc_mt;       /* migratetype the allocation asked for */
	uint8_t reserved0;
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
static inline bool page_flag(const struct page *p, int bit) { return page_flags(p) & PAGE_FLAG(bit); }
static inline void set_page_flag(struct page *p, int bit) { page_flags_store(p, page_flags(p) | PAGE_FLAG(bit)); }
static inline void clear_page_flag(struct page *p, int bit) { page_flags_store(p, page_flags(p) & ~PAGE_FLAG(bit)); }

/* ---- pcp ---- */
#define NR_LOWORDER_PCP_LISTS (MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1))
#define NR_PCP_THP 2
#define NR_PCP_LISTS (NR_LOWORDER_PCP_LISTS + NR_PCP_THP)

struct per_cpu_pages {
	pthread_mutex_t lock;
	int count;               /* pages on all lists */
	int high, high_min, high_max, batch;
	int free_count;          /* pages freed since the last allocation, scales the drain */
	int alloc_factor;        /* refill scale: doubles over runs of allocations */
	unsigned int flags;      /* PCPF_* of the free path */
	bool fixed;              /* high/batch set by the user */
	struct list_head lists[NR_PCP_LISTS];
	int list_pages[NR_PCP_LISTS]; /* pages on each list, for the checker and pagesets output */
};

/* ---- zone ---- */
struct free_area {
	struct list_head free_list[MIGRATE_TYPES];
	unsigned long nr_free;                    /* blocks, every type */
	unsigned long nr_free_mt[MIGRATE_TYPES];  /* blocks per type */
};

enum zone_stat_item {
	NR_FREE_PAGES,       /* free pages in the buddy lists, ISOLATE left out */
	NR_FREE_CMA_PAGES,
	NR_ZONE_ALLOCATED,   /* pages handed out (including those in pcp? no: pcp counted apart) */
	NR_ZONE_PCP,         /* pages on pcp lists of every CPU */
	NR_ZONE_QUARANTINED,
	NR_ZONE_OFFLINE,
	NR_ZONE_ISOLATED,    /* pages held outside the free lists by isolation/compaction */
	NR_VM_ZONE_STAT_ITEMS
};

struct zone {
	pthread_mutex_t lock;
	struct buddy_system *sys;
	int nid;
	enum zone_type zid;
	const char *name;
	uint64_t zone_start_pfn;
	uint64_t spanned_pages;
	uint64_t present_pages;
	uint64_t managed_pages;
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
};

static inline bool populated_zone(const struct zone *z) { return z->present_pages != 0; }
static inline bool zone_spans_pfn(const struct zone *z, uint64_t pfn)
{
	return pfn >= z->zone_start_pfn && pfn < z->zone_start_pfn + z->spanned_pages;
}
static inline long zone_page_state(const struct zone *z, enum zone_stat_item i)
{
	return atomic_load_explicit(&z->vm_stat[i], memory_order_relaxed);
}
static inline void mod_zone_page_state(struct zone *z, enum zone_stat_item i, long delta)
{
	atomic_fetch_add_explicit(&z->vm_stat[i], delta, memory_order_relaxed);
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
	uint64_t node_start_pfn, node_spanned_pages, node_present_pages;
	int nr_cpus;
};

/* ---- the instance ---- */
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
	uint64_t max_pfn;              /* one past the highest pfn */
	struct page *mem_map;          /* max_pfn records, mapped lazily */
	size_t mem_map_bytes;
	_Atomic uint8_t *pageblock_flags; /* per pageblock: bits 0-2 migratetype, bit 3 skip */
	uint64_t nr_pageblocks;
	unsigned char *backing;        /* BUDDY_BACKING_MMAP: max_pfn pages */
	size_t backing_bytes;
	long min_free_kbytes;
	bool user_min_free_kbytes;
	int watermark_scale_factor;
	int watermark_boost_factor;
	int lowmem_reserve_ratio[MAX_NR_ZONES];
	bool page_group_by_mobility_disabled;
	pthread_mutex_t tunables_lock; /* pcp_batch_high_lock + sysctl writers */
	_Atomic uint64_t events[NR_BUDDY_VM_EVENTS];
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
static inline void count_vm_events(struct buddy_system *sys, enum buddy_vm_event ev, uint64_t n)
{
	atomic_fetch_add_explicit(&sys->events[ev], n, memory_order_relaxed);
}

/* ---- functions shared between files ---- */
/* mm_init.c */
int buddy_cpu_of_thread(const struct buddy_system *sys);
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
void page_clear_allocated(struct zone *zone, struct page *page, unsigned int order);
void page_del_and_expand(struct zone *zone, struct page *page, unsigned int low, unsigned int high, int mt);
void free_one_page(struct zone *zone, struct page *page, uint64_t pfn, unsigned int order);

/* pcp.c */
bool pcp_allowed_order(const struct buddy_system *sys, unsigned int order);
int order_to_pindex(const struct buddy_system *sys, int mt, unsigned int order);
unsigned int pindex_to_order(const struct buddy_system *sys, int pindex);
struct page *rmqueue_pcplist(struct zone *zone, int cpu, unsigned int order, int mt, unsigned int alloc_flags);
/* true if the page went to the pcp; false if the caller must free to the zone */
size_t rmqueue_pcplist_bulk(struct zone *zone, int cpu, int mt, unsigned int alloc_flags, size_t nr,
			    struct page **out);
bool free_unref_page(struct zone *zone, int cpu, struct page *page, unsigned int order);
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
bool boost_watermark(struct zone *zone);

/* backing.c: real memory behind pfns */
void backing_on_alloc(struct buddy_system *sys, uint64_t pfn, unsigned int order, bool zero);
void backing_on_free(struct buddy_system *sys, uint64_t pfn, unsigned int order);
/* 0, or -1 and the first bad byte's pfn/offset when the poison pattern was overwritten */
int backing_check_poison(struct buddy_system *sys, uint64_t pfn, unsigned int order, uint64_t *bad_pfn,
			 size_t *bad_offset);

#endif
