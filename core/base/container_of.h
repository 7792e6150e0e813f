/* SPDX-License-Identifier: MIT */
/* container_of: from a pointer to a member back to the structure that holds it, as in the
 * kernel: a completion handler gets its struct loop_op and finds the object around it. */
#ifndef VFPOOL_CORE_BASE_CONTAINER_OF_H
#define VFPOOL_CORE_BASE_CONTAINER_OF_H

#include <stddef.h>

/* The type check turns a member of another type into a compile error instead of a pointer
 * into the wrong object (a const member pointer is fine: qualifiers are not compared). */
#define container_of(ptr, type, member)                                                    \
	__extension__({                                                                     \
		_Static_assert(__builtin_types_compatible_p(__typeof__(*(ptr)),             \
							    __typeof__(((type *)0)->member)), \
			       "container_of: " #ptr " is not the type of " #type "." #member); \
		(type *)((char *)(ptr) - offsetof(type, member));                           \
	})

#endif
