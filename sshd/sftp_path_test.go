package sshd

import "testing"

func TestParseSFTPPath(t *testing.T) {
	for p, want := range map[string]sftpTarget{
		"/": {root: true}, ".": {root: true}, "": {root: true}, "/..": {root: true},
		"/a": {name: "a"}, "a": {name: "a"}, "./a": {name: "a"}, "/x/../a": {name: "a"},
	} {
		got, err := parseSFTPPath(p)
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", p, got, err, want)
		}
	}
	if _, err := parseSFTPPath("/a/b"); err == nil {
		t.Errorf("/a/b: want an error")
	}
}
