package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/prstate/prstate/pipeline/iam"
	"github.com/prstate/prstate/pipeline/storage"
)

// permissions probes what the job needs, by harmless requests: reads,
// listings of one key, and writes designed to fail without effect (a PUT
// or DELETE If-Match with an ETag no object has: 412 or 404 when allowed,
// 403 when denied; DynamoDB writes under a condition that never holds).
func (c *checker) permissions(ctx context.Context) {
	job := c.o.Job
	if job == "" {
		c.add("permissions", Warn, "not checked: no job", "pass --job plan, cleanup, apply, sweep or ops (the role whose credentials these are)")
		return
	}
	if c.noBucket {
		return
	}
	n := namesOf(c.t, c.o.PR)
	// One OK row per resource for the actions allowed on it; a row of its
	// own for each action denied or not probed.
	type group struct {
		what, resource string
		actions        []string
		others         []Row
	}
	var groups []*group
	byResource := map[string]*group{}
	allowedCount, total, skipped := 0, 0, 0
	for _, p := range probesFor(job, c.t, n, c.o.Seed) {
		if c.noTable && strings.HasPrefix(p.action, "dynamodb:") {
			skipped++
			continue
		}
		total++
		res := c.resource(p)
		g := byResource[res]
		if g == nil {
			g = &group{what: p.what, resource: res}
			byResource[res] = g
			groups = append(groups, g)
		}
		if row, ok := c.probe(ctx, job, p, c.o.PR <= 0 && n.prState != "" && strings.HasPrefix(p.name, n.prState)); ok {
			allowedCount++
			g.actions = append(g.actions, p.action)
		} else {
			g.others = append(g.others, row)
		}
	}
	for _, g := range groups {
		if len(g.actions) > 0 {
			c.add("access: "+g.what, OK, strings.Join(g.actions, ", ")+" on "+g.resource, "")
		}
		c.rows = append(c.rows, g.others...)
	}
	detail := fmt.Sprintf("%d of %d probes of the %s job's permissions allowed", allowedCount, total, job)
	if np := NotProbed[job]; len(np) > 0 {
		detail += "; not probed (no request tests them without effect): " + strings.Join(np, ", ")
	}
	if skipped > 0 {
		detail += fmt.Sprintf("; %d DynamoDB probes not run: the table is unusable (see table)", skipped)
	}
	st := OK
	if skipped > 0 {
		st = Warn
	}
	if allowedCount < total {
		st = Warn
		detail += "; see the rows above"
	}
	c.add("permissions", st, detail, "")
}

