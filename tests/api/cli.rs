//! The CLI, run as a real process against a fresh database.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{fresh_database, TestApp};

pub fn roster(database_url: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    roster_with(database_url, args, stdin, &[])
}

fn roster_with(
    database_url: &str,
    args: &[&str],
    stdin: &str,
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .envs(env.iter().copied())
        .env("ROSTER_DATABASE_URL", database_url)
        .env("ROSTER_LEPTOS_TOML", "/nonexistent")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run roster");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn admin_create_reads_the_password_from_stdin_and_prints_json() {
    let (url, _dir) = fresh_database().await;
    let (code, out, err) = roster(
        &url,
        &[
            "admin",
            "create",
            "--username",
            "ops",
            "--password-stdin",
            "--email",
            "ops@example.com",
        ],
        "a long password\n",
    );
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert_eq!(json["username"], "ops");
    assert_eq!(json["superadmin"], true);
    assert!(!out.contains("a long password"));

    let (code, _, err) = roster(
        &url,
        &["admin", "create", "--username", "OPS", "--password-stdin"],
        "another password\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("taken"), "{err}");
}

#[tokio::test]
async fn admin_create_without_password_stdin_is_refused() {
    let (url, _dir) = fresh_database().await;
    let (code, _, err) = roster(&url, &["admin", "create", "--username", "ops"], "");
    assert_ne!(code, 0);
    assert!(err.contains("--password-stdin"), "{err}");
}

#[tokio::test]
async fn tenant_create_prints_json_and_refuses_bad_ids() {
    let (url, _dir) = fresh_database().await;
    let (code, out, err) = roster(
        &url,
        &["tenant", "create", "dev", "--name", "Development"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["id"], "dev");
    assert_eq!(json["name"], "Development");

    let (code, _, err) = roster(&url, &["tenant", "create", "Dev!", "--name", "x"], "");
    assert_eq!(code, 1);
    assert!(err.contains("lowercase"), "{err}");
}

#[tokio::test]
async fn a_bad_database_url_stops_with_a_message_naming_the_setting() {
    let (code, _, err) = roster(
        "mysql://nowhere",
        &["tenant", "create", "dev", "--name", "x"],
        "",
    );
    assert_eq!(code, 2);
    assert!(err.contains("ROSTER_DATABASE_URL"), "{err}");
}

#[tokio::test]
async fn the_runtime_takes_its_worker_threads_from_the_setting_or_refuses_a_bad_one() {
    let (url, _dir) = fresh_database().await;
    let create = ["tenant", "create", "dev", "--name", "Dev"];
    let (code, out, err) = roster_with(&url, &create, "", &[("TOKIO_WORKER_THREADS", "3")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"dev\""), "{out}");
    for bad in ["0", "lots"] {
        let (code, out, err) = roster_with(&url, &create, "", &[("TOKIO_WORKER_THREADS", bad)]);
        assert_eq!(code, 2, "{bad}: {out}");
        assert!(err.contains("TOKIO_WORKER_THREADS"), "{err}");
        assert!(err.contains("1 to 1024"), "{err}");
    }
}

const KEY: (&str, &str) = ("ROSTER_SECRET_KEY", crate::helpers::SECRET_KEY);

#[tokio::test]
async fn oidc_add_list_and_delete_print_json_and_never_the_secret() {
    let (url, _dir) = fresh_database().await;
    let public = ("ROSTER_PUBLIC_URL", "https://roster.example.com");
    let (code, out, err) = roster_with(
        &url,
        &[
            "oidc",
            "add",
            "--name",
            "authentik",
            "--issuer",
            "https://auth.example.com/application/o/roster/",
            "--client-id",
            "roster-client",
            "--client-secret-stdin",
            "--claim",
            "preferred_username",
        ],
        "very-secret-value\n",
        &[KEY, public],
    );
    assert_eq!(code, 0, "{err}");
    let added: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let id = added["id"].as_str().unwrap().to_string();
    assert_eq!(added["name"], "authentik");
    assert_eq!(added["scopes"], "openid email profile");
    assert_eq!(added["claim"], "preferred_username");
    assert_eq!(added["create_users"], false);
    assert_eq!(
        added["redirect_uri"],
        format!("https://roster.example.com/auth/oidc/{id}/callback")
    );
    assert!(!out.contains("very-secret-value"));

    let (code, out, err) = roster_with(&url, &["oidc", "list"], "", &[KEY, public]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("very-secret-value") && !out.contains("secret"),
        "{out}"
    );
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["id"], id.as_str());

    let (code, out, err) = roster_with(&url, &["oidc", "delete", &id], "", &[KEY]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&id));
    let (code, _, err) = roster_with(&url, &["oidc", "delete", &id], "", &[KEY]);
    assert_eq!(code, 1);
    assert!(err.contains("No OpenID provider"), "{err}");
}

