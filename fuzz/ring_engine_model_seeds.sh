#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes the seed corpus of fuzz/ring_engine_model.c to tests/fuzz-corpus/ring_engine_model/.
# Each seed is a script in the target's encoding (see the comments in the target):
#   header: one byte per client (bits 0-1: request ring 8 << n, 2-3: completion ring 8 << n),
#           one for the host (bit 0: 2 PFs x 16 VFs, else 1 x 4; bits 1-3: leases per VM);
#   op byte: bits 5-7 the client (mod 3: 0x00, 0x20, 0x40), bits 0-4 what:
#     0x00 entry t v x      0x0a chain len kind v...    0x0f publish all   0x13 publish n
#     0x14 serve max        0x19 reap n                 0x1c scribble which off val
#     0x1d may the loop sleep (then serve)              0x1f corrupt an index
#   entry t: 0 alloc, 2 release, 3 nop; |0x04 link, |0x08 pin (alloc) or generation
#     (release; x bit 0: the held lease's), |0x10 MAC, |0x20 early, |0x40 bind, |0x80 junk flag
#   entry v: bits 0-1 VM, 2-4 vNIC, 5 network blue, 6 NUMA preference
#   chain: 1 + len % 40 entries of one VM; kind bits 0-1 the last entry's op, 2 early, 3 the
#     last entry stays linked (unfinished)
# Run from the top of the tree; the seeds are committed, rerun only to change them.
set -euo pipefail
out=tests/fuzz-corpus/ring_engine_model
mkdir -p "$out"
b() { for a; do printf "$a"; done; } # bytes, one op per line below

# rings 16/16 for every client, the 2x16 host; client 0 leases a VM's three vNICs as one
# chain, releases one of them, and asks whether the loop may sleep
{
	b '\x05\x05\x05\x01'
	b '\x0a\x02\x00' '\x00\x04\x08'	# client 0: chain of 3 allocs, vm0 nic0-2
	b '\x0f' '\x14\x3f'		# publish, serve
	b '\x00\x02\x04\x00'		# release vm0/nic1
	b '\x0f' '\x14\x3f' '\x1d'	# publish, serve, may the loop sleep
} > "$out/chain_then_release"

# two clients: client 1 chains four vNICs around a VF client 0 pinned first, client 0
# releases its lease by generation, both reap, and each may sleep
{
	b '\x05\x05\x05\x01'
	b '\x00\x08\x00\x03'		# client 0: alloc vm0/nic0 pinned to VF 3
	b '\x0f' '\x14\x3f'
	b '\x2a\x03\x00' '\x01\x05\x09\x0d'	# client 1: chain of 4, vm1 nic0-3
	b '\x2f' '\x34\x3f'
	b '\x00\x0a\x00\x01'		# client 0: release vm0/nic0 of the held generation
	b '\x0f' '\x14\x3f'
	b '\x19\x08' '\x39\x08'		# both reap
	b '\x1d' '\x3d'			# may the loop sleep, for each
} > "$out/two_clients_chain_and_generation"

# the 1x4 host: client 0 chains three vNICs, client 1's chain of three finds one VF and is
# undone whole; client 0 releases one, client 1 tries again and gets two of three: undone
{
	b '\x05\x05\x05\x00'
	b '\x0a\x02\x00' '\x00\x04\x08' '\x0f' '\x14\x3f'
	b '\x2a\x02\x00' '\x01\x05\x09' '\x2f' '\x34\x3f'
	b '\x00\x02\x04\x00' '\x0f' '\x14\x3f'
	b '\x2a\x02\x00' '\x01\x05\x09' '\x2f' '\x34\x3f'
	b '\x3d'
} > "$out/small_host_chain_undone"

# 8-entry rings: an early chain of five (ten completion slots), a bound alloc with a MAC,
# a chain left unfinished, a reap and a sleep question with requests waiting
{
	b '\x00\x00\x00\x01'
	b '\x0a\x04\x04' '\x00\x04\x08\x0c\x10'	# chain of 5 early allocs
	b '\x0f' '\x14\x3f' '\x19\x08'
	b '\x00\x50\x14\x10'		# alloc vm0/nic5 bound to the client's pid, with a MAC
	b '\x0a\x02\x08' '\x01\x05\x09'	# chain of 3 whose last entry stays linked
	b '\x0f' '\x14\x3f' '\x1d' '\x19\x08' '\x1d'
} > "$out/early_bound_and_unfinished"

# quota 2 per VM on the 2x16 host: a chain of three for one VM is refused whole, singles
# fill the quota, a release by a stale generation is refused, a scribbled entry is rejected
{
	b '\x05\x05\x05\x05'
	b '\x0a\x02\x00' '\x00\x04\x08' '\x0f' '\x14\x3f'
	b '\x00\x00\x00\x00' '\x00\x00\x04\x00'	# alloc vm0/nic0, vm0/nic1
	b '\x00\x0a\x00\x08'		# release vm0/nic0 of generation 5: stale
	b '\x00\x00\x08\x00'		# alloc vm0/nic2: beyond the quota
	b '\x1c\x03\x1a\xff'		# ... made garbage: vm_id[2] = 0xff
	b '\x0f' '\x14\x3f' '\x1d'
} > "$out/quota_stale_generation_scribble"

# a bound alloc whose pid a scribble turns into 1 (init, alive on every host) before it is
# published, linked to a second alloc: the chain is served, since a bind to any live
# process is; the model must not call it malformed
{
	b '\x05\x05\x05\x01'
	b '\x00\x44\x00\x00' '\x00\x00\x04\x00'	# chain: vm0/nic0 bound to pid 0, vm0/nic1
	b '\x1c\x00\x0c\x01'		# bind_pid (entry byte 20) = 1
	b '\x0f' '\x14\x3f' '\x1d'
} > "$out/bound_to_another_live_process"

# the daemon's regression (issue 12, defect 1): a chain of allocs ending in a release
# (malformed), right after another client's chain was served; refused whole, the other
# client's leases untouched
{
	b '\x05\x05\x05\x01'
	b '\x0a\x02\x00' '\x00\x04\x08' '\x0f' '\x14\x3f'
	b '\x2a\x02\x02' '\x01\x05\x09' '\x2f' '\x34\x3f'	# alloc, alloc, release vm1/nic2
	b '\x1d' '\x3d'
} > "$out/malformed_chain_after_a_chain"
