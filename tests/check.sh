#!/bin/sh
# The whole test suite, as CI runs it: dependencies, then a build with
# -Werror, AddressSanitizer and UndefinedBehaviorSanitizer in build-check/,
# then `make check`. Results are in build-check/test-suite.log.
set -eu
cd "$(dirname "$0")/.."
sh tests/deps.sh
autoreconf -fi
mkdir -p build-check
cd build-check
../configure --enable-werror --enable-sanitizers
make -j2
make -j2 check
