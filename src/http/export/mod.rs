//! CSV downloads of a tenant's data for an administrator's spreadsheet or a review: the users
//! ([`users`]) and the audit log ([`audit`]). What they share is here: the door (signed in or
//! 401; allowed into the tenant or 404, as for a tenant that does not exist; the page's READ
//! permission or 403), the cells, and the answer written as it is sent, a page at a time, so an
//! export of any size costs the memory of one page.
//!
//! Cells follow RFC 4180 (quoted when they hold a comma, a quote or a line break), and one that a
//! spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first) is
//! written after a `'`, so that a name an IdP or an administrator typed cannot run in the
//! reader's spreadsheet.

pub mod audit;
pub mod users;

use std::future::Future;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream;

use crate::auth::{login, session};
use crate::error::{AppError, AppResult};
use crate::iam::tenants;
use crate::model::{Action, Resource};
use crate::state::AppState;

/// What an export is of: the permission it needs and the words its answers use.
struct Export {
    /// Read on this resource, in the tenant.
    resource: Resource,
    /// In the file's name: `roster-<tenant>-<slug>-<date>.csv`.
    slug: &'static str,
    /// In refusals: "Sign in to export <what>."
    what: &'static str,
}

impl Export {
    /// `None` when the request may have the export; else the refusal to answer.
    async fn refusal(
        &self,
        state: &AppState,
        headers: &HeaderMap,
        tenant_id: &str,
    ) -> Option<Response> {
        let refused = |status: StatusCode, text: String| Some((status, text).into_response());
        let sign_in = || format!("Sign in to export {}.\n", self.what);
        let secure = state.settings.secure_cookies();
        let Some(token) = session::token_from_headers(headers, secure) else {
            return refused(StatusCode::UNAUTHORIZED, sign_in());
        };
        let db = &state.db;
        let user = match login::user_for_token(db, state.clock.as_ref(), &token).await {
            Ok(Some(user)) => user,
            Ok(None) => return refused(StatusCode::UNAUTHORIZED, sign_in()),
            Err(e) => return Some(self.failed(e)),
        };
        let held = match tenants::enter_with_permissions(db, &user, tenant_id).await {
            Ok(Some((_, held))) => held,
            Ok(None) => {
                let text = "There is no such tenant you can enter.\n".to_string();
                return refused(StatusCode::NOT_FOUND, text);
            }
            Err(e) => return Some(self.failed(e)),
        };
        if held.allows(self.resource, Action::Read) {
            return None;
        }
        let text = format!(
            "Exporting {} needs the {}:READ permission in this tenant.\n",
            self.what,
            self.resource.as_str()
        );
        refused(StatusCode::FORBIDDEN, text)
    }

    /// The export could not begin: the database did not answer.
    fn failed(&self, e: AppError) -> Response {
        tracing::warn!(error = %e, export = self.slug, "an export could not begin");
        let text = format!(
            "Roster could not read {} right now. Try again in a moment.\n",
            self.what
        );
        (StatusCode::SERVICE_UNAVAILABLE, text).into_response()
    }

    /// The download: `fetch(None)` answers the first page's text (with the header line) and the
    /// key of the next, `fetch(Some(key))` the page after `key`; pages are asked for as the
    /// client reads, until one answers no next key.
    fn download<K, F, Fut>(&self, state: &AppState, tenant_id: &str, fetch: F) -> Response
    where
        K: Send + 'static,
        F: FnMut(Option<K>) -> Fut + Send + 'static,
        Fut: Future<Output = AppResult<(String, Option<K>)>> + Send + 'static,
    {
        let day = crate::clock::rfc3339(state.clock.now_millis());
        let filename = format!("roster-{tenant_id}-{}-{}.csv", self.slug, &day[..10]);
        let slug = self.slug;
        // The state: `None` once done, `Some(None)` for the first page, `Some(Some(key))` after.
        let pages = stream::unfold((Some(None), fetch), move |(next, mut fetch)| {
            let page = next.map(&mut fetch);
            async move {
                match page?.await {
                    Ok((text, next)) => Some((Ok(Bytes::from(text)), (next.map(Some), fetch))),
                    // The answer has begun: the connection is cut, so the file is seen unfinished.
                    Err(e) => {
                        tracing::warn!(error = %e, export = slug, "an export failed partway");
                        Some((Err(std::io::Error::other("export failed")), (None, fetch)))
                    }
                }
            }
        });
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            Body::from_stream(pages),
        )
            .into_response()
    }
}

/// One CSV record: the cells, comma-separated, and CRLF.
fn push_row(out: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(out, cell);
    }
    out.push_str("\r\n");
}

/// `cell` as a CSV field: after a `'` when a spreadsheet would read it as a formula, quoted
/// (its quotes doubled) when it holds a comma, a quote or a line break.
fn push_cell(out: &mut String, cell: &str) {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = formula || cell.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in cell.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(text: &str) -> String {
        let mut out = String::new();
        push_cell(&mut out, text);
        out
    }

    #[test]
    fn cells_are_quoted_when_they_must_be_and_formulas_are_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell(""), "");
        assert_eq!(cell("Doe, Jane"), "\"Doe, Jane\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1 555"), "\"'+1 555\"");
        assert_eq!(cell("-2"), "\"'-2\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(cell("a=b"), "a=b");
    }

    #[test]
    fn a_row_is_its_cells_joined_by_commas_and_ended_by_crlf() {
        let mut out = String::new();
        push_row(&mut out, &["a", "b, c", ""]);
        assert_eq!(out, "a,\"b, c\",\r\n");
    }
}
