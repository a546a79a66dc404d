/* pagetorture: a userspace model of the Linux 6.x zoned buddy page allocator.
 *
 * Every allocator is an instance (struct buddy_system); the library keeps no
 * global state, so many instances can live in one process.  Every public call
 * is thread-safe.  A thread tells an instance which simulated CPU it runs on
 * with buddy_bind_cpu(), the way the kernel's smp_processor_id() would.
 *
 * Lock order (outermost first), as in the kernel:
 *   pcp->lock (one per CPU per zone)  ->  zone->lock  ->  sys->report_lock
 * The allocation and free paths take their CPU's pcp lock by trylock and go
 * to the zone when it is busy; drains take it normally.  No path holds two
 * zone locks; only the checker and /proc output hold several pcp locks of
 * one zone, in CPU order.  A thread that keeps using one CPU's pcp lock
 * becomes its owner and enters it without a locked instruction; another
 * thread that takes it then pays a membarrier(2) once (the IPI with which
 * the kernel used to drain a remote CPU before 5.19).
 */
#ifndef BUDDY_BUDDY_H
#define BUDDY_BUDDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buddy/gfp.h"
#include "buddy/types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct buddy_system;
struct page; /* one record per pfn, like the kernel's struct page */

#define BUDDY_MAX_HOLES 64
#define BUDDY_MAX_CMA 16
#define BUDDY_LOCAL_DISTANCE 10
#define BUDDY_REMOTE_DISTANCE 20

/* A pfn range [start_pfn, end_pfn); start == end means the zone is empty. */
struct buddy_pfn_range {
	uint64_t start_pfn;
	uint64_t end_pfn;
};

struct buddy_topology {
	int nr_nodes;                               /* 1 .. BUDDY_MAX_NODES */
	int nr_cpus;                                /* 1 .. BUDDY_MAX_CPUS */
	int cpu_to_node[BUDDY_MAX_CPUS];
	uint8_t distance[BUDDY_MAX_NODES][BUDDY_MAX_NODES];
	struct buddy_pfn_range zones[BUDDY_MAX_NODES][MAX_NR_ZONES];
	int nr_holes;                               /* pfns inside a zone span that have no memory */
	struct buddy_pfn_range holes[BUDDY_MAX_HOLES];
	int nr_cma;                                 /* CMA areas; pageblock aligned, inside one zone */
	struct buddy_pfn_range cma[BUDDY_MAX_CMA];
};

enum buddy_backing {
	BUDDY_BACKING_NONE, /* metadata only: pages have no address */
	BUDDY_BACKING_MMAP, /* real memory behind every present pfn */
	/* The caller's memory (backing_mem, backing_len >= max_pfn pages,
	 * page aligned), kept across instances: a fuzzer that makes an
	 * allocator per input then pays no mmap and page faults each time.  Its
	 * old contents stay; the allocator never unmaps it. */
	BUDDY_BACKING_USER,
};

typedef void (*buddy_log_fn)(void *ctx, const char *line);

struct buddy_options {
	unsigned int max_order;        /* MAX_PAGE_ORDER, default 10, at most MAX_PAGE_ORDER_LIMIT */
	unsigned int pageblock_order;  /* default 9; must be <= max_order */
	enum buddy_backing backing;
	void *backing_mem;             /* BUDDY_BACKING_USER only */
	size_t backing_len;
	bool poison;                   /* write poison_byte at free, verify at allocation (page_poisoning) */
	uint8_t poison_byte;           /* default 0xaa, the kernel's PAGE_POISON */
	long min_free_kbytes;          /* 0: computed from memory as the kernel does */
	int watermark_scale_factor;    /* default 10 */
	int watermark_boost_factor;    /* default 15000; 0 disables boosting */
	int lowmem_reserve_ratio[MAX_NR_ZONES]; /* default 256, 256, 32, 0 */
	int percpu_pagelist_high_fraction;      /* 0: high from the low watermark, as the kernel default */
	bool no_mobility_grouping;     /* force page_group_by_mobility_disabled */
	buddy_log_fn log;              /* warnings and bad_page reports; NULL keeps them in the log ring only */
	void *log_ctx;
};

