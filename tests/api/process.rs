//! Roster as a real process on a SQLite file: what it acknowledged survives SIGKILL, SIGTERM lets
//! in-flight requests finish and leaves the file whole (log written, WAL emptied), and the
//! database URL is accepted in both spellings.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cli::roster;

/// A `roster serve` child on loopback.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Server {
    fn start(database_url: &str) -> Self {
        Self::start_logging_to(database_url, Stdio::inherit())
    }

    /// [`Server::start`] with the server's log (stderr) sent to `log`.
    pub(crate) fn start_logging_to(database_url: &str, log: impl Into<Stdio>) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_roster"))
            .arg("serve")
            .env("ROSTER_DATABASE_URL", database_url)
            .env("ROSTER_LEPTOS_TOML", "/nonexistent")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            // A sync at full speed, as these tests send, is past the default per-integration rate.
            .env("ROSTER_SCIM_RATE", "0")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start roster serve");
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        server.wait_until_healthy(port);
        server
    }

    fn wait_until_healthy(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let _ =
                    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut answer = String::new();
                let _ = s.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("roster serve did not become healthy on port {port}");
    }

    /// Sends SIGTERM and waits (at most 20 s) for the process to exit.
    pub(crate) fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        self.exit_within_20s()
    }

    fn exit_within_20s(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A SCIM integration made with the CLI: (id, token).
pub(crate) fn integration(database_url: &str) -> (String, String) {
    let (code, out, err) = roster(
        database_url,
        &["scim", "create", "--tenant", "main", "--name", "crash test"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let created: Value = serde_json::from_str(&out).expect("JSON");
    (
        created["id"].as_str().unwrap().to_string(),
        created["token"].as_str().unwrap().to_string(),
    )
}

/// These tests are about a SQLite file; the PostgreSQL stage skips them.
pub(crate) fn on_postgres() -> bool {
    std::env::var("ROSTER_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty())
}

/// Sends a SCIM JSON body with the integration's token.
async fn send(
    request: reqwest::RequestBuilder,
    token: &str,
    body: Value,
) -> reqwest::Result<reqwest::Response> {
    request
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
}

/// The ids of a SCIM group's `members`.
pub(crate) fn member_ids(group: &Value) -> BTreeSet<String> {
    group["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["value"].as_str().map(str::to_string))
        .collect()
}

/// Four clients syncing at once, as an IdP does: each creates users (`per_client` at most, for
/// 60 s at most) and adds each one to a group, until the server stops answering; what the
/// server acknowledged is kept.
pub(crate) struct AckedSync {
    users: Arc<Mutex<BTreeSet<String>>>,
    members: Arc<Mutex<BTreeSet<String>>>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl AckedSync {
    pub(crate) fn start(
        http: &reqwest::Client,
        endpoint: &str,
        token: &str,
        group_id: &str,
        per_client: usize,
    ) -> AckedSync {
        let users = Arc::new(Mutex::new(BTreeSet::new()));
        let members = Arc::new(Mutex::new(BTreeSet::new()));
        let clients = (0..4)
            .map(|c| {
                let (http, endpoint, token, group_id) = (
                    http.clone(),
                    endpoint.to_string(),
                    token.to_string(),
                    group_id.to_string(),
                );
                let (users, members) = (users.clone(), members.clone());
                tokio::spawn(async move {
                    let deadline = Instant::now() + Duration::from_secs(60);
                    for i in 0..per_client {
                        if Instant::now() > deadline {
                            return;
                        }
                        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                          "userName": format!("c{c}-u{i}")});
                        let post = http.post(format!("{endpoint}/Users"));
                        let Ok(res) = send(post, &token, body).await else {
                            return;
                        };
                        if res.status() != 201 {
                            return;
                        }
                        let Ok(text) = res.text().await else { return };
                        let Ok(created) = serde_json::from_str::<Value>(&text) else {
                            return;
                        };
                        let user_id = created["id"].as_str().unwrap_or_default().to_string();
                        users.lock().unwrap().insert(user_id.clone());
                        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                            "Operations": [{"op": "add", "path": "members", "value": [{"value": user_id}]}]});
                        let patch_group = http.patch(format!("{endpoint}/Groups/{group_id}"));
                        let Ok(res) = send(patch_group, &token, patch).await else {
                            return;
                        };
                        if !res.status().is_success() {
                            return;
                        }
                        members.lock().unwrap().insert(user_id);
                    }
                })
            })
            .collect();
        AckedSync {
            users,
            members,
            clients,
        }
    }

    /// Waits (60 s at most) until `n` member adds were acknowledged.
    pub(crate) async fn wait_for_members(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.members.lock().unwrap().len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The users and the member adds acknowledged so far.
    pub(crate) fn acknowledged(&self) -> (BTreeSet<String>, BTreeSet<String>) {
        let users = self.users.lock().unwrap().clone();
        (users, self.members.lock().unwrap().clone())
    }

    /// Waits for the clients to end (each `wait` at most), then answers what was acknowledged.
    pub(crate) async fn end(self, wait: Duration) -> (BTreeSet<String>, BTreeSet<String>) {
        for c in self.clients {
            let _ = tokio::time::timeout(wait, c).await;
        }
        let users = self.users.lock().unwrap().clone();
        let members = self.members.lock().unwrap().clone();
        (users, members)
    }
}

/// Each of `ids` answers a GET with 200: no acknowledged create was lost.
pub(crate) async fn assert_users_found(
    http: &reqwest::Client,
    endpoint: &str,
    token: &str,
    ids: &[String],
) {
    for user_id in ids {
        let res = http
            .get(format!("{endpoint}/Users/{user_id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "acknowledged user {user_id} is lost");
    }
}

/// An HTTP client whose requests give up after 10 s.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn sqlite_file_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}/roster.db", dir.path().display())
}

/// A connection on which `POST /Users` of `body` is sent by hand: its head and the first `sent`
/// bytes of the body (the rest is the caller's to send, or not).
fn post_users_by_hand(
    server: &Server,
    id: &str,
    token: &str,
    body: &str,
    sent: usize,
) -> TcpStream {
    let mut conn = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    write!(
        conn,
        "POST /api/v1/main/integrations/{id}/scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/scim+json\r\n\
         Content-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..sent]
    )
    .unwrap();
    conn.flush().unwrap();
    conn
}

/// A server on a fresh SQLite file, with an integration: where these tests start — the file's
/// folder (removed when dropped), its URL, the server, the integration's id and token, and its
/// SCIM base URL. `None` on the PostgreSQL stage (these tests are about a file).
fn on_file() -> Option<(tempfile::TempDir, String, Server, String, String, String)> {
    if on_postgres() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_file_url(&dir);
    let server = Server::start(&url);
    let (id, token) = integration(&url);
    let endpoint = format!("{}/api/v1/main/integrations/{id}/scim/v2", server.base);
    Some((dir, url, server, id, token, endpoint))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn what_was_acknowledged_survives_a_sigkill_mid_sync() {
    let Some((_dir, url, server, id, token, endpoint)) = on_file() else {
        return;
    };
    let http = client();
    let group: Value = http
        .post(format!("{endpoint}/Groups"))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Synced"}).to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).expect("JSON"))
        .unwrap();
    let group_id = group["id"].as_str().unwrap().to_string();

    // Four clients sync users and memberships until the server dies (each at most 300 users).
    let sync = AckedSync::start(&http, &endpoint, &token, &group_id, 300);
    // Kill it without warning once a good part of the sync was acknowledged.
    sync.wait_for_members(40).await;
    let mut server = server;
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    let (users, members) = sync.end(Duration::from_secs(20)).await;
    let users: Vec<String> = users.into_iter().collect();
    assert!(
        members.len() >= 40,
        "only {} member adds were acknowledged",
        members.len()
    );

    // Restarted on the same file: every acknowledged create and member add is there.
    let restarted = Server::start(&url);
    let endpoint = format!("{}/api/v1/main/integrations/{id}/scim/v2", restarted.base);
    assert_users_found(&http, &endpoint, &token, &users).await;
    let group: Value = http
        .get(format!("{endpoint}/Groups/{group_id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).expect("JSON"))
        .unwrap();
    let stored = member_ids(&group);
    let lost: Vec<_> = members.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged member adds lost: {lost:?}");
    drop(restarted);
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_before_the_server_exits() {
    let Some((_dir, _, mut server, id, token, _)) = on_file() else {
        return;
    };
    let body =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "in.flight"})
            .to_string();
    let rest = &body[body.len() / 2..];
    let mut conn = post_users_by_hand(&server, &id, &token, &body, body.len() / 2);
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));
    // Still running: it waits for the request it is reading.
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );
    conn.write_all(rest.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = conn.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&answer).contains("\"in.flight\"") {
            break;
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    drop(conn);
    let exit = server.exit_within_20s();
    assert!(exit.success(), "{exit}");
}

/// IdPs give up on a request after a timeout of their own and close the connection; hyper then
/// drops the request's handler wherever it is. Forty creates whose clients hang up as soon as
/// they have sent them are each carried out whole all the same (the request runs in a task of
/// its own), so the IdP's retry finds the user, and the writer goes on taking writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_whose_clients_hang_up_at_once_are_carried_out_whole() {
    let Some((_dir, _, server, id, token, endpoint)) = on_file() else {
        return;
    };
    let names: Vec<String> = (0..40).map(|i| format!("hung.up.{i}")).collect();
    let sent: Vec<TcpStream> = names
        .iter()
        .map(|name| {
            let body = json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": name,
                "name": {"givenName": "Hung", "familyName": "Up"},
                "emails": [{"value": format!("{name}@example.com"), "primary": true}]
            })
            .to_string();
            let conn = post_users_by_hand(&server, &id, &token, &body, body.len());
            conn.shutdown(std::net::Shutdown::Both).unwrap();
            conn
        })
        .collect();
    drop(sent);

    let http = client();
    let filter = format!("{endpoint}/Users?filter=userName%20sw%20%22hung.up.%22&count=100");
    let deadline = Instant::now() + Duration::from_secs(10);
    let found = loop {
        let res = http.get(&filter).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let listed: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        let found: BTreeSet<String> = listed["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["emails"][0]["value"].as_str().is_some())
            .map(|u| u["userName"].as_str().unwrap().to_string())
            .collect();
        if found.len() == names.len() || Instant::now() > deadline {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let missing: Vec<_> = names.iter().filter(|n| !found.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "creates dropped with their client: {missing:?}"
    );

    // The writer goes on: a create sent again is a conflict, a new one is made.
    for (name, status) in [("hung.up.0", 409), ("stayed.on", 201)] {
        let user =
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name});
        let res = send(http.post(format!("{endpoint}/Users")), &token, user)
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{name}");
    }
}

/// A SIGTERM after a sync: the server exits cleanly with every request's log entry written (the
/// last ones were still queued for the log's next batch) and the WAL copied back into the
/// database file and emptied, so the file alone holds everything and the next start reads no log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_leaves_the_log_written_and_the_wal_empty() {
    use sqlx::Connection;
    let Some((dir, url, mut server, id, token, endpoint)) = on_file() else {
        return;
    };
    let http = client();
    const USERS: usize = 150;
    for i in 0..USERS {
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                          "userName": format!("term-{i}"), "displayName": "x".repeat(2_000)});
        let res = send(http.post(format!("{endpoint}/Users")), &token, body)
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let wal = dir.path().join("roster.db-wal");
    let wal_bytes = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(
        wal_bytes() > 1_000_000,
        "the sync left only {} bytes of WAL: nothing for the shutdown to copy back",
        wal_bytes()
    );

    let exit = server.terminate();
    assert!(exit.success(), "{exit}");
    assert_eq!(
        wal_bytes(),
        0,
        "the WAL was left for the next start to read"
    );

    let mut db = sqlx::SqliteConnection::connect(&format!("{url}?mode=ro"))
        .await
        .unwrap();
    let users =
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE username LIKE 'term-%'")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(users, USERS as i64);
    let logged = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM scim_request_log WHERE integration_id = $1 AND method = 'POST' AND status = 201",
    )
    .bind(&id)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(logged, USERS as i64, "request log entries lost at shutdown");
}

