# SPDX-License-Identifier: MIT
# As vlan_on_vf_bpf, with the probe's decisions in userspace (--probe fallback).
kt_vlan_on_vf fallback