struct buddy_error {
	char field[64];   /* the topology or option field at fault, e.g. "zones[1][Normal]" */
	char message[256];
};

void buddy_options_init(struct buddy_options *opts);

/* The built-in topology: a small two-socket server (see topology.c). */
void buddy_topology_default(struct buddy_topology *topo);
/* A small one-node topology of nr_pages pages (DMA32 + Normal), for tests and fuzzing. */
void buddy_topology_small(struct buddy_topology *topo, uint64_t nr_pages, int nr_cpus);
/* Parse the plain-text topology format (docs/topology.md).
 * Returns 0, or -1 with err naming the line and field. */
int buddy_topology_parse(const char *text, size_t len, struct buddy_topology *topo,
			 struct buddy_options *opts, struct buddy_error *err);
int buddy_topology_load(const char *path, struct buddy_topology *topo,
			struct buddy_options *opts, struct buddy_error *err);
/* Check a topology for consistency; 0, or -1 with err naming the field. */
int buddy_topology_validate(const struct buddy_topology *topo, const struct buddy_options *opts,
			    struct buddy_error *err);
/* Write a topology in the text format (round-trips through buddy_topology_parse). */
int buddy_topology_write(FILE *out, const struct buddy_topology *topo, const struct buddy_options *opts);

struct buddy_system *buddy_system_create(const struct buddy_topology *topo,
					 const struct buddy_options *opts,
					 struct buddy_error *err);
void buddy_system_destroy(struct buddy_system *sys);

/* Which simulated CPU the calling thread runs on for this instance (default 0). */
int buddy_bind_cpu(struct buddy_system *sys, int cpu);
int buddy_current_cpu(const struct buddy_system *sys);

/* Allocation.  NULL on failure (or on bad input, counted and logged). */
struct page *buddy_alloc_pages(struct buddy_system *sys, gfp_t gfp, unsigned int order);
struct page *buddy_alloc_pages_node(struct buddy_system *sys, int nid, gfp_t gfp, unsigned int order);
/* nodemask: bit n allows node n; 0 means all nodes.  preferred_nid -1: the CPU's node. */
struct page *buddy_alloc_pages_nodemask(struct buddy_system *sys, gfp_t gfp, unsigned int order,
					int preferred_nid, uint64_t nodemask);
/* alloc_pages_bulk: order-0 pages into array[]; returns how many were placed. */
size_t buddy_alloc_pages_bulk(struct buddy_system *sys, gfp_t gfp, int preferred_nid,
			      uint64_t nodemask, size_t nr_pages, struct page **array);

/* Free a block obtained with the same order.  0, or a negative errno when the
 * free was refused as a bad page (reported like the kernel's bad_page()). */
int buddy_free_pages(struct buddy_system *sys, struct page *page, unsigned int order);

/* Page helpers. */
uint64_t buddy_page_to_pfn(const struct buddy_system *sys, const struct page *page);
struct page *buddy_pfn_to_page(struct buddy_system *sys, uint64_t pfn); /* NULL if invalid */
void *buddy_page_address(const struct buddy_system *sys, const struct page *page); /* NULL without backing */
int buddy_page_nid(const struct page *page);
enum zone_type buddy_page_zonenum(const struct page *page);
unsigned int buddy_page_order(const struct page *page);  /* allocation order of a head page */
bool buddy_page_is_free(const struct buddy_system *sys, uint64_t pfn);

/* pcp control. */
void buddy_drain_local_pages(struct buddy_system *sys);      /* this CPU, all zones */
void buddy_drain_cpu_pages(struct buddy_system *sys, int cpu);
void buddy_drain_all_pages(struct buddy_system *sys);
/* Fix pcp high and batch for every CPU (like percpu_pagelist_high_fraction but
 * absolute); high 0 and batch 0 restore the kernel's automatic values. */
