/* pagetorture stress: many threads, each on a simulated CPU, drive one
 * allocator instance through a workload profile; the invariants of whatever
 * a step touched are checked after every step, everything at a barrier every
 * K steps, and every allocated block carries a pattern that is verified when
 * it is freed. */
#ifndef PAGETORTURE_STRESS_H
#define PAGETORTURE_STRESS_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buddy/buddy.h"

#define STRESS_RING 32           /* operations each thread remembers */
#define STRESS_MAX_THREADS 64
#define STRESS_INBOX 256         /* blocks in flight to one thread */
#define STRESS_MAX_VIOL 8
#define STRESS_MAX_POISON 256
#define STRESS_TEARDOWN UINT64_MAX /* the step of a violation found after the run */

enum integrity_mode { INTEGRITY_FULL, INTEGRITY_SAMPLE, INTEGRITY_OFF };

struct stress_opts {
	const char *profile;
	int threads;
	int cpus;
	double time_s;           /* > 0: run for this long */
	uint64_t steps;          /* > 0: steps per thread */
	uint64_t seed;
	uint64_t check_interval; /* K: full check at a barrier every K steps */
	uint64_t walk_interval;  /* the per-step check walks the zone every W steps, else checks what changed */
	bool step_check;
	bool fault;
	struct buddy_fault_attr fault_attr;
	const char *topology;    /* "two-node" (default), "small", or a file */
	uint64_t pages;          /* memory of the built-in layouts */
	const char *report_dir;  /* parent of stress-<date>/ */
	enum integrity_mode integrity;
	bool poison;
	int status_ms;           /* plain status line period; 0: default */
	int tty;                 /* -1 auto, 0 plain, 1 live line */
	bool quiet;
	bool require_faults;
	bool soak;
	uint64_t selftest_step;
	char fault_spec[256];    /* as given, for the rerun command */
	bool topology_given;
};

enum op_kind {
	OP_ALLOC,
	OP_ALLOC_MAPPED,
	OP_BULK,
	OP_FREE,
	OP_FREE_REMOTE,   /* freed on another CPU than the thread's own */
	OP_HANDOFF,       /* block passed to another thread, which frees it */
	OP_RECV_FREE,     /* a block another thread handed over, freed here */
	OP_DRAIN_LOCAL,
	OP_DRAIN_ALL,
	OP_BIND,
	OP_COMPACT,
	OP_KSWAPD,
	OP_DIRECT_RECLAIM,
	OP_OOM,
	OP_CMA_ALLOC,
	OP_CMA_RELEASE,
	OP_CONTIG_ALLOC,
	OP_CONTIG_FREE,
	OP_OFFLINE,
	OP_ONLINE,
	OP_MEMORY_FAILURE,
	OP_UNPOISON,
	OP_SET_PCP,
	NR_OP_KINDS
};

struct op_rec {
	uint64_t seq;      /* global order of operations (approximate interleaving) */
	uint64_t step;
	uint8_t kind;
	uint8_t order;
	bool teardown;     /* done by the main thread after the run, for this thread */
	int16_t cpu;
	int16_t node;      /* requested node, -1 local */
	int16_t peer;      /* thread a block came from or went to, -1 none */
	gfp_t gfp;
	uint64_t pfn;      /* UINT64_MAX none */
	uint64_t arg;      /* count, range length, ... */
	int64_t result;    /* 0/-errno, a count, or 1/0 for success of an allocation */
};

/* One block a thread holds. */
enum slot_state { SLOT_FREE, SLOT_PENDING, SLOT_LIVE, SLOT_BUSY };
#define HELD_PINNED 0x1u  /* long-lived: the fragmenter's unmovable pins */
#define HELD_MAPPED 0x2u  /* allocated for the thread's mapping: may move or be reclaimed */
#define HELD_RELEASED 0x4u /* taken away by a release callback while PENDING */
#define HELD_FILE 0x8u    /* the file mapping (reclaimable), else the anon one */

struct held {
	struct page *page;
	struct page *last_freed; /* the slot's previous block, which we freed */
	struct page *released;   /* PENDING: the block a release took before we saw it */
	uint64_t pfn;
	uint64_t key;      /* pattern key: (thread, generation, first pfn) */
	gfp_t gfp;
	uint32_t gen;
	int32_t live_pos;  /* index in live[], -1 when not live */
	uint8_t order;
	uint8_t state;
	uint8_t flags;
	int16_t alloc_cpu;
	int16_t origin;    /* thread that allocated it */
};

