/* fuzz_gfp: the GFP helpers against the kernel's own definitions.
 *
 * Input: 4 bytes of gfp_t (little endian), a byte of task flags, a byte of
 * buffer length, then text for buddy_gfp_parse().  Checked:
 *   - format -> parse gives the value back; a short buffer gets a prefix
 *     of the full text, NUL-terminated, and the same returned length;
 *   - gfp_zone() against GFP_ZONE_TABLE / GFP_ZONE_BAD built here from
 *     include/linux/gfp.h's definition, bit by bit;
 *   - gfp_migratetype(), gfp_to_alloc_flags() (6.12, with the CMA flag),
 *     the fast-path flags and __gfp_pfmemalloc_flags() in task context,
 *     each written out here from mm/page_alloc.c independently of gfp.c;
 *   - parse of arbitrary text: accepted text formats and parses back to
 *     the same value, refused text comes with a message. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy/gfp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

/* GFP_ZONES_SHIFT is 2 with four zones; the table is indexed by the value
 * of the low four bits, so each entry sits at value * 2. */
#define ZSHIFT 2
static uint64_t zone_table(void)
{
	const uint64_t dma = ___GFP_DMA, hi = ___GFP_HIGHMEM, d32 = ___GFP_DMA32, mov = ___GFP_MOVABLE;

	return ((uint64_t)ZONE_NORMAL << (0 * ZSHIFT)) | ((uint64_t)ZONE_DMA << (dma * ZSHIFT)) |
	       ((uint64_t)ZONE_NORMAL << (hi * ZSHIFT)) /* OPT_ZONE_HIGHMEM without HIGHMEM */ |
	       ((uint64_t)ZONE_DMA32 << (d32 * ZSHIFT)) | ((uint64_t)ZONE_NORMAL << (mov * ZSHIFT)) |
	       ((uint64_t)ZONE_DMA << ((mov | dma) * ZSHIFT)) | ((uint64_t)ZONE_MOVABLE << ((mov | hi) * ZSHIFT)) |
	       ((uint64_t)ZONE_DMA32 << ((mov | d32) * ZSHIFT));
}

static uint32_t zone_bad(void)
{
	const unsigned dma = ___GFP_DMA, hi = ___GFP_HIGHMEM, d32 = ___GFP_DMA32, mov = ___GFP_MOVABLE;

	return (1u << (dma | hi)) | (1u << (dma | d32)) | (1u << (d32 | hi)) | (1u << (dma | d32 | hi)) |
	       (1u << (mov | hi | dma)) | (1u << (mov | d32 | dma)) | (1u << (mov | d32 | hi)) |
	       (1u << (mov | d32 | dma | hi));
}

static int ref_migratetype(gfp_t gfp)
{
	gfp_t m = gfp & (__GFP_RECLAIMABLE | __GFP_MOVABLE);

	if (m == (__GFP_RECLAIMABLE | __GFP_MOVABLE))
		return -EINVAL;
	return m == __GFP_MOVABLE ? MIGRATE_MOVABLE : m == __GFP_RECLAIMABLE ? MIGRATE_RECLAIMABLE : MIGRATE_UNMOVABLE;
}

static unsigned ref_cma(gfp_t gfp)
{
	return ref_migratetype(gfp) == MIGRATE_MOVABLE ? ALLOC_CMA : 0;
}

/* gfp_to_alloc_flags(gfp, order > 0) of 6.12 */
static unsigned ref_alloc_flags(gfp_t gfp, unsigned task_flags)
{
	unsigned f = ALLOC_WMARK_MIN | ALLOC_CPUSET;

	/* The kernel ORs the gfp bits in directly: __GFP_HIGH is
	 * ALLOC_MIN_RESERVE and __GFP_KSWAPD_RECLAIM is ALLOC_KSWAPD. */
	if (gfp & __GFP_HIGH)
		f |= ALLOC_MIN_RESERVE;
	if (gfp & __GFP_KSWAPD_RECLAIM)
		f |= ALLOC_KSWAPD;
	if (!(gfp & __GFP_DIRECT_RECLAIM)) {
		if (!(gfp & __GFP_NOMEMALLOC))
			f |= ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC;
		if (f & ALLOC_MIN_RESERVE)
			f &= ~(unsigned)ALLOC_CPUSET;
	} else if (task_flags & BUDDY_TASK_RT) {
		f |= ALLOC_MIN_RESERVE;
	}
	return f | ref_cma(gfp);
}

static unsigned ref_pfmemalloc(gfp_t gfp, unsigned task_flags)
{
	if (gfp & __GFP_NOMEMALLOC)
		return 0;
	if (gfp & __GFP_MEMALLOC)
		return ALLOC_NO_WATERMARKS;
	return (task_flags & BUDDY_TASK_MEMALLOC) ? ALLOC_NO_WATERMARKS : 0;
}

