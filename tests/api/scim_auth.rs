//! SCIM authentication, authorisation, routing and protocol negatives.

use roster::iam::permissions::{Action, Resource};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn service_provider_config_advertises_every_block_with_a_valid_token() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let res = app.scim(&i, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/scim+json")
    );
    let spc = res.json();
    for block in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
        assert!(spc[block]["supported"].is_boolean(), "{block}");
    }
    assert_eq!(spc["changePassword"]["supported"], true);
    assert_eq!(spc["filter"]["maxResults"], 200);
    let rt = app.scim(&i, "GET", "/ResourceTypes", None).await;
    assert_eq!(rt.json()["totalResults"], 2);
    let rt = app.scim(&i, "GET", "/ResourceTypes/User", None).await;
    assert_eq!(rt.json()["endpoint"], "/Users");
    let schemas = app.scim(&i, "GET", "/Schemas", None).await;
    assert_eq!(schemas.status, 200);
    let one = app
        .scim(
            &i,
            "GET",
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group",
            None,
        )
        .await;
    assert_eq!(one.json()["name"], "Group");
}

#[tokio::test]
async fn a_missing_or_unknown_token_is_401_with_www_authenticate_bearer() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    for token in [None, Some("nope"), Some("")] {
        let res = app
            .scim_raw("GET", &i.path("/Users"), token, None, &[])
            .await;
        assert_eq!(res.status, 401, "{token:?}");
        assert!(res
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer"));
        assert_eq!(res.json()["status"], "401");
    }
}

#[tokio::test]
async fn a_token_only_works_at_its_own_integration() {
    let app = TestApp::spawn().await;
    let a = app.integration("main").await;
    let b = app.integration("main").await;
    let res = app
        .scim_raw("GET", &b.path("/Users"), Some(&a.token), None, &[])
        .await;
    assert_eq!(res.status, 401);
    app.create_tenant("other").await;
    let c = app.integration("other").await;
    // Integration `a` named under another tenant does not exist there.
    let wrong_tenant = format!("/api/v1/other/integrations/{}/scim/v2/Users", a.id);
    let res = app
        .scim_raw("GET", &wrong_tenant, Some(&a.token), None, &[])
        .await;
    assert_eq!(res.status, 404);
    let res = app
        .scim_raw("GET", &c.path("/Users"), Some(&a.token), None, &[])
        .await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn a_disabled_integration_answers_401_saying_it_is_disabled_and_a_deleted_one_404() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    roster::iam::integrations::set_enabled(&app.db, &app.operator(), "main", &i.id, false)
        .await
        .unwrap();
    let res = app.scim(&i, "GET", "/Users", None).await;
    assert_eq!(res.status, 401);
    assert!(res.json()["detail"].as_str().unwrap().contains("disabled"));
    roster::iam::integrations::set_enabled(&app.db, &app.operator(), "main", &i.id, true)
        .await
        .unwrap();
    assert_eq!(app.scim(&i, "GET", "/Users", None).await.status, 200);
    roster::iam::integrations::delete(&app.db, &app.operator(), "main", &i.id)
        .await
        .unwrap();
    let res = app.scim(&i, "GET", "/Users", None).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.json()["status"], "404");
}

