package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mode is plain FTP or explicit FTPS (AUTH TLS, PROT P).
type mode struct {
	Name string // "plain" or "FTPS"
	TLS  bool
}

var modes = []mode{{"plain", false}, {"FTPS", true}}

// bench measures one server; res collects its figures.
type bench struct {
	e   *env
	s   *server
	res *results
	log *slog.Logger
}

func (b *bench) url() string { return "ftp://" + b.s.Addr + "/" }

// cpu is the server's process tree's CPU time now.
func (b *bench) cpu() time.Duration {
	d, err := treeCPU(b.s.PID)
	if err != nil {
		b.log.Warn("server cpu", "err", err)
	}
	return d
}

func (b *bench) set(workload, unit, better string, v float64) {
	b.res.set(workload, unit, better, b.s.Name, v)
}

func (b *bench) fail(workload, unit, better string, err error) {
	b.log.Warn("workload failed", "workload", workload, "err", err)
	b.res.fail(workload, unit, better, b.s.Name, err)
}

// curlArgs are curl's options for the bench account in mode m.
func (b *bench) curlArgs(m mode) []string {
	args := []string{"--disable", "-sS", "--max-time", "600", "-u", benchUser + ":" + b.e.bench.Password,
		"-w", "%{time_starttransfer} %{time_total} %{size_download} %{size_upload}\n"}
	if m.TLS {
		args = append(args, "--ssl-reqd", "--cacert", b.e.certFile)
	}
	return args
}

// transfer runs one curl download or upload of the large file and returns
// its rate in bytes per second over the data phase, from curl's
// time_starttransfer (the first byte about to move, after the login and
// the data connection's setup: the login alone is an argon2id or yescrypt
// verification, which would hide the servers' transfer speed) to the end.
func (b *bench) transfer(ctx context.Context, m mode, upload bool) (float64, error) {
	args := b.curlArgs(m)
	if upload {
		// The last upload's file goes first, so that no server frees a
		// large file during the measured transfer (vsftpd truncates at
		// STOR, port21 and Pure-FTPd rename at the end), and every server's
		// upload finds the same memory: on a VM that hands freed memory
		// back to its host (free page reporting, seen on this project's
		// machines), pages freed seconds before are slower to allocate
		// than pages freed just now, which made uploads vary 3x from one
		// run to the next, whatever the server.
		if err := os.Remove(filepath.Join(b.e.files, "up.bin")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("remove the last upload: %w", err)
		}
		args = append(args, "-T", filepath.Join(b.e.files, "big.bin"), b.url()+"up.bin")
	} else {
		args = append(args, "-o", "/dev/null", b.url()+"big.bin")
	}
	out, err := runLogged(ctx, 10*time.Minute, "curl", args...)
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(out))
	if len(f) != 4 {
		return 0, fmt.Errorf("curl -w: unexpected %q", out)
	}
	var v [4]float64
	for i := range f {
		if v[i], err = strconv.ParseFloat(f[i], 64); err != nil {
			return 0, fmt.Errorf("curl -w: %q: %w", out, err)
		}
	}
	start, total, bytes := v[0], v[1], v[2]
	if upload {
		bytes = v[3]
	}
	if int64(bytes) != b.e.cfg.Size {
		return 0, fmt.Errorf("curl moved %.0f bytes, want %d", bytes, b.e.cfg.Size)
	}
	if total-start <= 0 {
		return 0, errors.New("curl: no transfer time")
	}
	return bytes / (total - start), nil
}

