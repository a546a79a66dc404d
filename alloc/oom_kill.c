/* The OOM killer (mm/oom_kill.c): when the slow path has nothing left, pick
 * the task whose death frees the most memory, report it the way the kernel
 * does, kill it and reap its pages.
 *
 * Tasks are the model's simulated tasks (sys->slow->tasks); a task id plays
 * the pid (and tgid), every task runs as uid 0.  No task is init and none is
 * a kernel thread, so oom_unkillable_task() never holds.  There are no
 * cpusets and no mempolicies, so oom_cpuset_eligible() is always true: the
 * kernel only filters candidates by node through an MPOL_BIND policy of the
 * candidate or a cpuset, never by where its pages happen to sit.  A nodemask
 * constraint therefore changes only totalpages (and the report).
 *
 * Victims and MMF_OOM_SKIP.  The kernel marks a victim (tsk_is_oom_victim)
 * and hands its mm to the oom_reaper thread, which sets MMF_OOM_SKIP once it
 * has reaped what it can.  While a victim is not yet MMF_OOM_SKIP, a new
 * selection aborts ("progress", nobody else dies); afterwards the victim is
 * skipped and, if memory is still short, another task is chosen.  Here the
 * reaper step runs synchronously inside out_of_memory(), under oom_lock, and
 * every selection also runs under oom_lock, so no selection can ever see a
 * victim whose reaping is still in progress: oom_killed therefore means
 * "victim, already MMF_OOM_SKIP", such a task is skipped, and the abort case
 * of oom_evaluate_task() cannot arise.  The flag stays set for the task's
 * life (the kernel's victim never comes back), so its threads keep ALLOC_OOM
 * access to the reserves to finish whatever they do.  From its choice to
 * the end of the reap the victim is pinned (OOM_REAPER_PIN on its rss, the
 * model's get_task_struct()/mmgrab()): it cannot be destroyed, and its id
 * cannot pass to a new task, while the reaper still works on it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugs.h"
#include "internal.h"
#include "oom_kill.h"

#define K(x) ((unsigned long)(x) << (PAGE_SHIFT - 10))
/* What the reaper adds to its victim's rss while it works on it. */
#define OOM_REAPER_PIN 1
#define TASK_COMM_LEN 16

static const char *const oom_constraint_text[] = {
	[CONSTRAINT_NONE] = "CONSTRAINT_NONE",
	[CONSTRAINT_CPUSET] = "CONSTRAINT_CPUSET",
	[CONSTRAINT_MEMORY_POLICY] = "CONSTRAINT_MEMORY_POLICY",
	[CONSTRAINT_MEMCG] = "CONSTRAINT_MEMCG",
};

/* What dump_task() prints of one task, read under task_lock so that the
 * table, the choice and the kill line agree with one another. */
struct oom_task_snap {
	int id;
	char comm[TASK_COMM_LEN];
	int oom_score_adj;
	unsigned long rss, rss_file;
};

struct oom_control {
	uint64_t nodemask;       /* 0 is the kernel's NULL nodemask */
	gfp_t gfp_mask;
	int order;
	unsigned long totalpages;
	enum oom_constraint constraint;
	int chosen;              /* task id, 0 if none */
	long chosen_points;
	/* current */
	char comm[TASK_COMM_LEN];
	int oom_score_adj;
	/* every task, for dump_tasks(); NULL if the host could not spare it */
	struct oom_task_snap *tasks;
	int nr_tasks;
	struct oom_task_snap victim;
};

/* ---- small helpers ---- */
static struct zone *zone_of(struct buddy_system *sys, int nid, int zid)
{
	return &sys->nodes[nid]->node_zones[zid];
}

/* Memory hotplug changes present and managed pages under the zone lock. */
static void zone_sizes(struct zone *zone, unsigned long *present, unsigned long *managed)
{
	spin_lock(&zone->lock);
	*present = zone->present_pages;
	*managed = zone->managed_pages;
	spin_unlock(&zone->lock);
}

/* node_states[N_MEMORY] */
static uint64_t nodes_with_memory(struct buddy_system *sys)
{
	uint64_t mask = 0;

	for (int nid = 0; nid < sys->nr_nodes; nid++)
		for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
			unsigned long present, managed;
			zone_sizes(zone_of(sys, nid, zid), &present, &managed);
			if (present)
				mask |= 1ULL << nid;
		}
	return mask;
}

