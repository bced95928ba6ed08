//! Several `portcullis serve` processes on one database behave as one server (SPEC §5).

use crate::harness::Server;
use crate::world::{Grant, World};

#[test]
fn a_revocation_through_one_instance_is_seen_by_the_other_on_its_next_request() {
    let world = World::new();
    let second = Server::start(&world.db.url, &[]);
    let (email, team, project) = world.owner_with_project();
    let dev = world.user();
    world.member(&team, &dev, "developer");
    let app = world.app(&team);
    let backend = world.backend();
    let token = world.access_token(&dev, &app, Grant::Project { team: &team, project: &project });

    let introspect_on = |server: &Server| -> serde_json::Value {
        crate::harness::http()
            .post(server.url("/oauth/introspect"))
            .basic_auth(&backend.id, Some(&backend.secret))
            .form(&[("token", token.as_str())])
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    assert_eq!(introspect_on(&world.server)["active"], true);
    assert_eq!(introspect_on(&second)["active"], true);
    // Revoke through the first instance (the holding app, RFC 7009)...
    let response = crate::harness::http()
        .post(world.url("/oauth/revoke"))
        .basic_auth(&app.client_id, app.secret.as_deref())
        .form(&[("token", token.as_str())])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    // ...the second sees it on its very next request.
    assert_eq!(introspect_on(&second), serde_json::json!({ "active": false }));

    // Membership changes too: a role change through the CLI shows on both.
    let other = world.access_token(&dev, &app, Grant::Project { team: &team, project: &project });
    world.cli(&["admin", "member", "set-role", "--team", &team, "--email", &dev, "--role", "admin"]);
    let on_second: serde_json::Value = crate::harness::http()
        .post(second.url("/oauth/introspect"))
        .basic_auth(&backend.id, Some(&backend.secret))
        .form(&[("token", other.as_str())])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(on_second["role"], "admin");
    let _ = email;
}