int buddy_set_pcp_high_batch(struct buddy_system *sys, int high, int batch);

/* Tunables, recomputing watermarks as the sysctl handlers do. */
int buddy_set_min_free_kbytes(struct buddy_system *sys, long kbytes);
int buddy_set_watermark_scale_factor(struct buddy_system *sys, int factor);
int buddy_set_lowmem_reserve_ratio(struct buddy_system *sys, const int ratio[MAX_NR_ZONES]);

/* Watermarks, as mm/page_alloc.c has them. */
bool buddy_zone_watermark_ok(struct buddy_system *sys, int nid, enum zone_type zone,
			     unsigned int order, unsigned long mark,
			     enum zone_type highest_zoneidx, unsigned int alloc_flags);
unsigned long buddy_zone_wmark(struct buddy_system *sys, int nid, enum zone_type zone,
			       enum zone_watermarks which); /* including boost */

/* Invariant checking. */
enum buddy_check_scope {
	BUDDY_CHECK_ZONE,  /* one zone's free lists and counters, O(free blocks + pcp pages) */
	BUDDY_CHECK_PCP,   /* one CPU's pcp lists in every zone */
	BUDDY_CHECK_ALL,   /* everything, walking every page */
	/* One zone, incrementally: only the blocks whose list state changed
	 * since the zone was last checked (their flags, geometry, type, links,
	 * buddy and overlaps), and the counters against each other; cost
	 * follows the work done, not the zone size.  Needs buddy_check_track();
	 * without it, or when more changed than the log holds, it is
	 * BUDDY_CHECK_ZONE.  Run BUDDY_CHECK_ZONE at intervals as well: a
	 * counter that drifts together with the others is seen only there.
	 * cpu >= 0 narrows it to that CPU's pcp log and the zone's free-list
	 * log, under that CPU's pcp lock and (when the zone log holds anything)
	 * the zone lock, leaving the sums over every CPU to a cpu < 0 check. */
	BUDDY_CHECK_TOUCHED,
};

struct buddy_violation {
	const char *name;  /* short stable invariant name, e.g. "buddy-unmerged" */
	int nid;
	int zone;          /* enum zone_type or -1 */
	int cpu;           /* -1 when not about a pcp */
	uint64_t pfn;      /* UINT64_MAX when not about one page */
	int order;         /* -1 when not about a block */
	char message[160];
};

struct buddy_check_result {
	size_t count;                    /* violations found (may exceed the array) */
	size_t capacity;
	struct buddy_violation *v;       /* caller-owned array of capacity entries */
};

/* Run the checker.  nid/zone select the zone for BUDDY_CHECK_ZONE and
 * BUDDY_CHECK_TOUCHED, cpu the CPU for BUDDY_CHECK_PCP (and narrows
 * BUDDY_CHECK_TOUCHED when >= 0).  Takes the locks it needs.  Returns the violation count. */
size_t buddy_check(struct buddy_system *sys, enum buddy_check_scope scope, int nid,
		   enum zone_type zone, int cpu, struct buddy_check_result *res);
/* Name and one-line meaning of every invariant the checker knows. */
struct buddy_invariant {
	const char *name;
	const char *meaning;
};
size_t buddy_invariants(const struct buddy_invariant **list);
/* Keep the logs BUDDY_CHECK_TOUCHED reads (a store per list change).  Call
 * before other threads use sys. */
void buddy_check_track(struct buddy_system *sys, bool on);
void buddy_violation_format(const struct buddy_violation *v, char *buf, size_t len);

/* /proc output, in the kernel's exact text layouts. */
void buddy_proc_buddyinfo(struct buddy_system *sys, FILE *out);
void buddy_proc_pagetypeinfo(struct buddy_system *sys, FILE *out);
void buddy_proc_zoneinfo(struct buddy_system *sys, FILE *out);
void buddy_proc_vmstat(struct buddy_system *sys, FILE *out);

