// Package interop holds port21's interoperability matrix: real FTP clients
// (curl, lftp, Python's ftplib, rclone and Go's jlaffaye/ftp) against the
// real port21 binary over real sockets, each over explicit FTPS and plain
// FTP, IPv4 and IPv6, passive and active. It has tests only.
package interop
