package s3

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediasign/mediasign"
)

// MaxPutSize is the largest object one PutObject request may carry (5 GiB).
const MaxPutSize = 5 << 30

// PutFile uploads f, of size bytes, as the object key of bucket with one
// PutObject request. f is read from its start.
func (s *Storage) PutFile(ctx context.Context, bucket, key string, f *os.File, size int64) error {
	if size > MaxPutSize {
		// TODO: upload files over 5 GiB in parts with a multipart upload.
		return mediasign.Invalidf("the file is %d bytes long: one upload to S3 holds at "+
			"most %d bytes (5 GiB), and uploading in parts is not supported yet",
			size, int64(MaxPutSize))
	}
	if _, err := f.Seek(0, 0); err != nil {
		return fmt.Errorf("rewind file to upload: %w", err)
	}

	_, err := s.api.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket),
		Key: aws.String(key), Body: f, ContentLength: aws.Int64(size)})
	if err != nil {
		return s.api.mapError(err, bucket)
	}
	s.log.DebugContext(ctx, "uploaded object", "bucket", bucket, "size", size)
	return nil
}

// DeleteObject removes the object key of bucket. An object that is gone
// already counts as removed, as S3 itself answers.
func (s *Storage) DeleteObject(ctx context.Context, bucket, key string) error {
	_, err := s.api.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket),
		Key: aws.String(key)})
	if err != nil {
		return s.api.mapError(err, bucket)
	}
	s.log.DebugContext(ctx, "deleted object", "bucket", bucket)
	return nil
}
