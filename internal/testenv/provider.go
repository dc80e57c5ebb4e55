package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// SlowProviderSource is the source address of the provider SlowProvider
// installs: `simple_resource` (attributes `id`, `value`).
const SlowProviderSource = "example.com/prstate/simple"

// slowProviderModule is the OpenTofu release whose internal/provider-simple
// (the provider OpenTofu's own tests use, a real go-plugin provider
// plugin speaking protocol 5) SlowProvider builds.
const slowProviderModule = "github.com/opentofu/opentofu@v1.10.6"

// SlowProvider is a real provider plugin whose applies take time, and
// the Terraform CLI configuration that installs it.
type SlowProvider struct {
	// CLIConfig is a file for TF_CLI_CONFIG_FILE: the provider comes
	// from a filesystem mirror, everything else as usual.
	CLIConfig string
}

// Env is the environment of a terraform run with this provider: each
// ApplyResourceChange lasts delay, or ends afterSIGINT after the plugin
// received its first SIGINT when that comes first (0: the delay alone),
// and appends "apply-start", "apply-end" and "provider-sigint" lines
// with a Unix-nanosecond time to events.
func (p SlowProvider) Env(delay, afterSIGINT string, events string) []string {
	return []string{"TF_CLI_CONFIG_FILE=" + p.CLIConfig, "SIMPLE_APPLY_DELAY=" + delay, "SIMPLE_APPLY_AFTER_SIGINT=" + afterSIGINT, "SIMPLE_EVENTS=" + events}
}

var (
	providerOnce    sync.Once
	provider        SlowProvider
	providerRoot    string // the mirror and the CLI configuration
	providerMissing bool   // the module could not be had
	providerErr     error
	providerOut     []byte
)

// removeSlowProvider deletes what BuildSlowProvider built.
func removeSlowProvider() {
	if providerRoot != "" {
		_ = os.RemoveAll(providerRoot)
	}
}

// BuildSlowProvider builds OpenTofu's provider-simple from the module
// cache (downloading the module if it is missing) with a delay added to
// ApplyResourceChange, once per test binary, and returns it. Without Go
// or the module it ends the test through Require.
func BuildSlowProvider(t testing.TB) SlowProvider {
	t.Helper()
	Tool(t, "go")
	providerOnce.Do(func() { provider, providerOut, providerErr = buildSlowProvider() })
	switch {
	case providerMissing:
		Require(t, fmt.Sprintf("cannot download %s for the slow provider plugin: %v\n%s", slowProviderModule, providerErr, providerOut))
	case providerErr != nil:
		t.Fatalf("failed to build the slow provider plugin from %s: %v\n%s", slowProviderModule, providerErr, providerOut)
	}
	return provider
}

func buildSlowProvider() (SlowProvider, []byte, error) {
	// The module's own directory: download it when the cache lacks it.
	out, err := exec.Command("go", "mod", "download", "-json", slowProviderModule).Output()
	if err != nil {
		providerMissing = true
		return SlowProvider{}, out, fmt.Errorf("go mod download: %w", err)
	}
	var dir string
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), `"Dir": `); ok {
			dir = strings.Trim(strings.TrimSuffix(v, ","), `"`)
		}
	}
	if dir == "" {
		return SlowProvider{}, out, fmt.Errorf("go mod download named no directory")
	}
	root, err := os.MkdirTemp("", "prstate-provider-")
	if err != nil {
		return SlowProvider{}, nil, err
	}
	providerRoot = root
	// The module cache is read-only, and an overlay may not replace files
	// in it: build a copy (the build cache makes the next builds quick).
	src := filepath.Join(root, "src")
	defer os.RemoveAll(src)
	if err := os.CopyFS(src, os.DirFS(dir)); err != nil {
		return SlowProvider{}, nil, err
	}
	pkg := filepath.Join(src, "internal", "provider-simple")
	b, err := os.ReadFile(filepath.Join(pkg, "provider.go"))
	if err != nil {
		return SlowProvider{}, nil, err
	}
	const anchor = "\t\tm[\"id\"] = cty.StringVal(time.Now().String())\n\t}\n\tresp.NewState = cty.ObjectVal(m)\n"
	if bytes.Count(b, []byte(anchor)) != 1 {
		return SlowProvider{}, nil, fmt.Errorf("provider.go of %s has no single ApplyResourceChange to slow down", slowProviderModule)
	}
	b = bytes.Replace(b, []byte(anchor), []byte("\t\tm[\"id\"] = cty.StringVal(time.Now().String())\n\t}\n\tslowApply()\n\tresp.NewState = cty.ObjectVal(m)\n"), 1)
	if err := os.WriteFile(filepath.Join(pkg, "provider.go"), b, 0o644); err != nil {
		return SlowProvider{}, nil, err
	}
	if err := os.WriteFile(filepath.Join(pkg, "slow.go"), []byte(slowProviderPatch), 0o644); err != nil {
		return SlowProvider{}, nil, err
	}
	const version = "0.0.1"
	mirror := filepath.Join(root, "mirror")
	plat := runtime.GOOS + "_" + runtime.GOARCH
	bin := filepath.Join(mirror, filepath.FromSlash(SlowProviderSource), version, plat, "terraform-provider-simple_v"+version)
	cmd := exec.Command("go", "build", "-trimpath", "-mod=readonly", "-o", bin, "./internal/provider-simple/main")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		return SlowProvider{}, out, fmt.Errorf("go build: %w", err)
	}
	cfg := filepath.Join(root, "terraformrc")
	host, _, _ := strings.Cut(SlowProviderSource, "/")
	rc := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["%s/*/*"]
  }
  direct {
    exclude = ["%s/*/*"]
  }
}
`, mirror, host, host)
	if err := os.WriteFile(cfg, []byte(rc), 0o644); err != nil {
		return SlowProvider{}, nil, err
	}
	return SlowProvider{CLIConfig: cfg}, nil, nil
}

// slowProviderPatch is added to provider-simple: ApplyResourceChange
// calls slowApply.
const slowProviderPatch = `package simple

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// sigint is closed when the plugin receives its first SIGINT (go-plugin
// ignores it: the plugin runs on, as every provider does).
var sigint = make(chan struct{})

func init() {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT)
	go func() {
		first := true
		for range ch {
			event("provider-sigint")
			if first {
				close(sigint)
				first = false
			}
		}
	}()
}

// slowApply lasts SIMPLE_APPLY_DELAY, or ends SIMPLE_APPLY_AFTER_SIGINT
// after the first SIGINT when that is sooner: a call in flight that needs
// that long to finish.
func slowApply() {
	delay, _ := time.ParseDuration(os.Getenv("SIMPLE_APPLY_DELAY"))
	after, err := time.ParseDuration(os.Getenv("SIMPLE_APPLY_AFTER_SIGINT"))
	interrupted := sigint
	if err != nil || after <= 0 {
		interrupted = nil
	}
	event("apply-start")
	select {
	case <-time.After(delay):
	case <-interrupted:
		time.Sleep(after)
	}
	event("apply-end")
}

func event(what string) {
	path := os.Getenv("SIMPLE_EVENTS")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %d\n", what, time.Now().UnixNano())
}
`
