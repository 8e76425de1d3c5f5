package ops

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		line string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"  ls  -l ", []string{"ls", "-l"}, false},
		{"put 'my file.txt'", []string{"put", "my file.txt"}, false},
		{`put "my file.txt"`, []string{"put", "my file.txt"}, false},
		{`put my\ file.txt`, []string{"put", "my file.txt"}, false},
		{"put f --password '' --hidden", []string{"put", "f", "--password", "", "--hidden"}, false},
		{`put f --password ""`, []string{"put", "f", "--password", ""}, false},
		{`get 'it'\''s'`, []string{"get", "it's"}, false},
		{`get "a\"b\\c\$d\e"`, []string{"get", `a"b\c$d\e`}, false},
		{`get a'b'"c"d`, []string{"get", "abcd"}, false},
		{"get $HOME *", []string{"get", "$HOME", "*"}, false},
		{"get 'héllo wörld'", []string{"get", "héllo wörld"}, false},
		{"put 'unterminated", nil, true},
		{`put "unterminated`, nil, true},
		{`put trailing\`, nil, true},
		{"a\\\nb", []string{"ab"}, false},
	}
	for _, tt := range tests {
		got, err := SplitWords(tt.line)
		if (err != nil) != tt.err {
			t.Errorf("SplitWords(%q) error = %v, want error %v", tt.line, err, tt.err)
			continue
		}
		if !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitWords(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{"put 'a b' --password ''", `get "x\"y"`, `a\ b`, "'", "\"\\", "\xdd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := SplitWords(line)
		if err != nil {
			return
		}
		// Quoting each word back must give the same words.
		var back string
		for i, w := range words {
			if i > 0 {
				back += " "
			}
			back += shellQuote(w)
		}
		again, err := SplitWords(back)
		if err != nil || !reflect.DeepEqual(again, words) && !(len(again) == 0 && len(words) == 0) {
			t.Fatalf("round trip of %q: %q -> %q -> %q (%v)", line, words, back, again, err)
		}
	})
}

// shellQuote quotes s byte by byte, so that invalid UTF-8 survives.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
