/* The fuzzers' operation language (fuzz/ops.h): every byte string decodes,
 * binary and text round-trip both ways, the parser names what it refuses,
 * and the interpreter runs clean programs clean and catches a corrupted
 * block. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "tap.h"

#pragma GCC diagnostic ignored "-Wformat-zero-length"

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static char *format_text(const struct fz_program *p, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	fz_format(p, f);
	fclose(f);
	return text;
}

/* decode(encode(p)) == p and parse(format(p)) == p for a decoded p. */
static bool round_trips(const struct fz_program *p, char *why, size_t whylen)
{
	struct fz_program q;
	size_t need = fz_encode(p, NULL, 0), tlen;
	uint8_t *buf = malloc(need);
	char err[320] = "";
	bool ok = true;

	fz_program_init(&q);
	fz_encode(p, buf, need);
	fz_decode(buf, need, &q);
	if (!fz_program_equal(p, &q)) {
		snprintf(why, whylen, "binary round trip");
		ok = false;
	}
	char *text = format_text(p, &tlen);
	if (ok && (fz_parse(text, tlen, &q, err, sizeof(err)) || !fz_program_equal(p, &q))) {
		snprintf(why, whylen, "text round trip: %s", err);
		ok = false;
	}
	free(text);
	free(buf);
	fz_program_free(&q);
	return ok;
}

static void test_random_roundtrips(void)
{
	struct fz_program p;
	uint8_t buf[2048];
	int bad = 0;
	size_t ops = 0;

	test_section("random bytes decode and round-trip");
	fz_program_init(&p);
	for (int iter = 0; iter < 2000; iter++) {
		size_t len = next() % sizeof(buf);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)next();
		/* skew towards the opcodes with handles, so refs get exercised */
		if (iter % 2)
			for (size_t i = 8; i < len; i += 3)
				buf[i] = (uint8_t)(buf[i] & 0xef);
		fz_decode(buf, len, &p);
		ops += p.nr_ops;
		char why[400];
		if (!round_trips(&p, why, sizeof(why))) {
			if (bad++ < 3)
				CHECK(false, "input %d (%zu bytes): %s", iter, len, why);
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(ops > 5000, "%zu ops decoded", ops);
	fz_program_free(&p);
}

static void test_truncation(void)
{
	struct fz_program p;

	test_section("short inputs");
	fz_program_init(&p);
	fz_decode(NULL, 0, &p);
	CHECK_EQ(p.nr_ops, 0);
	CHECK(p.m.nr_nodes >= 1 && fz_machine_pages(&p.m) > 0);
	uint8_t one[9] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
	fz_decode(one, sizeof(one), &p);
	CHECK_EQ(p.nr_ops, 1);
	CHECK(fz_machine_pages(&p.m) <= FZ_MAX_PAGES, "%" PRIu64 " pages", fz_machine_pages(&p.m));
	/* every header gives a machine the allocator accepts */
	int refused = 0;
	for (int i = 0; i < 2000; i++) {
		uint8_t h[FZ_HEADER_BYTES];
		struct fz_machine m;
		struct buddy_topology t;
		struct buddy_options o;
		for (int k = 0; k < FZ_HEADER_BYTES; k++)
			h[k] = (uint8_t)next();
		fz_machine_decode(h, &m);
		fz_machine_build(&m, &t, &o);
		if (buddy_topology_validate(&t, &o, NULL))
			refused++;
	}
	CHECK_EQ(refused, 0);
	fz_program_free(&p);
}

static const char scenario[] =
	"# comment line\n"
	"machine nodes=2 cpus=3 max_order=9 pageblock_order=8 unit=128 node0=1/2/0/0 node1=0/0/4/0 hole\n"
	"a: alloc cpu=2 node=1 gfp=GFP_KERNEL|__GFP_ZERO order=3   # trailing comment\n"
	"b: alloc gfp=GFP_HIGHUSER_MOVABLE order=0 nodemask=0x2\n"
	"touch #a\n"
	"bulk cpu=1 nr=7\n"
	"free #a cpu=1\n"
	"refree #a\n"
	"badfree #b order=2\n"
	"drain local cpu=2\n"
	"set pcp high=100 batch=10\n"
	"set lowmem_reserve_ratio=256,256,32,0\n"
	"query wmark node=1 zone=Normal order=2 mark=high flags=0x80\n"
	"11: wildfree pfn=0x33 order=1\n"
	"check\n";

static void test_text(void)
{
	struct fz_program p;
	char err[320];

	test_section("text form");
	fz_program_init(&p);
	CHECK_EQ(fz_parse(scenario, strlen(scenario), &p, err, sizeof(err)), 0);
	CHECK(err[0] == '\0', "%s", err);
	CHECK_EQ(p.nr_ops, 13);
	CHECK_EQ(p.m.nr_cpus, 3);
	CHECK_EQ(p.ops[0].code, FZ_ALLOC);
	CHECK_EQ(p.ops[0].gfp, GFP_KERNEL | __GFP_ZERO);
	CHECK_EQ(p.ops[1].node, -1);
	CHECK_EQ(p.ops[4].ref, 0);
	CHECK_EQ(p.ops[6].ref, 1);
	char why[400];
	CHECK(round_trips(&p, why, sizeof(why)), "%s", why);

	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "alloc cpu=2\n", "cpu=2 outside 0..1" },
		{ "alloc order=12\n", "order=12 outside" },
		{ "alloc gfp=GFP_BOGUS\n", "unknown GFP flag" },
		{ "free #0\n", "names no earlier operation" },
		{ "alloc\nfree #0\nfree #0\n", "is not a live handle" },
		{ "alloc\nrefree #0\n", "an alloc handle freed earlier" },
		{ "alloc order=2\nbadfree #0 order=2\n", "the block's own order" },
		{ "x: alloc\nx: alloc\n", "used twice" },
		{ "alloc\n5: alloc\n", "this is operation 1" },
		{ "frobnicate\n", "unknown operation" },
		{ "alloc colour=red\n", "unexpected 'colour=red'" },
		{ "alloc\nmachine nodes=2\n", "must come once, before any operation" },
		{ "machine unit=100\n", "with max_order=10 it is 128, 256, 512 or 1024" },
		{ "machine nodes=4 unit=512 node0=4/4/4/4 node1=4/4/4/4\n", "at most 8192" },
		{ "taskset task=1 adj=5\n", "does not exist yet" },
		{ "machine nodes=1 node0=0/0/0/0\n", "no zone has memory" },
		{ "isolate pfn=0x100000 nr=1\n", "beyond what a program can name" },
		{ "alloc\n#0", "unknown operation" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = fz_parse(bad[i].text, strlen(bad[i].text), &p, err, sizeof(err));
		CHECK(r == -1 && strstr(err, bad[i].want) && !strncmp(err, "line ", 5), "'%s': got '%s'", bad[i].text, err);
	}
	fz_program_free(&p);
}