#[tokio::test]
async fn rotating_the_token_stops_the_old_one_at_once_by_default_or_after_a_grace_period() {
    let app = TestApp::spawn().await;
    let mut i = app.integration("main").await;
    let old = i.token.clone();
    let new = roster::iam::integrations::rotate(&app.db, &app.operator(), "main", &i.id, None)
        .await
        .unwrap();
    assert_eq!(new.len(), 200);
    assert!(new
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    assert_eq!(app.scim(&i, "GET", "/Users", None).await.status, 401);
    i.token = new.clone();
    assert_eq!(app.scim(&i, "GET", "/Users", None).await.status, 200);
    let newer =
        roster::iam::integrations::rotate(&app.db, &app.operator(), "main", &i.id, Some(60_000))
            .await
            .unwrap();
    assert_eq!(app.scim(&i, "GET", "/Users", None).await.status, 200);
    app.clock.advance_minutes(2);
    let res = app.scim(&i, "GET", "/Users", None).await;
    assert_eq!(res.status, 401);
    assert!(res.json()["detail"].as_str().unwrap().contains("expired"));
    i.token = newer;
    assert_eq!(app.scim(&i, "GET", "/Users", None).await.status, 200);
    assert_ne!(old, i.token);
}

/// The binding that gives integration `i`'s service account its role.
async fn provisioner_binding(app: &TestApp, i: &crate::helpers::Integration) -> String {
    let mut conn = app.db.acquire().await.unwrap();
    sqlx::query_scalar(
        "SELECT b.id FROM bindings b JOIN scim_integrations i \
         ON b.subject_type = 'service_account' AND b.subject_id = i.service_account_id \
         WHERE i.id = $1",
    )
    .bind(&i.id)
    .fetch_one(&mut *conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_token_in_use_is_refused_at_once_when_its_integration_is_disabled_unbound_rotated_or_deleted(
) {
    let app = TestApp::spawn().await;
    let mut i = app.integration("main").await;
    // Each refusal follows a request that succeeded with the same token just before it, so the
    // integration's credentials were fresh in this server's memory when access changed.
    assert_eq!(app.scim(&i, "GET", "/Users", None).await.status, 200);
    roster::iam::integrations::set_enabled(&app.db, &app.operator(), "main", &i.id, false)
        .await
        .unwrap();
    let res = app.scim(&i, "GET", "/Users", None).await;
    assert_eq!(res.status, 401, "{}", res.body);
    assert!(res.json()["detail"].as_str().unwrap().contains("disabled"));
    roster::iam::integrations::set_enabled(&app.db, &app.operator(), "main", &i.id, true)
        .await
        .unwrap();
    assert_eq!(app.scim(&i, "GET", "/Users", None).await.status, 200);

    let binding = provisioner_binding(&app, &i).await;
    roster::iam::bindings::unbind(&app.db, &app.operator(), "main", &binding)
        .await
        .unwrap();
    let res = app.scim(&i, "GET", "/Users", None).await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.json()["detail"]
        .as_str()
        .unwrap()
        .contains("USERS:READ"));

    let other = app.integration("main").await;
    assert_eq!(app.scim(&other, "GET", "/Users", None).await.status, 200);
    let new = roster::iam::integrations::rotate(&app.db, &app.operator(), "main", &other.id, None)
        .await
        .unwrap();
    let mut rotated = crate::helpers::Integration {
        token: other.token.clone(),
        ..other
    };
    assert_eq!(
        app.scim(&rotated, "GET", "/Users", None).await.status,
        401,
        "the old token"
    );
    rotated.token = new;
    assert_eq!(app.scim(&rotated, "GET", "/Users", None).await.status, 200);
    roster::iam::integrations::delete(&app.db, &app.operator(), "main", &rotated.id)
        .await
        .unwrap();
    assert_eq!(app.scim(&rotated, "GET", "/Users", None).await.status, 404);
    i.token = rotated.token.clone();
    assert_eq!(
        app.scim(&i, "GET", "/Users", None).await.status,
        401,
        "a token of another integration"
    );
}

#[tokio::test]
async fn a_change_made_through_another_replica_applies_here_within_a_second() {
    let app = TestApp::spawn().await;
    let replica = app.replica().await;
    let i = app.integration("main").await;
    assert_eq!(replica.scim(&i, "GET", "/Users", None).await.status, 200);
    roster::iam::integrations::set_enabled(&app.db, &app.operator(), "main", &i.id, false)
        .await
        .unwrap();
    assert_eq!(app.scim(&i, "GET", "/Users", None).await.status, 401);
    tokio::time::sleep(roster::db::credential_cache::FRESH_FOR).await;
    let res = replica.scim(&i, "GET", "/Users", None).await;
    assert_eq!(res.status, 401, "{}", res.body);
    // Writes through the other replica's SCIM API do not change access: still refused, never
    // half-accepted.
    let res = replica
        .scim(&i, "POST", "/Users", Some(json!({"userName": "late"})))
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE username = $1", &["late"])
            .await,
        0
    );
}

#[tokio::test]
async fn a_custom_role_without_groups_delete_gets_403() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let g = app
        .scim(&i, "POST", "/Groups", Some(json!({"displayName": "Ops"})))
        .await
        .json();
    let gid = g["id"].as_str().unwrap().to_string();
    // Replace the integration's role with a custom one that lacks GROUPS:DELETE (a write, as
    // every change to access is, so the credentials this token's requests read are re-read).
    {
        let mut conn = app.db.begin_write().await.unwrap();
        sqlx::query("DELETE FROM bindings WHERE subject_type = 'service_account'")
            .execute(&mut *conn)
            .await
            .unwrap();
        let role = roster::iam::permissions::create_custom_role(
            &mut conn,
            "main",
            "GroupsNoDelete",
            &[
                (Resource::Groups, Action::Read),
                (Resource::Groups, Action::Update),
                (Resource::Users, Action::Read),
            ],
            app.now(),
        )
        .await
        .unwrap();
        let sa: String =
            sqlx::query_scalar("SELECT service_account_id FROM scim_integrations WHERE id = $1")
                .bind(&i.id)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        roster::db::iam::insert_binding(
            &mut conn,
            "main",
            &role.id,
            "service_account",
            &sa,
            app.now(),
        )
        .await
        .unwrap();
        conn.commit().await.unwrap();
    }
    let res = app
        .scim(&i, "DELETE", &format!("/Groups/{gid}"), None)
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.json()["detail"]
        .as_str()
        .unwrap()
        .contains("GROUPS:DELETE"));
    assert_eq!(
        app.scim(&i, "GET", &format!("/Groups/{gid}"), None)
            .await
            .status,
        200
    );
    let res = app
        .scim(&i, "POST", "/Users", Some(json!({"userName": "x"})))
        .await;
    assert_eq!(res.status, 403);
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_with_scim_error_bodies() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let res = app.scim(&i, "GET", "/Nope", None).await;
    assert_eq!(res.status, 404);
    assert_eq!(
        res.json()["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    let res = app.scim(&i, "DELETE", "/Users", None).await;
    assert_eq!(res.status, 405);
    assert_eq!(res.json()["status"], "405");
    assert!(res.header("allow").is_some());
    let res = app.scim(&i, "POST", "/Bulk", Some(json!({}))).await;
    assert_eq!(res.status, 405);
    let res = app
        .scim(
            &i,
            "GET",
            "/Users/00000000-0000-0000-0000-000000000000",
            None,
        )
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.json()["status"], "404");
}

