package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/port21/port21/internal/config"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check a configuration file, or print one with every key",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Print every problem of a configuration file with its key and line; exit 1 if any",
		Long: `Check a configuration file as serve would read it (over the defaults, without flags), and
print each problem with its key and line. It does no network I/O: a public-host name is
checked for its form only, and certificate files are not read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := checkConfig(cmd.OutOrStdout(), args[0])
			if err != nil {
				return err
			}
			if n > 0 {
				return exitCode(1)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", args[0])
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "example",
		Short: "Print a commented configuration file with every key at its default",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeExample(cmd.OutOrStdout())
		},
	})
	return cmd
}

// checkConfig prints the problems of file, one a line, and returns how
// many there are; err is for a file it could not read at all.
func checkConfig(w io.Writer, file string) (int, error) {
	text, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("config check: %w", err)
	}
	cfg, err := config.Decode(text, file, config.Default())
	if err != nil {
		// Unknown keys and bad types: Decode names them with their line.
		fmt.Fprintln(w, err)
		return 1, nil
	}
	_, err = cfg.Validate()
	problems := config.KeyErrors(err)
	if err != nil && len(problems) == 0 {
		return 0, err
	}
	for _, p := range problems {
		if line := config.KeyLine(text, p.Key); line > 0 {
			fmt.Fprintf(w, "%s:%d: %s: %s\n", file, line, p.Key, p.Msg)
		} else {
			fmt.Fprintf(w, "%s: %s (not set in the file; its default): %s\n", file, p.Key, p.Msg)
		}
	}
	return len(problems), nil
}

// writeExample writes every key of config.Config at its default, each
// after the help of its serve flag, so it can never miss a key.
func writeExample(w io.Writer) error {
	flags := newServeCmd().Flags()
	def := reflect.ValueOf(config.Default())
	var b strings.Builder
	b.WriteString("# port21 serve configuration: every key, at its default.\n# Each key is also a flag of port21 serve; flags win over this file.\n")
	for i := 0; i < def.NumField(); i++ {
		key := def.Type().Field(i).Tag.Get("toml")
		f := flags.Lookup(key)
		if f == nil {
			return fmt.Errorf("config example: key %s has no serve flag", key)
		}
		v, err := tomlValue(def.Field(i).Interface())
		if err != nil {
			return fmt.Errorf("config example: %s: %w", key, err)
		}
		fmt.Fprintf(&b, "\n# %s\n%s = %s\n", f.Usage, key, v)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tomlValue writes one value of a Config field in TOML.
func tomlValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case config.Duration:
		return strconv.Quote(shortDuration(v.Duration)), nil
	case []config.PassiveHost:
		return passiveHostTOML(v), nil
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]", nil
	}
	return "", errors.New("no TOML form for " + reflect.TypeOf(v).String())
}

// shortDuration is d as an administrator writes it: "5m", not "5m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
