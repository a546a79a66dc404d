/* fuzz_threads: two short operation programs run at the same time by two
 * threads against one allocator, each thread bound to its own simulated
 * CPU.  Its value is under ThreadSanitizer (preset fuzz-tsan): every
 * interleaving the fuzzer finds of allocations, frees of blocks the other
 * thread allocated, drains, pcp high/batch changes, tunables, compaction and
 * kswapd runs is also a data-race test of the allocator's locking.
 *
 * Input (every byte string is valid):
 *
 *   0..7   the machine header of fuzz_ops (ops.h); at least 2 CPUs
 *   8      home CPUs: thread A (bits 0-1) % cpus, thread B the
 *          ((bits 2-3) % (cpus-1) + 1)-th CPU after A's
 *   9..10  little-endian length of thread A's operations, modulo what is left + 1
 *   ...    thread A's operations, then thread B's: each decoded by
 *          fz_decode() after the (normalised) header, so both are programs
 *          of the operation language, cut at FZ_THREAD_MAX_OPS ops
 *
 * The threads meet at a barrier, then run their programs concurrently.  A
 * subset of the language runs (the ops whose effects stay on blocks their
 * own thread owns); the others are skipped and say so in the trace:
 *
 *   alloc, bulk       the op's cpu= is honoured by binding to it for the call;
 *                     owner= and map= are dropped when decoding (blocks have
 *                     no owner callbacks, so nothing migrates or reclaims them)
 *   free #R cpu=C     C the other thread's home CPU: the block is handed over
 *                     through a locked queue and that thread frees it on its
 *                     CPU (before its next op); any other C: freed here,
 *                     bound to C
 *   touch, drain, set, query, compact, kswapd, reclaim, fault
 *   check             zone checks of every zone (safe while the other runs)
 *   skipped           badfree, refree, wildfree (the pfn may be the other
 *                     thread's), tasks and oom, contig, cma, isolate,
 *                     offline/online, hwpoison/unpoison
 *
 * The harness's model: one owner word per pfn (relaxed atomics, so they add
 * no happens-before edges that would hide the allocator's races from TSan);
 * a block handed out while owned is model-double-alloc.  Every block gets a
 * pattern (first and last word of every page) from its owner when it is
 * allocated and at touch; it is verified at touch, before a hand-over, by
 * the receiver, before every free and at the end (model-contents).  After
 * both threads are joined: BUDDY_CHECK_ALL, every held block verified,
 * NR_ZONE_ALLOCATED per zone against the pages held, then everything freed
 * and drained and the zones checked again.
 *
 * A violation aborts with its name (==pagetorture== invariant NAME) and both
 * programs as readable traces, each op with its result and its start order
 * among all ops of the run (@N); with PAGETORTURE_FUZZ_TRACE set in the
 * environment every input prints them.  The traces have the layout of the
 * seed sources (fuzz/scenarios/threads/): a machine line, "=== thread A",
 * its ops, "=== thread B", its ops. */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "tsan_coverage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_THREAD_MAX_OPS 256
#define NR_THREADS 2
#define WORDS_PER_PAGE (PAGE_SIZE / sizeof(uint64_t))
#define INBOX_CAP FZ_MAX_PAGES /* an item holds at least one page */

enum hstate { H_NONE, H_LIVE, H_GIVEN, H_FREED };
enum res_kind { R_NONE, R_PAGE, R_NULL, R_RET, R_COUNT, R_SKIP, R_GIVEN };

struct handle {
	uint8_t state;
	uint8_t order;
	bool is_bulk;
	uint32_t gen;      /* pattern generation */
	uint64_t pfn, nr;  /* a bulk handle: nr order-0 pages in bulk[] */
	struct page *page;
	struct page *bulk[FZ_MAX_BULK];
};

struct opres {
	uint8_t kind;
	int8_t nid, zid;
	int32_t ret;
	uint64_t val;
	uint64_t seq;      /* start order among both threads' ops, from 1; 0: not run */
	uint32_t received; /* handed-over blocks freed just before this op */
	const char *why;
};

/* A block on its way to the other thread.  The pattern is named by the
 * giver's tag, so the receiver verifies what the owner last wrote. */
struct item {
	struct page *page;
	uint64_t pfn;
	uint8_t order;
	uint32_t tag, gen;
	uint64_t k; /* the pattern index of the first page */
};

struct inbox {
	pthread_mutex_t lock;
	size_t n;
	struct item items[INBOX_CAP];
};

struct run;

struct thread {
	struct run *run;
	int id;
	int home;
	pthread_t th;
	struct fz_program prog;
	struct handle h[FZ_THREAD_MAX_OPS];
	struct opres r[FZ_THREAD_MAX_OPS];
	size_t cur;
	struct buddy_violation viol[4];
};

