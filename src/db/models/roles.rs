use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::{custom_roles, member_custom_roles};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = custom_roles)]
pub struct CustomRoleRow {
    pub id: i64,
    pub team_id: i64,
    pub name: String,
    pub statements: String,
    pub created_at: PrimitiveDateTime,
}

/// The custom roles held by a membership, by name.
pub fn for_member(conn: &mut DbConnection, member_id: i64) -> QueryResult<Vec<CustomRoleRow>> {
    custom_roles::table
        .inner_join(member_custom_roles::table)
        .filter(member_custom_roles::member_id.eq(member_id))
        .order(custom_roles::name.asc())
        .select(CustomRoleRow::as_select())
        .load(conn)
}

/// Takes every custom role away from a membership.
pub fn clear_for_member(conn: &mut DbConnection, member_id: i64) -> QueryResult<usize> {
    diesel::delete(member_custom_roles::table.filter(member_custom_roles::member_id.eq(member_id))).execute(conn)
}