// large measures the large file's download and upload in mode m on every
// server: one warm-up each, then cfg.Runs rounds of one transfer per server,
// the median rate and the server's CPU time per GiB, less the login each
// transfer starts with (loginCPU).
func large(ctx context.Context, benches []*bench, m mode) {
	if len(benches) == 0 {
		return
	}
	cfg := benches[0].e.cfg
	size := sizeName(cfg.Size)
	for _, upload := range []bool{false, true} {
		dir := "download"
		if upload {
			dir = "upload"
		}
		name := fmt.Sprintf("%s %s %s (curl, median of %d)", m.Name, dir, size, cfg.Runs)
		cpuName := fmt.Sprintf("%s %s, server CPU per GiB", m.Name, dir)
		type tally struct {
			rates []float64
			cpu   time.Duration
			err   error
		}
		tallies := make([]tally, len(benches))
		logins := make([]time.Duration, len(benches))
		for i, b := range benches {
			b.log.Info("large file, warm-up", "server", b.s.Name, "mode", m.Name, "dir", dir)
			if _, err := b.transfer(ctx, m, upload); err != nil {
				tallies[i].err = fmt.Errorf("warm-up: %w", err)
				continue
			}
			var err error
			if logins[i], err = b.loginCPU(ctx, m); err != nil {
				tallies[i].err = fmt.Errorf("login before the transfers: %w", err)
			}
		}
		for round := range cfg.Runs {
			for i, b := range benches {
				t := &tallies[i]
				if t.err != nil {
					continue
				}
				b.log.Info("large file", "server", b.s.Name, "mode", m.Name, "dir", dir, "round", round+1)
				c0 := b.cpu()
				r, err := b.transfer(ctx, m, upload)
				if err != nil {
					t.err = err
					continue
				}
				t.cpu += max(0, b.cpu()-c0-logins[i])
				t.rates = append(t.rates, r)
			}
		}
		for i, b := range benches {
			t := tallies[i]
			if t.err != nil {
				b.fail(name, "MB/s", higher, t.err)
				continue
			}
			b.set(name, "MB/s", higher, median(t.rates)/1e6)
			gib := float64(cfg.Size) * float64(len(t.rates)) / (1 << 30)
			b.set(cpuName, "s", lower, t.cpu.Seconds()/gib)
		}
	}
}

// loginCPU is the server CPU of one login and QUIT with the bench account
// in mode m, the median of three: what each curl transfer pays before its
// data moves, which the CPU per GiB leaves out. (It is not small beside a
// GiB: ~80 ms of yescrypt for the peers; port21's verification cache
// remembers the bench account after the warm-up, as it does during the
// transfers.)
func (b *bench) loginCPU(ctx context.Context, m mode) (time.Duration, error) {
	var cpus []float64
	for range 3 {
		c0 := b.cpu()
		s, err := login(ctx, b.s.Addr, benchUser, b.e.bench.Password, b.tlsConf(m))
		if err != nil {
			return 0, err
		}
		if err := s.quit(ctx); err != nil {
			return 0, err
		}
		cpus = append(cpus, float64(b.cpu()-c0))
	}
	return time.Duration(median(cpus)), nil
}

// idleSettle is how long the sessions are held before the memory reading.
const idleSettle = 5 * time.Second