struct run {
	struct fz_machine m;
	struct buddy_topology topo;
	struct buddy_options opts;
	struct buddy_system *sys;
	uint64_t max_pfn;
	_Atomic uint32_t *owner; /* per pfn: the holder's tag + 1, 0 when the program holds none */
	pthread_barrier_t start, end;
	atomic_bool stop;        /* a violation: both threads stop at their next op */
	atomic_int ready;        /* threads past the start barrier */
	_Atomic uint64_t seq;    /* relaxed: only numbers the ops for the trace */
	struct thread t[NR_THREADS];
	struct inbox in[NR_THREADS];
	pthread_mutex_t fail_lock;
	bool violated;
	int fail_thread;         /* -1: found after the join */
	size_t fail_op;
	char invariant[48];
	char message[320];
	const char *ignore;
	bool trace;              /* PAGETORTURE_FUZZ_TRACE set: print both traces after every input */
};

static struct run R; /* kept across inputs: the op arrays and inboxes are big */

/* ---- violations ---- */
static void __attribute__((format(printf, 4, 5)))
violation(struct run *run, struct thread *t, const char *name, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&run->fail_lock);
	if (!run->violated) {
		run->violated = true;
		run->fail_thread = t ? t->id : -1;
		run->fail_op = t ? t->cur : 0;
		snprintf(run->invariant, sizeof(run->invariant), "%s", name);
		va_start(ap, fmt);
		vsnprintf(run->message, sizeof(run->message), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&run->fail_lock);
	atomic_store(&run->stop, true);
}

static void run_checker(struct run *run, struct thread *t, struct buddy_violation *viol, size_t cap,
			enum buddy_check_scope scope, int nid, int zid)
{
	struct buddy_check_result cr = { 0, cap, viol };

	if (buddy_check(run->sys, scope, nid, (enum zone_type)zid, 0, &cr)) {
		char msg[320];
		buddy_violation_format(&viol[0], msg, sizeof(msg));
		violation(run, t, viol[0].name ? viol[0].name : "checker", "%s%s", msg, cr.count > 1 ? " (and more)" : "");
	}
}

