/* The invariant checker: every rule of docs/ACCOUNTING.md, checked against
 * the lists, the counters and (in the full scope) every page record.
 *
 * The zone scope is meant to run after every operation of a fuzzer, so it
 * touches only list nodes, counters and pageblock flags: O(free blocks + pcp
 * blocks + pageblocks), plus sorting.  Only BUDDY_CHECK_ALL reads every page
 * record of a zone span.
 *
 * The structures checked may be corrupt.  A list node pointer is only
 * followed once it is known to be the list head or a page record of
 * sys->mem_map, and every list walk runs Brent's cycle detection, so a
 * corrupt list ends the walk of that list with a report, never a crash or a
 * hang.  Checks whose inputs came from a list that could not be walked to
 * its end are skipped: they would only repeat the list-corrupt report.
 *
 * The full scope also checks the slow path's states (docs/ACCOUNTING.md):
 * offline and poisoned pages, isolated pageblocks, blocks held by
 * compaction and migration, the per-node LRU lists, and each task's rss.
 * Owner fields (mapping, owner) have no lock of their own outside the LRU,
 * so the owner checks are exact only when no allocation or free with a
 * mapping runs meanwhile: at the quiescent points the full scope is made
 * for, or from inside an owner callback of the only thread at work. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolation.h"

enum invariant_id {
	INV_LIST_CORRUPT,
	INV_BLOCK_MISALIGNED,
	INV_BLOCK_OUTSIDE_ZONE,
	INV_BLOCK_BAD_ORDER,
	INV_BUDDY_FLAGS,
	INV_BUDDY_UNMERGED,
	INV_FREELIST_MT_MISMATCH,
	INV_NR_FREE_MISMATCH,
	INV_FREE_COUNT_MISMATCH,
	INV_PAGE_DOUBLE_LISTED,
	INV_PCP_COUNT_MISMATCH,
	INV_PCP_FLAGS,
	INV_PCP_OVER_HIGH,
	INV_PAGE_CONSERVATION,
	INV_HIGHATOMIC_COUNT,
	INV_CMA_COUNT,
	INV_ZONE_MISMATCH,
	INV_PAGE_UNACCOUNTED,
	INV_STRAY_FLAGS,
	INV_COMPOUND_TAIL,
	INV_ALLOC_REFCOUNT,
	INV_ALLOCATED_COUNT_MISMATCH,
	INV_HELD_COUNT_MISMATCH,
	INV_PRESENT_MISMATCH,
	INV_OFFLINE_COUNT,     /* the slow path's states, full scope */
	INV_HWPOISON_COUNT,
	INV_ISOLATE_STRADDLE,
	INV_LRU_CORRUPT,
	INV_OWNER_ACCOUNTING,
	INV_ISOLATED_FREE_COUNT,
	INV_COMPACTION_HELD,
	NR_INVARIANTS
};

/* The names are part of the interface (fuzz corpora and CI logs grep for
 * them): never rename one, only add. */
static const struct buddy_invariant invariants[NR_INVARIANTS] = {
	[INV_LIST_CORRUPT] = { "list-corrupt",
		"a free or pcp list is broken: a link leaves the page records, next->prev does not lead back, or the list cycles" },
	[INV_BLOCK_MISALIGNED] = { "block-misaligned",
		"the head pfn of a free, pcp, allocated or quarantined block is not aligned to 2^order" },
	[INV_BLOCK_OUTSIDE_ZONE] = { "block-outside-zone",
		"a block reaches outside the span of the zone that holds it, or covers a pfn of a hole" },
	[INV_BLOCK_BAD_ORDER] = { "block-bad-order",
		"a free block above MAX_PAGE_ORDER, a pcp block of an order the pcp cannot hold, or an allocated block above MAX_PAGE_ORDER" },
	[INV_BUDDY_FLAGS] = { "buddy-flags",
		"a block on a free list lacks PG_buddy, records another order, or carries any flag besides PG_present and PG_buddy" },
	[INV_BUDDY_UNMERGED] = { "buddy-unmerged",
		"a free block and its buddy are free at the same order in the same zone where __free_one_page would have merged them" },
	[INV_FREELIST_MT_MISMATCH] = { "freelist-mt-mismatch",
		"a free block sits on the list of a type other than its pageblock's, or spans pageblocks of different types" },
	[INV_NR_FREE_MISMATCH] = { "nr-free-mismatch",
		"free_area[order].nr_free or nr_free_mt[type] differs from the blocks on the free lists" },
	[INV_FREE_COUNT_MISMATCH] = { "free-count-mismatch",
		"free_pages_mt[type], NR_FREE_PAGES, NR_FREE_CMA_PAGES or nr_free_highatomic differs from the pages on the free lists" },
	[INV_PAGE_DOUBLE_LISTED] = { "page-double-listed",
		"a page belongs to two blocks: overlapping free blocks, a free block overlapping a pcp block, or (full check) any block overlapping an allocated, quarantined, isolated, offline or poisoned one, or a head in two states" },
	[INV_PCP_COUNT_MISMATCH] = { "pcp-count-mismatch",
		"pcp->count or pcp->list_pages[] differs from the pages on that CPU's lists, or NR_ZONE_PCP from their sum over CPUs" },
	[INV_PCP_FLAGS] = { "pcp-flags",
		"a pcp block lacks PG_pcp, names another CPU, carries another state flag, or has an order or cached type that does not belong on its list" },
	[INV_PCP_OVER_HIGH] = { "pcp-over-high",
		"pcp->count is above what the drain at high and the refill sizes allow: max(high, high_max) plus one refill of every list" },
	[INV_PAGE_CONSERVATION] = { "page-conservation",
		"free-list pages + NR_ZONE_PCP + NR_ZONE_ALLOCATED + NR_ZONE_QUARANTINED + NR_ZONE_ISOLATED + NR_ZONE_HWPOISON differ from present_pages, or present_pages + NR_ZONE_OFFLINE from the pages present at creation" },
	[INV_HIGHATOMIC_COUNT] = { "highatomic-count",
		"nr_reserved_highatomic differs from the zone's HIGHATOMIC pageblocks times pageblock_nr_pages, or a HIGHATOMIC pageblock straddles the zone edge" },
	[INV_CMA_COUNT] = { "cma-count",
		"cma_pages differs from the zone's CMA pageblocks (isolated ones of CMA areas included) times pageblock_nr_pages" },
	[INV_ZONE_MISMATCH] = { "zone-mismatch",
		"a page's nid/zid differ from the zone whose span holds it" },
	[INV_PAGE_UNACCOUNTED] = { "page-unaccounted",
		"(full check) a present pfn belongs to no block: not free, on a pcp list, allocated, quarantined, isolated, offline or poisoned" },
	[INV_STRAY_FLAGS] = { "stray-flags",
		"(full check) a flag where it does not belong: PG_buddy off the free lists, PG_pcp off the pcp lists, PG_head off an allocated head, owner flags on a tail, a poisoned page in a free block, any flag on a hole" },
	[INV_COMPOUND_TAIL] = { "compound-tail",
		"(full check) a tail of a compound allocation lacks PG_tail or has a wrong head_offset, or PG_tail is set outside a compound block" },
	[INV_ALLOC_REFCOUNT] = { "alloc-refcount",
		"(full check) an allocated head has a refcount below 1" },
	[INV_ALLOCATED_COUNT_MISMATCH] = { "allocated-count-mismatch",
		"(full check) NR_ZONE_ALLOCATED differs from the pages of the allocated blocks the page walk finds" },
	[INV_HELD_COUNT_MISMATCH] = { "held-count-mismatch",
		"(full check) NR_ZONE_QUARANTINED, NR_ZONE_OFFLINE or NR_ZONE_HWPOISON differs from the pages the page walk finds in that state (NR_ZONE_ISOLATED: isolated-free-count)" },
	[INV_PRESENT_MISMATCH] = { "present-mismatch",
		"(full check) PG_present disagrees with the topology's holes, or the present online pfns of a span differ from present_pages" },
	[INV_OFFLINE_COUNT] = { "offline-count",
		"(full check) offline pages do not fill whole pageblocks, or an offline pageblock is not MIGRATE_ISOLATE (offlining works in isolated pageblocks)" },
	[INV_HWPOISON_COUNT] = { "hwpoison-count",
		"(full check) more poisoned pages sit inside allocated blocks than the free path's poisoned_in_use counts: a free would let one into the buddy" },
	[INV_ISOLATE_STRADDLE] = { "isolate-straddle",
		"(full check) a free, allocated, quarantined or held block spans an isolated pageblock and one of another type" },
	[INV_LRU_CORRUPT] = { "lru-corrupt",
		"(full check) an LRU list is broken, holds a page that is not an allocated or quarantined head with PG_lru, a mapping and the list's PG_active/PG_mapped_file of its node, nr_pages[] or NR_ZONE_LRU_FILE/ANON differ from the lists, or a PG_lru block is on no list" },
	[INV_OWNER_ACCOUNTING] = { "owner-accounting",
		"(full check) a task's rss differs from the pages of the allocated and quarantined blocks it owns (a migration source lends its charge to the target), a block names an unused task or an owner without a mapping, or a free block keeps an owner" },
	[INV_ISOLATED_FREE_COUNT] = { "isolated-free-count",
		"(full check) NR_ZONE_ISOLATED differs from the pages of the free blocks held isolated (head PG_isolated without PG_allocated)" },
	[INV_COMPACTION_HELD] = { "compaction-held",
		"(full check) a block in a state compaction and migration never leave: PG_locked off an isolated allocated head, PG_isolated with PG_lru, or a held free block with an owner, owner flags or compound tails" },
};

size_t buddy_invariants(const struct buddy_invariant **list)
{
	if (list)
		*list = invariants;
	return NR_INVARIANTS;
}

/* Flags that put a page in a state; at most one may be set on a head. */
#define STATE_FLAGS                                                                                       \
	(PAGE_FLAG(PG_buddy) | PAGE_FLAG(PG_pcp) | PAGE_FLAG(PG_allocated) | PAGE_FLAG(PG_quarantined) |  \
	 PAGE_FLAG(PG_offline) | PAGE_FLAG(PG_isolated) | PAGE_FLAG(PG_hwpoison))
/* A head on a free or pcp list carries PG_present and its own flag, nothing
 * else: page_clear_allocated and the owner's free clear the rest. */
#define LISTED_FORBIDDEN (~PAGE_FLAG(PG_present))

enum blk_kind { BLK_FREE, BLK_PCP };

/* A block found on a list. */
struct blk {
	uint64_t pfn;
	uint8_t order;
	uint8_t kind;
	uint8_t mt;      /* free: the list's type; pcp: the list index */
	bool outside;    /* reaches outside the zone or into a hole */
	int cpu;
};

struct checker {
	struct buddy_system *sys;
	struct buddy_check_result *res;
	size_t found;
	struct zone *zone;
	int nr_holes;                              /* holes that meet the zone span, sorted */
	struct buddy_pfn_range holes[BUDDY_MAX_HOLES];
	struct blk *blk;
	size_t nr_blk, cap_blk;
	bool blk_lost;   /* out of memory: the overlap and merge checks are skipped */
	bool corrupt;    /* some list of this zone could not be walked to its end */
	bool local;      /* BUDDY_CHECK_TOUCHED: blocks are judged where they lie, not collected */
	int held_cpu;    /* local: the one CPU whose pcp lock is held, -1 for all */
	bool zone_held;  /* local: zone->lock is held */
	int nid;         /* the node a report names when no zone is set (the LRU pass) */
	/* Full scope only. */
	uint64_t *lru_pfns;       /* heads on the node's LRU lists inside the zone, sorted */
	size_t nr_lru, cap_lru;
	bool lru_known;           /* lru_pfns holds every one: membership can be judged */
	struct task_snap *tasks;  /* NULL: the owner checks are skipped (no memory) */
	long poisoned_in_allocated;
};

/* A task as the full scope found it at its start, and the pages of the
 * blocks the page walk finds charged to it. */
struct task_snap {
	bool used, oom_killed;
	long rss, found;
};

static const char *zone_label(int zone)
{
	return zone >= 0 && zone < MAX_NR_ZONES ? buddy_zone_name((enum zone_type)zone) : "?";
}

static const char *mt_label(int mt)
{
	return mt >= 0 && mt < MIGRATE_TYPES ? buddy_migratetype_name(mt) : "?";
}

