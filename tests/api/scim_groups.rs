//! SCIM Groups: uniqueness, members, PATCH forms, large-group paths.

use roster::iam::permissions::{Action, Resource};
use serde_json::{json, Value};

use crate::helpers::{Integration, TestApp};
use crate::scim_auth::urlencode;

async fn new_user(app: &TestApp, i: &Integration, name: &str) -> String {
    let res = app
        .scim(i, "POST", "/Users", Some(json!({"userName": name})))
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.json()["id"].as_str().unwrap().to_string()
}

async fn new_group(app: &TestApp, i: &Integration, body: Value) -> String {
    let res = app.scim(i, "POST", "/Groups", Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.json()["id"].as_str().unwrap().to_string()
}

/// One group per name, each with `member` alone; their ids in the order of `names`.
async fn groups_with_member(
    app: &TestApp,
    i: &Integration,
    member: &str,
    names: &[&str],
) -> Vec<String> {
    let mut ids = Vec::new();
    for name in names {
        let body = json!({"displayName": name, "members": [{"value": member}]});
        ids.push(new_group(app, i, body).await);
    }
    ids
}

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_group_is_created_with_members_and_empty_groups_show_members_as_an_empty_array() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let u = new_user(&app, &i, "ann").await;
    let res = app
        .scim(
            &i,
            "POST",
            "/Groups",
            Some(json!({"displayName": "Eng", "externalId": "e-1", "members": [{"value": u}]})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert!(res.location().is_some() && res.header("etag").is_some());
    let g = res.json();
    assert_eq!(g["members"][0]["value"], u);
    let empty = app
        .scim(&i, "POST", "/Groups", Some(json!({"displayName": "Empty"})))
        .await
        .json();
    assert_eq!(empty["members"], json!([]));
    let user = app
        .scim(&i, "GET", &format!("/Users/{u}"), None)
        .await
        .json();
    assert_eq!(user["groups"][0]["value"], g["id"]);
    assert_eq!(user["groups"][0]["display"], "Eng");
}

/// A user's groups carry each group's name exactly as written, whatever characters it holds
/// (quotes, backslashes, control characters, digits and colons, non-ASCII), in name order
/// without case, alike in a GET, a `userName eq` lookup and a page of users; `$ref` names the
/// group.
#[tokio::test]
async fn a_users_groups_show_every_name_exactly_in_name_order_in_every_read() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let ann = new_user(&app, &i, "ann").await;
    let names = [
        "Ops \"night\" ünï",
        "back\\slash",
        "launch 🚀",
        "日本",
        "12:34:",
        "3:4:abcdefg",
        "tab\there\u{1}",
        "Zeta",
        "äpfel",
        "alpha",
    ];
    let ids = groups_with_member(&app, &i, &ann, &names).await;
    let mut expected: Vec<(String, String)> =
        names.iter().map(|n| n.to_string()).zip(ids).collect();
    expected.sort_by_key(|(name, _)| name.to_lowercase());
    let shown = |groups: &Value| -> Vec<(String, String)> {
        groups
            .as_array()
            .unwrap_or_else(|| panic!("groups is an array: {groups}"))
            .iter()
            .map(|g| {
                let id = g["value"].as_str().unwrap().to_string();
                assert!(
                    g["$ref"]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!("/Groups/{id}")),
                    "{g}"
                );
                assert_eq!(g["type"], "direct");
                (g["display"].as_str().unwrap().to_string(), id)
            })
            .collect()
    };
    let got = app.scim(&i, "GET", &format!("/Users/{ann}"), None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(shown(&got.json()["groups"]), expected);
    let lookup = format!("/Users?filter={}", urlencode("userName eq \"ANN\""));
    let found = app.scim(&i, "GET", &lookup, None).await.json();
    assert_eq!(shown(&found["Resources"][0]["groups"]), expected);
    let page = app.scim(&i, "GET", "/Users?count=10", None).await.json();
    assert_eq!(shown(&page["Resources"][0]["groups"]), expected);
    let chosen = app
        .scim(&i, "GET", "/Users?attributes=groups", None)
        .await
        .json();
    assert_eq!(shown(&chosen["Resources"][0]["groups"]), expected);
}

/// A created group is answered as written, without reading it back: the answer (body and
/// ETag) is what a GET of it answers, with members (in the server's order) and without.
#[tokio::test]
async fn a_created_group_answers_what_a_get_of_it_answers() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let zed = new_user(&app, &i, "zed").await;
    let ann = new_user(&app, &i, "ann").await;
    let bodies = [
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
               "displayName": "  Ops \"night\" ünï ", "externalId": "e-9",
               "members": [{"value": zed}, {"value": ann}, {"value": zed}]}),
        json!({"displayName": "Empty", "members": []}),
        json!({"displayName": "Bare"}),
    ];
    for body in bodies {
        let created = app.scim(&i, "POST", "/Groups", Some(body.clone())).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.json()["id"].as_str().unwrap().to_string();
        let fetched = app.scim(&i, "GET", &format!("/Groups/{id}"), None).await;
        assert_eq!(fetched.status, 200, "{}", fetched.body);
        assert_eq!(created.json(), fetched.json(), "{body}");
        assert_eq!(created.header("etag"), fetched.header("etag"), "{body}");
        assert_eq!(
            created.location().as_deref(),
            fetched.json()["meta"]["location"].as_str()
        );
    }
}

