//! Service accounts (machine identities of a tenant) and their API tokens: DNS-style unique
//! names, accounts owned by a SCIM integration protected from deletion, and tokens made by the
//! one token generator, stored hashed and shown once.

use crate::clock::Millis;
use crate::db::iam::{BindingRow, RoleRow, ServiceAccountRow, TokenRow};
use crate::db::{self, Db};
use crate::error::{AppError, AppResult};
use crate::iam::audit::{self, Author, Change};
use crate::iam::bindings::{self, SubjectKind};
use crate::iam::integrations;
use crate::iam::permissions::Permissions;
use crate::iam::roles;

pub const NAME_MAX: usize = 63;
pub const DESCRIPTION_MAX: usize = 500;
pub const TOKEN_NAME_MAX: usize = 100;
/// The longest a token may live, in days (10 years); "never" is separate.
pub const TOKEN_DAYS_MAX: i64 = 3650;
const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// A service account's name: like a DNS label (`ci-bot`).
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Enter a name such as ci-bot.".into());
    }
    if name.len() > NAME_MAX {
        return Err(format!("Use at most {NAME_MAX} characters."));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("Use lowercase letters, digits and hyphens only (like ci-bot).".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        || name.ends_with('-')
    {
        return Err("Start and end with a letter or a digit.".into());
    }
    Ok(())
}

/// A service account with its bindings and tokens.
#[derive(Debug, Clone)]
pub struct AccountDetail {
    pub account: ServiceAccountRow,
    pub bindings: Vec<BindingRow>,
    pub tokens: Vec<TokenRow>,
}

fn not_found() -> AppError {
    AppError::NotFound("This tenant has no such service account (it may have been deleted).".into())
}

/// The tenant's service accounts, each with the bindings that give it roles.
pub async fn list(
    db: &Db,
    tenant_id: &str,
) -> AppResult<Vec<(ServiceAccountRow, Vec<BindingRow>)>> {
    let mut conn = db.acquire().await?;
    let accounts = db::iam::list_service_accounts(&mut conn, tenant_id).await?;
    let all = bindings::list(&mut conn, tenant_id).await?;
    Ok(accounts
        .into_iter()
        .map(|a| {
            let mine = all
                .iter()
                .filter(|b| {
                    b.subject_type == SubjectKind::ServiceAccount.as_str() && b.subject_id == a.id
                })
                .cloned()
                .collect();
            (a, mine)
        })
        .collect())
}

/// The account page: [`get`], and the roles a binding may give when `held` allows binding
/// (`roles::choices`).
pub async fn page(
    db: &Db,
    held: &Permissions,
    tenant_id: &str,
    id: &str,
) -> AppResult<(AccountDetail, Option<Vec<RoleRow>>)> {
    let detail = get(db, tenant_id, id).await?;
    let mut conn = db.acquire().await?;
    let roles = roles::choices(&mut conn, held, tenant_id).await?;
    Ok((detail, roles))
}

pub async fn get(db: &Db, tenant_id: &str, id: &str) -> AppResult<AccountDetail> {
    db.flush_log().await; // tokens' "last used" stamps are written with the SCIM request log
    let mut conn = db.acquire().await?;
    let account = db::iam::find_service_account(&mut conn, tenant_id, id)
        .await?
        .ok_or_else(not_found)?;
    let bindings = bindings::of_subject(
        &mut conn,
        tenant_id,
        SubjectKind::ServiceAccount,
        &account.id,
    )
    .await?;
    let tokens = db::iam::tokens_of(&mut conn, &account.id).await?;
    Ok(AccountDetail {
        account,
        bindings,
        tokens,
    })
}

pub async fn create(
    db: &Db,
    by: &Author,
    tenant_id: &str,
    name: &str,
    description: &str,
) -> AppResult<ServiceAccountRow> {
    let (name, description) = (name.trim(), description.trim());
    validate_name(name).map_err(|m| AppError::invalid("name", m))?;
    if description.chars().count() > DESCRIPTION_MAX {
        return Err(AppError::invalid(
            "description",
            format!("Use at most {DESCRIPTION_MAX} characters for the description."),
        ));
    }
    let now = by.at();
    let mut tx = db.begin_write().await?;
    let id = db::new_id();
    db::iam::insert_service_account(&mut tx, &id, tenant_id, name, description, now).await?;
    let account = db::iam::find_service_account(&mut tx, tenant_id, &id)
        .await?
        .ok_or_else(not_found)?;
    let event = Change::AccountCreated.on(&account.id, &account.name);
    audit::record(&mut tx, tenant_id, by, event).await?;
    tx.commit().await?;
    Ok(account)
}

/// Deletes a service account with its bindings and tokens; returns its name. An account owned
/// by a SCIM integration is refused: deleting the integration removes it.
pub async fn delete(db: &Db, by: &Author, tenant_id: &str, id: &str) -> AppResult<String> {
    let mut tx = db.begin_write().await?;
    let account = db::iam::find_service_account(&mut tx, tenant_id, id)
        .await?
        .ok_or_else(not_found)?;
    if let Some((_, integration)) = &account.integration {
        return Err(AppError::Conflict(format!(
            "{} belongs to the SCIM integration {integration}. Delete the integration (under SCIM \
             Provisioning) instead; that removes this account too.",
            account.name
        )));
    }
    db::iam::delete_bindings_of(
        &mut tx,
        tenant_id,
        SubjectKind::ServiceAccount.as_str(),
        &account.id,
    )
    .await?;
    db::iam::delete_service_account(&mut tx, &account.id).await?;
    let event = Change::AccountDeleted.on(&account.id, &account.name);
    audit::record(
        &mut tx,
        tenant_id,
        by,
        event.detail("With its bindings and tokens."),
    )
    .await?;
    tx.commit().await?;
    Ok(account.name)
}

/// The tokens of an integration's service account are its Secret Token: they are made and
/// ended only by rotating the integration (INTEGRATIONS:UPDATE), never here, or SERVICE_ACCOUNTS
/// rights would mint SCIM credentials (issue 10, rule 5 of `iam::reach`).
fn integration_tokens_refused(account: &ServiceAccountRow) -> AppResult<()> {
    match &account.integration {
        Some((_, integration)) => Err(AppError::Forbidden(format!(
            "{} belongs to the SCIM integration {integration}: its token is the integration's \
             Secret Token, made only by rotating the integration under SCIM Provisioning.",
            account.name
        ))),
        None => Ok(()),
    }
}

/// Parses the expiry field of the token form: empty or `never` → none, else whole days.
pub fn parse_expiry(days: &str, now: Millis) -> AppResult<Option<Millis>> {
    let days = days.trim();
    if days.is_empty() || days.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    match days.parse::<i64>() {
        Ok(d) if (1..=TOKEN_DAYS_MAX).contains(&d) => Ok(Some(now + d * DAY_MILLIS)),
        _ => Err(AppError::invalid(
            "expires_days",
            format!("Choose an expiry of 1 to {TOKEN_DAYS_MAX} days, or never."),
        )),
    }
}

/// Issues a token for the account; returns the plain token (shown once, never stored) and its
/// row (hash and prefix).
pub async fn create_token(
    db: &Db,
    by: &Author,
    tenant_id: &str,
    account_id: &str,
    name: &str,
    expires_days: &str,
) -> AppResult<(String, TokenRow)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > TOKEN_NAME_MAX {
        return Err(AppError::invalid(
            "token_name",
            format!("Name the token (1 to {TOKEN_NAME_MAX} characters), e.g. where it is used."),
        ));
    }
    let now = by.at();
    let expires_at = parse_expiry(expires_days, now)?;
    let mut tx = db.begin_write().await?;
    let account = db::iam::find_service_account(&mut tx, tenant_id, account_id)
        .await?
        .ok_or_else(not_found)?;
    integration_tokens_refused(&account)?;
    let (token, mut row) = integrations::new_token(now, name);
    row.expires_at = expires_at;
    db::iam::insert_token(&mut tx, &account.id, &row).await?;
    let expiry = match expires_at {
        Some(at) => format!("expires {}", crate::clock::rfc3339(at)),
        None => "never expires".into(),
    };
    let detail = format!("Token {} ({}…), {expiry}.", row.name, row.prefix);
    let event = Change::TokenCreated.on(&account.id, &account.name);
    audit::record(&mut tx, tenant_id, by, event.detail(detail)).await?;
    tx.commit().await?;
    Ok((token, row))
}

