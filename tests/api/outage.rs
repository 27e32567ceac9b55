//! Roster on PostgreSQL when the database goes away under a parallel sync — its sessions ended
//! (a failover, an operator's `pg_terminate_backend`) and then the server restarted: every
//! request caught by it is answered 503 with `Retry-After` (never 500), what was acknowledged
//! stays, a retried request lands once, and the sync goes on without an error once it is back;
//! meanwhile `/healthz` answers 503 at once, not after the requests' wait for a connection. A
//! database that takes no writes (read-only) refuses them with 503 too, and reads go on. A column
//! changed under the prepared statements (another replica's migration) costs one 503, not a 500
//! at every use of every connection that had prepared them.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::process::{assert_users_found, integration, member_ids, on_postgres, Server};

/// A PostgreSQL server of this test's own (`scripts/postgres start`), so that ending its
/// sessions and restarting it touches no other test's database; stopped and deleted on drop.
struct OwnPostgres {
    dir: String,
    url: String,
}

fn postgres_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres")
}

impl OwnPostgres {
    fn start() -> Self {
        let out = Command::new(postgres_script())
            .arg("start")
            .output()
            .expect("run scripts/postgres start");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "scripts/postgres start: {stderr}");
        let exports = String::from_utf8(out.stdout).unwrap();
        let value = |name: &str| {
            let prefix = format!("export {name}=");
            exports
                .lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .unwrap_or_else(|| panic!("no {name} in {exports:?}"))
                .to_string()
        };
        OwnPostgres {
            dir: value("ROSTER_PG_DIR"),
            url: value("ROSTER_TEST_POSTGRES_URL"),
        }
    }

    /// Stops the server (fast: every session is ended), keeps it down for `down_secs`, and
    /// starts it again on its port.
    fn restart(&self, down_secs: u64) {
        let out = Command::new(postgres_script())
            .args(["restart", &self.dir, &down_secs.to_string()])
            .output()
            .expect("run scripts/postgres restart");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "scripts/postgres restart: {stderr}");
    }

    /// Makes the database take no writes (`default_transaction_read_only`, as for maintenance;
    /// a standby behind the URL answers the same), or take them again, and ends Roster's
    /// sessions so that its new ones start so.
    async fn set_read_only(&self, on: bool) {
        use sqlx::{Connection, Executor};
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        conn.execute("SET default_transaction_read_only = off")
            .await
            .unwrap();
        let (database,): (String,) = sqlx::query_as("SELECT current_database()::text")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let value = if on { "on" } else { "off" };
        conn.execute(
            format!("ALTER DATABASE \"{database}\" SET default_transaction_read_only = {value}")
                .as_str(),
        )
        .await
        .unwrap();
        drop(conn);
    }

    /// Ends every session of Roster's on the database, as a failover or an operator would.
    async fn end_other_sessions(&self) {
        use sqlx::{Connection, Executor};
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND backend_type = 'client backend'",
        )
        .await
        .unwrap();
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Command::new(postgres_script())
            .args(["stop", &self.dir])
            .output();
    }
}

/// One answer the sync got: what was asked, its status (0: no answer), `Retry-After`, body.
#[derive(Debug)]
struct Answer {
    asked: String,
    status: u16,
    retry_after: Option<String>,
    body: String,
}

impl Answer {
    fn summary(&self) -> String {
        format!("{} answered {}: {}", self.asked, self.status, self.body)
    }
}

/// What the clients saw, shared between them.
#[derive(Default)]
struct Sync {
    answers: Vec<Answer>,
    /// Users whose create was answered 201.
    created: Vec<String>,
    /// Members whose add was answered with success.
    added: BTreeSet<String>,
    /// User names whose create was answered 503, to send again.
    create_again: Vec<String>,
    /// User ids whose member add was answered 503, to send again.
    add_again: Vec<String>,
}

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: &Value,
) -> Answer {
    let asked = format!("{method} {}", url.rsplit("/scim/v2").next().unwrap_or(url));
    let sent = http
        .request(method, url)
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await;
    let Ok(res) = sent else {
        return Answer {
            asked,
            status: 0,
            retry_after: None,
            body: format!("{sent:?}"),
        };
    };
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = res.text().await.unwrap_or_default();
    Answer {
        asked,
        status,
        retry_after,
        body,
    }
}

