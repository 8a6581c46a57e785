package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// slowService is one of the awkward services in the scan mix: a real
// listener on loopback that behaves as the slow or odd FTP services found on
// real networks do, which is where a scanner's time goes.
type slowService struct {
	name  string
	serve func(ctx context.Context, c net.Conn)
}

// slowServices are the awkward ones of the scan mix. Each holds a connection
// for at most holdFor, so neither scanner can be kept forever and the bench
// ends by itself.
func slowServices() []slowService {
	return []slowService{
		// Accepts and never speaks (a tarpit, or a proxy with no back end).
		{"silent", func(ctx context.Context, c net.Conn) { hold(ctx, c) }},
		// Greets after 3 s, as an overloaded or reverse-DNS-waiting server does.
		{"late-banner", func(ctx context.Context, c net.Conn) {
			if sleep(ctx, 3*time.Second) {
				basicFTP(ctx, c, "220 FTP server ready.\r\n")
			}
		}},
		// Sends its greeting a byte every 100 ms.
		{"trickle", func(ctx context.Context, c net.Conn) {
			for _, b := range []byte("220 Welcome to the slow FTP service.\r\n") {
				if _, err := c.Write([]byte{b}); err != nil || !sleep(ctx, 100*time.Millisecond) {
					return
				}
			}
			basicFTP(ctx, c, "")
		}},
		// Says 234 to AUTH TLS, then never answers the ClientHello.
		{"tls-stall", func(ctx context.Context, c net.Conn) {
			fmt.Fprint(c, "220 FTP server ready.\r\n")
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if strings.HasPrefix(strings.ToUpper(line), "AUTH") {
					fmt.Fprint(c, "234 AUTH TLS OK.\r\n")
					hold(ctx, c)
					return
				}
				fmt.Fprint(c, "530 Please login with USER and PASS.\r\n")
			}
		}},
		// Another protocol on the scanned port.
		{"not-ftp", func(ctx context.Context, c net.Conn) {
			fmt.Fprint(c, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
			hold(ctx, c)
		}},
	}
}

// holdFor bounds every connection to a slow service.
const holdFor = 2 * time.Minute

// startSlow listens on a free loopback port and serves s until ctx ends; it
// returns the port and a stop function that closes the listener and every
// connection and waits for them.
func startSlow(ctx context.Context, s slowService) (int, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, fmt.Errorf("slow service %s: %w", s.name, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				cctx, ccancel := context.WithTimeout(ctx, holdFor)
				defer ccancel()
				stop := context.AfterFunc(cctx, func() { c.Close() })
				defer stop()
				s.serve(cctx, c)
			}()
		}
	}()
	stop := func() {
		cancel()
		ln.Close()
		wg.Wait()
	}
	return ln.Addr().(*net.TCPAddr).Port, stop, nil
}

// hold keeps c open, reading and discarding, until the peer closes it or
// ctx ends.
func hold(ctx context.Context, c net.Conn) {
	_, _ = io.Copy(io.Discard, c)
	<-ctx.Done()
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// basicFTP writes greeting and answers like a small FTP server that allows
// no login: enough for a scanner to fingerprint it and try its checks.
func basicFTP(ctx context.Context, c net.Conn, greeting string) {
	if greeting != "" {
		if _, err := io.WriteString(c, greeting); err != nil {
			return
		}
	}
	r := bufio.NewReader(c)
	for ctx.Err() == nil {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.ToUpper(strings.TrimSpace(line)), " ")
		reply := "502 Command not implemented.\r\n"
		switch verb {
		case "USER":
			reply = "331 Password required.\r\n"
		case "PASS":
			reply = "530 Login incorrect.\r\n"
		case "SYST":
			reply = "215 UNIX Type: L8\r\n"
		case "FEAT":
			reply = "211-Features:\r\n SIZE\r\n MDTM\r\n211 End\r\n"
		case "QUIT":
			io.WriteString(c, "221 Goodbye.\r\n")
			return
		}
		if _, err := io.WriteString(c, reply); err != nil {
			return
		}
	}
}
