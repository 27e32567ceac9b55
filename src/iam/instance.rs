//! The instance: its first superadmin, further superadmins from the CLI, and the default tenant.

use crate::auth::password;
use crate::clock::Clock;
use crate::db::{self, users::NewUser, users::UserRow, Db};
use crate::error::{AppError, AppResult};
use crate::iam::permissions;
use crate::model;
use crate::secret::Secret;

pub const DEFAULT_TENANT_ID: &str = "main";
pub const DEFAULT_TENANT_NAME: &str = "Main";

/// Makes sure the default tenant exists with its managed roles; a fresh install has exactly
/// `main`. Safe when several replicas start at once.
pub async fn ensure_default_tenant(db: &Db, clock: &dyn Clock) -> AppResult<()> {
    let now = clock.now_millis();
    let mut tx = db.begin_write().await?;
    if db::tenants::insert_if_missing(&mut tx, DEFAULT_TENANT_ID, DEFAULT_TENANT_NAME, now).await? {
        permissions::create_birth_roles(&mut tx, DEFAULT_TENANT_ID, now).await?;
    }
    tx.commit().await
}

pub async fn needs_setup(db: &Db) -> AppResult<bool> {
    let mut conn = db.acquire().await?;
    Ok(!db::users::any_superadmin(&mut conn).await?)
}

pub struct NewAdmin {
    pub username: String,
    pub email: Option<String>,
    pub password: Secret,
}

fn check_new_admin(admin: &NewAdmin) -> AppResult<()> {
    model::Username::parse(admin.username.as_str())
        .map_err(|m| AppError::invalid("username", m))?;
    if let Some(email) = &admin.email {
        model::validate_optional_email(email).map_err(|m| AppError::invalid("email", m))?;
    }
    model::validate_new_password(admin.password.expose())
        .map_err(|m| AppError::invalid("password", m))?;
    Ok(())
}

/// The first-run setup page: creates the first superadmin when `confirm` repeats the password
/// (else a field error on `password_confirm`); a conflict once any superadmin exists.
pub async fn set_up(
    db: &Db,
    clock: &dyn Clock,
    admin: NewAdmin,
    confirm: &Secret,
) -> AppResult<UserRow> {
    if admin.password.expose() != confirm.expose() {
        return Err(AppError::invalid(
            "password_confirm",
            "The two passwords differ.",
        ));
    }
    create_superadmin(db, clock, admin, true).await
}

/// Creates a superadmin. With `only_if_first`, refuses once any superadmin exists (the
/// first-run setup page and `ROSTER_ADMIN_*` settings); the CLI may add more.
pub async fn create_superadmin(
    db: &Db,
    clock: &dyn Clock,
    admin: NewAdmin,
    only_if_first: bool,
) -> AppResult<UserRow> {
    check_new_admin(&admin)?;
    let hash = password::hash(admin.password.clone()).await?;
    let mut tx = db.begin_write().await?;
    if only_if_first && db::users::any_superadmin(&mut tx).await? {
        return Err(AppError::Conflict(
            "Setup is already done: a superadmin exists. Sign in instead.".into(),
        ));
    }
    let id = db::new_id();
    db::users::insert(
        &mut tx,
        &NewUser {
            id: &id,
            username: &admin.username,
            email: admin.email.as_deref(),
            display_name: None,
            password_hash: Some(&hash),
            is_superadmin: true,
        },
        clock.now_millis(),
    )
    .await?;
    let user = db::users::find_by_id(&mut tx, &id)
        .await?
        .ok_or_else(|| AppError::Internal("new user vanished".into()))?;
    tx.commit().await?;
    Ok(user)
}
