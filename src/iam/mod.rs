//! The rules of Roster's identity model: who may create what, and what must hold afterwards.
//! Storage is in `db`; HTTP and UI layers call these functions and only map their results.

pub mod account;
pub mod audit;
pub mod bindings;
pub mod directory;
pub mod groups;
pub mod instance;
pub mod integrations;
pub mod permissions;
pub mod reach;
pub mod roles;
pub mod scim;
pub mod scim_groups;
pub mod scim_users;
pub mod service_accounts;
pub mod sign_ins;
pub mod tenants;
pub mod users;
