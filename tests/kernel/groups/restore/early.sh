# SPDX-License-Identifier: MIT
# What this group's boots run after udev has settled and before anything else: the place of
# vfpool-restore-numvfs.service (After=systemd-udev-trigger/settle, Before=network-pre and
# vfpoold). It records, for the scenarios, each persisted PF's sriov_numvfs before and after
# `vfpoold --restore-numvfs` and what that printed and returned.
set -u
state=$KT_PERSIST/state
out=$KT_STATE/restore
mkdir -p "$out"
for f in "$state"/virtual_functions/*; do
	[ -e "$f" ] || continue
	pci=${f##*/}
	cat "/sys/bus/pci/devices/$pci/sriov_numvfs" >"$out/$pci.before" 2>&1
done
"$KT_BUILD/vfpoold" --restore-numvfs --state-dir "$state" >"$out/stdout" 2>"$out/stderr"
echo $? >"$out/status"
for f in "$state"/virtual_functions/*; do
	[ -e "$f" ] || continue
	pci=${f##*/}
	cat "/sys/bus/pci/devices/$pci/sriov_numvfs" >"$out/$pci.after" 2>&1
done
cat "$out/stdout" "$out/stderr"
