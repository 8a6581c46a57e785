// Package sockets lists the TCP sockets listening on this machine and the
// processes that own them, from /proc, the way `ss -ltnp` does: LISTEN
// sockets (state 0A) in /proc/net/tcp and tcp6, matched by inode to the
// socket links in /proc/PID/fd.
//
// It says what it could not see instead of guessing: without root the
// descriptors of other users' processes cannot be read, so their sockets
// have no owner; only this network namespace is visible. It also names the
// owners that are not the service itself: systemd (PID 1) holding a socket
// for socket activation, and inetd or xinetd starting a server per
// connection.
package sockets

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Listener is one listening TCP socket.
type Listener struct {
	Addr  netip.Addr `json:"address"`
	Port  uint16     `json:"port"`
	Inode uint64     `json:"inode"`
	// UID owns the socket (from /proc/net/tcp, visible without root).
	UID int `json:"uid"`
	// Processes hold the socket open: usually one; several after a fork
	// (a master and its workers), and PID 1 for socket activation.
	Processes []Process `json:"processes,omitempty"`
	// Activation is "systemd" when PID 1 holds the socket (the service is
	// started on the first connection) or "inetd" for inetd/xinetd.
	Activation string `json:"activation,omitempty"`
}

// Family returns "ipv4" or "ipv6". An IPv6 socket bound to :: also accepts
// IPv4 unless the net.ipv6.bindv6only setting says otherwise.
func (l Listener) Family() string {
	if l.Addr.Is4() {
		return "ipv4"
	}
	return "ipv6"
}

// Process is a process holding a listening socket.
type Process struct {
	PID  int    `json:"pid"`
	Name string `json:"name"`
	Exe  string `json:"exe,omitempty"`
	User string `json:"user,omitempty"`
	// Args is the command line, as the process shows it: some servers
	// (ProFTPD, Pure-FTPd) overwrite theirs with a status text.
	Args []string `json:"args,omitempty"`
	// Started is when the process started: the socket has been listening
	// at most since then (Linux does not record when a socket was bound).
	Started time.Time `json:"started,omitzero"`
}

// Snapshot is every listener seen at one moment, and what was not seen.
type Snapshot struct {
	Listeners []Listener `json:"listeners"`
	// Notes says what could not be seen and why.
	Notes []string `json:"notes,omitempty"`
}

// ErrNoProc means the proc file system is not there (not Linux, or not
// mounted).
var ErrNoProc = errors.New("sockets: /proc/net/tcp not readable")

// Read takes a snapshot from the proc file system at procRoot ("/proc").
func Read(procRoot string) (*Snapshot, error) {
	return read(procRoot, lookupUser)
}

func lookupUser(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}

// maxNetTCP bounds how much of /proc/net/tcp is read: a machine with more
// sockets than this is unusual, and a bound keeps memory predictable.
const maxNetTCP = 64 << 20

func read(procRoot string, userName func(int) string) (*Snapshot, error) {
	s := &Snapshot{}
	seen := 0
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := readLimited(filepath.Join(procRoot, "net", f), maxNetTCP)
		if err != nil {
			if f == "tcp6" && errors.Is(err, fs.ErrNotExist) {
				s.Notes = append(s.Notes, "IPv6 is off on this machine: no /proc/net/tcp6")
				continue
			}
			return nil, fmt.Errorf("%w: %w", ErrNoProc, err)
		}
		seen++
		ls, err := ParseNetTCP(b)
		if err != nil {
			return nil, fmt.Errorf("sockets: %s: %w", f, err)
		}
		s.Listeners = append(s.Listeners, ls...)
	}
	owners, hidden := socketOwners(procRoot)
	boot := bootTime(procRoot)
	procs := map[int]Process{}
	unowned := 0
	for i := range s.Listeners {
		l := &s.Listeners[i]
		for _, pid := range owners[l.Inode] {
			p, ok := procs[pid]
			if !ok {
				p = readProcess(procRoot, pid, boot, userName)
				procs[pid] = p
			}
			l.Processes = append(l.Processes, p)
		}
		for _, p := range l.Processes {
			switch {
			case p.PID == 1 && (p.Name == "systemd" || p.Name == "init"):
				l.Activation = "systemd"
			case p.Name == "inetd" || p.Name == "xinetd" || p.Name == "inetutils-inetd" || p.Name == "openbsd-inetd":
				l.Activation = "inetd"
			}
		}
		if len(l.Processes) == 0 {
			unowned++
		}
	}
	slices.SortFunc(s.Listeners, func(a, b Listener) int {
		if a.Port != b.Port {
			return int(a.Port) - int(b.Port)
		}
		return a.Addr.Compare(b.Addr)
	})
	if unowned > 0 && hidden > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d listening sockets have no visible owner: the file descriptors of %d processes could not be read (run as root to see them)", unowned, hidden))
	} else if unowned > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d listening sockets have no owner in this PID namespace (a container, or a kernel socket)", unowned))
	}
	s.Notes = append(s.Notes, "only this network namespace is shown: listeners inside containers with their own network namespace are not")
	return s, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// ParseNetTCP parses /proc/net/tcp or /proc/net/tcp6 and returns the
