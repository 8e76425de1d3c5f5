package s3test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestBucketName(t *testing.T) {
	t.Parallel()
	for _, test := range []string{"TestX", "TestStreamerConformance/InSteps#01", strings.Repeat("Long_Name/", 20), "Ünïcode"} {
		name := bucketName(test)
		if len(name) < 3 || len(name) > 63 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" ||
			strings.HasSuffix(name, "-") || strings.Contains(name, "--") {
			t.Errorf("bucketName(%q) = %q: not a valid bucket name", test, name)
		}
	}
	if bucketName("TestX") == bucketName("TestX") {
		t.Error("two buckets of one test share a name")
	}
}

// TestBucket: each test's bucket is fresh and usable with the keys given.
func TestBucket(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := Bucket(t), Bucket(t)
	if a.Bucket == b.Bucket {
		t.Fatalf("two buckets named %s", a.Bucket)
	}
	c := Client(a)
	key := "k"
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &a.Bucket, Key: &key, Body: bytes.NewReader([]byte("x"))}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b.Bucket})
	if err != nil || len(out.Contents) != 0 {
		t.Errorf("the other bucket lists %d objects, %v", len(out.Contents), err)
	}
}

// TestGatewayRestart: a stopped gateway refuses; restarted, it has its data.
func TestGatewayRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := Start(t)
	cfg := g.Bucket(t)
	c := Client(cfg)
	key := "k"
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &cfg.Bucket, Key: &key, Body: bytes.NewReader([]byte("x"))}); err != nil {
		t.Fatal(err)
	}
	g.Stop(t)
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &cfg.Bucket, Key: &key}); err == nil {
		t.Error("a stopped gateway answered")
	}
	g.Restart(t)
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &cfg.Bucket, Key: &key}); err != nil {
		t.Errorf("after restart: %v", err)
	}
}
