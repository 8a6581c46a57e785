//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/port21/port21/internal/config"
)

// A configuration error names the key and the server does not start.
func TestServeRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "port21.toml")
	os.WriteFile(file, []byte("listen = \"127.0.0.1:0\"\nmax-clients = 0\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--config", file, "--data-dir", dir}, "max-clients"},
		{[]string{"serve", "--data-dir", dir, "--passive-ports", "9-8"}, "passive-ports"},
		{[]string{"serve", "--data-dir", dir, "--listen", "nowhere"}, "listen"},
		{[]string{"serve", "--data-dir", dir, "--log-format", "xml"}, "log-format"},
		{[]string{"serve", "--data-dir", dir, "--tls-max-version", "1.1"}, "tls-max-version"},
		{[]string{"serve", "--data-dir", dir, "--tls-min-version", "1.3", "--tls-max-version", "1.2"}, "tls-min-version"},
	} {
		cmd := newRootCmd()
		cmd.SetArgs(tc.args)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		err := cmd.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v does not name %q", tc.args, err, tc.want)
		}
		if strings.Contains(out.String(), "listening") {
			t.Errorf("%v: server started", tc.args)
		}
	}
}

// Every flag of serve is a key of the config file, and copyKey moves
// exactly that key: flags win over the file key by key.
func TestFlagsAreConfigKeys(t *testing.T) {
	keys := map[string]bool{}
	typ := reflect.TypeOf(config.Config{})
	for i := 0; i < typ.NumField(); i++ {
		keys[typ.Field(i).Tag.Get("toml")] = true
	}
	newServeCmd().Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "config" && !keys[f.Name] {
			t.Errorf("flag --%s has no config key", f.Name)
		}
	})
	file := config.Default()
	file.Listen, file.MaxClients = "0.0.0.0:21", 7
	flags := config.Default()
	flags.MaxClients = 9
	copyKey(&file, &flags, "max-clients")
	if file.MaxClients != 9 || file.Listen != "0.0.0.0:21" {
		t.Errorf("after copyKey: %+v", file)
	}
}