static void report(struct checker *c, enum invariant_id id, int cpu, uint64_t pfn, int order, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void report(struct checker *c, enum invariant_id id, int cpu, uint64_t pfn, int order, const char *fmt, ...)
{
	size_t slot = c->found++;

	if (!c->res || !c->res->v || slot >= c->res->capacity)
		return;
	struct buddy_violation *v = &c->res->v[slot];
	va_list ap;

	v->name = invariants[id].name;
	v->nid = c->zone ? c->zone->nid : c->nid;
	v->zone = c->zone ? (int)c->zone->zid : -1;
	v->cpu = cpu;
	v->pfn = pfn;
	v->order = order;
	va_start(ap, fmt);
	vsnprintf(v->message, sizeof(v->message), fmt, ap);
	va_end(ap);
}

static void add_blk(struct checker *c, const struct blk *b)
{
	if (c->blk_lost || c->local)
		return;
	if (c->nr_blk == c->cap_blk) {
		size_t cap = c->cap_blk ? c->cap_blk * 2 : 256;
		struct blk *n = realloc(c->blk, cap * sizeof(*n));
		if (!n) {
			c->blk_lost = true;
			return;
		}
		c->blk = n;
		c->cap_blk = cap;
	}
	c->blk[c->nr_blk++] = *b;
}

/* ---- zone geometry ---- */
static int cmp_range(const void *a, const void *b)
{
	const struct buddy_pfn_range *x = a, *y = b;

	return x->start_pfn < y->start_pfn ? -1 : x->start_pfn > y->start_pfn;
}

static uint64_t zone_end(const struct zone *zone)
{
	return zone->zone_start_pfn + zone->spanned_pages;
}

static void set_zone(struct checker *c, struct zone *zone)
{
	const struct buddy_topology *topo = &c->sys->topo;
	uint64_t start = zone->zone_start_pfn, end = zone_end(zone);

	c->zone = zone;
	c->nr_holes = 0;
	c->nr_blk = 0;
	c->blk_lost = false;
	c->corrupt = false;
	for (int h = 0; h < topo->nr_holes && h < BUDDY_MAX_HOLES; h++) {
		uint64_t s = topo->holes[h].start_pfn, e = topo->holes[h].end_pfn;
		if (s < end && e > start && s < e)
			c->holes[c->nr_holes++] = topo->holes[h];
	}
	qsort(c->holes, (size_t)c->nr_holes, sizeof(c->holes[0]), cmp_range);
}

/* Does [s, e) leave the zone span or meet a hole?  *bad gets the first
 * offending pfn. */
static bool range_outside(const struct checker *c, uint64_t s, uint64_t e, uint64_t *bad)
{
	const struct zone *zone = c->zone;

	if (s < zone->zone_start_pfn || e > zone_end(zone) || e <= s) {
		*bad = s < zone->zone_start_pfn || e <= s ? s : zone_end(zone);
		return true;
	}
	for (int h = 0; h < c->nr_holes; h++) {
		if (c->holes[h].start_pfn < e && c->holes[h].end_pfn > s) {
			*bad = c->holes[h].start_pfn > s ? c->holes[h].start_pfn : s;
			return true;
		}
	}
	return false;
}

/* The geometry checks every block gets, listed or not.  Returns true when
 * the block lies wholly in the zone (so its pageblock flags may be read). */
static bool check_block_geometry(struct checker *c, const char *what, int cpu, uint64_t pfn, unsigned int order)
{
	uint64_t size = 1ULL << order, bad;

	if (pfn & (size - 1))
		report(c, INV_BLOCK_MISALIGNED, cpu, pfn, (int)order, "%s block is not aligned to %" PRIu64 " pages",
		       what, size);
	if (range_outside(c, pfn, pfn + size, &bad)) {
		bool hole = bad >= c->zone->zone_start_pfn && bad < zone_end(c->zone);
		report(c, INV_BLOCK_OUTSIDE_ZONE, cpu, pfn, (int)order,
		       "%s block [0x%" PRIx64 ", 0x%" PRIx64 ") %s at pfn 0x%" PRIx64 " (zone span [0x%" PRIx64
		       ", 0x%" PRIx64 "))",
		       what, pfn, pfn + size, hole ? "covers a hole" : "leaves the zone", bad,
		       c->zone->zone_start_pfn, zone_end(c->zone));
		return false;
	}
	return true;
}

static void check_page_zone(struct checker *c, const struct page *page, int cpu, uint64_t pfn, int order)
{
	if (page->nid != c->zone->nid || page->zid != (uint8_t)c->zone->zid)
		report(c, INV_ZONE_MISMATCH, cpu, pfn, order, "page says node %u zone %s", page->nid,
		       zone_label(page->zid));
}

/* ---- list walking ---- */
/* Is n the address of the lru member of some page record? */
static bool node_is_page(const struct buddy_system *sys, const struct list_head *n)
{
	uintptr_t base = (uintptr_t)sys->mem_map + offsetof(struct page, lru), p = (uintptr_t)n;

	if (!sys->mem_map || p < base)
		return false;
	uintptr_t off = p - base;
	return off % sizeof(struct page) == 0 && off / sizeof(struct page) < sys->max_pfn;
}

enum walk_kind { WALK_FREE, WALK_PCP, WALK_LRU };

static const char *const lru_label[NR_LRU_LISTS] = {
	[LRU_INACTIVE_ANON] = "inactive_anon",
	[LRU_ACTIVE_ANON] = "active_anon",
	[LRU_INACTIVE_FILE] = "inactive_file",
	[LRU_ACTIVE_FILE] = "active_file",
};

struct list_walk {
	struct list_head *head, *prev, *node, *tortoise;
	uint64_t lam, power, steps;
	bool done, broken;
	int cpu;
	enum walk_kind kind;
	int index, type;  /* free: order and type; pcp: pindex; LRU: the list */
};

static void walk_start(struct list_walk *w, struct list_head *head, int cpu, enum walk_kind kind, int index,
		       int type)
{
	*w = (struct list_walk){ .head = head, .prev = head, .node = head->next, .tortoise = head, .power = 1,
				 .cpu = cpu, .kind = kind, .index = index, .type = type };
}

/* Formatted only for a report: a label per list walked made snprintf the
 * larger part of a zone check. */
static const char *walk_label(const struct list_walk *w, char *buf, size_t len)
{
	switch (w->kind) {
	case WALK_FREE:
		snprintf(buf, len, "free_area[%d].free_list[%s]", w->index, mt_label(w->type));
		break;
	case WALK_PCP:
		snprintf(buf, len, "pcp list %d", w->index);
		break;
	case WALK_LRU:
		snprintf(buf, len, "%s LRU list", w->index >= 0 && w->index < NR_LRU_LISTS ? lru_label[w->index] : "?");
		break;
	}
	return buf;
}

/* The next page of the list, or NULL at its end or where it breaks. */
static struct page *walk_next(struct checker *c, struct list_walk *w)
{
	struct buddy_system *sys = c->sys;
	struct list_head *node = w->node;
	enum invariant_id inv = w->kind == WALK_LRU ? INV_LRU_CORRUPT : INV_LIST_CORRUPT;
	char lb[64];

	if (w->done)
		return NULL;
	if (node == w->head) {
		w->done = true;
		if (w->head->prev != w->prev)
			report(c, inv, w->cpu, UINT64_MAX, -1,
			       "%s: head->prev does not point at the last node", walk_label(w, lb, sizeof(lb)));
		return NULL;
	}
	if (!node_is_page(sys, node)) {
		w->done = w->broken = true;
		if (w->prev == w->head)
			report(c, inv, w->cpu, UINT64_MAX, -1,
			       "%s: head->next %p is neither the head nor a page record", walk_label(w, lb, sizeof(lb)),
			       (void *)node);
		else
			report(c, inv, w->cpu,
			       page_to_pfn(sys, container_of(w->prev, struct page, lru)), -1,
			       "%s: next %p is neither the head nor a page record", walk_label(w, lb, sizeof(lb)),
			       (void *)node);
		return NULL;
	}
	struct page *page = container_of(node, struct page, lru);
	/* Brent: the tortoise jumps to the hare at every power of two, so a
	 * cycle is met within a few laps of it; 3 * max_pfn is a backstop. */
	if (node == w->tortoise || ++w->steps > 3 * sys->max_pfn + 16) {
		w->done = w->broken = true;
		report(c, inv, w->cpu, page_to_pfn(sys, page), -1,
		       "%s: the list cycles without returning to its head", walk_label(w, lb, sizeof(lb)));
		return NULL;
	}
	if (node->prev != w->prev)
		report(c, inv, w->cpu, page_to_pfn(sys, page), -1,
		       "%s: prev does not point at the previous node", walk_label(w, lb, sizeof(lb)));
	if (++w->lam == w->power) {
		w->tortoise = node;
		w->power <<= 1;
		w->lam = 0;
	}
	w->prev = node;
	w->node = node->next;
	return page;
}

static void flag_names(uint32_t flags, char *buf, size_t len)
{
	static const char *const names[] = {
		"present", "buddy", "pcp", "allocated", "head", "tail", "quarantined",
		"offline", "hwpoison", "isolated", "lru", "movable_alloc", "freeing",
		"active", "locked", "mapped_file",
	};
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int bit = 0; bit < 32; bit++) {
		if (!(flags & (1u << bit)))
			continue;
		char num[16];
		const char *name;
		if (bit < sizeof(names) / sizeof(names[0])) {
			name = names[bit];
		} else {
			snprintf(num, sizeof(num), "bit%u", bit);
			name = num;
		}
		int n = snprintf(buf + used, len - used, "%s%s", used ? "|" : "", name);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

/* ---- free lists ---- */
struct free_stats {
	unsigned long blocks[MAX_PAGE_ORDER_LIMIT + 1][MIGRATE_TYPES];
	long pages[MIGRATE_TYPES];
	bool whole[MAX_PAGE_ORDER_LIMIT + 1][MIGRATE_TYPES];
	long total;      /* pages on every free list */
};

static void check_free_block(struct checker *c, struct page *page, unsigned int order, int mt)
{
	struct buddy_system *sys = c->sys;
	uint64_t pfn = page_to_pfn(sys, page);
	uint32_t f = page_flags(page);
	struct blk b = { .pfn = pfn, .order = (uint8_t)order, .kind = BLK_FREE, .mt = (uint8_t)mt, .cpu = -1 };
	char names[160];

	if (order > sys->max_order)
		report(c, INV_BLOCK_BAD_ORDER, -1, pfn, (int)order, "free block above MAX_PAGE_ORDER %u on list of %s",
		       sys->max_order, mt_label(mt));
	if (!(f & PAGE_FLAG(PG_buddy)))
		report(c, INV_BUDDY_FLAGS, -1, pfn, (int)order, "on the %s free list without PG_buddy", mt_label(mt));
	if (page->order != order)
		report(c, INV_BUDDY_FLAGS, -1, pfn, (int)order, "on a free list of order %u but records order %u", order,
		       page->order);
	if (f & (LISTED_FORBIDDEN & ~PAGE_FLAG(PG_buddy))) {
		flag_names(f & (LISTED_FORBIDDEN & ~PAGE_FLAG(PG_buddy)), names, sizeof(names));
		report(c, INV_BUDDY_FLAGS, -1, pfn, (int)order, "free head also carries %s", names);
	}
	b.outside = !check_block_geometry(c, "free", -1, pfn, order);
	if (!b.outside) {
		check_page_zone(c, page, -1, pfn, (int)order);
		int pb_mt = get_pfnblock_migratetype(sys, pfn);
		if (pb_mt != mt)
			report(c, INV_FREELIST_MT_MISMATCH, -1, pfn, (int)order,
			       "on the %s list but its pageblock is %s", mt_label(mt), mt_label(pb_mt));
		if (order > sys->pageblock_order) {
			uint64_t last = (pfn + (1ULL << order) - 1) >> sys->pageblock_order;
			for (uint64_t pb = (pfn >> sys->pageblock_order) + 1; pb <= last; pb++) {
				int other = get_pfnblock_migratetype(sys, pb << sys->pageblock_order);
				if (other != pb_mt) {
					report(c, INV_FREELIST_MT_MISMATCH, -1, pfn, (int)order,
					       "spans pageblocks of types %s and %s (pageblock at 0x%" PRIx64 ")",
					       mt_label(pb_mt), mt_label(other), pb << sys->pageblock_order);
					break;
				}
			}
		}
	}
	add_blk(c, &b);
}

static void check_free_lists(struct checker *c, struct free_stats *st)
{
	struct zone *zone = c->zone;

	memset(st, 0, sizeof(*st));
	for (unsigned int o = 0; o <= MAX_PAGE_ORDER_LIMIT; o++) {
		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			struct list_walk w;
			struct page *page;

			walk_start(&w, &zone->free_area[o].free_list[mt], -1, WALK_FREE, (int)o, mt);
			while ((page = walk_next(c, &w))) {
				check_free_block(c, page, o, mt);
				st->blocks[o][mt]++;
				st->pages[mt] += 1L << o;
				st->total += 1L << o;
			}
			st->whole[o][mt] = !w.broken;
			if (w.broken)
				c->corrupt = true;
		}
	}
}

static void check_free_counters(struct checker *c, const struct free_stats *st)
{
	struct zone *zone = c->zone;
	bool mt_whole[MIGRATE_TYPES];

	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		mt_whole[mt] = true;
	for (unsigned int o = 0; o <= MAX_PAGE_ORDER_LIMIT; o++) {
		const struct free_area *area = &zone->free_area[o];
		unsigned long sum = 0;
		bool whole = true;

		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			sum += st->blocks[o][mt];
			if (!st->whole[o][mt]) {
				whole = mt_whole[mt] = false;
				continue;
			}
			if (area->nr_free_mt[mt] != st->blocks[o][mt])
				report(c, INV_NR_FREE_MISMATCH, -1, UINT64_MAX, (int)o,
				       "nr_free_mt[%s] is %lu, the list holds %lu blocks", mt_label(mt),
				       area->nr_free_mt[mt], st->blocks[o][mt]);
		}
		if (whole && area->nr_free != sum)
			report(c, INV_NR_FREE_MISMATCH, -1, UINT64_MAX, (int)o,
			       "nr_free is %lu, the lists hold %lu blocks", area->nr_free, sum);
	}

	long counted = 0;
	bool counted_whole = true;
	for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
		if (!mt_whole[mt]) {
			if (!is_migrate_isolate(mt))
				counted_whole = false;
			continue;
		}
		long v = atomic_load_explicit(&zone->free_pages_mt[mt], memory_order_relaxed);
		if (v != st->pages[mt])
			report(c, INV_FREE_COUNT_MISMATCH, -1, UINT64_MAX, -1,
			       "free_pages_mt[%s] is %ld, the lists hold %ld pages", mt_label(mt), v, st->pages[mt]);
		if (!is_migrate_isolate(mt))
			counted += st->pages[mt];
	}
	if (counted_whole && zone_page_state(zone, NR_FREE_PAGES) != counted)
		report(c, INV_FREE_COUNT_MISMATCH, -1, UINT64_MAX, -1,
		       "NR_FREE_PAGES is %ld, the lists hold %ld pages outside ISOLATE",
		       zone_page_state(zone, NR_FREE_PAGES), counted);
	if (mt_whole[MIGRATE_CMA] && zone_page_state(zone, NR_FREE_CMA_PAGES) != st->pages[MIGRATE_CMA])
		report(c, INV_FREE_COUNT_MISMATCH, -1, UINT64_MAX, -1,
		       "NR_FREE_CMA_PAGES is %ld, the CMA lists hold %ld pages",
		       zone_page_state(zone, NR_FREE_CMA_PAGES), st->pages[MIGRATE_CMA]);
	long ha = atomic_load_explicit(&zone->nr_free_highatomic, memory_order_relaxed);
	if (mt_whole[MIGRATE_HIGHATOMIC] && ha != st->pages[MIGRATE_HIGHATOMIC])
		report(c, INV_FREE_COUNT_MISMATCH, -1, UINT64_MAX, -1,
		       "nr_free_highatomic is %ld, the HighAtomic lists hold %ld pages", ha,
		       st->pages[MIGRATE_HIGHATOMIC]);
}

