/* Checks alloc/gfp.c against values read from Linux 6.12+
 * include/linux/gfp_types.h, include/linux/gfp.h, mm/internal.h,
 * mm/page_alloc.c and include/trace/events/mmflags.h (KASAN_HW_TAGS,
 * LOCKDEP and SLAB_OBJ_EXT configured on). */
#include "buddy/gfp.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned passed, failed;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (cond) {                                                  \
			passed++;                                            \
		} else {                                                     \
			failed++;                                            \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);                                 \
			printf("\n");                                        \
		}                                                            \
	} while (0)

#define CHECK_EQ(a, b) \
	CHECK((unsigned long)(a) == (unsigned long)(b), "0x%lx != 0x%lx", \
	      (unsigned long)(a), (unsigned long)(b))

static uint32_t rng_state = 0x9e3779b9u;

static uint32_t xorshift32(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static void test_bits(void)
{
	static const struct { unsigned long got, want; const char *what; } v[] = {
		{ ___GFP_DMA_BIT, 0, "DMA_BIT" },
		{ ___GFP_UNUSED_BIT, 9, "UNUSED_BIT" },
		{ ___GFP_DIRECT_RECLAIM_BIT, 10, "DIRECT_RECLAIM_BIT" },
		{ ___GFP_ZEROTAGS_BIT, 23, "ZEROTAGS_BIT" },
		{ ___GFP_SKIP_ZERO_BIT, 24, "SKIP_ZERO_BIT" },
		{ ___GFP_SKIP_KASAN_BIT, 25, "SKIP_KASAN_BIT" },
		{ ___GFP_NOLOCKDEP_BIT, 26, "NOLOCKDEP_BIT" },
		{ ___GFP_NO_OBJ_EXT_BIT, 27, "NO_OBJ_EXT_BIT" },
		{ ___GFP_LAST_BIT, 28, "LAST_BIT" },

		{ __GFP_DMA, 0x01, "__GFP_DMA" },
		{ __GFP_HIGHMEM, 0x02, "__GFP_HIGHMEM" },
		{ __GFP_DMA32, 0x04, "__GFP_DMA32" },
		{ __GFP_MOVABLE, 0x08, "__GFP_MOVABLE" },
		{ __GFP_RECLAIMABLE, 0x10, "__GFP_RECLAIMABLE" },
		{ __GFP_HIGH, 0x20, "__GFP_HIGH" },
		{ __GFP_IO, 0x40, "__GFP_IO" },
		{ __GFP_FS, 0x80, "__GFP_FS" },
		{ __GFP_ZERO, 0x100, "__GFP_ZERO" },
		{ __GFP_DIRECT_RECLAIM, 0x400, "__GFP_DIRECT_RECLAIM" },
		{ __GFP_KSWAPD_RECLAIM, 0x800, "__GFP_KSWAPD_RECLAIM" },
		{ __GFP_WRITE, 0x1000, "__GFP_WRITE" },
		{ __GFP_NOWARN, 0x2000, "__GFP_NOWARN" },
		{ __GFP_RETRY_MAYFAIL, 0x4000, "__GFP_RETRY_MAYFAIL" },
		{ __GFP_NOFAIL, 0x8000, "__GFP_NOFAIL" },
		{ __GFP_NORETRY, 0x10000, "__GFP_NORETRY" },
		{ __GFP_MEMALLOC, 0x20000, "__GFP_MEMALLOC" },
		{ __GFP_COMP, 0x40000, "__GFP_COMP" },
		{ __GFP_NOMEMALLOC, 0x80000, "__GFP_NOMEMALLOC" },
		{ __GFP_HARDWALL, 0x100000, "__GFP_HARDWALL" },
		{ __GFP_THISNODE, 0x200000, "__GFP_THISNODE" },
		{ __GFP_ACCOUNT, 0x400000, "__GFP_ACCOUNT" },
		{ __GFP_ZEROTAGS, 0x800000, "__GFP_ZEROTAGS" },
		{ __GFP_SKIP_ZERO, 0x1000000, "__GFP_SKIP_ZERO" },
		{ __GFP_SKIP_KASAN, 0x2000000, "__GFP_SKIP_KASAN" },
		{ __GFP_NOLOCKDEP, 0x4000000, "__GFP_NOLOCKDEP" },
		{ __GFP_NO_OBJ_EXT, 0x8000000, "__GFP_NO_OBJ_EXT" },
		{ __GFP_BITS_SHIFT, 28, "__GFP_BITS_SHIFT" },
		{ __GFP_BITS_MASK, 0xfffffff, "__GFP_BITS_MASK" },

		{ __GFP_RECLAIM, 0xc00, "__GFP_RECLAIM" },
		{ GFP_ATOMIC, 0x820, "GFP_ATOMIC" },
		{ GFP_KERNEL, 0xcc0, "GFP_KERNEL" },
		{ GFP_KERNEL_ACCOUNT, 0x400cc0, "GFP_KERNEL_ACCOUNT" },
		{ GFP_NOWAIT, 0x2800, "GFP_NOWAIT" },
		{ GFP_NOIO, 0xc00, "GFP_NOIO" },
		{ GFP_NOFS, 0xc40, "GFP_NOFS" },
		{ GFP_USER, 0x100cc0, "GFP_USER" },
		{ GFP_DMA, 0x1, "GFP_DMA" },
		{ GFP_DMA32, 0x4, "GFP_DMA32" },
		{ GFP_HIGHUSER, 0x100cc2, "GFP_HIGHUSER" },
		{ GFP_HIGHUSER_MOVABLE, 0x2100cca, "GFP_HIGHUSER_MOVABLE" },
		{ GFP_TRANSHUGE_LIGHT, 0x21c20ca, "GFP_TRANSHUGE_LIGHT" },
		{ GFP_TRANSHUGE, 0x21c24ca, "GFP_TRANSHUGE" },

		{ GFP_ZONEMASK, 0xf, "GFP_ZONEMASK" },
		{ GFP_MOVABLE_MASK, 0x18, "GFP_MOVABLE_MASK" },
		{ GFP_MOVABLE_SHIFT, 3, "GFP_MOVABLE_SHIFT" },
		{ GFP_RECLAIM_MASK, 0x40bece0, "GFP_RECLAIM_MASK" },
		{ GFP_BOOT_MASK, 0xffff33f, "GFP_BOOT_MASK" },
		{ GFP_CONSTRAINT_MASK, 0x300000, "GFP_CONSTRAINT_MASK" },
		{ GFP_SLAB_BUG_MASK, 0xf0000006, "GFP_SLAB_BUG_MASK" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		CHECK(v[i].got == v[i].want, "%s = 0x%lx, kernel 0x%lx", v[i].what, v[i].got,
		      v[i].want);
	CHECK(sizeof(gfp_t) == 4, "gfp_t is %zu bytes", sizeof(gfp_t));
}

static void test_names_table(void)
{
	const struct buddy_gfp_name *t = NULL;
	size_t n = buddy_gfp_names(&t), total = 0;
	gfp_t all_bits = 0;

	CHECK(n == buddy_gfp_names(NULL), "count differs with NULL");
	CHECK(n == 41, "%zu names", n);
	CHECK(t != NULL, "no table");
	if (!t)
		return;
	CHECK(strcmp(t[0].name, "GFP_TRANSHUGE") == 0, "first is %s", t[0].name);
	CHECK(strcmp(t[13].name, "__GFP_RECLAIM") == 0, "14th is %s", t[13].name);
	for (size_t i = 0; i < n; i++) {
		int single = t[i].value && !(t[i].value & (t[i].value - 1));

		CHECK(t[i].name && t[i].value, "entry %zu", i);
		CHECK(t[i].is_group == !(single && strncmp(t[i].name, "__GFP_", 6) == 0),
		      "%s is_group=%d", t[i].name, t[i].is_group);
		if (!t[i].is_group)
			all_bits |= t[i].value;
		total += strlen(t[i].name) + 1;
	}
	CHECK_EQ(all_bits, __GFP_BITS_MASK & ~(1u << ___GFP_UNUSED_BIT));
	total += sizeof("0xffffffff");
	CHECK(total <= BUDDY_GFP_STR_MAX, "worst case %zu > BUDDY_GFP_STR_MAX", total);

	for (unsigned b = 0; b < 40; b++) {
		const char *name = buddy_gfp_bit_name(b);
		gfp_t v = 0;

		if (b == ___GFP_UNUSED_BIT || b >= ___GFP_LAST_BIT) {
			CHECK(name == NULL, "bit %u has name %s", b, name);
			continue;
		}
		CHECK(name != NULL, "bit %u has no name", b);
		if (!name)
			continue;
		CHECK(buddy_gfp_parse(name, &v, NULL, 0) == 0, "%s does not parse", name);
		CHECK(v == 1u << b, "%s parses to 0x%x, bit %u", name, v, b);
	}
	CHECK(strcmp(buddy_gfp_bit_name(___GFP_ZERO_BIT), "__GFP_ZERO") == 0, "ZERO name");
	CHECK(strcmp(buddy_gfp_bit_name(___GFP_NO_OBJ_EXT_BIT), "__GFP_NO_OBJ_EXT") == 0,
	      "NO_OBJ_EXT name");
	CHECK(strcmp(buddy_gfp_bit_name(___GFP_DIRECT_RECLAIM_BIT), "__GFP_DIRECT_RECLAIM") == 0,
	      "bit 10 name");
}

static void test_zone(void)
{
	/* include/linux/gfp.h GFP_ZONE_TABLE/GFP_ZONE_BAD, HIGHMEM -> NORMAL */
	static const int want[16] = {
		ZONE_NORMAL, ZONE_DMA, ZONE_NORMAL, -1,
		ZONE_DMA32, -1, -1, -1,
		ZONE_NORMAL, ZONE_DMA, ZONE_MOVABLE, -1,
		ZONE_DMA32, -1, -1, -1,
	};

	for (unsigned i = 0; i < 16; i++) {
		for (unsigned k = 0; k < 3; k++) {
			/* the other bits must not matter */
			gfp_t extra = k == 0 ? 0 : k == 1 ? GFP_KERNEL : ~GFP_ZONEMASK;
			enum zone_type z = MAX_NR_ZONES;
			int r = buddy_gfp_zone(i | extra, &z);

			if (want[i] < 0) {
				CHECK(r == -EINVAL, "row 0x%x: ret %d", i, r);
				CHECK(z == MAX_NR_ZONES, "row 0x%x: zone written on BAD", i);
			} else {
				CHECK(r == 0, "row 0x%x: ret %d", i, r);
				CHECK((int)z == want[i], "row 0x%x: zone %d, want %d", i, z, want[i]);
			}
		}
	}
	CHECK(buddy_gfp_zone(GFP_KERNEL, NULL) == -EINVAL, "NULL zone");
	{
		enum zone_type z;

		CHECK(buddy_gfp_zone(GFP_HIGHUSER_MOVABLE, &z) == 0 && z == ZONE_MOVABLE, "HUM");
		CHECK(buddy_gfp_zone(GFP_HIGHUSER, &z) == 0 && z == ZONE_NORMAL, "HU");
		CHECK(buddy_gfp_zone(GFP_KERNEL | __GFP_MOVABLE, &z) == 0 && z == ZONE_NORMAL,
		      "movable alone");
		CHECK(buddy_gfp_zone(GFP_TRANSHUGE, &z) == 0 && z == ZONE_MOVABLE, "THP");
	}
}

static void test_migratetype(void)
{
	CHECK_EQ(buddy_gfp_migratetype(GFP_KERNEL), MIGRATE_UNMOVABLE);
	CHECK_EQ(buddy_gfp_migratetype(GFP_HIGHUSER_MOVABLE), MIGRATE_MOVABLE);
	CHECK_EQ(buddy_gfp_migratetype(GFP_KERNEL | __GFP_RECLAIMABLE), MIGRATE_RECLAIMABLE);
	CHECK_EQ(buddy_gfp_migratetype(__GFP_MOVABLE), MIGRATE_MOVABLE);
	CHECK_EQ(buddy_gfp_migratetype(0), MIGRATE_UNMOVABLE);
	CHECK(buddy_gfp_migratetype(__GFP_MOVABLE | __GFP_RECLAIMABLE) == -EINVAL, "both");
	CHECK(buddy_gfp_migratetype(~0u) == -EINVAL, "all");
	CHECK_EQ(buddy_gfp_migratetype(~0u & ~__GFP_RECLAIMABLE), MIGRATE_MOVABLE);
}

static void test_alloc_flags(void)
{
	/* mm/page_alloc.c gfp_to_alloc_flags() + gfp_to_alloc_flags_cma() */
	static const struct { gfp_t gfp; unsigned task; unsigned want; const char *what; } v[] = {
		{ GFP_KERNEL, 0, ALLOC_WMARK_MIN | ALLOC_CPUSET | ALLOC_KSWAPD, "GFP_KERNEL" },
		{ GFP_KERNEL, BUDDY_TASK_RT,
		  ALLOC_CPUSET | ALLOC_KSWAPD | ALLOC_MIN_RESERVE, "GFP_KERNEL rt" },
		{ GFP_KERNEL, BUDDY_TASK_MEMALLOC, ALLOC_CPUSET | ALLOC_KSWAPD, "GFP_KERNEL memalloc" },
		{ GFP_ATOMIC, 0,
		  ALLOC_MIN_RESERVE | ALLOC_KSWAPD | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC, "GFP_ATOMIC" },
		{ GFP_ATOMIC, BUDDY_TASK_RT,
		  ALLOC_MIN_RESERVE | ALLOC_KSWAPD | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC,
		  "GFP_ATOMIC rt (rt only matters when blocking)" },
		{ GFP_ATOMIC | __GFP_NOMEMALLOC, 0, ALLOC_MIN_RESERVE | ALLOC_KSWAPD,
		  "GFP_ATOMIC|NOMEMALLOC" },
		{ GFP_NOWAIT, 0, ALLOC_CPUSET | ALLOC_KSWAPD | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC,
		  "GFP_NOWAIT" },
		{ GFP_NOWAIT | __GFP_NOMEMALLOC, 0, ALLOC_CPUSET | ALLOC_KSWAPD,
		  "GFP_NOWAIT|NOMEMALLOC" },
		{ __GFP_HIGH, 0, ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC, "__GFP_HIGH" },
		{ __GFP_HIGH | __GFP_DIRECT_RECLAIM, 0, ALLOC_CPUSET | ALLOC_MIN_RESERVE,
		  "__GFP_HIGH|DIRECT" },
		{ 0, 0, ALLOC_CPUSET | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC, "0" },
		{ GFP_HIGHUSER_MOVABLE, 0, ALLOC_CPUSET | ALLOC_KSWAPD | ALLOC_CMA, "HIGHUSER_MOVABLE" },
		{ GFP_TRANSHUGE_LIGHT, 0, ALLOC_CPUSET | ALLOC_CMA, "TRANSHUGE_LIGHT" },
		{ GFP_TRANSHUGE, BUDDY_TASK_RT, ALLOC_CPUSET | ALLOC_CMA | ALLOC_MIN_RESERVE,
		  "TRANSHUGE rt" },
		{ GFP_KERNEL | __GFP_RECLAIMABLE, 0, ALLOC_CPUSET | ALLOC_KSWAPD, "reclaimable" },
		{ GFP_KERNEL | __GFP_MOVABLE | __GFP_RECLAIMABLE, 0, ALLOC_CPUSET | ALLOC_KSWAPD,
		  "movable|reclaimable: no CMA" },
		{ GFP_ATOMIC | __GFP_MOVABLE, 0,
		  ALLOC_MIN_RESERVE | ALLOC_KSWAPD | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC | ALLOC_CMA,
		  "atomic movable" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unsigned got = buddy_gfp_to_alloc_flags(v[i].gfp, v[i].task);

		CHECK(got == v[i].want, "%s: 0x%x, want 0x%x", v[i].what, got, v[i].want);
	}
	CHECK_EQ(buddy_gfp_to_alloc_flags(GFP_KERNEL, 0), 0x840);
	CHECK_EQ(buddy_gfp_to_alloc_flags(GFP_ATOMIC, 0), 0xa30);
	CHECK_EQ(buddy_gfp_to_alloc_flags(GFP_NOWAIT, 0), 0xa50);

	CHECK_EQ(buddy_gfp_fast_alloc_flags(GFP_KERNEL), ALLOC_WMARK_LOW | ALLOC_KSWAPD);
	CHECK_EQ(buddy_gfp_fast_alloc_flags(GFP_ATOMIC), ALLOC_WMARK_LOW | ALLOC_KSWAPD);
	CHECK_EQ(buddy_gfp_fast_alloc_flags(GFP_HIGHUSER_MOVABLE),
		 ALLOC_WMARK_LOW | ALLOC_KSWAPD | ALLOC_CMA);
	CHECK_EQ(buddy_gfp_fast_alloc_flags(GFP_TRANSHUGE), ALLOC_WMARK_LOW | ALLOC_CMA);
	CHECK_EQ(buddy_gfp_fast_alloc_flags(0), ALLOC_WMARK_LOW);

	CHECK_EQ(buddy_gfp_pfmemalloc_flags(GFP_KERNEL, 0), 0);
	CHECK_EQ(buddy_gfp_pfmemalloc_flags(GFP_ATOMIC | __GFP_MEMALLOC, 0), ALLOC_NO_WATERMARKS);
	CHECK_EQ(buddy_gfp_pfmemalloc_flags(GFP_KERNEL, BUDDY_TASK_MEMALLOC), ALLOC_NO_WATERMARKS);
	CHECK_EQ(buddy_gfp_pfmemalloc_flags(GFP_KERNEL | __GFP_NOMEMALLOC, BUDDY_TASK_MEMALLOC), 0);
	CHECK_EQ(buddy_gfp_pfmemalloc_flags(__GFP_MEMALLOC | __GFP_NOMEMALLOC, 0), 0);
	CHECK_EQ(buddy_gfp_pfmemalloc_flags(GFP_KERNEL, BUDDY_TASK_RT), 0);
}

static int roundtrip(gfp_t v)
{
	char buf[BUDDY_GFP_STR_MAX], err[128];
	size_t n = buddy_gfp_format(v, buf, sizeof(buf));
	gfp_t back = ~v;
	int r;

	if (n >= sizeof(buf) || strlen(buf) != n) {
		printf("format 0x%x: length %zu\n", v, n);
		return 0;
	}
	r = buddy_gfp_parse(buf, &back, err, sizeof(err));
	if (r != 0 || back != v) {
		printf("0x%x -> \"%s\" -> %d 0x%x (%s)\n", v, buf, r, back, err);
		return 0;
	}
	return 1;
}

static void test_roundtrip(void)
{
	const struct buddy_gfp_name *t;
	size_t n = buddy_gfp_names(&t);
	unsigned bad = 0;

	CHECK(roundtrip(0), "0");
	CHECK(roundtrip(~0u), "~0");
	for (unsigned b = 0; b < 32; b++)
		CHECK(roundtrip(1u << b), "bit %u", b);
	for (size_t i = 0; i < n; i++) {
		gfp_t v = 0;

		CHECK(roundtrip(t[i].value), "%s", t[i].name);
		CHECK(buddy_gfp_parse(t[i].name, &v, NULL, 0) == 0 && v == t[i].value, "%s",
		      t[i].name);
	}
	for (unsigned i = 0; i < 100000; i++) {
		uint32_t r = xorshift32();
		gfp_t v;

		switch (i % 4) {
		case 0: v = r; break;
		case 1: v = r & __GFP_BITS_MASK; break;
		case 2: v = (r & xorshift32()) & __GFP_BITS_MASK; break; /* sparse */
		default: v = t[r % n].value | t[xorshift32() % n].value | (r & 0x1c0100u); break;
		}
		if (!roundtrip(v) && ++bad > 5)
			break;
	}
	CHECK(bad == 0, "%u random round trips failed", bad);
}

static void expect_fmt(gfp_t v, const char *want)
{
	char buf[BUDDY_GFP_STR_MAX];
	size_t n = buddy_gfp_format(v, buf, sizeof(buf));

	CHECK(strcmp(buf, want) == 0 && n == strlen(want), "format 0x%x = \"%s\", want \"%s\"",
	      v, buf, want);
}

static void test_format_strings(void)
{
	expect_fmt(GFP_KERNEL | __GFP_ZERO, "GFP_KERNEL|__GFP_ZERO");
	expect_fmt(GFP_HIGHUSER_MOVABLE | __GFP_COMP, "GFP_HIGHUSER_MOVABLE|__GFP_COMP");
	expect_fmt(GFP_KERNEL, "GFP_KERNEL");
	expect_fmt(GFP_KERNEL_ACCOUNT | __GFP_ZERO, "GFP_KERNEL_ACCOUNT|__GFP_ZERO");
	expect_fmt(GFP_TRANSHUGE, "GFP_TRANSHUGE");
	expect_fmt(GFP_TRANSHUGE_LIGHT, "GFP_TRANSHUGE_LIGHT");
	expect_fmt(GFP_TRANSHUGE | __GFP_THISNODE, "GFP_TRANSHUGE|__GFP_THISNODE");
	expect_fmt(GFP_NOWAIT, "GFP_NOWAIT");
	expect_fmt(GFP_NOWAIT | __GFP_ZERO, "GFP_NOWAIT|__GFP_ZERO");
	expect_fmt(GFP_NOFS, "GFP_NOFS");
	/* lib/tests/printf_kunit.c expectations for %pGg */
	expect_fmt(GFP_ATOMIC | __GFP_DMA, "GFP_ATOMIC|GFP_DMA");
	expect_fmt(__GFP_HIGH, "__GFP_HIGH");
	expect_fmt(~__GFP_BITS_MASK, "0xf0000000");
	expect_fmt(~__GFP_BITS_MASK | __GFP_HIGH, "__GFP_HIGH|0xf0000000");
	/* show_gfp_flags() prints "none" for 0 (%pGg would print nothing) */
	expect_fmt(0, "none");
	/* GFP_NOIO has __GFP_RECLAIM's value and comes first */
	expect_fmt(__GFP_RECLAIM, "GFP_NOIO");
	expect_fmt(__GFP_DMA32, "GFP_DMA32");
	expect_fmt(1u << ___GFP_UNUSED_BIT, "0x200");
	expect_fmt(GFP_KERNEL | 0x200, "GFP_KERNEL|0x200");
	/* bit order after the groups (6.15+ TRACE_GFP_FLAGS) */
	expect_fmt(GFP_USER | __GFP_ZERO | __GFP_COMP, "GFP_USER|__GFP_ZERO|__GFP_COMP");
	expect_fmt(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY | __GFP_COMP,
		   "GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP");
	expect_fmt(__GFP_KSWAPD_RECLAIM | __GFP_IO, "__GFP_IO|__GFP_KSWAPD_RECLAIM");
	/* without __GFP_SKIP_KASAN it is no longer GFP_HIGHUSER_MOVABLE */
	expect_fmt(GFP_HIGHUSER | __GFP_MOVABLE, "GFP_HIGHUSER|__GFP_MOVABLE");
	expect_fmt(GFP_KERNEL | __GFP_NOLOCKDEP | __GFP_NO_OBJ_EXT,
		   "GFP_KERNEL|__GFP_NOLOCKDEP|__GFP_NO_OBJ_EXT");
	/* TRANSHUGE leaves HIGH and KSWAPD_RECLAIM: exactly GFP_ATOMIC */
	expect_fmt(~0u, "GFP_TRANSHUGE|GFP_ATOMIC|GFP_DMA|GFP_DMA32|__GFP_RECLAIMABLE|"
		   "__GFP_ZERO|__GFP_WRITE|__GFP_RETRY_MAYFAIL|__GFP_NOFAIL|"
		   "__GFP_NORETRY|__GFP_MEMALLOC|__GFP_THISNODE|__GFP_ACCOUNT|"
		   "__GFP_ZEROTAGS|__GFP_SKIP_ZERO|__GFP_NOLOCKDEP|__GFP_NO_OBJ_EXT|"
		   "0xf0000200");
}

static void expect_parse(const char *text, gfp_t want)
{
	char err[128] = "x";
	gfp_t v = 0x12345;
	int r = buddy_gfp_parse(text, &v, err, sizeof(err));

	CHECK(r == 0 && v == want && err[0] == '\0', "parse \"%s\": %d 0x%x \"%s\", want 0x%x",
	      text, r, v, err, want);
}

static void expect_error(const char *text, const char *want_err)
{
	char err[128] = "";
	gfp_t v = 0x12345;
	int r = buddy_gfp_parse(text, &v, err, sizeof(err));

	CHECK(r == -EINVAL, "parse \"%.40s\" returned %d", text ? text : "(null)", r);
	CHECK(v == 0x12345, "parse \"%.40s\" wrote the output on error", text ? text : "(null)");
	CHECK(strcmp(err, want_err) == 0, "parse \"%.40s\": error \"%s\", want \"%s\"",
	      text ? text : "(null)", err, want_err);
}

static void test_parse(void)
{
	expect_parse("GFP_KERNEL|__GFP_ZERO", 0xdc0);
	expect_parse("  GFP_KERNEL | __GFP_ZERO\n", 0xdc0);
	expect_parse("\t__GFP_ZERO|GFP_KERNEL", 0xdc0);
	expect_parse("0xcc0", 0xcc0);
	expect_parse("0XCC0", 0xcc0);
	expect_parse("3264", 0xcc0);
	expect_parse("0", 0);
	expect_parse("none", 0);
	expect_parse(" none ", 0);
	expect_parse("0x0", 0);
	expect_parse("007", 7);
	expect_parse("__GFP_DMA", 1);
	expect_parse("GFP_DMA", 1);
	expect_parse("GFP_DMA32|__GFP_DMA32", 4);
	expect_parse("__GFP_RECLAIM", 0xc00);
	expect_parse("GFP_NOIO", 0xc00);
	expect_parse("GFP_KERNEL|0x200", 0xec0);
	expect_parse("GFP_HIGHUSER_MOVABLE|__GFP_COMP", 0x2140cca);
	expect_parse("4294967295", 0xffffffffu);
	expect_parse("0xffffffff", 0xffffffffu);
	expect_parse("0x00000000000000000000cc0", 0xcc0);
	expect_parse("__GFP_HIGH|0xf0000000", 0xf0000020u);

	expect_error("GFP_KERNL", "unknown GFP flag 'GFP_KERNL'");
	expect_error("GFP_KERNEL|__GFP_ZEROO", "unknown GFP flag '__GFP_ZEROO'");
	expect_error("gfp_kernel", "unknown GFP flag 'gfp_kernel'");
	expect_error("GFP_KERNEL|NONE", "unknown GFP flag 'NONE'");
	expect_error("__GFP_UNUSED", "unknown GFP flag '__GFP_UNUSED'");
	expect_error("GFP_KERNEL||", "empty GFP flag name at offset 11");
	expect_error("GFP_KERNEL||__GFP_ZERO", "empty GFP flag name at offset 11");
	expect_error("GFP_KERNEL|", "trailing '|' with no GFP flag name at offset 11");
	expect_error("GFP_KERNEL|  ", "trailing '|' with no GFP flag name at offset 13");
	expect_error("|GFP_KERNEL", "empty GFP flag name at offset 0");
	expect_error("|", "empty GFP flag name at offset 0");
	expect_error("", "empty GFP flags");
	expect_error("  \t ", "empty GFP flags");
	expect_error(NULL, "no GFP flags (NULL)");
	expect_error("0x", "bad GFP number '0x'");
	expect_error("0xg", "bad GFP number '0xg'");
	expect_error("12ab", "bad GFP number '12ab'");
	expect_error("-1", "unknown GFP flag '-1'");
	expect_error("+1", "unknown GFP flag '+1'");
	expect_error("0x100000000", "GFP value '0x100000000' does not fit in gfp_t");
	expect_error("4294967296", "GFP value '4294967296' does not fit in gfp_t");
	expect_error("99999999999999999999999999", "GFP value '99999999999999999999999999' "
		     "does not fit in gfp_t");
	expect_error("0xffffffffffzz", "bad GFP number '0xffffffffffzz'");
	expect_error("GFP KERNEL", "unknown GFP flag 'GFP KERNEL'");
	expect_error("GFP_KERNEL\x01", "unknown GFP flag 'GFP_KERNEL?'");
	expect_error("GFP_KERNEL,__GFP_ZERO", "unknown GFP flag 'GFP_KERNEL,__GFP_ZERO'");

	{
		gfp_t v = 7;
		char err[64];

		CHECK(buddy_gfp_parse("GFP_KERNEL", NULL, err, sizeof(err)) == -EINVAL, "NULL out");
		CHECK(strstr(err, "NULL") != NULL, "NULL out message \"%s\"", err);
		CHECK(buddy_gfp_parse("GFP_KERNL", &v, NULL, 0) == -EINVAL && v == 7, "NULL err");
		CHECK(buddy_gfp_parse("GFP_KERNL", &v, NULL, 100) == -EINVAL, "NULL err, len");
		CHECK(buddy_gfp_parse(NULL, NULL, NULL, 0) == -EINVAL, "all NULL");
		err[0] = 'x';
		CHECK(buddy_gfp_parse("GFP_KERNL", &v, err, 0) == -EINVAL && err[0] == 'x',
		      "errlen 0 writes nothing");
		CHECK(buddy_gfp_parse("GFP_KERNL", &v, err, 1) == -EINVAL && err[0] == '\0',
		      "errlen 1");
		memset(err, 'x', sizeof(err));
		CHECK(buddy_gfp_parse("GFP_KERNL", &v, err, 10) == -EINVAL &&
			      strcmp(err, "unknown G") == 0 && err[10] == 'x',
		      "errlen 10: \"%s\"", err);
	}

	{
		/* long inputs: a long bad token is quoted in bounded form */
		size_t big = 200000;
		char *s = malloc(big + 1);
		char err[256];
		gfp_t v = 0;

		CHECK(s != NULL, "malloc");
		if (!s)
			return;
		memset(s, 'A', big);
		s[big] = '\0';
		CHECK(buddy_gfp_parse(s, &v, err, sizeof(err)) == -EINVAL, "long token");
		CHECK(strlen(err) < 80 && strstr(err, "AAA...'") != NULL, "long msg \"%s\"", err);

		memset(s, '|', big);
		CHECK(buddy_gfp_parse(s, &v, err, sizeof(err)) == -EINVAL, "all pipes");

		memset(s, ' ', big);
		CHECK(buddy_gfp_parse(s, &v, err, sizeof(err)) == -EINVAL, "all blanks");

		memset(s, '0', big);
		CHECK(buddy_gfp_parse(s, &v, err, sizeof(err)) == 0 && v == 0, "many zeros");

		{
			size_t k = 0;
			const char *tok = "GFP_KERNEL|__GFP_ZERO|";

			while (k + strlen(tok) < big) {
				memcpy(s + k, tok, strlen(tok));
				k += strlen(tok);
			}
			memcpy(s + k - 1, "\0", 1); /* drop the last '|' */
			CHECK(buddy_gfp_parse(s, &v, err, sizeof(err)) == 0 && v == 0xdc0,
			      "long valid list: %s", err);
		}
		free(s);
	}

	{
		/* random garbage drawn from the token alphabet must never crash */
		static const char alpha[] = "GFP_KERNEL_ZERO|x0123456789abcdef \t-none";
		char s[64], err[64];

		for (unsigned i = 0; i < 100000; i++) {
			size_t len = xorshift32() % (sizeof(s) - 1);
			gfp_t v;
			int r;

			for (size_t k = 0; k < len; k++)
				s[k] = alpha[xorshift32() % (sizeof(alpha) - 1)];
			s[len] = '\0';
			r = buddy_gfp_parse(s, &v, err, sizeof(err));
			if (r != 0 && r != -EINVAL) {
				CHECK(0, "parse \"%s\" returned %d", s, r);
				break;
			}
			if (r != 0 && err[0] == '\0') {
				CHECK(0, "parse \"%s\" failed without a message", s);
				break;
			}
		}
		for (unsigned i = 0; i < 20000; i++) {
			size_t len = xorshift32() % (sizeof(s) - 1);
			gfp_t v;

			for (size_t k = 0; k < len; k++)
				s[k] = (char)(1 + xorshift32() % 255);
			s[len] = '\0';
			(void)buddy_gfp_parse(s, &v, err, sizeof(err));
		}
		passed++;
	}
}

static void test_truncation(void)
{
	static const gfp_t vals[] = { 0, GFP_KERNEL | __GFP_ZERO, ~0u, 0x200 };

	for (size_t vi = 0; vi < sizeof(vals) / sizeof(vals[0]); vi++) {
		char full[BUDDY_GFP_STR_MAX];
		size_t need = buddy_gfp_format(vals[vi], full, sizeof(full));

		CHECK(buddy_gfp_format(vals[vi], NULL, 0) == need, "NULL,0");
		CHECK(buddy_gfp_format(vals[vi], NULL, 10) == need, "NULL,10");
		for (size_t len = 0; len <= need + 2; len++) {
			char buf[BUDDY_GFP_STR_MAX + 8];
			size_t n;

			memset(buf, '#', sizeof(buf));
			n = buddy_gfp_format(vals[vi], buf, len);
			if (n != need) {
				CHECK(0, "0x%x len %zu: returned %zu, need %zu", vals[vi], len, n, need);
				break;
			}
			if (len == 0) {
				CHECK(buf[0] == '#', "len 0 wrote");
				continue;
			}
			{
				size_t w = need < len ? need : len - 1;

				if (buf[w] != '\0' || memcmp(buf, full, w) != 0 || buf[len] != '#') {
					CHECK(0, "0x%x len %zu: \"%.*s\"", vals[vi], len, (int)w, buf);
					break;
				}
			}
		}
		passed++;
	}
	{
		char b[4];

		CHECK(buddy_gfp_format(GFP_KERNEL, b, sizeof(b)) == 10 && strcmp(b, "GFP") == 0,
		      "tiny \"%s\"", b);
		CHECK(buddy_gfp_format(GFP_KERNEL, b, 1) == 10 && b[0] == '\0', "len 1");
	}
}

int main(void)
{
	test_bits();
	test_names_table();
	test_zone();
	test_migratetype();
	test_alloc_flags();
	test_roundtrip();
	test_format_strings();
	test_parse();
	test_truncation();

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