#[tokio::test]
async fn oidc_add_without_a_secret_key_names_the_setting_and_how_to_make_one() {
    let (url, _dir) = fresh_database().await;
    let (code, _, err) = roster(
        &url,
        &[
            "oidc",
            "add",
            "--name",
            "x",
            "--issuer",
            "https://auth.example.com",
            "--client-id",
            "c",
            "--client-secret-stdin",
        ],
        "s\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("ROSTER_SECRET_KEY"), "{err}");
    assert!(err.contains("openssl rand -base64 32"), "{err}");
}

#[tokio::test]
async fn serve_refuses_to_start_when_the_secret_key_cannot_open_stored_secrets() {
    let (url, _dir) = fresh_database().await;
    let add = [
        "oidc",
        "add",
        "--name",
        "x",
        "--issuer",
        "https://auth.example.com",
        "--client-id",
        "c",
        "--client-secret-stdin",
    ];
    let (code, _, err) = roster_with(&url, &add, "s\n", &[KEY]);
    assert_eq!(code, 0, "{err}");
    let port = ("LEPTOS_SITE_ADDR", "127.0.0.1:0");
    let (code, _, err) = roster_with(&url, &["serve"], "", &[port]);
    assert_eq!(code, 1);
    assert!(err.contains("ROSTER_SECRET_KEY: it is missing"), "{err}");
    let other_key = (
        "ROSTER_SECRET_KEY",
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
    );
    let (code, _, err) = roster_with(&url, &["serve"], "", &[port, other_key]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot be read"), "{err}");
}

#[tokio::test]
async fn tenant_settings_user_passwords_and_provider_trust_go_through_the_identity_rules() {
    let app = TestApp::spawn().await;
    let url = app.database_url.clone();
    // A tenant may link users of other tenants only once a superadmin (here the operator) says so.
    let (code, out, err) = roster(&url, &["tenant", "set", "main"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(r#""link_foreign_users":false"#), "{out}");
    let (code, out, err) = roster(
        &url,
        &["tenant", "set", "main", "--link-foreign-users", "on"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(r#""link_foreign_users":true"#), "{out}");

    // The operator sets any user's password; their sessions end.
    let id = app.plain_user("pia", "old password 1", Some("main")).await;
    app.sign_in("pia", "old password 1").await;
    let (code, out, err) = roster(
        &url,
        &["user", "password", "--login", "pia", "--password-stdin"],
        "new password 2\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pia"), "{out}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE user_id = $1", &[&id])
            .await,
        0
    );
    app.sign_in("pia", "new password 2").await;

    // Both changes are in the tenant's audit log, by the operator, and no password is.
    let log = roster::iam::audit::page(&app.db, "main", &Default::default(), (None, None))
        .await
        .unwrap();
    let seen: Vec<(&str, &str, &str)> = log
        .events
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.actor_name.as_str(),
                e.target_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("user.password-set", "operator (command line)", "pia"),
            (
                "tenant.link-foreign-users",
                "operator (command line)",
                "Main"
            ),
        ]
    );
    assert!(!format!("{:?}", log.events).contains("new password 2"));

    // A provider's trusted integrations must exist.
    let (code, _, err) = roster(
        &url,
        &["oidc", "trust", "no-such-provider", "--integration", "x"],
        "",
    );
    assert_ne!(code, 0);
    assert!(err.contains("no-such-provider"), "{err}");
}

/// `ROSTER_LOG_FORMAT=json`: the server's log is one JSON object a line (its level, message and
/// fields at the top); a format it does not know stops start-up with the setting named.
#[tokio::test]
async fn the_log_is_json_lines_when_asked_and_an_unknown_format_is_refused() {
    use std::io::BufRead;
    let (url, _dir) = fresh_database().await;
    let (code, _, err) = roster_with(&url, &["serve"], "", &[("ROSTER_LOG_FORMAT", "xml")]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("ROSTER_LOG_FORMAT") && err.contains("ROSTER_LOG_FORMAT=json"),
        "{err}"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("serve")
        .env("ROSTER_DATABASE_URL", &url)
        .env("ROSTER_LEPTOS_TOML", "/nonexistent")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("ROSTER_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = std::io::BufReader::new(server.stderr.take().unwrap()).lines();
    let mut listening = None;
    for line in lines.take(50) {
        let line = line.unwrap();
        let event: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            event["level"].is_string() && event["timestamp"].is_string(),
            "{line}"
        );
        if event["message"] == "listening" {
            listening = Some(event);
            break;
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    let event = listening.expect("a `listening` line");
    assert_eq!(event["level"], "INFO");
    assert_eq!(event["addr"], format!("127.0.0.1:{port}"));
}
