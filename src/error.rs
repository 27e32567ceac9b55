//! The one error type of Roster's domain and storage code. Each kind knows its HTTP status;
//! internal details are logged, never shown.

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that breaks a rule; `field` names the form field to mark.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("You are not signed in.")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("Too many failed sign-ins. Try again in {minutes} minutes.")]
    LockedOut { minutes: i64 },
    #[error("Something went wrong on our side. Try again; if it persists, check the server log.")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::Conflict(_) => 409,
            Self::NotFound(_) => 404,
            Self::Unauthenticated => 401,
            Self::Forbidden(_) => 403,
            Self::LockedOut { .. } => 429,
            Self::Internal(_) => 500,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        Self::Internal(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for AppError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Internal(format!("migration failed: {e}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// True when `e` is a unique-constraint violation, on either database.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}
