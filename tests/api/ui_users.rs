//! The Users pages' server functions: search, paging, access, passwords, effective permissions.

use serde_json::{json, Value};

use crate::helpers::{query_value, Integration, TestApp};

/// A signed-in user of `main` whose only role there is Viewer.
pub async fn viewer(app: &TestApp) -> (String, String) {
    let id = app
        .plain_user("viewer", "viewer password", Some("main"))
        .await;
    app.bind_managed_role("main", "Viewer", &id).await;
    (id, app.sign_in("viewer", "viewer password").await)
}

/// A signed-in user without access to `main`.
pub async fn outsider(app: &TestApp) -> String {
    app.create_tenant("elsewhere").await;
    app.plain_user("outsider", "outsider password", Some("elsewhere"))
        .await;
    app.sign_in("outsider", "outsider password").await
}

pub async fn scim_user(app: &TestApp, i: &Integration, body: Value) -> String {
    let res = app.scim(i, "POST", "/Users", Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.json()["id"].as_str().unwrap().to_string()
}

/// Calls a data server function as the hydrated page does (a JSON answer, no redirect).
pub async fn data(app: &TestApp, path: &str, form: &[(&str, &str)], cookie: &str) -> Value {
    let res = data_call(app, path, form, cookie).await;
    assert_eq!(res.status, 200, "{path}: {}", res.body);
    res.json()
}

pub async fn data_call(
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
    cookie: &str,
) -> crate::helpers::TestResponse {
    use axum::http::{header, Request};
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", roster::url::encode_query_value(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, cookie)
        .body(axum::body::Body::from(body))
        .unwrap();
    app.send(req).await
}

async fn list(app: &TestApp, cookie: &str, form: &[(&str, &str)]) -> Value {
    let mut f = vec![("tenant", "main")];
    f.extend_from_slice(form);
    data(app, "/api/users/list", &f, cookie).await
}

/// The writes of the Users pages on user `target` (a user of `main` named "target"): grant,
/// remove access, set the password.
fn user_writes(target: &str) -> Vec<(&'static str, Vec<(&'static str, &str)>)> {
    vec![
        (
            "/api/users/grant",
            vec![("tenant", "main"), ("login", "target")],
        ),
        (
            "/api/users/remove",
            vec![("tenant", "main"), ("user", target)],
        ),
        (
            "/api/users/password",
            vec![
                ("tenant", "main"),
                ("user", target),
                ("password", "a new password"),
            ],
        ),
    ]
}

/// Grants `login` access to `main` by hand; answers where the form was sent back to.
async fn grant_in_main(app: &TestApp, cookie: &str, login: &str) -> String {
    let res = app
        .post_form(
            "/api/users/grant",
            &[("tenant", "main"), ("login", login)],
            Some(cookie),
        )
        .await;
    res.location().unwrap()
}

/// Removes the hand grant of user `id` in `main`; answers where the form was sent back to.
async fn remove_in_main(app: &TestApp, cookie: &str, id: &str) -> String {
    let res = app
        .post_form(
            "/api/users/remove",
            &[("tenant", "main"), ("user", id)],
            Some(cookie),
        )
        .await;
    res.location().unwrap()
}