#[tokio::test]
async fn display_name_is_unique_per_tenant_case_insensitively_and_findable_after_409() {
    let app = TestApp::spawn().await;
    app.create_tenant("other").await;
    let i = app.integration("main").await;
    let o = app.integration("other").await;
    let id = new_group(&app, &i, json!({"displayName": "Admins"})).await;
    let res = app
        .scim(
            &i,
            "POST",
            "/Groups",
            Some(json!({"displayName": "ADMINS"})),
        )
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(res.json()["scimType"], "uniqueness");
    let found = app
        .scim(
            &i,
            "GET",
            &format!("/Groups?filter={}", urlencode("displayName eq \"admins\"")),
            None,
        )
        .await
        .json();
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], id);
    // Another tenant may have its own Admins.
    assert_eq!(
        app.scim(
            &o,
            "POST",
            "/Groups",
            Some(json!({"displayName": "Admins"}))
        )
        .await
        .status,
        201
    );
    assert_eq!(
        app.scim(&o, "GET", &format!("/Groups/{id}"), None)
            .await
            .status,
        404
    );
    // Renaming onto a taken name is 409 too.
    let other = new_group(&app, &i, json!({"displayName": "Others"})).await;
    let res = app
        .scim(&i, "PATCH", &format!("/Groups/{other}"), Some(json!({"Operations": [{"op": "replace", "path": "displayName", "value": "admins"}]})))
        .await;
    assert_eq!(res.status, 409);
}

#[tokio::test]
async fn members_must_have_access_to_the_tenant() {
    let app = TestApp::spawn().await;
    app.create_tenant("other").await;
    let i = app.integration("main").await;
    let o = app.integration("other").await;
    let outsider = new_user(&app, &o, "outsider").await;
    let res = app
        .scim(
            &i,
            "POST",
            "/Groups",
            Some(json!({"displayName": "X", "members": [{"value": outsider}]})),
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.json()["detail"].as_str().unwrap().contains(&outsider));
    let g = new_group(&app, &i, json!({"displayName": "Y"})).await;
    let res = app
        .scim(&i, "PATCH", &format!("/Groups/{g}"), Some(json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}]})))
        .await;
    assert_eq!(res.status, 400);
    assert!(res.json()["detail"]
        .as_str()
        .unwrap()
        .contains("no-such-user"));
    assert_eq!(app.count("SELECT COUNT(*) FROM groups", &[]).await, 1);
    // A valid member before the refused one: the whole request is undone, the valid user is
    // not a member and neither their ETag nor the group's moved.
    let insider = new_user(&app, &i, "insider").await;
    let user_before = app
        .scim(&i, "GET", &format!("/Users/{insider}"), None)
        .await
        .json();
    let group_before = app
        .scim(&i, "GET", &format!("/Groups/{g}"), None)
        .await
        .json();
    let add_both = json!({"Operations": [{"op": "add", "path": "members",
        "value": [{"value": insider}, {"value": outsider}]}]});
    let res = app
        .scim(&i, "PATCH", &format!("/Groups/{g}"), Some(add_both))
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["scimType"], "invalidValue");
    let detail = res.json()["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains(&outsider) && !detail.contains(&insider),
        "{detail}"
    );
    let user_after = app
        .scim(&i, "GET", &format!("/Users/{insider}"), None)
        .await
        .json();
    assert_eq!(
        user_after["meta"]["version"],
        user_before["meta"]["version"]
    );
    assert_eq!(user_after["groups"], json!([]));
    let group_after = app
        .scim(&i, "GET", &format!("/Groups/{g}"), None)
        .await
        .json();
    assert_eq!(group_after, group_before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM group_members", &[]).await,
        0
    );
}

/// A superadmin is out of every integration's reach, even with access to the tenant: naming
/// them as a member refuses the request (the eligibility check finds them in the superadmins'
/// partial index), and the member named beside them is not added either.
#[tokio::test]
async fn a_superadmin_with_access_to_the_tenant_cannot_be_made_a_member() {
    use sqlx::Row;
    let (app, _cookie) = TestApp::with_admin().await;
    let i = app.integration("main").await;
    let root_id: String = {
        let mut conn = app.db.acquire().await.unwrap();
        sqlx::query("SELECT id FROM users WHERE is_superadmin = 1")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get("id")
    };
    app.execute(&[&format!(
        "INSERT INTO tenant_access (tenant_id, user_id, created_at) VALUES ('main', '{root_id}', 0) \
         ON CONFLICT (tenant_id, user_id) DO NOTHING"
    )])
    .await;
    let insider = new_user(&app, &i, "beside.root").await;
    let g = new_group(&app, &i, json!({"displayName": "Admins?"})).await;
    let add_both = json!({"Operations": [{"op": "add", "path": "members",
        "value": [{"value": insider}, {"value": root_id}]}]});
    let res = app
        .scim(&i, "PATCH", &format!("/Groups/{g}"), Some(add_both))
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert_eq!(res.json()["scimType"], "invalidValue");
    assert!(res.json()["detail"].as_str().unwrap().contains(&root_id));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM group_members", &[]).await,
        0
    );
    // The member alone is added.
    let add =
        json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": insider}]}]});
    let res = app
        .scim(&i, "PATCH", &format!("/Groups/{g}"), Some(add))
        .await;
    assert!(res.status.is_success(), "{}", res.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM group_members", &[]).await,
        1
    );
}

