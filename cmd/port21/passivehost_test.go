package main

import (
	"reflect"
	"testing"

	"github.com/port21/port21/internal/config"
)

// --passive-host NETWORKS=HOST, repeatable, is the passive-host key; its
// TOML form (config example) reads back as the same rules.
func TestPassiveHostFlag(t *testing.T) {
	var rules []config.PassiveHost
	f := passiveHostFlag{&rules}
	for _, v := range []string{"10.0.0.0/8, 192.168.0.0/16=10.0.0.5", "127.0.0.2=nat.example.com"} {
		if err := f.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	want := []config.PassiveHost{
		{Networks: []string{"10.0.0.0/8", "192.168.0.0/16"}, Host: "10.0.0.5"},
		{Networks: []string{"127.0.0.2"}, Host: "nat.example.com"},
	}
	if !reflect.DeepEqual(rules, want) {
		t.Fatalf("rules %+v", rules)
	}
	for _, bad := range []string{"10.0.0.0/8", "=10.0.0.5", "10.0.0.0/8="} {
		if err := f.Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	cfg, err := config.Decode([]byte("passive-host = "+passiveHostTOML(want)+"\n"), "t.toml", config.Default())
	if err != nil || !reflect.DeepEqual(cfg.PassiveHost, want) {
		t.Fatalf("TOML round trip: %+v, %v", cfg.PassiveHost, err)
	}
	if _, err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}
