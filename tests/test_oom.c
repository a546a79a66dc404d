/* The OOM killer: oom_badness() as the kernel scores it, victim selection
 * (largest rss, oom_score_adj weighting, ties to the later task, -1000
 * never, killed tasks skipped), the nodemask constraint (it scales
 * oom_score_adj by the allowed nodes' pages but does not filter tasks by
 * node), the reaper step (every reapable block released to its owner and
 * freed, rss to 0), the report lines in the kernel's layout, -ENOENT with
 * nothing killable, the gates of __alloc_pages_may_oom, ALLOC_OOM access
 * for the victim, and concurrency: the trylock of oom_lock lets only one of
 * two simultaneous callers kill.  The checker runs clean after each step. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buddy/buddy.h"
#include "internal.h"
#include "oom_kill.h"
#include "tap.h"

#define NR_PAGES 32768
#define SPLIT_PFN 8192 /* DMA32 below, Normal above */
#define LOG_BYTES (BUDDY_LOG_LINES * (BUDDY_LOG_LINE + 1) + 1)
#define MOVABLE_NOWAIT ((GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM) | __GFP_NOWARN)

/* ---- systems ---- */
static struct buddy_system *make_system_topo(const struct buddy_topology *t)
{
	struct buddy_options o;
	struct buddy_error err = { 0 };

	buddy_options_init(&o);
	struct buddy_system *sys = buddy_system_create(t, &o, &err);
	CHECK(sys != NULL, "create failed: %s: %s", err.field, err.message);
	if (!sys)
		exit(test_done() | 1);
	return sys;
}

/* One node: DMA32 [0, 8192), Normal [8192, 32768); managed = present = 32768. */
static struct buddy_system *make_system(int nr_cpus)
{
	struct buddy_topology t;

	buddy_topology_small(&t, NR_PAGES, nr_cpus);
	t.zones[0][ZONE_DMA32] = (struct buddy_pfn_range){ 0, SPLIT_PFN };
	t.zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ SPLIT_PFN, NR_PAGES };
	return make_system_topo(&t);
}

/* Two nodes: node 0 DMA32 [0, 8192) + Normal [8192, 16384) = 16384 pages,
 * node 1 Normal [16384, 40960) = 24576 pages. */
static struct buddy_system *make_numa_system(void)
{
	struct buddy_topology t;

	buddy_topology_small(&t, 16384, 2);
	t.nr_nodes = 2;
	t.cpu_to_node[0] = 0;
	t.cpu_to_node[1] = 1;
	for (int a = 0; a < 2; a++)
		for (int b = 0; b < 2; b++)
			t.distance[a][b] = a == b ? BUDDY_LOCAL_DISTANCE : BUDDY_REMOTE_DISTANCE;
	t.zones[0][ZONE_DMA32] = (struct buddy_pfn_range){ 0, 8192 };
	t.zones[0][ZONE_NORMAL] = (struct buddy_pfn_range){ 8192, 16384 };
	t.zones[1][ZONE_NORMAL] = (struct buddy_pfn_range){ 16384, 40960 };
	return make_system_topo(&t);
}

static void check_clean(struct buddy_system *sys, const char *where)
{
	struct buddy_violation v[16];
	struct buddy_check_result res = { .capacity = 16, .v = v };
	char line[320];

	CHECK_EQ(buddy_vm_event(sys, BUDDY_BAD_PAGE), 0);
	size_t n = buddy_check(sys, BUDDY_CHECK_ALL, 0, 0, 0, &res);
	CHECK(n == 0, "checker after %s: %zu violations", where, n);
	for (size_t i = 0; i < res.count && i < res.capacity; i++) {
		buddy_violation_format(&res.v[i], line, sizeof(line));
		printf("#   %s\n", line);
	}
}

static unsigned long free_pages_all(struct buddy_system *sys)
{
	struct buddy_zone_info info;
	unsigned long total = 0;

	buddy_drain_all_pages(sys);
	for (int nid = 0; nid < BUDDY_MAX_NODES; nid++)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			if (!buddy_zone_info(sys, nid, (enum zone_type)z, &info) && info.populated)
				total += info.free_pages;
	return total;
}

static char *read_log(struct buddy_system *sys)
{
	char *buf = malloc(LOG_BYTES);

	if (!buf)
		exit(test_done() | 1);
	buddy_log_read(sys, buf, LOG_BYTES);
	return buf;
}

/* Every expected line in order, each a whole line of the log. */
static void check_log_lines(struct buddy_system *sys, const char *const *lines, int n)
{
	char *log = read_log(sys);
	const char *at = log;

	for (int i = 0; i < n; i++) {
		char want[BUDDY_LOG_LINE + 2];
		snprintf(want, sizeof(want), "%s\n", lines[i]);
		const char *hit = at;
		/* whole lines only: the match must start a line */
		while ((hit = strstr(hit, want)) && hit != log && hit[-1] != '\n')
			hit++;
		CHECK(hit != NULL, "log line %d missing or out of order: \"%s\"", i, lines[i]);
		if (hit)
			at = hit + strlen(want);
	}
	if (getenv("OOM_TEST_VERBOSE"))
		fputs(log, stdout);
	free(log);
}

