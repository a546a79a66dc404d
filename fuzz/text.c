/* The text form of the operation language: one op per line.
 *
 * The parser accepts exactly what the binary form can express, checking
 * every value against the machine, so a hand-written scenario either
 * encodes to bytes that decode back to it or is refused with the line and
 * the field at fault.  Missing keys take friendly defaults (cpu=0,
 * node=any, gfp=GFP_KERNEL, order=0); the formatter always writes them all. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"

static const char *const opcode_names[FZ_NR_OPCODES] = {
	[FZ_NOP] = "nop", [FZ_ALLOC] = "alloc", [FZ_BULK] = "bulk", [FZ_FREE] = "free",
	[FZ_BADFREE] = "badfree", [FZ_REFREE] = "refree", [FZ_WILDFREE] = "wildfree", [FZ_TOUCH] = "touch",
	[FZ_DRAIN] = "drain", [FZ_SET] = "set", [FZ_CHECK] = "check", [FZ_QUERY] = "query",
	[FZ_TASK] = "task", [FZ_TASKSET] = "taskset", [FZ_TASKEXIT] = "taskexit", [FZ_COMPACT] = "compact",
	[FZ_KSWAPD] = "kswapd", [FZ_RECLAIM] = "reclaim", [FZ_OOM] = "oom", [FZ_CONTIG] = "contig",
	[FZ_CMA] = "cma", [FZ_ISOLATE] = "isolate", [FZ_OFFLINE] = "offline", [FZ_ONLINE] = "online",
	[FZ_HWPOISON] = "hwpoison", [FZ_UNPOISON] = "unpoison", [FZ_FAULT] = "fault",
};
static const char *const map_names[FZ_NR_MAP] = { "none", "movable", "reclaim", "pinned", "anon" };
static const char *const compact_modes[3] = { "async", "sync_light", "sync" };
static const char *const mark_names[3] = { "min", "low", "high" };
static const char *const query_names[FZ_NR_QUERY] = { "zoneinfo", "wmark", "proc", "zonelist", "frag" };
static const char *const task_flag_names[4] = { "none", "rt", "memalloc", "rt|memalloc" };

const char *fz_opcode_name(unsigned code)
{
	return code < FZ_NR_OPCODES ? opcode_names[code] : "?";
}

/* ---- formatting ---- */
struct out {
	char *buf;
	size_t len, used;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	char *dst = o->used < o->len ? o->buf + o->used : NULL;
	size_t room = o->used < o->len ? o->len - o->used : 0;

	va_start(ap, fmt);
	int n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used += (size_t)n;
}

static void put_gfp(struct out *o, gfp_t gfp)
{
	char text[BUDDY_GFP_STR_MAX];

	buddy_gfp_format(gfp, text, sizeof(text));
	put(o, "gfp=%s", text);
}

static void put_node_any(struct out *o, int node)
{
	if (node < 0)
		put(o, "node=any");
	else
		put(o, "node=%d", node);
}

