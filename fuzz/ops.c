/* The operation language: machines, programs, and the binary form.
 *
 * Decoding is total: a read past the end yields 0 and every field is reduced
 * into its range, so the fuzzer never wastes an execution on a rejected
 * input.  Encoding writes the canonical bytes of a program; the decoder's
 * reductions are the identity on anything it produced, which is what makes
 * decode(encode(p)) == p hold. */
#include "ops.h"

#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"

/* ---- programs ---- */
void fz_program_init(struct fz_program *p)
{
	memset(p, 0, sizeof(*p));
	fz_machine_default(&p->m);
}

void fz_program_free(struct fz_program *p)
{
	free(p->ops);
	p->ops = NULL;
	p->nr_ops = p->cap = 0;
}

void fz_program_reset(struct fz_program *p)
{
	p->nr_ops = 0;
}

bool fz_program_push(struct fz_program *p, const struct fz_op *op)
{
	if (p->nr_ops >= FZ_MAX_OPS)
		return false;
	if (p->nr_ops == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct fz_op *n = realloc(p->ops, cap * sizeof(*n));
		if (!n)
			return false;
		p->ops = n;
		p->cap = cap;
	}
	p->ops[p->nr_ops++] = *op;
	return true;
}

bool fz_program_equal(const struct fz_program *a, const struct fz_program *b)
{
	if (memcmp(&a->m, &b->m, sizeof(a->m)) || a->nr_ops != b->nr_ops)
		return false;
	return a->nr_ops == 0 || memcmp(a->ops, b->ops, a->nr_ops * sizeof(*a->ops)) == 0;
}

/* ---- machines ---- */
/* A zone unit scales with max_order, so that every machine holds a
 * similar number of max-order blocks: the checker's work after each op
 * grows with the number of free blocks and pageblocks, not with memory. */
static const int8_t unit_shift[4] = { 0, -1, 1, 2 };
static const uint8_t class_units[4] = { 0, 1, 2, 4 };
static const uint16_t pcp_fractions[4] = { 0, 8, 64, 1024 };
static const uint16_t wsf_values[4] = { 10, 1, 100, 1000 };

uint16_t fz_pcp_fraction_value(unsigned code)
{
	return pcp_fractions[code & 3];
}

uint16_t fz_wsf_value(unsigned code)
{
	return wsf_values[code & 3];
}

static int class_of_units(unsigned units)
{
	for (int c = 0; c < 4; c++)
		if (class_units[c] == units)
			return c;
	return -1;
}

uint16_t fz_unit_pages(unsigned max_order, unsigned code)
{
	return (uint16_t)(1u << (max_order - 2 + unit_shift[code & 3]));
}

static int code_of_unit(unsigned max_order, unsigned unit)
{
	for (unsigned c = 0; c < 4; c++)
		if (fz_unit_pages(max_order, c) == unit)
			return (int)c;
	return -1;
}

/* At most 32 max-order blocks of memory, and FZ_MAX_PAGES. */
uint64_t fz_machine_limit(const struct fz_machine *m)
{
	uint64_t limit = m->poison ? FZ_MAX_POISON_PAGES : FZ_MAX_PAGES;
	uint64_t blocks = 32ULL << m->max_order;
	return blocks < limit ? blocks : limit;
}

static uint64_t zone_pages(const struct fz_machine *m, int n, int z)
{
	unsigned units = m->zone_units[n][z];
	return units ? (uint64_t)units * m->unit + (uint64_t)m->skew * 7 : 0;
}

uint64_t fz_machine_pages(const struct fz_machine *m)
{
	uint64_t total = 0;

	for (int n = 0; n < m->nr_nodes; n++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			total += zone_pages(m, n, z);
	return total;
}

/* Zones too much for FZ_MAX_PAGES are dropped, later ones first in the
 * order they are laid out, and a machine with no memory gets some: both keep
 * every header valid. */
static void machine_normalise(struct fz_machine *m)
{
	uint64_t total = 0, limit = fz_machine_limit(m);

	for (int n = FZ_MAX_NODES - 1; n >= m->nr_nodes; n--)
		memset(m->zone_units[n], 0, sizeof(m->zone_units[n]));
	for (int n = 0; n < m->nr_nodes; n++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			uint64_t pages = zone_pages(m, n, z);
			if (total + pages > limit)
				m->zone_units[n][z] = 0;
			else
				total += pages;
		}
	}
	if (total == 0)
		m->zone_units[0][ZONE_DMA32] = 1;
	if (m->pageblock_order > m->max_order)
		m->pageblock_order = m->max_order;
	/* The CMA area needs a zone with two pageblocks past its middle; the
	 * flag is cleared when none has, so the text shows what is built. */
	if (m->cma) {
		struct buddy_topology t;
		struct buddy_options o;
		fz_machine_build(m, &t, &o);
		if (t.nr_cma == 0)
			m->cma = false;
	}
	if (m->hole) {
		struct buddy_topology t;
		struct buddy_options o;
		fz_machine_build(m, &t, &o);
		if (t.nr_holes == 0)
			m->hole = false;
	}
}

void fz_machine_default(struct fz_machine *m)
{
	memset(m, 0, sizeof(*m));
	m->nr_nodes = 1;
	m->nr_cpus = 2;
	m->max_order = 10;
	m->pageblock_order = 9;
	m->unit = 256;
	m->zone_units[0][ZONE_DMA] = 1;
	m->zone_units[0][ZONE_DMA32] = 4;
	m->zone_units[0][ZONE_NORMAL] = 4;
}

