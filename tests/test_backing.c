/* Real memory behind pages (BUDDY_BACKING_MMAP): __GFP_ZERO, page poisoning
 * with its corruption report, and, in an AddressSanitizer build, a touch of
 * a freed page caught as use-after-poison the way KASAN catches it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buddy/buddy.h"
#include "tap.h"

/* tap.h's CHECK(cond) with no message passes "" as the printf format, which
 * gcc's -Wformat-zero-length (in -Wall) flags at every use. */
#pragma GCC diagnostic ignored "-Wformat-zero-length"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_HAVE_ASAN 1
#endif
#endif

/* Touch memory the allocator owns behind ASan's back: these stand in for a
 * stray pointer whose access ASan would otherwise stop at the first byte. */
__attribute__((no_sanitize_address, noinline)) static void scribble(volatile unsigned char *p, unsigned char v)
{
	*p = v;
}

__attribute__((no_sanitize_address, noinline)) static bool all_bytes(const volatile unsigned char *p, size_t len,
								     unsigned char v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void one_zone_topology(struct buddy_topology *t, uint64_t nr_pages)
{
	memset(t, 0, sizeof(*t));
	t->nr_nodes = 1;
	t->nr_cpus = 2;
	t->distance[0][0] = BUDDY_LOCAL_DISTANCE;
	t->zones[0][ZONE_DMA32] = (struct buddy_pfn_range){ 0, nr_pages };
}

static struct buddy_system *create(bool poison)
{
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err = { { 0 }, { 0 } };

	one_zone_topology(&t, 4096);
	buddy_options_init(&o);
	o.backing = BUDDY_BACKING_MMAP;
	o.poison = poison;
	struct buddy_system *sys = buddy_system_create(&t, &o, &err);
	if (!sys)
		fprintf(stderr, "# create failed: %s: %s\n", err.field, err.message);
	return sys;
}

static uint64_t quarantined(struct buddy_system *sys)
{
	struct buddy_zone_info zi;

	buddy_zone_info(sys, 0, ZONE_DMA32, &zi);
	return zi.quarantined_pages;
}

/* ---- __GFP_ZERO ---- */
#define MAX_BLOCKS 4096
static void test_zero(void)
{
	static struct page *blocks[MAX_BLOCKS];
	/* No direct reclaim: running out is the point, not a reason to reclaim. */
	const gfp_t gfp = GFP_NOWAIT;

	test_section("gfp-zero");
	struct buddy_system *sys = create(false);
	CHECK(sys != NULL);
	if (!sys)
		return;

	/* Order 0 comes back from the pcp list it went to: the same page. */
	struct page *p = buddy_alloc_pages(sys, gfp, 0);
	CHECK(p != NULL);
	if (!p)
		goto out;
	unsigned char *addr = buddy_page_address(sys, p);
	CHECK(addr != NULL);
	uint64_t pfn = buddy_page_to_pfn(sys, p);
	CHECK(addr == (unsigned char *)buddy_page_address(sys, buddy_pfn_to_page(sys, pfn)));
	memset(addr, 0x5a, 4096);
	CHECK_EQ(buddy_free_pages(sys, p, 0), 0);
	p = buddy_alloc_pages(sys, gfp | __GFP_ZERO, 0);
	CHECK(p != NULL);
	if (!p)
		goto out;
	CHECK_EQ(buddy_page_to_pfn(sys, p), pfn);
	CHECK(all_bytes(buddy_page_address(sys, p), 4096, 0));
	CHECK_EQ(buddy_free_pages(sys, p, 0), 0);

	/* Dirty every page the allocator will hand out, give it all back, and
	 * ask again with __GFP_ZERO at each order: whatever comes is zero. */
	for (unsigned int order = 0; order <= 10; order += 2) {
		size_t n = 0;
		while (n < MAX_BLOCKS && (blocks[n] = buddy_alloc_pages(sys, gfp, order)) != NULL) {
			memset(buddy_page_address(sys, blocks[n]), 0xc3, 4096UL << order);
			n++;
		}
		CHECK(n > 0, "order %u", order);
		for (size_t i = 0; i < n; i++)
			CHECK_EQ(buddy_free_pages(sys, blocks[i], order), 0);
		/* Pages parked on a pcp list do not count as free for the
		 * watermark; give them back so the second pass can take all. */
		buddy_drain_all_pages(sys);
		size_t bad = 0, m = 0;
		while (m < MAX_BLOCKS && (blocks[m] = buddy_alloc_pages(sys, gfp | __GFP_ZERO, order)) != NULL) {
			if (!all_bytes(buddy_page_address(sys, blocks[m]), 4096UL << order, 0))
				bad++;
			m++;
		}
		CHECK_EQ(bad, 0);
		CHECK(m > 0, "order %u", order);
		for (size_t i = 0; i < m; i++)
			CHECK_EQ(buddy_free_pages(sys, blocks[i], order), 0);
		buddy_drain_all_pages(sys);
	}
out:
	buddy_system_destroy(sys);
}

/* ---- page poisoning ---- */
static void test_poison(void)
{
	char log[BUFSIZ * 4], want[64];

	test_section("poison");
	struct buddy_system *sys = create(true);
	CHECK(sys != NULL);
	if (!sys)
		return;

	/* Creation poisoned all free memory; an allocation without
	 * __GFP_ZERO hands the pattern out as it is. */
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	CHECK(p != NULL);
	if (!p)
		goto out;
	unsigned char *addr = buddy_page_address(sys, p);
	uint64_t pfn = buddy_page_to_pfn(sys, p);
	CHECK(all_bytes(addr, 4096, 0xaa));
	memset(addr, 0x11, 4096);
	CHECK_EQ(buddy_free_pages(sys, p, 0), 0);
	/* The free wrote the pattern back over the caller's data. */
	CHECK(all_bytes(addr, 4096, 0xaa));

	/* A clean cycle reports nothing. */
	p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	CHECK(p != NULL && buddy_page_to_pfn(sys, p) == pfn);
	CHECK_EQ(quarantined(sys), 0);
	CHECK_EQ(buddy_vm_event(sys, BUDDY_BAD_PAGE), 0);
	CHECK_EQ(buddy_free_pages(sys, p, 0), 0);

	/* A write after the free, through a pointer kept from before it. */
	scribble(addr + 123, 0x42);
	p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
	CHECK(p != NULL);
	/* check_poison_mem found it: the page is kept out, another served. */
	CHECK(p && buddy_page_to_pfn(sys, p) != pfn);
	CHECK_EQ(quarantined(sys), 1);
	CHECK_EQ(buddy_vm_event(sys, BUDDY_BAD_PAGE), 1);
	buddy_log_read(sys, log, sizeof(log));
	CHECK(strstr(log, "pagealloc: memory corruption") != NULL, "%s", log);
	snprintf(want, sizeof(want), "pfn %#" PRIx64 " offset 123", pfn);
	CHECK(strstr(log, want) != NULL, "no '%s' in\n%s", want, log);
	if (p)
		CHECK(all_bytes(buddy_page_address(sys, p), 4096, 0xaa));
	if (p)
		CHECK_EQ(buddy_free_pages(sys, p, 0), 0);

	/* Corruption deep inside a high-order block, found whenever any part
	 * of it is handed out again.  Take everything, with no watermark. */
	p = buddy_alloc_pages(sys, GFP_KERNEL, 5);
	CHECK(p != NULL);
	if (!p)
		goto out;
	uint64_t pfn5 = buddy_page_to_pfn(sys, p) + 31;
	unsigned char *last = (unsigned char *)buddy_page_address(sys, p) + (32 * 4096 - 1);
	CHECK_EQ(buddy_free_pages(sys, p, 5), 0);
	scribble(last, 0);
	static struct page *pages[4096];
	size_t n = 0;
	while (n < 4096 && (pages[n] = buddy_alloc_pages(sys, GFP_ATOMIC | __GFP_MEMALLOC | __GFP_NOWARN, 0)))
		n++;
	for (size_t i = 0; i < n; i++)
		CHECK(buddy_page_to_pfn(sys, pages[i]) != pfn5 && buddy_page_to_pfn(sys, pages[i]) != pfn);
	CHECK_EQ(quarantined(sys), 2);
	CHECK_EQ(buddy_vm_event(sys, BUDDY_BAD_PAGE), 2);
	buddy_log_read(sys, log, sizeof(log));
	snprintf(want, sizeof(want), "pfn %#" PRIx64 " offset 4095", pfn5);
	CHECK(strstr(log, want) != NULL, "no '%s' in\n%s", want, log);
	/* Every page but the two quarantined ones was handed out. */
	CHECK_EQ(n, 4096 - 2);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(buddy_free_pages(sys, pages[i], 0), 0);
out:
	buddy_system_destroy(sys);
}

/* ---- without backing ---- */
static void test_no_backing(void)
{
	struct buddy_topology t;

	test_section("no-backing");
	one_zone_topology(&t, 4096);
	struct buddy_system *sys = buddy_system_create(&t, NULL, NULL);
	CHECK(sys != NULL);
	if (!sys)
		return;
	struct page *p = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_ZERO, 3);
	CHECK(p != NULL);
	if (p) {
		CHECK(buddy_page_address(sys, p) == NULL);
		CHECK_EQ(buddy_free_pages(sys, p, 3), 0);
	}
	buddy_system_destroy(sys);
}

