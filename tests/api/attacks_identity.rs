//! The identity findings of the security review (shared/docs/security-review.md, issue 10), one
//! test each: the attacker's real requests, the refusal, and proof that nothing changed. The
//! rules they check live in `src/iam/reach.rs`.

use roster::auth::oidc::UserClaim;
use roster::iam::bindings::SubjectKind;
use roster::iam::permissions::{Action, Permission, Resource};
use serde_json::{json, Value};

use crate::helpers::{query_value, Integration, TestApp, ADMIN, ADMIN_PASSWORD};
use crate::oidc;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn user(username: &str, extra: Value) -> Value {
    let mut v = json!({ "schemas": [USER], "userName": username });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in e {
            o.insert(k.clone(), x.clone());
        }
    }
    v
}

fn replace(path: &str, value: Value) -> Value {
    json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": path, "value": value }] })
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

async fn user_id(app: &TestApp, username: &str) -> String {
    text(
        app,
        "SELECT id FROM users WHERE username_lower = $1",
        &[&username.to_lowercase()],
    )
    .await
}

async fn sessions_of(app: &TestApp, user_id: &str) -> i64 {
    app.count(
        "SELECT COUNT(*) FROM sessions WHERE user_id = $1",
        &[user_id],
    )
    .await
}

async fn access(app: &TestApp, tenant: &str, user_id: &str) -> i64 {
    app.count(
        "SELECT COUNT(*) FROM tenant_access WHERE tenant_id = $1 AND user_id = $2",
        &[tenant, user_id],
    )
    .await
}

/// A user of `main` whose only role is a custom one with `perms`: (id, role id, session).
async fn custom_member(
    app: &TestApp,
    username: &str,
    perms: &[Permission],
) -> (String, String, String) {
    let id = app
        .plain_user(username, "member password", Some("main"))
        .await;
    let mut conn = app.db.acquire().await.unwrap();
    let role = roster::iam::permissions::create_custom_role(
        &mut conn,
        "main",
        &format!("{username}-role"),
        perms,
        app.now(),
    )
    .await
    .unwrap();
    roster::iam::bindings::create(
        &mut conn,
        &app.operator(),
        "main",
        &role.id,
        SubjectKind::User,
        &id,
    )
    .await
    .unwrap();
    drop(conn);
    let cookie = app.sign_in(username, "member password").await;
    (id, role.id, cookie)
}

/// Whether signing in with this password works (without panicking when it does not).
async fn password_works(app: &TestApp, username: &str, password: &str) -> bool {
    app.post_form(
        "/api/auth/login",
        &[("username", username), ("password", password)],
        None,
    )
    .await
    .session_cookie()
    .is_some()
}

async fn allow_linking(app: &TestApp, superadmin: &str, tenant: &str) {
    let res = app
        .post_form(
            "/api/tenants/link-foreign-users",
            &[("id", tenant), ("link", "on")],
            Some(superadmin),
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    assert!(
        query_value(&res.location().unwrap(), "notice").is_some(),
        "{:?}",
        res.location()
    );
}

async fn t2_integration(app: &TestApp) -> Integration {
    app.create_tenant("t2").await;
    app.integration("t2").await
}

/// C1: an integration plants an `externalId` on the superadmin by POSTing their userName, then
/// signs its own provider account in as them through `sub` matching. Refused at both steps, even
/// when the provider trusts the attacker's integration; users with a password or the superadmin
/// flag are never linked automatically, and externalIds of integrations the provider is not
/// tied to match nobody.
#[tokio::test]
async fn c1_an_integration_cannot_plant_an_external_id_to_sign_in_as_the_superadmin() {
    let app = oidc::app().await; // superadmin `root`, with a password
    let root = user_id(&app, "root").await;
    let attacker = t2_integration(&app).await;
    // The worst case: the provider is even tied to the attacker's integration.
    let provider = oidc::sub_provider_trusting(&app, &attacker.id).await;

    for name in ["root", "ROOT"] {
        let res = app
            .scim(
                &attacker,
                "POST",
                "/Users",
                Some(user(name, json!({"externalId": "00uMALLORY"}))),
            )
            .await;
        assert_eq!(res.status, 409, "{}", res.body);
        let body = res.json();
        assert_eq!(body["scimType"], "uniqueness");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("reserved"), "{detail}");
        assert!(!detail.contains("superadmin"), "{detail}");
    }
    assert_eq!(access(&app, "t2", &root).await, 0);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access_sources WHERE external_id = $1",
            &["00uMALLORY"]
        )
        .await,
        0
    );

    let res = oidc::sign_in_via(&app, &provider, "00uMALLORY").await;
    assert!(oidc::cookie(&res, "roster_session").is_none());
    assert_eq!(sessions_of(&app, &root).await, 0);

    // Even an externalId that reached the superadmin some other way (here: written straight
    // into the database) does not link them.
    {
        let mut conn = app.db.acquire().await.unwrap();
        roster::db::access::grant(&mut conn, "t2", &root, &attacker.id, Some("00uROOT"), 1)
            .await
            .unwrap();
    }
    let res = oidc::sign_in_via(&app, &provider, "00uROOT").await;
    oidc::assert_refused(&res, "cannot be linked");
    assert_eq!(sessions_of(&app, &root).await, 0);

    // An integration the provider is not tied to plants nothing either.
    app.create_tenant("t3").await;
    let other = app.integration("t3").await;
    let res = app
        .scim(
            &other,
            "POST",
            "/Users",
            Some(user("dave", json!({"externalId": "00uDAVE"}))),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let res = oidc::sign_in_via(&app, &provider, "00uDAVE").await;
    assert!(oidc::cookie(&res, "roster_session").is_none());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM oidc_identities", &[]).await,
        0
    );
}