#[tokio::test]
async fn member_patches_in_every_idp_form_add_and_remove_only_the_named_members() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let a = new_user(&app, &i, "a").await;
    let b = new_user(&app, &i, "b").await;
    let c = new_user(&app, &i, "c").await;
    let g = new_group(&app, &i, json!({"displayName": "P"})).await;
    let path = format!("/Groups/{g}");
    let send = |ops: Value| {
        let app = &app;
        let i = &i;
        let path = path.clone();
        async move {
            app.scim(i, "PATCH", &path, Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}))).await
        }
    };
    let res = send(json!([{"op": "add", "path": "members", "value": [{"value": a}]}, {"op": "Add", "path": "members", "value": [{"$ref": null, "value": b}]}, {"op": "add", "path": "members", "value": [{"value": c, "display": "c"}]}])).await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert!(res.body.is_empty());
    let got = app.scim(&i, "GET", &path, None).await.json();
    let mut all = vec![a.clone(), b.clone(), c.clone()];
    all.sort();
    assert_eq!(member_ids(&got), all);
    // authentik ≤ 2026.5 / Entra: remove with a value list acts as a selector.
    send(json!([{"op": "Remove", "path": "members", "value": [{"value": a}]}])).await;
    // authentik new form.
    let res = send(json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}])).await;
    assert_eq!(res.status, 204);
    let got = app.scim(&i, "GET", &path, None).await.json();
    assert_eq!(member_ids(&got), vec![c.clone()]);
    // Okta: rename and member change in one request; replace without members never empties.
    let res = app
        .scim(
            &i,
            "PATCH",
            &format!("{path}?attributes=displayName,members"),
            Some(json!({"Operations": [
                {"op": "replace", "value": {"id": g, "displayName": "P2"}},
                {"op": "add", "path": "members", "value": [{"value": a, "display": "a"}]}
            ]})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["displayName"], "P2");
    let mut ac = vec![a.clone(), c.clone()];
    ac.sort();
    assert_eq!(member_ids(&res.json()), ac);
    // Full push: replace members.
    send(json!([{"op": "replace", "path": "members", "value": [{"value": b}]}])).await;
    let got = app.scim(&i, "GET", &path, None).await.json();
    assert_eq!(member_ids(&got), vec![b.clone()]);
    // Removing by display needs the member list (the slow path) and still works.
    let res = send(json!([{"op": "remove", "path": "members[display eq \"b\"]"}])).await;
    assert_eq!(res.status, 204, "{}", res.body);
    let got = app.scim(&i, "GET", &path, None).await.json();
    assert_eq!(got["members"], json!([]));
}

/// A PATCH answered 204 names the version it made in its ETag (RFC 5789 §2.1), so an IdP can
/// send the next change with `If-Match` and no read: that ETag is what a GET then shows, it
/// passes `If-Match`, the one before it no longer does, and a PATCH that changes nothing names
/// the version unchanged.
#[tokio::test]
async fn a_patch_answered_204_names_its_new_version_for_the_next_if_match() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let a = new_user(&app, &i, "a").await;
    let b = new_user(&app, &i, "b").await;
    let c = new_user(&app, &i, "c").await;
    let created = app
        .scim(&i, "POST", "/Groups", Some(json!({"displayName": "E"})))
        .await;
    let g = created.json()["id"].as_str().unwrap().to_string();
    let path = format!("/Groups/{g}");
    let add = |id: &str| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]})
    };
    let patch = |body: Value, tag: String| {
        let (app, path, token) = (&app, i.path(&path), i.token.clone());
        async move {
            app.scim_raw(
                "PATCH",
                &path,
                Some(&token),
                Some(body),
                &[("if-match", &tag)],
            )
            .await
        }
    };
    let first = created.header("etag").unwrap();
    let res = patch(add(&a), first.clone()).await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert!(res.body.is_empty());
    let second = res.header("etag").expect("the new version's ETag");
    assert_ne!(second, first);
    let got = app.scim(&i, "GET", &path, None).await;
    assert_eq!(got.header("etag").as_deref(), Some(second.as_str()));
    assert_eq!(member_ids(&got.json()), vec![a.clone()]);

    let stale = patch(add(&b), first).await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    let res = patch(add(&b), second.clone()).await;
    assert_eq!(res.status, 204, "{}", res.body);
    let third = res.header("etag").unwrap();
    assert_ne!(third, second);
    // `a` is a member already, `c` never was: nothing changes, and the answers say which
    // version that is.
    let res = patch(add(&a), third.clone()).await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert_eq!(res.header("etag"), Some(third.clone()));
    let remove_c = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": format!("members[value eq \"{c}\"]")}]});
    let res = patch(remove_c, third.clone()).await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert_eq!(res.header("etag"), Some(third.clone()));
    let got = app.scim(&i, "GET", &path, None).await;
    assert_eq!(got.header("etag"), Some(third));
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(member_ids(&got.json()), both);
}

#[tokio::test]
async fn put_replaces_members_when_named_and_keeps_them_when_not() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let a = new_user(&app, &i, "a").await;
    let g = new_group(
        &app,
        &i,
        json!({"displayName": "Q", "members": [{"value": a}]}),
    )
    .await;
    let path = format!("/Groups/{g}");
    let res = app
        .scim(&i, "PUT", &path, Some(json!({"displayName": "Q renamed"})))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(member_ids(&res.json()), vec![a.clone()]);
    let res = app
        .scim(
            &i,
            "PUT",
            &path,
            Some(json!({"displayName": "Q", "members": []})),
        )
        .await;
    assert_eq!(res.json()["members"], json!([]));
}

#[tokio::test]
async fn excluded_members_are_not_loaded_and_members_value_filters_use_the_index() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let a = new_user(&app, &i, "a").await;
    let g = new_group(
        &app,
        &i,
        json!({"displayName": "Big", "members": [{"value": a}]}),
    )
    .await;
    new_group(&app, &i, json!({"displayName": "Small"})).await;
    let list = app
        .scim(
            &i,
            "GET",
            &format!(
                "/Groups?excludedAttributes=members&filter={}",
                urlencode("displayName eq \"Big\"")
            ),
            None,
        )
        .await
        .json();
    assert_eq!(list["totalResults"], 1);
    assert!(list["Resources"][0].get("members").is_none());
    let one = app
        .scim(
            &i,
            "GET",
            &format!("/Groups/{g}?excludedAttributes=members"),
            None,
        )
        .await
        .json();
    assert!(one.get("members").is_none());
    assert_eq!(one["displayName"], "Big");
    for f in [
        format!("members.value eq \"{a}\""),
        format!("members[value eq \"{a}\"]"),
    ] {
        let found = app
            .scim(
                &i,
                "GET",
                &format!("/Groups?filter={}", urlencode(&f)),
                None,
            )
            .await
            .json();
        assert_eq!(found["totalResults"], 1, "{f}");
        assert_eq!(found["Resources"][0]["id"], g);
    }
}

