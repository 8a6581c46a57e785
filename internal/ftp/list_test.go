package ftp

import (
	"io/fs"
	"testing"
	"time"
)

func TestListLine(t *testing.T) {
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	recent := time.Date(2026, 11, 24, 14, 35, 0, 0, time.UTC)
	tests := []struct {
		name string
		e    ListEntry
		want string
	}{
		{
			"regular file",
			ListEntry{Name: "name", Mode: 0o644, Size: 1234, ModTime: recent, Nlink: 1, Owner: "ftp", Group: "ftp"},
			"-rw-r--r--    1 ftp      ftp          1234 Nov 24 14:35 name",
		},
		{
			"defaults for owner, group and link count",
			ListEntry{Name: "name", Mode: 0o644, Size: 1234, ModTime: recent},
			"-rw-r--r--    1 ftp      ftp          1234 Nov 24 14:35 name",
		},
		{
			"directory",
			ListEntry{Name: "pub", Mode: fs.ModeDir | 0o755, Size: 4096, ModTime: recent, Nlink: 2},
			"drwxr-xr-x    2 ftp      ftp          4096 Nov 24 14:35 pub",
		},
		{
			"two years old shows the year",
			ListEntry{Name: "old", Mode: 0o600, Size: 1, ModTime: time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC)},
			"-rw-------    1 ftp      ftp             1 Jan  2  2024 old",
		},
		{
			"five months old shows the time",
			ListEntry{Name: "f", Mode: 0o644, ModTime: time.Date(2026, 6, 30, 9, 5, 0, 0, time.UTC)},
			"-rw-r--r--    1 ftp      ftp             0 Jun 30 09:05 f",
		},
		{
			"seven months old shows the year",
			ListEntry{Name: "f", Mode: 0o644, ModTime: time.Date(2026, 4, 20, 9, 5, 0, 0, time.UTC)},
			"-rw-r--r--    1 ftp      ftp             0 Apr 20  2026 f",
		},
		{
			"future shows the year",
			ListEntry{Name: "f", Mode: 0o644, ModTime: now.Add(time.Hour)},
			"-rw-r--r--    1 ftp      ftp             0 Nov 24  2026 f",
		},
		{
			"exactly now shows the time",
			ListEntry{Name: "f", Mode: 0o644, ModTime: now},
			"-rw-r--r--    1 ftp      ftp             0 Nov 24 15:00 f",
		},
		{
			"shown in UTC whatever the zone",
			ListEntry{Name: "f", Mode: 0o644, ModTime: time.Date(2026, 11, 24, 16, 35, 0, 0, time.FixedZone("EET", 7200))},
			"-rw-r--r--    1 ftp      ftp             0 Nov 24 14:35 f",
		},
		{
			"setuid with execute",
			ListEntry{Name: "su", Mode: fs.ModeSetuid | 0o755, ModTime: recent},
			"-rwsr-xr-x    1 ftp      ftp             0 Nov 24 14:35 su",
		},
		{
			"setuid without execute",
			ListEntry{Name: "su", Mode: fs.ModeSetuid | 0o644, ModTime: recent},
			"-rwSr--r--    1 ftp      ftp             0 Nov 24 14:35 su",
		},
		{
			"setgid with execute",
			ListEntry{Name: "sg", Mode: fs.ModeSetgid | 0o755, ModTime: recent},
			"-rwxr-sr-x    1 ftp      ftp             0 Nov 24 14:35 sg",
		},
		{
			"setgid without execute",
			ListEntry{Name: "sg", Mode: fs.ModeSetgid | 0o640, ModTime: recent},
			"-rw-r-S---    1 ftp      ftp             0 Nov 24 14:35 sg",
		},
		{
			"sticky directory",
			ListEntry{Name: "tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777, ModTime: recent},
			"drwxrwxrwt    1 ftp      ftp             0 Nov 24 14:35 tmp",
		},
		{
			"sticky without execute",
			ListEntry{Name: "tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o776, ModTime: recent},
			"drwxrwxrwT    1 ftp      ftp             0 Nov 24 14:35 tmp",
		},
		{
			"all special bits",
			ListEntry{Name: "x", Mode: fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky, ModTime: recent},
			"---S--S--T    1 ftp      ftp             0 Nov 24 14:35 x",
		},
		{
			"1 TB file widens the size column",
			ListEntry{Name: "big.iso", Mode: 0o644, Size: 1 << 40, ModTime: recent},
			"-rw-r--r--    1 ftp      ftp      1099511627776 Nov 24 14:35 big.iso",
		},
		{
			"symlink with target",
			ListEntry{Name: "link", Mode: fs.ModeSymlink | 0o777, Size: 6, ModTime: recent, LinkTarget: "target"},
			"lrwxrwxrwx    1 ftp      ftp             6 Nov 24 14:35 link -> target",
		},
		{
			"symlink without target",
			ListEntry{Name: "link", Mode: fs.ModeSymlink | 0o777, Size: 6, ModTime: recent},
			"lrwxrwxrwx    1 ftp      ftp             6 Nov 24 14:35 link",
		},
		{
			"target ignored on a regular file",
			ListEntry{Name: "f", Mode: 0o644, ModTime: recent, LinkTarget: "/etc/passwd"},
			"-rw-r--r--    1 ftp      ftp             0 Nov 24 14:35 f",
		},
		{
			"long owner and group, many links",
			ListEntry{Name: "f", Mode: 0o644, ModTime: recent, Nlink: 123456, Owner: "verylongowner", Group: "g"},
			"-rw-r--r-- 123456 verylongowner g               0 Nov 24 14:35 f",
		},
		{
			"names with spaces kept, line breaks replaced",
			ListEntry{Name: " a b\r\n-rw-r--r-- fake", Mode: 0o644, ModTime: recent},
			"-rw-r--r--    1 ftp      ftp             0 Nov 24 14:35  a b??-rw-r--r-- fake",
		},
		{
			"negative size shown as 0",
			ListEntry{Name: "f", Mode: 0o644, Size: -5, ModTime: recent},
			"-rw-r--r--    1 ftp      ftp             0 Nov 24 14:35 f",
		},
		{
			"day padded with a space",
			ListEntry{Name: "f", Mode: 0o644, ModTime: time.Date(2026, 11, 4, 8, 1, 0, 0, time.UTC)},
			"-rw-r--r--    1 ftp      ftp             0 Nov  4 08:01 f",
		},
		{
			"other file types",
			ListEntry{Name: "fifo", Mode: fs.ModeNamedPipe | 0o600, ModTime: recent},
			"prw-------    1 ftp      ftp             0 Nov 24 14:35 fifo",
		},
		{
			"socket",
			ListEntry{Name: "s", Mode: fs.ModeSocket | 0o600, ModTime: recent},
			"srw-------    1 ftp      ftp             0 Nov 24 14:35 s",
		},
		{
			"devices",
			ListEntry{Name: "tty", Mode: fs.ModeDevice | fs.ModeCharDevice | 0o620, ModTime: recent},
			"crw--w----    1 ftp      ftp             0 Nov 24 14:35 tty",
		},
		{
			"block device",
			ListEntry{Name: "sda", Mode: fs.ModeDevice | 0o660, ModTime: recent},
			"brw-rw----    1 ftp      ftp             0 Nov 24 14:35 sda",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ListLine(tt.e, now); got != tt.want {
				t.Errorf("ListLine =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestAppendListLineAllocs(t *testing.T) {
	e := ListEntry{Name: "file.txt", Mode: 0o644, Size: 1234, ModTime: time.Date(2026, 11, 24, 14, 35, 0, 0, time.UTC)}
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() { buf = AppendListLine(buf[:0], e, now) })
	if allocs > 2 {
		t.Errorf("AppendListLine made %v allocations, want at most 2", allocs)
	}
}
