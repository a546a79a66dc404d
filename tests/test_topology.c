/* Topologies: the built-in machines, the text format and its round trip,
 * every validation rule naming its field, and robustness of the parser on
 * mutated input. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buddy/buddy.h"
#include "tap.h"

/* ---- helpers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t xorshift(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static uint64_t rnd(uint64_t n)
{
	return n ? xorshift() % n : 0;
}

static bool ranges_equal(const struct buddy_pfn_range *a, const struct buddy_pfn_range *b)
{
	return a->start_pfn == b->start_pfn && a->end_pfn == b->end_pfn;
}

/* Field by field over the meaningful part: padding and unused array slots
 * carry no information. */
static bool topo_equal(const struct buddy_topology *a, const struct buddy_topology *b)
{
	if (a->nr_nodes != b->nr_nodes || a->nr_cpus != b->nr_cpus || a->nr_holes != b->nr_holes ||
	    a->nr_cma != b->nr_cma)
		return false;
	for (int c = 0; c < a->nr_cpus; c++)
		if (a->cpu_to_node[c] != b->cpu_to_node[c])
			return false;
	for (int i = 0; i < a->nr_nodes; i++) {
		for (int j = 0; j < a->nr_nodes; j++)
			if (a->distance[i][j] != b->distance[i][j])
				return false;
		for (int z = 0; z < MAX_NR_ZONES; z++)
			if (!ranges_equal(&a->zones[i][z], &b->zones[i][z]))
				return false;
	}
	for (int h = 0; h < a->nr_holes; h++)
		if (!ranges_equal(&a->holes[h], &b->holes[h]))
			return false;
	for (int c = 0; c < a->nr_cma; c++)
		if (!ranges_equal(&a->cma[c], &b->cma[c]))
			return false;
	return true;
}

static bool opts_equal(const struct buddy_options *a, const struct buddy_options *b)
{
	for (int z = 0; z < MAX_NR_ZONES; z++)
		if (a->lowmem_reserve_ratio[z] != b->lowmem_reserve_ratio[z])
			return false;
	return a->max_order == b->max_order && a->pageblock_order == b->pageblock_order &&
	       a->backing == b->backing && a->poison == b->poison && a->poison_byte == b->poison_byte &&
	       a->min_free_kbytes == b->min_free_kbytes && a->watermark_scale_factor == b->watermark_scale_factor &&
	       a->watermark_boost_factor == b->watermark_boost_factor &&
	       a->percpu_pagelist_high_fraction == b->percpu_pagelist_high_fraction &&
	       a->no_mobility_grouping == b->no_mobility_grouping;
}

/* The text buddy_topology_write() produces; caller frees. */
static char *write_text(const struct buddy_topology *t, const struct buddy_options *o, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int rc;

	if (!f)
		return NULL;
	rc = buddy_topology_write(f, t, o);
	fclose(f);
	if (rc) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* Parse a NUL-terminated text; the copy has no terminator so ASan sees any
 * read past len. */
static int parse_str(const char *text, struct buddy_topology *t, struct buddy_options *o, struct buddy_error *err)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, text, len);
	rc = buddy_topology_parse(copy, len, t, o, err);
	free(copy);
	return rc;
}

static bool terminated(const struct buddy_error *err)
{
	return memchr(err->field, '\0', sizeof(err->field)) && memchr(err->message, '\0', sizeof(err->message));
}

static bool round_trip(const struct buddy_topology *t, const struct buddy_options *o)
{
	struct buddy_topology back;
	struct buddy_options oback;
	struct buddy_error err;
	size_t len;
	char *text = write_text(t, o, &len);
	bool ok;

	if (!text)
		return false;
	/* start from values the text must overwrite */
	buddy_options_init(&oback);
	oback.max_order = 3;
	oback.pageblock_order = 1;
	oback.backing = BUDDY_BACKING_MMAP;
	oback.poison = !o->poison;
	oback.watermark_boost_factor = 7;
	oback.lowmem_reserve_ratio[ZONE_MOVABLE] = 5;
	memset(&back, 0x5a, sizeof(back));
	ok = buddy_topology_parse(text, len, &back, &oback, &err) == 0;
	if (!ok)
		fprintf(stderr, "round trip parse failed: %s: %s\n%s", err.field, err.message, text);
	ok = ok && topo_equal(t, &back) && opts_equal(o, &oback);
	free(text);
	return ok;
}

/* ---- random valid topologies ---- */

static bool overlaps_any(const struct buddy_pfn_range *r, const struct buddy_pfn_range *list, int n)
{
	for (int i = 0; i < n; i++)
		if (r->start_pfn < list[i].end_pfn && list[i].start_pfn < r->end_pfn)
			return true;
	return false;
}

static void random_options(struct buddy_options *o)
{
	buddy_options_init(o);
	o->max_order = 1 + (unsigned int)rnd(MAX_PAGE_ORDER_LIMIT);
	o->pageblock_order = (unsigned int)rnd(o->max_order + 1);
	o->backing = rnd(2) ? BUDDY_BACKING_MMAP : BUDDY_BACKING_NONE;
	o->poison = rnd(2);
	o->poison_byte = (uint8_t)rnd(256);
	o->min_free_kbytes = rnd(3) ? 0 : (long)rnd(10000000);
	o->watermark_scale_factor = 1 + (int)rnd(3000);
	o->watermark_boost_factor = (int)rnd(40000);
	for (int z = 0; z < MAX_NR_ZONES; z++)
		o->lowmem_reserve_ratio[z] = (int)rnd(1000);
	o->percpu_pagelist_high_fraction = rnd(2) ? 0 : 8 + (int)rnd(1000);
	o->no_mobility_grouping = rnd(2);
}

static void random_topology(struct buddy_topology *t, const struct buddy_options *o)
{
	uint64_t pb = 1ULL << o->pageblock_order;
	uint64_t cursor = rnd(4) * 1024 + rnd(2) * rnd(1000);
	bool any = false;

	memset(t, 0, sizeof(*t));
	t->nr_nodes = rnd(20) ? 1 + (int)rnd(6) : 1 + (int)rnd(BUDDY_MAX_NODES);
	t->nr_cpus = rnd(20) ? 1 + (int)rnd(16) : 1 + (int)rnd(BUDDY_MAX_CPUS);
	for (int c = 0; c < t->nr_cpus; c++)
		t->cpu_to_node[c] = (int)rnd((uint64_t)t->nr_nodes);
	for (int i = 0; i < t->nr_nodes; i++) {
		t->distance[i][i] = BUDDY_LOCAL_DISTANCE;
		for (int j = i + 1; j < t->nr_nodes; j++) {
			t->distance[i][j] = (uint8_t)(11 + rnd(244));
			t->distance[j][i] = rnd(4) ? t->distance[i][j] : (uint8_t)(11 + rnd(244));
		}
	}
	for (int n = 0; n < t->nr_nodes; n++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			uint64_t size = 1 + rnd(rnd(2) ? 5000 : 300000);

			if (rnd(3) == 0)
				continue;
			cursor += rnd(3) ? 0 : rnd(9000);
			if (rnd(15) == 0) { /* empty but positioned: written and read back as such */
				t->zones[n][z].start_pfn = t->zones[n][z].end_pfn = cursor;
				continue;
			}
			if (z <= ZONE_DMA32 && cursor + size > (1ULL << 20))
				continue;
			t->zones[n][z].start_pfn = cursor;
			t->zones[n][z].end_pfn = cursor + size;
			cursor += size;
			any = true;
		}
	}
	if (!any) {
		t->zones[0][ZONE_NORMAL].start_pfn = cursor;
		t->zones[0][ZONE_NORMAL].end_pfn = cursor + 1 + rnd(100000);
	}
	/* holes strictly after a zone's first page, so every zone stays populated */
	for (int tries = (int)rnd(12); tries > 0 && t->nr_holes < BUDDY_MAX_HOLES; tries--) {
		const struct buddy_pfn_range *zr = &t->zones[rnd((uint64_t)t->nr_nodes)][rnd(MAX_NR_ZONES)];
		struct buddy_pfn_range h;
		uint64_t span = zr->end_pfn - zr->start_pfn;

		if (span < 2)
			continue;
		h.start_pfn = zr->start_pfn + 1 + rnd(span - 1);
		h.end_pfn = h.start_pfn + 1 + rnd(zr->end_pfn - h.start_pfn);
		if (!overlaps_any(&h, t->holes, t->nr_holes))
			t->holes[t->nr_holes++] = h;
	}
	for (int tries = (int)rnd(8); tries > 0 && t->nr_cma < BUDDY_MAX_CMA; tries--) {
		const struct buddy_pfn_range *zr = &t->zones[rnd((uint64_t)t->nr_nodes)][rnd(MAX_NR_ZONES)];
		struct buddy_pfn_range c;
		uint64_t first = (zr->start_pfn + pb - 1) & ~(pb - 1);

		if (zr->end_pfn < first + pb)
			continue;
		c.start_pfn = first + pb * rnd((zr->end_pfn - first) / pb);
		c.end_pfn = c.start_pfn + pb * (1 + rnd((zr->end_pfn - c.start_pfn) / pb));
		if (c.end_pfn > zr->end_pfn)
			continue;
		if (!overlaps_any(&c, t->holes, t->nr_holes) && !overlaps_any(&c, t->cma, t->nr_cma))
			t->cma[t->nr_cma++] = c;
	}
}