/// Groups found by `externalId eq` or by a member (the filters SQLite is steered to answer from
/// their own indexes, `db::scim_filter::seeks_groups`) are this tenant's only, in the order asked
/// (creation by default, either way, or by `sortBy`), counted whole however the page is cut.
#[tokio::test]
async fn groups_found_by_external_id_or_by_member_are_the_tenants_own_in_the_order_asked() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    app.create_tenant("other").await;
    let other = app.integration("other").await;
    let ada = new_user(&app, &i, "ada").await;
    let bob = new_user(&app, &i, "bob").await;
    let mut with_ada = Vec::new();
    for name in ["Zeta", "Alpha", "Mid"] {
        let body = json!({"displayName": name, "externalId": "shared",
                          "members": [{"value": ada}, {"value": bob}]});
        with_ada.push(new_group(&app, &i, body).await);
    }
    let only_bob = json!({"displayName": "Bob's", "externalId": "shared",
                          "members": [{"value": bob}]});
    let bobs = new_group(&app, &i, only_bob).await;
    new_group(
        &app,
        &i,
        json!({"displayName": "Else", "externalId": "other"}),
    )
    .await;
    let elsewhere = json!({"displayName": "Zeta", "externalId": "shared"});
    new_group(&app, &other, elsewhere).await;

    let ids = |list: &Value| -> Vec<String> {
        let resources = list["Resources"].as_array().cloned().unwrap_or_default();
        resources
            .iter()
            .map(|g| g["id"].as_str().unwrap().to_string())
            .collect()
    };
    let mut all_shared = with_ada.clone();
    all_shared.push(bobs.clone());
    let by_name = vec![
        with_ada[1].clone(),
        bobs.clone(),
        with_ada[2].clone(),
        with_ada[0].clone(),
    ];
    let reversed: Vec<String> = with_ada.iter().rev().cloned().collect();
    for (filter, query, expected) in [
        (
            "externalId eq \"shared\"".to_string(),
            "",
            all_shared.clone(),
        ),
        (
            "externalId eq \"shared\"".to_string(),
            "&sortBy=displayName",
            by_name,
        ),
        (format!("members[value eq \"{ada}\"]"), "", with_ada.clone()),
        (
            format!("members eq \"{ada}\""),
            "&sortOrder=descending",
            reversed,
        ),
        (
            format!("members.value eq \"{bob}\" and externalId eq \"shared\""),
            "",
            all_shared,
        ),
        (
            format!("members[value eq \"{ada}\"] and displayName eq \"Mid\""),
            "",
            vec![with_ada[2].clone()],
        ),
    ] {
        let path = format!("/Groups?filter={}{query}", urlencode(&filter));
        let whole = app.scim(&i, "GET", &path, None).await;
        assert_eq!(whole.status, 200, "{filter}: {}", whole.body);
        let whole = whole.json();
        assert_eq!(ids(&whole), expected, "{filter}{query}");
        assert_eq!(whole["totalResults"], expected.len(), "{filter}");
        let cut = app
            .scim(&i, "GET", &format!("{path}&count=1&startIndex=2"), None)
            .await
            .json();
        let second: Vec<String> = expected.iter().skip(1).take(1).cloned().collect();
        assert_eq!(ids(&cut), second, "{filter}{query}, the second alone");
        assert_eq!(
            cut["totalResults"],
            expected.len(),
            "{filter}, counted past the cut"
        );
    }
    // A group without an externalId sorts last ascending, first descending (RFC 7644
    // §3.4.2.3; SQLite puts NULLs first ascending).
    let plain = new_group(&app, &i, json!({"displayName": "Plain"})).await;
    for (order, at) in [("ascending", 5), ("descending", 0)] {
        let path =
            format!("/Groups?sortBy=externalId&sortOrder={order}&excludedAttributes=members");
        let sorted = app.scim(&i, "GET", &path, None).await;
        assert_eq!(sorted.status, 200, "{}", sorted.body);
        let sorted = ids(&sorted.json());
        assert_eq!(sorted.len(), 6, "{order}");
        assert_eq!(sorted[at], plain, "{order}");
    }
}

