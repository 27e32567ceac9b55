//! Roster's one integration-test binary: drives the axum router in process, on a fresh database
//! per test. SQLite by default; PostgreSQL when `ROSTER_TEST_POSTGRES_URL` names a server
//! (the test command starts one on loopback).

mod helpers;

mod auth;
mod cli;
mod health;
mod oidc;
mod scim_auth;
mod scim_cli;
mod scim_groups;
mod scim_replay;
mod scim_users;
mod tenants;
