/* /proc output: buddyinfo, pagetypeinfo, zoneinfo and vmstat are parsed the
 * way a script on a real machine would parse them, and every number is held
 * against buddy_zone_info().  A hand-computed golden text pins the layout
 * byte for byte. */
#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy/buddy.h"
#include "tap.h"

/* tap.h's CHECK(cond) with no message passes "" as the printf format, which
 * gcc's -Wformat-zero-length (in -Wall) flags at every use. */
#pragma GCC diagnostic ignored "-Wformat-zero-length"

/* ---- text helpers ---- */
typedef void (*proc_fn)(struct buddy_system *, FILE *);

static char *capture(proc_fn fn, struct buddy_system *sys)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fn(sys, f);
	fclose(f);
	return buf;
}

struct lines {
	char **v;
	size_t n;
	char *store;
};

/* Split on '\n' keeping empty lines; a final newline ends the last line. */
static void split_lines(const char *text, struct lines *l)
{
	size_t cap = 16;

	l->store = strdup(text);
	l->v = malloc(cap * sizeof(*l->v));
	l->n = 0;
	char *p = l->store;
	while (*p) {
		char *nl = strchr(p, '\n');
		if (l->n == cap) {
			cap *= 2;
			l->v = realloc(l->v, cap * sizeof(*l->v));
		}
		l->v[l->n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
}

static void free_lines(struct lines *l)
{
	free(l->v);
	free(l->store);
}

/* Whitespace-separated tokens of a line, as awk or str.split() see them. */
#define MAX_TOKENS 64
static int tokenize(const char *line, char tok[MAX_TOKENS][48])
{
	int n = 0;
	const char *p = line;

	while (*p && n < MAX_TOKENS) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		size_t len = 0;
		while (p[len] && p[len] != ' ')
			len++;
		snprintf(tok[n], 48, "%.*s", (int)len, p);
		n++;
		p += len;
	}
	return n;
}

static bool parse_ulong(const char *s, unsigned long *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	*v = strtoul(s, &end, 10);
	return *end == '\0';
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The value after a fixed label, e.g. "        min      123". */
static bool labelled_value(const char *line, const char *label, unsigned long *v)
{
	if (!starts_with(line, label))
		return false;
	return parse_ulong(line + strlen(label), v);
}

static const char *const zone_names[MAX_NR_ZONES] = { "DMA", "DMA32", "Normal", "Movable" };
static const char *const type_names[MIGRATE_TYPES] = { "Unmovable", "Movable",    "Reclaimable",
						       "HighAtomic", "CMA",        "Isolate" };

static int zone_by_name(const char *name)
{
	for (int z = 0; z < MAX_NR_ZONES; z++)
		if (!strcmp(name, zone_names[z]))
			return z;
	return -1;
}

/* ---- topologies ---- */

/* One node, one zone: DMA32 over pfns [0, nr_pages). */
static void one_zone_topology(struct buddy_topology *t, uint64_t nr_pages, int nr_cpus)
{
	memset(t, 0, sizeof(*t));
	t->nr_nodes = 1;
	t->nr_cpus = nr_cpus;
	t->distance[0][0] = BUDDY_LOCAL_DISTANCE;
	t->zones[0][ZONE_DMA32] = (struct buddy_pfn_range){ 0, nr_pages };
}

static struct buddy_system *create(const struct buddy_topology *t, const struct buddy_options *o)
{
	struct buddy_error err = { { 0 }, { 0 } };
	struct buddy_system *sys = buddy_system_create(t, o, &err);

	if (!sys)
		fprintf(stderr, "# create failed: %s: %s\n", err.field, err.message);
	return sys;
}

/* ---- golden text ----
 * 1 node, 4096 pages of DMA32 from pfn 0, MAX_PAGE_ORDER 10, pageblock order
 * 9: memblock hands the buddy allocator four order-10 blocks, every pageblock
 * starts MOVABLE (8 of them), and nothing sits on a pcp list yet. */
static const char golden_buddyinfo[] =
	"Node 0, zone    DMA32      0      0      0      0      0      0      0      0      0      0      4 \n";

static const char golden_pagetypeinfo[] =
	"Page block order: 9\n"
	"Pages per block:  512\n"
	"\n"
	"Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n"
	"Node    0, zone    DMA32, type    Unmovable      0      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone    DMA32, type      Movable      0      0      0      0      0      0      0      0      0      0      4 \n"
	"Node    0, zone    DMA32, type  Reclaimable      0      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone    DMA32, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone    DMA32, type          CMA      0      0      0      0      0      0      0      0      0      0      0 \n"
	"Node    0, zone    DMA32, type      Isolate      0      0      0      0      0      0      0      0      0      0      0 \n"
	"\n"
	"Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic          CMA      Isolate \n"
	"Node 0, zone    DMA32            0            8            0            0            0            0 \n";

static void test_golden(void)
{
	struct buddy_topology t;
	struct buddy_options o;

	test_section("golden");
	one_zone_topology(&t, 4096, 2);
	buddy_options_init(&o);
	struct buddy_system *sys = create(&t, &o);
	CHECK(sys != NULL);
	if (!sys)
		return;
	char *bi = capture(buddy_proc_buddyinfo, sys);
	char *pti = capture(buddy_proc_pagetypeinfo, sys);
	CHECK(bi && !strcmp(bi, golden_buddyinfo), "buddyinfo:\n%s", bi);
	CHECK(pti && !strcmp(pti, golden_pagetypeinfo), "pagetypeinfo:\n%s", pti);
	free(bi);
	free(pti);
	buddy_system_destroy(sys);
}

/* ---- buddyinfo ---- */
static void check_buddyinfo(struct buddy_system *sys)
{
	struct buddy_system_info si;
	struct lines l;
	char tok[MAX_TOKENS][48];
	char *text = capture(buddy_proc_buddyinfo, sys);

	buddy_system_info(sys, &si);
	CHECK(text != NULL);
	if (!text)
		return;
	split_lines(text, &l);
	CHECK(l.n > 0 && text[strlen(text) - 1] == '\n');

	size_t next = 0;
	for (int nid = 0; nid < si.nr_nodes; nid++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct buddy_zone_info zi;
			CHECK_EQ(buddy_zone_info(sys, nid, (enum zone_type)z, &zi), 0);
			if (!zi.populated)
				continue;
			CHECK(next < l.n, "missing line for node %d zone %s", nid, zone_names[z]);
			if (next >= l.n)
				continue;
			const char *line = l.v[next++];
			int n = tokenize(line, tok);
			CHECK_EQ(n, 4 + (int)si.max_order + 1);
			if (n != 4 + (int)si.max_order + 1)
				continue;
			char nidtok[16];
			snprintf(nidtok, sizeof(nidtok), "%d,", nid);
			CHECK(!strcmp(tok[0], "Node"));
			CHECK(!strcmp(tok[1], nidtok), "%s", tok[1]);
			CHECK(!strcmp(tok[2], "zone"));
			CHECK_EQ(zone_by_name(tok[3]), z);
			/* "%8s ": the name ends in column len("Node N, zone ") + 8. */
			size_t name_end = strlen("Node , zone ") + strlen(nidtok) - 1 + 8;
			CHECK(strlen(line) > name_end && line[name_end] == ' ' &&
			      !strncmp(line + name_end - strlen(tok[3]), tok[3], strlen(tok[3])));
			uint64_t pages = 0, isolated = 0;
			for (unsigned int o = 0; o <= si.max_order; o++) {
				unsigned long v, want = 0;
				CHECK(parse_ulong(tok[4 + o], &v), "%s", tok[4 + o]);
				for (int mt = 0; mt < MIGRATE_TYPES; mt++)
					want += zi.nr_free_blocks[o][mt];
				CHECK_EQ(v, want);
				pages += (uint64_t)v << o;
				isolated += (uint64_t)zi.nr_free_blocks[o][MIGRATE_ISOLATE] << o;
			}
			/* NR_FREE_PAGES leaves isolated free pages out. */
			CHECK_EQ(pages - isolated, zi.free_pages);
			/* "%6lu " per order while the counts fit six digits. */
			CHECK_EQ(strlen(line), name_end + 1 + 7 * (si.max_order + 1));
		}
	}
	CHECK_EQ(next, l.n);
	free_lines(&l);
	free(text);
}

/* ---- pagetypeinfo ---- */
static void check_pagetypeinfo(struct buddy_system *sys)
{
	struct buddy_system_info si;
	struct lines l;
	char tok[MAX_TOKENS][48];
	char *text = capture(buddy_proc_pagetypeinfo, sys);
	char expect[256];

	buddy_system_info(sys, &si);
	CHECK(text != NULL);
	if (!text)
		return;
	split_lines(text, &l);
	size_t i = 0;
#define NEXT_LINE() (i < l.n ? l.v[i++] : "<eof>")
	for (int nid = 0; nid < si.nr_nodes; nid++) {
		struct buddy_zone_info zi[MAX_NR_ZONES];
		bool any = false;
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			CHECK_EQ(buddy_zone_info(sys, nid, (enum zone_type)z, &zi[z]), 0);
			any |= zi[z].populated;
		}
		if (!any)
			continue;
		snprintf(expect, sizeof(expect), "Page block order: %u", si.pageblock_order);
		const char *line = NEXT_LINE();
		CHECK(!strcmp(line, expect), "%s", line);
		snprintf(expect, sizeof(expect), "Pages per block:  %lu", 1UL << si.pageblock_order);
		line = NEXT_LINE();
		CHECK(!strcmp(line, expect), "%s", line);
		CHECK(!strcmp(NEXT_LINE(), ""));

		line = NEXT_LINE();
		CHECK(starts_with(line, "Free pages count per migrate type at order  "), "%s", line);
		int n = tokenize(line, tok);
		CHECK_EQ(n, 8 + (int)si.max_order + 1);
		for (unsigned int o = 0; o <= si.max_order && 8 + (int)o < n; o++)
			CHECK_EQ(atoi(tok[8 + o]), (int)o);

		for (int z = 0; z < MAX_NR_ZONES; z++) {
			if (!zi[z].populated)
				continue;
			for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
				int pnid = -1;
				char zname[16], tname[16];
				line = NEXT_LINE();
				CHECK(sscanf(line, "Node %d, zone %15[^,], type %15s", &pnid, zname, tname) == 3, "%s",
				      line);
				CHECK_EQ(pnid, nid);
				CHECK(!strcmp(zname + strspn(zname, " "), zone_names[z]), "%s", zname);
				CHECK(!strcmp(tname, type_names[mt]), "%s", tname);
				/* "Node %4d, zone %8s, type %12s ": the type name ends in
				 * column 43, under the header's 43-column title. */
				CHECK(strlen(line) > 43 && line[43] == ' ' &&
				      !strncmp(line + 43 - strlen(tname), tname, strlen(tname)), "%s", line);
				if (strlen(line) <= 43)
					continue;
				n = tokenize(line + 43, tok);
				CHECK_EQ(n, (int)si.max_order + 1);
				for (unsigned int o = 0; o <= si.max_order && (int)o < n; o++) {
					unsigned long v;
					if (zi[z].nr_free_blocks[o][mt] >= 100000) {
						CHECK(!strcmp(tok[o], ">100000"), "%s", tok[o]);
						continue;
					}
					CHECK(parse_ulong(tok[o], &v), "%s", tok[o]);
					CHECK_EQ(v, zi[z].nr_free_blocks[o][mt]);
				}
			}
		}

		CHECK(!strcmp(NEXT_LINE(), ""));
		line = NEXT_LINE();
		CHECK(starts_with(line, "Number of blocks type  "), "%s", line);
		n = tokenize(line, tok);
		CHECK_EQ(n, 4 + MIGRATE_TYPES);
		for (int mt = 0; mt < MIGRATE_TYPES && 4 + mt < n; mt++)
			CHECK(!strcmp(tok[4 + mt], type_names[mt]), "%s", tok[4 + mt]);
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			if (!zi[z].populated)
				continue;
			line = NEXT_LINE();
			n = tokenize(line, tok);
			CHECK_EQ(n, 4 + MIGRATE_TYPES);
			if (n != 4 + MIGRATE_TYPES)
				continue;
			snprintf(expect, sizeof(expect), "%d,", nid);
			CHECK(!strcmp(tok[0], "Node") && !strcmp(tok[1], expect) && !strcmp(tok[2], "zone"));
			CHECK_EQ(zone_by_name(tok[3]), z);
			unsigned long blocks = 0;
			for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
				unsigned long v;
				CHECK(parse_ulong(tok[4 + mt], &v));
				CHECK_EQ(v, zi[z].nr_pageblocks[mt]);
				blocks += v;
			}
			/* At most one probe per pageblock stride of the span. */
			uint64_t pb = 1ULL << si.pageblock_order;
			CHECK(blocks <= (zi[z].spanned + pb - 1) / pb);
			CHECK(blocks >= zi[z].present / pb / 2, "%lu blocks for %" PRIu64 " pages", blocks,
			      zi[z].present);
		}
	}
	CHECK_EQ(i, l.n);
