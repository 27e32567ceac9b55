//! Bindings: which role a user, group or service account has in a tenant.