int fz_format_op(const struct fz_program *p, size_t i, char *buf, size_t len)
{
	const struct fz_op *op = &p->ops[i];
	struct out o = { buf, buf ? len : 0, 0 };

	if (buf && len)
		buf[0] = '\0';
	put(&o, "%s", fz_opcode_name(op->code));
	switch (op->code) {
	case FZ_ALLOC:
		put(&o, " cpu=%u ", op->cpu);
		put_node_any(&o, op->node);
		put(&o, " ");
		put_gfp(&o, op->gfp);
		put(&o, " order=%d", op->order);
		if (op->nodemask)
			put(&o, " nodemask=0x%" PRIx64, op->nodemask);
		if (op->task)
			put(&o, " owner=task%u", op->task);
		if (op->sub)
			put(&o, " map=%s", map_names[op->sub % FZ_NR_MAP]);
		break;
	case FZ_BULK:
		put(&o, " cpu=%u ", op->cpu);
		put_node_any(&o, op->node);
		put(&o, " ");
		put_gfp(&o, op->gfp);
		put(&o, " nr=%" PRIu64, op->nr);
		break;
	case FZ_FREE:
	case FZ_REFREE:
		put(&o, " #%u cpu=%u", op->ref, op->cpu);
		break;
	case FZ_BADFREE:
		put(&o, " #%u cpu=%u order=%d", op->ref, op->cpu, op->order);
		break;
	case FZ_TOUCH:
		put(&o, " #%u", op->ref);
		break;
	case FZ_WILDFREE:
		put(&o, " cpu=%u pfn=0x%" PRIx64 " order=%d", op->cpu, op->pfn, op->order);
		break;
	case FZ_DRAIN:
		if (op->sub == FZ_DRAIN_ALL)
			put(&o, " all");
		else
			put(&o, "%s cpu=%u", op->sub == FZ_DRAIN_LOCAL ? " local" : "", op->cpu);
		break;
	case FZ_SET:
		switch (op->sub) {
		case FZ_SET_MIN_FREE:
			put(&o, " min_free_kbytes=%" PRIu64, op->v[0]);
			break;
		case FZ_SET_WSF:
			put(&o, " watermark_scale_factor=%" PRIu64, op->v[0]);
			break;
		case FZ_SET_PCP:
			put(&o, " pcp high=%" PRIu64 " batch=%" PRIu64, op->v[0], op->v[1]);
			break;
		case FZ_SET_LOWMEM:
			put(&o, " lowmem_reserve_ratio=%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, op->v[0], op->v[1],
			    op->v[2], op->v[3]);
			break;
		}
		break;
	case FZ_QUERY:
		put(&o, " %s", query_names[op->sub % FZ_NR_QUERY]);
		if (op->sub == FZ_Q_WMARK)
			put(&o, " node=%d zone=%s order=%d mark=%s flags=0x%x", op->node, buddy_zone_name(op->zone),
			    op->order, mark_names[op->mode % 3], op->flags);
		else if (op->sub == FZ_Q_ZONELIST)
			put(&o, " node=%d%s", op->node, op->mode ? " nofallback" : "");
		else if (op->sub == FZ_Q_FRAG)
			put(&o, " node=%d zone=%s order=%d", op->node, buddy_zone_name(op->zone), op->order);
		break;
	case FZ_TASK:
		put(&o, " adj=%d flags=%s", op->adj, task_flag_names[op->flags & 3]);
		break;
	case FZ_TASKSET:
		put(&o, " task=%u adj=%d flags=%s", op->task, op->adj, task_flag_names[op->flags & 3]);
		break;
	case FZ_TASKEXIT:
		put(&o, " task=%u", op->task);
		break;
	case FZ_COMPACT:
		if (op->sub == FZ_COMPACT_ZONE)
			put(&o, " node=%d zone=%s order=%d mode=%s", op->node, buddy_zone_name(op->zone), op->order,
			    compact_modes[op->mode % 3]);
		else if (op->sub == FZ_COMPACT_NODE)
			put(&o, " node=%d", op->node);
		else
			put(&o, " all");
		break;
	case FZ_KSWAPD:
		put(&o, " node=%d", op->node);
		break;
	case FZ_RECLAIM:
		put(&o, " node=%d ", op->node);
		put_gfp(&o, op->gfp);
		put(&o, " order=%d", op->order);
		break;
	case FZ_OOM:
		put(&o, " ");
		put_gfp(&o, op->gfp);
		put(&o, " order=%d nodemask=0x%" PRIx64, op->order, op->nodemask);
		break;
	case FZ_CONTIG:
		put(&o, " pfn=0x%" PRIx64 " nr=%" PRIu64 " ", op->pfn, op->nr);
		put_gfp(&o, op->gfp);
		break;
	case FZ_CMA:
		put(&o, " area=%u count=%" PRIu64 " align=%d", op->zone, op->nr, op->order);
		break;
	case FZ_ISOLATE:
	case FZ_OFFLINE:
	case FZ_ONLINE:
		put(&o, " pfn=0x%" PRIx64 " nr=%" PRIu64, op->pfn, op->nr);
		break;
	case FZ_HWPOISON:
	case FZ_UNPOISON:
		put(&o, " pfn=0x%" PRIx64, op->pfn);
		break;
	case FZ_FAULT:
		if (!op->sub) {
			put(&o, " off");
			break;
		}
		put(&o, " prob=%" PRIu64 " interval=%" PRIu64 " times=%d min_order=%u eagain=%u reclaim_fail=%u"
			" compact_fail=%u seed=%" PRIu64 "%s%s",
		    op->v[0], op->v[1], op->adj, op->fault[3], op->fault[0], op->fault[1], op->fault[2], op->v[3],
		    (op->flags & 1) ? " ignore_reclaim" : "", (op->flags & 2) ? " ignore_highmem" : "");
		break;
	default:
		break;
	}
	return (int)o.used;
}

void fz_format_machine(const struct fz_machine *m, FILE *out)
{
	fprintf(out, "machine nodes=%u cpus=%u max_order=%u pageblock_order=%u unit=%u skew=%u", m->nr_nodes,
		m->nr_cpus, m->max_order, m->pageblock_order, m->unit, m->skew);
	for (int n = 0; n < m->nr_nodes; n++)
		fprintf(out, " node%d=%u/%u/%u/%u", n, m->zone_units[n][0], m->zone_units[n][1], m->zone_units[n][2],
			m->zone_units[n][3]);
	if (m->min_free)
		fprintf(out, " min_free=%u", 1u << (m->min_free + 4));
	else
		fprintf(out, " min_free=auto");
	if (m->pcp_fraction)
		fprintf(out, " pcp_fraction=%u", fz_pcp_fraction_value(m->pcp_fraction));
	else
		fprintf(out, " pcp_fraction=auto");
	fprintf(out, " wsf=%u", fz_wsf_value(m->wsf));
	static const struct {
		size_t off;
		const char *name;
	} flags[] = {
		{ offsetof(struct fz_machine, poison), "poison" },
		{ offsetof(struct fz_machine, no_mobility), "no_mobility" },
		{ offsetof(struct fz_machine, cma), "cma" },
		{ offsetof(struct fz_machine, hole), "hole" },
		{ offsetof(struct fz_machine, ring), "ring" },
		{ offsetof(struct fz_machine, no_boost), "no_boost" },
		{ offsetof(struct fz_machine, cpus_on_node0), "cpus_on_node0" },
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (*((const bool *)((const char *)m + flags[i].off)))
			fprintf(out, " %s", flags[i].name);
	fputc('\n', out);

	/* What the header builds, for the reader; the parser skips comments. */
	struct buddy_topology t;
	struct buddy_options o;
	fz_machine_build(m, &t, &o);
	for (int n = 0; n < t.nr_nodes; n++) {
		fprintf(out, "# node%d:", n);
		bool any = false;
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			const struct buddy_pfn_range *r = &t.zones[n][z];
			if (r->end_pfn <= r->start_pfn)
				continue;
			fprintf(out, " %s [0x%" PRIx64 ", 0x%" PRIx64 ")", buddy_zone_name((enum zone_type)z), r->start_pfn,
				r->end_pfn);
			any = true;
		}
		if (!any)
			fprintf(out, " no memory");
		fprintf(out, "; cpus");
		for (int c = 0; c < t.nr_cpus; c++)
			if (t.cpu_to_node[c] == n)
				fprintf(out, " %d", c);
		fputc('\n', out);
	}
	for (int h = 0; h < t.nr_holes; h++)
		fprintf(out, "# hole [0x%" PRIx64 ", 0x%" PRIx64 ")\n", t.holes[h].start_pfn, t.holes[h].end_pfn);
	for (int c = 0; c < t.nr_cma; c++)
		fprintf(out, "# cma area %d [0x%" PRIx64 ", 0x%" PRIx64 ")\n", c, t.cma[c].start_pfn, t.cma[c].end_pfn);
}