static unsigned long node_present_pages(struct buddy_system *sys, int nid)
{
	unsigned long total = 0;

	for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
		unsigned long present, managed;
		zone_sizes(zone_of(sys, nid, zid), &present, &managed);
		total += present;
	}
	return total;
}

static unsigned long totalram_pages(struct buddy_system *sys)
{
	unsigned long total = 0;

	for (int nid = 0; nid < sys->nr_nodes; nid++)
		for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
			unsigned long present, managed;
			zone_sizes(zone_of(sys, nid, zid), &present, &managed);
			total += managed;
		}
	return total;
}

/* %*pbl of a nodemask: "0-2,5"; the caller prints "(null)" for none. */
static void format_nodelist(uint64_t mask, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int nid = 0; nid < 64 && used < len; nid++) {
		if (!(mask & (1ULL << nid)))
			continue;
		int last = nid;
		while (last + 1 < 64 && (mask & (1ULL << (last + 1))))
			last++;
		int n = last > nid ? snprintf(buf + used, len - used, "%s%d-%d", used ? "," : "", nid, last)
				   : snprintf(buf + used, len - used, "%s%d", used ? "," : "", nid);
		if (n < 0)
			return;
		used += (size_t)n;
		nid = last;
	}
}

/* Pages on the file LRU lists per owning task: the model's MM_FILEPAGES.
 * Everything else charged to a task is anonymous (MM_ANONPAGES); the model
 * has no shmem.  A file page isolated by reclaim or compaction at this
 * instant counts as anonymous: the split is a report, not an accounting.
 * page->owner of a page on an LRU list is stable under the lru_lock (it is
 * set before the page goes on and cleared after it comes off). */
static void count_file_rss(struct buddy_system *sys, unsigned long *file_rss)
{
	static const enum lru_list file_lists[] = { LRU_INACTIVE_FILE, LRU_ACTIVE_FILE };

	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		struct lruvec *lv = &sys->slow->lruvec[nid];
		pthread_mutex_lock(&lv->lock);
		for (size_t l = 0; l < sizeof(file_lists) / sizeof(file_lists[0]); l++) {
			struct list_head *head = &lv->lists[file_lists[l]];
			for (struct list_head *n = head->next; n != head; n = n->next) {
				struct page *page = container_of(n, struct page, lru);
				if (page->owner >= 1 && page->owner <= BUDDY_MAX_TASKS)
					file_rss[page->owner] += 1UL << page->order;
			}
		}
		pthread_mutex_unlock(&lv->lock);
	}
}

/* The file part of an rss read at another instant: never more than it. */
static unsigned long file_share(const unsigned long *file_rss, int task, unsigned long rss)
{
	if (!file_rss)
		return 0;
	return file_rss[task] < rss ? file_rss[task] : rss;
}

/* ---- scoring ---- */

/* oom_badness() with task_lock held.  The baseline is the task's rss plus
 * its swap entries and page-table pages; the model has neither swap nor
 * page tables, so it is rss alone. */
static long badness_locked(const struct buddy_task_rec *t, unsigned long totalpages)
{
	long adj = t->oom_score_adj;

	/* Explicitly unkillable, or already reaped (MMF_OOM_SKIP, see the
	 * top of the file); the model has no vfork. */
#ifdef BUDDY_BUG_OOM_UNKILLABLE
	if (atomic_load_explicit(&t->oom_killed, memory_order_relaxed))
#else
	if (adj == BUDDY_OOM_SCORE_ADJ_MIN || atomic_load_explicit(&t->oom_killed, memory_order_relaxed))
#endif
		return LONG_MIN;
	long points = atomic_load_explicit(&t->rss, memory_order_relaxed);
	/* The kernel divides first: adj moves the score in steps of
	 * totalpages / 1000 pages. */
	adj *= (long)(totalpages / 1000);
	return points + adj;
}

