package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/port21/port21/internal/testpeers"
)

// mixService is one live service of the scan mix.
type mixService struct {
	name string
	port int
}

// startScanMix starts the live services of the scan mix on 127.0.0.1: the
// three Debian peers in both profiles, port21 serve on its defaults, and the
// slow services (unless slow is false). stop ends all that were started, by
// PID for the servers.
func startScanMix(ctx context.Context, bin, dir string, slow bool) ([]mixService, func(), error) {
	var mix []mixService
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	for _, p := range testpeers.Products() {
		for _, prof := range testpeers.Profiles() {
			peer, err := testpeers.Launch(ctx, p, prof, testpeers.Options{})
			if err != nil {
				return nil, stop, fmt.Errorf("-scan: start %s (%s): %w", p, prof, err)
			}
			stops = append(stops, func() { peer.Stop() })
			mix = append(mix, mixService{fmt.Sprintf("%s (%s)", p, prof), peer.Port})
		}
	}
	s, err := startPort21Defaults(ctx, bin, port21MixData(dir))
	if err != nil {
		return nil, stop, err
	}
	stops = append(stops, func() { s.stop() })
	_, port, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(port)
	mix = append(mix, mixService{"port21 (defaults)", n})
	if !slow {
		return mix, stop, nil
	}
	for _, sl := range slowServices() {
		port, st, err := startSlow(ctx, sl)
		if err != nil {
			return nil, stop, err
		}
		stops = append(stops, st)
		mix = append(mix, mixService{sl.name, port})
	}
	return mix, stop, nil
}

// port21MixData is the data directory of the mix's port21 serve.
func port21MixData(dir string) string { return filepath.Join(dir, "port21-scan-data") }

// forgetScanners lifts the ban that the mix's port21 serve (on its
// defaults, so with its defender on) put on 127.0.0.1 during a run, and
// forgets the scanners' offences, as an administrator would with port21 ban
// del: otherwise every later run would meet a refusal at connect, which
// both scanners pass in no time. The server applies it within a second.
func forgetScanners(ctx context.Context, bin, dir string) error {
	out, err := exec.CommandContext(ctx, bin, "ban", "del", "127.0.0.1", "--data-dir", port21MixData(dir)).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "not banned") {
		return fmt.Errorf("port21 ban del 127.0.0.1: %w: %s", err, out)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(1500 * time.Millisecond):
	}
	return nil
}

// startPort21Defaults starts port21 serve with nothing but a data directory
// and a free loopback port, as an administrator's first start would.
func startPort21Defaults(ctx context.Context, bin, data string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return servePort21(ctx, bin, data+".log", addr, []string{"--data-dir=" + data, "--listen=" + addr})
}