fn usernames(list: &Value) -> Vec<String> {
    list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn search_finds_users_by_username_name_and_any_email() {
    let (app, cookie) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    scim_user(
        &app,
        &i,
        json!({"userName": "ada", "displayName": "Ada Lovelace",
        "emails": [{"value": "countess@analytical.test", "primary": true}]}),
    )
    .await;
    scim_user(&app, &i, json!({"userName": "grace", "displayName": "Grace Hopper",
        "emails": [{"value": "grace@navy.test", "primary": true}, {"value": "cobol@Compilers.test", "type": "home"}]})).await;
    scim_user(
        &app,
        &i,
        json!({"userName": "alan_t", "displayName": "Alan Turing"}),
    )
    .await;

    assert_eq!(
        usernames(&list(&app, &cookie, &[("q", "GRAC")]).await),
        ["grace"]
    );
    assert_eq!(
        usernames(&list(&app, &cookie, &[("q", "lovelace")]).await),
        ["ada"]
    );
    assert_eq!(
        usernames(&list(&app, &cookie, &[("q", "countess@")]).await),
        ["ada"]
    );
    assert_eq!(
        usernames(&list(&app, &cookie, &[("q", "compilers")]).await),
        ["grace"],
        "a secondary email"
    );
    // Wildcards are literal: `_` matches only an underscore.
    assert_eq!(
        usernames(&list(&app, &cookie, &[("q", "n_t")]).await),
        ["alan_t"]
    );
    assert!(usernames(&list(&app, &cookie, &[("q", "nobody")]).await).is_empty());
    // Without a search: everyone with access, by username (the admin has none: superadmins enter anyway).
    let all = list(&app, &cookie, &[]).await;
    assert_eq!(usernames(&all), ["ada", "alan_t", "grace"]);
    assert_eq!(all["total"], 3);
}

#[tokio::test]
async fn keyset_pages_are_disjoint_ordered_and_cover_every_user_both_ways() {
    let (app, cookie) = TestApp::with_admin().await;
    let users: Vec<_> = (0..120)
        .map(|n| (format!("u{n}"), format!("User{n:03}"), None))
        .collect();
    app.users_with_access("main", &users).await;
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = match &after {
            Some(a) => list(&app, &cookie, &[("after", a)]).await,
            None => list(&app, &cookie, &[]).await,
        };
        assert_eq!(page["total"], 120);
        assert_eq!(page["prev"].is_null(), after.is_none());
        seen.extend(usernames(&page));
        pages.push(page.clone());
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages.iter().map(|p| usernames(p).len()).collect::<Vec<_>>(),
        [50, 50, 20]
    );
    let expected: Vec<String> = (0..120).map(|n| format!("User{n:03}")).collect();
    assert_eq!(seen, expected, "in order, no duplicates, none missing");
    // Back from the last page: the previous page is the second one again.
    let back = list(
        &app,
        &cookie,
        &[("before", pages[2]["prev"].as_str().unwrap())],
    )
    .await;
    assert_eq!(usernames(&back), usernames(&pages[1]));
    assert!(back["next"].is_string() && back["prev"].is_string());
    let first = list(&app, &cookie, &[("before", back["prev"].as_str().unwrap())]).await;
    assert_eq!(usernames(&first), usernames(&pages[0]));
    assert!(first["prev"].is_null());
}

#[tokio::test]
async fn badges_name_the_provisioning_integration_and_suspended_users() {
    let (app, cookie) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    scim_user(&app, &i, json!({"userName": "active.one"})).await;
    scim_user(&app, &i, json!({"userName": "gone.one", "active": false})).await;
    app.plain_user("by.hand", "by hand password", Some("main"))
        .await;
    let all = list(&app, &cookie, &[]).await;
    let users = all["users"].as_array().unwrap();
    let find = |n: &str| users.iter().find(|u| u["username"] == n).unwrap().clone();
    assert_eq!(find("active.one")["provisioned_by"], json!(["IdP"]));
    assert_eq!(find("active.one")["suspended"], false);
    assert_eq!(find("active.one")["manual"], false);
    assert_eq!(find("gone.one")["suspended"], true);
    assert_eq!(find("by.hand")["provisioned_by"], json!([]));
    assert_eq!(find("by.hand")["manual"], true);
    let page = app.get("/t/main/iam/users", Some(&cookie)).await;
    assert!(page.body.contains("SCIM · IdP"), "badge rendered");
    assert!(page.body.contains("Suspended"));
}