/* The header's two pageblock bits: max_order minus 1, 2 or 6 (at least 1),
 * or max_order itself.  The deep one gives zones of 100 pageblocks and
 * more, which reserve_highatomic_pageblock needs before it reserves. */
uint8_t fz_pageblock_order_of(uint8_t max_order, int code)
{
	static const uint8_t delta[4] = { 1, 2, 6, 0 };
	int pb = (int)max_order - delta[code & 3];
	return (uint8_t)(pb < 1 ? 1 : pb);
}

static int code_of_pageblock(uint8_t max_order, uint8_t pageblock_order)
{
	for (int code = 0; code < 4; code++)
		if (fz_pageblock_order_of(max_order, code) == pageblock_order)
			return code;
	return -1;
}

void fz_machine_decode(const uint8_t h[FZ_HEADER_BYTES], struct fz_machine *m)
{
	memset(m, 0, sizeof(*m));
	m->nr_nodes = (uint8_t)((h[0] & 3) + 1);
	m->nr_cpus = (uint8_t)(((h[0] >> 2) & 3) + 1);
	/* Poisoning fills all memory at creation and at every free: dear,
	 * so it takes two header bits and a smaller machine. */
	m->poison = (h[0] & 0x10) && (h[3] & 0x10);
	m->no_mobility = h[0] & 0x20;
	m->cma = h[0] & 0x40;
	m->hole = h[0] & 0x80;
	m->max_order = (uint8_t)(10 - (h[1] & 7));
	m->pageblock_order = fz_pageblock_order_of(m->max_order, (h[1] >> 3) & 3);
	m->unit = fz_unit_pages(m->max_order, (h[1] >> 5) & 3);
	m->ring = h[1] & 0x80;
	m->skew = h[2] & 7;
	m->min_free = (h[2] >> 3) & 7;
	m->pcp_fraction = (h[2] >> 6) & 3;
	m->wsf = h[3] & 3;
	m->no_boost = h[3] & 4;
	m->cpus_on_node0 = h[3] & 8;
	for (int n = 0; n < FZ_MAX_NODES; n++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			m->zone_units[n][z] = class_units[(h[4 + n] >> (2 * z)) & 3];
	machine_normalise(m);
}

void fz_machine_encode(const struct fz_machine *m, uint8_t h[FZ_HEADER_BYTES])
{
	int pb_code = code_of_pageblock(m->max_order, m->pageblock_order);
	int unit = code_of_unit(m->max_order, m->unit);

	memset(h, 0, FZ_HEADER_BYTES);
	h[0] = (uint8_t)(((m->nr_nodes - 1) & 3) | (((m->nr_cpus - 1) & 3) << 2) | (m->poison ? 0x10 : 0) |
			 (m->no_mobility ? 0x20 : 0) | (m->cma ? 0x40 : 0) | (m->hole ? 0x80 : 0));
	h[1] = (uint8_t)(((10 - m->max_order) & 7) | ((pb_code < 0 ? 0 : pb_code) << 3) | ((unit < 0 ? 0 : unit) << 5) |
			 (m->ring ? 0x80 : 0));
	h[2] = (uint8_t)((m->skew & 7) | ((m->min_free & 7) << 3) | ((m->pcp_fraction & 3) << 6));
	h[3] = (uint8_t)((m->wsf & 3) | (m->no_boost ? 4 : 0) | (m->cpus_on_node0 ? 8 : 0) | (m->poison ? 0x10 : 0));
	for (int n = 0; n < FZ_MAX_NODES; n++) {
		uint8_t b = 0;
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			int c = class_of_units(m->zone_units[n][z]);
			b |= (uint8_t)((c < 0 ? 0 : c) << (2 * z));
		}
		h[4 + n] = b;
	}
}

