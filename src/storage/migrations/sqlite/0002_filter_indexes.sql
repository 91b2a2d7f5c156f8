-- Equality filters on the enum and id-like columns, served in the default
-- order (by id) straight from an index, without sorting the matches. The
-- (column, request_ticks, id) indexes of 0001 serve the same filters
-- ordered by time.
CREATE INDEX audits_by_action_id ON audits (action, id);
CREATE INDEX audits_by_state_id ON audits (action_state, id);
CREATE INDEX audits_by_device_id ON audits (managed_device_id_folded, id);
CREATE INDEX audits_by_initiator_id ON audits (initiated_by_upn_folded, id);
