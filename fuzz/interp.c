/* The interpreter: runs a program on a fresh allocator with backing memory,
 * and after every operation checks the zones it touched with buddy_check()
 * and the program's own reference model against the allocator.
 *
 * The model knows every block the program owns: which pfns, which order,
 * and (once touched) a pattern in its memory.  From that it checks what the
 * checker cannot see from inside the allocator: a block handed out while the
 * program still owns it, contents that change without the owner writing
 * them, a free the allocator should have refused or refused wrongly, a
 * request served from a zone, node or CMA area it may not use, and
 * NR_ZONE_ALLOCATED against the pages the program holds.
 *
 * Only calls within the API's contract are made: a block is freed with its
 * own order except by the ops whose point is the bad free, and those are
 * aimed only at pfns the program does not own, so the allocator must refuse
 * them.  A violation is therefore the allocator's bug (or this file's). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"

/* The model's invariants.  Names are stable: crash triage greps them. */
enum model_inv {
	M_DOUBLE_ALLOC,
	M_CONTENTS,
	M_NOT_ZEROED,
	M_INVALID_ALLOC,
	M_PLACEMENT,
	M_FREE_REFUSED,
	M_BAD_FREE_ACCEPTED,
	M_ALLOCATED_COUNT,
	M_CALLBACK,
	M_ZONELIST,
	M_SETUP,
	M_OOM_VICTIM,
	M_KSWAPD_UNBALANCED,
	M_WATERMARK,
	NR_MODEL_INV
};

static const struct buddy_invariant model_invariants[NR_MODEL_INV] = {
	[M_DOUBLE_ALLOC] = { "model-double-alloc",
		"a block handed out (or a migration target) overlaps a block the program still owns" },
	[M_CONTENTS] = { "model-contents",
		"an owned block's memory changed although only its owner writes it (checked at touch, free, migration, check)" },
	[M_NOT_ZEROED] = { "model-not-zeroed", "a __GFP_ZERO block is not zero-filled" },
	[M_INVALID_ALLOC] = { "model-invalid-alloc",
		"an allocation the API must refuse (order above MAX_PAGE_ORDER, unknown or contradictory GFP bits) succeeded" },
	[M_PLACEMENT] = { "model-placement",
		"a block is misaligned, of another order, above gfp_zone(), off __GFP_THISNODE's node, outside the nodemask, or CMA memory for a non-movable request" },
	[M_FREE_REFUSED] = { "model-free-refused", "a valid free, release or undo of an owned handle failed" },
	[M_BAD_FREE_ACCEPTED] = { "model-bad-free-accepted",
		"a free of a pfn the program does not own, or with the wrong order, was accepted" },
	[M_ALLOCATED_COUNT] = { "model-allocated-count",
		"a zone's allocated pages differ from the pages the program owns in it" },
	[M_CALLBACK] = { "model-callback",
		"a migrate, reclaim or release callback named a block the program does not own at that page" },
	[M_ZONELIST] = { "model-zonelist", "a zonelist names an unpopulated zone, or a nofallback list another node" },
	[M_SETUP] = { "model-setup", "the allocator refused a machine the fuzz header built (every header must be valid)" },
	[M_OOM_VICTIM] = { "model-oom-victim", "the OOM killer chose a task whose oom_score_adj is -1000 (OOM_SCORE_ADJ_MIN)" },
	[M_KSWAPD_UNBALANCED] = { "model-kswapd-unbalanced",
		"kswapd left its node below every zone's high watermark while the program still held reclaimable pages there" },
	[M_WATERMARK] = { "model-watermark",
		"an allocation that ran no reclaim, compaction or OOM kill took a page from a zone that, just before it, failed __zone_watermark_ok() for the request at the min watermark, with every reserve its GFP flags allow (lowmem_reserve included)" },
};

size_t fz_model_invariants(const struct buddy_invariant **list)
{
	if (list)
		*list = model_invariants;
	return NR_MODEL_INV;
}

/* ---- state ---- */
enum hstate { H_NONE, H_LIVE, H_FREED, H_GONE };

struct handle {
	uint8_t state;
	uint8_t order;
	uint8_t map;
	uint8_t area;
	uint32_t gen;            /* pattern generation; 0: never touched */
	uint64_t pfn, nr;        /* first pfn and pages */
	struct page *page;
	struct page **bulk;      /* bulk: nr order-0 pages */
};

/* What an op did, for the trace. */
enum res_kind { R_NONE, R_PAGE, R_NULL, R_RET, R_COUNT, R_SKIP };

struct opres {
	uint8_t kind;
	int8_t nid, zid;
	int32_t ret;
	uint64_t val;
	const char *why;
};

struct fz_state;

/* What the watermark oracle needs of a zone, read before an allocation. */
struct wm_zone {
	bool valid;
	long free, cma, highatomic;
	long min;                /* the min watermark without its boost */
	unsigned long lowmem_reserve[MAX_NR_ZONES];
};

struct fz_mapping {
	struct buddy_mapping m;
	struct fz_state *st;
	int kind;
};

struct fz_state {
	const struct fz_program *p;
	const struct fz_run_opts *o;
	struct fz_run_result *res;
	struct buddy_system *sys;
	struct buddy_topology topo;
	struct buddy_options opts;
	uint64_t max_pfn;
	struct handle *h;
	struct opres *r;
	uint32_t *owner;         /* per pfn: handle index + 1, 0 free of the program */
	uint8_t *zone_of;        /* per pfn: nid * MAX_NR_ZONES + zid + 1, 0 outside zones */
	uint64_t owned[FZ_MAX_NODES * MAX_NR_ZONES];
	uint32_t populated;      /* zone bits */
	int task_id[256];
	bool task_killed[256];   /* OOM victims already seen */
	unsigned ntasks;
	uint64_t oom_kills;      /* OOM_KILL as last seen */
	bool faults_on;          /* fault injection may make reclaim fail */
	uint32_t touched;        /* zones the current op touched */
	size_t cur;
	bool violated;
	struct fz_mapping maps[FZ_NR_MAP];
	struct buddy_violation viol[4];
	struct wm_zone wm[FZ_MAX_NODES * MAX_NR_ZONES]; /* per zone bit: before the current allocation */
};

static void __attribute__((format(printf, 3, 4))) violation(struct fz_state *st, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (st->violated)
		return;
	st->violated = true;
	st->res->status = FZ_VIOLATION;
	st->res->op_index = st->cur;
	snprintf(st->res->invariant, sizeof(st->res->invariant), "%s", name);
	va_start(ap, fmt);
	vsnprintf(st->res->message, sizeof(st->res->message), fmt, ap);
	va_end(ap);
}

#define MODEL(st, inv, ...) violation((st), model_invariants[inv].name, __VA_ARGS__)

static int zone_bit(int nid, int zid)
{
	return nid * MAX_NR_ZONES + zid;
}

static void touch_zone_of_pfn(struct fz_state *st, uint64_t pfn)
{
	if (pfn < st->max_pfn && st->zone_of[pfn])
		st->touched |= 1u << (st->zone_of[pfn] - 1);
}

static void touch_all(struct fz_state *st)
{
	st->touched |= st->populated;
}

static void touch_node(struct fz_state *st, int nid)
{
	st->touched |= (((1u << MAX_NR_ZONES) - 1) << zone_bit(nid, 0)) & st->populated;
}

/* Every zone that meets [pfn, pfn + nr). */
static void touch_range(struct fz_state *st, uint64_t pfn, uint64_t nr)
{
	for (int n = 0; n < st->topo.nr_nodes; n++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			const struct buddy_pfn_range *r = &st->topo.zones[n][z];
			if (r->start_pfn < r->end_pfn && r->start_pfn < pfn + nr && pfn < r->end_pfn)
				st->touched |= 1u << zone_bit(n, z);
		}
}

