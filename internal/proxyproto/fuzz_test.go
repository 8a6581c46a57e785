package proxyproto

import (
	"bytes"
	"errors"
	"testing"
)

// The fuzz targets check that no input panics, hangs or reads past the
// header, and that every header accepted is one of the shapes the spec
// allows. Seed corpora are in testdata/fuzz; the table cases seed them too.

func FuzzParseV1(f *testing.F) {
	for _, c := range v1Cases() {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseV1(b)
		checkFuzzed(t, b, h, err)
		if err == nil && (len(b) > MaxV1Line || h.Version != 1) {
			t.Fatalf("accepted %q (%d bytes) as %+v", b, len(b), h)
		}
		r := bytes.NewReader(append(append([]byte{}, b...), "tail"...))
		h2, err2 := ReadFrom(r)
		if err == nil && (err2 != nil || h2 != h || r.Len() != len("tail")) {
			t.Fatalf("ReadFrom(%q) = %+v, %v, %d left; ParseV1 = %+v", b, h2, err2, r.Len(), h)
		}
	})
}

func FuzzParseV2(f *testing.F) {
	for _, c := range v2Cases() {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseV2(b)
		checkFuzzed(t, b, h, err)
		if err == nil && (len(b) > 16+MaxV2Body || h.Version != 2) {
			t.Fatalf("accepted %d bytes as %+v", len(b), h)
		}
		r := bytes.NewReader(append(append([]byte{}, b...), "tail"...))
		h2, err2 := ReadFrom(r)
		if err == nil && (err2 != nil || h2 != h || r.Len() != len("tail")) {
			t.Fatalf("ReadFrom(%q) = %+v, %v, %d left; ParseV2 = %+v", b, h2, err2, r.Len(), h)
		}
	})
}

func checkFuzzed(t *testing.T, b []byte, h Header, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrNoHeader) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("%q: error %v is none of the package's", b, err)
		}
		if h != (Header{}) {
			t.Fatalf("%q: error %v with a header %+v", b, err, h)
		}
		return
	}
	if h.Local {
		if h.Source.IsValid() || h.Dest.IsValid() {
			t.Fatalf("%q: LOCAL with addresses %+v", b, h)
		}
		return
	}
	if !h.Source.IsValid() || !h.Dest.IsValid() {
		t.Fatalf("%q: PROXY without addresses %+v", b, h)
	}
	if h.Source.Addr().Is4In6() || h.Dest.Addr().Is4In6() || h.Source.Addr().Zone() != "" {
		t.Fatalf("%q: mapped or zoned address in %+v", b, h)
	}
}
