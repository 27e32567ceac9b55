//! Tenant access and where it came from: `manual`, or a SCIM integration (with that integration's
//! `externalId` for the user). An access lives while at least one source does; `active` is the
//! per-tenant suspension flag (SCIM `active`). The tenant's kept count of access (migrations
//! 0011 and 0014: the sum of its `tenant_access_counts` slots) moves with its access rows, in
//! the same transaction.

use sqlx::Row;

use super::last_write::LastWrite;
use super::scim_users;
use super::script::{self, Param};
use super::triggers::Trigger;
use super::{Backend, Conn};
use crate::clock::Millis;
use crate::error::AppResult;

/// SQL: the kept count of access of the tenant whose id is `$tenant` (a parameter or a column),
/// the sum of its slots (0 without any); a `BIGINT` on both databases.
macro_rules! kept_count_of {
    ($tenant:literal) => {
        concat!(
            "COALESCE((SELECT CAST(SUM(c.n) AS BIGINT) FROM tenant_access_counts c \
             WHERE c.tenant_id = ",
            $tenant,
            "), 0)"
        )
    };
}
pub(crate) use kept_count_of;

/// Slots of a tenant's kept count on PostgreSQL, where each is a row lock held to its writer's
/// commit: concurrent grants and ends in one tenant add to different rows (migration 0014).
/// SQLite, with one writer at a time, uses slot 0 alone.
const COUNT_SLOTS: u64 = 64;

/// The slot of a tenant's kept count that `user_id`'s grants and ends add to on PostgreSQL.
pub fn count_slot(user_id: &str) -> i64 {
    // FNV-1a over the whole id: users created together share a time-ordered id's first
    // characters, and its random tail spreads them.
    let hash = user_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % COUNT_SLOTS) as i64
}

/// An upsert adding to a slot of a tenant's kept count, the slot's row (tenant, slot, amount)
/// given by `$row` (`VALUES …` or a `SELECT`).
macro_rules! add_to_count {
    ($row:literal) => {
        concat!(
            "INSERT INTO tenant_access_counts (tenant_id, slot, n) ",
            $row,
            " ON CONFLICT (tenant_id, slot) DO UPDATE SET n = tenant_access_counts.n + excluded.n"
        )
    };
}

/// Adds `$3` to slot `$2` of tenant `$1`'s kept count.
const ADD_TO_COUNT: &str = add_to_count!("VALUES ($1, $2, $3)");

/// [`ADD_TO_COUNT`] in a SQLite script, right after the statement that inserted (`+1`) or
/// deleted (`-1`) the access: slot 0 moves when that statement changed a row (`changes()`, its
/// count, foreign-key cascades not included).
const SQLITE_COUNT_GRANT: &str = add_to_count!("SELECT $1, 0, 1 WHERE changes() > 0");
const SQLITE_COUNT_END: &str = add_to_count!("SELECT $1, 0, -1 WHERE changes() > 0");

/// The source name of access granted by hand (UI or CLI).
pub const MANUAL: &str = "manual";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRow {
    pub active: bool,
    pub version: i64,
}

pub async fn find(conn: &mut Conn, tenant_id: &str, user_id: &str) -> AppResult<Option<AccessRow>> {
    let row = sqlx::query(
        "SELECT active, version FROM tenant_access WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(AccessRow {
            active: super::flag_of(r.try_get("active")?),
            version: r.try_get("version")?,
        })
    })
    .transpose()
}

/// Grants access from `source` (creating the access, active, when missing) and records the
/// source's external id for the user.
pub async fn grant(
    conn: &mut Conn,
    tenant_id: &str,
    user_id: &str,
    source: &str,
    external_id: Option<&str>,
    now: Millis,
) -> AppResult<()> {
    grant_as(
        conn,
        tenant_id,
        user_id,
        source,
        external_id,
        now,
        true,
        true,
        None,
        &LastWrite::default(),
    )
    .await?;
    Ok(())
}

/// What [`grant_as`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Granted {
    /// The [`scim_users::NewUser`] it was given was inserted (its userName was free).
    pub user_inserted: bool,
    /// The access is new (an existing one keeps its state).
    pub new_access: bool,
}

