#!/bin/sh
# make bench: feedmux beside its peers and the machine's floors, same run,
# same machine, same feeds (issue 9). See tests/bench/README.md.
#
# Environment:
#   FEEDMUX        the feedmux binary (make bench sets it)
#   BENCH_N        corpus sizes, e.g. "2000 10000" (default 2000)
#   BENCH_REPEAT   repetitions per measurement; the report takes medians (3)
#   BENCH_DIR      work dir (default $TMPDIR/feedmux-bench, or /tmp/...)
#   BENCH_ONLY     comma list of parts: floors,feedmux,serve,sfeed,newsboat (all)
#   BENCH_TIMEOUT  seconds before a peer's run is killed, "unfinished" (600)
#   BENCH_WRK_DURATION  wrk's -d (10s)
#   BENCH_SEED     corpus seed (1)
#   BENCH_NO_DEPS  set to 1 to skip tests/bench/deps.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
FEEDMUX=${FEEDMUX:-$here/../../src/feedmux}
BENCH_N=${BENCH_N:-2000}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/feedmux-bench}
BENCH_ONLY=${BENCH_ONLY:-floors,feedmux,serve,sfeed,newsboat}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-600}
BENCH_WRK_DURATION=${BENCH_WRK_DURATION:-10s}
BENCH_SEED=${BENCH_SEED:-1}
PYTHON=${PYTHON:-/usr/bin/python3}
NGINX=${NGINX:-/usr/sbin/nginx}
export LC_ALL=C.UTF-8

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
want() { case ",$BENCH_ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

[ "${BENCH_NO_DEPS:-0}" = 1 ] || sh "$here/deps.sh" || die "tests/bench/deps.sh failed"
for t in /usr/bin/time timeout curl xmllint wrk "$NGINX" "$PYTHON"; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (run tests/bench/deps.sh)"
done
if want feedmux || want serve; then
	[ -x "$FEEDMUX" ] || die "no feedmux binary at $FEEDMUX (make src/feedmux, or set FEEDMUX)"
fi

mkdir -p "$BENCH_DIR/results"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=$BENCH_DIR/results/$stamp.tsv
clk=$(getconf CLK_TCK)
nginx_pid=
serve_pid=
note_next=
serve_bytes=

free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_pid() { # stop_pid PID: TERM, wait up to 10 s, then KILL
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$1" 2>/dev/null || true
}

stop_nginx() {
	[ -n "$nginx_pid" ] || return 0
	kill -QUIT "$nginx_pid" 2>/dev/null || true
	i=0
	while kill -0 "$nginx_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$nginx_pid" 2>/dev/null || true
	nginx_pid=
}

cleanup() {
	stop_pid "$serve_pid"
	serve_pid=
	stop_nginx
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- results ---------------------------------------------------------------

# One line per measurement; '#' lines carry the machine and the versions.
{
	printf '# date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf '# cpu\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	printf '# cpus\t%s\n' "$(nproc)"
	printf '# memory\t%s MB\n' "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
	printf '# kernel\t%s\n' "$(uname -sr)"
	# shellcheck disable=SC1091
	printf '# os\t%s\n' "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
	if [ -x "$FEEDMUX" ]; then
		printf '# feedmux\t%s %s\n' "$("$FEEDMUX" -V 2>&1 | head -n 1)" \
			"$(git -C "$here" describe --always --dirty 2>/dev/null || true)"
	fi
	printf '# nginx\t%s\n' "$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
	printf '# curl\t%s\n' "$(curl --version | head -n 1 | cut -d' ' -f1-2)"
	printf '# xmllint\t%s\n' "$(xmllint --version 2>&1 | head -n 1)"
	for p in sfeed newsboat wrk; do
		printf '# %s\t%s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '?')"
	done
	printf 'tool\tcase\tn\trep\twall_s\tuser_s\tsys_s\tmaxrss_kb\tstatus\tbytes\thttp\treq_s\tnote\n'
} >"$results"

# row TOOL CASE REP WALL USER SYS RSS STATUS BYTES HTTP REQ NOTE
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$1" "$2" "$N" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${10}" "${11}" "${12}" >>"$results"
}

# Status codes and bytes nginx logged after line $1 of its access log.
http_since() {
	sleep 0.3
	tail -n +"$(($1 + 1))" "$work/nginx-access.log" | awk '
		{ n[$2]++; b += $3 }
		END { s = ""; for (k in n) s = s (s == "" ? "" : " ") k ":" n[k]; printf "%s\t%d\n", (s == "" ? "-" : s), b }'
}
log_lines() { [ -f "$work/nginx-access.log" ] && wc -l <"$work/nginx-access.log" || echo 0; }

# measure TOOL CASE REP LOGFILE CMD...: one whole process under /usr/bin/time -v.
measure() {
	tool=$1 kase=$2 rep=$3 log=$4
	shift 4
	before=$(log_lines)
	load=$(cut -d' ' -f1 /proc/loadavg)
	set +e
	s0=$(date +%s%N)
	/usr/bin/time -v -o "$work/time.out" timeout -k 10 "$BENCH_TIMEOUT" "$@" >"$log" 2>&1
	rc=$?
	s1=$(date +%s%N)
	set -e
	http=$(http_since "$before")
	# wall from date(1) in ns: time -v prints only hundredths
	wall=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	user=$(awk -F': ' '/User time/ { print $2 }' "$work/time.out")
	sys=$(awk -F': ' '/System time/ { print $2 }' "$work/time.out")
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.out")
	note=
	case $rc in
	0) status=ok ;;
	124 | 137) status=unfinished note="killed after ${BENCH_TIMEOUT}s" ;;
	*) status="exit$rc" ;;
	esac
	[ -n "$note_next" ] && note="${note:+$note; }$note_next"
	note_next=
	if [ "$tool" = feedmux ]; then
		note="${note:+$note; }$(grep '^feedmux: .*polled' "$log" | tail -n 1)"
		note="$note; state $(du -sk "$root/state" | cut -f1) kB"
	fi
	note="${note:+$note; }load $load"
	row "$tool" "$kase" "$rep" "$wall" "$user" "$sys" "$rss" "$status" \
		"$(printf '%s' "$http" | cut -f2)" "$(printf '%s' "$http" | cut -f1)" "" "$note"
	say "$(printf '%-16s %-10s n=%-6s #%s  wall %7ss  cpu %6s+%-6s  rss %7s kB  %s  [%s]' \
		"$tool" "$kase" "$N" "$rep" "$wall" "$user" "$sys" "$rss" "$status" "$(printf '%s' "$http" | cut -f1)")"
	return 0
}

