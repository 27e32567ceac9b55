//! SCIM limits and routing (issue #10 item 9, issue #12 item 2): the per-integration rate, what
//! enters an integration's request log, path normalisation before routing, 404 and 405 answers.

use crate::helpers::{Integration, TestApp};

async fn log_len(app: &TestApp, i: &Integration) -> usize {
    roster::iam::integrations::log(&app.db, "main", &i.id, 1000)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn over_its_rate_an_integration_gets_429_with_retry_after_then_recovers() {
    let app = TestApp::spawn_with(&[("ROSTER_SCIM_RATE", "1"), ("ROSTER_SCIM_BURST", "3")]).await;
    let i = app.integration("main").await;
    let other = app.integration("main").await;
    for n in 0..3 {
        let res = app.scim(&i, "GET", "/Users", None).await;
        assert_eq!(res.status, 200, "request {n}: {}", res.body);
    }
    let res = app.scim(&i, "GET", "/Users", None).await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert_eq!(res.json()["status"], "429");
    assert_eq!(
        res.json()["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(res.header("retry-after").as_deref(), Some("1"));
    // Per integration: another one is not held back.
    assert_eq!(app.scim(&other, "GET", "/Users", None).await.status, 200);
    // Requests without a valid token do not spend the integration's budget.
    for _ in 0..5 {
        let res = app
            .scim_raw("GET", &other.path("/Users"), Some("junk"), None, &[])
            .await;
        assert_eq!(res.status, 401);
    }
    assert_eq!(app.scim(&other, "GET", "/Users", None).await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = app.scim(&i, "GET", "/Users", None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    // The throttled request is the integration's own, so its log shows it.
    let log = roster::iam::integrations::log(&app.db, "main", &i.id, 10)
        .await
        .unwrap();
    assert!(log.iter().any(|e| e.status == 429), "{log:?}");
}

#[tokio::test]
async fn rate_zero_turns_the_limit_off() {
    let app = TestApp::spawn_with(&[("ROSTER_SCIM_RATE", "0"), ("ROSTER_SCIM_BURST", "1")]).await;
    let i = app.integration("main").await;
    for _ in 0..5 {
        assert_eq!(app.scim(&i, "GET", "/Users", None).await.status, 200);
    }
}

#[tokio::test]
async fn unauthenticated_requests_never_enter_the_integrations_log() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    app.scim(&i, "GET", "/Users", None).await;
    assert_eq!(log_len(&app, &i).await, 1);
    let junk = format!("/Users?{}", "x".repeat(2000));
    for n in 0..50 {
        let token = match n % 3 {
            0 => None,
            1 => Some("not-the-token"),
            _ => Some(""),
        };
        let method = if n % 2 == 0 { "GET" } else { "POST" };
        let body = (method == "POST").then(|| serde_json::json!({"userName": "spoof"}));
        let res = app.scim_raw(method, &i.path(&junk), token, body, &[]).await;
        assert_eq!(res.status, 401, "{}", res.body);
    }
    // A disabled integration's own token is refused before authentication completes, too.
    roster::iam::integrations::set_enabled(&app.db, &app.operator(), "main", &i.id, false)
        .await
        .unwrap();
    assert_eq!(app.scim(&i, "GET", "/Users", None).await.status, 401);
    assert_eq!(log_len(&app, &i).await, 1);
    let spoofed = app
        .count(
            "SELECT COUNT(*) FROM scim_request_log WHERE status = 401",
            &[],
        )
        .await;
    assert_eq!(spoofed, 0);
}

#[tokio::test]
async fn a_long_query_is_stored_cut_to_two_kilobytes() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let junk = format!("/Users?junk={}", "j".repeat(4096));
    let res = app.scim(&i, "GET", &junk, None).await;
    assert!(res.status.as_u16() < 500, "{}", res.body);
    let log = roster::iam::integrations::log(&app.db, "main", &i.id, 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    let path = &log[0].path;
    assert!(path.len() <= 2048 + '…'.len_utf8(), "{}", path.len());
    assert!(path.starts_with(&i.path("/Users?junk=jjj")), "{path}");
    assert!(path.ends_with('…'), "{path}");
}

#[tokio::test]
async fn paths_are_normalised_before_routing() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let base = i.path("");
    for (path, status) in [
        (format!("{base}/Users/"), 200),
        (format!("{base}//Users"), 200),
        (format!("{base}/./Groups"), 200),
        (format!("{base}/%55sers"), 200),
        (format!("{base}\\Users"), 200),
        (format!("{base}/Schemas/x/../"), 200),
        (format!("{base}/ServiceProviderConfig/"), 200),
        // Resource names are case-sensitive, as before.
        (format!("{base}/users"), 404),
        // A decoded `?` stays in its segment: an id, not a query.
        (format!("{base}/Users/a%3Fb"), 404),
        // Climbing out of the endpoint leaves no SCIM endpoint.
        (format!("{base}/../../../../../.."), 404),
    ] {
        let res = app.scim_raw("GET", &path, Some(&i.token), None, &[]).await;
        assert_eq!(res.status, status, "{path}: {}", res.body);
        assert_eq!(
            res.header("content-type").as_deref(),
            Some("application/scim+json"),
            "{path}"
        );
    }
    let res = app
        .scim_raw(
            "GET",
            &format!("{base}/Users/a%3Fb"),
            Some(&i.token),
            None,
            &[],
        )
        .await;
    assert!(res.body.contains("a?b"), "{}", res.body);
}

#[tokio::test]
async fn wrong_methods_answer_405_with_allow_and_unknown_paths_404_after_authentication() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    for (method, rest, allow) in [
        ("PUT", "/Users", "GET, POST"),
        ("DELETE", "/Groups", "GET, POST"),
        ("GET", "/Users/.search", "POST"),
        ("GET", "/.search", "POST"),
        ("POST", "/Users/some-id", "GET, PUT, PATCH, DELETE"),
        ("DELETE", "/ServiceProviderConfig", "GET"),
        ("POST", "/Schemas", "GET"),
        ("PUT", "/ResourceTypes/User", "GET"),
    ] {
        let res = app.scim(&i, method, rest, None).await;
        assert_eq!(res.status, 405, "{method} {rest}: {}", res.body);
        assert_eq!(res.json()["status"], "405");
        assert_eq!(
            res.header("allow").as_deref(),
            Some(allow),
            "{method} {rest}"
        );
    }
    for rest in [
        "/Nope",
        "/Users/a/b",
        "",
        "/Schemas/nope",
        "/ResourceTypes/Nope",
    ] {
        let res = app.scim(&i, "GET", rest, None).await;
        assert_eq!(res.status, 404, "{rest}: {}", res.body);
        assert_eq!(res.json()["status"], "404");
    }
    // The detail names the path below the endpoint, as the IdP wrote it there.
    for (rest, shown) in [("/Nope", "/Nope"), ("/Users/a/b", "/Users/a/b"), ("", "/")] {
        let res = app.scim(&i, "GET", rest, None).await;
        let detail = res.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            detail.starts_with(&format!("no SCIM resource at {shown};")),
            "{rest}: {detail}"
        );
    }
    // Authentication comes first, on every path and method.
    for (method, rest) in [("GET", "/Nope"), ("PUT", "/Users"), ("GET", "/Schemas")] {
        let res = app.scim_raw(method, &i.path(rest), None, None, &[]).await;
        assert_eq!(res.status, 401, "{method} {rest}");
    }
    // Outside any endpoint: a SCIM 404 without asking for a token.
    let res = app
        .scim_raw("GET", "/api/v1/main/nothing", None, None, &[])
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.json()["status"], "404");
    // The authenticated failures above are in the log (8 + 5 + 3).
    assert_eq!(log_len(&app, &i).await, 16);
}

