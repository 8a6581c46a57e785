package users

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testParams are cheap argon2id parameters so tests run fast; a few tests
// use the real defaults.
var testParams = argon2Params{memory: 1024, time: 1, threads: 1, saltLen: 16, keyLen: 32}

func fastHasher(maxConcurrent int) *Hasher { return newHasher(maxConcurrent, testParams) }

func TestHashVerifyDefaultParams(t *testing.T) {
	h := NewHasher(0)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=2,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !want.MatchString(enc) {
		t.Fatalf("Hash = %q, want a PHC string matching %s", enc, want)
	}
	ok, rehash, err := h.Verify(ctx, enc, "correct horse")
	if err != nil || !ok || rehash {
		t.Errorf("Verify(right password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, rehash, err = h.Verify(ctx, enc, "correct horsf")
	if err != nil || ok || rehash {
		t.Errorf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
}

func TestHashSalted(t *testing.T) {
	h := fastHasher(1)
	a, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two hashes of one password are equal (%q): salt not random", a)
	}
}

// The vectors below were made by other implementations: argon2id by the
// reference implementation's argon2 command, the crypt schemes by mkpasswd
// (libxcrypt) and openssl passwd. Password "correct horse" unless noted.
var legacyVectors = []struct {
	name, encoded, password string
}{
	{"argon2id reference m=64MiB", "$argon2id$v=19$m=65536,t=2,p=2$c2FsdHNhbHRzYWx0c2FsdA$DPXaV7MNkscCI3IpAyu533KwxfrSS3Bx9Y8IfVudSUU", "correct horse"},
	{"argon2id reference m=1MiB", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA", "correct horse"},
	{"yescrypt default", "$y$j9T$3R1jAjTmV5RHHxt9VTGHh.$zh9hanHOlhU62IkGud5Qde/NtjwQb1ZAwUF.uYqqfY2", "correct horse"},
	{"yescrypt utf-8", "$y$j9T$in.sne7D8l5PJb4DECk/f/$gjkUStDglifAbLRLjAFBgMwEfmUWxmnD/avo14DCLk5", "pässwörd"},
	{"bcrypt 2b", "$2b$05$fh3tJTctLL4XEs4Wk.XRpO6jA6YNG2xDnej/GOQBr3eJC/0cyxtJq", "correct horse"},
	{"bcrypt 2a", "$2a$05$ras.4HoxhDNfLMLhGQXld.K8hjyGCUeHLvG8HzhNzYmyjlrR8wjnW", "correct horse"},
	// $2y$ is PHP's name for $2b$: the same algorithm.
	{"bcrypt 2y", "$2y$05$fh3tJTctLL4XEs4Wk.XRpO6jA6YNG2xDnej/GOQBr3eJC/0cyxtJq", "correct horse"},
	// bcrypt uses only the first 72 bytes; libxcrypt made this from 80 'a's.
	{"bcrypt 72-byte truncation", "$2b$05$abcdefghijklmnopqrstuuGUnCqbfgs3htOkLrFduUjAyLBw1Rq/u", strings.Repeat("a", 72)},
	{"sha512-crypt", "$6$TdhFS1JMKXSEVJtO$RMhGa83OQPQ30qTAkcd04aB.kIU50WHrfnEAQGANK2Bi4efYKx2PauC9nH0YqxulTt4LbFZTB3RT7RXJmXxRb1", "correct horse"},
	{"sha512-crypt rounds", "$6$rounds=10000$bBoc5ASPgFSeH84z$0FfwBR4jFEp90dXeUqkF1x4psIz.uPFMH9IwLkVAksepy6UQWPHHkXFRJBpqbOR3PRb.mlJN5PX7NwNW1qSou.", "correct horse"},
	{"sha512-crypt openssl", "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1", "secret"},
	{"sha256-crypt", "$5$BqoRf7nGEZiXcaSs$.1PDoa1J.f9JNgaZPEC9N6rXMSm20OANpH9hpjJToA4", "correct horse"},
	{"sha256-crypt 16-char salt", "$5$0123456789abcdef$GkVfGOcpKLcryIiNM.uN6AQV7DQsJJPqGu0QqsSSMrD", "correct horse"},
	{"sha256-crypt openssl", "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA", "secret"},
}

func TestVerifyVectors(t *testing.T) {
	h := NewHasher(0) // real parameters, so the m=64MiB vector needs no rehash
	ctx := context.Background()
	for _, tt := range legacyVectors {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateHash(tt.encoded); err != nil {
				t.Fatalf("ValidateHash: %v", err)
			}
			ok, rehash, err := h.Verify(ctx, tt.encoded, tt.password)
			if err != nil || !ok {
				t.Fatalf("Verify(right password) = %v, %v, %v; want true", ok, rehash, err)
			}
			wantRehash := !strings.HasPrefix(tt.encoded, "$argon2id$v=19$m=65536,t=2,p=2$")
			if rehash != wantRehash {
				t.Errorf("needsRehash = %v, want %v", rehash, wantRehash)
			}
			ok, rehash, err = h.Verify(ctx, tt.encoded, tt.password+"x")
			if strings.Contains(tt.name, "72-byte") {
				// bcrypt ignores bytes past 72; the rehash will fix that.
				if !ok {
					t.Errorf("bcrypt did not truncate at 72 bytes as libxcrypt does")
				}
				return
			}
			if err != nil || ok || rehash {
				t.Errorf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestNeedsRehashArgon2id(t *testing.T) {
	ctx := context.Background()
	weak := newHasher(1, argon2Params{memory: 512, time: 1, threads: 1, saltLen: 16, keyLen: 32})
	enc, err := weak.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		params argon2Params
		want   bool
	}{
		{"same", argon2Params{memory: 512, time: 1, threads: 1, saltLen: 16, keyLen: 32}, false},
		{"more memory", argon2Params{memory: 1024, time: 1, threads: 1, saltLen: 16, keyLen: 32}, true},
		{"more passes", argon2Params{memory: 512, time: 2, threads: 1, saltLen: 16, keyLen: 32}, true},
		{"longer key", argon2Params{memory: 512, time: 1, threads: 1, saltLen: 16, keyLen: 64}, true},
		{"longer salt", argon2Params{memory: 512, time: 1, threads: 1, saltLen: 32, keyLen: 32}, true},
		{"more lanes only", argon2Params{memory: 512, time: 1, threads: 4, saltLen: 16, keyLen: 32}, false},
		{"weaker current", argon2Params{memory: 256, time: 1, threads: 1, saltLen: 8, keyLen: 16}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := newHasher(1, tt.params).Verify(ctx, enc, "pw")
			if err != nil || !ok || rehash != tt.want {
				t.Errorf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.want)
			}
		})
	}
}

func TestBadPassword(t *testing.T) {
	h := fastHasher(1)
	ctx := context.Background()
	good, err := h.Hash(ctx, strings.Repeat("p", MaxPasswordLen))
	if err != nil {
		t.Fatalf("Hash of a %d-byte password: %v", MaxPasswordLen, err)
	}
	for _, pw := range []string{"", strings.Repeat("p", MaxPasswordLen+1)} {
		if _, err := h.Hash(ctx, pw); !errors.Is(err, ErrBadPassword) {
			t.Errorf("Hash(%d bytes) error = %v, want ErrBadPassword", len(pw), err)
		}
		if ok, _, err := h.Verify(ctx, good, pw); ok || !errors.Is(err, ErrBadPassword) {
			t.Errorf("Verify(%d bytes) = %v, %v; want false, ErrBadPassword", len(pw), ok, err)
		}
		h.DummyVerify(ctx, pw) // must not hang or panic
	}
}

func TestBadHash(t *testing.T) {
	tests := []struct{ name, encoded string }{
		{"empty", ""},
		{"plain text", "secret"},
		{"locked shadow", "!"},
		{"locked shadow hash", "!$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"},
		{"unknown scheme", "$7$CU..../....Z4HnB1BEMXcpoT5QJDWR/$abc"},
		{"md5-crypt", "$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0"},
		{"argon2i", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"},
		{"argon2id v=16", "$argon2id$v=16$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"},
		{"argon2id no version", "$argon2id$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"},
		{"argon2id params order", "$argon2id$v=19$t=1,m=1024,p=1$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"},
		{"argon2id leading zero", "$argon2id$v=19$m=01024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"},
		{"argon2id huge memory", "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"},
		{"argon2id m<8p", "$argon2id$v=19$m=8,t=1,p=2$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"},
		{"argon2id t=0", "$argon2id$v=19$m=1024,t=0,p=1$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"},
		{"argon2id p=0", "$argon2id$v=19$m=1024,t=1,p=0$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"},
		{"argon2id padded salt", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA==$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"},
		{"argon2id short salt", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"},
		{"argon2id short key", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vq"},
		{"argon2id extra field", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA$"},
		{"argon2id keyid", "$argon2id$v=19$m=1024,t=1,p=1,keyid=Zm9v$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"},
		{"bcrypt 2x", "$2x$05$fh3tJTctLL4XEs4Wk.XRpO6jA6YNG2xDnej/GOQBr3eJC/0cyxtJq"},
		{"bcrypt cost 3", "$2b$03$fh3tJTctLL4XEs4Wk.XRpO6jA6YNG2xDnej/GOQBr3eJC/0cyxtJq"},
		{"bcrypt cost 31", "$2b$31$fh3tJTctLL4XEs4Wk.XRpO6jA6YNG2xDnej/GOQBr3eJC/0cyxtJq"},
		{"bcrypt short", "$2b$05$fh3tJTctLL4XEs4Wk.XRpO6jA6YNG2xDnej/GOQBr3eJC/0cyxtJ"},
		{"sha512 rounds too many", "$6$rounds=999999999$bBoc5ASPgFSeH84z$0FfwBR4jFEp90dXeUqkF1x4psIz.uPFMH9IwLkVAksepy6UQWPHHkXFRJBpqbOR3PRb.mlJN5PX7NwNW1qSou."},
		{"sha512 rounds too few", "$6$rounds=999$bBoc5ASPgFSeH84z$0FfwBR4jFEp90dXeUqkF1x4psIz.uPFMH9IwLkVAksepy6UQWPHHkXFRJBpqbOR3PRb.mlJN5PX7NwNW1qSou."},
		{"sha512 bad option", "$6$round=10000$bBoc5ASPgFSeH84z$0FfwBR4jFEp90dXeUqkF1x4psIz.uPFMH9IwLkVAksepy6UQWPHHkXFRJBpqbOR3PRb.mlJN5PX7NwNW1qSou."},
		{"sha512 long salt", "$6$0123456789abcdefg$RMhGa83OQPQ30qTAkcd04aB.kIU50WHrfnEAQGANK2Bi4efYKx2PauC9nH0YqxulTt4LbFZTB3RT7RXJmXxRb1"},
		{"sha512 short hash", "$6$TdhFS1JMKXSEVJtO$RMhGa83OQPQ30qTAkcd04aB"},
		{"sha256 with sha512 length", "$5$TdhFS1JMKXSEVJtO$RMhGa83OQPQ30qTAkcd04aB.kIU50WHrfnEAQGANK2Bi4efYKx2PauC9nH0YqxulTt4LbFZTB3RT7RXJmXxRb1"},
		{"yescrypt too much memory", "$y$jJT$3R1jAjTmV5RHHxt9VTGHh.$zh9hanHOlhU62IkGud5Qde/NtjwQb1ZAwUF.uYqqfY2"},
		{"yescrypt N=2^64", "$y$jzT$3R1jAjTmV5RHHxt9VTGHh.$zh9hanHOlhU62IkGud5Qde/NtjwQb1ZAwUF.uYqqfY2"},
		{"yescrypt other flags", "$y$jC5//$3R1jAjTmV5RHHxt9VTGHh.$zh9hanHOlhU62IkGud5Qde/NtjwQb1ZAwUF.uYqqfY2"},
		{"yescrypt bad salt", "$y$j9T$3R1jAjTm!5RHHxt9VTGHh.$zh9hanHOlhU62IkGud5Qde/NtjwQb1ZAwUF.uYqqfY2"},
		{"yescrypt short hash", "$y$j9T$3R1jAjTmV5RHHxt9VTGHh.$zh9hanHOlhU62IkGud5Qde"},
	}
	h := fastHasher(1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateHash(tt.encoded)
			if !errors.Is(err, ErrBadHash) {
				t.Fatalf("ValidateHash error = %v, want ErrBadHash", err)
			}
			if tt.encoded != "" && len(tt.encoded) > 12 && strings.Contains(err.Error(), tt.encoded[len(tt.encoded)-12:]) {
				t.Errorf("error %q quotes the hash", err)
			}
			ok, _, err := h.Verify(context.Background(), tt.encoded, "correct horse")
			if ok || !errors.Is(err, ErrBadHash) {
				t.Errorf("Verify = %v, %v; want false, ErrBadHash", ok, err)
			}
		})
	}
}

func TestConcurrencyCap(t *testing.T) {
	const maxConcurrent, workers = 3, 12
	h := fastHasher(maxConcurrent)
	h.verified = newVerifiedCache(0, 1) // every Verify must take a slot
	var (
		active, peak atomic.Int32
		entered      = make(chan struct{}, workers)
		gate         = make(chan struct{})
	)
	h.hook = func() {
		n := active.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		entered <- struct{}{}
		<-gate // hold the slot until the test has seen the cap filled
		active.Add(-1)
	}
	enc, err := fastHasher(1).Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			switch i % 3 {
			case 0:
				if _, err := h.Hash(ctx, "pw"); err != nil {
					t.Error(err)
				}
			case 1:
				if ok, _, err := h.Verify(ctx, enc, "pw"); !ok || err != nil {
					t.Error(ok, err)
				}
			case 2:
				h.DummyVerify(ctx, "pw")
			}
		}()
	}
	for range maxConcurrent {
		<-entered
	}
	if n := active.Load(); n != maxConcurrent {
		t.Errorf("%d hash operations running with the slots full, want %d", n, maxConcurrent)
	}
	close(gate)
	wg.Wait()
	if p := peak.Load(); p > maxConcurrent {
		t.Errorf("peak concurrency %d, cap %d", p, maxConcurrent)
	}
	if n := len(entered); n != workers-maxConcurrent {
		t.Errorf("%d operations ran after the gate opened, want %d", n, workers-maxConcurrent)
	}
}

func TestContextCancelWhileWaiting(t *testing.T) {
	h := fastHasher(1)
	var first atomic.Bool
	gate := make(chan struct{})
	holding := make(chan struct{})
	h.hook = func() {
		if first.CompareAndSwap(false, true) { // only the first caller holds the slot
			close(holding)
			<-gate
		}
	}
	waiting := make(chan struct{}, 3)
	h.waiting = func() { waiting <- struct{}{} }
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Hash(context.Background(), "pw")
	}()
	<-holding
	<-waiting // the holder passed through the wait point too

	enc := legacyVectors[1].encoded
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 3)
	go func() { _, err := h.Hash(ctx, "pw"); errc <- err }()
	go func() { _, _, err := h.Verify(ctx, enc, "pw"); errc <- err }()
	go func() { h.DummyVerify(ctx, "pw"); errc <- context.Canceled }() // returning at all, slot held, is the test
	for range 3 {
		<-waiting
	}
	cancel()
	for range 3 {
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
	}
	close(gate)
	<-done
}

func TestCancelledContextDoesNoWork(t *testing.T) {
	h := fastHasher(4)
	h.hook = func() { t.Error("hash work started with a cancelled context") }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash error = %v, want context.Canceled", err)
	}
	if _, _, err := h.Verify(ctx, legacyVectors[1].encoded, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify error = %v, want context.Canceled", err)
	}
	h.DummyVerify(ctx, "pw")
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw, err := GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != GeneratedPasswordLen {
			t.Fatalf("len(%q) = %d, want %d", pw, len(pw), GeneratedPasswordLen)
		}
		if strings.Trim(pw, passwordAlphabet) != "" {
			t.Fatalf("%q has characters outside the alphabet", pw)
		}
		if strings.ContainsAny(pw, "0O1lIo") {
			t.Fatalf("%q has ambiguous characters", pw)
		}
		if seen[pw] {
			t.Fatalf("%q generated twice", pw)
		}
		seen[pw] = true
		if err := ValidatePassword(pw); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadPassword(t *testing.T) {
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"pw\n", "pw"},
		{"pw\r\n", "pw"},
		{"pw", "pw"},
		{"pw\nmore\n", "pw"},
		{" spaced pw \n", " spaced pw "},
		{"\n", ""},
		{"", ""},
		{"\r\n", ""},
		{strings.Repeat("p", 1024) + "\r\n", strings.Repeat("p", 1024)},
		{strings.Repeat("p", 1024), strings.Repeat("p", 1024)},
		{strings.Repeat("p", 1025) + "\n", ""},
		{strings.Repeat("p", 5000), ""},
	}
	for _, tt := range tests {
		got, err := ReadPassword(strings.NewReader(tt.in))
		if tt.want == "" {
			if err == nil {
				t.Errorf("ReadPassword(%.20q) = %.20q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ReadPassword(%.20q) = %.20q, %v; want %.20q", tt.in, got, err, tt.want)
		}
	}
}

// TestHasherFreesMemoryOnceQuiet: memory goes back to the OS only after a
// quiet freeAfter, never in the middle of a stream of logins, however the
// stream falls against the timer.
func TestHasherFreesMemoryOnceQuiet(t *testing.T) {
	h := fastHasher(1)
	h.freeAfter = 400 * time.Millisecond
	var frees atomic.Int32
	h.free = func() { frees.Add(1) }
	ctx := context.Background()
	// A stream with gaps far shorter than freeAfter, lasting past it.
	for start := time.Now(); time.Since(start) < 3*h.freeAfter; {
		if _, err := h.Hash(ctx, "pw"); err != nil {
			t.Fatal(err)
		}
		if n := frees.Load(); n != 0 {
			t.Fatalf("memory given back %d times during a stream of logins", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	deadline := time.Now().Add(10 * h.freeAfter)
	for frees.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := frees.Load(); n != 1 {
		t.Fatalf("memory given back %d times after the stream, want once", n)
	}
}