/* ---- pcp lists ---- */
/* How far above high a pcp may legitimately be.  count <= high is no
 * invariant of the kernel (mm/page_alloc.c): nr_pcp_alloc refills an empty
 * list without looking at high for orders above 0, pcp->high itself decays
 * below count while the zone is short of memory, and the user may lower it.
 * What does hold: a free that leaves count >= high drains at least one block
 * of the list it just added to (free_pcppages_bulk starts at that list, in
 * pcp.c as in free_frozen_page_commit), so frees never raise a count at or
 * above max(high, high_max).  Only refills do: up to a batch at order 0
 * (capped relative to high) and max(batch >> order, 2) blocks above, and a
 * list is refilled only when empty.  So each list may hold one refill's
 * worth above the limit. */
static long pcp_refill_allowance(const struct buddy_system *sys, const struct per_cpu_pages *pcp)
{
	long batch = pcp->batch > 1 ? pcp->batch : 1, total = 0;

	for (int pindex = 0; pindex < NR_PCP_LISTS; pindex++) {
		unsigned int order = pindex_to_order(sys, pindex);
		long blocks;
		if (order == 0)
			blocks = batch;
		else if (pcp->batch <= 1)
			blocks = 1;
		else
			blocks = (batch >> order) > 2 ? batch >> order : 2;
		total += blocks << order;
	}
	return total;
}

static void check_pcp_block(struct checker *c, struct page *page, int cpu, int pindex)
{
	struct buddy_system *sys = c->sys;
	unsigned int order = pindex_to_order(sys, pindex);
	uint64_t pfn = page_to_pfn(sys, page);
	uint32_t f = page_flags(page);
	struct blk b = { .pfn = pfn, .order = (uint8_t)order, .kind = BLK_PCP, .mt = (uint8_t)pindex, .cpu = cpu };
	char names[160];

	if (!(f & PAGE_FLAG(PG_pcp)))
		report(c, INV_PCP_FLAGS, cpu, pfn, (int)order, "on pcp list %d without PG_pcp", pindex);
	if (f & (LISTED_FORBIDDEN & ~PAGE_FLAG(PG_pcp))) {
		flag_names(f & (LISTED_FORBIDDEN & ~PAGE_FLAG(PG_pcp)), names, sizeof(names));
		report(c, INV_PCP_FLAGS, cpu, pfn, (int)order, "pcp head also carries %s", names);
	}
	if (page->pcp_cpu != cpu)
		report(c, INV_PCP_FLAGS, cpu, pfn, (int)order, "on this CPU's list but records pcp_cpu %u",
		       page->pcp_cpu);
	if (page->order != order)
		report(c, INV_PCP_FLAGS, cpu, pfn, (int)order, "on pcp list %d of order %u but records order %u", pindex,
		       order, page->order);
	if (page->order > sys->max_order || !pcp_allowed_order(sys, page->order))
		report(c, INV_BLOCK_BAD_ORDER, cpu, pfn, page->order, "pcp block of order %u, which no pcp list holds",
		       page->order);
	/* free_unref_page folds HIGHATOMIC and CMA into MOVABLE before it
	 * caches the type, and refills cache the requested type, so a cached
	 * type is always a pcp type, and it picks the list. */
	if (page->pcp_mt >= MIGRATE_PCPTYPES)
		report(c, INV_PCP_FLAGS, cpu, pfn, (int)order, "cached type %s is not a pcp type", mt_label(page->pcp_mt));
	else if (order_to_pindex(sys, page->pcp_mt, order) != pindex)
		report(c, INV_PCP_FLAGS, cpu, pfn, (int)order, "cached type %s belongs on list %d, not %d",
		       mt_label(page->pcp_mt), order_to_pindex(sys, page->pcp_mt, order), pindex);
	b.outside = !check_block_geometry(c, "pcp", cpu, pfn, order);
	if (!b.outside)
		check_page_zone(c, page, cpu, pfn, (int)order);
	add_blk(c, &b);
}

/* One CPU's lists of the current zone.  Returns the pages found; *whole
 * says whether every list was walked to its end. */
static long check_pcp(struct checker *c, int cpu, bool *whole)
{
	struct per_cpu_pages *pcp = &c->zone->pcp[cpu];
	long total = 0;

	*whole = true;
	for (int pindex = 0; pindex < NR_PCP_LISTS; pindex++) {
		struct list_walk w;
		struct page *page;
		long pages = 0;

		walk_start(&w, &pcp->lists[pindex], cpu, WALK_PCP, pindex, -1);
		while ((page = walk_next(c, &w))) {
			check_pcp_block(c, page, cpu, pindex);
			pages += 1L << pindex_to_order(c->sys, pindex);
		}
		total += pages;
		if (w.broken) {
			*whole = false;
			c->corrupt = true;
			continue;
		}
		if (pcp->list_pages[pindex] != pages)
			report(c, INV_PCP_COUNT_MISMATCH, cpu, UINT64_MAX, (int)pindex_to_order(c->sys, pindex),
			       "list_pages[%d] is %d, the list holds %ld pages", pindex, pcp->list_pages[pindex], pages);
	}
	if (*whole && pcp->count != total)
		report(c, INV_PCP_COUNT_MISMATCH, cpu, UINT64_MAX, -1, "count is %d, the lists hold %ld pages",
		       pcp->count, total);
	long limit = (pcp->high > pcp->high_max ? pcp->high : pcp->high_max) + pcp_refill_allowance(c->sys, pcp);
	if (pcp->count > limit)
		report(c, INV_PCP_OVER_HIGH, cpu, UINT64_MAX, -1,
		       "count %d is above %ld (high %d, high_max %d, batch %d)", pcp->count, limit, pcp->high,
		       pcp->high_max, pcp->batch);
	return total;
}

/* ---- overlaps and merging ---- */
static int cmp_blk(const void *a, const void *b)
{
	const struct blk *x = a, *y = b;

	if (x->pfn != y->pfn)
		return x->pfn < y->pfn ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return (int)y->order - (int)x->order;
}

static uint64_t blk_end(const struct blk *b)
{
	return b->pfn + (1ULL << b->order);
}

static void describe_blk(const struct blk *b, char *buf, size_t len)
{
	if (b->kind == BLK_FREE)
		snprintf(buf, len, "free block 0x%" PRIx64 " order %u (%s)", b->pfn, b->order, mt_label(b->mt));
	else
		snprintf(buf, len, "pcp block 0x%" PRIx64 " order %u (cpu %d list %u)", b->pfn, b->order, b->cpu, b->mt);
}

static bool same_blk(const struct blk *a, const struct blk *b)
{
	return a->pfn == b->pfn && a->order == b->order && a->kind == b->kind && a->cpu == b->cpu && a->mt == b->mt;
}

/* Sorts the blocks; reports listed blocks sharing a page. */
static void check_overlaps(struct checker *c)
{
	uint64_t end = 0;
	size_t holder = SIZE_MAX;
	char a[96], b[96];

	if (!c->nr_blk)
		return;
	qsort(c->blk, c->nr_blk, sizeof(c->blk[0]), cmp_blk);
	for (size_t i = 0; i < c->nr_blk; i++) {
		const struct blk *x = &c->blk[i];
		if (holder != SIZE_MAX && x->pfn < end) {
			/* A walk stopped by a cycle may have seen a node twice. */
			if (!(c->corrupt && same_blk(x, &c->blk[holder]))) {
				describe_blk(x, a, sizeof(a));
				describe_blk(&c->blk[holder], b, sizeof(b));
				report(c, INV_PAGE_DOUBLE_LISTED, x->kind == BLK_PCP ? x->cpu : -1, x->pfn, x->order,
				       "%s overlaps %s", a, b);
			}
		}
		if (blk_end(x) > end) {
			end = blk_end(x);
			holder = i;
		}
	}
}

