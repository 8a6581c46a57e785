package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/port21/port21/internal/audit"
	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/jail"
	"github.com/port21/port21/internal/policy"
	"github.com/port21/port21/internal/users"
)

// BanStore keeps the defender's bans where `port21 ban` (another process)
// reads and changes them, so they survive a restart.
type BanStore interface {
	PutBan(ctx context.Context, b users.Ban) error
	Bans(ctx context.Context) ([]users.Ban, error)
	// BansVersion changes whenever any process writes a ban.
	BansVersion(ctx context.Context) (int64, error)
	PruneBans(ctx context.Context, before time.Time) error
}

// pollInterval is how often the server re-reads the ban list's version and
// checks logged-in accounts for expiry, disabling and deletion: a change
// made with the CLI takes effect within about this long, running
// transfers included.
const pollInterval = time.Second

// banMemory is how long an ended ban is remembered, so that the next one
// of the same address lasts longer.
const banMemory = 7 * 24 * time.Hour

// maintain runs the periodic checks until ctx is done.
func (s *Server) maintain(ctx context.Context) {
	t := time.NewTicker(s.pollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.reloadBans(ctx, false)
		s.sweepAccounts(ctx)
	}
}

// reloadBans reads the bans from the store when their version changed (or
// always, with force) and hands them to the defender; sessions of a newly
// banned address that have not logged in are ended.
func (s *Server) reloadBans(ctx context.Context, force bool) {
	if s.banStore == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s.saveUnsaved(ctx)
	v, err := s.banStore.BansVersion(ctx)
	if err != nil {
		s.log.Error("read ban version", "err", err)
		return
	}
	if !force && v == s.bansVersion.Load() {
		return
	}
	since := s.now()
	list, err := s.banStore.Bans(ctx)
	if err != nil {
		s.log.Error("read bans", "err", err)
		return
	}
	list = s.unsaved.merge(list, s.now())
	before := map[netip.Prefix]bool{}
	for _, b := range s.defender.Active() {
		before[b.Prefix] = true
	}
	bans := make([]policy.Ban, 0, len(list))
	for _, b := range list {
		bans = append(bans, policy.Ban{Prefix: b.Prefix, Until: b.Until, Offences: b.Offences, Reason: b.Reason, Created: b.Created})
	}
	s.defender.Load(bans, since)
	s.bansVersion.Store(v)
	for _, b := range s.defender.Active() {
		if !before[b.Prefix] {
			s.emit(s.log, audit.Ban{Prefix: b.Prefix, Until: b.Until, Offences: b.Offences, Reason: b.Reason, Source: "store"})
			s.endPreLoginIn(b.Prefix)
		}
	}
	if force {
		if err := s.banStore.PruneBans(ctx, s.now().Add(-banMemory)); err != nil {
			s.log.Error("prune bans", "err", err)
		}
	}
}

// record scores ev for addr and, if that bans it, persists and enforces
// the ban. It reports whether addr is now banned.
func (s *Server) record(addr netip.Addr, ev policy.Event) bool {
	b, banned := s.defender.Record(addr, ev)
	if !banned {
		return false
	}
	s.emit(s.log, audit.Ban{Prefix: b.Prefix, Until: b.Until, Offences: b.Offences, Reason: b.Reason, Source: "defender"})
	if s.banStore != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ub := users.Ban{Prefix: b.Prefix, Until: b.Until, Offences: b.Offences, Reason: b.Reason, Created: b.Created}
		if err := s.banStore.PutBan(ctx, ub); err != nil {
			// The ban holds in memory, across reloads of the store's
			// bans, and is written again every pollInterval until the
			// store takes it (see unsavedBans).
			s.log.Error("persist ban", "prefix", b.Prefix.String(), "err", err)
			s.unsaved.add(ub)
		} else {
			s.unsaved.saved(b.Prefix) // an older unsaved ban must not overwrite this one
		}
	}
	return true
}

// unsavedBans are bans the defender made that the store could not take (a
// full disk, a store that is down). Without them, the next reload of the
// store's bans, which replaces the defender's, would forget such a ban at
// once, and a restart would too.
type unsavedBans struct {
	mu   sync.Mutex
	bans map[netip.Prefix]users.Ban
}

func (u *unsavedBans) add(b users.Ban) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.bans == nil {
		u.bans = map[netip.Prefix]users.Ban{}
	}
	u.bans[b.Prefix] = b
}

// list returns the unsaved bans still in force at now and forgets the
// others.
func (u *unsavedBans) list(now time.Time) []users.Ban {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []users.Ban
	for k, b := range u.bans {
		if !now.Before(b.Until) {
			delete(u.bans, k)
			continue
		}
		out = append(out, b)
	}
	return out
}

func (u *unsavedBans) saved(p netip.Prefix) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.bans, p)
}