/// Revokes (deletes) one token of the account; returns its name.
pub async fn revoke_token(
    db: &Db,
    by: &Author,
    tenant_id: &str,
    account_id: &str,
    token_id: &str,
) -> AppResult<String> {
    let mut tx = db.begin_write().await?;
    let account = db::iam::find_service_account(&mut tx, tenant_id, account_id)
        .await?
        .ok_or_else(not_found)?;
    integration_tokens_refused(&account)?;
    let tokens = db::iam::tokens_of(&mut tx, &account.id).await?;
    let token = tokens
        .into_iter()
        .find(|t| t.id == token_id)
        .ok_or_else(|| AppError::NotFound("That token does not exist (any more).".into()))?;
    db::iam::delete_token(&mut tx, &account.id, &token.id).await?;
    let detail = format!("Token {} ({}…).", token.name, token.prefix);
    let event = Change::TokenRevoked.on(&account.id, &account.name);
    audit::record(&mut tx, tenant_id, by, event.detail(detail)).await?;
    tx.commit().await?;
    Ok(token.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_labels() {
        assert!(validate_name("ci-bot").is_ok());
        assert!(validate_name("a1").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("CI-bot").is_err());
        assert!(validate_name("ci_bot").is_err());
        assert!(validate_name("-ci").is_err());
        assert!(validate_name("ci-").is_err());
        assert!(validate_name(&"a".repeat(64)).is_err());
    }

    #[test]
    fn expiry_is_days_or_never() {
        assert_eq!(parse_expiry("", 0).unwrap(), None);
        assert_eq!(parse_expiry("never", 0).unwrap(), None);
        assert_eq!(parse_expiry("2", 0).unwrap(), Some(2 * DAY_MILLIS));
        assert!(parse_expiry("0", 0).is_err());
        assert!(parse_expiry("soon", 0).is_err());
    }
}