void fz_format(const struct fz_program *p, FILE *out)
{
	char line[BUDDY_GFP_STR_MAX + 256];

	fz_format_machine(&p->m, out);
	for (size_t i = 0; i < p->nr_ops; i++) {
		fz_format_op(p, i, line, sizeof(line));
		fprintf(out, "%zu: %s\n", i, line);
	}
}

bool fz_looks_like_text(const uint8_t *data, size_t len)
{
	size_t i = 0;

	while (i < len && isspace(data[i]))
		i++;
	if (i == len || !(isalpha(data[i]) || data[i] == '#' || isdigit(data[i])))
		return false;
	for (; i < len; i++)
		if (!isprint(data[i]) && !isspace(data[i]))
			return false;
	return true;
}

/* ---- parsing ---- */
#define MAX_WORDS 24
#define MAX_LABELS 512
#define LABEL_LEN 32

struct word {
	const char *s;
	size_t n;
	const char *val;  /* after '=', or NULL */
	size_t vn;
	bool used;
};

struct label {
	char name[LABEL_LEN];
	uint32_t op;
};

struct parser {
	struct fz_program *p;
	struct fz_tracker t;
	char *err;
	size_t errlen;
	unsigned long line;
	struct word w[MAX_WORDS];
	int nw;
	struct label *labels;
	size_t nlabels;
	bool machine_seen;
};

static int __attribute__((format(printf, 2, 3))) fail(struct parser *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->err && ps->errlen)
		snprintf(ps->err, ps->errlen, "line %lu: %s", ps->line, msg);
	return -1;
}