// idle holds cfg.Sessions logged-in idle sessions in mode m and reports the
// server's whole PSS divided by them, and the PSS they added.
func (b *bench) idle(ctx context.Context, m mode, first bool) {
	n := b.e.cfg.Sessions
	name := fmt.Sprintf("PSS per idle %s session (%d held, whole server / %d)", m.Name, n, n)
	marginal := fmt.Sprintf("PSS added per idle %s session", m.Name)
	// The baseline settles too: after the large transfers, and after the
	// last mode's sessions, which port21 gives back 2 s after they end (read
	// at once, the plain row's baseline held the FTPS sessions' memory and
	// its "added" came out below zero).
	if !sleep(ctx, idleSettle) {
		b.fail(name, "KiB", lower, ctx.Err())
		return
	}
	before, err := treePSS(b.s.PID)
	if err != nil {
		b.fail(name, "KiB", lower, err)
		return
	}
	if first {
		b.set("PSS of the server after the large transfers, no session", "MiB", lower, float64(before)/(1<<20))
	}
	b.log.Info("idle sessions", "server", b.s.Name, "mode", m.Name, "sessions", n)
	sessions := make([]*session, n)
	var mu sync.Mutex
	var refused error
	parallel(ctx, 8, n, func(ctx context.Context, i int) error {
		s, err := login(ctx, b.s.Addr, benchUser, b.e.bench.Password, b.tlsConf(m))
		sessions[i] = s
		if err != nil {
			mu.Lock()
			refused = cmp.Or(refused, err)
			mu.Unlock()
		}
		return nil
	})
	defer func() {
		parallel(context.WithoutCancel(ctx), 8, n, func(ctx context.Context, i int) error {
			if sessions[i] != nil {
				sessions[i].quit(ctx)
			}
			return nil
		})
	}()
	held := 0
	for _, s := range sessions {
		if s != nil {
			held++
		}
	}
	// A server that caps its sessions below n (Pure-FTPd here) is measured
	// with what it let in, and the note says so.
	if refused != nil && held < 10 {
		b.fail(name, "KiB", lower, refused)
		return
	}
	if refused != nil {
		b.res.note(fmt.Sprintf("%s held only %d of %d idle %s sessions (%s): its figures are per session held", displayName(b.s.Name), held, n, m.Name, firstLine(refused.Error())))
	}
	// Idle means settled: port21 gives back what the logins took 2 s after
	// the last one (the peers' processes do not change once forked).
	if !sleep(ctx, idleSettle) {
		b.fail(name, "KiB", lower, ctx.Err())
		return
	}
	after, err := treePSS(b.s.PID)
	if err != nil {
		b.fail(name, "KiB", lower, err)
		return
	}
	b.set(name, "KiB", lower, float64(after)/float64(held)/1024)
	b.set(marginal, "KiB", lower, float64(after-before)/float64(held)/1024)
}

func (b *bench) tlsConf(m mode) *tls.Config {
	if !m.TLS {
		return nil
	}
	return b.e.tls
}

// lftp runs an lftp script against the server as the bench account.
func (b *bench) lftp(ctx context.Context, m mode, command string) error {
	script := []string{
		"set cmd:fail-exit yes", "set net:max-retries 2", "set net:reconnect-interval-base 1",
		"set net:timeout 30", "set xfer:clobber on", "set cmd:interactive no",
	}
	if m.TLS {
		// lftp trusts the bench's certificate, as curl does (--cacert), and
		// verifies it. Left to its default CA file, lftp parses all of the
		// system's CA certificates again for every data connection: ~4 ms
		// of its CPU per file, which held every server to ~150 small files
		// a second over FTPS and hid the servers' own costs.
		script = append(script, "set ftp:ssl-force true", "set ftp:ssl-protect-data true",
			"set ftp:ssl-protect-list true", "set ssl:ca-file "+b.e.certFile, "set ssl:verify-certificate yes")
	} else {
		script = append(script, "set ftp:ssl-allow no")
	}
	script = append(script, "open -u "+benchUser+","+b.e.bench.Password+" ftp://"+b.s.Addr, command)
	_, err := runLogged(ctx, 15*time.Minute, "lftp", "-c", strings.Join(script, "; "))
	return err
}

