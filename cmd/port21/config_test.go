package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/port21/port21/internal/config"
)

// config example has every key of config.Config, each with a comment, and
// read back it is exactly the defaults.
func TestConfigExampleHasEveryKey(t *testing.T) {
	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs([]string{"config", "example"})
	cmd.SetOut(&out)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	typ := reflect.TypeOf(config.Config{})
	for i := 0; i < typ.NumField(); i++ {
		key := typ.Field(i).Tag.Get("toml")
		if !regexp.MustCompile(`(?m)^# .+\n` + regexp.QuoteMeta(key) + ` = `).MatchString(text) {
			t.Errorf("example has no commented line for key %s", key)
		}
	}
	got, err := config.Decode(out.Bytes(), "example", config.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// %+v: an empty list reads back as [] where the default is nil.
	if want := config.Default(); fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("example decodes to\n%+v\nwant the defaults\n%+v", got, want)
	}
}

// config check prints every problem with its key and line, and exits 1.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("# a comment\nmax-clients = 0\nlisten = \"x\"\n  deny = [\"10.0.0.0/8\", \"nope\"]\n"), 0o600)
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte("max-clients = 100\n"), 0o600)
	unknown := filepath.Join(dir, "unknown.toml")
	os.WriteFile(unknown, []byte("max-clients = 100\nmax-client = 3\n"), 0o600)
	run := func(file string) (string, error) {
		var out bytes.Buffer
		cmd := newRootCmd()
		cmd.SetArgs([]string{"config", "check", file})
		cmd.SetOut(&out)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), err
	}
	out, err := run(bad)
	var code exitCode
	if !errors.As(err, &code) || code != 1 {
		t.Errorf("bad file: err %v, want exit status 1", err)
	}
	for _, want := range []string{bad + ":2: max-clients:", bad + ":3: listen:", bad + ":4: deny:", bad + ": max-clients-per-ip"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if out, err := run(unknown); err == nil || !strings.Contains(out, `:2: unknown key "max-client"`) {
		t.Errorf("unknown key: err %v, output %q", err, out)
	}
	if out, err := run(good); err != nil || !strings.Contains(out, "ok") {
		t.Errorf("good file: err %v, output %q", err, out)
	}
}
