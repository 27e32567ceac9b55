//! The Groups pages' server functions: list, create, delete, members, attached roles.

use serde_json::{json, Value};

use crate::helpers::{query_value, Integration, TestApp};
use crate::ui_users::{data, data_call, outsider, scim_user, viewer};

/// Posts the Groups page's create form (as a browser without JavaScript does); answers where it
/// was sent back to.
pub(crate) async fn post_create_group(app: &TestApp, cookie: &str, name: &str) -> String {
    let res = app
        .post_form(
            "/api/groups/create",
            &[("tenant", "main"), ("name", name)],
            Some(cookie),
        )
        .await;
    res.location()
        .unwrap_or_else(|| panic!("{} {}", res.status, res.body))
}

async fn create_group(app: &TestApp, cookie: &str, name: &str) -> String {
    let loc = post_create_group(app, cookie, name).await;
    assert!(query_value(&loc, "notice").is_some(), "{loc}");
    loc.split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

async fn detail(app: &TestApp, cookie: &str, group: &str, form: &[(&str, &str)]) -> Value {
    let mut f = vec![("tenant", "main"), ("group", group)];
    f.extend_from_slice(form);
    data(app, "/api/groups/get", &f, cookie).await
}

fn member_names(d: &Value) -> Vec<String> {
    d["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect()
}

async fn role_id(app: &TestApp, name: &str) -> String {
    let mut conn = app.db.acquire().await.unwrap();
    roster::iam::permissions::ensure_managed_role(&mut conn, "main", name, app.now())
        .await
        .unwrap()
        .id
}

/// The group's version, and the user's ETag as a SCIM client of the tenant reads it (their
/// `groups` are part of them, so it follows their memberships).
async fn versions(app: &TestApp, scim: &Integration, group: &str, user: &str) -> (i64, String) {
    let res = app.scim(scim, "GET", &format!("/Users/{user}"), None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    (
        app.count("SELECT version FROM groups WHERE id = $1", &[group])
            .await,
        res.header("etag").expect("an ETag"),
    )
}

/// Writes of the Groups pages on group `g`: create a group, delete `g`, add `login` to it.
fn group_writes<'a>(
    g: &'a str,
    login: &'a str,
) -> Vec<(&'static str, Vec<(&'static str, &'a str)>)> {
    vec![
        (
            "/api/groups/create",
            vec![("tenant", "main"), ("name", "Nope")],
        ),
        ("/api/groups/delete", vec![("tenant", "main"), ("group", g)]),
        (
            "/api/groups/add-member",
            vec![("tenant", "main"), ("group", g), ("login", login)],
        ),
    ]
}

#[tokio::test]
async fn groups_are_listed_with_member_counts_and_the_managing_integration() {
    let (app, cookie) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    let u = scim_user(&app, &i, json!({"userName": "m1"})).await;
    let res = app
        .scim(
            &i,
            "POST",
            "/Groups",
            Some(json!({"displayName": "Engineering", "members": [{"value": u}]})),
        )
        .await;
    assert_eq!(res.status, 201);
    create_group(&app, &cookie, "Auditors").await;
    let list = data(&app, "/api/groups/list", &[("tenant", "main")], &cookie).await;
    let groups = list["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["name"], "Auditors");
    assert!(groups[0]["managed_by"].is_null());
    assert_eq!(groups[0]["members"], 0);
    assert_eq!(groups[1]["name"], "Engineering");
    assert_eq!(groups[1]["managed_by"], "IdP");
    assert_eq!(groups[1]["members"], 1);
    let found = data(
        &app,
        "/api/groups/list",
        &[("tenant", "main"), ("q", "GINEER")],
        &cookie,
    )
    .await;
    assert_eq!(found["groups"].as_array().unwrap().len(), 1);
    let page = app.get("/t/main/iam/groups", Some(&cookie)).await;
    assert!(page.body.contains("SCIM · IdP"));
    let eng = groups[1]["id"].as_str().unwrap();
    let group_page = app
        .get(&format!("/t/main/iam/groups/{eng}"), Some(&cookie))
        .await;
    assert!(
        group_page.body.contains("The next sync from IdP may undo"),
        "warning on SCIM-managed groups"
    );
}

#[tokio::test]
async fn a_group_is_created_by_hand_and_a_taken_name_is_refused_beside_the_field() {
    let (app, cookie) = TestApp::with_admin().await;
    create_group(&app, &cookie, "Ops").await;
    let res = app
        .post_form(
            "/api/groups/create",
            &[("tenant", "main"), ("name", "OPS")],
            Some(&cookie),
        )
        .await;
    let loc = res.location().unwrap();
    assert_eq!(query_value(&loc, "field").as_deref(), Some("name"));
    assert_eq!(query_value(&loc, "name").as_deref(), Some("OPS"));
    let blank = app
        .post_form(
            "/api/groups/create",
            &[("tenant", "main"), ("name", "  ")],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        query_value(&blank.location().unwrap(), "field").as_deref(),
        Some("name")
    );
}

#[tokio::test]
async fn members_are_added_by_username_or_email_and_removed_bumping_versions() {
    let (app, cookie) = TestApp::with_admin().await;
    let g = create_group(&app, &cookie, "Team").await;
    let a = app
        .plain_user("alice", "alice password", Some("main"))
        .await;
    app.plain_user("bob", "bob password", Some("main")).await;
    app.create_tenant("other").await;
    app.plain_user("carol", "carol password", Some("other"))
        .await;
    let scim = app.integration("main").await;
    let before = versions(&app, &scim, &g, &a).await;

    let res = app
        .post_form(
            "/api/groups/add-member",
            &[("tenant", "main"), ("group", &g), ("login", "alice")],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&res.location().unwrap(), "notice")
        .unwrap()
        .contains("alice added"));
    let after = versions(&app, &scim, &g, &a).await;
    assert!(
        after.0 > before.0 && after.1 != before.1,
        "the group's version grows and the user's ETag changes: {before:?} → {after:?}"
    );
    app.post_form(
        "/api/groups/add-member",
        &[
            ("tenant", "main"),
            ("group", &g),
            ("login", "bob@local.test"),
        ],
        Some(&cookie),
    )
    .await;
    assert_eq!(
        member_names(&detail(&app, &cookie, &g, &[]).await),
        ["alice", "bob"]
    );
    assert_eq!(
        member_names(&detail(&app, &cookie, &g, &[("q", "BOB")]).await),
        ["bob"]
    );

    let twice = app
        .post_form(
            "/api/groups/add-member",
            &[("tenant", "main"), ("group", &g), ("login", "alice")],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&twice.location().unwrap(), "error")
        .unwrap()
        .contains("already a member"));
    let no_access = app
        .post_form(
            "/api/groups/add-member",
            &[("tenant", "main"), ("group", &g), ("login", "carol")],
            Some(&cookie),
        )
        .await;
    let loc = no_access.location().unwrap();
    assert_eq!(query_value(&loc, "field").as_deref(), Some("login"));
    assert!(query_value(&loc, "error")
        .unwrap()
        .contains("Grant them access"));

    let res = app
        .post_form(
            "/api/groups/remove-member",
            &[("tenant", "main"), ("group", &g), ("user", &a)],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&res.location().unwrap(), "notice")
        .unwrap()
        .contains("alice removed"));
    let removed = versions(&app, &scim, &g, &a).await;
    assert!(removed.0 > after.0, "{after:?} → {removed:?}");
    assert_eq!(
        removed.1, before.1,
        "back to the groups (none) and ETag she had"
    );
    assert_eq!(member_names(&detail(&app, &cookie, &g, &[]).await), ["bob"]);
}

