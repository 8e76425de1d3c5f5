package tui

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/printable"
)

// shellQuote quotes s for a POSIX shell, leaving plain words as they are,
// so a command line shown can be pasted as is.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+=@%:,/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// quoteName is a file name as the status line shows it.
func quoteName(name string) string { return strconv.Quote(name) }

// withheldHash stands for the SHA-256 of another's protected file (rule 3).
const withheldHash = "(withheld: protected file)"

// passwordPlaceholder stands for the download password in the command
// lines; the real one is never shown or stored.
const passwordPlaceholder = "PASSWORD"

// downloadCommands returns the ssh, scp and sftp command lines that
// download f from addr as user, the password variable included when f is
// protected (the contract's SSHELF_FILE_PASSWORD).
func downloadCommands(f files.File, user, addr string) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "22"
	}
	env := ""
	if f.Protected {
		env = " -o SetEnv=SSHELF_FILE_PASSWORD=" + passwordPlaceholder
	}
	userHost := shellQuote(user + "@" + host)
	scpHost := host
	if strings.Contains(host, ":") {
		scpHost = "[" + host + "]" // IPv6, as scp and sftp want it
	}
	remote := shellQuote(user + "@" + scpHost + ":" + f.Name)
	local := shellQuote(f.Name)
	return []string{
		"ssh -p " + port + env + " " + userHost + " get " + shellQuote(f.Name) + " > " + local,
		"scp -P " + port + env + " " + remote + " " + local,
		"sftp -P " + port + env + " " + remote + " " + local,
	}
}

// infoLines is the info screen's body: every field of `info`, then the
// download commands, wrapped to width.
func (m *Model) infoLines(f files.File, width int) []string {
	field := func(label, value string) []string {
		head := m.st.label.Render(fit(label+":", 12))
		lines := wrap(value, max(width-12, 10))
		out := []string{head + lines[0]}
		for _, l := range lines[1:] {
			out = append(out, strings.Repeat(" ", 12)+l)
		}
		return out
	}
	var out []string
	out = append(out, field("name", printable.String(f.Name))...)
	out = append(out, field("size", strconv.FormatInt(f.Size, 10)+" bytes ("+humanSize(f.Size)+")")...)
	out = append(out, field("owner", f.Owner)...)
	out = append(out, field("visibility", f.Visibility())...)
	out = append(out, field("protected", yesNo(f.Protected))...)
	sum := f.SHA256
	if sum == "" {
		sum = withheldHash // rule 3: another's protected file, as `info` shows it
	}
	out = append(out, field("sha256", sum)...)
	out = append(out, field("uploaded", f.Uploaded.UTC().Format(time.RFC3339))...)
	out = append(out, "", m.st.label.Render("Download:"))
	for _, c := range downloadCommands(f, m.user, m.addr) {
		// Long commands break at the screen edge without an indent, so a
		// terminal's copy of the wrapped lines pastes back as one command.
		out = append(out, wrap(printable.Line(c), width)...)
	}
	if f.Protected {
		out = append(out, "(replace "+passwordPlaceholder+"; or add --password "+passwordPlaceholder+" to get)")
	}
	return out
}