/* Event counters of /proc/vmstat. */
enum buddy_vm_event {
	PGALLOC_DMA, PGALLOC_DMA32, PGALLOC_NORMAL, PGALLOC_MOVABLE,
	ALLOCSTALL_DMA, ALLOCSTALL_DMA32, ALLOCSTALL_NORMAL, ALLOCSTALL_MOVABLE,
	PGFREE,
	PGSCAN_KSWAPD, PGSCAN_DIRECT, PGSTEAL_KSWAPD, PGSTEAL_DIRECT,
	COMPACTMIGRATE_SCANNED, COMPACTFREE_SCANNED, COMPACTISOLATED,
	COMPACTSTALL, COMPACTFAIL, COMPACTSUCCESS, KCOMPACTD_WAKE,
	KSWAPD_LOW_WMARK_HIT_QUICKLY, KSWAPD_HIGH_WMARK_HIT_QUICKLY, PAGEOUTRUN,
	OOM_KILL,
	CMA_ALLOC_SUCCESS, CMA_ALLOC_FAIL,
	PGMIGRATE_SUCCESS, PGMIGRATE_FAIL,
	/* Counters of this model with no kernel twin, kept after the kernel's. */
	BUDDY_ALLOC_FAIL, BUDDY_ALLOC_WARN, BUDDY_BAD_PAGE, BUDDY_EXTFRAG, BUDDY_HIGHATOMIC_RESERVE,
	BUDDY_HIGHATOMIC_UNRESERVE, BUDDY_WMARK_BOOST, BUDDY_ALLOC_STALL,
	NR_BUDDY_VM_EVENTS
};
uint64_t buddy_vm_event(struct buddy_system *sys, enum buddy_vm_event ev);
const char *buddy_vm_event_name(enum buddy_vm_event ev);

/* Summary numbers for tools. */
struct buddy_zone_info {
	bool populated;
	uint64_t start_pfn, spanned, present, managed;
	uint64_t free_pages;       /* NR_FREE_PAGES */
	uint64_t free_cma_pages;
	uint64_t pcp_pages;        /* on every CPU's pcp lists */
	uint64_t allocated_pages;
	uint64_t quarantined_pages; /* kept out by bad_page() */
	unsigned long wmark[NR_WMARK];
	unsigned long watermark_boost;
	unsigned long lowmem_reserve[MAX_NR_ZONES];
	unsigned long nr_reserved_highatomic;
	unsigned long nr_free_highatomic;
	unsigned long nr_free_blocks[MAX_PAGE_ORDER_LIMIT + 1][MIGRATE_TYPES];
	unsigned long nr_pageblocks[MIGRATE_TYPES];
	int pcp_high, pcp_batch;
};
int buddy_zone_info(struct buddy_system *sys, int nid, enum zone_type zone,
		    struct buddy_zone_info *info);
struct buddy_system_info {
	int nr_nodes, nr_cpus;
	unsigned int max_order, pageblock_order;
	long min_free_kbytes;
	bool page_group_by_mobility_disabled;
	uint64_t max_pfn;
	uint64_t present_pages;
	size_t page_struct_size;
	size_t metadata_bytes;
};
void buddy_system_info(struct buddy_system *sys, struct buddy_system_info *info);
/* The zonelist of a node: zones in the order the allocator tries them.
 * Writes up to max entries as nid * MAX_NR_ZONES + zone; returns the count. */
int buddy_zonelist(struct buddy_system *sys, int nid, bool nofallback, int *entries, int max);

/* Recent warnings and bad_page reports (a ring of lines). */
size_t buddy_log_read(struct buddy_system *sys, char *buf, size_t len);

/* ==== The slow path: owners, tasks, reclaim, compaction, OOM, contiguous
 * allocation, isolation, offlining and hwpoison (alloc/ files of the same
 * names as mm/'s). ==== */

/* An owner of pages, like the kernel's address_space with movable ops.
 * Callbacks come on any thread, also for a block whose free has returned:
 * a free that finds the block isolated by a migration or reclaim returns at
 * once, and the isolator finishes it afterwards.  So an owner answers
 * -EAGAIN/-EBUSY for a block it no longer holds, and keeps the mapping
 * valid until no migration, reclaim or release can be running. */
