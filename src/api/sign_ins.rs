//! Sign-in activity as people read it: a person's own under Your account (`api::account`), and
//! every account's under Instance → Sign-ins (superadmins, `iam::sign_ins`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::ctx::ctx,
    crate::auth::login::{method, outcome},
    crate::auth::user_agent,
    crate::clock::rfc3339,
    crate::db::sign_ins::SignIn,
    crate::iam::sign_ins::{self, Query},
};

/// A sign-in, or a password check that failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInItem {
    pub at: String,
    /// "Signed in", "Wrong password", "Refused: account suspended", "Password changed".
    pub what: String,
    /// Whether it is one to look at twice (a wrong password, a refusal).
    pub failed: bool,
    /// "Password", "Password change", or the OpenID provider's name.
    pub how: String,
    pub browser: String,
    pub user_agent: Option<String>,
    pub address: String,
}

#[cfg(feature = "ssr")]
pub fn sign_in_item(s: SignIn) -> SignInItem {
    let (what, failed) = match s.outcome.as_str() {
        outcome::SIGNED_IN => ("Signed in", false),
        outcome::PASSWORD_CHANGED => ("Password changed", false),
        outcome::SUSPENDED => ("Refused: account suspended", true),
        _ => ("Wrong password", true),
    };
    let how = match s.method.strip_prefix(method::OIDC_PREFIX) {
        Some(provider) => provider.to_string(),
        None if s.method == method::PASSWORD_CHANGE => "Password change".into(),
        None => "Password".into(),
    };
    SignInItem {
        at: rfc3339(s.at),
        what: what.into(),
        failed,
        how,
        browser: user_agent::label(s.user_agent.as_deref()),
        user_agent: s.user_agent,
        address: s.client_address,
    }
}

/// One row of Instance → Sign-ins: whose account, and what happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSignIn {
    pub user_id: String,
    pub username: String,
    pub sign_in: SignInItem,
}

/// A page of the instance's sign-ins, newest first, with the cursors of the pages beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceSignIns {
    pub failed_only: bool,
    /// The account the page keeps to (id, username), when it does.
    pub user: Option<(String, String)>,
    pub sign_ins: Vec<AccountSignIn>,
    /// `before` of the next older page.
    pub older: Option<String>,
    /// `after` of the next newer page.
    pub newer: Option<String>,
    /// Failed password checks across the instance in the last 24 hours.
    pub failed_lately: i64,
}

pub const PAGE: &str = "/instance/sign-ins";

/// Every account's sign-ins and failed password checks (superadmins only): `failed` keeps to
/// the failures, `user` to one account (its id); `before` / `after` are a page's `older` /
/// `newer`.
#[server(endpoint = "instance/sign-ins")]
pub async fn list_sign_ins(
    failed: Option<String>,
    user: Option<String>,
    before: Option<String>,
    after: Option<String>,
) -> Result<InstanceSignIns, ServerFnError> {
    let ctx = ctx();
    let actor = ctx.require_user().await?;
    let query = Query {
        failed_only: failed.as_deref().is_some_and(|f| !f.is_empty() && f != "0"),
        user_id: user.filter(|u| !u.is_empty()),
        before,
        after,
    };
    let clock = ctx.state.clock.as_ref();
    let page = sign_ins::page(&ctx.state.db, clock, &actor, &query)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(InstanceSignIns {
        failed_only: query.failed_only,
        user: page.user.map(|u| (u.id, u.username)),
        sign_ins: page
            .sign_ins
            .into_iter()
            .map(|r| AccountSignIn {
                user_id: r.user_id,
                username: r.username,
                sign_in: sign_in_item(r.sign_in),
            })
            .collect(),
        older: page.older,
        newer: page.newer,
        failed_lately: page.failed_lately,
    })
}
