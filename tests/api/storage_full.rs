//! A database with no room left (a full disk): writes are answered 503 with `Retry-After` — a
//! SCIM error, a form message on the pages — never 500; nothing is half-written; reads go on;
//! and writes succeed again once there is room, without a restart — on a database held at a
//! size, and on a real disk that fills up under four clients at once.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{query_value, TestApp};
use crate::process::{assert_users_found, integration, Server};
use crate::ui_groups::post_create_group;

fn user(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "name": {"givenName": name, "familyName": "Full"},
        "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}]
    })
}

/// The message of the server function's error a form post was sent back with (Leptos puts it,
/// base64, in the `__err` parameter of the page the form was on, which shows it).
fn server_error(location: &str) -> String {
    use base64::Engine;
    let encoded = query_value(location, "__err").unwrap_or_else(|| panic!("no error: {location}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    String::from_utf8(bytes).unwrap()
}

/// Lets the database grow by `spare` pages at most (`PRAGMA max_page_count` on the writing
/// connection): past them SQLite answers SQLITE_FULL, as its file layer does for a full disk.
async fn leave_room(app: &TestApp, spare: i64) {
    let pages = app.count("PRAGMA page_count", &[]).await;
    app.execute(&[&format!("PRAGMA max_page_count = {}", pages + spare)])
        .await;
}

#[tokio::test]
async fn a_full_database_refuses_writes_with_503_keeps_reads_and_takes_writes_again_with_room() {
    let (app, cookie) = TestApp::with_admin().await;
    if !app.database_url.starts_with("sqlite") {
        return; // PostgreSQL's 53100 is mapped by the same rule (error::is_storage_full)
    }
    let scim = app.integration("main").await;
    leave_room(&app, 40).await;

    // Users go in until there is no room; the one refused is a 503 a client retries.
    let mut made = Vec::new();
    let refused = loop {
        assert!(made.len() < 5_000, "the database never filled up");
        let name = format!("full{}", made.len());
        let res = app.scim(&scim, "POST", "/Users", Some(user(&name))).await;
        if res.status != 201 {
            break (name, res);
        }
        made.push(res.json()["id"].as_str().unwrap().to_string());
    };
    let (refused_name, res) = refused;
    assert!(!made.is_empty(), "not one user fitted: {}", res.body);
    assert_eq!(res.status, 503, "{}", res.body);
    assert_eq!(res.header("retry-after").as_deref(), Some("2"));
    let body = res.json();
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(body["status"], "503");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("no room left"), "{detail}");
    assert!(
        !detail.contains("SQLITE"),
        "the database's words leak: {detail}"
    );

    // Reads go on, and the refused create left nothing behind.
    let listed = app.scim(&scim, "GET", "/Users?count=1", None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.json()["totalResults"], made.len());
    let filter = format!("/Users?filter=userName%20eq%20%22{refused_name}%22");
    let found = app.scim(&scim, "GET", &filter, None).await;
    assert_eq!(found.json()["totalResults"], 0, "{}", found.body);
    let first = app
        .scim(&scim, "GET", &format!("/Users/{}", made[0]), None)
        .await;
    assert_eq!(first.status, 200);

    // The pages say so above the form (groups go in until one finds no room).
    let mut groups = 0;
    let (refused_group, loc) = loop {
        assert!(groups < 5_000, "a group always found room");
        let name = format!("Ops {groups}");
        let loc = post_create_group(&app, &cookie, &name).await;
        if query_value(&loc, "notice").is_none() {
            break (name, loc);
        }
        groups += 1;
    };
    assert!(loc.contains("__path=%2Fapi%2Fgroups%2Fcreate"), "{loc}");
    let message = server_error(&loc);
    assert!(message.contains("no room left"), "{message}");

    // With room again, the same requests succeed: no restart, no repair.
    app.execute(&["PRAGMA max_page_count = 1073741823"]).await;
    let again = app
        .scim(&scim, "POST", "/Users", Some(user(&refused_name)))
        .await;
    assert_eq!(again.status, 201, "{}", again.body);
    let listed = app.scim(&scim, "GET", "/Users?count=1", None).await;
    assert_eq!(listed.json()["totalResults"], made.len() + 1);
    let loc = post_create_group(&app, &cookie, &refused_group).await;
    assert!(query_value(&loc, "notice").is_some(), "{loc}");
}

/// A tmpfs of `MIB` MiB mounted for one test (unmounted on drop): a disk that really fills up.
/// Mounting needs root; elsewhere there is none.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u32) -> Option<Self> {
        let uid = Command::new("id").arg("-u").output().ok()?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "root could not mount a tmpfs");
        Some(SmallDisk { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// What one client saw: the statuses of its creates, the names refused, the ids made.
#[derive(Default)]
struct Seen {
    statuses: Vec<u16>,
    wrong: Vec<String>,
    refused: Vec<String>,
    made: Vec<String>,
}

/// `POST /Users` of [`user`] `name` over HTTP.
async fn post_user(
    http: &reqwest::Client,
    endpoint: &str,
    token: &str,
    name: &str,
) -> reqwest::Response {
    http.post(format!("{endpoint}/Users"))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(user(name).to_string())
        .send()
        .await
        .unwrap()
}

/// The `totalResults` of `/Users`, read over HTTP.
async fn total_users(http: &reqwest::Client, endpoint: &str, token: &str) -> usize {
    let res = http
        .get(format!("{endpoint}/Users?count=1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let listed: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    listed["totalResults"].as_u64().unwrap() as usize
}

/// Creates users until 10 in a row are refused (at most 3,000, at most 60 s).
async fn fill(http: reqwest::Client, endpoint: String, token: String, client: usize) -> Seen {
    let mut seen = Seen::default();
    let mut refused_in_a_row = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    for i in 0..3_000 {
        if refused_in_a_row == 10 || Instant::now() > deadline {
            break;
        }
        let name = format!("c{client}-u{i}");
        let res = post_user(&http, &endpoint, &token, &name).await;
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap_or_default();
        seen.statuses.push(status);
        match status {
            201 => {
                refused_in_a_row = 0;
                seen.made.push(body["id"].as_str().unwrap().to_string());
            }
            503 if retry_after.is_some()
                && body["status"] == "503"
                && body["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("no room left") =>
            {
                refused_in_a_row += 1;
                seen.refused.push(name);
            }
            _ => seen
                .wrong
                .push(format!("{name}: {status} {retry_after:?} {body}")),
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_disk_that_fills_under_a_parallel_sync_loses_nothing_acknowledged_and_answers_503() {
    if crate::process::on_postgres() {
        return;
    }
    let Some(disk) = SmallDisk::mount(10) else {
        eprintln!("skipped: mounting a small disk needs root");
        return;
    };
    // Room to give back later, as an operator freeing space does (a create writes about 40 KiB
    // to the WAL, its request's log entry included).
    std::fs::write(disk.path("ballast"), vec![1u8; 5 << 20]).unwrap();
    let url = format!("sqlite://{}", disk.path("roster.db").display());
    let (id, token) = integration(&url);
    let logs = tempfile::tempdir().unwrap();
    let log_path = logs.path().join("server.log");
    let mut server = Server::start_logging_to(&url, std::fs::File::create(&log_path).unwrap());
    let endpoint = format!("{}/api/v1/main/integrations/{id}/scim/v2", server.base);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // Four clients create users at once until the disk is full.
    let clients: Vec<_> = (0..4)
        .map(|c| tokio::spawn(fill(http.clone(), endpoint.clone(), token.clone(), c)))
        .collect();
    let mut seen = Seen::default();
    for c in clients {
        let s = c.await.unwrap();
        seen.statuses.extend(s.statuses);
        seen.wrong.extend(s.wrong);
        seen.refused.extend(s.refused);
        seen.made.extend(s.made);
    }
    println!(
        "{} creates: {} made, {} refused for want of room",
        seen.statuses.len(),
        seen.made.len(),
        seen.refused.len()
    );
    assert!(
        seen.wrong.is_empty(),
        "{} answers were neither 201 nor the full disk's 503: {:?}",
        seen.wrong.len(),
        &seen.wrong[..seen.wrong.len().min(3)]
    );
    assert!(
        !seen.made.is_empty() && !seen.refused.is_empty(),
        "the disk never filled up"
    );

    // Reads go on: every acknowledged user is there, and nothing refused is.
    assert_users_found(&http, &endpoint, &token, &seen.made).await;
    assert_eq!(total_users(&http, &endpoint, &token).await, seen.made.len());

    // Space freed: each refused create sent again lands once (201, never 409), without a restart.
    std::fs::remove_file(disk.path("ballast")).unwrap();
    for name in &seen.refused {
        let res = post_user(&http, &endpoint, &token, name).await;
        let status = res.status().as_u16();
        assert_eq!(
            status,
            201,
            "{name} sent again: {}",
            res.text().await.unwrap()
        );
    }
    let total = seen.made.len() + seen.refused.len();
    assert_eq!(total_users(&http, &endpoint, &token).await, total);

    // Stopped and started again on the same file: all of it is there, and the file is whole.
    assert!(server.terminate().success());
    drop(server);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        log.contains("no room to write"),
        "the server log does not say the disk was full"
    );
    let server = Server::start_logging_to(&url, std::process::Stdio::null());
    let endpoint = format!("{}/api/v1/main/integrations/{id}/scim/v2", server.base);
    assert_users_found(&http, &endpoint, &token, &seen.made).await;
    assert_eq!(total_users(&http, &endpoint, &token).await, total);
    drop(server);
    let checked = {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let (verdict,): (String,) = sqlx::query_as("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        verdict
    };
    assert_eq!(checked, "ok");
}
