// Package clientaddr carries the client's address through a context, so
// that the layers below a transport (login and download-password limits,
// the fair queue of password hashing) can count per address without every
// call taking one more argument.
package clientaddr

import (
	"context"
	"net"
)

// key is the context key. It is exported through Key so that a transport
// whose context can only be set in place (gliderlabs/ssh's SetValue) can
// store the host under it.
type key struct{}

// Key is the context key under which the client's host is kept.
var Key any = key{}

// With returns a context that carries host (an address without its port).
func With(ctx context.Context, host string) context.Context {
	return context.WithValue(ctx, Key, host)
}

// From returns the client's host carried by ctx, or "" if none.
func From(ctx context.Context) string {
	h, _ := ctx.Value(Key).(string)
	return h
}

// Host returns addr without its port ("[::1]:22" -> "::1"), or addr itself
// when it has none.
func Host(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