#undef NEXT_LINE
	free_lines(&l);
	free(text);
}

/* ---- zoneinfo ---- */
static void check_zoneinfo(struct buddy_system *sys)
{
	static const char *const wmark_labels[] = {
		"        min      ", "        low      ", "        high     ", "        promo    ",
	};
	static const char *const pcp_labels[] = {
		"              count:    ", "              high:     ", "              batch:    ",
		"              high_min: ", "              high_max: ",
	};
	struct buddy_system_info si;
	struct lines l;
	char *text = capture(buddy_proc_zoneinfo, sys);
	char expect[128];
	unsigned long v;

	buddy_system_info(sys, &si);
	CHECK(text != NULL);
	if (!text)
		return;
	split_lines(text, &l);
	size_t i = 0;
#define NEXT_LINE() (i < l.n ? l.v[i++] : "<eof>")
	for (int nid = 0; nid < si.nr_nodes; nid++) {
		bool seen_populated = false;
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct buddy_zone_info zi;
			CHECK_EQ(buddy_zone_info(sys, nid, (enum zone_type)z, &zi), 0);
			snprintf(expect, sizeof(expect), "Node %d, zone %8s", nid, zone_names[z]);
			const char *line = NEXT_LINE();
			CHECK(!strcmp(line, expect), "'%s' != '%s'", line, expect);
			if (zi.populated && !seen_populated) {
				CHECK(!strcmp(NEXT_LINE(), "  per-node stats"));
				/* Node counters the model keeps would follow here. */
				while (i < l.n && starts_with(l.v[i], "      "))
					i++;
			}
			seen_populated |= zi.populated;

			CHECK(labelled_value(NEXT_LINE(), "  pages free     ", &v) && v == zi.free_pages);
			CHECK(labelled_value(NEXT_LINE(), "        boost    ", &v) && v == zi.watermark_boost);
			for (int w = 0; w < NR_WMARK; w++) {
				line = NEXT_LINE();
				CHECK(labelled_value(line, wmark_labels[w], &v) && v == zi.wmark[w], "%s", line);
			}
			CHECK(labelled_value(NEXT_LINE(), "        spanned  ", &v) && v == zi.spanned);
			CHECK(labelled_value(NEXT_LINE(), "        present  ", &v) && v == zi.present);
			CHECK(labelled_value(NEXT_LINE(), "        managed  ", &v) && v == zi.managed);
			CHECK(labelled_value(NEXT_LINE(), "        cma      ", &v));
			snprintf(expect, sizeof(expect), "        protection: (%ld, %ld, %ld, %ld)",
				 (long)zi.lowmem_reserve[0], (long)zi.lowmem_reserve[1], (long)zi.lowmem_reserve[2],
				 (long)zi.lowmem_reserve[3]);
			line = NEXT_LINE();
			CHECK(!strcmp(line, expect), "'%s' != '%s'", line, expect);
			if (!zi.populated)
				continue;

			/* "      %-12s %lu": the kernel's counters keep their order. */
			static const char *const kernel_counters[] = { "nr_free_pages", "nr_free_pages_blocks",
								       "nr_free_cma" };
			size_t k = 0;
			unsigned long nr_free_pages = ~0UL;
			while (i < l.n && starts_with(l.v[i], "      ") && l.v[i][6] != ' ') {
				char name[64];
				int used = 0;
				line = NEXT_LINE();
				CHECK(sscanf(line, "      %63s %lu%n", name, &v, &used) == 2 && line[used] == '\0', "%s",
				      line);
				CHECK(strlen(name) >= 12 || line[6 + 12] == ' ', "%s", line);
				if (k < 3 && !strcmp(name, kernel_counters[k]))
					k++;
				if (!strcmp(name, "nr_free_pages"))
					nr_free_pages = v;
			}
			CHECK_EQ(k, 3);
			CHECK_EQ(nr_free_pages, zi.free_pages);

			CHECK(!strcmp(NEXT_LINE(), "  pagesets"));
			uint64_t pcp_total = 0;
			for (int cpu = 0; cpu < si.nr_cpus; cpu++) {
				snprintf(expect, sizeof(expect), "    cpu: %d", cpu);
				line = NEXT_LINE();
				CHECK(!strcmp(line, expect), "%s", line);
				for (int p = 0; p < 5; p++) {
					line = NEXT_LINE();
					char *end;
					CHECK(starts_with(line, pcp_labels[p]), "%s", line);
					long iv = strtol(line + strlen(pcp_labels[p]), &end, 10);
					CHECK(*end == '\0');
					if (p == 0)
						pcp_total += (uint64_t)iv;
				}
				CHECK(starts_with(NEXT_LINE(), "  vm stats threshold: "));
			}
			CHECK_EQ(pcp_total, zi.pcp_pages);
			CHECK(labelled_value(NEXT_LINE(), "  node_unreclaimable:  ", &v));
			CHECK(labelled_value(NEXT_LINE(), "  start_pfn:           ", &v) && v == zi.start_pfn);
			CHECK(labelled_value(NEXT_LINE(), "  reserved_highatomic: ", &v) &&
			      v == zi.nr_reserved_highatomic);
			CHECK(labelled_value(NEXT_LINE(), "  free_highatomic:     ", &v) && v == zi.nr_free_highatomic);
		}
	}
	CHECK_EQ(i, l.n);
