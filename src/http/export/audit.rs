//! `GET /t/{tenant}/iam/audit.csv[?area=…][&target=…][&by=…]`: the tenant's audit log, newest first,
//! every event the page's filter keeps (AUDITLOG:READ); for a review kept outside Roster.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{push_row, Export};
use crate::clock::rfc3339;
use crate::db::audit::{AuditRow, Place};
use crate::iam::audit::{self, Change};
use crate::model::Resource;
use crate::state::AppState;

const HEADER: &str = "time,actor,actor_type,change,action,target,target_id,detail\r\n";

const AUDIT: Export = Export {
    resource: Resource::Auditlog,
    slug: "audit-log",
    what: "the audit log",
};

#[derive(Debug, Deserialize)]
pub struct AuditCsvQuery {
    area: Option<String>,
    target: Option<String>,
    by: Option<String>,
}

/// The handler: see the module's description.
pub async fn audit_csv(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    Query(query): Query<AuditCsvQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = AUDIT.refusal(&state, &headers, &tenant_id).await {
        return refused;
    }
    let filter = audit::Filter {
        area: query.area,
        target: query.target,
        by: query.by,
    };
    if let Err(e) = filter.checked() {
        return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response();
    }
    let (db, tenant) = (state.db.clone(), tenant_id.clone());
    AUDIT.download(&state, &tenant_id, move |before: Option<Place>| {
        let (db, tenant, filter) = (db.clone(), tenant.clone(), filter.clone());
        async move {
            let first = before.is_none();
            let (rows, next) = audit::export_page(&db, &tenant, &filter, before).await?;
            Ok((page_text(first, &rows), next))
        }
    })
}

/// One page's rows (after the header line on the first page).
fn page_text(first: bool, rows: &[AuditRow]) -> String {
    let mut out = String::with_capacity(rows.len() * 200 + HEADER.len());
    if first {
        out.push_str(HEADER);
    }
    for e in rows {
        let at = rfc3339(e.at);
        let cells = [
            at.as_str(),
            e.actor_name.as_str(),
            e.actor_kind.as_str(),
            Change::label_of(&e.action),
            e.action.as_str(),
            e.target_name.as_str(),
            e.target_id.as_deref().unwrap_or_default(),
            e.detail.as_str(),
        ];
        push_row(&mut out, &cells);
    }
    out
}
