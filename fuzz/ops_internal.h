/* Shared by the files of the operation language; not for the targets. */
#ifndef PAGETORTURE_FUZZ_OPS_INTERNAL_H
#define PAGETORTURE_FUZZ_OPS_INTERNAL_H

#include "ops.h"

/* Which handles a reference may name. */
enum fz_ref_class {
	FZ_REF_ANY,     /* free: every live handle */
	FZ_REF_MEMORY,  /* touch: handles that own pages */
	FZ_REF_ALLOC,   /* badfree, refree: blocks from alloc */
};

/* The handles a program holds at some op, known without running it. */
struct fz_tracker {
	uint32_t *live;   /* op indices, oldest first */
	size_t nlive, cap_live;
	uint32_t *dead;   /* alloc handles freed so far */
	size_t ndead, cap_dead;
	unsigned ntasks;
};

void fz_tracker_init(struct fz_tracker *t);
void fz_tracker_free(struct fz_tracker *t);
void fz_tracker_step(struct fz_tracker *t, const struct fz_program *p, size_t i);
size_t fz_tracker_candidates(const struct fz_tracker *t, const struct fz_program *p, enum fz_ref_class cls,
			     bool dead, uint32_t *out, size_t max);
uint32_t fz_tracker_pick(const struct fz_tracker *t, const struct fz_program *p, enum fz_ref_class cls, bool dead,
			 uint64_t sel);
int64_t fz_tracker_selector(const struct fz_tracker *t, const struct fz_program *p, enum fz_ref_class cls, bool dead,
			    uint32_t ref);
enum fz_ref_class fz_ref_class_of(unsigned code, bool *dead);
bool fz_code_makes_handle(unsigned code);
bool fz_code_takes_ref(unsigned code);
bool fz_code_takes_task(unsigned code);

void fz_program_reset(struct fz_program *p);
bool fz_machine_valid(const struct fz_machine *m);
uint64_t fz_pfn_limit(const struct fz_machine *m);
uint16_t fz_pcp_fraction_value(unsigned code);
uint16_t fz_wsf_value(unsigned code);
uint64_t fz_varint_max(void);
uint16_t fz_unit_pages(unsigned max_order, unsigned code);
uint64_t fz_machine_limit(const struct fz_machine *m);

/* The pageblock orders a header can hold for a max_order (code 0..3). */
uint8_t fz_pageblock_order_of(uint8_t max_order, int code);

#endif
