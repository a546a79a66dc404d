/* Real memory behind pfns (BUDDY_BACKING_MMAP): page poisoning as the
 * kernel's page_poison does it (fill at free, verify at allocation), zeroing
 * for __GFP_ZERO, and, in an AddressSanitizer build, the role KASAN plays in
 * the kernel: a free page is poisoned in the shadow, so a touch of it after
 * the free is reported as a use-after-poison at the faulting access. */
#include <string.h>

#include "internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define BUDDY_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUDDY_HAVE_ASAN 1
#endif
#endif

#ifdef BUDDY_HAVE_ASAN
#include <sanitizer/asan_interface.h>
#endif

static unsigned char *block_address(const struct buddy_system *sys, uint64_t pfn)
{
	return sys->backing + pfn * PAGE_SIZE;
}

static size_t block_bytes(unsigned int order)
{
	return PAGE_SIZE << order;
}

/* A block is usable backing only when it lies wholly inside the mapping; a
 * bad pfn reaching here is the caller's bug, not a reason to scribble. */
static bool block_in_backing(const struct buddy_system *sys, uint64_t pfn, unsigned int order)
{
	if (!sys->backing || order > MAX_PAGE_ORDER_LIMIT || pfn >= sys->max_pfn)
		return false;
	return (pfn + (1ULL << order)) * PAGE_SIZE <= sys->backing_bytes;
}

void backing_on_free(struct buddy_system *sys, uint64_t pfn, unsigned int order)
{
	if (!block_in_backing(sys, pfn, order))
		return;
	unsigned char *addr = block_address(sys, pfn);
	size_t len = block_bytes(order);

	/* The pattern goes in before the shadow poison: afterwards the
	 * memory is off limits even to us.  The shadow is lifted first because
	 * a fresh mapping can inherit stale poison from an earlier one at the
	 * same address (ASan does not clear the shadow on munmap). */
	if (sys->opts.poison) {
#ifdef BUDDY_HAVE_ASAN
		ASAN_UNPOISON_MEMORY_REGION(addr, len);
#endif
		memset(addr, sys->opts.poison_byte, len);
	}
#ifdef BUDDY_HAVE_ASAN
	ASAN_POISON_MEMORY_REGION(addr, len);
#endif
}

/* Not in internal.h yet: mm_init.c must call this before it unmaps the
 * backing, or the poisoned shadow outlives the mapping and the next mapping
 * at that address (another instance's page records, say) reports a
 * use-after-poison on its first legitimate access. */

void backing_release(struct buddy_system *sys)
{
#ifdef BUDDY_HAVE_ASAN
	if (sys->backing)
		ASAN_UNPOISON_MEMORY_REGION(sys->backing, sys->backing_bytes);
#else
	(void)sys;
#endif
}

void backing_on_alloc(struct buddy_system *sys, uint64_t pfn, unsigned int order, bool zero)
{
	if (!block_in_backing(sys, pfn, order))
		return;
	unsigned char *addr = block_address(sys, pfn);
	size_t len = block_bytes(order);

#ifdef BUDDY_HAVE_ASAN
	ASAN_UNPOISON_MEMORY_REGION(addr, len);
#endif
	if (zero)
		memset(addr, 0, len);
}

/* The first byte of page that differs from the pattern; the page is known to
 * differ somewhere. */
static size_t first_bad_byte(const unsigned char *page, unsigned char pattern)
{
	size_t off = 0;

	while (off < PAGE_SIZE && page[off] == pattern)
		off++;
	return off;
}

int backing_check_poison(struct buddy_system *sys, uint64_t pfn, unsigned int order, uint64_t *bad_pfn,
			 size_t *bad_offset)
{
	if (!sys->opts.poison || !block_in_backing(sys, pfn, order))
		return 0;

	unsigned char *addr = block_address(sys, pfn);
	unsigned char pattern = sys->opts.poison_byte;
	unsigned char ref[PAGE_SIZE];
	int ret = 0;

	/* Reading poisoned memory is exactly what ASan forbids, so lift the
	 * shadow for the check and put it back: the check leaves the block as
	 * it found it, whether the caller asks before or after on_alloc. */
#ifdef BUDDY_HAVE_ASAN
	size_t len = block_bytes(order);
	bool was_poisoned = __asan_region_is_poisoned(addr, len) != NULL;
	if (was_poisoned)
		ASAN_UNPOISON_MEMORY_REGION(addr, len);
#endif
	/* memcmp against one poisoned page runs at memory speed; only a page
	 * that fails is searched byte by byte. */
	memset(ref, pattern, sizeof(ref));
	for (uint64_t i = 0; i < (1ULL << order); i++) {
		const unsigned char *page = addr + i * PAGE_SIZE;
		if (memcmp(page, ref, PAGE_SIZE) != 0) {
			if (bad_pfn)
				*bad_pfn = pfn + i;
			if (bad_offset)
				*bad_offset = first_bad_byte(page, pattern);
			ret = -1;
			break;
		}
	}
#ifdef BUDDY_HAVE_ASAN
	if (was_poisoned)
		ASAN_POISON_MEMORY_REGION(addr, len);
#endif
	return ret;
}