static bool log_has(struct buddy_system *sys, const char *text)
{
	char *log = read_log(sys);
	bool hit = strstr(log, text) != NULL;

	free(log);
	return hit;
}

static struct buddy_task_info task_info(struct buddy_system *sys, int task)
{
	struct buddy_task_info info;

	memset(&info, 0, sizeof(info));
	CHECK_EQ(buddy_task_info(sys, task, &info), 0);
	return info;
}

/* ---- a page owner ---- */
#define OWNER_SLOTS 4096
#define SLOT_RESERVED ((struct page *)1) /* allocation in flight */

struct slot {
	struct page *page;
	uint64_t index;       /* unique per allocation: tells a stale release apart */
	unsigned int order;
	bool released_early;  /* the reaper took it before the owner stored it */
};

struct owner {
	struct buddy_mapping m;
	pthread_mutex_t lock;
	struct slot slots[OWNER_SLOTS];
	uint64_t next_index;
	long nr_release;           /* release calls */
	long released_pages;
	long stale_release;        /* release of a block the owner had already let go */
	long free_errors;          /* buddy_free_pages() refusals */
	/* concurrency: the first release waits for the other OOM caller */
	pthread_mutex_t *gate_lock;
	pthread_cond_t *gate_cond;
	int *gate_state;
};

static int owner_release(struct buddy_mapping *m, struct page *page)
{
	struct owner *o = m->private_data;
	uint64_t index = buddy_page_index(page);
	struct slot *s = &o->slots[index % OWNER_SLOTS];
	int ret = 0;

	pthread_mutex_lock(&o->lock);
	if (s->index == index && s->page == page) {
		s->page = NULL;
		o->nr_release++;
		o->released_pages += 1L << s->order;
	} else if (s->index == index && s->page == SLOT_RESERVED) {
		s->released_early = true;
		o->nr_release++;
		o->released_pages += 1L << s->order;
	} else {
		o->stale_release++;
		ret = -EBUSY;
	}
	pthread_mutex_unlock(&o->lock);

	if (o->gate_lock) {
		pthread_mutex_lock(o->gate_lock);
		if (*o->gate_state == 0) {
			*o->gate_state = 1; /* inside the kill, oom_lock held */
			pthread_cond_broadcast(o->gate_cond);
			while (*o->gate_state != 2)
				pthread_cond_wait(o->gate_cond, o->gate_lock);
		}
		pthread_mutex_unlock(o->gate_lock);
	}
	return ret;
}

static int owner_migrate(struct buddy_mapping *m, struct page *old_page, struct page *new_page)
{
	struct owner *o = m->private_data;
	uint64_t index = buddy_page_index(old_page);
	struct slot *s = &o->slots[index % OWNER_SLOTS];
	int rc = -EAGAIN;

	pthread_mutex_lock(&o->lock);
	if (s->index == index && s->page == old_page) {
		/* No backing memory here: nothing to copy. */
		s->page = new_page;
		rc = 0;
	}
	pthread_mutex_unlock(&o->lock);
	return rc;
}

/* A file-like owner keeps its pages against reclaim: the counts stay exact. */
static int owner_reclaim_busy(struct buddy_mapping *m, struct page *page)
{
	(void)m;
	(void)page;
	return -EBUSY;
}

static const struct buddy_mapping_ops anon_ops = { .migrate = owner_migrate, .release = owner_release };
static const struct buddy_mapping_ops file_ops = {
	.migrate = owner_migrate, .reclaim = owner_reclaim_busy, .release = owner_release,
};
static const struct buddy_mapping_ops no_release_ops = { .migrate = owner_migrate };

static struct owner *owner_new(const struct buddy_mapping_ops *ops)
{
	struct owner *o = calloc(1, sizeof(*o));

	if (!o)
		exit(test_done() | 1);
	o->m.ops = ops;
	o->m.private_data = o;
	o->next_index = 1;
	pthread_mutex_init(&o->lock, NULL);
	return o;
}

/* Allocate one block for the owner; the thread must be bound to the task. */
static bool owner_alloc(struct buddy_system *sys, struct owner *o, gfp_t gfp, unsigned int order, int nid,
			uint64_t nodemask)
{
	struct slot *s = NULL;
	uint64_t index;

	pthread_mutex_lock(&o->lock);
	for (int tries = 0; tries < OWNER_SLOTS; tries++) {
		index = o->next_index++;
		if (!o->slots[index % OWNER_SLOTS].page) {
			s = &o->slots[index % OWNER_SLOTS];
			*s = (struct slot){ .page = SLOT_RESERVED, .index = index, .order = order };
			break;
		}
	}
	pthread_mutex_unlock(&o->lock);
	if (!s)
		return false;
	struct page *page = buddy_alloc_pages_mapping(sys, gfp, order, nid, nodemask, &o->m, index);
	pthread_mutex_lock(&o->lock);
	if (!page || s->released_early)
		*s = (struct slot){ 0 };
	else
		s->page = page;
	pthread_mutex_unlock(&o->lock);
	return page != NULL;
}

/* Drop the reference and free under the lock release takes: release is
 * void and cannot refuse, so a block the owner has let go of but not yet
 * freed would otherwise be freed by the reaper and then again by the
 * owner.  Under the lock, the reaper either finds the block still held
 * (and takes it) or finds the free already under way (PG_freeing). */
