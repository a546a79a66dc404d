/* ./pagetorture demo: allocate and free across the nodes of a topology
 * (the built-in two-socket one unless a file is given), and show what the
 * allocator looks like through /proc/buddyinfo and /proc/pagetypeinfo at
 * each stage, with the checker run after every stage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy/buddy.h"

struct held {
	struct page *page;
	unsigned int order;
};

static int check_all(struct buddy_system *sys, const char *stage)
{
	struct buddy_violation v[16];
	struct buddy_check_result res = { .capacity = 16, .v = v };
	size_t n = buddy_check(sys, BUDDY_CHECK_ALL, 0, ZONE_DMA, 0, &res);
	char line[256];

	printf("checker after %s: %zu violation%s\n", stage, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n && i < 16; i++) {
		buddy_violation_format(&v[i], line, sizeof(line));
		printf("  %s\n", line);
	}
	return n ? 1 : 0;
}

static void show(struct buddy_system *sys, const char *title)
{
	printf("\n==== %s ====\n$ cat /proc/buddyinfo\n", title);
	buddy_proc_buddyinfo(sys, stdout);
	printf("\n$ cat /proc/pagetypeinfo\n");
	buddy_proc_pagetypeinfo(sys, stdout);
}

int main(int argc, char **argv)
{
	struct buddy_topology topo;
	struct buddy_options opts;
	struct buddy_error err = { 0 };
	int failed = 0;

	buddy_options_init(&opts);
	if (argc > 1) {
		if (buddy_topology_load(argv[1], &topo, &opts, &err)) {
			fprintf(stderr, "demo: %s: %s\n", err.field, err.message);
			return 2;
		}
	} else {
		buddy_topology_default(&topo);
	}
	struct buddy_system *sys = buddy_system_create(&topo, &opts, &err);
	if (!sys) {
		fprintf(stderr, "demo: cannot create the allocator: %s: %s\n", err.field, err.message);
		return 2;
	}
	struct buddy_system_info info;
	buddy_system_info(sys, &info);
	printf("pagetorture demo: %d nodes, %d CPUs, %llu MiB present, MAX_PAGE_ORDER %u, pageblock_order %u, "
	       "min_free_kbytes %ld, struct page %zu bytes\n",
	       info.nr_nodes, info.nr_cpus, (unsigned long long)(info.present_pages >> 8), info.max_order,
	       info.pageblock_order, info.min_free_kbytes, info.page_struct_size);
	show(sys, "after boot");
	failed |= check_all(sys, "boot");

	/* A mix a kernel sees: page cache and anon (movable), slab (unmovable
	 * and reclaimable), THP-sized and DMA buffers, from every CPU. */
	static const struct {
		const char *name;
		gfp_t gfp;
		unsigned int order;
		int count;
	} mix[] = {
		{ "GFP_HIGHUSER_MOVABLE order 0", GFP_HIGHUSER_MOVABLE, 0, 20000 },
		{ "GFP_KERNEL order 0", GFP_KERNEL, 0, 6000 },
		{ "GFP_KERNEL|__GFP_RECLAIMABLE order 1", GFP_KERNEL | __GFP_RECLAIMABLE, 1, 3000 },
		{ "GFP_KERNEL|__GFP_COMP order 3", GFP_KERNEL | __GFP_COMP, 3, 800 },
		{ "GFP_TRANSHUGE order 9", GFP_TRANSHUGE, 9, 40 },
		{ "GFP_ATOMIC order 2", GFP_ATOMIC, 2, 400 },
		{ "GFP_DMA32 order 4", GFP_DMA32, 4, 100 },
		{ "GFP_DMA order 0", GFP_DMA, 0, 50 },
	};
	size_t cap = 0;
	for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++)
		cap += (size_t)mix[i].count;
	struct held *held = calloc(cap, sizeof(*held));
	size_t nheld = 0;
	if (!held)
		return 2;
	printf("\nallocating:\n");
	for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
		int per_node[64] = { 0 }, got = 0;
		for (int k = 0; k < mix[i].count; k++) {
			buddy_bind_cpu(sys, k % info.nr_cpus);
			struct page *p = buddy_alloc_pages(sys, mix[i].gfp | __GFP_NOWARN, mix[i].order);
			if (!p)
				continue;
			per_node[buddy_page_nid(p)]++;
			held[nheld++] = (struct held){ p, mix[i].order };
			got++;
		}
		printf("  %-40s %5d of %5d", mix[i].name, got, mix[i].count);
		for (int n = 0; n < info.nr_nodes && n < 64; n++)
			printf("  node%d: %d", n, per_node[n]);
		printf("\n");
	}
	show(sys, "after allocating");
	failed |= check_all(sys, "allocating");

	/* Free every other block, from another CPU than the one that took it:
	 * the pcp lists fill, drain at high, and the free lists fragment. */
	for (size_t i = 0; i < nheld; i += 2) {
		buddy_bind_cpu(sys, (int)(i + 1) % info.nr_cpus);
		buddy_free_pages(sys, held[i].page, held[i].order);
		held[i].page = NULL;
	}
	show(sys, "after freeing every other block (pcp lists not drained)");
	failed |= check_all(sys, "freeing half");

	for (size_t i = 1; i < nheld; i += 2)
		buddy_free_pages(sys, held[i].page, held[i].order);
	buddy_drain_all_pages(sys);
	show(sys, "after freeing everything and draining the pcp lists");
	failed |= check_all(sys, "freeing all");
	printf("\n$ grep -E 'pgalloc|pgfree' /proc/vmstat\n");
	fflush(stdout);
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&buf, &len);
		if (mem) {
			buddy_proc_vmstat(sys, mem);
			fclose(mem);
			for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
				if (!strncmp(line, "pgalloc", 7) || !strncmp(line, "pgfree", 6))
					printf("%s\n", line);
			free(buf);
		}
	}
	free(held);
	buddy_system_destroy(sys);
	printf("\ndemo %s\n", failed ? "FAILED: the checker found violations" : "done: the checker found nothing");
	return failed;
}
