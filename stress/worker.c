/* The operations a stress profile is made of: allocation and free with the
 * data-integrity pattern and the ownership bitmap, hand-off between
 * threads, the op ring, and the callbacks through which the allocator moves,
 * reclaims or takes away a block a thread holds.
 *
 * A thread's table of held blocks is shared with those callbacks (they run
 * on whichever thread compacts or reclaims), so it changes only under the
 * thread's lock.  The only allocator call made with it held is the free of
 * a mapped block, and the free path never waits for a callback: a callback
 * that must wait for the lock (release) can then never deadlock against the
 * owner, and the ones that may refuse (migrate, reclaim) only try it. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stress.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

double now_s(void)
{
	return (double)now_ns() / 1e9;
}

/* ---- random numbers: xoshiro256** seeded through splitmix64 ---- */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(uint64_t rng[4], uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		rng[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct stress_thread *t)
{
	uint64_t *s = t->rng;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t tmp = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= tmp;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t rng_below(struct stress_thread *t, uint64_t n)
{
	if (n <= 1)
		return 0;
	/* Lemire's multiply-shift; the bias for the small n used here is
	 * far below anything a workload could notice. */
	return (uint64_t)(((unsigned __int128)rng_next(t) * n) >> 64);
}

bool rng_chance(struct stress_thread *t, unsigned int per_mille)
{
	return rng_below(t, 1000) < per_mille;
}

/* ---- the op ring ---- */
static const char *const op_names[NR_OP_KINDS] = {
	[OP_ALLOC] = "alloc",
	[OP_ALLOC_MAPPED] = "alloc-mapped",
	[OP_BULK] = "alloc-bulk",
	[OP_FREE] = "free",
	[OP_FREE_REMOTE] = "free-remote",
	[OP_HANDOFF] = "handoff",
	[OP_RECV_FREE] = "free-handed",
	[OP_DRAIN_LOCAL] = "drain-local",
	[OP_DRAIN_ALL] = "drain-all",
	[OP_BIND] = "bind",
	[OP_COMPACT] = "compact",
	[OP_KSWAPD] = "kswapd",
	[OP_DIRECT_RECLAIM] = "try-to-free",
	[OP_OOM] = "oom",
	[OP_CMA_ALLOC] = "cma-alloc",
	[OP_CMA_RELEASE] = "cma-release",
	[OP_CONTIG_ALLOC] = "contig-alloc",
	[OP_CONTIG_FREE] = "contig-free",
	[OP_OFFLINE] = "offline",
	[OP_ONLINE] = "online",
	[OP_MEMORY_FAILURE] = "memory-failure",
	[OP_UNPOISON] = "unpoison",
	[OP_SET_PCP] = "set-pcp",
};

const char *op_name(int kind)
{
	return kind >= 0 && kind < NR_OP_KINDS && op_names[kind] ? op_names[kind] : "?";
}

struct op_rec *op_begin(struct stress_thread *t, enum op_kind kind)
{
	struct op_rec *r = &t->ring[t->ring_head % STRESS_RING];

	t->ring_head++;
	memset(r, 0, sizeof(*r));
	r->seq = atomic_fetch_add_explicit(&t->run->seq, 1, memory_order_relaxed);
	r->step = t->step;
	r->teardown = t->in_teardown;
	r->kind = (uint8_t)kind;
	r->cpu = (int16_t)t->cpu;
	r->node = -1;
	r->peer = -1;
	r->pfn = UINT64_MAX;
	return r;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The trace digest leaves out seq: it is what a rerun must reproduce, and
 * seq depends on the other threads. */
void op_end(struct stress_thread *t, struct op_rec *r)
{
	uint64_t h = t->trace_hash;

	h = fnv1a(h, &r->kind, sizeof(r->kind));
	h = fnv1a(h, &r->order, sizeof(r->order));
	h = fnv1a(h, &r->cpu, sizeof(r->cpu));
	h = fnv1a(h, &r->node, sizeof(r->node));
	h = fnv1a(h, &r->gfp, sizeof(r->gfp));
	h = fnv1a(h, &r->pfn, sizeof(r->pfn));
	h = fnv1a(h, &r->arg, sizeof(r->arg));
	h = fnv1a(h, &r->result, sizeof(r->result));
	t->trace_hash = h;
	t->ops_by_kind[r->kind]++;
	/* Operations that reach into every zone get every zone checked. */
	switch (r->kind) {
	case OP_DRAIN_ALL:
	case OP_SET_PCP:
	case OP_COMPACT:
	case OP_KSWAPD:
	case OP_DIRECT_RECLAIM:
	case OP_OOM:
	case OP_CMA_ALLOC:
	case OP_CMA_RELEASE:
	case OP_CONTIG_ALLOC:
	case OP_CONTIG_FREE:
	case OP_OFFLINE:
	case OP_ONLINE:
	case OP_MEMORY_FAILURE:
	case OP_UNPOISON:
		t->touch_all = true;
		t->touch_pcp = true;
		break;
	default:
		break;
	}
}

void op_format(const struct op_rec *r, char *buf, size_t len)
{
	char gfp[BUDDY_GFP_STR_MAX];
	char pfn[32] = "";
	char node[16] = "any";
	int n;

	if (r->pfn != UINT64_MAX)
		snprintf(pfn, sizeof(pfn), "0x%" PRIx64, r->pfn);
	if (r->node >= 0)
		snprintf(node, sizeof(node), "%d", r->node);
	switch (r->kind) {
	case OP_ALLOC:
	case OP_ALLOC_MAPPED:
		buddy_gfp_format(r->gfp, gfp, sizeof(gfp));
		if (r->result)
			n = snprintf(buf, len, "%s cpu=%d node=%s gfp=%s order=%u -> pfn %s", op_name(r->kind), r->cpu,
				     node, gfp, r->order, pfn);
		else
			n = snprintf(buf, len, "%s cpu=%d node=%s gfp=%s order=%u -> NULL", op_name(r->kind), r->cpu,
				     node, gfp, r->order);
		break;
	case OP_BULK:
		buddy_gfp_format(r->gfp, gfp, sizeof(gfp));
		n = snprintf(buf, len, "bulk cpu=%d node=%s gfp=%s nr=%" PRIu64 " -> %" PRId64 " pages", r->cpu, node, gfp,
			     r->arg, r->result);
		break;
	case OP_FREE:
	case OP_FREE_REMOTE:
	case OP_RECV_FREE:
		n = snprintf(buf, len, "free cpu=%d pfn=%s order=%u -> %" PRId64, r->cpu, pfn, r->order, r->result);
		if (n > 0 && (size_t)n < len && r->kind != OP_FREE)
			snprintf(buf + n, len - (size_t)n, r->kind == OP_RECV_FREE ? "  # handed over by thread %d"
										 : "  # remote free",
				 r->peer);
		return;
	case OP_HANDOFF:
		n = snprintf(buf, len, "handoff cpu=%d pfn=%s order=%u to=thread%d -> %" PRId64, r->cpu, pfn, r->order,
			     r->peer, r->result);
		break;
	case OP_DRAIN_LOCAL:
		n = snprintf(buf, len, "drain cpu=%d", r->cpu);
		break;
	case OP_DRAIN_ALL:
		n = snprintf(buf, len, "drain-all cpu=%d", r->cpu);
		break;
	case OP_BIND:
		n = snprintf(buf, len, "bind cpu=%d from=%" PRIu64, r->cpu, r->arg);
		break;
	case OP_SET_PCP:
		n = snprintf(buf, len, "set-pcp high=%" PRIu64 " batch=%u -> %" PRId64, r->arg, r->order, r->result);
		break;
	default:
		n = snprintf(buf, len, "%s cpu=%d node=%s order=%u pfn=%s nr=%" PRIu64 " -> %" PRId64, op_name(r->kind),
			     r->cpu, node, r->order, pfn[0] ? pfn : "-", r->arg, r->result);
		break;
	}
	(void)n;
}

/* ---- integrity ---- */
#define PATTERN_MUL 0x9e3779b97f4a7c15ULL
#define SAMPLE_WORDS 8 /* at each end of every page */

static uint64_t mix64(uint64_t x)
{
	return splitmix64(&x);
}

uint64_t pattern_key(uint64_t seed, int thread, uint32_t gen, uint64_t pfn)
{
	return mix64(seed ^ mix64(((uint64_t)(unsigned)thread << 40) ^ gen) ^ (pfn * 0xd6e8feb86659fd93ULL));
}

/* Word i of a block holds key ^ i*MUL: a block copied to the wrong place, two
 * blocks mixed, a stale block or a shifted copy all show as a wrong word. */
size_t pattern_fill(void *addr, unsigned int order, uint64_t key, enum integrity_mode mode)
{
	uint64_t *w = addr;
	size_t words = (PAGE_SIZE << order) / sizeof(uint64_t);
	size_t per_page = PAGE_SIZE / sizeof(uint64_t);

	if (!addr || mode == INTEGRITY_OFF)
		return 0;
	if (mode == INTEGRITY_FULL) {
		for (size_t i = 0; i < words; i++)
			w[i] = key ^ (i * PATTERN_MUL);
		return words * sizeof(uint64_t);
	}
	for (size_t p = 0; p < words; p += per_page) {
		for (size_t i = 0; i < SAMPLE_WORDS; i++) {
			w[p + i] = key ^ ((p + i) * PATTERN_MUL);
			size_t j = p + per_page - 1 - i;
			w[j] = key ^ (j * PATTERN_MUL);
		}
	}
	return (words / per_page) * 2 * SAMPLE_WORDS * sizeof(uint64_t);
}

static bool word_bad(const uint64_t *w, size_t i, uint64_t key, size_t *bad_off, uint64_t *want, uint64_t *got)
{
	uint64_t expect = key ^ (i * PATTERN_MUL);

	if (w[i] == expect)
		return false;
	*bad_off = i * sizeof(uint64_t);
	*want = expect;
	*got = w[i];
	return true;
}

size_t pattern_verify(const void *addr, unsigned int order, uint64_t key, enum integrity_mode mode, size_t *bad_off,
		      uint64_t *want, uint64_t *got)
{
	const uint64_t *w = addr;
	size_t words = (PAGE_SIZE << order) / sizeof(uint64_t);
	size_t per_page = PAGE_SIZE / sizeof(uint64_t);

	if (!addr || mode == INTEGRITY_OFF)
		return 0;
	if (mode == INTEGRITY_FULL) {
		/* The fast compare first; the word loop only finds the place. */
		uint64_t diff = 0;
		for (size_t i = 0; i < words; i++)
			diff |= w[i] ^ (key ^ (i * PATTERN_MUL));
		if (!diff)
			return words * sizeof(uint64_t);
		for (size_t i = 0; i < words; i++)
			if (word_bad(w, i, key, bad_off, want, got))
				return (size_t)-1;
		return words * sizeof(uint64_t);
	}
	for (size_t p = 0; p < words; p += per_page)
		for (size_t i = 0; i < SAMPLE_WORDS; i++)
			if (word_bad(w, p + i, key, bad_off, want, got) ||
			    word_bad(w, p + per_page - 1 - i, key, bad_off, want, got))
				return (size_t)-1;
	return (words / per_page) * 2 * SAMPLE_WORDS * sizeof(uint64_t);
}

static bool block_is_zero(const void *addr, unsigned int order, size_t *bad_off)
{
	const uint64_t *w = addr;
	size_t words = (PAGE_SIZE << order) / sizeof(uint64_t);

	for (size_t i = 0; i < words; i++)
		if (w[i]) {
			*bad_off = i * sizeof(uint64_t);
			return false;
		}
	return true;
}

/* ---- violations ---- */
/* The first violation of a run is the one reported; later ones (often
 * consequences of the first) only stop the run. */
void stress_record_violationv(struct stress_run *run, int thread, uint64_t step, const char *name, const char *fmt,
			      va_list ap)
{
	pthread_mutex_lock(&run->fail_lock);
	if (!atomic_load_explicit(&run->failed, memory_order_relaxed)) {
		struct stress_violation *v = &run->viol;
		char *line = v->lines[0];
		size_t len = sizeof(v->lines[0]);
		snprintf(v->name, sizeof(v->name), "%s", name);
		v->thread = thread;
		v->step = step;
		v->seq = atomic_load_explicit(&run->seq, memory_order_relaxed);
		v->count = 1;
		int n = snprintf(line, len, "%s: ", name);
		if (n > 0 && (size_t)n < len)
			vsnprintf(line + n, len - (size_t)n, fmt, ap);
		atomic_store_explicit(&run->failed, true, memory_order_release);
	}
	pthread_mutex_unlock(&run->fail_lock);
	stress_request_stop(run);
}

void stress_record_violation(struct stress_run *run, int thread, uint64_t step, const char *name, const char *fmt,
			     ...)
{
	va_list ap;

	va_start(ap, fmt);
	stress_record_violationv(run, thread, step, name, fmt, ap);
	va_end(ap);
}

void stress_violation(struct stress_thread *t, const char *name, const char *fmt, ...)
{
	va_list ap;

	t->failed = true;
	va_start(ap, fmt);
	stress_record_violationv(t->run, t->id, t->in_teardown ? STRESS_TEARDOWN : t->step, name, fmt, ap);
	va_end(ap);
}

/* Found by a callback, on whichever thread compacts or reclaims: thread -1
 * in the report, and the message names the owner. */
#define callback_violation(owner, name, fmt, ...)                                                                   \
	stress_record_violation((owner)->run, -1, 0, name, fmt " (found by a callback on a block of thread %d)",     \
				__VA_ARGS__, (owner)->id)

/* ---- ownership bitmap: one bit per pfn, set while some thread holds it ---- */
static bool bitmap_range(struct stress_run *run, uint64_t pfn, uint64_t count, bool set, uint64_t *bad_pfn)
{
	uint64_t end = pfn + count;
	bool ok = true;

	if (end > run->max_pfn) {
		*bad_pfn = pfn;
		return false;
	}
	for (uint64_t p = pfn; p < end;) {
		uint64_t word = p / 64, bit = p % 64;
		uint64_t n = 64 - bit < end - p ? 64 - bit : end - p;
		uint64_t mask = (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << bit;
		uint64_t old;
		if (set) {
			old = atomic_fetch_or_explicit(&run->owned[word], mask, memory_order_relaxed);
			if (ok && (old & mask)) {
				*bad_pfn = word * 64 + (uint64_t)__builtin_ctzll(old & mask);
				ok = false;
			}
		} else {
			old = atomic_fetch_and_explicit(&run->owned[word], ~mask, memory_order_relaxed);
			if (ok && (old & mask) != mask) {
				*bad_pfn = word * 64 + (uint64_t)__builtin_ctzll(~old & mask);
				ok = false;
			}
		}
		p += n;
	}
	return ok;
}

static bool bitmap_update(struct stress_run *run, uint64_t pfn, unsigned int order, bool set, uint64_t *bad_pfn)
{
	return bitmap_range(run, pfn, 1ULL << order, set, bad_pfn);
}

/* ---- the table of held blocks (t->lock held) ---- */
static bool table_grow(struct stress_thread *t)
{
	uint32_t cap = t->cap_slots ? t->cap_slots * 2 : 1024;
	struct held *s = realloc(t->slots, (size_t)cap * sizeof(*s));
	if (!s)
		return false;
	t->slots = s;
	uint32_t *f = realloc(t->free_slots, (size_t)cap * sizeof(*f));
	if (!f)
		return false;
	t->free_slots = f;
	uint32_t *l = realloc(t->live, (size_t)cap * sizeof(*l));
	if (!l)
		return false;
	t->live = l;
	t->cap_slots = cap;
	return true;
}

/* Slots are reused first in, first out, and only once SLOT_REUSE_GAP of
 * them wait: a slot number is the mapping index of its block, and a release
 * for a block freed a moment ago (the reaper isolated it before our free)
 * can still arrive naming it.  A long gap, plus last_freed, tells such a
 * late release from one for the block now in the slot. */
#define SLOT_REUSE_GAP 64

static long slot_get(struct stress_thread *t)
{
	if (t->nfree_slots > SLOT_REUSE_GAP || (t->nslots == t->cap_slots && t->nfree_slots)) {
		uint32_t s = t->free_slots[t->free_head];
		t->free_head = (t->free_head + 1) % t->cap_slots;
		t->nfree_slots--;
		return s;
	}
	if (t->nslots == t->cap_slots) {
		/* the ring is empty here, so it can be laid out anew */
		if (!table_grow(t))
			return -1;
		t->free_head = 0;
	}
	uint32_t s = t->nslots++;
	memset(&t->slots[s], 0, sizeof(t->slots[s]));
	t->slots[s].live_pos = -1;
	return s;
}

static void slot_put(struct stress_thread *t, uint32_t s)
{
	t->slots[s].state = SLOT_FREE;
	if (t->slots[s].page)
		t->slots[s].last_freed = t->slots[s].page;
	t->slots[s].page = NULL;
	t->free_slots[(t->free_head + t->nfree_slots) % t->cap_slots] = s;
	t->nfree_slots++;
}

static void live_add(struct stress_thread *t, uint32_t s)
{
	t->slots[s].live_pos = (int32_t)t->nlive;
	t->live[t->nlive++] = s;
}

static void live_del(struct stress_thread *t, uint32_t s)
{
	int32_t pos = t->slots[s].live_pos;
	uint32_t last = t->live[--t->nlive];

	t->live[pos] = last;
	t->slots[last].live_pos = pos;
	t->slots[s].live_pos = -1;
}

void stress_touch_page(struct stress_thread *t, const struct page *page)
{
	t->touch_nid = buddy_page_nid(page);
	t->touch_zone = (int)buddy_page_zonenum(page);
	t->touch_pcp = true;
}

/* What the allocator promised about the block it returned. */
static bool check_returned(struct stress_thread *t, struct page *page, uint64_t pfn, gfp_t gfp, unsigned int order,
			   int nid)
{
	enum zone_type highest;
	int zone = (int)buddy_page_zonenum(page);

	if (pfn & ((1ULL << order) - 1)) {
		stress_violation(t, "returned-misaligned", "order-%u block at pfn 0x%" PRIx64, order, pfn);
		return false;
	}
	if (buddy_page_order(page) != order) {
		stress_violation(t, "returned-wrong-order", "asked order %u, page 0x%" PRIx64 " records order %u", order,
				 pfn, buddy_page_order(page));
		return false;
	}
	if (buddy_gfp_zone(gfp, &highest) == 0 && zone > (int)highest) {
		stress_violation(t, "returned-wrong-zone", "gfp allows zones up to %s, pfn 0x%" PRIx64 " is in %s",
				 buddy_zone_name(highest), pfn, buddy_zone_name((enum zone_type)zone));
		return false;
	}
	if ((gfp & __GFP_THISNODE) && nid >= 0 && buddy_page_nid(page) != nid) {
		stress_violation(t, "returned-wrong-node", "__GFP_THISNODE for node %d, pfn 0x%" PRIx64 " is on node %d",
				 nid, pfn, buddy_page_nid(page));
		return false;
	}
	return true;
}

/* Take a fresh block into slot s (PENDING): what the allocator promised,
 * ownership, zeroing, pattern.  All of it under the table lock and only
 * after the RELEASED check: a block of a mapping can be reaped (released and
 * freed, maybe allocated again by someone else) between its allocation and
 * this point, and a release waits for this lock. */
static bool take_block(struct stress_thread *t, uint32_t s, struct page *page, gfp_t gfp, unsigned int order, int nid,
		       unsigned int hflags)
{
	struct stress_run *run = t->run;
	uint64_t pfn = buddy_page_to_pfn(run->sys, page);
	void *addr = buddy_page_address(run->sys, page);
	uint64_t bad;
	size_t off;
	bool ok = false;

	pthread_mutex_lock(&t->lock);
	struct held *h = &t->slots[s];
	if ((h->flags & HELD_RELEASED) && h->released == page) {
		slot_put(t, s);
		pthread_mutex_unlock(&t->lock);
		return true;
	}
	if (!check_returned(t, page, pfn, gfp, order, nid))
		goto out;
	if (!bitmap_update(run, pfn, order, true, &bad)) {
		stress_violation(t, "double-allocation",
				 "order-%u block at pfn 0x%" PRIx64 " handed out while pfn 0x%" PRIx64
				 " is still held by a thread",
				 order, pfn, bad);
		goto out;
	}
	if ((gfp & __GFP_ZERO) && addr && !block_is_zero(addr, order, &off)) {
		stress_violation(t, "zero-missing",
				 "__GFP_ZERO block at pfn 0x%" PRIx64 " order %u has a non-zero byte at offset %zu", pfn,
				 order, off);
		goto out;
	}
	t->gen++;
	h->page = page;
	h->pfn = pfn;
	h->order = (uint8_t)order;
	h->gfp = gfp;
	h->gen = t->gen;
	h->flags = (uint8_t)(h->flags | hflags);
	h->alloc_cpu = (int16_t)t->cpu;
	h->origin = (int16_t)t->id;
	h->key = pattern_key(run->opts.seed, t->id, t->gen, pfn);
	t->bytes_written += pattern_fill(addr, order, h->key, run->opts.integrity);
	h->state = SLOT_LIVE;
	live_add(t, s);
	t->held_pages += 1ULL << order;
	if (hflags & HELD_PINNED)
		t->pinned_pages += 1ULL << order;
	ok = true;
out:
	pthread_mutex_unlock(&t->lock);
	return ok;
}

static long reserve_slot(struct stress_thread *t)
{
	pthread_mutex_lock(&t->lock);
	long s = slot_get(t);
	if (s >= 0) {
		t->slots[s].state = SLOT_PENDING;
		t->slots[s].flags = 0;
		t->slots[s].released = NULL;
	}
	pthread_mutex_unlock(&t->lock);
	return s;
}

static void unreserve_slot(struct stress_thread *t, uint32_t s)
{
	pthread_mutex_lock(&t->lock);
	slot_put(t, s);
	pthread_mutex_unlock(&t->lock);
}

static long alloc_common(struct stress_thread *t, enum op_kind kind, gfp_t gfp, unsigned int order, int nid,
			 unsigned int hflags)
{
	struct stress_run *run = t->run;
	long s = reserve_slot(t);

	if (s < 0)
		return -1;
	struct op_rec *r = op_begin(t, kind);
	r->gfp = gfp;
	r->order = (uint8_t)order;
	r->node = (int16_t)nid;
	struct page *page;
	if (kind == OP_ALLOC_MAPPED)
		page = buddy_alloc_pages_mapping(run->sys, gfp, order, nid, 0,
						 (hflags & HELD_FILE) ? &t->file_mapping : &t->anon_mapping, (uint64_t)s);
	else if (nid >= 0)
		page = buddy_alloc_pages_node(run->sys, nid, gfp, order);
	else
		page = buddy_alloc_pages(run->sys, gfp, order);
	t->touch_pcp = true;
	if (!page) {
		r->result = 0;
		op_end(t, r);
		t->alloc_fail++;
		unreserve_slot(t, (uint32_t)s);
		return -1;
	}
	uint64_t pfn = buddy_page_to_pfn(run->sys, page);
	r->pfn = pfn;
	r->result = 1;
	op_end(t, r);
	t->allocs++;
	stress_touch_page(t, page);
	if (!take_block(t, (uint32_t)s, page, gfp, order, nid, hflags))
		return -1;
	return s;
}

long stress_alloc(struct stress_thread *t, gfp_t gfp, unsigned int order, int nid, unsigned int hflags)
{
	return alloc_common(t, OP_ALLOC, gfp, order, nid, hflags);
}

long stress_alloc_mapped(struct stress_thread *t, gfp_t gfp, unsigned int order, int nid, bool file)
{
	return alloc_common(t, OP_ALLOC_MAPPED, gfp, order, nid, HELD_MAPPED | (file ? HELD_FILE : 0));
}

size_t stress_alloc_bulk(struct stress_thread *t, gfp_t gfp, size_t nr)
{
	struct stress_run *run = t->run;
	struct page *pages[64];
	long slots[64];
	size_t want = nr > 64 ? 64 : nr, got;

	for (size_t i = 0; i < want; i++) {
		slots[i] = reserve_slot(t);
		if (slots[i] < 0) {
			want = i;
			break;
		}
	}
	struct op_rec *r = op_begin(t, OP_BULK);
	r->gfp = gfp;
	r->arg = want;
	got = want ? buddy_alloc_pages_bulk(run->sys, gfp, -1, 0, want, pages) : 0;
	r->result = (int64_t)got;
	r->pfn = got ? buddy_page_to_pfn(run->sys, pages[0]) : UINT64_MAX;
	op_end(t, r);
	t->touch_pcp = true;
	if (got < want)
		t->alloc_fail++;
	for (size_t i = got; i < want; i++)
		unreserve_slot(t, (uint32_t)slots[i]);
	for (size_t i = 0; i < got; i++) {
		t->allocs++;
		stress_touch_page(t, pages[i]);
		if (!take_block(t, (uint32_t)slots[i], pages[i], gfp, 0, -1, 0)) {
			/* The rest stay unaccounted: the run is over anyway. */
			return i;
		}
	}
	return got;
}

long stress_pick(struct stress_thread *t, bool allow_pinned)
{
	long s = -1;

	pthread_mutex_lock(&t->lock);
	for (int tries = 0; tries < 8 && t->nlive; tries++) {
		uint32_t c = t->live[rng_below(t, t->nlive)];
		if (!allow_pinned && (t->slots[c].flags & HELD_PINNED))
			continue;
		s = c;
		break;
	}
	pthread_mutex_unlock(&t->lock);
	return s;
}

/* Verify a held block and take it out of the table (t->lock held); false
 * when the slot is not ours to free any more or the data is bad. */
static bool detach_block(struct stress_thread *t, uint32_t s, struct held *out, const char *why)
{
	struct stress_run *run = t->run;
	struct held *h = &t->slots[s];
	size_t off;
	uint64_t want, got, bad;

	if (h->state != SLOT_LIVE)
		return false;
	size_t n = pattern_verify(buddy_page_address(run->sys, h->page), h->order, h->key, run->opts.integrity, &off,
				  &want, &got);
	if (n == (size_t)-1) {
		stress_violation(t, "data-corrupt",
				 "%s: order-%u block at pfn 0x%" PRIx64 " (thread %d, generation %u): byte %zu holds "
				 "0x%016" PRIx64 ", expected 0x%016" PRIx64,
				 why, h->order, h->pfn, h->origin, h->gen, off, got, want);
		return false;
	}
	t->bytes_verified += n;
	if (!bitmap_update(run, h->pfn, h->order, false, &bad)) {
		stress_violation(t, "ownership-lost", "pfn 0x%" PRIx64 " of a held order-%u block at 0x%" PRIx64
				 " was not marked held", bad, h->order, h->pfn);
		return false;
	}
	*out = *h;
	h->state = SLOT_BUSY;
	live_del(t, s);
	t->held_pages -= 1ULL << h->order;
	if (h->flags & HELD_PINNED)
		t->pinned_pages -= 1ULL << h->order;
	return true;
}

static void free_block(struct stress_thread *t, enum op_kind kind, struct page *page, uint64_t pfn,
		       unsigned int order, int peer)
{
	struct op_rec *r = op_begin(t, kind);
	r->pfn = pfn;
	r->order = (uint8_t)order;
	r->peer = (int16_t)peer;
	int ret = buddy_free_pages(t->run->sys, page, order);
	r->result = ret;
	op_end(t, r);
	t->frees++;
	stress_touch_page(t, page);
	if (ret)
		stress_violation(t, "free-refused", "buddy_free_pages(pfn 0x%" PRIx64 ", order %u) of a block we own returned %d",
				 pfn, order, ret);
}

void stress_free(struct stress_thread *t, uint32_t s, int cpu)
{
	struct held h;

	pthread_mutex_lock(&t->lock);
	bool ok = detach_block(t, s, &h, "at free");
	/* A block of a mapping is let go of and freed in one step under the
	 * lock: a release (OOM reaper, memory failure) waits for it and finds
	 * the slot busy, and the reaper's own free and ours meet in the
	 * allocator's isolation, which frees the block once.  Between an
	 * unlock and our free the reaper could free it first and ours would
	 * be a double free.  The free path never waits for a callback, so
	 * holding the lock across it cannot deadlock. */
	bool mapped = ok && (h.flags & HELD_MAPPED);
	if (!mapped)
		pthread_mutex_unlock(&t->lock);
	if (!ok)
		return;
	bool remote = cpu >= 0 && cpu != t->cpu;
	int home = t->cpu;
	if (remote) {
		buddy_bind_cpu(t->run->sys, cpu);
		t->cpu = cpu;
	}
	free_block(t, remote ? OP_FREE_REMOTE : OP_FREE, h.page, h.pfn, h.order, remote ? home : -1);
	if (remote) {
		t->touch_cpu = cpu; /* the pcp the free went to */
		buddy_bind_cpu(t->run->sys, home);
		t->cpu = home;
		t->remote_frees++;
	}
	if (!mapped)
		pthread_mutex_lock(&t->lock);
	slot_put(t, s);
	pthread_mutex_unlock(&t->lock);
}

static bool inbox_push(struct handoff_queue *q, const struct handoff_item *it)
{
	bool ok = false;

	pthread_mutex_lock(&q->lock);
	if (q->count < STRESS_INBOX) {
		q->items[(q->head + q->count) % STRESS_INBOX] = *it;
		q->count++;
		ok = true;
	}
	pthread_mutex_unlock(&q->lock);
	return ok;
}

static bool inbox_pop(struct handoff_queue *q, struct handoff_item *it)
{
	bool ok = false;

	pthread_mutex_lock(&q->lock);
	if (q->count) {
		*it = q->items[q->head];
		q->head = (q->head + 1) % STRESS_INBOX;
		q->count--;
		ok = true;
	}
	pthread_mutex_unlock(&q->lock);
	return ok;
}

/* The block goes to another thread, which frees it on its own CPU: the
 * kernel's free of a page on another CPU than the one that allocated it. */
bool stress_handoff(struct stress_thread *t, uint32_t s, int dest)
{
	struct stress_run *run = t->run;
	struct held h;

	if (dest < 0 || dest >= run->nthreads || dest == t->id)
		return false;
	pthread_mutex_lock(&t->lock);
	if (t->slots[s].flags & HELD_MAPPED) {
		/* The mapping index names our slot: it cannot change hands. */
		pthread_mutex_unlock(&t->lock);
		return false;
	}
	/* Verified here and again by the receiver: a corruption in flight
	 * is told apart from one before. */
	bool ok = detach_block(t, s, &h, "before hand-off");
	if (ok) {
		uint64_t bad;
		bitmap_update(run, h.pfn, h.order, true, &bad); /* still held: by the queue */
	}
	pthread_mutex_unlock(&t->lock);
	if (!ok)
		return false;
	struct handoff_item it = { .page = h.page, .pfn = h.pfn, .key = h.key, .gen = h.gen, .order = h.order,
				   .alloc_cpu = h.alloc_cpu, .origin = h.origin };
	struct op_rec *r = op_begin(t, OP_HANDOFF);
	r->pfn = h.pfn;
	r->order = h.order;
	r->peer = (int16_t)dest;
	bool pushed = inbox_push(&run->threads[dest].inbox, &it);
	r->result = pushed ? 0 : -EAGAIN;
	op_end(t, r);
	if (pushed) {
		t->handoffs++;
	} else {
		uint64_t bad;
		bitmap_update(run, h.pfn, h.order, false, &bad);
		free_block(t, OP_FREE, h.page, h.pfn, h.order, -1);
	}
	pthread_mutex_lock(&t->lock);
	slot_put(t, s);
	pthread_mutex_unlock(&t->lock);
	return pushed;
}

/* Verify and free a handed-over block; the caller binds the CPU. */
static bool free_handed(struct stress_thread *t, const struct handoff_item *it)
{
	struct stress_run *run = t->run;
	size_t off;
	uint64_t want, got, bad;

	size_t n = pattern_verify(buddy_page_address(run->sys, it->page), it->order, it->key, run->opts.integrity, &off,
				  &want, &got);
	if (n == (size_t)-1) {
		stress_violation(t, "data-corrupt",
				 "after hand-off: order-%u block at pfn 0x%" PRIx64 " (thread %d, generation %u): byte %zu "
				 "holds 0x%016" PRIx64 ", expected 0x%016" PRIx64,
				 it->order, it->pfn, it->origin, it->gen, off, got, want);
		return false;
	}
	t->bytes_verified += n;
	if (!bitmap_update(run, it->pfn, it->order, false, &bad)) {
		stress_violation(t, "ownership-lost", "handed-over block at 0x%" PRIx64 " was not marked held", it->pfn);
		return false;
	}
	free_block(t, OP_RECV_FREE, it->page, it->pfn, it->order, it->origin);
	t->recv_frees++;
	return true;
}

bool stress_recv_free(struct stress_thread *t)
{
	struct handoff_item it;

	if (!inbox_pop(&t->inbox, &it))
		return false;
	free_handed(t, &it);
	return true;
}

void stress_drain_local(struct stress_thread *t)
{
	struct op_rec *r = op_begin(t, OP_DRAIN_LOCAL);
	buddy_drain_local_pages(t->run->sys);
	op_end(t, r);
	t->touch_pcp = true;
}

void stress_drain_all(struct stress_thread *t)
{
	struct op_rec *r = op_begin(t, OP_DRAIN_ALL);
	buddy_drain_all_pages(t->run->sys);
	op_end(t, r);
	t->touch_pcp = true;
}

void stress_bind(struct stress_thread *t, int cpu)
{
	struct op_rec *r = op_begin(t, OP_BIND);
	r->arg = (uint64_t)t->cpu;
	r->cpu = (int16_t)cpu;
	r->result = buddy_bind_cpu(t->run->sys, cpu);
	op_end(t, r);
	if (!r->result)
		t->cpu = cpu;
}

/* A slow triangle wave between low% and high% of the thread's share, with a
 * period that differs per thread, so the sum crosses the watermarks up and
 * down at different times. */
uint64_t stress_target_pages(struct stress_thread *t, unsigned int low_pct, unsigned int high_pct)
{
	uint64_t share = t->run->managed_pages / (uint64_t)t->run->nthreads;
	uint64_t period = 4000 + 997 * (uint64_t)t->id;
	uint64_t ph = t->step % period;
	uint64_t tri = ph < period / 2 ? ph : period - ph; /* 0 .. period/2 */
	uint64_t pct = low_pct + (high_pct - low_pct) * tri / (period / 2);

	return share * pct / 100;
}

/* ---- callbacks from the allocator ---- */
static struct stress_thread *mapping_owner(struct buddy_mapping *m)
{
	return m ? m->private_data : NULL;
}

static int cb_migrate(struct buddy_mapping *m, struct page *old_page, struct page *new_page)
{
	struct stress_thread *t = mapping_owner(m);
	struct stress_run *run = t->run;
	uint64_t idx = buddy_page_index(old_page);
	size_t off;
	uint64_t want, got, bad;
	int ret = -EAGAIN;

	if (pthread_mutex_trylock(&t->lock))
		return -EAGAIN; /* the owner is using its table: not now */
	if (idx >= t->nslots || t->slots[idx].state != SLOT_LIVE || t->slots[idx].page != old_page)
		goto out;
	struct held *h = &t->slots[idx];
	uint64_t new_pfn = buddy_page_to_pfn(run->sys, new_page);
	/* Under our lock, so no write of ours races the copy. */
	buddy_migrate_copy(run->sys, new_page, old_page);
	size_t n = pattern_verify(buddy_page_address(run->sys, new_page), h->order, h->key, run->opts.integrity, &off,
				  &want, &got);
	if (n == (size_t)-1) {
		callback_violation(t, "data-corrupt",
				   "after migration of pfn 0x%" PRIx64 " to 0x%" PRIx64 " (order %u, generation %u): "
				   "byte %zu holds 0x%016" PRIx64 ", expected 0x%016" PRIx64,
				   h->pfn, new_pfn, h->order, h->gen, off, got, want);
		goto out;
	}
	if (!bitmap_update(run, new_pfn, h->order, true, &bad)) {
		callback_violation(t, "double-allocation", "migration target 0x%" PRIx64 " (order %u) overlaps held pfn 0x%" PRIx64,
				   new_pfn, h->order, bad);
		goto out;
	}
	bitmap_update(run, h->pfn, h->order, false, &bad);
	atomic_fetch_add_explicit(&t->cb_bytes_verified, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->cb_migrations, 1, memory_order_relaxed);
	h->page = new_page;
	h->pfn = new_pfn;
	ret = 0;
out:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

static int cb_reclaim(struct buddy_mapping *m, struct page *page)
{
	struct stress_thread *t = mapping_owner(m);
	struct stress_run *run = t->run;
	uint64_t idx = buddy_page_index(page);
	size_t off;
	uint64_t want, got, bad;
	int ret = -EBUSY;

	if (pthread_mutex_trylock(&t->lock))
		return -EBUSY;
	if (idx >= t->nslots || t->slots[idx].state != SLOT_LIVE || t->slots[idx].page != page ||
	    (t->slots[idx].flags & HELD_PINNED))
		goto out;
	struct held *h = &t->slots[idx];
	size_t n = pattern_verify(buddy_page_address(run->sys, page), h->order, h->key, run->opts.integrity, &off, &want,
				  &got);
	if (n == (size_t)-1) {
		callback_violation(t, "data-corrupt",
				   "at reclaim of pfn 0x%" PRIx64 " (order %u, generation %u): byte %zu holds 0x%016" PRIx64
				   ", expected 0x%016" PRIx64,
				   h->pfn, h->order, h->gen, off, got, want);
		goto out;
	}
	bitmap_update(run, h->pfn, h->order, false, &bad);
	atomic_fetch_add_explicit(&t->cb_bytes_verified, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->cb_reclaims, 1, memory_order_relaxed);
	live_del(t, (uint32_t)idx);
	t->held_pages -= 1ULL << h->order;
	slot_put(t, (uint32_t)idx);
	ret = 0;
out:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

static int cb_release(struct buddy_mapping *m, struct page *page)
{
	int ret = -EBUSY;
	struct stress_thread *t = mapping_owner(m);
	struct stress_run *run = t->run;
	uint64_t idx = buddy_page_index(page);
	uint64_t bad;

	/* Blocking is safe: the owner holds the lock across no allocator call
	 * but a free, and a free never waits for a callback. */
	pthread_mutex_lock(&t->lock);
	if (idx < t->nslots) {
		struct held *h = &t->slots[idx];
		if (h->state == SLOT_LIVE && h->page == page) {
			/* Taken, not yet freed: the contents must still be ours. */
			size_t off;
			uint64_t want, got;
			size_t n = pattern_verify(buddy_page_address(run->sys, page), h->order, h->key,
						  run->opts.integrity, &off, &want, &got);
			if (n == (size_t)-1)
				callback_violation(t, "data-corrupt",
						   "at release of pfn 0x%" PRIx64 " (order %u, generation %u): byte %zu holds "
						   "0x%016" PRIx64 ", expected 0x%016" PRIx64,
						   h->pfn, h->order, h->gen, off, got, want);
			else
				atomic_fetch_add_explicit(&t->cb_bytes_verified, n, memory_order_relaxed);
			bitmap_update(run, h->pfn, h->order, false, &bad);
			live_del(t, (uint32_t)idx);
			t->held_pages -= 1ULL << h->order;
			if (h->flags & HELD_PINNED)
				t->pinned_pages -= 1ULL << h->order;
			slot_put(t, (uint32_t)idx);
			ret = 0;
		} else if (h->state == SLOT_PENDING && page != h->last_freed) {
			/* The block being allocated into this slot, taken before
			 * take_block() got to it: it will see the mark and let
			 * go.  (A release naming the slot's previous block, which
			 * we freed, gets -EBUSY below.) */
			h->flags |= HELD_RELEASED;
			h->released = page;
			ret = 0;
		}
		/* SLOT_BUSY, or a block we freed: the owner let go and frees it. */
	}
	atomic_fetch_add_explicit(&t->cb_releases, 1, memory_order_relaxed);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

/* Page cache: movable and reclaimable. */
const struct buddy_mapping_ops stress_file_ops = {
	.migrate = cb_migrate,
	.reclaim = cb_reclaim,
	.release = cb_release,
};

/* Anonymous memory without swap: movable, never reclaimed (OOM's food). */
const struct buddy_mapping_ops stress_anon_ops = {
	.migrate = cb_migrate,
	.reclaim = NULL,
	.release = cb_release,
};

/* ---- contiguous ranges (CMA, alloc_contig_range) ---- */
static size_t range_fill(struct stress_run *run, uint64_t pfn, uint64_t count, uint64_t key)
{
	size_t n = 0;

	for (uint64_t i = 0; i < count; i++)
		n += pattern_fill(buddy_page_address(run->sys, buddy_pfn_to_page(run->sys, pfn + i)), 0, key ^ (pfn + i),
				  run->opts.integrity);
	return n;
}

static size_t range_verify(struct stress_thread *t, const struct range_hold *r)
{
	struct stress_run *run = t->run;
	size_t n = 0, off;
	uint64_t want, got;

	for (uint64_t i = 0; i < r->count; i++) {
		size_t k = pattern_verify(buddy_page_address(run->sys, buddy_pfn_to_page(run->sys, r->pfn + i)), 0,
					  r->key ^ (r->pfn + i), run->opts.integrity, &off, &want, &got);
		if (k == (size_t)-1) {
			stress_violation(t, "data-corrupt",
					 "%s range [0x%" PRIx64 ", +%" PRIu64 "): pfn 0x%" PRIx64 " byte %zu holds 0x%016" PRIx64
					 ", expected 0x%016" PRIx64,
					 r->kind == RANGE_CMA ? "CMA" : "contig", r->pfn, r->count, r->pfn + i, off, got, want);
			return (size_t)-1;
		}
		n += k;
	}
	return n;
}

bool stress_range_take(struct stress_thread *t, int kind, int area, uint64_t pfn, uint64_t count)
{
	struct stress_run *run = t->run;
	uint64_t bad;

	if (!bitmap_range(run, pfn, count, true, &bad)) {
		stress_violation(t, "double-allocation",
				 "%s range [0x%" PRIx64 ", +%" PRIu64 ") handed out while pfn 0x%" PRIx64 " is held",
				 kind == RANGE_CMA ? "CMA" : "contig", pfn, count, bad);
		return false;
	}
	struct range_hold *r = &t->ranges[t->nranges++];
	t->gen++;
	r->pfn = pfn;
	r->count = count;
	r->kind = kind;
	r->area = area;
	r->key = pattern_key(run->opts.seed, t->id, t->gen, pfn);
	t->bytes_written += range_fill(run, pfn, count, r->key);
	atomic_fetch_add_explicit(&run->extra_held, count, memory_order_relaxed);
	return true;
}

/* Verify range i and take it out of the list; the caller gives it back. */
bool stress_range_detach(struct stress_thread *t, int i, struct range_hold *out)
{
	struct stress_run *run = t->run;
	uint64_t bad;

	*out = t->ranges[i];
	t->ranges[i] = t->ranges[--t->nranges];
	size_t n = range_verify(t, out);
	if (n == (size_t)-1)
		return false;
	t->bytes_verified += n;
	if (!bitmap_range(run, out->pfn, out->count, false, &bad)) {
		stress_violation(t, "ownership-lost", "pfn 0x%" PRIx64 " of a held range was not marked held", bad);
		return false;
	}
	atomic_fetch_sub_explicit(&run->extra_held, out->count, memory_order_relaxed);
	return true;
}

/* Free everything a thread holds (teardown, single-threaded). */
void stress_free_all(struct stress_thread *t)
{
	struct handoff_item it;

	t->in_teardown = true;
	buddy_bind_cpu(t->run->sys, t->home_cpu);
	t->cpu = t->home_cpu;
	while (inbox_pop(&t->inbox, &it))
		if (!free_handed(t, &it))
			return;
	while (t->nlive && !t->failed)
		stress_free(t, t->live[t->nlive - 1], -1);
	stress_release_ranges(t);
	stress_reap_zombies(t);
	if (t->nzombies && !t->failed)
		stress_violation(t, "task-not-destroyed", "killed task %d of thread %d still counts pages after everything was freed",
				 t->zombies[0], t->id);
	if (t->task && !t->failed) {
		int ret = buddy_task_destroy(t->run->sys, t->task);
		if (ret)
			stress_violation(t, "task-not-destroyed",
					 "task %d of thread %d still counts pages after everything was freed (%d)", t->task,
					 t->id, ret);
		t->task = 0;
	}
}

uint64_t stress_total_held(struct stress_run *run)
{
	uint64_t n = 0;

	for (int i = 0; i < run->nthreads; i++) {
		struct stress_thread *t = &run->threads[i];
		pthread_mutex_lock(&t->lock);
		n += t->held_pages;
		pthread_mutex_unlock(&t->lock);
		pthread_mutex_lock(&t->inbox.lock);
		for (unsigned int k = 0; k < t->inbox.count; k++)
			n += 1ULL << t->inbox.items[(t->inbox.head + k) % STRESS_INBOX].order;
		pthread_mutex_unlock(&t->inbox.lock);
	}
	return n;
}

/* --selftest-corrupt: what a lost write or a stray DMA would do to a block
 * the allocator handed out.  The verification at its free must notice. */
void stress_selftest_corrupt(struct stress_thread *t)
{
	pthread_mutex_lock(&t->lock);
	for (uint32_t i = 0; i < t->nlive; i++) {
		struct held *h = &t->slots[t->live[i]];
		unsigned char *addr = buddy_page_address(t->run->sys, h->page);
		if (!addr || t->run->opts.integrity == INTEGRITY_OFF)
			break;
		addr[0] ^= 0x40; /* the first byte is checked in every integrity mode */
		break;
	}
	pthread_mutex_unlock(&t->lock);
}
