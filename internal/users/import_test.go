package users

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestImportShadow covers what import-shadow promises: root only when
// named, unimportable and existing accounts skipped with a reason, names
// missing from the file reported, homes under the base, and Prepare's error
// stopping the import.
func TestImportShadow(t *testing.T) { testImportShadow(t, sqliteOpener) }

func testImportShadow(t *testing.T, newDB backend) {
	const sha = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
	shadow := strings.Join([]string{
		"root:" + sha + ":19000:0:99999:7:::",
		"daemon:*:19000:0:99999:7:::",
		"alice:" + sha + ":19000:0:99999:7:::",
		"bob:" + sha + ":19000:0:99999:7:::",
	}, "\n") + "\n"
	entries, err := ParseShadow(strings.NewReader(shadow))
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	for _, tc := range []struct {
		name              string
		o                 ImportOptions
		existing          []string
		imported, skipped int
		events            []string // "name: why", "name" when imported
		home              string   // bob's, when imported
		err               string
	}{
		{
			name: "all but root", existing: []string{"alice"}, imported: 1, skipped: 3,
			events: []string{"root: root is imported only when named with --user", "daemon: invalid password hash: account is locked", "alice: user already exists", "bob"},
		},
		{
			name: "named, with a home base", o: ImportOptions{Only: []string{"root", "bob", "nobody"}, HomeBase: base}, imported: 2, skipped: 1,
			events: []string{"root", "bob", "nobody: not in the file"}, home: filepath.Join(base, "bob"),
		},
		{name: "relative home base", o: ImportOptions{HomeBase: "rel"}, err: "not an absolute path"},
		{
			name: "Prepare fails", o: ImportOptions{Only: []string{"bob"}, Prepare: func(User) error { return errors.New("disk full") }},
			err: `user "bob": disk full`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newDB(t)(t)
			ctx := context.Background()
			for _, name := range tc.existing {
				if err := s.Add(ctx, User{Name: name, Hash: sha}); err != nil {
					t.Fatal(err)
				}
			}
			var events []string
			tc.o.Event = func(e ImportEvent) {
				if e.User.Hash != "" {
					t.Errorf("event for %q carries the hash", e.Name)
				}
				if e.Skipped != "" {
					events = append(events, e.Name+": "+e.Skipped)
				} else {
					events = append(events, e.Name)
				}
			}
			imported, skipped, err := ImportShadow(ctx, s, entries, tc.o)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if imported != tc.imported || skipped != tc.skipped || !slices.Equal(events, tc.events) {
				t.Errorf("imported %d skipped %d events %q, want %d %d %q", imported, skipped, events, tc.imported, tc.skipped, tc.events)
			}
			if tc.home != "" {
				if u, err := s.Get(ctx, "bob"); err != nil || u.Home != tc.home {
					t.Errorf("bob: %+v %v, want home %s", u, err, tc.home)
				}
			}
		})
	}
}