/* A sum of the events only the slow path counts: when it moves, the op
 * reclaimed, compacted, drained or killed, possibly in every zone. */
static uint64_t slow_events(struct fz_state *st)
{
	static const enum buddy_vm_event ev[] = {
		ALLOCSTALL_DMA, ALLOCSTALL_DMA32, ALLOCSTALL_NORMAL, ALLOCSTALL_MOVABLE, PGSCAN_KSWAPD, PGSCAN_DIRECT,
		COMPACTSTALL, COMPACTMIGRATE_SCANNED, COMPACTFREE_SCANNED, PAGEOUTRUN, OOM_KILL, KCOMPACTD_WAKE,
		BUDDY_HIGHATOMIC_UNRESERVE,
	};
	uint64_t sum = 0;

	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++)
		sum += buddy_vm_event(st->sys, ev[i]);
	return sum;
}

/* ---- patterns ---- */
static uint64_t pattern(uint32_t h, uint32_t gen, uint64_t k)
{
	uint64_t x = ((uint64_t)h << 40) ^ ((uint64_t)gen << 20) ^ k ^ 0x9e3779b97f4a7c15ULL;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x | 1; /* never 0, so a zeroed page never passes */
}

#define WORDS_PER_PAGE (PAGE_SIZE / sizeof(uint64_t))

/* Two words per page (first and last) catch a block given out twice or
 * moved without its contents, at a cost that does not grow with PAGE_SIZE. */
static void write_page(volatile uint64_t *w, uint64_t v)
{
	w[0] = v;
	w[WORDS_PER_PAGE - 1] = ~v;
}

static bool page_matches(const volatile uint64_t *w, uint64_t v, uint64_t *got)
{
	if (w[0] != v) {
		*got = w[0];
		return false;
	}
	if (w[WORDS_PER_PAGE - 1] != ~v) {
		*got = ~w[WORDS_PER_PAGE - 1];
		return false;
	}
	return true;
}

static volatile uint64_t *pfn_words(struct fz_state *st, uint64_t pfn)
{
	struct page *page = buddy_pfn_to_page(st->sys, pfn);
	return page ? buddy_page_address(st->sys, page) : NULL;
}

/* The k-th page of a handle: its address (NULL without one) and pfn. */
static volatile uint64_t *handle_page(struct fz_state *st, const struct handle *h, uint64_t k, uint64_t *pfn)
{
	if (h->bulk) {
		*pfn = buddy_page_to_pfn(st->sys, h->bulk[k]);
		return buddy_page_address(st->sys, h->bulk[k]);
	}
	*pfn = h->pfn + k;
	return pfn_words(st, *pfn);
}

static bool verify_handle(struct fz_state *st, uint32_t idx, const char *when)
{
	struct handle *h = &st->h[idx];

	if (!h->gen)
		return true;
	for (uint64_t k = 0; k < h->nr; k++) {
		uint64_t pfn, got;
		volatile uint64_t *w = handle_page(st, h, k, &pfn);
		if (w && !page_matches(w, pattern(idx, h->gen, k), &got)) {
			MODEL(st, M_CONTENTS, "#%u page %" PRIu64 " (pfn 0x%" PRIx64 ") %s: expected 0x%016" PRIx64
			      " found 0x%016" PRIx64, idx, k, pfn, when, pattern(idx, h->gen, k), got);
			return false;
		}
	}
	return true;
}

static void write_handle(struct fz_state *st, uint32_t idx)
{
	struct handle *h = &st->h[idx];

	h->gen++;
	for (uint64_t k = 0; k < h->nr; k++) {
		uint64_t pfn;
		volatile uint64_t *w = handle_page(st, h, k, &pfn);
		if (w)
			write_page(w, pattern(idx, h->gen, k));
	}
}

static void check_zeroed(struct fz_state *st, uint32_t idx, uint64_t pfn, uint64_t nr)
{
	volatile uint64_t *w = pfn_words(st, pfn);

	for (uint64_t k = 0; w && k < nr; k++, w += WORDS_PER_PAGE) {
		if (w[0] || w[WORDS_PER_PAGE / 2] || w[WORDS_PER_PAGE - 1]) {
			MODEL(st, M_NOT_ZEROED, "#%u pfn 0x%" PRIx64 " holds 0x%016" PRIx64 "/0x%016" PRIx64 "/0x%016" PRIx64,
			      idx, pfn + k, w[0], w[WORDS_PER_PAGE / 2], w[WORDS_PER_PAGE - 1]);
			return;
		}
	}
}

/* ---- ownership ---- */
static bool claim(struct fz_state *st, uint32_t idx, uint64_t pfn, uint64_t nr)
{
	for (uint64_t q = pfn; q < pfn + nr; q++) {
		if (q >= st->max_pfn) {
			MODEL(st, M_PLACEMENT, "#%u: pfn 0x%" PRIx64 " beyond the memory map", idx, q);
			return false;
		}
		if (st->owner[q]) {
			MODEL(st, M_DOUBLE_ALLOC, "#%u [0x%" PRIx64 ", 0x%" PRIx64 ") overlaps #%u at pfn 0x%" PRIx64, idx, pfn,
			      pfn + nr, st->owner[q] - 1, q);
			return false;
		}
	}
	for (uint64_t q = pfn; q < pfn + nr; q++) {
		st->owner[q] = idx + 1;
		if (st->zone_of[q])
			st->owned[st->zone_of[q] - 1]++;
		touch_zone_of_pfn(st, q);
	}
	return true;
}

static void unclaim(struct fz_state *st, uint32_t idx, uint64_t pfn, uint64_t nr)
{
	for (uint64_t q = pfn; q < pfn + nr && q < st->max_pfn; q++) {
		if (st->owner[q] != idx + 1)
			continue;
		st->owner[q] = 0;
		if (st->zone_of[q])
			st->owned[st->zone_of[q] - 1]--;
		touch_zone_of_pfn(st, q);
	}
}

static void unclaim_handle(struct fz_state *st, uint32_t idx)
{
	struct handle *h = &st->h[idx];

	if (h->bulk) {
		for (uint64_t k = 0; k < h->nr; k++)
			unclaim(st, idx, buddy_page_to_pfn(st->sys, h->bulk[k]), 1);
	} else {
		unclaim(st, idx, h->pfn, h->nr);
	}
}

/* ---- owner callbacks ---- */
/* The handle whose block starts at page, or -1 (reported). */
static int64_t callback_handle(struct fz_state *st, struct page *page, const char *what)
{
	uint64_t idx = buddy_page_index(page), pfn = buddy_page_to_pfn(st->sys, page);

	if (idx >= st->p->nr_ops || st->h[idx].state != H_LIVE || st->h[idx].page != page) {
		MODEL(st, M_CALLBACK, "%s callback for pfn 0x%" PRIx64 " with index %" PRIu64 ", which owns no block there",
		      what, pfn, idx);
		return -1;
	}
	return (int64_t)idx;
}

static int cb_migrate(struct buddy_mapping *m, struct page *old_page, struct page *new_page)
{
	struct fz_mapping *fm = (struct fz_mapping *)m;
	struct fz_state *st = fm->st;
	int64_t idx = callback_handle(st, old_page, "migrate");

	if (idx < 0)
		return -EAGAIN;
	if (fm->kind == FZ_MAP_PINNED)
		return -EAGAIN;
	buddy_migrate_copy(st->sys, new_page, old_page);
	struct handle *h = &st->h[idx];
	uint64_t new_pfn = buddy_page_to_pfn(st->sys, new_page), old_pfn = h->pfn;
	unclaim(st, (uint32_t)idx, old_pfn, h->nr);
	h->page = new_page;
	h->pfn = new_pfn;
	if (!claim(st, (uint32_t)idx, new_pfn, h->nr))
		return 0; /* reported; the allocator has already committed */
	verify_handle(st, (uint32_t)idx, "after migration");
	return 0;
}