/// [`grant`] with the state a new access starts in (`active`, and whether the IdP assigned it).
/// With a `new_user`, that user is inserted first with the id `user_id`, in the same script,
/// with their email rows, unless their userName is taken: then the script changes nothing (its
/// statements insert only for a user that exists) and the caller decides what the taken name
/// means. One trip to SQLite's connection thread for a create, where the user's insert was a
/// trip of its own: two thread switches of the request's and the database's. With a new user,
/// the script is the transaction's last when the caller says so (`last`, [`LastWrite`]), unless
/// its emails need statements after it; a caller that goes on after a taken name resumes.
#[allow(clippy::too_many_arguments)]
pub async fn grant_as(
    conn: &mut Conn,
    tenant_id: &str,
    user_id: &str,
    source: &str,
    external_id: Option<&str>,
    now: Millis,
    active: bool,
    assigned: bool,
    new_user: Option<&scim_users::NewUser<'_>>,
    last: &LastWrite,
) -> AppResult<Granted> {
    // Each inserts only for a user that exists: a new user whose name was taken was not
    // inserted, and nothing may refer to their id.
    const STATEMENTS: [&str; 2] = [
        "INSERT INTO tenant_access \
         (tenant_id, user_id, created_at, active, active_assigned, version, user_created_at) \
         SELECT $1, $2, $5, $6, $7, 1, u.created_at FROM users u WHERE u.id = $2 \
         ON CONFLICT (tenant_id, user_id) DO NOTHING",
        "INSERT INTO tenant_access_sources (tenant_id, user_id, source, external_id, created_at) \
         SELECT $1, $2, $3, $4, $5 FROM users u WHERE u.id = $2 \
         ON CONFLICT (tenant_id, user_id, source) DO UPDATE SET external_id = excluded.external_id",
    ];
    let mut params = vec![
        Param::Text(Some(tenant_id)),
        Param::Text(Some(user_id)),
        Param::Text(Some(source)),
        Param::Text(external_id),
        Param::Int(now),
        Param::Int(super::flag(active)),
        Param::Int(super::flag(assigned)),
    ];
    let Some(user) = new_user else {
        let done =
            counting_access(conn, &STATEMENTS, 0, 1, (tenant_id, user_id), &params, last).await?;
        return Ok(Granted {
            user_inserted: false,
            new_access: changed(&done, 0),
        });
    };
    // The user, then their email rows, then the grant. The user's parameters follow the grant's
    // seven (the user at `$2`, the time at `$5`): the creating integration at `$8`, the profile
    // from `$9` (`scim_users::INSERT_USER`); the emails' after those. More emails than one
    // statement holds are added after the script, once the user is in.
    let keys = user.keys();
    debug_assert_eq!(params.len(), 7);
    params.push(Param::Text(Some(user.created_by)));
    params.extend(user.params(&keys));
    let emails = user.profile.emails;
    let in_script = emails.len() <= scim_users::EMAILS_AT_ONCE;
    let email_keys: Vec<(String, String)> = if in_script {
        scim_users::email_keys(emails).collect()
    } else {
        Vec::new()
    };
    let emails_at = params.len() + 1;
    for (value, kind) in &email_keys {
        params.push(Param::Text(Some(value)));
        params.push(Param::Text(Some(kind)));
    }
    let emails_sql =
        (!email_keys.is_empty()).then(|| scim_users::emails_insert(2, emails_at, email_keys.len()));
    let mut statements = vec![scim_users::INSERT_USER];
    statements.extend(emails_sql.as_deref());
    let access_at = statements.len();
    statements.extend(STATEMENTS);
    let last = last.when(in_script);
    let done = counting_access(
        conn,
        &statements,
        access_at,
        1,
        (tenant_id, user_id),
        &params,
        &last,
    )
    .await?;
    let granted = Granted {
        user_inserted: changed(&done, 0),
        new_access: changed(&done, access_at),
    };
    if granted.user_inserted && !in_script {
        scim_users::add_emails(conn, user_id, emails).await?;
    }
    Ok(granted)
}

