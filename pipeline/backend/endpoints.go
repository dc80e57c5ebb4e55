package backend

// Endpoint is where one service's requests go, and what decided it.
type Endpoint struct {
	URL string // "" for the service's AWS endpoint
	// Source names the setting or variable that set URL.
	Source string
	// Over names a variable that is set too and loses to Source.
	Over string
}

// S3Endpoint is where S3 requests go, decided as Terraform's S3 backend
// decides it: the block's endpoints.s3 (or its legacy endpoint), then
// AWS_ENDPOINT_URL_S3, then the legacy AWS_S3_ENDPOINT. None of them
// (URL ""): the AWS SDK decides, as it does for Terraform
// (AWS_ENDPOINT_URL, a profile's endpoint_url, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS).
// env reads the environment.
func (b Backend) S3Endpoint(env func(string) string) Endpoint {
	return endpointOf(env, b.EndpointS3, "AWS_ENDPOINT_URL_S3", "AWS_S3_ENDPOINT")
}

// DynamoDBEndpoint is where DynamoDB requests go, decided as S3Endpoint.
func (b Backend) DynamoDBEndpoint(env func(string) string) Endpoint {
	return endpointOf(env, b.EndpointDynamoDB, "AWS_ENDPOINT_URL_DYNAMODB", "AWS_DYNAMODB_ENDPOINT")
}

// BlockEndpoint is the Source of an endpoint the backend's settings name
// (endpoints.<service> or its legacy argument, in the block, a
// -backend-config or an earlier init).
const BlockEndpoint = "the backend configuration"

func endpointOf(env func(string) string, block string, vars ...string) Endpoint {
	var found []Endpoint
	if block != "" {
		found = append(found, Endpoint{URL: block, Source: BlockEndpoint})
	}
	for _, v := range vars {
		if u := env(v); u != "" {
			found = append(found, Endpoint{URL: u, Source: v})
		}
	}
	switch len(found) {
	case 0:
		return Endpoint{}
	case 1:
		return found[0]
	}
	e := found[0]
	e.Over = found[1].Source
	return e
}
