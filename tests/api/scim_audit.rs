//! What SCIM integrations change is in the tenant's audit log: one event per request that
//! changed something, written in the request's own transaction (so a refused or failed request
//! leaves none, and parallel syncs leave exactly one per change), with the integration as actor.

use serde_json::{json, Value};

use crate::helpers::{Integration, TestApp};
use crate::ui_audit::log;
use crate::ui_users::{csv_download, data_call};

/// A page's events, oldest first, as `(action, target, detail)`.
fn events(page: &Value) -> Vec<(String, String, String)> {
    let text = |e: &Value, k: &str| e[k].as_str().unwrap_or_default().to_string();
    let mut all: Vec<_> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (text(e, "action"), text(e, "target"), text(e, "detail")))
        .collect();
    all.reverse();
    all
}

fn event(action: &str, target: &str, detail: &str) -> (String, String, String) {
    (action.into(), target.into(), detail.into())
}

async fn send(app: &TestApp, i: &Integration, method: &str, rest: &str, body: Value) -> Value {
    let body = (method != "DELETE").then_some(body);
    let res = app.scim(i, method, rest, body).await;
    assert!(
        res.status.is_success(),
        "{method} {rest}: {} {}",
        res.status,
        res.body
    );
    if res.body.is_empty() {
        Value::Null
    } else {
        res.json()
    }
}

