// Package peers holds port21's integration tests against real FTP servers
// from Debian (vsftpd, ProFTPD, Pure-FTPd), started on loopback by
// internal/testpeers in a bad and a hardened configuration: that each peer
// is what its profile says, that `port21 scan` reports exactly the findings
// each configuration causes, that it reports everything nmap's FTP scripts
// report, and that `port21 local` names the peer's process and audits its
// configuration file. There is no code here outside the tests.
package peers
