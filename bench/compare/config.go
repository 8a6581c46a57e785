package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// config is the run's settings, from the command line.
type config struct {
	Size      int64         // bytes of the large file
	Runs      int           // measured runs of each large transfer, after one warm-up
	Files     int           // small files mirrored in each direction
	FileSize  int           // bytes of each small file
	Logins    int           // login+QUIT sessions per series
	Parallel  int           // clients at once in the parallel series
	Sessions  int           // idle logged-in sessions held for the memory figure
	Key       string        // "rsa" (RSA-2048) or "ecdsa" (P-256)
	Servers   []string      // port21 and the peers, in order
	JSON      string        // path of the JSON report, "" for none
	Timeout   time.Duration // the whole run
	WorkDir   string        // where the temporary directory goes (tmpfs)
	PassiveLo int           // passive data ports, split into equal slices, one per server
	PassiveHi int
	Port21    string // a port21 binary; "" builds ./cmd/port21
	Scan      bool   // measure the scanner against nmap instead of the servers
	ScanRange string // -scan: the loopback block with nothing listening
	ScanSlow  bool   // -scan: include the slow and odd services
	ScanRuns  int    // -scan: runs of each scanner (the median is reported)
	Args      []string
}

var knownServers = []string{"port21", "vsftpd", "pure-ftpd", "proftpd"}

