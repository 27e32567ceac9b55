//! Users of a tenant: list and search, one user's access, groups, bindings and effective permissions.