static size_t lower_bound(const struct checker *c, uint64_t pfn)
{
	size_t lo = 0, hi = c->nr_blk;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->blk[mid].pfn < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Would __free_one_page have merged the free block at pfn with its free
 * buddy at bpfn of the same order? */
static bool merge_expected(struct buddy_system *sys, uint64_t pfn, uint64_t bpfn, unsigned int order, bool unreserved)
{
	if (order < sys->pageblock_order)
		return true;
	int a = get_pfnblock_migratetype(sys, pfn), b = get_pfnblock_migratetype(sys, bpfn);
	if (a != b && (!migratetype_is_mergeable(a) || !migratetype_is_mergeable(b)))
		return false;
	return !(unreserved && migratetype_is_mergeable(a) && migratetype_is_mergeable(b));
}

/* __free_one_page merges a block with its buddy when the buddy is free at
 * the same order in the same zone; from pageblock_order up only if the two
 * pageblock types match or both are ordinary (UNMOVABLE, MOVABLE,
 * RECLAIMABLE).  Blocks must be sorted.
 *
 * Merging happens only at free time.  unreserve_highatomic_pageblock()
 * retypes a HIGHATOMIC pageblock with its free pages in place, as the
 * kernel does, so a free pageblock it hands back stays apart from a free
 * ordinary buddy it could not merge with while it was HIGHATOMIC: once any
 * reserve has been released, pageblock-order buddies of ordinary types may
 * legitimately be free side by side. */
static void check_unmerged(struct checker *c)
{
	struct buddy_system *sys = c->sys;
	bool unreserved = buddy_vm_event(sys, BUDDY_HIGHATOMIC_UNRESERVE) != 0;

	for (size_t i = 0; i < c->nr_blk; i++) {
		const struct blk *x = &c->blk[i];
		uint64_t size = 1ULL << x->order, bpfn = x->pfn ^ size;

		if (x->kind != BLK_FREE || x->outside || x->order >= sys->max_order || (x->pfn & (size - 1)) ||
		    bpfn < x->pfn)
			continue;
		for (size_t j = lower_bound(c, bpfn); j < c->nr_blk && c->blk[j].pfn == bpfn; j++) {
			const struct blk *y = &c->blk[j];
			if (y->kind != BLK_FREE || y->outside || y->order != x->order)
				continue;
			if (!merge_expected(sys, x->pfn, bpfn, x->order, unreserved))
				continue;
			report(c, INV_BUDDY_UNMERGED, -1, x->pfn, x->order, "buddy 0x%" PRIx64 " is free at the same order",
			       bpfn);
			break;
		}
	}
}

/* ---- pageblock counters ---- */
/* Reserving a HIGHATOMIC block needs the whole pageblock in the zone
 * (move_freepages_block refuses otherwise) and CMA areas are pageblock
 * aligned inside one zone, so only whole pageblocks count. */
static void check_pageblock_counts(struct checker *c)
{
	struct buddy_system *sys = c->sys;
	struct zone *zone = c->zone;
	uint64_t pbn = sys->pageblock_nr_pages, start = zone->zone_start_pfn, end = zone_end(zone);
	unsigned long highatomic = 0, cma = 0;

	if (!zone->spanned_pages)
		goto compare;
	uint64_t first = (start + pbn - 1) / pbn, last = end / pbn; /* whole pageblocks: [first, last) */
	for (uint64_t pb = first; pb < last; pb++) {
		int mt = get_pfnblock_migratetype(sys, pb * pbn);
		if (mt == MIGRATE_HIGHATOMIC)
			highatomic++;
		else if (mt == MIGRATE_CMA || (mt == MIGRATE_ISOLATE && pfn_in_cma_area(sys, pb * pbn)))
			cma++;
	}
	/* The partial pageblocks at the edges. */
	uint64_t edges[2] = { start / pbn, (end - 1) / pbn };
	for (int e = 0; e < 2; e++) {
		uint64_t pb = edges[e];
		if ((pb >= first && pb < last) || (e == 1 && edges[1] == edges[0]))
			continue;
		if (get_pfnblock_migratetype(sys, pb * pbn) == MIGRATE_HIGHATOMIC)
			report(c, INV_HIGHATOMIC_COUNT, -1, pb * pbn, (int)sys->pageblock_order,
			       "HighAtomic pageblock straddles the zone edge");
	}
compare:;
	unsigned long reserved = atomic_load_explicit(&zone->nr_reserved_highatomic, memory_order_relaxed);
	if (reserved != highatomic * pbn)
		report(c, INV_HIGHATOMIC_COUNT, -1, UINT64_MAX, -1,
		       "nr_reserved_highatomic is %lu, the zone has %lu HighAtomic pageblocks (%lu pages)", reserved,
		       highatomic, highatomic * pbn);
	if (zone->cma_pages != cma * pbn)
		report(c, INV_CMA_COUNT, -1, UINT64_MAX, -1, "cma_pages is %" PRIu64 ", the zone has %lu CMA pageblocks (%lu pages)",
		       zone->cma_pages, cma, cma * pbn);
}

/* ---- the page walk (BUDDY_CHECK_ALL) ---- */
/* Reports runs of pages rather than each page of them. */
struct run {
	uint64_t start, end;
	bool open;
};

static void run_add(struct run *r, uint64_t pfn, bool hit, struct checker *c, enum invariant_id id,
		    const char *what)
{
	if (hit && r->open && r->end == pfn) {
		r->end = pfn + 1;
		return;
	}
	if (r->open && (!hit || r->end != pfn)) {
		report(c, id, -1, r->start, -1, "%s: pfns [0x%" PRIx64 ", 0x%" PRIx64 ")", what, r->start, r->end);
		r->open = false;
	}
	if (hit) {
		r->start = pfn;
		r->end = pfn + 1;
		r->open = true;
	}
}

struct walk_block {
	uint64_t head, end;
	unsigned int order;
	uint32_t flags;  /* of the head */
	const char *what;
};

/* The states a page walk finds by head flags (ACCOUNTING.md).  An
 * allocated block may also be isolated (by a migration or reclaim) or
 * poisoned: it stays allocated.  PG_isolated without PG_allocated is a free
 * block held by compaction; PG_offline and a lone PG_hwpoison are single
 * pages. */
enum walk_state { WS_NONE, WS_ALLOCATED, WS_QUARANTINED, WS_ISOLATED, WS_OFFLINE, WS_HWPOISON, NR_WS };

static const char *const walk_state_names[NR_WS] = {
	"none", "allocated", "quarantined", "isolated", "offline", "poisoned",
};

static enum walk_state walk_state_of(uint32_t f, bool *conflict)
{
	bool a = f & PAGE_FLAG(PG_allocated), q = f & PAGE_FLAG(PG_quarantined), o = f & PAGE_FLAG(PG_offline);
	bool i = (f & PAGE_FLAG(PG_isolated)) && !a;

	*conflict = a + q + o + i > 1;
	if (a)
		return WS_ALLOCATED;
	if (q)
		return WS_QUARANTINED;
	if (i)
		return WS_ISOLATED;
	if (o)
		return WS_OFFLINE;
	if (f & PAGE_FLAG(PG_hwpoison))
		return WS_HWPOISON;
	return WS_NONE;
}

/* ---- the slow path's heads (full scope, inside the page walk) ---- */
/* Flags only an allocated block's owner state gives a head. */
#define OWNER_FLAGS                                                                                       \
	(PAGE_FLAG(PG_lru) | PAGE_FLAG(PG_active) | PAGE_FLAG(PG_mapped_file) | PAGE_FLAG(PG_locked) |     \
	 PAGE_FLAG(PG_movable_alloc) | PAGE_FLAG(PG_head) | PAGE_FLAG(PG_freeing))

static bool lru_listed(const struct checker *c, uint64_t pfn)
{
	size_t lo = 0, hi = c->nr_lru;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->lru_pfns[mid] < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->nr_lru && c->lru_pfns[lo] == pfn;
}

/* A block's owner reference: a mapping, the task charged, the LRU and the
 * isolation and migration marks (owner.c).  Free and pcp heads lose all of
 * it in page_clear_allocated; a held free block never had it. */
static void check_slow_head(struct checker *c, struct page *page, uint64_t pfn, enum walk_state ws, uint32_t f,
			    unsigned int order)
{
	const char *what = walk_state_names[ws];
	char names[160];

	if ((f & PAGE_FLAG(PG_lru)) && c->lru_known && !lru_listed(c, pfn))
		report(c, INV_LRU_CORRUPT, -1, pfn, (int)order, "%s block carries PG_lru but no LRU list of node %d holds it",
		       what, c->zone->nid);
	if (ws == WS_ISOLATED) {
		if (f & OWNER_FLAGS) {
			flag_names(f & OWNER_FLAGS, names, sizeof(names));
			report(c, INV_COMPACTION_HELD, -1, pfn, (int)order, "held free block carries %s", names);
		}
		if (page->mapping || page->owner)
			report(c, INV_COMPACTION_HELD, -1, pfn, (int)order, "held free block keeps %s",
			       page->mapping ? "a mapping" : "an owner task");
		return;
	}
	/* Only migrate_isolated_page locks a block: its source, isolated. */
	if ((f & PAGE_FLAG(PG_locked)) && !(ws == WS_ALLOCATED && (f & PAGE_FLAG(PG_isolated))))
		report(c, INV_COMPACTION_HELD, -1, pfn, (int)order, "%s head carries PG_locked but is not isolated", what);
	/* isolate_allocated_page trades PG_lru for PG_isolated in one step. */
	if ((f & PAGE_FLAG(PG_isolated)) && (f & PAGE_FLAG(PG_lru)))
		report(c, INV_COMPACTION_HELD, -1, pfn, (int)order, "%s head is isolated and on an LRU at once", what);
	/* A bad free quarantines a block without its owner's part of the free:
	 * it stays mapped, charged and on its LRU, like an allocated one. */
	if (ws != WS_ALLOCATED && ws != WS_QUARANTINED)
		return;
	const void *mapping = page->mapping;
	uint32_t owner = page->owner;
	if (owner && !mapping)
		report(c, INV_OWNER_ACCOUNTING, -1, pfn, (int)order, "%s block names task %u but has no mapping", what,
		       owner);
	if (!owner || !mapping || !c->tasks)
		return;
	if (owner > BUDDY_MAX_TASKS || !c->tasks[owner].used)
		report(c, INV_OWNER_ACCOUNTING, -1, pfn, (int)order, "%s block is charged to task %u, which does not exist",
		       what, owner);
	else if (!(f & PAGE_FLAG(PG_locked)))
		/* A locked source and its target carry the same charge while
		 * the owner's migrate callback runs: the target counts. */
		c->tasks[owner].found += 1L << order;
}

/* Walks the zone span.  The listed blocks must be sorted. */
static void check_page_walk(struct checker *c)
{
	struct buddy_system *sys = c->sys;
	struct zone *zone = c->zone;
	uint64_t start = zone->zone_start_pfn, end = zone_end(zone);
	uint64_t list_end = 0, present = 0;
	size_t list_holder = SIZE_MAX, i = 0;
	long pages[NR_WS] = { 0 };
	struct walk_block cur = { .head = UINT64_MAX, .end = 0, .what = "" };
	struct run unaccounted = { 0 }, present_bad = { 0 }, zone_bad = { 0 };
	int hole = 0;
	char names[160], desc[96];

	while (i < c->nr_blk && c->blk[i].pfn < start)
		i++;
	for (uint64_t pfn = start; pfn < end; pfn++) {
		struct page *page = pfn_to_page(sys, pfn);
		uint32_t f = page_flags(page);
		bool free_head = false, pcp_head = false, list_head = false;
		uint64_t prior_list_end = list_end;
		size_t prior_holder = list_holder;

		while (hole < c->nr_holes && c->holes[hole].end_pfn <= pfn)
			hole++;
		bool in_hole = hole < c->nr_holes && c->holes[hole].start_pfn <= pfn;
		bool offline = f & PAGE_FLAG(PG_offline);
		bool has_present = f & PAGE_FLAG(PG_present);
		/* Offlined memory may or may not keep PG_present; it has left
		 * present_pages either way. */
		bool mismatch = in_hole ? has_present : !has_present && !offline;
		run_add(&present_bad, pfn, mismatch, c, INV_PRESENT_MISMATCH,
			in_hole ? "PG_present set on a hole" : "PG_present clear outside the holes");
		bool is_present = has_present && !offline;
		if (is_present)
			present++;

		for (; i < c->nr_blk && c->blk[i].pfn == pfn; i++) {
			const struct blk *b = &c->blk[i];
			list_head = true;
			if (b->kind == BLK_FREE)
				free_head = true;
			else
				pcp_head = true;
			if (pfn < cur.end) {
				describe_blk(b, desc, sizeof(desc));
				report(c, INV_PAGE_DOUBLE_LISTED, b->kind == BLK_PCP ? b->cpu : -1, pfn, b->order,
				       "%s lies inside %s block 0x%" PRIx64 " order %u", desc, cur.what, cur.head, cur.order);
			}
			if (blk_end(b) > list_end) {
				list_end = blk_end(b);
				list_holder = i;
			}
		}
		if (list_head && (page->mapping || page->owner))
			report(c, INV_OWNER_ACCOUNTING, -1, pfn, -1, "%s head keeps %s", free_head ? "free" : "pcp",
			       page->mapping ? "a mapping" : "an owner task");

		bool conflict;
		enum walk_state ws = walk_state_of(f, &conflict);
		if (ws == WS_HWPOISON && pfn < cur.end) {
			ws = WS_NONE; /* a poisoned page of a held block stays with it */
		} else if (ws == WS_HWPOISON && (pfn < prior_list_end || list_head)) {
			if (!list_head) /* a listed head's flags are the zone pass's */
				report(c, INV_STRAY_FLAGS, -1, pfn, -1, "poisoned page inside a free or pcp block");
			ws = WS_NONE;
		}
		if (ws != WS_NONE) {
			unsigned int order = 0;
			if (ws == WS_ALLOCATED || ws == WS_QUARANTINED || ws == WS_ISOLATED) {
				order = page->order;
				if (order > sys->max_order) {
					report(c, INV_BLOCK_BAD_ORDER, -1, pfn, (int)order, "%s block above MAX_PAGE_ORDER %u",
					       walk_state_names[ws], sys->max_order);
					order = 0;
				}
			}
			if (conflict) {
				flag_names(f & STATE_FLAGS, names, sizeof(names));
				report(c, INV_PAGE_DOUBLE_LISTED, -1, pfn, (int)order, "page is in several states: %s", names);
			}
			if (pfn < cur.end)
				report(c, INV_PAGE_DOUBLE_LISTED, -1, pfn, (int)order,
				       "%s head lies inside %s block 0x%" PRIx64 " order %u", walk_state_names[ws], cur.what,
				       cur.head, cur.order);
			if (pfn < prior_list_end || list_head) {
				const struct blk *holder = pfn < prior_list_end ? &c->blk[prior_holder] : &c->blk[i - 1];
				describe_blk(holder, desc, sizeof(desc));
				report(c, INV_PAGE_DOUBLE_LISTED, -1, pfn, (int)order, "%s block overlaps %s",
				       walk_state_names[ws], desc);
			}
			check_block_geometry(c, walk_state_names[ws], -1, pfn, order);
			uint64_t size = 1ULL << order;
			pages[ws] += (long)size;
			if (ws == WS_ALLOCATED && page->refcount < 1)
				report(c, INV_ALLOC_REFCOUNT, -1, pfn, (int)order, "allocated head has refcount %d",
				       page->refcount);
			check_slow_head(c, page, pfn, ws, f, order);
			if (pfn >= cur.end || pfn + size > cur.end)
				cur = (struct walk_block){ .head = pfn, .end = pfn + size, .order = order, .flags = f,
							   .what = walk_state_names[ws] };
		}

		/* Flags that claim a state only the lists or a walk head can give. */
		if ((f & PAGE_FLAG(PG_buddy)) && !free_head)
			report(c, INV_STRAY_FLAGS, -1, pfn, -1, "PG_buddy on a page that heads no free-list block");
		if ((f & PAGE_FLAG(PG_pcp)) && !pcp_head)
			report(c, INV_STRAY_FLAGS, -1, pfn, -1, "PG_pcp on a page that heads no pcp-list block");
		if ((f & PAGE_FLAG(PG_head)) && ws != WS_ALLOCATED && ws != WS_QUARANTINED)
			report(c, INV_STRAY_FLAGS, -1, pfn, -1, "PG_head on a page that heads no allocated block");
		if (in_hole && (f & ~PAGE_FLAG(PG_present))) {
			flag_names(f & ~PAGE_FLAG(PG_present), names, sizeof(names));
			report(c, INV_STRAY_FLAGS, -1, pfn, -1, "pfn without memory carries %s", names);
		}
		bool head_here = list_head || ws != WS_NONE;
		bool in_block = pfn < cur.end || pfn < list_end;
		if (!head_here && in_block) {
			/* A tail carries PG_present, PG_tail of a compound block and
			 * PG_hwpoison at most; state flags were judged above. */
			uint32_t extra = f & ~(PAGE_FLAG(PG_present) | PAGE_FLAG(PG_tail) | PAGE_FLAG(PG_hwpoison) |
					       PAGE_FLAG(PG_head) | STATE_FLAGS);
			if (extra) {
				flag_names(extra, names, sizeof(names));
				report(c, INV_STRAY_FLAGS, -1, pfn, -1, "tail page carries %s", names);
			}
		}

		/* The pages of a held free block came off the free lists as they
		 * are: compaction_free clears a failed target's tails first. */
		if (pfn < cur.end && pfn != cur.head && (f & PAGE_FLAG(PG_tail)) &&
		    (cur.flags & (PAGE_FLAG(PG_isolated) | PAGE_FLAG(PG_allocated))) == PAGE_FLAG(PG_isolated))
			report(c, INV_COMPACTION_HELD, -1, pfn, -1, "tail of held free block 0x%" PRIx64 " carries PG_tail",
			       cur.head);

		/* Compound tails.  A block being freed (PG_freeing) has its tails
		 * cleared before it reaches a list, a migration target
		 * (PG_isolated) gets them set while it is isolated, and a
		 * quarantined block keeps whatever it had: none of them is judged. */
		uint32_t in_flux = PAGE_FLAG(PG_freeing) | PAGE_FLAG(PG_isolated) | PAGE_FLAG(PG_quarantined);
		bool in_walk_tail = pfn < cur.end && pfn != cur.head;
		bool compound = (cur.flags & PAGE_FLAG(PG_allocated)) && (cur.flags & PAGE_FLAG(PG_head));
		if (in_walk_tail && compound && !(cur.flags & in_flux)) {
			if (!(f & PAGE_FLAG(PG_tail)) || page->head_offset != pfn - cur.head)
				report(c, INV_COMPOUND_TAIL, -1, pfn, -1,
				       "tail of compound block 0x%" PRIx64 " order %u has %s, head_offset %u", cur.head,
				       cur.order, (f & PAGE_FLAG(PG_tail)) ? "PG_tail" : "no PG_tail", page->head_offset);
		} else if ((f & PAGE_FLAG(PG_tail)) && !(in_walk_tail && (cur.flags & in_flux))) {
			report(c, INV_COMPOUND_TAIL, -1, pfn, -1, "PG_tail on a page of no compound block");
		}

		run_add(&unaccounted, pfn, is_present && !head_here && !in_block, c, INV_PAGE_UNACCOUNTED,
			"present pages in no block");
		run_add(&zone_bad, pfn, !in_hole && (page->nid != zone->nid || page->zid != (uint8_t)zone->zid), c,
			INV_ZONE_MISMATCH, "pages whose nid/zid name another zone");
	}
	run_add(&present_bad, end, false, c, INV_PRESENT_MISMATCH, "");
	run_add(&unaccounted, end, false, c, INV_PAGE_UNACCOUNTED, "");
	run_add(&zone_bad, end, false, c, INV_ZONE_MISMATCH, "");

	if (present != zone->present_pages)
		report(c, INV_PRESENT_MISMATCH, -1, UINT64_MAX, -1,
		       "the span has %" PRIu64 " present online pages, present_pages is %" PRIu64, present,
		       zone->present_pages);
	if (zone_page_state(zone, NR_ZONE_ALLOCATED) != pages[WS_ALLOCATED])
		report(c, INV_ALLOCATED_COUNT_MISMATCH, -1, UINT64_MAX, -1,
		       "NR_ZONE_ALLOCATED is %ld, the allocated blocks hold %ld pages",
		       zone_page_state(zone, NR_ZONE_ALLOCATED), pages[WS_ALLOCATED]);
	static const struct {
		enum zone_stat_item item;
		enum walk_state ws;
		const char *name;
	} held[] = {
		{ NR_ZONE_QUARANTINED, WS_QUARANTINED, "NR_ZONE_QUARANTINED" },
		{ NR_ZONE_OFFLINE, WS_OFFLINE, "NR_ZONE_OFFLINE" },
		{ NR_ZONE_HWPOISON, WS_HWPOISON, "NR_ZONE_HWPOISON" },
	};
	for (size_t k = 0; k < sizeof(held) / sizeof(held[0]); k++)
		if (zone_page_state(zone, held[k].item) != pages[held[k].ws])
			report(c, INV_HELD_COUNT_MISMATCH, -1, UINT64_MAX, -1, "%s is %ld, the page walk finds %ld pages",
			       held[k].name, zone_page_state(zone, held[k].item), pages[held[k].ws]);
	if (zone_page_state(zone, NR_ZONE_ISOLATED) != pages[WS_ISOLATED])
		report(c, INV_ISOLATED_FREE_COUNT, -1, UINT64_MAX, -1,
		       "NR_ZONE_ISOLATED is %ld, the held free blocks have %ld pages", zone_page_state(zone, NR_ZONE_ISOLATED),
		       pages[WS_ISOLATED]);
}

/* ---- isolation, offline and hwpoison (full scope) ----
 * alloc/page_isolation.c, memory_hotplug.c, memory_failure.c; see
 * docs/ACCOUNTING.md.  These read every page record. */
/* offline-count: offline_pages takes whole pageblocks and leaves them
 * MIGRATE_ISOLATE until online_pages. */
static void check_offline_pageblocks(struct checker *c)
{
	struct buddy_system *sys = c->sys;
	uint64_t pbn = sys->pageblock_nr_pages, start = c->zone->zone_start_pfn, end = zone_end(c->zone);

	for (uint64_t pb = start & ~(pbn - 1); pb < end; pb += pbn) {
		uint64_t s = pb < start ? start : pb, e = pb + pbn > end ? end : pb + pbn, n = 0;
		for (uint64_t pfn = s; pfn < e; pfn++)
			n += page_flag(pfn_to_page(sys, pfn), PG_offline);
		if (!n)
			continue;
		int mt = get_pfnblock_migratetype(sys, pb);
		if (n != pbn)
			report(c, INV_OFFLINE_COUNT, -1, pb, (int)sys->pageblock_order,
			       "%" PRIu64 " of the pageblock's %" PRIu64 " pages are offline", n, pbn);
		else if (!is_migrate_isolate(mt))
			report(c, INV_OFFLINE_COUNT, -1, pb, (int)sys->pageblock_order,
			       "offline pageblock is %s, not Isolate", mt_label(mt));
	}
}

static const char *head_label(uint32_t f)
{
	if (f & PAGE_FLAG(PG_buddy))
		return "free";
	if (f & PAGE_FLAG(PG_pcp))
		return "pcp";
	if (f & PAGE_FLAG(PG_allocated))
		return "allocated";
	return (f & PAGE_FLAG(PG_quarantined)) ? "quarantined" : "held";
}

/* isolate-straddle and hwpoison-count: one walk over the blocks. */
static void check_isolation_states(struct checker *c)
{
	struct buddy_system *sys = c->sys;
	uint64_t pbn = sys->pageblock_nr_pages, end = zone_end(c->zone);
	const uint32_t heads = PAGE_FLAG(PG_buddy) | PAGE_FLAG(PG_pcp) | PAGE_FLAG(PG_allocated) |
			       PAGE_FLAG(PG_quarantined) | PAGE_FLAG(PG_isolated);
	long poisoned_in_allocated = 0;

	check_offline_pageblocks(c);
	for (uint64_t pfn = c->zone->zone_start_pfn; pfn < end;) {
		const struct page *page = pfn_to_page(sys, pfn);
		uint32_t f = page_flags(page);
		if (!(f & heads)) {
			pfn++;
			continue;
		}
		/* A corrupt order is the other invariants' to report. */
		unsigned int order = page->order <= sys->max_order ? page->order : 0;
		uint64_t bend = pfn + (1ULL << order) < end ? pfn + (1ULL << order) : end;
		if (order > sys->pageblock_order) {
			bool iso = false, other = false;
			for (uint64_t pb = pfn; pb < bend; pb += pbn) {
				if (is_migrate_isolate(get_pfnblock_migratetype(sys, pb)))
					iso = true;
				else
					other = true;
			}
			if (iso && other)
				report(c, INV_ISOLATE_STRADDLE, -1, pfn, (int)order,
				       "%s block spans isolated and non-isolated pageblocks",
				       head_label(f));
		}
		if (f & PAGE_FLAG(PG_allocated))
			for (uint64_t p = pfn; p < bend; p++)
				poisoned_in_allocated += page_flag(pfn_to_page(sys, p), PG_hwpoison);
		pfn = bend;
	}
	/* Compared with poisoned_in_use once every zone is summed (full_end). */
	c->poisoned_in_allocated += poisoned_in_allocated;
}

/* ---- scopes ---- */
static void lock_zone_all(struct zone *zone, int nr_cpus)
{
	if (zone->pcp)
		for (int cpu = 0; cpu < nr_cpus; cpu++)
			spin_lock(&zone->pcp[cpu].lock);
	spin_lock(&zone->lock);
}

static void unlock_zone_all(struct zone *zone, int nr_cpus)
{
	spin_unlock(&zone->lock);
	if (zone->pcp)
		for (int cpu = nr_cpus - 1; cpu >= 0; cpu--)
			spin_unlock(&zone->pcp[cpu].lock);
}

/* page-conservation: the pages of every state add up to present_pages
 * (offline pages have left it, so they are not in the sum). */
static void check_present_sum(struct checker *c, long free_total)
{
	struct zone *zone = c->zone;
	long pcp = zone_page_state(zone, NR_ZONE_PCP), alloc = zone_page_state(zone, NR_ZONE_ALLOCATED);
	long quar = zone_page_state(zone, NR_ZONE_QUARANTINED), iso = zone_page_state(zone, NR_ZONE_ISOLATED);
	long poison = zone_page_state(zone, NR_ZONE_HWPOISON);
	long sum = free_total + pcp + alloc + quar + iso + poison;

	if (sum != (long)zone->present_pages)
		report(c, INV_PAGE_CONSERVATION, -1, UINT64_MAX, -1,
		       "free %ld + pcp %ld + allocated %ld + quarantined %ld + isolated %ld + hwpoison %ld = %ld,"
		       " present %" PRIu64,
		       free_total, pcp, alloc, quar, iso, poison, sum, zone->present_pages);
}

/* page-conservation: present + offline stays what was present at creation. */
static void check_offline_sum(struct checker *c)
{
	struct zone *zone = c->zone;
	long offline = zone_page_state(zone, NR_ZONE_OFFLINE);

	if ((long)zone->present_pages + offline != (long)zone->initial_present_pages)
		report(c, INV_PAGE_CONSERVATION, -1, UINT64_MAX, -1,
		       "present %" PRIu64 " + offline %ld differ from the %" PRIu64 " pages present at creation",
		       zone->present_pages, offline, zone->initial_present_pages);
}

/* Everything about one zone; all its locks held. */
static void check_zone_locked(struct checker *c, struct zone *zone, bool walk)
{
	struct free_stats st;
	long pcp_total = 0;
	bool pcp_whole = true;

	set_zone(c, zone);
	check_free_lists(c, &st);
	check_free_counters(c, &st);
	if (zone->pcp) {
		for (int cpu = 0; cpu < c->sys->nr_cpus; cpu++) {
			bool whole;
			pcp_total += check_pcp(c, cpu, &whole);
			pcp_whole &= whole;
		}
	}
	if (pcp_whole && zone_page_state(zone, NR_ZONE_PCP) != pcp_total)
		report(c, INV_PCP_COUNT_MISMATCH, -1, UINT64_MAX, -1, "NR_ZONE_PCP is %ld, the pcp lists hold %ld pages",
		       zone_page_state(zone, NR_ZONE_PCP), pcp_total);
	if (!c->blk_lost) {
		check_overlaps(c);
		if (!c->corrupt)
			check_unmerged(c);
	}
	if (!c->corrupt)
		check_present_sum(c, st.total);
	check_offline_sum(c);
	check_pageblock_counts(c);
	if (walk && !c->blk_lost)
		check_page_walk(c);
	if (walk)
		check_isolation_states(c);
}


/* ---- the incremental check (BUDDY_CHECK_TOUCHED) ----
 * The list helpers log every pfn whose free-list or pcp-list state changed
 * (struct touch_log).  Each logged block that is still listed is judged on
 * its own and against its neighbourhood: its flags, order, geometry and
 * type, the links around it, its buddy, and every block it could overlap
 * (the aligned blocks that contain it, and every page it contains: listed
 * blocks are naturally aligned, so a block sharing a page with it is one or
 * the other).  The counters of a zone or CPU whose log holds anything are
 * compared with each other rather than with a walk.  So the cost follows
 * what the step did, not the size of the zone; a drift that keeps the
 * counters consistent with each other, or a counter changed with no list
 * change, is left to the zone walk (BUDDY_CHECK_ZONE), which callers run
 * at intervals.  A log that overflowed is replaced by that walk. */

/* Can n be dereferenced as a list node of this zone's lists or pages? */
static bool node_known(const struct checker *c, const struct list_head *n)
{
	const struct zone *zone = c->zone;
	uintptr_t p = (uintptr_t)n;

	if (node_is_page(c->sys, n))
		return true;
	if (p >= (uintptr_t)&zone->free_area[0] && p < (uintptr_t)&zone->free_area[MAX_PAGE_ORDER_LIMIT + 1])
		return true;
	return zone->pcp && p >= (uintptr_t)zone->pcp && p < (uintptr_t)(zone->pcp + c->sys->nr_cpus);
}

static void check_links(struct checker *c, struct page *page, int cpu, uint64_t pfn, int order, const char *what)
{
	struct list_head *n = &page->lru;

	if (!n->next || !n->prev) {
		report(c, INV_LIST_CORRUPT, cpu, pfn, order, "%s head is marked listed but is unlinked", what);
		return;
	}
	if (!node_known(c, n->next) || !node_known(c, n->prev)) {
		report(c, INV_LIST_CORRUPT, cpu, pfn, order, "%s head links outside the zone's lists and pages", what);
		return;
	}
	if (n->next->prev != n || n->prev->next != n)
		report(c, INV_LIST_CORRUPT, cpu, pfn, order, "%s head: next->prev or prev->next does not lead back", what);
}

/* The head of a listed block (free or pcp) at pfn, or NULL.  The flags
 * change only under the locks the check holds. */
static struct page *listed_head(struct checker *c, uint64_t pfn, uint32_t *flags)
{
	const struct zone *zone = c->zone;

	if (pfn < zone->zone_start_pfn || pfn >= zone_end(zone))
		return NULL;
	struct page *page = pfn_to_page(c->sys, pfn);
	uint32_t f = page_flags(page);
	if (!(f & (PAGE_FLAG(PG_buddy) | PAGE_FLAG(PG_pcp))))
		return NULL;
	*flags = f;
	return page;
}

static void describe_listed(const struct page *page, uint32_t f, uint64_t pfn, char *buf, size_t len)
{
	if (f & PAGE_FLAG(PG_buddy))
		snprintf(buf, len, "free block 0x%" PRIx64 " order %u (%s)", pfn, (unsigned)page->order,
			 mt_label(page->free_mt));
	else
		snprintf(buf, len, "pcp block 0x%" PRIx64 " order %u (cpu %u)", pfn, (unsigned)page->order,
			 (unsigned)page->pcp_cpu);
}

/* Every listed block sharing a page with [pfn, pfn + 2^order). */
static void check_overlap_local(struct checker *c, struct page *page, uint32_t f, uint64_t pfn, unsigned int order)
{
	struct buddy_system *sys = c->sys;
	char a[96], b[96];
	int cpu = (f & PAGE_FLAG(PG_pcp)) ? page->pcp_cpu : -1;

	for (unsigned int j = order + 1; j <= sys->max_order; j++) {
		uint64_t q = pfn & ~((1ULL << j) - 1);
		uint32_t g;
		struct page *other = listed_head(c, q, &g);
		if (other && q != pfn && other->order >= j) {
			describe_listed(page, f, pfn, a, sizeof(a));
			describe_listed(other, g, q, b, sizeof(b));
			report(c, INV_PAGE_DOUBLE_LISTED, cpu, pfn, (int)order, "%s overlaps %s", a, b);
			return;
		}
	}
	uint64_t end = pfn + (1ULL << order);
	for (uint64_t q = pfn + 1; q < end; q++) {
		uint32_t g;
		struct page *other = listed_head(c, q, &g);
		if (other) {
			describe_listed(page, f, pfn, a, sizeof(a));
			describe_listed(other, g, q, b, sizeof(b));
			report(c, INV_PAGE_DOUBLE_LISTED, cpu, pfn, (int)order, "%s overlaps %s", a, b);
			return;
		}
	}
}

/* check_unmerged for one block. */
static void check_buddy_local(struct checker *c, uint64_t pfn, unsigned int order)
{
	struct buddy_system *sys = c->sys;
	uint64_t size = 1ULL << order, bpfn = pfn ^ size, bad;
	uint32_t g;

	if (order >= sys->max_order || range_outside(c, bpfn, bpfn + size, &bad))
		return;
	struct page *buddy = listed_head(c, bpfn, &g);
	if (!buddy || !(g & PAGE_FLAG(PG_buddy)) || buddy->order != order)
		return;
	/* check_unmerged's rule, the released-reserve exception included. */
	if (!merge_expected(sys, pfn, bpfn, order, buddy_vm_event(sys, BUDDY_HIGHATOMIC_UNRESERVE) != 0))
		return;
	report(c, INV_BUDDY_UNMERGED, -1, pfn < bpfn ? pfn : bpfn, (int)order,
	       "buddy 0x%" PRIx64 " is free at the same order", pfn < bpfn ? bpfn : pfn);
}

static void check_touched_pfn(struct checker *c, uint64_t pfn)
{
	struct buddy_system *sys = c->sys;
	uint32_t f;
	struct page *page = listed_head(c, pfn, &f);

	if (!page)
		return;
	/* Judge only what the held locks keep still: a block on another
	 * CPU's pcp, or a free block without the zone lock, may be changing. */
	if ((f & PAGE_FLAG(PG_buddy)) && !c->zone_held)
		return;
	if ((f & PAGE_FLAG(PG_pcp)) && c->held_cpu >= 0 &&
	    atomic_load_explicit(&page->pcp_cpu, memory_order_relaxed) != (unsigned)c->held_cpu)
		return;
	unsigned int order = page->order;
	if (f & PAGE_FLAG(PG_buddy)) {
		if (order > sys->max_order) {
			report(c, INV_BLOCK_BAD_ORDER, -1, pfn, (int)order, "free block above MAX_PAGE_ORDER %u",
			       sys->max_order);
			return;
		}
		if (page->free_mt >= MIGRATE_TYPES) {
			report(c, INV_BUDDY_FLAGS, -1, pfn, (int)order, "free head records list type %u", page->free_mt);
			return;
		}
		check_free_block(c, page, order, page->free_mt);
		check_links(c, page, -1, pfn, (int)order, "free");
		if (c->found)
			return;
		check_buddy_local(c, pfn, order);
	} else {
		int cpu = page->pcp_cpu;
		if (cpu >= sys->nr_cpus || page->pcp_mt >= MIGRATE_PCPTYPES || order > sys->max_order ||
		    !pcp_allowed_order(sys, order)) {
			report(c, INV_PCP_FLAGS, cpu, pfn, (int)order, "pcp head records cpu %d, type %u, order %u", cpu,
			       page->pcp_mt, order);
			return;
		}
		check_pcp_block(c, page, cpu, order_to_pindex(sys, page->pcp_mt, order));
		check_links(c, page, cpu, pfn, (int)order, "pcp");
		if (c->found)
			return;
	}
	check_overlap_local(c, page, f, pfn, order);
}

/* A pageblock changed type: every free block in it must have moved to the
 * matching list, including a larger block that contains it. */
static void check_touched_pageblock(struct checker *c, uint64_t pb)
{
	struct buddy_system *sys = c->sys;
	uint64_t start = pb & ~((uint64_t)sys->pageblock_nr_pages - 1), end = start + sys->pageblock_nr_pages;

	for (unsigned int j = sys->pageblock_order + 1; j <= sys->max_order; j++)
		check_touched_pfn(c, start & ~((1ULL << j) - 1));
	for (uint64_t pfn = start; pfn < end && !c->found; pfn++)
		check_touched_pfn(c, pfn);
}

/* The counters against each other and against which lists are empty.  The
 * free-list counters need the zone lock, and return the free pages they
 * make in every type. */
static long check_free_counters_local(struct checker *c)
{
	struct buddy_system *sys = c->sys;
	struct zone *zone = c->zone;
	long per_mt[MIGRATE_TYPES] = { 0 };

	for (unsigned int o = 0; o <= MAX_PAGE_ORDER_LIMIT; o++) {
		const struct free_area *area = &zone->free_area[o];
		unsigned long sum = 0;
		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			unsigned long n = atomic_load_explicit(&area->nr_free_mt[mt], memory_order_relaxed);
			bool empty = list_empty(&area->free_list[mt]);
			if (empty != (n == 0) || (o > sys->max_order && n))
				report(c, INV_NR_FREE_MISMATCH, -1, UINT64_MAX, (int)o,
				       "nr_free_mt[%s] is %lu but the list is %s", mt_label(mt), n,
				       empty ? "empty" : "not empty");
			sum += n;
			per_mt[mt] += (long)(n << o);
		}
		unsigned long nr = atomic_load_explicit(&area->nr_free, memory_order_relaxed);
		if (nr != sum)
			report(c, INV_NR_FREE_MISMATCH, -1, UINT64_MAX, (int)o,
			       "nr_free is %lu, nr_free_mt sums to %lu", nr, sum);
	}
	long free_total = 0, counted = 0;
	for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
		long v = atomic_load_explicit(&zone->free_pages_mt[mt], memory_order_relaxed);
		if (v != per_mt[mt])
			report(c, INV_FREE_COUNT_MISMATCH, -1, UINT64_MAX, -1,
			       "free_pages_mt[%s] is %ld, nr_free_mt of every order makes %ld pages", mt_label(mt), v,
			       per_mt[mt]);
		free_total += per_mt[mt];
		if (!is_migrate_isolate(mt))
			counted += per_mt[mt];
	}
	if (zone_page_state(zone, NR_FREE_PAGES) != counted)
		report(c, INV_FREE_COUNT_MISMATCH, -1, UINT64_MAX, -1,
		       "NR_FREE_PAGES is %ld, the free counts outside ISOLATE make %ld",
		       zone_page_state(zone, NR_FREE_PAGES), counted);
	if (zone_page_state(zone, NR_FREE_CMA_PAGES) != per_mt[MIGRATE_CMA])
		report(c, INV_FREE_COUNT_MISMATCH, -1, UINT64_MAX, -1, "NR_FREE_CMA_PAGES is %ld, the CMA counts make %ld",
		       zone_page_state(zone, NR_FREE_CMA_PAGES), per_mt[MIGRATE_CMA]);
	long ha = atomic_load_explicit(&zone->nr_free_highatomic, memory_order_relaxed);
	if (ha != per_mt[MIGRATE_HIGHATOMIC])
		report(c, INV_FREE_COUNT_MISMATCH, -1, UINT64_MAX, -1,
		       "nr_free_highatomic is %ld, the HighAtomic counts make %ld", ha, per_mt[MIGRATE_HIGHATOMIC]);
	return free_total;
}