/* ---- sections ---- */

static void test_names(void)
{
	test_section("names");
	CHECK(!strcmp(buddy_zone_name(ZONE_DMA), "DMA"));
	CHECK(!strcmp(buddy_zone_name(ZONE_DMA32), "DMA32"));
	CHECK(!strcmp(buddy_zone_name(ZONE_NORMAL), "Normal"));
	CHECK(!strcmp(buddy_zone_name(ZONE_MOVABLE), "Movable"));
	CHECK(buddy_zone_name(MAX_NR_ZONES) != NULL);
	CHECK(!strcmp(buddy_migratetype_name(MIGRATE_UNMOVABLE), "Unmovable"));
	CHECK(!strcmp(buddy_migratetype_name(MIGRATE_MOVABLE), "Movable"));
	CHECK(!strcmp(buddy_migratetype_name(MIGRATE_RECLAIMABLE), "Reclaimable"));
	CHECK(!strcmp(buddy_migratetype_name(MIGRATE_HIGHATOMIC), "HighAtomic"));
	CHECK(!strcmp(buddy_migratetype_name(MIGRATE_CMA), "CMA"));
	CHECK(!strcmp(buddy_migratetype_name(MIGRATE_ISOLATE), "Isolate"));
	CHECK(buddy_migratetype_name(-1) != NULL);
	CHECK(buddy_migratetype_name(MIGRATE_TYPES) != NULL);
}

static void test_options_init(void)
{
	struct buddy_options o;
	struct buddy_error err;

	test_section("options_init");
	memset(&o, 0x77, sizeof(o));
	buddy_options_init(&o);
	CHECK_EQ(o.max_order, 10);
	CHECK_EQ(o.pageblock_order, 9);
	CHECK_EQ(o.backing, BUDDY_BACKING_NONE);
	CHECK(!o.poison);
	CHECK_EQ(o.poison_byte, 0xaa);
	CHECK_EQ(o.min_free_kbytes, 0);
	CHECK_EQ(o.watermark_scale_factor, 10);
	CHECK_EQ(o.watermark_boost_factor, 15000);
	CHECK_EQ(o.lowmem_reserve_ratio[ZONE_DMA], 256);
	CHECK_EQ(o.lowmem_reserve_ratio[ZONE_DMA32], 256);
	CHECK_EQ(o.lowmem_reserve_ratio[ZONE_NORMAL], 32);
	CHECK_EQ(o.lowmem_reserve_ratio[ZONE_MOVABLE], 0);
	CHECK_EQ(o.percpu_pagelist_high_fraction, 0);
	CHECK(!o.no_mobility_grouping);
	CHECK(o.log == NULL);
	CHECK(o.log_ctx == NULL);
	buddy_options_init(NULL);

	struct buddy_topology t;

	buddy_topology_default(&t);
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
}

static uint64_t present_pages(const struct buddy_topology *t)
{
	uint64_t sum = 0;

	for (int n = 0; n < t->nr_nodes; n++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			sum += t->zones[n][z].end_pfn - t->zones[n][z].start_pfn;
	for (int h = 0; h < t->nr_holes; h++)
		sum -= t->holes[h].end_pfn - t->holes[h].start_pfn;
	return sum;
}

static void test_default(void)
{
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err;
	bool seen[MAX_NR_ZONES] = {false};

	test_section("default");
	buddy_options_init(&o);
	buddy_topology_default(&t);
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
	CHECK_EQ(buddy_topology_validate(&t, NULL, &err), 0);
	CHECK_EQ(buddy_topology_validate(&t, &o, NULL), 0);
	CHECK_EQ(t.nr_nodes, 2);
	CHECK_EQ(t.nr_cpus, 4);
	CHECK_EQ(t.cpu_to_node[0], 0);
	CHECK_EQ(t.cpu_to_node[1], 0);
	CHECK_EQ(t.cpu_to_node[2], 1);
	CHECK_EQ(t.cpu_to_node[3], 1);
	CHECK_EQ(t.distance[0][0], 10);
	CHECK_EQ(t.distance[1][1], 10);
	CHECK_EQ(t.distance[0][1], 20);
	CHECK_EQ(t.distance[1][0], 20);
	CHECK_EQ(t.zones[0][ZONE_DMA].start_pfn, 0);
	CHECK_EQ(t.zones[0][ZONE_DMA].end_pfn, 4096);
	CHECK_EQ(t.zones[0][ZONE_DMA32].start_pfn, 4096);
	CHECK_EQ(t.zones[0][ZONE_DMA32].end_pfn, 1048576);
	CHECK_EQ(t.zones[0][ZONE_NORMAL].start_pfn, 1048576);
	CHECK_EQ(t.zones[0][ZONE_NORMAL].end_pfn, 1835008);
	CHECK_EQ(t.zones[0][ZONE_MOVABLE].start_pfn, 1835008);
	CHECK_EQ(t.zones[0][ZONE_MOVABLE].end_pfn, 1900544);
	CHECK_EQ(t.zones[1][ZONE_DMA].end_pfn - t.zones[1][ZONE_DMA].start_pfn, 0);
	CHECK_EQ(t.zones[1][ZONE_DMA32].end_pfn - t.zones[1][ZONE_DMA32].start_pfn, 0);
	CHECK_EQ(t.zones[1][ZONE_NORMAL].start_pfn, 1900544);
	CHECK_EQ(t.zones[1][ZONE_NORMAL].end_pfn, 2686976);
	CHECK_EQ(t.zones[1][ZONE_MOVABLE].start_pfn, 2686976);
	CHECK_EQ(t.zones[1][ZONE_MOVABLE].end_pfn, 2949120);
	CHECK_EQ(t.nr_holes, 1);
	CHECK_EQ(t.holes[0].start_pfn, 786432);
	CHECK_EQ(t.holes[0].end_pfn, 1048576);
	CHECK_EQ(t.nr_cma, 0);
	for (int n = 0; n < t.nr_nodes; n++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			CHECK_EQ(t.zones[n][z].start_pfn % 1024, 0);
			CHECK_EQ(t.zones[n][z].end_pfn % 1024, 0);
			if (t.zones[n][z].end_pfn > t.zones[n][z].start_pfn)
				seen[z] = true;
		}
	}
	for (int z = 0; z < MAX_NR_ZONES; z++)
		CHECK(seen[z], "zone type %d missing", z);
	CHECK(present_pages(&t) > (8ULL << 30) / PAGE_SIZE);
	CHECK(round_trip(&t, &o));

	/* a test's own CMA area: 256 MiB at the start of node 1's Normal */
	t.nr_cma = 1;
	t.cma[0].start_pfn = 1900544;
	t.cma[0].end_pfn = 1900544 + 65536;
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
	CHECK(round_trip(&t, &o));
	/* CMA in ZONE_MOVABLE is allowed (documented choice) */
	t.cma[0].start_pfn = 2686976;
	t.cma[0].end_pfn = 2686976 + 512;
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);

	/* the hand-written example of docs/topology.md is the same machine */
	{
		static const char doc[] =
			"# two sockets, 10.25 GiB\n"
			"nodes 2\n"
			"cpus 4\n"
			"cpu 0-1 node 0\n"
			"cpu 2-3 node 1\n"
			"distance 0 1 20            # and 1 0 20: symmetric unless given\n"
			"\n"
			"zone 0 DMA     0      16M\n"
			"zone 0 DMA32   16M    4G\n"
			"hole           3G     4G   # the PCI hole\n"
			"zone 0 Normal  4G     +3G\n"
			"zone 0 Movable 7G     +256M\n"
			"zone 1 Normal  @0x1d0000000 +3G\n"
			"zone 1 Movable 10496M +1G\n";
		struct buddy_topology d;

		buddy_topology_default(&d);
		CHECK_EQ(parse_str(doc, &t, &o, &err), 0);
		CHECK(topo_equal(&t, &d));
	}

	/* a CPU on a memoryless node */
	buddy_topology_default(&t);
	memset(&t.zones[1], 0, sizeof(t.zones[1]));
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
	CHECK(round_trip(&t, &o));
	buddy_topology_default(NULL);
}