#[tokio::test]
async fn the_path_is_normalised_before_routing_and_checks() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let odd = format!(
        "/api/v1/main/./integrations//{}/scim/v2/x/../%55sers?filter=userName+eq+%22nobody%22",
        i.id
    );
    let res = app.scim_raw("GET", &odd, Some(&i.token), None, &[]).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["totalResults"], 0);
    // Dot segments cannot climb into another integration without its token.
    let other = app.integration("main").await;
    let sneaky = format!(
        "/api/v1/main/integrations/{}/scim/v2/../../../{}/scim/v2/Users",
        i.id, other.id
    );
    let res = app
        .scim_raw("GET", &sneaky, Some(&i.token), None, &[])
        .await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn malformed_json_wrong_content_type_and_huge_bodies_are_rejected_clearly() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let bad = app
        .send(
            axum::http::Request::post(i.path("/Users"))
                .header("authorization", format!("Bearer {}", i.token))
                .header("content-type", "application/scim+json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["scimType"], "invalidSyntax");
    let res = app
        .scim_raw(
            "POST",
            &i.path("/Users"),
            Some(&i.token),
            Some(json!({"userName": "a"})),
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(res.status, 415);
    assert_eq!(res.json()["status"], "415");
    let res = app
        .scim_raw(
            "POST",
            &i.path("/Users"),
            Some(&i.token),
            Some(json!({"userName": "plainjson"})),
            &[("content-type", "application/json; charset=utf-8")],
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let huge = "x".repeat(1024 * 1024 + 10);
    let res = app
        .scim(
            &i,
            "POST",
            "/Users",
            Some(json!({"userName": "big", "title": huge})),
        )
        .await;
    assert_eq!(res.status, 413);
    assert_eq!(res.json()["status"], "413");
}

#[tokio::test]
async fn an_invalid_or_unsupported_filter_is_400_invalid_filter() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    for f in [
        "userName eq",
        "noSuchAttribute eq \"x\"",
        "userName xx \"a\"",
    ] {
        let res = app
            .scim(&i, "GET", &format!("/Users?filter={}", urlencode(f)), None)
            .await;
        assert_eq!(res.status, 400, "{f}: {}", res.body);
        assert_eq!(res.json()["scimType"], "invalidFilter", "{f}");
    }
}

#[tokio::test]
async fn every_request_is_logged_per_integration_with_redacted_failures() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    app.scim(&i, "GET", "/Users", None).await;
    app.scim(
        &i,
        "POST",
        "/Users",
        Some(json!({"userName": "", "password": "hunter2hunter2"})),
    )
    .await;
    let log = roster::iam::integrations::log(&app.db, "main", &i.id, 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    let failure = log.iter().find(|e| e.status == 400).expect("the failure");
    assert_eq!(failure.method, "POST");
    assert!(failure.path.ends_with("/Users"));
    assert!(failure
        .error_detail
        .as_deref()
        .unwrap()
        .contains("userName"));
    let body = failure.request_body.as_deref().unwrap();
    assert!(!body.contains("hunter2"), "{body}");
    assert!(body.contains("[redacted]"));
    let ok = log.iter().find(|e| e.status == 200).unwrap();
    assert!(ok.error_detail.is_none() && ok.request_body.is_none());
}

/// An integration deleted while its requests' entries wait for the log's writer: its entries go
/// with it, and the entries of the batch's other integrations are still written (one entry of a
/// deleted integration failed the whole batch on the log's foreign key, three times, and lost
/// every entry in it).
#[tokio::test]
async fn entries_of_an_integration_deleted_before_they_are_written_do_not_lose_the_batch() {
    use roster::db::log_writer::Queued;
    use roster::db::scim_log::LogEntry;
    let app = TestApp::spawn().await;
    let kept = app.integration("main").await;
    let gone = app.integration("main").await;
    roster::iam::integrations::delete(&app.db, &app.operator(), "main", &gone.id)
        .await
        .expect("delete the integration");
    let entry = |at: i64| LogEntry {
        at,
        method: "GET".into(),
        path: "/Users".into(),
        status: 200,
        duration_ms: 1,
        error_detail: None,
        request_body: None,
    };
    // One batch (queued together, written at the first flush): both integrations' entries.
    for (n, id) in [&kept.id, &gone.id, &kept.id].into_iter().enumerate() {
        let queued = Queued {
            integration_id: id.clone(),
            entry: entry(1_900_000_000_000 + n as i64),
            token_used: None,
        };
        app.db.queue_log(queued).await;
    }
    app.db.flush_log().await;
    let log = roster::iam::integrations::log(&app.db, "main", &kept.id, 10)
        .await
        .unwrap();
    let at: Vec<i64> = log.iter().map(|e| e.at).collect();
    assert_eq!(at, [1_900_000_000_002, 1_900_000_000_000], "newest first");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM scim_request_log WHERE integration_id = $1",
            &[&gone.id]
        )
        .await,
        0
    );
}

