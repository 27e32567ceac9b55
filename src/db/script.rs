//! Several statements of one write sent to the database as one: on SQLite in a single call (one
//! trip to its connection's worker thread, where each statement was a trip there and back, a
//! wake-up of each side and a poll of the request's whole future); on PostgreSQL one after the
//! other, as its protocol wants (a prepared statement holds one command).
//!
//! The statements share one list of parameters, `$1`, `$2`, … numbered across the script. SQLite
//! binds each statement's `$n` to the n-th argument; for PostgreSQL each statement is renumbered
//! to the parameters it uses (it cannot leave one untyped).

use futures_util::TryStreamExt;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Either, Executor};

use super::last_write::{Folded, LastWrite};
use super::{Backend, Conn};
use crate::error::{AppError, AppResult};

/// A value bound to a script's `$n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param<'a> {
    /// Text, or SQL `NULL`.
    Text(Option<&'a str>),
    Int(i64),
}

/// What a script did: the rows its statements returned, in order, and how many rows each
/// statement changed (`affected[i]` for `statements[i]`; meaningful for an `INSERT`, `UPDATE`
/// or `DELETE` only: after a `SELECT`, SQLite repeats the count of the change before it).
#[derive(Default)]
pub struct Outcome {
    pub rows: Vec<AnyRow>,
    pub affected: Vec<u64>,
}

/// Runs `statements` in order with `params`. Each statement's text must hold no `;` (it would
/// end the statement early on SQLite).
pub async fn run(conn: &mut Conn, statements: &[&str], params: &[Param<'_>]) -> AppResult<Outcome> {
    run_raw(conn, statements, params)
        .await
        .map_err(AppError::from)
}

/// [`run`], failing with the database's error.
async fn run_raw(
    conn: &mut Conn,
    statements: &[&str],
    params: &[Param<'_>],
) -> Result<Outcome, sqlx::Error> {
    let mut outcome = Outcome::default();
    match super::backend_of(conn) {
        Backend::Sqlite => sqlite_script(conn, statements, params, &mut outcome).await?,
        Backend::Postgres => {
            for statement in statements {
                let (sql, used) = renumbered(statement);
                let args = used
                    .iter()
                    .map(|&n| n.checked_sub(1).and_then(|i| params.get(i)).copied())
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        sqlx::Error::Protocol(format!("a parameter of `{statement}` is not given"))
                    })?;
                collect(
                    conn,
                    bind(sqlx::query(&sql), args.into_iter()),
                    &mut outcome,
                )
                .await?;
            }
        }
    }
    Ok(outcome)
}

/// [`run`] for a transaction's last script: on SQLite's writing connection the script also ends
/// the transaction's part, in the same trip ([`LastWrite`]), after writing the audit event the
/// `LastWrite` carries, if any; elsewhere it is [`run`] (and the event waits for the commit). Nothing
/// after it may write (unless [`LastWrite::resume`] is called first) or fail: its writes are no
/// longer the request's alone to roll back. Fails with the database's error, for a caller that
/// tells a unique violation from the rest ([`crate::error::UniqueOr`]).
pub async fn run_last(
    conn: &mut Conn,
    statements: &[&str],
    params: &[Param<'_>],
    last: &LastWrite,
) -> Result<Outcome, sqlx::Error> {
    if super::backend_of(conn) != Backend::Sqlite || !last.is_open() {
        return run_raw(conn, statements, params).await;
    }
    // What ends the transaction's part (none for the batch's first handing the batch on), and
    // the request's audit event: both go in the same trip, the event first.
    let suffix = last.suffix();
    let event = last.take_event();
    if suffix.is_none() && event.is_none() {
        return run_raw(conn, statements, params).await;
    }
    let insert = event.as_ref().map(|e| e.statement(params.len() + 1));
    let ending = suffix.map_or(&[][..], |(statements, _)| statements);
    let all: Vec<&str> = statements
        .iter()
        .copied()
        .chain(insert.as_deref())
        .chain(ending.iter().copied())
        .collect();
    let all_params: Vec<Param<'_>> = match &event {
        Some(e) => params.iter().copied().chain(e.params()).collect(),
        None => params.to_vec(),
    };
    let mut outcome = Outcome::default();
    let done = sqlite_script(conn, &all, &all_params, &mut outcome).await;
    // A count comes at the end of each statement that ran: more than the caller's statements
    // means the failure was in the ones appended.
    let ran = outcome.affected.len();
    match done {
        Ok(()) => {
            if let Some((_, folded)) = suffix {
                last.mark(folded);
                #[cfg(debug_assertions)]
                last.note_end(conn).await;
            }
            outcome.affected.truncate(statements.len());
            Ok(outcome)
        }
        Err(e) => {
            if suffix.is_some() && ran >= statements.len() {
                last.mark(Folded::Broken);
            }
            Err(e)
        }
    }
}

