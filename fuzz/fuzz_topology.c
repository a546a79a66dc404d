/* fuzz_topology: machine descriptions, as topology text or as raw bytes
 * poured into struct buddy_topology and buddy_options.  Never a crash:
 * every refusal names its field, an accepted text writes out and parses
 * back to the same machine, and an accepted machine of modest size builds
 * an allocator that is checker-clean and serves an allocation. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy/buddy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger machines are validated but not built: building is linear in the
 * span and the fuzzer should spend its time elsewhere. */
#define BUILD_MAX_PFN (1u << 15)
#define BACKING_MAX_PFN 4096u

static void __attribute__((noreturn, format(printf, 2, 3))) fail(const char *inv, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "==pagetorture== invariant %s violated: ", inv);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n==pagetorture== invariant %s\n", inv);
	abort();
}

static void need_named(const struct buddy_error *err, const char *what)
{
	if (!err->field[0] || !err->message[0])
		fail("topology-error-unnamed", "%s refused without naming the field (field '%s', message '%s')", what,
		     err->field, err->message);
}

static bool range_eq(const struct buddy_pfn_range *a, const struct buddy_pfn_range *b)
{
	return a->start_pfn == b->start_pfn && a->end_pfn == b->end_pfn;
}

static bool topo_eq(const struct buddy_topology *a, const struct buddy_topology *b)
{
	if (a->nr_nodes != b->nr_nodes || a->nr_cpus != b->nr_cpus || a->nr_holes != b->nr_holes || a->nr_cma != b->nr_cma)
		return false;
	for (int c = 0; c < a->nr_cpus; c++)
		if (a->cpu_to_node[c] != b->cpu_to_node[c])
			return false;
	for (int i = 0; i < a->nr_nodes; i++) {
		for (int j = 0; j < a->nr_nodes; j++)
			if (a->distance[i][j] != b->distance[i][j])
				return false;
		for (int z = 0; z < MAX_NR_ZONES; z++)
			if (!range_eq(&a->zones[i][z], &b->zones[i][z]))
				return false;
	}
	for (int h = 0; h < a->nr_holes; h++)
		if (!range_eq(&a->holes[h], &b->holes[h]))
			return false;
	for (int c = 0; c < a->nr_cma; c++)
		if (!range_eq(&a->cma[c], &b->cma[c]))
			return false;
	return true;
}

static bool opts_eq(const struct buddy_options *a, const struct buddy_options *b)
{
	return a->max_order == b->max_order && a->pageblock_order == b->pageblock_order && a->backing == b->backing &&
	       a->poison == b->poison && a->poison_byte == b->poison_byte && a->min_free_kbytes == b->min_free_kbytes &&
	       a->watermark_scale_factor == b->watermark_scale_factor &&
	       a->watermark_boost_factor == b->watermark_boost_factor &&
	       !memcmp(a->lowmem_reserve_ratio, b->lowmem_reserve_ratio, sizeof(a->lowmem_reserve_ratio)) &&
	       a->percpu_pagelist_high_fraction == b->percpu_pagelist_high_fraction &&
	       a->no_mobility_grouping == b->no_mobility_grouping;
}

struct rd {
	const uint8_t *p;
	size_t len, pos;
};

static uint8_t u8(struct rd *r)
{
	return r->pos < r->len ? r->p[r->pos++] : 0;
}

static uint16_t u16(struct rd *r)
{
	uint16_t lo = u8(r);
	return (uint16_t)(lo | u8(r) << 8);
}

/* Mostly plausible machines, with every field now and then out of range. */
static void raw_machine(struct rd *r, struct buddy_topology *t, struct buddy_options *o)
{
	uint64_t pfn = 0;

	memset(t, 0, sizeof(*t));
	buddy_options_init(o);
	t->nr_nodes = u8(r) % 5;
	t->nr_cpus = u8(r) % 6;
	for (int c = 0; c < t->nr_cpus; c++)
		t->cpu_to_node[c] = (int8_t)u8(r) % 5;
	bool raw_dist = u8(r) & 1;
	for (int i = 0; i < t->nr_nodes; i++)
		for (int j = 0; j < t->nr_nodes; j++)
			t->distance[i][j] = raw_dist ? u8(r) : i == j ? BUDDY_LOCAL_DISTANCE : BUDDY_REMOTE_DISTANCE;
	for (int n = 0; n < t->nr_nodes; n++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			uint8_t k = u8(r);
			if ((k & 3) == 0)
				continue;
			uint64_t size = (uint64_t)u8(r) << ((k >> 2) & 7);
			uint64_t start = (k >> 5) == 7 && pfn ? pfn - (u8(r) % pfn) - 1 : pfn;
			t->zones[n][z] = (struct buddy_pfn_range){ start, start + size };
			if (start + size > pfn)
				pfn = start + size;
		}
	}
	t->nr_holes = u8(r) % 4;
	for (int h = 0; h < t->nr_holes; h++) {
		uint64_t s = pfn ? u16(r) % pfn : u16(r);
		t->holes[h] = (struct buddy_pfn_range){ s, s + u8(r) };
	}
	t->nr_cma = u8(r) % 3;
	for (int c = 0; c < t->nr_cma; c++) {
		/* one read per statement: argument order must not depend on the compiler */
		uint64_t base = u8(r);
		uint64_t s = base << (u8(r) % 10);
		uint64_t len = u8(r);
		len <<= u8(r) % 10;
		t->cma[c] = (struct buddy_pfn_range){ s, s + len };
	}
	o->max_order = u8(r) % 14;
	o->pageblock_order = u8(r) % 14;
	o->backing = (enum buddy_backing)(u8(r) % 3);
	o->poison = u8(r) & 1;
	o->min_free_kbytes = (int16_t)u16(r);
	o->watermark_scale_factor = u16(r) % 3100;
	o->watermark_boost_factor = (int16_t)u16(r) * 4;
	for (int z = 0; z < MAX_NR_ZONES; z++)
		o->lowmem_reserve_ratio[z] = (int8_t)u8(r) * 4;
	o->percpu_pagelist_high_fraction = u8(r) % 20;
	o->no_mobility_grouping = u8(r) & 1;
}

