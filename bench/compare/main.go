// Command compare measures port21 beside vsftpd, Pure-FTPd and ProFTPD in
// one run, on loopback, and prints one markdown table with port21's ratio
// to the best peer and to each (and, with -json, the same figures as JSON).
//
// Every server gets the same account, the same files on tmpfs, the same
// certificate and key, the same passive range and the same clients (curl
// for large files, lftp for small ones, a Go client for logins and idle
// sessions). The peers are Debian's builds, unpacked and started by
// internal/testpeers (hardened profile, TLS offered but not required so
// that the same daemon serves the plain and the FTPS workloads).
//
//	go run ./bench/compare                  # a few minutes, 256 MiB files
//	go run ./bench/compare -size 1GiB -json compare.json
//
// It needs root (the peers chroot and switch users), curl and lftp. It
// talks to 127.0.0.1 only, stops every server it started by PID, removes
// its files, and gives up by itself after -timeout.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		cancel()
		stop()
		os.Exit(1)
	}
}
