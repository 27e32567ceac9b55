//! SCIM 2.0 protocol core (RFC 7643/7644): schemas, filters, PATCH, projection, discovery and errors, as pure
//! functions over `serde_json::Value` — no HTTP and no database code lives here.
//!
//! Map of the module:
//! - [`error`]: the one error type, rendered as an RFC 7644 §3.12 body.
//! - [`schema`]: the attribute registry (User, Group, Enterprise User, common attributes) as data.
//! - [`filter`]: filter text → [`filter::Filter`] AST (for storage to translate to SQL), printer, evaluator.
//! - [`path`]: PATCH `path` parsing into [`path::PatchPath`].
//! - [`patch`]: the PATCH application engine and the Group member delta.
//! - [`projection`]: `attributes` / `excludedAttributes`.
//! - [`resource`]: URNs, `ListResponse`, `.search` bodies, validation and rendering of User/Group bodies.
//! - [`discovery`]: ServiceProviderConfig, ResourceTypes and Schemas documents.

pub mod discovery;
pub mod error;
pub mod filter;
mod json;
pub mod patch;
pub mod path;
pub mod projection;
pub mod resource;
pub mod schema;

#[cfg(test)]
mod fixture_tests;

pub use error::ScimError;
pub use filter::{AttrPath, CompareOp, CompareValue, Filter};
pub use schema::{registry, Registry};