/// Runs `statements` on SQLite in one call, their results read into `outcome` (those before a
/// failing statement too).
async fn sqlite_script(
    conn: &mut Conn,
    statements: &[&str],
    params: &[Param<'_>],
    outcome: &mut Outcome,
) -> Result<(), sqlx::Error> {
    let sql = statements.join(";\n");
    collect(
        conn,
        bind(sqlx::query(&sql), params.iter().copied()),
        outcome,
    )
    .await
}

/// Reads every result of `query` into `outcome`: one count per statement, and the rows.
async fn collect<'q>(
    conn: &mut Conn,
    query: Query<'q, Any, AnyArguments<'q>>,
    outcome: &mut Outcome,
) -> Result<(), sqlx::Error> {
    // The executor's stream of results: a count at the end of each statement, the rows before.
    // (Only SQLite runs several statements in one query; sqlx keeps that for now, and the
    // tests below would notice if it stopped.)
    let mut results = conn.fetch_many(query);
    while let Some(result) = results.try_next().await? {
        match result {
            Either::Left(done) => outcome.affected.push(done.rows_affected()),
            Either::Right(row) => outcome.rows.push(row),
        }
    }
    Ok(())
}

fn bind<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    params: impl Iterator<Item = Param<'q>>,
) -> Query<'q, Any, AnyArguments<'q>> {
    for p in params {
        query = match p {
            Param::Text(t) => query.bind(t),
            Param::Int(i) => query.bind(i),
        };
    }
    query
}

/// `statement` with its parameters numbered `$1`, `$2`, … in the order they first appear, and
/// the script's number of each (`used[k - 1]` is what the new `$k` stands for).
fn renumbered(statement: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(statement.len());
    let mut used: Vec<usize> = Vec::new();
    let mut rest = statement;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        // A `$` without a number is not a parameter: kept as it is.
        let Ok(number) = rest[at + 1..at + 1 + digits].parse::<usize>() else {
            out.push('$');
            rest = &rest[at + 1..];
            continue;
        };
        let k = match used.iter().position(|&n| n == number) {
            Some(i) => i + 1,
            None => {
                used.push(number);
                used.len()
            }
        };
        out.push('$');
        out.push_str(&k.to_string());
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    (out, used)
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, Row};

    use super::*;

    /// A SQLite database with `t (k TEXT PRIMARY KEY, n INTEGER)` holding `("a", 1)`.
    async fn sqlite() -> (tempfile::TempDir, Conn) {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/s.db?mode=rwc", dir.path().display());
        let mut conn = Conn::connect(&url).await.unwrap();
        conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER)")
            .await
            .unwrap();
        conn.execute("INSERT INTO t VALUES ('a', 1)").await.unwrap();
        (dir, conn)
    }

    #[tokio::test]
    async fn a_script_runs_every_statement_with_the_shared_parameters() {
        let (_dir, mut conn) = sqlite().await;
        let statements = [
            "INSERT INTO t (k, n) VALUES ($1, $3) ON CONFLICT (k) DO NOTHING",
            "INSERT INTO t (k, n) VALUES ($2, $3) ON CONFLICT (k) DO NOTHING",
            "UPDATE t SET n = n + $3 WHERE k = $1",
            "SELECT k, n FROM t ORDER BY k",
        ];
        let params = [
            Param::Text(Some("a")),
            Param::Text(Some("b")),
            Param::Int(5),
        ];
        let done = run(&mut conn, &statements, &params).await.unwrap();
        // `a` was there, `b` is new; both are then read.
        assert_eq!(done.affected[..3], [0, 1, 1]);
        let rows: Vec<(String, i64)> = done.rows.iter().map(|r| (r.get("k"), r.get("n"))).collect();
        assert_eq!(rows, vec![("a".into(), 6), ("b".into(), 5)]);
        // Again: a statement prepared once is run again with new values.
        let params = [
            Param::Text(Some("c")),
            Param::Text(Some("b")),
            Param::Int(1),
        ];
        let done = run(&mut conn, &statements, &params).await.unwrap();
        assert_eq!(done.affected[..3], [1, 0, 1]);
        assert_eq!(done.rows.len(), 3);
    }

    #[tokio::test]
    async fn a_failing_statement_stops_the_script_with_its_error() {
        let (_dir, mut conn) = sqlite().await;
        let statements = [
            "UPDATE t SET n = $2 WHERE k = $1",
            "INSERT INTO t (k, n) VALUES ($1, $2)",
            "UPDATE t SET n = 100",
        ];
        let params = [Param::Text(Some("a")), Param::Int(7)];
        assert!(run(&mut conn, &statements, &params).await.is_err());
        // The statements before the failing one ran (the caller's transaction undoes them);
        // the ones after it did not.
        let n: i64 = sqlx::query("SELECT n FROM t WHERE k = 'a'")
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get("n");
        assert_eq!(n, 7);
    }

    #[test]
    fn each_statement_is_numbered_by_the_parameters_it_uses() {
        assert_eq!(
            renumbered("DELETE FROM t WHERE a = $2 AND b = $4 AND c = $2"),
            (
                "DELETE FROM t WHERE a = $1 AND b = $2 AND c = $1".into(),
                vec![2, 4]
            )
        );
        assert_eq!(
            renumbered("UPDATE t SET x = $10 WHERE id = $1"),
            ("UPDATE t SET x = $1 WHERE id = $2".into(), vec![10, 1])
        );
        assert_eq!(renumbered("SELECT 1"), ("SELECT 1".into(), vec![]));
        assert_eq!(
            renumbered("SELECT '$' || $3"),
            ("SELECT '$' || $1".into(), vec![3])
        );
    }
}
