//! `GET /t/{tenant}/iam/users.csv`: a tenant's users, with where their access comes from, their
//! groups and their roles, [`directory::EXPORT_PAGE`] at a time in username order (USERS:READ).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{push_row, Export};
use crate::iam::directory::{self, ExportedUser};
use crate::model::Resource;
use crate::state::AppState;

/// The columns. `roles` is the last (it was added after `groups`): a reader of the earlier
/// columns by position reads them as before.
const HEADER: &str = "id,username,display_name,email,active,access,groups,roles\r\n";

const USERS: Export = Export {
    resource: Resource::Users,
    slug: "users",
    what: "users",
};

/// The handler: see the module's description.
pub async fn users_csv(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = USERS.refusal(&state, &headers, &tenant_id).await {
        return refused;
    }
    let (db, tenant) = (state.db.clone(), tenant_id.clone());
    USERS.download(&state, &tenant_id, move |after: Option<String>| {
        let (db, tenant) = (db.clone(), tenant.clone());
        async move {
            let first = after.is_none();
            let (rows, next) = directory::users_after(&db, &tenant, after).await?;
            Ok((page_text(first, &rows), next))
        }
    })
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
            &user.roles.join("; "),
        ];
        push_row(&mut out, &cells);
    }
    out
}
