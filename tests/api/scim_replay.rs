//! Replays of what authentik, Okta and Entra ID send (payloads from `shared/docs/idp-clients.md`,
//! kept as fixtures in `src/scim/fixtures/`), ending in exactly the expected database state.

use serde_json::{json, Value};

use crate::helpers::{Integration, TestApp};

const AUTHENTIK: &str = include_str!("../../src/scim/fixtures/idp_authentik.json");
const OKTA: &str = include_str!("../../src/scim/fixtures/idp_okta.json");
const ENTRA: &str = include_str!("../../src/scim/fixtures/idp_entra.json");

/// A fixture payload with placeholder ids replaced by real ones.
fn payload(fixtures: &str, name: &str, replace: &[(&str, &str)]) -> Value {
    let all: Value = serde_json::from_str(fixtures).unwrap();
    let mut text = all[name].to_string();
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap()
}

async fn expect(
    app: &TestApp,
    i: &Integration,
    method: &str,
    rest: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let res = app.scim(i, method, rest, body).await;
    assert_eq!(res.status.as_u16(), status, "{method} {rest}: {}", res.body);
    if res.body.is_empty() {
        Value::Null
    } else {
        res.json()
    }
}

/// One identity provider's requests, replayed through one integration: each sends a payload
/// of the provider's fixtures, its placeholder ids swapped for real ones.
struct Replay<'a> {
    app: &'a TestApp,
    i: &'a Integration,
    fixtures: &'static str,
}

/// One request of a replay table: method, path, fixture name, `(placeholder, id)` swaps and
/// the status expected.
type Step<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, &'a str)], u16);

impl<'a> Replay<'a> {
    fn new(app: &'a TestApp, i: &'a Integration, fixtures: &'static str) -> Self {
        Replay { app, i, fixtures }
    }

    /// Sends fixture `name` and asserts the status; answers the JSON answer (`Null` if empty).
    async fn send(
        &self,
        method: &str,
        rest: &str,
        name: &str,
        ids: &[(&str, &str)],
        status: u16,
    ) -> Value {
        let body = payload(self.fixtures, name, ids);
        expect(self.app, self.i, method, rest, Some(body), status).await
    }

    /// Sends each step of a table in order, asserting each status.
    async fn run(&self, steps: &[Step<'_>]) {
        for (method, rest, name, ids, status) in steps {
            self.send(method, rest, name, ids, *status).await;
        }
    }
}

const AK_USER: &str = "7d3e7f1c-0000-4000-8000-000000000001";
const AK_JDOE_EXT: &str = "3f1b6c0e9a8d7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e";

#[tokio::test]
async fn a_full_authentik_sync_ends_in_exactly_the_expected_state() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let authentik = Replay::new(&app, &i, AUTHENTIK);
    expect(&app, &i, "GET", "/ServiceProviderConfig", None, 200).await;
    let remote = expect(&app, &i, "GET", "/Users?startIndex=1", None, 200).await;
    assert_eq!(remote["totalResults"], 0);
    assert_eq!(remote["Resources"], json!([]));

    // Users, then groups.
    let jdoe = authentik
        .send("POST", "/Users", "user_create", &[], 201)
        .await;
    let jdoe_id = jdoe["id"].as_str().unwrap().to_string();
    let ak = authentik
        .send(
            "POST",
            "/Users",
            "user_create_one_word_name_no_email",
            &[],
            201,
        )
        .await;
    let ak_id = ak["id"].as_str().unwrap().to_string();
    assert_eq!(ak["emails"], json!([]));
    assert_eq!(ak["name"]["familyName"], " ");
    let group = authentik
        .send("POST", "/Groups", "group_create", &[], 201)
        .await;
    let gid = group["id"].as_str().unwrap().to_string();
    assert_eq!(group["members"], json!([]));
    let gpath = format!("/Groups/{gid}");

    // Membership PATCHes, one op per user; both removal forms.
    for who in [&jdoe_id, &ak_id] {
        let res = authentik
            .send("PATCH", &gpath, "member_add", &[(AK_USER, who)], 204)
            .await;
        assert_eq!(res, Value::Null);
    }
    let ak = [(AK_USER, ak_id.as_str())];
    authentik
        .run(&[
            ("PATCH", &gpath, "member_remove_old", &ak, 204),
            ("PATCH", &gpath, "member_add", &ak, 204),
            ("PATCH", &gpath, "member_remove_new", &ak, 204),
            // authentik re-sends removals: a no-op.
            ("PATCH", &gpath, "member_remove_new", &ak, 204),
            // Rename (path-less replace, schemas missing), then read back.
            ("PATCH", &gpath, "group_rename", &[("group-1", &gid)], 204),
        ])
        .await;
    let g = expect(&app, &i, "GET", &gpath, None, 200).await;
    assert_eq!(g["displayName"], "authentik Superusers");
    assert_eq!(g["members"].as_array().unwrap().len(), 1);
    assert_eq!(g["members"][0]["value"], jdoe_id);