static int cb_reclaim(struct buddy_mapping *m, struct page *page)
{
	struct fz_mapping *fm = (struct fz_mapping *)m;
	struct fz_state *st = fm->st;
	int64_t idx = callback_handle(st, page, "reclaim");

	if (idx < 0 || fm->kind != FZ_MAP_RECLAIM)
		return -EBUSY;
	verify_handle(st, (uint32_t)idx, "at reclaim");
	unclaim_handle(st, (uint32_t)idx);
	st->h[idx].state = H_GONE;
	return 0;
}

static int cb_release(struct buddy_mapping *m, struct page *page)
{
	struct fz_mapping *fm = (struct fz_mapping *)m;
	struct fz_state *st = fm->st;
	int64_t idx = callback_handle(st, page, "release");

	if (idx < 0)
		return -EBUSY;
	unclaim_handle(st, (uint32_t)idx);
	st->h[idx].state = H_GONE;
	return 0;
}

static const struct buddy_mapping_ops map_ops[FZ_NR_MAP] = {
	[FZ_MAP_NONE] = { NULL, NULL, NULL },
	[FZ_MAP_MOVABLE] = { cb_migrate, cb_reclaim, cb_release },  /* reclaim answers -EBUSY */
	[FZ_MAP_RECLAIM] = { cb_migrate, cb_reclaim, cb_release },
	[FZ_MAP_PINNED] = { cb_migrate, cb_reclaim, cb_release },   /* migrate answers -EAGAIN */
	[FZ_MAP_ANON] = { cb_migrate, NULL, cb_release },
};

/* ---- results for the trace ---- */
static void res_page(struct fz_state *st, struct page *page)
{
	struct opres *r = &st->r[st->cur];

	if (!page) {
		r->kind = R_NULL;
		return;
	}
	r->kind = R_PAGE;
	r->val = buddy_page_to_pfn(st->sys, page);
	r->nid = (int8_t)buddy_page_nid(page);
	r->zid = (int8_t)buddy_page_zonenum(page);
}

static void res_ret(struct fz_state *st, int ret)
{
	st->r[st->cur].kind = R_RET;
	st->r[st->cur].ret = ret;
}

static void res_count(struct fz_state *st, uint64_t n)
{
	st->r[st->cur].kind = R_COUNT;
	st->r[st->cur].val = n;
}

static void res_skip(struct fz_state *st, const char *why)
{
	st->r[st->cur].kind = R_SKIP;
	st->r[st->cur].why = why;
}

static void format_result(const struct opres *r, char *buf, size_t len)
{
	switch (r->kind) {
	case R_PAGE:
		snprintf(buf, len, "-> pfn 0x%" PRIx64 " (node %d %s)", r->val, r->nid, buddy_zone_name((enum zone_type)r->zid));
		break;
	case R_NULL:
		snprintf(buf, len, "-> failed");
		break;
	case R_RET:
		snprintf(buf, len, "-> %d%s%s", r->ret, r->ret < 0 ? " " : "", r->ret < 0 ? strerror(-r->ret) : "");
		break;
	case R_COUNT:
		snprintf(buf, len, "-> %" PRIu64, r->val);
		break;
	case R_SKIP:
		snprintf(buf, len, "-> skipped: %s", r->why);
		break;
	default:
		buf[0] = '\0';
		break;
	}
}

static void print_op(struct fz_state *st, size_t i, FILE *out)
{
	char line[BUDDY_GFP_STR_MAX + 256], result[128];

	fz_format_op(st->p, i, line, sizeof(line));
	format_result(&st->r[i], result, sizeof(result));
	if (result[0])
		fprintf(out, "%zu: %-60s # %s\n", i, line, result);
	else
		fprintf(out, "%zu: %s\n", i, line);
}

/* ---- the checks after an op ---- */
static void run_checker(struct fz_state *st, enum buddy_check_scope scope, int nid, int zid)
{
	struct buddy_check_result cr = { 0, sizeof(st->viol) / sizeof(st->viol[0]), st->viol };

	if (scope == BUDDY_CHECK_ALL)
		st->res->full_checks++;
	else
		st->res->zone_checks++;

	/* cpu -1: the incremental scope reads every CPU's log under all the locks. */
	if (buddy_check(st->sys, scope, nid, (enum zone_type)zid, -1, &cr) && !st->violated) {
		char msg[320];
		buddy_violation_format(&st->viol[0], msg, sizeof(msg));
		violation(st, st->viol[0].name ? st->viol[0].name : "checker", "%s%s", msg,
			  cr.count > 1 ? " (and more)" : "");
	}
}

static void check_touched(struct fz_state *st)
{
	if (st->o->full_check_each_op) {
		run_checker(st, BUDDY_CHECK_ALL, 0, 0);
		return;
	}
	unsigned int w = st->o->walk_interval;
	bool walk = w <= 1 || (st->cur + 1) % w == 0;
	/* Every populated zone's log: an op may change a zone the harness
	 * did not expect it to (a fallback, reclaim, compaction). */
	for (uint32_t bits = st->populated; bits && !st->violated; bits &= bits - 1) {
		int b = __builtin_ctz(bits);
		bool zone_walk = walk && (st->touched & (1u << b));
		if (zone_walk)
			run_checker(st, BUDDY_CHECK_ZONE, b / MAX_NR_ZONES, b % MAX_NR_ZONES);
		else
			run_checker(st, BUDDY_CHECK_TOUCHED, b / MAX_NR_ZONES, b % MAX_NR_ZONES);
	}
}

static void check_allocated_counts(struct fz_state *st)
{
	for (uint32_t bits = st->populated; bits && !st->violated; bits &= bits - 1) {
		int b = __builtin_ctz(bits);
		struct buddy_zone_info info;
		if (buddy_zone_info(st->sys, b / MAX_NR_ZONES, (enum zone_type)(b % MAX_NR_ZONES), &info))
			continue;
		if (info.allocated_pages != st->owned[b])
			MODEL(st, M_ALLOCATED_COUNT, "node %d zone %s: %" PRIu64 " pages allocated, the program owns %" PRIu64,
			      b / MAX_NR_ZONES, buddy_zone_name((enum zone_type)(b % MAX_NR_ZONES)), info.allocated_pages,
			      st->owned[b]);
	}
}

static void verify_all(struct fz_state *st)
{
	for (size_t i = 0; i < st->p->nr_ops && !st->violated; i++)
		if (st->h[i].state == H_LIVE)
			verify_handle(st, (uint32_t)i, "at check");
}

static void full_check(struct fz_state *st)
{
	run_checker(st, BUDDY_CHECK_ALL, 0, 0);
	verify_all(st);
	check_allocated_counts(st);
}

/* ---- ops ---- */
/* The kernel's GFP_ZONE_TABLE on a 64-bit machine without highmem, written
 * out apart from gfp.c so that the model does not trust the code it
 * checks: -1 for the GFP_ZONE_BAD combinations. */
static int ref_gfp_zone(gfp_t gfp)
{
	static const int8_t table[16] = {
		[0x0] = ZONE_NORMAL, [0x1] = ZONE_DMA,  [0x2] = ZONE_NORMAL, [0x3] = -1,
		[0x4] = ZONE_DMA32,  [0x5] = -1,        [0x6] = -1,          [0x7] = -1,
		[0x8] = ZONE_NORMAL, [0x9] = ZONE_DMA,  [0xa] = ZONE_MOVABLE, [0xb] = -1,
		[0xc] = ZONE_DMA32,  [0xd] = -1,        [0xe] = -1,          [0xf] = -1,
	};
	return table[gfp & 0xf];
}

static bool gfp_invalid(const struct fz_state *st, gfp_t gfp, unsigned order)
{
	return order > st->p->m.max_order || (gfp & ~__GFP_BITS_MASK) || ref_gfp_zone(gfp) < 0 ||
	       (gfp & (__GFP_MOVABLE | __GFP_RECLAIMABLE)) == (__GFP_MOVABLE | __GFP_RECLAIMABLE);
}