/// A group of 900 members (its id list past `member_refs::DEFERRED_FROM`, so written as the
/// client reads it) reads the same whole in every answer that shows it (GET, a page of groups, a
/// `displayName eq` look-up, a root search, the answer to a PUT and to a PATCH that asks for it),
/// its length declared up front: every member once, each as `value`, `$ref` under the endpoint
/// and `type`, in one order; `[]` for a group without members; trimmed as `attributes` and
/// `excludedAttributes` ask.
#[tokio::test]
async fn a_large_group_reads_whole_and_alike_in_every_answer_and_projection() {
    // Hundreds of creates in a row: past the default rate of one integration.
    let app = TestApp::spawn_with(&[("ROSTER_SCIM_RATE", "0")]).await;
    let i = app.integration("main").await;
    let mut all = Vec::new();
    for n in 0..900 {
        all.push(new_user(&app, &i, &format!("member-{n:03}")).await);
    }
    let everyone = new_group(&app, &i, json!({"displayName": "Everyone"})).await;
    let path = format!("/Groups/{everyone}");
    for chunk in all.chunks(400) {
        let value: Vec<Value> = chunk.iter().map(|id| json!({"value": id})).collect();
        let ops = json!({"Operations": [{"op": "add", "path": "members", "value": value}]});
        let res = app.scim(&i, "PATCH", &path, Some(ops)).await;
        assert_eq!(res.status, 204, "{}", res.body);
    }
    new_group(&app, &i, json!({"displayName": "Nobody"})).await;
    let pair = json!({"displayName": "Pair", "members": [{"value": all[7]}, {"value": all[3]}]});
    new_group(&app, &i, pair).await;

    let got = app.scim(&i, "GET", &path, None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    // 900 quoted ids of 36 characters and their commas.
    const { assert!(900 * 39 > roster::db::member_refs::DEFERRED_FROM) };
    assert_eq!(
        got.header("content-length"),
        Some(got.body.len().to_string())
    );
    let group = got.json();
    let base = group["meta"]["location"]
        .as_str()
        .unwrap()
        .strip_suffix(&path)
        .unwrap()
        .to_string();
    let members = group["members"].as_array().unwrap().clone();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(member_ids(&group), expected, "every member once");
    for m in &members {
        let id = m["value"].as_str().unwrap();
        assert_eq!(
            m,
            &json!({"value": id, "$ref": format!("{base}/Users/{id}"), "type": "User"})
        );
    }

    // A page of groups, a look-up by name and a root search show the same members in the same
    // order; an empty group shows `[]`.
    let page = app.scim(&i, "GET", "/Groups?count=10", None).await;
    assert_eq!(
        page.header("content-length"),
        Some(page.body.len().to_string())
    );
    let page = page.json();
    let listed = page["Resources"].as_array().unwrap();
    assert_eq!((page["totalResults"].clone(), listed.len()), (json!(3), 3));
    let named = |name: &str| {
        listed
            .iter()
            .find(|g| g["displayName"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(named("Everyone"), group);
    assert_eq!(named("Nobody")["members"], json!([]));
    let mut pair_ids = vec![all[3].clone(), all[7].clone()];
    pair_ids.sort();
    assert_eq!(member_ids(&named("Pair")), pair_ids);
    let filter = urlencode("displayName eq \"Everyone\"");
    let found = app
        .scim(&i, "GET", &format!("/Groups?filter={filter}"), None)
        .await
        .json();
    assert_eq!(found["Resources"], json!([group.clone()]));
    let search = json!({"filter": "displayName eq \"Everyone\""});
    let searched = app.scim(&i, "POST", "/.search", Some(search)).await.json();
    assert_eq!(searched["Resources"], json!([group.clone()]));

    // Projections: only the members' values; the members' values and types; no members.
    let only_values = app
        .scim(&i, "GET", &format!("{path}?attributes=members.value"), None)
        .await
        .json();
    let values: Vec<Value> = members
        .iter()
        .map(|m| json!({"value": m["value"]}))
        .collect();
    assert_eq!(only_values["members"], Value::Array(values));
    assert!(only_values.get("displayName").is_none());
    let without_ref = app
        .scim(
            &i,
            "GET",
            &format!("{path}?excludedAttributes=members.$ref"),
            None,
        )
        .await
        .json();
    assert_eq!(member_ids(&without_ref), expected);
    assert!(without_ref["members"][0].get("$ref").is_none());
    assert_eq!(without_ref["members"][0]["type"], "User");
    let named_only = app
        .scim(&i, "GET", &format!("{path}?attributes=displayName"), None)
        .await
        .json();
    assert!(named_only.get("members").is_none());
    assert_eq!(named_only["displayName"], "Everyone");
    let members_only = app
        .scim(
            &i,
            "GET",
            &format!("/Groups?attributes=members&filter={filter}"),
            None,
        )
        .await
        .json();
    assert_eq!(members_only["Resources"][0]["members"], group["members"]);
    assert!(members_only["Resources"][0].get("displayName").is_none());

    // A PUT that drops one member and a PATCH that asks for the group answer what a GET then
    // reads.
    let kept: Vec<Value> = all[1..].iter().map(|id| json!({"value": id})).collect();
    let put = json!({"displayName": "Everyone", "members": kept});
    let replaced = app.scim(&i, "PUT", &path, Some(put)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(member_ids(&replaced.json()).len(), 899);
    assert!(!member_ids(&replaced.json()).contains(&all[0]));
    assert_eq!(
        replaced.json(),
        app.scim(&i, "GET", &path, None).await.json()
    );
    let add =
        json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": all[0]}]}]});
    let patched = app
        .scim(
            &i,
            "PATCH",
            &format!("{path}?excludedAttributes=displayName"),
            Some(add),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(member_ids(&patched.json()), expected);
    assert!(patched.json().get("displayName").is_none());
}

#[tokio::test]
async fn deleting_a_group_is_204_then_404() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let u = new_user(&app, &i, "member").await;
    let g = new_group(
        &app,
        &i,
        json!({"displayName": "Gone", "members": [{"value": u}]}),
    )
    .await;
    let kept = new_group(&app, &i, json!({"displayName": "Kept"})).await;
    // A role bound to each group: the deleted group's binding goes with it, the other stays.
    {
        let mut conn = app.db.begin_write().await.unwrap();
        let role = roster::iam::permissions::create_custom_role(
            &mut conn,
            "main",
            "GroupReaders",
            &[(Resource::Groups, Action::Read)],
            app.now(),
        )
        .await
        .unwrap();
        for group in [&g, &kept] {
            roster::db::iam::insert_binding(&mut conn, "main", &role.id, "group", group, app.now())
                .await
                .unwrap();
        }
        conn.commit().await.unwrap();
    }
    assert_eq!(
        app.scim(&i, "DELETE", &format!("/Groups/{g}"), None)
            .await
            .status,
        204
    );
    let bound = "SELECT COUNT(*) FROM bindings WHERE subject_id = $1";
    assert_eq!(app.count(bound, &[&g]).await, 0);
    assert_eq!(app.count(bound, &[&kept]).await, 1);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1",
            &[&g]
        )
        .await,
        0
    );
    let user = app
        .scim(&i, "GET", &format!("/Users/{u}"), None)
        .await
        .json();
    assert!(
        user.get("groups")
            .is_none_or(|gs| gs.as_array().unwrap().is_empty()),
        "{user}"
    );
    assert_eq!(
        app.scim(&i, "GET", &format!("/Groups/{g}"), None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.scim(&i, "DELETE", &format!("/Groups/{g}"), None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_role_bound_to_a_group_survives_a_rename_and_shows_its_origin() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let u = new_user(&app, &i, "viewer").await;
    let g = new_group(
        &app,
        &i,
        json!({"displayName": "Engineering", "members": [{"value": u}]}),
    )
    .await;
    {
        let mut conn = app.db.acquire().await.unwrap();
        let role =
            roster::iam::permissions::ensure_managed_role(&mut conn, "main", "Viewer", app.now())
                .await
                .unwrap();
        roster::db::iam::insert_binding(&mut conn, "main", &role.id, "group", &g, app.now())
            .await
            .unwrap();
    }
    app.scim(
        &i,
        "PATCH",
        &format!("/Groups/{g}"),
        Some(json!({"Operations": [{"op": "replace", "value": {"displayName": "Eng"}}]})),
    )
    .await;
    let mut conn = app.db.acquire().await.unwrap();
    let perms = roster::iam::permissions::effective(
        &mut conn,
        "main",
        roster::iam::permissions::Subject::User {
            id: &u,
            superadmin: false,
        },
    )
    .await
    .unwrap();
    assert!(perms.allows(Resource::Users, Action::Read));
    assert!(!perms.allows(Resource::Users, Action::Update));
    assert_eq!(
        perms.origins(Resource::Groups, Action::Read)[0].to_string(),
        "Viewer, via group Eng"
    );
}

#[tokio::test]
async fn a_root_search_finds_users_and_groups_as_one_list() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    new_user(&app, &i, "root-user").await;
    new_group(&app, &i, json!({"displayName": "root-group"})).await;
    let res = app
        .scim(
            &i,
            "POST",
            "/.search",
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["totalResults"], 2);
    let res = app
        .scim(
            &i,
            "POST",
            "/.search",
            Some(json!({"filter": "userName eq \"root-user\""})),
        )
        .await;
    assert_eq!(res.json()["totalResults"], 1);
    assert_eq!(app.scim(&i, "GET", "/.search", None).await.status, 405);
}

/// A user's `groups` in a list page and in a single GET: every reference whole (value, display,
/// `$ref` under the endpoint, type direct), in name order, names with quotes and non-ASCII
/// characters escaped; `[]` for a user without groups; trimmed or left out as `attributes` and
/// `excludedAttributes` ask; another tenant's groups never appear.
#[tokio::test]
async fn users_list_their_group_references_whole_in_name_order_and_projected() {
    let app = TestApp::spawn().await;
    app.create_tenant("other").await;
    let i = app.integration("main").await;
    let o = app.integration("other").await;
    let ann = new_user(&app, &i, "ann").await;
    let bob = new_user(&app, &i, "bob").await;
    let zeta = new_group(
        &app,
        &i,
        json!({"displayName": "zeta", "members": [{"value": ann}]}),
    )
    .await;
    let odd = new_group(
        &app,
        &i,
        json!({"displayName": "Ops \"on call\" — Zürich", "members": [{"value": ann}]}),
    )
    .await;
    let alpha = new_group(
        &app,
        &i,
        json!({"displayName": "Alpha", "members": [{"value": ann}]}),
    )
    .await;
    // The other tenant sees ann too (users are global) and puts her in its own group.
    let other_ann = app
        .scim(&o, "POST", "/Users", Some(json!({"userName": "ann"})))
        .await;
    assert!(
        other_ann.status == 201 || other_ann.status == 409,
        "{}",
        other_ann.body
    );
    let found = app
        .scim(&o, "GET", "/Users?filter=userName%20eq%20%22ann%22", None)
        .await
        .json();
    if let Some(seen) = found["Resources"][0]["id"].as_str() {
        new_group(
            &app,
            &o,
            json!({"displayName": "Elsewhere", "members": [{"value": seen}]}),
        )
        .await;
    }

    let alpha_location = app
        .scim(&i, "GET", &format!("/Groups/{alpha}"), None)
        .await
        .json()["meta"]["location"]
        .as_str()
        .unwrap()
        .to_string();
    let base = alpha_location
        .strip_suffix(&format!("/Groups/{alpha}"))
        .unwrap()
        .to_string();
    let reference = |id: &str, name: &str| json!({"value": id, "display": name, "$ref": format!("{base}/Groups/{id}"), "type": "direct"});
    let expected = json!([
        reference(&alpha, "Alpha"),
        reference(&odd, "Ops \"on call\" — Zürich"),
        reference(&zeta, "zeta"),
    ]);
    let by_name = |list: &Value, name: &str| -> Value {
        list["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["userName"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not listed: {list}"))
    };
    let list = app.scim(&i, "GET", "/Users?count=10", None).await.json();
    assert_eq!(by_name(&list, "ann")["groups"], expected);
    assert_eq!(by_name(&list, "bob")["groups"], json!([]));
    let one = app
        .scim(&i, "GET", &format!("/Users/{ann}"), None)
        .await
        .json();
    assert_eq!(one["groups"], expected);
    assert_eq!(one["id"], ann.as_str());
    let searched = app
        .scim(
            &i,
            "POST",
            "/Users/.search",
            Some(json!({"filter": "userName eq \"ann\""})),
        )
        .await
        .json();
    assert_eq!(searched["Resources"][0]["groups"], expected);

    let values = app
        .scim(&i, "GET", "/Users?attributes=userName,groups.value", None)
        .await
        .json();
    assert_eq!(
        by_name(&values, "ann")["groups"],
        json!([{"value": alpha}, {"value": odd}, {"value": zeta}])
    );
    assert!(by_name(&values, "ann").get("emails").is_none());
    let without = app
        .scim(&i, "GET", "/Users?excludedAttributes=groups", None)
        .await
        .json();
    assert!(by_name(&without, "ann").get("groups").is_none());
    assert_eq!(by_name(&without, "ann")["id"], ann.as_str());
    let named = app
        .scim(&i, "GET", "/Users?attributes=userName,groups", None)
        .await
        .json();
    assert_eq!(by_name(&named, "ann")["groups"], expected);
    let bob_alone = app
        .scim(&i, "GET", &format!("/Users/{bob}"), None)
        .await
        .json();
    assert_eq!(bob_alone["groups"], json!([]));
}

/// Each member's `groups` as every read shows them: a GET (the text path), a GET of
/// `attributes=groups` (the tree path), a `userName eq` look-up and a page.
async fn groups_shown(app: &TestApp, i: &Integration, id: &str, user_name: &str) -> [Value; 4] {
    let get = |path: String| async move {
        let res = app.scim(i, "GET", &path, None).await;
        assert_eq!(res.status, 200, "{path}: {}", res.body);
        res.json()
    };
    let lookup = format!(
        "/Users?filter={}",
        urlencode(&format!("userName eq \"{user_name}\""))
    );
    let page = get("/Users?count=100".to_string()).await;
    let in_page = page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .expect("the user is in the page")["groups"]
        .clone();
    [
        get(format!("/Users/{id}")).await["groups"].clone(),
        get(format!("/Users/{id}?attributes=groups")).await["groups"].clone(),
        get(lookup).await["Resources"][0]["groups"].clone(),
        in_page,
    ]
}

/// A rename reaches every member: each read of each member shows the new name (in name order
/// among their other groups), their ETag changes, and non-members are untouched. A PUT that keeps
/// the name (and not the members) changes no member's version.
#[tokio::test]
async fn a_renamed_group_shows_its_new_name_in_every_members_reads_with_a_new_etag() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let ann = new_user(&app, &i, "ann").await;
    let bob = new_user(&app, &i, "bob").await;
    let cyd = new_user(&app, &i, "cyd").await;
    let gid = new_group(
        &app,
        &i,
        json!({"displayName": "Alpha", "members": [{"value": ann}, {"value": bob}]}),
    )
    .await;
    let other = new_group(
        &app,
        &i,
        json!({"displayName": "Middle", "members": [{"value": ann}, {"value": cyd}]}),
    )
    .await;
    let etag = |res: crate::helpers::TestResponse| res.header("etag").unwrap();
    let tags_before = [
        etag(app.scim(&i, "GET", &format!("/Users/{ann}"), None).await),
        etag(app.scim(&i, "GET", &format!("/Users/{bob}"), None).await),
        etag(app.scim(&i, "GET", &format!("/Users/{cyd}"), None).await),
    ];

    let new_name = "Zulu \"quoted\" \\ é\u{1}";
    let rename =
        json!({"Operations": [{"op": "replace", "path": "displayName", "value": new_name}]});
    let res = app
        .scim(&i, "PATCH", &format!("/Groups/{gid}"), Some(rename))
        .await;
    assert!(res.status.is_success(), "{}", res.body);

    let renamed = |id: &str| json!({"value": id, "display": new_name});
    let middle = json!({"value": other, "display": "Middle"});
    for (user, name, expected) in [
        (&ann, "ann", vec![middle.clone(), renamed(&gid)]),
        (&bob, "bob", vec![renamed(&gid)]),
        (&cyd, "cyd", vec![middle.clone()]),
    ] {
        for (read, shown) in ["GET", "attributes", "lookup", "page"]
            .iter()
            .zip(groups_shown(&app, &i, user, name).await)
        {
            let shown: Vec<Value> = shown
                .as_array()
                .unwrap_or_else(|| panic!("{name} {read}: {shown}"))
                .iter()
                .map(|g| json!({"value": g["value"], "display": g["display"]}))
                .collect();
            assert_eq!(shown, expected, "{name}, {read}");
        }
    }
    let tags_after = [
        etag(app.scim(&i, "GET", &format!("/Users/{ann}"), None).await),
        etag(app.scim(&i, "GET", &format!("/Users/{bob}"), None).await),
        etag(app.scim(&i, "GET", &format!("/Users/{cyd}"), None).await),
    ];
    assert_ne!(
        tags_after[0], tags_before[0],
        "ann's groups show the new name"
    );
    assert_ne!(
        tags_after[1], tags_before[1],
        "bob's groups show the new name"
    );
    assert_eq!(tags_after[2], tags_before[2], "cyd is not a member");

    // A PUT that keeps the name (and leaves `members` out) leaves the members' versions alone.
    let put = json!({"displayName": new_name, "externalId": "x-1"});
    let res = app
        .scim(&i, "PUT", &format!("/Groups/{gid}"), Some(put))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        etag(app.scim(&i, "GET", &format!("/Users/{bob}"), None).await),
        tags_after[1]
    );
}

/// Memberships that were there before migration 0009 carry no reference (and those a binary from
/// before it writes, no tenant either); `Db::migrate` writes them (quoted by the database it runs
/// on), after which every read shows them as a membership written since would.
#[tokio::test]
async fn memberships_from_before_references_were_kept_get_them_when_migrating() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let ann = new_user(&app, &i, "ann").await;
    let names = ["Plain", "Quote \" and \\ back", "Tab\tand é 日本"];
    let groups = groups_with_member(&app, &i, &ann, &names).await;
    let written = groups_shown(&app, &i, &ann, "ann").await;
    let values: Vec<&str> = written[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, groups, "in name order: {}", written[0]);

    {
        let mut conn = app.db.acquire().await.unwrap();
        // As migration 0009 left them, or as a binary from before it writes them (no tenant).
        sqlx::query("UPDATE group_members SET group_ref = NULL, tenant_id = ''")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    app.db.migrate().await.expect("migrate");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM group_members WHERE group_ref IS NULL",
            &[]
        )
        .await,
        0
    );
    assert_eq!(groups_shown(&app, &i, &ann, "ann").await, written);
}

