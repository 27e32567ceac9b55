//! `GET /t/{tenant}/iam/users.csv`: a tenant's users as a CSV file, with where their access
//! comes from and their groups, for an administrator's spreadsheet or an access review. The same door as the Users page: signed in (401), allowed into the
//! tenant (404, as for a tenant that does not exist), `USERS:READ` there (403).
//!
//! The file is written as it is sent, [`directory::EXPORT_PAGE`] users at a time in username order, so a
//! tenant of any size costs the memory of one page. Cells follow RFC 4180 (quoted when they
//! hold a comma, a quote or a line break), and one that a spreadsheet would read as a formula
//! (`=`, `+`, `-`, `@`, a tab or a carriage return first) is written after a `'`, so that a
//! display name an IdP sent cannot run in the administrator's spreadsheet.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream;

use crate::auth::{login, session};
use crate::iam::directory::{self, ExportedUser};
use crate::iam::tenants;
use crate::model::{Action, Resource};
use crate::state::AppState;

const HEADER: &str = "id,username,display_name,email,active,access,groups\r\n";

/// The handler: see the module's description.
pub async fn users_csv(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let refused = |status: StatusCode, text: &'static str| (status, text).into_response();
    let secure = state.settings.secure_cookies();
    let Some(token) = session::token_from_headers(&headers, secure) else {
        return refused(StatusCode::UNAUTHORIZED, "Sign in to export users.\n");
    };
    let db = &state.db;
    let user = match login::user_for_token(db, state.clock.as_ref(), &token).await {
        Ok(Some(user)) => user,
        Ok(None) => return refused(StatusCode::UNAUTHORIZED, "Sign in to export users.\n"),
        Err(e) => return failed(e),
    };
    let held = match tenants::enter_with_permissions(db, &user, &tenant_id).await {
        Ok(Some((_, held))) => held,
        Ok(None) => {
            return refused(
                StatusCode::NOT_FOUND,
                "There is no such tenant you can enter.\n",
            )
        }
        Err(e) => return failed(e),
    };
    if !held.allows(Resource::Users, Action::Read) {
        return refused(
            StatusCode::FORBIDDEN,
            "Exporting users needs the USERS:READ permission in this tenant.\n",
        );
    }
    let day = crate::clock::rfc3339(state.clock.now_millis());
    let filename = format!("roster-{tenant_id}-users-{}.csv", &day[..10]);
    let pages = stream::unfold(Some(Page::First), move |next| {
        let (db, tenant_id) = (state.db.clone(), tenant_id.clone());
        async move {
            let after = match next? {
                Page::First => None,
                Page::After(key) => Some(key),
            };
            let first = after.is_none();
            match directory::users_after(&db, &tenant_id, after).await {
                Ok((rows, next)) => {
                    let text = page_text(first, &rows);
                    Some((Ok(Bytes::from(text)), next.map(Page::After)))
                }
                // The answer has begun: the connection is cut, so the file is seen unfinished.
                Err(e) => {
                    tracing::warn!(error = %e, "a users export failed partway");
                    Some((Err(std::io::Error::other("export failed")), None))
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

enum Page {
    First,
    After(String),
}

fn failed(e: crate::error::AppError) -> Response {
    tracing::warn!(error = %e, "a users export could not begin");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "Roster could not read the users right now. Try again in a moment.\n",
    )
        .into_response()
}

/// One page's rows (after the header line on the first page).
fn page_text(first: bool, rows: &[ExportedUser]) -> String {
    let mut out = String::with_capacity(rows.len() * 160 + HEADER.len());
    if first {
        out.push_str(HEADER);
    }
    for user in rows {
        let (entry, row) = (&user.entry, &user.entry.row);
        let access: Vec<String> = entry
            .sources
            .iter()
            .map(|s| match (&s.integration, s.source.as_str()) {
                (_, "manual") => "manual".to_string(),
                (Some(name), _) => format!("SCIM {name}"),
                (None, _) => "SCIM (deleted integration)".to_string(),
            })
            .collect();
        let active = row.user_active && row.access_active;
        let cells = [
            row.id.as_str(),
            row.username.as_str(),
            row.display_name.as_deref().unwrap_or_default(),
            row.email.as_deref().unwrap_or_default(),
            if active { "true" } else { "false" },
            &access.join("; "),
            &user.groups.join("; "),
        ];
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_cell(&mut out, cell);
        }
        out.push_str("\r\n");
    }
    out
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
}
