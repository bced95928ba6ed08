//! Cursor pagination for the lists of `/v1` and the pages: items in a stable order (by a
//! numeric key that never changes, ascending unless a list says otherwise), a page of at
//! most `limit` of them after the cursor, and the cursor that continues it. Cursors are
//! opaque to callers (base64url of the last key seen), so the key may change shape later.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Invalid;

/// What a caller asks for: at most `limit` items after the item whose key is `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub after: Option<i64>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: usize = 50;
    pub const MAX_LIMIT: usize = 100;

    /// From the `limit` and `cursor` a caller sent: `limit` 1–100 (default 50); a cursor
    /// this server handed out.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, Invalid> {
        let limit = match limit {
            None => Self::DEFAULT_LIMIT,
            Some(n) if (1..=Self::MAX_LIMIT as i64).contains(&n) => n as usize,
            Some(_) => return Err(Invalid(format!("limit must be 1 to {}", Self::MAX_LIMIT))),
        };
        let after = cursor.map(decode).transpose()?;
        Ok(PageRequest { limit, after })
    }

    /// The first page, of the default size.
    pub fn first() -> PageRequest {
        PageRequest { limit: Self::DEFAULT_LIMIT, after: None }
    }

    /// How many rows to fetch: one more than a page, to know whether another follows.
    pub fn fetch(&self) -> i64 {
        self.limit as i64 + 1
    }
}

fn decode(cursor: &str) -> Result<i64, Invalid> {
    let invalid = || Invalid("the cursor is not one this server handed out".into());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    std::str::from_utf8(&bytes).ok().and_then(|s| s.parse().ok()).ok_or_else(invalid)
}

fn encode(key: i64) -> String {
    URL_SAFE_NO_PAD.encode(key.to_string())
}

/// One page of a list: `{"items": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page from rows fetched in key order after `request.after`, at most
    /// [`PageRequest::fetch`] of them (the database did the ordering and the limit).
    pub fn from_fetched(mut rows: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> i64) -> Page<T> {
        let next_cursor = (rows.len() > request.limit).then(|| {
            rows.truncate(request.limit);
            encode(rows.last().map(&key).unwrap_or_default())
        });
        Page { items: rows, next_cursor }
    }

    /// A page of a whole list held in memory (lists bounded by a team's size: members,
    /// projects, apps, roles), ordered by `key` ascending.
    pub fn of(mut all: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> i64) -> Page<T> {
        all.sort_by_key(&key);
        let rows: Vec<T> = all
            .into_iter()
            .filter(|row| request.after.is_none_or(|after| key(row) > after))
            .take(request.limit + 1)
            .collect();
        Self::from_fetched(rows, request, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_walk_a_list_without_gaps_or_repeats() {
        let all: Vec<i64> = (1..=7).rev().collect();
        let mut request = PageRequest::parse(Some(3), None).unwrap();
        let mut seen = Vec::new();
        loop {
            let page = Page::of(all.clone(), &request, |n| *n);
            assert!(page.items.len() <= 3);
            seen.extend(page.items);
            match page.next_cursor {
                Some(cursor) => request = PageRequest::parse(Some(3), Some(&cursor)).unwrap(),
                None => break,
            }
        }
        assert_eq!(seen, (1..=7).collect::<Vec<_>>());
    }

    #[test]
    fn an_exact_last_page_has_no_next_cursor() {
        let page = Page::of(vec![1, 2], &PageRequest::parse(Some(2), None).unwrap(), |n| *n);
        assert_eq!((page.items, page.next_cursor), (vec![1, 2], None));
    }

    #[test]
    fn bad_limits_and_forged_cursors_are_refused() {
        for limit in [0, -1, 101] {
            assert!(PageRequest::parse(Some(limit), None).is_err(), "{limit}");
        }
        for cursor in ["", "!!", "bm90LWEtbnVtYmVy"] {
            assert!(PageRequest::parse(None, Some(cursor)).is_err(), "{cursor:?}");
        }
        assert_eq!(PageRequest::parse(None, None).unwrap(), PageRequest::first());
    }
}
