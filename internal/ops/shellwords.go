package ops

import (
	"errors"
	"strings"
)

var errUnterminated = errors.New("unterminated quote or trailing backslash")

// SplitWords splits a command line into words by POSIX shell quoting rules:
// blanks separate words; '...' is literal; in "..." a backslash escapes only
// $ ` " \ and newline; outside quotes a backslash escapes the next byte.
// Unlike common splitters it keeps empty quoted words (`--password ”` is two
// words), so an empty value can never shift the words after it. Nothing is
// expanded: $, * and ~ are plain characters.
func SplitWords(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\\':
			if i+1 >= len(line) {
				return nil, errUnterminated
			}
			i++
			if line[i] != '\n' { // backslash-newline continues the line
				w.WriteByte(line[i])
				inWord = true
			}
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, errUnterminated
			}
			w.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("$`\"\\\n", line[i+1]) >= 0 {
					i++
					if line[i] == '\n' {
						continue
					}
				}
				w.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errUnterminated
			}
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