#undef NEXT_LINE
	free_lines(&l);
	free(text);
}

/* ---- vmstat ---- */

/* The kernel's vmstat_text order for the counters the model has. */
static const char *const kernel_vmstat_order[] = {
	"nr_free_pages",
	"nr_free_pages_blocks",
	"nr_free_cma",
	"pgalloc_dma",
	"pgalloc_dma32",
	"pgalloc_normal",
	"pgalloc_movable",
	"allocstall_dma",
	"allocstall_dma32",
	"allocstall_normal",
	"allocstall_movable",
	"pgfree",
	"pgsteal_kswapd",
	"pgsteal_direct",
	"pgscan_kswapd",
	"pgscan_direct",
	"kswapd_low_wmark_hit_quickly",
	"kswapd_high_wmark_hit_quickly",
	"pageoutrun",
	"oom_kill",
	"pgmigrate_success",
	"pgmigrate_fail",
	"compact_migrate_scanned",
	"compact_free_scanned",
	"compact_isolated",
	"compact_stall",
	"compact_fail",
	"compact_success",
	"compact_daemon_wake",
	"cma_alloc_success",
	"cma_alloc_fail",
};
#define NR_KERNEL_VMSTAT (sizeof(kernel_vmstat_order) / sizeof(kernel_vmstat_order[0]))

