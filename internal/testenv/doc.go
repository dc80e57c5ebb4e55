// Package testenv is the harness integration tests share: external tools
// (moto_server, terraform) found on PATH or the test skipped, and one moto
// server per test binary with helpers to create buckets and lock tables
// in it.
//
// A missing tool skips the test locally and fails it when CI=true, so CI
// never passes by skipping. Require is the one place that decides.
package testenv