/// A PATCH adding `user_id` to `group`, as IdPs send one.
async fn add_member(
    http: &reqwest::Client,
    endpoint: &str,
    token: &str,
    group: &str,
    user_id: &str,
) -> Answer {
    let patch = json!({"schemas": [PATCH],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": user_id}]}]});
    let url = format!("{endpoint}/Groups/{group}");
    send(http, reqwest::Method::PATCH, &url, token, &patch).await
}

/// A GET answered 200, as JSON.
async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> Value {
    let res = http.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200, "GET {url}");
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}

/// Creates users and adds each to `group` until `stop` (at most 500 users a client).
async fn sync_client(
    client: usize,
    http: reqwest::Client,
    endpoint: String,
    token: String,
    group: String,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Sync>>,
) {
    for i in 0..500 {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let user_name = format!("c{client}-u{i}");
        let body = json!({"schemas": [USER], "userName": user_name});
        let made = send(
            &http,
            reqwest::Method::POST,
            &format!("{endpoint}/Users"),
            &token,
            &body,
        )
        .await;
        let user_id = (made.status == 201)
            .then(|| serde_json::from_str::<Value>(&made.body).ok())
            .flatten()
            .and_then(|v| v["id"].as_str().map(str::to_string));
        {
            let mut seen = seen.lock().unwrap();
            match (&user_id, made.status) {
                (Some(id), _) => seen.created.push(id.clone()),
                (None, 503) => seen.create_again.push(user_name),
                _ => {}
            }
            seen.answers.push(made);
        }
        let Some(user_id) = user_id else { continue };
        let added = add_member(&http, &endpoint, &token, &group, &user_id).await;
        let mut seen = seen.lock().unwrap();
        match added.status {
            200 | 204 => {
                seen.added.insert(user_id);
            }
            503 => seen.add_again.push(user_id),
            _ => {}
        }
        seen.answers.push(added);
    }
}

/// Waits (at most 60 s) until the clients have had `more` creates acknowledged past `from`.
async fn until_created(seen: &Mutex<Sync>, from: usize, more: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = seen.lock().unwrap().created.len();
        if now >= from + more || Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_parallel_sync_rides_out_ended_sessions_and_a_restart_of_postgresql() {
    if !on_postgres() {
        return;
    }
    let pg = OwnPostgres::start();
    let (id, token) = integration(&pg.url);
    let logs = tempfile::tempdir().unwrap();
    let log_path = logs.path().join("server.log");
    let server = Server::start_logging_to(&pg.url, std::fs::File::create(&log_path).unwrap());
    let endpoint = format!("{}/api/v1/main/integrations/{id}/scim/v2", server.base);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let group = send(&http, reqwest::Method::POST, &format!("{endpoint}/Groups"), &token,
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Synced"}))
        .await;
    assert_eq!(group.status, 201, "{group:?}");
    let group_id = serde_json::from_str::<Value>(&group.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Sync::default()));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let task = sync_client(
                c,
                http.clone(),
                endpoint.clone(),
                token.clone(),
                group_id.clone(),
                stop.clone(),
                seen.clone(),
            );
            tokio::spawn(task)
        })
        .collect();

    // The database ends Roster's sessions ten times, mid-sync, then restarts with 2 s down.
    let before = until_created(&seen, 0, 40).await;
    for _ in 0..10 {
        pg.end_other_sessions().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after_sessions = until_created(&seen, before, 40).await;
    tokio::task::block_in_place(|| pg.restart(2));
    let after_restart = until_created(&seen, after_sessions, 40).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        tokio::time::timeout(Duration::from_secs(60), c)
            .await
            .unwrap()
            .unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        after_restart >= after_sessions + 40 && after_sessions >= before + 40,
        "the sync did not go on: {before} creates before, {after_sessions} after the ended \
         sessions, {after_restart} after the restart"
    );

    // Every answer is a success or a 503 that says when to retry, as a SCIM error.
    let refused: Vec<&Answer> = seen.answers.iter().filter(|a| a.status == 503).collect();
    let wrong: Vec<String> = seen
        .answers
        .iter()
        .filter(|a| ![200, 201, 204, 503].contains(&a.status))
        .map(Answer::summary)
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} answers neither a success nor 503: {:?}",
        wrong.len(),
        seen.answers.len(),
        &wrong[..wrong.len().min(3)]
    );
    assert!(
        !refused.is_empty(),
        "no request was caught by the outage: {} answers",
        seen.answers.len()
    );
    for a in &refused {
        let body: Value = serde_json::from_str(&a.body).unwrap_or_default();
        assert_eq!(a.retry_after.as_deref(), Some("2"), "{a:?}");
        assert_eq!(
            body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
            "{a:?}"
        );
        assert_eq!(body["status"], "503", "{a:?}");
        assert!(
            !a.body.contains("administrator command"),
            "the database's words leak: {a:?}"
        );
    }

    println!(
        "{} answers, {} of them 503; {} creates and {} member adds to send again",
        seen.answers.len(),
        refused.len(),
        seen.create_again.len(),
        seen.add_again.len()
    );

    // Sent again, as an IdP does after 503: each create lands (201), or had landed (409).
    let mut remade = 0;
    for name in &seen.create_again {
        let again = send(
            &http,
            reqwest::Method::POST,
            &format!("{endpoint}/Users"),
            &token,
            &json!({"schemas": [USER], "userName": name}),
        )
        .await;
        assert!(
            [201, 409].contains(&again.status),
            "{name} sent again: {again:?}"
        );
        remade += 1;
    }
    for user_id in &seen.add_again {
        let again = add_member(&http, &endpoint, &token, &group_id, user_id).await;
        assert!(
            [200, 204].contains(&again.status),
            "member {user_id} sent again: {again:?}"
        );
    }

    // Nothing acknowledged is lost, nothing is made twice.
    assert_users_found(&http, &endpoint, &token, &seen.created).await;
    let listed = get_json(&http, &format!("{endpoint}/Users?count=1"), &token).await;
    assert_eq!(
        listed["totalResults"],
        seen.created.len() + remade,
        "users after the outage"
    );
    let group = get_json(&http, &format!("{endpoint}/Groups/{group_id}"), &token).await;
    let members = member_ids(&group);
    let expected: BTreeSet<String> = seen.added.iter().chain(&seen.add_again).cloned().collect();
    assert_eq!(members, expected, "the group's members after the outage");

    // The server counted none of it as its own fault.
    drop(server);
    let log = std::fs::read_to_string(&log_path).unwrap();
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("panicked"))
        .collect();
    assert!(
        errors.is_empty(),
        "the server logged errors: {:?}",
        &errors[..errors.len().min(5)]
    );
}

