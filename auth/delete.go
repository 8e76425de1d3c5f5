package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// An account is deleted in steps (app.DeleteUser): first it is disabled,
// with a row in account_deletions, then its sessions end and its files go,
// and last its row goes, the deletion mark with it. A disabled account
// logs in neither by password nor by key, stores nothing, and keeps its
// name from open signup, so a step that fails leaves nothing anyone can
// reach under the name; running `user del` again finishes the job.
const deletionSchema = `
CREATE TABLE IF NOT EXISTS account_deletions (
	name  TEXT PRIMARY KEY REFERENCES accounts(name) ON DELETE CASCADE,
	since INTEGER NOT NULL
) WITHOUT ROWID;
`

// notDisabled is an SQL condition on a table's name column: no deletion
// of that account has begun.
const notDisabled = ` NOT EXISTS (SELECT 1 FROM account_deletions d WHERE d.name = %s.name) `

// disabledHash reads a disabled account's password hash as noPassword, so
// no password matches it.
var disabledHash = `CASE WHEN` + fmt.Sprintf(notDisabled, "accounts") + `THEN password_hash ELSE '` + noPassword + `' END`

// Disable begins the deletion of an account: from now on it cannot log in
// and cannot store files. It returns when the deletion began, which is
// earlier if an unfinished deletion had already disabled it.
func (a *Accounts) Disable(ctx context.Context, name string) (time.Time, error) {
	_, err := a.db.ExecContext(ctx, `INSERT INTO account_deletions (name, since)
		SELECT name, ? FROM accounts WHERE name = ? ON CONFLICT(name) DO NOTHING`,
		time.Now().UnixNano(), name)
	if err != nil {
		return time.Time{}, fmt.Errorf("disable %q: %w", name, err)
	}
	var since int64
	err = a.db.QueryRowContext(ctx, `SELECT since FROM account_deletions WHERE name = ?`, name).Scan(&since)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("del %q: %w", name, ErrNoAccount)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("disable %q: %w", name, err)
	}
	return time.Unix(0, since), nil
}

// Active returns, of names, those whose accounts exist and are not being
// deleted, each with its creation time (Unix seconds): a name deleted and
// signed up again is another account. One query however many names.
func (a *Accounts) Active(ctx context.Context, names []string) (map[string]int64, error) {
	list, err := json.Marshal(names)
	if err != nil {
		return nil, err
	}
	rows, err := a.db.QueryContext(ctx, `SELECT name, created FROM accounts
		WHERE name IN (SELECT value FROM json_each(?)) AND`+fmt.Sprintf(notDisabled, "accounts"), string(list))
	if err != nil {
		return nil, fmt.Errorf("active accounts: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int64, len(names))
	for rows.Next() {
		var n string
		var created int64
		if err := rows.Scan(&n, &created); err != nil {
			return nil, fmt.Errorf("active accounts: %w", err)
		}
		out[n] = created
	}
	return out, rows.Err()
}

// MayStore reports whether user's account exists and is not being
// deleted, for files.Owners: a session that outlives its account by a
// moment must not leave a file behind.
func (a *Accounts) MayStore(ctx context.Context, user string) (bool, error) {
	var n int
	err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE name = ? AND`+
		fmt.Sprintf(notDisabled, "accounts"), user).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("account %q: %w", user, err)
	}
	return n > 0, nil
}
