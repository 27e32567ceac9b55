//! The Users pages' server functions: search, paging, access, passwords, effective permissions.
