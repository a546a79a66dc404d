/* spinlock_t: zone->lock and pcp->lock, the kernel's two spinlocks of the
 * allocator.  In the kernel taking one is a locked instruction; since 5.19
 * the pcp lock is one too, taken with spin_trylock on every allocation and
 * free.  Before that the owning CPU only disabled interrupts
 * (local_irq_save), and a remote CPU that wanted its lists sent it an IPI.
 * These locks keep the kernel's semantics at that older scheme's price for
 * the common case, a lock used by one thread at a time:
 *
 *  - A thread that took the lock SPIN_BIAS_STREAK times in a row with
 *    nobody else in between becomes its owner.  The owner enters by setting
 *    owner_busy and reading revoke: no locked instruction.
 *  - Anyone else takes `locked`; if there is an owner it sets revoke, makes
 *    every running thread of the process pass a full memory barrier
 *    (membarrier(2), the IPI), waits for owner_busy to clear and removes
 *    the owner.  The store-then-load on each side with the heavy fence on
 *    the rare one is Dekker's protocol.  Removing the owner makes a lock
 *    shared by several threads cost one locked instruction per entry, not
 *    a membarrier per entry.
 *  - An owner that finds revoke set falls back to `locked`, so a trylock
 *    fails exactly when another context holds the lock, as spin_trylock
 *    does; so does a second entry by the thread already inside (the
 *    kernel's interrupt on the holding CPU).
 *
 * Without membarrier(2), or under ThreadSanitizer (which cannot see its
 * ordering), no lock gets an owner and every entry takes `locked`.  A
 * waiter spins a little, then yields: a holder may be descheduled.  TSan
 * is told each lock is a mutex, so it checks the lock order
 * (pcp -> zone -> lru_lock) as it does for the others. */
#ifndef BUDDY_SPINLOCK_H
#define BUDDY_SPINLOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#if defined(__SANITIZE_THREAD__)
#define BUDDY_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BUDDY_TSAN 1
#endif
#endif
#ifdef BUDDY_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#define SPIN_BIAS_STREAK 64

typedef struct {
	_Atomic int locked;               /* held by a non-owner or by the owner's slow entry */
	_Atomic int revoke;               /* a holder of `locked` shuts the owner out */
	_Atomic(const void *) owner_busy; /* token of an owner inside without `locked` */
	_Atomic(const void *) owner;      /* spin_thread_token() of the owner, or NULL */
	/* Under `locked`: who took it last and how many times in a row. */
	const void *last_locker;
	unsigned int streak;
	bool bias_ok;                     /* spin_bias_register() said yes */
} spinlock_t;

/* Identifies the calling thread: the address of one of its thread-locals. */
extern _Thread_local char spin_thread_token_byte;
static inline const void *spin_thread_token(void)
{
	return &spin_thread_token_byte;
}
/* spinlock.c: membarrier(2) on every running thread of the process, and its
 * registration: false when the kernel (or a seccomp filter) refuses it. */
void spin_heavy_barrier(void);
bool spin_bias_register(void);

static inline void spin_lock_init(spinlock_t *l, bool bias_ok)
{
	atomic_init(&l->locked, 0);
	atomic_init(&l->revoke, 0);
	atomic_init(&l->owner_busy, NULL);
	atomic_init(&l->owner, NULL);
	l->last_locker = NULL;
	l->streak = 0;
	l->bias_ok = bias_ok;
#ifdef BUDDY_TSAN
	__tsan_mutex_create(l, __tsan_mutex_not_static);
#endif
}
static inline void spin_lock_destroy(spinlock_t *l)
{
#ifdef BUDDY_TSAN
	__tsan_mutex_destroy(l, __tsan_mutex_not_static);
#else
	(void)l;
#endif
}
/* The owner's entry: true when it is in without a locked instruction. */
static inline bool spin_enter_owned(spinlock_t *l)
{
	const void *me = spin_thread_token();

	if (atomic_load_explicit(&l->owner, memory_order_relaxed) != me ||
	    atomic_load_explicit(&l->owner_busy, memory_order_relaxed) == me)
		return false;
	atomic_store_explicit(&l->owner_busy, me, memory_order_relaxed);
	/* The light half of the asymmetric fence; spin_heavy_barrier() is the
	 * other.  The acquire pairs with the release of revoke in unlock. */
	atomic_signal_fence(memory_order_seq_cst);
	/* owner again: a holder of `locked` may have removed it between the
	 * first look and owner_busy. */
	if (!atomic_load_explicit(&l->revoke, memory_order_acquire) &&
	    atomic_load_explicit(&l->owner, memory_order_relaxed) == me)
		return true;
	atomic_store_explicit(&l->owner_busy, NULL, memory_order_release);
	return false;
}
/* Out of line (spinlock.c): the fast paths reach it only when they are not the owner. */
bool spin_take_locked(spinlock_t *l);

static inline bool spin_trylock(spinlock_t *l)
{
#ifdef BUDDY_TSAN
	__tsan_mutex_pre_lock(l, __tsan_mutex_try_lock);
#endif
	bool ok = spin_enter_owned(l) || spin_take_locked(l);
#ifdef BUDDY_TSAN
	__tsan_mutex_post_lock(l, __tsan_mutex_try_lock | (ok ? 0 : __tsan_mutex_try_lock_failed), 0);
#endif
	return ok;
}
static inline void spin_lock(spinlock_t *l)
{
#ifdef BUDDY_TSAN
	__tsan_mutex_pre_lock(l, 0);
#endif
	for (int spins = 0; !spin_enter_owned(l) && !spin_take_locked(l); spins++) {
		if (spins < 64)
			__builtin_ia32_pause();
		else
			sched_yield();
	}
#ifdef BUDDY_TSAN
	__tsan_mutex_post_lock(l, 0, 0);
#endif
}
static inline void spin_unlock(spinlock_t *l)
{
#ifdef BUDDY_TSAN
	__tsan_mutex_pre_unlock(l, 0);
#endif
	/* A former owner may still set owner_busy for a moment, so the
	 * token, not the flag alone, says which way this thread came in. */
	if (atomic_load_explicit(&l->owner_busy, memory_order_relaxed) == spin_thread_token()) {
		atomic_store_explicit(&l->owner_busy, NULL, memory_order_release);
	} else {
		atomic_store_explicit(&l->revoke, 0, memory_order_release);
		atomic_store_explicit(&l->locked, 0, memory_order_release);
	}
#ifdef BUDDY_TSAN
	__tsan_mutex_post_unlock(l, 0);
#endif
}

#endif
