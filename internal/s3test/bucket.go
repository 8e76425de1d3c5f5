package s3test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	s3store "github.com/sshelf/sshelf/files/s3"
)

// Instance is the instance id of the configs Bucket returns.
const Instance = "test-1"

// Bucket creates a fresh bucket on the shared gateway, named after the
// test and emptied and removed when it ends, and returns a store config
// for it (instance Instance, the smallest part size S3 allows).
func Bucket(t testing.TB) s3store.Config {
	t.Helper()
	endpoint, access, secret := Endpoint(t)
	return newBucket(t, endpoint, access, secret)
}

// Bucket creates a fresh bucket on g, as the function Bucket does on the
// shared gateway.
func (g *Gateway) Bucket(t testing.TB) s3store.Config {
	t.Helper()
	return newBucket(t, g.Endpoint, g.Access, g.Secret)
}

func newBucket(t testing.TB, endpoint, access, secret string) s3store.Config {
	t.Helper()
	cfg := s3store.Config{
		Bucket:          bucketName(t.Name()),
		Endpoint:        endpoint,
		Region:          s3store.DefaultRegion,
		AccessKeyID:     access,
		SecretAccessKey: secret,
		Instance:        Instance,
		PartSize:        s3store.MinPartSize,
	}
	c := Client(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &cfg.Bucket}); err != nil {
		t.Fatalf("create bucket %s at %s: %v", cfg.Bucket, endpoint, err)
	}
	t.Cleanup(func() { removeBucket(t, c, cfg.Bucket) })
	return cfg
}

// Client is a plain S3 client for cfg's bucket, for tests that look at
// the bucket behind the store's back.
func Client(cfg s3store.Config) *s3.Client {
	return s3.New(s3.Options{
		Region:                     cfg.Region,
		BaseEndpoint:               aws.String(cfg.Endpoint),
		Credentials:                credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           1,
	})
}

// removeBucket empties and removes a test's bucket, best effort: a
// gateway stopped by the test leaves it, in a folder removed anyway.
func removeBucket(t testing.TB, c *s3.Client, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	uploads := s3.NewListMultipartUploadsPaginator(c, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	for range 100 {
		if !uploads.HasMorePages() {
			break
		}
		page, err := uploads.NextPage(ctx)
		if err != nil {
			return
		}
		for _, u := range page.Uploads {
			c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: u.Key, UploadId: u.UploadId})
		}
	}
	objects := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	for range 100 {
		if !objects.HasMorePages() {
			break
		}
		page, err := objects.NextPage(ctx)
		if err != nil {
			return
		}
		for _, o := range page.Contents {
			c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: o.Key})
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket}); err != nil {
		t.Logf("remove bucket %s: %v", bucket, err)
	}
}

// bucketName makes a valid, unique bucket name from a test's name.
func bucketName(test string) string {
	var b strings.Builder
	b.WriteString("t-")
	dash := true
	for _, c := range strings.ToLower(test) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 44 {
			break
		}
	}
	name := strings.TrimRight(b.String(), "-")
	return name + "-" + randomHex(4)
}

// ObjectPath returns the file in which the shared gateway keeps key of
// cfg's bucket (versitygw's posix backend keeps an object as a file named
// by its key), for tests that damage or remove contents behind the
// store's back.
func ObjectPath(t testing.TB, cfg s3store.Config, key string) (string, error) {
	t.Helper()
	Endpoint(t)
	if shared.dir == "" {
		return "", fmt.Errorf("the shared gateway's folder is unknown (set %s)", EnvDir)
	}
	name := key
	if cfg.Prefix != "" {
		name = cfg.Prefix + "/" + key
	}
	return filepath.Join(shared.dir, cfg.Bucket, filepath.FromSlash(name)), nil
}
