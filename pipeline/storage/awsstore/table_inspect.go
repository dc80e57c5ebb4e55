package awsstore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/prstate/prstate/pipeline/storage"
)

// What prstate doctor asks of a table: its key, and probes of the
// permissions to write items that change nothing.

// DescribeKey tells the table's status and key.
func (t *table) DescribeKey(ctx context.Context) (storage.TableSchema, error) {
	out, err := t.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.name)})
	if err != nil {
		return storage.TableSchema{}, t.inspectErr("describe table "+t.name, "dynamodb:DescribeTable", nil, err)
	}
	s := storage.TableSchema{Status: string(out.Table.TableStatus)}
	attrTypes := map[string]string{}
	for _, a := range out.Table.AttributeDefinitions {
		attrTypes[aws.ToString(a.AttributeName)] = string(a.AttributeType)
	}
	for _, k := range out.Table.KeySchema {
		switch k.KeyType {
		case types.KeyTypeHash:
			s.HashKey = aws.ToString(k.AttributeName)
			s.HashKeyType = attrTypes[s.HashKey]
		case types.KeyTypeRange:
			s.RangeKey = aws.ToString(k.AttributeName)
		}
	}
	return s, nil
}

// impossible is a condition no item meets: a write under it is refused
// (ConditionalCheckFailed) after IAM allowed it, and changes nothing.
var impossible = aws.String("attribute_exists(" + storage.KeyAttr + ") AND attribute_not_exists(" + storage.KeyAttr + ")")

// ProbeWrite sends PutItem (or, with del, DeleteItem) of lockID under a
// condition that never holds. Allowed: storage.ErrPrecondition.
func (t *table) ProbeWrite(ctx context.Context, lockID string, del bool) error {
	var err error
	action := "dynamodb:PutItem"
	if del {
		action = "dynamodb:DeleteItem"
		_, err = t.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(t.name), Key: keyOf(lockID), ConditionExpression: impossible})
	} else {
		_, err = t.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.name), Item: keyOf(lockID), ConditionExpression: impossible})
	}
	if err != nil {
		return t.inspectErr("probe item "+lockID+" of "+t.name, action, dynamoSentinel(err), err)
	}
	return nil
}

// ProbeCheck sends a TransactWriteItems of one ConditionCheck on lockID
// that never holds (dynamodb:ConditionCheckItem): it writes nothing.
// Allowed: storage.ErrCheckFailed.
func (t *table) ProbeCheck(ctx context.Context, lockID string) error {
	_, err := t.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String(t.name), Key: keyOf(lockID), ConditionExpression: impossible}},
	}})
	if err != nil {
		return t.inspectErr("probe item "+lockID+" of "+t.name, "dynamodb:ConditionCheckItem", transactSentinel(err), err)
	}
	return nil
}

// ProbeScan scans at most one item (dynamodb:Scan).
func (t *table) ProbeScan(ctx context.Context) error {
	if _, err := t.client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(t.name), Limit: aws.Int32(1)}); err != nil {
		return t.inspectErr("scan "+t.name, "dynamodb:Scan", nil, err)
	}
	return nil
}

// inspectErr classifies err of action on the table as every storage call
// does.
func (t *table) inspectErr(what, action string, sentinel, err error) error {
	return t.fail(what, action, sentinel, err)
}