// merge adds the unsaved bans to the store's list, where the store has no
// ban of the same prefix.
func (u *unsavedBans) merge(list []users.Ban, now time.Time) []users.Ban {
	pending := u.list(now)
	if len(pending) == 0 {
		return list
	}
	have := make(map[netip.Prefix]bool, len(list))
	for _, b := range list {
		have[b.Prefix] = true
	}
	for _, b := range pending {
		if !have[b.Prefix] {
			list = append(list, b)
		}
	}
	return list
}

// saveUnsaved writes the unsaved bans to the store again.
func (s *Server) saveUnsaved(ctx context.Context) {
	for _, b := range s.unsaved.list(s.now()) {
		if err := s.banStore.PutBan(ctx, b); err != nil {
			return // still failing: try again at the next poll
		}
		s.unsaved.saved(b.Prefix)
		s.log.Info("ban persisted after an earlier failure", "prefix", b.Prefix.String())
	}
}

// endPreLoginIn ends the sessions inside p that have not logged in.
func (s *Server) endPreLoginIn(p netip.Prefix) {
	var victims []*session
	s.mu.Lock()
	for sess := range s.sessions {
		if sess.account.Load() == nil && p.Contains(sess.remote.Addr().Unmap()) {
			victims = append(victims, sess)
		}
	}
	s.mu.Unlock()
	for _, sess := range victims {
		sess.kill("banned", p.String(), reply421("Your address is banned; try again later."))
	}
}

