//! Roster: a multi-tenant identity admin with a SCIM 2.0 provisioning server.
//!
//! A tour of the modules, from the outside in:
//! - `http`: the axum router, the composition root (UI, OpenID sign-in, SCIM, health check);
//! - [`app`] and [`ui`]: the admin UI (Leptos, rendered on the server and hydrated in the browser);
//! - [`api`]: server functions, the UI's only door to data;
//! - `iam`: the rules of the identity model; `state`: the `AppState` both faces share;
//! - `auth`: passwords, sessions, cookies, sign-in, randomness;
//! - `db`: all SQL, one code path for SQLite and PostgreSQL; `config`: settings;
//! - the ground: `scim` (the SCIM 2.0 protocol core, free of HTTP and SQL), [`model`] (types and
//!   validation shared by server and browser), `clock`, [`url`], `secret`; `error` just above it.
//!
//! Imports run one way, down the floors listed in README.md's Layout (`scripts/check-layers`).
#![recursion_limit = "512"]

pub mod api;
pub mod app;
pub mod model;
pub mod ui;
pub mod url;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod iam;
#[cfg(feature = "ssr")]
pub mod scim;
#[cfg(feature = "ssr")]
pub mod secret;
#[cfg(feature = "ssr")]
pub mod state;

/// The browser's entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