/// Runs a grant's or an end's `statements` with `params` (`$1` the tenant, `$2` the user), of
/// which the one at `access_at` inserts or deletes the access; when it changed a row, the
/// tenant's kept count moves by `delta` (1 or -1) in the same transaction. On SQLite by a
/// statement of the script right after it, in slot 0; on PostgreSQL, whose protocol runs a
/// statement at a time, by one after the script, in the user's slot ([`count_slot`]). Answers
/// what the script did: `affected[i]` for `statements[i]` ([`changed`]). On SQLite the script
/// is run as the transaction's last as `last` says ([`script::run_last`]).
async fn counting_access(
    conn: &mut Conn,
    statements: &[&str],
    access_at: usize,
    delta: i64,
    (tenant_id, user_id): (&str, &str),
    params: &[Param<'_>],
    last: &LastWrite,
) -> AppResult<script::Outcome> {
    if super::backend_of(conn) == Backend::Sqlite {
        let count = if delta > 0 {
            SQLITE_COUNT_GRANT
        } else {
            SQLITE_COUNT_END
        };
        let mut counted = statements.to_vec();
        counted.insert(access_at + 1, count);
        let mut done = script::run_last(conn, &counted, params, last).await?;
        if done.affected.len() > access_at + 1 {
            done.affected.remove(access_at + 1);
        }
        return Ok(done);
    }
    let done = script::run(conn, statements, params).await?;
    if changed(&done, access_at) {
        sqlx::query(ADD_TO_COUNT)
            .bind(tenant_id)
            .bind(count_slot(user_id))
            .bind(delta)
            .execute(&mut *conn)
            .await?;
    }
    Ok(done)
}

/// Whether `statements[at]` of a script changed a row.
fn changed(done: &script::Outcome, at: usize) -> bool {
    done.affected.get(at).is_some_and(|&n| n > 0)
}

/// Sets a user's `active` in a tenant and whether the IdP assigned it, in one statement; the
/// version (ETag) moves only when one of them changes.
pub async fn set_active(
    conn: &mut Conn,
    tenant_id: &str,
    user_id: &str,
    active: bool,
    assigned: bool,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE tenant_access SET active = $1, active_assigned = $2, version = version + 1 \
         WHERE tenant_id = $3 AND user_id = $4 AND (active <> $1 OR active_assigned <> $2)",
    )
    .bind(super::flag(active))
    .bind(super::flag(assigned))
    .bind(tenant_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks a tenant-scoped change of the user (ETag).
pub async fn touch(conn: &mut Conn, tenant_id: &str, user_id: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE tenant_access SET version = version + 1 WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends `source`'s grant of the user's access to the tenant, and marks the user changed (their
/// lastModified and ETag). When no source is left, the access ends with what it carried: their
/// memberships in the tenant's groups and the roles bound to them there (a user given access
/// again starts with neither). True when the access ended.
///
/// One script ([`script::run`]). The access goes before what it carried, which then goes only
/// where no access is left: on PostgreSQL a PATCH adding the user to a group holds their access
/// row (`FOR SHARE`, `db::groups`) until it commits, so the access's `DELETE` waits for it, and
/// the memberships' `DELETE` after it (a statement of its own, which sees what committed before
/// it began) takes the new membership too. Deleting the memberships first missed it.
pub async fn revoke(
    conn: &mut Conn,
    tenant_id: &str,
    user_id: &str,
    source: &str,
    now: Millis,
    last: &LastWrite,
) -> AppResult<bool> {
    const STATEMENTS: [&str; 5] = [
        "DELETE FROM tenant_access_sources WHERE tenant_id = $1 AND user_id = $2 AND source = $3",
        "DELETE FROM tenant_access WHERE tenant_id = $1 AND user_id = $2 AND NOT EXISTS \
         (SELECT 1 FROM tenant_access_sources o WHERE o.tenant_id = $1 AND o.user_id = $2)",
        "DELETE FROM group_members WHERE user_id = $2 AND tenant_id = $1 AND NOT EXISTS \
         (SELECT 1 FROM tenant_access a WHERE a.tenant_id = $1 AND a.user_id = $2)",
        "DELETE FROM bindings WHERE tenant_id = $1 AND subject_type = 'user' AND subject_id = $2 \
         AND NOT EXISTS \
         (SELECT 1 FROM tenant_access a WHERE a.tenant_id = $1 AND a.user_id = $2)",
        "UPDATE users SET updated_at = $4, version = version + 1 WHERE id = $2",
    ];
    let params = [
        Param::Text(Some(tenant_id)),
        Param::Text(Some(user_id)),
        Param::Text(Some(source)),
        Param::Int(now),
    ];
    let done = counting_access(
        conn,
        &STATEMENTS,
        1,
        -1,
        (tenant_id, user_id),
        &params,
        last,
    )
    .await?;
    Ok(changed(&done, 1))
}

/// (accesses, active accesses) of a user across all tenants.
pub async fn counts(conn: &mut Conn, user_id: &str) -> AppResult<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, COUNT(CASE WHEN active = 1 THEN 1 END) AS a \
         FROM tenant_access WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.try_get("n")?, row.try_get("a")?))
}

/// The external id a source holds for a user, if any.
pub async fn external_id(
    conn: &mut Conn,
    tenant_id: &str,
    user_id: &str,
    source: &str,
) -> AppResult<Option<String>> {
    let row = sqlx::query(
        "SELECT external_id FROM tenant_access_sources \
         WHERE tenant_id = $1 AND user_id = $2 AND source = $3",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(source)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => r.try_get("external_id")?,
        None => None,
    })
}

/// A tenant whose kept count of access (the sum of its slots) was not the count of its access
/// rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miscount {
    pub tenant_id: String,
    pub kept: i64,
    pub counted: i64,
}

