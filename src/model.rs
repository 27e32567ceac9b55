//! Types shared by the server and the browser, and the validation rules both apply: the browser
//! for instant feedback, the server because it is the check.

use serde::{Deserialize, Serialize};

/// What a permission is about. Stored in the database and sent to the browser as its text
/// (`USERS`, `SERVICE_ACCOUNTS`, …), so the enum changes neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Resource {
    #[serde(rename = "USERS")]
    Users,
    #[serde(rename = "GROUPS")]
    Groups,
    #[serde(rename = "ROLES")]
    Roles,
    #[serde(rename = "BINDINGS")]
    Bindings,
    #[serde(rename = "SERVICE_ACCOUNTS")]
    ServiceAccounts,
    #[serde(rename = "INTEGRATIONS")]
    Integrations,
    #[serde(rename = "AUDITLOG")]
    Auditlog,
}

impl Resource {
    /// Every resource, in the order the permission matrices list them.
    pub const ALL: [Resource; 7] = [
        Resource::Users,
        Resource::Groups,
        Resource::Roles,
        Resource::Bindings,
        Resource::ServiceAccounts,
        Resource::Integrations,
        Resource::Auditlog,
    ];

    /// The stored text: `USERS`, `SERVICE_ACCOUNTS`, ….
    pub const fn as_str(self) -> &'static str {
        match self {
            Resource::Users => "USERS",
            Resource::Groups => "GROUPS",
            Resource::Roles => "ROLES",
            Resource::Bindings => "BINDINGS",
            Resource::ServiceAccounts => "SERVICE_ACCOUNTS",
            Resource::Integrations => "INTEGRATIONS",
            Resource::Auditlog => "AUDITLOG",
        }
    }

    /// The resource whose stored text is exactly `text` (case counts), if any.
    pub fn parse(text: &str) -> Option<Resource> {
        Resource::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// How the UI names it: "Users", "Service accounts", ….
    pub const fn label(self) -> &'static str {
        match self {
            Resource::Users => "Users",
            Resource::Groups => "Groups",
            Resource::Roles => "Roles",
            Resource::Bindings => "Bindings",
            Resource::ServiceAccounts => "Service accounts",
            Resource::Integrations => "SCIM integrations",
            Resource::Auditlog => "Audit log",
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a permission allows on its resource. Stored and sent as `CREATE`, `READ`, `UPDATE`,
/// `DELETE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Action {
    #[serde(rename = "CREATE")]
    Create,
    #[serde(rename = "READ")]
    Read,
    #[serde(rename = "UPDATE")]
    Update,
    #[serde(rename = "DELETE")]
    Delete,
}

impl Action {
    /// Every action, in the order the permission matrices list them.
    pub const ALL: [Action; 4] = [Action::Create, Action::Read, Action::Update, Action::Delete];

    /// The stored text: `CREATE`, `READ`, `UPDATE`, `DELETE`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Create => "CREATE",
            Action::Read => "READ",
            Action::Update => "UPDATE",
            Action::Delete => "DELETE",
        }
    }

    /// The action whose stored text is exactly `text` (case counts), if any.
    pub fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == text)
    }

    /// How the UI names it: "Create", "Read", ….
    pub const fn label(self) -> &'static str {
        match self {
            Action::Create => "Create",
            Action::Read => "Read",
            Action::Update => "Update",
            Action::Delete => "Delete",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One permission, `(resource, action)`.
pub type Permission = (Resource, Action);

/// Reads the `RESOURCE:ACTION` text the matrix form and [`TenantScope`] use.
pub fn parse_permission(text: &str) -> Option<Permission> {
    let (r, a) = text.split_once(':')?;
    Some((Resource::parse(r)?, Action::parse(a)?))
}

/// The signed-in person, as the UI needs them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub is_superadmin: bool,
}

impl CurrentUser {
    pub fn label(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.username)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSummary {
    pub id: String,
    pub name: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Whether the tenant may take in users of other tenants (shown to superadmins).
    #[serde(default)]
    pub link_foreign_users: bool,
}

/// What the signed-in user may do in the tenant a page is about. Pages hide the controls of
/// anything not listed here; the server functions check again, so hiding is only a courtesy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantScope {
    pub tenant: TenantSummary,
    /// `RESOURCE:ACTION` pairs, e.g. `USERS:UPDATE`.
    pub permissions: Vec<String>,
    pub is_superadmin: bool,
}

impl TenantScope {
    /// May the user do `action` on `resource`?
    pub fn can(&self, resource: Resource, action: Action) -> bool {
        self.permissions
            .iter()
            .any(|p| parse_permission(p) == Some((resource, action)))
    }

    /// The path of an IAM page of this tenant, e.g. `iam_path("users")` → `/t/main/iam/users`.
    pub fn iam_path(&self, rest: &str) -> String {
        format!("/t/{}/iam/{rest}", self.tenant.id)
    }
}