bool fz_machine_valid(const struct fz_machine *m)
{
	uint8_t h[FZ_HEADER_BYTES];
	struct fz_machine back;

	if (m->nr_nodes < 1 || m->nr_nodes > FZ_MAX_NODES || m->nr_cpus < 1 || m->nr_cpus > FZ_MAX_CPUS ||
	    m->max_order < 3 || m->max_order > 10 || code_of_pageblock(m->max_order, m->pageblock_order) < 0 ||
	    code_of_unit(m->max_order, m->unit) < 0 || m->skew > 7 || m->min_free > 7 ||
	    m->pcp_fraction > 3 || m->wsf > 3)
		return false;
	for (int n = 0; n < FZ_MAX_NODES; n++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			if (class_of_units(m->zone_units[n][z]) < 0)
				return false;
	fz_machine_encode(m, h);
	fz_machine_decode(h, &back);
	return memcmp(&back, m, sizeof(back)) == 0;
}

void fz_machine_build(const struct fz_machine *m, struct buddy_topology *t, struct buddy_options *o)
{
	uint64_t pfn = 0, best_pages = 0;
	int best_n = -1, best_z = -1, last_n = -1, last_z = -1;

	memset(t, 0, sizeof(*t));
	t->nr_nodes = m->nr_nodes;
	t->nr_cpus = m->nr_cpus;
	for (int c = 0; c < m->nr_cpus; c++)
		t->cpu_to_node[c] = m->cpus_on_node0 ? 0 : c % m->nr_nodes;
	for (int i = 0; i < m->nr_nodes; i++)
		for (int j = 0; j < m->nr_nodes; j++) {
			int hops = i > j ? i - j : j - i;
			t->distance[i][j] = (uint8_t)(i == j ? BUDDY_LOCAL_DISTANCE
						     : m->ring ? BUDDY_LOCAL_DISTANCE + 10 * hops
							       : BUDDY_REMOTE_DISTANCE);
		}
	for (int n = 0; n < m->nr_nodes; n++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			uint64_t pages = zone_pages(m, n, z);
			if (!pages)
				continue;
			t->zones[n][z].start_pfn = pfn;
			t->zones[n][z].end_pfn = pfn + pages;
			pfn += pages;
			if (pages > best_pages) {
				best_pages = pages;
				best_n = n;
				best_z = z;
			}
			last_n = n;
			last_z = z;
		}
	}

	buddy_options_init(o);
	o->max_order = m->max_order;
	o->pageblock_order = m->pageblock_order;
	o->backing = BUDDY_BACKING_MMAP;
	o->poison = m->poison;
	o->no_mobility_grouping = m->no_mobility;
	o->min_free_kbytes = m->min_free ? 1L << (m->min_free + 4) : 0;
	o->percpu_pagelist_high_fraction = fz_pcp_fraction_value(m->pcp_fraction);
	o->watermark_scale_factor = fz_wsf_value(m->wsf);
	if (m->no_boost)
		o->watermark_boost_factor = 0;

	/* The hole sits in the first half of the largest zone and the CMA
	 * area at the end of the last zone, past the hole if they share it. */
	if (m->hole && best_n >= 0) {
		const struct buddy_pfn_range *r = &t->zones[best_n][best_z];
		uint64_t size = r->end_pfn - r->start_pfn, len = size / 4 < 64 ? size / 4 : 64;
		uint64_t start = (r->start_pfn + size / 4) & ~15ULL;
		if (len && start > r->start_pfn && start + len <= r->start_pfn + size / 2) {
			t->holes[0] = (struct buddy_pfn_range){ start, start + len };
			t->nr_holes = 1;
		}
	}
	if (m->cma && last_n >= 0) {
		const struct buddy_pfn_range *r = &t->zones[last_n][last_z];
		uint64_t pb = 1ULL << m->pageblock_order;
		uint64_t low = (r->start_pfn + pb - 1) & ~(pb - 1), end = r->end_pfn & ~(pb - 1);
		if (t->nr_holes && t->holes[0].start_pfn >= r->start_pfn && t->holes[0].end_pfn <= r->end_pfn &&
		    t->holes[0].end_pfn > low)
			low = t->holes[0].end_pfn;
		for (uint64_t blocks = 2; blocks >= 1; blocks--) {
			if (end >= blocks * pb && end - blocks * pb >= low) {
				t->cma[0] = (struct buddy_pfn_range){ end - blocks * pb, end };
				t->nr_cma = 1;
				break;
			}
		}
	}
}

/* ---- the static view of handles ----
 * Which handles a reference may name depends only on the program, never on
 * what the allocator did, so decode, encode and parse agree on it. */
void fz_tracker_init(struct fz_tracker *t)
{
	memset(t, 0, sizeof(*t));
}

void fz_tracker_free(struct fz_tracker *t)
{
	free(t->live);
	free(t->dead);
	memset(t, 0, sizeof(*t));
}

static bool vec_push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		uint32_t *nv = realloc(*v, c * sizeof(*nv));
		if (!nv)
			return false;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return true;
}

static void vec_remove(uint32_t *v, size_t *n, uint32_t x)
{
	for (size_t i = 0; i < *n; i++) {
		if (v[i] == x) {
			memmove(v + i, v + i + 1, (*n - i - 1) * sizeof(*v));
			(*n)--;
			return;
		}
	}
}

bool fz_code_makes_handle(unsigned code)
{
	return code == FZ_ALLOC || code == FZ_BULK || code == FZ_CONTIG || code == FZ_CMA || code == FZ_ISOLATE ||
	       code == FZ_OFFLINE;
}

static bool code_has_memory(unsigned code)
{
	return code == FZ_ALLOC || code == FZ_BULK || code == FZ_CONTIG || code == FZ_CMA;
}

static bool fits(const struct fz_program *p, uint32_t h, enum fz_ref_class cls)
{
	unsigned code = p->ops[h].code;

	switch (cls) {
	case FZ_REF_ANY:
		return true;
	case FZ_REF_MEMORY:
		return code_has_memory(code);
	case FZ_REF_ALLOC:
		return code == FZ_ALLOC;
	}
	return false;
}

size_t fz_tracker_candidates(const struct fz_tracker *t, const struct fz_program *p, enum fz_ref_class cls,
			     bool dead, uint32_t *out, size_t max)
{
	const uint32_t *v = dead ? t->dead : t->live;
	size_t n = dead ? t->ndead : t->nlive, k = 0;

	for (size_t i = 0; i < n; i++)
		if (fits(p, v[i], cls)) {
			if (out && k < max)
				out[k] = v[i];
			k++;
		}
	return k;
}

/* Index counted back from the most recent candidate. */
uint32_t fz_tracker_pick(const struct fz_tracker *t, const struct fz_program *p, enum fz_ref_class cls, bool dead,
			 uint64_t sel)
{
	const uint32_t *v = dead ? t->dead : t->live;
	size_t n = dead ? t->ndead : t->nlive;
	size_t k = fz_tracker_candidates(t, p, cls, dead, NULL, 0);

	if (!k)
		return FZ_NO_REF;
	size_t want = k - 1 - (size_t)(sel % k), seen = 0;
	for (size_t i = 0; i < n; i++)
		if (fits(p, v[i], cls) && seen++ == want)
			return v[i];
	return FZ_NO_REF;
}