pub fn urlencode(s: &str) -> String {
    roster::url::encode_query_value(s)
}

#[tokio::test]
async fn the_scim_provisioner_role_is_created_once_with_exactly_its_permissions() {
    let app = TestApp::spawn().await;
    app.integration("main").await;
    app.integration("main").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM roles WHERE tenant_id = 'main' AND name = 'SCIMProvisioner' AND managed = 1", &[]).await,
        1
    );
    let perms = app
        .count(
            "SELECT COUNT(*) FROM role_permissions p JOIN roles r ON r.id = p.role_id WHERE r.name = 'SCIMProvisioner'",
            &[],
        )
        .await;
    assert_eq!(perms, 11);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM role_permissions p JOIN roles r ON r.id = p.role_id \
             WHERE r.name = 'SCIMProvisioner' AND p.resource = 'USERS' AND p.action = 'DELETE'",
            &[]
        )
        .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM service_accounts", &[])
            .await,
        2
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM bindings WHERE subject_type = 'service_account'",
            &[]
        )
        .await,
        2
    );
    // Only hashes are stored.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM api_tokens WHERE LENGTH(token_hash) = 43",
            &[]
        )
        .await,
        2
    );
}

/// A batch of log entries (as the log's writer gathers them, from several integrations) is
/// written in one statement and read back as it was sent: text with quotes, backslashes,
/// non-ASCII and JSON in it, absent fields, large numbers. A NUL character, which PostgreSQL's
/// text cannot hold (it would fail the whole batch there), is read back as U+FFFD on both.
#[tokio::test]
async fn a_batch_of_log_entries_is_read_back_as_it_was_written() {
    use roster::db::scim_log::{list, record_many, LogEntry};
    let app = TestApp::spawn().await;
    let a = app.integration("main").await;
    let b = app.integration("main").await;
    let entry = |at: i64, path: &str, error: Option<&str>, body: Option<&str>| LogEntry {
        at,
        method: if error.is_some() { "PATCH" } else { "GET" }.into(),
        path: path.into(),
        status: if error.is_some() { 400 } else { 200 },
        duration_ms: at % 1000,
        error_detail: error.map(str::to_string),
        request_body: body.map(str::to_string),
    };
    let sent = [
        entry(
            1_900_000_000_001,
            "/Users?filter=userName eq \"a\\b\"",
            None,
            None,
        ),
        entry(
            1_900_000_000_002,
            "/Groups/ünï",
            Some("member `x\0y` is not a user"),
            Some(r#"{"Operations":[{"op":"add","value":"\u00e9"}]}"#),
        ),
        entry(
            1_900_000_000_003,
            "/Users/%00",
            Some("no user `\0`"),
            Some(""),
        ),
    ];
    let batch: Vec<(&str, &LogEntry)> = vec![
        (a.id.as_str(), &sent[0]),
        (b.id.as_str(), &sent[1]),
        (a.id.as_str(), &sent[2]),
    ];
    {
        let mut conn = app.db.acquire().await.unwrap();
        record_many(&mut conn, &batch).await.unwrap().remember();
    }
    let mut conn = app.db.acquire().await.unwrap();
    let read_a = list(&mut conn, &a.id, 10).await.unwrap();
    let read_b = list(&mut conn, &b.id, 10).await.unwrap();
    let without_nul = |mut e: LogEntry| {
        e.error_detail = e.error_detail.map(|d| d.replace('\0', "\u{fffd}"));
        e
    };
    assert_eq!(
        read_a,
        vec![without_nul(sent[2].clone()), sent[0].clone()],
        "newest first"
    );
    assert_eq!(read_b, vec![without_nul(sent[1].clone())]);
    assert_eq!(
        read_a[0].error_detail.as_deref(),
        Some("no user `\u{fffd}`")
    );
}

/// A batch of any size is written whole, each entry once with its own fields: on SQLite a batch
/// goes in statements of 64, 16, 4 and 1 rows, so 150 entries take six (64, 64, 16, 4, 1, 1).
#[tokio::test]
async fn a_batch_larger_than_one_statement_is_written_whole() {
    use roster::db::scim_log::{list, record_many, LogEntry};
    let app = TestApp::spawn().await;
    let a = app.integration("main").await;
    let b = app.integration("main").await;
    let sent: Vec<LogEntry> = (0..150_i64)
        .map(|n| LogEntry {
            at: 1_900_000_000_000 + n,
            method: if n % 2 == 0 { "GET" } else { "PATCH" }.into(),
            path: format!("/Users/{n}?q=\"é{n}\""),
            status: 200 + n,
            duration_ms: n * 3,
            error_detail: (n % 3 == 0).then(|| format!("detail {n}")),
            request_body: (n % 5 == 0).then(|| format!("{{\"n\":{n}}}")),
        })
        .collect();
    let owner = |n: usize| {
        if n.is_multiple_of(4) {
            b.id.as_str()
        } else {
            a.id.as_str()
        }
    };
    let batch: Vec<(&str, &LogEntry)> = sent
        .iter()
        .enumerate()
        .map(|(n, e)| (owner(n), e))
        .collect();
    {
        let mut conn = app.db.acquire().await.unwrap();
        record_many(&mut conn, &batch).await.unwrap().remember();
    }
    let mut conn = app.db.acquire().await.unwrap();
    for id in [&a.id, &b.id] {
        let mut expected: Vec<LogEntry> = batch
            .iter()
            .filter(|(owner, _)| owner == id)
            .map(|(_, e)| (*e).clone())
            .collect();
        expected.reverse(); // newest first
        assert_eq!(list(&mut conn, id, 1000).await.unwrap(), expected);
    }
    let stored = app
        .count("SELECT COUNT(DISTINCT id) FROM scim_request_log", &[])
        .await;
    assert_eq!(stored, 150, "each entry once, with an id of its own");
}

#[tokio::test]
async fn the_request_log_keeps_only_the_newest_entries_per_integration() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    {
        let mut conn = app.db.acquire().await.unwrap();
        for n in 0..1005 {
            let entry = roster::db::scim_log::LogEntry {
                at: n,
                method: "GET".into(),
                path: format!("/n{n}"),
                status: 200,
                duration_ms: 1,
                error_detail: None,
                request_body: None,
            };
            roster::db::scim_log::record_many(&mut conn, &[(i.id.as_str(), &entry)])
                .await
                .unwrap()
                .remember();
        }
    }
    // Trimming runs in batches (every `TRIM_EVERY` entries), so between trims a few more are
    // stored; readers see the newest 1000 at most.
    let stored = app
        .count(
            "SELECT COUNT(*) FROM scim_request_log WHERE integration_id = $1",
            &[&i.id],
        )
        .await;
    assert!(
        (1000..=1000 + roster::db::scim_log::TRIM_EVERY as i64).contains(&stored),
        "{stored}"
    );
    {
        let mut conn = app.db.acquire().await.unwrap();
        let newest = roster::db::scim_log::list(&mut conn, &i.id, 5000)
            .await
            .unwrap();
        assert_eq!(newest.len(), 1000);
        assert_eq!(newest.last().map(|e| e.at), Some(5));
    }
    // The housekeeping sweep trims every integration to exactly the bound.
    let swept = roster::auth::housekeeping::sweep(&app.db, app.now())
        .await
        .unwrap();
    assert_eq!(swept.scim_log_entries as i64, stored - 1000);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM scim_request_log WHERE integration_id = $1",
            &[&i.id]
        )
        .await,
        1000
    );
    assert_eq!(
        app.count("SELECT MIN(at) FROM scim_request_log", &[]).await,
        5
    );
}