long oom_badness(struct buddy_system *sys, int task, unsigned long totalpages)
{
	long points = LONG_MIN;

	if (!sys || !sys->slow || task < 1 || task > BUDDY_MAX_TASKS)
		return LONG_MIN;
	pthread_mutex_lock(&sys->slow->task_lock);
	if (sys->slow->tasks[task].used)
		points = badness_locked(&sys->slow->tasks[task], totalpages);
	pthread_mutex_unlock(&sys->slow->task_lock);
	return points;
}

long buddy_oom_badness(struct buddy_system *sys, int task, unsigned long totalpages)
{
	return oom_badness(sys, task, totalpages);
}

bool task_is_oom_victim(struct buddy_system *sys, int task)
{
	if (!sys || !sys->slow || task < 1 || task > BUDDY_MAX_TASKS)
		return false;
	return atomic_load_explicit(&sys->slow->tasks[task].oom_killed, memory_order_acquire);
}

bool oom_reserves_allowed(struct buddy_system *sys)
{
	return task_is_oom_victim(sys, buddy_task_of_thread(sys));
}

bool oom_allowed(gfp_t gfp, unsigned int order, int highest_zoneidx)
{
	/* The OOM killer will not help higher order allocations. */
	if (order > PAGE_ALLOC_COSTLY_ORDER)
		return false;
	/* The caller has a better fallback than a dead task, and killing
	 * frees memory on no particular node. */
	if (gfp & (__GFP_RETRY_MAYFAIL | __GFP_THISNODE))
		return false;
	/* Tasks are not killed for lowmem. */
	if (highest_zoneidx < ZONE_NORMAL)
		return false;
	return true;
}

/* constrained_alloc(): what memory the failed allocation could use, which
 * sets the scale of oom_score_adj.  totalram_pages() is managed pages; the
 * mempolicy case sums node_present_pages() as the kernel does.  No swap. */
static enum oom_constraint constrained_alloc(struct buddy_system *sys, struct oom_control *oc)
{
	oc->totalpages = totalram_pages(sys);
	/* Only __GFP_NOFAIL gets here with __GFP_THISNODE: killing cannot be
	 * aimed at one node, so it is treated as unconstrained. */
	if (oc->gfp_mask & __GFP_THISNODE)
		return CONSTRAINT_NONE;
	/* A nodemask that leaves out some node with memory is a mempolicy. */
	if (oc->nodemask && (nodes_with_memory(sys) & ~oc->nodemask)) {
		oc->totalpages = 0;
		for (int nid = 0; nid < sys->nr_nodes; nid++)
			if (oc->nodemask & (1ULL << nid))
				oc->totalpages += node_present_pages(sys, nid);
		return CONSTRAINT_MEMORY_POLICY;
	}
	/* Every task is in the root cpuset: no cpuset limit. */
	return CONSTRAINT_NONE;
}

/* select_bad_process() and the kill's mark_oom_victim() in one hold of
 * task_lock.  The kernel pins the chosen task with get_task_struct(); the
 * model has no reference counts, so the victim is marked before the lock
 * drops, where a destroy and a create could otherwise hand its id to
 * another task.  Tasks are walked in id order, as for_each_process() walks
 * them in creation order, and a later task with equal points replaces the
 * earlier one (oom_evaluate_task() skips only points < chosen_points). */
