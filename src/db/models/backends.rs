use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::backend_credentials;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = backend_credentials)]
pub struct BackendCredential {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub secret_hash: String,
    pub created_at: PrimitiveDateTime,
    pub revoked_at: Option<PrimitiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = backend_credentials)]
pub struct NewBackendCredential<'a> {
    pub client_id: &'a str,
    pub name: &'a str,
    pub secret_hash: &'a str,
    pub created_at: PrimitiveDateTime,
}

pub fn create(conn: &mut DbConnection, new: &NewBackendCredential) -> QueryResult<BackendCredential> {
    diesel::insert_into(backend_credentials::table).values(new).execute(conn)?;
    find_by_client_id(conn, new.client_id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_by_client_id(conn: &mut DbConnection, client_id: &str) -> QueryResult<Option<BackendCredential>> {
    backend_credentials::table
        .filter(backend_credentials::client_id.eq(client_id))
        .select(BackendCredential::as_select())
        .get_result(conn)
        .optional()
}