static void test_small(void)
{
	static const uint64_t sizes[] = {1, 2, 511, 512, 1000, 1023, 1024, 1025, 4097, 65536, 100003,
					 (1ULL << 20) - 1, 1ULL << 20, (1ULL << 20) + 1, (1ULL << 20) + 5000,
					 3ULL << 20, (1ULL << 32) - 1, 1ULL << 32};
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err;

	test_section("small");
	buddy_options_init(&o);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t n = sizes[i];
		uint64_t d32 = n < (1ULL << 20) ? n : (1ULL << 20);

		buddy_topology_small(&t, n, 1 + (int)(i % 8));
		CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
		CHECK_EQ(t.nr_nodes, 1);
		CHECK_EQ(t.nr_cpus, 1 + (int)(i % 8));
		CHECK_EQ(t.zones[0][ZONE_DMA32].start_pfn, 0);
		CHECK_EQ(t.zones[0][ZONE_DMA32].end_pfn, d32);
		CHECK_EQ(t.zones[0][ZONE_NORMAL].end_pfn - t.zones[0][ZONE_NORMAL].start_pfn, n - d32);
		if (n > d32) {
			CHECK_EQ(t.zones[0][ZONE_NORMAL].start_pfn, d32);
			CHECK_EQ(t.zones[0][ZONE_NORMAL].end_pfn, n);
		}
		CHECK_EQ(present_pages(&t), n);
		for (int c = 0; c < t.nr_cpus; c++)
			CHECK_EQ(t.cpu_to_node[c], 0);
		CHECK(round_trip(&t, &o));
	}
	buddy_topology_small(&t, 1024, BUDDY_MAX_CPUS);
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
	CHECK(round_trip(&t, &o));

	buddy_topology_small(&t, 0, 1);
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), -1);
	CHECK(!strcmp(err.field, "zones"), "%s", err.field);
	buddy_topology_small(&t, 1024, 0);
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), -1);
	CHECK(!strcmp(err.field, "nr_cpus"), "%s", err.field);
	buddy_topology_small(&t, 1024, BUDDY_MAX_CPUS + 1);
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), -1);
	CHECK(!strcmp(err.field, "nr_cpus"), "%s", err.field);
	buddy_topology_small(&t, (1ULL << 32) + 1, 1);
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), -1);
	CHECK(!strcmp(err.field, "zones[0][Normal]"), "%s", err.field);
	buddy_topology_small(NULL, 1, 1);
}

static void test_round_trip_random(void)
{
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err;
	int bad_gen = 0, bad_trip = 0;

	test_section("round trip random");
	for (int i = 0; i < 500; i++) {
		random_options(&o);
		random_topology(&t, &o);
		if (buddy_topology_validate(&t, &o, &err)) {
			if (bad_gen++ < 5)
				fprintf(stderr, "generator made an invalid topology: %s: %s\n", err.field, err.message);
			continue;
		}
		if (!round_trip(&t, &o))
			bad_trip++;
	}
	CHECK_EQ(bad_gen, 0);
	CHECK_EQ(bad_trip, 0);
}