#[tokio::test]
async fn the_user_page_lists_sources_external_ids_groups_and_permissions() {
    let (app, cookie) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    let id = scim_user(
        &app,
        &i,
        json!({"userName": "linus", "externalId": "ext-42",
        "emails": [{"value": "linus@kernel.test", "type": "work"}]}),
    )
    .await;
    app.bind_managed_role("main", "Viewer", &id).await;
    let d = data(
        &app,
        "/api/users/get",
        &[("tenant", "main"), ("user", &id)],
        &cookie,
    )
    .await;
    assert_eq!(d["username"], "linus");
    assert_eq!(d["sources"][0]["label"], "SCIM · IdP");
    assert_eq!(d["sources"][0]["external_id"], "ext-42");
    assert_eq!(d["bindings"][0]["role_name"], "Viewer");
    assert!(d["emails"].to_string().contains("linus@kernel.test"));
    let users_row = d["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "USERS")
        .unwrap()
        .clone();
    assert_eq!(
        users_row["cells"][1],
        json!(["Viewer"]),
        "USERS · READ from Viewer"
    );
    assert_eq!(users_row["cells"][2], json!([]), "no USERS · UPDATE");
    let page = app
        .get(&format!("/t/main/iam/users/{id}"), Some(&cookie))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Effective permissions"));
    assert!(page.body.contains("ext-42"));
}

#[tokio::test]
async fn access_is_granted_by_username_or_email_and_removed_again() {
    let (app, cookie) = TestApp::with_admin().await;
    app.create_tenant("other").await;
    let id = app.plain_user("mira", "mira password", Some("other")).await;

    let res = app
        .post_form(
            "/api/users/grant",
            &[("tenant", "main"), ("login", "MIRA@local.test")],
            Some(&cookie),
        )
        .await;
    let loc = res.location().unwrap();
    assert!(
        query_value(&loc, "notice")
            .unwrap()
            .contains("mira now has access"),
        "{loc}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM tenant_access_sources WHERE tenant_id = 'main' AND user_id = $1 AND source = 'manual'", &[&id]).await, 1);

    let again = app
        .post_form(
            "/api/users/grant",
            &[("tenant", "main"), ("login", "mira")],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&again.location().unwrap(), "error")
        .unwrap()
        .contains("already has access"));

    let unknown = app
        .post_form(
            "/api/users/grant",
            &[("tenant", "main"), ("login", "nobody")],
            Some(&cookie),
        )
        .await;
    let loc = unknown.location().unwrap();
    assert_eq!(query_value(&loc, "field").as_deref(), Some("login"));
    assert_eq!(
        query_value(&loc, "login").as_deref(),
        Some("nobody"),
        "the value is kept"
    );

    let removed = app
        .post_form(
            "/api/users/remove",
            &[("tenant", "main"), ("user", &id)],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&removed.location().unwrap(), "notice")
        .unwrap()
        .contains("Access removed"));
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE tenant_id = 'main' AND user_id = $1",
            &[&id]
        )
        .await,
        0
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE tenant_id = 'other' AND user_id = $1",
            &[&id]
        )
        .await,
        1,
        "other tenants keep theirs"
    );
}

#[tokio::test]
async fn removing_hand_granted_access_keeps_scim_access_and_says_so() {
    let (app, cookie) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    let id = scim_user(&app, &i, json!({"userName": "sam"})).await;
    // SCIM-only access cannot be removed here.
    let refused = remove_in_main(&app, &cookie, &id).await;
    assert!(query_value(&refused, "error").unwrap().contains("SCIM"));
    grant_in_main(&app, &cookie, "sam").await;
    let notice = query_value(&remove_in_main(&app, &cookie, &id).await, "notice").unwrap();
    assert!(
        notice.contains("keeps access through SCIM (IdP)"),
        "{notice}"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE tenant_id = 'main' AND user_id = $1",
            &[&id]
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access_sources WHERE user_id = $1 AND source = 'manual'",
            &[&id]
        )
        .await,
        0
    );
}

