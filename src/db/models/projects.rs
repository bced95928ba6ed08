use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::DbConnection;
use crate::db::schema::projects;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = projects)]
pub struct Project {
    pub id: i64,
    pub team_id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: PrimitiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = projects)]
pub struct NewProject<'a> {
    pub team_id: i64,
    pub slug: &'a str,
    pub name: &'a str,
    pub created_at: PrimitiveDateTime,
}

pub fn create(conn: &mut DbConnection, new: &NewProject) -> QueryResult<Project> {
    diesel::insert_into(projects::table).values(new).execute(conn)?;
    find(conn, new.team_id, new.slug)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut DbConnection, team_id: i64, slug: &str) -> QueryResult<Option<Project>> {
    projects::table
        .filter(projects::team_id.eq(team_id).and(projects::slug.eq(slug)))
        .select(Project::as_select())
        .get_result(conn)
        .optional()
}

/// Holds the project against deletion until the transaction ends (`FOR KEY SHARE` on
/// PostgreSQL, which renames do not wait for; SQLite's write transaction needs nothing).
pub fn lock_against_deletion(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    if let DbConnection::Pg(c) = conn {
        projects::table.find(id).select(projects::id).for_key_share().get_result::<i64>(c).optional()?;
    }
    Ok(())
}

pub fn find_by_id(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Project>> {
    projects::table.find(id).select(Project::as_select()).get_result(conn).optional()
}

pub fn list_for_team(conn: &mut DbConnection, team_id: i64) -> QueryResult<Vec<Project>> {
    projects::table
        .filter(projects::team_id.eq(team_id))
        .order(projects::slug.asc())
        .select(Project::as_select())
        .load(conn)
}

pub fn update(conn: &mut DbConnection, id: i64, slug: &str, name: &str) -> QueryResult<usize> {
    diesel::update(projects::table.find(id)).set((projects::slug.eq(slug), projects::name.eq(name))).execute(conn)
}

/// Deletes the project; its deployments, grants, codes and deploy keys go with it (cascade).
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(projects::table.find(id)).execute(conn)
}
