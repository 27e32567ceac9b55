//! A user's stored profile kept beside it as its default view (`users.scim_view`): the members
//! an answer in the default view shows of it, chosen once when the profile is written
//! (`scim::stored_text::view_members`), so that a page or a look-up writes each user from that
//! text without reading their JSON (issue #13: reading it was a fifth of a page's work).
//!
//! A view is used only for the profile it was chosen from, under the rules it was chosen by:
//! it starts with a tag naming those rules ([`view_tag`]: another release's schemas make
//! another tag; its views are passed over for the JSON, and dropped at the next start,
//! [`prepare`]), and the database itself drops a view when the profile changes without it
//! ([`guard`]: a replica of an older release writes the JSON alone).

use std::sync::OnceLock;

use super::triggers::Trigger;
use super::Conn;
use crate::error::AppResult;
use crate::scim::schema::registry;
use crate::scim::stored_text;

/// The User attributes the server writes into every answer itself, from columns of their own
/// (`users`, `tenant_access`, `tenant_access_sources`, `group_members`) and the clock; in byte
/// order. A kept view leaves them out.
pub const SERVER_ATTRIBUTES: [&str; 6] =
    ["active", "externalId", "groups", "id", "meta", "userName"];

/// The tag a user's kept view starts with ([`stored_text::view_tag`] of the User type and
/// [`SERVER_ATTRIBUTES`]).
pub fn view_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| stored_text::view_tag(registry().user(), &SERVER_ATTRIBUTES))
}

/// What is kept as the view of the profile `scim_json`: [`view_tag`], then the view; `None`
/// when the profile needs the tree path.
pub fn kept_view(scim_json: &str) -> Option<String> {
    let view = stored_text::view_members(registry().user(), Some(scim_json), &SERVER_ATTRIBUTES)?;
    Some([view_tag(), view.as_str()].concat())
}

/// The view's text of `kept` (a column as [`kept_view`] wrote it): after this release's tag;
/// `None` for a view kept under another tag (another release's, to be chosen again).
pub fn untagged(kept: &str) -> Option<&str> {
    kept.strip_prefix(view_tag())
}

/// Makes the kept views this release's at its start: drops those kept under another tag (whose
/// users are answered from their JSON until their next write, as before views were kept), and
/// installs the trigger that keeps views from going stale ([`guard`]).
pub async fn prepare(conn: &mut Conn) -> AppResult<u64> {
    // The tag holds no `%` or `_`.
    let this_release = [view_tag(), "%"].concat();
    let dropped = sqlx::query("UPDATE users SET scim_view = NULL WHERE scim_view NOT LIKE $1")
        .bind(this_release)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    guard(conn).await?;
    Ok(dropped)
}

/// Installs (once; again is a no-op) the trigger that drops a user's view when their profile
/// is written without it: an `UPDATE` that changes `scim_json` and leaves `scim_view` as it was.
/// This release writes both in one statement; a view that stays the same while the profile
/// changes (an attribute the view does not show) is dropped too, and the answers take the JSON
/// until the next write.
async fn guard(conn: &mut Conn) -> AppResult<()> {
    super::triggers::install(conn, &VIEW_FOLLOWS).await
}

/// Drops a user's view when their profile is written without it ([`guard`]).
const VIEW_FOLLOWS: Trigger = Trigger {
    name: "users_profile_view_follows",
    table: "users",
    sqlite: "CREATE TRIGGER IF NOT EXISTS users_profile_view_follows \
             AFTER UPDATE OF scim_json ON users FOR EACH ROW \
             WHEN NEW.scim_json IS NOT OLD.scim_json AND NEW.scim_view IS OLD.scim_view \
             BEGIN UPDATE users SET scim_view = NULL WHERE rowid = NEW.rowid; END",
    postgres: "CREATE OR REPLACE FUNCTION users_profile_view_follows() RETURNS trigger \
               LANGUAGE plpgsql AS $$ BEGIN \
               IF NEW.scim_json IS DISTINCT FROM OLD.scim_json \
               AND NEW.scim_view IS NOT DISTINCT FROM OLD.scim_view THEN \
               NEW.scim_view := NULL; END IF; RETURN NEW; END $$; \
               CREATE TRIGGER users_profile_view_follows BEFORE UPDATE OF scim_json \
               ON users FOR EACH ROW EXECUTE FUNCTION users_profile_view_follows()",
    lock: 0x526f_7374_6572_0012,
};
