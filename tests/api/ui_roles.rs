//! The Roles and Bindings pages' server functions: custom roles, the matrix, bindings.
