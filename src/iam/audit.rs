//! The tenant's audit log: who changed what, and when. Every change made to a tenant's IAM — by a
//! signed-in administrator in the UI, the machine's operator with a `roster` command, or a SCIM
//! integration's request — records one event inside the change's own transaction, so a change
//! that rolls back leaves no event and no committed change lacks one. Names are copied at the time: the
//! log still reads right after the actor or the target is renamed or deleted. Reading it needs
//! AUDITLOG:READ in the tenant.

use std::sync::Arc;

use crate::clock::{Clock, Millis};
use crate::db::{
    self,
    audit::{AuditQuery, AuditRow, Pending, PendingEvent, Place, Start},
    users::UserRow,
    Conn, Db,
};
use crate::error::{AppError, AppResult};
use crate::model::AUDIT_AREAS;

/// Who made a change, and when (taken once, when the request began acting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    kind: &'static str,
    id: Option<String>,
    name: String,
    at: Millis,
    above_tenants: bool,
}

impl Author {
    /// A signed-in person (the admin UI).
    pub fn user(user: &UserRow, clock: &dyn Clock) -> Self {
        Author {
            kind: "user",
            id: Some(user.id.clone()),
            name: user.username.clone(),
            at: clock.now_millis(),
            above_tenants: user.is_superadmin,
        }
    }

    /// The machine's operator (a `roster` command).
    pub fn operator(clock: &dyn Clock) -> Self {
        Author {
            kind: "operator",
            id: None,
            name: "operator (command line)".into(),
            at: clock.now_millis(),
            above_tenants: true,
        }
    }

    /// A SCIM integration's request, at `at`.
    fn integration(id: &str, name: &str, at: Millis) -> Self {
        Author {
            kind: "integration",
            id: Some(id.into()),
            name: name.into(),
            at,
            above_tenants: false,
        }
    }

    /// When the change happened.
    pub fn at(&self) -> Millis {
        self.at
    }

    /// A superadmin or the operator: who may manage tenants themselves.
    pub fn is_above_tenants(&self) -> bool {
        self.above_tenants
    }
}

/// Defines [`Change`] and its [`Change::ALL`] from one list, so no change is left out of ALL.
macro_rules! changes {
    ($($change:ident),* $(,)?) => {
        /// What was changed. The code (`area.verb`) is what is stored; the area before the dot
        /// is what the log's filter picks by (`model::AUDIT_AREAS`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Change {
            $($change),*
        }

        impl Change {
            /// Every change.
            pub const ALL: &'static [Change] = &[$(Change::$change),*];
        }
    };
}

changes!(
    TenantCreated,
    TenantRenamed,
    TenantLinkingSet,
    AccessGranted,
    AccessRemoved,
    PasswordSet,
    GroupCreated,
    GroupDeleted,
    MemberAdded,
    MemberRemoved,
    RoleCreated,
    RoleUpdated,
    RoleDeleted,
    RoleBound,
    BindingRemoved,
    AccountCreated,
    AccountDeleted,
    TokenCreated,
    TokenRevoked,
    IntegrationCreated,
    IntegrationEnabled,
    IntegrationDisabled,
    IntegrationDeleted,
    TokenRotated,
    UserProvisioned,
    UserUpdated,
    UserDeprovisioned,
    GroupUpdated,
);

impl Change {
    /// The change a stored code names.
    pub fn from_code(code: &str) -> Option<Change> {
        Change::ALL.iter().copied().find(|c| c.code() == code)
    }