/* The selector that picks ref, or -1 when ref is no candidate. */
int64_t fz_tracker_selector(const struct fz_tracker *t, const struct fz_program *p, enum fz_ref_class cls, bool dead,
			    uint32_t ref)
{
	const uint32_t *v = dead ? t->dead : t->live;
	size_t n = dead ? t->ndead : t->nlive;
	size_t k = fz_tracker_candidates(t, p, cls, dead, NULL, 0), pos = 0;

	for (size_t i = 0; i < n; i++) {
		if (!fits(p, v[i], cls))
			continue;
		if (v[i] == ref)
			return (int64_t)(k - 1 - pos);
		pos++;
	}
	return -1;
}

/* Account for op i (already stored in p) after it was decoded or parsed. */
void fz_tracker_step(struct fz_tracker *t, const struct fz_program *p, size_t i)
{
	const struct fz_op *op = &p->ops[i];

	if (fz_code_makes_handle(op->code))
		vec_push(&t->live, &t->nlive, &t->cap_live, (uint32_t)i);
	switch (op->code) {
	case FZ_FREE:
		vec_remove(t->live, &t->nlive, op->ref);
		if (p->ops[op->ref].code == FZ_ALLOC)
			vec_push(&t->dead, &t->ndead, &t->cap_dead, op->ref);
		break;
	case FZ_BADFREE:
		/* An order past MAX_PAGE_ORDER is refused before the block is
		 * looked at: the program still owns it. */
		if (op->order <= p->m.max_order) {
			vec_remove(t->live, &t->nlive, op->ref);
			vec_push(&t->dead, &t->ndead, &t->cap_dead, op->ref);
		}
		break;
	case FZ_TASK:
		t->ntasks++;
		break;
	default:
		break;
	}
}

enum fz_ref_class fz_ref_class_of(unsigned code, bool *dead)
{
	*dead = code == FZ_REFREE;
	switch (code) {
	case FZ_TOUCH:
		return FZ_REF_MEMORY;
	case FZ_BADFREE:
	case FZ_REFREE:
		return FZ_REF_ALLOC;
	default:
		return FZ_REF_ANY;
	}
}

bool fz_code_takes_ref(unsigned code)
{
	return code == FZ_FREE || code == FZ_BADFREE || code == FZ_REFREE || code == FZ_TOUCH;
}

bool fz_code_takes_task(unsigned code)
{
	return code == FZ_TASKSET || code == FZ_TASKEXIT;
}

/* ---- GFP in two bytes ---- */
static const gfp_t gfp_bases[] = {
	GFP_KERNEL,
	GFP_ATOMIC,
	GFP_NOWAIT,
	GFP_NOIO,
	GFP_NOFS,
	GFP_USER,
	GFP_HIGHUSER,
	GFP_HIGHUSER_MOVABLE,
	GFP_TRANSHUGE,
	GFP_TRANSHUGE_LIGHT,
	GFP_KERNEL_ACCOUNT,
	GFP_KERNEL | __GFP_RECLAIMABLE,
	GFP_KERNEL | __GFP_DMA,
	GFP_KERNEL | __GFP_DMA32,
	GFP_ATOMIC | __GFP_DMA,
	GFP_KERNEL | __GFP_NOFAIL,
	GFP_NOWAIT | __GFP_MOVABLE,
	GFP_ATOMIC | __GFP_NOMEMALLOC,
	GFP_USER | __GFP_MOVABLE,
	GFP_KERNEL | __GFP_HIGHMEM | __GFP_MOVABLE,
	0,
};
#define NR_GFP_BASES (sizeof(gfp_bases) / sizeof(gfp_bases[0]))

static const gfp_t gfp_mods[8] = {
	__GFP_ZERO, __GFP_COMP, __GFP_NOWARN, __GFP_THISNODE,
	__GFP_HIGH, __GFP_NORETRY, __GFP_RETRY_MAYFAIL, __GFP_MEMALLOC,
};

static gfp_t mods_value(uint8_t m)
{
	gfp_t g = 0;

	for (int i = 0; i < 8; i++)
		if (m & (1u << i))
			g |= gfp_mods[i];
	return g;
}

/* m with mods_value(m) == g, or -1. */
static int mods_of(gfp_t g)
{
	int m = 0;

	for (int i = 0; i < 8; i++)
		if (g & gfp_mods[i]) {
			m |= 1 << i;
			g &= ~gfp_mods[i];
		}
	return g ? -1 : m;
}

/* ---- reading and writing ---- */
struct rd {
	const uint8_t *p;
	size_t len, pos;
};

static uint8_t rd8(struct rd *r)
{
	uint8_t b = r->pos < r->len ? r->p[r->pos] : 0;
	r->pos++;
	return b;
}

/* LEB128, at most four bytes (28 bits). */
static uint32_t rdv(struct rd *r)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		uint8_t b = rd8(r);
		v |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			break;
	}
	return v;
}

static uint16_t rd16(struct rd *r)
{
	uint16_t lo = rd8(r);
	return (uint16_t)(lo | (uint16_t)rd8(r) << 8);
}

static gfp_t rdgfp(struct rd *r)
{
	unsigned idx = rd8(r) % (NR_GFP_BASES + 1);

	if (idx == NR_GFP_BASES) {
		uint32_t v = 0;
		for (int i = 0; i < 4; i++)
			v |= (uint32_t)rd8(r) << (8 * i);
		return (gfp_t)v;
	}
	return gfp_bases[idx] | mods_value(rd8(r));
}

struct wr {
	uint8_t *buf;
	size_t cap, len;
};

static void wr8(struct wr *w, unsigned b)
{
	if (w->len < w->cap)
		w->buf[w->len] = (uint8_t)b;
	w->len++;
}

