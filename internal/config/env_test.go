package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// envReaders are the functions that read the environment, by import path.
var envReaders = map[string][]string{
	"os":      {"Getenv", "LookupEnv", "Environ", "ExpandEnv", "UserCacheDir", "UserConfigDir", "UserHomeDir"},
	"syscall": {"Getenv", "Environ"},
}

// repoGoFiles returns the non-test Go files of the module, parsed.
func repoGoFiles(t *testing.T) (root string, fset *token.FileSet, files map[string]*ast.File) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from the package: %v", err)
	}
	fset = token.NewFileSet()
	files = map[string]*ast.File{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return root, fset, files
}

// TestEnvironmentReadHereOnly checks that no Go file outside this package
// reads the environment, so that Settings (with OtherEnv) lists every
// variable emer reads. Handing os.LookupEnv to a function of this package
// is reading through it, and allowed.
func TestEnvironmentReadHereOnly(t *testing.T) {
	_, fset, files := repoGoFiles(t)
	for rel, f := range files {
		if strings.HasPrefix(rel, "internal/config/") {
			continue
		}
		names := map[string]string{} // local name -> import path
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			name := filepath.Base(p)
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = p
		}
		handed := map[ast.Expr]bool{} // function values passed to package config
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && names[x.Name] == "emer/internal/config" {
						for _, a := range call.Args {
							handed[a] = true
						}
					}
				}
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if !ok || !slices.Contains(envReaders[names[x.Name]], sel.Sel.Name) || handed[sel] {
				return true
			}
			t.Errorf("%s: %s.%s reads the environment outside internal/config: add a setting to config.Settings and read it through the config package",
				fset.Position(sel.Pos()), names[x.Name], sel.Sel.Name)
			return true
		})
	}
}

// TestEMERVariablesAreSettings checks that every EMER_ variable named in
// a non-test Go file is a setting's or ConfigEnv.
func TestEMERVariablesAreSettings(t *testing.T) {
	known := map[string]bool{ConfigEnv: true}
	for _, s := range Settings {
		for _, e := range s.Env {
			if known[e] {
				t.Errorf("%s is the variable of two settings", e)
			}
			known[e] = true
		}
	}
	re := regexp.MustCompile(`EMER_[A-Z0-9_]+`)
	_, fset, files := repoGoFiles(t)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			for _, v := range re.FindAllString(lit.Value, -1) {
				if !known[v] {
					t.Errorf("%s: %s is not the variable of any setting in config.Settings", fset.Position(lit.Pos()), v)
				}
			}
			return true
		})
	}
}

func TestModelsDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/cache")
	t.Setenv(EnvModels, "")
	if d, err := ModelsDir(); err != nil || d != "/cache/emer/models" {
		t.Errorf("ModelsDir() = %q, %v; want /cache/emer/models", d, err)
	}
	t.Setenv(EnvModels, "/some/where")
	if d, err := ModelsDir(); err != nil || d != "/some/where" {
		t.Errorf("with %s set: ModelsDir() = %q, %v", EnvModels, d, err)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	t.Setenv(EnvModels, "")
	if _, err := ModelsDir(); err == nil || !strings.Contains(err.Error(), "set EMER_MODELS") {
		t.Errorf("no cache folder: err = %v, want it to suggest EMER_MODELS", err)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv("EMER_API_KEY", "")
	t.Setenv("OPENAI_API_KEY", "sk-o")
	if v := FromEnv("api_key"); v != "sk-o" {
		t.Errorf("FromEnv(api_key) = %q, want OPENAI_API_KEY's value after an empty EMER_API_KEY", v)
	}
	t.Setenv(EnvWheels, "/w")
	if v := FromEnv("wheels"); v != "/w" {
		t.Errorf("FromEnv(wheels) = %q", v)
	}
}
