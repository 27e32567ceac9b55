//! Writes by design: parallel SCIM syncs, two replicas on one database, a busy writer and
//! concurrent first integrations lose nothing and never answer 500; opening pages writes nothing.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::helpers::{Integration, TestApp, TestResponse};

/// How many SCIM clients write at once (Entra and Okta send several requests in parallel).
const WRITERS: usize = 8;

fn user(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "name": {"givenName": name, "familyName": "Parallel"},
        "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}],
        "active": true
    })
}

fn add_member(user_id: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": user_id}]}]
    })
}

fn remove_member(user_id: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": format!("members[value eq \"{user_id}\"]")}]
    })
}

/// Sends `count` copies of a request built from an index at once, spread over `apps` (one per
/// replica), and answers each response in index order.
async fn at_once<F>(
    apps: &[Arc<TestApp>],
    integ: &Arc<Integration>,
    count: usize,
    call: F,
) -> Vec<TestResponse>
where
    F: Fn(usize) -> (&'static str, String, Option<Value>),
{
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let app = apps[i % apps.len()].clone();
            let integ = integ.clone();
            let (method, rest, body) = call(i);
            tokio::spawn(async move { app.scim(&integ, method, &rest, body).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("request task"));
    }
    out
}

fn assert_no_server_errors(what: &str, responses: &[TestResponse]) {
    for r in responses {
        assert!(
            r.status.as_u16() < 500,
            "{what}: answered {} {}",
            r.status,
            r.body
        );
    }
}

async fn members_of(app: &TestApp, integ: &Integration, group_id: &str) -> BTreeSet<String> {
    let res = app
        .scim(integ, "GET", &format!("/Groups/{group_id}"), None)
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// One parallel sync against `apps` (one server, or replicas on one database): creates, member
/// adds on one group, PUTs and PATCHes, then removes beside adds, then a race on one userName.
async fn parallel_sync(apps: Vec<Arc<TestApp>>) {
    let first = apps[0].clone();
    let integ = Arc::new(first.integration("main").await);
    let group = first
        .scim(
            &integ,
            "POST",
            "/Groups",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Parallel"})),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let group_id = group.json()["id"].as_str().unwrap().to_string();

    // 1. Creates in parallel: all acknowledged, all stored.
    let created = at_once(&apps, &integ, WRITERS, |i| {
        ("POST", "/Users".into(), Some(user(&format!("p{i}"))))
    })
    .await;
    assert_no_server_errors("create", &created);
    let ids: Vec<String> = created
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", r.body);
            r.json()["id"].as_str().unwrap().to_string()
        })
        .collect();

    // 2. Member adds on one group, PUTs and PATCHes of the users, all at once.
    let g = group_id.clone();
    let ids_for = ids.clone();
    let mixed = at_once(&apps, &integ, WRITERS * 3, move |i| {
        let id = &ids_for[i % WRITERS];
        match i / WRITERS {
            0 => ("PATCH", format!("/Groups/{g}"), Some(add_member(id))),
            1 => {
                let mut body = user(&format!("p{}", i % WRITERS));
                body["displayName"] = json!(format!("Put {i}"));
                ("PUT", format!("/Users/{id}"), Some(body))
            }
            _ => (
                "PATCH",
                format!("/Users/{id}"),
                Some(json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "title", "value": "Patched"}]
                })),
            ),
        }
    })
    .await;
    assert_no_server_errors("adds, PUTs and PATCHes", &mixed);
    for r in &mixed {
        assert!(r.status.is_success(), "{} {}", r.status, r.body);
    }
    let expected: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(members_of(&first, &integ, &group_id).await, expected);

    // 3. Half the members leave while new users join, at once: exactly the acknowledged set.
    let joiners = at_once(&apps, &integ, WRITERS / 2, |i| {
        ("POST", "/Users".into(), Some(user(&format!("j{i}"))))
    })
    .await;
    assert_no_server_errors("joiner create", &joiners);
    let joiner_ids: Vec<String> = joiners
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_string())
        .collect();
    let (g, leaving, joining) = (group_id.clone(), ids.clone(), joiner_ids.clone());
    let churn = at_once(&apps, &integ, WRITERS, move |i| {
        if i % 2 == 0 {
            (
                "PATCH",
                format!("/Groups/{g}"),
                Some(remove_member(&leaving[i / 2])),
            )
        } else {
            (
                "PATCH",
                format!("/Groups/{g}"),
                Some(add_member(&joining[i / 2])),
            )
        }
    })
    .await;
    assert_no_server_errors("member churn", &churn);
    for r in &churn {
        assert!(r.status.is_success(), "{} {}", r.status, r.body);
    }
    let mut expected: BTreeSet<String> = ids[WRITERS / 2..].iter().cloned().collect();
    expected.extend(joiner_ids);
    assert_eq!(members_of(&first, &integ, &group_id).await, expected);

    // 4. Eight creates of one userName: one 201, the rest 409 `uniqueness`.
    let raced = at_once(&apps, &integ, WRITERS, |_| {
        ("POST", "/Users".into(), Some(user("raced.name")))
    })
    .await;
    assert_no_server_errors("raced create", &raced);
    let winners = raced.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        winners,
        1,
        "{:?}",
        raced.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in raced.iter().filter(|r| r.status != 201) {
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.json()["scimType"], "uniqueness", "{}", r.body);
    }
    assert_eq!(
        first
            .count(
                "SELECT COUNT(*) FROM users WHERE username_lower = $1",
                &["raced.name"]
            )
            .await,
        1
    );

    // 5. Every first user leaves while as many join, at once: the tenant's kept count of access
    //    (the sum of its slots) is the rows it has, and a list's total says so on each replica.
    let leaving = ids.clone();
    let turnover = at_once(&apps, &integ, WRITERS * 2, move |i| {
        if i % 2 == 0 {
            ("DELETE", format!("/Users/{}", leaving[i / 2]), None)
        } else {
            ("POST", "/Users".into(), Some(user(&format!("t{i}"))))
        }
    })
    .await;
    assert_no_server_errors("deletes and creates", &turnover);
    for r in &turnover {
        assert!(r.status.is_success(), "{} {}", r.status, r.body);
    }
    let rows = "SELECT COUNT(*) FROM tenant_access WHERE tenant_id = 'main'";
    let kept = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM tenant_access_counts \
                WHERE tenant_id = 'main'";
    assert_eq!(first.count(kept, &[]).await, first.count(rows, &[]).await);
    let listed = first
        .count(
            "SELECT COUNT(*) FROM tenant_access a JOIN users u ON u.id = a.user_id \
             WHERE a.tenant_id = 'main' AND u.is_superadmin = 0",
            &[],
        )
        .await;
    for app in &apps {
        let page = app.scim(&integ, "GET", "/Users?count=1", None).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.json()["totalResults"], json!(listed), "{}", page.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_scim_writers_on_one_server_lose_nothing_and_never_answer_5xx() {
    let app = Arc::new(TestApp::spawn().await);
    parallel_sync(vec![app]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_database_lose_nothing_and_never_answer_5xx() {
    let app = TestApp::spawn().await;
    let replica = app.replica().await;
    parallel_sync(vec![Arc::new(app), Arc::new(replica)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_first_integrations_created_at_once_share_one_provisioner_role() {
    let app = Arc::new(TestApp::spawn().await);
    let (a, b) = tokio::join!(app.integration("main"), app.integration("main"));
    assert_ne!(a.id, b.id);
    let provisioners = app
        .count(
            "SELECT COUNT(*) FROM roles WHERE tenant_id = 'main' AND managed = 1 AND name = $1",
            &["SCIMProvisioner"],
        )
        .await;
    assert_eq!(provisioners, 1);
    let bound = app
        .count(
            "SELECT COUNT(*) FROM bindings b JOIN roles r ON r.id = b.role_id \
             WHERE r.name = $1 AND b.subject_type = 'service_account'",
            &["SCIMProvisioner"],
        )
        .await;
    assert_eq!(bound, 2);
    for integ in [&a, &b] {
        let res = app
            .scim(
                integ,
                "POST",
                "/Users",
                Some(user(&integ.id.to_lowercase())),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
}

#[tokio::test]
async fn a_tenant_is_born_with_admin_and_viewer_and_no_custom_role_takes_their_names() {
    let (app, admin) = TestApp::with_admin().await;
    app.create_tenant("acme").await;
    for tenant in ["main", "acme"] {
        let managed = app
            .count(
                "SELECT COUNT(*) FROM roles WHERE tenant_id = $1 AND managed = 1 AND name IN ('Admin', 'Viewer')",
                &[tenant],
            )
            .await;
        assert_eq!(managed, 2, "{tenant}");
    }
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM role_permissions p JOIN roles r ON r.id = p.role_id \
             WHERE r.tenant_id = 'acme' AND r.name = $1",
            &["Admin"]
        )
        .await,
        28
    );
    // A custom role may not be called like a managed one, not even SCIMProvisioner before the
    // first integration exists.
    for name in ["viewer", "SCIMPROVISIONER"] {
        let res = app
            .post_form(
                "/api/roles/create",
                &[("tenant", "main"), ("name", name), ("description", "")],
                Some(&admin),
            )
            .await;
        assert!(
            res.status.is_redirection() || res.status.is_client_error(),
            "{}",
            res.status
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM roles WHERE tenant_id = 'main' AND name_lower = $1",
                &[&name.to_lowercase()]
            )
            .await,
            i64::from(name == "viewer"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn opening_every_page_writes_nothing_to_the_database() {
    if std::env::var("ROSTER_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        return; // the change counter below is SQLite's; the read paths are the same code
    }
    let (app, admin) = TestApp::with_admin().await;
    let integ = app.integration("main").await;
    let u = app
        .scim(&integ, "POST", "/Users", Some(user("reader")))
        .await;
    let user_id = u.json()["id"].as_str().unwrap().to_string();
    let g = app
        .scim(
            &integ,
            "POST",
            "/Groups",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Readers",
                        "members": [{"value": user_id}]})),
        )
        .await;
    let group_id = g.json()["id"].as_str().unwrap().to_string();
    let role_id = app.managed_role_id("main", "Viewer").await;
    let sa_id = {
        let mut conn = app.db.acquire().await.unwrap();
        roster::db::iam::list_service_accounts(&mut conn, "main")
            .await
            .unwrap()[0]
            .id
            .clone()
    };
    let pages = [
        "/".to_string(),
        "/account".into(),
        "/instance/tenants".into(),
        "/instance/oidc".into(),
        "/t/main/iam/users".into(),
        format!("/t/main/iam/users/{user_id}"),
        "/t/main/iam/groups".into(),
        format!("/t/main/iam/groups/{group_id}"),
        "/t/main/iam/roles".into(),
        format!("/t/main/iam/roles/{role_id}"),
        "/t/main/iam/bindings".into(),
        "/t/main/iam/service-accounts".into(),
        format!("/t/main/iam/service-accounts/{sa_id}"),
        "/t/main/iam/scim".into(),
        format!("/t/main/iam/scim/{}", integ.id),
    ];
    // SQLite's data_version, read on one held connection, changes when any other connection
    // commits a change.
    // The SCIM requests above queued log entries; they are written before the watch begins.
    app.db.flush_log().await;
    let mut watcher = app.db.acquire().await.unwrap();
    let version = |row: sqlx::any::AnyRow| -> i64 { sqlx::Row::try_get(&row, 0).unwrap() };
    let before = version(
        sqlx::query("PRAGMA data_version")
            .fetch_one(&mut *watcher)
            .await
            .unwrap(),
    );
    for page in &pages {
        let res = app.get(page, Some(&admin)).await;
        // The home page sends a signed-in person on to their tenant.
        let expected = if page == "/" { 302 } else { 200 };
        assert_eq!(res.status, expected, "{page}: {}", res.body);
    }
    let after = version(
        sqlx::query("PRAGMA data_version")
            .fetch_one(&mut *watcher)
            .await
            .unwrap(),
    );
    assert_eq!(before, after, "a page view wrote to the database");
    // The watcher does see writes: a SCIM request (logged) changes the counter.
    app.scim(&integ, "GET", "/Users", None).await;
    app.db.flush_log().await;
    let written = version(
        sqlx::query("PRAGMA data_version")
            .fetch_one(&mut *watcher)
            .await
            .unwrap(),
    );
    assert_ne!(after, written);
}

#[tokio::test]
async fn a_scim_write_that_cannot_get_the_database_in_time_answers_503_with_retry_after() {
    if std::env::var("ROSTER_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        return; // holding SQLite's write lock from another server is the situation tested
    }
    let app = TestApp::spawn().await;
    let integ = app.integration("main").await;
    // Another server (a replica, or the CLI) holds SQLite's write lock past the busy timeout.
    let other = app.replica().await;
    let mut blocker = other.db.begin_write().await.unwrap();
    sqlx::query("UPDATE tenants SET name = name WHERE id = 'main'")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let res = app
        .scim(&integ, "POST", "/Users", Some(user("waits")))
        .await;
    assert_eq!(res.status, 503, "{}", res.body);
    assert_eq!(res.header("retry-after").as_deref(), Some("2"));
    assert_eq!(res.json()["status"], "503");
    blocker.rollback().await.unwrap();
    // Nothing was half-written, and the retry succeeds.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM users WHERE username_lower = 'waits'",
            &[]
        )
        .await,
        0
    );
    let retried = app
        .scim(&integ, "POST", "/Users", Some(user("waits")))
        .await;
    assert_eq!(retried.status, 201, "{}", retried.body);
}

#[tokio::test]
async fn housekeeping_sweeps_expired_sessions_sign_in_states_and_old_failures() {
    let (app, _admin) = TestApp::with_admin().await;
    let wrong = app
        .post_form(
            "/api/auth/login",
            &[("username", "admin"), ("password", "wrong password")],
            None,
        )
        .await;
    assert!(wrong.session_cookie().is_none());
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions", &[]).await, 1);
    // The failure counts under the account from this client, the account, and the client.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM sign_in_counters WHERE attempts = 1",
            &[]
        )
        .await,
        3
    );

    // Nothing is due yet.
    let swept = roster::auth::housekeeping::sweep(&app.db, app.now())
        .await
        .unwrap();
    assert_eq!(swept, Default::default());

    // Past the failure window and the session's 12 hours.
    app.clock.advance_minutes(13 * 60);
    let swept = roster::auth::housekeeping::sweep(&app.db, app.now())
        .await
        .unwrap();
    assert_eq!(swept.sessions, 1);
    assert_eq!(swept.failure_rows, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions", &[]).await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sign_in_counters", &[])
            .await,
        0
    );
}

#[tokio::test]
async fn scim_reads_answer_while_a_write_holds_the_database_and_are_all_logged() {
    let app = Arc::new(TestApp::spawn().await);
    let integ = Arc::new(app.integration("main").await);
    let created = app
        .scim(&integ, "POST", "/Users", Some(user("reader")))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_string();
    // A write holds this server's writer turn (on SQLite, also the write lock) throughout.
    let mut blocker = app.db.begin_write().await.unwrap();
    sqlx::query("UPDATE tenants SET name = name WHERE id = 'main'")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let reads = at_once(std::slice::from_ref(&app), &integ, 12, |i| match i % 3 {
        0 => ("GET", format!("/Users/{id}"), None),
        1 => (
            "GET",
            "/Users?filter=userName%20eq%20%22reader%22".into(),
            None,
        ),
        _ => ("POST", "/Users/.search".into(), Some(json!({"count": 5}))),
    })
    .await;
    for r in &reads {
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("reader"), "{}", r.body);
    }
    blocker.rollback().await.unwrap();
    // The log's writer waited for the writer's turn; every read is recorded, none twice.
    let log = roster::iam::integrations::log(&app.db, "main", &integ.id, 100)
        .await
        .unwrap();
    let reads_logged = log.iter().filter(|e| e.status == 200).count();
    assert_eq!(reads_logged, 12, "{log:?}");
    assert_eq!(log.iter().filter(|e| e.status == 201).count(), 1);
    // The token's last use is stamped by the same writer.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM api_tokens WHERE last_used_at IS NOT NULL",
            &[]
        )
        .await,
        1
    );
}

