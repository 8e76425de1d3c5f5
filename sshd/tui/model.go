package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/sshelf/sshelf/files"
	"github.com/sshelf/sshelf/internal/ops"
)

// Options configure a Model.
type Options struct {
	Files *files.Service
	User  string
	// Addr is the server's host:port as the client reached it, for the
	// download command lines in the info screen.
	Addr string
	// Renderer styles for the client's terminal; nil: the default one.
	Renderer *lipgloss.Renderer
	// Context bounds every call on Files; nil: Background.
	Context context.Context
	// Observe is told of every change the user makes (the audit log, as
	// for the other ways in); Client is the user's address for it.
	Observe       ops.Observer
	Client        string
	Width, Height int
}

type screen int

const (
	screenList screen = iota
	screenInfo
	screenHelp
)

// Model is the terminal UI of one session. It holds no rule: every
// listing and change is a call on files.Service as the session's user,
// and a refusal shows the service's own reason.
type Model struct {
	svc  *files.Service
	user string
	addr string
	// observe and client: where and as whom changes are reported.
	observe ops.Observer
	client  string
	ctx     context.Context
	st      styles

	width, height int

	sort   files.SortKey
	desc   bool
	filter string
	win    window

	screen screen
	back   screen      // screen to return to from help
	info   *files.File // file on the info screen: selected, or opened by name

	prompt *prompt // the open input line, if any
	busy   bool    // a change is running; further actions wait for it

	status    string
	statusErr bool
}

// New returns a Model listing the first page.
func New(opt Options) *Model {
	r := opt.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	ctx := opt.Context
	if ctx == nil {
		ctx = context.Background()
	}
	m := &Model{
		svc: opt.Files, user: opt.User, addr: opt.Addr, ctx: ctx, st: newStyles(r),
		observe: opt.Observe, client: opt.Client,
		width: max(opt.Width, 1), height: max(opt.Height, 1),
	}
	m.setErr(m.win.reset(m.fetch))
	return m
}

// fetch lists one page in the current order and filter. It runs inside
// Update on purpose: a page is one indexed query of pageSize rows, and
// doing it in place keeps the selection and the rows always consistent.
func (m *Model) fetch(after *files.File, backward bool, limit int) ([]files.File, error) {
	return m.svc.ListSorted(m.ctx, m.user, files.ListQuery{
		Sort: m.sort, Desc: m.desc, Filter: m.filter,
		After: after, Backward: backward, Limit: limit,
	})
}

// listHeight is the number of table rows on screen: all but the title,
// the column header, the status line and the key line.
func (m *Model) listHeight() int { return max(m.height-4, 1) }

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 1), max(msg.Height, 1)
		m.win.scrollTo(m.listHeight())
		return m, nil
	case actionDoneMsg:
		return m, m.actionDone(msg)
	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			return m, m.eachRune(msg.Runes)
		}
		if msg.Type == tea.KeyCtrlC {
			return m, tea.Quit
		}
		if m.prompt != nil {
			return m, m.promptKey(msg)
		}
		return m, m.key(msg)
	}
	if m.prompt != nil {
		return m, m.prompt.update(msg)
	}
	return m, nil
}

func (m *Model) setStatus(s string) { m.status, m.statusErr = s, false }

// setErr shows err's user-facing reason; nil changes nothing.
func (m *Model) setErr(err error) {
	if err != nil {
		m.status, m.statusErr = "error: "+files.Reason(err), true
	}
}

// target is the file an action applies to: the one on the info screen, or
// the selected row.
func (m *Model) target() *files.File {
	if m.screen == screenInfo {
		return m.info
	}
	return m.win.selected()
}

// owns reports whether the user owns f, to offer only the actions the
// rules allow; the service decides whatever is tried.
func (m *Model) owns(f *files.File) bool { return f != nil && f.Owner == m.user }

// eachRune handles typed-ahead keys one at a time. Bubble Tea delivers the
// characters of one read as one message, and over ssh a fast typist's "jd"
// often arrives in one packet: it must still mean "down, then delete".
func (m *Model) eachRune(runes []rune) tea.Cmd {
	var cmds []tea.Cmd
	for _, r := range runes {
		_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		cmds = append(cmds, cmd)
	}
	return tea.Sequence(cmds...)
}
