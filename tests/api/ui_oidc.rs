//! The Sign-in providers page's server functions (superadmins only).

use crate::helpers::{query_value, TestApp};

const ISSUER: &str = "http://127.0.0.1:9/oidc";

fn provider_form<'a>(name: &'a str, issuer: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("issuer", issuer),
        ("client_id", "roster"),
        ("client_secret", secret),
        ("scopes", "email profile"),
        ("claim", "email"),
    ]
}

#[tokio::test]
async fn a_superadmin_adds_a_provider_and_sees_its_redirect_uri_but_never_its_secret() {
    let (app, cookie) = TestApp::with_admin().await;
    let res = app
        .post_form(
            "/api/oidc/add",
            &provider_form("authentik", ISSUER, "very secret client secret"),
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 302);
    let location = res.location().unwrap();
    let notice = query_value(&location, "notice").expect("a notice");
    let row = roster::auth::oidc::list_providers(&app.db).await.unwrap();
    assert_eq!(row.len(), 1);
    let expected_uri = format!("/auth/oidc/{}/callback", row[0].id);
    assert!(notice.contains(&expected_uri), "{notice}");
    assert_eq!(row[0].scopes, "openid email profile");
    assert!(
        !row[0].create_users,
        "creating unknown people is off unless ticked"
    );

    let page = app.get("/instance/oidc", Some(&cookie)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("authentik"));
    assert!(
        page.body.contains(&expected_uri),
        "the page shows the redirect URI"
    );
    assert!(!page.body.contains("very secret client secret"));
    assert!(!row[0].client_secret_enc.contains("very secret"));
}

#[tokio::test]
async fn bad_provider_input_comes_back_beside_its_field_with_the_values_kept() {
    let (app, cookie) = TestApp::with_admin().await;
    let res = app
        .post_form(
            "/api/oidc/add",
            &provider_form("authentik", "http://auth.example.com", "secret"),
            Some(&cookie),
        )
        .await;
    let location = res.location().unwrap();
    assert_eq!(query_value(&location, "field").as_deref(), Some("issuer"));
    assert!(query_value(&location, "error").unwrap().contains("https"));
    assert_eq!(query_value(&location, "name").as_deref(), Some("authentik"));
    assert_eq!(
        query_value(&location, "client_secret"),
        None,
        "the secret is never put in a URL"
    );

    let res = app
        .post_form(
            "/api/oidc/add",
            &provider_form("authentik", ISSUER, ""),
            Some(&cookie),
        )
        .await;
    assert_eq!(
        query_value(&res.location().unwrap(), "field").as_deref(),
        Some("client_secret")
    );
    assert!(roster::auth::oidc::list_providers(&app.db)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn only_superadmins_see_or_change_providers() {
    let (app, admin) = TestApp::with_admin().await;
    app.plain_user("bob", "plain password", Some("main")).await;
    let bob = app.sign_in("bob", "plain password").await;
    let res = app
        .post_form(
            "/api/oidc/add",
            &provider_form("evil", ISSUER, "x"),
            Some(&bob),
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(roster::auth::oidc::list_providers(&app.db)
        .await
        .unwrap()
        .is_empty());
    let res = app.post_form("/api/oidc/list", &[], Some(&bob)).await;
    assert_eq!(res.status, 403);

    app.post_form(
        "/api/oidc/add",
        &provider_form("authentik", ISSUER, "s"),
        Some(&admin),
    )
    .await;
    let id = roster::auth::oidc::list_providers(&app.db).await.unwrap()[0]
        .id
        .clone();
    let res = app
        .post_form("/api/oidc/delete", &[("id", &id)], Some(&bob))
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(
        roster::auth::oidc::list_providers(&app.db)
            .await
            .unwrap()
            .len(),
        1
    );

    let res = app
        .post_form("/api/oidc/delete", &[("id", &id)], Some(&admin))
        .await;
    assert_eq!(res.status, 302);
    assert!(query_value(&res.location().unwrap(), "notice").is_some());
    assert!(roster::auth::oidc::list_providers(&app.db)
        .await
        .unwrap()
        .is_empty());
}