static bool pfn_in_cma(const struct fz_state *st, uint64_t pfn)
{
	for (int c = 0; c < st->topo.nr_cma; c++)
		if (pfn >= st->topo.cma[c].start_pfn && pfn < st->topo.cma[c].end_pfn)
			return true;
	return false;
}

static bool range_in_cma(const struct fz_state *st, uint64_t pfn, uint64_t nr)
{
	for (int c = 0; c < st->topo.nr_cma; c++)
		if (pfn >= st->topo.cma[c].start_pfn && pfn + nr <= st->topo.cma[c].end_pfn)
			return true;
	return false;
}

/* What a successful allocation must look like. */
static void check_placement(struct fz_state *st, uint32_t idx, struct page *page, const struct fz_op *op, int node)
{
	uint64_t pfn = buddy_page_to_pfn(st->sys, page);
	unsigned order = (unsigned)op->order;
	int nid = buddy_page_nid(page);
	enum zone_type zone = buddy_page_zonenum(page);
	int highest = ref_gfp_zone(op->gfp);

	if (pfn & ((1ULL << order) - 1))
		MODEL(st, M_PLACEMENT, "#%u pfn 0x%" PRIx64 " is not aligned to order %u", idx, pfn, order);
	else if (buddy_page_order(page) != order)
		MODEL(st, M_PLACEMENT, "#%u pfn 0x%" PRIx64 " records order %u, order %u was asked", idx, pfn,
		      buddy_page_order(page), order);
	else if (highest >= 0 && (int)zone > highest)
		MODEL(st, M_PLACEMENT, "#%u from zone %s, above gfp_zone() %s", idx, buddy_zone_name(zone),
		      buddy_zone_name((enum zone_type)highest));
	else if ((op->gfp & __GFP_THISNODE) && nid != node)
		MODEL(st, M_PLACEMENT, "#%u from node %d despite __GFP_THISNODE for node %d", idx, nid, node);
	else if (op->nodemask && !(op->nodemask & (1ULL << nid)))
		MODEL(st, M_PLACEMENT, "#%u from node %d outside nodemask 0x%" PRIx64, idx, nid, op->nodemask);
	else if (buddy_gfp_migratetype(op->gfp) != MIGRATE_MOVABLE && (pfn_in_cma(st, pfn) || pfn_in_cma(st, pfn + (1ULL << order) - 1)))
		MODEL(st, M_PLACEMENT, "#%u pfn 0x%" PRIx64 " is CMA memory for a non-movable request", idx, pfn);
}

/* ---- the watermark oracle ---- */
/* Every page the allocator hands out passed a watermark check in
 * get_page_from_freelist() unless the attempt had ALLOC_NO_WATERMARKS.  The
 * weakest check a request can meet is the slow path's: the min watermark
 * (without boost: zone_watermark_fast lets an order-0 ALLOC_MIN_RESERVE
 * request ignore it), lowered by the ALLOC_* reserves gfp_to_alloc_flags()
 * and __gfp_pfmemalloc_flags() grant, over free pages less those the request
 * may not use, and above lowmem_reserve[highest_zoneidx] of the zone.  The
 * rules are written out here from mm/page_alloc.c, apart from watermark.c
 * and gfp.c, so the model does not trust the code it checks.
 *
 * The check reads the zones before the allocation, so it holds only while
 * nothing during the op could have raised a zone's usable free pages:
 * reclaim, compaction, an OOM kill or a reserve release (slow_events())
 * void it.  Taking pages only lowers them, so a bulk allocation's later
 * pages, and pcp refills, keep it valid. */
#define REF_ALLOC_MAX_SETS 2

/* The alloc_flags sets of the attempts that may succeed: 0 when one of them
 * ignores watermarks (the oracle then has nothing to say). */
static int ref_alloc_flag_sets(const struct fz_state *st, const struct fz_op *op, unsigned order,
			       unsigned sets[REF_ALLOC_MAX_SETS])
{
	gfp_t gfp = op->gfp;
	unsigned int task_flags = 0;
	bool victim = false;
	int n = 0;

	if (op->task) {
		struct buddy_task_info ti;
		int id = st->task_id[op->task];
		if (id > 0 && !buddy_task_info(st->sys, id, &ti)) {
			task_flags = ti.flags;
			victim = ti.oom_killed;
		}
	}
	/* __GFP_NOFAIL ends in ALLOC_NO_WATERMARKS after the OOM killer;
	 * __gfp_pfmemalloc_flags() gives it to __GFP_MEMALLOC and PF_MEMALLOC. */
	if (gfp & __GFP_NOFAIL)
		return 0;
	if (!(gfp & __GFP_NOMEMALLOC) && ((gfp & __GFP_MEMALLOC) || (task_flags & BUDDY_TASK_MEMALLOC)))
		return 0;
	unsigned cma = buddy_gfp_migratetype(gfp) == MIGRATE_MOVABLE ? ALLOC_CMA : 0;
	/* gfp_to_alloc_flags() */
	unsigned af = ALLOC_WMARK_MIN | cma;
	if (gfp & __GFP_HIGH)
		af |= ALLOC_MIN_RESERVE;
	if (!(gfp & __GFP_DIRECT_RECLAIM)) {
		if (!(gfp & __GFP_NOMEMALLOC)) {
			af |= ALLOC_NON_BLOCK;
			if (order)
				af |= ALLOC_HIGHATOMIC;
		}
	} else if (task_flags & BUDDY_TASK_RT) {
		af |= ALLOC_MIN_RESERVE;
	}
	sets[n++] = af;
	/* An OOM victim retries with ALLOC_OOM in place of the rest. */
	if (victim && !(gfp & __GFP_NOMEMALLOC))
		sets[n++] = ALLOC_WMARK_MIN | ALLOC_OOM | cma;
	return n;
}

/* __zone_watermark_ok() without the free-list test of high orders, which
 * only adds a condition. */
static bool ref_watermark_ok(const struct wm_zone *z, unsigned order, int highest_zoneidx, unsigned af, long *usable,
			     long *min)
{
	long free = z->free - ((1L << order) - 1);
	long m = z->min;

	if (!(af & (ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM)))
		free -= z->highatomic;
	if (!(af & ALLOC_CMA))
		free -= z->cma;
	if (af & ALLOC_MIN_RESERVE) {
		m -= m / 2;
		if (af & ALLOC_NON_BLOCK)
			m -= m / 4;
	}
	if (af & ALLOC_OOM)
		m -= m / 2;
	*usable = free;
	*min = m;
	return free > m + (long)z->lowmem_reserve[highest_zoneidx];
}

/* Before an allocation: every populated zone's state. */
static void wm_snapshot(struct fz_state *st, const struct fz_op *op, unsigned order)
{
	unsigned sets[REF_ALLOC_MAX_SETS];

	memset(st->wm, 0, sizeof(st->wm));
	if (gfp_invalid(st, op->gfp, order) || !ref_alloc_flag_sets(st, op, order, sets))
		return;
	for (uint32_t bits = st->populated; bits; bits &= bits - 1) {
		int b = __builtin_ctz(bits);
		struct buddy_zone_info zi;
		if (buddy_zone_info(st->sys, b / MAX_NR_ZONES, (enum zone_type)(b % MAX_NR_ZONES), &zi))
			continue;
		struct wm_zone *z = &st->wm[b];
		z->valid = true;
		z->free = (long)zi.free_pages;
		z->cma = (long)zi.free_cma_pages;
		z->highatomic = (long)zi.nr_free_highatomic;
		z->min = (long)zi.wmark[WMARK_MIN] - (long)zi.watermark_boost;
		memcpy(z->lowmem_reserve, zi.lowmem_reserve, sizeof(z->lowmem_reserve));
	}
}