/* One CPU's pcp counters, its pcp lock held; returns its count. */
static long check_pcp_counters_local(struct checker *c, int cpu)
{
	struct buddy_system *sys = c->sys;
	struct per_cpu_pages *pcp = &c->zone->pcp[cpu];
	long lists = 0;

	for (int pindex = 0; pindex < NR_PCP_LISTS; pindex++) {
		if (list_empty(&pcp->lists[pindex]) != (pcp->list_pages[pindex] == 0))
			report(c, INV_PCP_COUNT_MISMATCH, cpu, UINT64_MAX, (int)pindex_to_order(sys, pindex),
			       "list_pages[%d] is %d but the list is %s", pindex, pcp->list_pages[pindex],
			       pcp->list_pages[pindex] ? "empty" : "not empty");
		lists += pcp->list_pages[pindex];
	}
	if (pcp->count != lists)
		report(c, INV_PCP_COUNT_MISMATCH, cpu, UINT64_MAX, -1, "count is %d, list_pages sum to %ld", pcp->count,
		       lists);
	long limit = (pcp->high > pcp->high_max ? pcp->high : pcp->high_max) + pcp_refill_allowance(sys, pcp);
	if (pcp->count > limit)
		report(c, INV_PCP_OVER_HIGH, cpu, UINT64_MAX, -1, "count %d is above %ld (high %d, high_max %d, batch %d)",
		       pcp->count, limit, pcp->high, pcp->high_max, pcp->batch);
	return pcp->count;
}

