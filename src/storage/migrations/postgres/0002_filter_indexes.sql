-- The same indexes as SQLite's 0002: equality filters on the enum and
-- id-like columns, served in the default order (by id) from an index,
-- without sorting the matches. The managed device and initiator columns
-- are nullable, but an equality filter never matches null, so their plain
-- order serves it.
CREATE INDEX audits_by_action_id ON audits (action, id);
CREATE INDEX audits_by_state_id ON audits (action_state, id);
CREATE INDEX audits_by_device_id ON audits (managed_device_id_folded, id);
CREATE INDEX audits_by_initiator_id ON audits (initiated_by_upn_folded, id);
