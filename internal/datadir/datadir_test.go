package datadir

import "testing"

func TestLayout(t *testing.T) {
	d := Dir("/var/lib/port21")
	for got, want := range map[string]string{
		d.Store():       "/var/lib/port21/users.db",
		d.TLS():         "/var/lib/port21/tls",
		d.Homes():       "/var/lib/port21/home",
		d.Home("alice"): "/var/lib/port21/home/alice",
		Default.Store(): "port21-data/users.db",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