// sweepAccounts ends, within pollInterval, the sessions of accounts that
// were deleted, disabled or expired since they logged in, transfers
// included: recheck only runs at the next command, and a long transfer
// sends none.
func (s *Server) sweepAccounts(ctx context.Context) {
	type live struct {
		sess *session
		name string
	}
	var all []live
	s.mu.Lock()
	for sess := range s.sessions {
		if name := sess.account.Load(); name != nil && !sess.anonymous.Load() {
			all = append(all, live{sess, *name})
		}
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	why := map[string]string{}
	for _, l := range all {
		reason, seen := why[l.name]
		if !seen {
			u, err := s.accounts.Get(ctx, l.name)
			switch {
			case errors.Is(err, users.ErrNotFound):
				reason = "account deleted"
			case err != nil:
				s.log.Error("account check failed", "user", l.name, "err", err)
			default:
				reason = u.Blocked(s.now())
			}
			why[l.name] = reason
		}
		if reason != "" {
			l.sess.kill("account-changed", reason, reply421("Your account is no longer valid ("+reason+"); closing control connection."))
		}
	}
}

// claimSlot marks sess as logged in to name unless the account already has
// max sessions (0: no limit). Counting and claiming under one lock keeps
// parallel logins from overshooting.
func (s *Server) claimSlot(sess *session, name string, max int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if max > 0 {
		n := 0
		for other := range s.sessions {
			if a := other.account.Load(); a != nil && *a == name && !other.anonymous.Load() == !sess.anonymous.Load() {
				n++
			}
		}
		if n >= max {
			return false
		}
	}
	sess.account.Store(&name)
	return true
}

// isAnonymousName reports whether name is the anonymous FTP convention.
func isAnonymousName(name string) bool {
	return strings.EqualFold(name, "anonymous") || strings.EqualFold(name, "ftp")
}

// anonymousUser is the account anonymous logins get: read-only in
// anonymous-root. It is not in the store, and no store account named
// anonymous or ftp can log in while anonymous access is on.
func (s *Server) anonymousUser() users.User {
	return users.User{Name: "anonymous", Home: s.conf().AnonymousRoot, ReadOnly: true, Perms: users.PermReadOnly}
}

// errQuota is a write past the account's quota.
var errQuota = errors.New("quota exceeded")

// quotas tracks, per account, the uploads in progress, which a walk of the
// home cannot see (they are hidden temporary files), so that parallel
// uploads of one account share its quota instead of each filling it.
type quotas struct {
	mu    sync.Mutex
	bytes map[string]int64
	files map[string]int64
}

// quotaWriter passes writes to w while the account stays within its bytes
// quota. credit is what the upload replaces of an existing file.
type quotaWriter struct {
	w      io.Writer
	q      *quotas
	name   string
	limit  int64 // the quota minus what is stored, plus credit
	mine   int64
	closed bool
}

func (q *quotas) start(name string, newFile bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if newFile {
		q.files[name]++
	}
}

func (q *quotas) inflight(name string) (int64, int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes[name], q.files[name]
}

func (w *quotaWriter) Write(p []byte) (int, error) {
	w.q.mu.Lock()
	if w.q.bytes[w.name]+int64(len(p)) > w.limit {
		w.q.mu.Unlock()
		return 0, errQuota
	}
	w.q.bytes[w.name] += int64(len(p))
	w.q.mu.Unlock()
	w.mine += int64(len(p))
	n, err := w.w.Write(p)
	return n, err
}

// done releases what the upload held in the in-flight count.
func (w *quotaWriter) done(newFile bool) {
	w.q.mu.Lock()
	defer w.q.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = true
	if w.q.bytes[w.name] -= w.mine; w.q.bytes[w.name] <= 0 {
		delete(w.q.bytes, w.name)
	}
	if newFile {
		if w.q.files[w.name]--; w.q.files[w.name] <= 0 {
			delete(w.q.files, w.name)
		}
	}
}

// checkQuota decides whether an upload to vpath (replacing old bytes of an
// existing file, of which it keeps offset) may start, and returns the
// writer wrapper that enforces the bytes quota while it runs; nil when the
// account has no quota. The usage is walked afresh each time, so it is
// right after deletes, renames and failed uploads.
func (s *session) checkQuota(vpath string) (wrap func(io.Writer) *quotaWriter, release func(), ok bool) {
	u := s.user
	if u.QuotaBytes == 0 && u.QuotaFiles == 0 {
		return nil, func() {}, true
	}
	var old int64
	exists := false
	if fi, err := s.jail.Stat(vpath); err == nil && fi.Mode().IsRegular() {
		old, exists = fi.Size(), true
	}
	used, files, err := jail.Usage(s.homeDir)
	if err != nil {
		s.log.Error("quota: usage", "err", err)
		s.reply(ftp.CodeFileUnavailable, "Upload refused: the quota could not be checked.")
		return nil, nil, false
	}
	q := s.srv.quotas
	inBytes, inFiles := q.inflight(u.Name)
	if u.QuotaFiles > 0 && !exists && files+inFiles >= u.QuotaFiles {
		s.emit(audit.Refused{Stage: audit.StageUpload, Reason: "quota", Detail: fmt.Sprintf("at most %d files", u.QuotaFiles)})
		s.reply(ftp.CodeExceededStorage, "Quota exceeded: this account may hold at most %d files.", u.QuotaFiles)
		return nil, nil, false
	}
	limit := int64(1<<63 - 1)
	if u.QuotaBytes > 0 {
		credit := max(0, old-min(s.rest, old))
		limit = u.QuotaBytes - used + credit
		if inBytes >= limit {
			s.emit(audit.Refused{Stage: audit.StageUpload, Reason: "quota", Detail: fmt.Sprintf("at most %d bytes", u.QuotaBytes)})
			s.reply(ftp.CodeExceededStorage, "Quota exceeded: this account may hold at most %d bytes.", u.QuotaBytes)
			return nil, nil, false
		}
	}
	q.start(u.Name, !exists)
	var qw *quotaWriter
	wrap = func(w io.Writer) *quotaWriter {
		qw = &quotaWriter{w: w, q: q, name: u.Name, limit: limit}
		return qw
	}
	release = func() {
		if qw == nil {
			qw = &quotaWriter{q: q, name: u.Name}
		}
		qw.done(!exists)
	}
	return wrap, release, true
}

// rates holds one pair of limiters per account, shared by its sessions.
type rates struct {
	mu sync.Mutex
	m  map[string]*ratePair
}

type ratePair struct {
	upRate, downRate int64
	up, down         *rate.Limiter
}

func newLimiter(bps int64) *rate.Limiter {
	if bps <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(bps), int(min(max(bps, 4<<10), 256<<10)))
}

// limiter returns the account's limiter for one direction, nil for none.
func (r *rates) limiter(u *users.User, upload bool) *rate.Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.m[u.Name]
	if p == nil || p.upRate != u.RateUp || p.downRate != u.RateDown {
		p = &ratePair{upRate: u.RateUp, downRate: u.RateDown, up: newLimiter(u.RateUp), down: newLimiter(u.RateDown)}
		r.m[u.Name] = p
	}
	if upload {
		return p.up
	}
	return p.down
}

// limitedReader reads no faster than its limiter allows.
type limitedReader struct {
	ctx context.Context
	r   io.Reader
	lim *rate.Limiter
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if b := l.lim.Burst(); len(p) > b {
		p = p[:b]
	}
	n, err := l.r.Read(p)
	if n > 0 {
		if werr := l.lim.WaitN(l.ctx, n); werr != nil && err == nil {
			err = fmt.Errorf("rate limit: %w", werr)
		}
	}
	return n, err
}

// limitRead wraps r with the account's rate limit for the direction, if it
// has one. It costs sendfile: only limited accounts pay.
func (s *session) limitRead(ctx context.Context, r io.Reader, upload bool) io.Reader {
	if s.user == nil {
		return r
	}
	lim := s.srv.rates.limiter(s.user, upload)
	if lim == nil {
		return r
	}
	return &limitedReader{ctx: ctx, r: r, lim: lim}
}