/// The tenants whose kept count is not their access rows' count, read in one statement (one
/// snapshot on both databases). Every grant and end of access this binary makes moves the two
/// together in one transaction, so they differ only after a writer that does not keep the count:
/// a replica still running a binary from before migration 0014 during a rolling start, or a
/// hand edit of the database.
pub async fn miscounted(conn: &mut Conn) -> AppResult<Vec<Miscount>> {
    let rows = sqlx::query(concat!(
        "SELECT id, kept, counted FROM (SELECT t.id, ",
        kept_count_of!("t.id"),
        " AS kept, (SELECT COUNT(*) FROM tenant_access a WHERE a.tenant_id = t.id) AS counted \
         FROM tenants t) k WHERE kept <> counted ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Miscount {
                tenant_id: r.try_get("id")?,
                kept: r.try_get("kept")?,
                counted: r.try_get("counted")?,
            })
        })
        .collect()
}

/// Sets `tenant_id`'s kept count right, in a write transaction (`tx`): what it was and what it
/// is now (`None`: no such tenant). Exact beside grants and ends of access in flight on other
/// connections, without waiting for them: one statement reads both the count and the rows (one
/// snapshot, in which a grant has made both of its changes or neither), and the difference is
/// added to slot 0, not set — a grant that commits after the read adds its own move on top.
pub async fn recount(tx: &mut Conn, tenant_id: &str) -> AppResult<Option<Miscount>> {
    let Some(row) = sqlx::query(concat!(
        "SELECT ",
        kept_count_of!("t.id"),
        " AS kept, (SELECT COUNT(*) FROM tenant_access a WHERE a.tenant_id = t.id) AS counted \
         FROM tenants t WHERE t.id = $1"
    ))
    .bind(tenant_id)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    let (kept, counted): (i64, i64) = (row.try_get("kept")?, row.try_get("counted")?);
    if counted != kept {
        sqlx::query(ADD_TO_COUNT)
            .bind(tenant_id)
            .bind(0_i64)
            .bind(counted - kept)
            .execute(&mut *tx)
            .await?;
    }
    Ok(Some(Miscount {
        tenant_id: tenant_id.to_string(),
        kept,
        counted,
    }))
}

/// Makes every access row carry its user's creation time (migration 0013), whoever inserts it:
/// installs (once; again is a no-op) the trigger that fills it in for a row inserted without it
/// — by an older binary during a rolling start of replicas, whose rows would otherwise sort
/// apart and be passed over by a continued page — and fills in the rows inserted before the
/// trigger was there, on the partial index of those rows (a no-op once done). This release's
/// grants write it themselves ([`grant_as`]), so the trigger's condition is all they pay.
pub async fn prepare_creation_order(conn: &mut Conn) -> AppResult<u64> {
    super::triggers::install(conn, &CREATION_TIME).await?;
    let filled = sqlx::query(
        "UPDATE tenant_access SET user_created_at = \
         (SELECT u.created_at FROM users u WHERE u.id = tenant_access.user_id) \
         WHERE user_created_at IS NULL",
    )
    .execute(&mut *conn)
    .await?;
    Ok(filled.rows_affected())
}

/// Fills in an access row's user creation time when its insert left it out.
const CREATION_TIME: Trigger = Trigger {
    name: "tenant_access_creation_time",
    table: "tenant_access",
    sqlite: "CREATE TRIGGER IF NOT EXISTS tenant_access_creation_time \
             AFTER INSERT ON tenant_access FOR EACH ROW WHEN NEW.user_created_at IS NULL \
             BEGIN UPDATE tenant_access SET user_created_at = \
             (SELECT u.created_at FROM users u WHERE u.id = NEW.user_id) \
             WHERE rowid = NEW.rowid; END",
    postgres: "CREATE OR REPLACE FUNCTION tenant_access_creation_time() RETURNS trigger \
               LANGUAGE plpgsql AS $$ BEGIN \
               IF NEW.user_created_at IS NULL THEN NEW.user_created_at := \
               (SELECT u.created_at FROM users u WHERE u.id = NEW.user_id); END IF; \
               RETURN NEW; END $$; \
               CREATE TRIGGER tenant_access_creation_time BEFORE INSERT ON tenant_access \
               FOR EACH ROW EXECUTE FUNCTION tenant_access_creation_time()",
    lock: 0x526f_7374_6572_0013,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// Users' ids (time-ordered, as Roster makes them) spread over every slot, none holding
    /// more than twice its share: concurrent grants in a tenant seldom share a row.
    #[test]
    fn user_ids_spread_over_every_slot_of_a_kept_count() {
        let mut per_slot = [0_u32; COUNT_SLOTS as usize];
        for n in 0..6_400_u32 {
            let id = format!(
                "01a2487c-{:04x}-7{:03x}-8e33-286aa1d0af23",
                n / 16,
                n % 4096
            );
            let slot = count_slot(&id);
            assert!((0..COUNT_SLOTS as i64).contains(&slot), "{slot}");
            per_slot[slot as usize] += 1;
        }
        let (least, most) = (per_slot.iter().min(), per_slot.iter().max());
        assert!(least > Some(&0) && most <= Some(&200), "{per_slot:?}");
    }
}