static long owner_free_slot(struct buddy_system *sys, struct owner *o, int i)
{
	long freed = 0;

	pthread_mutex_lock(&o->lock);
	struct slot s = o->slots[i];
	if (s.page && s.page != SLOT_RESERVED) {
		o->slots[i] = (struct slot){ 0 };
		/* tap is not thread-safe: the main thread checks free_errors */
		if (buddy_free_pages(sys, s.page, s.order))
			o->free_errors++;
		freed = 1L << s.order;
	}
	pthread_mutex_unlock(&o->lock);
	return freed;
}

/* Give every block back (a task that exits). */
static long owner_free_all(struct buddy_system *sys, struct owner *o)
{
	long freed = 0;

	for (int i = 0; i < OWNER_SLOTS; i++)
		freed += owner_free_slot(sys, o, i);
	return freed;
}

static long owner_held_pages(struct owner *o)
{
	long pages = 0;

	pthread_mutex_lock(&o->lock);
	for (int i = 0; i < OWNER_SLOTS; i++)
		if (o->slots[i].page && o->slots[i].page != SLOT_RESERVED)
			pages += 1L << o->slots[i].order;
	pthread_mutex_unlock(&o->lock);
	return pages;
}

static void owner_destroy(struct owner *o)
{
	CHECK_EQ(o->free_errors, 0);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

/* A task owning nr_blocks blocks of the given order. */
static int spawn_task(struct buddy_system *sys, const char *comm, int adj, struct owner *o, unsigned int order,
		      int nr_blocks, int nid, uint64_t nodemask)
{
	int task = buddy_task_create(sys, comm, adj);

	CHECK(task > 0, "task_create %s: %d", comm, task);
	CHECK_EQ(buddy_bind_task(sys, task), 0);
	for (int i = 0; i < nr_blocks; i++)
		if (!owner_alloc(sys, o, GFP_HIGHUSER_MOVABLE, order, nid, nodemask)) {
			CHECK(false, "allocation %d of %s failed", i, comm);
			break;
		}
	CHECK_EQ(buddy_bind_task(sys, 0), 0);
	CHECK_EQ(task_info(sys, task).rss_pages, (long)nr_blocks << order);
	return task;
}

/* ---- sections ---- */
static void test_badness_and_selection(void)
{
	test_section("oom_badness and selection order: adj weighting, negative scores, -1000 never");
	struct buddy_system *sys = make_system(2);
	struct owner *oa = owner_new(&anon_ops), *ob = owner_new(&anon_ops), *oc = owner_new(&anon_ops),
		     *od = owner_new(&anon_ops);

	/* totalpages = 32768 managed pages, so one unit of oom_score_adj is
	 * 32768 / 1000 = 32 pages. */
	int a = spawn_task(sys, "alpha", 0, oa, 2, 64, -1, 0);      /* 256 pages */
	int b = spawn_task(sys, "bravo", 10, ob, 0, 64, -1, 0);     /* 64 pages */
	int c = spawn_task(sys, "charlie", -500, oc, 3, 64, -1, 0); /* 512 pages */
	int d = spawn_task(sys, "delta", -1000, od, 4, 64, -1, 0);  /* 1024 pages, the largest */
	check_clean(sys, "setup");

	CHECK_EQ(buddy_oom_badness(sys, a, 32768), 256);
	CHECK_EQ(buddy_oom_badness(sys, b, 32768), 64 + 10 * 32);
	CHECK_EQ(buddy_oom_badness(sys, c, 32768), 512 - 500 * 32);
	CHECK(buddy_oom_badness(sys, d, 32768) == LONG_MIN, "-1000 is never a candidate");
	/* The kernel divides totalpages by 1000 before multiplying. */
	CHECK_EQ(buddy_oom_badness(sys, b, 1999), 64 + 10 * 1);
	CHECK_EQ(buddy_oom_badness(sys, b, 999), 64);
	CHECK(buddy_oom_badness(sys, 0, 32768) == LONG_MIN, "no task 0");
	CHECK(buddy_oom_badness(sys, 999, 32768) == LONG_MIN, "unused id");

	/* bravo: 384 beats alpha's 256 by its adj alone. */
	unsigned long free_before = free_pages_all(sys);
	uint64_t kills = buddy_vm_event(sys, OOM_KILL);
	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 0, 0), b);
	CHECK_EQ(buddy_vm_event(sys, OOM_KILL), kills + 1);
	CHECK(task_info(sys, b).oom_killed, "bravo marked");
	CHECK_EQ(task_info(sys, b).rss_pages, 0);
	CHECK_EQ(ob->nr_release, 64);
	CHECK_EQ(ob->released_pages, 64);
	CHECK_EQ(owner_held_pages(ob), 0);
	CHECK_EQ(free_pages_all(sys), free_before + 64);
	CHECK(buddy_oom_badness(sys, b, 32768) == LONG_MIN, "a reaped victim scores LONG_MIN (MMF_OOM_SKIP)");
	CHECK_EQ(oa->nr_release + oc->nr_release + od->nr_release, 0);
	CHECK_EQ(task_info(sys, a).rss_pages, 256);
	check_clean(sys, "first kill");

	/* Next: alpha (256); bravo is skipped as an already reaped victim. */
	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 0, 0), a);
	CHECK_EQ(oa->nr_release, 64);
	CHECK_EQ(task_info(sys, a).rss_pages, 0);
	check_clean(sys, "second kill");

	/* charlie scores -15488 and is still chosen before nobody: only
	 * LONG_MIN is out. */
	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 0, 0), c);
	CHECK_EQ(oc->released_pages, 512);
	check_clean(sys, "third kill");

	/* Only delta (-1000) is left, though it is the largest. */
	kills = buddy_vm_event(sys, OOM_KILL);
	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 0, 0), -ENOENT);
	CHECK_EQ(buddy_vm_event(sys, OOM_KILL), kills);
	CHECK(!task_info(sys, d).oom_killed, "-1000 untouched");
	CHECK_EQ(task_info(sys, d).rss_pages, 1024);
	CHECK_EQ(od->nr_release, 0);
	CHECK(log_has(sys, "Out of memory and no killable processes...\n"), "no-killable line logged");
	check_clean(sys, "no victim");

	CHECK_EQ(owner_free_all(sys, od), 1024);
	for (int t = a; t <= d; t++)
		CHECK_EQ(buddy_task_destroy(sys, t), 0);
	/* No task at all. */
	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 0, 0), -ENOENT);
	check_clean(sys, "teardown");
	owner_destroy(oa);
	owner_destroy(ob);
	owner_destroy(oc);
	owner_destroy(od);
	buddy_system_destroy(sys);
}

