//! Graceful shutdown: SIGTERM ends the process cleanly, after writing pending bookkeeping.

use crate::world::{Grant, World};

#[test]
fn sigterm_stops_the_server_cleanly_and_keeps_the_last_used_times() {
    let mut world = World::new();
    let (email, team, project) = world.owner_with_project();
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&email, &app, Grant::Project { team: &team, project: &project });
    assert!(world.is_active(&backend, &token));
    assert!(world.server.terminate(), "exit status 0 after SIGTERM");

    let (mut conn, _) = portcullis::db::pool::connect_and_migrate(&world.db.url.parse().unwrap()).unwrap();
    let user = portcullis::db::models::users::find_by_email(&mut conn, &email).unwrap().unwrap();
    let grants =
        portcullis::db::models::grants::list(&mut conn, portcullis::db::models::grants::ListFor::User(user.id))
            .unwrap();
    assert_eq!(grants.len(), 1);
    assert!(grants[0].last_used_at.is_some(), "the coalesced last-used write is flushed at shutdown");
}
