/* SPDX-License-Identifier: MIT */
/* Raw ring entries, as a hostile client would write them, through the request decoder. */
#include <stdint.h>
#include <string.h>

#include "core/model/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfpool_sqe sqe;
	struct request req;
	const char *why = NULL;

	memset(&sqe, 0, sizeof(sqe));
	memcpy(&sqe, data, size < sizeof(sqe) ? size : sizeof(sqe));
	if (request_decode(&sqe, &req, &why) == 0) {
		/* what the engine relies on: every string ends inside its field */
		if (!memchr(req.vm_id, 0, sizeof(req.vm_id)) ||
		    !memchr(req.vnic_id, 0, sizeof(req.vnic_id)) ||
		    !memchr(req.network, 0, sizeof(req.network)) ||
		    !memchr(req.pin_pci, 0, sizeof(req.pin_pci)))
			__builtin_trap();
	} else if (!why) {
		__builtin_trap(); /* every refusal says why */
	}
	return 0;
}
