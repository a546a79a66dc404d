/* GFP flag helpers and the ftrace text form of gfp_t. */
#include "buddy/gfp.h"
#include "bugs.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

_Static_assert(___GFP_LAST_BIT == 28, "all config-dependent GFP bits are modelled as on");
_Static_assert(sizeof(gfp_t) * CHAR_BIT >= ___GFP_LAST_BIT, "gfp_t too narrow");

#define ZONE_BAD (-1)

/* GFP_ZONE_TABLE/GFP_ZONE_BAD of include/linux/gfp.h with HIGHMEM folded
 * into NORMAL. Only 0xa reaches ZONE_MOVABLE: __GFP_MOVABLE alone is a
 * mobility hint, not a zone request. */
static const signed char zone_table[16] = {
	[0x0] = ZONE_NORMAL,
	[0x1] = ZONE_DMA,
	[0x2] = ZONE_NORMAL,
#ifdef BUDDY_BUG_GFP_BAD_ZONE
	[0x3] = ZONE_DMA,
#else
	[0x3] = ZONE_BAD,
#endif
	[0x4] = ZONE_DMA32,
	[0x5] = ZONE_BAD,
	[0x6] = ZONE_BAD,
	[0x7] = ZONE_BAD,
	[0x8] = ZONE_NORMAL,
	[0x9] = ZONE_DMA,
	[0xa] = ZONE_MOVABLE,
	[0xb] = ZONE_BAD,
	[0xc] = ZONE_DMA32,
	[0xd] = ZONE_BAD,
	[0xe] = ZONE_BAD,
	[0xf] = ZONE_BAD,
};

int buddy_gfp_zone(gfp_t gfp, enum zone_type *zone)
{
	int z = zone_table[gfp & GFP_ZONEMASK];

	if (z == ZONE_BAD || !zone)
		return -EINVAL;
	*zone = (enum zone_type)z;
	return 0;
}

int buddy_gfp_migratetype(gfp_t gfp)
{
	gfp_t mob = gfp & GFP_MOVABLE_MASK;

	if (mob == GFP_MOVABLE_MASK)
		return -EINVAL;
	return (int)(mob >> GFP_MOVABLE_SHIFT);
}

static unsigned int cma_flags(gfp_t gfp)
{
	return buddy_gfp_migratetype(gfp) == MIGRATE_MOVABLE ? ALLOC_CMA : 0;
}

unsigned int buddy_gfp_to_alloc_flags(gfp_t gfp, unsigned int task_flags)
{
	unsigned int af = ALLOC_WMARK_MIN | ALLOC_CPUSET;

	if (gfp & __GFP_HIGH)
		af |= ALLOC_MIN_RESERVE;
	if (gfp & __GFP_KSWAPD_RECLAIM)
		af |= ALLOC_KSWAPD;

	if (!(gfp & __GFP_DIRECT_RECLAIM)) {
		/* Callers that refuse reserves get no harder try either. */
		if (!(gfp & __GFP_NOMEMALLOC))
			af |= ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC;
		/* Atomic __GFP_HIGH would rather leave its cpuset than fail. */
		if (af & ALLOC_MIN_RESERVE)
			af &= ~(unsigned int)ALLOC_CPUSET;
	} else if (task_flags & BUDDY_TASK_RT) {
		af |= ALLOC_MIN_RESERVE;
	}

	return af | cma_flags(gfp);
}

unsigned int buddy_gfp_fast_alloc_flags(gfp_t gfp)
{
	unsigned int af = ALLOC_WMARK_LOW;

	if (gfp & __GFP_KSWAPD_RECLAIM)
		af |= ALLOC_KSWAPD;
	return af | cma_flags(gfp);
}

unsigned int buddy_gfp_pfmemalloc_flags(gfp_t gfp, unsigned int task_flags)
{
	if (gfp & __GFP_NOMEMALLOC)
		return 0;
	if ((gfp & __GFP_MEMALLOC) || (task_flags & BUDDY_TASK_MEMALLOC))
		return ALLOC_NO_WATERMARKS;
	return 0;
}

#define GROUP(n) { #n, n, 1 }
#define BIT1(n)  { #n, n, 0 }