/// H1: the integration that created bob resets his password (and userName, emails) after
/// another tenant made him its Admin. Refused; his password, name and emails stay; re-linking
/// after its own DELETE does not get around it.
#[tokio::test]
async fn h1_the_creating_integration_cannot_take_over_a_user_other_tenants_rely_on() {
    let (app, root) = TestApp::with_admin().await;
    let t2 = t2_integration(&app).await;
    let res = app
        .scim(
            &t2,
            "POST",
            "/Users",
            Some(user(
                "bob",
                json!({"password": "Initial#1x", "emails": [{"value": "bob@t2.test", "primary": true}]}),
            )),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let bob = res.json()["id"].as_str().unwrap().to_string();
    // main takes bob in (a superadmin may) and makes him its Admin.
    let res = app
        .post_form(
            "/api/users/grant",
            &[("tenant", "main"), ("login", "bob")],
            Some(&root),
        )
        .await;
    assert!(
        query_value(&res.location().unwrap(), "notice").is_some(),
        "{:?}",
        res.location()
    );
    app.bind_managed_role("main", "Admin", &bob).await;
    let _bob_session = app.sign_in("bob", "Initial#1x").await;

    let attacks = [
        ("PATCH", replace("password", json!("Attacker#2x"))),
        ("PATCH", replace("userName", json!("bob-owned"))),
        (
            "PATCH",
            replace(
                "emails",
                json!([{"value": "attacker@evil.test", "primary": true}]),
            ),
        ),
        (
            "PUT",
            user(
                "bob",
                json!({"emails": [{"value": "attacker@evil.test", "primary": true}]}),
            ),
        ),
    ];
    for (method, body) in attacks {
        let res = app
            .scim(&t2, method, &format!("/Users/{bob}"), Some(body))
            .await;
        assert_eq!(res.status, 403, "{method}: {}", res.body);
        assert!(res.body.contains("other tenants"), "{}", res.body);
    }
    assert!(!password_works(&app, "bob", "Attacker#2x").await);
    assert!(password_works(&app, "bob", "Initial#1x").await);
    assert_eq!(
        text(&app, "SELECT username FROM users WHERE id = $1", &[&bob]).await,
        "bob"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM user_emails WHERE value_lower = $1",
            &["attacker@evil.test"]
        )
        .await,
        0
    );
    assert!(sessions_of(&app, &bob).await >= 1, "bob stays signed in");

    // DELETE, then POST again with a password: bob is a user of another tenant now.
    let res = app
        .scim(&t2, "DELETE", &format!("/Users/{bob}"), None)
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    let again = user("bob", json!({"password": "Attacker#2x"}));
    let res = app.scim(&t2, "POST", "/Users", Some(again.clone())).await;
    assert_eq!(res.status, 409, "{}", res.body);
    // Even where t2 may link users of other tenants, the password is not its to set.
    allow_linking(&app, &root, "t2").await;
    let res = app.scim(&t2, "POST", "/Users", Some(again)).await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(
        access(&app, "t2", &bob).await,
        0,
        "the refused POST left nothing"
    );
    assert!(!password_works(&app, "bob", "Attacker#2x").await);
    assert!(password_works(&app, "bob", "Initial#1x").await);
}

