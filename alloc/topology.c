/* Machine descriptions: the built-in topologies, the plain-text format
 * (docs/topology.md), its writer, and the validation every allocator
 * instance relies on.  Nothing here touches a buddy_system: a topology is
 * plain data, checked once before buddy_system_create() builds zones from it. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy/buddy.h"

/* page records are indexed with 32 bits (struct page.head_offset, pfn math
 * in the checker), so every pfn must fit: end_pfn <= 2^32, i.e. 16 TiB. */
#define TOPO_PFN_LIMIT (1ULL << 32)
/* GFP_DMA32 promises a page a 32-bit device can reach: DMA and DMA32 must lie
 * below 4 GiB, as max_zone_phys(32) bounds them on every architecture. */
#define TOPO_DMA32_LIMIT_PFN (1ULL << (32 - PAGE_SHIFT))
/* A node's distance to itself (LOCAL_DISTANCE) and the SLIT's "unreachable". */
#define TOPO_UNREACHABLE_DISTANCE 255
/* Bounds of the sysctls the options mirror (kernel/sysctl.c, mm/page_alloc.c). */
#define WSF_MIN 1
#define WSF_MAX 3000
#define MIN_PCP_HIGH_FRACTION 8

#define MAX_WORDS 16
#define QUOTE_MAX 40
#define LOAD_MAX_BYTES (64UL << 20)

static const char *const zone_names[MAX_NR_ZONES] = {"DMA", "DMA32", "Normal", "Movable"};

/* /proc/pagetypeinfo's spelling (migratetype_names[] in mm/page_alloc.c). */
static const char *const migratetype_names[MIGRATE_TYPES] = {
	"Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate",
};

const char *buddy_zone_name(enum zone_type zone)
{
	if ((unsigned int)zone >= MAX_NR_ZONES)
		return "Invalid";
	return zone_names[zone];
}

const char *buddy_migratetype_name(int migratetype)
{
	if (migratetype < 0 || migratetype >= MIGRATE_TYPES)
		return "Invalid";
	return migratetype_names[migratetype];
}

void buddy_options_init(struct buddy_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->max_order = MAX_PAGE_ORDER_DEFAULT;
	opts->pageblock_order = PAGEBLOCK_ORDER_DEFAULT;
	opts->backing = BUDDY_BACKING_NONE;
	opts->poison = false;
	opts->poison_byte = 0xaa;
	opts->min_free_kbytes = 0;
	opts->watermark_scale_factor = 10;
	opts->watermark_boost_factor = 15000;
	opts->lowmem_reserve_ratio[ZONE_DMA] = 256;
	opts->lowmem_reserve_ratio[ZONE_DMA32] = 256;
	opts->lowmem_reserve_ratio[ZONE_NORMAL] = 32;
	opts->lowmem_reserve_ratio[ZONE_MOVABLE] = 0;
	opts->percpu_pagelist_high_fraction = 0;
	opts->no_mobility_grouping = false;
	opts->log = NULL;
	opts->log_ctx = NULL;
}

static void set_distances(struct buddy_topology *topo)
{
	for (int i = 0; i < topo->nr_nodes && i < BUDDY_MAX_NODES; i++)
		for (int j = 0; j < topo->nr_nodes && j < BUDDY_MAX_NODES; j++)
			topo->distance[i][j] = i == j ? BUDDY_LOCAL_DISTANCE : BUDDY_REMOTE_DISTANCE;
}

static void set_range(struct buddy_pfn_range *r, uint64_t start, uint64_t end)
{
	r->start_pfn = start;
	r->end_pfn = end;
}

/*
 * Every zone boundary below is a multiple of MAX_ORDER_NR_PAGES (2^10 pfns,
 * 4 MiB), as on a real x86-64 machine: the zone limits are 16 MiB and 4 GiB
 * and memory comes in sections of 128 MiB, all multiples of a max-order
 * block.  So every max-order block lies wholly in one zone and the default
 * machine can hand out full-size blocks everywhere.  Unaligned boundaries are
 * legal (the kernel's page_is_buddy() checks the buddy's zone for exactly
 * this reason); buddy_topology_small() produces them on purpose.
 */
void buddy_topology_default(struct buddy_topology *topo)
{
	if (!topo)
		return;
	memset(topo, 0, sizeof(*topo));
	topo->nr_nodes = 2;
	topo->nr_cpus = 4;
	topo->cpu_to_node[0] = 0;
	topo->cpu_to_node[1] = 0;
	topo->cpu_to_node[2] = 1;
	topo->cpu_to_node[3] = 1;
	set_distances(topo);

	/* node 0: the first 16 MiB, the rest of the low 4 GiB with the PCI
	 * hole at 3-4 GiB, 3 GiB above 4 GiB, and 256 MiB of movable memory */
	set_range(&topo->zones[0][ZONE_DMA], 0, 4096);
	set_range(&topo->zones[0][ZONE_DMA32], 4096, 1048576);
	set_range(&topo->zones[0][ZONE_NORMAL], 1048576, 1835008);
	set_range(&topo->zones[0][ZONE_MOVABLE], 1835008, 1900544);
	/* node 1: 3 GiB Normal and 1 GiB Movable */
	set_range(&topo->zones[1][ZONE_NORMAL], 1900544, 2686976);
	set_range(&topo->zones[1][ZONE_MOVABLE], 2686976, 2949120);

	topo->nr_holes = 1;
	set_range(&topo->holes[0], 786432, 1048576);
	topo->nr_cma = 0;
}

void buddy_topology_small(struct buddy_topology *topo, uint64_t nr_pages, int nr_cpus)
{
	uint64_t dma32_end;

	if (!topo)
		return;
	memset(topo, 0, sizeof(*topo));
	topo->nr_nodes = 1;
	/* out-of-range CPU counts are kept so validate() reports them */
	topo->nr_cpus = nr_cpus;
	set_distances(topo);
	/* the DMA32/Normal boundary is 4 GiB, itself max-order aligned; the end
	 * stays exactly nr_pages so odd sizes reach the allocator */
	dma32_end = nr_pages < TOPO_DMA32_LIMIT_PFN ? nr_pages : TOPO_DMA32_LIMIT_PFN;
	set_range(&topo->zones[0][ZONE_DMA32], 0, dma32_end);
	if (nr_pages > dma32_end)
		set_range(&topo->zones[0][ZONE_NORMAL], dma32_end, nr_pages);
}

/* ---- errors ---- */

/* Formatting goes through one vsnprintf so that truncation of an over-long
 * field is silent and safe rather than a compiler warning per call site. */
