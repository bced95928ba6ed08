use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::signing_keys;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub id: i64,
    pub kid: String,
    pub algorithm: String,
    pub private_key: String,
    pub public_key: String,
    pub created_at: PrimitiveDateTime,
    pub retired_at: Option<PrimitiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = signing_keys)]
pub struct NewSigningKey<'a> {
    pub kid: &'a str,
    pub algorithm: &'a str,
    pub private_key: &'a str,
    pub public_key: &'a str,
    pub created_at: PrimitiveDateTime,
}

pub fn create(conn: &mut DbConnection, new: &NewSigningKey) -> QueryResult<SigningKeyRow> {
    diesel::insert_into(signing_keys::table).values(new).execute(conn)?;
    signing_keys::table.filter(signing_keys::kid.eq(new.kid)).select(SigningKeyRow::as_select()).get_result(conn)
}

/// The newest key that is not retired: the one new admin keys are signed with.
pub fn current(conn: &mut DbConnection) -> QueryResult<Option<SigningKeyRow>> {
    signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .order(signing_keys::id.desc())
        .select(SigningKeyRow::as_select())
        .get_result(conn)
        .optional()
}

/// Every key whose signatures may still be out there (all of them: admin keys never expire).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<SigningKeyRow>> {
    signing_keys::table.order(signing_keys::id.asc()).select(SigningKeyRow::as_select()).load(conn)
}
