/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>

#include "core/base/array.h"

void *array_grow(void *array, size_t *cap, size_t need, size_t elem, size_t first,
		 size_t max_cap)
{
	size_t n = *cap ? *cap : (first ? first : 1);
	void *p;

	if (need > max_cap)
		return NULL;
	while (n < need)
		n = n <= max_cap / 2 ? n * 2 : max_cap;
	if (n > max_cap)
		n = max_cap; /* a first larger than the capacity type holds */
	/* checked here rather than left to reallocarray, which ASan turns into an abort */
	if (elem && n > SIZE_MAX / elem)
		return NULL;
	p = realloc(array, n * elem);
	if (p)
		*cap = n;
	return p;
}
