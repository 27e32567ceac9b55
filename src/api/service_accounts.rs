//! Service accounts of a tenant and their API tokens.
