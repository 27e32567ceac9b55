//! Roster's one integration-test binary: drives the axum router in process, on a fresh database
//! per test. SQLite by default; PostgreSQL when `ROSTER_TEST_POSTGRES_URL` names a server
//! (the test command starts one on loopback).

// Tests may unwrap, expect and panic (Cargo.toml denies them in the crate itself).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod account;
mod attacks_identity;
mod attacks_web;
mod auth;
mod authz_matrix;
mod backup;
mod cli;
mod health;
mod oidc;
mod outage;
mod process;
mod renders;
mod scim_audit;
mod scim_auth;
mod scim_cli;
mod scim_cursors;
mod scim_groups;
mod scim_limits;
mod scim_replay;
mod scim_users;
mod sign_ins;
mod storage_full;
mod tenants;
mod ui_audit;
mod ui_groups;
mod ui_oidc;
mod ui_roles;
mod ui_scim;
mod ui_service_accounts;
mod ui_users;
mod writes;
