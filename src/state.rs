//! The one state every handler and server function shares: the shared context of both faces (axum
//! handlers in `http` and server functions in `api`), so it lives above `iam` and below both of them
//! rather than inside the router's module.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::auth::oidc::OidcRuntime;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::Db;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: SharedClock,
    pub leptos_options: LeptosOptions,
    /// OpenID Connect: HTTP client and cached provider metadata.
    pub oidc: Arc<OidcRuntime>,
}

impl AppState {
    pub fn new(db: Db, settings: Settings, clock: SharedClock) -> Self {
        let leptos_options = settings.leptos_options();
        Self {
            db,
            settings: Arc::new(settings),
            clock,
            leptos_options,
            oidc: Arc::new(OidcRuntime::new()),
        }
    }
}