static void wrv(struct wr *w, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		uint8_t b = v & 0x7f;
		v >>= 7;
		if (v && i < 3) {
			wr8(w, b | 0x80);
		} else {
			wr8(w, b);
			return;
		}
	}
}

static void wr16(struct wr *w, unsigned v)
{
	wr8(w, v & 0xff);
	wr8(w, (v >> 8) & 0xff);
}

static void wrgfp(struct wr *w, gfp_t g)
{
	for (unsigned i = 0; i < NR_GFP_BASES; i++) {
		if (gfp_bases[i] & ~g)
			continue;
		int m = mods_of(g & ~gfp_bases[i]);
		if (m >= 0) {
			wr8(w, i);
			wr8(w, (unsigned)m);
			return;
		}
	}
	wr8(w, NR_GFP_BASES);
	for (int i = 0; i < 4; i++)
		wr8(w, (g >> (8 * i)) & 0xff);
}

/* ---- the op byte ----
 * The low five bits pick a slot; frequent operations own several slots.  The
 * top three bits are a small field of the operation (its CPU, mostly). */
enum slot_group {
	G_ALLOC, G_FREE, G_NOP, G_BULK, G_TOUCH, G_DRAIN, G_SET, G_CHECK, G_QUERY, G_BADFREE, G_REFREE, G_WILDFREE,
	G_TASK, G_COMPACT, G_RECLAIM, G_OOM, G_CONTIG, G_ISOLATE, G_HOTPLUG, G_POISON, G_FAULT,
};

static const uint8_t slot_group[32] = {
	G_ALLOC, G_ALLOC, G_ALLOC, G_ALLOC, G_ALLOC, G_ALLOC, G_ALLOC, G_ALLOC,
	G_FREE, G_FREE, G_FREE, G_FREE, G_NOP, G_BULK, G_TOUCH, G_TOUCH,
	G_DRAIN, G_SET, G_CHECK, G_QUERY, G_BADFREE, G_REFREE, G_WILDFREE, G_TASK,
	G_COMPACT, G_RECLAIM, G_OOM, G_CONTIG, G_ISOLATE, G_HOTPLUG, G_POISON, G_FAULT,
};

static unsigned slot_of_group(unsigned g)
{
	for (unsigned s = 0; s < 32; s++)
		if (slot_group[s] == g)
			return s;
	return 12;
}

/* Beyond the end of the machine a few pfns stay reachable, for the
 * out-of-range paths. */
uint64_t fz_pfn_limit(const struct fz_machine *m)
{
	return fz_machine_pages(m) + 64;
}

static uint64_t nr_pageblocks(const struct fz_machine *m)
{
	uint64_t pb = 1ULL << m->pageblock_order;
	return (fz_machine_pages(m) + pb - 1) / pb;
}

static void rd_range(struct rd *r, const struct fz_machine *m, struct fz_op *op)
{
	uint8_t f = rd8(r);
	uint32_t a = rdv(r), b = rdv(r);
	uint64_t pb = 1ULL << m->pageblock_order, nb = nr_pageblocks(m), lim = fz_pfn_limit(m);

	if (f & 1) {
		op->pfn = a % lim;
		op->nr = b % (lim + 1);
	} else {
		op->pfn = (a % nb) * pb;
		op->nr = (b % nb + 1) * pb;
	}
}

static void wr_range(struct wr *w, const struct fz_machine *m, const struct fz_op *op)
{
	uint64_t pb = 1ULL << m->pageblock_order, nb = nr_pageblocks(m);

	if (op->pfn % pb == 0 && op->nr % pb == 0 && op->nr >= pb && op->pfn / pb < nb && op->nr / pb <= nb) {
		wr8(w, 0);
		wrv(w, (uint32_t)(op->pfn / pb));
		wrv(w, (uint32_t)(op->nr / pb - 1));
	} else {
		wr8(w, 1);
		wrv(w, (uint32_t)op->pfn);
		wrv(w, (uint32_t)op->nr);
	}
}

static int32_t clamp_adj(int v)
{
	return v < BUDDY_OOM_SCORE_ADJ_MIN ? BUDDY_OOM_SCORE_ADJ_MIN : v > BUDDY_OOM_SCORE_ADJ_MAX ? BUDDY_OOM_SCORE_ADJ_MAX : v;
}

static int8_t node_any(const struct fz_machine *m, uint8_t b)
{
	unsigned n = b % (m->nr_nodes + 1u);
	return n == m->nr_nodes ? -1 : (int8_t)n;
}

static uint8_t enc_node_any(const struct fz_machine *m, int8_t node)
{
	return node < 0 ? m->nr_nodes : (uint8_t)node;
}

static uint64_t node_mask_all(const struct fz_machine *m)
{
	return (1ULL << m->nr_nodes) - 1;
}

/* Decodes one op at r into op; ref and task fields use t.  Returns false
 * when the op degenerates to a nop (no handle or task to name). */