static void test_largest_rss_and_ties(void)
{
	test_section("largest rss wins; equal scores go to the later task, as oom_evaluate_task does");
	struct buddy_system *sys = make_system(2);
	struct owner *o1 = owner_new(&anon_ops), *o2 = owner_new(&anon_ops), *o3 = owner_new(&anon_ops);

	int t1 = spawn_task(sys, "small", 0, o1, 0, 100, -1, 0);
	int t2 = spawn_task(sys, "big", 0, o2, 1, 150, -1, 0);   /* 300 pages */
	int t3 = spawn_task(sys, "medium", 0, o3, 0, 200, -1, 0);
	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 0, 0), t2);
	CHECK_EQ(o2->nr_release, 150);
	check_clean(sys, "largest");

	/* Bring small up to medium's 200: a tie, and the later id wins. */
	CHECK_EQ(buddy_bind_task(sys, t1), 0);
	for (int i = 0; i < 100; i++)
		CHECK(owner_alloc(sys, o1, GFP_HIGHUSER_MOVABLE, 0, -1, 0), "grow");
	CHECK_EQ(buddy_bind_task(sys, 0), 0);
	CHECK_EQ(buddy_oom_badness(sys, t1, 32768), buddy_oom_badness(sys, t3, 32768));
	CHECK(t3 > t1, "ids in creation order");
	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 0, 0), t3);
	CHECK_EQ(o3->released_pages, 200);
	CHECK_EQ(o1->nr_release, 0);
	check_clean(sys, "tie");

	CHECK_EQ(owner_free_all(sys, o1), 200);
	check_clean(sys, "teardown");
	owner_destroy(o1);
	owner_destroy(o2);
	owner_destroy(o3);
	buddy_system_destroy(sys);
}