static void test_syntax(void)
{
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err;
	const char *text =
		"# a comment line\n"
		"\n"
		"   \t\n"
		"NODES 3   # trailing comment\r\n"
		"cpus 8\n"
		"cpu 0,2,4-5 node 0\n"
		"Cpu 1,3 Node 1\n"
		"cpu 6-7 node 2\n"
		"distance 0 1 21\n"
		"distance 1 0 31\n"
		"distance 1 2 0x20\n"
		"zone 0 dma 0x0 0x1000\n"
		"zone 0 DMA32 16M @0x100000000\n"
		"zone 0 normal 4G +3G\n"
		"zone 1 Normal @7G +0x40000\n"
		"zone 1 movable 8g +256m\n"
		"zone 2 MOVABLE 9G 9G\n"
		"hole 3G 4G\n"
		"hole 0x1c0000 +1k\n" /* too small: not a whole page */
		;

	test_section("syntax");
	buddy_options_init(&o);
	CHECK_EQ(parse_str(text, &t, &o, &err), -1);
	CHECK(!strcmp(err.field, "line 19: hole"), "%s", err.field);
	CHECK(strstr(err.message, "not a multiple"), "%s", err.message);

	char *good = malloc(strlen(text) + 64);

	strcpy(good, text);
	strcpy(strstr(good, "hole 0x1c0000"), "hole 0x1c0000 +4k\noption min_free_kbytes auto\noption poison ON");
	CHECK_EQ(parse_str(good, &t, &o, &err), 0);
	if (err.field[0])
		fprintf(stderr, "%s: %s\n", err.field, err.message);
	free(good);
	CHECK_EQ(t.nr_nodes, 3);
	CHECK_EQ(t.nr_cpus, 8);
	CHECK_EQ(t.cpu_to_node[0], 0);
	CHECK_EQ(t.cpu_to_node[1], 1);
	CHECK_EQ(t.cpu_to_node[2], 0);
	CHECK_EQ(t.cpu_to_node[3], 1);
	CHECK_EQ(t.cpu_to_node[4], 0);
	CHECK_EQ(t.cpu_to_node[5], 0);
	CHECK_EQ(t.cpu_to_node[6], 2);
	CHECK_EQ(t.cpu_to_node[7], 2);
	CHECK_EQ(t.distance[0][1], 21);
	CHECK_EQ(t.distance[1][0], 31);
	CHECK_EQ(t.distance[1][2], 32);
	CHECK_EQ(t.distance[2][1], 32);
	CHECK_EQ(t.distance[0][2], 20);
	CHECK_EQ(t.distance[2][0], 20);
	CHECK_EQ(t.distance[2][2], 10);
	CHECK_EQ(t.zones[0][ZONE_DMA].end_pfn, 0x1000);
	CHECK_EQ(t.zones[0][ZONE_DMA32].start_pfn, 4096);
	CHECK_EQ(t.zones[0][ZONE_DMA32].end_pfn, 1048576);
	CHECK_EQ(t.zones[0][ZONE_NORMAL].start_pfn, 1048576);
	CHECK_EQ(t.zones[0][ZONE_NORMAL].end_pfn, 1048576 + 786432);
	CHECK_EQ(t.zones[1][ZONE_NORMAL].start_pfn, 7ULL << 18);
	CHECK_EQ(t.zones[1][ZONE_NORMAL].end_pfn, (7ULL << 18) + 0x40000);
	CHECK_EQ(t.zones[1][ZONE_MOVABLE].start_pfn, 8ULL << 18);
	CHECK_EQ(t.zones[1][ZONE_MOVABLE].end_pfn, (8ULL << 18) + 65536);
	CHECK_EQ(t.zones[2][ZONE_MOVABLE].start_pfn, 9ULL << 18);
	CHECK_EQ(t.zones[2][ZONE_MOVABLE].end_pfn, 9ULL << 18);
	CHECK_EQ(t.nr_holes, 2);
	CHECK_EQ(t.holes[0].start_pfn, 786432);
	CHECK_EQ(t.holes[0].end_pfn, 1048576);
	CHECK_EQ(t.holes[1].start_pfn, 0x1c0000);
	CHECK_EQ(t.holes[1].end_pfn, 0x1c0001);
	CHECK_EQ(o.min_free_kbytes, 0);
	CHECK(o.poison);
	CHECK(round_trip(&t, &o));

	/* no trailing newline, options untouched by the text keep the caller's values */
	buddy_options_init(&o);
	o.watermark_scale_factor = 77;
	CHECK_EQ(parse_str("zone 0 Normal 0 1024", &t, &o, &err), 0);
	CHECK_EQ(t.nr_nodes, 1);
	CHECK_EQ(t.nr_cpus, 1);
	CHECK_EQ(o.watermark_scale_factor, 77);
	/* opts may be NULL: options are checked, then dropped */
	CHECK_EQ(parse_str("zone 0 Normal 0 1024\noption max_order 9", &t, NULL, &err), 0);
	CHECK_EQ(parse_str("zone 0 Normal 0 1024\noption max_order 50", &t, NULL, &err), -1);
	CHECK(!strcmp(err.field, "line 2: max_order"), "%s", err.field);
	/* a failed parse leaves the outputs alone */
	buddy_topology_default(&t);
	buddy_options_init(&o);
	CHECK_EQ(parse_str("zone 0 Normal 0 1024\noption max_order 9\nbogus", &t, &o, &err), -1);
	CHECK_EQ(t.nr_nodes, 2);
	CHECK_EQ(o.max_order, 10);
	/* err may be NULL; text NULL only with len 0 */
	CHECK_EQ(buddy_topology_parse("zone", 4, &t, &o, NULL), -1);
	CHECK_EQ(buddy_topology_parse(NULL, 0, &t, &o, &err), -1);
	CHECK(!strcmp(err.field, "zones"), "%s", err.field);
	CHECK_EQ(buddy_topology_parse(NULL, 5, &t, &o, &err), -1);
	CHECK(err.field[0] && err.message[0]);
	CHECK_EQ(buddy_topology_parse("zone 0 Normal 0 1024", 20, NULL, &o, &err), -1);
	CHECK(!strcmp(err.field, "topology"), "%s", err.field);
	/* len, not the NUL, ends the text */
	CHECK_EQ(buddy_topology_parse("zone 0 Normal 0 1024garbage", 20, &t, &o, &err), 0);
	CHECK_EQ(t.zones[0][ZONE_NORMAL].end_pfn, 1024);
}

struct parse_case {
	const char *text;
	const char *field;   /* exact */
	const char *message; /* substring */
};

