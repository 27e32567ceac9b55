//! Tenant → IAM → Audit log: every change a person makes is recorded with who, what and when, in
//! the change's own transaction, readable by AUDITLOG:READ in that tenant alone.

use serde_json::Value;

use crate::helpers::{query_value, TestApp, ADMIN};
use crate::ui_users::{csv_download, data, data_call, outsider, viewer};

/// Posts a form as a browser without JavaScript does; answers the redirect's target, which must
/// carry a notice (the change was made).
async fn change(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> String {
    let res = app.post_form(path, form, Some(cookie)).await;
    let location = res
        .location()
        .unwrap_or_else(|| panic!("{path}: {} {}", res.status, res.body));
    assert!(
        query_value(&location, "notice").is_some(),
        "{path} was refused: {location}"
    );
    location
}

/// The last path segment of a redirect target (`/t/main/iam/groups/<id>?notice=…` → `<id>`).
fn id_in(location: &str) -> String {
    let path = location.split('?').next().unwrap();
    path.rsplit('/').next().unwrap().to_string()
}

/// The log of `main` as `cookie`'s user reads it, with `form`'s filters.
pub async fn log(app: &TestApp, cookie: &str, form: &[(&str, &str)]) -> Value {
    let mut f = vec![("tenant", "main")];
    f.extend_from_slice(form);
    data(app, "/api/audit/list", &f, cookie).await
}

/// The events of a page as `(action, actor, target, detail)`.
fn events(page: &Value) -> Vec<(String, String, String, String)> {
    let text = |e: &Value, k: &str| e[k].as_str().unwrap_or_default().to_string();
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                text(e, "action"),
                text(e, "actor"),
                text(e, "target"),
                text(e, "detail"),
            )
        })
        .collect()
}

fn actions(page: &Value) -> Vec<String> {
    events(page).into_iter().map(|e| e.0).collect()
}

