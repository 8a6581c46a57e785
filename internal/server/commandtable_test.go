package server

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/port21/port21/internal/users"
)

// preLoginCommands are the only commands served before login. A new entry
// in the table that forgets needLogin fails here.
var preLoginCommands = []string{"ACCT", "AUTH", "CCC", "FEAT", "HELP", "NOOP", "OPTS", "PASS", "PBSZ", "PROT", "QUIT", "REIN", "STAT", "SYST", "USER"}

// The gates of the whole command table, over the wire: every command that
// needs a login gets 530 before it, every command with a required argument
// 501 without it, and every write 550 for a read-only account. Commands
// that write only with some arguments are listed by hand.
func TestCommandTableGates(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	ts.addUser(t, "reader", func(u *users.User) { u.ReadOnly = true })
	writeFile(t, ts.home("reader")+"/f", []byte("f"))
	table := commandTable()
	verbs := make([]string, 0, len(table))
	for v := range table {
		verbs = append(verbs, v)
	}
	sort.Strings(verbs)

	var pre []string
	for _, v := range verbs {
		c := table[v]
		if !c.needLogin {
			pre = append(pre, v)
		}
		if c.write && !c.needLogin {
			t.Errorf("%s writes but does not need a login", v)
		}
		if c.help == "" {
			t.Errorf("%s has no help text", v)
		}
	}
	if !slices.Equal(pre, preLoginCommands) {
		t.Errorf("commands served before login = %v, want %v", pre, preLoginCommands)
	}

	t.Run("530 before login", func(t *testing.T) {
		rc := ts.raw(t)
		rc.startTLS(clientTLS())
		for _, v := range verbs {
			if table[v].needLogin {
				rc.cmd(530, "%s x", v)
			}
		}
		rc.cmd(530, "STAT /") // STAT of a path needs a login; STAT alone does not
		rc.cmd(211, "STAT")
	})
	t.Run("501 without argument", func(t *testing.T) {
		rc := ts.raw(t)
		rc.login("alice", clientTLS())
		for _, v := range verbs {
			if table[v].needArg {
				rc.cmd(501, "%s", v)
			}
		}
		for _, c := range []string{"SITE CHMOD", "SITE CHMOD 644", "MFMT 20200101000000"} {
			rc.cmd(501, "%s", c)
		}
	})
	t.Run("550 for read-only", func(t *testing.T) {
		rc := ts.raw(t)
		rc.login("reader", clientTLS())
		for _, v := range verbs {
			if table[v].write {
				rep := rc.cmd(550, "%s f", v)
				if !strings.Contains(rep.Message(), "read-only") {
					t.Errorf("%s: %q does not say why", v, rep.Message())
				}
			}
		}
		for _, c := range []string{"SITE CHMOD 600 f", "MDTM 20200101000000 f"} {
			if rep := rc.cmd(550, "%s", c); !strings.Contains(rep.Message(), "read-only") {
				t.Errorf("%s: %q does not say why", c, rep.Message())
			}
		}
		// Reads still work.
		rc.cmd(213, "MDTM f")
		rc.cmd(213, "SIZE f")
	})
	t.Run("HELP lists the table", func(t *testing.T) {
		rc := ts.raw(t)
		rep := rc.cmd(214, "HELP")
		listed := strings.Fields(strings.Join(rep.Lines[1:len(rep.Lines)-1], " "))
		if !slices.Equal(listed, verbs) {
			t.Errorf("HELP lists %v, want %v", listed, verbs)
		}
		for _, v := range verbs {
			rc.cmd(214, "HELP %s", v)
		}
	})
}
