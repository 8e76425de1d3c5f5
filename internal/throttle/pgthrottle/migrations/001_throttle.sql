-- Times are unix nanoseconds, as the callers give them: a lockout ends
-- exactly when throttle.Store says, to the nanosecond.
CREATE TABLE throttle_attempts (
	key     text COLLATE "C" NOT NULL,
	id      bigint NOT NULL,
	expires bigint NOT NULL,
	failed  boolean NOT NULL DEFAULT false,
	PRIMARY KEY (key, id)
);
CREATE INDEX throttle_attempts_expires ON throttle_attempts (expires);
CREATE TABLE throttle_locks (
	key   text COLLATE "C" PRIMARY KEY,
	until bigint NOT NULL
);
CREATE INDEX throttle_locks_until ON throttle_locks (until);
