//! The Service Accounts page's server functions: accounts and tokens shown once.

use axum::body::Body;
use axum::http::{header, Request};

use crate::helpers::{query_value, TestApp};
use crate::ui_roles::outsider;

async fn account_id(app: &TestApp, name: &str) -> Option<String> {
    let mut conn = app.db.acquire().await.unwrap();
    roster::db::iam::list_service_accounts(&mut conn, "main")
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.name == name)
        .map(|a| a.id)
}

async fn create_account(app: &TestApp, cookie: &str, name: &str) -> String {
    let res = app
        .post_form(
            "/api/service-accounts/create",
            &[
                ("tenant", "main"),
                ("name", name),
                ("description", "Builds"),
            ],
            Some(cookie),
        )
        .await;
    let id = account_id(app, name).await.expect("account created");
    assert!(res
        .location()
        .unwrap()
        .starts_with(&format!("/t/main/iam/service-accounts/{id}?")));
    id
}

/// The token create call as the hydrated page makes it (no `text/html` in Accept).
async fn create_token_with_js(
    app: &TestApp,
    cookie: &str,
    account: &str,
    name: &str,
) -> serde_json::Value {
    let body = format!(
        "tenant=main&account={account}&token_name={}&expires_days=30",
        roster::url::encode_query_value(name)
    );
    let req = Request::post("/api/service-accounts/tokens/create")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()
}

