# SPDX-License-Identifier: MIT
# A VLAN device on top of a VF netdev makes the VF host-busy, seen by the BPF-filtered probe
# on the real kernel's 802.1Q (this host's kernel has none). Deleting it frees the VF.
kt_vlan_on_vf bpf
