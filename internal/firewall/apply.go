package firewall

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultStateDir is where Apply keeps what it replaced and the pending
// confirmation, so that Rollback, Confirm and the confirmation watchdog
// (separate processes) can find them.
const DefaultStateDir = "/var/lib/port21/firewall"

// ErrPending is returned by Apply while an earlier apply waits for its
// confirmation: confirm it or roll it back first.
var ErrPending = errors.New("firewall: an earlier apply is waiting for confirmation")

// Manager applies and rolls back port21's rules with one backend: nftables,
// iptables, ufw or firewalld. Windows and pf are plan-only.
type Manager struct {
	backend  Backend
	stateDir string
	run      runner
	now      func() time.Time
}

// NewManager returns a Manager for backend b keeping its state in stateDir
// (DefaultStateDir when empty).
func NewManager(b Backend, stateDir string) (*Manager, error) {
	switch b {
	case NFTables, IPTables, UFW, Firewalld:
	default:
		return nil, fmt.Errorf("%w: apply supports nftables, iptables, ufw and firewalld; for %s, run the rules of `port21 firewall plan --backend %s`", ErrUnsupported, b, b)
	}
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	return &Manager{backend: b, stateDir: stateDir, run: execRunner{}, now: time.Now}, nil
}

// backup is what an apply replaced: enough to put it back.
type backup struct {
	Backend Backend   `json:"backend"`
	Applied time.Time `json:"applied"`
	Policy  string    `json:"policy"`
	// NFT is the `nft list table inet port21` output before the apply,
	// empty when the table did not exist.
	NFT string `json:"nft,omitempty"`
	// IPT holds port21's chain rules before the apply, per family ("4", "6").
	IPT map[string]iptSaved `json:"iptables,omitempty"`
	// IPSet holds `ipset save` of port21's sets before the apply.
	IPSet map[string]string `json:"ipset,omitempty"`
	// UFW and Firewalld hold what an apply through them changed.
	UFW       *ufwState       `json:"ufw,omitempty"`
	Firewalld *firewalldState `json:"firewalld,omitempty"`
}

type iptSaved struct {
	Raw    []string `json:"raw,omitempty"`
	Filter []string `json:"filter,omitempty"`
}

// pending is an apply waiting for confirmation.
type pending struct {
	Token    string    `json:"token"`
	Deadline time.Time `json:"deadline"`
	PID      int       `json:"pid,omitempty"` // the watchdog's
}

func (m *Manager) path(name string) string { return filepath.Join(m.stateDir, name) }

// lock serialises every state change across processes (apply, rollback,
// confirm, the watchdog).
func (m *Manager) lock() (unlock func(), err error) {
	if err := os.MkdirAll(m.stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("firewall: state directory: %w", err)
	}
	f, err := os.OpenFile(m.path("lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("firewall: lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("firewall: lock: %w", err)
	}
	return func() { f.Close() }, nil
}

func readJSON(path string, v any) (bool, error) {
	if path == "" {
		return false, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("firewall: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("firewall: %s: %w", path, err)
	}
	return true, nil
}

// writeJSON writes atomically: a crash leaves the old file or the new one.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("firewall: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("firewall: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("firewall: %w", err)
	}
	return nil
}

// Apply replaces port21's rules with the policy's, atomically, and keeps
// what it replaced for Rollback.
func (m *Manager) Apply(ctx context.Context, p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	unlock, err := m.lock()
	if err != nil {
		return err
	}
	defer unlock()
	var pend pending
	if ok, err := readJSON(m.path("pending.json"), &pend); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w (until %s): run `port21 firewall confirm` or `port21 firewall rollback`", ErrPending, pend.Deadline.Format(time.RFC3339))
	}
	bk := backup{Backend: m.backend, Applied: m.now().UTC(), Policy: p.describe()}
	switch m.backend {
	case NFTables:
		err = m.applyNFT(ctx, p, &bk)
	case IPTables:
		err = m.applyIPT(ctx, p, &bk)
	case UFW:
		err = m.applyUFW(ctx, p, &bk)
	case Firewalld:
		err = m.applyFirewalld(ctx, p, &bk)
	}
	if err != nil {
		if bk.UFW != nil || bk.Firewalld != nil {
			// These backends change rules one by one: put back what a
			// failed apply changed.
			if rerr := m.rollbackOne(ctx, bk); rerr != nil {
				err = fmt.Errorf("%w; undoing the partial apply also failed: %w", err, rerr)
			}
		}
		return err
	}
	_, next, err := m.lastBackup()
	if err != nil {
		return err
	}
	if err := writeJSON(next, bk); err != nil {
		return err
	}
	m.pruneBackups()
	return nil
}

// maxBackups is how many applies can be rolled back one after the other.
const maxBackups = 32

// pruneBackups forgets the oldest backups beyond maxBackups.
func (m *Manager) pruneBackups() {
	ents, err := os.ReadDir(m.path("backups"))
	if err != nil || len(ents) <= maxBackups {
		return
	}
	// ReadDir sorts by name, and names are zero-padded numbers.
	for _, e := range ents[:len(ents)-maxBackups] {
		_ = os.Remove(filepath.Join(m.path("backups"), e.Name()))
	}
}

