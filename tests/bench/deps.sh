#!/bin/sh
# Install what `make bench` needs beyond tests/deps.sh, on Debian 12 (as
# root, or through sudo). Safe to run again.
#
# Installing Debian's nginx package may start the system nginx service
# (port 80); the benchmark does not use it. It runs its own nginx on
# 127.0.0.1 with its own config, pid file and logs.
set -eu
pkgs="nginx sfeed newsboat wrk time curl libxml2-utils python3"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