static void select_bad_process(struct buddy_system *sys, struct oom_control *oc, const unsigned long *file_rss)
{
	struct buddy_slowpath *slow = sys->slow;
	int current_task = buddy_task_of_thread(sys);

	oc->chosen = 0;
	oc->chosen_points = LONG_MIN;
	oc->nr_tasks = 0;
	pthread_mutex_lock(&slow->task_lock);
	for (int id = 1; id <= BUDDY_MAX_TASKS; id++) {
		struct buddy_task_rec *t = &slow->tasks[id];
		if (!t->used)
			continue;
		if (id == current_task) {
			memcpy(oc->comm, t->comm, sizeof(oc->comm));
			oc->oom_score_adj = t->oom_score_adj;
		}
		if (oc->tasks) {
			struct oom_task_snap *s = &oc->tasks[oc->nr_tasks++];
			s->id = id;
			memcpy(s->comm, t->comm, sizeof(s->comm));
			s->oom_score_adj = t->oom_score_adj;
			long rss = atomic_load_explicit(&t->rss, memory_order_relaxed);
			s->rss = rss > 0 ? (unsigned long)rss : 0;
			s->rss_file = file_share(file_rss, id, s->rss);
		}
		long points = badness_locked(t, oc->totalpages);
		if (points == LONG_MIN || points < oc->chosen_points)
			continue;
		oc->chosen = id;
		oc->chosen_points = points;
	}
	if (oc->chosen) {
		struct buddy_task_rec *t = &slow->tasks[oc->chosen];
		long rss = atomic_load_explicit(&t->rss, memory_order_relaxed);
		oc->victim.id = oc->chosen;
		memcpy(oc->victim.comm, t->comm, sizeof(oc->victim.comm));
		oc->victim.oom_score_adj = t->oom_score_adj;
		oc->victim.rss = rss > 0 ? (unsigned long)rss : 0;
		oc->victim.rss_file = file_share(file_rss, oc->chosen, oc->victim.rss);
		/* mark_oom_victim(): from here its threads get ALLOC_OOM. */
		atomic_store_explicit(&t->oom_killed, true, memory_order_release);
		/* The reaper's mmgrab(): while the pin is held the task cannot
		 * be destroyed (its rss is not 0), so its id is not handed to a
		 * new task before the reap is done with it. */
		atomic_fetch_add_explicit(&t->rss, OOM_REAPER_PIN, memory_order_relaxed);
	}
	pthread_mutex_unlock(&slow->task_lock);
}

/* ---- the report ---- */

/* show_mem(SHOW_MEM_FILTER_NODES, nodemask), cut to what the model has:
 * the global line, per node the LRU sizes, per zone the watermarks,
 * lowmem_reserve and the buddy counts. */
static void show_mem(struct buddy_system *sys, uint64_t nodemask)
{
	unsigned long lru[NR_LRU_LISTS] = { 0 }, free = 0, free_pcp = 0, free_cma = 0;

	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		for (int l = 0; l < NR_LRU_LISTS; l++)
			lru[l] += (unsigned long)atomic_load_explicit(&sys->slow->lruvec[nid].nr_pages[l],
								       memory_order_relaxed);
		for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
			struct zone *zone = zone_of(sys, nid, zid);
			free += (unsigned long)zone_page_state(zone, NR_FREE_PAGES);
			free_pcp += (unsigned long)zone_page_state(zone, NR_ZONE_PCP);
			free_cma += (unsigned long)zone_page_state(zone, NR_FREE_CMA_PAGES);
		}
	}
	buddy_log(sys, "Mem-Info:");
	buddy_log(sys, "active_anon:%lu inactive_anon:%lu", lru[LRU_ACTIVE_ANON], lru[LRU_INACTIVE_ANON]);
	buddy_log(sys, " active_file:%lu inactive_file:%lu", lru[LRU_ACTIVE_FILE], lru[LRU_INACTIVE_FILE]);
	buddy_log(sys, " free:%lu free_pcp:%lu free_cma:%lu", free, free_pcp, free_cma);

	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		/* show_mem_node_skip(): only the nodes the allocation could use */
		if (nodemask && !(nodemask & (1ULL << nid)))
			continue;
		const struct lruvec *lv = &sys->slow->lruvec[nid];
		long n[NR_LRU_LISTS];
		for (int l = 0; l < NR_LRU_LISTS; l++)
			n[l] = atomic_load_explicit(&lv->nr_pages[l], memory_order_relaxed);
		buddy_log(sys, "Node %d active_anon:%lukB inactive_anon:%lukB active_file:%lukB inactive_file:%lukB", nid,
			  K(n[LRU_ACTIVE_ANON]), K(n[LRU_INACTIVE_ANON]), K(n[LRU_ACTIVE_FILE]),
			  K(n[LRU_INACTIVE_FILE]));
	}

	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		if (nodemask && !(nodemask & (1ULL << nid)))
			continue;
		for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
			struct zone *zone = zone_of(sys, nid, zid);
			unsigned long nr[MAX_PAGE_ORDER_LIMIT + 1], present, managed, total = 0;
			unsigned long reserve[MAX_NR_ZONES];

			zone_sizes(zone, &present, &managed);
			if (!present)
				continue;
			buddy_log(sys,
				  "Node %d %s free:%lukB boost:%lukB min:%lukB low:%lukB high:%lukB "
				  "reserved_highatomic:%luKB free_highatomic:%luKB present:%lukB managed:%lukB "
				  "free_pcp:%lukB free_cma:%lukB",
				  nid, zone->name, K(zone_page_state(zone, NR_FREE_PAGES)),
				  K(atomic_load_explicit(&zone->watermark_boost, memory_order_relaxed)),
				  K(wmark_pages(zone, WMARK_MIN)), K(wmark_pages(zone, WMARK_LOW)),
				  K(wmark_pages(zone, WMARK_HIGH)),
				  K(atomic_load_explicit(&zone->nr_reserved_highatomic, memory_order_relaxed)),
				  K(atomic_load_explicit(&zone->nr_free_highatomic, memory_order_relaxed)), K(present),
				  K(managed), K(zone_page_state(zone, NR_ZONE_PCP)),
				  K(zone_page_state(zone, NR_FREE_CMA_PAGES)));
			for (int z = 0; z < MAX_NR_ZONES; z++)
				reserve[z] = atomic_load_explicit(&zone->lowmem_reserve[z], memory_order_relaxed);
			buddy_log(sys, "lowmem_reserve[]: %lu %lu %lu %lu", reserve[0], reserve[1], reserve[2],
				  reserve[3]);

			/* The buddy counts of one zone as one consistent picture. */
			spin_lock(&zone->lock);
			for (unsigned int o = 0; o <= sys->max_order; o++) {
				nr[o] = counter_read(&zone->free_area[o].nr_free);
				total += nr[o] << o;
			}
			spin_unlock(&zone->lock);
			char line[BUDDY_LOG_LINE];
			size_t used = 0;
			int w = snprintf(line, sizeof(line), "Node %d %s: ", nid, zone->name);
			used = w > 0 ? (size_t)w : 0;
			for (unsigned int o = 0; o <= sys->max_order && used < sizeof(line); o++) {
				w = snprintf(line + used, sizeof(line) - used, "%lu*%lukB ", nr[o], K(1UL) << o);
				used += w > 0 ? (size_t)w : 0;
			}
			if (used < sizeof(line))
				snprintf(line + used, sizeof(line) - used, "= %lukB", K(total));
			buddy_log(sys, "%s", line);
		}
	}
}

