//! The text columns SCIM filters and `sortBy` compare are compared bytewise on both databases:
//! SQLite's `BINARY`, and on PostgreSQL the `"C"` collation, set here after the migrations
//! whatever the database's own default (a server's `initdb` takes its locale: `en_US.UTF-8`,
//! `C.UTF-8` or an ICU locale in most installations). Under such a collation PostgreSQL's index
//! on a column cannot find a prefix (`userName sw` read every user of the instance), an order
//! differs from SQLite's (`sortBy=externalId` put `a1` before `B1`), and every index entry is
//! compared by the locale's rules, which cost more than a `memcmp`.

use super::{backend_of, Backend, Conn};
use crate::error::AppResult;

/// The columns SCIM's filters and sorts compare as text ([`super::scim_filter`]), by table; and
/// `users.email_lower`, which a sign-in by email and the Users page's search compare.
pub const BYTEWISE: [(&str, &[&str]); 4] = [
    (
        "users",
        &["username_lower", "display_name_lower", "email_lower"],
    ),
    ("user_emails", &["value_lower", "kind"]),
    ("groups", &["display_name_lower", "external_id"]),
    ("tenant_access_sources", &["external_id"]),
];

/// The advisory lock replicas starting together take turns under ([`make_bytewise`]).
const TURN: i64 = 0x526f_7374_6572_0c01;

/// On PostgreSQL, puts each of [`BYTEWISE`]'s columns not yet in the `"C"` collation into it:
/// one `ALTER TABLE` a table, which rebuilds the indexes on those columns (no table rewrite: the
/// type stays `text`). A no-op once done, and on SQLite. Answers the number of columns changed.
///
/// Run it in a transaction of its own that has taken no other lock: an `ALTER TABLE` waits for
/// every transaction using its table, and one of those waiting for a lock this transaction held
/// would be a deadlock (three replicas starting together deadlocked when it ran after the other
/// steps of [`super::Db::migrate`]). Replicas starting together take turns under an advisory lock
/// held to the commit, so the first one changes the columns and the others find them changed.
pub async fn make_bytewise(conn: &mut Conn) -> AppResult<usize> {
    if backend_of(conn) != Backend::Postgres {
        return Ok(0);
    }
    sqlx::raw_sql(&format!("SELECT pg_advisory_xact_lock({TURN})"))
        .execute(&mut *conn)
        .await?;
    // Every column of the list that is not yet bytewise, in one read: `table.column`.
    let listed: Vec<String> = BYTEWISE
        .iter()
        .flat_map(|(table, columns)| columns.iter().map(move |c| format!("{table}.{c}")))
        .collect();
    let not_bytewise: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text || '.' || column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() \
         AND table_name::text || '.' || column_name::text = ANY (string_to_array($1, ',')) \
         AND collation_name IS DISTINCT FROM 'C'",
    )
    .bind(listed.join(","))
    .fetch_all(&mut *conn)
    .await?;
    for (table, columns) in BYTEWISE {
        let alters: Vec<String> = columns
            .iter()
            .filter(|c| not_bytewise.contains(&format!("{table}.{c}")))
            .map(|c| format!("ALTER COLUMN {c} TYPE text COLLATE \"C\""))
            .collect();
        if !alters.is_empty() {
            sqlx::query(&format!("ALTER TABLE {table} {}", alters.join(", ")))
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(not_bytewise.len())
}