#[tokio::test]
async fn every_change_an_admin_makes_is_logged_with_who_what_and_when_and_no_secret() {
    let (app, cookie) = TestApp::with_admin().await;
    let alice = app
        .plain_user("alice", "alice password", Some("main"))
        .await;
    let bob = app.plain_user("bob", "bob password", None).await;
    let main = |extra: &[(&'static str, String)]| {
        let mut f: Vec<(&'static str, String)> = vec![("tenant", "main".to_string())];
        f.extend_from_slice(extra);
        f
    };
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        let (app, cookie) = (&app, &cookie);
        async move {
            let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            change(app, cookie, path, &f).await
        }
    };

    let group = id_in(&post("/api/groups/create", main(&[("name", "Team".into())])).await);
    let g = || ("group", group.clone());
    post(
        "/api/groups/add-member",
        main(&[g(), ("login", "alice".into())]),
    )
    .await;
    let role_form = |perms: &[&str]| {
        let mut f = main(&[("name", "Deployers".into())]);
        f.extend(perms.iter().map(|p| ("perm[]", p.to_string())));
        f
    };
    let role = id_in(
        &post(
            "/api/roles/create",
            role_form(&["USERS:READ", "GROUPS:READ"]),
        )
        .await,
    );
    let mut edit = role_form(&["USERS:READ", "USERS:UPDATE"]);
    edit.push(("role", role.clone()));
    post("/api/roles/update", edit).await;
    let subject = format!("group:{group}");
    post(
        "/api/bindings/create",
        main(&[("role_id", role.clone()), ("subject", subject)]),
    )
    .await;
    let binding = {
        let page = data(&app, "/api/bindings/list", &[("tenant", "main")], &cookie).await;
        let ours = page["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["role_id"] == role.as_str());
        ours.unwrap()["id"].as_str().unwrap().to_string()
    };
    post("/api/bindings/delete", main(&[("binding", binding)])).await;
    let account = id_in(
        &post(
            "/api/service-accounts/create",
            main(&[("name", "ci-bot".into())]),
        )
        .await,
    );
    let made = data_call(
        &app,
        "/api/service-accounts/tokens/create",
        &[
            ("tenant", "main"),
            ("account", &account),
            ("token_name", "deploys"),
            ("expires_days", "30"),
        ],
        &cookie,
    )
    .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let token_text = made.json()["token"].as_str().unwrap().to_string();
    let token_id = {
        let mut conn = app.db.acquire().await.unwrap();
        roster::db::iam::tokens_of(&mut conn, &account)
            .await
            .unwrap()[0]
            .id
            .clone()
    };
    let a = || ("account", account.clone());
    post(
        "/api/service-accounts/tokens/revoke",
        main(&[a(), ("token", token_id)]),
    )
    .await;
    let integration = id_in(
        &post(
            "/api/scim/create",
            main(&[
                ("name", "authentik".into()),
                ("description", String::new()),
                ("provisioning_type", "scim2".into()),
            ]),
        )
        .await,
    );
    let i = || ("id", integration.clone());
    post(
        "/api/scim/enable",
        main(&[i(), ("enabled", "false".into())]),
    )
    .await;
    post("/api/scim/rotate", main(&[i()])).await;
    post("/api/scim/delete", main(&[i()])).await;
    post("/api/users/grant", main(&[("login", "bob".into())])).await;
    let secret_password = "a brand new password 7";
    post(
        "/api/users/password",
        main(&[("user", bob.clone()), ("password", secret_password.into())]),
    )
    .await;
    post("/api/users/remove", main(&[("user", bob.clone())])).await;
    change(
        &app,
        &cookie,
        "/api/tenants/rename",
        &[("id", "main"), ("name", "Main Street")],
    )
    .await;
    post("/api/roles/delete", main(&[("role", role.clone())])).await;
    post("/api/groups/remove-member", main(&[g(), ("user", alice)])).await;
    post("/api/groups/delete", main(&[g()])).await;

    let page = log(&app, &cookie, &[]).await;
    let mut expected = vec![
        "group.create",
        "group.member-add",
        "role.create",
        "role.update",
        "binding.create",
        "binding.delete",
        "service-account.create",
        "service-account.token-create",
        "service-account.token-revoke",
        "integration.create",
        "integration.disable",
        "integration.rotate",
        "integration.delete",
        "user.access-grant",
        "user.password-set",
        "user.access-remove",
        "tenant.rename",
        "role.delete",
        "group.member-remove",
        "group.delete",
    ];
    expected.reverse();
    assert_eq!(actions(&page), expected, "newest first, each change once");
    assert_eq!(page["older"], Value::Null);
    assert_eq!(page["newer"], Value::Null);
    let all = events(&page);
    assert!(all.iter().all(|e| e.1 == ADMIN), "{all:?}");
    let find = |action: &str| all.iter().find(|e| e.0 == action).unwrap().clone();
    assert_eq!(find("group.member-add").2, "Team");
    assert_eq!(find("group.member-add").3, "Member alice.");
    assert_eq!(find("role.create").3, "USERS:READ, GROUPS:READ");
    assert_eq!(
        find("role.update").3,
        "Added USERS:UPDATE. Removed GROUPS:READ."
    );
    assert_eq!(find("binding.create").2, "Deployers");
    assert_eq!(find("binding.create").3, "To group Team.");
    assert_eq!(find("binding.delete").3, "From group Team.");
    assert!(find("service-account.token-create")
        .3
        .starts_with("Token deploys ("));
    assert!(find("service-account.token-create").3.contains("expires"));
    assert_eq!(
        find("integration.rotate").3,
        "The old token stopped working at once."
    );
    assert_eq!(find("user.password-set").2, "bob");
    assert_eq!(find("user.password-set").3, "Reset; their sessions ended.");
    assert_eq!(find("tenant.rename").2, "Main Street");
    assert_eq!(find("tenant.rename").3, "Renamed from Main.");
    assert_eq!(find("role.delete").3, "");
    let text = page.to_string();
    for secret in [token_text.as_str(), secret_password] {
        assert!(!text.contains(secret), "a secret is in the log");
    }

    // Links lead to what still exists, never to what the event deleted.
    let path_of = |action: &str| {
        let e = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action);
        e.unwrap()["target_path"].clone()
    };
    assert_eq!(path_of("group.delete"), Value::Null);
    assert_eq!(path_of("tenant.rename"), Value::Null);
    assert_eq!(
        path_of("user.access-grant"),
        format!("users/{bob}").as_str()
    );
    assert_eq!(path_of("binding.create"), format!("roles/{role}").as_str());

    // The changes of one thing: its page's History.
    let of = |target: String| {
        let (app, cookie) = (&app, &cookie);
        async move { log(app, cookie, &[("target", &target)]).await }
    };
    let team = of(group.clone()).await;
    assert_eq!(
        actions(&team),
        [
            "group.delete",
            "group.member-remove",
            "group.member-add",
            "group.create"
        ]
    );
    assert_eq!(team["target_name"], "Team");
    assert_eq!(
        actions(&of(role.clone()).await),
        [
            "role.delete",
            "binding.delete",
            "binding.create",
            "role.update",
            "role.create"
        ]
    );
    assert_eq!(
        actions(&of(bob.clone()).await),
        [
            "user.access-remove",
            "user.password-set",
            "user.access-grant"
        ]
    );
    assert_eq!(page["target_name"], Value::Null, "no target asked for");

    // One kind of change at a time.
    let groups = log(&app, &cookie, &[("area", "group")]).await;
    assert_eq!(
        actions(&groups),
        [
            "group.delete",
            "group.member-remove",
            "group.member-add",
            "group.create"
        ]
    );
    let accounts = log(&app, &cookie, &[("area", "service-account")]).await;
    assert_eq!(actions(&accounts).len(), 3, "{accounts}");
}

#[tokio::test]
async fn a_refused_change_leaves_no_event_and_each_tenant_reads_only_its_own_log() {
    let (app, cookie) = TestApp::with_admin().await;
    let (_, viewer_cookie) = viewer(&app).await;
    let start = actions(&log(&app, &cookie, &[]).await);
    assert_eq!(start, ["binding.create"], "the test's own Viewer binding");

    change(
        &app,
        &cookie,
        "/api/groups/create",
        &[("tenant", "main"), ("name", "Ops")],
    )
    .await;
    // Refused: a taken name, a managed role, a Viewer's write. None of them is in the log.
    let taken = app
        .post_form(
            "/api/groups/create",
            &[("tenant", "main"), ("name", "ops")],
            Some(&cookie),
        )
        .await;
    assert!(query_value(&taken.location().unwrap(), "error").is_some());
    let admin_role = app.managed_role_id("main", "Admin").await;
    let managed = app
        .post_form(
            "/api/roles/delete",
            &[("tenant", "main"), ("role", &admin_role)],
            Some(&cookie),
        )
        .await;
    assert_eq!(managed.status, 403, "{}", managed.body);
    let by_viewer = data_call(
        &app,
        "/api/groups/create",
        &[("tenant", "main"), ("name", "Sneaky")],
        &viewer_cookie,
    )
    .await;
    assert_eq!(by_viewer.status, 403, "{}", by_viewer.body);
    assert_eq!(
        actions(&log(&app, &cookie, &[]).await),
        ["group.create", "binding.create"]
    );

    // Another tenant's changes stay in its own log.
    app.create_tenant("other").await;
    let other_group = [("tenant", "other"), ("name", "Elsewhere")];
    change(&app, &cookie, "/api/groups/create", &other_group).await;
    let mine = log(&app, &cookie, &[]).await;
    assert!(!mine.to_string().contains("Elsewhere"), "{mine}");
    let theirs = data(&app, "/api/audit/list", &[("tenant", "other")], &cookie).await;
    assert_eq!(events(&theirs)[0].2, "Elsewhere");

    // Viewer holds AUDITLOG:READ; a member with no role does not; outsiders learn nothing.
    let seen = log(&app, &viewer_cookie, &[]).await;
    assert_eq!(actions(&seen), ["group.create", "binding.create"]);
    let (_, nobody) = app.member("norole", None).await;
    let list = [("tenant", "main")];
    let refused = data_call(&app, "/api/audit/list", &list, &nobody).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let stranger = outsider(&app).await;
    let hidden = data_call(&app, "/api/audit/list", &list, &stranger).await;
    assert_eq!(hidden.status, 404, "{}", hidden.body);
    assert!(!hidden.body.contains("Ops"));
    let signed_out = app.post_form("/api/audit/list", &list, None).await;
    assert_ne!(signed_out.status, 200);
    assert!(!signed_out.body.contains("Ops"));

    // What is not a kind of change or a cursor Roster made is a 400 that says so.
    for (key, value) in [
        ("area", "everything"),
        ("before", "1.x' OR 1=1 --"),
        ("after", "soon"),
        ("target", "a b"),
        ("target", "x' OR '1'='1"),
    ] {
        let bad = data_call(
            &app,
            "/api/audit/list",
            &[("tenant", "main"), (key, value)],
            &cookie,
        )
        .await;
        assert_eq!(bad.status, 400, "{key}={value}: {}", bad.body);
    }
}

#[tokio::test]
async fn the_log_pages_both_ways_with_every_event_once_even_within_one_millisecond() {
    let app = TestApp::spawn().await;
    app.create_superadmin(ADMIN, crate::helpers::ADMIN_PASSWORD)
        .await;
    let cookie = app.sign_in(ADMIN, crate::helpers::ADMIN_PASSWORD).await;
    // 123 changes: the test clock stands still, so events share their millisecond and only
    // their ids order them.
    let by = app.operator();
    for n in 0..123 {
        roster::iam::groups::create(&app.db, &by, "main", &format!("g{n:03}"))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut page = log(&app, &cookie, &[]).await;
    let mut pages = vec![page.clone()];
    assert_eq!(page["newer"], Value::Null, "the first page is the newest");
    while let Some(older) = page["older"].as_str().map(str::to_string) {
        page = log(&app, &cookie, &[("before", &older)]).await;
        pages.push(page.clone());
        assert!(pages.len() <= 3, "123 events are 3 pages of 50");
    }
    for p in &pages {
        seen.extend(events(p).into_iter().map(|e| e.2));
    }
    let expected: Vec<String> = (0..123).rev().map(|n| format!("g{n:03}")).collect();
    assert_eq!(seen, expected, "newest first, every event once");
    assert_eq!(
        pages.iter().map(|p| events(p).len()).collect::<Vec<_>>(),
        [50, 50, 23]
    );
    let last = pages.last().unwrap();
    assert_eq!(last["older"], Value::Null);
    assert!(events(last)
        .iter()
        .all(|e| e.1 == "operator (command line)"));

    // And back: from the oldest page, `newer` retraces the same pages.
    let mut back = vec![last.clone()];
    let mut page = last.clone();
    while let Some(newer) = page["newer"].as_str().map(str::to_string) {
        page = log(&app, &cookie, &[("after", &newer)]).await;
        back.push(page.clone());
        assert!(back.len() <= 3);
    }
    back.reverse();
    let names = |ps: &[Value]| -> Vec<Vec<String>> {
        ps.iter()
            .map(|p| events(p).into_iter().map(|e| e.2).collect())
            .collect()
    };
    assert_eq!(names(&back), names(&pages));
    assert_eq!(back[0]["newer"], Value::Null);
}

/// `/t/main/iam/audit.csv`: every event once, newest first, across the export's pages of 500,
/// in one kind of change when asked; the same door as the page (401, 404, 403), and a 400 for a
/// kind of change that is not one.
#[tokio::test]
async fn the_audit_export_is_every_event_once_newest_first_to_whoever_may_read_the_log() {
    let (app, admin) = TestApp::with_admin().await;
    let by = app.operator();
    for n in 0..1003 {
        let name = if n == 7 {
            "=HYPERLINK(\"x\")".to_string()
        } else {
            format!("g{n:04}")
        };
        roster::iam::groups::create(&app.db, &by, "main", &name)
            .await
            .unwrap();
    }
    let account = roster::iam::service_accounts::create(&app.db, &by, "main", "bot", "")
        .await
        .unwrap();
    let (_, viewer_cookie) = viewer(&app).await;

    let records = csv_download(&app, "/t/main/iam/audit.csv", &viewer_cookie, "audit-log").await;
    assert_eq!(
        records[0],
        [
            "time",
            "actor",
            "actor_type",
            "change",
            "action",
            "target",
            "target_id",
            "detail"
        ]
    );
    let rows = &records[1..];
    assert_eq!(
        rows.len(),
        1005,
        "1,003 groups, the account, the Viewer binding"
    );
    let action = |r: &Vec<String>| r[4].clone();
    assert_eq!(action(&rows[0]), "binding.create");
    assert_eq!(rows[1][5], "bot");
    assert_eq!(rows[1][6], account.id);
    let groups: Vec<&str> = rows[2..].iter().map(|r| r[5].as_str()).collect();
    let expected: Vec<String> = (0..1003)
        .rev()
        .map(|n| {
            if n == 7 {
                "'=HYPERLINK(\"x\")".to_string()
            } else {
                format!("g{n:04}")
            }
        })
        .collect();
    assert_eq!(
        groups, expected,
        "newest first, every event once, the formula defused"
    );
    assert!(rows[2..]
        .iter()
        .all(|r| r[1] == "operator (command line)" && r[2] == "operator"));
    assert!(
        rows.iter().all(|r| r[0].ends_with('Z') && r[0].len() >= 20),
        "RFC 3339 times"
    );

    let path = "/t/main/iam/audit.csv?area=service-account";
    let records = csv_download(&app, path, &admin, "audit-log").await;
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[1][3], "Service account created");

    let (_, nobody) = app.member("norole", None).await;
    let stranger = outsider(&app).await;
    for (cookie, path, status) in [
        (None, "/t/main/iam/audit.csv", 401),
        (Some(&stranger), "/t/main/iam/audit.csv", 404),
        (Some(&admin), "/t/nowhere/iam/audit.csv", 404),
        (Some(&nobody), "/t/main/iam/audit.csv", 403),
        (Some(&admin), "/t/main/iam/audit.csv?area=secrets", 400),
    ] {
        let res = app.get(path, cookie.map(String::as_str)).await;
        assert_eq!(res.status, status, "{path}: {}", res.body);
        assert!(!res.body.contains("g0001"), "{}", res.body);
    }
}

/// The History button of a user's, group's, role's, account's and integration's page leads to its
/// changes, and only those who may read the audit log see it.
#[tokio::test]
async fn pages_about_one_thing_link_to_its_history_for_readers_of_the_log_alone() {
    let (app, admin) = TestApp::with_admin().await;
    let by = app.operator();
    let group = roster::iam::groups::create(&app.db, &by, "main", "Team")
        .await
        .unwrap()
        .id;
    let account = roster::iam::service_accounts::create(&app.db, &by, "main", "bot", "")
        .await
        .unwrap()
        .id;
    let integration = app.integration("main").await.id;
    let (user, viewer_cookie) = viewer(&app).await;
    let viewer_role = app.managed_role_id("main", "Viewer").await;
    let pages = [
        ("users", user.clone()),
        ("groups", group.clone()),
        ("roles", viewer_role.clone()),
        ("service-accounts", account.clone()),
        ("scim", integration.clone()),
    ];
    for cookie in [&admin, &viewer_cookie] {
        for (section, id) in &pages {
            let page = app
                .get(&format!("/t/main/iam/{section}/{id}"), Some(cookie))
                .await;
            assert_eq!(page.status, 200, "{section}: {}", page.body);
            let history = format!("href=\"/t/main/iam/audit?target={id}\"");
            assert!(
                page.body.contains(&history),
                "{section} has no History link"
            );
        }
    }
    // A role that reads groups but not the audit log: the group page, without History.
    let role = change(
        &app,
        &admin,
        "/api/roles/create",
        &[
            ("tenant", "main"),
            ("name", "Group readers"),
            ("perm[]", "GROUPS:READ"),
        ],
    )
    .await;
    let (reader, reader_cookie) = app.member("reader", None).await;
    let subject = format!("user:{reader}");
    let bind = [
        ("tenant", "main"),
        ("role_id", &id_in(&role)),
        ("subject", &subject),
    ];
    change(&app, &admin, "/api/bindings/create", &bind).await;
    let page = app
        .get(&format!("/t/main/iam/groups/{group}"), Some(&reader_cookie))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Team"));
    assert!(
        !page.body.contains("/t/main/iam/audit?target="),
        "History shown"
    );

    // The history of the group, as a Viewer follows the link.
    let theirs = log(&app, &viewer_cookie, &[("target", &group)]).await;
    assert_eq!(actions(&theirs), ["group.create"]);
    assert_eq!(theirs["target_name"], "Team");
}