struct handoff_item {
	struct page *page;
	uint64_t pfn;
	uint64_t key;
	uint32_t gen;
	uint8_t order;
	int16_t alloc_cpu;
	int16_t origin;
};

struct handoff_queue {
	pthread_mutex_t lock;
	unsigned int head, count;
	struct handoff_item items[STRESS_INBOX];
};

enum { RANGE_CMA, RANGE_CONTIG };
#define STRESS_MAX_RANGES 16
struct range_hold {
	uint64_t pfn, count, key;
	int kind, area;
};

struct stress_run;

struct stress_thread {
	int id;
	int cpu;            /* the CPU it is bound to now */
	int home_cpu;
	struct stress_run *run;
	pthread_t th;
	uint64_t rng[4];
	uint64_t step;

	/* blocks held: slots are stable (a slot number is the mapping index) */
	pthread_mutex_t lock; /* the table against callbacks of other threads */
	struct held *slots;
	uint32_t nslots, cap_slots;
	uint32_t *free_slots;    /* a ring of free slot numbers, oldest first */
	uint32_t free_head, nfree_slots;
	uint32_t *live;
	uint32_t nlive;
	/* changed under lock (by callbacks too), read by the owner without it */
	_Atomic uint64_t held_pages;
	_Atomic uint64_t pinned_pages;
	uint32_t gen;
	struct buddy_mapping file_mapping, anon_mapping;
	int task;            /* simulated task (oom-storm), 0 none */
	int zombies[8];      /* killed tasks whose pages the reaper has not finished with */
	int nzombies;
	struct range_hold ranges[STRESS_MAX_RANGES];
	int nranges;

	struct handoff_queue inbox;

	/* what the last step touched, for the per-step check */
	int touch_nid, touch_zone;
	int touch_cpu;      /* pcp to check when not the thread's own (-1) */
	bool touch_all;     /* every zone (slow-path operations) */
	bool touch_pcp;

	struct op_rec ring[STRESS_RING];
	uint64_t ring_head;
	uint64_t trace_hash;

	/* statistics; the owner writes them, others read after join or
	 * under the barrier */
	uint64_t allocs, alloc_fail, frees, handoffs, recv_frees, remote_frees;
	uint64_t bytes_written, bytes_verified;
	uint64_t checks_zone, checks_touched, checks_pcp, checks_all;
	uint64_t ns_step, ns_check;
	uint64_t ops_by_kind[NR_OP_KINDS];
	_Atomic uint64_t pub_steps; /* for the status line */
	/* callbacks run on other threads */
	_Atomic uint64_t cb_bytes_verified, cb_migrations, cb_reclaims, cb_releases;

	bool failed;
	bool in_teardown;
};

struct stress_violation {
	char name[64];
	int thread;
	uint64_t step;
	uint64_t seq;
	size_t count;
	char lines[STRESS_MAX_VIOL][256];
};

struct stress_profile;

struct stress_barrier {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int parties, arrived;
	uint64_t generation;
	bool aborted;
};

struct stress_run {
	struct stress_opts opts;
	struct buddy_system *sys;
	struct buddy_topology topo;
	struct buddy_options bopts;
	const struct stress_profile *profile;
	int nthreads;
	struct stress_thread *threads;
	struct stress_barrier barrier;
	_Atomic bool stop;
	_Atomic bool failed;
	_Atomic uint64_t seq;
	pthread_mutex_t fail_lock;
	struct stress_violation viol;
	uint64_t managed_pages;
	unsigned int max_order, pageblock_order;
	_Atomic uint64_t extra_held; /* pages the profiles hold outside thread tables (CMA, contig ranges) */
	uint64_t faults_survived;    /* injected up to the last clean full check */
	uint64_t bad_pages_seen;
	uint64_t max_pfn;
	bool populated[BUDDY_MAX_NODES][MAX_NR_ZONES];
	_Atomic uint64_t *owned;   /* one bit per pfn held by some thread (or in a hand-off queue) */
	uint64_t boot_free_pages;
	double t_start;
	/* CMA areas and hotplug ranges the profiles may use */
	int nr_cma;
	struct buddy_pfn_range hotplug[4];
	int nr_hotplug;
	_Atomic int hotplug_state[4];  /* 0 online, 1 busy, 2 offline */
	pthread_mutex_t poison_lock;
	uint64_t poisoned[STRESS_MAX_POISON];       /* pfns memory_failure took, for unpoison */
	size_t nr_poisoned;
	bool leak_check;   /* every page must come back at the end */
};

