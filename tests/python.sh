#!/usr/bin/env bash
# python.sh BUILD_DIR: the vfpool Python module's tests (client/python/tests) with the
# system python3 against BUILD_DIR's vfpoold and libvfpool. Ends with the line
# "python: N passed, M failed, K skipped" that tests/run.sh reads, after a line
# "python: skipped TEST: REASON" per skipped test.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
py=/usr/bin/python3
if [ ! -x "$py" ]; then
	echo "python: /usr/bin/python3 is missing (make deps installs it)"
	echo "python: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
# the module's own lookup must find the build's library: point it there explicitly
VFPOOL_BUILD=$build VFPOOL_LIBRARY=$build/libvfpool.so.1 "$py" - <<'PY'
import sys, unittest
sys.path.insert(0, "client/python/tests")
suite = unittest.defaultTestLoader.discover("client/python/tests", pattern="test_*.py")
result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
skipped = len(result.skipped)
passed = result.testsRun - failed - skipped
# one line per skip, for tests/run.sh's list of skips with their reasons
for test, reason in result.skipped:
    print("python: skipped %s: %s" % (test.id(), reason))
print("python: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)
PY
