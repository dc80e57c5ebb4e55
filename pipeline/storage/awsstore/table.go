package awsstore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/prstate/prstate/pipeline/storage"
)

// table is storage.Table on one DynamoDB table keyed by LockID.
type table struct {
	client *dynamodb.Client
	name   string
}

// NewTable returns the DynamoDB table name as a storage.Table.
func NewTable(client *dynamodb.Client, name string) storage.Table {
	return &table{client: client, name: name}
}

func (t *table) Name() string { return t.name }

// fail classifies err of action (dynamodb:PutItem) on the table.
func (t *table) fail(what, action string, sentinel, err error) error {
	return classify(what, target{service: "DynamoDB", action: action, resource: "table " + t.name, table: t.name, region: t.client.Options().Region}, sentinel, err)
}

// keyOf is the primary key of lockID.
func keyOf(lockID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{storage.KeyAttr: &types.AttributeValueMemberS{Value: lockID}}
}

// toItem keeps the string attributes of a DynamoDB item.
func toItem(av map[string]types.AttributeValue) storage.Item {
	it := make(storage.Item, len(av))
	for k, v := range av {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			it[k] = s.Value
		}
	}
	return it
}

// fromItem converts an item to DynamoDB string attributes.
func fromItem(it storage.Item) map[string]types.AttributeValue {
	av := make(map[string]types.AttributeValue, len(it))
	for k, v := range it {
		av[k] = &types.AttributeValueMemberS{Value: v}
	}
	return av
}

// condition is a storage.Condition as a DynamoDB condition expression.
type condition struct {
	expr   *string
	names  map[string]string
	values map[string]types.AttributeValue
}

// conditionOf translates c: Absent is Terraform's
// attribute_not_exists(LockID), Attr/Equals is "#a = :v".
func conditionOf(c storage.Condition) (condition, error) {
	switch {
	case c.Absent && c.Attr != "":
		return condition{}, fmt.Errorf("invalid condition: Absent and Attr are exclusive")
	case c.Absent:
		return condition{expr: aws.String("attribute_not_exists(" + storage.KeyAttr + ")")}, nil
	case c.Attr != "":
		return condition{
			expr:   aws.String("#a = :v"),
			names:  map[string]string{"#a": c.Attr},
			values: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: c.Equals}},
		}, nil
	default:
		return condition{}, nil
	}
}

func (t *table) GetItem(ctx context.Context, lockID string) (storage.Item, error) {
	it, _, err := t.GetItemAt(ctx, lockID)
	return it, err
}

// GetItemAt is a consistent read that also returns DynamoDB's clock (the
// answer's Date header), which waiters share.
func (t *table) GetItemAt(ctx context.Context, lockID string) (storage.Item, time.Time, error) {
	out, err := t.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(t.name),
		Key:            keyOf(lockID),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, time.Time{}, t.fail("get item "+lockID+" from "+t.name, "dynamodb:GetItem", nil, err)
	}
	at, _ := awsmiddleware.GetServerTime(out.ResultMetadata)
	if len(out.Item) == 0 {
		return nil, at, fmt.Errorf("failed to get item %s from %s: %w", lockID, t.name, storage.ErrNotFound)
	}
	return toItem(out.Item), at, nil
}

func (t *table) PutItem(ctx context.Context, item storage.Item, cond storage.Condition) error {
	id := item[storage.KeyAttr]
	what := "put item " + id + " into " + t.name
	if id == "" {
		return fmt.Errorf("failed to put item into %s: missing %s", t.name, storage.KeyAttr)
	}
	c, err := conditionOf(cond)
	if err != nil {
		return fmt.Errorf("failed to %s: %w", what, err)
	}
	_, err = t.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(t.name),
		Item:                      fromItem(item),
		ConditionExpression:       c.expr,
		ExpressionAttributeNames:  c.names,
		ExpressionAttributeValues: c.values,
	})
	if err != nil {
		return t.fail(what, "dynamodb:PutItem", dynamoSentinel(err), err)
	}
	return nil
}

// PutItemChecked is one TransactWriteItems: a ConditionCheck on
// check.LockID, then the Put of item with cond. A canceled transaction
// names the failed condition per item, in order.
func (t *table) PutItemChecked(ctx context.Context, item storage.Item, cond storage.Condition, check storage.Check) error {
	id := item[storage.KeyAttr]
	what := "put item " + id + " into " + t.name + " checking " + check.LockID
	if id == "" || check.LockID == "" || check.LockID == id {
		return fmt.Errorf("failed to %s: both keys are needed, and they must differ", what)
	}
	pc, err := conditionOf(cond)
	if err != nil {
		return fmt.Errorf("failed to %s: %w", what, err)
	}
	cc, err := conditionOf(check.Cond)
	if err != nil || cc.expr == nil {
		return fmt.Errorf("failed to %s: the check needs a condition (%v)", what, err)
	}
	_, err = t.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{
				TableName:                 aws.String(t.name),
				Key:                       keyOf(check.LockID),
				ConditionExpression:       cc.expr,
				ExpressionAttributeNames:  cc.names,
				ExpressionAttributeValues: cc.values,
			}},
			{Put: &types.Put{
				TableName:                 aws.String(t.name),
				Item:                      fromItem(item),
				ConditionExpression:       pc.expr,
				ExpressionAttributeNames:  pc.names,
				ExpressionAttributeValues: pc.values,
			}},
		},
	})
	if err != nil {
		return t.fail(what, "dynamodb:ConditionCheckItem and dynamodb:PutItem", transactSentinel(err), err)
	}
	return nil
}

func (t *table) DeleteItem(ctx context.Context, lockID string, cond storage.Condition) error {
	what := "delete item " + lockID + " from " + t.name
	c, err := conditionOf(cond)
	if err != nil {
		return fmt.Errorf("failed to %s: %w", what, err)
	}
	_, err = t.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(t.name),
		Key:                       keyOf(lockID),
		ConditionExpression:       c.expr,
		ExpressionAttributeNames:  c.names,
		ExpressionAttributeValues: c.values,
	})
	if err != nil {
		return t.fail(what, "dynamodb:DeleteItem", dynamoSentinel(err), err)
	}
	return nil
}

// ScanItems scans the whole table (consistently), filtered server-side by
// begins_with(LockID, :p), following every page.
func (t *table) ScanItems(ctx context.Context, prefix string) ([]storage.Item, error) {
	in := &dynamodb.ScanInput{
		TableName:      aws.String(t.name),
		ConsistentRead: aws.Bool(true),
	}
	if prefix != "" {
		in.FilterExpression = aws.String("begins_with(" + storage.KeyAttr + ", :p)")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: prefix}}
	}
	var items []storage.Item
	p := dynamodb.NewScanPaginator(t.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, t.fail("scan items "+prefix+"* in "+t.name, "dynamodb:Scan", nil, err)
		}
		for _, av := range page.Items {
			items = append(items, toItem(av))
		}
	}
	return items, nil
}
