/* ptfuzz: the operation language on the command line.
 *
 *   ptfuzz replay [--zone-checks] [--quiet] FILE   run a program (text or binary), print its trace;
 *                                                  on a violation: the first one, the op, and
 *                                                  buddyinfo/pagetypeinfo before and after that op
 *   ptfuzz decode FILE                             binary -> text on stdout
 *   ptfuzz encode FILE OUT                         text -> binary
 *   ptfuzz check FILE...                           parse text, confirm both round trips
 *   ptfuzz invariants                              every invariant name with its meaning
 *   ptfuzz dict ops|gfp                            the fuzzing dictionaries (fuzz/dict/)
 *   ptfuzz topo FILE|-                             a program's machine (or the default) as topology text
 *
 * Exit status: 0 clean, 1 violation, 2 usage or unreadable input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	uint8_t *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f) {
		perror(path);
		return NULL;
	}
	for (;;) {
		if (*len + 1 >= cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *n = realloc(buf, cap);
			if (!n) {
				free(buf);
				return NULL;
			}
			buf = n;
		}
		size_t got = fread(buf + *len, 1, cap - *len - 1, f);
		if (!got)
			break;
		*len += got;
	}
	if (f != stdin)
		fclose(f);
	buf[*len] = '\0';
	return buf;
}

/* Does the text start the way a scenario does: a comment, a label, the
 * machine line or an op name?  A fuzzer's input can be all printable bytes
 * by chance; it is binary unless it reads like this. */
static bool reads_like_scenario(const uint8_t *data, size_t len)
{
	size_t i = 0, n = 0;

	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	if (i < len && data[i] == '#')
		return true;
	while (i + n < len && data[i + n] != ' ' && data[i + n] != '\t' && data[i + n] != '\n')
		n++;
	if (n > 1 && data[i + n - 1] == ':')
		return true;
	if (n == 7 && !memcmp(data + i, "machine", 7))
		return true;
	for (unsigned c = 0; c < FZ_NR_OPCODES; c++)
		if (strlen(fz_opcode_name(c)) == n && !memcmp(data + i, fz_opcode_name(c), n))
			return true;
	return false;
}

/* Text if it reads like a scenario; otherwise the fuzzers' binary. */
static int load(const char *path, struct fz_program *p, bool *was_text)
{
	size_t len;
	uint8_t *data = read_all(path, &len);
	char err[320];

	if (!data)
		return -1;
	*was_text = fz_looks_like_text(data, len) && reads_like_scenario(data, len);
	if (*was_text) {
		if (fz_parse((const char *)data, len, p, err, sizeof(err))) {
			fprintf(stderr, "%s: %s\n", path, err);
			free(data);
			return -1;
		}
	} else {
		fz_decode(data, len, p);
	}
	free(data);
	return 0;
}

struct snapshots {
	char *before, *after, *cur;
	size_t before_len, after_len, cur_len;
};

static void snap(struct buddy_system *sys, char **buf, size_t *len)
{
	free(*buf);
	*buf = NULL;
	FILE *f = open_memstream(buf, len);
	if (!f)
		return;
	fprintf(f, "-- /proc/buddyinfo\n");
	buddy_proc_buddyinfo(sys, f);
	fprintf(f, "-- /proc/pagetypeinfo\n");
	buddy_proc_pagetypeinfo(sys, f);
	fclose(f);
}

static void before_op(void *ctx, struct buddy_system *sys, size_t i)
{
	struct snapshots *s = ctx;

	(void)i;
	snap(sys, &s->before, &s->before_len);
}

static void after_op(void *ctx, struct buddy_system *sys, size_t i)
{
	struct snapshots *s = ctx;

	(void)i;
	snap(sys, &s->after, &s->after_len);
}

static int cmd_replay(int argc, char **argv)
{
	bool zone_checks = false, quiet = false, was_text;
	const char *path = NULL;
	struct fz_program p;
	struct fz_run_opts o;
	struct fz_run_result r;
	struct snapshots s = { 0 };

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--zone-checks"))
			zone_checks = true;
		else if (!strcmp(argv[i], "--quiet"))
			quiet = true;
		else
			path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "usage: ptfuzz replay [--zone-checks] [--quiet] FILE\n");
		return 2;
	}
	fz_program_init(&p);
	if (load(path, &p, &was_text)) {
		fz_program_free(&p);
		return 2;
	}
	fz_run_opts_init(&o);
	o.full_check_each_op = !zone_checks;
	o.trace = quiet ? NULL : stdout;
	o.before_op = before_op;
	o.after_op = after_op;
	o.hook_ctx = &s;
	if (!quiet) {
		printf("# %s (%s form), %zu operations, checker after every op: %s\n", path, was_text ? "text" : "binary",
		       p.nr_ops, zone_checks ? "touched zones (as the fuzzer)" : "full");
		fz_format_machine(&p.m, stdout);
	}
	enum fz_status st = fz_run(&p, &o, &r);
	int ret = 0;
	if (st == FZ_OK) {
		printf("# clean: %zu ops, %zu allocations succeeded, %zu failed; %zu zone checks, %zu full checks\n",
		       r.ops_run, r.allocs_ok, r.allocs_failed, r.zone_checks, r.full_checks);
	} else {
		char op[BUDDY_GFP_STR_MAX + 128] = "(the final check after the last op)";
		if (r.op_index < p.nr_ops)
			fz_format_op(&p, r.op_index, op, sizeof(op));
		printf("\n==pagetorture== FIRST VIOLATION: %s\n", r.invariant);
		printf("  %s\n", r.message);
		printf("==pagetorture== at op %zu: %s\n", r.op_index, op);
		if (st == FZ_VIOLATION && r.op_index < p.nr_ops) {
			printf("==pagetorture== before op %zu:\n%s", r.op_index, s.before ? s.before : "");
			printf("==pagetorture== after op %zu:\n%s", r.op_index, s.after ? s.after : "");
		}
		ret = 1;
	}
	free(s.before);
	free(s.after);
	fz_program_free(&p);
	return ret;
}

