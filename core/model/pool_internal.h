/* SPDX-License-Identifier: MIT */
/* The two halves of a claim, named so a test can interleave other threads' steps between
 * them (tests/test_pool.c). Not for use outside core/model/pool.c otherwise. */
#ifndef VFPOOL_CORE_POOL_INTERNAL_H
#define VFPOOL_CORE_POOL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/model/pool.h"

/* Takes the slot's free bit; true when this caller won it. */
bool pool_take_slot(struct pool_pf *pf, uint32_t slot);
/* Gives a taken slot back (a claim that found it blocked after all). */
void pool_give_back(struct pool_pf *pf, uint32_t slot);

#endif