static void __attribute__((format(printf, 3, 4))) fmt_into(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3))) err_msg(struct buddy_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

static void clear_error(struct buddy_error *err)
{
	err->field[0] = '\0';
	err->message[0] = '\0';
}

/* A token is untrusted bytes: show at most QUOTE_MAX of them, escaped. */
static void quote(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && i < QUOTE_MAX && o + 5 < dstlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
			dst[o++] = (char)c;
		} else {
			fmt_into(dst + o, dstlen - o, "\\x%02x", c);
			o += 4;
		}
	}
	if (n > QUOTE_MAX && o + 4 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* ---- validation ---- */

/* Which part of the topology or options a validation failure is about, so
 * the parser can name the line that set it. */
enum loc_kind {
	LOC_NONE,
	LOC_NODES,
	LOC_CPUS,
	LOC_CPU,
	LOC_DISTANCE,
	LOC_ZONE,
	LOC_HOLE,
	LOC_CMA,
	LOC_OPTION,
};

enum opt_id {
	OPT_MAX_ORDER,
	OPT_PAGEBLOCK_ORDER,
	OPT_BACKING,
	OPT_POISON,
	OPT_POISON_BYTE,
	OPT_MIN_FREE_KBYTES,
	OPT_WATERMARK_SCALE_FACTOR,
	OPT_WATERMARK_BOOST_FACTOR,
	OPT_LOWMEM_RESERVE_RATIO,
	OPT_PCP_HIGH_FRACTION,
	OPT_NO_MOBILITY_GROUPING,
	NR_OPTS
};

static const char *const opt_names[NR_OPTS] = {
	"max_order",
	"pageblock_order",
	"backing",
	"poison",
	"poison_byte",
	"min_free_kbytes",
	"watermark_scale_factor",
	"watermark_boost_factor",
	"lowmem_reserve_ratio",
	"percpu_pagelist_high_fraction",
	"no_mobility_grouping",
};

struct vloc {
	enum loc_kind kind;
	int a, b;
};

static int vfail(struct vloc *loc, enum loc_kind kind, int a, int b)
{
	loc->kind = kind;
	loc->a = a;
	loc->b = b;
	return -1;
}

static bool ranges_overlap(const struct buddy_pfn_range *x, const struct buddy_pfn_range *y)
{
	return x->start_pfn < y->end_pfn && y->start_pfn < x->end_pfn;
}

static bool range_empty(const struct buddy_pfn_range *r)
{
	return r->start_pfn >= r->end_pfn;
}

static int check_options(const struct buddy_options *o, struct buddy_error *err, struct vloc *loc)
{
	if (o->max_order < 1 || o->max_order > MAX_PAGE_ORDER_LIMIT) {
		fmt_into(err->field, sizeof(err->field), "max_order");
		err_msg(err, "max_order %u outside 1..%d", o->max_order, MAX_PAGE_ORDER_LIMIT);
		return vfail(loc, LOC_OPTION, OPT_MAX_ORDER, 0);
	}
	if (o->pageblock_order > o->max_order) {
		fmt_into(err->field, sizeof(err->field), "pageblock_order");
		err_msg(err, "pageblock_order %u above max_order %u (a pageblock must fit in one buddy block)",
			o->pageblock_order, o->max_order);
		return vfail(loc, LOC_OPTION, OPT_PAGEBLOCK_ORDER, 0);
	}
	if (o->backing != BUDDY_BACKING_NONE && o->backing != BUDDY_BACKING_MMAP && o->backing != BUDDY_BACKING_USER) {
		fmt_into(err->field, sizeof(err->field), "backing");
		err_msg(err, "backing %d is none of BUDDY_BACKING_NONE, _MMAP and _USER", (int)o->backing);
		return vfail(loc, LOC_OPTION, OPT_BACKING, 0);
	}
	/* The caller's memory is no part of a description: a topology file
	 * cannot name it, so such options are only for buddy_system_create. */
	if (o->backing == BUDDY_BACKING_USER && !o->backing_mem) {
		fmt_into(err->field, sizeof(err->field), "backing_mem");
		err_msg(err, "BUDDY_BACKING_USER without backing_mem");
		return vfail(loc, LOC_OPTION, OPT_BACKING, 0);
	}
	if (o->min_free_kbytes < 0) {
		fmt_into(err->field, sizeof(err->field), "min_free_kbytes");
		err_msg(err, "min_free_kbytes %ld is negative (0 means computed from memory)", o->min_free_kbytes);
		return vfail(loc, LOC_OPTION, OPT_MIN_FREE_KBYTES, 0);
	}
	if (o->watermark_scale_factor < WSF_MIN || o->watermark_scale_factor > WSF_MAX) {
		fmt_into(err->field, sizeof(err->field), "watermark_scale_factor");
		err_msg(err, "watermark_scale_factor %d outside %d..%d (the sysctl's range)",
			o->watermark_scale_factor, WSF_MIN, WSF_MAX);
		return vfail(loc, LOC_OPTION, OPT_WATERMARK_SCALE_FACTOR, 0);
	}
	if (o->watermark_boost_factor < 0) {
		fmt_into(err->field, sizeof(err->field), "watermark_boost_factor");
		err_msg(err, "watermark_boost_factor %d is negative (0 disables boosting)",
			o->watermark_boost_factor);
		return vfail(loc, LOC_OPTION, OPT_WATERMARK_BOOST_FACTOR, 0);
	}
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		if (o->lowmem_reserve_ratio[z] < 0) {
			fmt_into(err->field, sizeof(err->field), "lowmem_reserve_ratio[%s]", zone_names[z]);
			err_msg(err, "lowmem_reserve_ratio %d is negative (0 means no reserve)",
				o->lowmem_reserve_ratio[z]);
			return vfail(loc, LOC_OPTION, OPT_LOWMEM_RESERVE_RATIO, 0);
		}
	}
	if (o->percpu_pagelist_high_fraction != 0 &&
	    (o->percpu_pagelist_high_fraction < MIN_PCP_HIGH_FRACTION)) {
		fmt_into(err->field, sizeof(err->field), "percpu_pagelist_high_fraction");
		err_msg(err, "percpu_pagelist_high_fraction %d must be 0 (automatic) or at least %d",
			o->percpu_pagelist_high_fraction, MIN_PCP_HIGH_FRACTION);
		return vfail(loc, LOC_OPTION, OPT_PCP_HIGH_FRACTION, 0);
	}
	return 0;
}

static int check_zones(const struct buddy_topology *t, struct buddy_error *err, struct vloc *loc)
{
	for (int n = 0; n < t->nr_nodes; n++) {
		int prev = -1;

		for (int z = 0; z < MAX_NR_ZONES; z++) {
			const struct buddy_pfn_range *r = &t->zones[n][z];

			fmt_into(err->field, sizeof(err->field), "zones[%d][%s]", n, zone_names[z]);
			if (r->end_pfn < r->start_pfn) {
				err_msg(err, "end_pfn 0x%llx below start_pfn 0x%llx",
					(unsigned long long)r->end_pfn, (unsigned long long)r->start_pfn);
				return vfail(loc, LOC_ZONE, n, z);
			}
			if (r->end_pfn > TOPO_PFN_LIMIT) {
				err_msg(err, "end_pfn 0x%llx beyond pfn 0x%llx (16 TiB): page records are indexed with 32 bits",
					(unsigned long long)r->end_pfn, (unsigned long long)TOPO_PFN_LIMIT);
				return vfail(loc, LOC_ZONE, n, z);
			}
			if (range_empty(r))
				continue;
			if (z <= ZONE_DMA32 && r->end_pfn > TOPO_DMA32_LIMIT_PFN) {
				err_msg(err, "end_pfn 0x%llx above 4 GiB (pfn 0x%llx): %s memory must be reachable by 32-bit DMA",
					(unsigned long long)r->end_pfn, (unsigned long long)TOPO_DMA32_LIMIT_PFN,
					zone_names[z]);
				return vfail(loc, LOC_ZONE, n, z);
			}
			if (prev >= 0 && r->start_pfn < t->zones[n][prev].end_pfn) {
				err_msg(err, "starts at pfn 0x%llx, below the end 0x%llx of zones[%d][%s]: "
					"a node's zones must be in zone order and must not overlap",
					(unsigned long long)r->start_pfn,
					(unsigned long long)t->zones[n][prev].end_pfn, n, zone_names[prev]);
				return vfail(loc, LOC_ZONE, n, z);
			}
			prev = z;
		}
	}
	/* zones of different nodes: no pfn may belong to two nodes */
	for (int n = 1; n < t->nr_nodes; n++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			const struct buddy_pfn_range *r = &t->zones[n][z];

			if (range_empty(r))
				continue;
			for (int m = 0; m < n; m++) {
				for (int y = 0; y < MAX_NR_ZONES; y++) {
					const struct buddy_pfn_range *s = &t->zones[m][y];

					if (range_empty(s) || !ranges_overlap(r, s))
						continue;
					fmt_into(err->field, sizeof(err->field), "zones[%d][%s]", n, zone_names[z]);
					err_msg(err, "[0x%llx, 0x%llx) overlaps zones[%d][%s] [0x%llx, 0x%llx)",
						(unsigned long long)r->start_pfn, (unsigned long long)r->end_pfn, m,
						zone_names[y], (unsigned long long)s->start_pfn,
						(unsigned long long)s->end_pfn);
					return vfail(loc, LOC_ZONE, n, z);
				}
			}
		}
	}
	return 0;
}

