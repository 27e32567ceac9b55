//! The authorization matrix (issue 10): every server function and every SCIM route, called by
//! each kind of caller that must not get through, with the status each must get. Both tables
//! are complete by construction: the server functions are read from the
//! `#[server(endpoint = "…")]` attributes in `src/api/*.rs` at test time, and a function without
//! a row fails the test; the SCIM rows are the product of the resource types and operations.

use roster::iam::permissions::{Action, Resource};
use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Request};
use serde_json::json;

use crate::helpers::{Integration, TestApp};

/// The callers of server functions, in the order of each row's statuses.
const CALLERS: [&str; 4] = [
    "anonymous",
    "member without permission",
    "viewer",
    "admin of another tenant",
];

/// What a row expects: one status per caller.
type Expect = [u16; 4];

/// Tenant-scoped and gated by a READ permission: a Viewer reads.
const READ: Expect = [401, 403, 200, 404];
/// Tenant-scoped and gated by CREATE, UPDATE or DELETE.
const WRITE: Expect = [401, 403, 403, 404];
/// Tenant-scoped, needing only the right to enter the tenant.
const ENTER: Expect = [401, 200, 200, 404];
/// Superadmins only.
const SUPER: Expect = [401, 403, 403, 403];
/// Any signed-in person, acting on their own account only (Your account).
const SELF: Expect = [401, 200, 200, 200];
/// Public by design (sign-in, first-run setup, the shell's "who am I").
const PUBLIC: Expect = [200, 200, 200, 200];

/// Every server function: endpoint, form (with `{placeholders}` for the ids made in setup) and
/// the expected statuses. The tenant is always `main`; the other tenant's admin is in `t2`.
const SERVER_FNS: &[(&str, &str, Expect)] = &[
    ("shell", "", PUBLIC),
    ("auth/sso-options", "", PUBLIC),
    ("setup/needed", "", PUBLIC),
    // Already set up: refused for everyone, answered with a redirect to the setup page and its
    // reason (a header, status 200, for JavaScript callers); the snapshot shows no user was made.
    (
        "setup",
        "username=intruder&password=intruder%20password&password_confirm=intruder%20password",
        PUBLIC,
    ),
    // A wrong password: the redirect back to the login page with the error (as above).
    (
        "auth/login",
        "username=nobody&password=wrong%20password",
        PUBLIC,
    ),
    // Anyone may sign out (anonymous: a no-op). Run last: it ends the callers' sessions.
    ("auth/logout", "", PUBLIC),
    // Your account: each acts on the caller's own account. A wrong current password and a
    // handle of no session of theirs are refused beside the field (a redirect: 200 for
    // JavaScript callers); ending one's other sessions ends none here (each has one).
    ("account", "", SELF),
    (
        "account/password",
        "current_password=wrong&password=a%20new%20password&password_confirm=a%20new%20password",
        SELF,
    ),
    ("account/sessions/end", "handle=no-such-session", SELF),
    ("account/sessions/end-others", "", SELF),
    ("tenants/list", "", SUPER),
    ("tenants/get", "tenant=main", ENTER),
    ("tenants/scope", "tenant=main", ENTER),
    ("tenants/create", "id=t9&name=T9", SUPER),
    ("tenants/rename", "id=main&name=Renamed", SUPER),
    ("tenants/link-foreign-users", "id=main&link=on", SUPER),
    ("oidc/list", "", SUPER),
    (
        "oidc/add",
        "name=X&issuer=https%3A%2F%2Fidp.example.com%2F&client_id=x&client_secret=y&scopes=openid&claim=email",
        SUPER,
    ),
    ("oidc/delete", "id={provider}", SUPER),
    ("instance/sign-ins", "", SUPER),
    // The Users page opens for every member; without USERS:READ it lists nobody (`readable:
    // false`, checked below).
    ("users/list", "tenant=main", ENTER),
    ("users/get", "tenant=main&user={user}", READ),
    ("users/grant", "tenant=main&login=outsider", WRITE),
    ("users/remove", "tenant=main&user={user}", WRITE),
    (
        "users/password",
        "tenant=main&user={user}&password=a%20new%20password",
        WRITE,
    ),
    ("groups/list", "tenant=main", READ),
    ("groups/get", "tenant=main&group={group}", READ),
    ("groups/create", "tenant=main&name=New", WRITE),
    ("groups/delete", "tenant=main&group={group}", WRITE),
    (
        "groups/add-member",
        "tenant=main&group={group}&login=target",
        WRITE,
    ),
    (
        "groups/remove-member",
        "tenant=main&group={group}&user={user}",
        WRITE,
    ),
    (
        "groups/attach-role",
        "tenant=main&group={group}&role_id={admin_role}",
        WRITE,
    ),
    (
        "groups/detach-role",
        "tenant=main&group={group}&binding={group_binding}",
        WRITE,
    ),
    ("roles/list", "tenant=main", READ),
    ("roles/get", "tenant=main&role={role}", READ),
    (
        "roles/create",
        "tenant=main&name=Mine&perm%5B%5D=USERS%3AREAD",
        WRITE,
    ),
    (
        "roles/update",
        "tenant=main&role={role}&name=Custom&perm%5B%5D=USERS%3ADELETE",
        WRITE,
    ),
    ("roles/delete", "tenant=main&role={role}", WRITE),
    ("bindings/list", "tenant=main", READ),
    (
        "bindings/create",
        "tenant=main&role_id={admin_role}&subject=user%3A{user}",
        WRITE,
    ),
    ("bindings/delete", "tenant=main&binding={binding}", WRITE),
    ("service-accounts/list", "tenant=main", READ),
    ("service-accounts/get", "tenant=main&account={account}", READ),
    ("service-accounts/create", "tenant=main&name=bot2", WRITE),
    ("service-accounts/delete", "tenant=main&account={account}", WRITE),
    (
        "service-accounts/tokens/create",
        "tenant=main&account={account}&token_name=x&expires_days=",
        WRITE,
    ),
    (
        "service-accounts/tokens/revoke",
        "tenant=main&account={account}&token={token}",
        WRITE,
    ),
    ("scim/list", "tenant=main", READ),
    ("scim/get", "tenant=main&id={integration}&failed=false", READ),
    // Reveals a just-made Secret Token from its one-time cookie (sent with every call below; a
    // forged one reveals nothing, `null`, to those who may read integrations).
    ("scim/reveal", "tenant=main&id={integration}", READ),
    (
        "scim/create",
        "tenant=main&name=Evil&description=&provisioning_type=scim2",
        WRITE,
    ),
    (
        "scim/enable",
        "tenant=main&id={integration}&enabled=false",
        WRITE,
    ),
    ("scim/rotate", "tenant=main&id={integration}", WRITE),
    ("scim/delete", "tenant=main&id={integration}", WRITE),
    ("audit/list", "tenant=main", READ),
];

