-- The remoteActionAudits entity set. Enums hold their numeric value and
-- requestDateTime holds 100 ns ticks since the Unix epoch, so that SQL
-- compares and orders them as Graph does. Every string property has a
-- case-folded copy (`_folded`) for case-insensitive filters and ordering.
CREATE TABLE audits (
    id                           TEXT    NOT NULL PRIMARY KEY,
    id_folded                    TEXT    NOT NULL,
    device_display_name          TEXT,
    device_display_name_folded   TEXT,
    user_name                    TEXT,
    user_name_folded             TEXT,
    initiated_by_upn             TEXT,
    initiated_by_upn_folded      TEXT,
    action                       INTEGER NOT NULL,
    request_ticks                INTEGER NOT NULL,
    device_owner_upn             TEXT,
    device_owner_upn_folded      TEXT,
    device_imei                  TEXT,
    device_imei_folded           TEXT,
    action_state                 INTEGER NOT NULL,
    managed_device_id            TEXT,
    managed_device_id_folded     TEXT,
    bulk_device_action_id        TEXT,
    bulk_device_action_id_folded TEXT,
    device_action_category       INTEGER NOT NULL,
    version                      INTEGER NOT NULL,
    change_seq                   INTEGER NOT NULL
);

CREATE UNIQUE INDEX audits_by_change ON audits (change_seq);
CREATE INDEX audits_by_time ON audits (request_ticks, id);
CREATE INDEX audits_by_state_time ON audits (action_state, request_ticks, id);
CREATE INDEX audits_by_action_time ON audits (action, request_ticks, id);
CREATE INDEX audits_by_device_time ON audits (managed_device_id_folded, request_ticks, id);
CREATE INDEX audits_by_initiator_time ON audits (initiated_by_upn_folded, request_ticks, id);
CREATE INDEX audits_by_device_name ON audits (device_display_name_folded, id);

-- Values shared by every user of the database: the change sequence and the
-- secret that signs skip tokens.
CREATE TABLE counters (
    name  TEXT    NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('change_seq', 0);

CREATE TABLE instance_secrets (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
);
