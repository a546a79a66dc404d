/* The slow half of spinlock_t (spinlock.h): taking the lock word, shutting
 * an owner out with membarrier(2), and handing the lock to a new owner. */
#include <stdlib.h>

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spinlock.h"

_Thread_local char spin_thread_token_byte;

void spin_heavy_barrier(void)
{
	/* Registered in spin_bias_register() before any lock got an owner, so
	 * this cannot fail on a kernel that accepted the registration. */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		abort();
}

bool spin_take_locked(spinlock_t *l)
{
	const void *me = spin_thread_token();

	/* Already inside by the owner's way: the kernel's interrupt on the
	 * CPU that holds the lock, whose trylock fails. */
	if (atomic_load_explicit(&l->owner_busy, memory_order_relaxed) == me ||
	    atomic_load_explicit(&l->locked, memory_order_relaxed) ||
	    atomic_exchange_explicit(&l->locked, 1, memory_order_acquire))
		return false;
	const void *owner = atomic_load_explicit(&l->owner, memory_order_relaxed);
	if (owner && owner != me) {
		atomic_store_explicit(&l->revoke, 1, memory_order_relaxed);
		spin_heavy_barrier();
		for (int spins = 0; atomic_load_explicit(&l->owner_busy, memory_order_acquire); spins++) {
			if (spins < 64)
				__builtin_ia32_pause();
			else
				sched_yield();
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
	if (++l->streak >= SPIN_BIAS_STREAK && !owner && l->bias_ok)
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
