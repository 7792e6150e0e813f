/* SPDX-License-Identifier: MIT */
#ifndef VFPOOL_TESTS_K8S_ASSERT_STR_H
#define VFPOOL_TESTS_K8S_ASSERT_STR_H

#include <string>

#include <criterion/criterion.h>

/* cr_assert_str_eq keeps pointers into its arguments past their full expression: a
 * temporary's c_str() would dangle. This one copies both first. */
#define assert_str_eq(got, want, ...)                                                        \
	do {                                                                                 \
		std::string got_ = (got), want_ = (want);                                    \
		cr_assert_str_eq(got_.c_str(), want_.c_str(), ##__VA_ARGS__);                \
	} while (0)

#endif
