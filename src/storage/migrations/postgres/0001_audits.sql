-- The remoteActionAudits entity set, the same table as the SQLite store's.
-- Enums hold their numeric value and requestDateTime holds 100 ns ticks
-- since the Unix epoch, so that SQL compares and orders them as Graph does.
-- Every string property has a case-folded copy (`_folded`). Text columns
-- use the "C" collation: byte order, which for UTF-8 is code-point order,
-- exactly as SQLite compares text.
CREATE TABLE audits (
    id                           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    id_folded                    TEXT COLLATE "C" NOT NULL,
    device_display_name          TEXT COLLATE "C",
    device_display_name_folded   TEXT COLLATE "C",
    user_name                    TEXT COLLATE "C",
    user_name_folded             TEXT COLLATE "C",
    initiated_by_upn             TEXT COLLATE "C",
    initiated_by_upn_folded      TEXT COLLATE "C",
    action                       BIGINT NOT NULL,
    request_ticks                BIGINT NOT NULL,
    device_owner_upn             TEXT COLLATE "C",
    device_owner_upn_folded      TEXT COLLATE "C",
    device_imei                  TEXT COLLATE "C",
    device_imei_folded           TEXT COLLATE "C",
    action_state                 BIGINT NOT NULL,
    managed_device_id            TEXT COLLATE "C",
    managed_device_id_folded     TEXT COLLATE "C",
    bulk_device_action_id        TEXT COLLATE "C",
    bulk_device_action_id_folded TEXT COLLATE "C",
    device_action_category       BIGINT NOT NULL,
    version                      BIGINT NOT NULL,
    change_seq                   BIGINT NOT NULL
);

-- The same indexes as SQLite's. A nullable sort column is indexed with
-- NULLS FIRST, the order the shared SQL asks for when ascending.
CREATE UNIQUE INDEX audits_by_change ON audits (change_seq);
CREATE INDEX audits_by_time ON audits (request_ticks, id);
CREATE INDEX audits_by_state_time ON audits (action_state, request_ticks, id);
CREATE INDEX audits_by_action_time ON audits (action, request_ticks, id);
CREATE INDEX audits_by_device_time ON audits (managed_device_id_folded, request_ticks, id);
CREATE INDEX audits_by_initiator_time ON audits (initiated_by_upn_folded, request_ticks, id);
CREATE INDEX audits_by_device_name ON audits (device_display_name_folded ASC NULLS FIRST, id);

-- Values shared by every node: the change sequence and the secret that
-- signs skip tokens.
CREATE TABLE counters (
    name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('change_seq', 0);

CREATE TABLE instance_secrets (
    name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value BYTEA NOT NULL
);
