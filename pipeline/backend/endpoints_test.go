package backend

import "testing"

// TestEndpointPrecedence: Terraform's order for where S3 and DynamoDB
// requests go: the block's endpoint, then the service's variable, then
// its legacy variable; AWS_ENDPOINT_URL is left to the SDK.
func TestEndpointPrecedence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		block string
		env   map[string]string
		want  Endpoint
	}{
		{"nothing", "", nil, Endpoint{}},
		{"block alone", "http://block", nil, Endpoint{URL: "http://block", Source: BlockEndpoint}},
		{"block over the variable", "http://block", map[string]string{"AWS_ENDPOINT_URL_S3": "http://env"},
			Endpoint{URL: "http://block", Source: BlockEndpoint, Over: "AWS_ENDPOINT_URL_S3"}},
		{"variable over legacy", "", map[string]string{"AWS_ENDPOINT_URL_S3": "http://env", "AWS_S3_ENDPOINT": "http://legacy", "AWS_ENDPOINT_URL": "http://all"},
			Endpoint{URL: "http://env", Source: "AWS_ENDPOINT_URL_S3", Over: "AWS_S3_ENDPOINT"}},
		{"legacy alone", "", map[string]string{"AWS_S3_ENDPOINT": "http://legacy", "AWS_ENDPOINT_URL": "http://all"},
			Endpoint{URL: "http://legacy", Source: "AWS_S3_ENDPOINT"}},
		{"the global variable is the SDK's", "", map[string]string{"AWS_ENDPOINT_URL": "http://all"}, Endpoint{}},
		{"another service's variable", "", map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://ddb"}, Endpoint{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := func(k string) string { return tc.env[k] }
			if got := (Backend{EndpointS3: tc.block}).S3Endpoint(env); got != tc.want {
				t.Errorf("S3Endpoint() = %+v, want %+v", got, tc.want)
			}
		})
	}
	env := map[string]string{"AWS_ENDPOINT_URL_S3": "http://s3", "AWS_DYNAMODB_ENDPOINT": "http://legacy-ddb"}
	if got, want := (Backend{}).DynamoDBEndpoint(func(k string) string { return env[k] }), (Endpoint{URL: "http://legacy-ddb", Source: "AWS_DYNAMODB_ENDPOINT"}); got != want {
		t.Errorf("DynamoDBEndpoint() = %+v, want %+v", got, want)
	}
}
