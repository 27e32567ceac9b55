use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_answers_200_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, "ok");
}

#[tokio::test]
async fn healthz_answers_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.db.close().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status, 503);
}

#[tokio::test]
async fn a_fresh_install_has_the_main_tenant_and_runs_migrations_twice_safely() {
    let app = TestApp::spawn().await;
    app.db.migrate().await.expect("second migrate is a no-op");
    let mut conn = app.db.acquire().await.unwrap();
    let main = roster::db::tenants::find(&mut conn, "main").await.unwrap();
    assert_eq!(main.map(|t| t.name), Some("Main".to_string()));
}

/// `GET /metrics` with `ROSTER_METRICS_TOKEN` set: 401 without the token or with another, and
/// with it the answers counted by surface and status (SCIM creates and a conflict, a page, the
/// health check), their times, and the process's memory; no tenant, integration or user is
/// named. Without the setting there is no such page.
#[tokio::test]
async fn metrics_count_every_answer_for_the_bearer_of_the_metrics_token_alone() {
    use axum::body::Body;
    use axum::http::Request;
    use serde_json::json;
    let token = "metrics-0123456789abcdef0123456789abcdef";
    let app = TestApp::spawn_with(&[("ROSTER_METRICS_TOKEN", token)]).await;
    let scrape = |bearer: Option<&str>| {
        let mut req = Request::get("/metrics");
        if let Some(b) = bearer {
            req = req.header("authorization", format!("Bearer {b}"));
        }
        app.send(req.body(Body::empty()).unwrap())
    };
    for refused in [None, Some("metrics-0123456789abcdef0123456789abcdeX")] {
        let res = scrape(refused).await;
        assert_eq!(res.status, 401, "{refused:?}");
        assert!(res.header("www-authenticate").is_some());
    }
    let before = scrape(Some(token)).await;
    assert_eq!(before.status, 200, "{}", before.body);
    assert!(before
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let value = |text: &str, series: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0)
    };
    let created = "roster_http_requests_total{surface=\"scim\",status=\"201\"}";
    let conflict = "roster_http_requests_total{surface=\"scim\",status=\"409\"}";
    let timed = "roster_http_request_duration_seconds_count{surface=\"scim\"}";
    let health = "roster_http_requests_total{surface=\"health\",status=\"200\"}";
    let refused_scrapes = "roster_http_requests_total{surface=\"metrics\",status=\"401\"}";
    assert_eq!(value(&before.body, refused_scrapes), 2);

    let i = app.integration("main").await;
    for name in ["metered1", "metered2", "metered3", "metered1"] {
        app.scim(&i, "POST", "/Users", Some(json!({"userName": name})))
            .await;
    }
    assert_eq!(app.get("/healthz", None).await.status, 200);
    let after = scrape(Some(token)).await;
    assert_eq!(
        value(&after.body, created) - value(&before.body, created),
        3
    );
    assert_eq!(
        value(&after.body, conflict) - value(&before.body, conflict),
        1
    );
    assert_eq!(value(&after.body, timed) - value(&before.body, timed), 4);
    assert_eq!(value(&after.body, health) - value(&before.body, health), 1);
    assert!(value(&after.body, "process_resident_memory_bytes") > 1_000_000);
    assert!(after
        .body
        .contains("roster_http_requests_in_flight{surface=\"scim\"} 0\n"));
    for private in ["main", i.id.as_str(), "metered1", token] {
        assert!(
            !after.body.contains(private),
            "{private} named:\n{}",
            after.body
        );
    }

    let unset = TestApp::spawn().await;
    let res = unset
        .send(
            Request::get("/metrics")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, 404);
}
