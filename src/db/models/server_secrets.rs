use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::server_secrets;

/// The secret named `name`, storing `candidate` first if there is none yet. Whoever inserts
/// first wins (`ON CONFLICT DO NOTHING`, then read back), so processes starting together on a
/// new database all end up with the same secret.
pub fn get_or_insert(
    conn: &mut DbConnection,
    name: &str,
    candidate: &str,
    now: PrimitiveDateTime,
) -> QueryResult<String> {
    let row = (server_secrets::name.eq(name), server_secrets::secret.eq(candidate), server_secrets::created_at.eq(now));
    natively!(conn, |c| diesel::insert_into(server_secrets::table).values(row).on_conflict_do_nothing().execute(c))?;
    server_secrets::table.find(name).select(server_secrets::secret).get_result(conn)
}