/* The sums over the whole zone: every lock of the zone held. */
static void check_zone_sums_local(struct checker *c, long free_total, long pcp_total)
{
	struct zone *zone = c->zone;
	long pcp = zone_page_state(zone, NR_ZONE_PCP);

	if (zone->pcp && pcp != pcp_total)
		report(c, INV_PCP_COUNT_MISMATCH, -1, UINT64_MAX, -1, "NR_ZONE_PCP is %ld, the pcp counts sum to %ld", pcp,
		       pcp_total);
	check_present_sum(c, free_total);
	check_offline_sum(c);
}

static void clear_touch_logs(struct zone *zone, int nr_cpus)
{
	atomic_store_explicit(&zone->touched.n, 0, memory_order_relaxed);
	for (int cpu = 0; zone->pcp && cpu < nr_cpus; cpu++)
		atomic_store_explicit(&zone->pcp[cpu].touched.n, 0, memory_order_relaxed);
	atomic_store_explicit(&zone->pb_touched_n, 0, memory_order_relaxed);
}

static void check_log(struct checker *c, const struct touch_log *log)
{
	unsigned int n = touch_log_len(log);

	for (unsigned int i = 0; i < n && !c->found; i++)
		check_touched_pfn(c, log->pfn[i]);
}

/* The zone's free-list and pageblock logs, zone->lock held. */
static long check_zone_logs(struct checker *c, unsigned int pb_n)
{
	struct zone *zone = c->zone;

	check_log(c, &zone->touched);
	for (unsigned int i = 0; i < pb_n && !c->found; i++)
		check_touched_pageblock(c, atomic_load_explicit(&zone->pb_touched[i], memory_order_relaxed));
	long free_total = check_free_counters_local(c);
	if (pb_n)
		check_pageblock_counts(c);
	return free_total;
}

