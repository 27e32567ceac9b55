//! The Roles and Bindings pages' server functions: custom roles, the matrix, bindings.

use crate::helpers::{query_value, TestApp};

/// A user with a password but no access to `main`.
pub async fn outsider(app: &TestApp) -> String {
    app.plain_user("outsider", "member password", None).await;
    app.sign_in("outsider", "member password").await
}

async fn permissions_of(app: &TestApp, role_id: &str) -> Vec<(String, String)> {
    let mut conn = app.db.acquire().await.unwrap();
    roster::db::iam::role_permissions(&mut conn, role_id)
        .await
        .unwrap()
        .into_iter()
        .map(|(r, a)| (r.to_string(), a.to_string()))
        .collect()
}

async fn role_id(app: &TestApp, name: &str) -> Option<String> {
    let mut conn = app.db.acquire().await.unwrap();
    roster::db::iam::find_role_by_name(&mut conn, "main", name)
        .await
        .unwrap()
        .map(|r| r.id)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|(r, a)| (r.to_string(), a.to_string()))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_custom_role_is_created_edited_and_deleted_with_its_matrix() {
    let (app, cookie) = TestApp::with_admin().await;
    // `perm[]` as written and percent-encoded, as a browser without JavaScript sends it.
    let res = app
        .post_form(
            "/api/roles/create",
            &[
                ("tenant", "main"),
                ("name", "Auditors"),
                ("description", "Read users and groups"),
                ("perm[]", "USERS:READ"),
                ("perm%5B%5D", "GROUPS:READ"),
                ("perm%5B%5D", "AUDITLOG:READ"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    let id = role_id(&app, "auditors").await.expect("role created");
    let location = res.location().unwrap();
    assert!(location.starts_with(&format!("/t/main/iam/roles/{id}?")));
    assert_eq!(
        query_value(&location, "notice").as_deref(),
        Some("Role Auditors created.")
    );
    assert_eq!(
        permissions_of(&app, &id).await,
        pairs(&[("AUDITLOG", "READ"), ("GROUPS", "READ"), ("USERS", "READ")])
    );

    let page = app.get(&location, Some(&cookie)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Role Auditors created."));
    assert!(
        page.body.contains(r#"value="USERS:READ" checked"#),
        "matrix shows what the role grants"
    );
    assert!(page.body.contains("Save role"));

    // Saving replaces the whole matrix.
    let res = app
        .post_form(
            "/api/roles/update",
            &[
                ("tenant", "main"),
                ("role", &id),
                ("name", "Auditors EU"),
                ("description", ""),
                ("perm%5B%5D", "USERS:READ"),
                ("perm%5B%5D", "USERS:UPDATE"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        query_value(&res.location().unwrap(), "notice").as_deref(),
        Some("Role Auditors EU saved.")
    );
    assert_eq!(
        permissions_of(&app, &id).await,
        pairs(&[("USERS", "READ"), ("USERS", "UPDATE")])
    );
    // Nothing ticked: a role with no permissions.
    app.post_form(
        "/api/roles/update",
        &[("tenant", "main"), ("role", &id), ("name", "Auditors EU")],
        Some(&cookie),
    )
    .await;
    assert!(permissions_of(&app, &id).await.is_empty());

    // Deleting takes its bindings along.
    let (user_id, _) = app.member("carol", None).await;
    let mut conn = app.db.acquire().await.unwrap();
    roster::db::iam::insert_binding(&mut conn, "main", &id, "user", &user_id, app.now())
        .await
        .unwrap();
    drop(conn);
    let res = app
        .post_form(
            "/api/roles/delete",
            &[("tenant", "main"), ("role", &id)],
            Some(&cookie),
        )
        .await;
    let location = res.location().unwrap();
    assert!(location.starts_with("/t/main/iam/roles?"));
    assert_eq!(
        query_value(&location, "notice").as_deref(),
        Some("Role Auditors EU deleted, with its 1 binding.")
    );
    assert!(role_id(&app, "Auditors EU").await.is_none());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM bindings WHERE role_id = $1", &[&id])
            .await,
        0
    );
}

#[tokio::test]
async fn a_duplicate_or_bad_role_name_comes_back_beside_the_name_field() {
    let (app, cookie) = TestApp::with_admin().await;
    let create = |name: &'static str| {
        let app = &app;
        let cookie = cookie.clone();
        async move {
            app.post_form(
                "/api/roles/create",
                &[("tenant", "main"), ("name", name), ("perm[]", "USERS:READ")],
                Some(&cookie),
            )
            .await
            .location()
            .unwrap()
        }
    };
    assert!(query_value(&create("Auditors").await, "notice").is_some());
    let location = create("AUDITORS").await;
    assert!(location.starts_with("/t/main/iam/roles/new?"));
    assert_eq!(query_value(&location, "field").as_deref(), Some("name"));
    assert!(query_value(&location, "error")
        .unwrap()
        .contains("already exists"));
    assert_eq!(
        query_value(&location, "perms").as_deref(),
        Some("USERS:READ")
    );
    let page = app.get(&location, Some(&cookie)).await;
    assert!(page.body.contains("already exists in this tenant"));
    assert!(
        page.body.contains(r#"value="AUDITORS""#),
        "the typed name is kept"
    );

    let empty = create("   ").await;
    assert_eq!(query_value(&empty, "field").as_deref(), Some("name"));
    let long: &'static str = Box::leak("x".repeat(101).into_boxed_str());
    assert_eq!(
        query_value(&create(long).await, "field").as_deref(),
        Some("name")
    );
    let bad = app
        .post_form(
            "/api/roles/create",
            &[("tenant", "main"), ("name", "Odd"), ("perm[]", "USERS:FLY")],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        query_value(&bad.location().unwrap(), "field").as_deref(),
        Some("perm")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM roles WHERE managed = 0", &[])
            .await,
        1
    );
}

#[tokio::test]
async fn managed_roles_are_listed_read_only_and_cannot_be_edited_or_deleted() {
    let (app, cookie) = TestApp::with_admin().await;
    let page = app.get("/t/main/iam/roles", Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("role-row-Admin") && page.body.contains("role-row-Viewer"));
    assert!(page.body.contains("Managed"));
    let admin = role_id(&app, "Admin")
        .await
        .expect("Admin exists once the page was opened");
    let before = permissions_of(&app, &admin).await;
    assert_eq!(before.len(), 28);

    let role_page = app
        .get(&format!("/t/main/iam/roles/{admin}"), Some(&cookie))
        .await;
    assert!(role_page.body.contains("Managed role"));
    assert!(role_page.body.contains("Users: read: allowed"));
    assert!(!role_page.body.contains("Save role"));
    assert!(!role_page.body.contains("Delete role"));

    let res = app
        .post_form(
            "/api/roles/update",
            &[("tenant", "main"), ("role", &admin), ("name", "Boss")],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(res.body.contains("managed role"), "{}", res.body);
    let res = app
        .post_form(
            "/api/roles/delete",
            &[("tenant", "main"), ("role", &admin)],
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(permissions_of(&app, &admin).await, before);
    assert!(role_id(&app, "Admin").await.is_some());
}

#[tokio::test]
async fn bindings_are_created_and_removed_for_users_groups_and_service_accounts() {
    let (app, cookie) = TestApp::with_admin().await;
    let (user_id, _) = app.member("dave", None).await;
    let mut conn = app.db.acquire().await.unwrap();
    let viewer =
        roster::iam::permissions::ensure_managed_role(&mut conn, "main", "Viewer", app.now())
            .await
            .unwrap();
    let group = roster::db::groups::GroupRow {
        id: roster::db::new_id(),
        tenant_id: "main".into(),
        display_name: "Engineering".into(),
        external_id: None,
        managed_by: None,
        scim_json: None,
        version: 1,
        created_at: app.now(),
        updated_at: app.now(),
    };
    let nothing_after = roster::db::last_write::LastWrite::default();
    roster::db::groups::insert(&mut conn, &group, &nothing_after)
        .await
        .unwrap();
    let sa = roster::db::new_id();
    roster::db::iam::insert_service_account(&mut conn, &sa, "main", "ci-bot", "", app.now())
        .await
        .unwrap();
    drop(conn);

    for (subject, login) in [
        (format!("group:{}", group.id), ""),
        (format!("service_account:{sa}"), ""),
        (format!("user:{user_id}"), ""),
    ]
    .iter()
    .map(|(s, l)| (s.clone(), *l))
    {
        let res = app
            .post_form(
                "/api/bindings/create",
                &[
                    ("tenant", "main"),
                    ("role_id", &viewer.id),
                    ("subject", &subject),
                    ("user_login", login),
                ],
                Some(&cookie),
            )
            .await;
        let location = res.location().unwrap();
        assert!(location.starts_with("/t/main/iam/bindings?"), "{location}");
        assert!(query_value(&location, "notice")
            .unwrap()
            .starts_with("Role Viewer bound"));
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM bindings", &[]).await, 3);

    // The same binding again is a conflict with a message; a user picked by email works too.
    let res = app
        .post_form(
            "/api/bindings/create",
            &[
                ("tenant", "main"),
                ("role_id", &viewer.id),
                ("user_login", "DAVE@local.test"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        query_value(&res.location().unwrap(), "error").as_deref(),
        Some("The role Viewer is already bound to this user.")
    );
    let res = app
        .post_form(
            "/api/bindings/create",
            &[
                ("tenant", "main"),
                ("role_id", &viewer.id),
                ("user_login", "nobody"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        query_value(&res.location().unwrap(), "field").as_deref(),
        Some("user_login")
    );

    let page = app.get("/t/main/iam/bindings", Some(&cookie)).await;
    assert!(page.body.contains("binding-row-Engineering-Viewer"));
    assert!(page
        .body
        .contains(&format!("/t/main/iam/groups/{}", group.id)));
    assert!(page
        .body
        .contains(&format!("/t/main/iam/service-accounts/{sa}")));
    assert!(page.body.contains(&format!("/t/main/iam/users/{user_id}")));
    assert!(page
        .body
        .contains(&format!("/t/main/iam/roles/{}", viewer.id)));

    let mut conn = app.db.acquire().await.unwrap();
    let bindings = roster::iam::bindings::list(&mut conn, "main")
        .await
        .unwrap();
    drop(conn);
    for b in &bindings {
        let res = app
            .post_form(
                "/api/bindings/delete",
                &[("tenant", "main"), ("binding", &b.id)],
                Some(&cookie),
            )
            .await;
        assert_eq!(
            query_value(&res.location().unwrap(), "notice").as_deref(),
            Some("Binding removed.")
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM bindings", &[]).await, 0);
}

#[tokio::test]
async fn a_viewer_sees_no_write_controls_and_every_write_is_refused_with_403() {
    let (app, admin_cookie) = TestApp::with_admin().await;
    app.get("/t/main/iam/roles", Some(&admin_cookie)).await;
    let viewer = role_id(&app, "Viewer").await.unwrap();
    let (_, cookie) = app.member("vera", Some("Viewer")).await;
    let mut conn = app.db.acquire().await.unwrap();
    let custom =
        roster::iam::permissions::create_custom_role(&mut conn, "main", "Ops", &[], app.now())
            .await
            .unwrap();
    drop(conn);

    let page = app.get("/t/main/iam/roles", Some(&cookie)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("role-row-Ops"));
    assert!(!page.body.contains("Create role"));
    let page = app
        .get(&format!("/t/main/iam/roles/{}", custom.id), Some(&cookie))
        .await;
    assert!(!page.body.contains("Save role") && !page.body.contains("Delete role"));
    let page = app.get("/t/main/iam/bindings", Some(&cookie)).await;
    assert!(page.body.contains("binding-row-vera-Viewer"));
    assert!(!page.body.contains("Bind role") && !page.body.contains("Remove binding"));

    let mut conn = app.db.acquire().await.unwrap();
    let binding = roster::iam::bindings::list(&mut conn, "main")
        .await
        .unwrap()[0]
        .id
        .clone();
    drop(conn);
    let writes: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/api/roles/create",
            vec![("tenant", "main"), ("name", "Mine")],
        ),
        (
            "/api/roles/update",
            vec![("tenant", "main"), ("role", &custom.id), ("name", "Mine")],
        ),
        (
            "/api/roles/delete",
            vec![("tenant", "main"), ("role", &custom.id)],
        ),
        (
            "/api/bindings/create",
            vec![
                ("tenant", "main"),
                ("role_id", &viewer),
                ("user_login", "admin"),
            ],
        ),
        (
            "/api/bindings/delete",
            vec![("tenant", "main"), ("binding", &binding)],
        ),
    ];
    app.assert_writes_refused(&cookie, 403, &writes).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM roles WHERE name = 'Mine'", &[])
            .await,
        0
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM bindings", &[]).await, 1);
}

#[tokio::test]
async fn a_user_without_access_to_the_tenant_gets_404() {
    let (app, admin_cookie) = TestApp::with_admin().await;
    app.get("/t/main/iam/roles", Some(&admin_cookie)).await;
    let admin_role = role_id(&app, "Admin").await.unwrap();
    let cookie = outsider(&app).await;
    assert_eq!(
        app.get("/t/main/iam/roles", Some(&cookie)).await.status,
        404
    );
    assert_eq!(
        app.get("/t/main/iam/bindings", Some(&cookie)).await.status,
        404
    );
    app.assert_writes_refused(
        &cookie,
        404,
        &[
            ("/api/roles/list", vec![("tenant", "main")]),
            ("/api/roles/create", vec![("tenant", "main"), ("name", "X")]),
            (
                "/api/roles/delete",
                vec![("tenant", "main"), ("role", admin_role.as_str())],
            ),
            ("/api/bindings/list", vec![("tenant", "main")]),
            (
                "/api/bindings/create",
                vec![
                    ("tenant", "main"),
                    ("role_id", admin_role.as_str()),
                    ("user_login", "outsider"),
                ],
            ),
        ],
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM bindings", &[]).await, 0);
}

/// The Bindings form offers the tenant's first 200 users by username (its list stops there: at
/// 100,000 users it sorted them all) and says when there are more, to be named in the
/// username/email field instead.
#[tokio::test]
async fn the_bind_form_offers_the_first_200_users_by_username_and_says_when_there_are_more() {
    let (app, cookie) = TestApp::with_admin().await;
    let user_options = |body: &str| {
        body.match_indices("<option value=\"user:")
            .map(|(at, _)| {
                let value = &body[at + "<option value=\"user:".len()..];
                value[..value.find('"').unwrap()].to_string()
            })
            .collect::<Vec<_>>()
    };
    let more = "more users than the list shows";
    let mut tx = app.db.begin_write().await.expect("write");
    // Written in the reverse of their usernames' order.
    for n in (0..201).rev() {
        let id = format!("id-{n:03}");
        sqlx::query(
            "INSERT INTO users (id, username, username_lower, created_at, updated_at) \
             VALUES ($1, $2, $3, 0, 0)",
        )
        .bind(&id)
        .bind(format!("Person{n:03}"))
        .bind(format!("person{n:03}"))
        .execute(&mut *tx)
        .await
        .expect("user");
        if n > 0 {
            roster::db::access::grant(&mut tx, "main", &id, "manual", None, app.now())
                .await
                .expect("grant");
        }
    }
    tx.commit().await.expect("commit");

    let page = app.get("/t/main/iam/bindings", Some(&cookie)).await;
    assert_eq!(page.status, 200);
    let offered = user_options(&page.body);
    let expected: Vec<String> = (1..=200).map(|n| format!("id-{n:03}")).collect();
    assert_eq!(offered, expected, "the first 200 with access, by username");
    assert!(!page.body.contains(more), "exactly 200: none left out");

    let mut tx = app.db.begin_write().await.expect("write");
    roster::db::access::grant(&mut tx, "main", "id-000", "manual", None, app.now())
        .await
        .expect("grant");
    tx.commit().await.expect("commit");
    let page = app.get("/t/main/iam/bindings", Some(&cookie)).await;
    let offered = user_options(&page.body);
    assert_eq!(offered.len(), 200);
    assert_eq!(offered[0], "id-000", "the first by username");
    assert_eq!(offered[199], "id-199");
    assert!(
        page.body.contains(more),
        "the 201st is left out, and it says so"
    );
}