/* After it: the zone the page came from passed for some attempt's flags. */
static void wm_check(struct fz_state *st, const struct fz_op *op, unsigned order, uint32_t idx, struct page *page)
{
	unsigned sets[REF_ALLOC_MAX_SETS];
	int nid = buddy_page_nid(page), zid = buddy_page_zonenum(page), highest = ref_gfp_zone(op->gfp);
	long usable = 0, min = 0;

	if (st->violated || highest < 0 || nid < 0 || nid >= FZ_MAX_NODES || zid < 0 || zid >= MAX_NR_ZONES)
		return;
	const struct wm_zone *z = &st->wm[zone_bit(nid, zid)];
	int n = z->valid ? ref_alloc_flag_sets(st, op, order, sets) : 0;
	for (int i = 0; i < n; i++)
		if (ref_watermark_ok(z, order, highest, sets[i], &usable, &min))
			return;
	if (!n)
		return;
	char gfp_text[BUDDY_GFP_STR_MAX];
	buddy_gfp_format(op->gfp, gfp_text, sizeof(gfp_text));
	MODEL(st, M_WATERMARK, "#%u order %u (%s) from node %d zone %s: before it the zone had %ld usable free pages "
	      "(free %ld, HighAtomic %ld, CMA %ld), not above min %ld + lowmem_reserve[%s] %lu", idx, order, gfp_text,
	      nid, buddy_zone_name((enum zone_type)zid), usable, z->free, z->highatomic, z->cma, min,
	      buddy_zone_name((enum zone_type)highest), z->lowmem_reserve[highest]);
}

static void op_alloc(struct fz_state *st, const struct fz_op *op)
{
	uint32_t idx = (uint32_t)st->cur;
	struct handle *h = &st->h[idx];
	int node = op->node >= 0 ? op->node : st->topo.cpu_to_node[op->cpu];
	struct page *page;

	wm_snapshot(st, op, (unsigned)op->order);
	uint64_t slow_before = slow_events(st);

	if (op->task || op->sub) {
		int task = op->task ? st->task_id[op->task] : 0;
		if (task > 0)
			buddy_bind_task(st->sys, task);
		page = buddy_alloc_pages_mapping(st->sys, op->gfp, (unsigned)op->order, op->node, op->nodemask,
						 op->sub ? &st->maps[op->sub].m : NULL, idx);
		if (task > 0)
			buddy_bind_task(st->sys, 0);
	} else {
		page = buddy_alloc_pages_nodemask(st->sys, op->gfp, (unsigned)op->order, op->node, op->nodemask);
	}
	res_page(st, page);
	bool slow = slow_events(st) != slow_before;
	if (slow)
		touch_all(st);
	if (!page) {
		st->res->allocs_failed++;
		/* A request refused up front touched nothing; one that failed
		 * went through the slow path, which drains and reclaims
		 * anywhere. */
		if (!gfp_invalid(st, op->gfp, (unsigned)op->order))
			touch_all(st);
		return;
	}
	st->res->allocs_ok++;
	if (gfp_invalid(st, op->gfp, (unsigned)op->order)) {
		MODEL(st, M_INVALID_ALLOC, "#%u succeeded (pfn 0x%" PRIx64 ")", idx, buddy_page_to_pfn(st->sys, page));
		return;
	}
	h->state = H_LIVE;
	h->order = (uint8_t)op->order;
	h->map = op->sub;
	h->page = page;
	h->pfn = buddy_page_to_pfn(st->sys, page);
	h->nr = 1ULL << op->order;
	check_placement(st, idx, page, op, node);
	if (!slow)
		wm_check(st, op, (unsigned)op->order, idx, page);
	if (st->violated || !claim(st, idx, h->pfn, h->nr))
		return;
	if (op->gfp & __GFP_ZERO)
		check_zeroed(st, idx, h->pfn, h->nr);
}

static void op_bulk(struct fz_state *st, const struct fz_op *op)
{
	uint32_t idx = (uint32_t)st->cur;
	struct handle *h = &st->h[idx];
	struct page *pages[FZ_MAX_BULK];

	wm_snapshot(st, op, 0);
	uint64_t slow_before = slow_events(st);
	size_t n = buddy_alloc_pages_bulk(st->sys, op->gfp, op->node, 0, (size_t)op->nr, pages);
	res_count(st, n);
	bool slow = slow_events(st) != slow_before;
	if (slow)
		touch_all(st);
	/* Short of the count, the last page went through the slow path;
	 * otherwise the pages' own zones (claim() marks them) are all. */
	if (n < op->nr && !gfp_invalid(st, op->gfp, 0))
		touch_all(st);
	if (n > op->nr) {
		MODEL(st, M_PLACEMENT, "bulk placed %zu pages, %" PRIu64 " asked", n, op->nr);
		return;
	}
	if (!n)
		return;
	if (gfp_invalid(st, op->gfp, 0)) {
		MODEL(st, M_INVALID_ALLOC, "#%u: bulk placed %zu pages", idx, n);
		return;
	}
	h->bulk = malloc(n * sizeof(*h->bulk));
	if (!h->bulk) {
		for (size_t i = 0; i < n; i++)
			buddy_free_pages(st->sys, pages[i], 0);
		return;
	}
	memcpy(h->bulk, pages, n * sizeof(*pages));
	h->state = H_LIVE;
	h->nr = n;
	for (size_t i = 0; i < n && !st->violated; i++) {
		uint64_t pfn = buddy_page_to_pfn(st->sys, pages[i]);
		if (!slow)
			wm_check(st, op, 0, idx, pages[i]);
		if (st->violated || !claim(st, idx, pfn, 1))
			return;
		if (op->gfp & __GFP_ZERO)
			check_zeroed(st, idx, pfn, 1);
	}
}

static void bind_cpu(struct fz_state *st, unsigned cpu)
{
	buddy_bind_cpu(st->sys, (int)cpu);
}

static int release_handle(struct fz_state *st, uint32_t idx, unsigned cpu)
{
	struct handle *h = &st->h[idx];
	unsigned code = st->p->ops[idx].code;
	int ret = 0;

	bind_cpu(st, cpu);
	if (code == FZ_ALLOC || code == FZ_BULK || code == FZ_CONTIG || code == FZ_CMA)
		if (!verify_handle(st, idx, "before its free"))
			return 0;
	switch (code) {
	case FZ_ALLOC:
		unclaim_handle(st, idx);
		ret = buddy_free_pages(st->sys, h->page, h->order);
		break;
	case FZ_BULK:
		unclaim_handle(st, idx);
		for (uint64_t k = 0; k < h->nr; k++) {
			int r = buddy_free_pages(st->sys, h->bulk[k], 0);
			if (r && !ret)
				ret = r;
		}
		break;
	case FZ_CONTIG:
		unclaim_handle(st, idx);
		buddy_free_contig_range(st->sys, h->pfn, h->nr);
		break;
	case FZ_CMA:
		unclaim_handle(st, idx);
		ret = buddy_cma_release(st->sys, h->area, h->page, h->nr) ? 0 : -EINVAL;
		break;
	case FZ_ISOLATE:
		ret = buddy_undo_isolate_page_range(st->sys, h->pfn, h->pfn + h->nr,
						    range_in_cma(st, h->pfn, h->nr) ? MIGRATE_CMA : MIGRATE_MOVABLE);
		break;
	case FZ_OFFLINE:
		ret = buddy_online_pages(st->sys, h->pfn, h->nr);
		break;
	default:
		break;
	}
	free(h->bulk);
	h->bulk = NULL;
	h->state = H_FREED;
	if (code == FZ_ISOLATE || code == FZ_OFFLINE)
		touch_range(st, h->pfn, h->nr);
	if (ret)
		MODEL(st, M_FREE_REFUSED, "release of #%u (%s) returned %d", idx, fz_opcode_name(code), ret);
	return ret;
}