/* dump_tasks(): every task, killable or not (the kernel leaves out only
 * kernel threads, init, tasks outside the OOM domain and exited ones). */
static void dump_tasks(struct buddy_system *sys, const struct oom_control *oc)
{
	buddy_log(sys, "Tasks state (memory values in pages):");
	buddy_log(sys, "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents "
		       "oom_score_adj name");
	/* No virtual memory beyond what is resident: total_vm is rss. */
	for (int i = 0; i < oc->nr_tasks; i++) {
		const struct oom_task_snap *s = &oc->tasks[i];
		buddy_log(sys, "[%7d] %5d %5d %8lu %8lu %8lu %8lu %9lu %8ld %8lu         %5hd %s", s->id, 0, s->id,
			  s->rss, s->rss, s->rss - s->rss_file, s->rss_file, 0UL, 0L, 0UL, (short)s->oom_score_adj,
			  s->comm);
	}
}

/* dump_oom_summary(): as a kernel with CONFIG_CPUSETS and CONFIG_MEMCG
 * prints it, every task sitting in the root cpuset and root memcg. */
static void dump_oom_summary(struct buddy_system *sys, const struct oom_control *oc)
{
	char nodes[160], mems[160];

	if (oc->nodemask)
		format_nodelist(oc->nodemask, nodes, sizeof(nodes));
	else
		snprintf(nodes, sizeof(nodes), "(null)");
	format_nodelist(nodes_with_memory(sys), mems, sizeof(mems));
	buddy_log(sys, "oom-kill:constraint=%s,nodemask=%s,cpuset=/,mems_allowed=%s,global_oom,task_memcg=/,"
		       "task=%s,pid=%d,uid=%d",
		  oom_constraint_text[oc->constraint], nodes, mems, oc->victim.comm, oc->victim.id, 0);
}