static void check_value(gfp_t gfp, unsigned task_flags, size_t buflen)
{
	char full[BUDDY_GFP_STR_MAX], small[BUDDY_GFP_STR_MAX], err[128];
	gfp_t back = ~gfp;

	size_t need = buddy_gfp_format(gfp, full, sizeof(full));
	if (need >= sizeof(full) || strlen(full) != need)
		fail("gfp-format-length", "0x%x: returned %zu, wrote %zu", gfp, need, strlen(full));
	if (buddy_gfp_parse(full, &back, err, sizeof(err)) || back != gfp)
		fail("gfp-roundtrip", "0x%x -> \"%s\" -> 0x%x (%s)", gfp, full, back, err);
	memset(small, 'X', sizeof(small));
	size_t need2 = buddy_gfp_format(gfp, small, buflen);
	if (need2 != need)
		fail("gfp-format-length", "0x%x: %zu with a %zu-byte buffer, %zu with a large one", gfp, need2, buflen, need);
	if (buflen) {
		size_t w = buflen - 1 < need ? buflen - 1 : need;
		if (memcmp(small, full, w) || small[w] != '\0')
			fail("gfp-format-truncation", "0x%x with %zu bytes: not a NUL-terminated prefix of \"%s\"", gfp,
			     buflen, full);
	} else if (small[0] != 'X') {
		fail("gfp-format-truncation", "0x%x: wrote into a 0-byte buffer", gfp);
	}

	enum zone_type z = MAX_NR_ZONES;
	unsigned bits = gfp & GFP_ZONEMASK;
	int ret = buddy_gfp_zone(gfp, &z);
	bool bad = (zone_bad() >> bits) & 1;
	if (bad != (ret != 0))
		fail("gfp-zone", "0x%x: gfp_zone %s, GFP_ZONE_BAD says %s", gfp, ret ? "refused" : "accepted",
		     bad ? "bad" : "good");
	if (!bad && z != (enum zone_type)((zone_table() >> (bits * ZSHIFT)) & 3))
		fail("gfp-zone", "0x%x: zone %d, GFP_ZONE_TABLE says %d", gfp, (int)z,
		     (int)((zone_table() >> (bits * ZSHIFT)) & 3));
	if (buddy_gfp_migratetype(gfp) != ref_migratetype(gfp))
		fail("gfp-migratetype", "0x%x: %d, expected %d", gfp, buddy_gfp_migratetype(gfp), ref_migratetype(gfp));
	if (buddy_gfp_to_alloc_flags(gfp, task_flags) != ref_alloc_flags(gfp, task_flags))
		fail("gfp-alloc-flags", "0x%x task 0x%x: 0x%x, expected 0x%x", gfp, task_flags,
		     buddy_gfp_to_alloc_flags(gfp, task_flags), ref_alloc_flags(gfp, task_flags));
	unsigned fast = ALLOC_WMARK_LOW | ((gfp & __GFP_KSWAPD_RECLAIM) ? ALLOC_KSWAPD : 0) | ref_cma(gfp);
	if (buddy_gfp_fast_alloc_flags(gfp) != fast)
		fail("gfp-fast-flags", "0x%x: 0x%x, expected 0x%x", gfp, buddy_gfp_fast_alloc_flags(gfp), fast);
	if (buddy_gfp_pfmemalloc_flags(gfp, task_flags) != ref_pfmemalloc(gfp, task_flags))
		fail("gfp-pfmemalloc-flags", "0x%x task 0x%x: 0x%x, expected 0x%x", gfp, task_flags,
		     buddy_gfp_pfmemalloc_flags(gfp, task_flags), ref_pfmemalloc(gfp, task_flags));
}

static void check_names(void)
{
	const struct buddy_gfp_name *names;
	size_t n = buddy_gfp_names(&names);

	for (size_t i = 0; i < n; i++) {
		gfp_t v;
		if (buddy_gfp_parse(names[i].name, &v, NULL, 0) || v != names[i].value)
			fail("gfp-names", "%s does not parse to 0x%x", names[i].name, names[i].value);
	}
	for (unsigned bit = 0; bit < 32; bit++) {
		const char *name = buddy_gfp_bit_name(bit);
		gfp_t v;
		if (name && (buddy_gfp_parse(name, &v, NULL, 0) || v != (1u << bit)))
			fail("gfp-names", "bit %u is named %s, which parses to 0x%x", bit, name, v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool names_done;
	uint8_t head[6] = { 0 };
	char text[512], err[128];

	if (!names_done) {
		check_names();
		names_done = true;
	}
	memcpy(head, data, size < sizeof(head) ? size : sizeof(head));
	gfp_t gfp = (gfp_t)head[0] | (gfp_t)head[1] << 8 | (gfp_t)head[2] << 16 | (gfp_t)head[3] << 24;
	check_value(gfp, head[4] & 3, head[5] % 80);

	size_t tlen = size > sizeof(head) ? size - sizeof(head) : 0;
	if (tlen >= sizeof(text))
		tlen = sizeof(text) - 1;
	memcpy(text, data + (size > sizeof(head) ? sizeof(head) : size), tlen);
	text[tlen] = '\0';
	gfp_t v = 0xdeadbeef;
	err[0] = '\0';
	if (buddy_gfp_parse(text, &v, err, sizeof(err)) == 0) {
		check_value(v, head[4] & 3, head[5] % 80);
	} else {
		if (v != 0xdeadbeef)
			fail("gfp-parse-error", "a refused parse of \"%s\" changed the output", text);
		if (!err[0])
			fail("gfp-parse-error", "a refused parse of \"%s\" gave no message", text);
	}
	return 0;
}