/// An access ends when its last source does, wherever that is ended from: a SCIM DELETE of a
/// user also granted by hand leaves the access, their groups and roles (and marks the user
/// changed); removing the hand grant then ends all three.
#[tokio::test]
async fn the_last_source_to_go_ends_the_access_with_its_groups_and_roles() {
    let (app, cookie) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    let id = scim_user(&app, &i, json!({"userName": "lee"})).await;
    let group = app
        .scim(
            &i,
            "POST",
            "/Groups",
            Some(json!({"displayName": "Ops", "members": [{"value": id}]})),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    app.bind_managed_role("main", "Viewer", &id).await;
    grant_in_main(&app, &cookie, "lee").await;
    let count = |table: &'static str| {
        let app = &app;
        let id = id.clone();
        async move {
            let column = if table == "bindings" {
                "subject_id"
            } else {
                "user_id"
            };
            let sql =
                format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = 'main' AND {column} = $1");
            app.count(&sql, &[&id]).await
        }
    };
    let version = "SELECT version FROM users WHERE id = $1";
    let before = app.count(version, &[&id]).await;

    let deleted = app.scim(&i, "DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(count("tenant_access").await, 1);
    assert_eq!(
        count("tenant_access_sources").await,
        1,
        "the hand grant is left"
    );
    assert_eq!(count("group_members").await, 1);
    assert_eq!(count("bindings").await, 1);
    assert_eq!(app.count(version, &[&id]).await, before + 1);
    // The integration let go of the user: it no longer reaches them.
    let again = app.scim(&i, "DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(again.status, 403, "{}", again.body);

    let notice = query_value(&remove_in_main(&app, &cookie, &id).await, "notice").unwrap();
    assert!(notice.contains("Access removed"), "{notice}");
    for table in [
        "tenant_access",
        "tenant_access_sources",
        "group_members",
        "bindings",
    ] {
        assert_eq!(count(table).await, 0, "{table}");
    }
    assert_eq!(app.count(version, &[&id]).await, before + 2);
}

/// Users an integration lists in a tenant: its access rows, superadmins aside.
const LISTED: &str = "SELECT COUNT(*) FROM tenant_access a JOIN users u ON u.id = a.user_id \
                      WHERE a.tenant_id = $1 AND u.is_superadmin = 0";

/// `integration`'s tenant has `expected` users listed, its kept count of access is its rows, and
/// a page of users says `expected` as its total.
async fn check_total(app: &TestApp, integration: &Integration, expected: i64) {
    let tenant = integration.tenant.as_str();
    assert_eq!(
        app.count(LISTED, &[tenant]).await,
        expected,
        "{tenant}'s rows"
    );
    assert_eq!(
        app.count(crate::helpers::KEPT_COUNT, &[tenant]).await,
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE tenant_id = $1",
            &[tenant]
        )
        .await,
        "{tenant}'s kept count"
    );
    // One user a page: the page is full, so its total is the count, not its length.
    let page = app.scim(integration, "GET", "/Users?count=1", None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.json()["totalResults"],
        json!(expected),
        "{}",
        page.body
    );
}

/// A list's total is the tenant's kept count of access (the sum of its slots): it moves with
/// each access granted or ended, by SCIM or by hand, and not with a second source of one access.
#[tokio::test]
async fn a_list_total_follows_every_access_granted_and_ended() {
    let (app, cookie) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    let before = app.count(LISTED, &["main"]).await;
    let ids = [
        scim_user(&app, &i, json!({"userName": "tally.a"})).await,
        scim_user(&app, &i, json!({"userName": "tally.b"})).await,
        scim_user(&app, &i, json!({"userName": "tally.c"})).await,
    ];
    check_total(&app, &i, before + 3).await;
    // A second source of an access is not a second access.
    grant_in_main(&app, &cookie, "tally.b").await;
    check_total(&app, &i, before + 3).await;
    let deleted = app
        .scim(&i, "DELETE", &format!("/Users/{}", ids[1]), None)
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    check_total(&app, &i, before + 3).await;
    remove_in_main(&app, &cookie, &ids[1]).await;
    check_total(&app, &i, before + 2).await;
    // The Users page counts the same way (superadmins with access included: here, none).
    assert_eq!(list(&app, &cookie, &[]).await["total"], json!(before + 2));
    let deleted = app
        .scim(&i, "DELETE", &format!("/Users/{}", ids[0]), None)
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    check_total(&app, &i, before + 1).await;
    // The user left the tenant, not the instance: a hand grant brings them back.
    grant_in_main(&app, &cookie, "tally.a").await;
    check_total(&app, &i, before + 2).await;
    // Another tenant's users are its own.
    app.create_tenant("other").await;
    let other = app.integration("other").await;
    scim_user(&app, &other, json!({"userName": "tally.d"})).await;
    check_total(&app, &other, 1).await;
    check_total(&app, &i, before + 2).await;
    assert_eq!(list(&app, &cookie, &[]).await["total"], json!(before + 2));
}

#[tokio::test]
async fn a_password_set_here_signs_a_scim_user_in_by_username_and_by_any_email() {
    let (app, cookie) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    let id = scim_user(
        &app,
        &i,
        json!({"userName": "akadmin.two", "emails": [
        {"value": "primary@corp.test", "primary": true},
        {"value": "Second@Corp.test", "type": "home"}]}),
    )
    .await;

    let short = app
        .post_form(
            "/api/users/password",
            &[("tenant", "main"), ("user", &id), ("password", "short")],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        query_value(&short.location().unwrap(), "field").as_deref(),
        Some("password")
    );

    let res = app
        .post_form(
            "/api/users/password",
            &[
                ("tenant", "main"),
                ("user", &id),
                ("password", "a long new password"),
            ],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&res.location().unwrap(), "notice")
        .unwrap()
        .contains("Password set"));
    let stored: String = {
        use sqlx::Row;
        let mut conn = app.db.acquire().await.unwrap();
        sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(&id)
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    };
    assert!(stored.starts_with("$argon2id$"), "stored hashed");
    app.sign_in("akadmin.two", "a long new password").await;
    app.sign_in("primary@corp.test", "a long new password")
        .await;
    app.sign_in("second@corp.test", "a long new password").await;
}

