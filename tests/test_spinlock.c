/* zone->lock and pcp->lock (alloc/spinlock.h: spinlock_t): a thread that
 * takes a lock SPIN_BIAS_STREAK times in a row becomes its owner and enters
 * without a locked instruction; anyone else shuts the owner out with
 * membarrier(2).  These tests check what the allocator relies on: mutual
 * exclusion while the owner changes under contention, a trylock that fails
 * while another context holds the lock (and on a second entry by the
 * holder), and the owner handing over.  Without membarrier(2) or under
 * ThreadSanitizer no lock gets an owner; the exclusion tests still run, on
 * the plain lock word. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#include "internal.h"
#include "tap.h"

static bool bias;

static const struct spin_thread *owner_of(spinlock_t *l)
{
	return atomic_load_explicit(&l->owner, memory_order_relaxed);
}

static void test_owner_after_streak(void)
{
	test_section("the owner after a streak, and a second entry");
	spinlock_t l;
	spin_lock_init(&l, bias, SPIN_SLOT_PCP);
	for (int i = 0; i < SPIN_BIAS_STREAK - 1; i++) {
		spin_lock(&l);
		spin_unlock(&l);
	}
	CHECK(owner_of(&l) == NULL, "an owner before the streak is complete");
	spin_lock(&l);
	spin_unlock(&l);
	CHECK(owner_of(&l) == (bias ? spin_self() : NULL), "bias %d", bias);
	CHECK(atomic_load(&l.locked) == 0);
	/* The kernel's interrupt on the CPU that holds the lock: its trylock
	 * fails, whichever way the holder came in. */
	CHECK(spin_trylock(&l));
	CHECK(!spin_trylock(&l), "a second entry by the holder succeeded");
	spin_unlock(&l);
	CHECK(atomic_load(&l.locked) == 0 && !spin_inside_owned(&l, spin_self()));
	CHECK(spin_trylock(&l));
	spin_unlock(&l);
	spin_lock_destroy(&l);
}

static void test_many_held(void)
{
	test_section("more locks held at once than a record has slots, released in taking order");
	enum { N = 3 * SPIN_INSIDE_MAX + 1 };
	static spinlock_t l[N];
	for (int i = 0; i < N; i++) {
		spin_lock_init(&l[i], bias, (enum spin_slot)(i % SPIN_INSIDE_MAX));
		for (int k = 0; k < SPIN_BIAS_STREAK; k++) {
			spin_lock(&l[i]);
			spin_unlock(&l[i]);
		}
	}
	for (int i = 0; i < N; i++)
		CHECK(spin_trylock(&l[i]), "lock %d", i);
	int owned = 0;
	for (int i = 0; i < N; i++) {
		owned += spin_inside_owned(&l[i], spin_self());
		CHECK(!spin_trylock(&l[i]), "a second entry of lock %d succeeded", i);
	}
	CHECK_EQ(owned, bias ? SPIN_INSIDE_MAX : 0);
	for (int i = 0; i < N; i++)
		spin_unlock(&l[i]);
	for (int i = 0; i < N; i++) {
		CHECK(atomic_load(&l[i].locked) == 0 && !spin_inside_owned(&l[i], spin_self()), "lock %d not free", i);
		CHECK(spin_trylock(&l[i]), "lock %d cannot be taken again", i);
		spin_unlock(&l[i]);
		spin_lock_destroy(&l[i]);
	}
}

/* A thread becomes the owner and exits; the lock still names its record. */
static void *own_and_exit(void *arg)
{
	spinlock_t *l = arg;
	for (int k = 0; k < SPIN_BIAS_STREAK + 1; k++) {
		spin_lock(l);
		spin_unlock(l);
	}
	return spin_self();
}

static void test_owner_exits(void)
{
	test_section("the owner's thread exits");
	spinlock_t l;
	spin_lock_init(&l, bias, SPIN_SLOT_PCP);
	pthread_t t;
	void *gone = NULL;
	CHECK(pthread_create(&t, NULL, own_and_exit, &l) == 0);
	pthread_join(t, &gone);
	CHECK(gone != NULL);
	CHECK(owner_of(&l) == (bias ? gone : NULL));
	CHECK(spin_trylock(&l), "the lock of an exited owner cannot be taken");
	CHECK(owner_of(&l) == NULL);
	spin_unlock(&l);
	/* The next thread gets the exited thread's record back. */
	CHECK(pthread_create(&t, NULL, own_and_exit, &l) == 0);
	void *again = NULL;
	pthread_join(t, &again);
	CHECK(again == gone, "a record was not reused");
	spin_lock_destroy(&l);
}

/* ---- another thread holds the lock ---- */
struct holder {
	spinlock_t *l;
	_Atomic int stage; /* 1: holding, 2: may release, 3: released */
};

static void *hold_lock(void *arg)
{
	struct holder *h = arg;
	spin_lock(h->l);
	atomic_store(&h->stage, 1);
	while (atomic_load(&h->stage) != 2)
		sched_yield();
	spin_unlock(h->l);
	atomic_store(&h->stage, 3);
	return NULL;
}