/* The zone whose span wholly holds r, as nid * MAX_NR_ZONES + zone, or -1.
 * Zones do not overlap (checked first), so there is at most one. */
static int containing_zone(const struct buddy_topology *t, const struct buddy_pfn_range *r)
{
	for (int n = 0; n < t->nr_nodes; n++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			const struct buddy_pfn_range *s = &t->zones[n][z];

			if (!range_empty(s) && s->start_pfn <= r->start_pfn && r->end_pfn <= s->end_pfn)
				return n * MAX_NR_ZONES + z;
		}
	}
	return -1;
}

static int check_holes(const struct buddy_topology *t, struct buddy_error *err, struct vloc *loc)
{
	if (t->nr_holes < 0 || t->nr_holes > BUDDY_MAX_HOLES) {
		fmt_into(err->field, sizeof(err->field), "nr_holes");
		err_msg(err, "nr_holes %d outside 0..%d", t->nr_holes, BUDDY_MAX_HOLES);
		return vfail(loc, LOC_NONE, 0, 0);
	}
	for (int i = 0; i < t->nr_holes; i++) {
		const struct buddy_pfn_range *h = &t->holes[i];

		fmt_into(err->field, sizeof(err->field), "holes[%d]", i);
		if (range_empty(h)) {
			err_msg(err, "[0x%llx, 0x%llx) is empty or reversed", (unsigned long long)h->start_pfn,
				(unsigned long long)h->end_pfn);
			return vfail(loc, LOC_HOLE, i, 0);
		}
		if (containing_zone(t, h) < 0) {
			err_msg(err, "[0x%llx, 0x%llx) is not wholly inside one zone's span",
				(unsigned long long)h->start_pfn, (unsigned long long)h->end_pfn);
			return vfail(loc, LOC_HOLE, i, 0);
		}
		for (int j = 0; j < i; j++) {
			if (ranges_overlap(h, &t->holes[j])) {
				err_msg(err, "[0x%llx, 0x%llx) overlaps holes[%d] [0x%llx, 0x%llx)",
					(unsigned long long)h->start_pfn, (unsigned long long)h->end_pfn, j,
					(unsigned long long)t->holes[j].start_pfn,
					(unsigned long long)t->holes[j].end_pfn);
				return vfail(loc, LOC_HOLE, i, 0);
			}
		}
	}
	return 0;
}

/*
 * CMA areas follow mm/cma.c: base and size aligned to a pageblock
 * (CMA_MIN_ALIGNMENT_PAGES), and cma_activate_area() refuses an area whose
 * pages are not all in one zone or not all valid.  The kernel puts no rule on
 * which zone; ZONE_MOVABLE is allowed here too, since MIGRATE_CMA blocks only
 * ever hold movable allocations, which is what that zone promises.
 */
static int check_cma(const struct buddy_topology *t, unsigned int pageblock_order, struct buddy_error *err,
		     struct vloc *loc)
{
	uint64_t mask = (1ULL << pageblock_order) - 1;

	if (t->nr_cma < 0 || t->nr_cma > BUDDY_MAX_CMA) {
		fmt_into(err->field, sizeof(err->field), "nr_cma");
		err_msg(err, "nr_cma %d outside 0..%d", t->nr_cma, BUDDY_MAX_CMA);
		return vfail(loc, LOC_NONE, 0, 0);
	}
	for (int i = 0; i < t->nr_cma; i++) {
		const struct buddy_pfn_range *c = &t->cma[i];

		fmt_into(err->field, sizeof(err->field), "cma[%d]", i);
		if (range_empty(c)) {
			err_msg(err, "[0x%llx, 0x%llx) is empty or reversed", (unsigned long long)c->start_pfn,
				(unsigned long long)c->end_pfn);
			return vfail(loc, LOC_CMA, i, 0);
		}
		if ((c->start_pfn & mask) || (c->end_pfn & mask)) {
			err_msg(err, "[0x%llx, 0x%llx) is not pageblock aligned (%llu pages)",
				(unsigned long long)c->start_pfn, (unsigned long long)c->end_pfn,
				(unsigned long long)mask + 1);
			return vfail(loc, LOC_CMA, i, 0);
		}
		if (containing_zone(t, c) < 0) {
			err_msg(err, "[0x%llx, 0x%llx) is not wholly inside one zone",
				(unsigned long long)c->start_pfn, (unsigned long long)c->end_pfn);
			return vfail(loc, LOC_CMA, i, 0);
		}
		for (int j = 0; j < t->nr_holes; j++) {
			if (ranges_overlap(c, &t->holes[j])) {
				err_msg(err, "[0x%llx, 0x%llx) covers holes[%d] [0x%llx, 0x%llx): CMA memory must be present",
					(unsigned long long)c->start_pfn, (unsigned long long)c->end_pfn, j,
					(unsigned long long)t->holes[j].start_pfn,
					(unsigned long long)t->holes[j].end_pfn);
				return vfail(loc, LOC_CMA, i, 0);
			}
		}
		for (int j = 0; j < i; j++) {
			if (ranges_overlap(c, &t->cma[j])) {
				err_msg(err, "[0x%llx, 0x%llx) overlaps cma[%d] [0x%llx, 0x%llx)",
					(unsigned long long)c->start_pfn, (unsigned long long)c->end_pfn, j,
					(unsigned long long)t->cma[j].start_pfn,
					(unsigned long long)t->cma[j].end_pfn);
				return vfail(loc, LOC_CMA, i, 0);
			}
		}
	}
	return 0;
}

static int validate_impl(const struct buddy_topology *t, const struct buddy_options *o,
			 struct buddy_error *err, struct vloc *loc)
{
	unsigned int pageblock_order = PAGEBLOCK_ORDER_DEFAULT;
	bool populated = false;

