/* A main() for the fuzz targets without a fuzzing engine: runs every file
 * named (directories are walked one level) through LLVMFuzzerTestOneInput
 * once.  CI replays the seed corpora with it in every build, gcc included,
 * and the coverage build replays a campaign's corpus. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *n = realloc(buf, cap);
			if (!n) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = n;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		if (!got)
			break;
		len += got;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	size_t runs = 0;
	int errors = 0;

	for (int i = 1; i < argc; i++) {
		struct stat sb;
		if (argv[i][0] == '-')
			continue; /* libFuzzer-style flags are accepted and ignored */
		if (stat(argv[i], &sb)) {
			perror(argv[i]);
			errors++;
			continue;
		}
		if (!S_ISDIR(sb.st_mode)) {
			errors += run_file(argv[i]) != 0;
			runs++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		char **names = NULL;
		size_t n = 0, cap = 0;
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				char **nn = realloc(names, cap * sizeof(*nn));
				if (!nn)
					break;
				names = nn;
			}
			names[n++] = strdup(e->d_name);
		}
		if (d)
			closedir(d);
		qsort(names, n, sizeof(*names), cmp_names);
		for (size_t k = 0; k < n; k++) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]);
			if (!stat(path, &sb) && S_ISREG(sb.st_mode)) {
				errors += run_file(path) != 0;
				runs++;
			}
			free(names[k]);
		}
		free(names);
	}
	printf("%zu inputs run, %d unreadable\n", runs, errors);
	return errors ? 1 : 0;
}
