//! "Show a secret once", for every page that makes one (a service account's API token, a SCIM
//! integration's Secret Token). With JavaScript a server function can simply return the secret;
//! a plain form post cannot carry it in its redirect (URLs end up in logs and history), so the
//! server hands it to the next page in a one-time cookie: HttpOnly (no script reads it),
//! SameSite=Strict, scoped to the paths that read it, short-lived, and cleared by the first read.
//! The database only ever holds the secret's hash.

use super::ctx::Ctx;
use crate::auth::cookies::one_time;

/// A one-time cookie: its name and how long it lives.
pub struct OneTime {
    pub name: &'static str,
    pub max_age_secs: i64,
}

impl OneTime {
    /// `Set-Cookie` values that hand `value` to the pages under each of `paths`.
    pub fn set_cookies(&self, value: &str, paths: &[String], secure: bool) -> Vec<String> {
        paths
            .iter()
            .map(|p| one_time(self.name, value, p, self.max_age_secs, secure))
            .collect()
    }

    /// `Set-Cookie` values that remove the cookie from each of `paths`.
    pub fn clear_cookies(&self, paths: &[String], secure: bool) -> Vec<String> {
        paths
            .iter()
            .map(|p| one_time(self.name, "", p, 0, secure))
            .collect()
    }

    /// Hands `value` to the pages under each of `paths`.
    pub fn hand_over(&self, ctx: &Ctx, value: &str, paths: &[String]) {
        let secure = ctx.state.settings.secure_cookies();
        for c in self.set_cookies(value, paths, secure) {
            ctx.set_cookie(&c);
        }
    }

    /// The value the request carries, if any; when it carries one, the cookie is cleared on
    /// each of `paths`, so it is read once.
    pub fn take(&self, ctx: &Ctx, paths: &[String]) -> Option<String> {
        let value = ctx.cookie(self.name)?;
        for c in self.clear_cookies(paths, ctx.state.settings.secure_cookies()) {
            ctx.set_cookie(&c);
        }
        Some(value)
    }
}
