//! Who is asking: password hashing, browser sessions, the sign-in flow with its throttle, and
//! single sign-on with OpenID Connect.

pub mod client;
pub mod cookies;
pub mod housekeeping;
pub mod login;
pub mod oidc;
pub mod password;
pub mod random;
pub mod session;
pub mod throttle;
pub mod user_agent;
