use serde::Serialize;
use serde_json::json;

use super::OpResult;
use super::audit::{self, Actor, Event};
use crate::db::models::backends::{self, NewBackendCredential};
use crate::db::{DbConnection, now};
use crate::domain::DisplayName;
use crate::tokens::secret::generate_hex_id;
use crate::tokens::{SecretHash, generate_secret};

#[derive(Debug, Serialize)]
pub struct CreatedBackendOut {
    pub id: i64,
    pub name: String,
    pub client_id: String,
    /// Shown once; only its hash is stored.
    pub client_secret: String,
}

/// Creates a backend credential for a platform service (introspection and `/v1/check`).
pub fn create(conn: &mut DbConnection, actor: &Actor, name: &DisplayName) -> OpResult<CreatedBackendOut> {
    let client_id = format!("backend-{}", generate_hex_id::<12>());
    let secret = generate_secret();
    conn.write_transaction(|conn| {
        let backend = backends::create(
            conn,
            &NewBackendCredential {
                client_id: &client_id,
                name: name.as_str(),
                secret_hash: SecretHash::of(&secret).as_str(),
                created_at: now(),
            },
        )?;
        audit::record(
            conn,
            actor,
            Event {
                action: "backend.create",
                target_type: "backend_credential",
                target_id: backend.client_id.clone(),
                team_id: None,
                details: json!({ "name": backend.name }),
            },
        )?;
        Ok(CreatedBackendOut {
            id: backend.id,
            name: backend.name,
            client_id: backend.client_id,
            client_secret: secret.clone(),
        })
    })
}