// listening sockets (state 0A). Lines it cannot read are skipped; it never
// fails on a malformed line, only on none of the expected header.
func ParseNetTCP(b []byte) ([]Listener, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	var out []Listener
	first := true
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if first {
			first = false
			if len(f) < 4 || f[0] != "sl" {
				return nil, errors.New("no header line")
			}
			continue
		}
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
		if len(f) < 10 || f[3] != "0A" {
			continue
		}
		addr, port, ok := parseHexAddr(f[1])
		if !ok {
			continue
		}
		uid, err1 := strconv.Atoi(f[7])
		inode, err2 := strconv.ParseUint(f[9], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, Listener{Addr: addr, Port: port, UID: uid, Inode: inode})
	}
	if first {
		return nil, errors.New("empty file")
	}
	return out, nil
}

// parseHexAddr reads "0100007F:0015": the address as 32-bit words in host
// (little-endian on every Linux port21 targets) byte order, the port big-endian.
func parseHexAddr(s string) (netip.Addr, uint16, bool) {
	a, p, ok := strings.Cut(s, ":")
	if !ok || len(p) != 4 || (len(a) != 8 && len(a) != 32) {
		return netip.Addr{}, 0, false
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	raw, err := hex.DecodeString(a)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	for i := 0; i+4 <= len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	addr, _ := netip.AddrFromSlice(raw)
	return addr.Unmap(), uint16(port), true
}

// socketOwners maps socket inodes to the PIDs holding them, and counts the
// processes whose descriptors could not be read.
func socketOwners(procRoot string) (map[uint64][]int, int) {
	owners := map[uint64][]int{}
	hidden := 0
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return owners, 0
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		fdDir := filepath.Join(procRoot, e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				hidden++
			}
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil {
				continue
			}
			rest, ok := strings.CutPrefix(link, "socket:[")
			if !ok {
				continue
			}
			if ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64); err == nil {
				if !slices.Contains(owners[ino], pid) {
					owners[ino] = append(owners[ino], pid)
				}
			}
		}
	}
	return owners, hidden
}

// clockTicks is USER_HZ, which is 100 on every Linux architecture's ABI.
const clockTicks = 100

func bootTime(procRoot string) time.Time {
	b, err := readLimited(filepath.Join(procRoot, "stat"), 1<<20)
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return time.Unix(n, 0).UTC()
			}
		}
	}
	return time.Time{}
}

func readProcess(procRoot string, pid int, boot time.Time, userName func(int) string) Process {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	p := Process{PID: pid}
	if b, err := readLimited(filepath.Join(dir, "comm"), 256); err == nil {
		p.Name = strings.TrimSpace(string(b))
	}
	if exe, err := os.Readlink(filepath.Join(dir, "exe")); err == nil {
		p.Exe = exe
	}
	if b, err := readLimited(filepath.Join(dir, "cmdline"), 16<<10); err == nil && len(b) > 0 {
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) > 64 {
			args = args[:64]
		}
		p.Args = args
	}
	if b, err := readLimited(filepath.Join(dir, "status"), 64<<10); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					if uid, err := strconv.Atoi(f[0]); err == nil {
						p.User = userName(uid)
					}
				}
			}
		}
	}
	if b, err := readLimited(filepath.Join(dir, "stat"), 64<<10); err == nil && !boot.IsZero() {
		if t, ok := parseStartTicks(string(b)); ok {
			p.Started = boot.Add(time.Duration(t) * time.Second / clockTicks)
		}
	}
	return p
}

// parseStartTicks returns field 22 of /proc/PID/stat. The command name
// (field 2) is in parentheses and may itself hold spaces and parentheses,
// so fields are counted from the last ')'.
func parseStartTicks(stat string) (uint64, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(f[19], 10, 64)
	return n, err == nil
}