// probe runs one probe and returns its row and whether it was allowed.
// probePRKey tells a name of probePR's, which surely does not exist.
func (c *checker) probe(ctx context.Context, job iam.Job, p probe, probePRKey bool) (Row, bool) {
	resource := c.resource(p)
	check := p.action
	var err error
	switch p.action {
	case "s3:GetObject":
		if c.insp == nil {
			return notProbed(check, resource, p, "this store cannot be inspected")
		}
		err = c.insp.HeadObject(ctx, p.name)
	case "s3:ListBucket", "s3:ListBucketVersions":
		if c.insp == nil {
			return notProbed(check, resource, p, "this store cannot be inspected")
		}
		err = c.insp.ListOne(ctx, p.name, p.action == "s3:ListBucketVersions")
	case "s3:PutObject":
		if why := c.unsafePut(); why != "" {
			return notProbed(check, resource, p, why)
		}
		_, err = c.t.Bucket.PutObject(ctx, p.name, nil, storage.PutOptions{IfMatch: impossibleETag})
		if err == nil {
			return Row{check, Fail, "the server wrote " + resource + " despite an If-Match no object has", "restore the object's previous version: this server does not honour If-Match"}, false
		}
	case "s3:DeleteObject":
		if !c.cond.delIfMatch {
			return notProbed(check, resource, p, "the server did not prove it honours DELETE If-Match (see conditional delete): a probe could delete")
		}
		err = c.t.Bucket.DeleteObject(ctx, p.name, impossibleETag)
	case "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:ConditionCheckItem":
		insp, ok := c.t.Table.(TableInspector)
		switch {
		case p.action == "dynamodb:GetItem":
			_, err = c.t.Table.GetItem(ctx, p.name)
		case !ok:
			return notProbed(check, resource, p, "this store cannot be inspected")
		case p.action == "dynamodb:Scan":
			err = insp.ProbeScan(ctx)
		case p.action == "dynamodb:ConditionCheckItem":
			err = insp.ProbeCheck(ctx, p.name)
		default:
			err = insp.ProbeWrite(ctx, p.name, p.action == "dynamodb:DeleteItem")
		}
	default:
		return notProbed(check, resource, p, "no harmless probe")
	}
	switch {
	case allowed(err):
		return Row{check, OK, resource + " (" + p.what + ")", ""}, true
	case denied(err):
		fix := fmt.Sprintf("allow %s on %s in the %s role (prstate iam --job %s prints the whole policy)", p.action, c.arn(p), job, job)
		if p.action == "s3:GetObject" {
			// S3 answers 403 also for a missing object when s3:ListBucket
			// is not allowed: a missing probe name proves nothing.
			const absent = "; S3 also answers 403 for a missing object when s3:ListBucket is not allowed"
			if probePRKey {
				return Row{check, Warn, explain(err, p.action, resource) + " (" + p.what + "), or it does not exist and s3:ListBucket is not allowed: pass --pr N of an open pull request to probe a PR state that exists", fix}, false
			}
			fix += absent
		}
		return Row{check, Fail, explain(err, p.action, resource) + " (" + p.what + ")", fix}, false
	}
	return Row{check, Fail, explain(err, p.action, resource) + " (" + p.what + ")", ""}, false
}

func notProbed(check, resource string, p probe, why string) (Row, bool) {
	return Row{check, Warn, "not probed: " + resource + " (" + p.what + "): " + why, ""}, false
}

// unsafePut says why a PUT If-Match probe could change a production
// object on this server ("" when it cannot).
func (c *checker) unsafePut() string {
	switch {
	case c.cond.putIfMatch:
		return ""
	case c.cond.ran:
		return "the server did not prove it honours PUT If-Match (see conditional replace): a probe could overwrite"
	case c.insp != nil && c.insp.Endpoint() == "":
		return "" // AWS S3 honours If-Match on PUT
	}
	return "conditional writes could not be checked on this server (" + orWord(c.cond.reason, "not run") + "): a probe could overwrite"
}

// resource names what a probe touched, as the storage errors do.
func (c *checker) resource(p probe) string {
	switch {
	case strings.HasPrefix(p.action, "dynamodb:") && p.name == "":
		return "table " + c.t.Table.Name()
	case strings.HasPrefix(p.action, "dynamodb:"):
		return "item " + p.name + " of table " + c.t.Table.Name()
	case p.action == "s3:ListBucket" || p.action == "s3:ListBucketVersions":
		return fmt.Sprintf("s3://%s (prefix %q)", c.b.Bucket, p.name)
	}
	return "s3://" + c.b.Bucket + "/" + p.name
}

// arn is the IAM resource a policy grants the probe's action on.
func (c *checker) arn(p probe) string {
	switch {
	case strings.HasPrefix(p.action, "dynamodb:") && p.name == "":
		return fmt.Sprintf("arn:aws:dynamodb:%s:*:table/%s", c.region(), c.t.Table.Name())
	case strings.HasPrefix(p.action, "dynamodb:"):
		return fmt.Sprintf("arn:aws:dynamodb:%s:*:table/%s (dynamodb:LeadingKeys %q)", c.region(), c.t.Table.Name(), p.name)
	case p.action == "s3:ListBucket" || p.action == "s3:ListBucketVersions":
		return fmt.Sprintf("arn:aws:s3:::%s (s3:prefix %q)", c.b.Bucket, p.name)
	}
	return "arn:aws:s3:::" + c.b.Bucket + "/" + p.name
}