static void dump_header(struct buddy_system *sys, const struct oom_control *oc, bool victim)
{
	char gfp_text[BUDDY_GFP_STR_MAX];

	buddy_gfp_format(oc->gfp_mask, gfp_text, sizeof(gfp_text));
	buddy_log(sys, "%s invoked oom-killer: gfp_mask=%#x(%s), order=%d, oom_score_adj=%hd", oc->comm, oc->gfp_mask,
		  gfp_text, oc->order, (short)oc->oom_score_adj);
	show_mem(sys, oc->nodemask);
	if (oc->tasks)
		dump_tasks(sys, oc);
	if (victim)
		dump_oom_summary(sys, oc);
}

/* ---- the reaper ---- */

/* The OOM reaper's unmap of the victim's memory.  The kernel reaper only
 * tears down user mappings, whose anonymous and private pages sit on the
 * LRU; here likewise only blocks on an LRU list are candidates, because
 * only for them is page->owner published under a lock (the lru_lock) this
 * walk can take: a mapped block that never goes on an LRU (an unmovable
 * block of an owner without reclaim) cannot be recognised as the victim's
 * without racing owner_on_alloc(), and stays with its owner.  So do blocks
 * whose mapping has no release op (the owner could not be told to forget
 * them, and freeing them under its feet would be a use after free), and
 * blocks that another isolation (compaction, reclaim, contig) holds at the
 * moment.  The victim's rss after the reap shows what was left. */
static unsigned long oom_reap_task_mm(struct buddy_system *sys, int victim)
{
	unsigned long reaped = 0;

	for (int nid = 0; nid < sys->nr_nodes; nid++) {
		struct lruvec *lv = &sys->slow->lruvec[nid];
		for (int zid = 0; zid < MAX_NR_ZONES; zid++) {
			struct zone *zone = zone_of(sys, nid, zid);
			uint64_t start = zone->zone_start_pfn, end = start + zone->spanned_pages;

			for (uint64_t pfn = start; pfn < end; pfn++) {
				struct page *page = pfn_to_page(sys, pfn);
				struct buddy_mapping *m = NULL;

				/* Only heads carry PG_lru: tails are passed by. */
				if (!page_flag(page, PG_lru))
					continue;
				pthread_mutex_lock(&lv->lock);
				if (page_flag(page, PG_lru) && page->owner == (uint32_t)victim)
					m = page->mapping;
				pthread_mutex_unlock(&lv->lock);
				if (!m || !m->ops || !m->ops->release)
					continue;
				/* The owner freeing it, or someone else holding it. */
				if (!isolate_allocated_page(sys, page))
					continue;
				/* Freed and allocated again since the look. */
				if (page->owner != (uint32_t)victim || page->mapping != m) {
					putback_isolated_page(sys, page);
					continue;
				}
				unsigned int order = page->order;
				/* A free that met the isolation already let go. */
				if (!page_flag(page, PG_freeing) && m->ops->release(m, page)) {
					/* The owner is freeing it itself. */
					putback_isolated_page(sys, page);
					continue;
				}
				free_isolated_page(sys, page);
				reaped += 1UL << order;
			}
		}
	}
	return reaped;
}

static void oom_reap_task(struct buddy_system *sys, const struct oom_control *oc)
{
	struct buddy_task_rec *t = &sys->slow->tasks[oc->victim.id];
	unsigned long *file_rss = calloc(BUDDY_MAX_TASKS + 1, sizeof(*file_rss));

	oom_reap_task_mm(sys, oc->victim.id);
	if (file_rss)
		count_file_rss(sys, file_rss);
	/* mmdrop(): unpinned under task_lock, so a destroy that finds the rss
	 * at 0 takes the lock after every uncharge the reap made. */
	pthread_mutex_lock(&sys->slow->task_lock);
	long rss_now = atomic_fetch_sub_explicit(&t->rss, OOM_REAPER_PIN, memory_order_relaxed) - OOM_REAPER_PIN;
	pthread_mutex_unlock(&sys->slow->task_lock);
	unsigned long rss = rss_now > 0 ? (unsigned long)rss_now : 0;
	unsigned long file = file_share(file_rss, oc->victim.id, rss);
	free(file_rss);
	buddy_log(sys, "oom_reaper: reaped process %d (%s), now anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB",
		  oc->victim.id, oc->victim.comm, K(rss - file), K(file), 0UL);
	if (rss)
		buddy_log(sys, "oom_reaper: %lu pages of process %d (%s) stay with their owner "
			       "(not on an LRU, no release op, or held by another isolation)",
			  rss, oc->victim.id, oc->victim.comm);
}