/// `(id, name)` choices for the Bindings page's create form (built by `iam::bindings::page`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingChoices {
    pub roles: Vec<(String, String)>,
    pub groups: Vec<(String, String)>,
    pub service_accounts: Vec<(String, String)>,
    pub users: Vec<(String, String)>,
    /// True when the tenant has more users than listed: pick the others by username or email.
    pub more_users: bool,
}

/// What the application shell shows: who is signed in and which tenants they can enter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellInfo {
    pub user: CurrentUser,
    pub tenants: Vec<TenantSummary>,
}

/// The only provisioning type an integration can have (the form still names it, for clarity).
pub const SCIM_2_0: &str = "scim2";

/// The kinds of change the audit log's filter offers: the area of an event's code
/// (`group.member-add` is in `group`) and its label.
pub const AUDIT_AREAS: [(&str, &str); 7] = [
    ("user", "Users and access"),
    ("group", "Groups"),
    ("role", "Roles"),
    ("binding", "Bindings"),
    ("service-account", "Service accounts"),
    ("integration", "SCIM integrations"),
    ("tenant", "Tenant"),
];

/// Who made a change, as the audit log's filter picks (`by=`): its slug and its label.
pub const AUDIT_ACTORS: [(&str, &str); 2] = [
    ("people", "People and roster commands"),
    ("scim", "SCIM integrations"),
];

pub const TENANT_ID_MAX: usize = 63;
pub const TENANT_NAME_MAX: usize = 100;
pub const USERNAME_MAX: usize = 255;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 1024;

/// What every parsed-text type (made only by its `parse`) shares: `as_str`, `Display`, and
/// (de)serializing as the plain text, refusing text that does not parse.
macro_rules! parsed_text {
    ($t:ident) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(text: String) -> Result<Self, String> {
                $t::parse(text)
            }
        }

        impl From<$t> for String {
            fn from(value: $t) -> String {
                value.0
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// A tenant id: a DNS-style slug (2 to 63 lowercase letters, digits and hyphens, starting with a
/// letter, not ending with a hyphen), because it appears in every URL and in SCIM endpoints.
/// Made only by [`TenantId::parse`], so holding one means it is valid: the create form checks
/// what is typed with it (in the browser) and `iam::tenants::create` with the same code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    /// The id `id`, or what is wrong with it, in words for the form.
    pub fn parse(id: impl Into<String>) -> Result<Self, String> {
        let id = id.into();
        if id.is_empty() {
            return Err("Enter an ID.".into());
        }
        if id.len() < 2 || id.len() > TENANT_ID_MAX {
            return Err(format!("Use 2 to {TENANT_ID_MAX} characters."));
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !id.chars().all(allowed) {
            return Err("Use lowercase letters, digits and hyphens only.".into());
        }
        if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err("Start with a lowercase letter.".into());
        }
        if id.ends_with('-') {
            return Err("Do not end with a hyphen.".into());
        }
        Ok(TenantId(id))
    }
}

parsed_text!(TenantId);

/// A custom role's name: 1 to 100 characters once trimmed. (That it is no managed role's name
/// is a rule of `iam::roles`, which knows the managed roles.)
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleName(String);

pub const ROLE_NAME_MAX: usize = 100;

impl RoleName {
    /// The trimmed `name`, or what is wrong with it, in words for the form.
    pub fn parse(name: impl Into<String>) -> Result<Self, String> {
        let name = name.into().trim().to_string();
        if name.is_empty() {
            return Err("Enter a name for the role.".into());
        }
        if name.chars().count() > ROLE_NAME_MAX {
            return Err(format!(
                "Use at most {ROLE_NAME_MAX} characters for the name."
            ));
        }
        Ok(RoleName(name))
    }
}

parsed_text!(RoleName);

/// A SCIM integration's name: 1 to 100 characters once trimmed (the admin UI's form and
/// `roster scim create` both go through it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IntegrationName(String);

pub const INTEGRATION_NAME_MAX: usize = 100;

impl IntegrationName {
    /// The trimmed `name`, or what is wrong with it, in words for the form.
    pub fn parse(name: impl Into<String>) -> Result<Self, String> {
        let name = name.into().trim().to_string();
        if name.is_empty() || name.chars().count() > INTEGRATION_NAME_MAX {
            return Err(format!(
                "Give the integration a name of 1 to {INTEGRATION_NAME_MAX} characters."
            ));
        }
        Ok(IntegrationName(name))
    }
}

parsed_text!(IntegrationName);

pub fn validate_tenant_name(name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Enter a name.".into());
    }
    if name.chars().count() > TENANT_NAME_MAX {
        return Err(format!("Use at most {TENANT_NAME_MAX} characters."));
    }
    Ok(())
}

