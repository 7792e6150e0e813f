#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The guest's scenario runner, started by /init on the host's own bash. The kernel command
# line says what to run: ktest.group=G (tests/kernel/groups/G), ktest.boot=N of
# ktest.boots=M (a group may span reboots), ktest.build=DIR (the binaries under test,
# relative to the source tree), ktest.only=a,b (a subset of the group's scenarios).
#
# Boot: systemd-udevd from the shared /usr, `udevadm trigger` and `settle` (as
# systemd-udev-trigger.service does), the group's early.sh if it has one (what a boot runs
# before anything else, e.g. vfpool-restore-numvfs.service), then each scenario in name
# order, one bash process each, under a timeout.
#
# Results go to the writable share: <name>.result holds one line, "PASS", "FAIL <reason>"
# or "SKIP <reason>"; <name>.log has the scenario's output. A scenario that spans reboots
# ends a boot with kt_next_boot (exit 78) and runs again on the next one; it gets its result
# on the boot where it finishes. One with no result at the end is failed by the host.
set -uo pipefail

arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^ktest\.$1=//p" | tail -n1; }

group=$(arg group)
boot=$(arg boot)
boots=$(arg boots)
build=$(arg build)
only=$(arg only)
here=/src/tests/kernel
groupdir=$here/groups/$group
res=/results

export KT_HERE=$here KT_GROUP=$group KT_BOOT=${boot:-1} KT_BOOTS=${boots:-1}
export KT_BUILD=/src/${build:-build} KT_PERSIST=/persist KT_RESULTS=$res KT_STATE=/run/ktest
mkdir -p "$KT_STATE"

say() { echo "ktest: $*"; }
now_ms() { local t; read -r t _ </proc/uptime; echo "${t/./}0"; }

if [ -z "$group" ] || [ ! -d "$groupdir" ]; then
	say "no such group '$group'" | tee "$res/init-failed"
	exit 1
fi
say "group $group, boot $KT_BOOT of $KT_BOOTS, kernel $(uname -r)"
touch "$res/boot$KT_BOOT.started" # userspace runs: the host never boots this one again

# ---- udev ------------------------------------------------------------------------------
udevd=/usr/lib/systemd/systemd-udevd
if [ ! -x "$udevd" ]; then
	say "no $udevd in the shared /usr (package udev)" | tee "$res/init-failed"
	exit 1
fi
t0=$(now_ms)
"$udevd" --resolve-names=never >"$res/udevd-boot$KT_BOOT.log" 2>&1 &
echo $! >"$KT_STATE/udevd.pid"
for ((i = 0; i < 300; i++)); do udevadm control --ping >/dev/null 2>&1 && break; sleep 0.1; done
udevadm trigger --type=subsystems --action=add
udevadm trigger --type=devices --action=add
if ! udevadm settle --timeout=60; then
	say "udevadm settle timed out" | tee "$res/init-failed"
	exit 1
fi
say "udev settled in $(($(now_ms) - t0)) ms"

# ---- early: what the boot runs before anything else ------------------------------------
if [ -f "$groupdir/early.sh" ]; then
	bash "$groupdir/early.sh" >"$res/early-boot$KT_BOOT.log" 2>&1
	echo $? >"$KT_STATE/early.status"
	say "early.sh exited with $(cat "$KT_STATE/early.status")"
fi

# ---- scenarios ---------------------------------------------------------------------------
selected() {
	[ -z "$only" ] && return 0
	case ",$only," in *",$1,"*) return 0 ;; esac
	return 1
}

# Kills what a scenario left running (its own record of pids, then any vfpoold: this is
# the guest, every process here is the test's) and deletes the network namespaces it made.
reap() {
	local pid
	if [ -f "$KT_STATE/pids" ]; then
		while read -r pid; do kill -9 "$pid" 2>/dev/null; done <"$KT_STATE/pids"
		rm -f "$KT_STATE/pids"
	fi
	for pid in $(pidof vfpoold); do kill -9 "$pid" 2>/dev/null; done
	ip -all netns delete 2>/dev/null
}

for file in "$groupdir"/[0-9]*.sh; do
	[ -e "$file" ] || continue
	base=$(basename "$file" .sh)
	name=${base#*-}
	selected "$name" || continue
	[ -e "$res/$name.result" ] && continue # decided on an earlier boot
	limit=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$file" | head -n1)
	limit=${limit:-60}
	reason=$KT_STATE/$name.reason
	rm -f "$reason"
	# the log goes to tmpfs first: every write to the 9p share is a round trip to the host
	log=$KT_STATE/$name.log
	echo "== boot $KT_BOOT" >"$log"
	t0=$(now_ms)
	KT_NAME=$name KT_REASON=$reason timeout -k 5 "$limit" \
		bash -c 'source "$KT_HERE/guest/lib.sh" && set -x && source "$1"' scenario "$file" \
		>>"$log" 2>&1
	rc=$?
	ms=$(($(now_ms) - t0))
	reap
	cat "$log" >>"$res/$name.log"
	if [ -f "$KT_STATE/$name/vfpoold.log" ]; then
		cat "$KT_STATE/$name/vfpoold.log" >>"$res/$name.vfpoold.log"
	fi
	why=$(cat "$reason" 2>/dev/null)
	case $rc in
	0) line="PASS" ;;
	78)
		if [ "$KT_BOOT" -lt "$KT_BOOTS" ]; then
			say "$name: continues on boot $((KT_BOOT + 1)) ($ms ms)"
			continue
		fi
		line="FAIL asked for another boot on the group's last (boot $KT_BOOT of $KT_BOOTS)" ;;
	77) line="SKIP ${why:-no reason given}" ;;
	124 | 137) line="FAIL timed out after ${limit} s${why:+ ($why)}" ;;
	*) line="FAIL ${why:-exit status $rc; see $name.log}" ;;
	esac
	echo "$line" >"$res/$name.result"
	echo "$ms" >"$res/$name.ms"
	say "$name: $line ($ms ms)"
done
touch "$res/boot$KT_BOOT.done"