/* Every CPU's logs and the zone's: all of the zone's locks held. */
static void check_zone_touched_locked(struct checker *c, struct zone *zone)
{
	struct buddy_system *sys = c->sys;
	unsigned int pb_n = atomic_load_explicit(&zone->pb_touched_n, memory_order_relaxed);
	bool overflow = touch_log_len(&zone->touched) > TOUCH_LOG_CAP || pb_n > PB_TOUCH_LOG_CAP;

	for (int cpu = 0; zone->pcp && cpu < sys->nr_cpus; cpu++)
		overflow |= touch_log_len(&zone->pcp[cpu].touched) > TOUCH_LOG_CAP;
	if (overflow || !sys->track_touched) {
		check_zone_locked(c, zone, false);
		clear_touch_logs(zone, sys->nr_cpus);
		return;
	}
	set_zone(c, zone);
	c->local = true;
	c->held_cpu = -1;
	c->zone_held = true;
	/* Counters change only with a list, so an empty log means they are
	 * as the last check left them; the sums are checked regardless (pages
	 * also move between the states outside the lists). */
	long pcp_total = 0, free_total = 0;
	for (int cpu = 0; zone->pcp && cpu < sys->nr_cpus; cpu++) {
		if (touch_log_len(&zone->pcp[cpu].touched)) {
			check_log(c, &zone->pcp[cpu].touched);
			check_pcp_counters_local(c, cpu);
		}
		pcp_total += zone->pcp[cpu].count;
	}
	if (touch_log_len(&zone->touched) || pb_n) {
		free_total = check_zone_logs(c, pb_n);
	} else {
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			free_total += atomic_load_explicit(&zone->free_pages_mt[mt], memory_order_relaxed);
	}
	check_zone_sums_local(c, free_total, pcp_total);
	c->local = false;
	clear_touch_logs(zone, sys->nr_cpus);
}

/* One CPU's log, and the zone's when it holds anything: only that CPU's
 * pcp lock, and the zone lock when needed, so that a check after every step
 * of one CPU does not stop the others.  The sums over every CPU wait for
 * a check that holds all the locks. */
static void check_zone_touched_cpu(struct checker *c, struct zone *zone, int cpu)
{
	struct buddy_system *sys = c->sys;
	struct per_cpu_pages *pcp = &zone->pcp[cpu];

	spin_lock(&pcp->lock);
	unsigned int pb_n = atomic_load_explicit(&zone->pb_touched_n, memory_order_relaxed);
	bool zone_work = touch_log_len(&zone->touched) || pb_n;
	if (zone_work) {
		spin_lock(&zone->lock);
		pb_n = atomic_load_explicit(&zone->pb_touched_n, memory_order_relaxed);
	}
	bool overflow = touch_log_len(&pcp->touched) > TOUCH_LOG_CAP ||
			(zone_work && (touch_log_len(&zone->touched) > TOUCH_LOG_CAP || pb_n > PB_TOUCH_LOG_CAP));
	if (overflow || !sys->track_touched) {
		if (zone_work)
			spin_unlock(&zone->lock);
		spin_unlock(&pcp->lock);
		lock_zone_all(zone, sys->nr_cpus);
		check_zone_locked(c, zone, false);
		clear_touch_logs(zone, sys->nr_cpus);
		unlock_zone_all(zone, sys->nr_cpus);
		return;
	}
	set_zone(c, zone);
	c->local = true;
	c->held_cpu = cpu;
	c->zone_held = zone_work;
	check_log(c, &pcp->touched);
	check_pcp_counters_local(c, cpu);
	atomic_store_explicit(&pcp->touched.n, 0, memory_order_relaxed);
	if (zone_work) {
		check_zone_logs(c, pb_n);
		atomic_store_explicit(&zone->touched.n, 0, memory_order_relaxed);
		atomic_store_explicit(&zone->pb_touched_n, 0, memory_order_relaxed);
		spin_unlock(&zone->lock);
	}
	c->local = false;
	spin_unlock(&pcp->lock);
}

static struct zone *get_zone(struct buddy_system *sys, int nid, int zid)
{
	if (nid < 0 || nid >= sys->nr_nodes || zid < 0 || zid >= MAX_NR_ZONES || !sys->nodes[nid])
		return NULL;
	return &sys->nodes[nid]->node_zones[zid];
}

/* ---- the LRU lists and the tasks (full scope) ---- */
/* owner.c's page_lru(). */
static enum lru_list lru_of_flags(uint32_t f)
{
	bool file = f & PAGE_FLAG(PG_mapped_file), active = f & PAGE_FLAG(PG_active);

	return file ? (active ? LRU_ACTIVE_FILE : LRU_INACTIVE_FILE) : (active ? LRU_ACTIVE_ANON : LRU_INACTIVE_ANON);
}

/* A page of list l of node nid must be an owned head that belongs there;
 * its pages are added to its zone's share of the list.  lru_lock held: it
 * orders the owner fields of a page on an LRU (owner.c publishes them
 * before lru_list_add and clears them after lru_list_del). */
