//! The SCIM Provisioning page's server functions: permissions, forms, tokens shown once.

use axum::body::Body;
use axum::http::{header, Request};
use serde_json::{json, Value};

use crate::helpers::{query_value, Integration, TestApp, TestResponse};

const REVEAL: &str = "roster_scim_reveal";

/// A server function called as the hydrated page calls it (JSON answer, no redirect to the
/// referrer).
async fn call(app: &TestApp, path: &str, form: &[(&str, &str)], cookie: &str) -> TestResponse {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", roster::url::encode_query_value(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

/// The `Set-Cookie` values of a response for the one-time reveal cookie.
fn reveal_cookies(res: &TestResponse) -> Vec<String> {
    res.set_cookie_header()
        .lines()
        .filter(|c| c.starts_with(&format!("{REVEAL}=")))
        .map(str::to_string)
        .collect()
}

/// Creates an integration through the form as `cookie`'s user; returns the integration (token
/// read from the one-time cookie, as the browser would carry it) and the redirect target.
async fn create(app: &TestApp, cookie: &str, name: &str) -> (Integration, String, String) {
    let res = app
        .post_form(
            "/api/scim/create",
            &[
                ("tenant", "main"),
                ("name", name),
                ("description", "Our IdP"),
                ("provisioning_type", "scim2"),
            ],
            Some(cookie),
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    let location = res.location().unwrap();
    let cookies = reveal_cookies(&res);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let value = cookies[0]
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches(&format!("{REVEAL}="))
        .to_string();
    let (kind, rest) = value.split_once('.').unwrap();
    assert_eq!(kind, "created");
    let (id, token) = rest.split_once('.').unwrap();
    assert!(!location.contains(token), "the token must not be in a URL");
    (
        Integration {
            id: id.into(),
            token: token.into(),
            tenant: "main".into(),
        },
        location,
        value,
    )
}

fn user_json(username: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": username,
        "name": {"formatted": "Jane Doe", "familyName": "Doe", "givenName": "Jane"},
        "displayName": "Jane Doe",
        "active": true,
        "emails": [{"value": format!("{username}@example.com"), "type": "other", "primary": true}],
        "externalId": "0123456789abcdef",
        "password": "a provisioned password"
    })
}

/// A user with access to `main` and the `Viewer` role there (INTEGRATIONS:READ only), signed in.
async fn viewer(app: &TestApp) -> String {
    app.member("vera", Some(roster::iam::permissions::VIEWER))
        .await
        .1
}

