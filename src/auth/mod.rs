//! Who is asking: password hashing, browser sessions and the sign-in flow with its throttle, and
//! the key that seals secrets Roster must read back.

pub mod login;
pub mod password;
pub mod secret_box;
pub mod session;
