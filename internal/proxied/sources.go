package proxied

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseSources parses a comma-separated list of addresses and CIDR ranges,
// such as "10.0.0.5,10.0.1.0/24,2001:db8::/64". A single address is a range
// of one (/32 or /128). An empty list is no range.
func ParseSources(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for part := range strings.SplitSeq(s, ",") {
		p, err := parseSource(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("want addresses or CIDR ranges separated by commas, e.g. 10.0.0.5,10.0.1.0/24; %q is neither", part)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseSource(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		// A socket's IPv4 peer is compared unmapped: ::ffff:10.0.0.0/104
		// means 10.0.0.0/8.
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q: an address with a zone", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
