//! The one state every handler and server function shares: the shared context of both faces (axum
//! handlers in `http` and server functions in `api`), so it lives above `iam` and below both of them
//! rather than inside the router's module.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::auth::oidc::OidcRuntime;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::Db;

/// Cloned for every request (each middleware layer and extractor takes its own copy), so a clone
/// is one reference count: copying the fields themselves (the database handle's channels and
/// counters, Leptos's options) was a fortieth of a SCIM lookup's CPU.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares.
pub struct Shared {
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
        Self(Arc::new(Shared {
            db,
            settings: Arc::new(settings),
            clock,
            leptos_options,
            oidc: Arc::new(OidcRuntime::new()),
        }))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Leptos's routes read their options from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