/// A PUT of a group (what Okta sends on every push) writes only the members that differ: an
/// unchanged list changes no ETag, the group's included; swapping one member changes the ETags
/// of those two users alone, and the group's.
#[tokio::test]
async fn a_put_of_the_same_members_changes_nothing_and_a_swap_touches_only_the_two() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let mut users = Vec::new();
    for name in ["ann", "bob", "cyd", "dee"] {
        users.push(new_user(&app, &i, name).await);
    }
    let body = |members: &[&String]| {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
               "displayName": "Pushed", "externalId": "okta-1",
               "members": members.iter().map(|m| json!({"value": m})).collect::<Vec<_>>()})
    };
    let gid = new_group(&app, &i, body(&[&users[0], &users[1], &users[2]])).await;
    let etags = || async {
        let mut tags = Vec::new();
        for u in &users {
            let res = app.scim(&i, "GET", &format!("/Users/{u}"), None).await;
            tags.push(res.header("etag").unwrap());
        }
        let res = app.scim(&i, "GET", &format!("/Groups/{gid}"), None).await;
        tags.push(res.header("etag").unwrap());
        tags
    };
    let before = etags().await;

    // The same members, in another order and with one repeated.
    let res = app
        .scim(
            &i,
            "PUT",
            &format!("/Groups/{gid}"),
            Some(body(&[&users[2], &users[0], &users[1], &users[0]])),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.header("etag").unwrap(), before[4], "nothing changed");
    assert_eq!(etags().await, before, "no member's version moves");

    // cyd out, dee in.
    let res = app
        .scim(
            &i,
            "PUT",
            &format!("/Groups/{gid}"),
            Some(body(&[&users[0], &users[1], &users[3]])),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let mut shown = member_ids(&res.json());
    let mut expected = vec![users[0].clone(), users[1].clone(), users[3].clone()];
    expected.sort();
    shown.sort();
    assert_eq!(shown, expected);
    let after = etags().await;
    assert_eq!(after[0], before[0], "ann stays");
    assert_eq!(after[1], before[1], "bob stays");
    assert_ne!(after[2], before[2], "cyd left");
    assert_ne!(after[3], before[3], "dee joined");
    assert_ne!(after[4], before[4], "the group changed");
    assert_eq!(res.header("etag").unwrap(), after[4]);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1",
            &[&gid]
        )
        .await,
        3
    );

    // Emptied by `members: []`.
    let res = app
        .scim(&i, "PUT", &format!("/Groups/{gid}"), Some(body(&[])))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["members"], json!([]));
}