    pub fn code(self) -> &'static str {
        use Change::*;
        match self {
            TenantCreated => "tenant.create",
            TenantRenamed => "tenant.rename",
            TenantLinkingSet => "tenant.link-foreign-users",
            AccessGranted => "user.access-grant",
            AccessRemoved => "user.access-remove",
            PasswordSet => "user.password-set",
            GroupCreated => "group.create",
            GroupDeleted => "group.delete",
            MemberAdded => "group.member-add",
            MemberRemoved => "group.member-remove",
            RoleCreated => "role.create",
            RoleUpdated => "role.update",
            RoleDeleted => "role.delete",
            RoleBound => "binding.create",
            BindingRemoved => "binding.delete",
            AccountCreated => "service-account.create",
            AccountDeleted => "service-account.delete",
            TokenCreated => "service-account.token-create",
            TokenRevoked => "service-account.token-revoke",
            IntegrationCreated => "integration.create",
            IntegrationEnabled => "integration.enable",
            IntegrationDisabled => "integration.disable",
            IntegrationDeleted => "integration.delete",
            TokenRotated => "integration.rotate",
            UserProvisioned => "user.provision",
            UserUpdated => "user.update",
            UserDeprovisioned => "user.deprovision",
            GroupUpdated => "group.update",
        }
    }

    /// The change as the log's table names it.
    pub fn label(self) -> &'static str {
        use Change::*;
        match self {
            TenantCreated => "Tenant created",
            TenantRenamed => "Tenant renamed",
            TenantLinkingSet => "Linking of other tenants' users set",
            AccessGranted => "Access granted",
            AccessRemoved => "Access removed",
            PasswordSet => "Password set",
            GroupCreated => "Group created",
            GroupDeleted => "Group deleted",
            MemberAdded => "Member added",
            MemberRemoved => "Member removed",
            RoleCreated => "Role created",
            RoleUpdated => "Role changed",
            RoleDeleted => "Role deleted",
            RoleBound => "Role bound",
            BindingRemoved => "Binding removed",
            AccountCreated => "Service account created",
            AccountDeleted => "Service account deleted",
            TokenCreated => "Token created",
            TokenRevoked => "Token revoked",
            IntegrationCreated => "Integration created",
            IntegrationEnabled => "Integration enabled",
            IntegrationDisabled => "Integration disabled",
            IntegrationDeleted => "Integration deleted",
            TokenRotated => "Secret Token rotated",
            UserProvisioned => "User provisioned",
            UserUpdated => "User updated",
            UserDeprovisioned => "User deprovisioned",
            GroupUpdated => "Group updated",
        }
    }

    /// The label of a stored code ("Change" for one this release does not know).
    pub fn label_of(code: &str) -> &'static str {
        Change::from_code(code).map_or("Change", Change::label)
    }

    /// This change to the target `id` called `name`.
    pub fn on(self, id: &str, name: &str) -> Event {
        Event {
            change: self,
            target_id: Some(id.into()),
            target_name: name.into(),
            detail: String::new(),
        }
    }
}

/// One change about to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    change: Change,
    target_id: Option<String>,
    target_name: String,
    detail: String,
}

impl Event {
    /// What else the reader needs: the role bound and to whom, the permissions changed, ….
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// The row that records this event in `tenant_id`'s log, made by `by`.
    fn row(self, tenant_id: &str, by: &Author) -> AuditRow {
        AuditRow {
            id: db::new_id(),
            tenant_id: tenant_id.into(),
            at: by.at,
            actor_kind: by.kind.into(),
            actor_id: by.id.clone(),
            actor_name: by.name.clone(),
            action: self.change.code().into(),
            target_id: self.target_id,
            target_name: self.target_name,
            detail: self.detail,
        }
    }
}

/// Records `event` in `tenant_id`'s log, inside the caller's transaction.
pub async fn record(conn: &mut Conn, tenant_id: &str, by: &Author, event: Event) -> AppResult<()> {
    db::audit::insert(conn, &event.row(tenant_id, by)).await
}

/// What a SCIM request's writes record: the integration that acts, in which tenant and when,
/// and the request's [`Pending`] event. The service notes the event before the write that ends
/// the transaction (which then carries it, `db::script::run_last`); whatever is still noted when
/// the request commits is written first. Empty outside a SCIM request: it notes nothing.
#[derive(Debug, Clone, Default)]
pub struct ScimAudit(Option<Arc<ScimActor>>);

#[derive(Debug)]
struct ScimActor {
    tenant_id: String,
    by: Author,
    pending: Pending,
}

impl ScimAudit {
    /// The events of one request of integration `integration_id` (called `integration_name`)
    /// in `tenant_id`, at `at`.
    pub fn new(tenant_id: &str, integration_id: &str, integration_name: &str, at: Millis) -> Self {
        ScimAudit(Some(Arc::new(ScimActor {
            tenant_id: tenant_id.into(),
            by: Author::integration(integration_id, integration_name, at),
            pending: Pending::default(),
        })))
    }

    /// Where the request's event waits.
    pub fn pending(&self) -> Option<&Pending> {
        self.0.as_ref().map(|a| &a.pending)
    }

    /// Notes `event` as what this request changed, in place of any noted before.
    pub fn note(&self, event: Event) {
        self.set(event, false);
    }

    /// Notes the provisioning of a user who may not exist after all: the event is written only
    /// if the user `event` names exists by then (a create whose userName proved taken wrote no
    /// user under the new id).
    pub fn note_if_created(&self, event: Event) {
        self.set(event, true);
    }

    /// Forgets the noted event: the request changed nothing after all.
    pub fn withdraw(&self) {
        if let Some(a) = &self.0 {
            a.pending.take();
        }
    }

