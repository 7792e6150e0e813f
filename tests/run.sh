#!/usr/bin/env bash
# Runs the suites once per build variant: run.sh DIR VARIANT [DIR VARIANT ...]
#   plain: every Criterion test; asan: every Criterion test under ASan+UBSan;
#   k8s, k8s-asan: the Kubernetes device plugin's Criterion suite (vfpool-k8s-tests), plain
#          and under ASan+UBSan;
#   tsan:  the concurrency scenarios under ThreadSanitizer, through vfpool-stress (Criterion
#          itself cannot run under TSan: Snaipe/Criterion#274; the scenarios are the same code
#          the Criterion "concurrency" suite runs).
#   mutant: the scenario blocked_slot_never_returned against a pool without the claim's
#          re-check (vfpool-stress-mutant): it must fail, which counts as one pass.
#   python: the vfpool Python module's unittest suite (tests/python.sh), plain build only
#          (ctypes cannot load a sanitized library without preloading the runtime).
#   kernel: DIR's binaries on a real kernel in QEMU guests (tests/kernel/run.sh, which ends
#          with "kernel: N passed, M failed, K skipped"; its SKIP and XFAIL lines are the
#          skips listed here).
# The Criterion binary runs under umockdev-wrapper so tests can build udev testbeds
# in-process; tests that need root or a kernel feature say so and why when they skip. Every
# skip is listed with its reason at the end (from Criterion's TAP report) and counted.
set -uo pipefail
cd "$(dirname "$0")/.."

