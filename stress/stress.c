/* ./pagetorture stress: the driver.  Sets up one allocator instance with
 * backing memory, runs the threads of a profile, checks after every step
 * and at a barrier every K steps, shows progress, and writes the summary
 * (and on a violation the failure report) under reports/stress-<date>/. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fault_inject.h"
#include "stress.h"

#if defined(__SANITIZE_ADDRESS__)
#define STRESS_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRESS_HAVE_ASAN 1
#endif
#endif
#ifdef STRESS_HAVE_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define CHECK_CAP 16

/* ---- barrier that can be called off ---- */
static void barrier_init(struct stress_barrier *b, int parties)
{
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->parties = parties;
	b->arrived = 0;
	b->generation = 0;
	b->aborted = false;
}

static void barrier_destroy(struct stress_barrier *b)
{
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
}

static void barrier_abort(struct stress_barrier *b)
{
	pthread_mutex_lock(&b->lock);
	b->aborted = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

/* The last thread to arrive runs fn while the others wait, then frees them
 * all.  1 for that thread, 0 for the others, -1 when the run was stopped. */
static int barrier_wait(struct stress_barrier *b, void (*fn)(struct stress_run *), struct stress_run *arg)
{
	pthread_mutex_lock(&b->lock);
	if (b->aborted) {
		pthread_mutex_unlock(&b->lock);
		return -1;
	}
	uint64_t gen = b->generation;
	if (++b->arrived == b->parties) {
		b->arrived = 0;
		pthread_mutex_unlock(&b->lock);
		fn(arg);
		pthread_mutex_lock(&b->lock);
		b->generation++;
		pthread_cond_broadcast(&b->cond);
		pthread_mutex_unlock(&b->lock);
		return 1;
	}
	while (gen == b->generation && !b->aborted)
		pthread_cond_wait(&b->cond, &b->lock);
	int ret = gen == b->generation ? -1 : 0;
	pthread_mutex_unlock(&b->lock);
	return ret;
}

void stress_request_stop(struct stress_run *run)
{
	atomic_store_explicit(&run->stop, true, memory_order_relaxed);
	barrier_abort(&run->barrier);
}

/* ---- checks ---- */
static void record_check_violation(struct stress_run *run, int thread, uint64_t step, const char *scope,
				   const struct buddy_check_result *res)
{
	pthread_mutex_lock(&run->fail_lock);
	if (!atomic_load_explicit(&run->failed, memory_order_relaxed)) {
		struct stress_violation *v = &run->viol;
		snprintf(v->name, sizeof(v->name), "%s", res->v[0].name ? res->v[0].name : "unknown");
		v->thread = thread;
		v->step = step;
		v->seq = atomic_load_explicit(&run->seq, memory_order_relaxed);
		v->count = res->count;
		size_t n = res->count < res->capacity ? res->count : res->capacity;
		if (n > STRESS_MAX_VIOL)
			n = STRESS_MAX_VIOL;
		for (size_t i = 0; i < n; i++) {
			char line[224];
			buddy_violation_format(&res->v[i], line, sizeof(line));
			snprintf(v->lines[i], sizeof(v->lines[i]), "[%s] %s", scope, line);
		}
		if (!n)
			snprintf(v->lines[0], sizeof(v->lines[0]), "[%s] %zu violations", scope, res->count);
		atomic_store_explicit(&run->failed, true, memory_order_release);
	}
	pthread_mutex_unlock(&run->fail_lock);
	stress_request_stop(run);
}

#define record_plain_violation stress_record_violation

static void step_check(struct stress_thread *t)
{
	struct stress_run *run = t->run;
	struct buddy_violation v[CHECK_CAP];
	struct buddy_check_result res = { .capacity = CHECK_CAP, .v = v };

	for (int nid = 0; nid < run->topo.nr_nodes; nid++) {
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			if (!(t->touch_all ? run->populated[nid][z] : nid == t->touch_nid && z == t->touch_zone))
				continue;
			/* What the step changed, every step; the whole zone (its
			 * lists against its counters) every walk_interval steps. */
			uint64_t w = run->opts.walk_interval;
			bool walk = w <= 1 || (t->step + 1) % w == 0;
			if (walk)
				t->checks_zone++;
			else
				t->checks_touched++;
			/* A step on one CPU checks that CPU's log (its pcp lock only,
			 * so the other CPUs go on); one that touched everything
			 * checks every CPU's log under all the zone's locks. */
			int cpu = t->touch_all ? -1 : t->touch_cpu >= 0 ? t->touch_cpu : t->cpu;
			if (buddy_check(run->sys, walk ? BUDDY_CHECK_ZONE : BUDDY_CHECK_TOUCHED, nid, (enum zone_type)z, cpu,
					&res)) {
				t->failed = true;
				record_check_violation(run, t->id, t->step,
						       walk ? "zone walk after the step" : "check of what the step changed",
						       &res);
				return;
			}
		}
	}
	/* Both zone scopes cover every CPU's pcp lists of the zone: a separate
	 * pcp check is only needed when the step touched no known zone (a
	 * failed allocation, a local drain, a CPU switch). */
	if (t->touch_pcp && t->touch_zone < 0 && !t->touch_all) {
		t->checks_pcp++;
		int cpu = t->touch_cpu >= 0 ? t->touch_cpu : t->cpu;
		if (buddy_check(run->sys, BUDDY_CHECK_PCP, 0, ZONE_DMA, cpu, &res)) {
			t->failed = true;
			record_check_violation(run, t->id, t->step, "pcp check after the step", &res);
		}
	}
}

static uint64_t sum_zone_field(struct stress_run *run, size_t offset)
{
	uint64_t n = 0;

	for (int nid = 0; nid < run->topo.nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct buddy_zone_info info;
			if (buddy_zone_info(run->sys, nid, (enum zone_type)z, &info) || !info.populated)
				continue;
			n += *(const uint64_t *)((const char *)&info + offset);
		}
	return n;
}

/* Everything, at a moment when every worker waits at the barrier: the
 * allocator's full check, and its count of allocated pages against what the
 * threads hold. */
static void full_check(struct stress_run *run)
{
	struct buddy_violation v[CHECK_CAP];
	struct buddy_check_result res = { .capacity = CHECK_CAP, .v = v };
	struct stress_thread *t0 = &run->threads[0];

	t0->checks_all++;
	if (buddy_check(run->sys, BUDDY_CHECK_ALL, 0, ZONE_DMA, 0, &res)) {
		record_check_violation(run, -1, t0->step, "full check at the barrier", &res);
		return;
	}
	uint64_t allocated = sum_zone_field(run, offsetof(struct buddy_zone_info, allocated_pages));
	uint64_t held = stress_total_held(run) + atomic_load_explicit(&run->extra_held, memory_order_relaxed);
	if (allocated != held) {
		record_plain_violation(run, -1, t0->step, "held-mismatch",
				       "the allocator counts %" PRIu64 " allocated pages, the threads hold %" PRIu64,
				       allocated, held);
		return;
	}
	uint64_t bad = buddy_vm_event(run->sys, BUDDY_BAD_PAGE);
	if (bad != run->bad_pages_seen) {
		record_plain_violation(run, -1, t0->step, "bad-page",
				       "the allocator reported %" PRIu64 " bad page(s) (see the allocator log below)",
				       bad - run->bad_pages_seen);
		return;
	}
	run->faults_survived = buddy_faults_injected(run->sys);
}

