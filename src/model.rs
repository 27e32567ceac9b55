//! Types shared by the server and the browser, and the validation rules both apply: the browser
//! for instant feedback, the server because it is the check.

use serde::{Deserialize, Serialize};

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
    /// May the user do `action` (CREATE, READ, UPDATE, DELETE) on `resource` (USERS, GROUPS, …)?
    pub fn can(&self, resource: &str, action: &str) -> bool {
        self.permissions
            .iter()
            .any(|p| p.split_once(':') == Some((resource, action)))
    }

    /// The path of an IAM page of this tenant, e.g. `iam_path("users")` → `/t/main/iam/users`.
    pub fn iam_path(&self, rest: &str) -> String {
        format!("/t/{}/iam/{rest}", self.tenant.id)
    }
}

/// What the application shell shows: who is signed in and which tenants they can enter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellInfo {
    pub user: CurrentUser,
    pub tenants: Vec<TenantSummary>,
}

pub const TENANT_ID_MAX: usize = 63;
pub const TENANT_NAME_MAX: usize = 100;
pub const USERNAME_MAX: usize = 255;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 1024;

/// A tenant id is a DNS-style slug: it appears in every URL and in SCIM endpoints.
pub fn validate_tenant_id(id: &str) -> Result<(), String> {
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
    Ok(())
}

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

pub fn validate_username(username: &str) -> Result<(), String> {
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
    Ok(())
}

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
        assert!(validate_tenant_id("main").is_ok());
        assert!(validate_tenant_id("dev-2").is_ok());
        assert!(validate_tenant_id("Dev").is_err());
        assert!(validate_tenant_id("2dev").is_err());
        assert!(validate_tenant_id("dev-").is_err());
        assert!(validate_tenant_id("a").is_err());
        assert!(validate_tenant_id("with space").is_err());
        assert!(validate_tenant_id(&"a".repeat(64)).is_err());
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
        assert!(scope.can("USERS", "READ"));
        assert!(scope.can("GROUPS", "UPDATE"));
        assert!(!scope.can("USERS", "UPDATE"));
        assert!(!scope.can("USERS:READ", ""));
        assert_eq!(scope.iam_path("users"), "/t/main/iam/users");
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
        assert!(validate_username("Ada.Lovelace").is_ok());
        assert!(validate_username(" ada").is_err());
        assert!(validate_username("").is_err());
    }
}