# CPU seconds (user+sys) of a process and its threads, from /proc.
proc_cpu() {
	awk -v clk="$clk" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / clk }' "/proc/$1/stat" 2>/dev/null || echo 0
}
proc_hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
nginx_workers() { pgrep -P "$nginx_pid" 2>/dev/null | tr '\n' ' '; }
sum_cpu() {
	t=0
	for p in "$@"; do t=$(awk -v a="$t" -v b="$(proc_cpu "$p")" 'BEGIN { printf "%.2f", a + b }'); done
	echo "$t"
}
max_hwm() {
	m=0
	for p in "$@"; do h=$(proc_hwm "$p"); [ "${h:-0}" -gt "$m" ] && m=$h; done
	echo "$m"
}

# wrk_row TOOL CASE REP URL PIDS [HEADER]: one wrk run; the server's CPU
# (user+sys, from /proc) and peak RSS go into the row.
wrk_row() {
	tool=$1 kase=$2 rep=$3 url=$4 pids=$5
	shift 5
	# shellcheck disable=SC2086
	c0=$(sum_cpu $pids)
	load=$(cut -d' ' -f1 /proc/loadavg)
	set +e
	wrk -t2 -c32 -d"$BENCH_WRK_DURATION" --latency "$@" "$url" >"$work/wrk.out" 2>&1
	rc=$?
	set -e
	# shellcheck disable=SC2086
	c1=$(sum_cpu $pids)
	# shellcheck disable=SC2086
	hwm=$(max_hwm $pids)
	req=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.out")
	xfer=$(awk '/^Transfer\/sec:/ { print $2 }' "$work/wrk.out")
	lat=$(awk '$1 == "Latency" { print $2; exit }' "$work/wrk.out")
	p99=$(awk '$1 == "99%" { print $2; exit }' "$work/wrk.out")
	bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF } /Socket errors:/ { print }' "$work/wrk.out" | tr '\n' ' ')
	cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
	status=ok
	[ $rc -eq 0 ] && [ -n "$req" ] || status="exit$rc"
	[ -z "$bad" ] || status=errors
	row "$tool" "$kase" "$rep" "" "$cpu" "" "$hwm" "$status" "$serve_bytes" "" "${req:-0}" \
		"transfer ${xfer:-?}/s, latency avg ${lat:-?} p99 ${p99:-?}, server cpu ${cpu}s${bad:+, $bad}; load $load"
	say "$(printf '%-16s %-10s n=%-6s #%s  %10s req/s  %s/s  server cpu %ss  %s' \
		"$tool" "$kase" "$N" "$rep" "${req:-?}" "${xfer:-?}" "$cpu" "$status")"
	[ "$status" = ok ] || sed 's/^/    /' "$work/wrk.out" >&2
	return 0
}