#[tokio::test]
async fn a_tenant_admin_may_not_set_the_password_of_someone_who_can_enter_other_tenants() {
    let (app, _) = TestApp::with_admin().await;
    let admin_id = app
        .plain_user("tenantadmin", "tenant admin password", Some("main"))
        .await;
    app.bind_managed_role("main", "Admin", &admin_id).await;
    let cookie = app.sign_in("tenantadmin", "tenant admin password").await;
    app.create_tenant("other").await;
    let both = app.plain_user("both", "both password", Some("main")).await;
    {
        let mut conn = app.db.acquire().await.unwrap();
        roster::db::tenants::grant_access(&mut conn, "other", &both, app.now())
            .await
            .unwrap();
    }
    let res = app
        .post_form(
            "/api/users/password",
            &[
                ("tenant", "main"),
                ("user", &both),
                ("password", "taken over!"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 403);
    let only_here = app
        .plain_user("onlyhere", "only here password", Some("main"))
        .await;
    let ok = app
        .post_form(
            "/api/users/password",
            &[
                ("tenant", "main"),
                ("user", &only_here),
                ("password", "reset by admin"),
            ],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&ok.location().unwrap(), "notice").is_some());
    app.sign_in("onlyhere", "reset by admin").await;
}

#[tokio::test]
async fn a_viewer_reads_but_every_write_is_refused_with_403() {
    let (app, _) = TestApp::with_admin().await;
    let (viewer_id, cookie) = viewer(&app).await;
    let target = app
        .plain_user("target", "target password", Some("main"))
        .await;
    let listed = list(&app, &cookie, &[]).await;
    assert!(usernames(&listed).contains(&"target".to_string()));
    data(
        &app,
        "/api/users/get",
        &[("tenant", "main"), ("user", &target)],
        &cookie,
    )
    .await;
    let mut writes = user_writes(&target);
    writes.push((
        "/api/users/password",
        vec![
            ("tenant", "main"),
            ("user", viewer_id.as_str()),
            ("password", "a new password"),
        ],
    ));
    app.assert_writes_refused(&cookie, 403, &writes).await;
    // No write controls on the pages.
    let page = app.get("/t/main/iam/users", Some(&cookie)).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Grant access"));
    let user_page = app
        .get(&format!("/t/main/iam/users/{target}"), Some(&cookie))
        .await;
    assert!(user_page.body.contains("Effective permissions"));
    assert!(!user_page.body.contains("Remove access") && !user_page.body.contains("Save password"));
}

#[tokio::test]
async fn a_member_without_roles_lands_on_the_users_page_and_is_told_why_it_is_empty() {
    let (app, _) = TestApp::with_admin().await;
    app.plain_user("norole", "no role password", Some("main"))
        .await;
    let cookie = app.sign_in("norole", "no role password").await;
    let list = data(&app, "/api/users/list", &[("tenant", "main")], &cookie).await;
    assert_eq!(list["readable"], false);
    assert_eq!(list["users"], json!([]));
    let page = app.get("/t/main/iam/users", Some(&cookie)).await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains("none of your roles here lets you read its users"));
    assert!(!page.body.contains("Grant access"));
}

#[tokio::test]
async fn an_outsider_gets_404_everywhere() {
    let (app, _) = TestApp::with_admin().await;
    let target = app
        .plain_user("target", "target password", Some("main"))
        .await;
    let cookie = outsider(&app).await;
    app.assert_writes_refused(&cookie, 404, &user_writes(&target))
        .await;
    for (path, form) in [
        ("/api/users/list", vec![("tenant", "main")]),
        (
            "/api/users/get",
            vec![("tenant", "main"), ("user", target.as_str())],
        ),
    ] {
        assert_eq!(
            data_call(&app, path, &form, &cookie).await.status,
            404,
            "{path}"
        );
    }
    assert_eq!(
        app.get("/t/main/iam/users", Some(&cookie)).await.status,
        404
    );
    assert_eq!(
        app.get(&format!("/t/main/iam/users/{target}"), Some(&cookie))
            .await
            .status,
        404
    );
}

