use crate::helpers::{query_value, TestApp};

#[tokio::test]
async fn a_superadmin_creates_a_tenant_and_sees_it_listed() {
    let (app, cookie) = TestApp::with_admin().await;
    let res = app
        .post_form(
            "/api/tenants/create",
            &[("id", "dev"), ("name", "Development")],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 302);
    let location = res.location().unwrap();
    assert_eq!(
        query_value(&location, "notice").as_deref(),
        Some("Tenant dev created.")
    );
    let page = app.get(&location, Some(&cookie)).await;
    assert!(page.body.contains("tenant-row-dev"));
    assert!(page.body.contains("Development"));
    assert!(page.body.contains("Tenant dev created."));
}

#[tokio::test]
async fn an_invalid_tenant_id_comes_back_beside_its_field_with_the_values_kept() {
    let (app, cookie) = TestApp::with_admin().await;
    let res = app
        .post_form(
            "/api/tenants/create",
            &[("id", "Bad ID"), ("name", "Bad")],
            Some(&cookie),
        )
        .await;
    let location = res.location().unwrap();
    assert_eq!(query_value(&location, "field").as_deref(), Some("id"));
    let page = app.get(&location, Some(&cookie)).await;
    assert!(page
        .body
        .contains("Use lowercase letters, digits and hyphens only."));
    assert!(page.body.contains("value=\"Bad ID\""));
    let mut conn = app.db.acquire().await.unwrap();
    assert_eq!(
        roster::db::tenants::list_all(&mut conn)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_duplicate_tenant_id_is_refused() {
    let (app, cookie) = TestApp::with_admin().await;
    let res = app
        .post_form(
            "/api/tenants/create",
            &[("id", "main"), ("name", "Again")],
            Some(&cookie),
        )
        .await;
    let location = res.location().unwrap();
    assert_eq!(query_value(&location, "field").as_deref(), Some("id"));
    assert!(query_value(&location, "error")
        .unwrap()
        .contains("already exists"));
}

#[tokio::test]
async fn a_blank_name_is_refused_beside_the_name_field() {
    let (app, cookie) = TestApp::with_admin().await;
    let res = app
        .post_form(
            "/api/tenants/create",
            &[("id", "ops"), ("name", "   ")],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        query_value(&res.location().unwrap(), "field").as_deref(),
        Some("name")
    );
}

#[tokio::test]
async fn a_superadmin_renames_a_tenant() {
    let (app, cookie) = TestApp::with_admin().await;
    let res = app
        .post_form(
            "/api/tenants/rename",
            &[("id", "main"), ("name", "Production")],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&res.location().unwrap(), "notice").is_some());
    let mut conn = app.db.acquire().await.unwrap();
    let main = roster::db::tenants::find(&mut conn, "main")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(main.name, "Production");
}

#[tokio::test]
async fn tenant_changes_need_a_session() {
    let app = TestApp::spawn().await;
    app.create_superadmin("root", "root password").await;
    let res = app
        .post_form(
            "/api/tenants/create",
            &[("id", "dev"), ("name", "Dev")],
            None,
        )
        .await;
    assert!(res.status.is_client_error() || res.status.is_redirection());
    let mut conn = app.db.acquire().await.unwrap();
    assert!(roster::db::tenants::find(&mut conn, "dev")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_user_who_is_not_superadmin_cannot_manage_or_see_other_tenants() {
    let (app, _) = TestApp::with_admin().await;
    // A plain user with access to `main` only.
    let mut conn = app.db.acquire().await.unwrap();
    let hash = roster::auth::password::hash(roster::secret::Secret::new("plain password"))
        .await
        .unwrap();
    roster::db::users::insert(
        &mut conn,
        &roster::db::users::NewUser {
            id: "u-1",
            username: "bob",
            email: None,
            display_name: None,
            password_hash: Some(&hash),
            is_superadmin: false,
        },
        app.now(),
    )
    .await
    .unwrap();
    roster::db::tenants::grant_access(&mut conn, "main", "u-1", app.now())
        .await
        .unwrap();
    roster::db::tenants::insert(&mut conn, "secret", "Secret", app.now())
        .await
        .unwrap();
    drop(conn);
    let cookie = app.sign_in("bob", "plain password").await;

    let res = app
        .post_form(
            "/api/tenants/create",
            &[("id", "dev"), ("name", "Dev")],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 403);

    let own = app.get("/t/main/iam/users", Some(&cookie)).await;
    assert_eq!(own.status, 200);
    assert!(
        !own.body.contains("secret"),
        "the switcher lists only tenants bob can enter"
    );

    let other = app.get("/t/secret/iam/users", Some(&cookie)).await;
    assert_eq!(other.status, 404);
}
