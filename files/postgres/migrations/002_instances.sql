-- The server instances sharing the catalog, with their last heartbeat, so
-- that garbage collection leaves the uploads of live instances alone.
CREATE TABLE instances (
	id   text COLLATE "C" PRIMARY KEY,
	seen bigint NOT NULL -- unix nanoseconds of the last heartbeat
);