static void check_lru_page(struct checker *c, struct page *page, int nid, enum lru_list l,
			   long share[MAX_NR_ZONES][2])
{
	struct buddy_system *sys = c->sys;
	uint64_t pfn = page_to_pfn(sys, page);
	uint32_t f = page_flags(page);
	unsigned int order = page_order(page);
	const char *list = lru_label[l];
	char names[160];

	if (!(f & PAGE_FLAG(PG_lru)))
		report(c, INV_LRU_CORRUPT, -1, pfn, (int)order, "on the %s list without PG_lru", list);
	if (!(f & (PAGE_FLAG(PG_allocated) | PAGE_FLAG(PG_quarantined))) || (f & PAGE_FLAG(PG_tail))) {
		flag_names(f & (STATE_FLAGS | PAGE_FLAG(PG_tail)), names, sizeof(names));
		report(c, INV_LRU_CORRUPT, -1, pfn, (int)order, "on the %s list but no allocated head (%s)", list,
		       names[0] ? names : "no state");
	} else if (f & PAGE_FLAG(PG_isolated)) {
		report(c, INV_LRU_CORRUPT, -1, pfn, (int)order, "on the %s list while isolated", list);
	}
	if (!page->mapping)
		report(c, INV_LRU_CORRUPT, -1, pfn, (int)order, "on the %s list without a mapping", list);
	else if (atomic_load_explicit(&page->alloc_mt, memory_order_relaxed) != MIGRATE_MOVABLE &&
		 !(f & PAGE_FLAG(PG_mapped_file)))
		report(c, INV_LRU_CORRUPT, -1, pfn, (int)order, "on the %s list but neither movable nor reclaimable", list);
	if (lru_of_flags(f) != l)
		report(c, INV_LRU_CORRUPT, -1, pfn, (int)order, "on the %s list, its flags say %s", list,
		       lru_label[lru_of_flags(f)]);
	struct zone *zone = get_zone(sys, page->nid, page->zid);
	if (page->nid != nid || !zone || !zone_spans_pfn(zone, pfn)) {
		report(c, INV_LRU_CORRUPT, -1, pfn, (int)order, "on node %d's %s list but the page says node %u zone %s",
		       nid, list, page->nid, zone_label(page->zid));
		return;
	}
	if (order <= sys->max_order)
		share[page->zid][l >= LRU_INACTIVE_FILE] += 1L << order;
}

/* The node's lists against nr_pages[] and the zones' NR_ZONE_LRU_FILE and
 * NR_ZONE_LRU_ANON, which change under the lru_lock with them.  Returns
 * whether every list could be walked to its end.  lru_lock held. */
static bool check_lru_lists(struct checker *c, int nid)
{
	struct buddy_system *sys = c->sys;
	struct lruvec *lv = &sys->slow->lruvec[nid];
	long share[MAX_NR_ZONES][2] = { { 0 } };
	bool whole = true;

	c->zone = NULL;
	c->nid = nid;
	for (int l = 0; l < NR_LRU_LISTS; l++) {
		struct list_walk w;
		struct page *page;
		long pages = 0;

		walk_start(&w, &lv->lists[l], -1, WALK_LRU, l, -1);
		while ((page = walk_next(c, &w))) {
			check_lru_page(c, page, nid, (enum lru_list)l, share);
			unsigned int order = page_order(page);
			pages += order <= sys->max_order ? 1L << order : 0;
		}
		if (w.broken) {
			whole = false;
			continue;
		}
		long nr = atomic_load_explicit(&lv->nr_pages[l], memory_order_relaxed);
		if (nr != pages)
			report(c, INV_LRU_CORRUPT, -1, UINT64_MAX, -1, "nr_pages[%s] is %ld, the list holds %ld pages",
			       lru_label[l], nr, pages);
	}
	for (int z = 0; whole && z < MAX_NR_ZONES; z++) {
		struct zone *zone = get_zone(sys, nid, z);
		if (!zone)
			continue;
		c->zone = zone;
		for (int file = 0; file < 2; file++) {
			enum zone_stat_item item = file ? NR_ZONE_LRU_FILE : NR_ZONE_LRU_ANON;
			if (zone_page_state(zone, item) != share[z][file])
				report(c, INV_LRU_CORRUPT, -1, UINT64_MAX, -1, "%s is %ld, the %s lists hold %ld pages of the zone",
				       file ? "NR_ZONE_LRU_FILE" : "NR_ZONE_LRU_ANON", zone_page_state(zone, item),
				       file ? "file" : "anon", share[z][file]);
		}
	}
	c->zone = NULL;
	c->nid = -1;
	return whole;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The heads the node's lists hold inside zone, sorted, for the page walk's
 * PG_lru membership check.  The walk is quiet: check_lru_lists has said
 * what is wrong with the lists, and membership is judged only when they
 * were sound.  lru_lock held (again: the zone's locks come first). */
static void collect_lru_zone(struct checker *c, int nid, struct zone *zone, bool lists_sound)
{
	struct buddy_system *sys = c->sys;
	struct lruvec *lv = &sys->slow->lruvec[nid];
	struct buddy_check_result *res = c->res;
	size_t found = c->found;
	bool ok = lists_sound;

	c->nr_lru = 0;
	c->res = NULL;
	for (int l = 0; l < NR_LRU_LISTS && ok; l++) {
		struct list_walk w;
		struct page *page;

		walk_start(&w, &lv->lists[l], -1, WALK_LRU, l, -1);
		while (ok && (page = walk_next(c, &w))) {
			uint64_t pfn = page_to_pfn(sys, page);
			if (!zone_spans_pfn(zone, pfn))
				continue;
			if (c->nr_lru == c->cap_lru) {
				size_t cap = c->cap_lru ? c->cap_lru * 2 : 256;
				uint64_t *n = realloc(c->lru_pfns, cap * sizeof(*n));
				if (!n) {
					ok = false;
					break;
				}
				c->lru_pfns = n;
				c->cap_lru = cap;
			}
			c->lru_pfns[c->nr_lru++] = pfn;
		}
		ok &= !w.broken;
	}
	c->res = res;
	c->found = found;
	if (ok && c->nr_lru)
		qsort(c->lru_pfns, c->nr_lru, sizeof(c->lru_pfns[0]), cmp_u64);
	c->lru_known = ok;
}

/* Each task as it stands before the page walks.  task_lock alone. */
static void full_begin(struct checker *c)
{
	struct buddy_slowpath *slow = c->sys->slow;

	c->nid = -1;
	if (!slow)
		return;
	c->tasks = calloc(BUDDY_MAX_TASKS + 1, sizeof(*c->tasks));
	if (!c->tasks)
		return;
	pthread_mutex_lock(&slow->task_lock);
	for (int t = 1; t <= BUDDY_MAX_TASKS; t++) {
		const struct buddy_task_rec *rec = &slow->tasks[t];
		c->tasks[t].used = rec->used;
		c->tasks[t].rss = atomic_load_explicit(&rec->rss, memory_order_acquire);
		c->tasks[t].oom_killed = atomic_load_explicit(&rec->oom_killed, memory_order_acquire);
	}
	pthread_mutex_unlock(&slow->task_lock);
}

/* What only the sum over every zone can tell. */
static void full_end(struct checker *c)
{
	struct buddy_system *sys = c->sys;

	c->zone = NULL;
	c->nid = -1;
	for (int t = 1; c->tasks && t <= BUDDY_MAX_TASKS; t++) {
		const struct task_snap *ts = &c->tasks[t];
		/* The OOM reaper holds one page of rss on its victim while it
		 * reaps (OOM_REAPER_PIN, oom_kill.c): a release callback sees it. */
		if (ts->used && ts->rss != ts->found && !(ts->oom_killed && ts->rss == ts->found + 1))
			report(c, INV_OWNER_ACCOUNTING, -1, UINT64_MAX, -1,
			       "task %d has rss %ld, the blocks charged to it hold %ld pages", t, ts->rss, ts->found);
	}
	/* hwpoison-count: poisoned_in_use covers every zone and only ever errs
	 * high (a poisoned page whose free missed the mark waits on a free
	 * list for memory_failure to take it off, one inside a quarantined
	 * block stays counted); the pages the walks found may not exceed it. */
	long trusted = sys->cma ? atomic_load_explicit(&sys->cma->poisoned_in_use, memory_order_seq_cst) : 0;
	if (c->poisoned_in_allocated > trusted)
		report(c, INV_HWPOISON_COUNT, -1, UINT64_MAX, -1,
		       "%ld poisoned pages inside allocated blocks, poisoned_in_use is %ld", c->poisoned_in_allocated,
		       trusted);
	free(c->tasks);
	c->tasks = NULL;
	free(c->lru_pfns);
	c->lru_pfns = NULL;
}

size_t buddy_check(struct buddy_system *sys, enum buddy_check_scope scope, int nid, enum zone_type zone_id, int cpu,
		   struct buddy_check_result *res)
{
	struct checker c = { .sys = sys, .res = res };

	if (res)
		res->count = 0;
	if (!sys)
		return 0;
	switch (scope) {
	case BUDDY_CHECK_ZONE: {
		struct zone *zone = get_zone(sys, nid, (int)zone_id);
		if (!zone)
			break;
		lock_zone_all(zone, sys->nr_cpus);
		check_zone_locked(&c, zone, false);
		clear_touch_logs(zone, sys->nr_cpus);
		unlock_zone_all(zone, sys->nr_cpus);
		break;
	}
	case BUDDY_CHECK_TOUCHED: {
		struct zone *zone = get_zone(sys, nid, (int)zone_id);
		if (!zone)
			break;
		if (cpu >= 0 && cpu < sys->nr_cpus && zone->pcp) {
			check_zone_touched_cpu(&c, zone, cpu);
			break;
		}
		lock_zone_all(zone, sys->nr_cpus);
		check_zone_touched_locked(&c, zone);
		unlock_zone_all(zone, sys->nr_cpus);
		break;
	}
	case BUDDY_CHECK_PCP:
		if (cpu < 0 || cpu >= sys->nr_cpus)
			break;
		for (int n = 0; n < sys->nr_nodes; n++) {
			for (int z = 0; z < MAX_NR_ZONES; z++) {
				struct zone *zone = get_zone(sys, n, z);
				bool whole;
				if (!zone || !zone->pcp)
					continue;
				spin_lock(&zone->pcp[cpu].lock);
				spin_lock(&zone->lock);
				set_zone(&c, zone);
				check_pcp(&c, cpu, &whole);
				if (!c.blk_lost)
					check_overlaps(&c);
				spin_unlock(&zone->lock);
				spin_unlock(&zone->pcp[cpu].lock);
			}
		}
		break;
	case BUDDY_CHECK_ALL:
		full_begin(&c);
		for (int n = 0; n < sys->nr_nodes; n++) {
			struct lruvec *lv = sys->slow ? &sys->slow->lruvec[n] : NULL;
			bool lru_sound = false;
			/* The lists on their own first, under the lru_lock alone;
			 * then each zone with its locks and the lru_lock after them
			 * (pcp -> zone -> lru_lock), so that PG_lru holds still
			 * while the page walk compares it with the lists. */
			if (lv) {
				pthread_mutex_lock(&lv->lock);
				lru_sound = check_lru_lists(&c, n);
				pthread_mutex_unlock(&lv->lock);
			}
			for (int z = 0; z < MAX_NR_ZONES; z++) {
				struct zone *zone = get_zone(sys, n, z);
				if (!zone)
					continue;
				lock_zone_all(zone, sys->nr_cpus);
				if (lv) {
					pthread_mutex_lock(&lv->lock);
					collect_lru_zone(&c, n, zone, lru_sound);
				}
				check_zone_locked(&c, zone, true);
				clear_touch_logs(zone, sys->nr_cpus);
				c.lru_known = false;
				if (lv)
					pthread_mutex_unlock(&lv->lock);
				unlock_zone_all(zone, sys->nr_cpus);
			}
		}
		full_end(&c);
		break;
	}
	free(c.blk);
	if (res)
		res->count = c.found;
	return c.found;
}

void buddy_check_track(struct buddy_system *sys, bool on)
{
	if (!sys)
		return;
	/* Logs from before tracking began would be stale: start empty. */
	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = get_zone(sys, nid, z);
			if (!zone)
				continue;
			lock_zone_all(zone, sys->nr_cpus);
			clear_touch_logs(zone, sys->nr_cpus);
			unlock_zone_all(zone, sys->nr_cpus);
		}
	}
	sys->track_touched = on;
}

/* ---- formatting ---- */
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;

	if (*used >= len)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*used = (size_t)n >= len - *used ? len : *used + (size_t)n;
}

void buddy_violation_format(const struct buddy_violation *v, char *buf, size_t len)
{
	size_t used = 0;

	if (!buf || !len)
		return;
	buf[0] = '\0';
	if (!v)
		return;
	append(buf, len, &used, "%s", v->name ? v->name : "unknown");
	if (v->nid >= 0)
		append(buf, len, &used, " node %d", v->nid);
	if (v->zone >= 0)
		append(buf, len, &used, " zone %s", zone_label(v->zone));
	if (v->cpu >= 0)
		append(buf, len, &used, " cpu %d", v->cpu);
	if (v->pfn != UINT64_MAX)
		append(buf, len, &used, " pfn 0x%" PRIx64, v->pfn);
	if (v->order >= 0)
		append(buf, len, &used, " order %d", v->order);
	if (v->message[0])
		append(buf, len, &used, ": %s", v->message);
}