/// An append's trim looks only at entries from its last cutoff on (on PostgreSQL the entries it
/// deleted before stay in the index until vacuum, and walking them grew each trim with the
/// requests since): an entry older than that cutoff written afterwards (a batch held back,
/// another replica's clock behind) is left to the housekeeping sweep, which removes it.
#[tokio::test]
async fn an_appends_trim_starts_at_its_last_cutoff_and_the_sweep_takes_what_is_older() {
    use roster::db::scim_log::KEEP_PER_INTEGRATION;
    let app = TestApp::spawn().await;
    let id = app.integration("main").await.id;
    // 1,201 appends: trims at the 1st, 101st, …, 1,201st; the last keeps 1,000 (from 201 on).
    append_log(&app, &id, 0..1201).await;
    assert_eq!(log_size(&app, &id).await, KEEP_PER_INTEGRATION);
    // One entry older than that cutoff arrives late, then 99 more: the next trim leaves it.
    append_log(&app, &id, 150..151).await;
    append_log(&app, &id, 1201..1300).await;
    assert_eq!(oldest_listed(&app, &id).await, Some(300));
    assert_eq!(
        log_size(&app, &id).await,
        KEEP_PER_INTEGRATION + 1,
        "the late entry stays"
    );
    let late = "SELECT COUNT(*) FROM scim_request_log WHERE at = 150";
    assert_eq!(app.count(late, &[]).await, 1);
    // The sweep looks at every entry.
    let swept = roster::auth::housekeeping::sweep(&app.db, app.now())
        .await
        .unwrap();
    assert_eq!(swept.scim_log_entries, 1);
    assert_eq!(log_size(&app, &id).await, KEEP_PER_INTEGRATION);
    assert_eq!(oldest_listed(&app, &id).await, Some(300));
}

