// Package ftp implements the FTP wire protocol: the syntax of everything that
// crosses an FTP control connection, shared by the port21 server and scanner.
//
// It reads and writes command lines and replies (RFC 959), with the Telnet
// framing the control connection inherits (RFC 854); it parses and formats the
// host-port arguments of PORT and EPRT and the replies to PASV and EPSV
// (RFC 959, RFC 2428); the timestamps of MDTM, MFMT and MLSx and the fact lines
// of MLST and MLSD (RFC 3659); the FEAT reply (RFC 2389); and the ls -l lines
// that clients expect from LIST. RFC 2228 and RFC 4217 (FTP over TLS) add reply
// codes and commands but no syntax of their own; RFC 2640 makes paths UTF-8,
// which this package passes through untouched.
//
// The package performs no I/O beyond the io.Reader and io.Writer it is handed
// and keeps no state between calls. Everything it parses is treated as
// hostile: lines are length-capped before they are buffered, numbers are
// range-checked rather than trusted, and text that would break the framing
// (CR, LF, NUL, a Telnet IAC byte) is rejected on input and never written raw
// on output. Policy, such as whether a PORT address may differ from the
// client's, belongs to the caller.
package ftp