total_pass=0 total_fail=0 status=0
skips=$(mktemp) fails=$(mktemp)
trap 'rm -f "$skips" "$fails"' EXIT
# no_summary VARIANT RC: a suite that ended without its summary line counts as one failure
no_summary() {
	echo "== $1: no summary (exit $2)"
	echo "[$1] the suite ended without its summary (exit $2)" >>"$fails"
	status=1; total_fail=$((total_fail + 1))
}
while [ $# -ge 2 ]; do
	dir=$1 variant=$2
	shift 2
	log=$(mktemp)
	case $variant in
	kernel)
		echo "== tests: kernel ($dir binaries in QEMU guests)"
		bash tests/kernel/run.sh --build "$dir" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		line=$(grep -a '^kernel: [0-9]* passed' "$log" | tail -n1)
		if [ -z "$line" ]; then
			no_summary kernel "$rc"; rm -f "$log"; continue
		fi
		sed -nE 's/^\[FAIL\] (.*)$/[kernel] \1/p' "$log" >>"$fails"
		pass=$(sed -E 's/^kernel: ([0-9]+) passed.*/\1/' <<<"$line")
		fail=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
		# "[SKIP] group/name: reason", "[XFAIL] group/name (1.2 s): reason"
		sed -nE 's/^\[(SKIP|XFAIL)\] ([^ :]+)( \([0-9.]+ s\))?: (.*)$/[kernel] \2: \1 \4/p' \
			"$log" >>"$skips"
		;;
	mutant)
		echo "== tests: mutant ($dir/vfpool-stress-mutant: claims without the re-check)"
		# not shown as is: its own "0 passed, 1 failed" line is the expected outcome
		"$dir/vfpool-stress-mutant" blocked_slot_never_returned >"$log" 2>&1
		rc=0
		# caught for the right reason: a blocked slot came back, not "no race happened"
		want='^\[FAIL\] concurrency::blocked_slot_never_returned: '
		want+='.*returned although blocked'
		caught=$(grep -a "$want" "$log")
		if [ -n "$caught" ]; then
			echo "[PASS] mutant detected: ${caught#*blocked_slot_never_returned: }"
			pass=1 fail=0
		else
			grep -av '^stress: ' "$log" | sed 's/^/  mutant: /'
			echo "[FAIL] mutant not detected: blocked_slot_never_returned passes" \
				"a pool whose claim does not re-check the block reasons"
			pass=0 fail=1
			echo "[mutant] blocked_slot_never_returned passed a pool without the re-check" >>"$fails"
		fi
		;;
	tsan)
		echo "== tests: tsan ($dir/vfpool-stress)"
		# TSan's shadow layout wants the classic address space; high-entropy ASLR breaks it.
		TSAN_OPTIONS=halt_on_error=1:exitcode=66 setarch "$(uname -m)" -R \
			"$dir/vfpool-stress" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		line=$(grep -a '^stress: ' "$log" | tail -n1)
		if [ -z "$line" ]; then
			no_summary tsan "$rc"; rm -f "$log"; continue
		fi
		sed -nE 's/^\[FAIL\] (.*)$/[tsan] \1/p' "$log" >>"$fails"
		pass=$(sed -E 's/^stress: ([0-9]+) passed.*/\1/' <<<"$line")
		fail=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
		if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then # a TSan report ends the run early
			fail=1; echo "[tsan] vfpool-stress exited $rc (a ThreadSanitizer report?)" >>"$fails"
		fi
		;;
	python)
		# the vfpool Python module (ctypes over $dir's libvfpool) against $dir's daemon
		echo "== tests: python (client/python against $dir)"
		bash tests/python.sh "$dir" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		sed -nE 's/^python: skipped (.*)$/[python] \1/p' "$log" >>"$skips"
		line=$(grep -a '^python: [0-9]* passed' "$log" | tail -n1)
		if [ -z "$line" ]; then
			no_summary python "$rc"; rm -f "$log"; continue
		fi
		grep -aE '^(FAIL|ERROR): ' "$log" | sed 's/^/[python] /' >>"$fails"
		pass=$(sed -E 's/^python: ([0-9]+) passed.*/\1/' <<<"$line")
		fail=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
		if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
			fail=1; echo "[python] tests/python.sh exited $rc" >>"$fails"
		fi
		;;
	*)
		# k8s, k8s-asan: the device plugin's suite (C++, its own binary, no udev testbeds)
		bin=vfpool-tests wrap=umockdev-wrapper
		case $variant in k8s*) bin=vfpool-k8s-tests wrap= ;; esac
		if [ "$variant" = asan ] || [ "$variant" = k8s-asan ]; then
			export ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1
			export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		fi
		echo "== tests: $variant ($dir/$bin)"
		tap=$(mktemp)
		VFPOOL_BUILD=$dir VFPOOL_VARIANT=$variant $wrap "$dir/$bin" \
			--jobs=2 --tap="$tap" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		# "ok - suite::name  # SKIP reason": Criterion prints skips only with --verbose
		sed -nE "s/^ok - (.*[^ ]) +# SKIP (.*)$/[$variant] \1: \2/p" "$tap" >>"$skips"
		awk -v v="$variant" -f tests/tap_failures.awk "$tap" >>"$fails"
		rm -f "$tap"
		line=$(grep -a 'Synthesis: Tested:' "$log" | tail -n1)
		if [ -z "$line" ]; then
			no_summary "$variant" "$rc"; rm -f "$log"; continue
		fi
		pass=$(sed -E 's/.*Passing: *([0-9]+).*/\1/' <<<"$line")
		fail=$(sed -E 's/.*Failing: *([0-9]+).*/\1/' <<<"$line")
		crash=$(sed -E 's/.*Crashing: *([0-9]+).*/\1/' <<<"$line")
		fail=$((fail + crash))
		;;
	esac
	rm -f "$log"
	total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail))
	[ "$rc" -ne 0 ] && status=1
done
nskip=$(wc -l <"$skips")
if [ "$nskip" -gt 0 ]; then
	echo "== skipped ($nskip):"
	sed 's/^/  /' "$skips"
fi
nfail=$(wc -l <"$fails")
if [ "$nfail" -gt 0 ]; then
	# last, so that a log's tail names what failed
	echo "== failed ($nfail):"
	sed 's/^/  /' "$fails"
fi
echo "check: $total_pass passed, $total_fail failed, $nskip skipped"
[ "$total_fail" -eq 0 ] || status=1
exit $status
