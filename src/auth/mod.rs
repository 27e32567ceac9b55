//! Who is asking: password hashing, browser sessions and the sign-in flow with its throttle.

pub mod login;
pub mod password;
pub mod session;