/* profiles.c */
struct stress_profile {
	const char *name;
	const char *what;
	void (*step)(struct stress_thread *t);
	int (*setup)(struct stress_run *run);      /* optional, before threads start */
	void (*teardown)(struct stress_run *run);  /* optional, after join */
	bool in_mix;
	bool leak_check;
};
const struct stress_profile *stress_profile_find(const char *name);
void stress_profiles_list(FILE *out);
size_t stress_profiles(const struct stress_profile **list);

/* worker.c: the operations every profile is made of */
uint64_t rng_next(struct stress_thread *t);
uint64_t rng_below(struct stress_thread *t, uint64_t n);
bool rng_chance(struct stress_thread *t, unsigned int per_mille);
void rng_seed(uint64_t rng[4], uint64_t seed);

struct op_rec *op_begin(struct stress_thread *t, enum op_kind kind);
void op_end(struct stress_thread *t, struct op_rec *r);
void op_format(const struct op_rec *r, char *buf, size_t len);

/* Allocate one block and take it into the table (filled with its pattern).
 * Returns the slot or -1 when the allocator said no. */
long stress_alloc(struct stress_thread *t, gfp_t gfp, unsigned int order, int nid, unsigned int hflags);
long stress_alloc_mapped(struct stress_thread *t, gfp_t gfp, unsigned int order, int nid, bool file);
bool stress_range_take(struct stress_thread *t, int kind, int area, uint64_t pfn, uint64_t count);
bool stress_range_detach(struct stress_thread *t, int i, struct range_hold *out);
size_t stress_alloc_bulk(struct stress_thread *t, gfp_t gfp, size_t nr);
/* Verify and free a held block, on the thread's CPU or on cpu (>= 0). */
void stress_free(struct stress_thread *t, uint32_t slot, int cpu);
bool stress_handoff(struct stress_thread *t, uint32_t slot, int dest);
bool stress_recv_free(struct stress_thread *t);
/* a random live slot, skipping pinned ones unless allow_pinned; -1 none */
long stress_pick(struct stress_thread *t, bool allow_pinned);
void stress_drain_local(struct stress_thread *t);
void stress_drain_all(struct stress_thread *t);
void stress_bind(struct stress_thread *t, int cpu);
/* The thread's share of memory it should hold now (it moves over time so
 * the run crosses the watermarks in both directions). */
uint64_t stress_target_pages(struct stress_thread *t, unsigned int low_pct, unsigned int high_pct);
void stress_violation(struct stress_thread *t, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void stress_request_stop(struct stress_run *run);
void stress_record_violation(struct stress_run *run, int thread, uint64_t step, const char *name, const char *fmt,
			     ...) __attribute__((format(printf, 5, 6)));
void stress_record_violationv(struct stress_run *run, int thread, uint64_t step, const char *name, const char *fmt,
			      va_list ap);
const char *op_name(int kind);
extern const struct buddy_mapping_ops stress_file_ops, stress_anon_ops;
void stress_touch_page(struct stress_thread *t, const struct page *page);
void stress_free_all(struct stress_thread *t);
void stress_selftest_corrupt(struct stress_thread *t);
void stress_release_ranges(struct stress_thread *t); /* profiles.c */
void stress_reap_zombies(struct stress_thread *t);   /* profiles.c */
uint64_t stress_total_held(struct stress_run *run);

/* integrity */
uint64_t pattern_key(uint64_t seed, int thread, uint32_t gen, uint64_t pfn);
size_t pattern_fill(void *addr, unsigned int order, uint64_t key, enum integrity_mode mode);
/* bytes verified, or (size_t)-1 with *bad_off, *want, *got set */
size_t pattern_verify(const void *addr, unsigned int order, uint64_t key, enum integrity_mode mode,
		      size_t *bad_off, uint64_t *want, uint64_t *got);

double now_s(void);
uint64_t now_ns(void);

#endif