/* ---- use after free under ASan ---- */
#ifdef TEST_HAVE_ASAN
/* The child allocates, frees and then touches the page; ASan must stop it
 * and name the access.  Its stderr comes back through a pipe. */
static void run_child(struct buddy_system *sys, int touch_offset, char *out, size_t len, int *status)
{
	int fd[2];

	out[0] = '\0';
	if (pipe(fd)) {
		*status = -1;
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(fd[0]);
		dup2(fd[1], STDERR_FILENO);
		struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
		if (!p)
			_exit(3);
		volatile unsigned char *addr = buddy_page_address(sys, p);
		addr[touch_offset] = 1; /* allowed: the page is ours */
		if (buddy_free_pages(sys, p, 0))
			_exit(4);
		addr[touch_offset] = 2; /* the use after free */
		_exit(0);
	}
	close(fd[1]);
	size_t used = 0;
	ssize_t r;
	while ((r = read(fd[0], out + used, len - 1 - used)) > 0) {
		used += (size_t)r;
		if (used == len - 1)
			break;
	}
	out[used] = '\0';
	close(fd[0]);
	if (pid < 0 || waitpid(pid, status, 0) != pid)
		*status = -1;
}

static void test_asan(void)
{
	static char out[1 << 16];
	int status = 0;

	test_section("asan-use-after-free");
	struct buddy_system *sys = create(false);
	CHECK(sys != NULL);
	if (!sys)
		return;
	run_child(sys, 100, out, sizeof(out), &status);
	CHECK(status != -1);
	CHECK(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
				      WEXITSTATUS(status) != 3 && WEXITSTATUS(status) != 4),
	      "child status %#x", status);
	CHECK(strstr(out, "use-after-poison") != NULL, "child stderr:\n%s", out);
	buddy_system_destroy(sys);

	/* With poisoning on as well: the pattern write at free comes first,
	 * so the shadow still catches the touch. */
	sys = create(true);
	CHECK(sys != NULL);
	if (!sys)
		return;
	run_child(sys, 4095, out, sizeof(out), &status);
	CHECK(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 1), "child status %#x", status);
	CHECK(strstr(out, "use-after-poison") != NULL, "child stderr:\n%s", out);
	buddy_system_destroy(sys);
}
#endif