    fn set(&self, event: Event, only_if_user_exists: bool) {
        let Some(a) = &self.0 else { return };
        debug_assert!(
            SCIM_AREAS
                .iter()
                .any(|area| event.change.code().starts_with(&format!("{area}."))),
            "{:?} is outside SCIM_AREAS: the log's area filter reads only people's events there",
            event.change
        );
        a.pending.set(PendingEvent {
            row: event.row(&a.tenant_id, &a.by),
            only_if_user_exists,
        });
    }
}

/// How many events a page of the log shows.
pub const PAGE_SIZE: i64 = 50;

/// A page of the log, newest first, and where the pages beside it start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub events: Vec<AuditRow>,
    /// The `before` cursor of the next older page, when there is one.
    pub older: Option<String>,
    /// The `after` cursor of the next newer page, when there is one.
    pub newer: Option<String>,
}

/// Which events a page or an export holds: one kind of change (`area`, one of
/// `model::AUDIT_AREAS`), changes to one thing (`target`, its id) and changes by people or by
/// SCIM integrations (`by`, one of `model::AUDIT_ACTORS`), each when given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub area: Option<String>,
    pub target: Option<String>,
    pub by: Option<String>,
}

/// A [`Filter`] as the database is asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub action_prefix: Option<String>,
    pub target_id: Option<String>,
    pub by_integrations: Option<bool>,
    /// No event can be kept: SCIM integrations' changes in an area only people change.
    pub keeps_nothing: bool,
}

/// The areas whose changes SCIM integrations make: their users and groups. Every other area is
/// changed by people alone, so its pages read people's events only (an index of theirs alone,
/// `db::audit`), not the tenant's whole log with every SCIM event in it.
const SCIM_AREAS: [&str; 2] = ["user", "group"];

impl Filter {
    /// The filter checked; a 400 naming what is not an area, an id or a kind of actor.
    pub fn checked(&self) -> AppResult<Checked> {
        let action_prefix = area_prefix(self.area.as_deref())?;
        let by = match self.by.as_deref() {
            None | Some("") => None,
            Some("scim") => Some(true),
            Some("people") => Some(false),
            Some(_) => {
                return Err(AppError::invalid(
                    "by",
                    "Choose people or SCIM integrations.",
                ))
            }
        };
        let target = match self.target.as_deref() {
            None | Some("") => None,
            Some(t) if is_id(t) => Some(t.to_string()),
            Some(_) => {
                return Err(AppError::invalid(
                    "target",
                    "That is not the id of anything in this tenant.",
                ))
            }
        };
        let by_scim = action_prefix.as_deref().map(|prefix| {
            SCIM_AREAS
                .iter()
                .any(|a| prefix.strip_suffix('.') == Some(a))
        });
        let (by_integrations, keeps_nothing) = match (by, by_scim) {
            (None, Some(false)) => (Some(false), false),
            (Some(true), Some(false)) => (Some(true), true),
            (by, _) => (by, false),
        };
        Ok(Checked {
            action_prefix,
            target_id: target,
            by_integrations,
            keeps_nothing,
        })
    }
}

/// Ids Roster makes: UUIDs, and integration ids (letters and digits).
fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The events of `tenant_id` that `filter` keeps: the newest, or those older than the cursor
/// `before`, or newer than the cursor `after`. A filter or a cursor that is not one is a 400
/// naming it.
pub async fn page(
    db: &Db,
    tenant_id: &str,
    filter: &Filter,
    (before, after): (Option<&str>, Option<&str>),
) -> AppResult<AuditPage> {
    let checked = filter.checked()?;
    if checked.keeps_nothing {
        return Ok(AuditPage {
            events: Vec::new(),
            older: None,
            newer: None,
        });
    }
    let given = |c: Option<&str>| c.filter(|c| !c.is_empty()).map(parse_cursor).transpose();
    let start = match (given(before)?, given(after)?) {
        (Some(place), _) => Start::OlderThan(place),
        (None, Some(place)) => Start::NewerThan(place),
        (None, None) => Start::Newest,
    };
    let query = AuditQuery {
        action_prefix: checked.action_prefix,
        target_id: checked.target_id,
        by_integrations: checked.by_integrations,
        start: start.clone(),
        limit: PAGE_SIZE + 1,
    };
    let mut conn = db.acquire().await?;
    let mut events = db::audit::page(&mut conn, tenant_id, &query).await?;
    let more = events.len() as i64 > PAGE_SIZE;
    events.truncate(PAGE_SIZE as usize);
    if matches!(start, Start::NewerThan(_)) {
        events.reverse();
    }
    let cursor = |e: &AuditRow| format!("{}.{}", e.at, e.id);
    let (older_exist, newer_exist) = match start {
        Start::Newest => (more, false),
        Start::OlderThan(_) => (more, true),
        Start::NewerThan(_) => (true, more),
    };
    Ok(AuditPage {
        older: events.last().filter(|_| older_exist).map(cursor),
        newer: events.first().filter(|_| newer_exist).map(cursor),
        events,
    })
}