	loc->kind = LOC_NONE;
	loc->a = loc->b = 0;
	clear_error(err);
	if (!t) {
		fmt_into(err->field, sizeof(err->field), "topology");
		err_msg(err, "no topology (NULL)");
		return -1;
	}
	/* options first: the CMA checks need a sane pageblock_order */
	if (o) {
		if (check_options(o, err, loc))
			return -1;
		pageblock_order = o->pageblock_order;
	}
	if (t->nr_nodes < 1 || t->nr_nodes > BUDDY_MAX_NODES) {
		fmt_into(err->field, sizeof(err->field), "nr_nodes");
		err_msg(err, "nr_nodes %d outside 1..%d", t->nr_nodes, BUDDY_MAX_NODES);
		return vfail(loc, LOC_NODES, 0, 0);
	}
	if (t->nr_cpus < 1 || t->nr_cpus > BUDDY_MAX_CPUS) {
		fmt_into(err->field, sizeof(err->field), "nr_cpus");
		err_msg(err, "nr_cpus %d outside 1..%d", t->nr_cpus, BUDDY_MAX_CPUS);
		return vfail(loc, LOC_CPUS, 0, 0);
	}
	/* a CPU may sit on a node without memory, as on real machines */
	for (int c = 0; c < t->nr_cpus; c++) {
		if (t->cpu_to_node[c] < 0 || t->cpu_to_node[c] >= t->nr_nodes) {
			fmt_into(err->field, sizeof(err->field), "cpu_to_node[%d]", c);
			err_msg(err, "node %d outside 0..%d", t->cpu_to_node[c], t->nr_nodes - 1);
			return vfail(loc, LOC_CPU, c, 0);
		}
	}
	/* As the SLIT is checked (slit_valid() in drivers/acpi/numa/srat.c):
	 * local distance exactly 10, remote above 10; 255 means unreachable
	 * there, which this model cannot express, so remote is 11..254.
	 * Symmetry is not required (the kernel does not require it either). */
	for (int i = 0; i < t->nr_nodes; i++) {
		for (int j = 0; j < t->nr_nodes; j++) {
			unsigned int d = t->distance[i][j];

			fmt_into(err->field, sizeof(err->field), "distance[%d][%d]", i, j);
			if (i == j && d != BUDDY_LOCAL_DISTANCE) {
				err_msg(err, "distance %u from node %d to itself must be %d", d, i,
					BUDDY_LOCAL_DISTANCE);
				return vfail(loc, LOC_DISTANCE, i, j);
			}
			if (i != j && (d <= BUDDY_LOCAL_DISTANCE || d >= TOPO_UNREACHABLE_DISTANCE)) {
				err_msg(err, "distance %u between different nodes must be %d..%d", d,
					BUDDY_LOCAL_DISTANCE + 1, TOPO_UNREACHABLE_DISTANCE - 1);
				return vfail(loc, LOC_DISTANCE, i, j);
			}
		}
	}
	if (check_zones(t, err, loc) || check_holes(t, err, loc) || check_cma(t, pageblock_order, err, loc))
		return -1;
	/* holes are disjoint and each inside one zone, so span minus the holes
	 * inside it is exactly a zone's present pages */
	for (int n = 0; n < t->nr_nodes && !populated; n++) {
		for (int z = 0; z < MAX_NR_ZONES && !populated; z++) {
			const struct buddy_pfn_range *r = &t->zones[n][z];
			uint64_t present;

			if (range_empty(r))
				continue;
			present = r->end_pfn - r->start_pfn;
			for (int h = 0; h < t->nr_holes; h++)
				if (containing_zone(t, &t->holes[h]) == n * MAX_NR_ZONES + z)
					present -= t->holes[h].end_pfn - t->holes[h].start_pfn;
			populated = present != 0;
		}
	}
	if (!populated) {
		fmt_into(err->field, sizeof(err->field), "zones");
		err_msg(err, "no zone has present pages: the machine needs some memory");
		return vfail(loc, LOC_NONE, 0, 0);
	}
	clear_error(err);
	return 0;
}

int buddy_topology_validate(const struct buddy_topology *topo, const struct buddy_options *opts,
			    struct buddy_error *err)
{
	struct buddy_error dummy;
	struct vloc loc;

	return validate_impl(topo, opts, err ? err : &dummy, &loc);
}

/* ---- the text format ---- */

struct word {
	const char *s;
	size_t n;
};

struct parser {
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error *err;
	unsigned long long line;
	const char *directive; /* for the error field */
	bool nodes_set, cpus_set, node_named, cpu_named;
	unsigned long long nodes_line, cpus_line;
	unsigned long long cpu_line[BUDDY_MAX_CPUS];
	unsigned long long zone_line[BUDDY_MAX_NODES][MAX_NR_ZONES];
	unsigned long long hole_line[BUDDY_MAX_HOLES];
	unsigned long long cma_line[BUDDY_MAX_CMA];
	unsigned long long opt_line[NR_OPTS];
	/* line that last wrote each distance (0: default), and whether it was
	 * written for that direction itself rather than mirrored */
	unsigned long long dist_line[BUDDY_MAX_NODES][BUDDY_MAX_NODES];
	bool dist_explicit[BUDDY_MAX_NODES][BUDDY_MAX_NODES];
};