struct vmstat {
	struct lines l;
	char *text;
};

static bool vmstat_get(const struct vmstat *vs, const char *name, unsigned long *v)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < vs->l.n; i++)
		if (!strncmp(vs->l.v[i], name, n) && vs->l.v[i][n] == ' ')
			return parse_ulong(vs->l.v[i] + n + 1, v);
	return false;
}

static void vmstat_read(struct buddy_system *sys, struct vmstat *vs)
{
	vs->text = capture(buddy_proc_vmstat, sys);
	split_lines(vs->text ? vs->text : "", &vs->l);
}

static void vmstat_free(struct vmstat *vs)
{
	free_lines(&vs->l);
	free(vs->text);
}

static unsigned long vmstat_value(struct buddy_system *sys, const char *name)
{
	struct vmstat vs;
	unsigned long v = ~0UL;

	vmstat_read(sys, &vs);
	CHECK(vmstat_get(&vs, name, &v), "%s missing", name);
	vmstat_free(&vs);
	return v;
}

static void check_vmstat_layout(struct buddy_system *sys)
{
	struct buddy_system_info si;
	struct vmstat vs;
	size_t k = 0;
	bool in_own = false;

	buddy_system_info(sys, &si);
	vmstat_read(sys, &vs);
	for (size_t i = 0; i < vs.l.n; i++) {
		char name[64];
		unsigned long v;
		int used = 0;
		const char *line = vs.l.v[i];
		CHECK(sscanf(line, "%63s %lu%n", name, &v, &used) == 2 && line[used] == '\0', "%s", line);
		for (size_t j = 0; j < i; j++)
			CHECK(strncmp(vs.l.v[j], name, strlen(name)) || vs.l.v[j][strlen(name)] != ' ',
			      "%s twice", name);
		if (k < NR_KERNEL_VMSTAT && !strcmp(name, kernel_vmstat_order[k])) {
			CHECK(!in_own, "%s after the model's own counters", name);
			k++;
		} else {
			/* Anything that is not the kernel's is the model's own. */
			CHECK(starts_with(name, "buddy_"), "unexpected %s", name);
			in_own = true;
		}
	}
	CHECK_EQ(k, NR_KERNEL_VMSTAT);

	/* Summed zone counters agree with the zones. */
	uint64_t free_pages = 0, cma = 0;
	for (int nid = 0; nid < si.nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct buddy_zone_info zi;
			buddy_zone_info(sys, nid, (enum zone_type)z, &zi);
			free_pages += zi.free_pages;
			cma += zi.free_cma_pages;
		}
	unsigned long v;
	CHECK(vmstat_get(&vs, "nr_free_pages", &v) && v == free_pages);
	CHECK(vmstat_get(&vs, "nr_free_cma", &v) && v == cma);
	vmstat_free(&vs);

	/* buddy_vm_event_name names every event once, NULL past the end. */
	for (int ev = 0; ev < NR_BUDDY_VM_EVENTS; ev++) {
		const char *name = buddy_vm_event_name((enum buddy_vm_event)ev);
		CHECK(name != NULL, "event %d", ev);
		if (!name)
			continue;
		for (int j = 0; j < ev; j++) {
			const char *other = buddy_vm_event_name((enum buddy_vm_event)j);
			CHECK(!other || strcmp(name, other), "%s twice", name);
		}
		CHECK_EQ(vmstat_value(sys, name), buddy_vm_event(sys, (enum buddy_vm_event)ev));
	}
	CHECK(buddy_vm_event_name(NR_BUDDY_VM_EVENTS) == NULL);
	CHECK(!strcmp(buddy_vm_event_name(PGALLOC_NORMAL), "pgalloc_normal"));
	CHECK(!strcmp(buddy_vm_event_name(KCOMPACTD_WAKE), "compact_daemon_wake"));
	CHECK(!strcmp(buddy_vm_event_name(COMPACTMIGRATE_SCANNED), "compact_migrate_scanned"));
}

