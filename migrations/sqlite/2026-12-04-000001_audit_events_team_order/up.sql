-- The team's audit log is listed newest first and paged by id (ops::audit::list,
-- db::models::audit::list_for_team): WHERE team_id = ? [AND id < ?] ORDER BY id DESC LIMIT ?.
CREATE INDEX audit_events_team_id_id ON audit_events(team_id, id);