static uint64_t span_end(const struct buddy_topology *t)
{
	uint64_t end = 0;

	for (int n = 0; n < t->nr_nodes; n++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			if (t->zones[n][z].end_pfn > end)
				end = t->zones[n][z].end_pfn;
	return end;
}

static void build(const struct buddy_topology *t, struct buddy_options *o)
{
	struct buddy_error err;
	struct buddy_violation v[4];
	struct buddy_check_result res = { 0, 4, v };
	char msg[256];

	if (span_end(t) > BUILD_MAX_PFN)
		return;
	if (span_end(t) > BACKING_MAX_PFN)
		o->backing = BUDDY_BACKING_NONE;
	o->log = NULL;
	struct buddy_system *sys = buddy_system_create(t, o, &err);
	if (!sys) {
		need_named(&err, "buddy_system_create");
		/* Validation passed, so only running out of memory may stop it. */
		if (strcmp(err.field, "memory") && strcmp(err.field, "backing"))
			fail("topology-create-refused", "validate accepted, create refused: %s: %s", err.field, err.message);
		return;
	}
	if (buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, &res)) {
		buddy_violation_format(&v[0], msg, sizeof(msg));
		fail(v[0].name, "fresh allocator: %s", msg);
	}
	/* One allocation of each end of the order range, then free them. */
	struct page *small = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN, 0);
	struct page *big = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY, o->max_order);
	if (small && buddy_free_pages(sys, small, 0))
		fail("topology-free-refused", "order-0 free refused");
	if (big && buddy_free_pages(sys, big, o->max_order))
		fail("topology-free-refused", "order-%u free refused", o->max_order);
	buddy_drain_all_pages(sys);
	if (buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, &res)) {
		buddy_violation_format(&v[0], msg, sizeof(msg));
		fail(v[0].name, "after an alloc/free pair: %s", msg);
	}
	buddy_system_destroy(sys);
}

static void roundtrip(const struct buddy_topology *t, const struct buddy_options *o)
{
	char *text = NULL;
	size_t len = 0;
	struct buddy_topology t2;
	struct buddy_options o2;
	struct buddy_error err;

	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	if (buddy_topology_write(f, t, o)) {
		fclose(f);
		free(text);
		fail("topology-write", "write refused a validated machine");
	}
	fclose(f);
	buddy_options_init(&o2);
	if (buddy_topology_parse(text, len, &t2, &o2, &err))
		fail("topology-roundtrip", "written text does not parse: %s: %s\n%s", err.field, err.message, text);
	if (!topo_eq(t, &t2) || !opts_eq(o, &o2))
		fail("topology-roundtrip", "parse(write(t)) differs from t:\n%s", text);
	free(text);
}

static bool is_text(const uint8_t *data, size_t size)
{
	return size && (data[0] == '#' || data[0] == '\n' || (data[0] >= 'A' && data[0] <= 'z'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err;

	if (is_text(data, size)) {
		buddy_options_init(&o);
		if (buddy_topology_parse((const char *)data, size, &t, &o, &err)) {
			need_named(&err, "buddy_topology_parse");
			return 0;
		}
	} else {
		struct rd r = { data, size, size ? 1 : 0 };
		raw_machine(&r, &t, &o);
	}
	if (buddy_topology_validate(&t, &o, &err)) {
		need_named(&err, "buddy_topology_validate");
		/* create must refuse exactly what validate refuses */
		struct buddy_system *sys = buddy_system_create(&t, &o, &err);
		if (sys)
			fail("topology-create-accepted-invalid", "create accepted a machine validate refused");
		return 0;
	}
	roundtrip(&t, &o);
	build(&t, &o);
	return 0;
}