#[tokio::test]
async fn members_are_paged_by_username() {
    let (app, cookie) = TestApp::with_admin().await;
    let g = create_group(&app, &cookie, "Big").await;
    let users: Vec<_> = (0..55)
        .map(|n| (format!("m{n}"), format!("member{n:02}"), None))
        .collect();
    app.users_with_access("main", &users).await;
    let mut conn = app.db.acquire().await.unwrap();
    for (id, _, _) in &users {
        roster::db::groups::add_member(&mut conn, &g, id, app.now())
            .await
            .unwrap();
    }
    drop(conn);
    let first = detail(&app, &cookie, &g, &[]).await;
    assert_eq!(first["members"].as_array().unwrap().len(), 50);
    assert_eq!(first["group"]["members"], 55);
    let second = detail(
        &app,
        &cookie,
        &g,
        &[("after", first["next"].as_str().unwrap())],
    )
    .await;
    assert_eq!(
        member_names(&second),
        (50..55).map(|n| format!("member{n}")).collect::<Vec<_>>()
    );
    assert!(second["next"].is_null());
}

#[tokio::test]
async fn attaching_viewer_to_a_group_gives_its_members_read_permissions_via_the_group() {
    let (app, cookie) = TestApp::with_admin().await;
    let g = create_group(&app, &cookie, "Engineering").await;
    let u = app.plain_user("dev", "dev password", Some("main")).await;
    app.post_form(
        "/api/groups/add-member",
        &[("tenant", "main"), ("group", &g), ("login", "dev")],
        Some(&cookie),
    )
    .await;
    let viewer_role = role_id(&app, "Viewer").await;
    let d = detail(&app, &cookie, &g, &[]).await;
    assert!(d["attachable"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == viewer_role.as_str()));

    let res = app
        .post_form(
            "/api/groups/attach-role",
            &[("tenant", "main"), ("group", &g), ("role_id", &viewer_role)],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&res.location().unwrap(), "notice")
        .unwrap()
        .contains("Role Viewer attached"));
    let again = app
        .post_form(
            "/api/groups/attach-role",
            &[("tenant", "main"), ("group", &g), ("role_id", &viewer_role)],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&again.location().unwrap(), "error")
        .unwrap()
        .contains("already bound"));

    let user = data(
        &app,
        "/api/users/get",
        &[("tenant", "main"), ("user", &u)],
        &cookie,
    )
    .await;
    let users_row = user["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "USERS")
        .unwrap()
        .clone();
    assert_eq!(
        users_row["cells"][1],
        json!(["Viewer, via group Engineering"])
    );
    let page = app
        .get(&format!("/t/main/iam/users/{u}"), Some(&cookie))
        .await;
    assert!(page.body.contains("Viewer, via group Engineering"));
    // The member can now enter and read.
    let dev = app.sign_in("dev", "dev password").await;
    data(&app, "/api/groups/list", &[("tenant", "main")], &dev).await;

    let d = detail(&app, &cookie, &g, &[]).await;
    let binding = d["bindings"][0]["binding_id"].as_str().unwrap().to_string();
    let res = app
        .post_form(
            "/api/groups/detach-role",
            &[("tenant", "main"), ("group", &g), ("binding", &binding)],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&res.location().unwrap(), "notice")
        .unwrap()
        .contains("detached"));
    let user = data(
        &app,
        "/api/users/get",
        &[("tenant", "main"), ("user", &u)],
        &cookie,
    )
    .await;
    assert!(!user["permissions"].to_string().contains("via group"));
}