static void test_parse_errors(void)
{
	static const struct parse_case cases[] = {
		{"zone 0 Normall 0 100", "line 1: zone", "unknown zone type 'Normall'"},
		{"zone 0 Normal 0x200 0x100", "line 1: zone", "end_pfn 0x100 below start_pfn 0x200"},
		{"zone 0 Normal 0 99999999999999999999999", "line 1: zone", "number out of range"},
		{"zone 0 Normal 0xffffffffffffffff +1", "line 1: zone", "number out of range"},
		{"zone 0 Normal 0 16777216T", "line 1: zone", "number out of range"},
		{"zone 0 Normal 0 0x10000000000000000", "line 1: zone", "number out of range"},
		{"zone 0 Normal 0x 100", "line 1: zone", "not a number"},
		{"zone 0 Normal 12abc 100", "line 1: zone", "not a number"},
		{"zone 0 Normal 99999999999999999999x 100", "line 1: zone", "not a number"},
		{"nodes 99999999999999999999x", "line 1: nodes", "not a number"},
		{"option watermark_scale_factor -99999999999999999999x", "line 1: watermark_scale_factor", "not a number"},
		{"option watermark_scale_factor --1", "line 1: watermark_scale_factor", "not a number"},
		{"zone 0 Normal 4097K +4K", "line 1: zone", "not a multiple"},
		{"zone 0 Normal @0x1001 +1", "line 1: zone", "not a multiple"},
		{"zone 0 Normal @ +1", "line 1: zone", "not a number"},
		{"zone 0 Normal 0 1024 extra", "line 1: zone", "takes 4 arguments"},
		{"zone 0 Normal 0 1024\nzone 0 normal 0 1024", "line 2: zone", "given twice"},
		{"zone 1 Normal 0 100", "line 1: zone", "node 1 >= nodes 1"},
		{"cpus 4\ncpu 9 node 0", "line 2: cpu", "cpu 9 >= cpus 4"},
		{"cpus 4\ncpu 0-99999999999999999999 node 0", "line 2: cpu", "number out of range"},
		{"cpus 4\ncpu 0-18446744073709551615 node 0", "line 2: cpu", ">= cpus 4"},
		{"cpus 4\ncpu 0-2 node 0\ncpu 2 node 0", "line 3: cpu", "already placed on node 0 by line 2"},
		{"cpus 8\ncpu 7-4 node 0", "line 2: cpu", "backwards"},
		{"cpus 8\ncpu 1,,2 node 0", "line 2: cpu", "not a number"},
		{"cpus 8\ncpu 1, node 0", "line 2: cpu", "not a number"},
		{"cpus 8\ncpu 1, 2 node 0", "line 2: cpu", "takes 3 arguments"},
		{"cpu 0 nod 0", "line 1: cpu", "expected 'node'"},
		{"cpu 0 node 1", "line 1: cpu", "node 1 >= nodes 1"},
		{"cpu 0-3 node 0\ncpus 4", "line 1: cpu", "cpu 3 >= cpus 1 (declare 'cpus' first)"},
		{"cpu 0 node 0\ncpus 4", "line 2: cpus", "must come before"},
		{"zone 0 Normal 0 100\nnodes 2", "line 2: nodes", "must come before"},
		{"nodes 65", "line 1: nodes", "outside 1..64"},
		{"nodes 0", "line 1: nodes", "outside 1..64"},
		{"nodes -1", "line 1: nodes", "not a number"},
		{"nodes", "line 1: nodes", "takes 1 argument"},
		{"nodes 2\nnodes 2", "line 2: nodes", "given twice (first on line 1)"},
		{"cpus 257", "line 1: cpus", "outside 1..256"},
		{"nodes 2\ndistance 0 1 300", "line 2: distance", "number out of range"},
		{"distance 0 1 20", "line 1: distance", "node 1 >= nodes 1"},
		{"nodes 2\ndistance 0 1 20\ndistance 0 1 30", "line 3: distance", "given twice (first on line 2)"},
		{"nodes 2\ndistance 0 1 10\nzone 0 Normal 0 1024", "line 2: distance[0][1]", "11..254"},
		{"distance 0 0 11\nzone 0 Normal 0 1024", "line 1: distance[0][0]", "must be 10"},
		{"nodes 2\ndistance 0 1 20\ndistance 1 0 255\nzone 0 Normal 0 1024", "line 3: distance[1][0]", "11..254"},
		{"zone 0 DMA32 0 2048\nzone 0 Normal 1024 4096", "line 2: zones[0][Normal]", "zone order"},
		{"zone 0 Normal 0 1024\nzone 0 DMA32 4096 8192", "line 1: zones[0][Normal]", "zone order"},
		{"nodes 2\nzone 0 Normal 0 1024\nzone 1 Normal 512 2048", "line 3: zones[1][Normal]", "overlaps zones[0][Normal]"},
		{"zone 0 DMA32 0 5G", "line 1: zones[0][DMA32]", "above 4 GiB"},
		{"zone 0 DMA 4G +4K", "line 1: zones[0][DMA]", "above 4 GiB"},
		{"zone 0 Normal 0 0x100000001", "line 1: zones[0][Normal]", "16 TiB"},
		{"zone 0 Normal 0 1024\nhole 2048 4096", "line 2: holes[0]", "inside one zone"},
		{"zone 0 Normal 0 1024\nzone 0 Movable 1024 2048\nhole 1000 1100", "line 3: holes[0]", "inside one zone"},
		{"zone 0 Normal 0 4096\nhole 100 200\nhole 150 300", "line 3: holes[1]", "overlaps holes[0]"},
		{"zone 0 Normal 0 4096\nhole 100 100", "line 2: holes[0]", "empty"},
		{"zone 0 Normal 0 4096\nhole 200 100", "line 2: hole", "end_pfn 0x64 below start_pfn 0xc8"},
		{"zone 0 Normal 0 4096\ncma 100 612", "line 2: cma[0]", "pageblock aligned"},
		{"zone 0 Normal 0 4096\noption pageblock_order 10\ncma 512 1024", "line 3: cma[0]", "pageblock aligned"},
		{"zone 0 Normal 0 4096\nhole 600 700\ncma 512 1024", "line 3: cma[0]", "covers holes[0]"},
		{"zone 0 DMA32 0 1024\nzone 0 Normal 1024 4096\ncma 512 1536", "line 3: cma[0]", "inside one zone"},
		{"zone 0 Normal 0 4096\ncma 0 1024\ncma 512 2048", "line 3: cma[1]", "overlaps cma[0]"},
		{"zone 0 Normal 0 4096\ncma 512 512", "line 2: cma[0]", "empty"},
		{"zone 0 Normal 0 1024\noption max_order 13", "line 2: max_order", "outside 1..12"},
		{"zone 0 Normal 0 1024\noption max_order 0", "line 2: max_order", "outside 1..12"},
		{"zone 0 Normal 0 1024\noption max_order 4294967296", "line 2: max_order", "out of range"},
		{"zone 0 Normal 0 1024\noption pageblock_order 11", "line 2: pageblock_order", "above max_order"},
		{"zone 0 Normal 0 1024\noption watermark_scale_factor 0", "line 2: watermark_scale_factor", "1..3000"},
		{"zone 0 Normal 0 1024\noption watermark_scale_factor 3001", "line 2: watermark_scale_factor", "1..3000"},
		{"option watermark_scale_factor -9999999999", "line 1: watermark_scale_factor", "out of range"},
		{"option watermark_boost_factor -1\nzone 0 Normal 0 1024", "line 1: watermark_boost_factor", "negative"},
		{"zone 0 Normal 0 1024\noption min_free_kbytes -1", "line 2: min_free_kbytes", "negative"},
		{"option min_free_kbytes 99999999999999999999", "line 1: min_free_kbytes", "out of range"},
		{"option min_free_kbytes 9223372036854775808", "line 1: min_free_kbytes", "out of range"},
		{"zone 0 Normal 0 1024\noption lowmem_reserve_ratio 256 256 -1 0", "line 2: lowmem_reserve_ratio[Normal]", "negative"},
		{"option lowmem_reserve_ratio 1 2 3", "line 1: lowmem_reserve_ratio", "takes 4 arguments"},
		{"zone 0 Normal 0 1024\noption percpu_pagelist_high_fraction 4", "line 2: percpu_pagelist_high_fraction", "at least 8"},
		{"option backing disk", "line 1: backing", "unknown backing 'disk'"},
		{"option poison maybe", "line 1: poison", "not on or off"},
		{"option no_mobility_grouping", "line 1: no_mobility_grouping", "takes 1 argument"},
		{"option poison_byte 256", "line 1: poison_byte", "out of range"},
		{"option frobnicate 1", "line 1: option", "unknown option 'frobnicate'"},
		{"option", "line 1: option", "needs an option name"},
		{"option max_order 10\noption MAX_ORDER 11", "line 2: max_order", "given twice (first on line 1)"},
		{"frobnicate 1", "line 1", "unknown directive 'frobnicate'"},
		{"zone 0 Normal 0 1024\n\n\nzone\x01 0", "line 4", "unknown directive 'zone\\x01'"},
		{"zone 0 Normal 0 1024\nzone 0 Movable 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", "line 2", "more than 16 words"},
		{"", "zones", "no zone has present pages"},
		{"# only a comment\n", "zones", "no zone has present pages"},
		{"zone 0 Normal 0 1024\nhole 0 1024", "zones", "no zone has present pages"},
		{"zone 0 Normal 5 5", "zones", "no zone has present pages"},
	};
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err;

	test_section("parse errors");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		int rc;

		buddy_options_init(&o);
		memset(&err, 0x41, sizeof(err));
		rc = parse_str(c->text, &t, &o, &err);
		CHECK_EQ(rc, -1);
		CHECK(terminated(&err));
		CHECK(!strcmp(err.field, c->field), "case %zu: field '%s', want '%s' (%s)", i, err.field, c->field,
		      err.message);
		CHECK(strstr(err.message, c->message), "case %zu: message '%s', want '%s'", i, err.message, c->message);
	}

	/* a NUL byte, counted in len */
	{
		static const char text[] = "zone 0 Normal 0 1024\nzone 0\0Movable 1024 2048\n";

		CHECK_EQ(buddy_topology_parse(text, sizeof(text) - 1, &t, &o, &err), -1);
		CHECK(!strcmp(err.field, "line 2"), "%s", err.field);
		CHECK(strstr(err.message, "NUL byte at column 7"), "%s", err.message);
	}
	/* more holes and CMA areas than the topology holds */
	{
		size_t cap = 8192, len = 0;
		char *text = malloc(cap);

		len += (size_t)snprintf(text + len, cap - len, "zone 0 Normal 0 1000000\n");
		for (int i = 0; i <= BUDDY_MAX_HOLES; i++)
			len += (size_t)snprintf(text + len, cap - len, "hole %d %d\n", 10 * i + 1, 10 * i + 2);
		CHECK_EQ(parse_str(text, &t, &o, &err), -1);
		CHECK(!strcmp(err.field, "line 66: hole"), "%s", err.field);
		CHECK(strstr(err.message, "more than 64 holes"), "%s", err.message);
		len = 0;
		len += (size_t)snprintf(text + len, cap - len, "zone 0 Normal 0 1000000\n");
		for (int i = 0; i <= BUDDY_MAX_CMA; i++)
			len += (size_t)snprintf(text + len, cap - len, "cma %d +512\n", 1024 * (i + 1));
		CHECK_EQ(parse_str(text, &t, &o, &err), -1);
		CHECK(!strcmp(err.field, "line 18: cma"), "%s", err.field);
		CHECK(strstr(err.message, "more than 16 CMA areas"), "%s", err.message);
		free(text);
	}
}