/// A user's access ends while a PATCH is adding them to a group: no membership of a user without
/// access is left. On PostgreSQL the PATCH holds the user's access row until it commits
/// (`FOR SHARE`), the removal of the access waits for it, and the memberships are deleted after
/// the access, so the new one goes too (deleted first, it was missed). On SQLite writes take
/// turns: the removal runs after the PATCH.
#[tokio::test]
async fn an_access_ended_while_a_patch_adds_the_user_leaves_no_membership() {
    let app = TestApp::spawn().await;
    let integ = app.integration("main").await;
    let created = app
        .scim(&integ, "POST", "/Users", Some(user("leaving")))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let user_id = created.json()["id"].as_str().unwrap().to_string();
    let group = app
        .scim(
            &integ,
            "POST",
            "/Groups",
            Some(json!({"displayName": "Joining"})),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let group_id = group.json()["id"].as_str().unwrap().to_string();

    let mut adding = app.db.begin_write().await.unwrap();
    let added = roster::db::groups::add_members(
        &mut adding,
        &group_id,
        std::slice::from_ref(&user_id),
        app.now(),
    )
    .await
    .unwrap();
    assert_eq!(added, Ok(1));
    let (db, user, source, now) = (app.db.clone(), user_id.clone(), integ.id.clone(), app.now());
    let revoking = tokio::spawn(async move {
        let mut tx = db.begin_write().await.unwrap();
        let last = tx.last_write();
        let ended = roster::db::access::revoke(&mut tx, "main", &user, &source, now, &last)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        ended
    });
    // Time for the removal to reach the access row the PATCH holds.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    adding.commit().await.unwrap();
    assert!(revoking.await.unwrap(), "the access ended");

    let of_user = |table: &str| format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1");
    assert_eq!(app.count(&of_user("tenant_access"), &[&user_id]).await, 0);
    assert_eq!(app.count(&of_user("group_members"), &[&user_id]).await, 0);
    let members = app
        .scim(&integ, "GET", &format!("/Groups/{group_id}"), None)
        .await
        .json();
    assert_eq!(members["members"], json!([]), "{members}");
}

/// A tenant's kept count of access is set right by a recount running beside SCIM creates and
/// deletes on two replicas: the recount reads the count and the rows in one statement and adds
/// the difference, so a grant in flight is in neither or both of what it read, and a grant that
/// commits after moves the count on top (setting the count to a count of the rows would lose
/// the grants that commit in between). Before, a writer that does not keep the count (a replica
/// of an earlier release) left it off.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recount_beside_parallel_grants_and_ends_leaves_the_count_exact() {
    let app = Arc::new(TestApp::spawn().await);
    let replica = Arc::new(app.replica().await);
    let integ = Arc::new(app.integration("main").await);
    let apps = vec![app.clone(), replica.clone()];
    let rows = "SELECT COUNT(*) FROM tenant_access WHERE tenant_id = 'main'";
    let kept = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM tenant_access_counts \
                WHERE tenant_id = 'main'";
    let created = at_once(&apps, &integ, WRITERS * 2, |i| {
        ("POST", "/Users".into(), Some(user(&format!("tally{i}"))))
    })
    .await;
    assert_no_server_errors("creates", &created);
    // An older writer's rows: access granted without moving the count.
    app.execute(&[
        "INSERT INTO users (id, username, username_lower, created_at, updated_at) VALUES \
         ('older-writer-0', 'older-writer-0', 'older-writer-0', 0, 0), \
         ('older-writer-1', 'older-writer-1', 'older-writer-1', 0, 0), \
         ('older-writer-2', 'older-writer-2', 'older-writer-2', 0, 0)",
        "INSERT INTO tenant_access (tenant_id, user_id, created_at) VALUES \
         ('main', 'older-writer-0', 0), ('main', 'older-writer-1', 0), ('main', 'older-writer-2', 0)",
    ])
    .await;
    assert_eq!(app.count(kept, &[]).await + 3, app.count(rows, &[]).await);

    // Half the users leave and as many join while both replicas recount, again and again.
    let ids: Vec<String> = created
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_string())
        .collect();
    // Each recount takes the locked path, whether or not the count is off.
    let recounts = [app.clone(), replica.clone()].map(|a| {
        tokio::spawn(async move {
            let mut set_right = 0;
            for _ in 0..12 {
                let mut tx = a.db.begin_write_keeping_credentials().await.expect("write");
                let m = roster::db::access::recount(&mut tx, "main")
                    .await
                    .expect("recount")
                    .expect("tenant main");
                tx.commit().await.expect("commit");
                set_right += usize::from(m.kept != m.counted);
                tokio::task::yield_now().await;
            }
            set_right
        })
    });
    let turnover = at_once(&apps, &integ, WRITERS * 2, move |i| {
        if i % 2 == 0 {
            ("DELETE", format!("/Users/{}", ids[i]), None)
        } else {
            ("POST", "/Users".into(), Some(user(&format!("joiner{i}"))))
        }
    })
    .await;
    assert_no_server_errors("turnover", &turnover);
    let mut set_right = 0;
    for r in recounts {
        set_right += r.await.expect("recount task");
    }
    assert!(set_right >= 1, "the older writer's rows were never counted");
    // A last recount after everything committed finds nothing left to set right.
    assert!(roster::auth::housekeeping::recount_access(&app.db)
        .await
        .expect("recount")
        .is_empty());
    assert_eq!(app.count(kept, &[]).await, app.count(rows, &[]).await);
    let page = app.scim(&integ, "GET", "/Users?count=1", None).await;
    assert_eq!(
        page.json()["totalResults"],
        json!(app.count(rows, &[]).await),
        "{}",
        page.body
    );
}

