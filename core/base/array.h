/* SPDX-License-Identifier: MIT */
/*
 * Arrays that grow as they fill: room for need elements, the capacity doubled (from first)
 * until they fit, so n appends cost O(n) copies in all. The pattern each list of the daemon
 * (PFs, VFs, IOMMU groups, uppers, journal leases, numvfs entries) had written out again.
 */
#ifndef VFPOOL_CORE_BASE_ARRAY_H
#define VFPOOL_CORE_BASE_ARRAY_H

#include <errno.h>
#include <stddef.h>

/* Makes room for need elements in array (an lvalue T *) whose capacity is cap (an unsigned
 * lvalue of any width): 0, with array and cap updated when it had to grow; -ENOMEM (out of
 * memory, or a size that overflows size_t or cap's type) with both untouched. */
#define array_reserve(array, cap, need, first)                                              \
	__extension__({                                                                     \
		_Static_assert((__typeof__(cap))-1 > 0, "array_reserve: cap is unsigned");  \
		size_t need_ = (need), cap_ = (cap);                                        \
		int r_ = 0;                                                                 \
		if (need_ > cap_) {                                                         \
			void *grown_ = array_grow((array), &cap_, need_, sizeof(*(array)),  \
						  (first), (__typeof__(cap))-1);            \
			if (grown_) {                                                       \
				(array) = grown_;                                           \
				(cap) = (__typeof__(cap))cap_;                              \
			} else {                                                            \
				r_ = -ENOMEM;                                               \
			}                                                                   \
		}                                                                           \
		r_;                                                                         \
	})

/* array_reserve's untyped step: array (elem bytes each, *cap of them) reallocated for at
 * least need > *cap elements, doubling from *cap (or first) but never past max_cap, and
 * *cap updated; NULL with array and *cap untouched when that fails. */
void *array_grow(void *array, size_t *cap, size_t need, size_t elem, size_t first,
		 size_t max_cap);

#endif