    // Deactivation: PUT of the full user.
    let put = payload(AUTHENTIK, "user_put_deactivate", &[(AK_USER, &jdoe_id)]);
    let res = expect(
        &app,
        &i,
        "PUT",
        &format!("/Users/{jdoe_id}"),
        Some(put),
        200,
    )
    .await;
    assert_eq!(res["active"], false);
    assert_eq!(res["groups"][0]["display"], "authentik Superusers");

    // Deletion of the out-of-scope user, twice (the second is 404, which authentik ignores).
    expect(&app, &i, "DELETE", &format!("/Users/{ak_id}"), None, 204).await;
    expect(&app, &i, "DELETE", &format!("/Users/{ak_id}"), None, 404).await;

    // Re-sync after authentik lost its links: 409, then adoption through an eq filter (`+` as space).
    let res = authentik
        .send("POST", "/Users", "user_create", &[], 409)
        .await;
    assert_eq!(res["scimType"], "uniqueness");
    let found = expect(
        &app,
        &i,
        "GET",
        "/Users?filter=userName+eq+%22jdoe%22",
        None,
        200,
    )
    .await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], jdoe_id);
    let mut renamed = payload(AUTHENTIK, "group_create", &[]);
    renamed["displayName"] = json!("authentik Superusers");
    expect(&app, &i, "POST", "/Groups", Some(renamed), 409).await;
    let found = expect(
        &app,
        &i,
        "GET",
        "/Groups?filter=displayName+eq+%22authentik+Superusers%22",
        None,
        200,
    )
    .await;
    assert_eq!(found["Resources"][0]["id"], gid);

    // Exactly the expected state.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users", &[]).await,
        2,
        "both global users stay"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE tenant_id = 'main'",
            &[]
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE user_id = $1 AND active = 0",
            &[&jdoe_id]
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access_sources WHERE user_id = $1 AND source = $2 AND external_id = $3",
            &[&jdoe_id, &i.id, AK_JDOE_EXT]
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE user_id = $1",
            &[&ak_id]
        )
        .await,
        0
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM groups WHERE tenant_id = 'main' AND display_name = 'authentik Superusers' \
             AND external_id = '6c1e4a1d-5b2f-4c3a-9d8e-7f6a5b4c3d2e' AND managed_by = $1",
            &[&i.id]
        )
        .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM groups", &[]).await, 1);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND user_id = $2",
            &[&gid, &jdoe_id]
        )
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM group_members", &[]).await,
        1
    );
}

#[tokio::test]
async fn an_authentik_group_without_patch_support_is_created_with_its_members() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let authentik = Replay::new(&app, &i, AUTHENTIK);
    let u = authentik
        .send("POST", "/Users", "user_create", &[], 201)
        .await;
    let uid = u["id"].as_str().unwrap();
    let g = authentik
        .send(
            "POST",
            "/Groups",
            "group_create_without_patch",
            &[(AK_USER, uid)],
            201,
        )
        .await;
    assert_eq!(g["members"][0]["value"], uid);
    // PUT with members: [] empties the group (authentik interop failure #4).
    let mut put = payload(AUTHENTIK, "group_create", &[]);
    put["members"] = json!([]);
    let g = expect(
        &app,
        &i,
        "PUT",
        &format!("/Groups/{}", g["id"].as_str().unwrap()),
        Some(put),
        200,
    )
    .await;
    assert_eq!(g["members"], json!([]));
}

#[tokio::test]
async fn an_okta_push_creates_updates_deactivates_and_manages_group_membership() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let okta = Replay::new(&app, &i, OKTA);
    let test = expect(&app, &i, "GET", "/Users?startIndex=1&count=2", None, 200).await;
    assert_eq!(test["totalResults"], 0);
    let lookup = expect(
        &app,
        &i,
        "GET",
        "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100",
        None,
        200,
    )
    .await;
    assert_eq!(lookup["totalResults"], 0);
    let user = okta.send("POST", "/Users", "user_create", &[], 201).await;
    let uid = user["id"].as_str().unwrap().to_string();
    assert_eq!(user["locale"], "en-US");
    assert_eq!(user["groups"], json!([]));
    assert!(user.get("password").is_none());
    okta.send("POST", "/Users", "user_create", &[], 409).await;
    // Update: GET, then PUT the merged resource.
    let mut merged = expect(&app, &i, "GET", &format!("/Users/{uid}"), None, 200).await;
    merged["displayName"] = json!("Test User Renamed");
    let put = expect(&app, &i, "PUT", &format!("/Users/{uid}"), Some(merged), 200).await;
    assert_eq!(put["displayName"], "Test User Renamed");
    let off = okta
        .send(
            "PATCH",
            &format!("/Users/{uid}"),
            "user_deactivate",
            &[],
            200,
        )
        .await;
    assert_eq!(off["active"], false);

    let mut ids = Vec::new();
    for n in ["a@okta.local", "b@okta.local", "new.user@okta.local"] {
        let u = expect(
            &app,
            &i,
            "POST",
            "/Users",
            Some(json!({"userName": n})),
            201,
        )
        .await;
        ids.push(u["id"].as_str().unwrap().to_string());
    }
    let g = okta.send("POST", "/Groups", "group_create", &[], 201).await;
    let gid = g["id"].as_str().unwrap().to_string();
    let gpath = format!("/Groups/{gid}");
    okta.run(&[
        (
            "PATCH",
            &gpath,
            "group_replace_name",
            &[("group-1", &gid)],
            204,
        ),
        (
            "PATCH",
            &gpath,
            "group_membership",
            &[("u-old", &uid), ("u-new", &ids[2])],
            204,
        ),
    ])
    .await;
    let members = expect(&app, &i, "GET", &gpath, None, 200).await["members"].clone();
    assert_eq!(members.as_array().unwrap().len(), 1);
    assert_eq!(members[0]["value"], ids[2]);
    okta.send(
        "PATCH",
        &gpath,
        "group_push_all",
        &[("u-a", &ids[0]), ("u-b", &ids[1])],
        204,
    )
    .await;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1",
            &[&gid]
        )
        .await,
        2
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND user_id = $2",
            &[&gid, &ids[2]]
        )
        .await,
        0
    );
    expect(&app, &i, "DELETE", &gpath, None, 204).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM groups", &[]).await, 0);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE user_id = $1 AND active = 0",
            &[&uid]
        )
        .await,
        1
    );
}