// pureSpare is the room Pure-FTPd needs beyond the idle sessions: the
// bench's own connections and sessions of the last workload still closing.
const pureSpare = 16

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	cfg := config{Args: args}
	size := fs.String("size", "256MiB", "size of the large file (B, KiB, MiB, GiB); the issue's figure uses 1GiB")
	fs.IntVar(&cfg.Runs, "runs", 3, "measured runs of each large transfer (the median is reported), after one warm-up")
	fs.IntVar(&cfg.Files, "files", 2000, "small files mirrored with lftp in each direction")
	fs.IntVar(&cfg.FileSize, "file-size", 4096, "bytes per small file")
	fs.IntVar(&cfg.Logins, "logins", 50, "login+QUIT sessions per series (each with its own account and password)")
	fs.IntVar(&cfg.Parallel, "parallel", 8, "clients at once in the parallel login series")
	fs.IntVar(&cfg.Sessions, "sessions", 200, "idle logged-in sessions held open for the memory figure")
	fs.StringVar(&cfg.Key, "key", "rsa", "certificate key for every server: rsa (RSA-2048) or ecdsa (P-256)")
	servers := fs.String("servers", strings.Join(knownServers, ","), "servers to measure, comma-separated")
	fs.StringVar(&cfg.JSON, "json", "", "also write the results as JSON to this file")
	fs.DurationVar(&cfg.Timeout, "timeout", 45*time.Minute, "give up (and stop every server) after this long")
	fs.StringVar(&cfg.WorkDir, "workdir", "/dev/shm", "directory (tmpfs) for the files, certificates and server state")
	passive := fs.String("passive", "47000-48999", "passive data ports, split into equal slices, one per server (the servers run side by side; Pure-FTPd needs two ports per session held)")
	fs.BoolVar(&cfg.Scan, "scan", false, "measure port21 scan against nmap -sV with the FTP scripts (loopback targets) instead of the servers")
	fs.StringVar(&cfg.ScanRange, "scan-range", "127.3.0.0/22", "with -scan: the loopback block (in 127.0.0.0/8, /16 or smaller) scanned beside the live services, with nothing listening")
	fs.BoolVar(&cfg.ScanSlow, "scan-slow", true, "with -scan: include the slow and odd services of slow.go among the live ones")
	fs.IntVar(&cfg.ScanRuns, "scan-runs", 3, "with -scan: runs of each scanner, one after the other (the median is reported, with the range)")
	fs.StringVar(&cfg.Port21, "port21", "", "port21 binary to measure (default: go build ./cmd/port21 from this tree)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if p, err := netip.ParsePrefix(cfg.ScanRange); err != nil || !p.Addr().Is4() || !p.Addr().IsLoopback() || p.Bits() < 16 {
		return config{}, fmt.Errorf("-scan-range %q: want an IPv4 prefix of /16 or smaller inside 127.0.0.0/8", cfg.ScanRange)
	}
	var err error
	if cfg.Size, err = parseSize(*size); err != nil {
		return config{}, fmt.Errorf("-size: %w", err)
	}
	lo, hi, ok := strings.Cut(*passive, "-")
	cfg.PassiveLo, err = strconv.Atoi(lo)
	if err == nil {
		cfg.PassiveHi, err = strconv.Atoi(hi)
	}
	if !ok || err != nil || cfg.PassiveLo < 1024 || cfg.PassiveHi < cfg.PassiveLo+7 || cfg.PassiveHi > 65535 {
		return config{}, fmt.Errorf("-passive %q: want LOW-HIGH, at least 8 ports above 1023", *passive)
	}
	for _, s := range strings.Split(*servers, ",") {
		s = strings.TrimSpace(s)
		if !contains(knownServers, s) {
			return config{}, fmt.Errorf("-servers: unknown server %q (want some of %s)", s, strings.Join(knownServers, ","))
		}
		cfg.Servers = append(cfg.Servers, s)
	}
	if len(cfg.Servers) == 0 || cfg.Servers[0] != "port21" {
		return config{}, errors.New("-servers: port21 must come first (the ratios are port21's)")
	}
	switch {
	case cfg.Key != "rsa" && cfg.Key != "ecdsa":
		return config{}, fmt.Errorf("-key %q: want rsa or ecdsa", cfg.Key)
	case cfg.Runs < 1 || cfg.Runs > 20:
		return config{}, fmt.Errorf("-runs %d: want 1-20", cfg.Runs)
	case cfg.ScanRuns < 1 || cfg.ScanRuns > 20:
		return config{}, fmt.Errorf("-scan-runs %d: want 1-20", cfg.ScanRuns)
	case cfg.Files < 1 || cfg.Files > 100000:
		return config{}, fmt.Errorf("-files %d: want 1-100000", cfg.Files)
	case cfg.FileSize < 0 || cfg.FileSize > 1<<20:
		return config{}, fmt.Errorf("-file-size %d: want 0-1048576", cfg.FileSize)
	case cfg.Logins < 1 || cfg.Logins > 5000:
		return config{}, fmt.Errorf("-logins %d: want 1-5000", cfg.Logins)
	case cfg.Parallel < 1 || cfg.Parallel > 64:
		return config{}, fmt.Errorf("-parallel %d: want 1-64", cfg.Parallel)
	case cfg.Sessions < 1 || cfg.Sessions > 1000:
		return config{}, fmt.Errorf("-sessions %d: want 1-1000", cfg.Sessions)
	case cfg.Size < 1<<20 || cfg.Size > 64<<30:
		return config{}, fmt.Errorf("-size %d: want 1MiB-64GiB", cfg.Size)
	case cfg.Timeout <= 0:
		return config{}, fmt.Errorf("-timeout %v: want a positive duration", cfg.Timeout)
	case cfg.passiveSliceLen() < 8:
		return config{}, fmt.Errorf("-passive %q: want at least 8 ports for each of the %d servers", *passive, len(cfg.Servers))
	case contains(cfg.Servers, "pure-ftpd") && cfg.passiveSliceLen()/2 < cfg.Sessions+pureSpare:
		// Pure-FTPd lowers its client limit to half its passive range,
		// whatever MaxClientsNumber says, so a narrow range would refuse
		// the idle sessions past that and skew its per-session memory.
		return config{}, fmt.Errorf("-passive %q: Pure-FTPd serves at most one client per two passive ports; -sessions %d with %d servers needs at least %d ports",
			*passive, cfg.Sessions, len(cfg.Servers), 2*(cfg.Sessions+pureSpare)*len(cfg.Servers))
	}
	return cfg, nil
}

// passiveSliceLen is the number of passive ports each server gets: the
// servers run side by side, so each has its own equal slice of -passive.
func (c config) passiveSliceLen() int {
	return (c.PassiveHi - c.PassiveLo + 1) / max(1, len(c.Servers))
}

// passiveSlice is the passive range of the i-th server of c.Servers.
func (c config) passiveSlice(i int) (lo, hi int) {
	lo = c.PassiveLo + i*c.passiveSliceLen()
	return lo, lo + c.passiveSliceLen() - 1
}

// parseSize reads "256MiB", "1GiB", "4096" (bytes), "64KiB".
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	mult := int64(1)
	num := s
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: want a positive size such as 256MiB or 1GiB", s)
	}
	return n * mult, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