static void check_all(struct buddy_system *sys)
{
	check_buddyinfo(sys);
	check_pagetypeinfo(sys);
	check_zoneinfo(sys);
	check_vmstat_layout(sys);
}

/* Allocate a spread of orders and types, free some, leave pcp pages behind. */
#define MAX_HELD 512
static size_t churn(struct buddy_system *sys, struct page **held, unsigned int *orders, unsigned int seed)
{
	static const gfp_t gfps[] = { GFP_KERNEL, GFP_HIGHUSER_MOVABLE, GFP_KERNEL | __GFP_RECLAIMABLE,
				      GFP_ATOMIC, GFP_KERNEL | __GFP_DMA32 };
	size_t n = 0;

	for (unsigned int i = 0; i < MAX_HELD; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned int order = (seed >> 16) % 6;
		gfp_t gfp = gfps[(seed >> 8) % 5] | __GFP_NOWARN;
		struct page *p = buddy_alloc_pages(sys, gfp, order);
		if (!p)
			continue;
		if ((seed >> 20) & 1) {
			CHECK_EQ(buddy_free_pages(sys, p, order), 0);
			continue;
		}
		held[n] = p;
		orders[n] = order;
		n++;
	}
	return n;
}

static void release(struct buddy_system *sys, struct page **held, unsigned int *orders, size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(buddy_free_pages(sys, held[i], orders[i]), 0);
}