/// Who may be a member is read user by user through the access key on PostgreSQL too, in a tenant
/// provisioned a moment ago (no statistics yet): asked with `user_id IN (…)`, PostgreSQL read
/// every access row of the tenant and filtered them, a 100-member PATCH's check growing with the
/// directory. (SQLite's plan: `db::groups`' unit test.)
#[tokio::test]
async fn member_eligibility_reads_each_users_access_by_its_key_in_a_fresh_large_tenant() {
    let app = TestApp::spawn().await;
    if app.db.backend() != roster::db::Backend::Postgres {
        return;
    }
    let i = app.integration("main").await;
    let group = new_group(&app, &i, json!({"displayName": "everyone"})).await;
    app.execute(&[
        "INSERT INTO users (id, username, username_lower, created_at, updated_at) \
         SELECT 'bulk-' || g, 'bulk' || g, 'bulk' || g, 1, 1 FROM generate_series(1, 5000) g",
        "INSERT INTO tenant_access (tenant_id, user_id, created_at, user_created_at) \
         SELECT 'main', 'bulk-' || g, 1, 1 FROM generate_series(1, 5000) g",
    ])
    .await;
    let literal = |s: &str| format!("'{s}'");
    let mut sql = roster::db::groups::eligibility_count(roster::db::Backend::Postgres, 100);
    // Highest placeholder first, so that `$1` does not rewrite the start of `$10`.
    for n in (2..=101).rev() {
        sql = sql.replace(&format!("${n}"), &literal(&format!("bulk-{}", n * 37)));
    }
    let sql = sql.replace("$1", &literal(&group));
    let mut conn = app.db.acquire().await.unwrap();
    let plan = crate::helpers::postgres_plan(&mut conn, &sql).await;
    let on_access: Vec<&String> = plan
        .iter()
        .filter(|l| l.contains(" on tenant_access"))
        .collect();
    assert!(
        !on_access.is_empty()
            && on_access.iter().all(|l| l
                .contains("Index Scan using tenant_access_pkey on tenant_access")
                || l.contains("Index Only Scan using tenant_access_pkey on tenant_access")),
        "{plan:#?}"
    );
    // And it counts right: the hundred users asked about, all with access.
    drop(conn);
    let mut sql_args: Vec<String> = vec![group.clone()];
    sql_args.extend((2..=101).map(|n| format!("bulk-{}", n * 37)));
    let args: Vec<&str> = sql_args.iter().map(String::as_str).collect();
    let counted = app
        .count(
            &roster::db::groups::eligibility_count(roster::db::Backend::Postgres, 100),
            &args,
        )
        .await;
    assert_eq!(counted, 100);
}