/// A grant in flight when a recount starts: it has inserted its access row and moved the count,
/// and not committed. On PostgreSQL the recount does not wait for it (the grant's slot is not
/// the recount's): it reads neither the grant's row nor its move, adds what the older writer
/// left off, and the grant's commit adds its own move on top. On SQLite the recount's write
/// waits for the grant's (one writer) and reads both. Either way the count ends exact; setting
/// it to a count read before the grant committed would leave the grant's row out.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recount_beside_a_grant_in_flight_leaves_the_count_exact() {
    let app = Arc::new(TestApp::spawn().await);
    app.create_tenant("other").await;
    // A user whose grants add to a slot other than the recount's (0).
    let user_id = (0..)
        .map(|n| format!("in-flight-{n}"))
        .find(|id| roster::db::access::count_slot(id) != 0)
        .unwrap();
    let new_user = format!(
        "INSERT INTO users (id, username, username_lower, created_at, updated_at) \
         VALUES ('{user_id}', 'in.flight', 'in.flight', 0, 0)"
    );
    // An older writer's access in other, not counted: the recount has something to set right.
    app.execute(&[
        &new_user,
        "INSERT INTO users (id, username, username_lower, created_at, updated_at) \
         VALUES ('older-x', 'older.x', 'older.x', 0, 0)",
        "INSERT INTO tenant_access (tenant_id, user_id, created_at) VALUES ('other', 'older-x', 0)",
    ])
    .await;

    let mut grant = app.db.begin_write().await.expect("write");
    roster::db::access::grant(&mut grant, "other", &user_id, "manual", None, app.now())
        .await
        .expect("grant");
    let recounting = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tx = app
                .db
                .begin_write_keeping_credentials()
                .await
                .expect("write");
            let m = roster::db::access::recount(&mut tx, "other")
                .await
                .expect("recount");
            tx.commit().await.expect("commit");
            m
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let on_postgres = app.db.backend() == roster::db::Backend::Postgres;
    if on_postgres {
        assert!(
            recounting.is_finished(),
            "the recount does not wait for the grant"
        );
    }
    grant.commit().await.expect("commit the grant");
    let m = recounting
        .await
        .expect("recount task")
        .expect("tenant other");
    let read = if on_postgres { (0, 1) } else { (1, 2) };
    assert_eq!((m.kept, m.counted), read, "{m:?}");
    // The older writer's access and the grant's.
    assert_count_exact(&app, "other", 2).await;
}