static void test_report(void)
{
	test_section("the OOM report in the kernel's layout; anon and file rss; current's comm and adj");
	struct buddy_system *sys = make_system(2);
	struct owner *oa = owner_new(&anon_ops), *of = owner_new(&file_ops), *ox = owner_new(&anon_ops);

	int quiet = spawn_task(sys, "quiet", -1000, ox, 0, 3, -1, 0);
	/* hog: 96 anon pages and 32 file pages */
	int hog = spawn_task(sys, "hog", 0, oa, 0, 96, -1, 0);
	CHECK_EQ(buddy_bind_task(sys, hog), 0);
	for (int i = 0; i < 8; i++)
		CHECK(owner_alloc(sys, of, GFP_HIGHUSER_MOVABLE, 2, -1, 0), "file block");
	CHECK_EQ(buddy_bind_task(sys, 0), 0);
	CHECK_EQ(task_info(sys, hog).rss_pages, 128);
	int me = buddy_task_create(sys, "allocator", -250);
	CHECK_EQ(buddy_bind_task(sys, me), 0);
	check_clean(sys, "setup");

	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 0, 0), hog);
	CHECK_EQ(buddy_bind_task(sys, 0), 0);
	CHECK_EQ(oa->released_pages, 96);
	CHECK_EQ(of->released_pages, 32);
	CHECK_EQ(task_info(sys, hog).rss_pages, 0);

	char quiet_line[BUDDY_LOG_LINE], hog_line[BUDDY_LOG_LINE], me_line[BUDDY_LOG_LINE];
	snprintf(quiet_line, sizeof(quiet_line), "[%7d]     0 %5d        3        3        3        0         0        "
		 "0        0         -1000 quiet", quiet, quiet);
	snprintf(hog_line, sizeof(hog_line), "[%7d]     0 %5d      128      128       96       32         0        "
		 "0        0             0 hog", hog, hog);
	snprintf(me_line, sizeof(me_line), "[%7d]     0 %5d        0        0        0        0         0        "
		 "0        0          -250 allocator", me, me);
	char summary[BUDDY_LOG_LINE], killed[BUDDY_LOG_LINE], reaped[BUDDY_LOG_LINE];
	snprintf(summary, sizeof(summary), "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,"
		 "mems_allowed=0,global_oom,task_memcg=/,task=hog,pid=%d,uid=0", hog);
	snprintf(killed, sizeof(killed), "Out of memory: Killed process %d (hog) total-vm:512kB, anon-rss:384kB, "
		 "file-rss:128kB, shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:0", hog);
	snprintf(reaped, sizeof(reaped), "oom_reaper: reaped process %d (hog), now anon-rss:0kB, file-rss:0kB, "
		 "shmem-rss:0kB", hog);
	const char *lines[] = {
		"allocator invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=-250",
		"Mem-Info:",
		"Tasks state (memory values in pages):",
		"[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents "
		"oom_score_adj name",
		quiet_line,
		hog_line,
		me_line,
		summary,
		killed,
		reaped,
	};
	check_log_lines(sys, lines, (int)(sizeof(lines) / sizeof(lines[0])));
	CHECK(log_has(sys, "\nNode 0 Normal free:"), "per-zone Mem-Info line");
	CHECK(log_has(sys, "\nNode 0 DMA32: "), "per-zone buddy line");
	CHECK(log_has(sys, "\nlowmem_reserve[]: "), "lowmem_reserve line");
	check_clean(sys, "report");

	/* Unbound caller, order 2, no report of reaping leftovers. */
	int hog2 = spawn_task(sys, "hog2", 0, oa, 0, 10, -1, 0);
	CHECK_EQ(buddy_out_of_memory(sys, GFP_HIGHUSER_MOVABLE, 2, 0), hog2);
	char gfp_text[BUDDY_GFP_STR_MAX], header[BUDDY_GFP_STR_MAX + 128];
	buddy_gfp_format(GFP_HIGHUSER_MOVABLE, gfp_text, sizeof(gfp_text));
	snprintf(header, sizeof(header), "\ncpu0 invoked oom-killer: gfp_mask=%#x(%s), order=2, oom_score_adj=0\n",
		 GFP_HIGHUSER_MOVABLE, gfp_text);
	CHECK(log_has(sys, header), "unbound caller reported as cpu0: %s", header);
	CHECK(!log_has(sys, "stay with their owner"), "everything was reapable");
	check_clean(sys, "unbound");

	CHECK_EQ(owner_free_all(sys, ox), 3);
	owner_destroy(oa);
	owner_destroy(of);
	owner_destroy(ox);
	buddy_system_destroy(sys);
}

static void test_unreapable(void)
{
	test_section("blocks without a release op stay with their owner; the victim is not chosen twice");
	struct buddy_system *sys = make_system(2);
	struct owner *on = owner_new(&no_release_ops), *oa = owner_new(&anon_ops);

	int stuck = spawn_task(sys, "stuck", 0, on, 0, 500, -1, 0);
	int other = spawn_task(sys, "other", 0, oa, 0, 100, -1, 0);
	/* Unowned allocations are none of the reaper's business. */
	struct page *plain = buddy_alloc_pages(sys, GFP_KERNEL, 3);
	CHECK(plain != NULL, "plain allocation");
	unsigned long free_before = free_pages_all(sys);

	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 0, 0), stuck);
	CHECK_EQ(task_info(sys, stuck).rss_pages, 500);
	CHECK_EQ(owner_held_pages(on), 500);
	CHECK_EQ(free_pages_all(sys), free_before);
	char left[BUDDY_LOG_LINE];
	snprintf(left, sizeof(left), "oom_reaper: reaped process %d (stuck), now anon-rss:2000kB, file-rss:0kB, "
		 "shmem-rss:0kB\n", stuck);
	CHECK(log_has(sys, left), "reaper line shows what is left");
	CHECK(log_has(sys, "pages of process"), "leftover line");
	check_clean(sys, "unreapable");

	/* MMF_OOM_SKIP: stuck keeps 500 pages but is not chosen again. */
	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 0, 0), other);
	CHECK_EQ(oa->released_pages, 100);
	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 0, 0), -ENOENT);
	check_clean(sys, "skip");

	/* The victim's own thread, as it exits, frees the rest. */
	CHECK_EQ(owner_free_all(sys, on), 500);
	CHECK_EQ(task_info(sys, stuck).rss_pages, 0);
	CHECK_EQ(buddy_free_pages(sys, plain, 3), 0);
	check_clean(sys, "teardown");
	owner_destroy(on);
	owner_destroy(oa);
	buddy_system_destroy(sys);
}

