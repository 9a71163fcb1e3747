#!/bin/sh
# The whole test suite, as CI runs it: dependencies, then a build with
# -Werror, AddressSanitizer and UndefinedBehaviorSanitizer in build-check/
# and `make check` (results in build-check/test-suite.log); then the
# libFuzzer targets, built with clang in build-fuzz/, run briefly
# (`make fuzz-smoke`, a few thousand executions each); last, a plain
# build in build-plain/ runs tests/e2e/valgrind.py (valgrind memcheck).
set -eu
cd "$(dirname "$0")/.."
sh tests/deps.sh
autoreconf -fi
mkdir -p build-check
(
	cd build-check
	../configure --enable-werror --enable-sanitizers
	make -j2
	make -j2 check
)
if command -v clang >/dev/null 2>&1; then
	mkdir -p build-fuzz
	(
		cd build-fuzz
		../configure --enable-werror --enable-fuzzing CC=clang >/dev/null
		make -j2 fuzz-smoke
	)
else
	echo "check.sh: clang not found: the fuzz targets were not run" >&2
fi
# Last, valgrind memcheck over the daemon (tests/e2e/valgrind.py): it skips
# in the sanitized build above (ASan and valgrind cannot share a process),
# so it runs here in a plain build, build-plain/, and must pass, not skip.
mkdir -p build-plain
(
	cd build-plain
	../configure --enable-werror >/dev/null
	make -j2
	make check TESTS=tests/e2e/valgrind.py
	grep -q '^:test-result: PASS' tests/e2e/valgrind.trs || {
		echo "check.sh: tests/e2e/valgrind.py did not pass in build-plain/ (skipped?):" >&2
		cat tests/e2e/valgrind.log >&2
		exit 1
	}
)
