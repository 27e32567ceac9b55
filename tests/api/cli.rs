//! The CLI, run as a real process against a fresh database.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::fresh_database;

pub fn roster(database_url: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
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
