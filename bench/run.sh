#!/usr/bin/env bash
# The benchmark suite: installs the tools it compares against (rsyslog, syslog-ng, socat),
# builds the compiler, and runs bench/bench.py, which writes bench/RESULTS.md.
#   bash bench/run.sh                      # every scenario, 1 GiB of input each
#   bash bench/run.sh --size-mib 256 --only file_to_file tcp_to_null
# Needs root for apt-get (or the tools already installed). Takes ~10 minutes at 1 GiB.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v syslog-ng >/dev/null || need+=(syslog-ng-core)
command -v socat >/dev/null || need+=(socat)
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
command -v rg >/dev/null || need+=(ripgrep)
[ -x /usr/bin/time ] || need+=(time)
# rsyslog and syslog-ng conflict as Debian packages (both are the system logger), so
# rsyslog is unpacked under target/ instead of installed; its libraries are installed.
rsyslog_root=target/bench/rsyslog
if [ ! -x "$rsyslog_root/usr/sbin/rsyslogd" ]; then
    need+=(libestr0 libfastjson4 liblognorm5 libgcrypt20 libuuid1 libzstd1 zlib1g libsystemd0)
fi
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -x "$rsyslog_root/usr/sbin/rsyslogd" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download -qq rsyslog 2>/dev/null)
    mkdir -p "$rsyslog_root"
    dpkg-deb -x "$tmp"/rsyslog_*.deb "$rsyslog_root"
    rm -rf "$tmp"
fi

cargo build -q --release -p sluice-compiler
exec python3 bench/bench.py --rsyslog-root "$rsyslog_root" "$@"
