// Package testenv is the harness integration tests share: external tools
// (moto_server, terraform, and minio and tofu, which .ci/run builds into
// $(go env GOPATH)/bin) found or the test skipped; one moto server per
// test binary with helpers to create buckets and lock tables in it, and
// one MinIO server (S3 only) with the same bucket helpers. S3Flavors and
// TerraformBinaries list the servers and the CLIs for table-driven tests.
//
// A missing tool skips the test locally and fails it when CI=true, so CI
// never passes by skipping. Require is the one place that decides.
package testenv
