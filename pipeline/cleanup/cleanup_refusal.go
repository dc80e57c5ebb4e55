package cleanup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/prstate/prstate/pipeline/escape"
)

// BackendFile is the PR backend file `prstate plan` writes in the working
// directory; the advice of a refusal inits with it to reach the PR key.
const BackendFile = "prstate.s3.tfbackend"

// OrphanError is returned when a PR state was applied to; deleting it would orphan real
// infrastructure. Addresses are only what the PR added (what its state
// tracks beyond the seed): a seeded PR state also tracks production's
// resources, so the advice is a targeted destroy, never a plain one.
type OrphanError struct {
	Key       string
	Addresses []string
	Tool      string // "terraform", "tofu" or "terraform (or tofu)"
}

func (e *OrphanError) Error() string {
	return fmt.Sprintf("PR state %s was applied to: deleting it would orphan %d resource(s) the PR added: %s; destroy only those, with the PR key: %s; then run cleanup again (or pass --force to delete the state and leave them running)",
		e.Key, len(e.Addresses), strings.Join(e.Addresses, ", "), DestroyCommand(e.Tool, e.Addresses))
}

func (*OrphanError) refused() {}

// CannotTellError is returned for a PR state whose resources cleanup cannot read (an
// OpenTofu encrypted state that is not an untouched seed, or a body that
// is not a state). It may track resources the PR created, so it is kept
// unless --force.
type CannotTellError struct {
	Key    string
	Reason string // e.g. "the state is encrypted (OpenTofu state encryption)"
	Tool   string
}

func (e *CannotTellError) Error() string {
	return fmt.Sprintf("PR state %s: %s, so prstate cannot tell whether it tracks resources the PR created; list them with the PR key: %s (or `%s show`), destroy only what the PR added (%s), then run cleanup again (or pass --force to delete it anyway)",
		e.Key, e.Reason, StateListCommand(e.Tool), firstWord(e.Tool), DestroyCommand(e.Tool, []string{"ADDRESS"}))
}

func (*CannotTellError) refused() {}

// IsRefusal tells whether err is cleanup keeping a PR state on purpose (it
// was applied to, or cleanup cannot tell): not a failure of the storage.
func IsRefusal(err error) bool {
	var r interface{ refused() }
	return errors.As(err, &r)
}

// SplitRefusals separates the refusals in a (joined) error from the rest
// (nil when only refusals are left).
func SplitRefusals(err error) (refusals []error, rest error) {
	var others []error
	for _, e := range flatten(err) {
		if IsRefusal(e) {
			refusals = append(refusals, e)
		} else {
			others = append(others, e)
		}
	}
	return refusals, errors.Join(others...)
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// DestroyCommand is the command that destroys just addrs with the PR key,
// quoted for markdown and a shell.
func DestroyCommand(tool string, addrs []string) string {
	cmd := initCommand(tool) + " && " + firstWord(tool) + " destroy"
	for _, a := range addrs {
		cmd += " " + shellQuote("-target="+a)
	}
	return advice(tool, cmd)
}

// StateListCommand lists what the PR state tracks.
func StateListCommand(tool string) string {
	return advice(tool, initCommand(tool)+" && "+firstWord(tool)+" state list")
}

// advice quotes cmd; when the tool is not known it says tofu does the same.
func advice(tool, cmd string) string {
	if tool == "terraform" || tool == "tofu" {
		return "`" + cmd + "`"
	}
	return "`" + cmd + "` (`tofu` instead of `terraform` for an OpenTofu stack)"
}

// initCommand inits on the PR key (-reconfigure: a data directory that
// points at production is switched, never migrated).
func initCommand(tool string) string {
	return firstWord(tool) + " init -reconfigure -backend-config=" + BackendFile
}

func firstWord(tool string) string { w, _, _ := strings.Cut(tool, " "); return w }

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_.=/-]+$`)

func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return escape.Shell(s)
}

// toolName is the CLI the stack in dir runs: tofu when the state is
// encrypted (only OpenTofu encrypts state) or the directory has *.tofu
// files or OpenTofu's provider registry in its lock file; terraform when
// the lock file names Terraform's registry; otherwise it cannot tell.
func toolName(dir string, encrypted bool) string {
	if encrypted {
		return "tofu"
	}
	if dir != "" {
		for _, pat := range []string{"*.tofu", "*.tofu.json"} {
			if m, _ := filepath.Glob(filepath.Join(dir, pat)); len(m) > 0 {
				return "tofu"
			}
		}
		if b, err := os.ReadFile(filepath.Join(dir, ".terraform.lock.hcl")); err == nil {
			switch {
			case strings.Contains(string(b), "registry.opentofu.org/"):
				return "tofu"
			case strings.Contains(string(b), "registry.terraform.io/"):
				return "terraform"
			}
		}
	}
	return "terraform (or tofu)"
}
