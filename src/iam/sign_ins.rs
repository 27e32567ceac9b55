//! Instance → Sign-ins: every account's recorded sign-ins and failed password checks, newest
//! first, for the superadmins who answer for the instance: a password being guessed, an account
//! signed in to from somewhere unexpected. Each person sees their own under Your account
//! (`iam::account`); this is everyone's, so superadmins alone may read it.

use crate::clock::{Clock, Millis};
use crate::db::{
    self,
    sign_ins::{Recent, Recorded, Seek},
    users::UserRow,
    Db,
};
use crate::error::{AppError, AppResult};

/// Sign-ins on a page.
pub const PAGE_SIZE: i64 = 50;

/// What "lately" means in the page's summary of failures.
pub const FAILURES_WINDOW: Millis = 24 * 60 * 60 * 1000;

/// What the page keeps to, and where it starts: `before` / `after` are a page's `older` /
/// `newer` (a sign-in's id).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub failed_only: bool,
    pub user_id: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A page of sign-ins, newest first.
#[derive(Debug)]
pub struct Page {
    pub sign_ins: Vec<Recorded>,
    /// `before` of the next older page, when there is one.
    pub older: Option<String>,
    /// `after` of the next newer page, when there is one.
    pub newer: Option<String>,
    /// The account the page keeps to (`Query::user_id`), when it does.
    pub user: Option<UserRow>,
    /// Failed password checks across the instance in the last [`FAILURES_WINDOW`].
    pub failed_lately: i64,
}

/// The page `query` asks for, if `actor` is a superadmin.
pub async fn page(db: &Db, clock: &dyn Clock, actor: &UserRow, query: &Query) -> AppResult<Page> {
    if !actor.is_superadmin {
        return Err(AppError::Forbidden(
            "Only superadmins see the instance's sign-ins.".into(),
        ));
    }
    let from = seek(query)?;
    let mut conn = db.acquire().await?;
    let user = match &query.user_id {
        None => None,
        Some(id) => Some(db::users::find_by_id(&mut conn, id).await?.ok_or_else(|| {
            AppError::NotFound(format!(
                "There is no account with id `{id}`: it may have been deleted."
            ))
        })?),
    };
    let filter = |from: Seek, limit: i64| Recent {
        failed_only: query.failed_only,
        user_id: query.user_id.clone(),
        from,
        limit,
    };
    let mut rows = db::sign_ins::recent(&mut conn, &filter(from.clone(), PAGE_SIZE + 1)).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    if matches!(from, Seek::NewerThan(_)) {
        rows.reverse();
    }
    // The far side of the walk is known from the page read; the near side (where the walk came
    // from) by looking for one sign-in past the page's edge: the one the cursor named may have
    // been trimmed since.
    let (first, last) = (
        rows.first().map(|r| r.id.clone()),
        rows.last().map(|r| r.id.clone()),
    );
    let (older, newer) = match from {
        Seek::Newest => (more.then_some(last).flatten(), None),
        Seek::OlderThan(_) => {
            let probe = first.map(|id| filter(Seek::NewerThan(id), 1));
            (
                more.then_some(last).flatten(),
                beyond(&mut conn, probe).await?,
            )
        }
        Seek::NewerThan(_) => {
            let probe = last.map(|id| filter(Seek::OlderThan(id), 1));
            (
                beyond(&mut conn, probe).await?,
                more.then_some(first).flatten(),
            )
        }
    };
    let since = clock.now_millis() - FAILURES_WINDOW;
    let failed_lately = db::sign_ins::failed_since(&mut conn, since).await?;
    Ok(Page {
        sign_ins: rows,
        older,
        newer,
        user,
        failed_lately,
    })
}

/// The cursor of the page beyond a page's edge, when `probe` (one sign-in past the edge) finds
/// one there.
async fn beyond(conn: &mut db::Conn, probe: Option<Recent>) -> AppResult<Option<String>> {
    let Some(probe) = probe else {
        return Ok(None);
    };
    let found = !db::sign_ins::recent(conn, &probe).await?.is_empty();
    Ok(match probe.from {
        Seek::OlderThan(id) | Seek::NewerThan(id) if found => Some(id),
        _ => None,
    })
}

/// Where `query` starts; a cursor that is not a sign-in's id is refused with what to do.
fn seek(query: &Query) -> AppResult<Seek> {
    let id = |field: &'static str, v: &str| -> AppResult<String> {
        uuid::Uuid::parse_str(v)
            .map(|u| u.to_string())
            .map_err(|_| {
                AppError::invalid(
                    field,
                    format!("`{field}` must be a sign-in's id, as the page's links give it."),
                )
            })
    };
    let given = |v: &Option<String>| v.as_deref().filter(|v| !v.is_empty()).map(str::to_owned);
    match (given(&query.before), given(&query.after)) {
        (Some(_), Some(_)) => Err(AppError::invalid(
            "before",
            "Give `before` or `after`, not both.",
        )),
        (Some(b), None) => Ok(Seek::OlderThan(id("before", &b)?)),
        (None, Some(a)) => Ok(Seek::NewerThan(id("after", &a)?)),
        (None, None) => Ok(Seek::Newest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_a_sign_ins_id_and_one_direction_at_a_time() {
        let id = "0193a2c4-7d1e-7000-8000-000000000001".to_string();
        let q = |before: Option<&str>, after: Option<&str>| Query {
            before: before.map(Into::into),
            after: after.map(Into::into),
            ..Query::default()
        };
        assert_eq!(seek(&q(None, None)).unwrap(), Seek::Newest);
        assert_eq!(seek(&q(Some(""), Some(""))).unwrap(), Seek::Newest);
        assert_eq!(
            seek(&q(Some(&id), None)).unwrap(),
            Seek::OlderThan(id.clone())
        );
        assert_eq!(
            seek(&q(None, Some(&id))).unwrap(),
            Seek::NewerThan(id.clone())
        );
        for (bad, field) in [
            (q(Some("1' OR '1'='1"), None), "before"),
            (q(None, Some("zzz")), "after"),
            (q(Some(&id), Some(&id)), "before"),
        ] {
            match seek(&bad) {
                Err(AppError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
