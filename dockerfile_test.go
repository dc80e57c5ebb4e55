package main

import (
	"debug/elf"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prstate/prstate/internal/testenv"
)

// No Docker engine runs here, so the image is checked by its parts: the
// Dockerfile builds a static, trimmed binary in exec form on a minimal base,
// and that binary (built the same way) leaves room under the 30 MB target.
func TestDockerfileBuildsASmallStaticImage(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags="-s -w"`, "FROM gcr.io/distroless/static", `ENTRYPOINT ["/prstate"]`, "AS build"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if strings.Contains(df, "USER ") {
		t.Error("Dockerfile changes the user: GitHub asks Docker actions to run as the default user")
	}
	bin := testenv.Binary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if interp := f.Section(".interp"); interp != nil {
		t.Error("binary is dynamically linked")
	}
	info, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	// distroless/static is about 2 MB; the binary must fit in the rest.
	const budget = 28 << 20
	t.Logf("static binary %.1f MB (image budget 30 MB, base ~2 MB)", float64(info.Size())/(1<<20))
	if info.Size() > budget {
		t.Fatalf("binary is %d bytes, over the %d budget", info.Size(), budget)
	}
}

func walkGo(root string, fn func(string) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		return fn(p)
	})
}