struct buddy_mapping;
struct buddy_mapping_ops {
	/* Compaction, contiguous allocation or offlining moves the block from
	 * old_page to new_page.  Like the kernel's migrate_folio, the owner
	 * copies the contents itself with buddy_migrate_copy(), while it keeps
	 * its own writers off old_page, then refers to new_page from now on.
	 * Return 0, or -EAGAIN to refuse this time (the block then stays
	 * put).  NULL: the owner's blocks never move. */
	int (*migrate)(struct buddy_mapping *m, struct page *old_page, struct page *new_page);
	/* Reclaim wants the block: return 0 when the owner has let go of it
	 * (the allocator then frees it), -EBUSY to keep it (it is rotated).
	 * NULL: not reclaimable (anonymous memory without swap). */
	int (*reclaim)(struct buddy_mapping *m, struct page *page);
	/* The OOM reaper wants the block of a killed task, or memory failure a
	 * poisoned one.  Return 0 when the owner has forgotten it (the
	 * allocator frees it; the owner must never free it), or -EBUSY when
	 * the owner no longer holds it because it is freeing it itself. */
	int (*release)(struct buddy_mapping *m, struct page *page);
};
struct buddy_mapping {
	const struct buddy_mapping_ops *ops;
	void *private_data;
};

#define BUDDY_OOM_SCORE_ADJ_MIN (-1000)
#define BUDDY_OOM_SCORE_ADJ_MAX 1000
#define BUDDY_MAX_TASKS 1024

/* Simulated tasks own pages for OOM accounting.  Ids start at 1. */
int buddy_task_create(struct buddy_system *sys, const char *comm, int oom_score_adj);
int buddy_task_set_oom_score_adj(struct buddy_system *sys, int task, int adj);
/* task_flags: BUDDY_TASK_RT, BUDDY_TASK_MEMALLOC (gfp.h) */
int buddy_task_set_flags(struct buddy_system *sys, int task, unsigned int task_flags);
/* -EBUSY while the task still owns pages. */
int buddy_task_destroy(struct buddy_system *sys, int task);
/* The calling thread runs as this task ("current"); 0 for none. */
int buddy_bind_task(struct buddy_system *sys, int task);
struct buddy_task_info {
	int id;
	char comm[16];
	int oom_score_adj;
	unsigned int flags;
	uint64_t rss_pages;
	bool oom_killed;
};
int buddy_task_info(struct buddy_system *sys, int task, struct buddy_task_info *info);

/* Allocate for an owner: the block is charged to the calling thread's task
 * and, when the mapping is given and the block movable or reclaimable, put
 * on the node's LRU.  index is the owner's cookie, kept in the page. */
struct page *buddy_alloc_pages_mapping(struct buddy_system *sys, gfp_t gfp, unsigned int order, int preferred_nid,
				       uint64_t nodemask, struct buddy_mapping *mapping, uint64_t index);
/* Copy a block's contents for a migrate callback (a no-op without backing
 * memory).  0, or -EINVAL when the orders differ. */
int buddy_migrate_copy(struct buddy_system *sys, struct page *dst, const struct page *src);
struct buddy_mapping *buddy_page_mapping(const struct page *page);
uint64_t buddy_page_index(const struct page *page);
int buddy_page_task(const struct page *page);

/* Reclaim.  Without kthreads, kswapd's work runs inline where the kernel
 * would wake it, so a run replays exactly from its inputs. */
unsigned long buddy_kswapd_run(struct buddy_system *sys, int nid);          /* one balance_pgdat; pages reclaimed */
unsigned long buddy_try_to_free_pages(struct buddy_system *sys, gfp_t gfp, unsigned int order, int nid);
int buddy_start_kthreads(struct buddy_system *sys); /* real kswapd and kcompactd threads per node */
void buddy_stop_kthreads(struct buddy_system *sys);

