//! SCIM 2.0 protocol core (RFC 7643/7644): schemas, filters, PATCH, projection, discovery and errors, as pure
//! functions over `serde_json::Value` — no HTTP and no database code lives here.
//!
//! Map of the module, bottom up (no module imports one listed after it):
//! - [`urn`]: schema and message URNs and the SCIM media type, as named constants.
//! - [`error`]: the one error type, rendered as an RFC 7644 §3.12 body.
//! - [`attr_path`]: [`AttrPath`] and its plain parser, shared by filters, PATCH paths, projection and schemas.
//! - [`schema`]: the attribute registry (User, Group, Enterprise User, common attributes) as data.
//! - [`filter`]: filter text → [`filter::Filter`] AST (for storage to translate to SQL), printer, evaluator.
//! - [`path`]: PATCH `path` parsing into [`path::PatchPath`].
//! - [`resource`]: `ListResponse`, `.search` bodies, validation and rendering of User/Group bodies, merging
//!   elements of multi-valued attributes.
//! - [`cursor`]: RFC 9865 cursors, a walk's position handed to the client and kept nowhere.
//! - [`patch`]: the PATCH application engine and the Group member delta.
//! - [`projection`]: `attributes` / `excludedAttributes`.
//! - [`stored_text`]: a resource's default view written from its stored JSON text.
//! - [`discovery`]: ServiceProviderConfig, ResourceTypes and Schemas documents.

pub mod attr_path;
pub mod cursor;
pub mod discovery;
pub mod error;
pub mod filter;
mod json;
pub mod json_text;
pub mod patch;
pub mod path;
pub mod projection;
pub mod resource;
pub mod schema;
pub mod stored_text;
pub mod urn;

#[cfg(test)]
mod fixture_tests;

pub use attr_path::AttrPath;
pub use error::ScimError;
pub use filter::{CompareOp, CompareValue, Filter};
pub(crate) use json::next_to_escape;
pub use json::{push_json_escaped, push_json_str};
pub use schema::{registry, Registry};
