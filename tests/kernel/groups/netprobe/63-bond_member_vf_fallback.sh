# SPDX-License-Identifier: MIT
# As bond_member_vf_bpf, with the probe's decisions in userspace (--probe fallback).
kt_bond_member_vf fallback
