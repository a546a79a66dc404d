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
#include <stdio.h>
#include <stdlib.h>

#include <linux/futex.h>
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

/* `locked` was just taken: shut out an owner, count the streak. */
static void spin_locked_taken(spinlock_t *l, struct spin_thread *me)
{
	struct spin_thread *owner = atomic_load_explicit(&l->owner, memory_order_relaxed);
	if (owner && owner != me) {
		/* Removed first: an entry by the owner's way reads the owner
		 * again after marking itself inside, so after the barrier it
		 * either saw this or is seen inside. */
		atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
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
		owner = NULL;
		if (l->bias_after < SPIN_BIAS_STREAK_MAX)
			l->bias_after *= 4;
	}
	if (l->last_locker != me) {
		l->last_locker = me;
		l->streak = 0;
	}
	/* Nobody else is inside (`locked` held, no owner): becoming the owner
	 * needs no fence. */
	if (++l->streak >= l->bias_after && !owner && me && l->bias_ok)
		atomic_store_explicit(&l->owner, me, memory_order_relaxed);
}

bool spin_take_locked(spinlock_t *l)
{
	struct spin_thread *me = spin_self();
	int unlocked = SPIN_UNLOCKED;

	if (spin_inside_owned(l, me) || atomic_load_explicit(&l->locked, memory_order_relaxed) ||
	    !atomic_compare_exchange_strong_explicit(&l->locked, &unlocked, SPIN_LOCKED, memory_order_acquire,
						     memory_order_relaxed))
		return false;
	spin_locked_taken(l, me);
	return true;
}

void spin_lock_contended(spinlock_t *l)
{
	struct spin_thread *me = spin_self();

	if (spin_inside_owned(l, me)) {
		/* The kernel would hang here; lockdep would name it. */
		fprintf(stderr, "pagetorture: BUG: recursive spin_lock of %p\n", (void *)l);
		abort();
	}
	/* No spinning first: measured on a zone lock shared by two busy CPUs,
	 * a hundred pauses cost several times the sleep (glibc's default mutex
	 * does not spin either). */
	for (;;) {
		if (spin_enter_owned(l))
			return;
		/* Taken as "locked, maybe with waiters": its unlock wakes one. */
		if (atomic_exchange_explicit(&l->locked, SPIN_LOCKED_WAITERS, memory_order_acquire) == SPIN_UNLOCKED) {
			spin_locked_taken(l, me);
			return;
		}
		syscall(SYS_futex, &l->locked, FUTEX_WAIT_PRIVATE, SPIN_LOCKED_WAITERS, NULL, NULL, 0);
	}
}

void spin_wake(spinlock_t *l)
{
	syscall(SYS_futex, &l->locked, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

bool spin_bias_register(void)
{
#ifdef BUDDY_TSAN
	return false;
#else
	return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#endif
}
