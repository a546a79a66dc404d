/* spinlock_t: zone->lock and pcp->lock, the kernel's two spinlocks of the
 * allocator.  In the kernel taking one is a locked instruction; since 5.19
 * the pcp lock is one too, taken with spin_trylock on every allocation and
 * free.  Before that the owning CPU only disabled interrupts
 * (local_irq_save), and a remote CPU that wanted its lists sent it an IPI.
 * These locks keep the kernel's semantics at that older scheme's price for
 * the common case, a lock used by one thread at a time:
 *
 *  - A thread that took the lock SPIN_BIAS_STREAK times in a row with
 *    nobody else in between becomes its owner (four times as many after
 *    each time an owner was shut out, so contended locks stop flipping).  The owner enters by
 *    writing the lock's address into its own record (struct spin_thread)
 *    and reading the owner again: no locked instruction.
 *  - Anyone else takes `locked`; if there is an owner it removes it, makes
 *    every running thread of the process pass a full memory barrier
 *    (membarrier(2), the IPI) and waits until the owner's record no longer
 *    holds the lock.  The store-then-load on each side with the heavy fence on
 *    the rare one is Dekker's protocol.  Removing the owner makes a lock
 *    shared by several threads cost one locked instruction per entry, not
 *    a membarrier per entry.
 *  - An owner that finds itself removed falls back to `locked`, so a trylock
 *    fails exactly when another context holds the lock, as spin_trylock
 *    does; so does a second entry by the thread already inside (the
 *    kernel's interrupt on the holding CPU).
 *
 * Without membarrier(2), or under ThreadSanitizer (which cannot see its
 * ordering), no lock gets an owner and every entry takes `locked`.  A
 * waiter sleeps in futex(2) as a mutex does.  TSan
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
/* Each time an owner is shut out the streak that makes the next one grows
 * fourfold, up to this: a lock that keeps changing hands (a zone lock
 * shared by busy CPUs) stops getting owners and their membarrier(2)s. */
#define SPIN_BIAS_STREAK_MAX (1u << 20)
/* A record's slots, one per class of lock that may be held together: the
 * pcp lock and then the zone lock.  Another lock of a class whose slot is
 * taken (the checker holds every CPU's pcp lock of a zone) goes by `locked`. */
enum spin_slot { SPIN_SLOT_PCP, SPIN_SLOT_ZONE, SPIN_INSIDE_MAX };

/* What a remote taker must see of an owner: the locks its thread is inside
 * of by the owner's way.  Only that thread writes it.  The owner's entry
 * must store into memory no other thread writes: a thread that read "I am
 * the owner" and was preempted before its store would otherwise clobber
 * the flag of the owner that came after it.  Records live for the rest of
 * the process (spinlock.c) and are reused once their thread has exited, so
 * a lock may name the record of a thread that is gone: its slots are then
 * empty, and whichever thread gets the record next may enter that lock by
 * the owner's way, which is as safe as the dead thread doing it. */
struct spin_thread {
	_Atomic(const void *) inside[SPIN_INSIDE_MAX];
	_Atomic bool in_use;
	struct spin_thread *next;
};

/* Values of spinlock_t.locked. */
enum { SPIN_UNLOCKED, SPIN_LOCKED, SPIN_LOCKED_WAITERS };

typedef struct {
	_Atomic int locked;                   /* held by a non-owner or by the owner's slow entry */
	_Atomic(struct spin_thread *) owner;  /* or NULL */
	enum spin_slot slot;                  /* the owner's inside[] slot for this lock */
	/* Under `locked`: who took it last, how many times in a row, and the
	 * streak that makes an owner. */
	const struct spin_thread *last_locker;
	unsigned int streak;
	unsigned int bias_after;
	bool bias_ok;                         /* spin_bias_register() said yes */
} spinlock_t;

/* The calling thread's record; NULL when none could be had (no memory),
 * and the thread then always takes `locked`. */
extern _Thread_local struct spin_thread *spin_self_cache;
struct spin_thread *spin_self_slow(void);
static inline struct spin_thread *spin_self(void)
{
	struct spin_thread *me = spin_self_cache;
	return __builtin_expect(me != NULL, 1) ? me : spin_self_slow();
}
/* spinlock.c: membarrier(2) on every running thread of the process, and its
 * registration: false when the kernel (or a seccomp filter) refuses it. */
void spin_heavy_barrier(void);
bool spin_bias_register(void);

