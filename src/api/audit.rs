//! Tenant → IAM → Audit log: who changed what in the tenant, newest first (AUDITLOG:READ).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::TenantScope;

#[cfg(feature = "ssr")]
use {
    super::ctx::ctx,
    crate::clock::rfc3339,
    crate::db::audit::AuditRow,
    crate::iam::audit::{self, Change},
    crate::model::{Action, Resource},
};

/// One change as the log's table shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditItem {
    pub id: String,
    /// RFC 3339.
    pub at: String,
    /// The username of who acted, the integration's name, or "operator (command line)".
    pub actor: String,
    /// `user` (a signed-in person), `operator` (a `roster` command) or `integration` (a SCIM
    /// integration's request).
    pub actor_kind: String,
    /// The acting integration's page, relative to the tenant's IAM pages.
    pub actor_path: Option<String>,
    /// The stored code (`group.member-add`).
    pub action: String,
    /// What people read ("Member added").
    pub label: String,
    /// The name of what was changed, as it was then.
    pub target: String,
    /// The target's page, relative to the tenant's IAM pages, while it may still exist.
    pub target_path: Option<String>,
    pub detail: String,
}

/// A page of the log, with the cursors of the pages beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLog {
    /// What the signed-in user may do here.
    pub scope: TenantScope,
    /// The kind of change the page keeps to, when it does.
    pub area: Option<String>,
    /// The thing whose changes the page keeps to (its id), when it does.
    pub target: Option<String>,
    /// Whose changes the page keeps to (`people` or `scim`), when it does.
    pub by: Option<String>,
    pub events: Vec<AuditItem>,
    /// `before` of the next older page.
    pub older: Option<String>,
    /// `after` of the next newer page.
    pub newer: Option<String>,
    /// When the page holds the changes to one thing: its name in the newest of them.
    pub target_name: Option<String>,
}

/// Where an event's target lives in the IAM pages; none for the tenant, and none once the
/// event itself deleted the target.
#[cfg(feature = "ssr")]
fn target_path(row: &AuditRow) -> Option<String> {
    let id = row.target_id.as_deref()?;
    let (area, verb) = row.action.split_once('.')?;
    let section = match area {
        "user" => "users",
        "group" => "groups",
        "role" | "binding" => "roles",
        "service-account" => "service-accounts",
        "integration" => "scim",
        _ => return None,
    };
    // A deprovisioned user has no page in the tenant any more.
    let deleted_it = (verb == "delete" && area != "binding") || verb == "deprovision";
    (!deleted_it).then(|| format!("{section}/{id}"))
}

#[cfg(feature = "ssr")]
fn audit_item(row: AuditRow) -> AuditItem {
    AuditItem {
        target_path: target_path(&row),
        label: Change::label_of(&row.action).into(),
        id: row.id,
        at: rfc3339(row.at),
        actor: row.actor_name,
        actor_path: (row.actor_kind == "integration")
            .then(|| row.actor_id.as_ref().map(|id| format!("scim/{id}")))
            .flatten(),
        actor_kind: row.actor_kind,
        action: row.action,
        target: row.target_name,
        detail: row.detail,
    }
}

/// A page of the tenant's audit log, newest first: `area` picks one kind of change
/// (`model::AUDIT_AREAS`), `target` the changes to one thing (its id), `by` the changes of people
/// or of SCIM integrations (`model::AUDIT_ACTORS`); `before` / `after` are a page's `older` /
/// `newer`.
#[server(endpoint = "audit/list")]
pub async fn list_audit(
    tenant: String,
    area: Option<String>,
    target: Option<String>,
    by: Option<String>,
    before: Option<String>,
    after: Option<String>,
) -> Result<AuditLog, ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Auditlog, Action::Read)
        .await?;
    let cursors = (before.as_deref(), after.as_deref());
    let filter = audit::Filter { area, target, by };
    let page = audit::page(&ctx.state.db, &gate.tenant.id, &filter, cursors)
        .await
        .map_err(|e| ctx.fail(e))?;
    let target_name = filter
        .target
        .is_some()
        .then(|| page.events.first().map(|e| e.target_name.clone()))
        .flatten();
    let given = |v: Option<String>| v.filter(|v| !v.is_empty());
    Ok(AuditLog {
        scope: gate.scope(),
        area: given(filter.area),
        target: given(filter.target),
        by: given(filter.by),
        target_name,
        events: page.events.into_iter().map(audit_item).collect(),
        older: page.older,
        newer: page.newer,
    })
}
