-- Names sort and compare in byte order, as in the embedded catalog.
-- An account being deleted has a row in account_deletions (see
-- auth.Accounts.Disable); every other table goes with the account's row.
CREATE TABLE accounts (
	name          text COLLATE "C" PRIMARY KEY,
	password_hash text NOT NULL,
	created       timestamptz NOT NULL -- to the second
);
CREATE TABLE account_keys (
	name text COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
	key  bytea NOT NULL, -- SSH wire form; bytea sorts bytewise
	line text NOT NULL,
	PRIMARY KEY (name, key)
);
CREATE TABLE account_addresses (
	name text COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
	host text COLLATE "C" NOT NULL,
	last timestamptz NOT NULL, -- the last login from host, to the second
	PRIMARY KEY (name, host)
);
CREATE TABLE account_deletions (
	name  text COLLATE "C" PRIMARY KEY REFERENCES accounts (name) ON DELETE CASCADE,
	since timestamptz NOT NULL
);