#[tokio::test]
async fn every_scim_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let answers = [
        ("a list", app.scim(&i, "GET", "/Users", None).await, 200),
        (
            "a create",
            app.scim(
                &i,
                "POST",
                "/Users",
                Some(serde_json::json!({"userName": "ann"})),
            )
            .await,
            201,
        ),
        (
            "an unknown resource",
            app.scim(&i, "GET", "/Nope", None).await,
            404,
        ),
        (
            "a refusal before authentication",
            app.scim_raw("GET", &i.path("/Users"), None, None, &[])
                .await,
            401,
        ),
        (
            "no endpoint",
            app.scim_raw("GET", "/api/v1/main/nothing", None, None, &[])
                .await,
            404,
        ),
    ];
    for (what, res, status) in answers {
        assert_eq!(res.status, status, "{what}: {}", res.body);
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "same-origin"),
            ("cache-control", "no-store"),
        ] {
            assert_eq!(res.header(name).as_deref(), Some(value), "{what}: {name}");
        }
        assert!(
            res.header("strict-transport-security").is_none(),
            "{what}: no HSTS over http"
        );
    }
}

/// A body that stops arriving (the server's deadline for bodies, `http::serve`, fails its read)
/// is answered 408 with a SCIM error and logged as such — not 413, and nothing is written.
#[tokio::test]
async fn a_body_that_did_not_arrive_in_time_is_408_and_writes_nothing() {
    use axum::body::{Body, Bytes};
    use axum::http::Request;
    use roster::http::serve::BodyTooSlow;

    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let users_before = app.count("SELECT COUNT(*) FROM users", &[]).await;
    let pieces: [Result<Bytes, BodyTooSlow>; 2] = [
        Ok(Bytes::from_static(
            br#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"#,
        )),
        Err(BodyTooSlow),
    ];
    let req = Request::builder()
        .method("POST")
        .uri(i.path("/Users"))
        .header("authorization", format!("Bearer {}", i.token))
        .header("content-type", "application/scim+json")
        .body(Body::from_stream(futures_util::stream::iter(pieces)))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, 408, "{}", res.body);
    assert_eq!(res.json()["status"], "408");
    assert_eq!(
        res.json()["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert!(
        res.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("did not arrive")),
        "{}",
        res.body
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users", &[]).await,
        users_before
    );
    let log = roster::iam::integrations::log(&app.db, "main", &i.id, 10)
        .await
        .unwrap();
    assert_eq!(
        log.first().map(|e| e.status),
        Some(408),
        "the log shows the timeout"
    );
}