/// The code prefix of `area` (`group` → `group.`), none for all; a 400 for what is not one of
/// `model::AUDIT_AREAS`.
fn area_prefix(area: Option<&str>) -> AppResult<Option<String>> {
    match area {
        None | Some("") => Ok(None),
        Some(a) if AUDIT_AREAS.iter().any(|(slug, _)| *slug == a) => Ok(Some(format!("{a}."))),
        Some(_) => Err(AppError::invalid(
            "area",
            "Choose one of the listed kinds of change.",
        )),
    }
}

/// How many events a page of an export holds.
pub const EXPORT_PAGE: i64 = 500;

/// Up to [`EXPORT_PAGE`] events of `tenant_id` that `filter` keeps, older than `before`, newest
/// first, and where the next page starts (none: the end).
pub async fn export_page(
    db: &Db,
    tenant_id: &str,
    filter: &Filter,
    before: Option<Place>,
) -> AppResult<(Vec<AuditRow>, Option<Place>)> {
    let checked = filter.checked()?;
    if checked.keeps_nothing {
        return Ok((Vec::new(), None));
    }
    let query = AuditQuery {
        action_prefix: checked.action_prefix,
        target_id: checked.target_id,
        by_integrations: checked.by_integrations,
        start: before.map_or(Start::Newest, Start::OlderThan),
        limit: EXPORT_PAGE,
    };
    let mut conn = db.acquire().await?;
    let events = db::audit::page(&mut conn, tenant_id, &query).await?;
    let next = match events.last() {
        Some(e) if events.len() as i64 == EXPORT_PAGE => Some(Place {
            at: e.at,
            id: e.id.clone(),
        }),
        _ => None,
    };
    Ok((events, next))
}

fn parse_cursor(text: &str) -> AppResult<Place> {
    let bad = || {
        AppError::invalid(
            "before",
            "That link to other events is not one Roster made.",
        )
    };
    let (at, id) = text.split_once('.').ok_or_else(bad)?;
    let at = at.parse::<Millis>().map_err(|_| bad())?;
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(bad());
    }
    Ok(Place { at, id: id.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An area only people change reads people's events alone, and SCIM's changes there are
    /// none, found without reading the log; the areas SCIM changes keep both kinds of actor.
    #[test]
    fn an_area_only_people_change_reads_only_peoples_events() {
        let checked = |area: &str, by: &str| {
            let filter = Filter {
                area: Some(area.into()),
                target: None,
                by: Some(by.into()),
            };
            let c = filter.checked().expect("a filter");
            (c.by_integrations, c.keeps_nothing)
        };
        for area in [
            "role",
            "binding",
            "service-account",
            "integration",
            "tenant",
        ] {
            assert_eq!(checked(area, ""), (Some(false), false), "{area}");
            assert_eq!(checked(area, "people"), (Some(false), false), "{area}");
            assert_eq!(checked(area, "scim"), (Some(true), true), "{area}");
        }
        for area in SCIM_AREAS {
            assert_eq!(checked(area, ""), (None, false), "{area}");
            assert_eq!(checked(area, "scim"), (Some(true), false), "{area}");
            assert_eq!(checked(area, "people"), (Some(false), false), "{area}");
        }
        assert_eq!(checked("", ""), (None, false));
        assert_eq!(checked("", "scim"), (Some(true), false));
    }

    #[test]
    fn every_change_has_one_code_a_label_and_an_area_the_filter_offers() {
        for &c in Change::ALL {
            assert_eq!(
                Change::from_code(c.code()),
                Some(c),
                "{c:?}: its code is its own"
            );
            let (area, _) = c.code().split_once('.').unwrap();
            assert!(AUDIT_AREAS.iter().any(|(a, _)| *a == area), "{c:?}");
            assert!(!c.code().contains('_') && !c.code().contains('%'), "{c:?}");
        }
        assert_eq!(Change::label_of("user.unknown-to-this-release"), "Change");
    }

    #[test]
    fn cursors_are_what_pages_hand_out_and_nothing_else() {
        let c = parse_cursor("1700000000000.0190c7a2-1f7b-7cc0-9a4e-3e1d2b3c4d5e").unwrap();
        assert_eq!(c.at, 1_700_000_000_000);
        for bad in [
            "",
            "1",
            "x.abc",
            "1.",
            "1.'; DROP TABLE audit_events; --",
            "1.a b",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }
}