wait_http() { # wait_http URL SECONDS
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		curl -sf -o /dev/null --max-time 2 "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

start_nginx() {
	port=$1
	mkdir -p "$work/nginx-tmp" "$root/serve"
	user=
	# As root, nginx's workers would run as nobody, who may not read a
	# private TMPDIR; the bench's nginx only listens on 127.0.0.1.
	[ "$(id -u)" -eq 0 ] && user="user root root;"
	sed -e "s|@WORK@|$work|g" -e "s|@ROOT@|$root|g" -e "s|@PORT@|$port|g" -e "s|@USER@|$user|" \
		"$here/nginx.conf.in" >"$work/nginx.conf"
	: >"$work/nginx-access.log"
	"$NGINX" -t -q -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log" ||
		die "nginx -t failed for $work/nginx.conf"
	"$NGINX" -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log" ||
		die "nginx did not start (see $work/nginx-error.log)"
	i=0
	while [ ! -s "$work/nginx.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	nginx_pid=$(cat "$work/nginx.pid")
	wait_http "http://127.0.0.1:$port/feeds/00000.xml" 10 || die "nginx does not answer on port $port"
	say "nginx pid $nginx_pid on 127.0.0.1:$port, root $root"
}

# --- one corpus size -------------------------------------------------------

run_n() {
	N=$1
	root=$BENCH_DIR/n$N
	work=$root/work
	mkdir -p "$work"
	nport=$(free_port)
	say "corpus: $N feeds in $root"
	"$PYTHON" "$here/gen_corpus.py" "$root" --n "$N" --seed "$BENCH_SEED" --port "$nport" >&2
	bytes=$("$PYTHON" -c 'import json, sys; m = json.load(open(sys.argv[1])); print(m["bytes"], m["items"])' \
		"$root/manifest.json")
	items=${bytes#* }
	bytes=${bytes% *}
	printf '# corpus %s\t%s bytes, %s items, %s\n' "$N" "$bytes" "$items" \
		"$(tr -d '\n ' <"$root/manifest.json" | sed 's/.*"formats":{\([^}]*\)}.*/\1/')" >>"$results"
	start_nginx "$nport"
	# page the corpus in, so the first measurement is not the one paying for the disk
	cat "$root"/feeds/*.xml >/dev/null

	if want floors; then
		# ETags as a client asking for gzip sees them (nginx makes them weak).
		curl --parallel --parallel-max 64 -s --compressed -K "$root/curl.conf" \
			-w '%{url_effective}\t%header{etag}\n' >"$work/etags.tsv" 2>"$work/etags.log"
		awk -F'\t' '{ gsub(/"/, "\\\"", $2)
			printf "%surl = \"%s\"\noutput = \"/dev/null\"\nheader = \"If-None-Match: %s\"\n", (NR > 1 ? "next\n" : ""), $1, $2 }' \
			"$work/etags.tsv" >"$root/curl-cond.conf"
	fi

	# Interleaved: each repetition runs the floors, then feedmux cold on a
	# fresh state, then feedmux unchanged on the state that cold run left,
	# so the runs report.py pairs by repetition are seconds apart, not
	# minutes (the shared machine's speed drifts by 10-25 % over minutes).
	fm=0
	if want feedmux || want serve; then fm=1; fi
	r=1
	while [ $r -le "$BENCH_REPEAT" ]; do
		if want floors; then
			note_next="identity"
			measure curl plain "$r" "$work/curl.log" \
				curl --parallel --parallel-max 64 -s -K "$root/curl.conf"
			note_next="Accept-Encoding: gzip, as feedmux asks"
			measure curl gzip "$r" "$work/curl.log" \
				curl --parallel --parallel-max 64 -s --compressed -K "$root/curl.conf"
			note_next="If-None-Match, gzip"
			measure curl conditional "$r" "$work/curl.log" \
				curl --parallel --parallel-max 64 -s --compressed -K "$root/curl-cond.conf"
			# shellcheck disable=SC2016
			measure xmllint stream "$r" "$work/xmllint.log" \
				sh -c 'cd "$1" && exec xmllint --stream --noout ./*.xml' sh "$root/feeds"
		fi
		if [ $fm = 1 ]; then
			rm -rf "$root/state" "$root/public"
			mkdir -p "$root/state" "$root/public"
			measure feedmux cold "$r" "$work/feedmux-cold-$r.log" "$FEEDMUX" --once -c "$root/feedmux.conf"
			measure feedmux unchanged "$r" "$work/feedmux-unchanged-$r.log" "$FEEDMUX" --once -c "$root/feedmux.conf"
		fi
		r=$((r + 1))
	done
	if [ $fm = 1 ]; then
		entries=$(grep -c '<entry' "$root/public/feed.atom" 2>/dev/null || echo 0)
		say "feedmux: $entries entries in public/feed.atom"
	fi

	if want serve; then
		serve
	fi

	if want sfeed; then
		for c in cold unchanged; do
			r=1
			while [ $r -le "$BENCH_REPEAT" ]; do
				[ $c = cold ] && rm -rf "$root/sfeed"
				measure sfeed_update "$c" "$r" "$work/sfeed-$c-$r.log" sfeed_update "$root/sfeedrc"
				r=$((r + 1))
			done
		done
	fi

	if want newsboat; then
		mkdir -p "$root/newsboat-home"
		printf 'reload-threads 16\n' >"$work/newsboat.config"
		for c in cold unchanged; do
			r=1
			while [ $r -le "$BENCH_REPEAT" ]; do
				[ $c = cold ] && rm -rf "$root/newsboat" && mkdir -p "$root/newsboat"
				measure newsboat "$c" "$r" "$work/newsboat-$c-$r.log" \
					env HOME="$root/newsboat-home" TERM=dumb newsboat -x reload -u "$root/newsboat.urls" -c "$root/newsboat/cache.db" \
					-C "$work/newsboat.config"
				r=$((r + 1))
			done
		done
	fi

	# Last, as it changes the corpus: 10 % of the feeds get new items
	# before each run (a new seed each time), the state is kept.
	if want feedmux; then
		r=1
		while [ $r -le "$BENCH_REPEAT" ]; do
			"$PYTHON" "$here/gen_corpus.py" "$root" --mutate 10 --seed $((100 + r)) -q
			measure feedmux changed "$r" "$work/feedmux-changed-$r.log" "$FEEDMUX" --once -c "$root/feedmux.conf"
			r=$((r + 1))
		done
	fi
	stop_nginx
}

# Serving: feedmux's /feed.atom next to nginx serving the same bytes.
serve() {
	[ -s "$root/public/feed.atom" ] || {
		say "serve: no public/feed.atom (feedmux cold run failed?), skipped"
		return 0
	}
	fport=$(free_port)
	sed "s|^listen .*|listen = 127.0.0.1:$fport|" "$root/feedmux.conf" >"$root/serve.conf"
	"$FEEDMUX" -c "$root/serve.conf" >"$work/feedmux-serve.log" 2>&1 &
	serve_pid=$!
	if ! wait_http "http://127.0.0.1:$fport/feed.atom" 60; then
		say "serve: feedmux -c serve.conf does not answer /feed.atom on port $fport within 60 s:"
		sed 's/^/    /' "$work/feedmux-serve.log" | tail -n 20 >&2
		stop_pid "$serve_pid"
		serve_pid=
		row feedmux-http plain 1 "" "" "" "" "no-answer" "" "" 0 "no answer on /feed.atom"
		return 0
	fi
	# Its first polls are spread over up to a minute (all 304 here); let
	# them pass so the serving figures measure serving.
	settle=${BENCH_SETTLE:-65}
	say "serve: feedmux pid $serve_pid on 127.0.0.1:$fport; waiting ${settle}s for its first polls"
	sleep "$settle"
	furl=http://127.0.0.1:$fport/feed.atom
	curl -s -o "$root/serve/feed.atom" "$furl"
	curl -s -H 'Accept-Encoding: gzip' -o "$root/serve/feed.atom.gz" "$furl"
	touch -r "$root/serve/feed.atom" "$root/serve/feed.atom.gz"
	cmp -s "$root/serve/feed.atom" "$root/public/feed.atom" ||
		say "serve: /feed.atom differs from public/feed.atom (served the HTTP bytes to both)"
	gzip -t "$root/serve/feed.atom.gz" 2>/dev/null ||
		say "serve: /feed.atom with Accept-Encoding: gzip is not gzip"
	nurl=http://127.0.0.1:$nport/serve/feed.atom
	for u in "$furl" "$nurl"; do
		for h in identity gzip; do
			say "serve: $u ($h): $(curl -s -o /dev/null -H "Accept-Encoding: $h" \
				-w '%{http_code} %{size_download} bytes %{content_type}' "$u")"
		done
	done
	plain_bytes=$(wc -c <"$root/serve/feed.atom")
	gz_bytes=$(wc -c <"$root/serve/feed.atom.gz")
	workers=$(nginx_workers)
	r=1
	while [ $r -le "$BENCH_REPEAT" ]; do
		serve_bytes=$plain_bytes
		wrk_row feedmux-http plain "$r" "$furl" "$serve_pid"
		wrk_row nginx-file plain "$r" "$nurl" "$workers"
		serve_bytes=$gz_bytes
		wrk_row feedmux-http gzip "$r" "$furl" "$serve_pid" -H 'Accept-Encoding: gzip'
		wrk_row nginx-file gzip "$r" "$nurl" "$workers" -H 'Accept-Encoding: gzip'
		r=$((r + 1))
	done
	stop_pid "$serve_pid"
	serve_pid=
}

t0=$(date +%s)
for n in $BENCH_N; do
	run_n "$n"
done
t1=$(date +%s)
printf '# duration\t%s s\n' $((t1 - t0)) >>"$results"
ln -sf "$stamp.tsv" "$BENCH_DIR/results/latest.tsv"
"$PYTHON" "$here/report.py" "$results" -o "$BENCH_DIR/results/$stamp.md"
ln -sf "$stamp.md" "$BENCH_DIR/results/latest.md"
say "took $((t1 - t0)) s; results: $results"
say "report: $BENCH_DIR/results/$stamp.md"
