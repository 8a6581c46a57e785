package users

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"bob", "a.b@c-d_e", "", ".x", "-x", "a/b", "x\x00", strings.Repeat("a", 65), "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateName(name)
		if err != nil {
			if !errors.Is(err, ErrBadName) {
				t.Fatalf("error %v does not wrap ErrBadName", err)
			}
			return
		}
		// Whatever passes is safe as a single path element and an argument.
		if len(name) == 0 || len(name) > MaxNameLen || strings.ContainsAny(name, "/\\\x00 \t\r\n:") ||
			name[0] == '.' || name[0] == '-' || name == ".." {
			t.Fatalf("accepted unsafe name %q", name)
		}
	})
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "::ffff:1.2.3.4/120", "fe80::1%eth0", "", "1.2.3.4/33"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefix(s)
		if err != nil {
			if !errors.Is(err, ErrBadPrefix) {
				t.Fatalf("error %v does not wrap ErrBadPrefix", err)
			}
			return
		}
		if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			t.Fatalf("ParsePrefix(%q) = %v: not valid and normal", s, p)
		}
		// The canonical form parses back to itself.
		if q, err := ParsePrefix(p.String()); err != nil || q != p {
			t.Fatalf("ParsePrefix(%q) = %v, %v; want %v", p.String(), q, err, p)
		}
		// A prefix allows its own address.
		if !(User{Allow: []netip.Prefix{p}}).AllowedFrom(p.Addr()) {
			t.Fatalf("%v does not allow %v", p, p.Addr())
		}
	})
}

// FuzzParseHash feeds arbitrary strings to the hash parser and, when they
// parse and are cheap enough to compute, to Verify: neither may panic, and
// whatever parses must verify without error.
func FuzzParseHash(f *testing.F) {
	for _, v := range legacyVectors {
		f.Add(v.encoded, v.password)
	}
	for _, s := range []string{
		"",
		"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA",
		"$argon2id$v=19$m=64,t=1,p=8$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA",
		"$2b$04$abcdefghijklmnopqrstuuGUnCqbfgs3htOkLrFduUjAyLBw1Rq/u",
		"$5$rounds=1000$salt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA",
		"$y$j/.$salt$zh9hanHOlhU62IkGud5Qde/NtjwQb1ZAwUF.uYqqfY2",
		"$y$jzz$$",
		"$6$$",
		"$$$$",
	} {
		f.Add(s, "pw")
	}
	h := newHasher(1, testParams)
	f.Fuzz(func(t *testing.T, encoded, password string) {
		v, err := parseHash(encoded)
		if err != nil {
			if !errors.Is(err, ErrBadHash) {
				t.Fatalf("error %v does not wrap ErrBadHash", err)
			}
			if ValidateHash(encoded) == nil {
				t.Fatal("ValidateHash accepts what parseHash refuses")
			}
			return
		}
		if !cheapHash(encoded) {
			return
		}
		if ValidatePassword(password) != nil {
			password = "pw"
		}
		if _, err := v.verify(password); err != nil {
			t.Fatalf("parsed hash fails to verify: %v", err)
		}
		if _, _, err := h.Verify(context.Background(), encoded, password); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
}

// cheapHash reports whether a parsed hash is cheap to compute, so the fuzzer
// spends its time parsing rather than hashing.
func cheapHash(encoded string) bool {
	f := strings.Split(encoded, "$")
	switch f[1] {
	case "argon2id":
		a, _ := parseArgon2id(encoded)
		return a.params.memory <= 1024 && a.params.time <= 2
	case "2a", "2b", "2y":
		return f[2] <= "06"
	case "5", "6":
		return len(f) == 4 || f[2] <= "rounds=5000" && len(f[2]) <= len("rounds=5000")
	case "y":
		return f[2][1] <= '7' // N <= 2^10: at most 4 MiB
	}
	return false
}

func FuzzParseShadow(f *testing.F) {
	f.Add("root:!:19000:0:99999:7:::\nbob:$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1:19000:0:99999:7:::\n")
	f.Add("# comment\n\nalice:$2b$05$fh3tJTctLL4XEs4Wk.XRpO6jA6YNG2xDnej/GOQBr3eJC/0cyxtJq:1000:1000::/home/alice/./::::::::::::\r\n")
	f.Add("nobody:*:1::::::\nnocolon\n:x\nx:\n")
	f.Fuzz(func(t *testing.T, data string) {
		entries, err := ParseShadow(strings.NewReader(data))
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Err != nil {
				if !errors.Is(e.Err, ErrBadHash) && !errors.Is(e.Err, ErrBadName) {
					t.Fatalf("line %d: error %v wraps neither ErrBadHash nor ErrBadName", e.Line, e.Err)
				}
				continue
			}
			if ValidateName(e.Name) != nil || ValidateHash(e.Hash) != nil || strings.Contains(e.Hash, ":") {
				t.Fatalf("line %d: importable entry %q is not valid", e.Line, e.Name)
			}
		}
	})
}

func FuzzReadPassword(f *testing.F) {
	for _, s := range []string{"pw\n", "pw\r\n", "", "\n", "a\nb", strings.Repeat("p", 1025)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		pw, err := ReadPassword(strings.NewReader(in))
		if err != nil {
			return
		}
		if ValidatePassword(pw) != nil || strings.Contains(pw, "\n") || strings.HasSuffix(pw, "\r") && strings.HasPrefix(in, pw+"\n") {
			t.Fatalf("ReadPassword(%q) = %q", in, pw)
		}
		if !strings.HasPrefix(in, pw) {
			t.Fatalf("ReadPassword(%q) = %q, not a prefix of the input", in, pw)
		}
	})
}
