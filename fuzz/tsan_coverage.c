/* libFuzzer under ThreadSanitizer (preset fuzz-tsan) with more than one
 * thread: the coverage counters of -fsanitize=fuzzer-no-link are plain
 * byte increments, and clang 14 lets TSan instrument them (later releases
 * skip sanitizer-coverage's own accesses), so two threads running the same
 * code "race" on libFuzzer's bookkeeping, not on the code under test.  This
 * tells TSan that the counter section, and nothing else, races by design.
 *
 * A file of its own, listed in coverage-ignorelist.txt: a file that names
 * the __start/__stop symbols of the section and is also instrumented gets
 * its own counters renamed away from them. */
#include <stddef.h>
#include <stdint.h>

#include "tsan_coverage.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FZ_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define FZ_TSAN 1
#endif

#ifdef FZ_TSAN
/* Defined by the linker when some object has the section. */
extern uint8_t __start___sancov_cntrs[] __attribute__((weak, visibility("hidden")));
extern uint8_t __stop___sancov_cntrs[] __attribute__((weak, visibility("hidden")));
/* ThreadSanitizer's dynamic annotation: reports on [mem, mem + size) are dropped. */
void AnnotateBenignRaceSized(const char *file, int line, const volatile void *mem, size_t size, const char *desc);

void fz_tsan_coverage_counters_benign(void)
{
	if (__start___sancov_cntrs && __stop___sancov_cntrs > __start___sancov_cntrs)
		AnnotateBenignRaceSized(__FILE__, __LINE__, __start___sancov_cntrs,
					(size_t)(__stop___sancov_cntrs - __start___sancov_cntrs),
					"libFuzzer inline 8-bit coverage counters");
}
#else
void fz_tsan_coverage_counters_benign(void)
{
}
#endif