/* Compaction (enum compact_result of the kernel). */
enum buddy_compact_mode { BUDDY_COMPACT_ASYNC, BUDDY_COMPACT_SYNC_LIGHT, BUDDY_COMPACT_SYNC };
enum buddy_compact_result {
	COMPACT_NOT_SUITABLE_ZONE, COMPACT_SKIPPED, COMPACT_DEFERRED, COMPACT_NO_SUITABLE_PAGE,
	COMPACT_CONTINUE, COMPACT_COMPLETE, COMPACT_PARTIAL_SKIPPED, COMPACT_CONTENDED, COMPACT_SUCCESS,
};
/* order -1 compacts the whole zone, as /proc/sys/vm/compact_memory does. */
int buddy_compact_zone(struct buddy_system *sys, int nid, enum zone_type zone, int order,
		       enum buddy_compact_mode mode);
int buddy_compact_node(struct buddy_system *sys, int nid);
int buddy_compact_memory(struct buddy_system *sys);
int buddy_fragmentation_index(struct buddy_system *sys, int nid, enum zone_type zone, unsigned int order);
unsigned int buddy_fragmentation_score(struct buddy_system *sys, int nid); /* proactive compaction's score */

/* The OOM killer, explicitly (the slow path calls it itself).  Returns the
 * victim task id; 0 for progress without a kill (a gfp without __GFP_FS);
 * -ENOENT when no task is eligible; -EAGAIN when another OOM kill is under
 * way; -EINVAL for bad arguments. */
int buddy_out_of_memory(struct buddy_system *sys, gfp_t gfp, unsigned int order, uint64_t nodemask);
long buddy_oom_badness(struct buddy_system *sys, int task, unsigned long totalpages);

/* Contiguous allocation, CMA and isolation. */
int buddy_alloc_contig_range(struct buddy_system *sys, uint64_t start_pfn, uint64_t end_pfn, int migratetype,
			     gfp_t gfp);
void buddy_free_contig_range(struct buddy_system *sys, uint64_t pfn, uint64_t nr_pages);
struct page *buddy_cma_alloc(struct buddy_system *sys, int cma_area, uint64_t count, unsigned int align_order);
bool buddy_cma_release(struct buddy_system *sys, int cma_area, struct page *pages, uint64_t count);
int buddy_start_isolate_page_range(struct buddy_system *sys, uint64_t start_pfn, uint64_t end_pfn);
int buddy_undo_isolate_page_range(struct buddy_system *sys, uint64_t start_pfn, uint64_t end_pfn, int migratetype);

/* Memory hotplug and memory failure. */
int buddy_offline_pages(struct buddy_system *sys, uint64_t start_pfn, uint64_t nr_pages);
int buddy_online_pages(struct buddy_system *sys, uint64_t start_pfn, uint64_t nr_pages);
int buddy_memory_failure(struct buddy_system *sys, uint64_t pfn);
int buddy_unpoison_memory(struct buddy_system *sys, uint64_t pfn);

/* Fault injection, like fail_page_alloc and friends.  Percentages 0..100;
 * interval: every Nth eligible event at most; times: -1 unlimited. */
struct buddy_fault_attr {
	unsigned int probability;
	unsigned long interval;
	long times;
	unsigned int min_order;
	bool ignore_gfp_reclaim;   /* don't fail allocations that may reclaim (ignore-gfp-wait) */
	bool ignore_gfp_highmem;
	unsigned int compaction_target_fail;  /* % of compaction target allocations that fail */
	unsigned int migrate_eagain;          /* % of migrations that return -EAGAIN */
	unsigned int reclaim_fail;            /* % of reclaim attempts on a page that fail */
	uint64_t seed;
};
int buddy_set_fault_injection(struct buddy_system *sys, const struct buddy_fault_attr *attr); /* NULL: off */
uint64_t buddy_faults_injected(struct buddy_system *sys);

#ifdef __cplusplus
}
#endif

#endif
