//! Groups of a tenant: list, members, and the roles bound to them.
