// Package layout checks the shape of the code base: every package says its
// one job in a package comment, and dependencies point one way, from the
// command down to the engine, never sideways between siblings.
package layout

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/port21/port21/"

// forbidden lists, per package (a path prefix under the module), the
// packages it must not import. The engine never knows about its callers.
var forbidden = map[string][]string{
	"internal/ftp":        {"internal/"},
	"internal/finding":    {"internal/"},
	"internal/jail":       {"internal/"},
	"internal/policy":     {"internal/"},
	"internal/certs":      {"internal/"},
	"internal/config":     {"internal/"},
	"internal/users":      {"internal/server", "internal/scan", "internal/report", "internal/firewall"},
	"internal/server":     {"internal/scan", "internal/report", "internal/firewall", "internal/confaudit", "internal/sockets", "internal/metrics"},
	"internal/metrics":    {"internal/server", "internal/scan", "internal/users", "internal/report", "internal/firewall", "internal/config"},
	"internal/audit":      {"internal/"},
	"internal/datadir":    {"internal/"},
	"internal/fdlimit":    {"internal/"},
	"internal/report":     {"internal/server", "internal/scan", "internal/firewall", "internal/confaudit", "internal/sockets"},
	"internal/scan":       {"internal/server", "internal/firewall", "internal/confaudit", "internal/sockets", "internal/users", "internal/jail", "internal/report"},
	"internal/sockets":    {"internal/server", "internal/scan", "internal/firewall"},
	"internal/confaudit":  {"internal/server", "internal/scan", "internal/firewall"},
	"internal/firewall":   {"internal/server", "internal/scan", "internal/confaudit", "internal/report"},
	"internal/local":      {"internal/server", "internal/scan", "internal/users", "internal/jail", "internal/policy", "internal/metrics"},
	"internal/proxyproto": {"internal/"},
}

func TestLayout(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, top := range []string{"internal", "cmd"} {
		filepath.WalkDir(filepath.Join(root, top), func(dir string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() || d.Name() == "testdata" {
				if d != nil && d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return err
			}
			rel, _ := filepath.Rel(root, dir)
			checkPackage(t, filepath.ToSlash(rel), dir)
			return nil
		})
	}
}

func checkPackage(t *testing.T, rel, dir string) {
	// The package's non-test files, by package name.
	paths, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	pkgs := map[string][]*ast.File{}
	fset := token.NewFileSet()
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return
		}
		pkgs[f.Name.Name] = append(pkgs[f.Name.Name], f)
	}
	for name, files := range pkgs {
		documented := false
		for _, f := range files {
			if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
				documented = true
			}
			for _, imp := range f.Imports {
				path := strings.Trim(imp.Path.Value, `"`)
				if !strings.HasPrefix(path, module) {
					continue
				}
				dep := strings.TrimPrefix(path, module)
				if strings.HasPrefix(dep, "cmd/") || strings.HasPrefix(dep, "tests/") || dep == "internal/testpeers" {
					t.Errorf("%s imports %s: nothing may depend on commands or tests", rel, dep)
				}
				for prefix, bans := range forbidden {
					if rel != prefix && !strings.HasPrefix(rel, prefix+"/") {
						continue
					}
					for _, ban := range bans {
						if strings.HasPrefix(dep, ban) && !strings.HasPrefix(dep, prefix) {
							t.Errorf("%s imports %s: dependencies must point from the command down, not sideways", rel, dep)
						}
					}
				}
			}
		}
		if !documented {
			t.Errorf("%s (package %s) has no package comment saying its one job", rel, name)
		}
	}
}