/// H1 (the other half): a password set over SCIM, where the rule allows it, ends the user's
/// sessions.
#[tokio::test]
async fn h1_a_password_set_by_scim_ends_the_users_sessions() {
    let app = TestApp::spawn().await;
    let t2 = t2_integration(&app).await;
    let res = app
        .scim(
            &t2,
            "POST",
            "/Users",
            Some(user("solo", json!({"password": "First#pass1"}))),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let solo = res.json()["id"].as_str().unwrap().to_string();
    app.sign_in("solo", "First#pass1").await;
    assert_eq!(sessions_of(&app, &solo).await, 1);
    let res = app
        .scim(
            &t2,
            "PATCH",
            &format!("/Users/{solo}"),
            Some(replace("password", json!("Second#pass2"))),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(sessions_of(&app, &solo).await, 0);
    assert!(password_works(&app, "solo", "Second#pass2").await);
}

/// H2: any tenant's integration adopts a user of another tenant by userName, reads their
/// profile and ends all their sessions with `active:false`. Refused unless a superadmin lets
/// the tenant link users of other tenants; then the profile stays hidden and a suspension there
/// ends no session elsewhere.
#[tokio::test]
async fn h2_linking_a_user_of_another_tenant_is_a_decision_and_suspends_only_there() {
    let (app, root) = TestApp::with_admin().await;
    let t2 = t2_integration(&app).await;
    let carol = app
        .plain_user("carol", "carol password", Some("main"))
        .await;
    let carol_session = app.sign_in("carol", "carol password").await;

    let res = app
        .scim(
            &t2,
            "POST",
            "/Users",
            Some(user("carol", json!({"active": false}))),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.body);
    let body = res.json();
    assert_eq!(body["scimType"], "uniqueness");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("another tenant"), "{detail}");
    assert!(detail.contains("link-foreign-users"), "{detail}");
    assert!(!res.body.contains("carol@local.test"));
    assert_eq!(access(&app, "t2", &carol).await, 0);
    assert_eq!(sessions_of(&app, &carol).await, 1);

    // Only a superadmin may allow it.
    let (_, tina) = {
        let id = app.plain_user("tina", "tina password", Some("t2")).await;
        app.bind_managed_role("t2", "Admin", &id).await;
        (id, app.sign_in("tina", "tina password").await)
    };
    let res = app
        .post_form(
            "/api/tenants/link-foreign-users",
            &[("id", "t2"), ("link", "on")],
            Some(&tina),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(
        app.count(
            "SELECT link_foreign_users FROM tenants WHERE id = $1",
            &["t2"]
        )
        .await,
        0
    );
    allow_linking(&app, &root, "t2").await;
    let page = app.get("/instance/tenants", Some(&root)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(r#"id="link-t2" name="link" type="checkbox" value="on" checked"#),
        "Instance → Tenants shows the setting"
    );

    let res = app
        .scim(
            &t2,
            "POST",
            "/Users",
            Some(user("carol", json!({"active": false}))),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert!(!res.body.contains("carol@local.test"), "{}", res.body);
    let emails = res.json()["emails"].clone();
    assert!(
        emails.is_null() || emails == json!([]),
        "no emails of another owner: {emails}"
    );
    let res = app.scim(&t2, "GET", &format!("/Users/{carol}"), None).await;
    assert!(!res.body.contains("carol@local.test"), "{}", res.body);

    // Suspended in t2 at once; her session in main lives on, also through a PATCH loop.
    for active in [true, false, true, false] {
        let res = app
            .scim(
                &t2,
                "PATCH",
                &format!("/Users/{carol}"),
                Some(replace("active", json!(active))),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
    }
    assert_eq!(sessions_of(&app, &carol).await, 1);
    let home = app.get("/", Some(&carol_session)).await;
    assert!(
        !home.location().unwrap_or_default().starts_with("/login"),
        "still signed in: {:?}",
        home.location()
    );
    assert_eq!(
        app.count(
            "SELECT active FROM tenant_access WHERE tenant_id = 't2' AND user_id = $1",
            &[&carol]
        )
        .await,
        0,
        "suspended in t2"
    );
}

/// H2 / M7 for the superadmin: an integration cannot link, list or sign out a superadmin, not
/// even one that was granted access to its tenant by hand.
#[tokio::test]
async fn h2_an_integration_cannot_reach_the_superadmin() {
    let (app, root) = TestApp::with_admin().await;
    let admin = user_id(&app, ADMIN).await;
    let t2 = t2_integration(&app).await;
    let sessions = sessions_of(&app, &admin).await;
    let res = app
        .scim(
            &t2,
            "POST",
            "/Users",
            Some(user("Admin", json!({"active": false}))),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert!(res.body.contains("reserved"), "{}", res.body);
    assert_eq!(access(&app, "t2", &admin).await, 0);

    // The superadmin in t2 by hand: still invisible and untouchable for the integration.
    let res = app
        .post_form(
            "/api/users/grant",
            &[("tenant", "t2"), ("login", ADMIN)],
            Some(&root),
        )
        .await;
    assert!(query_value(&res.location().unwrap(), "notice").is_some());
    let res = app
        .scim(
            &t2,
            "GET",
            "/Users?filter=userName%20eq%20%22admin%22",
            None,
        )
        .await;
    assert_eq!(res.json()["totalResults"], 0, "{}", res.body);
    for (method, body) in [
        ("PATCH", Some(replace("active", json!(false)))),
        ("PUT", Some(user(ADMIN, json!({"active": false})))),
        ("DELETE", None),
    ] {
        let res = app
            .scim(&t2, method, &format!("/Users/{admin}"), body)
            .await;
        assert_eq!(res.status, 404, "{method}: {}", res.body);
    }
    // Nor put them in its groups.
    let res = app
        .scim(
            &t2,
            "POST",
            "/Groups",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                        "displayName": "Mine", "members": [{"value": admin}]}),
            ),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM group_members WHERE user_id = $1",
            &[&admin]
        )
        .await,
        0
    );
    assert_eq!(sessions_of(&app, &admin).await, sessions);
    assert_eq!(
        app.count(
            "SELECT active FROM tenant_access WHERE tenant_id = 't2' AND user_id = $1",
            &[&admin]
        )
        .await,
        1
    );
    assert!(password_works(&app, ADMIN, ADMIN_PASSWORD).await);
}

/// H3: SERVICE_ACCOUNTS:UPDATE mints (or revokes) a token of an integration's service account.
#[tokio::test]
async fn h3_service_account_rights_do_not_mint_integration_tokens() {
    let app = TestApp::spawn().await;
    let int = app.integration("main").await;
    let account = text(
        &app,
        "SELECT service_account_id FROM scim_integrations WHERE id = $1",
        &[&int.id],
    )
    .await;
    let token_id = text(
        &app,
        "SELECT id FROM api_tokens WHERE service_account_id = $1",
        &[&account],
    )
    .await;
    let (_, _, sam) = custom_member(
        &app,
        "sam",
        &[
            (Resource::ServiceAccounts, Action::Read),
            (Resource::ServiceAccounts, Action::Update),
        ],
    )
    .await;
    let res = app
        .post_form(
            "/api/service-accounts/tokens/create",
            &[
                ("tenant", "main"),
                ("account", &account),
                ("token_name", "x"),
                ("expires_days", ""),
            ],
            Some(&sam),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(
        !res.set_cookie_header().contains("token"),
        "no token handed out"
    );
    let res = app
        .post_form(
            "/api/service-accounts/tokens/revoke",
            &[
                ("tenant", "main"),
                ("account", &account),
                ("token", &token_id),
            ],
            Some(&sam),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM api_tokens WHERE service_account_id = $1",
            &[&account]
        )
        .await,
        1
    );
    assert_eq!(app.scim(&int, "GET", "/Users", None).await.status, 200);
}

/// H3: an integration's token reaches a hand-made group bound to Admin (adding its own user to
/// it), and suspends or removes users it did not provision. Refused; nothing changes.
#[tokio::test]
async fn h3_an_integration_changes_only_its_own_groups_and_users() {
    let app = TestApp::spawn().await;
    let int = app.integration("main").await;
    let admins = roster::iam::groups::create(&app.db, &app.operator(), "main", "Admins")
        .await
        .unwrap();
    let admin_role = text(
        &app,
        "SELECT id FROM roles WHERE tenant_id = 'main' AND name = 'Admin'",
        &[],
    )
    .await;
    {
        let mut conn = app.db.acquire().await.unwrap();
        roster::db::iam::insert_binding(&mut conn, "main", &admin_role, "group", &admins.id, 1)
            .await
            .unwrap();
    }
    let res = app
        .scim(
            &int,
            "POST",
            "/Users",
            Some(user("u2", json!({"password": "P@ssw0rd!1"}))),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let u2 = res.json()["id"].as_str().unwrap().to_string();

    let group = format!("/Groups/{}", admins.id);
    let add = json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": u2}]}]});
    let res = app.scim(&int, "PATCH", &group, Some(add)).await;
    assert_eq!(res.status, 403, "{}", res.body);
    let put = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Admins", "members": [{"value": u2}]});
    let res = app.scim(&int, "PUT", &group, Some(put)).await;
    assert_eq!(res.status, 403, "{}", res.body);
    let res = app.scim(&int, "DELETE", &group, None).await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1",
            &[&admins.id]
        )
        .await,
        0
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM bindings WHERE subject_id = $1",
            &[&admins.id]
        )
        .await,
        1
    );

    // A user granted access by hand (the tenant's own admin) is out of the integration's reach.
    let (boss, _) = app.member("boss", Some("Admin")).await;
    for (method, body) in [
        ("PATCH", Some(replace("active", json!(false)))),
        ("PUT", Some(user("boss", json!({"active": false})))),
        ("DELETE", None),
    ] {
        let res = app
            .scim(&int, method, &format!("/Users/{boss}"), body)
            .await;
        assert_eq!(res.status, 403, "{method}: {}", res.body);
    }
    assert_eq!(
        app.count(
            "SELECT active FROM tenant_access WHERE tenant_id = 'main' AND user_id = $1",
            &[&boss]
        )
        .await,
        1
    );
    assert_eq!(sessions_of(&app, &boss).await, 1);
}