// lastBackup returns the newest backup file (empty when none) and the name
// the next one gets. Backups stack up, one per apply, so that successive
// rollbacks walk back through successive applies.
func (m *Manager) lastBackup() (last, next string, err error) {
	dir := m.path("backups")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("firewall: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", "", fmt.Errorf("firewall: %w", err)
	}
	n := 0
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if v, err := strconv.Atoi(name); ok && err == nil && v > n {
			n = v
			last = filepath.Join(dir, e.Name())
		}
	}
	return last, filepath.Join(dir, fmt.Sprintf("%06d.json", n+1)), nil
}

func (m *Manager) applyNFT(ctx context.Context, p Policy, bk *backup) error {
	prev, err := m.nftCurrent(ctx)
	if err != nil {
		return err
	}
	bk.NFT = prev
	if _, err := m.run.run(ctx, nftScript(p), "nft", "-f", "-"); err != nil {
		return fmt.Errorf("firewall: apply: %w", err)
	}
	return nil
}

// nftCurrent lists port21's table, or "" when there is none.
func (m *Manager) nftCurrent(ctx context.Context) (string, error) {
	out, err := m.run.run(ctx, "", "nft", "list", "table", "inet", "port21")
	if err != nil {
		if strings.Contains(err.Error(), "No such file or directory") {
			return "", nil
		}
		return "", fmt.Errorf("firewall: read current rules: %w", err)
	}
	return out, nil
}

func iptProgs(v6 bool) (save, restore, family string) {
	if v6 {
		return "ip6tables-save", "ip6tables-restore", "6"
	}
	return "iptables-save", "iptables-restore", "4"
}

func (m *Manager) applyIPT(ctx context.Context, p Policy, bk *backup) error {
	bk.IPT = map[string]iptSaved{}
	bk.IPSet = map[string]string{}
	type step struct {
		restore, prog string
	}
	var steps []step
	// Read everything and build every input first, so that a failure to
	// read leaves the rules untouched.
	for _, v6 := range []bool{false, true} {
		save, restore, fam := iptProgs(v6)
		cur, err := m.run.run(ctx, "", save)
		if err != nil {
			return fmt.Errorf("firewall: read current rules: %w", err)
		}
		rules := iptRules(p, v6)
		in, removed := mergeIPTSave(cur, &rules)
		bk.IPT[fam] = iptSaved{Raw: removed.raw, Filter: removed.filter}
		if s, err := m.run.run(ctx, "", "ipset", "save", ipsetName(v6)); err == nil && strings.TrimSpace(s) != "" {
			bk.IPSet[fam] = s
		}
		steps = append(steps, step{in, restore})
	}
	for _, v6 := range []bool{false, true} {
		if err := m.loadIPSet(ctx, p, v6); err != nil {
			return err
		}
	}
	for i, s := range steps {
		if _, err := m.run.run(ctx, s.restore, s.prog); err != nil {
			if i > 0 {
				// IPv4 is already in place: put it back so the families agree.
				_ = m.rollbackIPT(ctx, backup{IPT: map[string]iptSaved{"4": bk.IPT["4"]}}, []bool{false})
			}
			return fmt.Errorf("firewall: apply: %w", err)
		}
	}
	if p.For == 0 {
		m.destroyIPSets(ctx)
	}
	return nil
}

// loadIPSet fills the expiring allow set for one family and swaps it in
// atomically.
func (m *Manager) loadIPSet(ctx context.Context, p Policy, v6 bool) error {
	cmds := ipsetCommands(p, v6)
	if cmds == nil {
		return nil
	}
	name := ipsetName(v6)
	tmp := name + "-new"
	var script strings.Builder
	for _, c := range cmds {
		c = append([]string(nil), c...)
		for i := range c {
			if c[i] == name {
				c[i] = tmp
			}
		}
		script.WriteString(strings.Join(c, " ") + "\n")
	}
	// The live set must exist for the swap; it is created like the new one.
	script.WriteString(strings.Join(cmds[0], " ") + "\n")
	script.WriteString("swap " + tmp + " " + name + "\n")
	script.WriteString("destroy " + tmp + "\n")
	if _, err := m.run.run(ctx, script.String(), "ipset", "restore"); err != nil {
		return fmt.Errorf("firewall: ipset: %w", err)
	}
	return nil
}

func (m *Manager) destroyIPSets(ctx context.Context) {
	for _, v6 := range []bool{false, true} {
		// Fails while a restored rule still uses the set: then it stays.
		_, _ = m.run.run(ctx, "", "ipset", "destroy", ipsetName(v6))
	}
}

// Rollback puts back what the last Apply replaced, cancels any pending
// confirmation, and forgets that backup; the next Rollback undoes the apply
// before it.
func (m *Manager) Rollback(ctx context.Context) error {
	unlock, err := m.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return m.rollbackLocked(ctx)
}

