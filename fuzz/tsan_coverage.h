/* See tsan_coverage.c: under ThreadSanitizer, mark libFuzzer's coverage
 * counters as racing by design; a no-op in every other build. */
#ifndef PAGETORTURE_FUZZ_TSAN_COVERAGE_H
#define PAGETORTURE_FUZZ_TSAN_COVERAGE_H

void fz_tsan_coverage_counters_benign(void);

#endif