static void test_layouts(const char *name, const struct buddy_topology *t)
{
	struct buddy_options o;
	struct page *held[MAX_HELD];
	unsigned int orders[MAX_HELD];

	test_section(name);
	buddy_options_init(&o);
	struct buddy_system *sys = create(t, &o);
	CHECK(sys != NULL);
	if (!sys)
		return;
	check_all(sys);
	size_t n = churn(sys, held, orders, 7);
	CHECK(n > 0);
	check_all(sys);
	release(sys, held, orders, n);
	check_all(sys);
	buddy_drain_all_pages(sys);
	check_all(sys);
	buddy_system_destroy(sys);
}

/* ---- counters move ---- */
static void test_vmstat_moves(void)
{
	struct buddy_topology t;
	struct buddy_options o;

	test_section("vmstat-moves");
	buddy_topology_default(&t);
	buddy_options_init(&o);
	struct buddy_system *sys = create(&t, &o);
	CHECK(sys != NULL);
	if (!sys)
		return;

	/* Find a node with a Normal zone and run there. */
	int nid = -1;
	for (int n = 0; n < t.nr_nodes && nid < 0; n++) {
		struct buddy_zone_info zi;
		if (!buddy_zone_info(sys, n, ZONE_NORMAL, &zi) && zi.populated)
			nid = n;
	}
	CHECK(nid >= 0);
	if (nid < 0) {
		buddy_system_destroy(sys);
		return;
	}
	for (int cpu = 0; cpu < t.nr_cpus; cpu++)
		if (t.cpu_to_node[cpu] == nid) {
			buddy_bind_cpu(sys, cpu);
			break;
		}

	unsigned long a0 = vmstat_value(sys, "pgalloc_normal");
	unsigned long f0 = vmstat_value(sys, "pgfree");
	unsigned long free0 = vmstat_value(sys, "nr_free_pages");
	struct page *p = buddy_alloc_pages_node(sys, nid, GFP_KERNEL | __GFP_THISNODE, 3);
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ(buddy_page_zonenum(p), ZONE_NORMAL);
		CHECK_EQ(vmstat_value(sys, "pgalloc_normal"), a0 + 8);
		CHECK_EQ(vmstat_value(sys, "pgfree"), f0);
		/* Freed-page count drops by at least the block (a pcp refill may take more). */
		CHECK(vmstat_value(sys, "nr_free_pages") <= free0 - 8);
		CHECK_EQ(buddy_free_pages(sys, p, 3), 0);
		CHECK_EQ(vmstat_value(sys, "pgfree"), f0 + 8);
		CHECK_EQ(vmstat_value(sys, "pgalloc_normal"), a0 + 8);
	}
	unsigned long d0 = vmstat_value(sys, "pgalloc_dma32");
	p = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_DMA32, 0);
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ(buddy_page_zonenum(p), ZONE_DMA32);
		CHECK_EQ(vmstat_value(sys, "pgalloc_dma32"), d0 + 1);
		CHECK_EQ(buddy_free_pages(sys, p, 0), 0);
		CHECK_EQ(vmstat_value(sys, "pgfree"), f0 + 9);
	}
	/* A refused request shows up in the model's own counter. */
	unsigned long e0 = vmstat_value(sys, "buddy_alloc_fail");
	CHECK(buddy_alloc_pages(sys, GFP_KERNEL | __GFP_NOWARN, 31) == NULL);
	CHECK_EQ(vmstat_value(sys, "buddy_alloc_fail"), e0 + 1);
	buddy_system_destroy(sys);
}

