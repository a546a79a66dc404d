// Google Benchmark suite of the pagetorture allocator (issue 6).
//
// Unless a benchmark says otherwise it runs on the built-in topology
// (buddy_topology_default: two nodes, four CPUs, 11 GiB) in metadata-only
// mode, bound to simulated CPU 0, with GFP_KERNEL: the allocator hands out
// page records, no memory sits behind them.  The machine is created once
// and shared; every benchmark gives back what it takes, so the next one
// finds the zones as fresh as the first did.
//
// Benchmarks that need a zone in a particular state (fallback, compaction,
// reclaim, contiguous allocation with migration) build their own small
// machine with buddy_topology_small() and say how they keep the state
// steady across iterations next to their code.  The names BM_AllocFree and
// BM_AllocFree_MT are shared with bench_other.cc, so the comparison with
// glibc, jemalloc and tcmalloc pairs results by name.
#include <benchmark/benchmark.h>

extern "C" {
#include "buddy/buddy.h"
}

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include <unistd.h>

namespace {

constexpr uint64_t kPagesPerMiB = (1u << 20) / PAGE_SIZE;
constexpr uint64_t kPagesPerGiB = kPagesPerMiB * 1024;

// Allocations that must not reclaim or warn: used to fill zones up to the
// low watermark without the slow path stepping in.
constexpr gfp_t kGfpFillMovable = (GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM) | __GFP_NOWARN;

[[noreturn]] void die(const char *what, const buddy_error &err)
{
	std::fprintf(stderr, "bench_alloc: %s: %s: %s\n", what, err.field, err.message);
	std::exit(2);
}

buddy_options default_options()
{
	buddy_options o;
	buddy_options_init(&o);
	return o;
}

buddy_system *create(const buddy_topology &t, const buddy_options &o)
{
	buddy_error err{};
	buddy_system *sys = buddy_system_create(&t, &o, &err);
	if (!sys)
		die("buddy_system_create", err);
	return sys;
}

struct SysDeleter {
	void operator()(buddy_system *sys) const { buddy_system_destroy(sys); }
};
using SysPtr = std::unique_ptr<buddy_system, SysDeleter>;

buddy_topology topo_small(uint64_t pages, int cpus)
{
	buddy_topology t;
	buddy_topology_small(&t, pages, cpus);
	return t;
}

// nodes alike: each pages_per_node of ZONE_NORMAL above 4 GiB, cpus_per_node
// CPUs each, every remote node at the same distance.
buddy_topology topo_nodes(int nodes, uint64_t pages_per_node, int cpus_per_node)
{
	buddy_topology t;
	std::memset(&t, 0, sizeof(t));
	t.nr_nodes = nodes;
	t.nr_cpus = nodes * cpus_per_node;
	for (int cpu = 0; cpu < t.nr_cpus; cpu++)
		t.cpu_to_node[cpu] = cpu / cpus_per_node;
	for (int i = 0; i < nodes; i++)
		for (int j = 0; j < nodes; j++)
			t.distance[i][j] = i == j ? BUDDY_LOCAL_DISTANCE : BUDDY_REMOTE_DISTANCE;
	const uint64_t base = 4 * kPagesPerGiB;
	for (int n = 0; n < nodes; n++) {
		t.zones[n][ZONE_NORMAL].start_pfn = base + (uint64_t)n * pages_per_node;
		t.zones[n][ZONE_NORMAL].end_pfn = base + (uint64_t)(n + 1) * pages_per_node;
	}
	return t;
}

// The one simulated machine most benchmarks share.
buddy_system *shared_machine()
{
	static SysPtr sys = [] {
		buddy_topology t;
		buddy_topology_default(&t);
		return SysPtr(create(t, default_options()));
	}();
	return sys.get();
}

// Fixed pcp high and batch for the life of a benchmark; the kernel's
// automatic values come back afterwards.  high = batch = 1 is what
// zone_pcp_disable() leaves: every allocation refills one block under the
// zone lock and every free drains it again.
class PcpOverride {
public:
	PcpOverride(buddy_system *sys, int high, int batch) : sys_(sys) { buddy_set_pcp_high_batch(sys, high, batch); }
	~PcpOverride()
	{
		buddy_set_pcp_high_batch(sys_, 0, 0);
		buddy_drain_all_pages(sys_);
	}
	PcpOverride(const PcpOverride &) = delete;
	PcpOverride &operator=(const PcpOverride &) = delete;

private:
	buddy_system *sys_;
};

// vmstat events over a stretch of a benchmark; accumulates across rebuilt
// machines with fold().
class Events {
public:
	explicit Events(buddy_system *sys) : sys_(sys), start_(NR_BUDDY_VM_EVENTS), sum_(NR_BUDDY_VM_EVENTS) { mark(); }
	void fold(buddy_system *next)
	{
		for (int e = 0; e < NR_BUDDY_VM_EVENTS; e++)
			sum_[e] += buddy_vm_event(sys_, (enum buddy_vm_event)e) - start_[e];
		sys_ = next;
		mark();
	}
	double delta(enum buddy_vm_event e) const { return double(sum_[e] + buddy_vm_event(sys_, e) - start_[e]); }

private:
	void mark()
	{
		for (int e = 0; e < NR_BUDDY_VM_EVENTS; e++)
			start_[e] = buddy_vm_event(sys_, (enum buddy_vm_event)e);
	}
	buddy_system *sys_;
	std::vector<uint64_t> start_, sum_;
};

bool pcp_order(unsigned order)
{
	return order <= PAGE_ALLOC_COSTLY_ORDER || order == PAGEBLOCK_ORDER_DEFAULT;
}

void per_op_counter(benchmark::State &state, const char *name, double total, double ops)
{
	state.counters[name] = ops > 0 ? total / ops : 0.0;
}

// ---- the fast paths ----

// Alloc+free of one block of 2^order pages on the shared machine: orders
// 0-3 and pageblock_order through the pcp, the others through the zone lock.
void BM_AllocFree(benchmark::State &state)
{
	const auto order = (unsigned)state.range(0);
	buddy_system *sys = shared_machine();
	buddy_bind_cpu(sys, 0);
	buddy_drain_all_pages(sys);
	for (auto _ : state) {
		struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, order);
		if (!p) {
			state.SkipWithError("allocation failed");
			break;
		}
		benchmark::DoNotOptimize(p);
		buddy_free_pages(sys, p, order);
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["pages"] = double(1u << order);
	state.counters["pcp"] = pcp_order(order) ? 1 : 0;
	buddy_drain_all_pages(sys);
}
BENCHMARK(BM_AllocFree)->ArgName("order")->DenseRange(0, 10);

// Every order through the zone lock: pcp high = batch = 1, as with the
// pcp disabled, so orders 0-3 and 9 take the zone lock on both alloc and free.
void BM_ZoneLock(benchmark::State &state)
{
	const auto order = (unsigned)state.range(0);
	buddy_system *sys = shared_machine();
	buddy_bind_cpu(sys, 0);
	PcpOverride pcp(sys, 1, 1);
	for (auto _ : state) {
		struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, order);
		if (!p) {
			state.SkipWithError("allocation failed");
			break;
		}
		benchmark::DoNotOptimize(p);
		buddy_free_pages(sys, p, order);
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["pages"] = double(1u << order);
}
BENCHMARK(BM_ZoneLock)->ArgName("order")->DenseRange(0, 10);

// The pcp refill and drain path: with high fixed at the zone's batch B, an
// iteration allocates B+1 order-0 pages (two rmqueue_bulk refills of B) and
// frees them (two free_pcppages_bulk drains of B).  Items are pages.
void BM_PcpRefillDrain(benchmark::State &state)
{
	buddy_system *sys = shared_machine();
	buddy_bind_cpu(sys, 0);
	buddy_drain_all_pages(sys);
	struct buddy_zone_info zi;
	buddy_zone_info(sys, 0, ZONE_NORMAL, &zi);
	const int batch = zi.pcp_batch > 0 ? zi.pcp_batch : 1;
	PcpOverride pcp(sys, batch, batch);
	std::vector<struct page *> pages((size_t)batch + 1);
	for (auto _ : state) {
		for (auto &p : pages) {
			p = buddy_alloc_pages(sys, GFP_KERNEL, 0);
			if (!p) {
				state.SkipWithError("allocation failed");
				return;
			}
		}
		for (auto *p : pages)
			buddy_free_pages(sys, p, 0);
	}
	state.SetItemsProcessed(state.iterations() * (int64_t)pages.size());
	state.counters["batch"] = batch;
	state.counters["pages_per_iter"] = double(pages.size());
}
BENCHMARK(BM_PcpRefillDrain);

// ---- fallback ----

// A 64 MiB zone where every allocation must fall back to another type.
// Small watermarks and no boosting keep the slow path out of the picture.
SysPtr fallback_machine()
{
	buddy_options o = default_options();
	o.min_free_kbytes = 128;
	o.watermark_boost_factor = 0;
	SysPtr sys(create(topo_small(64 * kPagesPerMiB, 2), o));
	buddy_bind_cpu(sys.get(), 0);
	buddy_set_pcp_high_batch(sys.get(), 1, 1);
	return sys;
}

// Claiming a whole pageblock: the zone's only free order-9 block (its buddy
// is allocated, so it never merges) is taken by an UNMOVABLE request, which
// claims the pageblock, freed, then taken by a MOVABLE request, which claims
// it back.  Every allocation is a fallback; order-8 free blocks elsewhere
// keep the zone above its watermarks but cannot serve order 9.
void BM_FallbackClaim(benchmark::State &state)
{
	SysPtr sys = fallback_machine();
	std::vector<struct page *> blocks;
	while (struct page *p = buddy_alloc_pages(sys.get(), kGfpFillMovable, 8))
		blocks.push_back(p);
	std::vector<struct page *> by_pb(64 * kPagesPerMiB / 256, nullptr);
	for (auto *p : blocks)
		by_pb[buddy_page_to_pfn(sys.get(), p) / 256] = p;
	// halves 2r, 2r+1 of pageblock r; its buddy pageblock is r ^ 1
	auto whole = [&](size_t r) { return by_pb[2 * r] && by_pb[2 * r + 1]; };
	size_t nr_pb = by_pb.size() / 2, ping = SIZE_MAX, extras = 0;
	for (size_t r = 0; r < nr_pb && ping == SIZE_MAX; r++)
		if (whole(r) && whole(r ^ 1))
			ping = r;
	if (ping == SIZE_MAX) {
		state.SkipWithError("no pageblock pair to set up");
		return;
	}
	buddy_free_pages(sys.get(), by_pb[2 * ping], 8);
	buddy_free_pages(sys.get(), by_pb[2 * ping + 1], 8);
	for (size_t r = 0; r < nr_pb && extras < 4; r++) {
		if (r == ping || r == (ping ^ 1) || !whole(r))
			continue;
		buddy_free_pages(sys.get(), by_pb[2 * r], 8);
		extras++;
	}
	Events ev(sys.get());
	for (auto _ : state) {
		struct page *p = buddy_alloc_pages(sys.get(), GFP_KERNEL, 9);
		if (!p) {
			state.SkipWithError("unmovable allocation failed");
			return;
		}
		buddy_free_pages(sys.get(), p, 9);
		p = buddy_alloc_pages(sys.get(), GFP_HIGHUSER_MOVABLE, 9);
		if (!p) {
			state.SkipWithError("movable allocation failed");
			return;
		}
		buddy_free_pages(sys.get(), p, 9);
	}
	const double allocs = 2.0 * double(state.iterations());
	state.SetItemsProcessed(2 * state.iterations());
	per_op_counter(state, "fallbacks_per_alloc", ev.delta(BUDDY_EXTFRAG), allocs);
}
BENCHMARK(BM_FallbackClaim);

// Stealing one page: the zone is full of movable order-0 pages with one
// free page in every 64; an UNMOVABLE order-0 request finds no page of its
// type, tries to claim the pageblock (too few free or compatible pages:
// try_to_claim_block scans it and refuses) and steals the page.  The free
// puts it back on the MOVABLE list, so the next iteration falls back again.
void BM_FallbackSteal(benchmark::State &state)
{
	SysPtr sys = fallback_machine();
	std::vector<struct page *> pages;
	while (struct page *p = buddy_alloc_pages(sys.get(), kGfpFillMovable, 0))
		pages.push_back(p);
	for (auto *p : pages)
		if (buddy_page_to_pfn(sys.get(), p) % 64 == 0)
			buddy_free_pages(sys.get(), p, 0);
	Events ev(sys.get());
	for (auto _ : state) {
		struct page *p = buddy_alloc_pages(sys.get(), GFP_KERNEL, 0);
		if (!p) {
			state.SkipWithError("allocation failed");
			return;
		}
		buddy_free_pages(sys.get(), p, 0);
	}
	state.SetItemsProcessed(state.iterations());
	per_op_counter(state, "fallbacks_per_alloc", ev.delta(BUDDY_EXTFRAG), double(state.iterations()));
}
BENCHMARK(BM_FallbackSteal);

// ---- bulk ----

// alloc_pages_bulk of n order-0 pages, then n frees.  Items are pages.
void BM_AllocBulk(benchmark::State &state)
{
	const auto n = (size_t)state.range(0);
	buddy_system *sys = shared_machine();
	buddy_bind_cpu(sys, 0);
	buddy_drain_all_pages(sys);
	std::vector<struct page *> pages(n);
	for (auto _ : state) {
		size_t got = buddy_alloc_pages_bulk(sys, GFP_KERNEL, -1, 0, n, pages.data());
		if (got != n) {
			state.SkipWithError("bulk allocation came up short");
			return;
		}
		for (size_t i = 0; i < n; i++)
			buddy_free_pages(sys, pages[i], 0);
	}
	state.SetItemsProcessed(state.iterations() * (int64_t)n);
	buddy_drain_all_pages(sys);
}
BENCHMARK(BM_AllocBulk)->ArgName("pages")->Arg(8)->Arg(64)->Arg(512);

// ---- owners: pages that can move or be reclaimed ----

// A table of the owner's pages by index, as an address_space would keep it.
// Every callback runs on the allocating thread here (no kthreads).
struct Owner {
	buddy_mapping mapping{};
	std::vector<struct page *> slots;
	std::vector<uint64_t> free_slots;