/// The endpoints of every `#[server]` function in `src/api/*.rs`.
fn declared_endpoints() -> BTreeSet<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/api");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("src/api") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, _) in text.match_indices("#[server(") {
            let attr = &text[i..i + text[i..].find(')').unwrap()];
            if attr.contains("default") && !attr.contains("endpoint") {
                continue; // an argument's #[server(default)]
            }
            let start = attr
                .find("endpoint = \"")
                .unwrap_or_else(|| panic!("{path:?}: a #[server] without an endpoint: {attr}"))
                + "endpoint = \"".len();
            let end = attr[start..].find('"').unwrap() + start;
            out.insert(attr[start..end].to_string());
        }
    }
    out
}

/// One text value from the database.
async fn text(app: &TestApp, sql: &str, args: &[&str]) -> String {
    use sqlx::Row;
    let mut conn = app.db.acquire().await.unwrap();
    let mut q = sqlx::query(sql);
    for a in args {
        q = q.bind(*a);
    }
    q.fetch_one(&mut *conn)
        .await
        .expect("query")
        .try_get::<String, _>(0)
        .expect("text")
}

#[test]
fn every_server_function_has_a_row() {
    let declared = declared_endpoints();
    assert!(declared.len() >= 40, "found only {declared:?}");
    let rows: BTreeSet<String> = SERVER_FNS.iter().map(|(e, _, _)| e.to_string()).collect();
    let missing: Vec<_> = declared.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "server functions without a row in SERVER_FNS: {missing:?}"
    );
    let stale: Vec<_> = rows.difference(&declared).collect();
    assert!(stale.is_empty(), "rows for no server function: {stale:?}");
}

