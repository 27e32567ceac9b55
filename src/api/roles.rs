//! Roles of a tenant: managed roles (read-only) and custom roles with their permission matrix.