static void test_nodemask(void)
{
	test_section("nodemask constraint: CONSTRAINT_MEMORY_POLICY scales adj by the allowed nodes, no node filter");
	for (int round = 0; round < 4; round++) {
		struct buddy_system *sys = make_numa_system();
		struct owner *ox = owner_new(&anon_ops), *oy = owner_new(&anon_ops);
		/* far: 512 pages, all on node 1.  near: 64 pages on node 0 with
		 * adj 20.  Over all memory (40960 pages, 40 a unit) near scores
		 * 64 + 800 = 864 > 512; over node 0 alone (16384 present, 16 a
		 * unit) 64 + 320 = 384 < 512. */
		int far = spawn_task(sys, "far", 0, ox, 0, 512, 1, 1ULL << 1);
		int near = spawn_task(sys, "near", 20, oy, 0, 64, 0, 1ULL << 0);
		CHECK_EQ(buddy_oom_badness(sys, near, 40960), 864);
		CHECK_EQ(buddy_oom_badness(sys, near, 16384), 384);
		check_clean(sys, "numa setup");

		static const uint64_t masks[] = { 1ULL << 0, 0, 3, 1ULL << 0 };
		static const gfp_t gfps[] = { GFP_KERNEL, GFP_KERNEL, GFP_KERNEL, GFP_KERNEL | __GFP_THISNODE };
		int want = round == 0 ? far : near;
		CHECK_EQ(buddy_out_of_memory(sys, gfps[round], 0, masks[round]), want);
		char summary[BUDDY_LOG_LINE];
		snprintf(summary, sizeof(summary), "oom-kill:constraint=%s,nodemask=%s,cpuset=/,mems_allowed=0-1,"
			 "global_oom,task_memcg=/,task=%s,pid=%d,uid=0\n",
			 round == 0 ? "CONSTRAINT_MEMORY_POLICY" : "CONSTRAINT_NONE", round == 0 ? "0" : "(null)",
			 round == 0 ? "far" : "near", want);
		CHECK(log_has(sys, summary), "round %d: %s", round, summary);
		/* A mempolicy OOM shows only the allowed nodes' zones. */
		CHECK(log_has(sys, "\nNode 1 Normal free:") == (round != 0), "round %d: node filter of Mem-Info", round);
		if (round == 0) {
			CHECK_EQ(ox->released_pages, 512);
			CHECK_EQ(oy->nr_release, 0);
		}
		check_clean(sys, "numa kill");
		owner_free_all(sys, ox);
		owner_free_all(sys, oy);
		check_clean(sys, "numa teardown");
		owner_destroy(ox);
		owner_destroy(oy);
		buddy_system_destroy(sys);
	}
}

static void test_gates_and_reserves(void)
{
	test_section("gates of __alloc_pages_may_oom, GFP_NOFS, ALLOC_OOM access, bad arguments");
	CHECK(oom_allowed(GFP_KERNEL, 0, ZONE_NORMAL), "order 0");
	CHECK(oom_allowed(GFP_KERNEL, PAGE_ALLOC_COSTLY_ORDER, ZONE_NORMAL), "order 3");
	CHECK(!oom_allowed(GFP_KERNEL, PAGE_ALLOC_COSTLY_ORDER + 1, ZONE_NORMAL), "costly order");
	CHECK(!oom_allowed(GFP_KERNEL | __GFP_NOFAIL, PAGE_ALLOC_COSTLY_ORDER + 1, ZONE_NORMAL), "NOFAIL: gates stay");
	CHECK(oom_allowed(GFP_KERNEL | __GFP_NOFAIL, 0, ZONE_NORMAL), "NOFAIL order 0");
	CHECK(!oom_allowed(GFP_KERNEL | __GFP_RETRY_MAYFAIL, 0, ZONE_NORMAL), "RETRY_MAYFAIL");
	CHECK(!oom_allowed(GFP_KERNEL | __GFP_THISNODE, 0, ZONE_NORMAL), "THISNODE");
	CHECK(!oom_allowed(GFP_KERNEL | __GFP_DMA32, 0, ZONE_DMA32), "lowmem");
	CHECK(oom_allowed(GFP_HIGHUSER_MOVABLE, 0, ZONE_MOVABLE), "movable");
	CHECK(oom_allowed(GFP_NOFS, 0, ZONE_NORMAL), "GFP_NOFS passes the gates, out_of_memory declines");

	struct buddy_system *sys = make_system(2);
	struct owner *o = owner_new(&anon_ops);
	int victim = spawn_task(sys, "victim", 0, o, 0, 16, -1, 0);
	int bystander = buddy_task_create(sys, "bystander", 0);

	/* GFP_NOFS: progress without a kill, no report. */
	CHECK_EQ(buddy_out_of_memory(sys, GFP_NOFS, 0, 0), 0);
	CHECK(!task_info(sys, victim).oom_killed, "NOFS kills nobody");
	CHECK(!log_has(sys, "invoked oom-killer"), "NOFS reports nothing");
	CHECK_EQ(buddy_out_of_memory(NULL, GFP_KERNEL, 0, 0), -EINVAL);
	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 11, 0), -EINVAL);
	CHECK_EQ(buddy_out_of_memory(sys, 0xffffffffu, 0, 0), -EINVAL);

	CHECK(!oom_reserves_allowed(sys), "unbound thread");
	CHECK_EQ(buddy_out_of_memory(sys, GFP_KERNEL, 0, 0), victim);
	CHECK(task_is_oom_victim(sys, victim), "victim");
	CHECK(!task_is_oom_victim(sys, bystander), "bystander");
	CHECK(!oom_reserves_allowed(sys), "still unbound");
	CHECK_EQ(buddy_bind_task(sys, victim), 0);
	CHECK(oom_reserves_allowed(sys), "the victim's thread may use the reserves (ALLOC_OOM)");
	CHECK_EQ(buddy_bind_task(sys, bystander), 0);
	CHECK(!oom_reserves_allowed(sys), "a bystander may not");
	CHECK_EQ(buddy_bind_task(sys, 0), 0);

	/* out_of_memory() itself, as the slow path calls it with oom_lock. */
	int v2 = spawn_task(sys, "second", 0, o, 0, 8, -1, 0);
	int got = -1;
	pthread_mutex_lock(&sys->slow->oom_lock);
	CHECK(out_of_memory_victim(sys, GFP_KERNEL, 0, 0, &got), "progress");
	pthread_mutex_unlock(&sys->slow->oom_lock);
	CHECK_EQ(got, v2);
	/* An idle task scores 0 and is still killable, as in the kernel. */
	pthread_mutex_lock(&sys->slow->oom_lock);
	CHECK(out_of_memory_victim(sys, GFP_KERNEL, 0, 0, &got), "bystander");
	CHECK_EQ(got, bystander);
	CHECK(!out_of_memory(sys, GFP_KERNEL, 0, 0), "nobody left");
	pthread_mutex_unlock(&sys->slow->oom_lock);
	check_clean(sys, "gates");
	owner_destroy(o);
	buddy_system_destroy(sys);
}

