#!/bin/sh
# systemd_units.sh: the systemd units load cleanly and the service's
# sandbox keeps `systemd-analyze security` at or under MAX_EXPOSURE.
#
# The unit is generated from systemd/feedmux.service.in the way make does,
# with ExecStart pointing at the built binary ($FEEDMUX), and checked
# together with systemd/feedmux.socket by `systemd-analyze verify`. That
# needs no running systemd, but on containers and build machines it may
# print complaints about the host (no /run/systemd, no D-Bus, no man
# pages): only lines about our own units count as failures.
#
# Environment (set by automake): TESTS_SRCDIR, the source tests/ dir, and
# FEEDMUX, the built daemon. Exit 77 (skip) without systemd-analyze.

MAX_EXPOSURE=1.5

LC_ALL=C
export LC_ALL

srcdir=${TESTS_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
top_srcdir=$(cd "$srcdir/.." && pwd)
template=$top_srcdir/systemd/feedmux.service.in
socket=$top_srcdir/systemd/feedmux.socket

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is not installed (apt-get install systemd)"
	exit 77
fi
if ! systemd-analyze --help 2>/dev/null | grep -q -e '--offline'; then
	echo "SKIP: this systemd-analyze has no 'security --offline' (systemd >= 250 needed)"
	exit 77
fi
for f in "$template" "$socket"; do
	if [ ! -f "$f" ]; then
		echo "FAIL: $f is missing"
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/feedmux-units.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# The unit names ExecStart by path, so give it a path without blanks that
# systemd would need quoted: a link in our temporary directory.
mkdir "$tmp/sbin" "$tmp/units" || exit 1
if [ -n "$FEEDMUX" ] && [ -x "$FEEDMUX" ]; then
	ln -s "$FEEDMUX" "$tmp/sbin/feedmux" || exit 1
else
	echo "note: FEEDMUX ('$FEEDMUX') is not an executable; verifying with a stand-in binary"
	for stand_in in /bin/true /usr/bin/true; do
		[ -x "$stand_in" ] && break
	done
	cp "$stand_in" "$tmp/sbin/feedmux" || exit 1
fi

service=$tmp/units/feedmux.service
sed -e "s|@sbindir@|$tmp/sbin|g" -e 's|@sysconfdir@|/etc|g' "$template" >"$service" || exit 1
cp "$socket" "$tmp/units/feedmux.socket" || exit 1

fail=0

# Every placeholder of the template must be one that make fills in.
if grep -n '@[A-Za-z_]*@' "$service"; then
	echo "FAIL: feedmux.service.in has placeholders that make does not fill (above)"
	fail=1
fi

# What the issue and the man page promise about the units.
# shellcheck disable=SC2016 # $MAINPID is for systemd, not for the shell
for want in 'Type=notify' 'ExecReload=/bin/kill -HUP $MAINPID' 'WatchdogSec=' 'Restart=on-failure' \
	'DynamicUser=yes' 'StateDirectory=feedmux' 'ConfigurationDirectory=feedmux' \
	'Documentation=man:feedmux(8) man:feedmux.conf(5)' "ExecStart=$tmp/sbin/feedmux -c /etc/feedmux/feedmux.conf" \
	'WantedBy=multi-user.target'; do
	if ! grep -q -F -e "$want" "$service"; then
		echo "FAIL: feedmux.service lacks '$want'"
		fail=1
	fi
done
for want in 'ListenStream=' 'WantedBy=sockets.target'; do
	if ! grep -q -F -e "$want" "$tmp/units/feedmux.socket"; then
		echo "FAIL: feedmux.socket lacks '$want'"
		fail=1
	fi
done

# systemd-analyze verify. --man=no: the man pages are not installed yet.
# A line about our units names them by unit name or by path.
(cd "$tmp/units" && systemd-analyze verify --man=no ./feedmux.service ./feedmux.socket) >"$tmp/verify.out" 2>&1
verify_rc=$?
if grep -e 'feedmux\.service' -e 'feedmux\.socket' -e "$tmp" "$tmp/verify.out" >"$tmp/verify.ours"; then
	echo "FAIL: systemd-analyze verify complains about the feedmux units:"
	sed 's/^/  /' "$tmp/verify.ours"
	fail=1
elif [ "$verify_rc" -ne 0 ]; then
	echo "note: systemd-analyze verify exited $verify_rc, but none of its messages is about the feedmux units:"
	sed 's/^/  /' "$tmp/verify.out"
	echo "note: taken as a problem of this machine, not of the units"
else
	echo "ok: systemd-analyze verify: feedmux.service and feedmux.socket load cleanly"
	[ -s "$tmp/verify.out" ] && sed 's/^/  /' "$tmp/verify.out"
fi

# systemd-analyze security --offline=true: the overall exposure.
(cd "$tmp/units" && systemd-analyze security --offline=true ./feedmux.service) >"$tmp/security.out" 2>&1
security_rc=$?
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: *\([0-9][0-9]*\(\.[0-9]*\)\{0,1\}\).*/\1/p' "$tmp/security.out" | head -n 1)
if [ -z "$exposure" ]; then
	echo "FAIL: systemd-analyze security --offline=true (exit $security_rc) printed no overall exposure level:"
	sed 's/^/  /' "$tmp/security.out"
	fail=1
elif awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e + 0 > m + 0) }'; then
	echo "FAIL: feedmux.service exposure is $exposure, more than $MAX_EXPOSURE; what is still exposed:"
	grep -e '^✗' -e '^- ' "$tmp/security.out" | sed 's/^/  /'
	fail=1
else
	echo "ok: feedmux.service exposure $exposure (at most $MAX_EXPOSURE)"
fi

exit $fail
