#!/bin/sh
# run.sh: make check's short run of every fuzz target (a few thousand
# executions each over its seeds), when configured with --enable-fuzzing.
# New inputs go to a temporary directory, never into the source tree.
# FUZZ_RUNS sets the executions per target (default 3000).
set -u
: "${TESTS_SRCDIR:?run through make check}" "${TESTS_BUILDDIR:?run through make check}"
runs=${FUZZ_RUNS:-3000}
src=$TESTS_SRCDIR
bin=$TESTS_BUILDDIR/fuzz
tmp=$(mktemp -d "${TMPDIR:-/tmp}/feedmux-fuzz.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0
failed=0

# fuzz NAME MAX_LEN SEED_DIR...
fuzz() {
	name=$1
	maxlen=$2
	shift 2
	mkdir "$tmp/$name"
	if "$bin/$name" -runs="$runs" -max_len="$maxlen" -timeout=25 -rss_limit_mb=2560 \
		-print_final_stats=1 "$tmp/$name" "$@" >"$tmp/$name.log" 2>&1; then
		echo "PASS: $name ($(grep -o 'cov: [0-9]*' "$tmp/$name.log" | tail -1), $runs runs)"
		passed=$((passed + 1))
	else
		echo "FAIL: $name"
		tail -n 60 "$tmp/$name.log"
		failed=$((failed + 1))
	fi
}

fuzz fuzz_parse 131072 "$src/data/corpus" "$src/data/hostile" "$src/data/parse"
fuzz fuzz_date 128 "$src/fuzz/seeds/date"
fuzz fuzz_url 1024 "$src/fuzz/seeds/url"
fuzz fuzz_sanitize 16384 "$src/fuzz/seeds/sanitize"
fuzz fuzz_config 8192 "$src/config"
fuzz fuzz_http 8192 "$src/fuzz/seeds/http"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
