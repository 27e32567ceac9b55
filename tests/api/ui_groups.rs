//! The Groups pages' server functions: members, SCIM warnings, attaching roles.
