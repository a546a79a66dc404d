/* The operation language of the fuzzers: a program of allocator operations
 * on a small machine, in two forms that carry the same information.
 *
 * Binary (what the fuzzers mutate): FZ_HEADER_BYTES of machine description,
 * then operations.  Every byte string decodes: bytes are consumed
 * structurally, a read past the end yields 0, and every field is reduced into
 * its valid range (modulo), so no input is rejected and a mutation of any
 * byte still means something.  References to earlier results ("free #7") are
 * chosen among the handles live at that point, counting back from the most
 * recent, so a random byte almost always hits a block the program owns.
 *
 * Text (what people read and write): a `machine` line, then one operation
 * per line, e.g.
 *
 *     machine nodes=2 cpus=2 max_order=10 pageblock_order=9 unit=256 node0=1/4/0/0 node1=0/0/4/0
 *     thp: alloc cpu=1 node=0 gfp=GFP_TRANSHUGE order=9
 *     alloc cpu=0 node=any gfp=GFP_KERNEL|__GFP_ZERO order=3
 *     touch #thp
 *     free #thp cpu=0
 *     drain all
 *     check
 *
 * A line may start with a label, `name:` or the operation's own index `7:`,
 * and `#name` / `#7` refer to the handle the labelled operation made.  `#`
 * followed by a blank starts a comment.  The formatter writes every line as
 * `INDEX: op ...`, so a trace printed by the interpreter (with results as
 * comments) parses back into the same program.
 *
 * Round trips (tests/test_fuzz_ops.c checks both on random inputs):
 *   decode(encode(p)) == p  and  parse(format(p)) == p
 * for every program p that decode or parse produced.
 */
#ifndef PAGETORTURE_FUZZ_OPS_H
#define PAGETORTURE_FUZZ_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buddy/buddy.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FZ_HEADER_BYTES 8
#define FZ_MAX_NODES 4
#define FZ_MAX_CPUS 4
#define FZ_MAX_PAGES 8192      /* total memory of a fuzz machine, 32 MiB */
#define FZ_MAX_POISON_PAGES 2048 /* with page poisoning on */
#define FZ_MAX_OPS 4096        /* decoding stops here; 1 KiB inputs hold a few hundred */
#define FZ_MAX_BULK 64
#define FZ_NO_REF UINT32_MAX

/* The machine a program runs on: the header, decoded and normalised. */
struct fz_machine {
	uint8_t nr_nodes;            /* 1..4 */
	uint8_t nr_cpus;             /* 1..4 */
	uint8_t max_order;           /* 3..10 */
	uint8_t pageblock_order;     /* max_order-3 .. max_order */
	uint16_t unit;               /* pages per zone unit: 64, 128, 256, 512 */
	uint8_t skew;                /* 0..7: zones get skew*7 extra pages, so boundaries are unaligned */
	uint8_t zone_units[FZ_MAX_NODES][MAX_NR_ZONES]; /* 0, 1, 2 or 4 units */
	uint8_t min_free;            /* 0: computed; c: 2^(c+4) KiB */
	uint8_t pcp_fraction;        /* 0: automatic; else percpu_pagelist_high_fraction 8, 64, 1024 */
	uint8_t wsf;                 /* watermark_scale_factor code: 10, 1, 100, 1000 */
	bool poison;                 /* page poisoning (fill at free, check at allocation) */
	bool no_mobility;            /* page_group_by_mobility_disabled */
	bool cma;                    /* a CMA area in the last zone that can hold one */
	bool hole;                   /* a hole in the largest zone */
	bool ring;                   /* node distances grow with the hop count (else all 20) */
	bool no_boost;               /* watermark_boost_factor 0 */
	bool cpus_on_node0;          /* every CPU on node 0 (else cpu i on node i % nodes) */
};

