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
// AWS_ENDPOINT_URL_S3, then the legacy AWS_S3_ENDPOINT, then
// AWS_ENDPOINT_URL, which the AWS SDK reads for every service. env reads
// the environment.
func (b Backend) S3Endpoint(env func(string) string) Endpoint {
	return endpointOf(env, b.EndpointS3, "endpoints.s3", "AWS_ENDPOINT_URL_S3", "AWS_S3_ENDPOINT")
}

// DynamoDBEndpoint is where DynamoDB requests go, decided as S3Endpoint.
func (b Backend) DynamoDBEndpoint(env func(string) string) Endpoint {
	return endpointOf(env, b.EndpointDynamoDB, "endpoints.dynamodb", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_DYNAMODB_ENDPOINT")
}

func endpointOf(env func(string) string, block, setting string, vars ...string) Endpoint {
	vars = append(vars, "AWS_ENDPOINT_URL")
	var found []Endpoint
	if block != "" {
		found = append(found, Endpoint{URL: block, Source: setting})
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