static void decode_op(struct rd *r, const struct fz_program *p, const struct fz_tracker *t, struct fz_op *op)
{
	const struct fz_machine *m = &p->m;
	uint8_t ob = rd8(r), x = ob >> 5, b;
	unsigned group = slot_group[ob & 31];
	uint64_t lim = fz_pfn_limit(m);

	memset(op, 0, sizeof(*op));
	switch (group) {
	case G_ALLOC:
		op->code = FZ_ALLOC;
		op->cpu = (uint8_t)((x & 3) % m->nr_cpus);
		b = rd8(r);
		op->order = (int8_t)((b & 15) % (m->max_order + 2));
		op->node = node_any(m, (uint8_t)(b >> 4));
		op->gfp = rdgfp(r);
		if (x & 4) {
			op->nodemask = rd8(r) & node_mask_all(m);
			b = rd8(r);
			op->task = (uint8_t)(b && t->ntasks ? (b - 1) % t->ntasks + 1 : 0);
			op->sub = (uint8_t)(rd8(r) % FZ_NR_MAP);
		}
		break;
	case G_BULK:
		op->code = FZ_BULK;
		op->cpu = (uint8_t)((x & 3) % m->nr_cpus);
		op->nr = rd8(r) % FZ_MAX_BULK + 1;
		op->node = node_any(m, rd8(r));
		op->gfp = rdgfp(r);
		break;
	case G_FREE:
	case G_BADFREE:
	case G_REFREE:
	case G_TOUCH: {
		op->code = group == G_FREE ? FZ_FREE : group == G_BADFREE ? FZ_BADFREE : group == G_REFREE ? FZ_REFREE
												: FZ_TOUCH;
		if (op->code != FZ_TOUCH)
			op->cpu = (uint8_t)((x & 3) % m->nr_cpus);
		bool dead;
		enum fz_ref_class cls = fz_ref_class_of(op->code, &dead);
		op->ref = fz_tracker_pick(t, p, cls, dead, rdv(r));
		if (op->code == FZ_BADFREE) {
			unsigned o = rd8(r) % (m->max_order + 2u);
			if (op->ref != FZ_NO_REF && (int)o == p->ops[op->ref].order)
				o = (o + 1) % (m->max_order + 2u);
			op->order = (int8_t)o;
		}
		if (op->ref == FZ_NO_REF)
			memset(op, 0, sizeof(*op));
		break;
	}
	case G_NOP:
		break;
	case G_WILDFREE:
		op->code = FZ_WILDFREE;
		op->cpu = (uint8_t)((x & 3) % m->nr_cpus);
		op->pfn = rdv(r) % lim;
		op->order = (int8_t)(rd8(r) % (m->max_order + 2u));
		break;
	case G_DRAIN:
		op->code = FZ_DRAIN;
		b = rd8(r);
		op->sub = (uint8_t)((b & 3) % FZ_NR_DRAIN);
		if (op->sub != FZ_DRAIN_ALL)
			op->cpu = (uint8_t)(((b >> 2) & 3) % m->nr_cpus);
		break;
	case G_SET:
		op->code = FZ_SET;
		op->sub = (uint8_t)(rd8(r) % FZ_NR_SET);
		switch (op->sub) {
		case FZ_SET_MIN_FREE:
		case FZ_SET_WSF:
			op->v[0] = rdv(r);
			break;
		case FZ_SET_PCP:
			op->v[0] = rdv(r);
			op->v[1] = rdv(r);
			break;
		case FZ_SET_LOWMEM:
			for (int i = 0; i < 4; i++)
				op->v[i] = rdv(r);
			break;
		}
		break;
	case G_CHECK:
		/* Full checks are dear: one in 256 op bytes. */
		if (x == 0)
			op->code = FZ_CHECK;
		break;
	case G_QUERY:
		op->code = FZ_QUERY;
		op->sub = (uint8_t)(rd8(r) % FZ_NR_QUERY);
		switch (op->sub) {
		case FZ_Q_WMARK:
			b = rd8(r);
			op->node = (int8_t)((b & 15) % m->nr_nodes);
			op->zone = (uint8_t)((b >> 4) % MAX_NR_ZONES);
			op->order = (int8_t)(rd8(r) % (m->max_order + 1u));
			op->mode = (uint8_t)(rd8(r) % 3);
			op->flags = rd8(r);
			break;
		case FZ_Q_ZONELIST:
			b = rd8(r);
			op->node = (int8_t)((b & 15) % m->nr_nodes);
			op->mode = (b >> 4) & 1;
			break;
		case FZ_Q_FRAG:
			b = rd8(r);
			op->node = (int8_t)((b & 15) % m->nr_nodes);
			op->zone = (uint8_t)((b >> 4) % MAX_NR_ZONES);
			op->order = (int8_t)(rd8(r) % (m->max_order + 1u));
			break;
		default:
			break;
		}
		break;
	case G_TASK:
		b = rd8(r) % 3;
		if (b == 0) {
			op->code = FZ_TASK;
			op->adj = clamp_adj((int16_t)rd16(r));
			op->flags = rd8(r) & 3;
		} else {
			uint8_t s = rd8(r);
			op->code = b == 1 ? FZ_TASKSET : FZ_TASKEXIT;
			if (b == 1) {
				op->adj = clamp_adj((int16_t)rd16(r));
				op->flags = rd8(r) & 3;
			}
			if (!t->ntasks)
				memset(op, 0, sizeof(*op));
			else
				op->task = (uint8_t)(s % t->ntasks + 1);
		}
		break;
	case G_COMPACT:
		op->code = FZ_COMPACT;
		op->sub = (uint8_t)(rd8(r) % FZ_NR_COMPACT);
		if (op->sub == FZ_COMPACT_ZONE) {
			b = rd8(r);
			op->node = (int8_t)((b & 15) % m->nr_nodes);
			op->zone = (uint8_t)((b >> 4) % MAX_NR_ZONES);
			op->order = (int8_t)(rd8(r) % (m->max_order + 2u)) - 1;
			op->mode = (uint8_t)(rd8(r) % 3);
		} else if (op->sub == FZ_COMPACT_NODE) {
			op->node = (int8_t)(rd8(r) % m->nr_nodes);
		}
		break;
	case G_RECLAIM:
		if (rd8(r) % 2 == 0) {
			op->code = FZ_KSWAPD;
			op->node = (int8_t)(rd8(r) % m->nr_nodes);
		} else {
			op->code = FZ_RECLAIM;
			op->node = (int8_t)(rd8(r) % m->nr_nodes);
			op->order = (int8_t)(rd8(r) % (m->max_order + 1u));
			op->gfp = rdgfp(r);
		}
		break;
	case G_OOM:
		op->code = FZ_OOM;
		op->gfp = rdgfp(r);
		op->order = (int8_t)(rd8(r) % (m->max_order + 1u));
		op->nodemask = rd8(r) & node_mask_all(m);
		break;
	case G_CONTIG:
		if (rd8(r) % 2 == 0) {
			op->code = FZ_CONTIG;
			rd_range(r, m, op);
			op->gfp = rdgfp(r);
		} else {
			op->code = FZ_CMA;
			op->zone = rd8(r) % 2; /* the area; 1 does not exist, for the error path */
			op->nr = rdv(r) % 4096;
			op->order = (int8_t)(rd8(r) % (m->max_order + 1u));
		}
		break;
	case G_ISOLATE:
		op->code = FZ_ISOLATE;
		rd_range(r, m, op);
		break;
	case G_HOTPLUG:
		op->code = rd8(r) % 2 == 0 ? FZ_OFFLINE : FZ_ONLINE;
		rd_range(r, m, op);
		break;
	case G_POISON:
		op->code = rd8(r) % 2 == 0 ? FZ_HWPOISON : FZ_UNPOISON;
		op->pfn = rdv(r) % lim;
		break;
	case G_FAULT:
		op->code = FZ_FAULT;
		op->sub = rd8(r) % 2;
		if (op->sub) {
			op->v[0] = rd8(r) % 101;
			op->v[1] = rdv(r);
			op->adj = (int8_t)rd8(r);
			if (op->adj < -1)
				op->adj = -1;
			op->fault[3] = (uint8_t)(rd8(r) % (m->max_order + 1u));
			op->fault[0] = rd8(r) % 101;
			op->fault[1] = rd8(r) % 101;
			op->fault[2] = rd8(r) % 101;
			op->flags = rd8(r) & 3;
			op->v[3] = rdv(r);
		}
		break;
	}
}