#[tokio::test]
async fn deleting_a_group_removes_its_memberships_and_bindings() {
    let (app, cookie) = TestApp::with_admin().await;
    let g = create_group(&app, &cookie, "Temp").await;
    app.plain_user("tmp", "tmp password", Some("main")).await;
    app.post_form(
        "/api/groups/add-member",
        &[("tenant", "main"), ("group", &g), ("login", "tmp")],
        Some(&cookie),
    )
    .await;
    let viewer_role = role_id(&app, "Viewer").await;
    app.post_form(
        "/api/groups/attach-role",
        &[("tenant", "main"), ("group", &g), ("role_id", &viewer_role)],
        Some(&cookie),
    )
    .await;
    let res = app
        .post_form(
            "/api/groups/delete",
            &[("tenant", "main"), ("group", &g)],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&res.location().unwrap(), "notice")
        .unwrap()
        .contains("Temp deleted"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM groups WHERE id = $1", &[&g])
            .await,
        0
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1",
            &[&g]
        )
        .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM bindings WHERE subject_id = $1", &[&g])
            .await,
        0
    );
}

#[tokio::test]
async fn a_viewer_gets_403_on_every_group_write_and_sees_no_write_controls() {
    let (app, admin) = TestApp::with_admin().await;
    let g = create_group(&app, &admin, "Readers").await;
    let member = app
        .plain_user("member", "member password", Some("main"))
        .await;
    app.post_form(
        "/api/groups/add-member",
        &[("tenant", "main"), ("group", &g), ("login", "member")],
        Some(&admin),
    )
    .await;
    let viewer_role = role_id(&app, "Viewer").await;
    app.post_form(
        "/api/groups/attach-role",
        &[("tenant", "main"), ("group", &g), ("role_id", &viewer_role)],
        Some(&admin),
    )
    .await;
    let binding = detail(&app, &admin, &g, &[]).await["bindings"][0]["binding_id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin_role = role_id(&app, "Admin").await;
    let (_, cookie) = viewer(&app).await;

    let d = detail(&app, &cookie, &g, &[]).await;
    assert_eq!(d["attachable"], json!([]), "no role choices for a viewer");
    let mut writes = group_writes(&g, "viewer");
    writes.extend([
        (
            "/api/groups/remove-member",
            vec![
                ("tenant", "main"),
                ("group", g.as_str()),
                ("user", member.as_str()),
            ],
        ),
        (
            "/api/groups/attach-role",
            vec![
                ("tenant", "main"),
                ("group", g.as_str()),
                ("role_id", admin_role.as_str()),
            ],
        ),
        (
            "/api/groups/detach-role",
            vec![
                ("tenant", "main"),
                ("group", g.as_str()),
                ("binding", binding.as_str()),
            ],
        ),
    ]);
    app.assert_writes_refused(&cookie, 403, &writes).await;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1",
            &[&g]
        )
        .await,
        1
    );
    let list_page = app.get("/t/main/iam/groups", Some(&cookie)).await;
    assert_eq!(list_page.status, 200);
    assert!(!list_page.body.contains("Create group"));
    let page = app
        .get(&format!("/t/main/iam/groups/{g}"), Some(&cookie))
        .await;
    assert!(page.body.contains("member"));
    for control in [
        "Add member",
        "Attach role",
        "Detach",
        "Delete group",
        ">Remove<",
    ] {
        assert!(
            !page.body.contains(control),
            "{control} is not rendered for a viewer"
        );
    }
}

#[tokio::test]
async fn an_outsider_gets_404_on_every_group_function() {
    let (app, admin) = TestApp::with_admin().await;
    let g = create_group(&app, &admin, "Private").await;
    let cookie = outsider(&app).await;
    for (path, form) in [
        ("/api/groups/list", vec![("tenant", "main")]),
        (
            "/api/groups/get",
            vec![("tenant", "main"), ("group", g.as_str())],
        ),
    ] {
        assert_eq!(
            data_call(&app, path, &form, &cookie).await.status,
            404,
            "{path}"
        );
    }
    let mut writes = group_writes(&g, "outsider");
    writes.extend([(
        "/api/groups/attach-role",
        vec![("tenant", "main"), ("group", g.as_str()), ("role_id", "x")],
    )]);
    app.assert_writes_refused(&cookie, 404, &writes).await;
    assert_eq!(
        app.get(&format!("/t/main/iam/groups/{g}"), Some(&cookie))
            .await
            .status,
        404
    );
}