static void test_remote_holder(void)
{
	test_section("a remote holder shuts the owner out");
	spinlock_t l;
	spin_lock_init(&l, bias, SPIN_SLOT_PCP);
	for (int i = 0; i < SPIN_BIAS_STREAK; i++) {
		spin_lock(&l);
		spin_unlock(&l);
	}
	struct holder h = { .l = &l };
	pthread_t t;
	CHECK(pthread_create(&t, NULL, hold_lock, &h) == 0);
	while (atomic_load(&h.stage) != 1)
		sched_yield();
	CHECK(owner_of(&l) == NULL, "the owner was not removed by the remote holder");
	CHECK(!spin_trylock(&l), "trylock succeeded while another thread held the lock");
	atomic_store(&h.stage, 2);
	pthread_join(t, NULL);
	CHECK(spin_trylock(&l), "trylock failed after the holder released");
	spin_unlock(&l);
	/* The streak starts again, four times longer: the other thread broke
	 * it and shut the owner out. */
	if (bias)
		CHECK_EQ(l.bias_after, 4 * SPIN_BIAS_STREAK);
	/* The trylock above was the first of it. */
	for (unsigned int i = 0; i < 4 * SPIN_BIAS_STREAK - 2; i++) {
		spin_lock(&l);
		spin_unlock(&l);
	}
	CHECK(owner_of(&l) == NULL, "an owner before the longer streak is complete");
	for (int i = 0; i < 1; i++) {
		spin_lock(&l);
		spin_unlock(&l);
	}
	CHECK(owner_of(&l) == (bias ? spin_self() : NULL), "no new owner after a second streak");
	spin_lock_destroy(&l);
}

/* ---- exclusion while the owner changes ---- */
#define CONTENDERS 3
#define ROUNDS 40000

struct shared {
	spinlock_t lock;
	long counter;          /* plain: lost updates show a broken exclusion */
	_Atomic int inside;
	_Atomic long overlaps;
	_Atomic long owner_entries;
};

struct contender {
	struct shared *s;
	unsigned int seed;
	long done;
};

static unsigned int next_rand(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 16;
}

static void *contend(void *arg)
{
	struct contender *c = arg;
	struct shared *s = c->s;

	for (int round = 0; round < ROUNDS;) {
		/* Bursts long enough to win the lock, then a pause, so the owner
		 * keeps changing hands. */
		int burst = 1 + (int)(next_rand(&c->seed) % (2 * SPIN_BIAS_STREAK));
		for (int i = 0; i < burst && round < ROUNDS; i++, round++) {
			bool try = next_rand(&c->seed) % 4 == 0;
			if (try) {
				if (!spin_trylock(&s->lock))
					continue;
			} else {
				spin_lock(&s->lock);
			}
			if (spin_inside_owned(&s->lock, spin_self()))
				atomic_fetch_add(&s->owner_entries, 1);
			if (atomic_fetch_add(&s->inside, 1) != 0)
				atomic_fetch_add(&s->overlaps, 1);
			/* Keep owners coming: undo the growth of the streak that a
			 * shut-out owner causes (the field belongs to `locked`). */
			if (!spin_inside_owned(&s->lock, spin_self()))
				s->lock.bias_after = SPIN_BIAS_STREAK;
			/* A read, a pause and a write: a window for another entry. */
			long v = s->counter;
			for (int k = 0; k < 8; k++)
				__builtin_ia32_pause();
			s->counter = v + 1;
			c->done++;
			atomic_fetch_sub(&s->inside, 1);
			spin_unlock(&s->lock);
		}
		if (next_rand(&c->seed) % 8 == 0)
			sched_yield();
	}
	return NULL;
}

static void test_exclusion(void)
{
	test_section("mutual exclusion while the owner changes hands");
	static struct shared s;
	spin_lock_init(&s.lock, bias, SPIN_SLOT_PCP);
	struct contender c[CONTENDERS];
	pthread_t t[CONTENDERS];
	for (int i = 0; i < CONTENDERS; i++) {
		c[i] = (struct contender){ .s = &s, .seed = 7u + (unsigned int)i * 7919u };
		CHECK(pthread_create(&t[i], NULL, contend, &c[i]) == 0);
	}
	long expect = 0;
	for (int i = 0; i < CONTENDERS; i++) {
		pthread_join(t[i], NULL);
		expect += c[i].done;
	}
	CHECK_EQ(s.counter, expect);
	CHECK_EQ(atomic_load(&s.overlaps), 0);
	CHECK(atomic_load(&s.lock.locked) == 0 &&
	      !spin_inside_owned(&s.lock, spin_self()), "the lock is not free at the end");
	long owned = atomic_load(&s.owner_entries);
	if (bias)
		CHECK(owned > 0, "no entry went the owner's way");
	else
		CHECK_EQ(owned, 0);
	printf("# %ld entries, %ld of them by the owner's way without a locked instruction\n", expect, owned);
	spin_lock_destroy(&s.lock);
}

int main(void)
{
	bias = spin_bias_register();
	printf("# membarrier(2) owner entries: %s\n", bias ? "on" : "off (no membarrier, or ThreadSanitizer)");
	test_owner_after_streak();
	test_remote_holder();
	test_many_held();
	test_owner_exits();
	test_exclusion();
	return test_done();
}