/// Each PostgreSQL session Roster opens has its limits from its first statement on (they travel
/// in the startup message, so no session runs without them and none is lost to setting them):
/// a row lock waits at most 15 s, a transaction left idle is ended after a minute.
#[tokio::test]
async fn every_postgresql_session_starts_with_its_lock_and_idle_limits() {
    if !on_postgres() {
        return;
    }
    use sqlx::Row;
    let app = crate::helpers::TestApp::spawn().await;
    let mut conns = Vec::new();
    for _ in 0..3 {
        let mut conn = app.db.acquire().await.unwrap();
        let row = sqlx::query(
            "SELECT current_setting('lock_timeout') AS l, \
             current_setting('idle_in_transaction_session_timeout') AS i",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        let limits: (String, String) = (row.get("l"), row.get("i"));
        assert_eq!(limits, ("15s".to_string(), "1min".to_string()));
        conns.push(conn);
    }
}

/// Another replica, of a newer release, changes a column this one's statements return (here the
/// tenants' names to the `"C"` collation; a type change does the same): PostgreSQL then refuses
/// each statement a connection prepared before ("cached plan must not change result type"), at
/// every use on that connection. The first read that meets it is answered as busy (503, retry;
/// nothing changed), and the connections opened before it are closed instead of handed out, so
/// every read after works, on newly opened connections. (Before, each of the four connections
/// that had prepared the read failed it with a 500 whenever it was handed out.)
#[tokio::test]
async fn statements_prepared_before_another_replicas_schema_change_are_prepared_anew() {
    if !on_postgres() {
        return;
    }
    let app = crate::helpers::TestApp::spawn().await;
    // Four connections prepare the read, held together so that they are four.
    let mut prepared = BTreeSet::new();
    let mut conns = Vec::new();
    for _ in 0..4 {
        let mut conn = app.db.acquire().await.unwrap();
        assert_eq!(
            roster::db::tenants::list_all(&mut conn)
                .await
                .unwrap()
                .len(),
            1
        );
        prepared.insert(backend_pid(&mut conn).await);
        conns.push(conn);
    }
    drop(conns);
    assert_eq!(prepared.len(), 4);
    app.execute(&["ALTER TABLE tenants ALTER COLUMN name TYPE text COLLATE \"C\""])
        .await;
    let mut failed = Vec::new();
    let mut served_by = BTreeSet::new();
    for _ in 0..12 {
        let mut conn = app.db.acquire().await.unwrap();
        match roster::db::tenants::list_all(&mut conn).await {
            Ok(tenants) => {
                assert_eq!(tenants.len(), 1);
                served_by.insert(backend_pid(&mut conn).await);
            }
            Err(e) => failed.push(e),
        }
    }
    assert!(failed.len() <= 1, "{failed:?}");
    for e in &failed {
        assert!(matches!(e, roster::error::AppError::Busy(_)), "{e:?}");
    }
    assert!(
        served_by.is_disjoint(&prepared),
        "{served_by:?} {prepared:?}"
    );
}

/// The PostgreSQL session behind `conn`.
async fn backend_pid(conn: &mut sqlx::AnyConnection) -> i32 {
    use sqlx::Row;
    let row = sqlx::query("SELECT pg_backend_pid() AS p")
        .fetch_one(conn)
        .await
        .unwrap();
    row.get::<i32, _>("p")
}

/// `/healthz` while PostgreSQL is down: 503 within seconds (it waited for the pool's 10 s, then
/// answered 200 if the database was back by then — a check that outlived its checker), and 200
/// again once PostgreSQL is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_503_at_once_while_postgresql_is_down_and_200_when_it_is_back() {
    if !on_postgres() {
        return;
    }
    let pg = Arc::new(OwnPostgres::start());
    let server = Server::start_logging_to(&pg.url, std::process::Stdio::null());
    let health = format!("{}/healthz", server.base);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let check = || async {
        let asked = Instant::now();
        let res = http.get(&health).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap(), asked.elapsed())
    };
    assert_eq!(check().await.0, 200);

    // Down for 8 s: every check in that time answers, and the first after the stop is a 503.
    let restarting = {
        let pg = pg.clone();
        std::thread::spawn(move || pg.restart(8))
    };
    let deadline = Instant::now() + Duration::from_secs(6);
    let mut refused = None;
    while Instant::now() < deadline {
        let (status, body, took) = check().await;
        assert!(
            took < Duration::from_secs(4),
            "a check took {took:?} (answered {status} {body})"
        );
        if status == 503 {
            refused = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = refused.expect("no check answered 503 while PostgreSQL was down");
    assert!(body.starts_with("database unavailable"), "{body}");

    tokio::task::block_in_place(|| restarting.join().unwrap());
    let back = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body, _) = check().await;
        if status == 200 {
            assert_eq!(body, "ok");
            break;
        }
        assert!(
            Instant::now() < back,
            "still {status} {body} 30 s after PostgreSQL came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A PostgreSQL that takes no writes (`default_transaction_read_only` set for maintenance; a
/// standby put behind the URL answers the same, SQLSTATE 25006): a write is 503 with
/// `Retry-After` as a SCIM error that says why (it was 500), reads go on, and the same write lands
/// as soon as the database takes writes again, though Roster's sessions were opened read-only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_postgresql_refuses_writes_with_503_keeps_reads_and_takes_them_again() {
    if !on_postgres() {
        return;
    }
    let pg = OwnPostgres::start();
    let (id, token) = integration(&pg.url);
    let server = Server::start_logging_to(&pg.url, std::process::Stdio::null());
    let endpoint = format!("{}/api/v1/main/integrations/{id}/scim/v2", server.base);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let users = format!("{endpoint}/Users");
    let create = |name: &'static str| {
        let (http, users, token) = (&http, &users, &token);
        async move {
            let body = json!({"schemas": [USER], "userName": name});
            send(http, reqwest::Method::POST, users, token, &body).await
        }
    };
    let made = create("before").await;
    assert_eq!(made.status, 201, "{made:?}");
    let made_id = serde_json::from_str::<Value>(&made.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    pg.set_read_only(true).await;
    // Sessions take the setting when they start: end them, as a failover does (or maintenance
    // that wants the setting at once). The first answer after may be a lost connection's 503;
    // then read-only.
    pg.end_other_sessions().await;
    let mut refused = None;
    for _ in 0..5 {
        let answer = create("during").await;
        assert_eq!(answer.status, 503, "{answer:?}");
        if answer.body.contains("takes no writes") {
            refused = Some(answer);
            break;
        }
    }
    let refused = refused.expect("no write was refused as read-only");
    assert_eq!(refused.retry_after.as_deref(), Some("2"), "{refused:?}");
    let body: Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(body["status"], "503");
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert!(
        !refused.body.contains("cannot execute"),
        "the database's words leak: {refused:?}"
    );
    let read = get_json(&http, &format!("{users}/{made_id}"), &token).await;
    assert_eq!(read["userName"], "before");

    // Writes back on, without ending anyone's session (as maintenance ends): the sessions
    // opened meanwhile are read-only still, and are retired as they are handed out; the very
    // next write lands (it was refused for the sessions' lifetime, 30 minutes).
    pg.set_read_only(false).await;
    let landed = create("during").await;
    assert_eq!(
        landed.status, 201,
        "the first write once writes were back: {landed:?}"
    );
    let listed = get_json(&http, &format!("{users}?count=1"), &token).await;
    assert_eq!(listed["totalResults"], 2);
}

/// A later release's migration, run by a replica starting beside one still serving, gives way
/// to the serving transactions instead of deadlocking them. The serving transaction has read
/// the users; the migration alters the groups, then the users, which it must wait for; the
/// serving transaction then reads the groups, which the migration holds. With the connections'
/// own lock wait (15 s) that was a deadlock: PostgreSQL aborted one of the two after its
/// `deadlock_timeout` (1 s), and the serving read waited that second. Now the migration waits
/// at most 100 ms for a lock, gives way (its transaction rolled back) and tries again: the
/// serving read is let through at once, and the migration is done once the serving
/// transaction ends, in several attempts, both columns added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_gives_way_to_serving_transactions_instead_of_deadlocking_them() {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    if !on_postgres() {
        return;
    }
    let app = crate::helpers::TestApp::spawn().await;
    let starting = roster::db::Db::connect(&app.database_url).await.unwrap();
    let mut serving = app.db.begin_write().await.unwrap();
    sqlx::query("SELECT count(*) FROM users")
        .fetch_one(&mut *serving)
        .await
        .unwrap();
    let later = Migrator {
        migrations: std::borrow::Cow::Owned(vec![Migration::new(
            90_001,
            "a later release's".into(),
            MigrationType::Simple,
            "ALTER TABLE groups ADD COLUMN later_a text; \
             ALTER TABLE users ADD COLUMN later_b text;"
                .into(),
            false,
        )]),
        ignore_missing: true,
        ..Migrator::DEFAULT
    };
    let serve = async {
        // The migration takes the groups and waits for the users…
        tokio::time::sleep(Duration::from_millis(40)).await;
        let asked = Instant::now();
        // …when the serving transaction reads the groups.
        let read = sqlx::query("SELECT count(*) FROM groups")
            .fetch_one(&mut *serving)
            .await;
        let waited = asked.elapsed();
        // The serving transaction goes on a while: the migration keeps giving way meanwhile.
        tokio::time::sleep(Duration::from_millis(400)).await;
        serving.commit().await.unwrap();
        (read.err(), waited)
    };
    let migrate = tokio::time::timeout(Duration::from_secs(30), starting.migrate_with(&later));
    let ((read_error, waited), migrated) = tokio::join!(serve, migrate);
    assert!(read_error.is_none(), "{read_error:?}");
    assert!(
        waited < Duration::from_millis(600),
        "the serving read waited {waited:?}: for a deadlock to be found"
    );
    let attempts = migrated
        .expect("the migration within 30 s")
        .expect("the migration");
    assert!(attempts >= 2, "{attempts} attempt(s)");
    let added = app
        .count(
            "SELECT count(*) FROM information_schema.columns \
             WHERE column_name IN ('later_a', 'later_b')",
            &[],
        )
        .await;
    assert_eq!(added, 2);
}
