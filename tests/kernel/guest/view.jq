# SPDX-License-Identifier: MIT
# `vfpoolctl snapshot --json` flattened for lib.sh's kt_view: one record a line, fields
# separated by \u001f (not whitespace: an empty field stays a field).
(.pfs[] | ["pf", .pci, .index, "\(.vendor):\(.device)", .driver, .total_vfs, .existing, .free,
	   .leased, .host_busy, .iommu_shared, .bound_other, .dirty] | join("\u001f")),
(.vfs | sort_by(.pf, .vf) | .[] |
	["vf", .pci, .pf, .vf, .iommu_group, .state, .netdev, .reason] | join("\u001f")),
(["probe", .probe.mode, .probe.reason] | join("\u001f"))
