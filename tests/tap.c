#include "tap.h"

#include <stdarg.h>
#include <stdio.h>

static unsigned long nr_passed, nr_failed;
static const char *current_section = "";

void test_section(const char *name)
{
	current_section = name;
}

void test_check(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
	if (ok) {
		nr_passed++;
		return;
	}
	nr_failed++;
	fprintf(stderr, "FAIL %s:%d [%s] %s", file, line, current_section, expr);
	while (fmt && *fmt == ' ')
		fmt++;
	if (fmt && *fmt) {
		va_list ap;
		fputs(": ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
}

int test_done(void)
{
	printf("%lu passed, %lu failed\n", nr_passed, nr_failed);
	return nr_failed ? 1 : 0;
}