/// Two grants of access in one tenant, each in flight on its own connection, do not wait for
/// each other on PostgreSQL: each adds to its user's slot of the tenant's kept count, where one
/// count row held every grant's lock until its commit was flushed (parallel creates went one
/// commit at a time). Both land, and the count is exact. (SQLite has one writer at a time.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_grants_in_one_tenant_do_not_wait_for_each_other() {
    let app = Arc::new(TestApp::spawn().await);
    if app.db.backend() != roster::db::Backend::Postgres {
        return;
    }
    let before = app.count(crate::helpers::KEPT_COUNT, &["main"]).await;
    // Two users whose grants add to different slots.
    let first = "parallel-0".to_string();
    let slot = roster::db::access::count_slot(&first);
    let second = (1..)
        .map(|n| format!("parallel-{n}"))
        .find(|id| roster::db::access::count_slot(id) != slot)
        .unwrap();
    for (id, name) in [(&first, "parallel.a"), (&second, "parallel.b")] {
        let insert = format!(
            "INSERT INTO users (id, username, username_lower, created_at, updated_at) \
             VALUES ('{id}', '{name}', '{name}', 0, 0)"
        );
        app.execute(&[&insert]).await;
    }
    let mut held = app.db.begin_write().await.expect("write");
    roster::db::access::grant(&mut held, "main", &first, "manual", None, app.now())
        .await
        .expect("the first grant");
    let other = {
        let (app, second) = (app.clone(), second.clone());
        tokio::spawn(async move {
            let mut tx = app.db.begin_write().await.expect("write");
            roster::db::access::grant(&mut tx, "main", &second, "manual", None, app.now())
                .await
                .expect("the second grant");
            tx.commit().await.expect("commit the second grant");
        })
    };
    let waited = tokio::time::timeout(std::time::Duration::from_secs(5), other).await;
    assert!(
        waited.is_ok(),
        "the second grant waited for the first one's commit"
    );
    held.commit().await.expect("commit the first grant");
    assert_count_exact(&app, "main", before + 2).await;
}

