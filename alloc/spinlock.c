/* The slow half of spinlock_t (spinlock.h): taking the lock word, shutting
 * an owner out with membarrier(2), handing the lock to a new owner, and the
 * per-thread records the owner's entry writes.
 *
 * The records are the library's one piece of process-wide state, kept
 * here: they hold no allocator state, only which locks a thread is inside
 * of, and they must outlive both their thread (a lock may still name it)
 * and any one allocator instance (a thread uses several).  They are never
 * freed; a thread's record goes back to the pool when it exits. */
#include <pthread.h>
#include <stdlib.h>

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spinlock.h"

_Thread_local struct spin_thread *spin_self_cache;

static struct spin_thread *_Atomic spin_threads;
static pthread_once_t spin_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t spin_key;
static bool spin_key_ok;

static void spin_thread_exit(void *record)
{
	struct spin_thread *r = record;
	atomic_store_explicit(&r->in_use, false, memory_order_release);
}

static void spin_key_create(void)
{
	spin_key_ok = pthread_key_create(&spin_key, spin_thread_exit) == 0;
}

struct spin_thread *spin_self_slow(void)
{
	struct spin_thread *r;

	pthread_once(&spin_key_once, spin_key_create);
	if (!spin_key_ok)
		return NULL;
	for (r = atomic_load_explicit(&spin_threads, memory_order_acquire); r; r = r->next) {
		bool free_record = false;
		if (atomic_compare_exchange_strong_explicit(&r->in_use, &free_record, true, memory_order_acquire,
							    memory_order_relaxed))
			goto found;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	atomic_init(&r->in_use, true);
	r->next = atomic_load_explicit(&spin_threads, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&spin_threads, &r->next, r, memory_order_release,
						      memory_order_relaxed))
		;
found:
	if (pthread_setspecific(spin_key, r)) {
		atomic_store_explicit(&r->in_use, false, memory_order_release);
		return NULL;
	}
	spin_self_cache = r;
	return r;
}

void spin_heavy_barrier(void)
{
	/* Registered in spin_bias_register() before any lock got an owner, so
	 * this cannot fail on a kernel that accepted the registration. */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		abort();
}

static bool spin_thread_inside(const struct spin_thread *t, const spinlock_t *l)
{
	return atomic_load_explicit(&t->inside[l->slot], memory_order_acquire) == l;
}

bool spin_take_locked(spinlock_t *l)
{
	struct spin_thread *me = spin_self();

	if (spin_inside_owned(l, me) || atomic_load_explicit(&l->locked, memory_order_relaxed) ||
	    atomic_exchange_explicit(&l->locked, 1, memory_order_acquire))
		return false;
	struct spin_thread *owner = atomic_load_explicit(&l->owner, memory_order_relaxed);
	if (owner && owner != me) {
		atomic_store_explicit(&l->revoke, 1, memory_order_relaxed);
		spin_heavy_barrier();
		for (int spins = 0; spin_thread_inside(owner, l); ) {
			/* A bounded count: a wait may outlast any int. */
			if (spins < 64) {
				spins++;
				__builtin_ia32_pause();
			} else {
				sched_yield();
			}
		}
		atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
		owner = NULL;
	}
	if (l->last_locker != me) {
		l->last_locker = me;
		l->streak = 0;
	}
	/* Nobody else is inside (`locked` held, no owner): becoming the owner
	 * needs no fence. */
	if (++l->streak >= SPIN_BIAS_STREAK && !owner && me && l->bias_ok)
		atomic_store_explicit(&l->owner, me, memory_order_relaxed);
	return true;
}

bool spin_bias_register(void)
{
#ifdef BUDDY_TSAN
	return false;
#else
	return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#endif
}