/// M5: first sign-in matching on claims the person or another tenant controls: an email the
/// provider does not say it verified, a preferred_username equal to the superadmin's or to a
/// user with a password.
#[tokio::test]
async fn m5_sign_in_matching_uses_only_verified_emails_and_never_links_password_users() {
    let app = oidc::app().await; // superadmin `root`
    oidc::create_user(&app, "erin", "erin@example.com").await;
    let by_email =
        oidc::add_provider(&app, &oidc::provider().issuer, UserClaim::Email, false).await;
    // No email_verified claim at all (Entra's "nOAuth"): not matched.
    let res = oidc::sign_in_via(&app, &by_email, "erin;email_verified=").await;
    oidc::assert_refused(&res, "not verified");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM oidc_identities", &[]).await,
        0
    );

    let pam = app.plain_user("pam", "pam password", Some("main")).await;
    let by_name = {
        // A second provider on another issuer name is not available; delete and re-add.
        roster::auth::oidc::delete_provider(&app.db, &by_email)
            .await
            .unwrap();
        oidc::add_provider(
            &app,
            &oidc::provider().issuer,
            UserClaim::PreferredUsername,
            false,
        )
        .await
    };
    for login in ["root", "pam"] {
        let res = oidc::sign_in_via(&app, &by_name, login).await;
        oidc::assert_refused(&res, "cannot be linked");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM oidc_identities", &[]).await,
        0
    );
    assert_eq!(sessions_of(&app, &pam).await, 0);

    // The rule's other side: a verified email of a user without a password still matches.
    let by_email = {
        roster::auth::oidc::delete_provider(&app.db, &by_name)
            .await
            .unwrap();
        oidc::add_provider(&app, &oidc::provider().issuer, UserClaim::Email, false).await
    };
    let res = oidc::sign_in_via(&app, &by_email, "erin").await;
    assert!(
        oidc::cookie(&res, "roster_session").is_some(),
        "{:?}",
        res.location()
    );
}