static bool word_is(const struct word *w, const char *lit)
{
	return strlen(lit) == w->n && memcmp(w->s, lit, w->n) == 0;
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Splits a line into words, dropping the comment. */
static int split(struct parser *ps, const char *s, size_t n)
{
	size_t i = 0;

	ps->nw = 0;
	while (i < n) {
		while (i < n && isspace((unsigned char)s[i]))
			i++;
		if (i >= n)
			break;
		if (s[i] == '#' && (i + 1 >= n || !ident_char(s[i + 1])))
			break;
		size_t start = i;
		while (i < n && !isspace((unsigned char)s[i]))
			i++;
		if (ps->nw == MAX_WORDS)
			return fail(ps, "too many words (at most %d)", MAX_WORDS);
		struct word *w = &ps->w[ps->nw++];
		*w = (struct word){ .s = s + start, .n = i - start };
		const char *eq = memchr(w->s, '=', w->n);
		if (eq) {
			w->val = eq + 1;
			w->vn = w->n - (size_t)(eq + 1 - w->s);
			w->n = (size_t)(eq - w->s);
		}
	}
	return 0;
}

static struct word *key(struct parser *ps, const char *name)
{
	for (int i = 1; i < ps->nw; i++)
		if (ps->w[i].val && word_is(&ps->w[i], name)) {
			ps->w[i].used = true;
			return &ps->w[i];
		}
	return NULL;
}

static bool bare(struct parser *ps, const char *name)
{
	for (int i = 1; i < ps->nw; i++)
		if (!ps->w[i].val && word_is(&ps->w[i], name)) {
			ps->w[i].used = true;
			return true;
		}
	return false;
}

static int leftovers(struct parser *ps, const char *what)
{
	for (int i = 1; i < ps->nw; i++)
		if (!ps->w[i].used)
			return fail(ps, "%s: unexpected '%.*s%s%.*s'", what, (int)ps->w[i].n, ps->w[i].s,
				    ps->w[i].val ? "=" : "", ps->w[i].val ? (int)ps->w[i].vn : 0,
				    ps->w[i].val ? ps->w[i].val : "");
	return 0;
}

static int number(struct parser *ps, const struct word *w, int64_t min, int64_t max, int64_t *out)
{
	char buf[40];
	char *end;

	if (!w->vn || w->vn >= sizeof(buf))
		return fail(ps, "%.*s: bad number", (int)w->n, w->s);
	memcpy(buf, w->val, w->vn);
	buf[w->vn] = '\0';
	errno = 0;
	/* decimal or 0x hex; a leading zero is not octal, as in topology files */
	const char *digits = buf + (buf[0] == '-' || buf[0] == '+');
	long long v = strtoll(buf, &end, digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') ? 16 : 10);
	if (errno || *end)
		return fail(ps, "%.*s: bad number '%s'", (int)w->n, w->s, buf);
	if (v < min || v > max)
		return fail(ps, "%.*s=%lld outside %lld..%lld", (int)w->n, w->s, v, (long long)min, (long long)max);
	*out = v;
	return 0;
}

/* Optional numeric key with a default. */
static int num_key(struct parser *ps, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out)
{
	struct word *w = key(ps, name);

	*out = def;
	return w ? number(ps, w, min, max, out) : 0;
}

static int req_num_key(struct parser *ps, const char *what, const char *name, int64_t min, int64_t max, int64_t *out)
{
	struct word *w = key(ps, name);

	if (!w)
		return fail(ps, "%s needs %s=", what, name);
	return number(ps, w, min, max, out);
}

static int name_in(struct parser *ps, const struct word *w, const char *const *names, int nr, int *out)
{
	for (int i = 0; i < nr; i++)
		if (strlen(names[i]) == w->vn && strncasecmp(names[i], w->val, w->vn) == 0) {
			*out = i;
			return 0;
		}
	return fail(ps, "%.*s: unknown value '%.*s'", (int)w->n, w->s, (int)w->vn, w->val);
}

static int gfp_key(struct parser *ps, gfp_t *out)
{
	struct word *w = key(ps, "gfp");
	char buf[BUDDY_GFP_STR_MAX], msg[160];

	*out = GFP_KERNEL;
	if (!w)
		return 0;
	if (w->vn >= sizeof(buf))
		return fail(ps, "gfp: too long");
	memcpy(buf, w->val, w->vn);
	buf[w->vn] = '\0';
	if (buddy_gfp_parse(buf, out, msg, sizeof(msg)))
		return fail(ps, "gfp: %s", msg);
	return 0;
}

static int cpu_key(struct parser *ps, uint8_t *cpu)
{
	int64_t v;

	if (num_key(ps, "cpu", 0, ps->p->m.nr_cpus - 1, 0, &v))
		return -1;
	*cpu = (uint8_t)v;
	return 0;
}

/* node=N, or node=any where any_ok; default any (or 0). */
static int node_key(struct parser *ps, bool any_ok, int8_t *node)
{
	struct word *w = key(ps, "node");
	int64_t v;

	*node = any_ok ? -1 : 0;
	if (!w)
		return 0;
	if (any_ok && w->vn == 3 && strncmp(w->val, "any", 3) == 0)
		return 0;
	if (number(ps, w, 0, ps->p->m.nr_nodes - 1, &v))
		return -1;
	*node = (int8_t)v;
	return 0;
}

static int zone_key(struct parser *ps, uint8_t *zone)
{
	static const char *const names[MAX_NR_ZONES] = { "DMA", "DMA32", "Normal", "Movable" };
	struct word *w = key(ps, "zone");
	int z = ZONE_NORMAL;

	if (w && name_in(ps, w, names, MAX_NR_ZONES, &z))
		return -1;
	*zone = (uint8_t)z;
	return 0;
}

static int order_key(struct parser *ps, int64_t min, int64_t max, int8_t *order)
{
	int64_t v;

	if (num_key(ps, "order", min, max, 0, &v))
		return -1;
	*order = (int8_t)v;
	return 0;
}

static int nodemask_key(struct parser *ps, uint64_t *mask)
{
	int64_t v;

	if (num_key(ps, "nodemask", 0, (1LL << ps->p->m.nr_nodes) - 1, 0, &v))
		return -1;
	*mask = (uint64_t)v;
	return 0;
}

static int task_flags_key(struct parser *ps, uint32_t *flags)
{
	struct word *w = key(ps, "flags");

	*flags = 0;
	if (!w)
		return 0;
	if (w->vn == 0)
		return fail(ps, "flags: empty");
	if (isdigit((unsigned char)w->val[0])) {
		int64_t v;
		if (number(ps, w, 0, 3, &v))
			return -1;
		*flags = (uint32_t)v;
		return 0;
	}
	const char *s = w->val, *end = w->val + w->vn;
	while (s < end) {
		const char *bar = memchr(s, '|', (size_t)(end - s));
		size_t n = (size_t)((bar ? bar : end) - s);
		if (n == 2 && !strncmp(s, "rt", 2))
			*flags |= BUDDY_TASK_RT;
		else if (n == 8 && !strncmp(s, "memalloc", 8))
			*flags |= BUDDY_TASK_MEMALLOC;
		else if (!(n == 4 && !strncmp(s, "none", 4)))
			return fail(ps, "flags: unknown task flag '%.*s' (rt, memalloc, none)", (int)n, s);
		s += n + (bar ? 1 : 0);
	}
	return 0;
}

/* task=N (1-based, as created so far), or owner=taskN. */
static int task_ref(struct parser *ps, const char *name, bool required, uint8_t *task)
{
	struct word *w = key(ps, name);
	int64_t v;

	*task = 0;
	if (!w) {
		if (required)
			return fail(ps, "needs %s=", name);
		return 0;
	}
	struct word tmp = *w;
	if (tmp.vn > 4 && !strncmp(tmp.val, "task", 4)) {
		tmp.val += 4;
		tmp.vn -= 4;
	}
	if (number(ps, &tmp, 1, 255, &v))
		return -1;
	if (v > ps->t.ntasks)
		return fail(ps, "%s: task%lld does not exist yet (%u created so far)", name, (long long)v, ps->t.ntasks);
	*task = (uint8_t)v;
	return 0;
}

static int pfn_range(struct parser *ps, const char *what, struct fz_op *op)
{
	const struct fz_machine *m = &ps->p->m;
	uint64_t lim = fz_pfn_limit(m), pb = 1ULL << m->pageblock_order;
	uint64_t nb = (fz_machine_pages(m) + pb - 1) / pb;
	int64_t pfn, nr;

	if (req_num_key(ps, what, "pfn", 0, (int64_t)fz_varint_max(), &pfn) ||
	    req_num_key(ps, what, "nr", 0, (int64_t)fz_varint_max(), &nr))
		return -1;
	bool aligned = (uint64_t)pfn % pb == 0 && (uint64_t)nr % pb == 0 && (uint64_t)nr >= pb &&
		       (uint64_t)pfn / pb < nb && (uint64_t)nr / pb <= nb;
	if (!aligned && ((uint64_t)pfn >= lim || (uint64_t)nr > lim))
		return fail(ps, "%s: pfn=0x%" PRIx64 " nr=%" PRIu64 " is beyond what a program can name here"
				" (pfn below 0x%" PRIx64 ", nr at most %" PRIu64 ", or pageblock-aligned inside memory)",
			    what, (uint64_t)pfn, (uint64_t)nr, lim, lim);
	op->pfn = (uint64_t)pfn;
	op->nr = (uint64_t)nr;
	return 0;
}

static int single_pfn(struct parser *ps, const char *what, struct fz_op *op)
{
	int64_t pfn;

	if (req_num_key(ps, what, "pfn", 0, (int64_t)fz_pfn_limit(&ps->p->m) - 1, &pfn))
		return -1;
	op->pfn = (uint64_t)pfn;
	return 0;
}

static int resolve_ref(struct parser *ps, struct fz_op *op)
{
	struct word *w = NULL;

	for (int i = 1; i < ps->nw; i++)
		if (!ps->w[i].val && ps->w[i].n > 1 && ps->w[i].s[0] == '#') {
			w = &ps->w[i];
			w->used = true;
			break;
		}
	if (!w)
		return fail(ps, "%s needs a handle, e.g. #3 or #name", fz_opcode_name(op->code));
	const char *s = w->s + 1;
	size_t n = w->n - 1;
	uint32_t ref = FZ_NO_REF;
	if (isdigit((unsigned char)s[0])) {
		char buf[16];
		char *end;
		if (n >= sizeof(buf))
			return fail(ps, "bad handle '%.*s'", (int)w->n, w->s);
		memcpy(buf, s, n);
		buf[n] = '\0';
		unsigned long v = strtoul(buf, &end, 10);
		if (*end || v >= ps->p->nr_ops)
			return fail(ps, "handle '%.*s' names no earlier operation", (int)w->n, w->s);
		ref = (uint32_t)v;
	} else {
		for (size_t i = 0; i < ps->nlabels; i++)
			if (strlen(ps->labels[i].name) == n && !memcmp(ps->labels[i].name, s, n))
				ref = ps->labels[i].op;
		if (ref == FZ_NO_REF)
			return fail(ps, "unknown label '%.*s'", (int)w->n, w->s);
	}
	bool dead;
	enum fz_ref_class cls = fz_ref_class_of(op->code, &dead);
	if (fz_tracker_selector(&ps->t, ps->p, cls, dead, ref) < 0) {
		static const char *const want[] = { "a live handle", "a live handle that owns pages",
						    "a live alloc handle" };
		return fail(ps, "%s %.*s: op %u (%s) is not %s here", fz_opcode_name(op->code), (int)w->n, w->s, ref,
			    fz_opcode_name(ps->p->ops[ref].code),
			    dead ? "an alloc handle freed earlier" : want[cls]);
	}
	op->ref = ref;
	return 0;
}

static int parse_machine(struct parser *ps)
{
	struct fz_machine *m = &ps->p->m;
	int64_t v;

	if (num_key(ps, "nodes", 1, FZ_MAX_NODES, m->nr_nodes, &v))
		return -1;
	m->nr_nodes = (uint8_t)v;
	if (num_key(ps, "cpus", 1, FZ_MAX_CPUS, m->nr_cpus, &v))
		return -1;
	m->nr_cpus = (uint8_t)v;
	if (num_key(ps, "max_order", 3, 10, m->max_order, &v))
		return -1;
	m->max_order = (uint8_t)v;
	if (num_key(ps, "pageblock_order", 1, m->max_order,
		    m->pageblock_order > m->max_order ? m->max_order : m->pageblock_order, &v))
		return -1;
	if (v != fz_pageblock_order_of(m->max_order, 0) && v != fz_pageblock_order_of(m->max_order, 1) &&
	    v != fz_pageblock_order_of(m->max_order, 2) && v != fz_pageblock_order_of(m->max_order, 3))
		return fail(ps, "pageblock_order=%lld: with max_order=%u it is %u, %u, %u or %u", (long long)v,
			    m->max_order, fz_pageblock_order_of(m->max_order, 3), fz_pageblock_order_of(m->max_order, 0),
			    fz_pageblock_order_of(m->max_order, 1), fz_pageblock_order_of(m->max_order, 2));
	m->pageblock_order = (uint8_t)v;
	if (num_key(ps, "unit", 1, 1024, fz_unit_pages(m->max_order, 0), &v))
		return -1;
	if (v != fz_unit_pages(m->max_order, 1) && v != fz_unit_pages(m->max_order, 0) &&
	    v != fz_unit_pages(m->max_order, 2) && v != fz_unit_pages(m->max_order, 3))
		return fail(ps, "unit=%lld: with max_order=%u it is %u, %u, %u or %u pages", (long long)v, m->max_order,
			    fz_unit_pages(m->max_order, 1), fz_unit_pages(m->max_order, 0), fz_unit_pages(m->max_order, 2),
			    fz_unit_pages(m->max_order, 3));
	m->unit = (uint16_t)v;
	if (num_key(ps, "skew", 0, 7, m->skew, &v))
		return -1;
	m->skew = (uint8_t)v;
	for (int n = 0; n < FZ_MAX_NODES; n++) {
		char name[8];
		snprintf(name, sizeof(name), "node%d", n);
		struct word *w = key(ps, name);
		if (!w)
			continue;
		if (n >= m->nr_nodes)
			return fail(ps, "%s given but nodes=%u", name, m->nr_nodes);
		unsigned u[4];
		char buf[32];
		int used = 0;
		if (w->vn >= sizeof(buf))
			return fail(ps, "%s: bad zone sizes", name);
		memcpy(buf, w->val, w->vn);
		buf[w->vn] = '\0';
		if (sscanf(buf, "%u/%u/%u/%u%n", &u[0], &u[1], &u[2], &u[3], &used) != 4 || buf[used])
			return fail(ps, "%s=%s: want DMA/DMA32/Normal/Movable in units, e.g. 1/4/0/0", name, buf);
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			if (u[z] != 0 && u[z] != 1 && u[z] != 2 && u[z] != 4)
				return fail(ps, "%s: zone sizes are 0, 1, 2 or 4 units", name);
			m->zone_units[n][z] = (uint8_t)u[z];
		}
	}
	for (int n = m->nr_nodes; n < FZ_MAX_NODES; n++)
		memset(m->zone_units[n], 0, sizeof(m->zone_units[n]));
	struct word *w = key(ps, "min_free");
	if (w) {
		if (w->vn == 4 && !strncmp(w->val, "auto", 4)) {
			m->min_free = 0;
		} else {
			if (number(ps, w, 32, 2048, &v))
				return -1;
			int c = 0;
			while (c < 8 && (1LL << (c + 4)) != v)
				c++;
			if (c < 1 || c > 7)
				return fail(ps, "min_free=%lld: must be auto or a power of two 32..2048 (KiB)", (long long)v);
			m->min_free = (uint8_t)c;
		}
	}
	w = key(ps, "pcp_fraction");
	if (w) {
		int c = -1;
		if (w->vn == 4 && !strncmp(w->val, "auto", 4)) {
			c = 0;
		} else {
			if (number(ps, w, 8, 1024, &v))
				return -1;
			for (int i = 1; i < 4; i++)
				if (fz_pcp_fraction_value((unsigned)i) == v)
					c = i;
		}
		if (c < 0)
			return fail(ps, "pcp_fraction: auto, 8, 64 or 1024");
		m->pcp_fraction = (uint8_t)c;
	}
	w = key(ps, "wsf");
	if (w) {
		int c = -1;
		if (number(ps, w, 1, 1000, &v))
			return -1;
		for (int i = 0; i < 4; i++)
			if (fz_wsf_value((unsigned)i) == v)
				c = i;
		if (c < 0)
			return fail(ps, "wsf: 1, 10, 100 or 1000");
		m->wsf = (uint8_t)c;
	}
	m->poison = bare(ps, "poison");
	m->no_mobility = bare(ps, "no_mobility");
	m->cma = bare(ps, "cma");
	m->hole = bare(ps, "hole");
	m->ring = bare(ps, "ring");
	m->no_boost = bare(ps, "no_boost");
	m->cpus_on_node0 = bare(ps, "cpus_on_node0");
	if (leftovers(ps, "machine"))
		return -1;
	if (fz_machine_pages(m) > fz_machine_limit(m))
		return fail(ps, "machine: %" PRIu64 " pages, at most %" PRIu64 " (32 max-order blocks, %d pages, %d with poison)",
			    fz_machine_pages(m), fz_machine_limit(m), FZ_MAX_PAGES, FZ_MAX_POISON_PAGES);
	if (fz_machine_pages(m) == 0)
		return fail(ps, "machine: no zone has memory");
	if (!fz_machine_valid(m)) {
		struct buddy_topology t;
		struct buddy_options o;
		fz_machine_build(m, &t, &o);
		if (m->cma && !t.nr_cma)
			return fail(ps, "machine: cma, but the last zone cannot hold a pageblock past its middle");
		if (m->hole && !t.nr_holes)
			return fail(ps, "machine: hole, but the largest zone is too small for one");
		return fail(ps, "machine: not representable in the binary header");
	}
	return 0;
}

static int parse_op(struct parser *ps, int first, struct fz_op *op)
{
	const struct fz_machine *m = &ps->p->m;
	struct word *name = &ps->w[first];
	int64_t v;
	int code = -1;

	for (int c = 0; c < FZ_NR_OPCODES; c++)
		if (!name->val && word_is(name, opcode_names[c]))
			code = c;
	if (code < 0)
		return fail(ps, "unknown operation '%.*s'", (int)name->n, name->s);
	memset(op, 0, sizeof(*op));
	op->code = (uint8_t)code;
	name->used = true;
	const char *what = opcode_names[code];

	switch (code) {
	case FZ_NOP:
	case FZ_CHECK:
		break;
	case FZ_ALLOC: {
		int map = 0;
		if (cpu_key(ps, &op->cpu) || node_key(ps, true, &op->node) || gfp_key(ps, &op->gfp) ||
		    order_key(ps, 0, m->max_order + 1, &op->order) || nodemask_key(ps, &op->nodemask) ||
		    task_ref(ps, "owner", false, &op->task))
			return -1;
		struct word *w = key(ps, "map");
		if (w && name_in(ps, w, map_names, FZ_NR_MAP, &map))
			return -1;
		op->sub = (uint8_t)map;
		break;
	}
	case FZ_BULK:
		if (cpu_key(ps, &op->cpu) || node_key(ps, true, &op->node) || gfp_key(ps, &op->gfp) ||
		    num_key(ps, "nr", 1, FZ_MAX_BULK, 1, &v))
			return -1;
		op->nr = (uint64_t)v;
		break;
	case FZ_FREE:
	case FZ_REFREE:
		if (resolve_ref(ps, op) || cpu_key(ps, &op->cpu))
			return -1;
		break;
	case FZ_BADFREE:
		if (resolve_ref(ps, op) || cpu_key(ps, &op->cpu) || req_num_key(ps, what, "order", 0, m->max_order + 1, &v))
			return -1;
		if (v == ps->p->ops[op->ref].order)
			return fail(ps, "badfree: order=%lld is the block's own order", (long long)v);
		op->order = (int8_t)v;
		break;
	case FZ_TOUCH:
		if (resolve_ref(ps, op))
			return -1;
		break;
	case FZ_WILDFREE:
		if (cpu_key(ps, &op->cpu) || single_pfn(ps, what, op) || order_key(ps, 0, m->max_order + 1, &op->order))
			return -1;
		break;
	case FZ_DRAIN:
		if (bare(ps, "all")) {
			op->sub = FZ_DRAIN_ALL;
		} else {
			op->sub = bare(ps, "local") ? FZ_DRAIN_LOCAL : FZ_DRAIN_CPU;
			if (!key(ps, "cpu") && op->sub == FZ_DRAIN_CPU)
				return fail(ps, "drain: 'all', 'cpu=C' or 'local cpu=C'");
			for (int i = 1; i < ps->nw; i++)
				if (ps->w[i].val && word_is(&ps->w[i], "cpu"))
					ps->w[i].used = false;
			if (cpu_key(ps, &op->cpu))
				return -1;
		}
		break;
	case FZ_SET: {
		const int64_t vmax = (int64_t)fz_varint_max();
		struct word *w;
		if ((w = key(ps, "min_free_kbytes"))) {
			op->sub = FZ_SET_MIN_FREE;
			if (number(ps, w, 0, vmax, &v))
				return -1;
			op->v[0] = (uint64_t)v;
		} else if ((w = key(ps, "watermark_scale_factor"))) {
			op->sub = FZ_SET_WSF;
			if (number(ps, w, 0, vmax, &v))
				return -1;
			op->v[0] = (uint64_t)v;
		} else if (bare(ps, "pcp")) {
			int64_t h, b;
			op->sub = FZ_SET_PCP;
			if (req_num_key(ps, "set pcp", "high", 0, vmax, &h) || req_num_key(ps, "set pcp", "batch", 0, vmax, &b))
				return -1;
			op->v[0] = (uint64_t)h;
			op->v[1] = (uint64_t)b;
		} else if ((w = key(ps, "lowmem_reserve_ratio"))) {
			unsigned long long r[4];
			char buf[64];
			int used = 0;
			op->sub = FZ_SET_LOWMEM;
			if (w->vn >= sizeof(buf))
				return fail(ps, "lowmem_reserve_ratio: too long");
			memcpy(buf, w->val, w->vn);
			buf[w->vn] = '\0';
			if (sscanf(buf, "%llu,%llu,%llu,%llu%n", &r[0], &r[1], &r[2], &r[3], &used) != 4 || buf[used])
				return fail(ps, "lowmem_reserve_ratio: want four numbers a,b,c,d");
			for (int i = 0; i < 4; i++) {
				if (r[i] > (unsigned long long)vmax)
					return fail(ps, "lowmem_reserve_ratio: %llu too large", r[i]);
				op->v[i] = r[i];
			}
		} else {
			return fail(ps, "set: min_free_kbytes=, watermark_scale_factor=, pcp high= batch= or "
					"lowmem_reserve_ratio=a,b,c,d");
		}
		break;
	}
	case FZ_QUERY: {
		int q = -1;
		for (int i = 0; i < FZ_NR_QUERY; i++)
			if (bare(ps, query_names[i]))
				q = i;
		if (q < 0)
			return fail(ps, "query: zoneinfo, wmark, proc, zonelist or frag");
		op->sub = (uint8_t)q;
		if (q == FZ_Q_WMARK) {
			int mark = WMARK_LOW;
			struct word *w;
			if (node_key(ps, false, &op->node) || zone_key(ps, &op->zone) ||
			    order_key(ps, 0, m->max_order, &op->order) || num_key(ps, "flags", 0, 255, 0, &v))
				return -1;
			op->flags = (uint32_t)v;
			if ((w = key(ps, "mark")) && name_in(ps, w, mark_names, 3, &mark))
				return -1;
			op->mode = (uint8_t)mark;
		} else if (q == FZ_Q_ZONELIST) {
			if (node_key(ps, false, &op->node))
				return -1;
			op->mode = bare(ps, "nofallback");
		} else if (q == FZ_Q_FRAG) {
			if (node_key(ps, false, &op->node) || zone_key(ps, &op->zone) ||
			    order_key(ps, 0, m->max_order, &op->order))
				return -1;
		}
		break;
	}
	case FZ_TASK:
	case FZ_TASKSET:
		if (code == FZ_TASKSET && task_ref(ps, "task", true, &op->task))
			return -1;
		if (num_key(ps, "adj", BUDDY_OOM_SCORE_ADJ_MIN, BUDDY_OOM_SCORE_ADJ_MAX, 0, &v) || task_flags_key(ps, &op->flags))
			return -1;
		op->adj = (int32_t)v;
		break;
	case FZ_TASKEXIT:
		if (task_ref(ps, "task", true, &op->task))
			return -1;
		break;
	case FZ_COMPACT:
		if (bare(ps, "all")) {
			op->sub = FZ_COMPACT_ALL;
		} else if (!key(ps, "zone")) {
			op->sub = FZ_COMPACT_NODE;
			if (node_key(ps, false, &op->node))
				return -1;
		} else {
			int mode = 2;
			struct word *w;
			op->sub = FZ_COMPACT_ZONE;
			for (int i = 1; i < ps->nw; i++)
				if (ps->w[i].val && word_is(&ps->w[i], "zone"))
					ps->w[i].used = false;
			if (node_key(ps, false, &op->node) || zone_key(ps, &op->zone) ||
			    num_key(ps, "order", -1, m->max_order, -1, &v))
				return -1;
			op->order = (int8_t)v;
			if ((w = key(ps, "mode")) && name_in(ps, w, compact_modes, 3, &mode))
				return -1;
			op->mode = (uint8_t)mode;
		}
		break;
	case FZ_KSWAPD:
		if (node_key(ps, false, &op->node))
			return -1;
		break;
	case FZ_RECLAIM:
		if (node_key(ps, false, &op->node) || gfp_key(ps, &op->gfp) || order_key(ps, 0, m->max_order, &op->order))
			return -1;
		break;
	case FZ_OOM:
		if (gfp_key(ps, &op->gfp) || order_key(ps, 0, m->max_order, &op->order) || nodemask_key(ps, &op->nodemask))
			return -1;
		break;
	case FZ_CONTIG:
		if (pfn_range(ps, what, op) || gfp_key(ps, &op->gfp))
			return -1;
		break;
	case FZ_CMA:
		if (num_key(ps, "area", 0, 1, 0, &v))
			return -1;
		op->zone = (uint8_t)v;
		if (req_num_key(ps, what, "count", 0, 4095, &v))
			return -1;
		op->nr = (uint64_t)v;
		if (num_key(ps, "align", 0, m->max_order, 0, &v))
			return -1;
		op->order = (int8_t)v;
		break;
	case FZ_ISOLATE:
	case FZ_OFFLINE:
	case FZ_ONLINE:
		if (pfn_range(ps, what, op))
			return -1;
		break;
	case FZ_HWPOISON:
	case FZ_UNPOISON:
		if (single_pfn(ps, what, op))
			return -1;
		break;
	case FZ_FAULT:
		if (bare(ps, "off")) {
			op->sub = 0;
			break;
		}
		op->sub = 1;
		if (num_key(ps, "prob", 0, 100, 0, &v))
			return -1;
		op->v[0] = (uint64_t)v;
		if (num_key(ps, "interval", 0, (int64_t)fz_varint_max(), 0, &v))
			return -1;
		op->v[1] = (uint64_t)v;
		if (num_key(ps, "times", -1, 127, -1, &v))
			return -1;
		op->adj = (int32_t)v;
		if (num_key(ps, "min_order", 0, m->max_order, 0, &v))
			return -1;
		op->fault[3] = (uint8_t)v;
		if (num_key(ps, "eagain", 0, 100, 0, &v))
			return -1;
		op->fault[0] = (uint8_t)v;
		if (num_key(ps, "reclaim_fail", 0, 100, 0, &v))
			return -1;
		op->fault[1] = (uint8_t)v;
		if (num_key(ps, "compact_fail", 0, 100, 0, &v))
			return -1;
		op->fault[2] = (uint8_t)v;
		if (num_key(ps, "seed", 0, (int64_t)fz_varint_max(), 0, &v))
			return -1;
		op->v[3] = (uint64_t)v;
		op->flags = (bare(ps, "ignore_reclaim") ? 1u : 0u) | (bare(ps, "ignore_highmem") ? 2u : 0u);
		break;
	}
	return leftovers(ps, what);
}

static int add_label(struct parser *ps, const struct word *w)
{
	size_t n = w->n - 1; /* without the ':' */

	if (n == 0 || n >= LABEL_LEN)
		return fail(ps, "bad label '%.*s'", (int)w->n, w->s);
	if (isdigit((unsigned char)w->s[0])) {
		for (size_t i = 0; i < n; i++)
			if (!isdigit((unsigned char)w->s[i]))
				return fail(ps, "bad label '%.*s'", (int)w->n, w->s);
		if (strtoul(w->s, NULL, 10) != ps->p->nr_ops)
			return fail(ps, "label %.*s: this is operation %zu", (int)n, w->s, ps->p->nr_ops);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!ident_char(w->s[i]))
			return fail(ps, "bad label '%.*s' (letters, digits, _)", (int)w->n, w->s);
	for (size_t i = 0; i < ps->nlabels; i++)
		if (strlen(ps->labels[i].name) == n && !memcmp(ps->labels[i].name, w->s, n))
			return fail(ps, "label '%.*s' used twice", (int)n, w->s);
	if (ps->nlabels == MAX_LABELS)
		return fail(ps, "too many labels (at most %d)", MAX_LABELS);
	struct label *l = &ps->labels[ps->nlabels++];
	memcpy(l->name, w->s, n);
	l->name[n] = '\0';
	l->op = (uint32_t)ps->p->nr_ops;
	return 0;
}

int fz_parse(const char *text, size_t len, struct fz_program *p, char *err, size_t errlen)
{
	struct parser ps = { .p = p, .err = err, .errlen = errlen };
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	fz_machine_default(&p->m);
	p->nr_ops = 0;
	fz_tracker_init(&ps.t);
	ps.labels = calloc(MAX_LABELS, sizeof(*ps.labels));
	if (!ps.labels) {
		fz_tracker_free(&ps.t);
		return fail(&ps, "out of memory");
	}
	for (size_t pos = 0; pos < len && ret == 0;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		ps.line++;
		if (memchr(text + pos, '\0', end - pos)) {
			ret = fail(&ps, "NUL byte in the text");
			break;
		}
		ret = split(&ps, text + pos, end - pos);
		pos = end + 1;
		if (ret || ps.nw == 0)
			continue;
		int first = 0;
		if (!ps.w[0].val && ps.w[0].n > 1 && ps.w[0].s[ps.w[0].n - 1] == ':') {
			if (word_is(&ps.w[0], "machine:"))
				ret = fail(&ps, "machine takes no label");
			else
				ret = add_label(&ps, &ps.w[0]);
			if (ret)
				break;
			first = 1;
			if (ps.nw == 1) {
				ret = fail(&ps, "label without an operation");
				break;
			}
		}
		if (first == 0 && word_is(&ps.w[0], "machine")) {
			if (ps.machine_seen || p->nr_ops) {
				ret = fail(&ps, "the machine line must come once, before any operation");
				break;
			}
			ps.machine_seen = true;
			ps.w[0].used = true;
			ret = parse_machine(&ps);
			continue;
		}
		/* Words before the op name would confuse key lookup from 1. */
		if (first == 1) {
			memmove(&ps.w[0], &ps.w[1], (size_t)(ps.nw - 1) * sizeof(ps.w[0]));
			ps.nw--;
		}
		struct fz_op op;
		ret = parse_op(&ps, 0, &op);
		if (ret)
			break;
		if (!fz_program_push(p, &op)) {
			ret = fail(&ps, "too many operations (at most %d)", FZ_MAX_OPS);
			break;
		}
		fz_tracker_step(&ps.t, p, p->nr_ops - 1);
	}
	free(ps.labels);
	fz_tracker_free(&ps.t);
	return ret;
}