/* ---- workers ---- */
static void *worker_main(void *arg)
{
	struct stress_thread *t = arg;
	struct stress_run *run = t->run;
	uint64_t K = run->opts.check_interval;

	buddy_bind_cpu(run->sys, t->cpu);
	for (uint64_t step = 0;; step++) {
		if (atomic_load_explicit(&run->stop, memory_order_relaxed))
			break;
		if (run->opts.steps && step >= run->opts.steps)
			break;
		t->step = step;
		t->touch_nid = -1;
		t->touch_zone = -1;
		t->touch_cpu = -1;
		t->touch_all = false;
		t->touch_pcp = false;
		uint64_t t0 = now_ns();
		run->profile->step(t);
		uint64_t t1 = now_ns();
		t->ns_step += t1 - t0;
		if (t->id == 0 && run->opts.selftest_step && step + 1 == run->opts.selftest_step)
			stress_selftest_corrupt(t);
		if (t->failed)
			break;
		if (run->opts.step_check) {
			step_check(t);
			t->ns_check += now_ns() - t1;
			if (t->failed)
				break;
		}
		atomic_store_explicit(&t->pub_steps, step + 1, memory_order_relaxed);
		if (K && (step + 1) % K == 0 && barrier_wait(&run->barrier, full_check, run) < 0)
			break;
	}
	return NULL;
}

/* ---- topology ---- */
static uint64_t round_down(uint64_t x, uint64_t a)
{
	return x / a * a;
}

/* Two nodes: node 0 with DMA and DMA32, node 1 with Normal (a CMA area at
 * its top) and Movable; CPUs split between them.  Small enough that the
 * threads' holdings reach the watermarks. */
static void topology_two_node(struct buddy_topology *topo, uint64_t pages, int cpus)
{
	uint64_t n = round_down(pages / 2, 4096);

	if (n < 4096)
		n = 4096;
	memset(topo, 0, sizeof(*topo));
	topo->nr_nodes = 2;
	topo->nr_cpus = cpus;
	for (int c = 0; c < cpus; c++)
		topo->cpu_to_node[c] = cpus > 1 ? c * 2 / cpus : 0;
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			topo->distance[i][j] = i == j ? BUDDY_LOCAL_DISTANCE : BUDDY_REMOTE_DISTANCE;
	uint64_t dma = n / 4 < 4096 ? n / 4 : 4096;
	topo->zones[0][ZONE_DMA] = (struct buddy_pfn_range){ 0, dma };
	topo->zones[0][ZONE_DMA32] = (struct buddy_pfn_range){ dma, n };
	uint64_t movable = n + round_down(n * 3 / 4, 1024);
	topo->zones[1][ZONE_NORMAL] = (struct buddy_pfn_range){ n, movable };
	topo->zones[1][ZONE_MOVABLE] = (struct buddy_pfn_range){ movable, 2 * n };
	uint64_t cma = round_down(n / 8, 1024);
	if (cma) {
		topo->nr_cma = 1;
		topo->cma[0] = (struct buddy_pfn_range){ movable - cma, movable };
	}
}

static int setup_topology(struct stress_run *run)
{
	struct stress_opts *o = &run->opts;
	struct buddy_error err = { 0 };

	buddy_options_init(&run->bopts);
	if (!strcmp(o->topology, "two-node")) {
		topology_two_node(&run->topo, o->pages, o->cpus);
	} else if (!strcmp(o->topology, "small")) {
		buddy_topology_small(&run->topo, o->pages, o->cpus);
	} else {
		if (buddy_topology_load(o->topology, &run->topo, &run->bopts, &err)) {
			fprintf(stderr, "stress: %s: %s: %s\n", o->topology, err.field, err.message);
			return -1;
		}
		if (o->cpus > run->topo.nr_cpus) {
			fprintf(stderr, "stress: %s has %d CPUs, --cpus asks for %d\n", o->topology, run->topo.nr_cpus,
				o->cpus);
			return -1;
		}
	}
	/* Backing memory always (the patterns live there); a topology file's
	 * poison option stands unless --no-poison overrides it. */
	run->bopts.backing = BUDDY_BACKING_MMAP;
	if (!o->topology_given || !strcmp(o->topology, "two-node") || !strcmp(o->topology, "small") || !o->poison)
		run->bopts.poison = o->poison;
	return 0;
}

/* ---- options ---- */
static void usage(FILE *out)
{
	fprintf(out,
		"usage: pagetorture stress --profile NAME [options]\n"
		"  --profile NAME        workload (below)\n"
		"  --threads N           worker threads (default 4)\n"
		"  --cpus M              simulated CPUs (default: the thread count, at least 2)\n"
		"  --time T              run for T: 500ms, 10s, 5m, 1h (soak)\n"
		"  --steps N             or run N steps per thread (default 20000 when no --time)\n"
		"  --seed S              seed (default 1); seed + profile + --threads 1 replay exactly\n"
		"  --check-interval K    full check at a barrier every K steps (default 2000; 0 off)\n"
		"  --no-step-check       skip the zone and pcp check after every step\n"
		"  --walk-interval W     the per-step check walks the touched zone's lists every W\n"
		"                        steps and checks only what changed in between (default 1024;\n"
		"                        1: walk after every step)\n"
		"  --fault SPEC          fault injection: prob=P,interval=N,times=T,min_order=O,\n"
		"                        ignore_gfp_wait=0|1,ignore_gfp_highmem=0|1,compact=P,eagain=P,reclaim=P\n"
		"  --topology T          two-node (default), small, or a topology file\n"
		"  --pages N             memory of the built-in topologies in pages (default 32768)\n"
		"  --integrity MODE      full (default), sample (ends of every page), off\n"
		"  --no-poison           no page poisoning on free\n"
		"  --report-dir DIR      where stress-<date>/ goes (default reports)\n"
		"  --status-interval S   seconds between plain status lines (default 5)\n"
		"  --plain / --live      force plain lines / the live status line\n"
		"  --quiet               only the summary\n"
		"  --soak                an hour of the mix profile (or --profile's) at the default sizes\n"
		"  --require-faults      fail (exit 3) when --fault injected nothing\n"
		"  --selftest-corrupt N  after step N thread 0 flips a byte of a block it holds: the run\n"
		"                        must end in a data-corrupt violation (tests the detection)\n"
		"  --list-profiles       the profiles, one a line\n"
		"profiles:\n");
	stress_profiles_list(out);
}

