package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// runner runs firewall programs. It is the only way this package touches
// the operating system's firewall, so tests can put a fake in its place or
// prefix every command with `ip netns exec NAME`.
type runner interface {
	run(ctx context.Context, stdin, name string, args ...string) (string, error)
}

// debianPackage names the package that provides each program, for errors.
var debianPackage = map[string]string{
	"nft": "nftables", "iptables-save": "iptables", "iptables-restore": "iptables",
	"ip6tables-save": "iptables", "ip6tables-restore": "iptables", "ipset": "ipset",
	"ufw": "ufw", "firewall-cmd": "firewalld",
}

// execRunner runs programs for real, each prefixed by prefix (empty, or
// e.g. "ip netns exec srv").
type execRunner struct{ prefix []string }

func (r execRunner) run(ctx context.Context, stdin, name string, args ...string) (string, error) {
	argv := append(append(append([]string(nil), r.prefix...), name), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			if pkg, ok := debianPackage[name]; ok {
				return "", fmt.Errorf("%s is not installed (Debian package %s): %w", name, pkg, err)
			}
			return "", fmt.Errorf("%s is not installed: %w", name, err)
		}
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = strings.TrimSpace(out.String())
		}
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return out.String(), nil
}
