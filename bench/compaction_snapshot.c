/* Free pages per order of a fragmented zone before and after
 * buddy_compact_memory(), as JSON for the report's compaction plot.
 *
 *   bench_compaction_snapshot [--pages N] [--free-percent P] [--seed S]
 *
 * One node, one DMA32 zone of N pages (default 65536: 256 MiB), metadata
 * only.  The zone is filled with order-0 movable pages of one owner (whose
 * migrate callback follows them), then P% of them (default 50), chosen by
 * a seeded xorshift, are freed: plenty of free memory, little of it in
 * large blocks.  Then every node is compacted as a write to
 * /proc/sys/vm/compact_memory would, and the zone is read again. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buddy/buddy.h"

struct owner {
	struct buddy_mapping mapping;
	struct page **slots;
	size_t nr_slots;
};

static int owner_migrate(struct buddy_mapping *m, struct page *old_page, struct page *new_page)
{
	struct owner *o = m->private_data;
	uint64_t idx = buddy_page_index(old_page);

	if (idx >= o->nr_slots || o->slots[idx] != old_page)
		return -EAGAIN;
	o->slots[idx] = new_page;
	return 0;
}

static int owner_release(struct buddy_mapping *m, struct page *page)
{
	struct owner *o = m->private_data;
	uint64_t idx = buddy_page_index(page);

	if (idx >= o->nr_slots || o->slots[idx] != page)
		return -EBUSY;
	o->slots[idx] = NULL;
	return 0;
}

static const struct buddy_mapping_ops owner_ops = { owner_migrate, NULL, owner_release };

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void json_text(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void snapshot(FILE *out, const char *name, struct buddy_system *sys, unsigned int max_order)
{
	struct buddy_zone_info zi;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	buddy_zone_info(sys, 0, ZONE_DMA32, &zi);
	if (mem) {
		buddy_proc_buddyinfo(sys, mem);
		fclose(mem);
	}
	fprintf(out, "  \"%s\": {\n    \"free_blocks\": [", name);
	for (unsigned int o = 0; o <= max_order; o++) {
		unsigned long n = 0;
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			n += zi.nr_free_blocks[o][mt];
		fprintf(out, "%s%lu", o ? ", " : "", n);
	}
	fprintf(out, "],\n    \"free_pages\": %llu,\n", (unsigned long long)zi.free_pages);
	fprintf(out, "    \"fragmentation_score\": %u,\n", buddy_fragmentation_score(sys, 0));
	fprintf(out, "    \"fragmentation_index_order9\": %d,\n",
		buddy_fragmentation_index(sys, 0, ZONE_DMA32, max_order > 9 ? 9 : max_order));
	fprintf(out, "    \"buddyinfo\": ");
	json_text(out, text ? text : "");
	fprintf(out, "\n  }");
	free(text);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_compaction_snapshot [--pages N] [--free-percent P] [--seed S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t pages = 65536, seed = 1;
	unsigned int free_percent = 50;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--pages"))
			pages = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--free-percent"))
			free_percent = (unsigned int)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[++i], NULL, 0);
		else
			usage();
	}
	if (pages < 4096 || free_percent > 100)
		usage();

	struct buddy_topology topo;
	struct buddy_options opts;
	struct buddy_error err = { { 0 }, { 0 } };
	buddy_topology_small(&topo, pages, 2);
	buddy_options_init(&opts);
	struct buddy_system *sys = buddy_system_create(&topo, &opts, &err);
	if (!sys) {
		fprintf(stderr, "bench_compaction_snapshot: %s: %s\n", err.field, err.message);
		return 1;
	}
	struct buddy_system_info info;
	buddy_system_info(sys, &info);

	struct owner o = { .mapping = { .ops = &owner_ops }, .nr_slots = pages };
	o.mapping.private_data = &o;
	o.slots = calloc(pages, sizeof(*o.slots));
	if (!o.slots)
		return 1;
	/* Fill to the low watermark without the slow path stepping in. */
	const gfp_t fill = (GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM) | __GFP_NOWARN;
	size_t allocated = 0, freed = 0;
	while (allocated < pages) {
		struct page *p = buddy_alloc_pages_mapping(sys, fill, 0, -1, 0, &o.mapping, allocated);
		if (!p)
			break;
		o.slots[allocated++] = p;
	}
	uint64_t rng = seed ? seed : 1;
	for (size_t i = 0; i < allocated; i++) {
		if (xorshift64(&rng) % 100 < free_percent) {
			buddy_free_pages(sys, o.slots[i], 0);
			o.slots[i] = NULL;
			freed++;
		}
	}
	buddy_drain_all_pages(sys);

	FILE *out = stdout;
	fprintf(out, "{\n  \"tool\": \"bench_compaction_snapshot\",\n");
	fprintf(out, "  \"zone\": \"Node 0 DMA32\",\n  \"zone_pages\": %llu,\n  \"max_order\": %u,\n",
		(unsigned long long)pages, info.max_order);
	fprintf(out, "  \"fill\": {\"allocated\": %zu, \"freed\": %zu, \"free_percent\": %u, \"seed\": %llu},\n",
		allocated, freed, free_percent, (unsigned long long)seed);
	snapshot(out, "before", sys, info.max_order);
	fprintf(out, ",\n");

	uint64_t migrated0 = buddy_vm_event(sys, PGMIGRATE_SUCCESS);
	uint64_t scanned0 = buddy_vm_event(sys, COMPACTMIGRATE_SCANNED);
	uint64_t fscanned0 = buddy_vm_event(sys, COMPACTFREE_SCANNED);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = buddy_compact_memory(sys);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;

	snapshot(out, "after", sys, info.max_order);
	fprintf(out, ",\n  \"compact_memory_rc\": %d,\n  \"compact_ms\": %.3f,\n", rc, ms);
	fprintf(out, "  \"pgmigrate_success\": %llu,\n  \"compact_migrate_scanned\": %llu,\n",
		(unsigned long long)(buddy_vm_event(sys, PGMIGRATE_SUCCESS) - migrated0),
		(unsigned long long)(buddy_vm_event(sys, COMPACTMIGRATE_SCANNED) - scanned0));
	fprintf(out, "  \"compact_free_scanned\": %llu\n}\n",
		(unsigned long long)(buddy_vm_event(sys, COMPACTFREE_SCANNED) - fscanned0));

	for (size_t i = 0; i < allocated; i++)
		if (o.slots[i])
			buddy_free_pages(sys, o.slots[i], 0);
	buddy_system_destroy(sys);
	free(o.slots);
	return rc == 0 ? 0 : 1;
}
