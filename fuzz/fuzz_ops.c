/* fuzz_ops: a program of allocator operations (see ops.h) on a fresh
 * allocator with backing memory, checked after every operation.  A broken
 * invariant aborts with its name, the op index and the readable trace. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Kept across inputs only to reuse memory: the op array, and the
	 * machine's pages, which a fresh mapping per input would fault in
	 * again every time (a quarter of an execution). */
	static struct fz_program prog;
	static bool ready;
	static void *backing;
	static const size_t backing_len = (FZ_MAX_PAGES + 2048) * 4096UL;
	struct fz_run_opts opts;
	struct fz_run_result res;

	if (!ready) {
		fz_program_init(&prog);
		backing = mmap(NULL, backing_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (backing == MAP_FAILED)
			backing = NULL;
		ready = true;
	}
	fz_decode(data, size, &prog);
	fz_run_opts_init(&opts);
	opts.abort_on_violation = true;
	opts.ignore = getenv("PAGETORTURE_FUZZ_IGNORE");
	opts.backing_mem = backing;
	opts.backing_len = backing ? backing_len : 0;
	if (fz_run(&prog, &opts, &res) == FZ_SETUP_FAIL) {
		fprintf(stderr, "==pagetorture== invariant %s violated at op 0: %s\n", res.invariant, res.message);
		fz_format_machine(&prog.m, stderr);
		fprintf(stderr, "==pagetorture== invariant %s\n", res.invariant);
		abort();
	}
	return 0;
}