fn patch(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

#[tokio::test]
async fn every_scim_change_is_logged_once_with_the_integration_as_actor_and_no_secret() {
    let (app, cookie) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    let alice = app
        .scim_user(
            &i,
            json!({"userName": "alice", "name": {"givenName": "Alice"}, "password": "Sup3r-secret-pw!"}),
        )
        .await;
    let bob = app
        .scim_user(&i, json!({"userName": "bob", "active": false}))
        .await;
    let users = |rest: &str| format!("/Users/{rest}");
    // Entra's deactivation, then a name change, then the same again (no change: no event).
    let deactivate = patch(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    send(&app, &i, "PATCH", &users(&alice), deactivate.clone()).await;
    let rename = patch(json!([{"op": "replace", "path": "name.givenName", "value": "Al"}]));
    send(&app, &i, "PATCH", &users(&alice), rename.clone()).await;
    send(&app, &i, "PATCH", &users(&alice), rename).await;
    send(&app, &i, "PATCH", &users(&alice), deactivate).await;
    let password = patch(json!([{"op": "replace", "path": "password", "value": "N3w-secret-pw!"}]));
    send(&app, &i, "PATCH", &users(&alice), password).await;
    // Okta's PUT: the whole user, active again.
    let put = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "alice", "name": {"givenName": "Al"}, "active": true});
    send(&app, &i, "PUT", &users(&alice), put.clone()).await;
    send(&app, &i, "PUT", &users(&alice), put).await;
    let group = send(
        &app,
        &i,
        "POST",
        "/Groups",
        json!({"displayName": "Eng", "members": [{"value": alice}]}),
    )
    .await;
    let eng = group["id"].as_str().unwrap().to_string();
    let groups = |rest: &str| format!("/Groups/{rest}");
    let add_bob = patch(json!([{"op": "add", "path": "members", "value": [{"value": bob}]}]));
    send(&app, &i, "PATCH", &groups(&eng), add_bob.clone()).await;
    send(&app, &i, "PATCH", &groups(&eng), add_bob).await;
    let renamed = patch(
        json!([{"op": "replace", "path": "displayName", "value": "Engineering"},
        {"op": "remove", "path": format!("members[value eq \"{alice}\"]")}]),
    );
    send(&app, &i, "PATCH", &groups(&eng), renamed).await;
    // Refused: a taken userName, a member who is no user, a group that is not there.
    let taken = app
        .scim(&i, "POST", "/Users", Some(json!({"userName": "alice"})))
        .await;
    assert_eq!(taken.status, 409, "{}", taken.body);
    let stranger = patch(json!([{"op": "add", "path": "members", "value": [{"value": "nobody"}]}]));
    let res = app.scim(&i, "PATCH", &groups(&eng), Some(stranger)).await;
    assert_eq!(res.status, 400, "{}", res.body);
    let rename_to_taken = patch(json!([{"op": "replace", "path": "userName", "value": "alice"}]));
    let res = app
        .scim(&i, "PATCH", &users(&bob), Some(rename_to_taken))
        .await;
    assert_eq!(res.status, 409, "{}", res.body);
    send(&app, &i, "DELETE", &users(&bob), Value::Null).await;
    send(&app, &i, "DELETE", &groups(&eng), Value::Null).await;

    let page = log(&app, &cookie, &[("by", "scim")]).await;
    assert_eq!(
        events(&page),
        vec![
            event("user.provision", "alice", ""),
            event("user.provision", "bob", "Provisioned inactive."),
            event("user.update", "alice", "Deactivated."),
            event("user.update", "alice", "Changed name."),
            event("user.update", "alice", "Changed password."),
            event("user.update", "alice", "Reactivated. Replaced (PUT)."),
            event("group.create", "Eng", "1 member added."),
            event("group.update", "Eng", "1 member added."),
            event(
                "group.update",
                "Engineering",
                "Renamed from Eng. 1 member removed."
            ),
            event("user.deprovision", "bob", "Access to this tenant ended."),
            event("group.delete", "Engineering", ""),
        ]
    );
    for e in page["events"].as_array().unwrap() {
        assert_eq!(e["actor"], "IdP", "{e}");
        assert_eq!(e["actor_kind"], "integration", "{e}");
        assert_eq!(e["actor_path"], format!("scim/{}", i.id), "{e}");
    }
    // Each event links to its user or group, but the one that deleted the group or ended the
    // user's access here (after it, there is no page to show).
    for e in page["events"].as_array().unwrap() {
        let section = match e["action"].as_str().unwrap() {
            "user.deprovision" | "group.delete" => None,
            a if a.starts_with("user.") => Some("users"),
            _ => Some("groups"),
        };
        let target = if e["target"] == "alice" {
            alice.clone()
        } else if e["target"] == "bob" {
            bob.clone()
        } else {
            eng.clone()
        };
        let expected = section.map(|s| format!("{s}/{target}"));
        assert_eq!(
            e["target_path"].as_str().map(str::to_string),
            expected,
            "{e}"
        );
    }
    assert!(!page.to_string().contains("secret-pw"), "{page}");
    // People's changes apart: the integration's creation (a `roster` command's), and no more.
    let people = log(&app, &cookie, &[("by", "people")]).await;
    let codes: Vec<String> = events(&people).into_iter().map(|e| e.0).collect();
    assert_eq!(codes, ["integration.create"]);
    // Alice's history: hers alone; the group's filter keeps the group's.
    let hers = log(&app, &cookie, &[("target", &alice)]).await;
    assert_eq!(events(&hers).len(), 5, "{hers}");
    let group_events = log(&app, &cookie, &[("area", "group"), ("by", "scim")]).await;
    assert_eq!(events(&group_events).len(), 4, "{group_events}");
    let bad = data_call(
        &app,
        "/api/audit/list",
        &[("tenant", "main"), ("by", "robots")],
        &cookie,
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    // The export keeps the same filter.
    let rows = csv_download(&app, "/t/main/iam/audit.csv?by=scim", &cookie, "audit-log").await;
    assert_eq!(rows.len(), 12, "{rows:?}");
    assert_eq!(
        rows[1][1..6],
        [
            "IdP",
            "integration",
            "Group deleted",
            "group.delete",
            "Engineering"
        ]
    );
    assert!(
        rows.iter().all(|r| r[4] != "integration.create"),
        "{rows:?}"
    );
    assert!(!rows.concat().concat().contains("secret-pw"), "{rows:?}");
}

/// A userName another tenant's integration holds is linked, and logged as such.
#[tokio::test]
async fn a_linked_user_is_logged_as_provisioned_where_it_was_linked() {
    let (app, cookie) = TestApp::with_admin().await;
    app.create_tenant("other").await;
    {
        let mut conn = app.db.acquire().await.unwrap();
        roster::db::tenants::set_link_foreign_users(&mut conn, "main", true, app.now())
            .await
            .unwrap();
    }
    let mine = app.integration("main").await;
    let theirs = app.integration("other").await;
    let id = app.scim_user(&theirs, json!({"userName": "carol"})).await;
    let linked = app
        .scim_user(&mine, json!({"userName": "carol", "active": false}))
        .await;
    assert_eq!(linked, id);
    let page = log(&app, &cookie, &[("by", "scim")]).await;
    assert_eq!(
        events(&page),
        vec![event(
            "user.provision",
            "carol",
            "The user existed already (in another tenant or signing in with a password): \
             given access here. Inactive."
        )]
    );
    assert_eq!(page["events"][0]["target_path"], format!("users/{id}"));
}

/// Eight clients at once, on the same users and groups: every change that was answered as made
/// is in the log once, and nothing refused is.
#[tokio::test]
async fn parallel_syncs_leave_exactly_one_event_per_change_made() {
    let (app, cookie) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    let group = send(&app, &i, "POST", "/Groups", json!({"displayName": "All"})).await;
    let all = group["id"].as_str().unwrap().to_string();
    let app = std::sync::Arc::new(app);
    let i = std::sync::Arc::new(i);
    let mut clients = Vec::new();
    for client in 0..8 {
        let (app, i, all) = (app.clone(), i.clone(), all.clone());
        clients.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for n in 0..6 {
                // Clients 0–3 and 4–7 send the same names: one of each pair is refused.
                let name = format!("u{}-{n}", client % 4);
                let res = app
                    .scim(&i, "POST", "/Users", Some(json!({"userName": name})))
                    .await;
                if res.status != 201 {
                    assert_eq!(res.status, 409, "{}", res.body);
                    continue;
                }
                let id = res.json()["id"].as_str().unwrap().to_string();
                let add =
                    patch(json!([{"op": "add", "path": "members", "value": [{"value": id}]}]));
                let res = app
                    .scim(&i, "PATCH", &format!("/Groups/{all}"), Some(add))
                    .await;
                assert_eq!(res.status, 204, "{}", res.body);
                made.push(name);
            }
            made
        }));
    }
    let mut made = Vec::new();
    for c in clients {
        made.extend(c.await.unwrap());
    }
    made.sort();
    assert_eq!(made.len(), 24, "each name made once: {made:?}");
    // One event per user made, each its own, and one per member added.
    let counts = [
        "SELECT COUNT(*) FROM audit_events WHERE actor_kind = 'integration' \
         AND action = 'user.provision'",
        "SELECT COUNT(DISTINCT target_name) FROM audit_events WHERE action = 'user.provision'",
        "SELECT COUNT(*) FROM audit_events WHERE action = 'group.update' \
         AND detail = '1 member added.'",
    ];
    for sql in counts {
        assert_eq!(app.count(sql, &[]).await, 24, "{sql}");
    }
    // And the page reads them (50 a page: group create + 48).
    let page = log(&app, &cookie, &[("by", "scim")]).await;
    assert_eq!(page["events"].as_array().unwrap().len(), 49);
}