/// A writer that does not keep a tenant's count of access (a replica still running a release
/// from before migration 0014 during a rolling start, or a hand edit) leaves a list's total off;
/// the housekeeping sweep finds the tenants whose count is off, sets each to its access rows'
/// count and says how many; while the counts are right it writes nothing.
#[tokio::test]
async fn housekeeping_sets_right_a_count_an_older_writer_left_off() {
    let (app, _cookie) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    app.create_tenant("other").await;
    let before = app.count(LISTED, &["main"]).await;
    let ids = [
        scim_user(&app, &i, json!({"userName": "drift.a"})).await,
        scim_user(&app, &i, json!({"userName": "drift.b"})).await,
        scim_user(&app, &i, json!({"userName": "drift.c"})).await,
    ];
    check_total(&app, &i, before + 3).await;
    let swept = roster::auth::housekeeping::sweep(&app.db, app.now())
        .await
        .expect("sweep");
    assert_eq!(swept.recounted_tenants, 0, "nothing to set right");

    // The older writer: two users given access to main and one to other, one access in main
    // ended, none of it counted.
    let ended = format!(
        "DELETE FROM tenant_access WHERE tenant_id = 'main' AND user_id = '{}'",
        ids[0]
    );
    app.execute(&[
        "INSERT INTO users (id, username, username_lower, created_at, updated_at) VALUES \
         ('older-1', 'older.one', 'older.one', 0, 0), ('older-2', 'older.two', 'older.two', 0, 0)",
        "INSERT INTO tenant_access (tenant_id, user_id, created_at) VALUES \
         ('main', 'older-1', 0), ('main', 'older-2', 0), ('other', 'older-1', 0)",
        &ended,
    ])
    .await;
    let page = app.scim(&i, "GET", "/Users?count=1", None).await;
    assert_eq!(
        page.json()["totalResults"],
        json!(before + 3),
        "the kept count, off by the older writer's one more user: {}",
        page.body
    );

    let swept = roster::auth::housekeeping::sweep(&app.db, app.now())
        .await
        .expect("sweep");
    assert_eq!(swept.recounted_tenants, 2, "main and other");
    check_total(&app, &i, before + 4).await;
    assert_eq!(
        app.count(crate::helpers::KEPT_COUNT, &["other"]).await,
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE tenant_id = 'other'",
            &[]
        )
        .await
    );
    let swept = roster::auth::housekeeping::sweep(&app.db, app.now())
        .await
        .expect("sweep");
    assert_eq!(swept.recounted_tenants, 0, "set right once");
}

/// RFC 4180 records: fields split on commas outside quotes, `""` an escaped quote, line breaks
/// inside quotes kept; records end in CRLF.
/// Downloads the CSV export at `path` as `cookie`'s user: a 200 with the CSV media type, a file
/// called `roster-main-<slug>-<date>.csv`, and its records (the header first).
pub(crate) async fn csv_download(
    app: &TestApp,
    path: &str,
    cookie: &str,
    slug: &str,
) -> Vec<Vec<String>> {
    let res = app.get(path, Some(cookie)).await;
    assert_eq!(res.status, 200, "{path}: {}", res.body);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let disposition = res.header("content-disposition").unwrap();
    let name = format!("attachment; filename=\"roster-main-{slug}-");
    assert!(disposition.starts_with(&name), "{disposition}");
    csv_records(&res.body)
}

fn csv_records(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && record.is_empty(),
        "the file ends a record"
    );
    records
}

