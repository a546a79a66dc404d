/* A tiny test harness: CHECK records a pass or a failure with its location;
 * test_done() prints "N passed, N failed" (read by CI) and gives the exit code. */
#ifndef BUDDY_TEST_TAP_H
#define BUDDY_TEST_TAP_H

#include <stdbool.h>

void test_check(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int test_done(void);
void test_section(const char *name);

/* The leading space keeps the format non-empty (gcc -Wformat-zero-length). */
#define CHECK(cond, ...) test_check(!!(cond), __FILE__, __LINE__, #cond, " " __VA_ARGS__)
#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
	test_check(_a == _b, __FILE__, __LINE__, #a " == " #b, "%lld != %lld", _a, _b); } while (0)

#endif
