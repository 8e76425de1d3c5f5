package s3store

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sshelf/sshelf/files"
)

// Remove deletes a blob; a missing one is not an error.
func (s *Store) Remove(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &name})
	if err != nil && !notFound(err) {
		return s.fail("remove blob "+key, err)
	}
	return nil
}

// Keys calls fn with the key of every blob in the bucket (under the
// prefix), from every instance. Objects not named as this store names
// them are left out.
func (s *Store) Keys(ctx context.Context, fn func(string) error) error {
	in := &s3.ListObjectsV2Input{Bucket: &s.bucket}
	if s.prefix != "" {
		in.Prefix = &s.prefix
	}
	pages := s3.NewListObjectsV2Paginator(s.client, in, func(o *s3.ListObjectsV2PaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.fail("list blobs", err)
		}
		for _, o := range page.Contents {
			key, ok := s.keyOf(aws.ToString(o.Key))
			if !ok {
				continue
			}
			if err := fn(key); err != nil {
				return err
			}
		}
	}
	return nil
}

// keyOf is the key of the object named name, if it is one of ours.
func (s *Store) keyOf(name string) (string, bool) {
	key, ok := strings.CutPrefix(name, s.prefix)
	return key, ok && validKey(key)
}

// Stat describes a blob without reading it; a missing one is an
// fs.ErrNotExist. Changed is the object's Last-Modified, which the store
// sets when the object is made: on AWS, for a multipart upload, that is
// when the upload began, not when it completed.
func (s *Store) Stat(ctx context.Context, key string) (files.BlobInfo, error) {
	name, err := s.object(key)
	if err != nil {
		return files.BlobInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &name})
	if err != nil {
		return files.BlobInfo{}, s.fail("stat blob "+key, err)
	}
	return files.BlobInfo{Size: aws.ToInt64(out.ContentLength), Changed: aws.ToTime(out.LastModified)}, nil
}

// Unfinished calls fn with every multipart upload begun under the prefix
// and neither completed nor aborted, by any instance.
func (s *Store) Unfinished(ctx context.Context, fn func(files.Unfinished) error) error {
	in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket}
	if s.prefix != "" {
		in.Prefix = &s.prefix
	}
	// Keys are unique, so a key marker seen twice is a store going round.
	pages := s3.NewListMultipartUploadsPaginator(s.client, in, func(o *s3.ListMultipartUploadsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.fail("list unfinished blobs", err)
		}
		for _, u := range page.Uploads {
			key, ok := s.keyOf(aws.ToString(u.Key))
			if !ok {
				continue
			}
			if err := fn(files.Unfinished{Key: key, ID: aws.ToString(u.UploadId), Began: aws.ToTime(u.Initiated)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// AbortUnfinished discards an unfinished upload; a gone one is no error.
func (s *Store) AbortUnfinished(ctx context.Context, u files.Unfinished) error {
	name, err := s.object(u.Key)
	if err != nil {
		return err
	}
	_, err = s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &name, UploadId: &u.ID})
	if err != nil && !notFound(err) {
		return s.fail("abort unfinished blob "+u.Key, err)
	}
	return nil
}
