package firewall

import (
	"context"
	"os/exec"
	"runtime"
	"strings"
)

// Detect returns the backend this machine uses: Windows Defender Firewall
// on Windows, pf on the BSDs and macOS, and on Linux the manager in charge
// (firewalld or ufw when running, since rules written under them would be
// overwritten on their next reload), else nftables, else iptables.
func Detect(ctx context.Context) (Backend, error) {
	return detect(ctx, runtime.GOOS, execRunner{}, func(name string) bool {
		_, err := exec.LookPath(name)
		return err == nil
	})
}

func detect(ctx context.Context, goos string, r runner, have func(string) bool) (Backend, error) {
	switch goos {
	case "windows":
		return Windows, nil
	case "darwin", "freebsd", "openbsd", "netbsd", "dragonfly":
		return PF, nil
	case "linux":
	default:
		return "", ErrNoBackend
	}
	if have("firewall-cmd") {
		if out, err := r.run(ctx, "", "firewall-cmd", "--state"); err == nil && strings.TrimSpace(out) == "running" {
			return Firewalld, nil
		}
	}
	if have("ufw") {
		if out, err := r.run(ctx, "", "ufw", "status"); err == nil && strings.Contains(out, "Status: active") {
			return UFW, nil
		}
	}
	if have("nft") {
		return NFTables, nil
	}
	if have("iptables-restore") {
		return IPTables, nil
	}
	return "", ErrNoBackend
}