/* BUDDY_BACKING_USER: the caller's memory, reused by one instance after
 * another; too little or misaligned memory is an error naming the field. */
static void test_user_backing(void)
{
	test_section("backing: the caller's memory, kept across instances");
	struct buddy_topology t;
	struct buddy_options o;
	struct buddy_error err = { { 0 }, { 0 } };
	size_t len = 4096 * 4096UL;
	unsigned char *mem = aligned_alloc(4096, len + 4096);

	CHECK(mem != NULL);
	if (!mem)
		return;
	one_zone_topology(&t, 4096);
	for (int round = 0; round < 2; round++) {
		buddy_options_init(&o);
		o.backing = BUDDY_BACKING_USER;
		o.backing_mem = mem;
		o.backing_len = len;
		o.poison = true;
		struct buddy_system *sys = buddy_system_create(&t, &o, &err);
		CHECK(sys != NULL, "create: %s: %s", err.field, err.message);
		if (!sys)
			break;
		struct page *page = buddy_alloc_pages(sys, GFP_KERNEL | __GFP_ZERO, 3);
		unsigned char *addr = page ? buddy_page_address(sys, page) : NULL;
		CHECK(addr >= mem && addr + 8 * 4096 <= mem + len, "page address %p outside the caller's memory", (void *)addr);
		if (addr) {
			CHECK(all_bytes(addr, 8 * 4096, 0), "__GFP_ZERO in the caller's memory");
			memset(addr, 0x5c, 8 * 4096);
			CHECK_EQ(buddy_free_pages(sys, page, 3), 0);
		}
		struct buddy_violation v[4];
		struct buddy_check_result res = { .capacity = 4, .v = v };
		CHECK_EQ(buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, &res), 0);
		buddy_system_destroy(sys);
	}
	/* After destroy the memory is the caller's again, shadow and all. */
	memset(mem, 0, len);

	buddy_options_init(&o);
	o.backing = BUDDY_BACKING_USER;
	o.backing_mem = mem;
	o.backing_len = len - 4096;
	CHECK(buddy_system_create(&t, &o, &err) == NULL);
	CHECK(!strcmp(err.field, "backing_len"), "field %s", err.field);
	o.backing_len = len;
	o.backing_mem = mem + 1;
	CHECK(buddy_system_create(&t, &o, &err) == NULL);
	CHECK(!strcmp(err.field, "backing_mem"), "field %s", err.field);
	free(mem);
}

int main(void)
{
	test_zero();
	test_poison();
	test_no_backing();
	test_user_backing();
#ifdef TEST_HAVE_ASAN
	test_asan();
#else
	printf("# skip asan-use-after-free: this build has no AddressSanitizer (use the dev preset)\n");
#endif
	return test_done();
}
