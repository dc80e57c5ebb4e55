package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/prstate/prstate/pipeline/statekey"
	"github.com/prstate/prstate/pipeline/storage"
)

const tableShapeFix = "use a table whose partition key is LockID of type String, without a sort key (Terraform's lock table)"

// table: the lock table exists and is keyed by a LockID string.
func (c *checker) table(ctx context.Context) {
	if c.t.Table == nil {
		return
	}
	name := c.t.Table.Name()
	insp, ok := c.t.Table.(TableInspector)
	if !ok {
		c.add("table", Warn, "not checked: this store cannot be inspected", "")
		return
	}
	s, err := insp.DescribeKey(ctx)
	switch {
	case err == nil:
		c.tableShape(name, s)
	case code(err) == "ResourceNotFoundException":
		c.noTable = true
		c.add("table", Fail, fmt.Sprintf("DynamoDB table %q does not exist (region %s)", name, c.region()), "create it ("+tableShapeFix+"), or fix dynamodb_table")
	case denied(err):
		c.tableByRead(ctx, name, err)
	default:
		c.noTable = true
		c.add("table", Fail, explain(err, "dynamodb:DescribeTable", "table "+name), "check the table name, the region and the DynamoDB endpoint")
	}
}

func (c *checker) tableShape(name string, s storage.TableSchema) {
	switch {
	case s.HashKey != storage.KeyAttr || s.HashKeyType != "S" || s.RangeKey != "":
		c.noTable = true
		key := fmt.Sprintf("partition key %s (type %s)", orWord(s.HashKey, "(none)"), orWord(s.HashKeyType, "?"))
		if s.RangeKey != "" {
			key += " and sort key " + s.RangeKey
		}
		c.add("table", Fail, fmt.Sprintf("DynamoDB table %q has %s: Terraform and prstate need a string partition key %s", name, key, storage.KeyAttr), tableShapeFix)
	case s.Status != "" && s.Status != "ACTIVE":
		c.add("table", Warn, fmt.Sprintf("DynamoDB table %q is %s, not ACTIVE", name, s.Status), "wait until it is active")
	default:
		c.add("table", OK, fmt.Sprintf("DynamoDB table %q has partition key %s (string)", name, storage.KeyAttr), "")
	}
}

// tableByRead judges the table by a read of the state's lock item when
// these credentials may not describe it (job roles may not).
func (c *checker) tableByRead(ctx context.Context, name string, describeErr error) {
	id := statekey.LockItemID(c.b.Bucket, c.b.Key)
	_, err := c.t.Table.GetItem(ctx, id)
	notDescribed := "not described (" + explain(describeErr, "dynamodb:DescribeTable", "table "+name) + ")"
	switch {
	case err == nil || errors.Is(err, storage.ErrNotFound):
		c.add("table", Warn, notDescribed+"; a read of item "+id+" by LockID worked", adminFix)
	case code(err) == "ResourceNotFoundException":
		c.noTable = true
		c.add("table", Fail, fmt.Sprintf("DynamoDB table %q does not exist (region %s)", name, c.region()), "create it ("+tableShapeFix+"), or fix dynamodb_table")
	case code(err) == "ValidationException" && strings.Contains(strings.ToLower(err.Error()), "key"):
		c.noTable = true
		c.add("table", Fail, fmt.Sprintf("DynamoDB table %q refused a read by %s: it has no string partition key %s", name, storage.KeyAttr, storage.KeyAttr), tableShapeFix)
	default:
		c.add("table", Warn, notDescribed+"; "+explain(err, "dynamodb:GetItem", "table "+name), adminFix)
	}
}

func (c *checker) region() string {
	if c.insp != nil && c.insp.Region() != "" {
		return c.insp.Region()
	}
	return orWord(c.b.Region, "(none)")
}