static int __attribute__((format(printf, 2, 3))) perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->directive)
		fmt_into(p->err->field, sizeof(p->err->field), "line %llu: %s", p->line, p->directive);
	else
		fmt_into(p->err->field, sizeof(p->err->field), "line %llu", p->line);
	va_start(ap, fmt);
	vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool word_is(const struct word *w, const char *lit)
{
	size_t n = strlen(lit);

	if (w->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(w->s[i]) != lower(lit[i]))
			return false;
	return true;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum numres { NUM_OK, NUM_BAD, NUM_RANGE };

/* A decimal or 0x-hex number at the start of s[0..n); *used gets its
 * length.  Overflow is reported as NUM_RANGE after the whole number was
 * consumed, so "99999999999999999999x" is still a bad number. */
static enum numres scan_u64(const char *s, size_t n, size_t *used, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int base = 10;
	size_t i = 0, first;
	bool overflow = false;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	first = i;
	for (; i < n; i++) {
		int d = digit_value(s[i]);

		if (d < 0 || (unsigned int)d >= base)
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			overflow = true;
		else
			v = v * base + (uint64_t)d;
	}
	*used = i;
	if (i == first)
		return NUM_BAD;
	if (overflow)
		return NUM_RANGE;
	*out = v;
	return NUM_OK;
}

static int bad_number(struct parser *p, const struct word *w, enum numres r, const char *what)
{
	char q[QUOTE_MAX * 4 + 8];

	quote(q, sizeof(q), w->s, w->n);
	if (r == NUM_RANGE)
		return perr(p, "%s '%s': number out of range", what, q);
	return perr(p, "%s '%s' is not a number (decimal or 0x hex)", what, q);
}

/* A plain unsigned number: node and CPU ids, counts, distances. */
static int word_u64(struct parser *p, const struct word *w, const char *what, uint64_t *out)
{
	size_t used;
	enum numres r = scan_u64(w->s, w->n, &used, out);

	if (used != w->n)
		r = NUM_BAD;
	if (r != NUM_OK)
		return bad_number(p, w, r, what);
	return 0;
}

/* A signed number in [min, max]: option values, whose meaning validation
 * checks afterwards with the option's own name. */
static int word_s64(struct parser *p, const struct word *w, const char *what, long long min, long long max,
		    long long *out)
{
	struct word digits = *w;
	bool neg = false;
	uint64_t mag = 0;
	size_t used;
	enum numres r;

	if (digits.n && digits.s[0] == '-') {
		neg = true;
		digits.s++;
		digits.n--;
	}
	r = scan_u64(digits.s, digits.n, &used, &mag);
	if (used != digits.n)
		r = NUM_BAD;
	if (r == NUM_OK) {
		if (neg ? mag > (uint64_t)(-(min + 1)) + 1 : mag > (uint64_t)max)
			r = NUM_RANGE;
	}
	if (r != NUM_OK)
		return bad_number(p, w, r, what);
	if (!neg)
		*out = (long long)mag;
	else if (mag == 0)
		*out = 0;
	else
		*out = -(long long)(mag - 1) - 1;
	return 0;
}

/*
 * Memory quantities.  A bare number counts pages (a pfn for a position, a
 * page count for a length).  A K, M, G or T suffix (binary, any case) makes
 * it bytes, as does a leading '@' on a position; bytes must be page aligned.
 */
static int word_pages(struct parser *p, const struct word *w, bool bytes, const char *what, uint64_t *pages)
{
	char q[QUOTE_MAX * 4 + 8];
	size_t used;
	uint64_t v = 0;
	unsigned int shift = 0;
	enum numres r = scan_u64(w->s, w->n, &used, &v);

	if (r != NUM_BAD && used + 1 == w->n) {
		switch (lower(w->s[used])) {
		case 'k': shift = 10; break;
		case 'm': shift = 20; break;
		case 'g': shift = 30; break;
		case 't': shift = 40; break;
		default: break;
		}
		if (shift)
			used++;
	}
	if (r != NUM_BAD && used != w->n)
		r = NUM_BAD;
	if (r == NUM_OK && shift) {
		if (v > (UINT64_MAX >> shift))
			r = NUM_RANGE;
		else
			v <<= shift;
		bytes = true;
	}
	if (r != NUM_OK) {
		quote(q, sizeof(q), w->s, w->n);
		if (r == NUM_RANGE)
			return perr(p, "%s '%s': number out of range", what, q);
		return perr(p, "%s '%s' is not a number (decimal or 0x hex, optional K/M/G/T suffix)", what, q);
	}
	if (bytes) {
		if (v & (PAGE_SIZE - 1)) {
			quote(q, sizeof(q), w->s, w->n);
			return perr(p, "%s '%s' is not a multiple of the %lu-byte page", what, q, PAGE_SIZE);
		}
		v >>= PAGE_SHIFT;
	}
	*pages = v;
	return 0;
}

/* start [@]QUANTITY, end [@]QUANTITY or +QUANTITY */
static int word_range(struct parser *p, const struct word *ws, const struct word *we,
		      struct buddy_pfn_range *out)
{
	struct word w = *ws;
	uint64_t start = 0, end = 0;

	if (w.n && w.s[0] == '@') {
		w.s++;
		w.n--;
		if (word_pages(p, &w, true, "start", &start))
			return -1;
	} else if (word_pages(p, &w, false, "start", &start)) {
		return -1;
	}
	w = *we;
	if (w.n && w.s[0] == '+') {
		uint64_t len = 0;

		w.s++;
		w.n--;
		if (word_pages(p, &w, false, "length", &len))
			return -1;
		if (len > UINT64_MAX - start)
			return perr(p, "start_pfn 0x%llx + length 0x%llx: number out of range",
				    (unsigned long long)start, (unsigned long long)len);
		end = start + len;
	} else if (w.n && w.s[0] == '@') {
		w.s++;
		w.n--;
		if (word_pages(p, &w, true, "end", &end))
			return -1;
	} else if (word_pages(p, &w, false, "end", &end)) {
		return -1;
	}
	if (end < start)
		return perr(p, "end_pfn 0x%llx below start_pfn 0x%llx", (unsigned long long)end,
			    (unsigned long long)start);
	out->start_pfn = start;
	out->end_pfn = end;
	return 0;
}

static int want_args(struct parser *p, int nr_words, int want, const char *usage)
{
	if (nr_words - 1 != want)
		return perr(p, "takes %d argument%s (%s), got %d", want, want == 1 ? "" : "s", usage, nr_words - 1);
	return 0;
}

static int word_node(struct parser *p, const struct word *w, int *nid)
{
	uint64_t v = 0;

	if (word_u64(p, w, "node", &v))
		return -1;
	if (v >= (uint64_t)p->t.nr_nodes)
		return perr(p, "node %llu >= nodes %d%s", (unsigned long long)v, p->t.nr_nodes,
			    p->nodes_set ? "" : " (declare 'nodes' first)");
	p->node_named = true;
	*nid = (int)v;
	return 0;
}

static int do_count(struct parser *p, const struct word *w, int nr, bool is_nodes)
{
	const char *name = is_nodes ? "nodes" : "cpus";
	int limit = is_nodes ? BUDDY_MAX_NODES : BUDDY_MAX_CPUS;
	bool *set = is_nodes ? &p->nodes_set : &p->cpus_set;
	unsigned long long *line = is_nodes ? &p->nodes_line : &p->cpus_line;
	uint64_t v = 0;

	if (want_args(p, nr, 1, "a count"))
		return -1;
	if (*set)
		return perr(p, "'%s' given twice (first on line %llu)", name, *line);
	if (is_nodes ? p->node_named : p->cpu_named)
		return perr(p, "'%s' must come before any line that names a %s", name, is_nodes ? "node" : "CPU");
	if (word_u64(p, &w[1], name, &v))
		return -1;
	if (v < 1 || v > (uint64_t)limit)
		return perr(p, "%s %llu outside 1..%d", name, (unsigned long long)v, limit);
	if (is_nodes)
		p->t.nr_nodes = (int)v;
	else
		p->t.nr_cpus = (int)v;
	*set = true;
	*line = p->line;
	return 0;
}

static int mark_cpu(struct parser *p, uint64_t cpu, int nid)
{
	if (cpu >= (uint64_t)p->t.nr_cpus)
		return perr(p, "cpu %llu >= cpus %d%s", (unsigned long long)cpu, p->t.nr_cpus,
			    p->cpus_set ? "" : " (declare 'cpus' first)");
	if (p->cpu_line[cpu])
		return perr(p, "cpu %llu already placed on node %d by line %llu", (unsigned long long)cpu,
			    p->t.cpu_to_node[cpu], p->cpu_line[cpu]);
	p->t.cpu_to_node[cpu] = nid;
	p->cpu_line[cpu] = p->line;
	return 0;
}

/* cpu LIST node N, LIST being items "a" or "a-b" joined by commas */
static int do_cpu(struct parser *p, const struct word *w, int nr)
{
	const char *s, *end;
	int nid = 0;

	if (want_args(p, nr, 3, "a CPU list, 'node', a node"))
		return -1;
	if (!word_is(&w[2], "node")) {
		char q[QUOTE_MAX * 4 + 8];

		quote(q, sizeof(q), w[2].s, w[2].n);
		return perr(p, "expected 'node' after the CPU list, got '%s'", q);
	}
	if (word_node(p, &w[3], &nid))
		return -1;
	p->cpu_named = true;
	s = w[1].s;
	end = w[1].s + w[1].n;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *item_end = comma ? comma : end;
		const char *dash = memchr(s, '-', (size_t)(item_end - s));
		struct word a = {s, (size_t)((dash ? dash : item_end) - s)};
		uint64_t lo = 0, hi = 0;

		if (word_u64(p, &a, "cpu", &lo))
			return -1;
		hi = lo;
		if (dash) {
			struct word b = {dash + 1, (size_t)(item_end - dash - 1)};

			if (word_u64(p, &b, "cpu", &hi))
				return -1;
			if (hi < lo)
				return perr(p, "cpu range %llu-%llu runs backwards", (unsigned long long)lo,
					    (unsigned long long)hi);
		}
		if (hi >= (uint64_t)p->t.nr_cpus)
			return mark_cpu(p, hi, nid);
		for (uint64_t c = lo; c <= hi; c++)
			if (mark_cpu(p, c, nid))
				return -1;
		if (!comma)
			break;
		s = comma + 1;
	}
	return 0;
}

