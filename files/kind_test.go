package files

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
)

// TestEverySentinelHasOneKind reads errors.go: every Err variable declared
// there must be in the sentinels table exactly once, with a real kind.
func TestEverySentinelHasOneKind(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for _, id := range vs.Names {
				if len(id.Name) > 3 && id.Name[:3] == "Err" {
					declared[id.Name] = true
				}
			}
		}
		return true
	})
	if len(declared) != len(sentinels) {
		t.Errorf("errors.go declares %d sentinels, the kind table has %d", len(declared), len(sentinels))
	}
	known := map[Kind]bool{}
	for _, k := range Kinds {
		known[k] = true
	}
	seen := map[error]bool{}
	for _, s := range sentinels {
		if seen[s.err] {
			t.Errorf("%v: listed twice", s.err)
		}
		seen[s.err] = true
		if !known[s.kind] || s.kind == KindInternal {
			t.Errorf("%v: kind %q is not a refusal kind", s.err, s.kind)
		}
		if got := KindOf(fmt.Errorf("op %q: %w", "x", s.err)); got != s.kind {
			t.Errorf("KindOf(wrapped %v) = %q, want %q", s.err, got, s.kind)
		}
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		kind   Kind
		reason string
	}{
		{nil, KindNone, ""},
		{errors.New("disk on fire"), KindInternal, "internal error"},
		{ValidateName(".."), KindBadName, Reason(ValidateName(".."))},
		{fmt.Errorf("%w: %v", ErrIncomplete, errors.New("EOF")), KindIncomplete, ErrIncomplete.Error()},
		{ErrGaps, KindIncomplete, ErrGaps.Error()},
		{Refuse(KindUsage, "bad option"), KindUsage, "bad option"},
		{fmt.Errorf("%w: detail", Refuse(KindPermission, "no directories")), KindPermission, "no directories"},
		{fmt.Errorf("%w: offset 5", &Refusal{Kind: KindUsage, Msg: "malformed request", Detailed: true}), KindUsage, "malformed request: offset 5"},
	}
	for _, tt := range tests {
		if got := KindOf(tt.err); got != tt.kind {
			t.Errorf("KindOf(%v) = %q, want %q", tt.err, got, tt.kind)
		}
		if got := Reason(tt.err); got != tt.reason {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.reason)
		}
	}
}
