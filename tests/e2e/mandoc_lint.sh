#!/bin/sh
# mandoc_lint.sh: the manual pages are clean under `mandoc -Tlint -W warning`
# (warnings, errors and unsupported requests; style hints are not counted).
# A page that does not exist is a failure.
#
# Environment (set by automake): TESTS_SRCDIR, the source tests/ dir.
# Exit 77 (skip) without mandoc.

LC_ALL=C
export LC_ALL

srcdir=${TESTS_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
mandir=$(cd "$srcdir/.." && pwd)/man

if ! command -v mandoc >/dev/null 2>&1; then
	echo "SKIP: mandoc is not installed (apt-get install mandoc)"
	exit 77
fi

fail=0
for page in feedmux.8 feedmux.conf.5; do
	if [ ! -f "$mandir/$page" ]; then
		echo "FAIL: man/$page does not exist"
		fail=1
		continue
	fi
	# From the top of the tree, so messages name man/PAGE, not a full path.
	out=$(cd "$mandir/.." && mandoc -Tlint -W warning "man/$page" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		echo "FAIL: mandoc -Tlint -W warning man/$page (exit $rc):"
		printf '%s\n' "$out" | sed 's/^/  /'
		fail=1
	else
		echo "ok: man/$page is clean under mandoc -Tlint -W warning"
	fi
done
exit $fail