static int do_distance(struct parser *p, const struct word *w, int nr)
{
	int a = 0, b = 0;
	uint64_t d = 0;

	if (want_args(p, nr, 3, "node, node, distance"))
		return -1;
	if (word_node(p, &w[1], &a) || word_node(p, &w[2], &b) || word_u64(p, &w[3], "distance", &d))
		return -1;
	if (d > UINT8_MAX)
		return perr(p, "distance %llu: number out of range (0..255)", (unsigned long long)d);
	if (p->dist_explicit[a][b])
		return perr(p, "distance %d %d given twice (first on line %llu)", a, b, p->dist_line[a][b]);
	p->t.distance[a][b] = (uint8_t)d;
	p->dist_explicit[a][b] = true;
	p->dist_line[a][b] = p->line;
	/* symmetric unless the other direction is given on its own line */
	if (!p->dist_explicit[b][a]) {
		p->t.distance[b][a] = (uint8_t)d;
		p->dist_line[b][a] = p->line;
	}
	return 0;
}

static int do_zone(struct parser *p, const struct word *w, int nr)
{
	int nid = 0, z;

	if (want_args(p, nr, 4, "node, zone type, start, end"))
		return -1;
	if (word_node(p, &w[1], &nid))
		return -1;
	for (z = 0; z < MAX_NR_ZONES; z++)
		if (word_is(&w[2], zone_names[z]))
			break;
	if (z == MAX_NR_ZONES) {
		char q[QUOTE_MAX * 4 + 8];

		quote(q, sizeof(q), w[2].s, w[2].n);
		return perr(p, "unknown zone type '%s' (DMA, DMA32, Normal or Movable)", q);
	}
	if (p->zone_line[nid][z])
		return perr(p, "zones[%d][%s] given twice (first on line %llu)", nid, zone_names[z],
			    p->zone_line[nid][z]);
	if (word_range(p, &w[3], &w[4], &p->t.zones[nid][z]))
		return -1;
	p->zone_line[nid][z] = p->line;
	return 0;
}

static int do_area(struct parser *p, const struct word *w, int nr, bool is_cma)
{
	int *count = is_cma ? &p->t.nr_cma : &p->t.nr_holes;
	int limit = is_cma ? BUDDY_MAX_CMA : BUDDY_MAX_HOLES;

	if (want_args(p, nr, 2, "start, end"))
		return -1;
	if (*count >= limit)
		return perr(p, "more than %d %s", limit, is_cma ? "CMA areas" : "holes");
	if (word_range(p, &w[1], &w[2], is_cma ? &p->t.cma[*count] : &p->t.holes[*count]))
		return -1;
	if (is_cma)
		p->cma_line[*count] = p->line;
	else
		p->hole_line[*count] = p->line;
	(*count)++;
	return 0;
}

static int word_bool(struct parser *p, const struct word *w, bool *out)
{
	char q[QUOTE_MAX * 4 + 8];

	if (word_is(w, "on") || word_is(w, "yes") || word_is(w, "true") || word_is(w, "1")) {
		*out = true;
		return 0;
	}
	if (word_is(w, "off") || word_is(w, "no") || word_is(w, "false") || word_is(w, "0")) {
		*out = false;
		return 0;
	}
	quote(q, sizeof(q), w->s, w->n);
	return perr(p, "'%s' is not on or off", q);
}

static int do_option(struct parser *p, const struct word *w, int nr)
{
	struct buddy_options *o = &p->o;
	long long v = 0;
	uint64_t u = 0;
	int id;

	if (nr < 2)
		return perr(p, "needs an option name and a value");
	for (id = 0; id < NR_OPTS; id++)
		if (word_is(&w[1], opt_names[id]))
			break;
	if (id == NR_OPTS) {
		char q[QUOTE_MAX * 4 + 8];

		quote(q, sizeof(q), w[1].s, w[1].n);
		return perr(p, "unknown option '%s'", q);
	}
	p->directive = opt_names[id];
	if (p->opt_line[id])
		return perr(p, "option given twice (first on line %llu)", p->opt_line[id]);
	if (want_args(p, nr - 1, id == OPT_LOWMEM_RESERVE_RATIO ? MAX_NR_ZONES : 1,
		      id == OPT_LOWMEM_RESERVE_RATIO ? "one ratio per zone: DMA DMA32 Normal Movable" : "a value"))
		return -1;
	switch (id) {
	case OPT_MAX_ORDER:
	case OPT_PAGEBLOCK_ORDER:
		if (word_u64(p, &w[2], opt_names[id], &u))
			return -1;
		if (u > UINT_MAX)
			return perr(p, "'%llu': number out of range", (unsigned long long)u);
		if (id == OPT_MAX_ORDER)
			o->max_order = (unsigned int)u;
		else
			o->pageblock_order = (unsigned int)u;
		break;
	case OPT_BACKING:
		if (word_is(&w[2], "none")) {
			o->backing = BUDDY_BACKING_NONE;
		} else if (word_is(&w[2], "mmap")) {
			o->backing = BUDDY_BACKING_MMAP;
		} else {
			char q[QUOTE_MAX * 4 + 8];

			quote(q, sizeof(q), w[2].s, w[2].n);
			return perr(p, "unknown backing '%s' (none or mmap)", q);
		}
		break;
	case OPT_POISON:
		if (word_bool(p, &w[2], &o->poison))
			return -1;
		break;
	case OPT_NO_MOBILITY_GROUPING:
		if (word_bool(p, &w[2], &o->no_mobility_grouping))
			return -1;
		break;
	case OPT_POISON_BYTE:
		if (word_u64(p, &w[2], "poison_byte", &u))
			return -1;
		if (u > UINT8_MAX)
			return perr(p, "poison_byte %llu: number out of range (0..255)", (unsigned long long)u);
		o->poison_byte = (uint8_t)u;
		break;
	case OPT_MIN_FREE_KBYTES:
		if (word_is(&w[2], "auto")) {
			o->min_free_kbytes = 0;
			break;
		}
		if (word_s64(p, &w[2], "min_free_kbytes", LONG_MIN, LONG_MAX, &v))
			return -1;
		o->min_free_kbytes = (long)v;
		break;
	case OPT_WATERMARK_SCALE_FACTOR:
	case OPT_WATERMARK_BOOST_FACTOR:
	case OPT_PCP_HIGH_FRACTION:
		if (word_s64(p, &w[2], opt_names[id], INT_MIN, INT_MAX, &v))
			return -1;
		if (id == OPT_WATERMARK_SCALE_FACTOR)
			o->watermark_scale_factor = (int)v;
		else if (id == OPT_WATERMARK_BOOST_FACTOR)
			o->watermark_boost_factor = (int)v;
		else
			o->percpu_pagelist_high_fraction = (int)v;
		break;
	case OPT_LOWMEM_RESERVE_RATIO:
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			if (word_s64(p, &w[2 + z], "ratio", INT_MIN, INT_MAX, &v))
				return -1;
			o->lowmem_reserve_ratio[z] = (int)v;
		}
		break;
	default:
		break;
	}
	p->opt_line[id] = p->line;
	return 0;
}

