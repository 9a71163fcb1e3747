#!/bin/sh
# config_errors.sh: `feedmux -t` on every file in tests/config.
#
#   bad-NAME.expected  the exact stderr of `feedmux -t -c bad-NAME.conf`,
#                      which must exit 1 and print nothing on stdout
#                      (bad-missing.conf deliberately does not exist);
#   good-NAME.conf     must exit 0, print "good-NAME.conf: configuration OK"
#                      on stdout and nothing on stderr.
#
# The example config feeds/feedmux.conf is checked the same way.
# We cd into the directory and pass bare file names, so the expected
# output holds no paths of the machine that runs the tests.
#
# Environment: FEEDMUX (the binary), TESTS_SRCDIR (tests/ in the source tree).

set -u

if [ -z "${FEEDMUX:-}" ] || [ -z "${TESTS_SRCDIR:-}" ]; then
	echo "config_errors.sh: FEEDMUX and TESTS_SRCDIR must be set (run it with 'make check')" >&2
	exit 99
fi
if [ ! -x "$FEEDMUX" ]; then
	echo "config_errors.sh: $FEEDMUX is not an executable (build src/feedmux first)" >&2
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/feedmux-config-errors.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

failed=0
passed=0

# Report one problem with the file being checked.
fail()
{
	echo "FAIL: $*"
	ok=0
}

# Count the file just checked.
tally()
{
	if [ "$ok" -eq 1 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
}

# Show a diff of what was wanted against what came, indented.
show_diff()
{
	diff -u "$1" "$2" | sed -e '1,2d' -e 's/^/    /'
}

# check_good DIR FILE: FILE in DIR must be accepted.
check_good()
{
	dir=$1
	conf=$2
	(cd "$dir" && "$FEEDMUX" -t -c "$conf") >"$tmp/out" 2>"$tmp/err"
	rc=$?
	printf '%s: configuration OK\n' "$conf" >"$tmp/want"
	ok=1
	if [ "$rc" -ne 0 ]; then
		fail "$conf: exit status $rc, expected 0"
	fi
	if ! cmp -s "$tmp/want" "$tmp/out"; then
		fail "$conf: stdout is not '$conf: configuration OK'"
		show_diff "$tmp/want" "$tmp/out"
	fi
	if [ -s "$tmp/err" ]; then
		fail "$conf: unexpected output on stderr"
		sed 's/^/    /' "$tmp/err"
	fi
	tally
}

# check_bad DIR EXPECTED: the .conf beside EXPECTED must be rejected with
# exactly the lines in EXPECTED.
check_bad()
{
	dir=$1
	expected=$2
	conf=${expected%.expected}.conf
	(cd "$dir" && "$FEEDMUX" -t -c "$conf") >"$tmp/out" 2>"$tmp/err"
	rc=$?
	ok=1
	if [ "$rc" -ne 1 ]; then
		fail "$conf: exit status $rc, expected 1"
	fi
	if [ -s "$tmp/out" ]; then
		fail "$conf: unexpected output on stdout"
		sed 's/^/    /' "$tmp/out"
	fi
	if ! cmp -s "$dir/$expected" "$tmp/err"; then
		fail "$conf: stderr differs from $expected (- expected, + actual)"
		show_diff "$dir/$expected" "$tmp/err"
	fi
	tally
}

confdir=$TESTS_SRCDIR/config
nbad=0
ngood=0
for path in "$confdir"/bad-*.expected; do
	[ -e "$path" ] || continue
	check_bad "$confdir" "${path##*/}"
	nbad=$((nbad + 1))
done
for path in "$confdir"/good-*.conf; do
	[ -e "$path" ] || continue
	check_good "$confdir" "${path##*/}"
	ngood=$((ngood + 1))
done
ok=1
[ "$nbad" -gt 0 ] || fail "no bad-*.expected files in $confdir"
[ "$ngood" -gt 0 ] || fail "no good-*.conf files in $confdir"
[ "$ok" -eq 1 ] || failed=$((failed + 1))

example=$TESTS_SRCDIR/../feeds
if [ -f "$example/feedmux.conf" ]; then
	check_good "$example" feedmux.conf
else
	echo "FAIL: feeds/feedmux.conf is missing"
	failed=$((failed + 1))
fi

echo "config_errors.sh: $passed files passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1
exit 0
