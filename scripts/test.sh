#!/usr/bin/env bash
# Runs port21's whole test suite. The tests drive real programs (FTP clients
# from Debian), so this installs the Debian packages that are missing first.
# Usage: scripts/test.sh [extra go test flags]
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
declare -A need=(
	[curl]=curl                 # interop matrix
	[lftp]=lftp                 # interop matrix
	[rclone]=rclone             # interop matrix
	[/usr/bin/python3]=python3  # interop matrix (ftplib)
	[wget]=wget                 # interop matrix
	[php]=php-cli               # interop matrix (PHP's ftp extension)
	[tnftp]=tnftp               # interop matrix (plain FTP only)
	[node]=nodejs               # interop matrix (basic-ftp, installed by the test with npm)
	[npm]=npm
	[javac]=default-jdk-headless  # interop matrix (Apache Commons Net, compiled by the test)
	[chromium]=chromium         # HTML report screenshot
	[nft]=nftables              # firewall tests in network namespaces
	[iptables]=iptables
	[ipset]=ipset
	[ip]=iproute2
	[nmap]=nmap                 # scanner parity with nmap's FTP scripts; ftp-brute against the defender
	[testssl]=testssl.sh          # scanner parity with testssl.sh over STARTTLS FTP
	[hydra]=hydra               # password guessing against the defender (issue 8)
	[/usr/sbin/haproxy]=haproxy # PROXY protocol behind a real HAProxy (tests/haproxy, issue 9)
	[nsenter]=util-linux        # ufw and firewalld tests (mount namespaces)
	[dbus-daemon]=dbus-daemon   # firewalld test: a private system bus
	# PostgreSQL user store (issue 9): internal/testpg runs initdb and postgres
	# from /usr/lib/postgresql/*/bin itself; pg_ctlcluster stands for the
	# package, as the server binaries are not on PATH. No system cluster is used.
	[pg_ctlcluster]=postgresql
)
# Shared libraries of the real vsftpd, ProFTPD and Pure-FTPd that the
# scanner and local tests run (internal/testpeers downloads the daemons
# themselves with apt-get download and never installs them).
libs=(libwrap0 libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3)
# Python modules of the real ufw and firewalld that the firewall tests run
# (unpacked the same way, never installed: their services stay off).
libs+=(python3-dbus python3-gi gir1.2-glib-2.0 python3-nftables)
# Libraries of interop matrix clients: Perl's Net::FTP needs IO::Socket::SSL
# for FTPS; ftputil and Apache Commons Net are libraries too.
libs+=(libio-socket-ssl-perl python3-ftputil libcommons-net-java)

missing=()
for cmd in "${!need[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
for lib in "${libs[@]}"; do
	dpkg -s "$lib" >/dev/null 2>&1 || missing+=("$lib")
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# internal/testpeers fetches vsftpd, proftpd and pure-ftpd with apt-get
# download, which needs package lists even when nothing is missing.
if [ ${#missing[@]} -gt 0 ] || ! apt-cache show vsftpd >/dev/null 2>&1; then
	$sudo apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "test.sh: installing ${missing[*]}" >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The interop matrix fails, rather than skips, when a client is missing.
export PORT21_REQUIRE_CLIENTS=1
go vet ./...
go test -count=1 -timeout 20m "$@" ./...
# The binary builds wherever port21 scan, local and firewall plan are used
# (serve itself is for Linux, the BSDs and macOS).
for os in darwin freebsd windows; do
	GOOS=$os GOARCH=amd64 go build -o /dev/null ./cmd/port21
done
# The engines again under the race detector: sessions, transfers, bans and the
# scanner's workers all share state across goroutines.
go test -race -count=1 -timeout 20m "$@" ./internal/server/ ./internal/policy/ ./internal/users/ ./internal/jail/ ./internal/scan/...