static void expect_invalid(const struct buddy_topology *t, const struct buddy_options *o, const char *field,
			   const char *message)
{
	struct buddy_error err;

	memset(&err, 0x41, sizeof(err));
	CHECK_EQ(buddy_topology_validate(t, o, &err), -1);
	CHECK(terminated(&err));
	CHECK(!strcmp(err.field, field), "field '%s', want '%s' (%s)", err.field, field, err.message);
	CHECK(strstr(err.message, message), "message '%s', want '%s'", err.message, message);
}

static void test_validate(void)
{
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err;

	test_section("validate");
	buddy_options_init(&o);
#define RESET() do { buddy_topology_default(&t); buddy_options_init(&o); } while (0)
	RESET();
	expect_invalid(NULL, &o, "topology", "NULL");
	t.nr_nodes = 0;
	expect_invalid(&t, &o, "nr_nodes", "outside 1..64");
	t.nr_nodes = 65;
	expect_invalid(&t, &o, "nr_nodes", "outside 1..64");
	RESET();
	t.nr_cpus = 0;
	expect_invalid(&t, &o, "nr_cpus", "outside 1..256");
	t.nr_cpus = 257;
	expect_invalid(&t, &o, "nr_cpus", "outside 1..256");
	RESET();
	t.cpu_to_node[3] = 2;
	expect_invalid(&t, &o, "cpu_to_node[3]", "outside 0..1");
	t.cpu_to_node[3] = -1;
	expect_invalid(&t, &o, "cpu_to_node[3]", "outside 0..1");
	RESET();
	t.distance[0][1] = 10;
	expect_invalid(&t, &o, "distance[0][1]", "11..254");
	RESET();
	t.distance[1][1] = 20;
	expect_invalid(&t, &o, "distance[1][1]", "must be 10");
	RESET();
	t.distance[1][0] = 255;
	expect_invalid(&t, &o, "distance[1][0]", "11..254");
	RESET();
	t.distance[0][1] = 11;
	t.distance[1][0] = 254; /* asymmetric is allowed */
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);

	RESET();
	t.zones[1][ZONE_NORMAL].start_pfn = 0x200;
	t.zones[1][ZONE_NORMAL].end_pfn = 0x100;
	expect_invalid(&t, &o, "zones[1][Normal]", "end_pfn 0x100 below start_pfn 0x200");
	RESET();
	t.zones[0][ZONE_NORMAL].start_pfn = 1048576 - 1024;
	expect_invalid(&t, &o, "zones[0][Normal]", "zone order");
	RESET();
	t.zones[1][ZONE_NORMAL].start_pfn = 1900544 - 1;
	expect_invalid(&t, &o, "zones[1][Normal]", "overlaps zones[0][Movable]");
	RESET();
	t.zones[1][ZONE_MOVABLE].end_pfn = (1ULL << 32) + 1;
	expect_invalid(&t, &o, "zones[1][Movable]", "16 TiB");
	t.zones[1][ZONE_MOVABLE].end_pfn = 1ULL << 32; /* the last pfn that fits */
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
	RESET();
	t.zones[1][ZONE_DMA32].start_pfn = 3000000;
	t.zones[1][ZONE_DMA32].end_pfn = 3001024;
	expect_invalid(&t, &o, "zones[1][DMA32]", "above 4 GiB");
	RESET();
	/* an empty zone may sit anywhere */
	t.zones[1][ZONE_DMA].start_pfn = t.zones[1][ZONE_DMA].end_pfn = 5;
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);

	RESET();
	t.holes[0].start_pfn = 3000000;
	t.holes[0].end_pfn = 3000100;
	expect_invalid(&t, &o, "holes[0]", "inside one zone");
	RESET();
	t.holes[0].end_pfn = 1048576 + 1; /* runs into Normal */
	expect_invalid(&t, &o, "holes[0]", "inside one zone");
	RESET();
	t.holes[0].end_pfn = t.holes[0].start_pfn;
	expect_invalid(&t, &o, "holes[0]", "empty");
	RESET();
	t.nr_holes = 2;
	t.holes[1].start_pfn = 800000;
	t.holes[1].end_pfn = 800001;
	expect_invalid(&t, &o, "holes[1]", "overlaps holes[0]");
	RESET();
	t.nr_holes = BUDDY_MAX_HOLES + 1;
	expect_invalid(&t, &o, "nr_holes", "outside 0..64");
	t.nr_holes = -1;
	expect_invalid(&t, &o, "nr_holes", "outside 0..64");

	RESET();
	t.nr_cma = 1;
	t.cma[0].start_pfn = 1900544 + 1;
	t.cma[0].end_pfn = 1900544 + 513;
	expect_invalid(&t, &o, "cma[0]", "pageblock aligned");
	t.cma[0].start_pfn = 1900544;
	t.cma[0].end_pfn = 1900544 + 100;
	expect_invalid(&t, &o, "cma[0]", "pageblock aligned");
	t.cma[0].start_pfn = 786432;
	t.cma[0].end_pfn = 786432 + 512;
	expect_invalid(&t, &o, "cma[0]", "covers holes[0]");
	t.cma[0].start_pfn = 1835008 - 512;
	t.cma[0].end_pfn = 1835008 + 512;
	expect_invalid(&t, &o, "cma[0]", "inside one zone");
	t.cma[0].start_pfn = 3000000 & ~511ULL;
	t.cma[0].end_pfn = t.cma[0].start_pfn + 512;
	expect_invalid(&t, &o, "cma[0]", "inside one zone");
	t.cma[0].start_pfn = t.cma[0].end_pfn = 1900544;
	expect_invalid(&t, &o, "cma[0]", "empty");
	t.nr_cma = 2;
	t.cma[0].start_pfn = 1900544;
	t.cma[0].end_pfn = 1900544 + 1024;
	t.cma[1].start_pfn = 1900544 + 512;
	t.cma[1].end_pfn = 1900544 + 2048;
	expect_invalid(&t, &o, "cma[1]", "overlaps cma[0]");
	t.nr_cma = BUDDY_MAX_CMA + 1;
	expect_invalid(&t, &o, "nr_cma", "outside 0..16");
	/* pageblock alignment follows the options */
	RESET();
	t.nr_cma = 1;
	t.cma[0].start_pfn = 1900544 + 512;
	t.cma[0].end_pfn = 1900544 + 1024;
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
	CHECK_EQ(buddy_topology_validate(&t, NULL, &err), 0);
	o.pageblock_order = 10;
	expect_invalid(&t, &o, "cma[0]", "pageblock aligned");

	RESET();
	o.max_order = 0;
	expect_invalid(&t, &o, "max_order", "outside 1..12");
	o.max_order = MAX_PAGE_ORDER_LIMIT + 1;
	expect_invalid(&t, &o, "max_order", "outside 1..12");
	o.max_order = MAX_PAGE_ORDER_LIMIT;
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
	RESET();
	o.pageblock_order = 11;
	expect_invalid(&t, &o, "pageblock_order", "above max_order");
	o.pageblock_order = 0;
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
	RESET();
	o.backing = (enum buddy_backing)7;
	expect_invalid(&t, &o, "backing", "BUDDY_BACKING");
	RESET();
	o.min_free_kbytes = -1;
	expect_invalid(&t, &o, "min_free_kbytes", "negative");
	RESET();
	o.watermark_scale_factor = 0;
	expect_invalid(&t, &o, "watermark_scale_factor", "1..3000");
	o.watermark_scale_factor = 3001;
	expect_invalid(&t, &o, "watermark_scale_factor", "1..3000");
	o.watermark_scale_factor = 3000;
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
	RESET();
	o.watermark_boost_factor = -1;
	expect_invalid(&t, &o, "watermark_boost_factor", "negative");
	o.watermark_boost_factor = 0;
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
	RESET();
	o.lowmem_reserve_ratio[ZONE_MOVABLE] = -1;
	expect_invalid(&t, &o, "lowmem_reserve_ratio[Movable]", "negative");
	o.lowmem_reserve_ratio[ZONE_MOVABLE] = 0;
	o.lowmem_reserve_ratio[ZONE_DMA] = 0;
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
	RESET();
	o.percpu_pagelist_high_fraction = 7;
	expect_invalid(&t, &o, "percpu_pagelist_high_fraction", "at least 8");
	o.percpu_pagelist_high_fraction = -1;
	expect_invalid(&t, &o, "percpu_pagelist_high_fraction", "at least 8");
	o.percpu_pagelist_high_fraction = 8;
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);

	RESET();
	memset(t.zones, 0, sizeof(t.zones));
	t.nr_holes = 0;
	expect_invalid(&t, &o, "zones", "no zone has present pages");
	t.zones[0][ZONE_NORMAL].start_pfn = 0;
	t.zones[0][ZONE_NORMAL].end_pfn = 1024;
	t.nr_holes = 1;
	t.holes[0].start_pfn = 0;
	t.holes[0].end_pfn = 1024;
	expect_invalid(&t, &o, "zones", "no zone has present pages");
	t.holes[0].end_pfn = 1023;
	CHECK_EQ(buddy_topology_validate(&t, &o, &err), 0);
	CHECK(err.field[0] == '\0' && err.message[0] == '\0');
