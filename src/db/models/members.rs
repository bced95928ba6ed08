use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::{members, project_admins, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = members)]
pub struct Member {
    pub id: i64,
    pub team_id: i64,
    pub user_id: i64,
    pub role: String,
    pub created_at: PrimitiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = members)]
pub struct NewMember<'a> {
    pub team_id: i64,
    pub user_id: i64,
    pub role: &'a str,
    pub created_at: PrimitiveDateTime,
}

pub fn create(conn: &mut DbConnection, new: &NewMember) -> QueryResult<Member> {
    diesel::insert_into(members::table).values(new).execute(conn)?;
    find(conn, new.team_id, new.user_id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut DbConnection, team_id: i64, user_id: i64) -> QueryResult<Option<Member>> {
    members::table
        .filter(members::team_id.eq(team_id).and(members::user_id.eq(user_id)))
        .select(Member::as_select())
        .get_result(conn)
        .optional()
}

pub fn set_role(conn: &mut DbConnection, id: i64, role: &str) -> QueryResult<usize> {
    diesel::update(members::table.find(id)).set(members::role.eq(role)).execute(conn)
}

pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(members::table.find(id)).execute(conn)
}

/// Locks the membership row for the rest of the transaction (`FOR UPDATE` on PostgreSQL;
/// SQLite's write transaction already holds the database write lock). Returns false when the
/// membership no longer exists. Issuance, refresh and removal all take it (see the lock order
/// in `ops`), so a removal either commits first (and the grant is refused) or waits for the
/// grant to commit (and then revokes it).
///
/// Not a no-op `UPDATE`: on SQLite that would be recorded as a change to the membership and
/// empty every instance's verification cache at each token issued.
pub fn lock(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    let member = members::table.find(id).select(members::id);
    let found = match conn {
        DbConnection::Pg(c) => member.for_update().get_result::<i64>(c).optional()?,
        DbConnection::Sqlite(c) => member.get_result::<i64>(c).optional()?,
    };
    Ok(found.is_some())
}

/// Locks every membership of a user, in id order, as [`lock`] does one: disabling the user
/// then waits for grants being issued under any of them, and revokes those too.
pub fn lock_all_for_user(conn: &mut DbConnection, user_id: i64) -> QueryResult<()> {
    let memberships = members::table.filter(members::user_id.eq(user_id)).order(members::id.asc()).select(members::id);
    if let DbConnection::Pg(c) = conn {
        memberships.for_update().load::<i64>(c)?;
    }
    Ok(())
}

/// Locks a team's admin memberships, in id order, as [`lock`] does one, and counts them: two
/// admins demoting each other at once then take turns, and the second sees the first's change.
pub fn lock_admins(conn: &mut DbConnection, team_id: i64) -> QueryResult<usize> {
    let admins = members::table
        .filter(members::team_id.eq(team_id))
        .filter(members::role.eq("admin"))
        .order(members::id.asc())
        .select(members::id);
    Ok(match conn {
        DbConnection::Pg(c) => admins.for_update().load::<i64>(c)?.len(),
        DbConnection::Sqlite(c) => admins.load::<i64>(c)?.len(),
    })
}

pub fn set_project_admin(
    conn: &mut DbConnection,
    member_id: i64,
    project_id: i64,
    on: bool,
    now: PrimitiveDateTime,
) -> QueryResult<()> {
    let existing = project_admins::table
        .find((member_id, project_id))
        .select(project_admins::member_id)
        .first::<i64>(conn)
        .optional()?;
    match (on, existing.is_some()) {
        (true, false) => {
            diesel::insert_into(project_admins::table)
                .values((
                    project_admins::member_id.eq(member_id),
                    project_admins::project_id.eq(project_id),
                    project_admins::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        (false, true) => {
            diesel::delete(project_admins::table.find((member_id, project_id))).execute(conn)?;
        }
        _ => {}
    }
    Ok(())
}

/// The projects a membership is project admin of.
pub fn project_admin_of(conn: &mut DbConnection, member_id: i64) -> QueryResult<Vec<i64>> {
    project_admins::table.filter(project_admins::member_id.eq(member_id)).select(project_admins::project_id).load(conn)
}

/// One row of a team's member list: the membership and who holds it.
#[derive(Debug, Clone, Queryable)]
pub struct MemberListing {
    pub member: Member,
    pub email: String,
    pub name: String,
}

/// The members of `team_id` by email.
pub fn list_for_team(conn: &mut DbConnection, team_id: i64) -> QueryResult<Vec<MemberListing>> {
    members::table
        .inner_join(users::table)
        .filter(members::team_id.eq(team_id))
        .order(users::email.asc())
        .select((Member::as_select(), users::email, users::name))
        .load(conn)
}

/// Every project-admin grant in `team_id`: (membership, project).
pub fn project_admins_in(conn: &mut DbConnection, team_id: i64) -> QueryResult<Vec<(i64, i64)>> {
    project_admins::table
        .inner_join(members::table)
        .filter(members::team_id.eq(team_id))
        .select((project_admins::member_id, project_admins::project_id))
        .load(conn)
}