#[tokio::test]
async fn an_admin_creates_an_integration_whose_token_is_shown_once_and_works() {
    let (app, cookie) = TestApp::with_admin().await;
    let (integ, location, reveal) = create(&app, &cookie, "authentik").await;
    assert!(location.starts_with(&format!("/t/main/iam/scim/{}?notice=", integ.id)));

    // The token's cookie is HttpOnly, SameSite=Strict and scoped to the page and the reveal call.
    let res = app
        .post_form(
            "/api/scim/create",
            &[
                ("tenant", "main"),
                ("name", "second"),
                ("description", ""),
                ("provisioning_type", "scim2"),
            ],
            Some(&cookie),
        )
        .await;
    let cookies = reveal_cookies(&res);
    assert!(cookies.iter().all(|c| c.contains("HttpOnly")
        && c.contains("SameSite=Strict")
        && c.contains("Max-Age=600")));
    assert!(cookies[0].contains("Path=/t/main/iam/scim/"));
    assert!(cookies[1].contains("Path=/api/scim/reveal"));

    // The page shows the token once and clears the cookie; the next load does not show it.
    let both = format!("{cookie}; {REVEAL}={reveal}");
    let page = app.get(&location, Some(&both)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&integ.token));
    assert!(page.body.contains("shown only this once"));
    assert!(page.body.contains("authentik"));
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    let cleared = reveal_cookies(&page);
    assert!(cleared.len() >= 2);
    assert!(cleared.iter().all(|c| c.contains("Max-Age=0")));
    assert!(cleared.iter().any(|c| c.contains("Path=/api/scim/reveal")));
    assert!(cleared
        .iter()
        .any(|c| c.contains(&format!("Path=/t/main/iam/scim/{};", integ.id))));
    let again = app.get(&location, Some(&cookie)).await;
    assert_eq!(again.status, 200);
    assert!(!again.body.contains(&integ.token));
    assert!(!again.body.contains("shown only this once"));

    // Only a hash is stored.
    let plain = app
        .count(
            "SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1",
            &[&integ.token],
        )
        .await;
    assert_eq!(plain, 0);
    let hashed = app
        .count(
            "SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1",
            &[&roster::auth::session::hash_token(&integ.token)],
        )
        .await;
    assert_eq!(hashed, 1);

    // The token works against the SCIM endpoint.
    let res = app
        .scim(&integ, "GET", "/ServiceProviderConfig", None)
        .await;
    assert_eq!(res.status, 200);
    let res = app
        .scim(&integ, "POST", "/Users", Some(user_json("jdoe")))
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Engineering", "externalId": "g-1",
        "members": [{"value": res.json()["id"]}]});
    let res = app.scim(&integ, "POST", "/Groups", Some(group)).await;
    assert_eq!(res.status, 201, "{}", res.body);

    // The list shows the counts and the last request.
    let res = call(&app, "/api/scim/list", &[("tenant", "main")], &cookie).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let list = res.json();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == integ.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["users"], 1);
    assert_eq!(row["groups"], 1);
    assert_eq!(row["last_status"], 201);
    assert!(row["last_request_at"].is_string());
    assert_eq!(row["name"], "authentik");
}

#[tokio::test]
async fn the_reveal_call_answers_once_and_only_for_its_own_integration() {
    let (app, cookie) = TestApp::with_admin().await;
    let (integ, _, reveal) = create(&app, &cookie, "authentik").await;
    let both = format!("{cookie}; {REVEAL}={reveal}");
    let other = call(
        &app,
        "/api/scim/reveal",
        &[("tenant", "main"), ("id", "someoneelse")],
        &both,
    )
    .await;
    assert_eq!(other.status, 200);
    assert_eq!(other.json(), Value::Null);
    let res = call(
        &app,
        "/api/scim/reveal",
        &[("tenant", "main"), ("id", &integ.id)],
        &both,
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["token"], integ.token.as_str());
    assert_eq!(res.json()["rotated"], false);
    assert!(reveal_cookies(&res).iter().all(|c| c.contains("Max-Age=0")));
    let res = call(
        &app,
        "/api/scim/reveal",
        &[("tenant", "main"), ("id", &integ.id)],
        &cookie,
    )
    .await;
    assert_eq!(res.json(), Value::Null);
}

