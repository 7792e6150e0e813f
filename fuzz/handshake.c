/* SPDX-License-Identifier: MIT */
/* The control socket's hello, as any local process may send it. */
#include <stdint.h>
#include <string.h>

#include "core/control_socket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfpool_ctl_hello hello;
	const char *why = NULL;

	memset(&hello, 0, sizeof(hello));
	memcpy(&hello, data, size < sizeof(hello) ? size : sizeof(hello));
	if (control_check_hello(&hello, &why) != 0 && !why)
		__builtin_trap();
	return 0;
}
