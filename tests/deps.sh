#!/bin/sh
# Install what feedmux needs to build and test on Debian 12 (as root, or
# through sudo). Safe to run again.
set -eu
pkgs="build-essential autoconf automake pkg-config
  libevent-dev libcurl4-openssl-dev libxml2-dev libsqlite3-dev libinih-dev
  libxxhash-dev zlib1g-dev libdeflate-dev libbrotli-dev libjson-c-dev libicu-dev libsystemd-dev
  libcmocka-dev clang valgrind python3 python3-feedparser python3-brotli libxml2-utils curl mandoc systemd
  newsboat prometheus faketime openssl"
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
