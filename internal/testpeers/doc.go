// Package testpeers runs real FTP servers from Debian (vsftpd, ProFTPD and
// Pure-FTPd) on loopback for port21's tests. It is for tests only: nothing
// outside _test.go files, tests/ and the bench/ programs (which compare
// port21 with these servers, through Launch) may import it.
//
// port21 scan and port21 local have to be right about servers that someone
// else wrote, so their tests need those servers, configured the way
// administrators configure them, badly and well. Debian's packages conflict
// with one another and start their services when installed, so this package
// never installs them: it downloads the .deb files with apt-get download and
// unpacks them with dpkg -x into a private cache directory, reused across
// runs, and starts each daemon itself, in the foreground, on a free loopback
// port, in a private mount namespace whose /etc/passwd adds the accounts the
// daemons look up (ftp for anonymous logins, _pure-ftpd for Pure-FTPd's
// privilege separation) without touching the machine's own.
//
// Each server has two profiles. ProfileBad is the configuration an audit
// should complain about (anonymous upload, cleartext logins, no TLS or TLS
// 1.0, FTP bounce, the version in the banner); ProfileHardened is the one it
// should not (TLS 1.2 or later required, no anonymous, chroot, no bounce, no
// version). The configuration templates live in testdata/, with a comment on
// each line that is there to cause, or to prevent, a finding.
//
// Unpack gives other tests the same treatment for other Debian packages:
// the firewall tests run ufw and firewalld from an unpack.
//
// Running the daemons needs root (they chroot and switch users) and the
// shared libraries the packages depend on; Available says what is missing.
// Start skips the test when a server cannot run here, or fails it when the
// environment variable PORT21_REQUIRE_CLIENTS=1 says everything must run, as
// it does in CI.
package testpeers
