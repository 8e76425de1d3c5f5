-- The file catalog, as the SQLite catalog keeps it. Names, owners and blob
-- keys compare as bytes (COLLATE "C"), whatever the database's locale, so
-- listings sort as they do on SQLite.
CREATE TABLE files (
	name          text COLLATE "C" PRIMARY KEY,
	owner         text COLLATE "C" NOT NULL,
	size          bigint NOT NULL,
	hidden        boolean NOT NULL,
	password_hash text NOT NULL,
	sha256        text NOT NULL,
	-- Unix nanoseconds, as on SQLite: a timestamp column would keep only
	-- microseconds, and paging by upload time needs the exact value back.
	uploaded      bigint NOT NULL,
	blob          text COLLATE "C" NOT NULL UNIQUE
);
-- One index per order of ListPublic, so a page reads an index range
-- instead of sorting the table.
CREATE INDEX files_public ON files (name) WHERE NOT hidden;
CREATE INDEX files_public_size ON files (size, name) WHERE NOT hidden;
CREATE INDEX files_public_uploaded ON files (uploaded, name) WHERE NOT hidden;
CREATE INDEX files_owner ON files (owner, name);

-- Each owner's total size and file count, kept by a trigger in the
-- transaction of every change to files, whoever makes it: summing on each
-- put would cost time in proportion to the owner's file count.
CREATE TABLE file_usage (
	owner text COLLATE "C" PRIMARY KEY,
	bytes bigint NOT NULL,
	files bigint NOT NULL
);

CREATE FUNCTION files_usage_add(who text, n bigint, k bigint) RETURNS void LANGUAGE sql AS $$
	INSERT INTO file_usage AS u (owner, bytes, files) VALUES (who, n, k)
		ON CONFLICT (owner) DO UPDATE SET bytes = u.bytes + excluded.bytes, files = u.files + excluded.files
$$;

-- A change that moves bytes between two owners updates their rows in
-- owner order, so two such changes cannot deadlock on them.
CREATE FUNCTION files_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM files_usage_add(NEW.owner, NEW.size, 1);
	ELSIF TG_OP = 'DELETE' THEN
		PERFORM files_usage_add(OLD.owner, -OLD.size, -1);
	ELSIF OLD.owner = NEW.owner THEN
		IF OLD.size <> NEW.size THEN
			PERFORM files_usage_add(NEW.owner, NEW.size - OLD.size, 0);
		END IF;
	ELSIF OLD.owner < NEW.owner THEN
		PERFORM files_usage_add(OLD.owner, -OLD.size, -1);
		PERFORM files_usage_add(NEW.owner, NEW.size, 1);
	ELSE
		PERFORM files_usage_add(NEW.owner, NEW.size, 1);
		PERFORM files_usage_add(OLD.owner, -OLD.size, -1);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER files_usage AFTER INSERT OR DELETE OR UPDATE OF owner, size ON files
	FOR EACH ROW EXECUTE FUNCTION files_usage();

-- Blobs that records dropped (replaced, deleted), in the transaction that
-- dropped them, until a server removes them after a grace period.
CREATE TABLE garbage (
	blob    text COLLATE "C" PRIMARY KEY,
	dropped bigint NOT NULL -- unix nanoseconds
);
CREATE INDEX garbage_dropped ON garbage (dropped);