// small mirrors the small files down and up with lftp in mode m.
func (b *bench) small(ctx context.Context, m mode) {
	n := b.e.cfg.Files
	what := fmt.Sprintf("%d x %s", n, sizeName(int64(b.e.cfg.FileSize)))
	down := fmt.Sprintf("%s small files download (lftp mirror, %s)", m.Name, what)
	up := fmt.Sprintf("%s small files upload (lftp mirror -R)", m.Name)
	cpuName := fmt.Sprintf("%s small files, server CPU per 1,000 files", m.Name)
	local := filepath.Join(b.e.dir, "mirror-"+b.s.Name+"-"+m.Name)
	upDir := "up-small-" + b.s.Name + "-" + m.Name // the servers share the files
	defer os.RemoveAll(local)
	var cpu time.Duration
	ok := 0
	for _, upload := range []bool{false, true} {
		name, cmd := down, "mirror --no-perms small "+local
		if upload {
			name, cmd = up, "mirror -R --no-perms "+filepath.Join(b.e.files, "small")+" "+upDir
		}
		b.log.Info("small files", "server", b.s.Name, "mode", m.Name, "upload", upload)
		c0, t0 := b.cpu(), time.Now()
		if err := b.lftp(ctx, m, cmd); err != nil {
			b.fail(name, "files/s", higher, err)
			continue
		}
		wall := time.Since(t0)
		cpu += b.cpu() - c0
		got, err := countFiles(local)
		if upload {
			got, err = countFiles(filepath.Join(b.e.files, upDir))
		}
		if err == nil && got != n {
			err = fmt.Errorf("mirrored %d files, want %d", got, n)
		}
		if err != nil {
			b.fail(name, "files/s", higher, err)
			continue
		}
		b.set(name, "files/s", higher, float64(n)/wall.Seconds())
		ok++
	}
	if ok == 2 {
		b.set(cpuName, "s", lower, cpu.Seconds()/float64(2*n)*1000)
	}
}

func countFiles(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("count mirrored files: %w", err)
	}
	return len(entries), nil
}

// logins runs the login+QUIT series in mode m: sequential and
// cfg.Parallel at once, each login with its own account and password.
func (b *bench) logins(ctx context.Context, m mode) {
	for _, par := range []int{1, b.e.cfg.Parallel} {
		group, how := strings.ToLower(m.Name)+"-seq", "sequential"
		if par > 1 {
			group, how = strings.ToLower(m.Name)+"-par", fmt.Sprintf("%d parallel", par)
		}
		accts := b.e.logins[group]
		name := fmt.Sprintf("%s logins, %s, %d passwords", m.Name, how, len(accts))
		b.log.Info("logins", "server", b.s.Name, "mode", m.Name, "parallel", par)
		c0 := b.cpu()
		rate, err := b.loginSeries(ctx, m, par, len(accts), func(i int) account { return accts[i] })
		if err != nil {
			b.fail(name, "logins/s", higher, err)
			continue
		}
		b.set(name, "logins/s", higher, rate)
		if par == 1 {
			b.set(fmt.Sprintf("%s logins, server CPU per login", m.Name), "ms", lower,
				float64((b.cpu()-c0).Milliseconds())/float64(len(accts)))
		}
	}
}

// cachedLogins is the FTPS series again with one account and password
// every time, which port21's verification cache remembers: reported apart.
func (b *bench) cachedLogins(ctx context.Context) {
	m := modes[1]
	n := b.e.cfg.Logins
	for _, par := range []int{1, b.e.cfg.Parallel} {
		how := "sequential"
		if par > 1 {
			how = fmt.Sprintf("%d parallel", par)
		}
		name := fmt.Sprintf("%s logins, %s, one password (cache)", m.Name, how)
		b.log.Info("logins, one password", "server", b.s.Name, "parallel", par)
		rate, err := b.loginSeries(ctx, m, par, n, func(int) account { return b.e.bench })
		if err != nil {
			b.fail(name, "logins/s", higher, err)
			continue
		}
		b.set(name, "logins/s", higher, rate)
	}
}

// loginSeries logs in and says QUIT n times, par at once, and returns
// logins per second.
func (b *bench) loginSeries(ctx context.Context, m mode, par, n int, acct func(int) account) (float64, error) {
	t0 := time.Now()
	err := parallel(ctx, par, n, func(ctx context.Context, i int) error {
		a := acct(i)
		s, err := login(ctx, b.s.Addr, a.Name, a.Password, b.tlsConf(m))
		if err != nil {
			return err
		}
		return s.quit(ctx)
	})
	if err != nil {
		return 0, err
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

// parallel runs f for 0..n-1, par at a time, and returns the first error
// (after which no more are started).
func parallel(ctx context.Context, par, n int, f func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(par, n) {
		wg.Go(func() {
			for i := range next {
				if err := f(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// sizeName is "256 MiB", "1 GiB", "4 KiB" or bytes.
func sizeName(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