/* include/trace/events/mmflags.h __def_gfpflag_names as of 6.15+ (groups,
 * then TRACE_GFP_FLAGS in bit order), with the KASAN, LOCKDEP and SLAB
 * entries present. Order matters: most bits first, so a group wins over
 * its members; GFP_DMA/GFP_DMA32 shadow __GFP_DMA/__GFP_DMA32 and GFP_NOIO
 * shadows __GFP_RECLAIM, which therefore never print but still parse. */
static const struct buddy_gfp_name gfp_names[] = {
	GROUP(GFP_TRANSHUGE),
	GROUP(GFP_TRANSHUGE_LIGHT),
	GROUP(GFP_HIGHUSER_MOVABLE),
	GROUP(GFP_HIGHUSER),
	GROUP(GFP_USER),
	GROUP(GFP_KERNEL_ACCOUNT),
	GROUP(GFP_KERNEL),
	GROUP(GFP_NOFS),
	GROUP(GFP_ATOMIC),
	GROUP(GFP_NOIO),
	GROUP(GFP_NOWAIT),
	GROUP(GFP_DMA),
	GROUP(GFP_DMA32),
	GROUP(__GFP_RECLAIM),
	BIT1(__GFP_DMA),
	BIT1(__GFP_HIGHMEM),
	BIT1(__GFP_DMA32),
	BIT1(__GFP_MOVABLE),
	BIT1(__GFP_RECLAIMABLE),
	BIT1(__GFP_HIGH),
	BIT1(__GFP_IO),
	BIT1(__GFP_FS),
	BIT1(__GFP_ZERO),
	BIT1(__GFP_DIRECT_RECLAIM),
	BIT1(__GFP_KSWAPD_RECLAIM),
	BIT1(__GFP_WRITE),
	BIT1(__GFP_NOWARN),
	BIT1(__GFP_RETRY_MAYFAIL),
	BIT1(__GFP_NOFAIL),
	BIT1(__GFP_NORETRY),
	BIT1(__GFP_MEMALLOC),
	BIT1(__GFP_COMP),
	BIT1(__GFP_NOMEMALLOC),
	BIT1(__GFP_HARDWALL),
	BIT1(__GFP_THISNODE),
	BIT1(__GFP_ACCOUNT),
	BIT1(__GFP_ZEROTAGS),
	BIT1(__GFP_SKIP_ZERO),
	BIT1(__GFP_SKIP_KASAN),
	BIT1(__GFP_NOLOCKDEP),
	BIT1(__GFP_NO_OBJ_EXT),
};

#undef GROUP
#undef BIT1

#define NR_GFP_NAMES (sizeof(gfp_names) / sizeof(gfp_names[0]))
#define FIRST_BIT_NAME 14 /* index of __GFP_DMA: single bits follow in bit order */

_Static_assert(NR_GFP_NAMES - FIRST_BIT_NAME == ___GFP_LAST_BIT - 1,
	       "one single-bit name per used bit");

size_t buddy_gfp_names(const struct buddy_gfp_name **names)
{
	if (names)
		*names = gfp_names;
	return NR_GFP_NAMES;
}

const char *buddy_gfp_bit_name(unsigned bit)
{
	if (bit >= ___GFP_LAST_BIT || bit == ___GFP_UNUSED_BIT)
		return NULL;
	return gfp_names[FIRST_BIT_NAME + bit - (bit > ___GFP_UNUSED_BIT)].name;
}

struct sink {
	char *buf;
	size_t len;
	size_t need;
};

static void put(struct sink *s, const char *str)
{
	size_t n = strlen(str);

	if (s->need < s->len) {
		size_t room = s->len - 1 - s->need;

		memcpy(s->buf + s->need, str, n < room ? n : room);
	}
	s->need += n;
}

