//! Server functions: the UI's only way to read and change data. Each one authenticates,
//! authorises on the server, makes one domain call and maps the result. Form errors travel back
//! as query parameters of a redirect, so every form works the same with JavaScript off.

pub mod account;
pub mod audit;
pub mod auth;
pub mod bindings;
pub mod groups;
pub mod oidc;
pub mod roles;
pub mod scim;
pub mod service_accounts;
pub mod sign_ins;
pub mod tenants;
pub mod users;

#[cfg(feature = "ssr")]
pub mod ctx;
#[cfg(feature = "ssr")]
pub mod gate;
#[cfg(feature = "ssr")]
pub mod reveal;