static void op_free(struct fz_state *st, const struct fz_op *op)
{
	if (st->h[op->ref].state != H_LIVE) {
		res_skip(st, st->h[op->ref].state == H_NONE ? "the handle was never made" : "the block is gone");
		return;
	}
	res_ret(st, release_handle(st, op->ref, op->cpu));
}

static void op_badfree(struct fz_state *st, const struct fz_op *op)
{
	struct handle *h = &st->h[op->ref];

	if (h->state != H_LIVE) {
		res_skip(st, "the handle holds no block");
		return;
	}
	bind_cpu(st, op->cpu);
	if (!verify_handle(st, op->ref, "before its bad free"))
		return;
	int ret = buddy_free_pages(st->sys, h->page, (unsigned)op->order);
	res_ret(st, ret);
	touch_zone_of_pfn(st, h->pfn);
	if (ret == 0) {
		MODEL(st, M_BAD_FREE_ACCEPTED, "free of #%u (order %u) with order %d was accepted", op->ref, h->order, op->order);
		return;
	}
	/* bad_page() keeps the block out of circulation; an order past
	 * MAX_PAGE_ORDER is refused before the block is looked at. */
	if ((unsigned)op->order <= st->p->m.max_order) {
		unclaim_handle(st, op->ref);
		h->state = H_GONE;
	}
}

static void op_refree(struct fz_state *st, const struct fz_op *op)
{
	struct handle *h = &st->h[op->ref];

	if (h->state != H_FREED && h->state != H_GONE) {
		res_skip(st, h->state == H_NONE ? "the allocation had failed" : "the block is still owned");
		return;
	}
	if (h->pfn < st->max_pfn && st->owner[h->pfn]) {
		res_skip(st, "the pfn belongs to another handle now");
		return;
	}
	bind_cpu(st, op->cpu);
	int ret = buddy_free_pages(st->sys, buddy_pfn_to_page(st->sys, h->pfn), h->order);
	res_ret(st, ret);
	touch_zone_of_pfn(st, h->pfn);
	if (ret == 0)
		MODEL(st, M_BAD_FREE_ACCEPTED, "second free of #%u (pfn 0x%" PRIx64 " order %u) was accepted", op->ref, h->pfn,
		      h->order);
}

static void op_wildfree(struct fz_state *st, const struct fz_op *op)
{
	if (op->pfn < st->max_pfn && st->owner[op->pfn]) {
		res_skip(st, "the program owns that pfn");
		return;
	}
	bind_cpu(st, op->cpu);
	struct page *page = buddy_pfn_to_page(st->sys, op->pfn);
	int ret = buddy_free_pages(st->sys, page, (unsigned)op->order);
	res_ret(st, ret);
	touch_zone_of_pfn(st, op->pfn);
	if (ret == 0)
		MODEL(st, M_BAD_FREE_ACCEPTED, "free of pfn 0x%" PRIx64 " order %d, which the program does not own, was accepted",
		      op->pfn, op->order);
}

static void op_touch(struct fz_state *st, const struct fz_op *op)
{
	if (st->h[op->ref].state != H_LIVE) {
		res_skip(st, "the handle holds no memory");
		return;
	}
	if (verify_handle(st, op->ref, "before touch"))
		write_handle(st, op->ref);
}

static void op_drain(struct fz_state *st, const struct fz_op *op)
{
	switch (op->sub) {
	case FZ_DRAIN_ALL:
		buddy_drain_all_pages(st->sys);
		break;
	case FZ_DRAIN_CPU:
		buddy_drain_cpu_pages(st->sys, op->cpu);
		break;
	case FZ_DRAIN_LOCAL:
		bind_cpu(st, op->cpu);
		buddy_drain_local_pages(st->sys);
		break;
	}
	touch_all(st);
}

static void op_set(struct fz_state *st, const struct fz_op *op)
{
	int ret = 0;

	switch (op->sub) {
	case FZ_SET_MIN_FREE:
		ret = buddy_set_min_free_kbytes(st->sys, (long)op->v[0]);
		break;
	case FZ_SET_WSF:
		ret = buddy_set_watermark_scale_factor(st->sys, (int)op->v[0]);
		break;
	case FZ_SET_PCP:
		ret = buddy_set_pcp_high_batch(st->sys, (int)op->v[0], (int)op->v[1]);
		break;
	case FZ_SET_LOWMEM: {
		int ratio[MAX_NR_ZONES];
		for (int i = 0; i < MAX_NR_ZONES; i++)
			ratio[i] = (int)op->v[i];
		ret = buddy_set_lowmem_reserve_ratio(st->sys, ratio);
		break;
	}
	}
	res_ret(st, ret);
	touch_all(st);
}

static void op_query(struct fz_state *st, const struct fz_op *op)
{
	switch (op->sub) {
	case FZ_Q_ZONEINFO:
		check_allocated_counts(st);
		break;
	case FZ_Q_WMARK: {
		unsigned long mark = buddy_zone_wmark(st->sys, op->node, (enum zone_type)op->zone, (enum zone_watermarks)op->mode);
		bool ok = buddy_zone_watermark_ok(st->sys, op->node, (enum zone_type)op->zone, (unsigned)op->order, mark,
						  (enum zone_type)op->zone, op->flags);
		res_count(st, ok);
		break;
	}
	case FZ_Q_PROC: {
		FILE *f = fopen("/dev/null", "w");
		if (f) {
			buddy_proc_buddyinfo(st->sys, f);
			buddy_proc_pagetypeinfo(st->sys, f);
			buddy_proc_zoneinfo(st->sys, f);
			buddy_proc_vmstat(st->sys, f);
			fclose(f);
		}
		break;
	}
	case FZ_Q_ZONELIST: {
		int e[FZ_MAX_NODES * MAX_NR_ZONES];
		int n = buddy_zonelist(st->sys, op->node, op->mode, e, (int)(sizeof(e) / sizeof(e[0])));
		res_count(st, (uint64_t)(n < 0 ? 0 : n));
		for (int i = 0; i < n && i < (int)(sizeof(e) / sizeof(e[0])); i++) {
			if (e[i] < 0 || e[i] >= FZ_MAX_NODES * MAX_NR_ZONES || !(st->populated & (1u << e[i])))
				MODEL(st, M_ZONELIST, "node %d entry %d names zone %d, not populated", op->node, i, e[i]);
			else if (op->mode && e[i] / MAX_NR_ZONES != op->node)
				MODEL(st, M_ZONELIST, "node %d nofallback entry %d is on node %d", op->node, i, e[i] / MAX_NR_ZONES);
		}
		break;
	}
	case FZ_Q_FRAG:
		res_ret(st, buddy_fragmentation_index(st->sys, op->node, (enum zone_type)op->zone, (unsigned)op->order));
		(void)buddy_fragmentation_score(st->sys, op->node);
		break;
	}
}

static void op_task(struct fz_state *st, const struct fz_op *op)
{
	int ret = 0;

	switch (op->code) {
	case FZ_TASK: {
		char comm[16];
		unsigned n = ++st->ntasks;
		snprintf(comm, sizeof(comm), "task%u", n);
		ret = buddy_task_create(st->sys, comm, op->adj);
		if (n < 256)
			st->task_id[n] = ret;
		if (ret > 0 && op->flags)
			buddy_task_set_flags(st->sys, ret, op->flags);
		break;
	}
	case FZ_TASKSET: {
		int id = st->task_id[op->task];
		if (id <= 0) {
			res_skip(st, "the task was never made");
			return;
		}
		ret = buddy_task_set_oom_score_adj(st->sys, id, op->adj);
		if (!ret)
			ret = buddy_task_set_flags(st->sys, id, op->flags);
		break;
	}
	case FZ_TASKEXIT: {
		int id = st->task_id[op->task];
		if (id <= 0) {
			res_skip(st, "the task was never made");
			return;
		}
		ret = buddy_task_destroy(st->sys, id);
		if (ret == 0)
			st->task_id[op->task] = 0;
		break;
	}
	}
	res_ret(st, ret);
}