/* ---- buddy_zone_info input checks ---- */
static void test_zone_info_args(void)
{
	struct buddy_topology t;
	struct buddy_zone_info zi;

	test_section("zone-info-args");
	one_zone_topology(&t, 4096, 1);
	struct buddy_system *sys = create(&t, NULL);
	CHECK(sys != NULL);
	if (!sys)
		return;
	CHECK_EQ(buddy_zone_info(sys, -1, ZONE_DMA32, &zi), -22);
	CHECK_EQ(buddy_zone_info(sys, 1, ZONE_DMA32, &zi), -22);
	CHECK_EQ(buddy_zone_info(sys, 0, MAX_NR_ZONES, &zi), -22);
	CHECK_EQ(buddy_zone_info(sys, 0, (enum zone_type)-1, &zi), -22);
	CHECK_EQ(buddy_zone_info(sys, 0, ZONE_DMA32, NULL), -22);
	CHECK_EQ(buddy_zone_info(NULL, 0, ZONE_DMA32, &zi), -22);
	CHECK_EQ(buddy_zone_info(sys, 0, ZONE_NORMAL, &zi), 0);
	CHECK(!zi.populated && zi.free_pages == 0 && zi.present == 0);
	CHECK_EQ(buddy_zone_info(sys, 0, ZONE_DMA32, &zi), 0);
	CHECK(zi.populated);
	CHECK_EQ(zi.start_pfn, 0);
	CHECK_EQ(zi.spanned, 4096);
	CHECK_EQ(zi.present, 4096);
	CHECK_EQ(zi.free_pages, 4096);
	CHECK_EQ(zi.nr_free_blocks[10][MIGRATE_MOVABLE], 4);
	CHECK_EQ(zi.nr_pageblocks[MIGRATE_MOVABLE], 8);
	CHECK_EQ(zi.allocated_pages, 0);
	CHECK_EQ(zi.pcp_pages, 0);
	CHECK(zi.wmark[WMARK_MIN] < zi.wmark[WMARK_LOW] && zi.wmark[WMARK_LOW] < zi.wmark[WMARK_HIGH]);
	/* Null arguments print nothing and do not crash. */
	buddy_proc_buddyinfo(NULL, stdout);
	buddy_proc_zoneinfo(sys, NULL);
	buddy_system_destroy(sys);
}

/* ---- the free-list walk cap ----
 * pagetypeinfo stops counting a list at 100000 and prints ">100000".  Free
 * every other page of a 1 GiB zone: about 130000 order-0 Movable blocks. */
