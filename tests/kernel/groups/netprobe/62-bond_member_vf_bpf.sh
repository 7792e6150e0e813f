# SPDX-License-Identifier: MIT
# A VF netdev enslaved to a bond is host-busy, "bond member of <bond>" (issue 14's rule), seen
# by the BPF-filtered probe on the real kernel's bonding (this host's kernel has none).
kt_bond_member_vf bpf
