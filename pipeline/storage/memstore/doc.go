// Package memstore is an in-memory fake of storage.Bucket and
// storage.Table for tests and the demo. It mimics the S3 and DynamoDB
// semantics prstate relies on: a bucket is always versioned, puts and
// deletes can be conditional, and every value is deep-copied on the way in
// and out. Both types are safe for concurrent use and count calls per
// method (Calls) so tests and benchmarks can assert request budgets.
package memstore