#[test]
fn a_sqlite_url_with_or_without_mode_creates_the_file_and_its_folders() {
    if on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, suffix) in ["", "?mode=rwc"].iter().enumerate() {
        let file = dir.path().join(format!("var{i}/lib/roster/roster.db"));
        let url = format!("sqlite://{}{suffix}", file.display());
        assert!(url.starts_with("sqlite:///"), "{url}");
        let (code, out, err) = roster(&url, &["tenant", "create", "dev", "--name", "Dev"], "");
        assert_eq!(code, 0, "{url}: {err}");
        assert!(out.contains("\"dev\""), "{out}");
        assert!(file.exists(), "{url} did not create {}", file.display());
    }
}

/// A database file Roster creates is its owner's alone (it holds password and token hashes),
/// and so are the log and index SQLite makes beside it; one that exists keeps its permissions.
#[test]
fn a_new_database_file_and_its_log_are_readable_by_their_owner_alone() {
    use std::os::unix::fs::PermissionsExt;
    if on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/new/roster.db", dir.path().display());
    let server = Server::start(&url);
    integration(&url);
    let mode = |name: &str| {
        let path = dir.path().join("new").join(name);
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777
    };
    for name in ["roster.db", "roster.db-wal", "roster.db-shm"] {
        assert_eq!(mode(name), 0o600, "{name}");
    }
    drop(server);
    let chosen = dir.path().join("chosen.db");
    std::fs::write(&chosen, b"").unwrap();
    std::fs::set_permissions(&chosen, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (code, _, err) = roster(
        &format!("sqlite://{}", chosen.display()),
        &["tenant", "create", "dev", "--name", "Dev"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let kept = std::fs::metadata(&chosen).unwrap().permissions().mode() & 0o777;
    assert_eq!(kept, 0o640, "an existing file keeps its permissions");
}