/// Appends one log entry a call for each time in `ats`, as the log's writer does, remembering
/// each committed trim.
async fn append_log(app: &TestApp, id: &str, ats: std::ops::Range<i64>) {
    let mut conn = app.db.acquire().await.unwrap();
    for at in ats {
        let entry = roster::db::scim_log::LogEntry {
            at,
            method: "GET".into(),
            path: format!("/Users?n={at}"),
            status: 200,
            duration_ms: 1,
            error_detail: None,
            request_body: None,
        };
        roster::db::scim_log::record_many(&mut conn, &[(id, &entry)])
            .await
            .unwrap()
            .remember();
    }
}

async fn log_size(app: &TestApp, id: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM scim_request_log WHERE integration_id = $1";
    app.count(sql, &[id]).await
}

/// The time of the oldest of the newest [`KEEP_PER_INTEGRATION`] entries (all a reader sees).
async fn oldest_listed(app: &TestApp, id: &str) -> Option<i64> {
    use roster::db::scim_log::{list, KEEP_PER_INTEGRATION};
    let mut conn = app.db.acquire().await.unwrap();
    let newest = list(&mut conn, id, KEEP_PER_INTEGRATION).await.unwrap();
    assert_eq!(newest.len() as i64, KEEP_PER_INTEGRATION);
    newest.last().map(|e| e.at)
}