/// `/t/main/iam/users.csv`: every user of the tenant once, in username order across the
/// export's pages (1,210 users, pages of 500), written as RFC 4180 cells that survive commas,
/// quotes and line breaks, a formula defused, the access sources named; 401 signed out, 404 to
/// an outsider and for an unknown tenant, 403 without `USERS:READ`, 200 to a Viewer.
#[tokio::test]
async fn the_users_export_is_every_user_once_as_csv_to_whoever_may_read_them() {
    let (app, admin) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    let tricky = [
        ("comma", "Doe, Jane"),
        ("quote", "the \"boss\""),
        ("newline", "two\nlines"),
        ("formula", "=HYPERLINK(\"http://evil.example\",\"x\")"),
    ];
    let mut ids = Vec::new();
    for (name, display) in tricky {
        let body = json!({"userName": name, "displayName": display});
        ids.push(scim_user(&app, &i, body).await);
    }
    // Each user's groups by name in their cell.
    let mut group_ids = Vec::new();
    for (group, members) in [("engineering", &ids[..2]), ("Auditors, Inc.", &ids[..1])] {
        let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
        let body = json!({"displayName": group, "members": members});
        let res = app.scim(&i, "POST", "/Groups", Some(body)).await;
        assert_eq!(res.status, 201, "{}", res.body);
        group_ids.push(res.json()["id"].as_str().unwrap().to_string());
    }
    // Roles: Viewer bound to "comma" itself, Admin to the group engineering.
    app.bind_managed_role("main", "Viewer", &ids[0]).await;
    {
        use roster::iam::{bindings, permissions};
        let mut conn = app.db.acquire().await.unwrap();
        let admin_role = permissions::ensure_managed_role(&mut conn, "main", "Admin", app.now())
            .await
            .unwrap();
        let group = bindings::SubjectKind::Group;
        bindings::create(
            &mut conn,
            &app.operator(),
            "main",
            &admin_role.id,
            group,
            &group_ids[0],
        )
        .await
        .unwrap();
        // A superadmin with access to the tenant is named as one.
        let admin_row = roster::db::users::find_by_login(&mut conn, "admin")
            .await
            .unwrap()
            .unwrap();
        drop(conn);
        roster::iam::users::grant_access(&app.db, &app.clock, &admin_row, "main", "admin")
            .await
            .unwrap();
    }
    let bulk: Vec<_> = (0..1_200)
        .map(|k| {
            let username = format!("bulk{k:04}");
            let email = format!("{username}@example.com");
            (roster::db::new_id(), username, Some(email))
        })
        .collect();
    app.users_with_access("main", &bulk).await;
    let (_, viewer_cookie) = viewer(&app).await;
    let (_, member_cookie) = app.member("member", None).await;
    let outsider_cookie = outsider(&app).await;

    let records = csv_download(&app, "/t/main/iam/users.csv", &viewer_cookie, "users").await;
    assert_eq!(
        records[0],
        [
            "id",
            "username",
            "display_name",
            "email",
            "active",
            "access",
            "groups",
            "roles"
        ]
    );
    let rows = &records[1..];
    let listed = list(&app, &admin, &[]).await;
    assert_eq!(rows.len() as i64, listed["total"].as_i64().unwrap());
    let names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    sorted.dedup();
    assert_eq!(names, sorted, "each user once, in username order");
    assert!(names.contains(&"bulk0000") && names.contains(&"bulk1199"));
    let row = |name: &str| rows.iter().find(|r| r[1] == name).unwrap().clone();
    assert_eq!(row("comma")[2], "Doe, Jane");
    assert_eq!(row("quote")[2], "the \"boss\"");
    assert_eq!(row("newline")[2], "two\nlines");
    assert_eq!(
        row("formula")[2],
        "'=HYPERLINK(\"http://evil.example\",\"x\")"
    );
    assert_eq!(row("comma")[5], "SCIM IdP");
    assert_eq!(row("bulk0001")[3], "bulk0001@example.com");
    assert_eq!(row("bulk0001")[4], "true");
    assert_eq!(row("bulk0001")[5], "manual");
    assert_eq!(row("bulk0001")[6], "");
    assert_eq!(row("comma")[6], "Auditors, Inc.; engineering");
    // Where each role comes from, as the user page words it.
    assert_eq!(row("comma")[7], "Viewer; Admin, via group engineering");
    assert_eq!(row("quote")[7], "Admin, via group engineering");
    assert_eq!(row("bulk0001")[7], "");
    assert_eq!(row("viewer")[7], "Viewer");
    assert_eq!(row("admin")[7], "superadmin");
    assert_eq!(row("quote")[6], "engineering");

    for (cookie, path, status) in [
        (None, "/t/main/iam/users.csv", 401),
        (Some(&outsider_cookie), "/t/main/iam/users.csv", 404),
        (Some(&admin), "/t/nowhere/iam/users.csv", 404),
        (Some(&member_cookie), "/t/main/iam/users.csv", 403),
    ] {
        let res = app.get(path, cookie.map(String::as_str)).await;
        assert_eq!(res.status, status, "{path}: {}", res.body);
        assert!(!res.body.contains("bulk0001"), "{}", res.body);
    }
}