void fz_decode(const uint8_t *data, size_t len, struct fz_program *p)
{
	uint8_t hdr[FZ_HEADER_BYTES] = { 0 };
	struct fz_tracker t;
	struct rd r;

	if (len)
		memcpy(hdr, data, len < FZ_HEADER_BYTES ? len : FZ_HEADER_BYTES);
	fz_machine_decode(hdr, &p->m);
	p->nr_ops = 0;
	if (len <= FZ_HEADER_BYTES)
		return;
	r = (struct rd){ data + FZ_HEADER_BYTES, len - FZ_HEADER_BYTES, 0 };
	fz_tracker_init(&t);
	while (r.pos < r.len && p->nr_ops < FZ_MAX_OPS) {
		struct fz_op op;
		decode_op(&r, p, &t, &op);
		if (!fz_program_push(p, &op))
			break;
		fz_tracker_step(&t, p, p->nr_ops - 1);
	}
	fz_tracker_free(&t);
}

static void encode_op(struct wr *w, const struct fz_program *p, const struct fz_tracker *t, const struct fz_op *op)
{
	const struct fz_machine *m = &p->m;

	switch (op->code) {
	case FZ_NOP:
		wr8(w, slot_of_group(G_NOP));
		break;
	case FZ_ALLOC: {
		bool ext = op->nodemask || op->task || op->sub;
		wr8(w, slot_of_group(G_ALLOC) | (unsigned)((op->cpu & 3) | (ext ? 4 : 0)) << 5);
		wr8(w, (unsigned)op->order | (unsigned)enc_node_any(m, op->node) << 4);
		wrgfp(w, op->gfp);
		if (ext) {
			wr8(w, (unsigned)op->nodemask);
			wr8(w, op->task);
			wr8(w, op->sub);
		}
		break;
	}
	case FZ_BULK:
		wr8(w, slot_of_group(G_BULK) | (unsigned)(op->cpu & 3) << 5);
		wr8(w, (unsigned)(op->nr - 1));
		wr8(w, enc_node_any(m, op->node));
		wrgfp(w, op->gfp);
		break;
	case FZ_FREE:
	case FZ_BADFREE:
	case FZ_REFREE:
	case FZ_TOUCH: {
		unsigned g = op->code == FZ_FREE ? G_FREE : op->code == FZ_BADFREE ? G_BADFREE : op->code == FZ_REFREE ? G_REFREE
														       : G_TOUCH;
		bool dead;
		enum fz_ref_class cls = fz_ref_class_of(op->code, &dead);
		int64_t sel = fz_tracker_selector(t, p, cls, dead, op->ref);
		wr8(w, slot_of_group(g) | (unsigned)(op->cpu & 3) << 5);
		wrv(w, sel < 0 ? 0 : (uint32_t)sel);
		if (op->code == FZ_BADFREE)
			wr8(w, (unsigned)op->order);
		break;
	}
	case FZ_WILDFREE:
		wr8(w, slot_of_group(G_WILDFREE) | (unsigned)(op->cpu & 3) << 5);
		wrv(w, (uint32_t)op->pfn);
		wr8(w, (unsigned)op->order);
		break;
	case FZ_DRAIN:
		wr8(w, slot_of_group(G_DRAIN));
		wr8(w, op->sub | (unsigned)op->cpu << 2);
		break;
	case FZ_SET:
		wr8(w, slot_of_group(G_SET));
		wr8(w, op->sub);
		switch (op->sub) {
		case FZ_SET_MIN_FREE:
		case FZ_SET_WSF:
			wrv(w, (uint32_t)op->v[0]);
			break;
		case FZ_SET_PCP:
			wrv(w, (uint32_t)op->v[0]);
			wrv(w, (uint32_t)op->v[1]);
			break;
		case FZ_SET_LOWMEM:
			for (int i = 0; i < 4; i++)
				wrv(w, (uint32_t)op->v[i]);
			break;
		}
		break;
	case FZ_CHECK:
		wr8(w, slot_of_group(G_CHECK));
		break;
	case FZ_QUERY:
		wr8(w, slot_of_group(G_QUERY));
		wr8(w, op->sub);
		switch (op->sub) {
		case FZ_Q_WMARK:
			wr8(w, (unsigned)op->node | (unsigned)op->zone << 4);
			wr8(w, (unsigned)op->order);
			wr8(w, op->mode);
			wr8(w, op->flags);
			break;
		case FZ_Q_ZONELIST:
			wr8(w, (unsigned)op->node | (unsigned)op->mode << 4);
			break;
		case FZ_Q_FRAG:
			wr8(w, (unsigned)op->node | (unsigned)op->zone << 4);
			wr8(w, (unsigned)op->order);
			break;
		}
		break;
	case FZ_TASK:
		wr8(w, slot_of_group(G_TASK));
		wr8(w, 0);
		wr16(w, (uint16_t)(int16_t)op->adj);
		wr8(w, op->flags);
		break;
	case FZ_TASKSET:
		wr8(w, slot_of_group(G_TASK));
		wr8(w, 1);
		wr8(w, (unsigned)(op->task - 1));
		wr16(w, (uint16_t)(int16_t)op->adj);
		wr8(w, op->flags);
		break;
	case FZ_TASKEXIT:
		wr8(w, slot_of_group(G_TASK));
		wr8(w, 2);
		wr8(w, (unsigned)(op->task - 1));
		break;
	case FZ_COMPACT:
		wr8(w, slot_of_group(G_COMPACT));
		wr8(w, op->sub);
		if (op->sub == FZ_COMPACT_ZONE) {
			wr8(w, (unsigned)op->node | (unsigned)op->zone << 4);
			wr8(w, (unsigned)(op->order + 1));
			wr8(w, op->mode);
		} else if (op->sub == FZ_COMPACT_NODE) {
			wr8(w, (unsigned)op->node);
		}
		break;
	case FZ_KSWAPD:
		wr8(w, slot_of_group(G_RECLAIM));
		wr8(w, 0);
		wr8(w, (unsigned)op->node);
		break;
	case FZ_RECLAIM:
		wr8(w, slot_of_group(G_RECLAIM));
		wr8(w, 1);
		wr8(w, (unsigned)op->node);
		wr8(w, (unsigned)op->order);
		wrgfp(w, op->gfp);
		break;
	case FZ_OOM:
		wr8(w, slot_of_group(G_OOM));
		wrgfp(w, op->gfp);
		wr8(w, (unsigned)op->order);
		wr8(w, (unsigned)op->nodemask);
		break;
	case FZ_CONTIG:
		wr8(w, slot_of_group(G_CONTIG));
		wr8(w, 0);
		wr_range(w, m, op);
		wrgfp(w, op->gfp);
		break;
	case FZ_CMA:
		wr8(w, slot_of_group(G_CONTIG));
		wr8(w, 1);
		wr8(w, op->zone);
		wrv(w, (uint32_t)op->nr);
		wr8(w, (unsigned)op->order);
		break;
	case FZ_ISOLATE:
		wr8(w, slot_of_group(G_ISOLATE));
		wr_range(w, m, op);
		break;
	case FZ_OFFLINE:
	case FZ_ONLINE:
		wr8(w, slot_of_group(G_HOTPLUG));
		wr8(w, op->code == FZ_OFFLINE ? 0 : 1);
		wr_range(w, m, op);
		break;
	case FZ_HWPOISON:
	case FZ_UNPOISON:
		wr8(w, slot_of_group(G_POISON));
		wr8(w, op->code == FZ_HWPOISON ? 0 : 1);
		wrv(w, (uint32_t)op->pfn);
		break;
	case FZ_FAULT:
		wr8(w, slot_of_group(G_FAULT));
		wr8(w, op->sub);
		if (op->sub) {
			wr8(w, (unsigned)op->v[0]);
			wrv(w, (uint32_t)op->v[1]);
			wr8(w, (uint8_t)(int8_t)op->adj);
			wr8(w, op->fault[3]);
			wr8(w, op->fault[0]);
			wr8(w, op->fault[1]);
			wr8(w, op->fault[2]);
			wr8(w, op->flags);
			wrv(w, (uint32_t)op->v[3]);
		}
		break;
	}
}

size_t fz_encode(const struct fz_program *p, uint8_t *buf, size_t cap)
{
	struct wr w = { buf, buf ? cap : 0, 0 };
	uint8_t hdr[FZ_HEADER_BYTES];
	struct fz_tracker t;

	fz_machine_encode(&p->m, hdr);
	for (int i = 0; i < FZ_HEADER_BYTES; i++)
		wr8(&w, hdr[i]);
	fz_tracker_init(&t);
	for (size_t i = 0; i < p->nr_ops; i++) {
		encode_op(&w, p, &t, &p->ops[i]);
		fz_tracker_step(&t, p, i);
	}
	fz_tracker_free(&t);
	return w.len;
}

/* Value limits the text parser enforces so that every parsed op encodes. */
uint64_t fz_varint_max(void)
{
	return (1ULL << 28) - 1;
}