static int cmd_decode(int argc, char **argv)
{
	struct fz_program p;
	bool was_text;

	if (argc != 1) {
		fprintf(stderr, "usage: ptfuzz decode FILE\n");
		return 2;
	}
	fz_program_init(&p);
	if (load(argv[0], &p, &was_text)) {
		fz_program_free(&p);
		return 2;
	}
	fz_format(&p, stdout);
	fz_program_free(&p);
	return 0;
}

static int cmd_encode(int argc, char **argv)
{
	struct fz_program p;
	bool was_text;

	if (argc != 2) {
		fprintf(stderr, "usage: ptfuzz encode FILE OUT\n");
		return 2;
	}
	fz_program_init(&p);
	if (load(argv[0], &p, &was_text)) {
		fz_program_free(&p);
		return 2;
	}
	size_t need = fz_encode(&p, NULL, 0);
	uint8_t *buf = malloc(need);
	FILE *f = buf ? fopen(argv[1], "wb") : NULL;
	int ret = 0;
	if (!f || fwrite(buf, 1, fz_encode(&p, buf, need), f) != need) {
		perror(argv[1]);
		ret = 2;
	}
	if (f && fclose(f))
		ret = 2;
	free(buf);
	fz_program_free(&p);
	return ret;
}

static int round_trips(const char *path, const struct fz_program *p)
{
	struct fz_program q;
	size_t need = fz_encode(p, NULL, 0);
	uint8_t *buf = malloc(need);
	char *text = NULL, err[320];
	size_t tlen = 0;
	int bad = 0;

	fz_program_init(&q);
	fz_encode(p, buf, need);
	fz_decode(buf, need, &q);
	if (!fz_program_equal(p, &q)) {
		fprintf(stderr, "%s: decode(encode(p)) differs from p\n", path);
		bad = 1;
	}
	FILE *f = open_memstream(&text, &tlen);
	fz_format(p, f);
	fclose(f);
	if (fz_parse(text, tlen, &q, err, sizeof(err)) || !fz_program_equal(p, &q)) {
		fprintf(stderr, "%s: parse(format(p)) differs from p %s\n", path, err);
		bad = 1;
	}
	free(text);
	free(buf);
	fz_program_free(&q);
	return bad;
}

static int cmd_check(int argc, char **argv)
{
	int bad = 0;

	for (int i = 0; i < argc; i++) {
		struct fz_program p;
		bool was_text;
		fz_program_init(&p);
		if (load(argv[i], &p, &was_text))
			bad = 1;
		else
			bad |= round_trips(argv[i], &p);
		fz_program_free(&p);
	}
	return bad ? 1 : 0;
}

/* One dictionary token per line of ops: the bytes that op encodes to
 * after the program so far (so references name the handles made above). */
