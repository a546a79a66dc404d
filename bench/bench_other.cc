// The alloc+free patterns of bench_alloc.cc with another allocator, for the
// side-by-side comparison (issue 6).  One source, three executables:
//   bench_glibc     -DBENCH_OTHER_GLIBC     glibc's malloc
//   bench_jemalloc  -DBENCH_OTHER_JEMALLOC  linked with -ljemalloc
//   bench_tcmalloc  -DBENCH_OTHER_TCMALLOC  linked with -ltcmalloc_minimal
// jemalloc and tcmalloc replace malloc for the whole process, so each runs
// in its own.  A block of 2^order pages is posix_memalign'ed to its own
// size, as the buddy allocator aligns a block to its size.  Benchmark names
// match bench_alloc's, so results pair up by name.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#if defined(BENCH_OTHER_GLIBC)
#include <gnu/libc-version.h>
#elif defined(BENCH_OTHER_JEMALLOC)
// Debian's libjemalloc exports the unprefixed API.
extern "C" int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
#elif defined(BENCH_OTHER_TCMALLOC)
extern "C" const char *tc_version(int *major, int *minor, const char **patch);
#else
#error "define BENCH_OTHER_GLIBC, BENCH_OTHER_JEMALLOC or BENCH_OTHER_TCMALLOC"
#endif

namespace {

constexpr size_t kPageSize = 4096;

// Which malloc this process really calls: the version string comes from
// the library itself, so a link that silently fell back to glibc shows.
std::string allocator_name()
{
#if defined(BENCH_OTHER_GLIBC)
	return std::string("glibc ") + gnu_get_libc_version();
#elif defined(BENCH_OTHER_JEMALLOC)
	const char *version = nullptr;
	size_t len = sizeof(version);
	if (mallctl("version", &version, &len, nullptr, 0) != 0 || !version)
		return "jemalloc (version unknown)";
	return std::string("jemalloc ") + version;
#else
	int major = 0, minor = 0;
	const char *patch = nullptr;
	const char *v = tc_version(&major, &minor, &patch);
	return std::string("tcmalloc ") + (v ? v : "(version unknown)");
#endif
}

void alloc_free_loop(benchmark::State &state)
{
	const auto order = (unsigned)state.range(0);
	const size_t size = kPageSize << order;
	for (auto _ : state) {
		void *p = nullptr;
		if (posix_memalign(&p, size, size) != 0) {
			state.SkipWithError("posix_memalign failed");
			break;
		}
		benchmark::DoNotOptimize(p);
		free(p);
	}
	state.SetItemsProcessed(state.iterations());
}

void BM_AllocFree(benchmark::State &state)
{
	alloc_free_loop(state);
	state.counters["pages"] = double(1u << state.range(0));
}
BENCHMARK(BM_AllocFree)->ArgName("order")->DenseRange(0, 10);

void BM_AllocFree_MT(benchmark::State &state)
{
	alloc_free_loop(state);
}
BENCHMARK(BM_AllocFree_MT)->ArgName("order")->Arg(0)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

} // namespace

int main(int argc, char **argv)
{
	benchmark::AddCustomContext("allocator", allocator_name());
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