/* ---- concurrency ---- */
struct race_arg {
	struct buddy_system *sys;
	int result;
	pthread_mutex_t *gate_lock;
	pthread_cond_t *gate_cond;
	int *gate_state;
	pthread_barrier_t *barrier;
	int cpu;
};

static void *oom_caller(void *p)
{
	struct race_arg *a = p;

	buddy_bind_cpu(a->sys, a->cpu);
	if (a->barrier)
		pthread_barrier_wait(a->barrier);
	a->result = buddy_out_of_memory(a->sys, GFP_KERNEL, 0, 0);
	return NULL;
}

/* Waits until the first caller is inside its kill, then tries too. */
static void *second_caller(void *p)
{
	struct race_arg *a = p;

	buddy_bind_cpu(a->sys, a->cpu);
	pthread_mutex_lock(a->gate_lock);
	while (*a->gate_state != 1)
		pthread_cond_wait(a->gate_cond, a->gate_lock);
	pthread_mutex_unlock(a->gate_lock);
	a->result = buddy_out_of_memory(a->sys, GFP_KERNEL, 0, 0);
	pthread_mutex_lock(a->gate_lock);
	*a->gate_state = 2;
	pthread_cond_broadcast(a->gate_cond);
	pthread_mutex_unlock(a->gate_lock);
	return NULL;
}

static void test_two_callers(void)
{
	test_section("two callers at once: the trylock of oom_lock lets one kill, the other is told to retry");
	struct buddy_system *sys = make_system(2);
	pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
	int gate_state = 0;
	struct owner *oa = owner_new(&anon_ops), *ob = owner_new(&anon_ops);

	oa->gate_lock = &gate_lock;
	oa->gate_cond = &gate_cond;
	oa->gate_state = &gate_state;
	int big = spawn_task(sys, "big", 0, oa, 0, 256, -1, 0);
	int small = spawn_task(sys, "small", 0, ob, 0, 64, -1, 0);
	uint64_t kills = buddy_vm_event(sys, OOM_KILL);

	struct race_arg first = { .sys = sys, .cpu = 0 };
	struct race_arg second = { .sys = sys, .gate_lock = &gate_lock, .gate_cond = &gate_cond,
				   .gate_state = &gate_state, .cpu = 1 };
	pthread_t t1, t2;
	pthread_create(&t2, NULL, second_caller, &second);
	pthread_create(&t1, NULL, oom_caller, &first);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);

	CHECK_EQ(first.result, big);
	CHECK_EQ(second.result, -EAGAIN);
	CHECK_EQ(buddy_vm_event(sys, OOM_KILL), kills + 1);
	CHECK(!task_info(sys, small).oom_killed, "one task killed");
	CHECK_EQ(task_info(sys, small).rss_pages, 64);
	CHECK_EQ(oa->released_pages, 256);
	CHECK_EQ(ob->nr_release, 0);
	check_clean(sys, "two callers");

	/* Free-running: four callers released together.  However they
	 * interleave, each either kills a task nobody else killed or is told
	 * to retry, and OOM_KILL counts exactly the kills. */
	oa->gate_lock = NULL;
	struct owner *more[4];
	int ids[4];
	for (int i = 0; i < 4; i++) {
		char comm[16];
		snprintf(comm, sizeof(comm), "racer%d", i);
		more[i] = owner_new(&anon_ops);
		ids[i] = spawn_task(sys, comm, 0, more[i], 0, 32 + 16 * i, -1, 0);
	}
	pthread_barrier_t barrier;
	pthread_barrier_init(&barrier, NULL, 4);
	struct race_arg args[4];
	pthread_t th[4];
	kills = buddy_vm_event(sys, OOM_KILL);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct race_arg){ .sys = sys, .barrier = &barrier, .cpu = i % 2 };
		pthread_create(&th[i], NULL, oom_caller, &args[i]);
	}
	int nr_kills = 0, killed_tasks = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(args[i].result > 0 || args[i].result == -EAGAIN, "caller %d: %d", i, args[i].result);
		if (args[i].result > 0) {
			nr_kills++;
			for (int j = 0; j < i; j++)
				CHECK(args[j].result != args[i].result, "two callers killed task %d", args[i].result);
		}
	}
	killed_tasks = task_info(sys, small).oom_killed;
	for (int i = 0; i < 4; i++)
		killed_tasks += task_info(sys, ids[i]).oom_killed;
	CHECK(nr_kills >= 1, "someone killed");
	CHECK_EQ(killed_tasks, nr_kills);
	CHECK_EQ(buddy_vm_event(sys, OOM_KILL), kills + (uint64_t)nr_kills);
	pthread_barrier_destroy(&barrier);
	check_clean(sys, "four callers");

	owner_free_all(sys, ob);
	for (int i = 0; i < 4; i++) {
		owner_free_all(sys, more[i]);
		owner_destroy(more[i]);
	}
	check_clean(sys, "teardown");
	owner_destroy(oa);
	owner_destroy(ob);
	pthread_cond_destroy(&gate_cond);
	pthread_mutex_destroy(&gate_lock);
	buddy_system_destroy(sys);
}

