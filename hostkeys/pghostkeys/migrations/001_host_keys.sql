-- The host keys every server of the cluster presents, one per SSH key
-- type, as unencrypted private keys in OpenSSH's PEM format: whoever can
-- read this table can impersonate the servers.
CREATE TABLE host_keys (
	type        text COLLATE "C" PRIMARY KEY,
	private_key text NOT NULL,
	created     timestamptz NOT NULL DEFAULT now()
);
