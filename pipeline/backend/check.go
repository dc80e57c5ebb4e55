package backend

import (
	"fmt"
	"io/fs"
)

// PRInit is what a PR job's init must have configured in one working
// directory: the bucket and key of the PR backend file and, under
// workspace isolation, the PR workspace.
type PRInit struct {
	Dir         string `json:"dir"`                 // the working directory, a path in the FS the check reads
	Display     string `json:"display,omitempty"`   // how messages name it
	Bucket      string `json:"bucket"`              // the PR file's bucket
	Key         string `json:"key"`                 // the PR file's key setting
	Workspace   string `json:"workspace,omitempty"` // the PR workspace, "" under key isolation
	Production  string `json:"production"`          // production's key setting, for the message
	BackendFile string `json:"backend_file"`        // the PR file, as init is given it
}

// CheckResult is what CheckPRInit found.
type CheckResult struct {
	OK bool
	// Checked is false when there was nothing to check: no init recorded a
	// backend in the directory.
	Checked bool
	Msg     string
}

// CheckPRInit reads what the last init recorded in the working directory
// (and the selected workspace) and tells whether it is the PR state. It is
// not when a user's own -backend-config came after prstate's (terraform
// puts TF_CLI_ARGS_init before the command line, so a user's file wins
// over the exported one), or when init never got prstate's file.
func CheckPRInit(fsys fs.FS, want PRInit, env func(string) string) (CheckResult, error) {
	display := want.Display
	if display == "" {
		display = want.Dir
	}
	rec, err := ReadInitState(fsys, want.Dir, display, env)
	if err != nil {
		return CheckResult{}, err
	}
	if rec == nil {
		_, shown := joinDir(want.Dir, display, DataDir(env), "terraform.tfstate")
		return CheckResult{OK: true, Msg: fmt.Sprintf("no init recorded a backend in %s: nothing to check", shown)}, nil
	}
	fix := fmt.Sprintf("pass -backend-config=%s last to init, or drop your own -backend-config and give it to prstate as %s", want.BackendFile, SettingHint)
	if rec.Type != "s3" {
		return CheckResult{Checked: true, Msg: fmt.Sprintf("%s: init configured backend %q, not the pull request's s3 state s3://%s/%s: %s", rec.Path, rec.Type, want.Bucket, want.Key, fix)}, nil
	}
	bucket, key := rec.String("bucket"), rec.String("key")
	if bucket != want.Bucket || key != want.Key {
		got := fmt.Sprintf("s3://%s/%s", bucket, key)
		if key == want.Production {
			got += " (production's state)"
		}
		return CheckResult{Checked: true, Msg: fmt.Sprintf("%s: init configured %s, not the pull request's s3://%s/%s: %s", rec.Path, got, want.Bucket, want.Key, fix)}, nil
	}
	if want.Workspace != "" {
		ws, from, _, err := selectWorkspace(fsys, want.Dir, display, env, nil)
		if err != nil {
			return CheckResult{}, err
		}
		if ws != want.Workspace {
			return CheckResult{Checked: true, Msg: fmt.Sprintf("workspace %s (from %s) is selected in %s, not the pull request's %s: select it with TF_WORKSPACE=%s (export-env) or terraform workspace select -or-create %s", ws, from, display, want.Workspace, want.Workspace, want.Workspace)}, nil
		}
	}
	return CheckResult{OK: true, Checked: true, Msg: fmt.Sprintf("%s: init configured the pull request's state s3://%s/%s", rec.Path, want.Bucket, WorkspaceObjectKey(rec.String("workspace_key_prefix"), want.Workspace, want.Key))}, nil
}
