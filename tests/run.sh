#!/usr/bin/env bash
# Runs the Criterion suite once per build variant: run.sh DIR VARIANT [DIR VARIANT ...]
#   plain: every test; asan: every test under ASan+UBSan; tsan: the concurrency suites.
# The binary runs under umockdev-wrapper so tests can build udev testbeds in-process;
# tests that need root or a kernel feature say so and why when they skip.
set -uo pipefail
cd "$(dirname "$0")/.."

total_pass=0 total_fail=0 status=0
while [ $# -ge 2 ]; do
	dir=$1 variant=$2
	shift 2
	bin=$dir/vfpool-tests
	args=()
	case $variant in
	asan) export ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:abort_on_error=0
	      export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ;;
	tsan) args+=(--filter='concurrency*/*')
	      export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ;;
	esac
	echo "== tests: $variant ($bin)"
	log=$(mktemp)
	runner=(umockdev-wrapper)
	# TSan's shadow layout wants the classic address space; ASLR with high entropy breaks it.
	[ "$variant" = tsan ] && runner=(setarch "$(uname -m)" -R umockdev-wrapper)
	VFPOOL_BUILD=$dir VFPOOL_VARIANT=$variant "${runner[@]}" "$bin" "${args[@]}" \
		--jobs=2 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -a 'Synthesis: Tested:' "$log" | tail -n1)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "== $variant: no Criterion summary (exit $rc)"
		status=1; total_fail=$((total_fail + 1)); continue
	fi
	pass=$(sed -E 's/.*Passing: *([0-9]+).*/\1/' <<<"$line")
	fail=$(sed -E 's/.*Failing: *([0-9]+).*/\1/' <<<"$line")
	crash=$(sed -E 's/.*Crashing: *([0-9]+).*/\1/' <<<"$line")
	total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail + crash))
	[ "$rc" -ne 0 ] && status=1
done
echo "check: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] || status=1
exit $status