static void test_freecount_cap(void)
{
	struct buddy_topology t;
	const uint64_t nr_pages = 1u << 18;

	test_section("freecount-cap");
	one_zone_topology(&t, nr_pages, 1);
	struct buddy_system *sys = create(&t, NULL);
	CHECK(sys != NULL);
	if (!sys)
		return;
	struct page **pages = calloc(nr_pages, sizeof(*pages));
	size_t n = 0;
	while (n < nr_pages) {
		struct page *p = buddy_alloc_pages(sys, GFP_NOWAIT | __GFP_MOVABLE, 0);
		if (!p)
			break;
		pages[n++] = p;
	}
	CHECK(n > 200000, "only %zu pages", n);
	for (size_t i = 0; i < n; i++) {
		if (buddy_page_to_pfn(sys, pages[i]) & 1) {
			CHECK_EQ(buddy_free_pages(sys, pages[i], 0), 0);
			pages[i] = NULL;
		}
	}
	buddy_drain_all_pages(sys);

	struct buddy_zone_info zi;
	CHECK_EQ(buddy_zone_info(sys, 0, ZONE_DMA32, &zi), 0);
	CHECK(zi.nr_free_blocks[0][MIGRATE_MOVABLE] > 100000, "%lu", zi.nr_free_blocks[0][MIGRATE_MOVABLE]);
	char *text = capture(buddy_proc_pagetypeinfo, sys);
	CHECK(text && strstr(text, "Node    0, zone    DMA32, type      Movable >100000 "), "%s", text);
	free(text);
	check_buddyinfo(sys);
	check_pagetypeinfo(sys);
	for (size_t i = 0; i < n; i++)
		if (pages[i])
			CHECK_EQ(buddy_free_pages(sys, pages[i], 0), 0);
	free(pages);
	buddy_system_destroy(sys);
}

/* ---- a snapshot is consistent while other CPUs allocate ---- */
struct worker {
	struct buddy_system *sys;
	int cpu;
	atomic_bool *stop;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct page *held[64] = { NULL };
	unsigned int orders[64] = { 0 };
	unsigned int seed = (unsigned int)w->cpu * 7919u + 1;

	buddy_bind_cpu(w->sys, w->cpu);
	while (!atomic_load(w->stop)) {
		seed = seed * 1103515245u + 12345u;
		unsigned int slot = (seed >> 16) % 64;
		if (held[slot]) {
			buddy_free_pages(w->sys, held[slot], orders[slot]);
			held[slot] = NULL;
		} else {
			orders[slot] = (seed >> 8) % 5;
			held[slot] = buddy_alloc_pages(w->sys, GFP_KERNEL | __GFP_NOWARN, orders[slot]);
		}
	}
	for (int i = 0; i < 64; i++)
		if (held[i])
			buddy_free_pages(w->sys, held[i], orders[i]);
	return NULL;
}

static void test_snapshot_consistency(void)
{
	struct buddy_topology t;
	enum { NR_WORKERS = 3 };
	pthread_t th[NR_WORKERS];
	struct worker w[NR_WORKERS];
	atomic_bool stop = false;

	test_section("snapshot-consistency");
	one_zone_topology(&t, 16384, NR_WORKERS + 1);
	struct buddy_system *sys = create(&t, NULL);
	CHECK(sys != NULL);
	if (!sys)
		return;
	for (int i = 0; i < NR_WORKERS; i++) {
		w[i] = (struct worker){ sys, i + 1, &stop };
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	unsigned long bad = 0, rounds = 0;
	for (int r = 0; r < 2000; r++) {
		struct buddy_zone_info zi;
		uint64_t pages = 0;
		buddy_zone_info(sys, 0, ZONE_DMA32, &zi);
		for (unsigned int o = 0; o <= 10; o++)
			for (int mt = 0; mt < MIGRATE_TYPES; mt++)
				if (mt != MIGRATE_ISOLATE)
					pages += (uint64_t)zi.nr_free_blocks[o][mt] << o;
		/* Free lists, pcp lists and handed-out pages cover the zone. */
		uint64_t total = zi.free_pages + zi.pcp_pages + zi.allocated_pages + zi.quarantined_pages;
		if (pages != zi.free_pages || total != zi.present)
			bad++;
		rounds++;
		if (r % 500 == 0) {
			char *s = capture(buddy_proc_zoneinfo, sys);
			free(s);
			s = capture(buddy_proc_pagetypeinfo, sys);
			free(s);
		}
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NR_WORKERS; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(bad, 0);
	CHECK_EQ(rounds, 2000);
	check_all(sys);
	buddy_system_destroy(sys);
}

int main(void)
{
	struct buddy_topology t;

	test_golden();
	buddy_topology_default(&t);
	test_layouts("default", &t);
	buddy_topology_small(&t, 1u << 15, 4);
	test_layouts("small", &t);
	test_vmstat_moves();
	test_zone_info_args();
	test_freecount_cap();
	test_snapshot_consistency();
	return test_done();
}