/// A username: not blank, no spaces around it, at most [`USERNAME_MAX`] characters, no control
/// characters. Made only by [`Username::parse`]: the first-run form, `ROSTER_ADMIN_USERNAME`, SCIM
/// and OpenID sign-in all go through it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// The username `username`, or what is wrong with it, in words for the form.
    pub fn parse(username: impl Into<String>) -> Result<Self, String> {
        let username = username.into();
        if username.trim().is_empty() {
            return Err("Enter a username.".into());
        }
        if username.trim() != username {
            return Err("Remove the spaces around the username.".into());
        }
        if username.chars().count() > USERNAME_MAX {
            return Err(format!("Use at most {USERNAME_MAX} characters."));
        }
        if username.chars().any(char::is_control) {
            return Err("Remove control characters from the username.".into());
        }
        Ok(Username(username))
    }
}

parsed_text!(Username);

pub fn validate_new_password(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Err(format!("Use at least {PASSWORD_MIN} characters."));
    }
    if len > PASSWORD_MAX {
        return Err(format!("Use at most {PASSWORD_MAX} characters."));
    }
    Ok(())
}

pub fn validate_optional_email(email: &str) -> Result<(), String> {
    let email = email.trim();
    if email.is_empty() {
        return Ok(());
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.contains('@') =>
        {
            Ok(())
        }
        _ => Err("Enter an email address such as ada@example.com, or leave it empty.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_lowercase_slugs() {
        assert!(TenantId::parse("main").is_ok());
        assert!(TenantId::parse("dev-2").is_ok());
        assert!(TenantId::parse("Dev").is_err());
        assert!(TenantId::parse("2dev").is_err());
        assert!(TenantId::parse("dev-").is_err());
        assert!(TenantId::parse("a").is_err());
        assert!(TenantId::parse("with space").is_err());
        assert!(TenantId::parse("a".repeat(64)).is_err());
        assert_eq!(TenantId::parse("main").unwrap().as_str(), "main");
        assert!(serde_json::from_str::<TenantId>("\"Main\"").is_err());
        assert_eq!(
            serde_json::to_string(&TenantId::parse("dev").unwrap()).unwrap(),
            "\"dev\""
        );
    }

    #[test]
    fn a_scope_allows_exactly_its_permissions() {
        let scope = TenantScope {
            tenant: TenantSummary {
                id: "main".into(),
                name: "Main".into(),
                created_at: String::new(),
                link_foreign_users: false,
            },
            permissions: vec!["USERS:READ".into(), "GROUPS:UPDATE".into()],
            is_superadmin: false,
        };
        assert!(scope.can(Resource::Users, Action::Read));
        assert!(scope.can(Resource::Groups, Action::Update));
        assert!(!scope.can(Resource::Users, Action::Update));
        assert_eq!(scope.iam_path("users"), "/t/main/iam/users");
    }

    #[test]
    fn resources_and_actions_are_stored_and_sent_as_their_text() {
        for r in Resource::ALL {
            assert_eq!(Resource::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
        }
        assert_eq!(Resource::ServiceAccounts.as_str(), "SERVICE_ACCOUNTS");
        assert_eq!(
            parse_permission("USERS:READ"),
            Some((Resource::Users, Action::Read))
        );
        assert_eq!(parse_permission("users:READ"), None);
        assert_eq!(parse_permission("USERS"), None);
        assert_eq!(parse_permission("USERS:READ:"), None);
    }

    #[test]
    fn role_and_integration_names_are_trimmed_and_bounded() {
        assert_eq!(RoleName::parse("  Ops ").unwrap().as_str(), "Ops");
        assert!(RoleName::parse("   ").is_err());
        assert!(RoleName::parse("r".repeat(100)).is_ok());
        assert!(RoleName::parse("r".repeat(101)).is_err());
        assert_eq!(
            IntegrationName::parse(" authentik ").unwrap().to_string(),
            "authentik"
        );
        assert!(IntegrationName::parse("").is_err());
        assert!(IntegrationName::parse("i".repeat(101)).is_err());
    }

    #[test]
    fn tenant_names_must_not_be_blank() {
        assert!(validate_tenant_name("  ").is_err());
        assert!(validate_tenant_name("Development").is_ok());
    }

    #[test]
    fn passwords_need_eight_characters() {
        assert!(validate_new_password("short").is_err());
        assert!(validate_new_password("long enough").is_ok());
    }

    #[test]
    fn emails_are_optional_but_must_look_like_emails() {
        assert!(validate_optional_email("").is_ok());
        assert!(validate_optional_email("ada@example.com").is_ok());
        assert!(validate_optional_email("ada").is_err());
        assert!(validate_optional_email("ada@localhost").is_err());
    }

    #[test]
    fn usernames_keep_their_case_but_not_surrounding_spaces() {
        assert_eq!(
            Username::parse("Ada.Lovelace").unwrap().as_str(),
            "Ada.Lovelace"
        );
        assert!(Username::parse(" ada").is_err());
        assert!(Username::parse("").is_err());
    }
}