#[tokio::test]
async fn every_server_function_refuses_who_it_must() {
    let (app, root) = TestApp::with_admin().await;
    app.create_tenant("t2").await;
    let tina = app.plain_user("tina", "tina password", Some("t2")).await;
    app.bind_managed_role("t2", "Admin", &tina).await;
    app.plain_user("outsider", "outsider password", None).await;
    let target = app
        .plain_user("target", "target password", Some("main"))
        .await;

    // What the rows act on, in main.
    let group = roster::iam::groups::create(&app.db, &app.operator(), "main", "G")
        .await
        .unwrap()
        .id;
    let (role, admin_role, binding, group_binding) = {
        let mut conn = app.db.acquire().await.unwrap();
        let role = roster::iam::permissions::create_custom_role(
            &mut conn,
            "main",
            "Custom",
            &[(Resource::Users, Action::Read)],
            app.now(),
        )
        .await
        .unwrap()
        .id;
        let admin_role = roster::db::iam::find_managed_role(&mut conn, "main", "Admin")
            .await
            .unwrap()
            .unwrap()
            .id;
        let binding = roster::db::iam::insert_binding(&mut conn, "main", &role, "user", &target, 1)
            .await
            .unwrap()
            .unwrap();
        let group_binding =
            roster::db::iam::insert_binding(&mut conn, "main", &role, "group", &group, 1)
                .await
                .unwrap()
                .unwrap();
        (role, admin_role, binding, group_binding)
    };
    let account =
        roster::iam::service_accounts::create(&app.db, &app.operator(), "main", "bot", "")
            .await
            .unwrap()
            .id;
    let (_, token) = roster::iam::service_accounts::create_token(
        &app.db,
        &app.operator(),
        "main",
        &account,
        "t",
        "",
    )
    .await
    .unwrap();
    let integration = app.integration("main").await.id;
    let provider = roster::auth::oidc::add_provider(
        &app.db,
        &app.clock,
        &app.state.settings,
        roster::auth::oidc::NewProvider {
            name: "IdP".into(),
            issuer: "https://idp.example.com/".into(),
            client_id: "x".into(),
            client_secret: roster::secret::Secret::new("y"),
            scopes: None,
            user_claim: roster::auth::oidc::UserClaim::Email,
            create_users: false,
        },
    )
    .await
    .unwrap()
    .id;
    let ids = [
        ("{user}", target.clone()),
        ("{group}", group),
        ("{role}", role),
        ("{admin_role}", admin_role),
        ("{binding}", binding),
        ("{group_binding}", group_binding),
        ("{account}", account),
        ("{token}", token.id),
        ("{integration}", integration),
        ("{provider}", provider),
    ];

    let (_, member) = app.member("member", None).await;
    let (_, viewer) = app.member("viewer", Some("Viewer")).await;
    let tina = app.sign_in("tina", "tina password").await;
    let cookies: [Option<&str>; 4] = [None, Some(&member), Some(&viewer), Some(&tina)];

    let before = snapshot(&app).await;
    let mut rows: Vec<_> = SERVER_FNS.iter().collect();
    rows.sort_by_key(|(e, _, _)| *e == "auth/logout");
    let mut wrong = Vec::new();
    for (endpoint, form, expect) in rows {
        let mut body = form.to_string();
        for (k, v) in &ids {
            body = body.replace(k, v);
        }
        for (i, cookie) in cookies.iter().enumerate() {
            let mut req = Request::post(format!("/api/{endpoint}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json");
            let reveal = if *endpoint == "scim/reveal" {
                "roster_scim_reveal=forged"
            } else {
                ""
            };
            let cookie = [cookie.unwrap_or(""), reveal]
                .into_iter()
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            if !cookie.is_empty() {
                req = req.header(header::COOKIE, cookie);
            }
            let res = app.send(req.body(Body::from(body.clone())).unwrap()).await;
            if *endpoint == "users/list" && i == 1 {
                assert!(
                    res.body.contains(r#""readable":false"#) && res.body.contains(r#""users":[]"#),
                    "a member without USERS:READ sees no users: {}",
                    res.body
                );
            }
            if res.status.as_u16() != expect[i] {
                wrong.push(format!(
                    "{endpoint} as {}: {} (expected {}): {}",
                    CALLERS[i],
                    res.status.as_u16(),
                    expect[i],
                    res.body.chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // No refused call changed anything (the allowed ones only read, or signed out).
    assert_eq!(snapshot(&app).await, before);
    let _ = root;
}

/// Row counts of what the server functions could change.
async fn snapshot(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "tenants",
        "users",
        "tenant_access",
        "groups",
        "group_members",
        "roles",
        "role_permissions",
        "bindings",
        "service_accounts",
        "api_tokens",
        "scim_integrations",
        "oidc_providers",
    ] {
        out.push(
            app.count(&format!("SELECT COUNT(*) FROM {table}"), &[])
                .await,
        );
    }
    out.push(
        app.count(
            "SELECT COUNT(*) FROM tenants WHERE name = 'Renamed' OR link_foreign_users = 1",
            &[],
        )
        .await,
    );
    out.push(
        app.count(
            "SELECT COUNT(*) FROM users WHERE password_hash IS NULL",
            &[],
        )
        .await,
    );
    out
}

/// SCIM: the resource types and operations; every pair is a row.
const KINDS: [&str; 2] = ["Users", "Groups"];
const OPS: [&str; 7] = [
    "list", "search", "create", "get", "replace", "patch", "delete",
];
/// The callers of SCIM routes and their statuses: no token, another integration's token, a
/// disabled integration's token, a token whose custom role lacks the permission.
const SCIM_CALLERS: [(&str, u16); 4] = [
    ("no token", 401),
    ("another integration's token", 401),
    ("a disabled integration's token", 401),
    ("a role lacking the permission", 403),
];

fn scim_request(
    kind: &str,
    op: &str,
    id: &str,
) -> (&'static str, String, Option<serde_json::Value>) {
    let resource = if kind == "Users" {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "mallory"})
    } else {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Evil"})
    };
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "externalId", "value": "x"}]});
    match op {
        "list" => ("GET", format!("/{kind}"), None),
        "search" => (
            "POST",
            format!("/{kind}/.search"),
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})),
        ),
        "create" => ("POST", format!("/{kind}"), Some(resource)),
        "get" => ("GET", format!("/{kind}/{id}"), None),
        "replace" => ("PUT", format!("/{kind}/{id}"), Some(resource)),
        "patch" => ("PATCH", format!("/{kind}/{id}"), Some(patch)),
        _ => ("DELETE", format!("/{kind}/{id}"), None),
    }
}