func (m *Manager) rollbackLocked(ctx context.Context) error {
	last, _, err := m.lastBackup()
	if err != nil {
		return err
	}
	var bk backup
	ok, err := readJSON(last, &bk)
	if err != nil {
		return err
	}
	if last == "" || !ok {
		return ErrNothingToRollback
	}
	if bk.Backend != m.backend {
		return fmt.Errorf("firewall: the last apply used %s, not %s: roll back with --backend %s", bk.Backend, m.backend, bk.Backend)
	}
	if err := m.rollbackOne(ctx, bk); err != nil {
		return err
	}
	m.stopWatchdog()
	if err := os.Remove(last); err != nil {
		return fmt.Errorf("firewall: %w", err)
	}
	return nil
}

// rollbackOne puts back what one apply replaced.
func (m *Manager) rollbackOne(ctx context.Context, bk backup) error {
	switch m.backend {
	case NFTables:
		script := "table inet port21\ndelete table inet port21\n" + bk.NFT
		if _, err := m.run.run(ctx, script, "nft", "-f", "-"); err != nil {
			return fmt.Errorf("firewall: rollback: %w", err)
		}
	case IPTables:
		return m.rollbackIPT(ctx, bk, []bool{false, true})
	case UFW:
		return m.rollbackUFW(ctx, bk.UFW)
	case Firewalld:
		return m.rollbackFirewalld(ctx, bk.Firewalld)
	}
	return nil
}

func (m *Manager) rollbackIPT(ctx context.Context, bk backup, fams []bool) error {
	for _, v6 := range fams {
		save, restore, fam := iptProgs(v6)
		if s := bk.IPSet[fam]; s != "" {
			name := ipsetName(v6)
			_, _ = m.run.run(ctx, "", "ipset", "flush", name)
			if _, err := m.run.run(ctx, s, "ipset", "restore", "-exist"); err != nil {
				return fmt.Errorf("firewall: rollback: %w", err)
			}
		}
		cur, err := m.run.run(ctx, "", save)
		if err != nil {
			return fmt.Errorf("firewall: rollback: %w", err)
		}
		prev := bk.IPT[fam]
		in, _ := mergeIPTSave(cur, &iptTables{raw: prev.Raw, filter: prev.Filter})
		if _, err := m.run.run(ctx, in, restore); err != nil {
			return fmt.Errorf("firewall: rollback: %w", err)
		}
	}
	if len(fams) == 2 {
		for _, v6 := range fams {
			_, _, fam := iptProgs(v6)
			if bk.IPSet[fam] == "" {
				_, _ = m.run.run(ctx, "", "ipset", "destroy", ipsetName(v6))
			}
		}
	}
	return nil
}

// Arm records that the rules just applied must be confirmed before
// deadline, and returns the token a watchdog passes to Watch.
func (m *Manager) Arm(deadline time.Time) (token string, err error) {
	unlock, err := m.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("firewall: %w", err)
	}
	token = hex.EncodeToString(b[:])
	return token, writeJSON(m.path("pending.json"), pending{Token: token, Deadline: deadline.UTC()})
}

// SetWatchdog records the PID of the process that will roll back at the
// deadline, so that Confirm can stop it.
func (m *Manager) SetWatchdog(token string, pid int) error {
	unlock, err := m.lock()
	if err != nil {
		return err
	}
	defer unlock()
	var p pending
	if ok, err := readJSON(m.path("pending.json"), &p); err != nil || !ok || p.Token != token {
		return err
	}
	p.PID = pid
	return writeJSON(m.path("pending.json"), p)
}

// Confirm keeps the applied rules: the pending rollback is cancelled. It
// returns false when nothing was waiting for confirmation.
func (m *Manager) Confirm() (bool, error) {
	unlock, err := m.lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	var p pending
	ok, err := readJSON(m.path("pending.json"), &p)
	if err != nil || !ok {
		return false, err
	}
	m.stopWatchdog()
	return true, nil
}

// stopWatchdog removes the pending confirmation and ends its watchdog
// process; it is called with the lock held. The PID is only signalled when
// its command line carries the token, so a recycled PID is left alone.
func (m *Manager) stopWatchdog() {
	var p pending
	if ok, _ := readJSON(m.path("pending.json"), &p); !ok {
		return
	}
	_ = os.Remove(m.path("pending.json"))
	if p.PID <= 0 || p.PID == os.Getpid() {
		return
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/cmdline")
	if err == nil && strings.Contains(string(cmdline), p.Token) {
		terminate(p.PID)
	}
}

// Watch is the confirmation watchdog: it waits for the deadline of the
// pending apply named by token and then rolls it back, unless it was
// confirmed, rolled back or replaced in the meantime. It runs in its own
// process so that the rollback happens even when the SSH session that
// applied the rules is gone.
func (m *Manager) Watch(ctx context.Context, token string) error {
	var p pending
	ok, err := readJSON(m.path("pending.json"), &p)
	if err != nil || !ok || p.Token != token {
		return err
	}
	t := time.NewTimer(time.Until(p.Deadline))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	unlock, err := m.lock()
	if err != nil {
		return err
	}
	defer unlock()
	p = pending{}
	if ok, err := readJSON(m.path("pending.json"), &p); err != nil || !ok || p.Token != token {
		return err
	}
	return m.rollbackLocked(context.WithoutCancel(ctx))
}
