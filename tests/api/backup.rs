//! `roster backup` and `roster restore` on a SQLite file: a backup taken while four clients
//! sync holds every user acknowledged before it began and none that never was, and a server
//! started on it after a restore serves them with the same token, the database it replaced
//! (its server killed) kept whole; what is not a whole backup of
//! a Roster this one can run, or a database still open, is refused with nothing changed.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::Connection;

use crate::cli::roster;
use crate::process::{assert_users_found, integration, member_ids, on_postgres, AckedSync, Server};

fn file_url(dir: &Path) -> String {
    format!("sqlite://{}/roster.db", dir.display())
}

/// `roster ARGS` on `url` in a thread of its own (a test's clients go on meanwhile): its exit
/// code, its JSON (`Null` when it printed none) and its stderr.
async fn run(url: &str, args: &[&str]) -> (i32, Value, String) {
    let url = url.to_string();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = roster(&url, &args, "");
        (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
    })
    .await
    .unwrap()
}

async fn scim_json(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> Option<Value> {
    let res = http
        .request(method, url)
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .ok()?;
    if !res.status().is_success() {
        return None;
    }
    serde_json::from_str(&res.text().await.ok()?).ok()
}

/// The names of the files in `dir`.
fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_mid_sync_holds_what_was_acknowledged_and_serves_after_a_restore() {
    if on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let url = file_url(dir.path());
    let server = Server::start_logging_to(&url, Stdio::inherit());
    let (id, token) = integration(&url);
    let endpoint = format!("{}/api/v1/main/integrations/{id}/scim/v2", server.base);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let group = scim_json(
        &http,
        reqwest::Method::POST,
        format!("{endpoint}/Groups"),
        &token,
        json!({"displayName": "Backed up"}),
    )
    .await
    .expect("group created");
    let group_id = group["id"].as_str().unwrap().to_string();

    // Four clients create users and add each to the group (each at most 150, for 60 s).
    let sync = AckedSync::start(&http, &endpoint, &token, &group_id, 150);
    sync.wait_for_members(60).await;
    let (users_before, members_before) = sync.acknowledged();
    let users_before: Vec<String> = users_before.into_iter().collect();
    assert!(members_before.len() >= 60, "the sync did not get going");
    let backup = backups.path().join("mid-sync.db");
    let (code, made, err) = run(&url, &["backup", backup.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    let still_syncing = sync.acknowledged().0.len();
    let (users_all, members_all) = sync.end(Duration::from_secs(70)).await;
    assert!(
        users_all.len() > still_syncing,
        "the sync went on after the backup, {} users",
        users_all.len()
    );

    // The backup: the owner's alone, named only once whole, and it says what it holds.
    assert_eq!(
        files_in(backups.path()),
        BTreeSet::from(["mid-sync.db".into()])
    );
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a backup holds password and token hashes");
    assert_eq!(made["backup"], backup.to_str().unwrap(), "{made}");
    assert_eq!(
        (made["tenants"].clone(), made["integrations"].clone()),
        (json!(1), json!(1))
    );
    let users_in_backup = made["users"].as_u64().unwrap() as usize;
    assert!(
        users_before.len() <= users_in_backup && users_in_backup <= users_all.len(),
        "{made}: {} acknowledged before, {} in all",
        users_before.len(),
        users_all.len()
    );
    assert_eq!(made["bytes"], std::fs::metadata(&backup).unwrap().len());

    // Restored once the server has stopped (killed: its last commits are in its log alone); the
    // database replaced is kept beside it, whole, its log copied in.
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert!(dir.path().join("roster.db-wal").exists());
    let (code, restored, err) = run(&url, &["restore", backup.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(restored["users"], made["users"], "{restored}");
    let kept = restored["replaced_database_kept_at"].as_str().unwrap();
    assert!(kept.starts_with(&format!("{}/roster.db.replaced-", dir.path().display())));
    let kept_url = format!("sqlite://{kept}");
    assert!(!Path::new(&format!("{kept}-wal")).exists());
    let (code, again, err) = run(&kept_url, &["backup", &format!("{kept}.copy")]).await;
    assert_eq!(code, 0, "the replaced database is whole: {err}");
    assert_eq!(again["users"].as_u64().unwrap() as usize, users_all.len());

    // Served again, with the same token: every user and member acknowledged before the backup
    // began, none that never was.
    let server = Server::start_logging_to(&url, Stdio::inherit());
    let endpoint = format!("{}/api/v1/main/integrations/{id}/scim/v2", server.base);
    assert_users_found(&http, &endpoint, &token, &users_before).await;
    let listed = scim_json(
        &http,
        reqwest::Method::GET,
        format!("{endpoint}/Users?count=1000&attributes=id"),
        &token,
        Value::Null,
    )
    .await
    .expect("a list");
    let ids: BTreeSet<String> = listed["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), users_in_backup);
    assert!(ids.is_subset(&users_all), "a user never acknowledged");
    let group = scim_json(
        &http,
        reqwest::Method::GET,
        format!("{endpoint}/Groups/{group_id}"),
        &token,
        Value::Null,
    )
    .await
    .expect("the group");
    let members = member_ids(&group);
    assert!(
        members_before.is_subset(&members),
        "a member acknowledged before is lost"
    );
    assert!(members.is_subset(&members_all) && members.is_subset(&ids));
    drop(server);
}

/// The database's bytes, to tell it was not touched.
fn fingerprint(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_not_a_whole_backup_of_a_closed_database_is_refused_with_nothing_changed() {
    let (code, _, err) = run(
        "postgres://roster@127.0.0.1:1/roster",
        &["backup", "/tmp/x"],
    )
    .await;
    assert!(code != 0 && err.contains("pg_dump"), "{err}");
    if on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(dir.path());
    let live = dir.path().join("roster.db");
    let server = Server::start_logging_to(&url, Stdio::inherit());
    integration(&url);
    let backup = dir.path().join("good.db");
    let (code, _, err) = run(&url, &["backup", backup.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");

    // Never over a file, nor into a folder that is not there; never into a running server's
    // database.
    let (code, _, err) = run(&url, &["backup", backup.to_str().unwrap()]).await;
    assert!(code != 0 && err.contains("exists"), "{err}");
    let (code, _, err) = run(&url, &["backup", "/nonexistent/roster.db"]).await;
    assert!(
        code != 0 && err.contains("there is no folder /nonexistent"),
        "{err}"
    );
    let files = files_in(dir.path());
    let (code, _, err) = run(&url, &["restore", backup.to_str().unwrap()]).await;
    assert!(code != 0 && err.contains("is in use: stop Roster"), "{err}");
    assert_eq!(files_in(dir.path()), files, "nothing moved");
    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "the server still serves");
    let mut server = server;
    assert!(server.terminate().success());
    let before = fingerprint(&live);

    // Not a backup, a damaged one, one of a later Roster, the database itself.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database").unwrap();
    let damaged = dir.path().join("damaged.db");
    let mut bytes = std::fs::read(&backup).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle..middle + 4096].fill(0xA5);
    std::fs::write(&damaged, bytes).unwrap();
    let later = dir.path().join("later.db");
    std::fs::copy(&backup, &later).unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", later.display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'a later release', 1, x'00', 1)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let cases = [
        (&text, "is not a Roster database"),
        (&damaged, "damaged"),
        (&later, "written by a later Roster (its migration 9999"),
        (&live, "is the database itself"),
    ];
    for (file, why) in cases {
        let (code, _, err) = run(&url, &["restore", file.to_str().unwrap()]).await;
        let refused = code != 0
            && (err.contains(why) || (why == "damaged" && err.contains("not a Roster database")));
        assert!(refused, "{}: {err}", file.display());
        assert_eq!(
            fingerprint(&live),
            before,
            "{}: the database changed",
            file.display()
        );
    }
    let (code, _, err) = run(&url, &["restore", "/nonexistent/backup.db"]).await;
    assert!(code != 0 && err.contains("there is no file"), "{err}");

    // Onto no database at all (a new machine): the folder is made.
    let fresh = tempfile::tempdir().unwrap();
    let fresh_url = format!("sqlite://{}/data/roster.db", fresh.path().display());
    let (code, restored, err) = run(&fresh_url, &["restore", backup.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(restored["replaced_database_kept_at"], Value::Null);
    assert_eq!(restored["integrations"], 1);
    let (code, _, err) = run(&fresh_url, &["scim", "list", "--tenant", "main"]).await;
    assert_eq!(code, 0, "the restored database opens: {err}");
}
