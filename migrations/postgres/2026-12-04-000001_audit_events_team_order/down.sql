DROP INDEX audit_events_team_id_id;
