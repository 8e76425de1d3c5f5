-- The sessions open on every server. A server refreshes heartbeat on its
-- rows while it lives; a row whose heartbeat is older than the counters'
-- TTL (its server crashed or lost the catalog) no longer counts.
CREATE TABLE sessions (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	instance  text NOT NULL,
	username  text COLLATE "C" NOT NULL,
	addr      text COLLATE "C" NOT NULL,
	heartbeat timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_username ON sessions (username);
CREATE INDEX sessions_addr ON sessions (addr);
CREATE INDEX sessions_instance ON sessions (instance);
CREATE INDEX sessions_heartbeat ON sessions (heartbeat);