/* Which zones a slow-path op may change, besides those its owner
 * callbacks report through claim() and unclaim(). */
static void touch_slow(struct fz_state *st, const struct fz_op *op)
{
	switch (op->code) {
	case FZ_COMPACT:
	case FZ_KSWAPD:
	case FZ_RECLAIM:
		if (op->code == FZ_COMPACT && op->sub == FZ_COMPACT_ALL)
			touch_all(st);
		else
			touch_node(st, op->node);
		break;
	case FZ_ISOLATE:
		touch_range(st, op->pfn, op->nr);
		break;
	case FZ_FAULT:
		break;
	default:
		/* contig, CMA, hotplug, memory failure and OOM drain every
		 * pcp list or free memory anywhere */
		touch_all(st);
		break;
	}
}

/* balance_pgdat's promise: after kswapd, some zone of the node is at its
 * high watermark (with boost, less what an order-0 request without
 * reserves may not use), unless nothing reclaimable is left.  Only the
 * program's own reclaimable blocks count, and only when no fault
 * injection can make their reclaim fail. */
static void check_kswapd_balanced(struct fz_state *st, int nid)
{
	uint64_t reclaimable = 0;

	if (st->faults_on || nid < 0 || nid >= st->topo.nr_nodes)
		return;
	for (size_t i = 0; i < st->p->nr_ops; i++) {
		const struct handle *h = &st->h[i];
		if (h->state == H_LIVE && h->map == FZ_MAP_RECLAIM && h->page && buddy_page_nid(h->page) == nid)
			reclaimable += h->nr;
	}
	if (!reclaimable)
		return;
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct buddy_zone_info zi;
		if (buddy_zone_info(st->sys, nid, (enum zone_type)z, &zi) || !zi.managed)
			continue;
		long usable = (long)zi.free_pages - (long)zi.nr_free_highatomic - (long)zi.free_cma_pages;
		if (usable > (long)(zi.wmark[WMARK_HIGH] + zi.lowmem_reserve[MAX_NR_ZONES - 1]))
			return;
	}
	MODEL(st, M_KSWAPD_UNBALANCED, "node %d is below every zone's high watermark after kswapd, with %" PRIu64
	      " reclaimable pages still held there", nid, reclaimable);
}

/* The OOM killer never chooses OOM_SCORE_ADJ_MIN.  A victim's adj is read
 * right after the op that killed it, before any op could change it. */
static void check_oom_victims(struct fz_state *st)
{
	uint64_t kills = buddy_vm_event(st->sys, OOM_KILL);

	if (kills == st->oom_kills)
		return;
	st->oom_kills = kills;
	for (unsigned n = 1; n <= st->ntasks && n < 256; n++) {
		struct buddy_task_info info;
		if (st->task_id[n] <= 0 || st->task_killed[n] || buddy_task_info(st->sys, st->task_id[n], &info))
			continue;
		if (!info.oom_killed)
			continue;
		st->task_killed[n] = true;
		if (info.oom_score_adj == BUDDY_OOM_SCORE_ADJ_MIN)
			MODEL(st, M_OOM_VICTIM, "task%u (id %d, oom_score_adj -1000) was killed", n, st->task_id[n]);
	}
}

static void op_slow(struct fz_state *st, const struct fz_op *op)
{
	uint32_t idx = (uint32_t)st->cur;
	struct handle *h = &st->h[idx];

	touch_slow(st, op);
	switch (op->code) {
	case FZ_COMPACT:
		if (op->sub == FZ_COMPACT_ZONE)
			res_ret(st, buddy_compact_zone(st->sys, op->node, (enum zone_type)op->zone, op->order,
						       (enum buddy_compact_mode)op->mode));
		else if (op->sub == FZ_COMPACT_NODE)
			res_ret(st, buddy_compact_node(st->sys, op->node));
		else
			res_ret(st, buddy_compact_memory(st->sys));
		break;
	case FZ_KSWAPD:
		res_count(st, buddy_kswapd_run(st->sys, op->node));
		check_kswapd_balanced(st, op->node);
		break;
	case FZ_RECLAIM:
		res_count(st, buddy_try_to_free_pages(st->sys, op->gfp, (unsigned)op->order, op->node));
		break;
	case FZ_OOM:
		res_ret(st, buddy_out_of_memory(st->sys, op->gfp, (unsigned)op->order, op->nodemask));
		break;
	case FZ_CONTIG: {
		int mt = range_in_cma(st, op->pfn, op->nr) ? MIGRATE_CMA : MIGRATE_MOVABLE;
		int ret = buddy_alloc_contig_range(st->sys, op->pfn, op->pfn + op->nr, mt, op->gfp);
		res_ret(st, ret);
		if (ret == 0 && op->nr) {
			h->state = H_LIVE;
			h->pfn = op->pfn;
			h->nr = op->nr;
			h->page = buddy_pfn_to_page(st->sys, op->pfn);
			if (claim(st, idx, h->pfn, h->nr) && (op->gfp & __GFP_ZERO))
				check_zeroed(st, idx, h->pfn, h->nr);
		}
		break;
	}
	case FZ_CMA: {
		struct page *page = buddy_cma_alloc(st->sys, op->zone, op->nr, (unsigned)op->order);
		res_page(st, page);
		if (page) {
			h->state = H_LIVE;
			h->area = op->zone;
			h->page = page;
			h->pfn = buddy_page_to_pfn(st->sys, page);
			h->nr = op->nr;
			if (!range_in_cma(st, h->pfn, h->nr))
				MODEL(st, M_PLACEMENT, "cma_alloc gave [0x%" PRIx64 ", 0x%" PRIx64 ") outside the CMA area",
				      h->pfn, h->pfn + h->nr);
			else
				claim(st, idx, h->pfn, h->nr);
		}
		break;
	}
	case FZ_ISOLATE: {
		int ret = buddy_start_isolate_page_range(st->sys, op->pfn, op->pfn + op->nr);
		res_ret(st, ret);
		if (ret == 0) {
			h->state = H_LIVE;
			h->pfn = op->pfn;
			h->nr = op->nr;
		}
		break;
	}
	case FZ_OFFLINE: {
		int ret = buddy_offline_pages(st->sys, op->pfn, op->nr);
		res_ret(st, ret);
		if (ret == 0) {
			h->state = H_LIVE;
			h->pfn = op->pfn;
			h->nr = op->nr;
		}
		break;
	}
	case FZ_ONLINE:
		/* Onlining part of a range this program took offline would
		 * make its own later online a caller bug. */
		for (size_t i = 0; i < st->cur; i++) {
			const struct handle *o = &st->h[i];
			if (st->p->ops[i].code == FZ_OFFLINE && o->state == H_LIVE && o->pfn < op->pfn + op->nr &&
			    op->pfn < o->pfn + o->nr) {
				res_skip(st, "the range overlaps an offline handle");
				return;
			}
		}
		res_ret(st, buddy_online_pages(st->sys, op->pfn, op->nr));
		break;
	case FZ_HWPOISON:
		res_ret(st, buddy_memory_failure(st->sys, op->pfn));
		break;
	case FZ_UNPOISON:
		res_ret(st, buddy_unpoison_memory(st->sys, op->pfn));
		break;
	case FZ_FAULT:
		st->faults_on = op->sub;
		if (!op->sub) {
			res_ret(st, buddy_set_fault_injection(st->sys, NULL));
		} else {
			struct buddy_fault_attr a = {
				.probability = (unsigned)op->v[0],
				.interval = (unsigned long)op->v[1],
				.times = op->adj,
				.min_order = op->fault[3],
				.ignore_gfp_reclaim = op->flags & 1,
				.ignore_gfp_highmem = op->flags & 2,
				.compaction_target_fail = op->fault[2],
				.migrate_eagain = op->fault[0],
				.reclaim_fail = op->fault[1],
				.seed = op->v[3],
			};
			res_ret(st, buddy_set_fault_injection(st->sys, &a));
		}
		break;
	default:
		break;
	}
}