static void test_run_clean(void)
{
	struct fz_program p;
	struct fz_run_opts o;
	struct fz_run_result r;
	char err[320];

	test_section("interpreter: clean programs");
	fz_program_init(&p);
	CHECK_EQ(fz_parse(scenario, strlen(scenario), &p, err, sizeof(err)), 0);
	fz_run_opts_init(&o);
	o.full_check_each_op = true;
	CHECK_EQ(fz_run(&p, &o, &r), FZ_OK);
	CHECK(r.status == FZ_OK, "%s at op %zu: %s", r.invariant, r.op_index, r.message);
	CHECK_EQ(r.ops_run, p.nr_ops);
	CHECK(r.allocs_ok >= 2);

	/* random programs: the interpreter must never report its own mistakes */
	uint8_t buf[600];
	int violations = 0;
	for (int iter = 0; iter < 25; iter++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)next();
		fz_decode(buf, sizeof(buf), &p);
		fz_run_opts_init(&o);
		if (fz_run(&p, &o, &r) != FZ_OK && violations++ < 3) {
			CHECK(false, "random program %d: %s at op %zu: %s", iter, r.invariant, r.op_index, r.message);
			fz_format(&p, stderr);
		}
	}
	CHECK_EQ(violations, 0);
	fz_program_free(&p);
}

/* Scribble on the block the program touched: the next check must say so. */
static void scribble(void *ctx, struct buddy_system *sys, size_t i)
{
	(void)ctx;
	if (i != 1)
		return;
	struct buddy_system_info info;
	buddy_system_info(sys, &info);
	for (uint64_t pfn = 0; pfn < info.max_pfn; pfn++) {
		struct page *page = buddy_pfn_to_page(sys, pfn);
		if (page && !buddy_page_is_free(sys, pfn) && buddy_page_order(page) == 2) {
			volatile uint64_t *w = buddy_page_address(sys, page);
			w[0] ^= 1;
			return;
		}
	}
}

static void test_model_catches(void)
{
	static const char text[] = "machine nodes=1 cpus=1 node0=0/4/0/0\n"
				   "alloc order=2\n"
				   "touch #0\n"
				   "check\n";
	struct fz_program p;
	struct fz_run_opts o;
	struct fz_run_result r;
	char err[320];

	test_section("interpreter: a corrupted block is reported");
	fz_program_init(&p);
	CHECK_EQ(fz_parse(text, strlen(text), &p, err, sizeof(err)), 0);
	fz_run_opts_init(&o);
	o.after_op = scribble;
	CHECK_EQ(fz_run(&p, &o, &r), FZ_VIOLATION);
	CHECK(!strcmp(r.invariant, "model-contents"), "%s", r.invariant);
	CHECK_EQ(r.op_index, 2);
	fz_program_free(&p);
}

static void test_ignore_list(void)
{
	test_section("known-bug ignore lists");
	CHECK(fz_ignored("model-placement", "model-placement", "anything"));
	CHECK(fz_ignored("a,model-placement~CMA memory,b", "model-placement", "pfn 0x201 is CMA memory for x"));
	CHECK(!fz_ignored("model-placement~CMA memory", "model-placement", "not aligned"));
	CHECK(!fz_ignored("model-placement", "model-contents", "x"));
	CHECK(!fz_ignored("", "model-contents", "x"));
	CHECK(!fz_ignored("model", "model-contents", "x"));
}

int main(void)
{
	test_random_roundtrips();
	test_truncation();
	test_text();
	test_run_clean();
	test_model_catches();
	test_ignore_list();
	return test_done();
}
