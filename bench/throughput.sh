#!/usr/bin/env bash
# Measures port21's transfer speed the way the team's field notes measured
# vsftpd, ProFTPD and Pure-FTPd: curl on loopback, files on tmpfs.
# Usage: bench/throughput.sh [SIZE_MiB] [RUNS]
# Prints MB/s per run for TLS and plain downloads and uploads. Talks only to
# 127.0.0.1 and stops the server it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
runs=${2:-3}
dir=$(mktemp -d /dev/shm/port21-bench.XXXXXX)
pid=""
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

go build -o "$dir/port21" ./cmd/port21
pw=bench-$RANDOM-$RANDOM
echo "$pw" | "$dir/port21" user add tls --data-dir "$dir/data" --password-stdin >/dev/null
echo "$pw" | "$dir/port21" user add plain --data-dir "$dir/data" --password-stdin --allow-cleartext >/dev/null 2>&1
for u in tls plain; do
	mkdir -p "$dir/data/home/$u"
	head -c "${size}M" /dev/zero >"$dir/data/home/$u/file.bin"
done
port=$((20000 + RANDOM % 10000))
"$dir/port21" serve --data-dir "$dir/data" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do
	curl -s --max-time 1 "telnet://127.0.0.1:$port" </dev/null >/dev/null 2>&1 && break || sleep 0.1
done

url="ftp://127.0.0.1:$port"
tls=(--ssl-reqd --cacert "$dir/data/tls/cert.pem" -u "tls:$pw")
plain=(-u "plain:$pw")
mbps() { awk '{printf "%.0f MB/s\n", $1 / 1e6}'; }
echo "port21 $(git describe --always --dirty 2>/dev/null), ${size} MiB, curl $(curl --version | head -1 | cut -d' ' -f2)"
for i in $(seq "$runs"); do
	printf 'TLS download   '; curl -s "${tls[@]}" "$url/file.bin" -o /dev/null -w '%{speed_download}\n' | mbps
	printf 'TLS upload     '; curl -s "${tls[@]}" -T "$dir/data/home/plain/file.bin" "$url/up.bin" -w '%{speed_upload}\n' | mbps
	printf 'plain download '; curl -s "${plain[@]}" "$url/file.bin" -o /dev/null -w '%{speed_download}\n' | mbps
	printf 'plain upload   '; curl -s "${plain[@]}" -T "$dir/data/home/tls/file.bin" "$url/up.bin" -w '%{speed_upload}\n' | mbps
done
