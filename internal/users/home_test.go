package users

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckHome(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	if err := os.MkdirAll(filepath.Join(data, "home", "alice"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.Symlink(data, filepath.Join(base, "datalink"))
	os.Symlink("/", filepath.Join(base, "rootlink"))
	for _, tc := range []struct {
		home string
		ok   bool
	}{
		{"", true},
		{filepath.Join(base, "elsewhere", "alice"), true},
		{filepath.Join(data, "home", "alice"), true},
		{filepath.Join(data, "home", "alice", "not", "yet"), true},
		{filepath.Join(data, "home", "alicex"), false},
		{filepath.Join(data, "home", "bob"), false},
		{filepath.Join(data, "home"), false},
		{filepath.Join(data, "users.db"), false},
		{data, false},
		{filepath.Join(base, "datalink"), false},
		{filepath.Join(base, "datalink", "tls"), false},
		{filepath.Join(base, "rootlink"), false},
		{base, false},
		{"/", false},
		{filepath.Join(data, "home", "alice", "..", "bob"), false},
	} {
		err := CheckHome(tc.home, data, "alice")
		if tc.ok && err != nil {
			t.Errorf("CheckHome(%q) = %v, want ok", tc.home, err)
		}
		if !tc.ok && !errors.Is(err, ErrUnsafeHome) {
			t.Errorf("CheckHome(%q) = %v, want ErrUnsafeHome", tc.home, err)
		}
	}
}