static int parse_line(struct parser *p, const char *s, size_t n)
{
	struct word w[MAX_WORDS + 1] = {{NULL, 0}};
	const char *nul = memchr(s, '\0', n);
	const char *hash;
	int nr = 0;
	size_t i = 0;

	p->directive = NULL;
	if (nul)
		return perr(p, "NUL byte at column %zu", (size_t)(nul - s) + 1);
	hash = memchr(s, '#', n);
	if (hash)
		n = (size_t)(hash - s);
	while (i < n) {
		size_t start;

		while (i < n && is_blank(s[i]))
			i++;
		if (i == n)
			break;
		start = i;
		while (i < n && !is_blank(s[i]))
			i++;
		if (nr == MAX_WORDS + 1)
			return perr(p, "more than %d words", MAX_WORDS);
		w[nr].s = s + start;
		w[nr].n = i - start;
		nr++;
	}
	if (nr == 0)
		return 0;
	if (nr > MAX_WORDS)
		return perr(p, "more than %d words", MAX_WORDS);
	if (word_is(&w[0], "nodes")) {
		p->directive = "nodes";
		return do_count(p, w, nr, true);
	}
	if (word_is(&w[0], "cpus")) {
		p->directive = "cpus";
		return do_count(p, w, nr, false);
	}
	if (word_is(&w[0], "cpu")) {
		p->directive = "cpu";
		return do_cpu(p, w, nr);
	}
	if (word_is(&w[0], "distance")) {
		p->directive = "distance";
		return do_distance(p, w, nr);
	}
	if (word_is(&w[0], "zone")) {
		p->directive = "zone";
		return do_zone(p, w, nr);
	}
	if (word_is(&w[0], "hole")) {
		p->directive = "hole";
		return do_area(p, w, nr, false);
	}
	if (word_is(&w[0], "cma")) {
		p->directive = "cma";
		return do_area(p, w, nr, true);
	}
	if (word_is(&w[0], "option")) {
		p->directive = "option";
		return do_option(p, w, nr);
	}
	{
		char q[QUOTE_MAX * 4 + 8];

		quote(q, sizeof(q), w[0].s, w[0].n);
		return perr(p, "unknown directive '%s' (nodes, cpus, cpu, distance, zone, hole, cma or option)", q);
	}
}

static unsigned long long loc_line(const struct parser *p, const struct vloc *loc)
{
	switch (loc->kind) {
	case LOC_NODES: return p->nodes_line;
	case LOC_CPUS: return p->cpus_line;
	case LOC_CPU: return p->cpu_line[loc->a];
	case LOC_DISTANCE: return p->dist_line[loc->a][loc->b];
	case LOC_ZONE: return p->zone_line[loc->a][loc->b];
	case LOC_HOLE: return p->hole_line[loc->a];
	case LOC_CMA: return p->cma_line[loc->a];
	case LOC_OPTION: return p->opt_line[loc->a];
	case LOC_NONE:
	default: return 0;
	}
}

static int finish(struct parser *p, struct buddy_error *err)
{
	struct vloc loc;
	unsigned long long line;
	char field[sizeof(err->field)];

	for (int i = 0; i < p->t.nr_nodes; i++)
		for (int j = 0; j < p->t.nr_nodes; j++)
			if (!p->dist_line[i][j])
				p->t.distance[i][j] = i == j ? BUDDY_LOCAL_DISTANCE : BUDDY_REMOTE_DISTANCE;
	if (validate_impl(&p->t, &p->o, err, &loc) == 0)
		return 0;
	line = loc_line(p, &loc);
	if (line) {
		memcpy(field, err->field, sizeof(field));
		fmt_into(err->field, sizeof(err->field), "line %llu: %s", line, field);
	}
	return -1;
}

int buddy_topology_parse(const char *text, size_t len, struct buddy_topology *topo,
			 struct buddy_options *opts, struct buddy_error *err)
{
	struct buddy_error dummy;
	struct parser *p;
	size_t pos = 0;
	int rc = 0;

	if (!err)
		err = &dummy;
	clear_error(err);
	if (!topo) {
		fmt_into(err->field, sizeof(err->field), "topology");
		err_msg(err, "no topology to fill (NULL)");
		return -1;
	}
	if (!text && len) {
		fmt_into(err->field, sizeof(err->field), "text");
		err_msg(err, "NULL text of length %zu", len);
		return -1;
	}
	/* ~50 KiB of line bookkeeping: too much for some threads' stacks */
	p = calloc(1, sizeof(*p));
	if (!p) {
		fmt_into(err->field, sizeof(err->field), "text");
		err_msg(err, "out of memory");
		return -1;
	}
	p->err = err;
	p->t.nr_nodes = 1;
	p->t.nr_cpus = 1;
	if (opts)
		p->o = *opts;
	else
		buddy_options_init(&p->o);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p->line++;
		rc = parse_line(p, text + pos, n);
		if (rc)
			break;
		pos += n + 1;
	}
	if (rc == 0)
		rc = finish(p, err);
	if (rc == 0) {
		*topo = p->t;
		if (opts)
			*opts = p->o;
	}
	free(p);
	return rc;
}

static void prefix_message(struct buddy_error *err, const char *path)
{
	char msg[sizeof(err->message)];

	memcpy(msg, err->message, sizeof(msg));
	fmt_into(err->message, sizeof(err->message), "%s: %s", path, msg);
}

int buddy_topology_load(const char *path, struct buddy_topology *topo, struct buddy_options *opts,
			struct buddy_error *err)
{
	struct buddy_error dummy;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc;

	if (!err)
		err = &dummy;
	clear_error(err);
	if (!path) {
		fmt_into(err->field, sizeof(err->field), "file");
		err_msg(err, "no path (NULL)");
		return -1;
	}
	f = fopen(path, "rb");
	if (!f) {
		int e = errno;

		fmt_into(err->field, sizeof(err->field), "file");
		err_msg(err, "cannot open '%s': %s", path, strerror(e));
		return -1;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			/* one byte past the limit tells "too large" from "exactly the limit" */
			size_t ncap = cap ? cap * 2 : 4096;
			char *nbuf;

			if (ncap > LOAD_MAX_BYTES + 1)
				ncap = LOAD_MAX_BYTES + 1;
			if (cap == ncap) {
				fclose(f);
				free(buf);
				fmt_into(err->field, sizeof(err->field), "file");
				err_msg(err, "'%s' is larger than %lu MiB", path, LOAD_MAX_BYTES >> 20);
				return -1;
			}
			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				fclose(f);
				free(buf);
				fmt_into(err->field, sizeof(err->field), "file");
				err_msg(err, "'%s': out of memory", path);
				return -1;
			}
			buf = nbuf;
			cap = ncap;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		free(buf);
		fmt_into(err->field, sizeof(err->field), "file");
		err_msg(err, "cannot read '%s': %s", path, strerror(e));
		return -1;
	}
	fclose(f);
	rc = buddy_topology_parse(buf, len, topo, opts, err);
	if (rc)
		prefix_message(err, path);
	free(buf);
	return rc;
}

