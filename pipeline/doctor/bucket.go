package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/prstate/prstate/pipeline/escape"
	"github.com/prstate/prstate/pipeline/storage"
)

// adminFix is the fix of a check these credentials may not run.
const adminFix = "run doctor once with credentials that may read the bucket's settings (the ops role or an admin)"

// credentials: where the credentials come from and where requests go.
func (c *checker) credentials(ctx context.Context) {
	if c.insp == nil {
		return
	}
	src, err := c.insp.CredentialSource(ctx)
	if err != nil {
		c.add("credentials", Fail, "no usable AWS credentials: "+oneLine(err.Error()),
			"configure credentials: aws-actions/configure-aws-credentials (OIDC), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE")
		c.stop = true
		return
	}
	if c.insp.Region() == "" {
		c.add("credentials", Fail, "no AWS region", "set region in the backend block, --region or AWS_REGION")
		c.stop = true
		return
	}
	detail := "from " + orWord(src, "the SDK's default chain") + ", signed for region " + orWord(c.insp.Region(), "(none)")
	if e := c.insp.Endpoint(); e != "" {
		detail += ", S3 endpoint " + e
	}
	c.add("credentials", OK, detail, "")
}

// bucket: the bucket exists, in the region requests are signed for.
func (c *checker) bucket(ctx context.Context) {
	if c.insp == nil {
		c.add("bucket", Warn, "not checked: this store cannot be inspected", "")
		return
	}
	before := c.o.Now()
	head, err := c.insp.HeadBucket(ctx)
	after := c.o.Now()
	c.clock(head, before, after, err)
	name, region := "s3://"+c.b.Bucket, c.insp.Region()
	switch {
	case err == nil && head.Region != "" && region != "" && head.Region != region:
		c.add("bucket", Fail, fmt.Sprintf("%s is in region %s, requests are signed for %s", name, head.Region, region), "set region = \""+head.Region+"\" in the backend block (or --region)")
	case err == nil:
		c.add("bucket", OK, fmt.Sprintf("%s exists in region %s", name, orWord(head.Region, orWord(region, "(not said)"))), "")
	case code(err) == "NoSuchBucket" || code(err) == "NotFound" || status(err) == 404:
		c.noBucket = true
		c.add("bucket", Fail, fmt.Sprintf("%s does not exist (region %s)", name, orWord(region, "(none)")), "create the bucket, or fix bucket in the backend block (or --bucket)")
	case status(err) == 301 || code(err) == "PermanentRedirect":
		c.noBucket = true
		if head.Region != "" {
			c.add("bucket", Fail, fmt.Sprintf("%s is in region %s, requests are signed for %s", name, head.Region, region), "set region = \""+head.Region+"\" in the backend block (or --region)")
			break
		}
		c.add("bucket", Fail, fmt.Sprintf("%s is not in region %s", name, region), "set region in the backend block (or --region) to the bucket's region")
	case denied(err):
		c.add("bucket", Warn, fmt.Sprintf("%s exists, but these credentials may not read it whole (access denied: s3:ListBucket on %s)", name, name), "fine for a job role that lists only its prefixes; "+adminFix)
	default:
		c.noBucket = true
		c.add("bucket", Fail, explain(err, "s3:ListBucket", name), "check the bucket, the region, the endpoint (AWS_ENDPOINT_URL_S3, endpoints.s3) and the network")
	}
}

// versioning: with it, a state can be recovered and cleanup removes
// every version it left.
func (c *checker) versioning(ctx context.Context) {
	if c.insp == nil || c.noBucket {
		return
	}
	v, err := c.insp.Versioning(ctx)
	c.versioningStatus = v
	name := "s3://" + c.b.Bucket
	switch {
	case err != nil && denied(err):
		c.versioningStatus = "unknown"
		c.add("versioning", Warn, "not checked: "+explain(err, "s3:GetBucketVersioning", name), adminFix)
	case err != nil:
		c.versioningStatus = "unknown"
		c.add("versioning", Warn, "not checked: "+explain(err, "s3:GetBucketVersioning", name), "")
	case v == storage.VersioningEnabled:
		c.add("versioning", OK, "enabled", "")
	default:
		c.add("versioning", Warn, "off ("+orWord(string(v), "never enabled")+"): cleanup and recovery are weaker: an overwritten or deleted state cannot be restored",
			"aws s3api put-bucket-versioning --bucket "+escape.Shell(c.b.Bucket)+" --versioning-configuration Status=Enabled")
	}
}

// lifecycle: in a versioned bucket, a rule that expires noncurrent
// versions of the state's keys (heartbeats and state writes add versions).
func (c *checker) lifecycle(ctx context.Context) {
	if c.insp == nil || c.noBucket {
		return
	}
	if c.versioningStatus == storage.VersioningNever {
		c.add("lifecycle", OK, "not needed: the bucket keeps no noncurrent versions", "")
		return
	}
	rules, err := c.insp.LifecycleRules(ctx)
	if err != nil {
		fix := ""
		if denied(err) {
			fix = adminFix
		}
		c.add("lifecycle", Warn, "not checked: "+explain(err, "s3:GetLifecycleConfiguration", "s3://"+c.b.Bucket), fix)
		return
	}
	for _, r := range rules {
		if r.Enabled && !r.Tagged && r.NoncurrentDays > 0 && strings.HasPrefix(c.b.Key, r.Prefix) {
			c.add("lifecycle", OK, fmt.Sprintf("rule %q expires noncurrent versions after %d days", r.ID, r.NoncurrentDays), "")
			return
		}
	}
	c.add("lifecycle", Warn, "no enabled rule expires noncurrent versions of "+c.b.Key+": every apply lock heartbeat and state write adds a version that is kept forever",
		fmt.Sprintf(`aws s3api put-bucket-lifecycle-configuration --bucket %s --lifecycle-configuration '{"Rules":[{"ID":"prstate-noncurrent","Status":"Enabled","Filter":{"Prefix":""},"NoncurrentVersionExpiration":{"NoncurrentDays":90}}]}' (this replaces the bucket's rules: merge yours in)`, escape.Shell(c.b.Bucket)))
}

func orWord(s, word string) string {
	if s == "" {
		return word
	}
	return s
}