async fn tokens(app: &TestApp, account: &str) -> Vec<roster::db::iam::TokenRow> {
    let mut conn = app.db.acquire().await.unwrap();
    roster::db::iam::tokens_of(&mut conn, account)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_service_account_is_created_listed_and_deleted() {
    let (app, cookie) = TestApp::with_admin().await;
    let id = create_account(&app, &cookie, "ci-bot").await;
    let list = app.get("/t/main/iam/service-accounts", Some(&cookie)).await;
    assert!(list.body.contains("account-row-ci-bot"));
    assert!(list.body.contains("Builds"));

    for (name, expected) in [
        ("CI Bot", "Use lowercase letters, digits and hyphens only"),
        ("ci-bot", "already exists"),
        ("", "Enter a name"),
    ] {
        let res = app
            .post_form(
                "/api/service-accounts/create",
                &[("tenant", "main"), ("name", name)],
                Some(&cookie),
            )
            .await;
        let location = res.location().unwrap();
        assert_eq!(query_value(&location, "field").as_deref(), Some("name"));
        assert!(
            query_value(&location, "error").unwrap().contains(expected),
            "{location}"
        );
    }

    let res = app
        .post_form(
            "/api/service-accounts/delete",
            &[("tenant", "main"), ("account", &id)],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        query_value(&res.location().unwrap(), "notice").as_deref(),
        Some("Service account ci-bot deleted with its tokens and bindings.")
    );
    assert!(account_id(&app, "ci-bot").await.is_none());
}

#[tokio::test]
async fn a_token_is_returned_once_to_the_page_and_only_its_hash_is_stored() {
    let (app, cookie) = TestApp::with_admin().await;
    let id = create_account(&app, &cookie, "deployer").await;
    let answer = create_token_with_js(&app, &cookie, &id, "GitHub Actions").await;
    let plain = answer["token"]
        .as_str()
        .expect("token returned")
        .to_string();
    assert!(plain.len() >= 150);
    let stored = tokens(&app, &id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "GitHub Actions");
    assert_eq!(
        stored[0].token_hash,
        roster::auth::session::hash_token(&plain)
    );
    assert_eq!(stored[0].prefix, plain[..8]);
    assert!(stored[0].expires_at.is_some());

    let page = app
        .get(&format!("/t/main/iam/service-accounts/{id}"), Some(&cookie))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("token-row-GitHub Actions"));
    assert!(page.body.contains(&format!("{}…", stored[0].prefix)));
    assert!(
        !page.body.contains(&plain),
        "the plain token never comes back"
    );

    let res = app
        .post_form(
            "/api/service-accounts/tokens/revoke",
            &[
                ("tenant", "main"),
                ("account", &id),
                ("token", &stored[0].id),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        query_value(&res.location().unwrap(), "notice").as_deref(),
        Some("Token GitHub Actions revoked: it no longer works.")
    );
    assert!(tokens(&app, &id).await.is_empty());
}

#[tokio::test]
async fn without_javascript_the_token_travels_in_a_one_time_cookie_to_the_account_page() {
    let (app, cookie) = TestApp::with_admin().await;
    let id = create_account(&app, &cookie, "nightly").await;
    let res = app
        .post_form(
            "/api/service-accounts/tokens/create",
            &[
                ("tenant", "main"),
                ("account", &id),
                ("token_name", "cron"),
                ("expires_days", ""),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 302);
    let location = res.location().unwrap();
    let path = format!("/t/main/iam/service-accounts/{id}");
    assert!(location.starts_with(&format!("{path}?")));
    assert!(!location.contains("token="), "the token is never in a URL");
    let set_cookie = res.set_cookie_header();
    let line = set_cookie
        .lines()
        .find(|l| l.starts_with("roster_new_token="))
        .expect("one-time cookie");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Strict"));
    assert!(line.contains(&format!("Path={path};")));
    let plain = line["roster_new_token=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let stored = tokens(&app, &id).await;
    assert_eq!(
        stored[0].token_hash,
        roster::auth::session::hash_token(&plain)
    );
    assert_eq!(stored[0].expires_at, None);

    let with_cookie = format!("{cookie}; roster_new_token={plain}");
    let page = app.get(&location, Some(&with_cookie)).await;
    assert!(page.body.contains(&plain), "shown on the page once");
    assert!(page.body.contains("shown only this once"));
    assert!(page
        .set_cookie_header()
        .lines()
        .any(|l| l.starts_with("roster_new_token=;") && l.contains("Max-Age=0")));
    let again = app.get(&path, Some(&cookie)).await;
    assert!(!again.body.contains(&plain));

    // A bad expiry comes back beside its field, and no token is made.
    let res = app
        .post_form(
            "/api/service-accounts/tokens/create",
            &[
                ("tenant", "main"),
                ("account", &id),
                ("token_name", "x"),
                ("expires_days", "0"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        query_value(&res.location().unwrap(), "field").as_deref(),
        Some("expires_days")
    );
    assert_eq!(tokens(&app, &id).await.len(), 1);
}

#[tokio::test]
async fn the_service_account_of_a_scim_integration_is_badged_and_cannot_be_deleted_here() {
    let (app, cookie) = TestApp::with_admin().await;
    let integ = app.integration("main").await;
    let mut conn = app.db.acquire().await.unwrap();
    let sa = roster::db::scim_integrations::find(&mut conn, "main", &integ.id)
        .await
        .unwrap()
        .unwrap()
        .service_account_id;
    drop(conn);
    let list = app.get("/t/main/iam/service-accounts", Some(&cookie)).await;
    assert!(list.body.contains("SCIM · IdP"));
    assert!(list.body.contains("SCIMProvisioner"));
    let res = app
        .post_form(
            "/api/service-accounts/delete",
            &[("tenant", "main"), ("account", &sa)],
            Some(&cookie),
        )
        .await;
    let error = query_value(&res.location().unwrap(), "error").unwrap();
    assert!(error.contains("Delete the integration"), "{error}");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM service_accounts WHERE id = $1",
            &[&sa]
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_viewer_cannot_change_service_accounts_and_an_outsider_cannot_see_them() {
    let (app, admin_cookie) = TestApp::with_admin().await;
    let id = create_account(&app, &admin_cookie, "reader").await;
    create_token_with_js(&app, &admin_cookie, &id, "t1").await;
    let token = tokens(&app, &id).await[0].id.clone();
    let (_, cookie) = app.member("vic", Some("Viewer")).await;

    let page = app
        .get(&format!("/t/main/iam/service-accounts/{id}"), Some(&cookie))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("token-row-t1"));
    assert!(!page.body.contains("Create token") && !page.body.contains("Revoke token"));
    let list = app.get("/t/main/iam/service-accounts", Some(&cookie)).await;
    assert!(!list.body.contains("Create service account"));

    let writes: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/api/service-accounts/create",
            vec![("tenant", "main"), ("name", "mine")],
        ),
        (
            "/api/service-accounts/delete",
            vec![("tenant", "main"), ("account", &id)],
        ),
        (
            "/api/service-accounts/tokens/create",
            vec![("tenant", "main"), ("account", &id), ("token_name", "x")],
        ),
        (
            "/api/service-accounts/tokens/revoke",
            vec![("tenant", "main"), ("account", &id), ("token", &token)],
        ),
    ];
    app.assert_writes_refused(&cookie, 403, &writes).await;
    assert_eq!(tokens(&app, &id).await.len(), 1);
    assert!(account_id(&app, "mine").await.is_none());

    let cookie = outsider(&app).await;
    assert_eq!(
        app.get("/t/main/iam/service-accounts", Some(&cookie))
            .await
            .status,
        404
    );
    app.assert_writes_refused(
        &cookie,
        404,
        &[
            ("/api/service-accounts/list", vec![("tenant", "main")]),
            (
                "/api/service-accounts/get",
                vec![("tenant", "main"), ("account", id.as_str())],
            ),
            (
                "/api/service-accounts/tokens/create",
                vec![
                    ("tenant", "main"),
                    ("account", id.as_str()),
                    ("token_name", "x"),
                ],
            ),
        ],
    )
    .await;
}
