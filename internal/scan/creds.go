package scan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
)

// defaultCredentials is the short list tried by --intrusive. It is
// deliberately short: each attempt is a failed login in the target's logs
// and may count towards a ban.
var defaultCredentials = [][2]string{
	{"admin", "admin"}, {"ftp", "ftp"}, {"test", "test"}, {"user", "user"}, {"root", "root"},
}

// anonymousAliases are the user names servers treat as the anonymous login
// (vsftpd, Pure-FTPd, and ProFTPD's usual "UserAlias anonymous ftp"), which
// accept any password when anonymous access is on.
var anonymousAliases = []string{"anonymous", "ftp"}

// credWorkers is how many connections try the list at once. Servers delay
// each failed login (Pure-FTPd by seconds), so trying the pairs one after
// another would cost the sum of the delays; three connections keep a
// single host's share of the scanner's connections small.
const credWorkers = 3

// credCandidates is the list to try: without the anonymous aliases when
// anonymous login works, since a password accepted for them is the
// anonymous login already reported, not a default password.
func credCandidates(anonymous bool) [][2]string {
	if !anonymous {
		return defaultCredentials
	}
	var out [][2]string
	for _, c := range defaultCredentials {
		if !slices.Contains(anonymousAliases, strings.ToLower(c[0])) {
			out = append(out, c)
		}
	}
	return out
}

// defaultCreds tries the short list of well-known credentials, over TLS
// when the service has it, on up to credWorkers connections at once, each
// taking the next untried pair. It stops at the first success. A server
// that hangs up is reconnected to once per pair; what cannot be tried is
// inconclusive, not an error.
func (a *audit) defaultCreds() error {
	creds := credCandidates(a.anonymous)
	if len(creds) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(a.ctx)
	defer cancel()
	var (
		next    atomic.Int64
		tried   atomic.Int64
		mu      sync.Mutex
		hit     []finding.Evidence
		openErr error
		wg      sync.WaitGroup
	)
	for range min(credWorkers, len(creds)) {
		wg.Go(func() {
			var c *conn
			defer func() {
				if c != nil {
					c.close()
				}
			}()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(creds) || ctx.Err() != nil {
					return
				}
				for attempt := 0; attempt < 2; attempt++ {
					if c == nil {
						var err error
						if c, err = a.credConn(ctx); err != nil {
							mu.Lock()
							if openErr == nil {
								openErr = err
							}
							mu.Unlock()
							return
						}
					}
					ok, evs, err := tryCred(c, creds[i])
					if err != nil { // hung up: reconnect once
						c.close()
						c = nil
						continue
					}
					tried.Add(1)
					if ok {
						mu.Lock()
						if hit == nil {
							hit = evs
						}
						mu.Unlock()
						cancel()
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	if hit != nil {
		a.o.DefaultCreds = hit
		return nil
	}
	if tried.Load() == 0 && openErr != nil && a.ctx.Err() == nil {
		return fmt.Errorf("default-credentials connection: %w", openErr)
	}
	return nil
}

// credConn opens a connection for credential attempts, with TLS when the
// service has it.
func (a *audit) credConn(ctx context.Context) (*conn, error) {
	c, _, err := a.openCtx(ctx, a.implicit, a.inspectConfig(0, 0, nil))
	if err != nil {
		return nil, err
	}
	if a.svc.TLS != "" && !a.implicit {
		r, _, err := c.cmd("AUTH TLS")
		if err == nil && r.Code != ftp.CodeAuthOK {
			err = fmt.Errorf("AUTH TLS: %s", replyText(r))
		}
		if err == nil {
			err = c.startTLS(a.inspectConfig(0, 0, nil))
		}
		if err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

// tryCred sends one USER/PASS pair. ok reports a login; an error means the
// connection is gone.
func tryCred(c *conn, cred [2]string) (ok bool, evs []finding.Evidence, err error) {
	r, ev1, err := c.cmd("USER " + cred[0])
	if err != nil {
		return false, nil, err
	}
	if r.Code != ftp.CodeNeedPassword {
		return false, nil, nil
	}
	r, ev2, err := c.cmd("PASS " + cred[1])
	if err != nil {
		return false, nil, err
	}
	return r.Code == ftp.CodeLoggedIn, []finding.Evidence{ev1, ev2}, nil
}