/// M7: a tenant admin pulls any global user (the superadmin included) into their tenant by
/// username or email, and learns from the answer who exists. Refused, with one answer for
/// "nobody" and "not yours to take".
#[tokio::test]
async fn m7_a_tenant_admin_cannot_pull_in_a_superadmin_or_a_user_of_another_tenant() {
    let (app, _root) = TestApp::with_admin().await;
    app.create_tenant("t2").await;
    let tina = app.plain_user("tina", "tina password", Some("t2")).await;
    app.bind_managed_role("t2", "Admin", &tina).await;
    let tina = app.sign_in("tina", "tina password").await;
    app.plain_user("carol", "carol password", Some("main"))
        .await;
    let mut answers = Vec::new();
    for login in [ADMIN, "admin@example.com", "carol", "nobody"] {
        let res = app
            .post_form(
                "/api/users/grant",
                &[("tenant", "t2"), ("login", login)],
                Some(&tina),
            )
            .await;
        assert_eq!(res.status, 302, "{}", res.body);
        let error = query_value(&res.location().unwrap(), "error")
            .unwrap_or_else(|| panic!("{login}: {:?}", res.location()));
        answers.push(error.replace(&format!("`{login}`"), "`…`"));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "one answer for all: {answers:#?}"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE tenant_id = 't2'",
            &[]
        )
        .await,
        1,
        "only tina"
    );
}