/// Events past the retention go, oldest first, tenant by tenant; newer ones stay.
#[tokio::test]
async fn the_sweep_deletes_events_past_their_retention_and_keeps_the_rest() {
    let app = TestApp::spawn().await;
    app.create_tenant("other").await;
    let i = app.integration("main").await;
    let o = app.integration("other").await;
    for n in 0..3 {
        app.scim_user(&i, json!({"userName": format!("m{n}")}))
            .await;
        app.scim_user(&o, json!({"userName": format!("o{n}")}))
            .await;
    }
    // Two of main's and one of other's are a year old.
    app.execute(&[
        "UPDATE audit_events SET at = at - 31536000000 WHERE target_name IN ('m0', 'm1', 'o0')",
    ])
    .await;
    let cutoff = app.now() - 30 * 24 * 3_600_000;
    let deleted = roster::auth::housekeeping::trim_audit_log(&app.db, cutoff)
        .await
        .unwrap();
    assert_eq!(deleted, 3);
    let left = app
        .count(
            "SELECT COUNT(*) FROM audit_events WHERE target_name IN ('m2', 'o1', 'o2')",
            &[],
        )
        .await;
    assert_eq!(left, 3);
    // Nothing more to do the second time.
    let again = roster::auth::housekeeping::trim_audit_log(&app.db, cutoff)
        .await
        .unwrap();
    assert_eq!(again, 0);
}