#[tokio::test]
async fn an_entra_provisioning_cycle_with_both_patch_dialects_ends_in_the_expected_state() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let entra = Replay::new(&app, &i, ENTRA);
    let probe = expect(
        &app,
        &i,
        "GET",
        "/Users?filter=userName+eq+%2281bb4a5a-6e3c-4cc3-9b67-d4a9c0f4c7a1%22",
        None,
        200,
    )
    .await;
    assert_eq!(probe["totalResults"], 0);
    let user = entra.send("POST", "/Users", "user_create", &[], 201).await;
    let uid = user["id"].as_str().unwrap().to_string();
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_eq!(user[ent]["employeeNumber"], "123");
    assert_eq!(user[ent]["manager"]["value"], "manager-id");
    let by_ext = expect(
        &app,
        &i,
        "GET",
        "/Users?filter=externalId+eq+%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22",
        None,
        200,
    )
    .await;
    assert_eq!(by_ext["Resources"][0]["id"], uid);

    let p = entra
        .send(
            "PATCH",
            &format!("/Users/{uid}"),
            "user_patch_default",
            &[],
            200,
        )
        .await;
    assert_eq!(p["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(p["name"]["familyName"], "updatedFamilyName");
    assert_eq!(p[ent]["employeeNumber"], "456");
    assert_eq!(p[ent]["manager"]["value"], "new-manager-id");
    assert_eq!(p["phoneNumbers"][0]["value"], "+1 555 0100");
    assert_eq!(p["active"], false);
    let by_mail = expect(
        &app,
        &i,
        "GET",
        "/Users?filter=emails.value+eq+%22updatedemail%40microsoft.com%22",
        None,
        200,
    )
    .await;
    assert_eq!(by_mail["totalResults"], 1);

    let q = entra
        .send(
            "PATCH",
            &format!("/Users/{uid}"),
            "user_patch_aadoptscim062020",
            &[],
            200,
        )
        .await;
    assert_eq!(q["name"]["givenName"], "updatedGivenName");
    assert_eq!(q[ent]["employeeNumber"], "789");

    let g = entra
        .send("POST", "/Groups", "group_create", &[], 201)
        .await;
    let gid = g["id"].as_str().unwrap().to_string();
    assert_eq!(g["members"], json!([]));
    let read = expect(
        &app,
        &i,
        "GET",
        "/Groups?excludedAttributes=members&filter=displayName+eq+%22displayName%22",
        None,
        200,
    )
    .await;
    assert_eq!(read["totalResults"], 1);
    assert!(read["Resources"][0].get("members").is_none());
    let gpath = format!("/Groups/{gid}");
    let member = "f648f8d5ea4e4cd38e9c";
    // Both removal dialects, each after an add; the group ends empty each time.
    let m = [(member, uid.as_str())];
    entra
        .run(&[
            ("PATCH", &gpath, "group_member_add", &m, 204),
            ("PATCH", &gpath, "group_member_remove_default", &m, 204),
        ])
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM group_members", &[]).await,
        0
    );
    entra
        .run(&[
            ("PATCH", &gpath, "group_member_add", &m, 204),
            (
                "PATCH",
                &gpath,
                "group_member_remove_aadoptscim062020",
                &m,
                204,
            ),
        ])
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM group_members", &[]).await,
        0
    );
    entra.send("PATCH", &gpath, "group_rename", &[], 204).await;
    let g = expect(&app, &i, "GET", &gpath, None, 200).await;
    assert_eq!(
        g["displayName"],
        "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    );
    assert_eq!(g["members"], json!([]));
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE user_id = $1 AND active = 0",
            &[&uid]
        )
        .await,
        1
    );
}
