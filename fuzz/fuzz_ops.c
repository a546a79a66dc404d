/* fuzz_ops: a program of allocator operations (see ops.h) on a fresh
 * allocator with backing memory, checked after every operation.  A broken
 * invariant aborts with its name, the op index and the readable trace. */
#include <stdio.h>
#include <stdlib.h>

#include "ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Kept across inputs only to reuse the op array's memory. */
	static struct fz_program prog;
	static bool ready;
	struct fz_run_opts opts;
	struct fz_run_result res;

	if (!ready) {
		fz_program_init(&prog);
		ready = true;
	}
	fz_decode(data, size, &prog);
	fz_run_opts_init(&opts);
	opts.abort_on_violation = true;
	opts.ignore = getenv("PAGETORTURE_FUZZ_IGNORE");
	if (fz_run(&prog, &opts, &res) == FZ_SETUP_FAIL) {
		fprintf(stderr, "==pagetorture== invariant %s violated at op 0: %s\n", res.invariant, res.message);
		fz_format_machine(&prog.m, stderr);
		fprintf(stderr, "==pagetorture== invariant %s\n", res.invariant);
		abort();
	}
	return 0;
}
