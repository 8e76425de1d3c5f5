package s3store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Defaults and S3's own limits on multipart uploads.
const (
	DefaultPartSize      = 16 << 20
	DefaultPartsInFlight = 4
	DefaultRegion        = "us-east-1"
	// MinPartSize is S3's least size of a part but the last.
	MinPartSize = 5 << 20
	// maxPartSize keeps the largest part, grown for a long stream (see
	// stream.partSize), under S3's 5 GiB.
	maxPartSize      = 1 << 30
	maxPartsInFlight = 64
)

// Config says which bucket holds the contents and how to reach it.
type Config struct {
	Bucket string
	// Prefix, if set, puts every object under PREFIX/ in the bucket, so
	// that a bucket can hold other things too.
	Prefix string
	// Endpoint is the store's base URL (http://host:port); empty means
	// AWS's own endpoint for Region.
	Endpoint        string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// Instance is this server's id; every key it stores starts with it
	// (see Store.Instance).
	Instance string
	// PartSize is the size of a multipart upload's parts (but the last);
	// PartsInFlight how many of them one upload sends at once. Zero means
	// the default.
	PartSize      int64
	PartsInFlight int
}

// ParseURL reads the --blobs form s3://BUCKET[/PREFIX]?endpoint=URL&region=R.
// Credentials never come in the URL (see Config.LoadCredentials).
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("blob store URL: %w", err)
	}
	if u.Scheme != "s3" {
		return Config{}, fmt.Errorf("blob store URL %q: want s3://BUCKET?endpoint=URL&region=R", raw)
	}
	if u.User != nil {
		return Config{}, fmt.Errorf("blob store URL %q: credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", u.Redacted())
	}
	if u.Opaque != "" || u.Host == "" {
		return Config{}, fmt.Errorf("blob store URL %q: missing bucket: want s3://BUCKET?endpoint=URL&region=R", raw)
	}
	if u.Fragment != "" {
		return Config{}, fmt.Errorf("blob store URL %q: unexpected #%s", raw, u.Fragment)
	}
	cfg := Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}
	if err := validBucket(cfg.Bucket); err != nil {
		return Config{}, err
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("blob store URL %q: query: %w", raw, err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return Config{}, fmt.Errorf("blob store URL: %s given %d times", k, len(vs))
		}
		switch k {
		case "endpoint":
			cfg.Endpoint = vs[0]
		case "region":
			cfg.Region = vs[0]
		default:
			return Config{}, fmt.Errorf("blob store URL: unknown query key %q (known: endpoint, region)", k)
		}
	}
	if _, ok := q["endpoint"]; ok {
		if err := validEndpoint(cfg.Endpoint); err != nil {
			return Config{}, err
		}
	}
	if _, ok := q["region"]; ok && cfg.Region == "" {
		return Config{}, errors.New("blob store URL: empty region")
	}
	return cfg, nil
}

// LoadCredentials sets the keys from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY as lookup (os.LookupEnv) returns them.
func (c *Config) LoadCredentials(lookup func(string) (string, bool)) error {
	var missing []string
	for _, v := range []struct {
		name string
		dst  *string
	}{
		{"AWS_ACCESS_KEY_ID", &c.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", &c.SecretAccessKey},
	} {
		val, _ := lookup(v.name)
		if val == "" {
			missing = append(missing, v.name)
		}
		*v.dst = val
	}
	if len(missing) > 0 {
		return fmt.Errorf("s3 bucket %q: %s not set", c.Bucket, strings.Join(missing, " and "))
	}
	return nil
}

// withDefaults checks c and fills in the defaults.
func (c Config) withDefaults() (Config, error) {
	if err := validBucket(c.Bucket); err != nil {
		return c, err
	}
	if c.Endpoint != "" {
		if err := validEndpoint(c.Endpoint); err != nil {
			return c, err
		}
	}
	if !validInstance(c.Instance) {
		return c, fmt.Errorf("s3 bucket %q: instance id %q: want 1 to 64 letters, digits, '.', '_' or '-'", c.Bucket, c.Instance)
	}
	c.Prefix = strings.Trim(c.Prefix, "/")
	if strings.Contains(c.Prefix, "//") {
		return c, fmt.Errorf("s3 bucket %q: prefix %q has an empty folder", c.Bucket, c.Prefix)
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return c, fmt.Errorf("s3 bucket %q: no credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", c.Bucket)
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	switch {
	case c.PartSize == 0:
		c.PartSize = DefaultPartSize
	case c.PartSize < MinPartSize || c.PartSize > maxPartSize:
		return c, fmt.Errorf("s3 part size %d: want %d MiB to %d MiB", c.PartSize, MinPartSize>>20, maxPartSize>>20)
	}
	switch {
	case c.PartsInFlight == 0:
		c.PartsInFlight = DefaultPartsInFlight
	case c.PartsInFlight < 0 || c.PartsInFlight > maxPartsInFlight:
		return c, fmt.Errorf("s3 parts in flight %d: want 1 to %d", c.PartsInFlight, maxPartsInFlight)
	}
	return c, nil
}

// validBucket accepts S3's bucket names: 3 to 63 lowercase letters,
// digits, dots and hyphens, a letter or digit at each end.
func validBucket(b string) error {
	bad := len(b) < 3 || len(b) > 63
	for i := 0; i < len(b) && !bad; i++ {
		c := b[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		edge := i == 0 || i == len(b)-1
		bad = !alnum && (edge || c != '.' && c != '-')
	}
	if b == "" {
		return errors.New("blob store: missing bucket: want s3://BUCKET?endpoint=URL&region=R")
	}
	if bad {
		return fmt.Errorf("s3 bucket %q: a bucket name is 3 to 63 lowercase letters, digits, dots and hyphens", b)
	}
	return nil
}

func validEndpoint(e string) error {
	u, err := url.Parse(e)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return fmt.Errorf("s3 endpoint %q: want http://HOST[:PORT] or https://HOST[:PORT]", e)
	}
	return nil
}

func validInstance(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