/* ---- out_of_memory ---- */
bool out_of_memory_victim(struct buddy_system *sys, gfp_t gfp, unsigned int order, uint64_t nodemask, int *victim)
{
	struct oom_control oc = {
		.nodemask = nodemask,
		.gfp_mask = gfp,
		.order = (int)order,
	};

	if (victim)
		*victim = 0;
	/* Neither OOM notifiers nor an exiting current (task_will_free_mem)
	 * exist in the model: a task never exits on its own. */

	/* The OOM killer does not make up for reclaim that could not do IO
	 * or enter the filesystem: report progress and let the caller loop. */
	if (gfp && !(gfp & __GFP_FS))
		return true;

	oc.constraint = constrained_alloc(sys, &oc);
	if (oc.constraint != CONSTRAINT_MEMORY_POLICY)
		oc.nodemask = 0;
	/* panic_on_oom and oom_kill_allocating_task keep their default, 0. */

	snprintf(oc.comm, sizeof(oc.comm), "cpu%d", buddy_cpu_of_thread(sys));
	unsigned long *file_rss = calloc(BUDDY_MAX_TASKS + 1, sizeof(*file_rss));
	if (file_rss)
		count_file_rss(sys, file_rss);
	oc.tasks = calloc(BUDDY_MAX_TASKS, sizeof(*oc.tasks));
	select_bad_process(sys, &oc, file_rss);
	free(file_rss);

	if (!oc.chosen) {
		dump_header(sys, &oc, false);
		/* The kernel panics here ("System is deadlocked on memory"):
		 * an allocation at system level cannot go on. */
		buddy_log(sys, "Out of memory and no killable processes...");
		free(oc.tasks);
		return false;
	}

	/* oom_kill_process(); the kernel rate-limits the header, the model
	 * prints it every time so that a replay logs the same lines. */
	dump_header(sys, &oc, true);
	count_vm_events(sys, OOM_KILL, 1);
	buddy_log(sys,
		  "Out of memory: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB, "
		  "shmem-rss:%lukB, UID:%u pgtables:%lukB oom_score_adj:%hd",
		  oc.victim.id, oc.victim.comm, K(oc.victim.rss), K(oc.victim.rss - oc.victim.rss_file),
		  K(oc.victim.rss_file), 0UL, 0U, 0UL, (short)oc.victim.oom_score_adj);
	free(oc.tasks);
	oc.tasks = NULL;

	/* queue_oom_reaper() and oom_reap_task(), without the kernel's delay:
	 * see the top of the file. */
	oom_reap_task(sys, &oc);
	if (victim)
		*victim = oc.victim.id;
	return true;
}

bool out_of_memory(struct buddy_system *sys, gfp_t gfp, unsigned int order, uint64_t nodemask)
{
	return out_of_memory_victim(sys, gfp, order, nodemask, NULL);
}

int buddy_out_of_memory(struct buddy_system *sys, gfp_t gfp, unsigned int order, uint64_t nodemask)
{
	int victim = 0;

	if (!sys || !sys->slow || order > sys->max_order || (gfp & ~__GFP_BITS_MASK))
		return -EINVAL;
	if (sys->nr_nodes < 64)
		nodemask &= (1ULL << sys->nr_nodes) - 1;
	/* Like __alloc_pages_may_oom(): another OOM kill under way is
	 * progress for this caller too. */
	if (pthread_mutex_trylock(&sys->slow->oom_lock))
		return -EAGAIN;
	bool progress = out_of_memory_victim(sys, gfp, order, nodemask, &victim);
	pthread_mutex_unlock(&sys->slow->oom_lock);
	if (victim)
		return victim;
	return progress ? 0 : -ENOENT;
}