static inline void spin_lock_init(spinlock_t *l, bool bias_ok, enum spin_slot slot)
{
	atomic_init(&l->locked, SPIN_UNLOCKED);
	atomic_init(&l->owner, NULL);
	l->slot = slot;
	l->last_locker = NULL;
	l->streak = 0;
	l->bias_after = SPIN_BIAS_STREAK;
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
/* me is inside l by the owner's way.  Its own slot says so: only this
 * thread writes it, and a failed entry clears it before returning. */
static inline bool spin_inside_owned(const spinlock_t *l, const struct spin_thread *me)
{
	return me && atomic_load_explicit(&me->inside[l->slot], memory_order_relaxed) == l;
}
/* The owner's entry: true when it is in without a locked instruction.
 * slot is l->slot, a constant where the caller knows the lock's class. */
static inline __attribute__((always_inline)) bool spin_enter_owned_slot(spinlock_t *l, enum spin_slot slot)
{
	struct spin_thread *me = spin_self_cache;

	if (!me || atomic_load_explicit(&l->owner, memory_order_relaxed) != me)
		return false;
	/* The slot holds this lock on a second entry (the kernel's interrupt
	 * on the CPU that holds it, whose trylock fails) or another lock of
	 * its class; spin_take_locked() sorts out which. */
	_Atomic(const void *) *inside = &me->inside[slot];
	if (atomic_load_explicit(inside, memory_order_relaxed))
		return false;
	atomic_store_explicit(inside, l, memory_order_relaxed);
	/* The light half of the asymmetric fence; spin_heavy_barrier() is the
	 * other. */
	atomic_signal_fence(memory_order_seq_cst);
	/* owner again: a holder of `locked` may have removed it between the
	 * first look and the store.  No acquire is needed: a thread becomes
	 * the owner only while it holds `locked` itself, and stays it only
	 * while nobody else takes `locked`, so everything another holder did
	 * came before the locked section that made this thread the owner. */
	if (atomic_load_explicit(&l->owner, memory_order_relaxed) == me)
		return true;
	atomic_store_explicit(inside, NULL, memory_order_release);
	return false;
}
static inline bool spin_enter_owned(spinlock_t *l)
{
	return spin_enter_owned_slot(l, l->slot);
}
/* Out of line (spinlock.c): the fast paths reach them only when they are
 * not the owner.  spin_take_locked() is one try; spin_lock_contended()
 * sleeps on the lock word (futex(2)) as a mutex does: a holder may be
 * descheduled, or hold the lock a long time. */
bool spin_take_locked(spinlock_t *l);
void spin_lock_contended(spinlock_t *l);
void spin_wake(spinlock_t *l);

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
	if (!spin_enter_owned(l) && !spin_take_locked(l))
		spin_lock_contended(l);
#ifdef BUDDY_TSAN
	__tsan_mutex_post_lock(l, 0, 0);
#endif
}
static inline void spin_unlock(spinlock_t *l)
{
#ifdef BUDDY_TSAN
	__tsan_mutex_pre_unlock(l, 0);
#endif
	struct spin_thread *me = spin_self_cache;
	if (spin_inside_owned(l, me)) {
		atomic_store_explicit(&me->inside[l->slot], NULL, memory_order_release);
	} else {
		if (atomic_exchange_explicit(&l->locked, 0, memory_order_release) == SPIN_LOCKED_WAITERS)
			spin_wake(l);
	}
#ifdef BUDDY_TSAN
	__tsan_mutex_post_unlock(l, 0);
#endif
}

/* Entry by the owner's way only, for a fast path that must make no call:
 * one that turns back with nothing changed when this fails, to a slower
 * path that takes the lock with spin_trylock() or spin_lock().  Its
 * unlock is spin_unlock_owned().  Under TSan no lock has an owner, so
 * this always fails and needs no annotation. */
static inline __attribute__((always_inline)) bool spin_trylock_owned(spinlock_t *l, enum spin_slot slot)
{
#ifdef BUDDY_TSAN
	(void)l;
	(void)slot;
	return false;
#else
	return spin_enter_owned_slot(l, slot);
#endif
}
static inline __attribute__((always_inline)) void spin_unlock_owned(spinlock_t *l, enum spin_slot slot)
{
	(void)l;
	atomic_store_explicit(&spin_self_cache->inside[slot], NULL, memory_order_release);
}

#endif