enum fz_opcode {
	FZ_NOP,
	FZ_ALLOC,        /* alloc cpu= node= gfp= order= [nodemask=] [owner=taskN] [map=] -> handle */
	FZ_BULK,         /* bulk cpu= node= gfp= nr= -> handle */
	FZ_FREE,         /* free #R cpu= : release any handle the way its kind is released */
	FZ_BADFREE,      /* badfree #R cpu= order= : free an alloc handle with the wrong order */
	FZ_REFREE,       /* refree #R cpu= : free an alloc handle a second time */
	FZ_WILDFREE,     /* wildfree cpu= pfn= order= : free a pfn the program does not own */
	FZ_TOUCH,        /* touch #R : verify the pattern, write a new one */
	FZ_DRAIN,        /* drain all | drain cpu=C | drain local cpu=C */
	FZ_SET,          /* set min_free_kbytes=V | watermark_scale_factor=V | pcp high= batch= | lowmem_reserve_ratio=a,b,c,d */
	FZ_CHECK,        /* check : the full checker and every owned block's contents */
	FZ_QUERY,        /* query zoneinfo | wmark ... | proc | zonelist ... | frag ... */
	FZ_TASK,         /* task adj= [flags=] -> task N (numbered from 1 in creation order) */
	FZ_TASKSET,      /* taskset task=N adj= flags= */
	FZ_TASKEXIT,     /* taskexit task=N */
	FZ_COMPACT,      /* compact node= zone= order= mode= | compact node=N | compact all */
	FZ_KSWAPD,       /* kswapd node= */
	FZ_RECLAIM,      /* reclaim node= gfp= order= (try_to_free_pages) */
	FZ_OOM,          /* oom gfp= order= nodemask= */
	FZ_CONTIG,       /* contig pfn= nr= gfp= -> handle (alloc_contig_range) */
	FZ_CMA,          /* cma area= count= align= -> handle */
	FZ_ISOLATE,      /* isolate pfn= nr= -> handle (free undoes the isolation) */
	FZ_OFFLINE,      /* offline pfn= nr= -> handle (free onlines the range again) */
	FZ_ONLINE,       /* online pfn= nr= */
	FZ_HWPOISON,     /* hwpoison pfn= */
	FZ_UNPOISON,     /* unpoison pfn= */
	FZ_FAULT,        /* fault off | fault prob= interval= times= min_order= eagain= reclaim_fail= compact_fail= seed= */
	FZ_NR_OPCODES
};

enum fz_drain { FZ_DRAIN_ALL, FZ_DRAIN_CPU, FZ_DRAIN_LOCAL, FZ_NR_DRAIN };
enum fz_set { FZ_SET_MIN_FREE, FZ_SET_WSF, FZ_SET_PCP, FZ_SET_LOWMEM, FZ_NR_SET };
enum fz_query { FZ_Q_ZONEINFO, FZ_Q_WMARK, FZ_Q_PROC, FZ_Q_ZONELIST, FZ_Q_FRAG, FZ_NR_QUERY };
enum fz_compact { FZ_COMPACT_ZONE, FZ_COMPACT_NODE, FZ_COMPACT_ALL, FZ_NR_COMPACT };
/* How the owner of a block behaves when the allocator wants it moved or back. */
enum fz_map { FZ_MAP_NONE, FZ_MAP_MOVABLE, FZ_MAP_RECLAIM, FZ_MAP_PINNED, FZ_MAP_ANON, FZ_NR_MAP };

/* One operation.  Fields an opcode does not use are 0, so programs compare
 * with memcmp. */
struct fz_op {
	uint8_t code;        /* enum fz_opcode */
	uint8_t sub;         /* drain / set / query / compact variant; mapping kind of an alloc */
	uint8_t cpu;
	int8_t node;         /* -1: any (the CPU's node) */
	int8_t order;        /* compact: -1 means the whole zone */
	uint8_t zone;
	uint8_t task;        /* 1-based task number, 0 none */
	uint8_t mode;        /* compact mode; wmark: which mark; zonelist: nofallback */
	gfp_t gfp;
	uint32_t ref;        /* index of the operation whose handle this one uses */
	uint32_t flags;      /* task flags; wmark alloc_flags; fault: 1 ignore_gfp_reclaim, 2 ignore_gfp_highmem */
	int32_t adj;         /* oom_score_adj; fault: times (-1 unlimited) */
	uint64_t nodemask;
	uint64_t pfn;
	uint64_t nr;         /* pages of a range; bulk count; cma count */
	uint64_t v[4];       /* set: the values; fault: v[0] probability, v[1] interval, v[3] seed */
	uint8_t fault[4];    /* fault: migrate_eagain %, reclaim_fail %, compaction_target_fail %, min_order */
};

struct fz_program {
	struct fz_machine m;
	size_t nr_ops;
	size_t cap;
	struct fz_op *ops;
};

