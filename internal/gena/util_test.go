package gena_test

import (
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func glob(tb testing.TB, pattern string) []string {
	tb.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		tb.Fatalf("glob %s: %v, %d files", pattern, err, len(files))
	}
	return files
}

var (
	errSyntax = &xml.SyntaxError{}      // any *xml.SyntaxError
	errAny    = errors.New("any error") // any error at all
)

// checkErr reports on t unless err is what want asks for: nil, errAny,
// errSyntax, or a sentinel (by errors.Is).
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil:
		if err != nil {
			t.Errorf("err = %v, want nil", err)
		}
	case want == errAny:
		if err == nil {
			t.Error("err = nil, want an error")
		}
	case want == errSyntax:
		var se *xml.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("err = %v, want a *xml.SyntaxError", err)
		}
	default:
		if !errors.Is(err, want) {
			t.Errorf("err = %v, want %v", err, want)
		}
	}
}