static void exec_op(struct fz_state *st, const struct fz_op *op)
{
	switch (op->code) {
	case FZ_NOP:
		break;
	case FZ_ALLOC:
		bind_cpu(st, op->cpu);
		op_alloc(st, op);
		break;
	case FZ_BULK:
		bind_cpu(st, op->cpu);
		op_bulk(st, op);
		break;
	case FZ_FREE:
		op_free(st, op);
		break;
	case FZ_BADFREE:
		op_badfree(st, op);
		break;
	case FZ_REFREE:
		op_refree(st, op);
		break;
	case FZ_WILDFREE:
		op_wildfree(st, op);
		break;
	case FZ_TOUCH:
		op_touch(st, op);
		break;
	case FZ_DRAIN:
		op_drain(st, op);
		break;
	case FZ_SET:
		op_set(st, op);
		break;
	case FZ_CHECK:
		full_check(st);
		break;
	case FZ_QUERY:
		op_query(st, op);
		break;
	case FZ_TASK:
	case FZ_TASKSET:
	case FZ_TASKEXIT:
		op_task(st, op);
		break;
	default:
		op_slow(st, op);
		break;
	}
}

/* ---- running ---- */
void fz_run_opts_init(struct fz_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->free_all_at_end = true;
	o->walk_interval = 8;
}

static void report_and_abort(struct fz_state *st)
{
	FILE *out = stderr;
	size_t last = st->res->op_index < st->p->nr_ops ? st->res->op_index : st->p->nr_ops - 1;
	char log[4096];

	fprintf(out, "==pagetorture== invariant %s violated at op %zu (%s): %s\n", st->res->invariant, st->res->op_index,
		st->res->op_index < st->p->nr_ops ? fz_opcode_name(st->p->ops[st->res->op_index].code) : "final check",
		st->res->message);
	fprintf(out, "==pagetorture== trace so far:\n");
	fz_format_machine(&st->p->m, out);
	for (size_t i = 0; st->p->nr_ops && i <= last; i++)
		print_op(st, i, out);
	if (st->res->op_index >= st->p->nr_ops)
		fprintf(out, "# (the final check after the last op)\n");
	if (buddy_log_read(st->sys, log, sizeof(log)))
		fprintf(out, "==pagetorture== allocator log:\n%s", log);
	fprintf(out, "==pagetorture== invariant %s\n", st->res->invariant);
	fflush(out);
	abort();
}

bool fz_ignored(const char *list, const char *name, const char *message)
{
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *tilde = memchr(p, '~', n);
		size_t nn = tilde ? (size_t)(tilde - p) : n;
		if (nn == strlen(name) && !strncmp(p, name, nn)) {
			if (!tilde)
				return true;
			char sub[128];
			size_t sn = n - nn - 1 < sizeof(sub) - 1 ? n - nn - 1 : sizeof(sub) - 1;
			memcpy(sub, tilde + 1, sn);
			sub[sn] = '\0';
			if (strstr(message, sub))
				return true;
		}
		p = end ? end + 1 : p + n;
	}
	return false;
}

static void end_of_run(struct fz_state *st)
{
	st->cur = st->p->nr_ops;
	full_check(st);
	if (st->violated || !st->o->free_all_at_end)
		return;
	for (size_t i = 0; i < st->p->nr_ops && !st->violated; i++)
		if (st->h[i].state == H_LIVE)
			release_handle(st, (uint32_t)i, 0);
	if (st->violated)
		return;
	buddy_drain_all_pages(st->sys);
	for (uint32_t bits = st->populated; bits && !st->violated; bits &= bits - 1) {
		int b = __builtin_ctz(bits);
		run_checker(st, BUDDY_CHECK_ZONE, b / MAX_NR_ZONES, b % MAX_NR_ZONES);
	}
	check_allocated_counts(st);
}

enum fz_status fz_run(const struct fz_program *p, const struct fz_run_opts *o, struct fz_run_result *res)
{
	struct fz_state *st = calloc(1, sizeof(*st));
	struct buddy_error err;
	struct buddy_system_info info;

	memset(res, 0, sizeof(*res));
	if (!st)
		return res->status = FZ_SETUP_FAIL;
	st->p = p;
	st->o = o;
	st->res = res;
	fz_machine_build(&p->m, &st->topo, &st->opts);
	if (o->backing_mem) {
		uint64_t end = 0, block = 1ULL << st->opts.max_order;
		for (int n = 0; n < st->topo.nr_nodes; n++)
			for (int z = 0; z < MAX_NR_ZONES; z++)
				if (st->topo.zones[n][z].end_pfn > end)
					end = st->topo.zones[n][z].end_pfn;
		end = (end + block - 1) / block * block;
		if (end * 4096 <= o->backing_len) {
			st->opts.backing = BUDDY_BACKING_USER;
			st->opts.backing_mem = o->backing_mem;
			st->opts.backing_len = o->backing_len;
		}
	}
	st->sys = buddy_system_create(&st->topo, &st->opts, &err);
	if (!st->sys) {
		res->status = FZ_SETUP_FAIL;
		snprintf(res->invariant, sizeof(res->invariant), "%s", model_invariants[M_SETUP].name);
		snprintf(res->message, sizeof(res->message), "%.60s: %.250s", err.field, err.message);
		free(st);
		return FZ_SETUP_FAIL;
	}
	buddy_check_track(st->sys, true);
	buddy_system_info(st->sys, &info);
	st->max_pfn = info.max_pfn;
	st->h = calloc(p->nr_ops ? p->nr_ops : 1, sizeof(*st->h));
	st->r = calloc(p->nr_ops ? p->nr_ops : 1, sizeof(*st->r));
	st->owner = calloc(st->max_pfn, sizeof(*st->owner));
	st->zone_of = calloc(st->max_pfn, 1);
	if (!st->h || !st->r || !st->owner || !st->zone_of) {
		res->status = FZ_SETUP_FAIL;
		goto out;
	}
	for (int n = 0; n < st->topo.nr_nodes; n++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			const struct buddy_pfn_range *zr = &st->topo.zones[n][z];
			if (zr->end_pfn <= zr->start_pfn)
				continue;
			st->populated |= 1u << zone_bit(n, z);
			memset(st->zone_of + zr->start_pfn, zone_bit(n, z) + 1, zr->end_pfn - zr->start_pfn);
		}
	for (int k = 0; k < FZ_NR_MAP; k++)
		st->maps[k] = (struct fz_mapping){ { &map_ops[k], st }, st, k };

	for (size_t i = 0; i < p->nr_ops; i++) {
		st->cur = i;
		st->touched = 0;
		if (o->before_op)
			o->before_op(o->hook_ctx, st->sys, i);
		exec_op(st, &p->ops[i]);
		if (!st->violated)
			check_oom_victims(st);
		if (!st->violated)
			check_touched(st);
		res->ops_run = i + 1;
		if (o->trace)
			print_op(st, i, o->trace);
		if (o->after_op)
			o->after_op(o->hook_ctx, st->sys, i);
		if (st->violated)
			break;
	}
	if (!st->violated)
		end_of_run(st);
	if (st->violated && o->ignore && fz_ignored(o->ignore, res->invariant, res->message))
		res->ignored = true;
	else if (st->violated && o->abort_on_violation)
		report_and_abort(st);
out:
	if (st->h)
		for (size_t i = 0; i < p->nr_ops; i++)
			free(st->h[i].bulk);
	buddy_system_destroy(st->sys);
	free(st->h);
	free(st->r);
	free(st->owner);
	free(st->zone_of);
	free(st);
	return res->status;
}