static void check_zones(struct run *run, struct thread *t, struct buddy_violation *viol, size_t cap)
{
	for (int n = 0; n < run->topo.nr_nodes; n++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			if (run->topo.zones[n][z].start_pfn < run->topo.zones[n][z].end_pfn)
				run_checker(run, t, viol, cap, BUDDY_CHECK_ZONE, n, z);
}

/* ---- patterns ---- */
static uint32_t tag_of(int thread, size_t idx)
{
	return ((uint32_t)(thread + 1) << 16) | (uint32_t)idx;
}

static uint64_t pattern(uint32_t tag, uint32_t gen, uint64_t k)
{
	uint64_t x = ((uint64_t)tag << 40) ^ ((uint64_t)gen << 20) ^ k ^ 0x9e3779b97f4a7c15ULL;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x | 1; /* never 0, so a zeroed page never passes */
}

static volatile uint64_t *page_words(struct run *run, struct page *page)
{
	return buddy_page_address(run->sys, page);
}

static void write_pages(struct run *run, struct page *page, uint64_t nr, uint32_t tag, uint32_t gen, uint64_t k0)
{
	volatile uint64_t *w = page_words(run, page);

	for (uint64_t k = 0; w && k < nr; k++, w += WORDS_PER_PAGE) {
		uint64_t v = pattern(tag, gen, k0 + k);
		w[0] = v;
		w[WORDS_PER_PAGE - 1] = ~v;
	}
}

static bool verify_pages(struct run *run, struct thread *t, struct page *page, uint64_t nr, uint32_t tag, uint32_t gen,
			 uint64_t k0, const char *when)
{
	volatile uint64_t *w = page_words(run, page);

	for (uint64_t k = 0; w && k < nr; k++, w += WORDS_PER_PAGE) {
		uint64_t v = pattern(tag, gen, k0 + k), a = w[0], b = ~w[WORDS_PER_PAGE - 1];
		if (a != v || b != v) {
			violation(run, t, "model-contents",
				  "block of thread %c op #%u, pfn 0x%" PRIx64 " %s: expected 0x%016" PRIx64 " found 0x%016" PRIx64,
				  'A' + (tag >> 16) - 1, tag & 0xffff, buddy_page_to_pfn(run->sys, page) + k, when, v, a != v ? a : b);
			return false;
		}
	}
	return true;
}

static bool verify_handle(struct run *run, struct thread *t, int owner, size_t idx, const char *when)
{
	struct handle *h = &run->t[owner].h[idx];
	uint32_t tag = tag_of(owner, idx);

	if (h->is_bulk) {
		for (uint64_t k = 0; k < h->nr; k++)
			if (!verify_pages(run, t, h->bulk[k], 1, tag, h->gen, k, when))
				return false;
		return true;
	}
	return verify_pages(run, t, h->page, h->nr, tag, h->gen, 0, when);
}

static void write_handle(struct run *run, int owner, size_t idx)
{
	struct handle *h = &run->t[owner].h[idx];
	uint32_t tag = tag_of(owner, idx);

	h->gen++;
	if (h->is_bulk) {
		for (uint64_t k = 0; k < h->nr; k++)
			write_pages(run, h->bulk[k], 1, tag, h->gen, k);
	} else {
		write_pages(run, h->page, h->nr, tag, h->gen, 0);
	}
}

/* ---- ownership ---- */
static bool claim(struct run *run, struct thread *t, uint32_t tag, uint64_t pfn, uint64_t nr)
{
	for (uint64_t q = pfn; q < pfn + nr; q++) {
		if (q >= run->max_pfn) {
			violation(run, t, "model-placement", "pfn 0x%" PRIx64 " beyond the memory map", q);
			return false;
		}
		uint32_t old = atomic_exchange_explicit(&run->owner[q], tag + 1, memory_order_relaxed);
		if (old) {
			violation(run, t, "model-double-alloc",
				  "[0x%" PRIx64 ", 0x%" PRIx64 ") for thread %c op #%u, but pfn 0x%" PRIx64
				  " is still held by thread %c op #%u",
				  pfn, pfn + nr, 'A' + (tag >> 16) - 1, tag & 0xffff, q, 'A' + ((old - 1) >> 16) - 1,
				  (old - 1) & 0xffff);
			return false;
		}
	}
	return true;
}

static bool unclaim(struct run *run, struct thread *t, uint32_t tag, uint64_t pfn, uint64_t nr)
{
	for (uint64_t q = pfn; q < pfn + nr && q < run->max_pfn; q++) {
		uint32_t old = atomic_exchange_explicit(&run->owner[q], 0, memory_order_relaxed);
		if (old != tag + 1) {
			violation(run, t, "model-ownership-lost",
				  "pfn 0x%" PRIx64 " of thread %c op #%u was marked %s when it was let go", q,
				  'A' + (tag >> 16) - 1, tag & 0xffff, old ? "as someone else's" : "free");
			return false;
		}
	}
	return true;
}

/* Verify, unclaim and free one block on the calling thread's CPU. */
static int free_block(struct run *run, struct thread *t, struct page *page, unsigned order, uint32_t tag, uint32_t gen,
		      uint64_t k0, const char *when)
{
	uint64_t pfn = buddy_page_to_pfn(run->sys, page);

	if (!verify_pages(run, t, page, 1ULL << order, tag, gen, k0, when) ||
	    !unclaim(run, t, tag, pfn, 1ULL << order))
		return 0;
	int ret = buddy_free_pages(run->sys, page, order);
	if (ret)
		violation(run, t, "model-free-refused", "buddy_free_pages(pfn 0x%" PRIx64 ", order %u) of a held block returned %d",
			  pfn, order, ret);
	return ret;
}

/* ---- the hand-over ---- */
static void give(struct run *run, struct thread *t, int to, const struct item *it)
{
	struct inbox *in = &run->in[to];
	bool ok = false;

	pthread_mutex_lock(&in->lock);
	if (in->n < INBOX_CAP) {
		in->items[in->n++] = *it;
		ok = true;
	}
	pthread_mutex_unlock(&in->lock);
	if (!ok) /* cannot happen: the queue holds every page there is */
		free_block(run, t, it->page, it->order, it->tag, it->gen, it->k, "at a hand-over to a full queue");
}

/* Free every block handed to thread t, on its home CPU.  The items are
 * freed one at a time, the lock dropped in between, so that the giver runs
 * against our frees. */
static uint32_t receive(struct run *run, struct thread *t)
{
	struct inbox *in = &run->in[t->id];
	uint32_t n = 0;

	for (;;) {
		struct item it;
		bool got = false;
		pthread_mutex_lock(&in->lock);
		if (in->n) {
			it = in->items[--in->n];
			got = true;
		}
		pthread_mutex_unlock(&in->lock);
		if (!got || atomic_load(&run->stop))
			return n;
		free_block(run, t, it.page, it.order, it.tag, it.gen, it.k, "when the receiver freed it");
		n++;
	}
}

/* ---- ops ---- */
static void res_page(struct opres *r, struct page *page)
{
	if (!page) {
		r->kind = R_NULL;
		return;
	}
	r->kind = R_PAGE;
	r->nid = (int8_t)buddy_page_nid(page);
	r->zid = (int8_t)buddy_page_zonenum(page);
}

static void bind(struct run *run, int cpu)
{
	buddy_bind_cpu(run->sys, cpu);
}

static void op_alloc(struct run *run, struct thread *t, const struct fz_op *op, struct opres *r)
{
	struct handle *h = &t->h[t->cur];
	uint32_t tag = tag_of(t->id, t->cur);

	bind(run, op->cpu);
	struct page *page = buddy_alloc_pages_nodemask(run->sys, op->gfp, (unsigned)op->order, op->node, op->nodemask);
	bind(run, t->home);
	res_page(r, page);
	if (!page)
		return;
	uint64_t pfn = buddy_page_to_pfn(run->sys, page);
	r->val = pfn;
	if ((unsigned)op->order > run->m.max_order) {
		violation(run, t, "model-invalid-alloc", "order %d above max_order %u succeeded (pfn 0x%" PRIx64 ")", op->order,
			  run->m.max_order, pfn);
		return;
	}
	if (pfn & ((1ULL << op->order) - 1) || buddy_page_order(page) != (unsigned)op->order) {
		violation(run, t, "model-placement", "pfn 0x%" PRIx64 " (order %u recorded) for an order-%d request", pfn,
			  buddy_page_order(page), op->order);
		return;
	}
	h->page = page;
	h->pfn = pfn;
	h->order = (uint8_t)op->order;
	h->nr = 1ULL << op->order;
	if (!claim(run, t, tag, pfn, h->nr))
		return;
	h->state = H_LIVE;
	if (op->gfp & __GFP_ZERO) {
		volatile uint64_t *w = page_words(run, page);
		for (uint64_t k = 0; w && k < h->nr; k++, w += WORDS_PER_PAGE)
			if (w[0] || w[WORDS_PER_PAGE / 2] || w[WORDS_PER_PAGE - 1]) {
				violation(run, t, "model-not-zeroed", "pfn 0x%" PRIx64 " of a __GFP_ZERO block is not zero", pfn + k);
				return;
			}
	}
	write_handle(run, t->id, t->cur);
}

static void op_bulk(struct run *run, struct thread *t, const struct fz_op *op, struct opres *r)
{
	struct handle *h = &t->h[t->cur];
	uint32_t tag = tag_of(t->id, t->cur);
	struct page *pages[FZ_MAX_BULK];
	size_t want = op->nr < FZ_MAX_BULK ? (size_t)op->nr : FZ_MAX_BULK;

	bind(run, op->cpu);
	size_t n = buddy_alloc_pages_bulk(run->sys, op->gfp, op->node, 0, want, pages);
	bind(run, t->home);
	r->kind = R_COUNT;
	r->val = n;
	if (n > want) {
		violation(run, t, "model-placement", "bulk placed %zu pages, %zu asked", n, want);
		return;
	}
	if (!n)
		return;
	memcpy(h->bulk, pages, n * sizeof(*pages));
	h->is_bulk = true;
	h->nr = n;
	for (size_t i = 0; i < n; i++)
		if (!claim(run, t, tag, buddy_page_to_pfn(run->sys, pages[i]), 1)) {
			/* the pages claimed so far are not ours to free now */
			return;
		}
	h->state = H_LIVE;
	write_handle(run, t->id, t->cur);
}

static void op_free(struct run *run, struct thread *t, const struct fz_op *op, struct opres *r)
{
	size_t idx = op->ref;
	struct handle *h = idx < t->cur ? &t->h[idx] : NULL;
	uint32_t tag = tag_of(t->id, idx);
	bool bulk = h && h->is_bulk;
	int other = 1 - t->id;

	if (!h || h->state != H_LIVE) {
		r->kind = R_SKIP;
		r->why = !h || h->state == H_NONE ? "the handle was never made" : "the block is gone";
		return;
	}
	if (op->cpu == run->t[other].home) {
		/* verified here and again by the receiver: a corruption in
		 * flight is told apart from one before */
		if (!verify_handle(run, t, t->id, idx, "before its hand-over"))
			return;
		for (uint64_t k = 0; k < (bulk ? h->nr : 1); k++) {
			struct item it = { bulk ? h->bulk[k] : h->page, 0, bulk ? 0 : h->order, tag, h->gen, k };
			it.pfn = buddy_page_to_pfn(run->sys, it.page);
			give(run, t, other, &it);
		}
		h->state = H_GIVEN;
		r->kind = R_GIVEN;
		return;
	}
	int ret = 0;
	bind(run, op->cpu);
	if (bulk) {
		for (uint64_t k = 0; k < h->nr && !atomic_load(&run->stop); k++) {
			int rr = free_block(run, t, h->bulk[k], 0, tag, h->gen, k, "before its free");
			if (rr && !ret)
				ret = rr;
		}
	} else {
		ret = free_block(run, t, h->page, h->order, tag, h->gen, 0, "before its free");
	}
	bind(run, t->home);
	h->state = H_FREED;
	r->kind = R_RET;
	r->ret = ret;
}

static void op_touch(struct run *run, struct thread *t, const struct fz_op *op, struct opres *r)
{
	size_t idx = op->ref;

	if (idx >= t->cur || t->h[idx].state != H_LIVE) {
		r->kind = R_SKIP;
		r->why = "the handle holds no block";
		return;
	}
	if (verify_handle(run, t, t->id, idx, "before touch"))
		write_handle(run, t->id, idx);
}

static void op_query(struct run *run, const struct fz_op *op, struct opres *r)
{
	switch (op->sub) {
	case FZ_Q_ZONEINFO:
		for (int n = 0; n < run->topo.nr_nodes; n++)
			for (int z = 0; z < MAX_NR_ZONES; z++) {
				struct buddy_zone_info info;
				buddy_zone_info(run->sys, n, (enum zone_type)z, &info);
			}
		break;
	case FZ_Q_WMARK: {
		unsigned long mark = buddy_zone_wmark(run->sys, op->node, (enum zone_type)op->zone, (enum zone_watermarks)op->mode);
		r->kind = R_COUNT;
		r->val = buddy_zone_watermark_ok(run->sys, op->node, (enum zone_type)op->zone, (unsigned)op->order, mark,
						 (enum zone_type)op->zone, op->flags);
		break;
	}
	case FZ_Q_PROC: {
		FILE *f = fopen("/dev/null", "w");
		if (f) {
			buddy_proc_buddyinfo(run->sys, f);
			buddy_proc_pagetypeinfo(run->sys, f);
			buddy_proc_zoneinfo(run->sys, f);
			buddy_proc_vmstat(run->sys, f);
			fclose(f);
		}
		break;
	}
	case FZ_Q_ZONELIST: {
		int e[FZ_MAX_NODES * MAX_NR_ZONES];
		int n = buddy_zonelist(run->sys, op->node, op->mode, e, (int)(sizeof(e) / sizeof(e[0])));
		r->kind = R_COUNT;
		r->val = (uint64_t)(n < 0 ? 0 : n);
		break;
	}
	case FZ_Q_FRAG:
		r->kind = R_RET;
		r->ret = buddy_fragmentation_index(run->sys, op->node, (enum zone_type)op->zone, (unsigned)op->order);
		(void)buddy_fragmentation_score(run->sys, op->node);
		break;
	}
}

static int op_set(struct run *run, const struct fz_op *op)
{
	switch (op->sub) {
	case FZ_SET_MIN_FREE:
		return buddy_set_min_free_kbytes(run->sys, (long)op->v[0]);
	case FZ_SET_WSF:
		return buddy_set_watermark_scale_factor(run->sys, (int)op->v[0]);
	case FZ_SET_PCP:
		return buddy_set_pcp_high_batch(run->sys, (int)op->v[0], (int)op->v[1]);
	case FZ_SET_LOWMEM: {
		int ratio[MAX_NR_ZONES];
		for (int i = 0; i < MAX_NR_ZONES; i++)
			ratio[i] = (int)op->v[i];
		return buddy_set_lowmem_reserve_ratio(run->sys, ratio);
	}
	}
	return 0;
}

static int op_fault(struct run *run, const struct fz_op *op)
{
	if (!op->sub)
		return buddy_set_fault_injection(run->sys, NULL);
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
	return buddy_set_fault_injection(run->sys, &a);
}

static void exec_op(struct run *run, struct thread *t, const struct fz_op *op, struct opres *r)
{
	switch (op->code) {
	case FZ_NOP:
		break;
	case FZ_ALLOC:
		op_alloc(run, t, op, r);
		break;
	case FZ_BULK:
		op_bulk(run, t, op, r);
		break;
	case FZ_FREE:
		op_free(run, t, op, r);
		break;
	case FZ_TOUCH:
		op_touch(run, t, op, r);
		break;
	case FZ_DRAIN:
		if (op->sub == FZ_DRAIN_ALL) {
			buddy_drain_all_pages(run->sys);
		} else if (op->sub == FZ_DRAIN_CPU) {
			buddy_drain_cpu_pages(run->sys, op->cpu);
		} else {
			bind(run, op->cpu);
			buddy_drain_local_pages(run->sys);
			bind(run, t->home);
		}
		break;
	case FZ_SET:
		r->kind = R_RET;
		r->ret = op_set(run, op);
		break;
	case FZ_CHECK:
		check_zones(run, t, t->viol, sizeof(t->viol) / sizeof(t->viol[0]));
		for (size_t i = 0; i < t->cur && !atomic_load(&run->stop); i++)
			if (t->h[i].state == H_LIVE)
				verify_handle(run, t, t->id, i, "at check");
		break;
	case FZ_QUERY:
		op_query(run, op, r);
		break;
	case FZ_COMPACT:
		r->kind = R_RET;
		if (op->sub == FZ_COMPACT_ZONE)
			r->ret = buddy_compact_zone(run->sys, op->node, (enum zone_type)op->zone, op->order,
						    (enum buddy_compact_mode)op->mode);
		else if (op->sub == FZ_COMPACT_NODE)
			r->ret = buddy_compact_node(run->sys, op->node);
		else
			r->ret = buddy_compact_memory(run->sys);
		break;
	case FZ_KSWAPD:
		r->kind = R_COUNT;
		r->val = buddy_kswapd_run(run->sys, op->node);
		break;
	case FZ_RECLAIM:
		r->kind = R_COUNT;
		r->val = buddy_try_to_free_pages(run->sys, op->gfp, (unsigned)op->order, op->node);
		break;
	case FZ_FAULT:
		r->kind = R_RET;
		r->ret = op_fault(run, op);
		break;
	default:
		r->kind = R_SKIP;
		r->why = "not run by fuzz_threads";
		break;
	}
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	struct run *run = t->run;

	bind(run, t->home);
	pthread_barrier_wait(&run->start);
	/* The barrier's last arriver runs on while the other is still being
	 * woken: meet once more, spinning, so that both start together. */
	atomic_fetch_add(&run->ready, 1);
	for (unsigned spins = 0; atomic_load(&run->ready) < NR_THREADS; spins++)
		if (spins > 4096)
			sched_yield();
	for (t->cur = 0; t->cur < t->prog.nr_ops && !atomic_load(&run->stop); t->cur++) {
		struct opres *r = &t->r[t->cur];
		r->received = receive(run, t);
		r->seq = atomic_fetch_add_explicit(&run->seq, 1, memory_order_relaxed) + 1;
		exec_op(run, t, &t->prog.ops[t->cur], r);
	}
	/* The other thread may still hand blocks over until it is done. */
	pthread_barrier_wait(&run->end);
	receive(run, t);
	return NULL;
}

/* ---- the report ---- */
static void print_thread(struct run *run, int id, FILE *out)
{
	struct thread *t = &run->t[id];
	char line[BUDDY_GFP_STR_MAX + 256], res[160];

	fprintf(out, "=== thread %c (home cpu %d): %zu ops\n", 'A' + id, t->home, t->prog.nr_ops);
	for (size_t i = 0; i < t->prog.nr_ops; i++) {
		const struct opres *r = &t->r[i];
		fz_format_op(&t->prog, i, line, sizeof(line));
		if (!r->seq) {
			fprintf(out, "%zu: %-60s # not run\n", i, line);
			continue;
		}
		switch (r->kind) {
		case R_PAGE:
			snprintf(res, sizeof(res), "-> pfn 0x%" PRIx64 " (node %d %s)", r->val, r->nid,
				 buddy_zone_name((enum zone_type)r->zid));
			break;
		case R_NULL:
			snprintf(res, sizeof(res), "-> failed");
			break;
		case R_RET:
			snprintf(res, sizeof(res), "-> %d", r->ret);
			break;
		case R_COUNT:
			snprintf(res, sizeof(res), "-> %" PRIu64, r->val);
			break;
		case R_SKIP:
			snprintf(res, sizeof(res), "-> skipped: %s", r->why);
			break;
		case R_GIVEN:
			snprintf(res, sizeof(res), "-> handed to thread %c", 'A' + 1 - id);
			break;
		default:
			res[0] = '\0';
			break;
		}
		fprintf(out, "%zu: %-60s # @%" PRIu64 " %s", i, line, r->seq, res);
		if (r->received)
			fprintf(out, " (first freed %u blocks from thread %c)", r->received, 'A' + 1 - id);
		if (run->fail_thread == id && run->fail_op == i)
			fprintf(out, "   <== %s", run->invariant);
		fputc('\n', out);
	}
}

static void print_programs(struct run *run, FILE *out)
{
	fprintf(out, "==pagetorture== the two programs (@N: the order in which the ops started):\n");
	fz_format_machine(&run->m, out);
	for (int i = 0; i < NR_THREADS; i++)
		print_thread(run, i, out);
}

static void report_and_abort(struct run *run)
{
	FILE *out = stderr;
	char log[4096];

	if (run->fail_thread >= 0) {
		const struct thread *t = &run->t[run->fail_thread];
		unsigned code = run->fail_op < t->prog.nr_ops ? t->prog.ops[run->fail_op].code : FZ_NOP;
		fprintf(out, "==pagetorture== invariant %s violated at op %zu (%s) of thread %c: %s\n", run->invariant,
			run->fail_op, fz_opcode_name(code), 'A' + run->fail_thread, run->message);
	} else {
		fprintf(out, "==pagetorture== invariant %s violated at op %zu (final check) after both threads: %s\n",
			run->invariant, run->t[0].prog.nr_ops + run->t[1].prog.nr_ops, run->message);
	}
	print_programs(run, out);
	if (buddy_log_read(run->sys, log, sizeof(log)))
		fprintf(out, "==pagetorture== allocator log:\n%s", log);
	fprintf(out, "==pagetorture== invariant %s\n", run->invariant);
	fflush(out);
	abort();
}

/* ---- after the join ---- */
static void final_checks(struct run *run)
{
	struct buddy_violation viol[4];
	uint64_t held[FZ_MAX_NODES][MAX_NR_ZONES] = { { 0 } };

	buddy_bind_cpu(run->sys, 0);
	run_checker(run, NULL, viol, 4, BUDDY_CHECK_ALL, 0, 0);
	for (int i = 0; i < NR_THREADS && !run->violated; i++)
		for (size_t k = 0; k < run->t[i].prog.nr_ops && !run->violated; k++)
			if (run->t[i].h[k].state == H_LIVE)
				verify_handle(run, NULL, i, k, "at the end");
	for (int n = 0; n < run->topo.nr_nodes && !run->violated; n++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			const struct buddy_pfn_range *zr = &run->topo.zones[n][z];
			struct buddy_zone_info info;
			if (zr->start_pfn >= zr->end_pfn || buddy_zone_info(run->sys, n, (enum zone_type)z, &info))
				continue;
			for (uint64_t q = zr->start_pfn; q < zr->end_pfn; q++)
				held[n][z] += atomic_load_explicit(&run->owner[q], memory_order_relaxed) != 0;
			if (info.allocated_pages != held[n][z]) {
				violation(run, NULL, "model-allocated-count",
					  "node %d zone %s: %" PRIu64 " pages allocated, the threads hold %" PRIu64, n,
					  buddy_zone_name((enum zone_type)z), info.allocated_pages, held[n][z]);
				break;
			}
		}
	if (run->violated)
		return;
	/* Everything back, then the allocator must be whole and empty. */
	for (int i = 0; i < NR_THREADS && !run->violated; i++) {
		struct thread *t = &run->t[i];
		for (size_t k = 0; k < t->prog.nr_ops && !run->violated; k++) {
			struct handle *h = &t->h[k];
			if (h->state != H_LIVE)
				continue;
			if (h->is_bulk)
				for (uint64_t j = 0; j < h->nr && !run->violated; j++)
					free_block(run, NULL, h->bulk[j], 0, tag_of(i, k), h->gen, j, "at the end");
			else
				free_block(run, NULL, h->page, h->order, tag_of(i, k), h->gen, 0, "at the end");
			h->state = H_FREED;
		}
	}
	if (run->violated)
		return;
	buddy_drain_all_pages(run->sys);
	check_zones(run, NULL, viol, 4);
	for (int n = 0; n < run->topo.nr_nodes && !run->violated; n++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct buddy_zone_info info;
			if (!buddy_zone_info(run->sys, n, (enum zone_type)z, &info) && info.populated && info.allocated_pages) {
				violation(run, NULL, "model-allocated-count",
					  "node %d zone %s: %" PRIu64 " pages allocated after everything was freed", n,
					  buddy_zone_name((enum zone_type)z), info.allocated_pages);
				break;
			}
		}
}

/* ---- decoding ---- */
static void decode_thread(struct thread *t, const uint8_t hdr[FZ_HEADER_BYTES], const uint8_t *ops, size_t len)
{
	static uint8_t buf[FZ_HEADER_BYTES + 65536];

	if (len > sizeof(buf) - FZ_HEADER_BYTES)
		len = sizeof(buf) - FZ_HEADER_BYTES;
	memcpy(buf, hdr, FZ_HEADER_BYTES);
	if (len)
		memcpy(buf + FZ_HEADER_BYTES, ops, len);
	fz_decode(buf, FZ_HEADER_BYTES + len, &t->prog);
	if (t->prog.nr_ops > FZ_THREAD_MAX_OPS)
		t->prog.nr_ops = FZ_THREAD_MAX_OPS; /* references only point back: still a program */
	for (size_t i = 0; i < t->prog.nr_ops; i++) {
		struct fz_op *op = &t->prog.ops[i];
		if (op->code == FZ_ALLOC) {
			/* no tasks, no mappings: the trace shows what runs */
			op->task = 0;
			op->sub = 0;
		}
	}
}

static void decode(struct run *run, const uint8_t *data, size_t size)
{
	uint8_t hdr[FZ_HEADER_BYTES] = { 0 };
	size_t pos = FZ_HEADER_BYTES;

	memcpy(hdr, data, size < FZ_HEADER_BYTES ? size : FZ_HEADER_BYTES);
	fz_machine_decode(hdr, &run->m);
	if (run->m.nr_cpus < 2)
		run->m.nr_cpus = 2;
	fz_machine_encode(&run->m, hdr);
	fz_machine_decode(hdr, &run->m);

	uint8_t cpus = pos < size ? data[pos] : 0;
	pos++;
	int ncpu = run->m.nr_cpus;
	run->t[0].home = (cpus & 3) % ncpu;
	run->t[1].home = (run->t[0].home + 1 + ((cpus >> 2) & 3) % (ncpu - 1)) % ncpu;

	size_t lo = pos < size ? data[pos] : 0, hi = pos + 1 < size ? data[pos + 1] : 0;
	pos += 2;
	size_t rest = pos < size ? size - pos : 0;
	size_t len_a = (lo | hi << 8) % (rest + 1);
	decode_thread(&run->t[0], hdr, data + (pos < size ? pos : size), len_a);
	decode_thread(&run->t[1], hdr, data + (pos < size ? pos : size) + len_a, rest - len_a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct run *run = &R;
	struct buddy_error err;
	struct buddy_system_info info;

	if (!ready) {
		fz_tsan_coverage_counters_benign();
		for (int i = 0; i < NR_THREADS; i++) {
			fz_program_init(&run->t[i].prog);
			pthread_mutex_init(&run->in[i].lock, NULL);
		}
		pthread_mutex_init(&run->fail_lock, NULL);
		run->ignore = getenv("PAGETORTURE_FUZZ_IGNORE");
		run->trace = getenv("PAGETORTURE_FUZZ_TRACE") != NULL;
		ready = true;
	}
	decode(run, data, size);
	for (int i = 0; i < NR_THREADS; i++) {
		struct thread *t = &run->t[i];
		t->run = run;
		t->id = i;
		t->cur = 0;
		memset(t->h, 0, sizeof(t->h));
		memset(t->r, 0, sizeof(t->r));
		run->in[i].n = 0;
	}
	run->violated = false;
	run->fail_thread = -1;
	run->fail_op = 0;
	run->invariant[0] = run->message[0] = '\0';
	atomic_store(&run->stop, false);
	atomic_store(&run->seq, 0);
	atomic_store(&run->ready, 0);

	fz_machine_build(&run->m, &run->topo, &run->opts);
	run->sys = buddy_system_create(&run->topo, &run->opts, &err);
	if (!run->sys) {
		fprintf(stderr, "==pagetorture== invariant model-setup violated at op 0: %s: %s\n", err.field, err.message);
		fz_format_machine(&run->m, stderr);
		fprintf(stderr, "==pagetorture== invariant model-setup\n");
		abort();
	}
	buddy_system_info(run->sys, &info);
	run->max_pfn = info.max_pfn;
	run->owner = calloc(run->max_pfn ? run->max_pfn : 1, sizeof(*run->owner));
	if (!run->owner) {
		buddy_system_destroy(run->sys);
		return 0;
	}

	pthread_barrier_init(&run->start, NULL, NR_THREADS);
	pthread_barrier_init(&run->end, NULL, NR_THREADS);
	int started = 0;
	for (; started < NR_THREADS; started++)
		if (pthread_create(&run->t[started].th, NULL, thread_main, &run->t[started]))
			break;
	if (started < NR_THREADS) {
		fprintf(stderr, "fuzz_threads: pthread_create failed\n");
		abort();
	}
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(run->t[i].th, NULL);
	pthread_barrier_destroy(&run->start);
	pthread_barrier_destroy(&run->end);

	if (!run->violated)
		final_checks(run);
	if (run->violated && !(run->ignore && fz_ignored(run->ignore, run->invariant, run->message)))
		report_and_abort(run);
	if (run->trace)
		print_programs(run, stdout);
	buddy_system_destroy(run->sys);
	free(run->owner);
	run->owner = NULL;
	return 0;
}
