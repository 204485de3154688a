package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/mediasign/mediasign"
)

const (
	maxAttempts = 2
	maxBackoff  = 500 * time.Millisecond
)

// apiClient sends S3 API requests (listing, checks) to the internal
// endpoint.
type apiClient struct {
	client   *awss3.Client
	endpoint string // for messages
}

func newAPIClient(cfg *mediasign.S3Config, hc *http.Client) *apiClient {
	opts := awss3.Options{
		Region:       cfg.Region,
		UsePathStyle: cfg.PathStyle,
		Credentials: credentials.NewStaticCredentialsProvider(
			cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.MaxBackoff = maxBackoff
			o.RateLimiter = ratelimit.None
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if hc != nil {
		opts.HTTPClient = hc
	}

	endpoint := cfg.Endpoint
	if endpoint != "" {
		opts.BaseEndpoint = aws.String(endpoint)
	} else {
		endpoint = awsEndpoint(cfg.Region)
	}
	return &apiClient{client: awss3.New(opts), endpoint: endpoint}
}

// List calls fn with each page of objects under prefix, in key order.
// Directory markers (keys ending in "/" with no content) are left out, and
// pages left empty by that are not passed on.
func (s *Storage) List(ctx context.Context, bucket, prefix string,
	fn func([]mediasign.Object) error) error {
	if bucket == "" {
		return mediasign.Invalidf("bucket is required to list objects")
	}

	// URL encoding keeps keys with bytes XML cannot carry, such as control
	// characters, intact.
	in := &awss3.ListObjectsV2Input{
		Bucket:       aws.String(bucket),
		MaxKeys:      aws.Int32(s.pageSize),
		EncodingType: types.EncodingTypeUrl,
	}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}

	pages := awss3.NewListObjectsV2Paginator(s.api.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.api.mapError(err, bucket)
		}

		objs, err := pageObjects(page)
		if err != nil {
			return fmt.Errorf("list bucket %q: %w", bucket, err)
		}
		s.log.DebugContext(ctx, "listed page", "bucket", bucket, "objects", len(objs))
		if len(objs) == 0 {
			continue
		}
		if err := fn(objs); err != nil {
			return err
		}
	}
	return nil
}

// pageObjects returns the objects of a page, with their keys decoded when
// the server URL-encoded them as asked.
func pageObjects(page *awss3.ListObjectsV2Output) ([]mediasign.Object, error) {
	encoded := page.EncodingType == types.EncodingTypeUrl
	objs := make([]mediasign.Object, 0, len(page.Contents))
	for _, o := range page.Contents {
		key := aws.ToString(o.Key)
		if encoded {
			var err error
			if key, err = url.QueryUnescape(key); err != nil {
				return nil, fmt.Errorf("decode listed key %q: %w", aws.ToString(o.Key), err)
			}
		}
		size := aws.ToInt64(o.Size)
		if size == 0 && strings.HasSuffix(key, "/") {
			continue
		}
		objs = append(objs, mediasign.Object{Key: key, Size: size})
	}
	return objs, nil
}

// Check verifies that the endpoint answers and the credentials work: on
// bucket when one is given, else by listing the buckets.
func (s *Storage) Check(ctx context.Context, bucket string) error {
	var err error
	if bucket != "" {
		_, err = s.api.client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(bucket)})
	} else {
		_, err = s.api.client.ListBuckets(ctx, &awss3.ListBucketsInput{})
	}
	if err != nil {
		return s.api.mapError(err, bucket)
	}

	s.log.DebugContext(ctx, "checked connection", "bucket", bucket)
	return nil
}

// mapError turns an SDK error into a mediasign error with a public message
// that says what to fix. The SDK error stays as the internal detail.
func (c *apiClient) mapError(err error, bucket string) error {
	if errors.Is(err, context.Canceled) {
		return err
	}

	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if mapped := c.mapAPIError(err, apiErr.ErrorCode(), bucket); mapped != nil {
			return mapped
		}
	}

	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		if mapped := c.mapStatus(err, respErr.HTTPStatusCode(), bucket); mapped != nil {
			return mapped
		}
	}

	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) || errors.Is(err, context.DeadlineExceeded) {
		return mediasign.Unavailable("cannot reach the S3 endpoint "+c.endpoint, err)
	}
	return fmt.Errorf("call the S3 endpoint %s: %w", c.endpoint, err)
}

func (c *apiClient) mapAPIError(err error, code, bucket string) error {
	switch code {
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
		"ExpiredToken", "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem",
		"InvalidSecurity", "Forbidden":
		return c.forbidden(err, bucket)
	case "NoSuchBucket", "NotFound":
		return c.noBucket(err, bucket)
	case "RequestTimeTooSkewed":
		return mediasign.Unavailable("the S3 endpoint "+c.endpoint+" refused the request "+
			"time: check the clock of this machine", err)
	case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
		return &mediasign.Error{Code: mediasign.CodeInvalid, Err: err, Message: fmt.Sprintf(
			"bucket %q is not in this connection's region: set the region to the bucket's", bucket)}
	}
	return nil
}

func (c *apiClient) mapStatus(err error, status int, bucket string) error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return c.forbidden(err, bucket)
	case status == http.StatusNotFound && bucket != "":
		return c.noBucket(err, bucket)
	case status >= 500:
		return mediasign.Unavailable("the S3 endpoint "+c.endpoint+" answered with a "+
			"server error: try again later", err)
	case status >= 400:
		return &mediasign.Error{Code: mediasign.CodeInvalid, Err: err, Message: fmt.Sprintf(
			"the S3 endpoint %s refused the request with status %d: check the connection's "+
				"region, endpoint, path style and credentials", c.endpoint, status)}
	}
	return nil
}

func (c *apiClient) forbidden(err error, bucket string) error {
	what := "the S3 endpoint " + c.endpoint
	if bucket != "" {
		what = fmt.Sprintf("bucket %q at %s", bucket, c.endpoint)
	}
	return &mediasign.Error{Code: mediasign.CodeForbidden, Err: err, Message: "access to " +
		what + " was refused: check the connection's access key, secret and permissions"}
}

func (c *apiClient) noBucket(err error, bucket string) error {
	return &mediasign.Error{Code: mediasign.CodeNotFound, Err: err, Message: fmt.Sprintf(
		"bucket %q does not exist at %s: check the bucket name and region", bucket, c.endpoint)}
}