	static Owner *of(buddy_mapping *m) { return static_cast<Owner *>(m->private_data); }
	bool holds(struct page *p, uint64_t *idx)
	{
		*idx = buddy_page_index(p);
		return *idx < slots.size() && slots[*idx] == p;
	}
	static int migrate(buddy_mapping *m, struct page *old_page, struct page *new_page)
	{
		uint64_t idx;
		if (!of(m)->holds(old_page, &idx))
			return -EAGAIN;
		of(m)->slots[idx] = new_page;
		return 0;
	}
	static int reclaim(buddy_mapping *m, struct page *page)
	{
		uint64_t idx;
		if (!of(m)->holds(page, &idx))
			return -EBUSY;
		of(m)->slots[idx] = nullptr;
		of(m)->free_slots.push_back(idx);
		return 0;
	}
	static int release(buddy_mapping *m, struct page *page)
	{
		return reclaim(m, page);
	}
	uint64_t take_slot()
	{
		if (free_slots.empty()) {
			slots.push_back(nullptr);
			return slots.size() - 1;
		}
		uint64_t idx = free_slots.back();
		free_slots.pop_back();
		return idx;
	}
};

const buddy_mapping_ops kAnonOps = { Owner::migrate, nullptr, Owner::release };
const buddy_mapping_ops kFileOps = { Owner::migrate, Owner::reclaim, Owner::release };

// A zone of `pages` filled with the owner's order-0 movable pages up to the
// low watermark, then about half of them freed: every odd pfn except those
// at 1 mod 32, and every pfn at 0 mod 32.  No two free pages are buddies,
// so no free block is larger than one page, and every 32nd pfn is free,
// which async compaction's free scanner (it samples every 32nd pfn of a
// pageblock until it finds a free page, as the kernel's does) can see.
// Whatever free block of pageblock size the fill left is taken and kept, so
// an order-9 request finds none.
bool freed_in_fragmented_zone(uint64_t pfn)
{
	return pfn % 32 == 0 || ((pfn & 1) && pfn % 32 != 1);
}

struct FragZone {
	SysPtr sys;
	Owner owner;
};

std::unique_ptr<FragZone> build_fragmented(uint64_t pages, const buddy_mapping_ops *ops)
{
	auto z = std::make_unique<FragZone>();
	z->sys.reset(create(topo_small(pages, 2), default_options()));
	buddy_system *sys = z->sys.get();
	buddy_bind_cpu(sys, 0);
	z->owner.mapping.ops = ops;
	z->owner.mapping.private_data = &z->owner;
	for (;;) {
		uint64_t idx = z->owner.take_slot();
		struct page *p = buddy_alloc_pages_mapping(sys, kGfpFillMovable, 0, -1, 0, &z->owner.mapping, idx);
		if (!p) {
			z->owner.free_slots.push_back(idx);
			break;
		}
		z->owner.slots[idx] = p;
	}
	for (uint64_t idx = 0; idx < z->owner.slots.size(); idx++) {
		struct page *p = z->owner.slots[idx];
		if (p && freed_in_fragmented_zone(buddy_page_to_pfn(sys, p))) {
			z->owner.slots[idx] = nullptr;
			z->owner.free_slots.push_back(idx);
			buddy_free_pages(sys, p, 0);
		}
	}
	buddy_drain_all_pages(sys);
	while (buddy_alloc_pages(sys, kGfpFillMovable, PAGEBLOCK_ORDER_DEFAULT))
		;
	return z;
}

// ---- direct compaction ----

// An order-9 allocation (GFP_TRANSHUGE, a THP fault's mask) in a 128 MiB
// zone fragmented by build_fragmented(): no free block above order 0, so
// the fast path fails and direct compaction has to migrate the movable
// pages of a pageblock out of the way.  Amortized: iterations keep their
// blocks until 8 of them (1/8 of the zone) are taken or an allocation
// fails; then the zone is rebuilt with the timer paused.  A fixed 512
// iterations (64 rebuilds) keep the untimed rebuilding affordable.
void BM_DirectCompaction(benchmark::State &state)
{
	constexpr uint64_t kPages = 128 * kPagesPerMiB;
	constexpr size_t kBudget = 8;
	auto z = build_fragmented(kPages, &kAnonOps);
	Events ev(z->sys.get());
	size_t held = 0;
	uint64_t failures = 0, rebuilds = 0;
	bool exhausted = false;
	for (auto _ : state) {
		if (held == kBudget || exhausted) {
			state.PauseTiming();
			auto next = build_fragmented(kPages, &kAnonOps);
			ev.fold(next->sys.get());
			z = std::move(next);
			held = 0;
			exhausted = false;
			rebuilds++;
			state.ResumeTiming();
		}
		struct page *p = buddy_alloc_pages(z->sys.get(), GFP_TRANSHUGE, 9);
		if (p) {
			held++;
		} else {
			failures++;
			exhausted = true;
		}
	}
	const double n = double(state.iterations());
	state.SetItemsProcessed(state.iterations());
	state.counters["failed"] = double(failures);
	state.counters["rebuilds"] = double(rebuilds);
	per_op_counter(state, "migrated_per_alloc", ev.delta(PGMIGRATE_SUCCESS), n);
	per_op_counter(state, "compactstall_per_alloc", ev.delta(COMPACTSTALL), n);
	per_op_counter(state, "compactsuccess_per_alloc", ev.delta(COMPACTSUCCESS), n);
	if (failures * 10 > (uint64_t)state.iterations())
		state.SkipWithError("more than 10% of the order-9 allocations failed");
}
BENCHMARK(BM_DirectCompaction)->Iterations(512)->Unit(benchmark::kMicrosecond);

// ---- reclaim ----

// Reclaim under pressure: a 128 MiB zone full of file pages whose owner
// lets reclaim drop them; every iteration allocates one more file page.
// Steady state: each allocation that finds the zone below its low
// watermark runs reclaim (kswapd's balance_pgdat, inline as there are no
// kthreads, or direct reclaim when the mask lacks __GFP_KSWAPD_RECLAIM),
// which frees the oldest pages; the others take the fast path.
void BM_Reclaim(benchmark::State &state, bool kswapd)
{
	constexpr uint64_t kPages = 128 * kPagesPerMiB;
	SysPtr sys(create(topo_small(kPages, 2), default_options()));
	buddy_bind_cpu(sys.get(), 0);
	Owner owner;
	owner.mapping.ops = &kFileOps;
	owner.mapping.private_data = &owner;
	for (;;) {
		uint64_t idx = owner.take_slot();
		struct page *p = buddy_alloc_pages_mapping(sys.get(), kGfpFillMovable, 0, -1, 0, &owner.mapping, idx);
		if (!p) {
			owner.free_slots.push_back(idx);
			break;
		}
		owner.slots[idx] = p;
	}
	const gfp_t gfp = kswapd ? GFP_HIGHUSER_MOVABLE : (GFP_HIGHUSER_MOVABLE & ~__GFP_KSWAPD_RECLAIM);
	Events ev(sys.get());
	uint64_t failures = 0;
	for (auto _ : state) {
		uint64_t idx = owner.take_slot();
		struct page *p = buddy_alloc_pages_mapping(sys.get(), gfp, 0, -1, 0, &owner.mapping, idx);
		if (!p) {
			owner.free_slots.push_back(idx);
			failures++;
			continue;
		}
		owner.slots[idx] = p;
	}
	const double n = double(state.iterations());
	state.SetItemsProcessed(state.iterations());
	state.counters["failed"] = double(failures);
	per_op_counter(state, "steal_kswapd_per_alloc", ev.delta(PGSTEAL_KSWAPD), n);
	per_op_counter(state, "steal_direct_per_alloc", ev.delta(PGSTEAL_DIRECT), n);
	per_op_counter(state, "scanned_per_alloc", ev.delta(PGSCAN_KSWAPD) + ev.delta(PGSCAN_DIRECT), n);
	per_op_counter(state, "allocstall_per_alloc",
		       ev.delta(ALLOCSTALL_DMA) + ev.delta(ALLOCSTALL_DMA32) + ev.delta(ALLOCSTALL_NORMAL) +
			       ev.delta(ALLOCSTALL_MOVABLE),
		       n);
	if (failures * 100 > (uint64_t)state.iterations())
		state.SkipWithError("more than 1% of the allocations failed");
}
BENCHMARK_CAPTURE(BM_Reclaim, kswapd, true);
BENCHMARK_CAPTURE(BM_Reclaim, direct, false);

// ---- contiguous ranges ----

// alloc_contig_range of n free pages at the start of node 0's Normal zone
// on the shared machine (isolation, drain of every pcp, the take), then
// free_contig_range.
void BM_AllocContigRange(benchmark::State &state)
{
	const auto n = (uint64_t)state.range(0);
	buddy_system *sys = shared_machine();
	buddy_bind_cpu(sys, 0);
	struct buddy_zone_info zi;
	buddy_zone_info(sys, 0, ZONE_NORMAL, &zi);
	const uint64_t start = zi.start_pfn;
	for (auto _ : state) {
		int rc = buddy_alloc_contig_range(sys, start, start + n, MIGRATE_MOVABLE, GFP_KERNEL);
		if (rc) {
			state.SkipWithError("alloc_contig_range failed");
			return;
		}
		buddy_free_contig_range(sys, start, n);
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["pages"] = double(n);
}
BENCHMARK(BM_AllocContigRange)->ArgName("pages")->Arg(512)->Arg(1024)->Arg(16384)->Unit(benchmark::kMicrosecond);

// alloc_contig_range of one pageblock half full of movable pages
// (build_fragmented): about 256 migrations per call.  Amortized like
// BM_DirectCompaction: successive pageblocks from the top of the zone are
// kept until 24 are taken, then the zone is rebuilt with the timer paused;
// a fixed 480 iterations (20 rebuilds).
void BM_AllocContigRangeMigrate(benchmark::State &state)
{
	constexpr uint64_t kPages = 128 * kPagesPerMiB;
	constexpr uint64_t kBlock = 512;
	constexpr uint64_t kBudget = 24;
	auto z = build_fragmented(kPages, &kAnonOps);
	Events ev(z->sys.get());
	uint64_t taken = 0, failures = 0;
	for (auto _ : state) {
		if (taken == kBudget) {
			state.PauseTiming();
			auto next = build_fragmented(kPages, &kAnonOps);
			ev.fold(next->sys.get());
			z = std::move(next);
			taken = 0;
			state.ResumeTiming();
		}
		const uint64_t start = kPages - (taken + 1) * kBlock;
		taken++;
		if (buddy_alloc_contig_range(z->sys.get(), start, start + kBlock, MIGRATE_MOVABLE, GFP_KERNEL))
			failures++;
	}
	const double n = double(state.iterations());
	state.SetItemsProcessed(state.iterations());
	state.counters["failed"] = double(failures);
	per_op_counter(state, "migrated_per_call", ev.delta(PGMIGRATE_SUCCESS), n);
	if (failures * 10 > (uint64_t)state.iterations())
		state.SkipWithError("more than 10% of the calls failed");
}
BENCHMARK(BM_AllocContigRangeMigrate)->Iterations(480)->Unit(benchmark::kMicrosecond);

// ---- merging ----

// Free with merging: alloc+free of one order-0 page through the zone lock
// in a 64 MiB zone.  levels:10: the zone holds only max-order blocks, so the
// allocation splits one ten times and the free merges it back up to order
// 10.  levels:0: the page's buddy is kept allocated, so nothing splits or
// merges.  The difference is the cost of ten expand + merge steps.
void BM_FreeMerge(benchmark::State &state)
{
	const bool merge = state.range(0) != 0;
	SysPtr sys(create(topo_small(64 * kPagesPerMiB, 2), default_options()));
	buddy_bind_cpu(sys.get(), 0);
	buddy_set_pcp_high_batch(sys.get(), 1, 1);
	// The first UNMOVABLE allocation claims a pageblock; do it untimed.
	struct page *keep = buddy_alloc_pages(sys.get(), GFP_KERNEL, 0);
	if (merge) {
		buddy_free_pages(sys.get(), keep, 0);
		keep = nullptr;
	}
	for (auto _ : state) {
		struct page *p = buddy_alloc_pages(sys.get(), GFP_KERNEL, 0);
		if (!p) {
			state.SkipWithError("allocation failed");
			return;
		}
		buddy_free_pages(sys.get(), p, 0);
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["merge_levels"] = merge ? 10 : 0;
	if (keep)
		buddy_free_pages(sys.get(), keep, 0);
}
BENCHMARK(BM_FreeMerge)->ArgName("levels")->Arg(0)->Arg(10);

// ---- threads ----

// One 4 GiB zone with four CPUs, shared by the benchmark threads; thread i
// runs as simulated CPU i.
buddy_system *g_mt_sys = nullptr;

void mt_setup(const benchmark::State &)
{
	g_mt_sys = create(topo_small(4 * kPagesPerGiB, 4), default_options());
}

void mt_setup_shared_zone(const benchmark::State &state)
{
	mt_setup(state);
	buddy_set_pcp_high_batch(g_mt_sys, 1, 1);
}

void mt_teardown(const benchmark::State &)
{
	buddy_system_destroy(g_mt_sys);
	g_mt_sys = nullptr;
}

void mt_loop(benchmark::State &state)
{
	const auto order = (unsigned)state.range(0);
	buddy_bind_cpu(g_mt_sys, state.thread_index());
	for (auto _ : state) {
		struct page *p = buddy_alloc_pages(g_mt_sys, GFP_KERNEL, order);
		if (!p) {
			state.SkipWithError("allocation failed");
			break;
		}
		benchmark::DoNotOptimize(p);
		buddy_free_pages(g_mt_sys, p, order);
	}
	state.SetItemsProcessed(state.iterations());
}

// Each thread on its own simulated CPU: its own pcp, one zone behind them.
void BM_AllocFree_MT(benchmark::State &state)
{
	mt_loop(state);
}
BENCHMARK(BM_AllocFree_MT)
	->ArgName("order")
	->Arg(0)
	->Setup(mt_setup)
	->Teardown(mt_teardown)
	->Threads(1)
	->Threads(2)
	->Threads(4)
	->UseRealTime();

// The same with the pcp disabled: every operation of every thread takes
// the one zone lock.
void BM_SharedZone_MT(benchmark::State &state)
{
	mt_loop(state);
}
BENCHMARK(BM_SharedZone_MT)
	->ArgName("order")
	->Arg(0)
	->Setup(mt_setup_shared_zone)
	->Teardown(mt_teardown)
	->Threads(1)
	->Threads(2)
	->Threads(4)
	->UseRealTime();

// ---- scaling with memory and nodes ----

// One cached machine at a time: the runs of one size follow each other.
struct ScaledCache {
	std::pair<uint64_t, int> key{ 0, 0 };
	SysPtr sys;
};
ScaledCache &scaled_cache()
{
	static ScaledCache cache;
	return cache;
}

buddy_system *scaled_machine(uint64_t mib, int nodes)
{
	auto &key = scaled_cache().key;
	auto &sys = scaled_cache().sys;
	if (!sys || key != std::make_pair(mib, nodes)) {
		sys.reset();
		if (nodes == 1)
			sys.reset(create(topo_small(mib * kPagesPerMiB, 2), default_options()));
		else
			sys.reset(create(topo_nodes(nodes, mib * kPagesPerMiB / (uint64_t)nodes, 2), default_options()));
		key = { mib, nodes };
	}
	return sys.get();
}

void scaled_loop(benchmark::State &state, buddy_system *sys, unsigned order)
{
	buddy_bind_cpu(sys, 0);
	buddy_drain_all_pages(sys);
	for (auto _ : state) {
		struct page *p = buddy_alloc_pages(sys, GFP_KERNEL, order);
		if (!p) {
			state.SkipWithError("allocation failed");
			break;
		}
		benchmark::DoNotOptimize(p);
		buddy_free_pages(sys, p, order);
	}
	state.SetItemsProcessed(state.iterations());
	buddy_drain_all_pages(sys);
}

// Order-0 (pcp) and order-10 (zone lock) alloc+free on one node of 64 MiB
// to 64 GiB (metadata only; above 4 GiB the allocations come from Normal).
void BM_ScaleMemory(benchmark::State &state)
{
	const auto mib = (uint64_t)state.range(0);
	scaled_loop(state, scaled_machine(mib, 1), (unsigned)state.range(1));
	state.counters["GiB"] = double(mib) / 1024.0;
}
BENCHMARK(BM_ScaleMemory)
	->ArgNames({ "MiB", "order" })
	->ArgsProduct({ { 64, 256, 1024, 4096, 16384, 65536 }, { 0, 10 } });

// The same on 1, 2, 4 and 8 nodes of 1 GiB each (two CPUs per node),
// allocating on node 0 from CPU 0.
void BM_ScaleNodes(benchmark::State &state)
{
	const int nodes = (int)state.range(0);
	scaled_loop(state, scaled_machine(1024 * (uint64_t)nodes, nodes), (unsigned)state.range(1));
}
BENCHMARK(BM_ScaleNodes)->ArgNames({ "nodes", "order" })->ArgsProduct({ { 1, 2, 4, 8 }, { 0, 10 } });

// ---- creation and metadata ----

long resident_pages()
{
	long size = 0, resident = 0;
	FILE *f = std::fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (std::fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = 0;
	std::fclose(f);
	return resident;
}

// Time to create a one-node machine of 64 MiB .. 64 GiB (destroy untimed),
// with its metadata: buddy_system_info's metadata_bytes per present page,
// and the memory the creation actually made resident, per page.
void BM_Create(benchmark::State &state)
{
	const auto mib = (uint64_t)state.range(0);
	const buddy_topology t = topo_small(mib * kPagesPerMiB, 2);
	const buddy_options o = default_options();
	// A 64 GiB machine kept for the scaling runs would double the peak.
	scaled_cache().sys.reset();
	{
		long before = resident_pages();
		SysPtr sys(create(t, o));
		long after = resident_pages();
		struct buddy_system_info info;
		buddy_system_info(sys.get(), &info);
		const double pages = double(info.present_pages);
		state.counters["bytes_per_page"] = double(info.metadata_bytes) / pages;
		state.counters["rss_bytes_per_page"] = double(after - before) * double(sysconf(_SC_PAGESIZE)) / pages;
		state.counters["page_struct_size"] = double(info.page_struct_size);
	}
	for (auto _ : state) {
		buddy_system *sys = create(t, o);
		state.PauseTiming();
		buddy_system_destroy(sys);
		state.ResumeTiming();
	}
	const double gib = double(mib) / 1024.0;
	state.counters["GiB"] = gib;
	state.counters["s_per_GiB"] =
		benchmark::Counter(gib, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Create)
	->ArgName("MiB")
	->RangeMultiplier(4)
	->Range(64, 65536)
	->Unit(benchmark::kMillisecond)
	->UseRealTime();

} // namespace

BENCHMARK_MAIN();