#[tokio::test]
async fn every_scim_route_refuses_who_it_must() {
    let app = TestApp::spawn().await;
    let target = app.integration("main").await;
    let other = app.integration("main").await;
    let disabled = app.integration("main").await;
    let weak = app.integration("main").await;
    let user = app
        .scim(
            &target,
            "POST",
            "/Users",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u"}),
            ),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let group = app
        .scim(
            &target,
            "POST",
            "/Groups",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G"})),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    roster::iam::integrations::set_enabled(&app.db, &app.operator(), "main", &disabled.id, false)
        .await
        .unwrap();
    // The weak integration's service account holds only a custom role without USERS or GROUPS.
    {
        let sa = text(
            &app,
            "SELECT service_account_id FROM scim_integrations WHERE id = $1",
            &[&weak.id],
        )
        .await;
        let mut conn = app.db.acquire().await.unwrap();
        sqlx::query("DELETE FROM bindings WHERE subject_id = $1")
            .bind(&sa)
            .execute(&mut *conn)
            .await
            .unwrap();
        let role = roster::iam::permissions::create_custom_role(
            &mut conn,
            "main",
            "AuditOnly",
            &[(Resource::Auditlog, Action::Read)],
            app.now(),
        )
        .await
        .unwrap();
        roster::db::iam::insert_binding(&mut conn, "main", &role.id, "service_account", &sa, 1)
            .await
            .unwrap();
    }
    // Who calls whose URL with which token.
    let calls: [(&Integration, Option<&str>); 4] = [
        (&target, None),
        (&target, Some(&other.token)),
        (&disabled, Some(&disabled.token)),
        (&weak, Some(&weak.token)),
    ];
    let before = (
        app.count("SELECT COUNT(*) FROM users", &[]).await,
        app.count("SELECT COUNT(*) FROM groups", &[]).await,
        app.count("SELECT COUNT(*) FROM tenant_access", &[]).await,
        app.count(
            "SELECT COUNT(*) FROM tenant_access_sources WHERE external_id = 'x'",
            &[],
        )
        .await,
    );
    let mut wrong = Vec::new();
    let mut rows = 0;
    for kind in KINDS {
        let id = if kind == "Users" { &user } else { &group };
        for op in OPS {
            rows += 1;
            let (method, rest, body) = scim_request(kind, op, id);
            for ((integ, token), (caller, expect)) in calls.iter().zip(SCIM_CALLERS) {
                let res = app
                    .scim_raw(method, &integ.path(&rest), *token, body.clone(), &[])
                    .await;
                if res.status.as_u16() != expect {
                    wrong.push(format!(
                        "{method} {rest} with {caller}: {} (expected {expect}): {}",
                        res.status.as_u16(),
                        res.body.chars().take(160).collect::<String>()
                    ));
                }
            }
            // The control: the integration's own token gets past authorization.
            if method == "GET" {
                let res = app.scim(&target, method, &rest, None).await;
                assert_eq!(res.status, 200, "{method} {rest}: {}", res.body);
            }
        }
    }
    // The cross-type search (`POST /.search`) too.
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    for ((integ, token), (caller, expect)) in calls.iter().zip(SCIM_CALLERS) {
        let res = app
            .scim_raw(
                "POST",
                &integ.path("/.search"),
                *token,
                Some(search.clone()),
                &[],
            )
            .await;
        if res.status.as_u16() != expect {
            wrong.push(format!(
                "POST /.search with {caller}: {} (expected {expect}): {}",
                res.status.as_u16(),
                res.body.chars().take(160).collect::<String>()
            ));
        }
    }
    assert_eq!(rows, KINDS.len() * OPS.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let after = (
        app.count("SELECT COUNT(*) FROM users", &[]).await,
        app.count("SELECT COUNT(*) FROM groups", &[]).await,
        app.count("SELECT COUNT(*) FROM tenant_access", &[]).await,
        app.count(
            "SELECT COUNT(*) FROM tenant_access_sources WHERE external_id = 'x'",
            &[],
        )
        .await,
    );
    assert_eq!(before, after, "no refused request changed anything");
}
