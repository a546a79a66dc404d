/* The injected-bug registry (issue 7): allocator mistakes of the kind the
 * kernel's history records, each compiled in only by its own build option,
 * so that the fuzzers and the stress driver can be scored on finding them.
 *
 *   cmake -DBUDDY_BUG=zone_merge ...   adds -DBUDDY_BUG_ZONE_MERGE=1
 *
 * A normal build has none of them.  Each bug is a `#ifdef BUDDY_BUG_<NAME>`
 * ... `#else` ... `#endif` around the smallest change that makes the
 * mistake, in the file the entry names; `grep -n BUDDY_BUG_ alloc/` lists
 * them all.
 *
 * One entry per bug, in this form (tools/scoreboard/ parses these lines, so
 * keep each field a single string literal and each entry on its lines):
 *
 *   BUG(name, "file", "part", "engines", "stress profile", "sanitizer",
 *       "what it breaks")
 *
 *   name            lower case; the option value and, upper-cased, the macro
 *   file            where the #ifdef is
 *   part            the part of the allocator (as docs and reports group them)
 *   engines         the engines expected to find it: libfuzzer, afl, stress;
 *                   "oracle" when no engine can today (the report says what
 *                   would catch it)
 *   stress profile  the stress driver's profile that exercises the code
 *   sanitizer       the build the stress driver runs under: asan (ASan+UBSan,
 *                   the dev preset) or tsan
 *   what it breaks  one sentence
 *
 * The scoreboard never tells an engine which bug is in: the expected engines
 * are only for the report's "expected" column. */
#ifndef BUDDY_BUGS_H
#define BUDDY_BUGS_H

#define BUDDY_BUGS(BUG)                                                                                              \
	BUG(zone_merge, "alloc/page_alloc.c", "buddy core", "libfuzzer,afl", "mixed-orders", "asan",               \
	    "find_buddy_page() no longer checks that the buddy is in the same zone, so a block merges with a free block of the neighbouring zone or node and the merged block straddles the boundary") \
	BUG(merge_isolated, "alloc/page_alloc.c", "buddy core", "libfuzzer,afl,stress", "cma", "asan",             \
	    "__free_one_page() merges across pageblocks of any migratetype at pageblock order and above, so an ISOLATE, CMA or HIGHATOMIC pageblock is swallowed and retyped by its ordinary neighbour") \
	BUG(top_order_merge, "alloc/page_alloc.c", "buddy core", "libfuzzer,afl,stress", "mixed-orders", "asan",  \
	    "__free_one_page() stops merging one order early, so two free MAX_PAGE_ORDER-1 buddies stay apart and no MAX_PAGE_ORDER block ever forms") \
	BUG(expand_account, "alloc/page_alloc.c", "buddy core", "libfuzzer,afl,stress", "mixed-orders", "asan",   \
	    "page_del_and_expand() forgets the pages expand() put back, so NR_FREE_PAGES drops by the whole split block instead of the pages handed out") \
	BUG(highatomic_free_drift, "alloc/page_alloc.c", "highatomic", "libfuzzer,afl,stress", "mixed-orders", "asan", \
	    "account_freepages() adds freed HIGHATOMIC pages to nr_free_highatomic but never takes allocated ones off, so the count drifts up and the watermark check hides ever more free memory") \
	BUG(cma_unmovable, "alloc/page_alloc.c", "CMA", "libfuzzer,afl", "cma", "asan",                          \
	    "__rmqueue() falls back to the CMA free lists without ALLOC_CMA, so an unmovable or reclaimable request is served from a CMA pageblock that cma_alloc() may need back") \
	BUG(thisnode_fallback, "alloc/page_alloc.c", "NUMA", "libfuzzer,afl,stress", "mixed-orders", "asan",       \
	    "prepare_alloc_pages() uses the fallback zonelist for __GFP_THISNODE, so a request pinned to a node is served from another node") \
	BUG(double_free, "alloc/page_alloc.c", "free path", "libfuzzer,afl", "pcp-churn", "asan",                  \
	    "free_pages_prepare() takes a block still on a pcp list for an allocated one and lets a zero refcount pass, so a second free of a recently freed page goes unnoticed and links it into a pcp list twice") \
	BUG(pcp_bulk_count, "alloc/pcp.c", "pcp", "libfuzzer,afl,stress", "pcp-churn", "asan",                     \
	    "free_pcppages_bulk() takes one page off pcp->count per block instead of 2^order, so the count drifts up whenever a high-order pcp block goes back to the zone") \
	BUG(pcp_unlocked, "alloc/internal.h", "pcp", "stress", "pcp-churn", "tsan",                                \
	    "free_unref_page() puts the block on the pcp list without taking pcp->lock, racing a drain or an allocation from another thread on the same pcp") \
	BUG(claim_leftover, "alloc/pageblock.c", "migratetype fallback", "libfuzzer,afl,stress", "fragmenter", "asan", \
	    "try_to_claim_block() retypes the claimed pageblock but leaves its free pages on the old type's free lists") \
	BUG(steal_wrong_list, "alloc/pageblock.c", "migratetype fallback", "libfuzzer,afl,stress", "fragmenter", "asan", \
	    "__rmqueue_fallback_steal() splits the stolen block with the requested type, so the unused halves land on that type's lists inside a pageblock of the other type and the per-type counts drift") \
	BUG(highatomic_unreserve, "alloc/pageblock.c", "highatomic", "libfuzzer,afl,stress", "mixed-orders", "asan", \
	    "unreserve_highatomic_pageblock() takes only the free block's own size off nr_reserved_highatomic when it hands back a whole pageblock, so the reserve count drifts up") \
	BUG(wmark_lowmem, "alloc/internal.h", "watermarks", "libfuzzer,afl", "mixed-orders", "asan",                \
	    "__zone_watermark_ok() and the order-0 fast check ignore lowmem_reserve, so GFP_KERNEL and movable requests drain ZONE_DMA and ZONE_DMA32 down to min") \
	BUG(gfp_bad_zone, "alloc/gfp.c", "GFP", "libfuzzer,afl", "mixed-orders", "asan",                            \
	    "the GFP zone table maps __GFP_DMA|__GFP_HIGHMEM to ZONE_DMA instead of GFP_ZONE_BAD, so an invalid zone combination is served") \
	BUG(compact_scanners_cross, "alloc/compaction.c", "compaction", "libfuzzer,afl,stress", "thp", "asan",     \
	    "compact_scanners_met() compares with < where the kernel has <=, so the free and migrate scanners meet in one pageblock without noticing and compaction loops forever") \
	BUG(migrate_nocopy, "alloc/owner.c", "migration", "libfuzzer,afl,stress", "thp", "asan",                    \
	    "migrate_isolated_page() moves the owner to the new block without copying the contents") \
	BUG(migrate_no_notify, "alloc/owner.c", "migration", "libfuzzer,afl,stress", "thp", "asan",                 \
	    "migrate_isolated_page() frees the old block without calling the owner's migrate callback, so the owner keeps using a freed block") \
	BUG(kswapd_low_wmark, "alloc/vmscan.c", "reclaim", "oracle", "pressure", "asan",                              \
	    "kswapd's zone_balanced() checks the low watermark instead of high, so kswapd stops as soon as a zone is above low and direct reclaim takes over") \
	BUG(oom_unkillable, "alloc/oom_kill.c", "OOM", "oracle", "oom-storm", "asan",                              \
	    "oom_badness() no longer treats oom_score_adj -1000 as unkillable, so the OOM killer can pick a task that asked never to be killed") \
	BUG(offline_leftover, "alloc/memory_hotplug.c", "hotplug", "libfuzzer,afl,stress", "hotplug", "asan",       \
	    "__offline_isolated_pages() marks the free pages of the range offline but leaves them on the ISOLATE free lists") \
	BUG(hwpoison_breakdown, "alloc/memory_failure.c", "hwpoison", "libfuzzer,afl,stress", "hwpoison", "asan",  \
	    "break_down_buddy_pages() gives the upper part back starting at the poisoned pfn instead of the one after, so the poisoned page goes back to the free lists too")