size_t buddy_gfp_format(gfp_t gfp, char *buf, size_t len)
{
	struct sink s = { buf, buf ? len : 0, 0 };

	if (gfp == 0) {
		/* What show_gfp_flags() prints; %pGg would print nothing. */
		put(&s, "none");
	}
	for (size_t i = 0; i < NR_GFP_NAMES && gfp; i++) {
		gfp_t v = gfp_names[i].value;

		if (v == 0 || (gfp & v) != v)
			continue;
		if (s.need)
			put(&s, "|");
		put(&s, gfp_names[i].name);
		gfp &= ~v;
	}
	if (gfp) {
		char hex[2 + sizeof(gfp_t) * 2 + 1];

		snprintf(hex, sizeof(hex), "0x%x", gfp);
		if (s.need)
			put(&s, "|");
		put(&s, hex);
	}
	if (s.len)
		s.buf[s.need < s.len ? s.need : s.len - 1] = '\0';
	return s.need;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Messages quote the token, so keep them bounded and printable whatever
 * the input was. */
#define QUOTE_MAX 48

static void quote(char *dst, const char *tok, size_t n)
{
	size_t k = n > QUOTE_MAX ? QUOTE_MAX : n;

	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)tok[i];

		dst[i] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
	}
	if (n > k) {
		memcpy(dst + k, "...", 4);
	} else {
		dst[k] = '\0';
	}
}

/* err gets pre'token'post; a NULL token means pre alone. */
static int fail(char *err, size_t errlen, const char *pre, const char *tok, size_t n,
		const char *post)
{
	char q[QUOTE_MAX + 4];

	if (!err || !errlen)
		return -EINVAL;
	if (tok) {
		quote(q, tok, n);
		snprintf(err, errlen, "%s'%s'%s", pre, q, post);
	} else {
		snprintf(err, errlen, "%s", pre);
	}
	return -EINVAL;
}

/* 1: a number, stored in *v. 0: not a number. -1: number-like but bad
 * (*range set when it only overflowed). */
static int parse_number(const char *s, size_t n, gfp_t *v, int *range)
{
	uint64_t acc = 0;
	size_t i = 0;
	int base = 10;

	*range = 0;
	if (n == 0 || s[0] < '0' || s[0] > '9')
		return 0;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
		if (n == 2)
			return -1;
	}
	for (; i < n; i++) {
		int d = hex_digit(s[i]);

		if (d < 0 || d >= base) {
			*range = 0;
			return -1;
		}
		acc = acc * (uint64_t)base + (uint64_t)d;
		if (acc > UINT_MAX) {
			*range = 1;
			/* keep scanning: a bad digit later is the better message */
			acc = (uint64_t)UINT_MAX + 1;
		}
	}
	if (*range)
		return -1;
	*v = (gfp_t)acc;
	return 1;
}

static int lookup(const char *s, size_t n, gfp_t *v)
{
	if (n == 4 && memcmp(s, "none", 4) == 0) {
		*v = 0;
		return 1;
	}
	for (size_t i = 0; i < NR_GFP_NAMES; i++) {
		const char *name = gfp_names[i].name;

		if (strlen(name) == n && memcmp(name, s, n) == 0) {
			*v = gfp_names[i].value;
			return 1;
		}
	}
	return 0;
}

int buddy_gfp_parse(const char *text, gfp_t *out, char *err, size_t errlen)
{
	gfp_t acc = 0;
	const char *p;

	if (err && errlen)
		err[0] = '\0';
	if (!text)
		return fail(err, errlen, "no GFP flags (NULL)", NULL, 0, "");
	if (!out)
		return fail(err, errlen, "nowhere to store the GFP flags (NULL)", NULL, 0, "");
	if (text[strspn(text, " \t\n\r\v\f")] == '\0')
		return fail(err, errlen, "empty GFP flags", NULL, 0, "");

	p = text;
	for (;;) {
		const char *start = p, *end;
		size_t n;
		gfp_t v = 0;
		int range, r;

		while (*p && *p != '|')
			p++;
		end = p;
		while (start < end && is_space(*start))
			start++;
		while (end > start && is_space(end[-1]))
			end--;
		n = (size_t)(end - start);

		if (n == 0) {
			if (err && errlen)
				snprintf(err, errlen, "%s GFP flag name at offset %zu",
					 *p ? "empty" : "trailing '|' with no",
					 (size_t)(start - text));
			return -EINVAL;
		}

		r = parse_number(start, n, &v, &range);
		if (r < 0)
			return fail(err, errlen, range ? "GFP value " : "bad GFP number ",
				    start, n, range ? " does not fit in gfp_t" : "");
		if (r == 0 && !lookup(start, n, &v))
			return fail(err, errlen, "unknown GFP flag ", start, n, "");
		acc |= v;

		if (*p == '\0')
			break;
		p++; /* past the '|' */
	}
	*out = acc;
	return 0;
}
