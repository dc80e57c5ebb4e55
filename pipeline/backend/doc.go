// Package backend is the backend configuration of a root module, and the
// Stack (directory, backend, key scheme) every command works on. See
// ARCHITECTURE.md.
//
// It resolves the configuration of the S3 backend the way terraform and
// tofu resolve it at `init`, so prstate works on the state they work on:
//
//  1. the `backend "s3"` block of the configuration files in the working
//     directory (*.tf, *.tf.json; for OpenTofu also *.tofu, *.tofu.json,
//     where x.tofu hides x.tf), with override files applied: a backend
//     block in an override file replaces the whole earlier block, as both
//     binaries do (measured with terraform 1.11 and tofu 1.10);
//  2. the backend-config items, exactly `init -backend-config`: files
//     (HCL attributes, relative to the working directory) and key=value
//     pairs, each later one winning, attribute by attribute;
//  3. the configuration an earlier init recorded in
//     <data dir>/terraform.tfstate, but only for settings 1 and 2 leave
//     unset and only when they lack the bucket or the key (a stale record
//     never mixes into a complete configuration), and never a recorded key
//     that is a PR key (a PR job's earlier init is not production);
//  4. the explicit prstate settings (--bucket, --key, ...), over all of it.
//
// The selected workspace (TF_WORKSPACE, else <data dir>/environment, else
// default) gives the production state object:
// <workspace_key_prefix>/<workspace>/<key> outside the default workspace.
//
// Every setting remembers where it came from (Resolved.Source), every
// attribute is kept (not only bucket and key), and the PR backend file is
// rendered from all of them (PRFile), so `init -backend-config=<it>` alone
// configures the PR state.
package backend