static int parse_duration(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	if (!*end || !strcmp(end, "s"))
		*out = v;
	else if (!strcmp(end, "ms"))
		*out = v / 1000;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		*out = v * 60;
	else if (!strcmp(end, "h"))
		*out = v * 3600;
	else
		return -1;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (end == s || *end || errno || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_fault(const char *spec, struct buddy_fault_attr *a, uint64_t seed)
{
	char buf[256];
	char *save = NULL;

	memset(a, 0, sizeof(*a));
	a->interval = 1;
	a->times = -1;
	a->seed = seed ^ 0xfa17fa17fa17fa17ULL;
	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			return -1;
		*eq = '\0';
		const char *k = kv, *v = eq + 1;
		char *end;
		long long n = strtoll(v, &end, 0);
		if (end == v || *end)
			return -1;
		if (!strcmp(k, "prob") || !strcmp(k, "probability"))
			a->probability = (unsigned int)n;
		else if (!strcmp(k, "interval"))
			a->interval = (unsigned long)n;
		else if (!strcmp(k, "times"))
			a->times = n;
		else if (!strcmp(k, "min_order"))
			a->min_order = (unsigned int)n;
		else if (!strcmp(k, "ignore_gfp_wait") || !strcmp(k, "ignore_gfp_reclaim"))
			a->ignore_gfp_reclaim = n != 0;
		else if (!strcmp(k, "ignore_gfp_highmem"))
			a->ignore_gfp_highmem = n != 0;
		else if (!strcmp(k, "compact"))
			a->compaction_target_fail = (unsigned int)n;
		else if (!strcmp(k, "eagain"))
			a->migrate_eagain = (unsigned int)n;
		else if (!strcmp(k, "reclaim"))
			a->reclaim_fail = (unsigned int)n;
		else if (!strcmp(k, "seed"))
			a->seed = (uint64_t)n;
		else
			return -1;
		if (n < -1 || ((!strcmp(k, "prob") || !strcmp(k, "probability") || !strcmp(k, "compact") ||
				!strcmp(k, "eagain") || !strcmp(k, "reclaim")) && (n < 0 || n > 100)))
			return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct stress_opts *o)
{
	enum { O_CHECK = 256, O_WALK, O_NOSTEP, O_FAULT, O_TOPO, O_PAGES, O_INTEG, O_NOPOISON, O_REPORT, O_STATUS,
	       O_PLAIN, O_LIVE, O_LIST, O_REQFAULT, O_SOAK, O_SELFTEST };
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 'j' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "time", required_argument, NULL, 't' },
		{ "steps", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "check-interval", required_argument, NULL, O_CHECK },
		{ "no-step-check", no_argument, NULL, O_NOSTEP },
		{ "walk-interval", required_argument, NULL, O_WALK },
		{ "fault", required_argument, NULL, O_FAULT },
		{ "topology", required_argument, NULL, O_TOPO },
		{ "pages", required_argument, NULL, O_PAGES },
		{ "integrity", required_argument, NULL, O_INTEG },
		{ "no-poison", no_argument, NULL, O_NOPOISON },
		{ "report-dir", required_argument, NULL, O_REPORT },
		{ "status-interval", required_argument, NULL, O_STATUS },
		{ "plain", no_argument, NULL, O_PLAIN },
		{ "live", no_argument, NULL, O_LIVE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "list-profiles", no_argument, NULL, O_LIST },
		{ "require-faults", no_argument, NULL, O_REQFAULT },
		{ "soak", no_argument, NULL, O_SOAK },
		{ "selftest-corrupt", required_argument, NULL, O_SELFTEST },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *fault_spec = NULL;
	uint64_t u;
	int c;

	memset(o, 0, sizeof(*o));
	o->threads = 4;
	o->cpus = 0;
	o->seed = 1;
	o->check_interval = 2000;
	o->walk_interval = 1024;
	o->step_check = true;
	o->topology = "two-node";
	o->pages = 32768;
	o->report_dir = "reports";
	o->integrity = INTEGRITY_FULL;
	o->poison = true;
	o->tty = -1;
	while ((c = getopt_long(argc, argv, "p:j:c:t:n:s:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->profile = optarg;
			break;
		case 'j':
			if (parse_u64(optarg, &u) || u < 1 || u > STRESS_MAX_THREADS) {
				fprintf(stderr, "stress: --threads takes 1..%d\n", STRESS_MAX_THREADS);
				return -1;
			}
			o->threads = (int)u;
			break;
		case 'c':
			if (parse_u64(optarg, &u) || u < 1 || u > BUDDY_MAX_CPUS) {
				fprintf(stderr, "stress: --cpus takes 1..%d\n", BUDDY_MAX_CPUS);
				return -1;
			}
			o->cpus = (int)u;
			break;
		case 't':
			if (parse_duration(optarg, &o->time_s) || o->time_s <= 0) {
				fprintf(stderr, "stress: --time takes a duration like 500ms, 10s, 5m, 1h\n");
				return -1;
			}
			break;
		case 'n':
			if (parse_u64(optarg, &o->steps) || !o->steps) {
				fprintf(stderr, "stress: --steps takes a positive count\n");
				return -1;
			}
			break;
		case 's':
			if (parse_u64(optarg, &o->seed)) {
				fprintf(stderr, "stress: --seed takes an unsigned number\n");
				return -1;
			}
			break;
		case O_CHECK:
			if (parse_u64(optarg, &o->check_interval)) {
				fprintf(stderr, "stress: --check-interval takes a count\n");
				return -1;
			}
			break;
		case O_NOSTEP:
			o->step_check = false;
			break;
		case O_WALK:
			if (parse_u64(optarg, &o->walk_interval)) {
				fprintf(stderr, "stress: --walk-interval takes a count\n");
				return -1;
			}
			break;
		case O_FAULT:
			fault_spec = optarg;
			break;
		case O_TOPO:
			o->topology = optarg;
			o->topology_given = true;
			break;
		case O_PAGES:
			if (parse_u64(optarg, &o->pages) || o->pages < 4096 || o->pages > (1ULL << 24)) {
				fprintf(stderr, "stress: --pages takes 4096..16777216\n");
				return -1;
			}
			break;
		case O_INTEG:
			if (!strcmp(optarg, "full"))
				o->integrity = INTEGRITY_FULL;
			else if (!strcmp(optarg, "sample"))
				o->integrity = INTEGRITY_SAMPLE;
			else if (!strcmp(optarg, "off"))
				o->integrity = INTEGRITY_OFF;
			else {
				fprintf(stderr, "stress: --integrity takes full, sample or off\n");
				return -1;
			}
			break;
		case O_NOPOISON:
			o->poison = false;
			break;
		case O_REPORT:
			o->report_dir = optarg;
			break;
		case O_STATUS: {
			double s;
			if (parse_duration(optarg, &s) || s <= 0) {
				fprintf(stderr, "stress: --status-interval takes a duration\n");
				return -1;
			}
			o->status_ms = (int)(s * 1000);
			break;
		}
		case O_PLAIN:
			o->tty = 0;
			break;
		case O_LIVE:
			o->tty = 1;
			break;
		case 'q':
			o->quiet = true;
			break;
		case O_REQFAULT:
			o->require_faults = true;
			break;
		case O_SOAK:
			o->soak = true;
			break;
		case O_SELFTEST:
			if (parse_u64(optarg, &o->selftest_step) || !o->selftest_step) {
				fprintf(stderr, "stress: --selftest-corrupt takes a step number\n");
				return -1;
			}
			break;
		case O_LIST: {
			const struct stress_profile *list;
			size_t n = stress_profiles(&list);
			for (size_t i = 0; i < n; i++)
				printf("%s\n", list[i].name);
			exit(0);
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "stress: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->soak) {
		/* an hour of everything unless told otherwise */
		if (!o->profile)
			o->profile = "mix";
		if (o->time_s <= 0 && !o->steps)
			o->time_s = 3600;
	}
	if (!o->profile) {
		fprintf(stderr, "stress: --profile is required\n");
		usage(stderr);
		return -1;
	}
	if (o->time_s > 0 && o->steps) {
		fprintf(stderr, "stress: give --time or --steps, not both\n");
		return -1;
	}
	if (o->time_s <= 0 && !o->steps)
		o->steps = 20000;
	if (!o->cpus)
		o->cpus = o->threads < 2 ? 2 : o->threads;
	if (fault_spec) {
		if (parse_fault(fault_spec, &o->fault_attr, o->seed)) {
			fprintf(stderr, "stress: bad --fault '%s'\n", fault_spec);
			return -1;
		}
		o->fault = true;
		snprintf(o->fault_spec, sizeof(o->fault_spec), "%s", fault_spec);
	}
	if (!o->status_ms)
		o->status_ms = 5000;
	return 0;
}

/* The command that reruns this run with the same seeds. */
static void rerun_command(const struct stress_run *run, uint64_t steps, char *buf, size_t len)
{
	const struct stress_opts *o = &run->opts;
	size_t used = 0;

#define ADD(...)                                                                         \
	do {                                                                             \
		if (used < len) {                                                        \
			int _n = snprintf(buf + used, len - used, __VA_ARGS__);          \
			used = _n < 0 ? len : used + (size_t)_n;                         \
		}                                                                        \
	} while (0)
	ADD("./pagetorture stress --profile %s --threads %d --cpus %d --seed %" PRIu64 " --steps %" PRIu64, o->profile,
	    o->threads, o->cpus, o->seed, steps);
	if (o->check_interval != 2000)
		ADD(" --check-interval %" PRIu64, o->check_interval);
	if (o->walk_interval != 1024)
		ADD(" --walk-interval %" PRIu64, o->walk_interval);
	if (!o->step_check)
		ADD(" --no-step-check");
	if (o->fault)
		ADD(" --fault '%s'", o->fault_spec);
	if (o->topology_given)
		ADD(" --topology '%s'", o->topology);
	if (o->pages != 32768)
		ADD(" --pages %" PRIu64, o->pages);
	if (o->integrity != INTEGRITY_FULL)
		ADD(" --integrity %s", o->integrity == INTEGRITY_SAMPLE ? "sample" : "off");
	if (!o->poison)
		ADD(" --no-poison");
#undef ADD
}

/* ---- status ---- */
struct counters {
	uint64_t steps;
	uint64_t free_node[BUDDY_MAX_NODES];
	int frag9_milli; /* worst fragmentation index of a zone for the pageblock order, x1000; -1000: free blocks exist */
	uint64_t compact, oom, faults;
};

/* fragmentation_index() of mm/vmstat.c for one zone. */
static int frag_index(const struct buddy_zone_info *info, unsigned int order, unsigned int max_order)
{
	uint64_t total = 0, suitable = 0, free_pages = 0;

	for (unsigned int o = 0; o <= max_order; o++) {
		uint64_t blocks = 0;
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			blocks += info->nr_free_blocks[o][mt];
		total += blocks;
		free_pages += blocks << o;
		if (o >= order)
			suitable += blocks << (o - order);
	}
	if (!total)
		return 0;
	if (suitable)
		return -1000;
	return (int)(1000 - (1000 + free_pages * 1000 / (1ULL << order)) / total);
}

static void gather(struct stress_run *run, struct counters *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < run->nthreads; i++)
		c->steps += atomic_load_explicit(&run->threads[i].pub_steps, memory_order_relaxed);
	c->frag9_milli = -1000;
	for (int nid = 0; nid < run->topo.nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct buddy_zone_info info;
			if (buddy_zone_info(run->sys, nid, (enum zone_type)z, &info) || !info.populated)
				continue;
			c->free_node[nid] += info.free_pages;
			int fi = frag_index(&info, run->pageblock_order, run->max_order);
			if (fi > c->frag9_milli)
				c->frag9_milli = fi;
		}
	c->compact = buddy_vm_event(run->sys, COMPACTSTALL) + buddy_vm_event(run->sys, KCOMPACTD_WAKE);
	c->oom = buddy_vm_event(run->sys, OOM_KILL);
	c->faults = buddy_faults_injected(run->sys);
}

static void format_status(struct stress_run *run, const struct counters *c, double elapsed, double rate, char *buf,
			  size_t len)
{
	size_t used = 0;
	int n;

	if (run->opts.time_s > 0) {
		double left = run->opts.time_s - elapsed;
		n = snprintf(buf, len, "%6.1fs, %.0fs left", elapsed, left > 0 ? left : 0);
	} else {
		double done = (double)c->steps / (double)(run->opts.steps * (uint64_t)run->nthreads);
		double left = done > 0 ? elapsed / done - elapsed : 0;
		n = snprintf(buf, len, "%6.1fs, %3.0f%% of the steps, ~%.0fs left", elapsed, 100.0 * done, left);
	}
	used = (size_t)n;
	n = snprintf(buf + used, len - used, " | %8.0f ops/s | free", rate);
	used += (size_t)n;
	for (int nid = 0; nid < run->topo.nr_nodes && nid < 4 && used < len; nid++) {
		n = snprintf(buf + used, len - used, " n%d %" PRIu64, nid, c->free_node[nid]);
		used += (size_t)n;
	}
	if (used < len)
		snprintf(buf + used, len - used,
			 " | frag%u %.3f | compact %" PRIu64 " | oom %" PRIu64 " | faults %" PRIu64 " | violations %d",
			 run->pageblock_order, c->frag9_milli / 1000.0, c->compact, c->oom, c->faults,
			 atomic_load_explicit(&run->failed, memory_order_relaxed) ? 1 : 0);
}

/* ---- reports ---- */
static FILE *open_report(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fopen(path, "w");
}

static int make_report_dir(struct stress_run *run, char *out, size_t len)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	mkdir(run->opts.report_dir, 0777);
	for (int i = 0; i < 1000; i++) {
		if (i)
			snprintf(out, len, "%s/stress-%s-%s.%d", run->opts.report_dir, stamp, run->opts.profile, i);
		else
			snprintf(out, len, "%s/stress-%s-%s", run->opts.report_dir, stamp, run->opts.profile);
		if (mkdir(out, 0777) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	fprintf(stderr, "stress: cannot create a report directory under %s: %s\n", run->opts.report_dir,
		strerror(errno));
	out[0] = '\0';
	return -1;
}

static int cmp_op_seq(const void *a, const void *b)
{
	const struct op_rec *x = *(const struct op_rec *const *)a, *y = *(const struct op_rec *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void print_rings(struct stress_run *run, FILE *out)
{
	char line[BUDDY_GFP_STR_MAX + 128];

	if (atomic_load_explicit(&run->failed, memory_order_relaxed))
		fprintf(out, "last operations of every thread (oldest first; global op number, step; '!' after the violation):\n");
	else
		fprintf(out, "last operations of every thread (oldest first; global op number, step):\n");
	for (int i = 0; i < run->nthreads; i++) {
		struct stress_thread *t = &run->threads[i];
		uint64_t n = t->ring_head < STRESS_RING ? t->ring_head : STRESS_RING;
		fprintf(out, "thread %d (cpu %d, %" PRIu64 " steps):\n", i, t->home_cpu,
			atomic_load_explicit(&t->pub_steps, memory_order_relaxed));
		for (uint64_t k = t->ring_head - n; k < t->ring_head; k++) {
			const struct op_rec *r = &t->ring[k % STRESS_RING];
			op_format(r, line, sizeof(line));
			char mark = atomic_load_explicit(&run->failed, memory_order_relaxed) && r->seq > run->viol.seq ? '!' : ' ';
			if (r->teardown)
				fprintf(out, "  %c#%-9" PRIu64 " teardown      %s\n", mark, r->seq, line);
			else
				fprintf(out, "  %c#%-9" PRIu64 " step %-8" PRIu64 " %s\n", mark, r->seq, r->step, line);
		}
	}
}

/* All rings merged by the global op number: one interleaving that explains
 * the failure, in the one-line op form. */
static void write_interleaving(struct stress_run *run, FILE *out)
{
	const struct op_rec **all = calloc((size_t)run->nthreads * STRESS_RING, sizeof(*all));
	size_t n = 0;
	char line[BUDDY_GFP_STR_MAX + 128];

	if (!all)
		return;
	for (int i = 0; i < run->nthreads; i++) {
		struct stress_thread *t = &run->threads[i];
		uint64_t c = t->ring_head < STRESS_RING ? t->ring_head : STRESS_RING;
		for (uint64_t k = t->ring_head - c; k < t->ring_head; k++)
			all[n++] = &t->ring[k % STRESS_RING];
	}
	qsort(all, n, sizeof(*all), cmp_op_seq);
	fprintf(out, "# the last %d operations of every thread, merged in global order (thread: op)\n", STRESS_RING);
	for (size_t i = 0; i < n; i++) {
		int th = -1;
		for (int k = 0; k < run->nthreads; k++)
			if (all[i] >= run->threads[k].ring && all[i] < run->threads[k].ring + STRESS_RING)
				th = k;
		op_format(all[i], line, sizeof(line));
		fprintf(out, "t%d: %s\n", th, line);
	}
	free(all);
}

static void print_failure(struct stress_run *run, FILE *out)
{
	struct stress_violation *v = &run->viol;
	char cmd[1024];
	uint64_t max_steps = 0;

	/* Enough steps to get there again: a step that failed never counted
	 * itself done. */
	for (int i = 0; i < run->nthreads; i++) {
		uint64_t s = atomic_load_explicit(&run->threads[i].pub_steps, memory_order_relaxed);
		if (s > max_steps)
			max_steps = s;
	}
	if (v->step != STRESS_TEARDOWN && v->step + 1 > max_steps)
		max_steps = v->step + 1;
	fprintf(out, "VIOLATION: %s\n", v->name);
	if (v->step == STRESS_TEARDOWN)
		fprintf(out, "  after the run, while %s blocks were freed and checked (global op #%" PRIu64 "), profile %s, seed %" PRIu64 "\n",
			v->thread >= 0 ? "a thread's" : "all", v->seq, run->opts.profile, run->opts.seed);
	else if (v->thread >= 0)
		fprintf(out, "  thread %d, step %" PRIu64 " (global op #%" PRIu64 "), profile %s, seed %" PRIu64 "\n",
			v->thread, v->step, v->seq, run->opts.profile, run->opts.seed);
	else
		fprintf(out, "  found at a barrier / by a callback (global op #%" PRIu64 "), profile %s, seed %" PRIu64 "\n",
			v->seq, run->opts.profile, run->opts.seed);
	size_t n = v->count < STRESS_MAX_VIOL ? v->count : STRESS_MAX_VIOL;
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %s\n", v->lines[i]);
	if (v->count > n)
		fprintf(out, "  ... %zu violations in all\n", v->count);
	rerun_command(run, max_steps, cmd, sizeof(cmd));
	fprintf(out, "rerun: %s\n", cmd);
	if (run->nthreads > 1)
		fprintf(out, "  (threads interleave differently on every run: with --threads 1 a seed replays exactly)\n");
	fprintf(out, "\n");
	print_rings(run, out);
	fprintf(out, "\n$ cat /proc/buddyinfo\n");
	buddy_proc_buddyinfo(run->sys, out);
	fprintf(out, "\n$ cat /proc/pagetypeinfo\n");
	buddy_proc_pagetypeinfo(run->sys, out);
	char *log = malloc(64 * 1024);
	if (log) {
		size_t len = buddy_log_read(run->sys, log, 64 * 1024);
		len = strnlen(log, len < 64 * 1024 ? len : 64 * 1024 - 1);
		if (len) {
			fprintf(out, "\nallocator log (most recent last):\n");
			fwrite(log, 1, len, out);
			if (log[len - 1] != '\n')
				fputc('\n', out);
		}
		free(log);
	}
}

#ifdef STRESS_HAVE_ASAN
/* An ASan or UBSan report ends the process from inside the faulting
 * thread; the history of every thread is printed after it, the other
 * threads still running (the rings are read racily: good enough for a
 * post-mortem). */
static struct stress_run *death_run;

static void on_sanitizer_death(void)
{
	char cmd[1024];

	if (!death_run)
		return;
	fprintf(stderr, "\nstress: a sanitizer report ended the run (profile %s, seed %" PRIu64 ")\n",
		death_run->opts.profile, death_run->opts.seed);
	rerun_command(death_run, death_run->opts.steps ? death_run->opts.steps : 1000000, cmd, sizeof(cmd));
	fprintf(stderr, "rerun: %s\n", cmd);
	print_rings(death_run, stderr);
}
#endif

struct totals {
	uint64_t steps, allocs, alloc_fail, frees, handoffs, recv_frees, remote_frees;
	uint64_t bytes_written, bytes_verified, checks_zone, checks_touched, checks_pcp, checks_all;
	uint64_t ns_step, ns_check, migrations, reclaims, releases;
	double elapsed;
};

static void sum_totals(struct stress_run *run, struct totals *s, double elapsed)
{
	memset(s, 0, sizeof(*s));
	s->elapsed = elapsed;
	for (int i = 0; i < run->nthreads; i++) {
		struct stress_thread *t = &run->threads[i];
		s->steps += atomic_load_explicit(&t->pub_steps, memory_order_relaxed);
		s->allocs += t->allocs;
		s->alloc_fail += t->alloc_fail;
		s->frees += t->frees;
		s->handoffs += t->handoffs;
		s->recv_frees += t->recv_frees;
		s->remote_frees += t->remote_frees;
		s->bytes_written += t->bytes_written;
		s->bytes_verified += t->bytes_verified + atomic_load_explicit(&t->cb_bytes_verified, memory_order_relaxed);
		s->checks_zone += t->checks_zone;
		s->checks_touched += t->checks_touched;
		s->checks_pcp += t->checks_pcp;
		s->checks_all += t->checks_all;
		s->ns_step += t->ns_step;
		s->ns_check += t->ns_check;
		s->migrations += atomic_load_explicit(&t->cb_migrations, memory_order_relaxed);
		s->reclaims += atomic_load_explicit(&t->cb_reclaims, memory_order_relaxed);
		s->releases += atomic_load_explicit(&t->cb_releases, memory_order_relaxed);
	}
}

static const char *human_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= (1ULL << 30))
		snprintf(buf, len, "%.2f GiB", (double)b / (double)(1ULL << 30));
	else if (b >= (1ULL << 20))
		snprintf(buf, len, "%.1f MiB", (double)b / (double)(1ULL << 20));
	else
		snprintf(buf, len, "%" PRIu64 " bytes", b);
	return buf;
}

static void print_summary(struct stress_run *run, const struct totals *s, bool clean, FILE *out)
{
	char b1[32], b2[32];
	struct buddy_fault_stats fs;

	fprintf(out, "stress %s: %s after %.2fs (%d threads on %d simulated CPUs, seed %" PRIu64 ")\n", run->opts.profile,
		clean ? "CLEAN" : "VIOLATION", s->elapsed, run->nthreads, run->topo.nr_cpus, run->opts.seed);
	fprintf(out, "  steps          %" PRIu64 " (%.0f/s; per thread %.0f/s)\n", s->steps,
		(double)s->steps / s->elapsed, (double)s->steps / s->elapsed / run->nthreads);
	if (s->steps) {
		fprintf(out, "  step cost      %.2f us in the operation, %.2f us in the per-step check%s\n",
			(double)s->ns_step / 1e3 / (double)s->steps, (double)s->ns_check / 1e3 / (double)s->steps,
			run->opts.step_check ? "" : " (off)");
	}
	fprintf(out,
		"  checks         %" PRIu64 " of what a step changed, %" PRIu64 " zone walks, %" PRIu64 " pcp, %" PRIu64
		" full\n",
		s->checks_touched, s->checks_zone, s->checks_pcp, s->checks_all);
	fprintf(out, "  blocks         %" PRIu64 " allocated, %" PRIu64 " allocations failed, %" PRIu64
		     " freed (%" PRIu64 " on another CPU, %" PRIu64 " handed to another thread)\n",
		s->allocs, s->alloc_fail, s->frees, s->remote_frees + s->recv_frees, s->handoffs);
	fprintf(out, "  integrity      %s written, %s verified (mode %s)\n", human_bytes(s->bytes_written, b1, sizeof(b1)),
		human_bytes(s->bytes_verified, b2, sizeof(b2)),
		run->opts.integrity == INTEGRITY_FULL ? "full" : run->opts.integrity == INTEGRITY_SAMPLE ? "sample" : "off");
	if (s->migrations || s->reclaims || s->releases)
		fprintf(out, "  callbacks      %" PRIu64 " migrations, %" PRIu64 " reclaims, %" PRIu64 " releases seen by owners\n",
			s->migrations, s->reclaims, s->releases);
	fault_inject_stats(run->sys, &fs);
	uint64_t injected = buddy_faults_injected(run->sys);
	if (run->opts.fault) {
		fprintf(out, "  faults         %" PRIu64 " injected, %" PRIu64 " survived (", injected,
			clean ? injected : run->faults_survived);
		for (int k = 0; k < NR_FAULT_SITES; k++)
			fprintf(out, "%s%s %" PRIu64 "/%" PRIu64, k ? ", " : "", fault_inject_site_name(k), fs.injected[k],
				fs.eligible[k]);
		fprintf(out, ")\n");
	}
	fprintf(out, "  operations    ");
	for (int k = 0; k < NR_OP_KINDS; k++) {
		uint64_t n = 0;
		for (int i = 0; i < run->nthreads; i++)
			n += run->threads[i].ops_by_kind[k];
		if (n)
			fprintf(out, " %s %" PRIu64, op_name(k), n);
	}
	fprintf(out, "\n  vmstat        ");
	static const enum buddy_vm_event shown[] = {
		PGFREE, ALLOCSTALL_NORMAL, PGSCAN_KSWAPD, PGSCAN_DIRECT, PGSTEAL_KSWAPD, PGSTEAL_DIRECT, COMPACTSTALL,
		COMPACTSUCCESS, COMPACTFAIL, OOM_KILL, PGMIGRATE_SUCCESS, PGMIGRATE_FAIL, CMA_ALLOC_SUCCESS,
		CMA_ALLOC_FAIL, BUDDY_ALLOC_FAIL, BUDDY_EXTFRAG, BUDDY_HIGHATOMIC_RESERVE, BUDDY_WMARK_BOOST,
		BUDDY_BAD_PAGE,
	};
	for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
		uint64_t v = buddy_vm_event(run->sys, shown[k]);
		if (v || shown[k] == BUDDY_BAD_PAGE)
			fprintf(out, " %s %" PRIu64, buddy_vm_event_name(shown[k]), v);
	}
	char cmd[1024];
	uint64_t steps = 0;
	for (int i = 0; i < run->nthreads; i++) {
		uint64_t n = atomic_load_explicit(&run->threads[i].pub_steps, memory_order_relaxed);
		steps = n > steps ? n : steps;
	}
	rerun_command(run, steps, cmd, sizeof(cmd));
	fprintf(out, "\n  rerun          %s%s", cmd, run->nthreads == 1 ? " (replays exactly)" : "");
	fprintf(out, "\n  trace digest  ");
	for (int i = 0; i < run->nthreads && i < 8; i++)
		fprintf(out, " t%d:%016" PRIx64, i, run->threads[i].trace_hash);
	if (run->nthreads > 8)
		fprintf(out, " ...");
	fprintf(out, "\n");
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void write_json(struct stress_run *run, const struct totals *s, bool clean, FILE *out)
{
	struct buddy_fault_stats fs;
	uint64_t injected = buddy_faults_injected(run->sys);

	fprintf(out, "{\n  \"tool\": \"pagetorture stress\",\n  \"profile\": ");
	json_string(out, run->opts.profile);
	fprintf(out, ",\n  \"result\": \"%s\",\n", clean ? "clean" : "violation");
	fprintf(out, "  \"threads\": %d,\n  \"cpus\": %d,\n  \"nodes\": %d,\n  \"seed\": %" PRIu64 ",\n", run->nthreads,
		run->topo.nr_cpus, run->topo.nr_nodes, run->opts.seed);
	fprintf(out, "  \"managed_pages\": %" PRIu64 ",\n  \"elapsed_s\": %.3f,\n", run->managed_pages, s->elapsed);
	fprintf(out, "  \"step_check\": %s,\n  \"check_interval\": %" PRIu64 ",\n  \"walk_interval\": %" PRIu64 ",\n",
		run->opts.step_check ? "true" : "false", run->opts.check_interval, run->opts.walk_interval);
	fprintf(out, "  \"ops\": %" PRIu64 ",\n  \"ops_per_s\": %.1f,\n", s->steps, (double)s->steps / s->elapsed);
	fprintf(out, "  \"step_ns_avg\": %.1f,\n  \"check_ns_avg\": %.1f,\n",
		s->steps ? (double)s->ns_step / (double)s->steps : 0.0, s->steps ? (double)s->ns_check / (double)s->steps : 0.0);
	fprintf(out, "  \"per_thread\": [\n");
	for (int i = 0; i < run->nthreads; i++) {
		struct stress_thread *t = &run->threads[i];
		uint64_t steps = atomic_load_explicit(&t->pub_steps, memory_order_relaxed);
		fprintf(out,
			"    {\"thread\": %d, \"cpu\": %d, \"ops\": %" PRIu64 ", \"ops_per_s\": %.1f, \"allocs\": %" PRIu64
			", \"alloc_failures\": %" PRIu64 ", \"frees\": %" PRIu64 ", \"handoffs\": %" PRIu64
			", \"bytes_verified\": %" PRIu64 ", \"step_ns_avg\": %.1f, \"check_ns_avg\": %.1f"
			", \"trace_digest\": \"%016" PRIx64 "\"}%s\n",
			i, t->home_cpu, steps, (double)steps / s->elapsed, t->allocs, t->alloc_fail, t->frees, t->handoffs,
			t->bytes_verified + atomic_load_explicit(&t->cb_bytes_verified, memory_order_relaxed),
			steps ? (double)t->ns_step / (double)steps : 0.0, steps ? (double)t->ns_check / (double)steps : 0.0,
			t->trace_hash, i + 1 < run->nthreads ? "," : "");
	}
	fprintf(out, "  ],\n");
	fprintf(out,
		"  \"checks\": {\"touched\": %" PRIu64 ", \"zone\": %" PRIu64 ", \"pcp\": %" PRIu64 ", \"full\": %" PRIu64
		"},\n",
		s->checks_touched, s->checks_zone, s->checks_pcp, s->checks_all);
	fprintf(out, "  \"bytes_written\": %" PRIu64 ",\n  \"bytes_verified\": %" PRIu64 ",\n", s->bytes_written,
		s->bytes_verified);
	fprintf(out,
		"  \"blocks\": {\"allocated\": %" PRIu64 ", \"alloc_failures\": %" PRIu64 ", \"freed\": %" PRIu64
		", \"freed_remote\": %" PRIu64 ", \"handed_off\": %" PRIu64 "},\n",
		s->allocs, s->alloc_fail, s->frees, s->remote_frees + s->recv_frees, s->handoffs);
	fprintf(out,
		"  \"callbacks\": {\"migrations\": %" PRIu64 ", \"reclaims\": %" PRIu64 ", \"releases\": %" PRIu64 "},\n",
		s->migrations, s->reclaims, s->releases);
	fault_inject_stats(run->sys, &fs);
	fprintf(out, "  \"faults\": {\"enabled\": %s, \"injected\": %" PRIu64 ", \"survived\": %" PRIu64,
		run->opts.fault ? "true" : "false", injected, clean ? injected : run->faults_survived);
	for (int k = 0; k < NR_FAULT_SITES; k++)
		fprintf(out, ", \"%s\": {\"injected\": %" PRIu64 ", \"eligible\": %" PRIu64 "}", fault_inject_site_name(k),
			fs.injected[k], fs.eligible[k]);
	fprintf(out, "},\n");
	fprintf(out, "  \"operations\": {");
	for (int k = 0; k < NR_OP_KINDS; k++) {
		uint64_t n = 0;
		for (int i = 0; i < run->nthreads; i++)
			n += run->threads[i].ops_by_kind[k];
		fprintf(out, "%s\"%s\": %" PRIu64, k ? ", " : "", op_name(k), n);
	}
	fprintf(out, "},\n");
	fprintf(out, "  \"counters\": {");
	bool first = true;
	for (int e = 0; e < NR_BUDDY_VM_EVENTS; e++) {
		fprintf(out, "%s\"%s\": %" PRIu64, first ? "" : ", ", buddy_vm_event_name((enum buddy_vm_event)e),
			buddy_vm_event(run->sys, (enum buddy_vm_event)e));
		first = false;
	}
	fprintf(out, "},\n");
	if (clean) {
		fprintf(out, "  \"violation\": null\n");
	} else {
		fprintf(out, "  \"violation\": {\"name\": ");
		json_string(out, run->viol.name);
		fprintf(out, ", \"thread\": %d, \"step\": ", run->viol.thread);
		if (run->viol.step == STRESS_TEARDOWN)
			fprintf(out, "\"teardown\"");
		else
			fprintf(out, "%" PRIu64, run->viol.step);
		fprintf(out, ", \"detail\": ");
		json_string(out, run->viol.lines[0]);
		fprintf(out, "}\n");
	}
	fprintf(out, "}\n");
}

/* ---- setup and teardown ---- */
static int run_setup(struct stress_run *run)
{
	struct buddy_error err = { 0 };
	struct buddy_system_info info;

	if (setup_topology(run))
		return -1;
	run->sys = buddy_system_create(&run->topo, &run->bopts, &err);
	if (!run->sys) {
		fprintf(stderr, "stress: cannot create the allocator: %s: %s\n", err.field, err.message);
		return -1;
	}
	if (run->opts.step_check && run->opts.walk_interval > 1)
		buddy_check_track(run->sys, true);
	buddy_system_info(run->sys, &info);
	run->max_pfn = info.max_pfn;
	run->max_order = info.max_order;
	run->pageblock_order = info.pageblock_order;
	run->owned = calloc((run->max_pfn + 63) / 64, sizeof(*run->owned));
	if (!run->owned)
		return -1;
	for (int nid = 0; nid < run->topo.nr_nodes; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++) {
			struct buddy_zone_info zi;
			run->populated[nid][z] = !buddy_zone_info(run->sys, nid, (enum zone_type)z, &zi) && zi.populated;
		}
	run->managed_pages = sum_zone_field(run, offsetof(struct buddy_zone_info, managed));
	run->boot_free_pages = sum_zone_field(run, offsetof(struct buddy_zone_info, free_pages));
	if (run->opts.fault) {
		int ret = buddy_set_fault_injection(run->sys, &run->opts.fault_attr);
		if (ret) {
			fprintf(stderr, "stress: buddy_set_fault_injection: %s\n", strerror(-ret));
			return -1;
		}
	}
	pthread_mutex_init(&run->fail_lock, NULL);
	pthread_mutex_init(&run->poison_lock, NULL);
	barrier_init(&run->barrier, run->nthreads);
	run->threads = calloc((size_t)run->nthreads, sizeof(*run->threads));
	if (!run->threads)
		return -1;
	for (int i = 0; i < run->nthreads; i++) {
		struct stress_thread *t = &run->threads[i];
		t->id = i;
		t->run = run;
		t->cpu = t->home_cpu = i % run->topo.nr_cpus;
		/* per-thread streams: the same seed gives each thread its own */
		rng_seed(t->rng, run->opts.seed * 0x100000001b3ULL + (uint64_t)i);
		pthread_mutex_init(&t->lock, NULL);
		pthread_mutex_init(&t->inbox.lock, NULL);
		t->file_mapping.ops = &stress_file_ops;
		t->file_mapping.private_data = t;
		t->anon_mapping.ops = &stress_anon_ops;
		t->anon_mapping.private_data = t;
		t->trace_hash = 0xcbf29ce484222325ULL;
	}
	if (run->profile->setup && run->profile->setup(run))
		return -1;
	return 0;
}

static void run_free(struct stress_run *run)
{
	if (run->threads) {
		for (int i = 0; i < run->nthreads; i++) {
			struct stress_thread *t = &run->threads[i];
			free(t->slots);
			free(t->free_slots);
			free(t->live);
			pthread_mutex_destroy(&t->lock);
			pthread_mutex_destroy(&t->inbox.lock);
		}
		free(run->threads);
		barrier_destroy(&run->barrier);
		pthread_mutex_destroy(&run->fail_lock);
		pthread_mutex_destroy(&run->poison_lock);
	}
	free((void *)run->owned);
	buddy_system_destroy(run->sys);
}

/* After a clean run: give everything back and check that all of it came
 * back. */
static void run_teardown(struct stress_run *run)
{
	struct buddy_violation v[CHECK_CAP];
	struct buddy_check_result res = { .capacity = CHECK_CAP, .v = v };

	for (int i = 0; i < run->nthreads && !atomic_load(&run->failed); i++)
		stress_free_all(&run->threads[i]);
	/* after the frees: unpoison needs the poisoned pages' blocks freed */
	if (run->profile->teardown && !atomic_load(&run->failed))
		run->profile->teardown(run);
	if (atomic_load(&run->failed))
		return;
	buddy_drain_all_pages(run->sys);
	run->threads[0].checks_all++;
	if (buddy_check(run->sys, BUDDY_CHECK_ALL, 0, ZONE_DMA, 0, &res)) {
		record_check_violation(run, -1, STRESS_TEARDOWN, "full check after freeing everything", &res);
		return;
	}
	uint64_t bad = buddy_vm_event(run->sys, BUDDY_BAD_PAGE);
	if (bad != run->bad_pages_seen) {
		record_plain_violation(run, -1, STRESS_TEARDOWN, "bad-page", "the allocator reported %" PRIu64 " bad page(s)",
				       bad - run->bad_pages_seen);
		return;
	}
	uint64_t allocated = sum_zone_field(run, offsetof(struct buddy_zone_info, allocated_pages));
	uint64_t pcp = sum_zone_field(run, offsetof(struct buddy_zone_info, pcp_pages));
	uint64_t free_pages = sum_zone_field(run, offsetof(struct buddy_zone_info, free_pages));
	if (allocated || pcp || (run->leak_check && free_pages != run->boot_free_pages)) {
		record_plain_violation(run, -1, STRESS_TEARDOWN, "pages-leaked",
				       "after every block was freed and every pcp drained: %" PRIu64 " allocated, %" PRIu64
				       " on pcp lists, %" PRIu64 " free of %" PRIu64 " free at boot",
				       allocated, pcp, free_pages, run->boot_free_pages);
		return;
	}
	run->faults_survived = buddy_faults_injected(run->sys);
}

int main(int argc, char **argv)
{
	static struct stress_run run_storage;
	struct stress_run *run = &run_storage;
	char report_dir[1024] = "";
	int rc = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &run->opts))
		return 2;
	run->profile = stress_profile_find(run->opts.profile);
	if (!run->profile) {
		fprintf(stderr, "stress: no profile '%s'; the profiles are:\n", run->opts.profile);
		stress_profiles_list(stderr);
		return 2;
	}
	run->nthreads = run->opts.threads;
	run->leak_check = run->profile->leak_check;
	if (run_setup(run)) {
		run_free(run);
		return 2;
	}
	bool live = run->opts.tty < 0 ? isatty(STDOUT_FILENO) : run->opts.tty;
	if (!run->opts.quiet)
		printf("stress %s: %d threads on %d simulated CPUs, %d nodes, %" PRIu64 " pages (%" PRIu64 " MiB), seed %" PRIu64
		       ", %s%s\n",
		       run->opts.profile, run->nthreads, run->topo.nr_cpus, run->topo.nr_nodes, run->managed_pages,
		       run->managed_pages >> 8, run->opts.seed, run->opts.step_check ? "check after every step" : "no per-step check",
		       run->opts.fault ? ", fault injection on" : "");

#ifdef STRESS_HAVE_ASAN
	death_run = run;
	__sanitizer_set_death_callback(on_sanitizer_death);
#endif
	run->t_start = now_s();
	int started = 0;
	for (int i = 0; i < run->nthreads; i++) {
		if (pthread_create(&run->threads[i].th, NULL, worker_main, &run->threads[i])) {
			fprintf(stderr, "stress: cannot start thread %d\n", i);
			stress_request_stop(run);
			break;
		}
		started++;
	}

	/* The main thread watches the clock and shows progress. */
	double last_status = run->t_start, last_rate_t = run->t_start;
	uint64_t last_steps = 0;
	double rate = 0;
	for (;;) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		double now = now_s(), elapsed = now - run->t_start;
		if (run->opts.time_s > 0 && elapsed >= run->opts.time_s)
			stress_request_stop(run);
		uint64_t steps = 0;
		for (int i = 0; i < run->nthreads; i++)
			steps += atomic_load_explicit(&run->threads[i].pub_steps, memory_order_relaxed);
		bool done = atomic_load(&run->stop) ||
			    (run->opts.steps && steps >= run->opts.steps * (uint64_t)run->nthreads);
		if (done)
			break;
		double period = live ? 0.5 : run->opts.status_ms / 1000.0;
		if (!run->opts.quiet && now - last_status >= period) {
			struct counters c;
			char line[512];
			gather(run, &c);
			rate = (double)(c.steps - last_steps) / (now - last_rate_t);
			last_steps = c.steps;
			last_rate_t = now;
			format_status(run, &c, elapsed, rate, line, sizeof(line));
			if (live)
				printf("\r%s\033[K", line);
			else
				printf("%s\n", line);
			fflush(stdout);
			last_status = now;
		}
	}
	for (int i = 0; i < started; i++)
		pthread_join(run->threads[i].th, NULL);
	double elapsed = now_s() - run->t_start;
	if (live && !run->opts.quiet)
		printf("\r\033[K");

	bool clean = !atomic_load(&run->failed);
	if (clean)
		run_teardown(run);
	clean = !atomic_load(&run->failed);

	struct totals tot;
	sum_totals(run, &tot, elapsed);
	make_report_dir(run, report_dir, sizeof(report_dir));
	if (!clean) {
		print_failure(run, stdout);
		if (report_dir[0]) {
			FILE *f = open_report(report_dir, "failure.txt");
			if (f) {
				print_failure(run, f);
				fclose(f);
			}
			f = open_report(report_dir, "interleaving.txt");
			if (f) {
				write_interleaving(run, f);
				fclose(f);
			}
		}
		rc = 1;
	}
	print_summary(run, &tot, clean, stdout);
	if (report_dir[0]) {
		FILE *f = open_report(report_dir, "summary.json");
		if (f) {
			write_json(run, &tot, clean, f);
			fclose(f);
		}
		f = open_report(report_dir, "summary.txt");
		if (f) {
			print_summary(run, &tot, clean, f);
			fclose(f);
		}
		printf("  report         %s/%s\n", report_dir, clean ? "summary.json" : "failure.txt");
	}
	if (rc == 0 && run->opts.require_faults && buddy_faults_injected(run->sys) == 0) {
		printf("stress: --require-faults: no fault was injected\n");
		rc = 3;
	}
#ifdef STRESS_HAVE_ASAN
	death_run = NULL;
#endif
	run_free(run);
	return rc;
}