/// `tenant`'s kept count of access is `expected`, and housekeeping finds no count to set right.
async fn assert_count_exact(app: &TestApp, tenant: &str, expected: i64) {
    let kept = app.count(crate::helpers::KEPT_COUNT, &[tenant]).await;
    assert_eq!(kept, expected, "{tenant}'s kept count");
    let off = roster::auth::housekeeping::recount_access(&app.db)
        .await
        .expect("recount");
    assert!(off.is_empty(), "{off:?}");
}

/// Whether a group read while one writer adds its members, one a PATCH, shows one version
/// whole: each answer's ETag is the version whose members it lists. A read of the group's row
/// and of its members in two statements pairs one version's ETag with the next one's members
/// when a PATCH commits between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_read_while_its_members_change_shows_one_version_whole() {
    const MEMBERS: usize = 60;
    const READERS: usize = 4;
    let app = Arc::new(TestApp::spawn_with(&[("ROSTER_SCIM_RATE", "0")]).await);
    let integ = Arc::new(app.integration("main").await);
    let mut users = Vec::new();
    for i in 0..MEMBERS {
        let res = app
            .scim(&integ, "POST", "/Users", Some(user(&format!("v{i}"))))
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        users.push(res.json()["id"].as_str().unwrap().to_string());
    }
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Versions"});
    let created = app.scim(&integ, "POST", "/Groups", Some(body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let group_id = created.json()["id"].as_str().unwrap().to_string();
    let first_etag = created.header("etag").expect("a created group's ETag");

    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (app, integ, done) = (app.clone(), integ.clone(), done.clone());
            let by_name = format!(
                "/Groups?filter={}",
                crate::scim_auth::urlencode("displayName eq \"Versions\"")
            );
            let one = format!("/Groups/{group_id}");
            tokio::spawn(async move {
                // (ETag, member ids) as each answer showed them; bounded in count.
                let mut seen = Vec::new();
                for n in 0..2_000 {
                    if done.load(std::sync::atomic::Ordering::Acquire) {
                        break;
                    }
                    let (group, etag) = if (n + r) % 3 == 0 {
                        let page = app.scim(&integ, "GET", &by_name, None).await;
                        assert_eq!(page.status, 200, "{}", page.body);
                        let group = page.json()["Resources"][0].clone();
                        let etag = group["meta"]["version"].as_str().unwrap().to_string();
                        (group, etag)
                    } else {
                        let res = app.scim(&integ, "GET", &one, None).await;
                        assert_eq!(res.status, 200, "{}", res.body);
                        let etag = res.header("etag").expect("a group's ETag");
                        let group = res.json();
                        assert_eq!(
                            group["meta"]["version"],
                            json!(etag),
                            "header and meta agree"
                        );
                        (group, etag)
                    };
                    let members: BTreeSet<String> = group["members"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|m| m["value"].as_str().unwrap().to_string())
                        .collect();
                    seen.push((etag, members));
                }
                seen
            })
        })
        .collect();

    // The writer: each version's members, as the ETag of the PATCH that made it names it.
    let mut versions = std::collections::HashMap::new();
    versions.insert(first_etag, BTreeSet::new());
    let mut members = BTreeSet::new();
    for id in &users {
        let res = app
            .scim(
                &integ,
                "PATCH",
                &format!("/Groups/{group_id}"),
                Some(add_member(id)),
            )
            .await;
        assert_eq!(res.status, 204, "{}", res.body);
        members.insert(id.clone());
        let etag = res.header("etag").expect("a PATCH's ETag (RFC 5789 §2.1)");
        assert!(
            versions.insert(etag.clone(), members.clone()).is_none(),
            "{etag} twice"
        );
    }
    done.store(true, std::sync::atomic::Ordering::Release);

    let mut reads = 0;
    for reader in readers {
        for (etag, shown) in reader.await.expect("reader task") {
            reads += 1;
            let written = versions
                .get(&etag)
                .unwrap_or_else(|| panic!("{etag} was never written"));
            assert_eq!(
                &shown,
                written,
                "read {reads}: ETag {etag} with {} members, written with {}",
                shown.len(),
                written.len()
            );
        }
    }
    assert!(
        reads >= 2 * READERS,
        "the readers read while the writer wrote ({reads})"
    );
}

