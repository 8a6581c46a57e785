package peers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/testpeers"
)

// localCases are the configuration findings port21 local must report for
// each product's bad profile, exactly, each caused by the template line in
// its comment (internal/testpeers/testdata/*-bad.conf.tmpl). The hardened
// profiles must have none.
var localCases = []struct {
	product testpeers.Product
	ids     []string
}{
	{
		product: testpeers.VSFTPD,
		ids: []string{
			"anonymous-login",   // anonymous_enable=YES
			"anonymous-write",   // anon_upload_enable=YES, anon_mkdir_write_enable=YES, anon_other_write_enable=YES
			"cleartext-login",   // local_enable=YES with ssl_enable=NO, as port21 scan sees it
			"ftp-bounce",        // port_promiscuous=YES
			"no-chroot",         // chroot_local_user not set
			"no-tls",            // ssl_enable=NO
			"version-disclosed", // ftpd_banner not set
		},
	},
	{
		product: testpeers.ProFTPD,
		ids: []string{
			"anonymous-login",        // <Anonymous ...>
			"anonymous-write",        // <Limit WRITE> AllowAll inside <Anonymous>
			"cleartext-login",        // TLSRequired off
			"data-cleartext-allowed", // TLSRequired off
			"ftp-bounce",             // AllowForeignAddress on
			"no-chroot",              // no DefaultRoot
			"tls-legacy-protocol",    // TLSProtocol TLSv1 TLSv1.1 ...
			"version-disclosed",      // ServerIdent on "ProFTPD 1.3.8 Server ready."
		},
	},
	{
		product: testpeers.PureFTPd,
		ids: []string{
			"anonymous-login",        // NoAnonymous no
			"anonymous-write",        // AnonymousCantUpload no
			"cleartext-login",        // TLS 1
			"data-cleartext-allowed", // TLS 1
			"ftp-bounce",             // AllowAnonymousFXP yes
			"logging-off",            // SyslogFacility none
			"no-chroot",              // ChrootEveryone no
		},
	},
}

// TestLocalPeers starts each product with its bad configuration and runs
// port21 local on this machine: it must find the peer's listener and name
// its process, and audit the configuration given with --config-path.
func TestLocalPeers(t *testing.T) {
	bin := requireSubcommand(t, "local", "--format", "--config-path", "--probe-timeout", "--probe-ports")
	for _, tc := range localCases {
		t.Run(string(tc.product), func(t *testing.T) {
			peer := testpeers.Start(t, tc.product, testpeers.ProfileBad)
			hardened := testpeers.Start(t, tc.product, testpeers.ProfileHardened)
			// A generous greeting time-out: ProFTPD forks a session before
			// it greets, and the machine may be busy with other tests.
			// Only the peers' ports are probed: other packages' tests run
			// servers on this machine at the same time, and a probe of one
			// of their passive listeners would take a client's data
			// connection (port21 local itself only avoids that for the
			// FTP daemons it knows).
			probe := fmt.Sprintf("%d,%d", peer.Port, hardened.Port)
			rep := runJSON(t, bin, 2*time.Minute,
				"local", "--format", "json", "--probe-timeout", "5s", "--probe-ports", probe,
				"--config-path", peer.ConfigPath, "--config-path", hardened.ConfigPath)
			if rep.Tool != "port21 local" {
				t.Errorf("tool %q, want %q", rep.Tool, "port21 local")
			}

			var listener, config, hardenedConfig *jsonResult
			for i, r := range rep.Results {
				switch {
				case r.Target.Port == peer.Port && r.Target.File == "":
					listener = &rep.Results[i]
				case r.Target.File == peer.ConfigPath:
					config = &rep.Results[i]
				case r.Target.File == hardened.ConfigPath:
					hardenedConfig = &rep.Results[i]
				}
			}

			// The hardened configuration has no finding at all.
			if hardenedConfig == nil {
				t.Errorf("no result for the configuration %s", hardened.ConfigPath)
			} else if got := ids(*hardenedConfig); len(got) > 0 {
				t.Errorf("hardened %s: findings %q, want none", hardened.ConfigPath, got)
			}

			if listener == nil {
				t.Errorf("no result for the listener on %s", peer.Addr)
			} else {
				if listener.Service == nil || listener.Service.Product != processName(tc.product) {
					t.Errorf("listener on %s: service %+v, want the process name %q", peer.Addr, listener.Service, processName(tc.product))
				}
				pid := fmt.Sprintf("pid %d", peer.PID)
				if !evidenceMentions(*listener, pid) {
					t.Errorf("listener on %s: no evidence names %s: %+v", peer.Addr, pid, listener.Findings)
				}
			}

			// Without a greeting in time, the listener is still found: its
			// port is the configuration's, and its process an FTP daemon.
			quick := runJSON(t, bin, 2*time.Minute,
				"local", "--format", "json", "--probe-timeout", "1ns", "--probe-ports", probe, "--config-path", peer.ConfigPath)
			if !slices.ContainsFunc(quick.Results, func(r jsonResult) bool { return r.Target.Port == peer.Port && r.Target.File == "" }) {
				t.Errorf("with --probe-timeout 1ns, no result for the listener on %s", peer.Addr)
			}

			if config == nil {
				t.Fatalf("no result for the configuration %s", peer.ConfigPath)
			}
			if config.Error != "" {
				t.Errorf("%s: %s", peer.ConfigPath, config.Error)
			}
			sameMeaning(t, *config)
			if got := ids(*config); !slices.Equal(got, slices.Sorted(slices.Values(tc.ids))) {
				t.Errorf("%s: findings\n got %q\nwant %q", peer.ConfigPath, got, tc.ids)
			}
			// Findings point at the file, or for Pure-FTPd's conf directory
			// at the file of the setting inside it.
			for _, f := range config.Findings {
				if file := f.Target.File; file != peer.ConfigPath && !strings.HasPrefix(file, peer.ConfigPath+"/") {
					t.Errorf("finding %s targets %+v, want %s", f.ID, f.Target, peer.ConfigPath)
				}
			}
		})
	}
}

// processName is the name the kernel gives the product's daemon (comm).
func processName(p testpeers.Product) string { return string(p) }

// evidenceMentions reports whether any evidence note of the result
// contains s.
func evidenceMentions(r jsonResult, s string) bool {
	for _, f := range r.Findings {
		for _, e := range f.Evidence {
			if strings.Contains(e.Note, s) {
				return true
			}
		}
	}
	return false
}
