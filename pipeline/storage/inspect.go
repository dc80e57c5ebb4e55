package storage

import "time"

// BucketHead is what a HEAD of a bucket tells: where it is and the
// server's clock when it answered.
type BucketHead struct {
	Region     string    // the bucket's region ("" when the server does not say)
	ServerTime time.Time // the answer's Date header; zero when absent
}

// Versioning is a bucket's versioning status as S3 reports it.
type Versioning string

// The versioning statuses.
const (
	VersioningEnabled   Versioning = "Enabled"
	VersioningSuspended Versioning = "Suspended"
	VersioningNever     Versioning = "" // never enabled
)

// LifecycleRule is the part of a bucket lifecycle rule that matters to a
// state: whether it expires noncurrent versions, and for which keys.
type LifecycleRule struct {
	ID             string
	Prefix         string // the rule's prefix filter ("" for every key)
	Enabled        bool
	Tagged         bool  // applies only to objects with given tags (never a state)
	NoncurrentDays int32 // NoncurrentVersionExpiration.NoncurrentDays; 0 when none
}

// TableSchema is the key of a DynamoDB table, as DescribeTable says.
type TableSchema struct {
	Status      string // ACTIVE, CREATING, ...
	HashKey     string // the partition key's attribute name
	HashKeyType string // S, N or B
	RangeKey    string // the sort key's name; "" without one
}