/// Whether a page of a list and its `totalResults` come from one snapshot while one writer
/// creates and deletes the one resource the list finds: a page of one that lists a resource
/// has a total of at least one, and the total is never more than the one that exists. A total
/// counted by a second statement answered 0 beside the resource the page had read when the
/// DELETE committed between the two.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_listed_page_and_its_total_are_read_at_one_moment() {
    const CYCLES: usize = 60;
    const READERS: usize = 4;
    let app = Arc::new(TestApp::spawn_with(&[("ROSTER_SCIM_RATE", "0")]).await);
    let integ = Arc::new(app.integration("main").await);
    let enc = crate::scim_auth::urlencode;
    let lists = [
        format!("/Users?count=1&filter={}", enc("userName sw \"cycle-\"")),
        format!(
            "/Groups?count=1&filter={}",
            enc("displayName sw \"Cycle \"")
        ),
        "/Groups?count=1".to_string(),
    ];
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (app, integ, done, lists) =
                (app.clone(), integ.clone(), done.clone(), lists.clone());
            tokio::spawn(async move {
                // (list, resources listed, totalResults) of each answer; bounded in count.
                let mut seen = Vec::new();
                for n in 0..3_000 {
                    if done.load(std::sync::atomic::Ordering::Acquire) {
                        break;
                    }
                    let list = &lists[(n + r) % lists.len()];
                    let page = app.scim(&integ, "GET", list, None).await;
                    assert_eq!(page.status, 200, "{list}: {}", page.body);
                    let page = page.json();
                    let listed = page["Resources"].as_array().map_or(0, Vec::len);
                    assert_eq!(page["itemsPerPage"], json!(listed), "{list}: {page}");
                    seen.push((list.clone(), listed, page["totalResults"].as_u64().unwrap()));
                }
                seen
            })
        })
        .collect();

    for i in 0..CYCLES {
        let made = app
            .scim(&integ, "POST", "/Users", Some(user(&format!("cycle-{i}"))))
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": format!("Cycle {i}")});
        let group = app.scim(&integ, "POST", "/Groups", Some(body)).await;
        assert_eq!(group.status, 201, "{}", group.body);
        for (kind, res) in [("Users", made), ("Groups", group)] {
            let id = res.json()["id"].as_str().unwrap().to_string();
            let gone = app
                .scim(&integ, "DELETE", &format!("/{kind}/{id}"), None)
                .await;
            assert_eq!(gone.status, 204, "{}", gone.body);
        }
    }
    done.store(true, std::sync::atomic::Ordering::Release);

    let (mut reads, mut listing) = (0, 0);
    for reader in readers {
        for (list, listed, total) in reader.await.expect("reader task") {
            reads += 1;
            listing += usize::from(listed > 0);
            assert!(
                total as usize >= listed && total <= 1,
                "read {reads}, {list}: {listed} listed, totalResults {total}"
            );
        }
    }
    assert!(
        listing >= READERS,
        "the readers found the resource while it existed ({listing} of {reads} reads)"
    );
}

