#!/usr/bin/env bash
# make demo: vfpoold on a simulated host (4 PFs x 64 VFs) in a private run directory,
# a launcher load through libvfpool, the snapshot it leaves, a clean stop. No root needed.
set -euo pipefail
B=${1:-build}
# a tmpfs run dir, as /run is on a real host: the lease journal lives there
base=/dev/shm; [ -d "$base" ] && [ -w "$base" ] || base=/tmp
run=$(mktemp -d "$base/vfpool-demo.XXXXXX")
log=$run/vfpoold.log
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$run"
}
trap cleanup EXIT

echo "== vfpoold --simulate 4x64 --run-dir $run"
"$B/vfpoold" --simulate 4x64 --run-dir "$run" --state-dir "$run/lib" 2>"$log" &
pid=$!
for _ in $(seq 100); do
	[ -S "$run/vfpool.sock" ] && break
	sleep 0.05
done
[ -S "$run/vfpool.sock" ] || { cat "$log"; echo "demo: vfpoold did not start"; exit 1; }

echo
echo "== launcher load (2 threads, 20000 VMs each, start + stop, 2 vNICs per VM)"
"$B/vfpool-demo-load" "$run" 2 20000

echo
echo "== vfpoolctl snapshot (what the VMs left running hold)"
"$B/vfpoolctl" --run-dir "$run" snapshot >"$run/snapshot.txt"
head -n 16 "$run/snapshot.txt"
echo "   ... ($(grep -c ' leased ' "$run/snapshot.txt") VFs leased in all)"

echo
echo "== vfpoolctl snapshot --json (first lines)"
"$B/vfpoolctl" --run-dir "$run" --json snapshot >"$run/snapshot.json"
head -c 600 "$run/snapshot.json"; echo " ..."

echo
echo "== a VF that may not be handed out: IOMMU group shared"
"$B/vfpoolctl" --run-dir "$run" alloc demo-pinned nic0 tenant --pin 0001:00:01.7 || true

echo
echo "== stopping vfpoold (SIGTERM)"
kill "$pid"
wait "$pid"
pid=
echo "daemon log:"
sed 's/^/  /' "$log" | grep -v client_ | tail -n 5
echo "  ($(grep -c client_connected "$log") client connections, each logged once)"