void fz_program_init(struct fz_program *p);
void fz_program_free(struct fz_program *p);
/* Append an op; false when FZ_MAX_OPS is reached or memory runs out. */
bool fz_program_push(struct fz_program *p, const struct fz_op *op);
bool fz_program_equal(const struct fz_program *a, const struct fz_program *b);

/* The machine a zero header gives is not the default of the text form, which
 * starts from fz_machine_default(). */
void fz_machine_default(struct fz_machine *m);
void fz_machine_decode(const uint8_t hdr[FZ_HEADER_BYTES], struct fz_machine *m);
void fz_machine_encode(const struct fz_machine *m, uint8_t hdr[FZ_HEADER_BYTES]);
/* Fill a topology and options (backing on) from the machine. */
void fz_machine_build(const struct fz_machine *m, struct buddy_topology *topo, struct buddy_options *opts);
/* One past the highest pfn of the machine's zones. */
uint64_t fz_machine_pages(const struct fz_machine *m);

/* Never fails; p is reset first.  Stops at FZ_MAX_OPS. */
void fz_decode(const uint8_t *data, size_t len, struct fz_program *p);
/* Writes up to cap bytes; returns the size the encoding needs. */
size_t fz_encode(const struct fz_program *p, uint8_t *buf, size_t cap);

/* Text.  parse returns 0, or -1 with "line N: why" in err. */
int fz_parse(const char *text, size_t len, struct fz_program *p, char *err, size_t errlen);
void fz_format_machine(const struct fz_machine *m, FILE *out);
/* One op without its index or newline; returns the snprintf length. */
int fz_format_op(const struct fz_program *p, size_t i, char *buf, size_t len);
void fz_format(const struct fz_program *p, FILE *out);
const char *fz_opcode_name(unsigned code);

/* Does the buffer look like the text form?  (printable, starts with a word) */
bool fz_looks_like_text(const uint8_t *data, size_t len);

/* ---- the interpreter ---- */
enum fz_status {
	FZ_OK,
	FZ_VIOLATION,   /* the checker or the reference model found a broken invariant */
	FZ_SETUP_FAIL,  /* the machine could not be created (only fuzz_topology expects this) */
};

struct fz_run_opts {
	FILE *trace;              /* print each op with its result as it runs (NULL: quiet) */
	bool full_check_each_op;  /* BUDDY_CHECK_ALL after every op instead of the touched zones */
	/* After every op the checker judges what the op changed
	 * (BUDDY_CHECK_TOUCHED); every walk_interval ops, and when it is 0 or
	 * 1 after each, it walks the touched zones' lists (BUDDY_CHECK_ZONE). */
	unsigned int walk_interval;
	/* Memory kept across runs for the machine's pages (page aligned); a
	 * machine it cannot hold gets its own mapping. */
	void *backing_mem;
	size_t backing_len;
	bool abort_on_violation;  /* print the report and the trace so far to stderr, then abort() */
	bool free_all_at_end;     /* release every handle and check again before destroying */
	/* Known bugs not to abort on: "name" or "name~substring of the
	 * message", separated by commas (the fuzz targets take it from
	 * PAGETORTURE_FUZZ_IGNORE).  A matching violation still ends the run. */
	const char *ignore;
	/* Replay's hooks: before and after every op, with the live allocator. */
	void (*before_op)(void *ctx, struct buddy_system *sys, size_t index);
	void (*after_op)(void *ctx, struct buddy_system *sys, size_t index);
	void *hook_ctx;
};

struct fz_run_result {
	enum fz_status status;
	bool ignored;             /* the violation matched opts.ignore */
	size_t op_index;          /* the op after which the violation showed; nr_ops for the final check */
	char invariant[48];
	char message[320];
	size_t ops_run;
	size_t allocs_ok, allocs_failed;
	size_t zone_checks, full_checks;  /* buddy_check() calls of each scope */
};

void fz_run_opts_init(struct fz_run_opts *o);
enum fz_status fz_run(const struct fz_program *p, const struct fz_run_opts *o, struct fz_run_result *res);

/* Does a violation match an ignore list (see fz_run_opts.ignore)? */
bool fz_ignored(const char *list, const char *name, const char *message);

/* The reference model's own invariant names, after the checker's. */
size_t fz_model_invariants(const struct buddy_invariant **list);

#ifdef __cplusplus
}
#endif

#endif