#[tokio::test]
async fn an_empty_name_comes_back_beside_its_field_with_the_form_open() {
    let (app, cookie) = TestApp::with_admin().await;
    let res = app
        .post_form(
            "/api/scim/create",
            &[
                ("tenant", "main"),
                ("name", "  "),
                ("description", "kept"),
                ("provisioning_type", "scim2"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 302);
    let location = res.location().unwrap();
    assert!(location.starts_with("/t/main/iam/scim?"));
    assert_eq!(query_value(&location, "field").as_deref(), Some("name"));
    assert!(query_value(&location, "error").is_some());
    assert_eq!(query_value(&location, "create").as_deref(), Some("1"));
    assert!(reveal_cookies(&res).is_empty());
    let page = app.get(&location, Some(&cookie)).await;
    assert!(page.body.contains("Give the integration a name"));
    assert!(page.body.contains("value=\"kept\""));

    let res = app
        .post_form(
            "/api/scim/create",
            &[
                ("tenant", "main"),
                ("name", "x"),
                ("description", ""),
                ("provisioning_type", "scim1"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        query_value(&res.location().unwrap(), "field").as_deref(),
        Some("provisioning_type")
    );
    let n = app
        .count("SELECT COUNT(*) FROM scim_integrations", &[])
        .await;
    assert_eq!(n, 0);
}

#[tokio::test]
async fn disabling_makes_scim_answer_401_which_stays_out_of_the_request_log() {
    let (app, cookie) = TestApp::with_admin().await;
    let (integ, _, _) = create(&app, &cookie, "authentik").await;
    let res = app
        .post_form(
            "/api/scim/enable",
            &[("tenant", "main"), ("id", &integ.id), ("enabled", "false")],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 302);
    assert!(query_value(&res.location().unwrap(), "notice")
        .unwrap()
        .contains("disabled"));
    let res = app.scim(&integ, "GET", "/Users", None).await;
    assert_eq!(res.status, 401);
    assert!(res.json()["detail"].as_str().unwrap().contains("disabled"));

    let res = call(
        &app,
        "/api/scim/get",
        &[("tenant", "main"), ("id", &integ.id), ("failed", "true")],
        &cookie,
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let detail = res.json();
    assert_eq!(detail["integration"]["enabled"], false);
    // A refused request is not the integration's (issue #10 item 9, M10): the server log counts
    // it, the integration's request log does not show it.
    let log = detail["log"].as_array().unwrap();
    assert!(log.is_empty(), "{log:?}");
    assert!(detail["endpoint"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/api/v1/main/integrations/{}/scim/v2", integ.id)));

    // Links to the SCIMProvisioner role and the service account.
    let role = detail["provisioner_role_id"].as_str().unwrap();
    let sa = detail["service_account_id"].as_str().unwrap();
    let page = app
        .get(
            &format!("/t/main/iam/scim/{}?failed=1", integ.id),
            Some(&cookie),
        )
        .await;
    assert!(page.body.contains(&format!("/t/main/iam/roles/{role}")));
    assert!(page
        .body
        .contains(&format!("/t/main/iam/service-accounts/{sa}")));
    // The refused request is not listed among the failures.
    assert!(!page.body.contains("this SCIM integration is disabled"));

    let res = app
        .post_form(
            "/api/scim/enable",
            &[("tenant", "main"), ("id", &integ.id), ("enabled", "true")],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 302);
    assert_eq!(app.scim(&integ, "GET", "/Users", None).await.status, 200);
}

#[tokio::test]
async fn rotating_invalidates_the_old_token_and_shows_the_new_one_once() {
    let (app, cookie) = TestApp::with_admin().await;
    let (integ, _, _) = create(&app, &cookie, "authentik").await;
    let res = app
        .post_form(
            "/api/scim/rotate",
            &[("tenant", "main"), ("id", &integ.id)],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 302);
    let location = res.location().unwrap();
    let cookies = reveal_cookies(&res);
    let value = cookies[0]
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches(&format!("{REVEAL}="))
        .to_string();
    let new_token = value
        .strip_prefix(&format!("rotated.{}.", integ.id))
        .unwrap()
        .to_string();
    assert!(!location.contains(&new_token));
    assert_eq!(app.scim(&integ, "GET", "/Users", None).await.status, 401);
    let renewed = Integration {
        id: integ.id.clone(),
        token: new_token.clone(),
        tenant: "main".into(),
    };
    assert_eq!(app.scim(&renewed, "GET", "/Users", None).await.status, 200);
    let page = app
        .get(&location, Some(&format!("{cookie}; {REVEAL}={value}")))
        .await;
    assert!(page.body.contains(&new_token));
    assert!(page.body.contains("New Secret Token issued"));
}

#[tokio::test]
async fn deleting_keeps_the_users_and_stops_the_endpoint() {
    let (app, cookie) = TestApp::with_admin().await;
    let (integ, _, _) = create(&app, &cookie, "authentik").await;
    let res = app
        .scim(&integ, "POST", "/Users", Some(user_json("kept")))
        .await;
    assert_eq!(res.status, 201);
    let res = app
        .post_form(
            "/api/scim/delete",
            &[("tenant", "main"), ("id", &integ.id)],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 302);
    let location = res.location().unwrap();
    assert!(location.starts_with("/t/main/iam/scim?notice="));
    assert!(query_value(&location, "notice").unwrap().contains("remain"));
    let users = app
        .count(
            "SELECT COUNT(*) FROM users WHERE username_lower = $1",
            &["kept"],
        )
        .await;
    assert_eq!(users, 1);
    assert_eq!(app.scim(&integ, "GET", "/Users", None).await.status, 404);
    let res = call(
        &app,
        "/api/scim/get",
        &[("tenant", "main"), ("id", &integ.id), ("failed", "false")],
        &cookie,
    )
    .await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn a_viewer_reads_but_every_write_is_refused_with_403() {
    let (app, cookie) = TestApp::with_admin().await;
    let (integ, _, _) = create(&app, &cookie, "authentik").await;
    let vera = viewer(&app).await;
    let res = call(&app, "/api/scim/list", &[("tenant", "main")], &vera).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let page = app.get("/t/main/iam/scim", Some(&vera)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("authentik"));
    assert!(!page.body.contains("?create=1"));
    let page = app
        .get(&format!("/t/main/iam/scim/{}", integ.id), Some(&vera))
        .await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Rotate token"));
    assert!(!page.body.contains("Delete integration"));
    assert!(!page.body.contains(">Disable<"));

    let writes: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "/api/scim/create",
            vec![
                ("tenant", "main"),
                ("name", "sneaky"),
                ("description", ""),
                ("provisioning_type", "scim2"),
            ],
        ),
        (
            "/api/scim/enable",
            vec![("tenant", "main"), ("id", &integ.id), ("enabled", "false")],
        ),
        (
            "/api/scim/rotate",
            vec![("tenant", "main"), ("id", &integ.id)],
        ),
        (
            "/api/scim/delete",
            vec![("tenant", "main"), ("id", &integ.id)],
        ),
    ];
    for res in app.assert_writes_refused(&vera, 403, &writes).await {
        assert!(reveal_cookies(&res).is_empty());
    }
    assert_eq!(app.scim(&integ, "GET", "/Users", None).await.status, 200);
    let n = app
        .count("SELECT COUNT(*) FROM scim_integrations", &[])
        .await;
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_user_without_access_to_the_tenant_gets_404() {
    let (app, cookie) = TestApp::with_admin().await;
    let (integ, _, _) = create(&app, &cookie, "authentik").await;
    app.create_tenant("other").await;
    // Vera may enter `main` only.
    let vera = viewer(&app).await;
    let res = call(&app, "/api/scim/list", &[("tenant", "other")], &vera).await;
    assert_eq!(res.status, 404);
    let res = app
        .post_form(
            "/api/scim/create",
            &[
                ("tenant", "other"),
                ("name", "x"),
                ("description", ""),
                ("provisioning_type", "scim2"),
            ],
            Some(&vera),
        )
        .await;
    assert_eq!(res.status, 404);
    let res = app
        .post_form(
            "/api/scim/delete",
            &[("tenant", "other"), ("id", &integ.id)],
            Some(&vera),
        )
        .await;
    assert_eq!(res.status, 404);
    // An integration of another tenant is not found through this one: back to the list, saying so.
    let res = app
        .post_form(
            "/api/scim/delete",
            &[("tenant", "other"), ("id", &integ.id)],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 302);
    let location = res.location().unwrap();
    assert!(location.starts_with("/t/other/iam/scim?error="));
    assert!(query_value(&location, "error")
        .unwrap()
        .contains("has no SCIM integration"));
    assert_eq!(app.scim(&integ, "GET", "/Users", None).await.status, 200);
}