/// Whether a root `/.search` reads Users and Groups at one moment while one writer creates a
/// user, adds them to a group and deletes them (the DELETE takes the membership with it, in one
/// transaction): a user listed in a group's `groups` is among the group's listed members, and a
/// listed group's member is a listed user. The two types read by two statements with no
/// snapshot around them answered a user still in the group beside the group without them when
/// the DELETE committed between the two.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_root_search_reads_users_and_groups_at_one_moment() {
    const CYCLES: usize = 60;
    const READERS: usize = 4;
    let app = Arc::new(TestApp::spawn_with(&[("ROSTER_SCIM_RATE", "0")]).await);
    let integ = Arc::new(app.integration("main").await);
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Cycle group"});
    let group = app.scim(&integ, "POST", "/Groups", Some(body)).await;
    assert_eq!(group.status, 201, "{}", group.body);
    let group_id = group.json()["id"].as_str().unwrap().to_string();
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "displayName sw \"Cycle \"",
        "count": 10
    });

    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (app, integ, done, search) =
                (app.clone(), integ.clone(), done.clone(), search.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for _ in 0..3_000 {
                    if done.load(std::sync::atomic::Ordering::Acquire) {
                        break;
                    }
                    let page = app
                        .scim(&integ, "POST", "/.search", Some(search.clone()))
                        .await;
                    assert_eq!(page.status, 200, "{}", page.body);
                    answers.push(page.json());
                }
                answers
            })
        })
        .collect();

    for i in 0..CYCLES {
        let mut body = user(&format!("cycle-{i}"));
        body["displayName"] = json!(format!("Cycle user {i}"));
        let made = app.scim(&integ, "POST", "/Users", Some(body)).await;
        assert_eq!(made.status, 201, "{}", made.body);
        let id = made.json()["id"].as_str().unwrap().to_string();
        let added = app
            .scim(
                &integ,
                "PATCH",
                &format!("/Groups/{group_id}"),
                Some(add_member(&id)),
            )
            .await;
        assert!(added.status.is_success(), "{}", added.body);
        let gone = app
            .scim(&integ, "DELETE", &format!("/Users/{id}"), None)
            .await;
        assert_eq!(gone.status, 204, "{}", gone.body);
    }
    done.store(true, std::sync::atomic::Ordering::Release);

    let (mut reads, mut members_seen) = (0, 0);
    for reader in readers {
        for page in reader.await.expect("reader task") {
            reads += 1;
            let resources = page["Resources"].as_array().cloned().unwrap_or_default();
            assert_eq!(
                page["totalResults"],
                json!(resources.len()),
                "read {reads}: {page}"
            );
            let is_group = |r: &Value| r["schemas"][0].as_str().unwrap().ends_with(":Group");
            let users: Vec<&Value> = resources.iter().filter(|r| !is_group(r)).collect();
            let groups: Vec<&Value> = resources.iter().filter(|r| is_group(r)).collect();
            assert_eq!(
                groups.len(),
                1,
                "read {reads}: the group is always there: {page}"
            );
            let members: BTreeSet<&str> = groups[0]["members"]
                .as_array()
                .map(|m| m.iter().map(|m| m["value"].as_str().unwrap()).collect())
                .unwrap_or_default();
            members_seen += members.len();
            for u in &users {
                let id = u["id"].as_str().unwrap();
                let in_group = u["groups"]
                    .as_array()
                    .is_some_and(|g| g.iter().any(|g| g["value"] == json!(group_id)));
                assert_eq!(
                    in_group,
                    members.contains(id),
                    "read {reads}: user {id} lists the group: {in_group}, the group lists them: {}",
                    members.contains(id)
                );
            }
            for member in &members {
                assert!(
                    users.iter().any(|u| u["id"] == json!(member)),
                    "read {reads}: member {member} of the group is not a listed user: {page}"
                );
            }
        }
    }
    assert!(
        members_seen >= READERS,
        "the readers saw the group with a member ({members_seen} in {reads} reads)"
    );
}
