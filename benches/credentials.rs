//! Micro-benchmarks of the pure functions on the verification hot path (no I/O):
//! classifying and hashing a presented credential, checking a client secret against its stored
//! digest, and one authorization decision. Run with `cargo bench --bench credentials`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::authz::{Action, DeploymentRef, MemberGrant, ProjectRef, Resource, Subject, TokenScope, decide};
use portcullis::domain::{DeploymentType, MemberRole};
use portcullis::tokens::{Credential, SecretHash};

/// A project token as issued: `project:<team>:<project>|<43 chars of base64url>`.
const PROJECT_TOKEN: &str = "project:acme:web|kwjprVOk2Bnz2bsQN0Y4_TEhiac7Kq70_83RwtryHlU";
/// A backend client secret (same format as every generated secret).
const CLIENT_SECRET: &str = "E3BkBXvPWQ6yHeDpAUqNMBWbjPx5BOhnvIAIzE93N7M";

fn credentials(c: &mut Criterion) {
    c.bench_function("credential/parse project token", |b| {
        b.iter(|| Credential::parse(black_box(PROJECT_TOKEN)).expect("a project token"))
    });
    c.bench_function("credential/parse+hash project token", |b| {
        b.iter(|| Credential::parse(black_box(PROJECT_TOKEN)).expect("a project token").hash())
    });

    let stored = SecretHash::of(CLIENT_SECRET).into_string();
    c.bench_function("secret/matches_stored (match)", |b| {
        b.iter(|| assert!(SecretHash::matches_stored(black_box(&stored), black_box(CLIENT_SECRET))))
    });
}

fn decisions(c: &mut Criterion) {
    const TEAM: i64 = 1;
    let developer = Subject::AppToken(MemberGrant {
        team_id: TEAM,
        role: MemberRole::Developer,
        custom_roles: vec![],
        project_admin_of: vec![],
        scope: TokenScope::Project(10),
    });
    let prod = Resource::Deployment {
        team_id: TEAM,
        project: ProjectRef { id: 10, slug: "web".into() },
        deployment: DeploymentRef { id: 100, name: "happy-otter-123".into(), deployment_type: DeploymentType::Prod },
    };
    assert!(decide(&developer, Action::DeploymentView, &prod, None).allowed);
    assert!(!decide(&developer, Action::DeploymentDeploy, &prod, None).allowed);

    c.bench_function("authz/decide developer prod deployment:view (allow)", |b| {
        b.iter(|| decide(black_box(&developer), black_box(Action::DeploymentView), black_box(&prod), None))
    });
    c.bench_function("authz/decide developer prod deployment:deploy (deny)", |b| {
        b.iter(|| decide(black_box(&developer), black_box(Action::DeploymentDeploy), black_box(&prod), None))
    });
}

criterion_group!(benches, credentials, decisions);
criterion_main!(benches);
