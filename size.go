package main

import (
	"errors"
	"strconv"
	"strings"
)

// sizeFlag is a flag.Value of a byte count with an optional binary unit:
// 1024, 512K, 512M, 1G, 64GiB, 2T. Every unit is a power of 1024 (1GB too,
// as most tools read it).
type sizeFlag struct{ p *int64 }

var errSize = errors.New("want bytes, or a number with K, M, G or T (also KiB, MiB, GiB, TiB; powers of 1024), e.g. 512M")

func (f sizeFlag) String() string {
	if f.p == nil {
		return "0"
	}
	return formatSize(*f.p)
}

func (f sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*f.p = n
	return nil
}

func parseSize(s string) (int64, error) {
	num := strings.TrimRight(s, "KMGTiBkmgtb")
	unit := strings.ToUpper(s[len(num):])
	shift := map[string]uint{"": 0, "B": 0,
		"K": 10, "KB": 10, "KIB": 10, "M": 20, "MB": 20, "MIB": 20,
		"G": 30, "GB": 30, "GIB": 30, "T": 40, "TB": 40, "TIB": 40}
	sh, ok := shift[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n < 0 || n > (1<<63-1)>>sh {
		return 0, errSize
	}
	return n << sh, nil
}

// formatSize prints n with the largest unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// kibFlag is a size flag kept in KiB, as Argon2id counts memory: 8K to
// 256M (the largest a stored hash may ask for).
type kibFlag struct{ p *uint32 }

func (f kibFlag) String() string {
	if f.p == nil || *f.p == 0 {
		return ""
	}
	return formatSize(int64(*f.p) << 10)
}

func (f kibFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	if n < 8<<10 || n > 256<<20 || n%(1<<10) != 0 {
		return errors.New("want a size from 8K to 256M in whole KiB, e.g. 19M")
	}
	*f.p = uint32(n >> 10)
	return nil
}