/* Owners allocating and freeing on their own threads while the OOM killer
 * reaps them: the release/free races end with every block accounted. */
struct worker {
	struct buddy_system *sys;
	struct owner *o;
	int task, cpu;
	_Atomic bool *stop;
	long allocated;
	bool exited_killed;
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	unsigned int seed = (unsigned int)w->task * 7919u;

	buddy_bind_cpu(w->sys, w->cpu);
	buddy_bind_task(w->sys, w->task);
	while (!atomic_load(w->stop)) {
		struct buddy_task_info info;
		if (buddy_task_info(w->sys, w->task, &info) == 0 && info.oom_killed) {
			/* Killed: the task exits and lets go of the rest. */
			owner_free_all(w->sys, w->o);
			w->exited_killed = true;
			break;
		}
		seed = seed * 1103515245u + 12345u;
		unsigned int order = (seed >> 16) % 3;
		if (owner_held_pages(w->o) < 600 && ((seed >> 8) & 3) != 0) {
			if (owner_alloc(w->sys, w->o, MOVABLE_NOWAIT, order, -1, 0))
				w->allocated += 1L << order;
		} else {
			owner_free_slot(w->sys, w->o, (int)((seed >> 4) % OWNER_SLOTS));
		}
	}
	buddy_bind_task(w->sys, 0);
	return NULL;
}

static void test_stress(void)
{
	test_section("owners allocate and free on their threads while the OOM killer reaps them");
	enum { NR_WORKERS = 4 };
	struct buddy_system *sys = make_system(4);
	_Atomic bool stop = false;
	struct worker w[NR_WORKERS];
	pthread_t th[NR_WORKERS];

	for (int i = 0; i < NR_WORKERS; i++) {
		char comm[16];
		snprintf(comm, sizeof(comm), "worker%d", i);
		w[i] = (struct worker){ .sys = sys, .o = owner_new(i & 1 ? &file_ops : &anon_ops), .cpu = i,
					.stop = &stop };
		w[i].task = buddy_task_create(sys, comm, 0);
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	int kills = 0;
	for (int round = 0; round < 3; round++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		buddy_bind_cpu(sys, round % 4);
		int r = buddy_out_of_memory(sys, GFP_KERNEL, 0, 0);
		CHECK(r > 0, "round %d: %d", round, r);
		kills += r > 0;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NR_WORKERS; i++)
		pthread_join(th[i], NULL);
	buddy_bind_cpu(sys, 0);

	int killed = 0;
	long releases = 0, stale = 0, allocated = 0;
	for (int i = 0; i < NR_WORKERS; i++) {
		releases += w[i].o->nr_release;
		stale += w[i].o->stale_release;
		allocated += w[i].allocated;
	}
	/* How much the reaper overlapped the owners' own frees. */
	printf("# stress: %ld pages allocated, %ld blocks released by the reaper, %ld releases of blocks "
	       "being freed\n", allocated, releases, stale);
	for (int i = 0; i < NR_WORKERS; i++) {
		struct buddy_task_info info = task_info(sys, w[i].task);
		killed += info.oom_killed;
		CHECK_EQ(info.rss_pages, owner_held_pages(w[i].o));
		owner_free_all(sys, w[i].o);
		CHECK_EQ(task_info(sys, w[i].task).rss_pages, 0);
		CHECK_EQ(buddy_task_destroy(sys, w[i].task), 0);
		owner_destroy(w[i].o);
	}
	CHECK_EQ(killed, kills);
	CHECK_EQ(buddy_vm_event(sys, BUDDY_BAD_PAGE), 0);
	CHECK_EQ(buddy_vm_event(sys, OOM_KILL), (uint64_t)kills);
	check_clean(sys, "stress");
	buddy_system_destroy(sys);
}

int main(void)
{
	test_badness_and_selection();
	test_largest_rss_and_ties();
	test_report();
	test_unreapable();
	test_nodemask();
	test_gates_and_reserves();
	test_two_callers();
	test_stress();
	return test_done();
}