/* The bug compiled into this build, as a string, or NULL.  CMake defines
 * BUDDY_BUG_NAME next to BUDDY_BUG_<NAME>; only code that asks uses it, so
 * every other file preprocesses the same in every bug build. */
#ifdef BUDDY_BUG_NAME
#define BUDDY_BUG_ACTIVE BUDDY_BUG_NAME
#else
#define BUDDY_BUG_ACTIVE ((const char *)0)
#endif

/* A bug build without its name (or the other way round) is a build system
 * mistake: only CMake's BUDDY_BUG option should set these. */
#if defined(BUDDY_BUG_NAME) != (defined(BUDDY_BUG_ZONE_MERGE) + defined(BUDDY_BUG_MERGE_ISOLATED) +               \
				  defined(BUDDY_BUG_TOP_ORDER_MERGE) + defined(BUDDY_BUG_EXPAND_ACCOUNT) +          \
				  defined(BUDDY_BUG_HIGHATOMIC_FREE_DRIFT) + defined(BUDDY_BUG_CMA_UNMOVABLE) +     \
				  defined(BUDDY_BUG_THISNODE_FALLBACK) + defined(BUDDY_BUG_DOUBLE_FREE) +           \
				  defined(BUDDY_BUG_PCP_BULK_COUNT) + defined(BUDDY_BUG_PCP_UNLOCKED) +             \
				  defined(BUDDY_BUG_CLAIM_LEFTOVER) + defined(BUDDY_BUG_STEAL_WRONG_LIST) +         \
				  defined(BUDDY_BUG_HIGHATOMIC_UNRESERVE) + defined(BUDDY_BUG_WMARK_LOWMEM) +      \
				  defined(BUDDY_BUG_GFP_BAD_ZONE) + defined(BUDDY_BUG_COMPACT_SCANNERS_CROSS) +     \
				  defined(BUDDY_BUG_MIGRATE_NOCOPY) + defined(BUDDY_BUG_MIGRATE_NO_NOTIFY) +        \
				  defined(BUDDY_BUG_KSWAPD_LOW_WMARK) + defined(BUDDY_BUG_OOM_UNKILLABLE) +         \
				  defined(BUDDY_BUG_OFFLINE_LEFTOVER) + defined(BUDDY_BUG_HWPOISON_BREAKDOWN))
#error "one BUDDY_BUG_<NAME> of alloc/bugs.h and BUDDY_BUG_NAME go together: set them with cmake -DBUDDY_BUG=name"
#endif

#endif