/// M8: BINDINGS:CREATE binds Admin to oneself; ROLES:UPDATE adds everything to one's own role;
/// GROUPS:UPDATE joins a group bound to Admin. Each refused unless the actor holds what it
/// grants.
#[tokio::test]
async fn m8_binding_role_and_group_rights_do_not_become_admin() {
    let (app, root) = TestApp::with_admin().await;
    let admin_role = text(
        &app,
        "SELECT id FROM roles WHERE tenant_id = 'main' AND name = 'Admin'",
        &[],
    )
    .await;

    let (bea, _, bea_cookie) = custom_member(
        &app,
        "bea",
        &[
            (Resource::Bindings, Action::Create),
            (Resource::Bindings, Action::Read),
            (Resource::Roles, Action::Read),
        ],
    )
    .await;
    let subject = format!("user:{bea}");
    let res = app
        .post_form(
            "/api/bindings/create",
            &[
                ("tenant", "main"),
                ("role_id", &admin_role),
                ("subject", &subject),
            ],
            Some(&bea_cookie),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM bindings WHERE subject_id = $1",
            &[&bea]
        )
        .await,
        1
    );

    let (_, rex_role, rex) = custom_member(
        &app,
        "rex",
        &[
            (Resource::Roles, Action::Read),
            (Resource::Roles, Action::Update),
        ],
    )
    .await;
    let res = app
        .post_form(
            "/api/roles/update",
            &[
                ("tenant", "main"),
                ("role", &rex_role),
                ("name", "rex-role"),
                ("perm%5B%5D", "ROLES:READ"),
                ("perm%5B%5D", "ROLES:UPDATE"),
                ("perm%5B%5D", "BINDINGS:CREATE"),
            ],
            Some(&rex),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM role_permissions WHERE role_id = $1",
            &[&rex_role]
        )
        .await,
        2
    );
    // What rex holds he may keep saving.
    let res = app
        .post_form(
            "/api/roles/update",
            &[
                ("tenant", "main"),
                ("role", &rex_role),
                ("name", "rex-role"),
                ("description", "renamed"),
                ("perm%5B%5D", "ROLES:READ"),
                ("perm%5B%5D", "ROLES:UPDATE"),
            ],
            Some(&rex),
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);

    let (gus, _, gus_cookie) = custom_member(
        &app,
        "gus",
        &[
            (Resource::Groups, Action::Read),
            (Resource::Groups, Action::Update),
        ],
    )
    .await;
    let admins = roster::iam::groups::create(&app.db, &app.operator(), "main", "Admins")
        .await
        .unwrap();
    {
        let mut conn = app.db.acquire().await.unwrap();
        roster::db::iam::insert_binding(&mut conn, "main", &admin_role, "group", &admins.id, 1)
            .await
            .unwrap();
    }
    let res = app
        .post_form(
            "/api/groups/add-member",
            &[("tenant", "main"), ("group", &admins.id), ("login", "gus")],
            Some(&gus_cookie),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM group_members WHERE user_id = $1",
            &[&gus]
        )
        .await,
        0
    );

    // The superadmin (like a tenant Admin) holds everything, so may.
    let res = app
        .post_form(
            "/api/bindings/create",
            &[
                ("tenant", "main"),
                ("role_id", &admin_role),
                ("subject", &subject),
            ],
            Some(&root),
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    assert!(query_value(&res.location().unwrap(), "notice").is_some());
}