#undef RESET
}

static char *repeat_text(const char *unit, size_t times, const char *tail, size_t *len)
{
	size_t ul = strlen(unit), tl = strlen(tail);
	char *buf = malloc(ul * times + tl + 1);

	for (size_t i = 0; i < times; i++)
		memcpy(buf + i * ul, unit, ul);
	memcpy(buf + ul * times, tail, tl + 1);
	*len = ul * times + tl;
	return buf;
}

static void test_big_inputs(void)
{
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err;
	size_t len;
	char *text;

	test_section("big inputs");
	buddy_options_init(&o);
	text = repeat_text("\n", 1000000, "bogus", &len);
	CHECK_EQ(buddy_topology_parse(text, len, &t, &o, &err), -1);
	CHECK(!strcmp(err.field, "line 1000001"), "%s", err.field);
	free(text);

	text = repeat_text("# comment\r\n", 300000, "zone 0 Normal 0 1024\nzone 0 Movable 1024 2048 junk", &len);
	CHECK_EQ(buddy_topology_parse(text, len, &t, &o, &err), -1);
	CHECK(!strcmp(err.field, "line 300002: zone"), "%s", err.field);
	free(text);

	text = repeat_text(" \t", 1000000, "zone 0 Normal 0 1024 # and a comment", &len);
	CHECK_EQ(buddy_topology_parse(text, len, &t, &o, &err), 0);
	CHECK_EQ(t.zones[0][ZONE_NORMAL].end_pfn, 1024);
	free(text);

	/* a single enormous word is quoted in bounded form */
	text = repeat_text("x", 1000000, "", &len);
	CHECK_EQ(buddy_topology_parse(text, len, &t, &o, &err), -1);
	CHECK(!strcmp(err.field, "line 1"), "%s", err.field);
	CHECK(strlen(err.message) < sizeof(err.message));
	free(text);

	text = repeat_text("9", 100000, "", &len);
	memcpy(text, "nodes ", 6);
	CHECK_EQ(buddy_topology_parse(text, len, &t, &o, &err), -1);
	CHECK(strstr(err.message, "number out of range"), "%s", err.message);
	free(text);
}

static void test_load(void)
{
	struct buddy_topology t, d;
	struct buddy_options o, od;
	struct buddy_error err;
	char path[] = "/tmp/test_topology_XXXXXX";
	int fd = mkstemp(path);
	size_t len;
	char *text;

	test_section("load");
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	buddy_topology_default(&d);
	buddy_options_init(&od);
	od.poison = true;
	text = write_text(&d, &od, &len);
	CHECK(text != NULL);
	CHECK(write(fd, text, len) == (ssize_t)len);
	close(fd);
	free(text);
	buddy_options_init(&o);
	CHECK_EQ(buddy_topology_load(path, &t, &o, &err), 0);
	CHECK(topo_equal(&t, &d));
	CHECK(opts_equal(&o, &od));

	/* a parse error in a file names the line, and the path in the message */
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f) {
		fputs("nodes 1\nzone 0 Normal 0 1024\nzone 0 Movable 2048 1024\n", f);
		fclose(f);
	}
	CHECK_EQ(buddy_topology_load(path, &t, &o, &err), -1);
	CHECK(!strcmp(err.field, "line 3: zone"), "%s", err.field);
	CHECK(!strncmp(err.message, path, strlen(path)), "%s", err.message);
	CHECK(strstr(err.message, "below start_pfn"), "%s", err.message);
	unlink(path);

	CHECK_EQ(buddy_topology_load(path, &t, &o, &err), -1);
	CHECK(!strcmp(err.field, "file"), "%s", err.field);
	CHECK(strstr(err.message, path), "%s", err.message);
	CHECK(strstr(err.message, strerror(ENOENT)), "%s", err.message);
	CHECK_EQ(buddy_topology_load(NULL, &t, &o, &err), -1);
	CHECK(err.field[0] && err.message[0]);
	CHECK_EQ(buddy_topology_load("/", &t, &o, &err), -1); /* a directory */
	CHECK(err.field[0] && err.message[0]);

	/* the size limit: 64 MiB is read (and fails on its NUL bytes), one more is refused */
	strcpy(path, "/tmp/test_topology_XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(ftruncate(fd, 64L << 20), 0);
	CHECK_EQ(buddy_topology_load(path, &t, &o, &err), -1);
	CHECK(!strcmp(err.field, "line 1"), "%s", err.field);
	CHECK(strstr(err.message, "NUL byte at column 1"), "%s", err.message);
	CHECK_EQ(ftruncate(fd, (64L << 20) + 1), 0);
	CHECK_EQ(buddy_topology_load(path, &t, &o, &err), -1);
	CHECK(!strcmp(err.field, "file"), "%s", err.field);
	CHECK(strstr(err.message, "larger than 64 MiB"), "%s", err.message);
	close(fd);
	unlink(path);
}