/* ---- writing ---- */

static void format_size(char *buf, size_t len, uint64_t pages)
{
	static const char *const units[] = {"TiB", "GiB", "MiB"};
	static const unsigned int shifts[] = {40 - PAGE_SHIFT, 30 - PAGE_SHIFT, 20 - PAGE_SHIFT};

	for (int i = 0; i < 3; i++) {
		if (pages && (pages & ((1ULL << shifts[i]) - 1)) == 0) {
			fmt_into(buf, len, "%llu %s", (unsigned long long)(pages >> shifts[i]), units[i]);
			return;
		}
	}
	if (pages <= UINT64_MAX / (PAGE_SIZE >> 10))
		fmt_into(buf, len, "%llu KiB", (unsigned long long)(pages * (PAGE_SIZE >> 10)));
	else
		fmt_into(buf, len, "%llu pages", (unsigned long long)pages);
}

/* "[mem 0x...-0x...] 16 MiB", the kernel's way of printing a range */
static void write_range_comment(FILE *out, const struct buddy_pfn_range *r)
{
	char size[48];

	if (range_empty(r) || r->end_pfn > (UINT64_MAX >> PAGE_SHIFT))
		return;
	format_size(size, sizeof(size), r->end_pfn - r->start_pfn);
	fprintf(out, "  # [mem 0x%010llx-0x%010llx] %s", (unsigned long long)(r->start_pfn << PAGE_SHIFT),
		(unsigned long long)((r->end_pfn << PAGE_SHIFT) - 1), size);
}

static void write_cpus(FILE *out, const struct buddy_topology *t)
{
	bool done[BUDDY_MAX_CPUS] = {false};

	for (int c = 0; c < t->nr_cpus; c++) {
		int nid = t->cpu_to_node[c];
		bool first = true;

		if (done[c])
			continue;
		fputs("cpu ", out);
		for (int i = c; i < t->nr_cpus; i++) {
			int j = i;

			if (done[i] || t->cpu_to_node[i] != nid)
				continue;
			while (j + 1 < t->nr_cpus && t->cpu_to_node[j + 1] == nid)
				j++;
			fprintf(out, "%s%d", first ? "" : ",", i);
			if (j > i)
				fprintf(out, "-%d", j);
			for (int k = i; k <= j; k++)
				done[k] = true;
			first = false;
			i = j;
		}
		fprintf(out, " node %d\n", nid);
	}
}

int buddy_topology_write(FILE *out, const struct buddy_topology *topo, const struct buddy_options *opts)
{
	const struct buddy_topology *t = topo;
	char size[48];
	uint64_t present = 0;

	if (!out || !t)
		return -1;
	/* what the format cannot express cannot be written */
	if (t->nr_nodes < 1 || t->nr_nodes > BUDDY_MAX_NODES || t->nr_cpus < 1 || t->nr_cpus > BUDDY_MAX_CPUS ||
	    t->nr_holes < 0 || t->nr_holes > BUDDY_MAX_HOLES || t->nr_cma < 0 || t->nr_cma > BUDDY_MAX_CMA) {
		errno = EINVAL;
		return -1;
	}
	for (int n = 0; n < t->nr_nodes; n++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			if (!range_empty(&t->zones[n][z]))
				present += t->zones[n][z].end_pfn - t->zones[n][z].start_pfn;
	for (int h = 0; h < t->nr_holes; h++)
		if (!range_empty(&t->holes[h]) && present >= t->holes[h].end_pfn - t->holes[h].start_pfn)
			present -= t->holes[h].end_pfn - t->holes[h].start_pfn;
	format_size(size, sizeof(size), present);
	fprintf(out, "# pagetorture topology: %d node%s, %d CPU%s, %s present\n", t->nr_nodes,
		t->nr_nodes == 1 ? "" : "s", t->nr_cpus, t->nr_cpus == 1 ? "" : "s", size);
	fprintf(out, "nodes %d\ncpus %d\n", t->nr_nodes, t->nr_cpus);
	write_cpus(out, t);
	for (int i = 0; i < t->nr_nodes; i++) {
		if (t->distance[i][i] != BUDDY_LOCAL_DISTANCE)
			fprintf(out, "distance %d %d %u\n", i, i, t->distance[i][i]);
		for (int j = i + 1; j < t->nr_nodes; j++) {
			fprintf(out, "distance %d %d %u\n", i, j, t->distance[i][j]);
			if (t->distance[j][i] != t->distance[i][j])
				fprintf(out, "distance %d %d %u\n", j, i, t->distance[j][i]);
		}
	}
	for (int n = 0; n < t->nr_nodes; n++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			const struct buddy_pfn_range *r = &t->zones[n][z];

			if (!r->start_pfn && !r->end_pfn)
				continue;
			fprintf(out, "zone %d %s %llu %llu", n, zone_names[z], (unsigned long long)r->start_pfn,
				(unsigned long long)r->end_pfn);
			write_range_comment(out, r);
			fputc('\n', out);
		}
	}
	for (int h = 0; h < t->nr_holes; h++) {
		fprintf(out, "hole %llu %llu", (unsigned long long)t->holes[h].start_pfn,
			(unsigned long long)t->holes[h].end_pfn);
		write_range_comment(out, &t->holes[h]);
		fputc('\n', out);
	}
	for (int c = 0; c < t->nr_cma; c++) {
		fprintf(out, "cma %llu %llu", (unsigned long long)t->cma[c].start_pfn,
			(unsigned long long)t->cma[c].end_pfn);
		write_range_comment(out, &t->cma[c]);
		fputc('\n', out);
	}
	if (opts) {
		const struct buddy_options *o = opts;

		fprintf(out, "option max_order %u\n", o->max_order);
		fprintf(out, "option pageblock_order %u\n", o->pageblock_order);
		/* The caller's memory cannot be named in a file: it prints as mmap. */
		fprintf(out, "option backing %s\n", o->backing != BUDDY_BACKING_NONE ? "mmap" : "none");
		fprintf(out, "option poison %s\n", o->poison ? "on" : "off");
		fprintf(out, "option poison_byte 0x%02x\n", o->poison_byte);
		fprintf(out, "option min_free_kbytes %ld%s\n", o->min_free_kbytes,
			o->min_free_kbytes == 0 ? "  # computed from memory" : "");
		fprintf(out, "option watermark_scale_factor %d\n", o->watermark_scale_factor);
		fprintf(out, "option watermark_boost_factor %d\n", o->watermark_boost_factor);
		fprintf(out, "option lowmem_reserve_ratio %d %d %d %d\n", o->lowmem_reserve_ratio[ZONE_DMA],
			o->lowmem_reserve_ratio[ZONE_DMA32], o->lowmem_reserve_ratio[ZONE_NORMAL],
			o->lowmem_reserve_ratio[ZONE_MOVABLE]);
		fprintf(out, "option percpu_pagelist_high_fraction %d\n", o->percpu_pagelist_high_fraction);
		fprintf(out, "option no_mobility_grouping %s\n", o->no_mobility_grouping ? "on" : "off");
	}
	return ferror(out) ? -1 : 0;
}
