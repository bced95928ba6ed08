use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::{members, teams};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = teams)]
pub struct Team {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: PrimitiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = teams)]
pub struct NewTeam<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub created_at: PrimitiveDateTime,
}

pub fn create(conn: &mut DbConnection, new: &NewTeam) -> QueryResult<Team> {
    diesel::insert_into(teams::table).values(new).execute(conn)?;
    find_by_slug(conn, new.slug)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_by_slug(conn: &mut DbConnection, slug: &str) -> QueryResult<Option<Team>> {
    teams::table.filter(teams::slug.eq(slug)).select(Team::as_select()).get_result(conn).optional()
}

pub fn find_by_id(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Team>> {
    teams::table.find(id).select(Team::as_select()).get_result(conn).optional()
}

pub fn update(conn: &mut DbConnection, id: i64, slug: &str, name: &str) -> QueryResult<usize> {
    diesel::update(teams::table.find(id)).set((teams::slug.eq(slug), teams::name.eq(name))).execute(conn)
}

/// The teams `user_id` belongs to, with their role in each, by slug.
pub fn list_for_user(conn: &mut DbConnection, user_id: i64) -> QueryResult<Vec<(Team, String)>> {
    teams::table
        .inner_join(members::table)
        .filter(members::user_id.eq(user_id))
        .order(teams::slug.asc())
        .select((Team::as_select(), members::role))
        .load(conn)
}