static void test_write_misc(void)
{
	struct buddy_topology t;
	struct buddy_options o;
	size_t len;
	char *text;

	test_section("write");
	buddy_topology_default(&t);
	buddy_options_init(&o);
	text = write_text(&t, &o, &len);
	CHECK(text != NULL);
	if (text) {
		CHECK(strstr(text, "nodes 2\ncpus 4\ncpu 0-1 node 0\ncpu 2-3 node 1\ndistance 0 1 20\n"), "%s", text);
		CHECK(strstr(text, "zone 0 DMA 0 4096  # [mem 0x0000000000-0x0000ffffff] 16 MiB\n"), "%s", text);
		CHECK(strstr(text, "hole 786432 1048576"), "%s", text);
		CHECK(strstr(text, "option lowmem_reserve_ratio 256 256 32 0\n"), "%s", text);
		free(text);
	}
	/* without options no option lines */
	text = write_text(&t, NULL, &len);
	CHECK(text && !strstr(text, "option"));
	free(text);
	CHECK_EQ(buddy_topology_write(NULL, &t, &o), -1);
	CHECK_EQ(buddy_topology_write(stdout, NULL, &o), -1);
	t.nr_nodes = BUDDY_MAX_NODES + 1;
	CHECK(write_text(&t, &o, &len) == NULL);
	/* an interleaved CPU layout comes back as lists */
	buddy_topology_default(&t);
	t.nr_cpus = 7;
	for (int c = 0; c < 7; c++)
		t.cpu_to_node[c] = (c % 3 == 1);
	text = write_text(&t, &o, &len);
	CHECK(text && strstr(text, "cpu 0,2-3,5-6 node 0\ncpu 1,4 node 1\n"), "%s", text ? text : "");
	free(text);
	CHECK(round_trip(&t, &o));
}

/* ---- fuzz ---- */

static const char *const dictionary[] = {
	"\n", "#", " ", "0x", "-", "+", "@", ",", "G", "K", "T", "99999999999999999999999", "0xffffffffffffffff",
	"zone", "hole", "cma", "cpu", "cpus", "nodes", "node", "distance", "option", "Normal", "DMA32", "Movable",
	"max_order", "pageblock_order", "lowmem_reserve_ratio", "on", "off", "4G", "+3G", "@16M", "1024", "0",
	"255", "65", "257", "\r\n", "\t", "\0",
};

static size_t mutate(char *buf, size_t len, size_t cap)
{
	int kinds = 1 + (int)rnd(4);

	for (int k = 0; k < kinds; k++) {
		size_t pos = len ? (size_t)rnd(len) : 0;

		switch (rnd(7)) {
		case 0: /* flip a bit */
			if (len)
				buf[pos] ^= (char)(1u << rnd(8));
			break;
		case 1: /* a random byte */
			if (len)
				buf[pos] = (char)rnd(256);
			break;
		case 2: /* truncate */
			len = pos;
			break;
		case 3: { /* insert random bytes */
			size_t n = 1 + (size_t)rnd(8);

			if (len + n > cap)
				break;
			memmove(buf + pos + n, buf + pos, len - pos);
			for (size_t i = 0; i < n; i++)
				buf[pos + i] = (char)rnd(256);
			len += n;
			break;
		}
		case 4: { /* insert a dictionary word */
			const char *w = dictionary[rnd(sizeof(dictionary) / sizeof(dictionary[0]))];
			size_t n = w[0] ? strlen(w) : 1;

			if (len + n > cap)
				break;
			memmove(buf + pos + n, buf + pos, len - pos);
			memcpy(buf + pos, w, n);
			len += n;
			break;
		}
		case 5: { /* delete a span */
			size_t n = (size_t)rnd(16);

			if (pos + n > len)
				n = len - pos;
			memmove(buf + pos, buf + pos + n, len - pos - n);
			len -= n;
			break;
		}
		default: { /* duplicate a span (often a whole line) */
			size_t n = (size_t)rnd(40);

			if (pos + n > len)
				n = len - pos;
			if (len + n > cap)
				break;
			memmove(buf + pos + n, buf + pos, len - pos);
			len += n;
			break;
		}
		}
	}
	return len;
}

static void test_fuzz(void)
{
	struct buddy_topology t, base;
	struct buddy_options o, bo;
	struct buddy_error err;
	size_t base_len;
	char *base_text;
	int accepted = 0, rejected = 0, bad_reject = 0, bad_accept = 0, bad_trip = 0;

	test_section("fuzz");
	buddy_topology_default(&base);
	base.nr_cma = 1;
	base.cma[0].start_pfn = 1900544;
	base.cma[0].end_pfn = 1900544 + 65536;
	buddy_options_init(&bo);
	base_text = write_text(&base, &bo, &base_len);
	CHECK(base_text != NULL);
	if (!base_text)
		return;
	{
		/* the syntax the writer does not use, so mutations reach it too */
		static const char extra[] = "distance 1 0 0x15 # asymmetric\nzone 1 DMA @0 +0\nhole 0x1c0000 @0x1c0001000\n";
		char *both = malloc(base_len + sizeof(extra));

		memcpy(both, base_text, base_len);
		memcpy(both + base_len, extra, sizeof(extra));
		free(base_text);
		base_text = both;
		base_len += sizeof(extra) - 1;
	}
	CHECK_EQ(buddy_topology_parse(base_text, base_len, &t, &bo, &err), 0);
	if (err.field[0])
		fprintf(stderr, "fuzz base: %s: %s\n", err.field, err.message);

	size_t cap = base_len * 2 + 256;
	char *buf = malloc(cap);

	rng_state = 0x2545f4914f6cdd1dULL;
	for (int i = 0; i < 20000; i++) {
		size_t len;
		char *exact;
		int rc;

		memcpy(buf, base_text, base_len);
		len = mutate(buf, base_len, cap);
		exact = malloc(len ? len : 1);
		memcpy(exact, buf, len);
		buddy_options_init(&o);
		memset(&err, 0, sizeof(err));
		rc = buddy_topology_parse(exact, len, &t, &o, &err);
		if (rc == 0) {
			struct buddy_error verr;

			accepted++;
			if (buddy_topology_validate(&t, &o, &verr) != 0) {
				if (bad_accept++ < 3)
					fprintf(stderr, "accepted but invalid: %s: %s\n", verr.field, verr.message);
			} else if (!round_trip(&t, &o)) {
				bad_trip++;
			}
		} else {
			rejected++;
			if (rc != -1 || !terminated(&err) || !err.field[0] || !err.message[0]) {
				if (bad_reject++ < 3)
					fprintf(stderr, "bad rejection rc %d field '%s' message '%s'\n", rc, err.field,
						err.message);
			}
		}
		free(exact);
	}
	printf("# fuzz: %d accepted, %d rejected\n", accepted, rejected);
	CHECK_EQ(bad_accept, 0);
	CHECK_EQ(bad_reject, 0);
	CHECK_EQ(bad_trip, 0);
	/* the mutations must exercise both outcomes */
	CHECK(accepted > 100, "accepted %d", accepted);
	CHECK(rejected > 100, "rejected %d", rejected);
	free(buf);
	free(base_text);
}

int main(void)
{
	test_names();
	test_options_init();
	test_default();
	test_small();
	test_round_trip_random();
	test_syntax();
	test_parse_errors();
	test_validate();
	test_big_inputs();
	test_load();
	test_write_misc();
	test_fuzz();
	return test_done();
}
