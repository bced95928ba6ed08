use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::{custom_roles, deploy_keys, member_custom_roles, members, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = custom_roles)]
pub struct CustomRoleRow {
    pub id: i64,
    pub team_id: i64,
    pub name: String,
    pub statements: String,
    pub created_at: PrimitiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = custom_roles)]
pub struct NewCustomRole<'a> {
    pub team_id: i64,
    pub name: &'a str,
    pub statements: &'a str,
    pub created_at: PrimitiveDateTime,
}

pub fn create(conn: &mut DbConnection, new: &NewCustomRole) -> QueryResult<CustomRoleRow> {
    diesel::insert_into(custom_roles::table).values(new).execute(conn)?;
    find(conn, new.team_id, new.name)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut DbConnection, team_id: i64, name: &str) -> QueryResult<Option<CustomRoleRow>> {
    custom_roles::table
        .filter(custom_roles::team_id.eq(team_id).and(custom_roles::name.eq(name)))
        .select(CustomRoleRow::as_select())
        .get_result(conn)
        .optional()
}

/// A team's roles, by name.
pub fn list_for_team(conn: &mut DbConnection, team_id: i64) -> QueryResult<Vec<CustomRoleRow>> {
    custom_roles::table
        .filter(custom_roles::team_id.eq(team_id))
        .order(custom_roles::name.asc())
        .select(CustomRoleRow::as_select())
        .load(conn)
}

pub fn set_statements(conn: &mut DbConnection, id: i64, statements: &str) -> QueryResult<usize> {
    diesel::update(custom_roles::table.find(id)).set(custom_roles::statements.eq(statements)).execute(conn)
}

/// Deletes a role; its memberships go with it (cascade). Keys must have been detached first.
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(custom_roles::table.find(id)).execute(conn)
}

/// The emails of the members holding a role, sorted.
pub fn holders(conn: &mut DbConnection, role_id: i64) -> QueryResult<Vec<String>> {
    member_custom_roles::table
        .inner_join(members::table.inner_join(users::table))
        .filter(member_custom_roles::role_id.eq(role_id))
        .order(users::email.asc())
        .select(users::email)
        .load(conn)
}

/// The ids of the deploy keys (revoked ones included) that carry a role.
pub fn keys_using(conn: &mut DbConnection, role_id: i64) -> QueryResult<Vec<i64>> {
    deploy_keys::table
        .filter(deploy_keys::custom_role_id.eq(role_id))
        .order(deploy_keys::id.asc())
        .select(deploy_keys::id)
        .load(conn)
}

/// Takes a role off every deploy key that carries it.
pub fn detach_from_keys(conn: &mut DbConnection, role_id: i64) -> QueryResult<usize> {
    diesel::update(deploy_keys::table.filter(deploy_keys::custom_role_id.eq(role_id)))
        .set(deploy_keys::custom_role_id.eq(None::<i64>))
        .execute(conn)
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

/// Gives a membership these roles (after [`clear_for_member`]). One row at a time: diesel's
/// multi-backend connection has no batch insert.
pub fn grant_to_member(conn: &mut DbConnection, member_id: i64, role_ids: &[i64]) -> QueryResult<()> {
    for role_id in role_ids {
        diesel::insert_into(member_custom_roles::table)
            .values((member_custom_roles::member_id.eq(member_id), member_custom_roles::role_id.eq(*role_id)))
            .execute(conn)?;
    }
    Ok(())
}

/// Every custom role held in `team_id`: (membership, role name).
pub fn held_in(conn: &mut DbConnection, team_id: i64) -> QueryResult<Vec<(i64, String)>> {
    custom_roles::table
        .inner_join(member_custom_roles::table)
        .filter(custom_roles::team_id.eq(team_id))
        .order(custom_roles::name.asc())
        .select((member_custom_roles::member_id, custom_roles::name))
        .load(conn)
}