static void dict_ops(void)
{
	static const char *const lines[] = {
		"alloc cpu=0 gfp=GFP_KERNEL order=0", "alloc cpu=1 gfp=GFP_KERNEL|__GFP_ZERO order=3",
		"alloc gfp=GFP_TRANSHUGE order=9", "alloc gfp=GFP_TRANSHUGE_LIGHT order=9",
		"alloc gfp=GFP_HIGHUSER_MOVABLE order=0 map=movable", "alloc gfp=GFP_ATOMIC order=2",
		"alloc gfp=GFP_KERNEL|__GFP_RECLAIMABLE order=1 map=reclaim", "alloc gfp=GFP_NOWAIT order=10",
		"alloc gfp=GFP_KERNEL|__GFP_DMA order=0", "alloc gfp=GFP_KERNEL|__GFP_THISNODE order=1 node=0",
		"bulk gfp=GFP_KERNEL nr=64", "touch #0", "free #0", "alloc order=1", "badfree #13 order=0",
		"refree #0", "wildfree pfn=0x10 order=0", "drain all", "drain cpu=1", "drain local cpu=1",
		"set pcp high=16 batch=4", "set min_free_kbytes=1024", "set watermark_scale_factor=1000",
		"set lowmem_reserve_ratio=256,256,32,0", "check", "query zoneinfo", "query proc",
		"query wmark node=0 zone=Normal order=3 mark=low flags=0x20", "query zonelist node=0 nofallback",
		"query frag node=0 zone=Normal order=9", "task adj=500", "taskset task=1 adj=-1000 flags=rt",
		"alloc gfp=GFP_HIGHUSER_MOVABLE order=4 owner=task1 map=anon", "taskexit task=1",
		"compact all", "compact node=0", "compact node=0 zone=Normal order=9 mode=sync", "kswapd node=0",
		"reclaim node=0 gfp=GFP_KERNEL order=0", "oom gfp=GFP_KERNEL order=0 nodemask=0x1",
		"contig pfn=0x200 nr=512 gfp=GFP_KERNEL", "cma area=0 count=64 align=4", "isolate pfn=0x200 nr=512",
		"offline pfn=0x200 nr=512", "online pfn=0x200 nr=512", "hwpoison pfn=0x10", "unpoison pfn=0x10",
		"fault prob=10 interval=1 times=-1 min_order=0 eagain=10 reclaim_fail=10 compact_fail=10 seed=1",
		"fault off", "nop",
	};
	struct fz_program p;
	char text[8192] = "machine nodes=1 cpus=2 max_order=10 pageblock_order=9 unit=256 node0=1/4/4/0 cma\n";
	size_t before = FZ_HEADER_BYTES;
	char err[320];

	fz_program_init(&p);
	printf("# fuzz_ops: one op each, as encoded after the ops above it (ptfuzz dict ops)\n");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		strncat(text, lines[i], sizeof(text) - strlen(text) - 2);
		strcat(text, "\n");
		if (fz_parse(text, strlen(text), &p, err, sizeof(err))) {
			fprintf(stderr, "dict: %s: %s\n", lines[i], err);
			continue;
		}
		size_t need = fz_encode(&p, NULL, 0);
		uint8_t *buf = malloc(need);
		fz_encode(&p, buf, need);
		printf("op_%zu_%.*s=\"", i, (int)strcspn(lines[i], " "), lines[i]);
		for (size_t k = before; k < need; k++)
			printf("\\x%02x", buf[k]);
		printf("\"\n");
		before = need;
		free(buf);
	}
	fz_program_free(&p);
}

/* GFP names as text, and their values as the 4 little-endian bytes
 * fuzz_gfp reads first. */
static void dict_gfp(void)
{
	const struct buddy_gfp_name *names;
	size_t n = buddy_gfp_names(&names);

	printf("# fuzz_gfp: names for the parser, values for the leading gfp_t (ptfuzz dict gfp)\n");
	for (size_t i = 0; i < n; i++) {
		gfp_t v = names[i].value;
		printf("name_%s=\"%s\"\n", names[i].name, names[i].name);
		printf("value_%s=\"\\x%02x\\x%02x\\x%02x\\x%02x\"\n", names[i].name, v & 0xff, (v >> 8) & 0xff,
		       (v >> 16) & 0xff, (v >> 24) & 0xff);
	}
	printf("bar=\"|\"\nhex=\"0x\"\nnone=\"none\"\n");
}

static int cmd_dict(int argc, char **argv)
{
	if (argc == 1 && !strcmp(argv[0], "ops"))
		dict_ops();
	else if (argc == 1 && !strcmp(argv[0], "gfp"))
		dict_gfp();
	else {
		fprintf(stderr, "usage: ptfuzz dict ops|gfp\n");
		return 2;
	}
	return 0;
}

/* The topology text of a program's machine (seeds for fuzz_topology), or
 * of the built-in default machine for "-". */
static int cmd_topo(int argc, char **argv)
{
	struct buddy_topology t;
	struct buddy_options o;

	if (argc != 1) {
		fprintf(stderr, "usage: ptfuzz topo FILE|-\n");
		return 2;
	}
	if (!strcmp(argv[0], "-")) {
		buddy_topology_default(&t);
		buddy_options_init(&o);
	} else {
		struct fz_program p;
		bool was_text;
		fz_program_init(&p);
		if (load(argv[0], &p, &was_text)) {
			fz_program_free(&p);
			return 2;
		}
		fz_machine_build(&p.m, &t, &o);
		fz_program_free(&p);
	}
	return buddy_topology_write(stdout, &t, &o) ? 1 : 0;
}

static int cmd_invariants(void)
{
	const struct buddy_invariant *list;
	size_t n = buddy_invariants(&list);

	for (size_t i = 0; i < n; i++)
		printf("%-26s %s\n", list[i].name, list[i].meaning);
	n = fz_model_invariants(&list);
	for (size_t i = 0; i < n; i++)
		printf("%-26s %s\n", list[i].name, list[i].meaning);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "replay"))
		return cmd_replay(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "decode"))
		return cmd_decode(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "encode"))
		return cmd_encode(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return cmd_check(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "invariants"))
		return cmd_invariants();
	if (argc >= 2 && !strcmp(argv[1], "topo"))
		return cmd_topo(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "dict"))
		return cmd_dict(argc - 2, argv + 2);
	fprintf(stderr, "usage: ptfuzz replay|decode|encode|check|invariants|dict|topo ...\n");
	return 2;
}
