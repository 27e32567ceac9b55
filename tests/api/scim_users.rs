//! SCIM Users: CRUD, lists, filters, ETags and the rules for global users shared by tenants.

use serde_json::{json, Value};

use crate::helpers::{Integration, TestApp};
use crate::scim_auth::urlencode;

fn user(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "name": {"givenName": "Given", "familyName": "Family", "formatted": "Given Family"},
        "displayName": format!("{name} display"),
        "active": true,
        "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}],
        "externalId": format!("ext-{name}"),
    })
}

/// Lets `tenant` link users of other tenants (a superadmin's decision; off by default).
async fn allow_linking(app: &TestApp, tenant: &str) {
    let mut conn = app.db.acquire().await.unwrap();
    roster::db::tenants::set_link_foreign_users(&mut conn, tenant, true, app.now())
        .await
        .unwrap();
}

async fn create(app: &TestApp, i: &Integration, name: &str) -> String {
    let res = app.scim(i, "POST", "/Users", Some(user(name))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.json()["id"].as_str().unwrap().to_string()
}

/// The user as the rendered JSON tree answers them: a GET with `excludedAttributes=password`
/// (never returned, so it changes nothing but takes the tree path, not the default view's text).
async fn as_rendered(app: &TestApp, i: &Integration, id: &str) -> Value {
    let path = format!("/Users/{id}?excludedAttributes=password");
    let got = app.scim(i, "GET", &path, None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    got.json()
}

/// A created user is answered as a GET of it answers — body, ETag and Location — and so are a
/// PUT and a PATCH of it; each of these is written as text from the stored profile in the default
/// view, and each is held equal to the rendered JSON tree (a GET with `excludedAttributes`), for
/// profiles the text path writes (RFC 7643's full user, a suspended user, quotes and non-ASCII, a password
/// that is never shown) and ones it leaves to the tree (an extension, an attribute in another
/// case), and for a user another tenant's integration created and this one links.
#[tokio::test]
async fn a_created_put_or_patched_user_answers_what_a_get_of_it_answers() {
    let app = TestApp::spawn().await;
    app.create_tenant("other").await;
    allow_linking(&app, "main").await;
    let i = app.integration("main").await;
    let o = app.integration("other").await;
    let full = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "externalId": "701984", "userName": "bjensen@example.com",
        "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen",
                 "givenName": "Barbara", "middleName": "Jane", "honorificPrefix": "Ms.",
                 "honorificSuffix": "III"},
        "displayName": "Babs Jensen", "nickName": "Babs",
        "profileUrl": "https://login.example.com/bjensen",
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza",
                       "locality": "Hollywood", "region": "CA", "postalCode": "91608",
                       "country": "USA", "primary": true}],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
        "userType": "Employee", "title": "Tour Guide", "preferredLanguage": "en-US",
        "locale": "en-US", "timezone": "America/Los_Angeles", "active": true,
        "password": "t1meMa$heen"
    });
    let bodies = [
        full,
        json!({"userName": "suspended", "active": false}),
        json!({"userName": "q\"uote ünï", "displayName": "A \"quoted\" \\ name\n"}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                           "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
               "userName": "entra@example.com",
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                   {"employeeNumber": "42", "department": "Ops"}}),
        json!({"userName": "cased", "DisplayName": "Other case"}),
    ];
    for body in bodies {
        let created = app.scim(&i, "POST", "/Users", Some(body.clone())).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert!(!created.body.contains("t1meMa"), "{}", created.body);
        let id = created.json()["id"].as_str().unwrap().to_string();
        let fetched = app.scim(&i, "GET", &format!("/Users/{id}"), None).await;
        assert_eq!(fetched.status, 200, "{}", fetched.body);
        assert_eq!(created.json(), fetched.json(), "{body}");
        assert_eq!(created.header("etag"), fetched.header("etag"), "{body}");
        assert_eq!(
            created.location().as_deref(),
            fetched.json()["meta"]["location"].as_str(),
            "{body}"
        );
        // A GET, a PUT and a PATCH in the default view answer what the rendered tree does
        // (excluding `password`, never returned, changes nothing but takes the tree path).
        assert_eq!(fetched.json(), as_rendered(&app, &i, &id).await, "{body}");
        let mut replaced = body.clone();
        replaced["nickName"] = json!("Replaced \"nick\"");
        let put = app
            .scim(&i, "PUT", &format!("/Users/{id}"), Some(replaced))
            .await;
        assert_eq!(put.status, 200, "{}", put.body);
        assert_eq!(put.json()["nickName"], "Replaced \"nick\"", "{body}");
        assert_eq!(put.json(), as_rendered(&app, &i, &id).await, "{body}");
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": "Patched"}]});
        let patched = app
            .scim(&i, "PATCH", &format!("/Users/{id}"), Some(patch))
            .await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        assert_eq!(patched.json()["title"], "Patched", "{body}");
        assert_eq!(patched.json(), as_rendered(&app, &i, &id).await, "{body}");
        let again = app.scim(&i, "GET", &format!("/Users/{id}"), None).await;
        assert_eq!(patched.header("etag"), again.header("etag"), "{body}");
        assert_eq!(patched.json(), again.json(), "{body}");
    }
    // Created in the other tenant, then linked here: answered from the stored row.
    create(&app, &o, "shared").await;
    let linked = app.scim(&i, "POST", "/Users", Some(user("shared"))).await;
    assert_eq!(linked.status, 201, "{}", linked.body);
    let id = linked.json()["id"].as_str().unwrap().to_string();
    let fetched = app.scim(&i, "GET", &format!("/Users/{id}"), None).await;
    assert_eq!(linked.json(), fetched.json());
    assert_eq!(linked.header("etag"), fetched.header("etag"));
    assert_eq!(
        linked.location().as_deref(),
        fetched.json()["meta"]["location"].as_str()
    );
}

/// A PUT or a PATCH answers the user from what it wrote, without reading them back: its body and
/// ETag are what a GET then answers, whatever the write changed — the profile, the userName,
/// `active` both ways (the access's version), a password (`updated_at` only), the externalId
/// (read back), or nothing — for a user in a group, in the default view and in the tree's.
#[tokio::test]
async fn a_put_or_patch_answers_what_a_get_then_answers() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let u = create(&app, &i, "writer").await;
    let g = app
        .scim(
            &i,
            "POST",
            "/Groups",
            Some(json!({"displayName": "Writers", "members": [{"value": u}]})),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    let patch = |op: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [op]});
    let mut renamed = user("renamed");
    renamed["externalId"] = json!("ext-writer");
    let mut suspended = renamed.clone();
    suspended["active"] = json!(false);
    let mut with_password = renamed.clone();
    with_password["password"] = json!("t1meMa$heen");
    let mut new_external = renamed.clone();
    new_external["externalId"] = json!("ext-new");
    let steps = [
        ("PUT", user("writer")),
        ("PUT", renamed.clone()),
        ("PUT", suspended),
        (
            "PATCH",
            patch(json!({"op": "replace", "path": "active", "value": true})),
        ),
        ("PUT", with_password),
        ("PUT", new_external),
        (
            "PATCH",
            patch(json!({"op": "replace", "path": "displayName", "value": "Patched"})),
        ),
        (
            "PATCH",
            patch(json!({"op": "add", "path": "nickName", "value": "W"})),
        ),
    ];
    let mut etags = Vec::new();
    for (method, body) in steps {
        for query in ["", "?excludedAttributes=password"] {
            let path = format!("/Users/{u}{query}");
            let written = app.scim(&i, method, &path, Some(body.clone())).await;
            assert_eq!(written.status, 200, "{method} {body}: {}", written.body);
            let read = app.scim(&i, "GET", &path, None).await;
            assert_eq!(written.json(), read.json(), "{method}{query} {body}");
            assert_eq!(
                written.header("etag"),
                read.header("etag"),
                "{method}{query} {body}"
            );
            assert_eq!(
                written.json()["groups"][0]["display"],
                "Writers",
                "{method}{query}"
            );
            etags.push(written.header("etag"));
        }
    }
    // The same write twice changes nothing the second time; a change is a new version.
    assert_eq!(etags[0], etags[1]);
    assert_ne!(etags[1], etags[2]);
}

/// Every way a list reads users (a page in the default order, a continued page, a `userName eq`
/// look-up, a sorted page, a filter the database cannot index, without `groups`) answers each
/// user exactly as a GET of that user does: the list's rows come packed in one text value
/// (`db::packed_rows`), so text holding the packing's own separators (`:`, `,`, a newline),
/// quotes, backslashes and non-ASCII, NULL and empty columns, and group names alike must come
/// back whole.
#[tokio::test]
async fn every_list_answers_each_user_as_a_get_of_them_does() {
    let app = TestApp::spawn().await;
    app.create_tenant("other").await;
    allow_linking(&app, "main").await;
    let i = app.integration("main").await;
    let o = app.integration("other").await;
    let bodies = [
        json!({"userName": "a:b,c", "externalId": "x:1,2\n3", "displayName": "Line\nbreak, \"q\" \\ Łódź",
               "nickName": "", "title": "12:34,"}),
        json!({"userName": "ünï 名前", "active": false, "emails": [{"value": "u@example.com"}]}),
        json!({"userName": "plain"}),
        json!({"userName": "10:digits", "externalId": "", "name": {"givenName": "7:x"}}),
    ];
    let mut ids = Vec::new();
    for body in bodies {
        let created = app.scim(&i, "POST", "/Users", Some(body.clone())).await;
        assert_eq!(created.status, 201, "{}", created.body);
        ids.push(created.json()["id"].as_str().unwrap().to_string());
    }
    // Made by the other tenant's integration and linked here: no profile, no externalId here.
    create(&app, &o, "linked:one").await;
    let linked = app
        .scim(
            &i,
            "POST",
            "/Users",
            Some(json!({"userName": "linked:one"})),
        )
        .await;
    assert_eq!(linked.status, 201, "{}", linked.body);
    ids.push(linked.json()["id"].as_str().unwrap().to_string());
    for (name, members) in [
        ("Ops, \"night\" : shift\\", &ids[..3]),
        ("Zeta ünï", &ids[1..]),
        ("plain group", &ids[..1]),
    ] {
        let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
        let g = app
            .scim(
                &i,
                "POST",
                "/Groups",
                Some(json!({"displayName": name, "members": members})),
            )
            .await;
        assert_eq!(g.status, 201, "{}", g.body);
    }
    let mut alone = std::collections::BTreeMap::new();
    let mut without_groups = std::collections::BTreeMap::new();
    for id in &ids {
        let got = app.scim(&i, "GET", &format!("/Users/{id}"), None).await;
        assert_eq!(got.status, 200, "{}", got.body);
        alone.insert(id.clone(), got.json());
        let got = app
            .scim(
                &i,
                "GET",
                &format!("/Users/{id}?excludedAttributes=groups"),
                None,
            )
            .await;
        without_groups.insert(id.clone(), got.json());
    }
    let check = |page: &Value, expected: &std::collections::BTreeMap<String, Value>, what: &str| {
        let listed = page["Resources"].as_array().expect("Resources");
        for user in listed {
            let id = user["id"].as_str().expect("id");
            assert_eq!(Some(user), expected.get(id), "{what}: {id}");
        }
        listed.len()
    };
    let everyone = app.scim(&i, "GET", "/Users", None).await.json();
    assert_eq!(check(&everyone, &alone, "page"), ids.len());
    let mut seen = 0;
    for start in [1, 3, 5] {
        let page = app
            .scim(
                &i,
                "GET",
                &format!("/Users?startIndex={start}&count=2"),
                None,
            )
            .await
            .json();
        seen += check(&page, &alone, "pages of two");
    }
    assert_eq!(seen, ids.len());
    let sorted = app
        .scim(
            &i,
            "GET",
            "/Users?sortBy=userName&sortOrder=descending",
            None,
        )
        .await
        .json();
    assert_eq!(check(&sorted, &alone, "sorted"), ids.len());
    for user in alone.values() {
        let name = user["userName"].as_str().unwrap();
        let filter = urlencode(&format!(
            "userName eq \"{}\"",
            name.replace('\\', "\\\\").replace('"', "\\\"")
        ));
        let found = app
            .scim(&i, "GET", &format!("/Users?filter={filter}"), None)
            .await
            .json();
        assert_eq!(check(&found, &alone, "look-up"), 1, "{name}");
    }
    let unindexed = app
        .scim(
            &i,
            "GET",
            &format!("/Users?filter={}", urlencode("title pr or userName pr")),
            None,
        )
        .await
        .json();
    assert_eq!(check(&unindexed, &alone, "unindexed filter"), ids.len());
    let bare = app
        .scim(&i, "GET", "/Users?excludedAttributes=groups", None)
        .await
        .json();
    assert_eq!(check(&bare, &without_groups, "without groups"), ids.len());
    // And each is the user a GET shows, less their groups: same version.
    for user in bare["Resources"].as_array().expect("Resources") {
        let mut shown = alone[user["id"].as_str().expect("id")].clone();
        shown.as_object_mut().expect("object").remove("groups");
        assert_eq!(user, &shown);
    }
    let some_in_groups = alone
        .values()
        .filter(|u| u["groups"][0].is_object())
        .count();
    assert!(
        some_in_groups >= 3,
        "the users are in groups: {some_in_groups}"
    );
}

#[tokio::test]
async fn creating_a_user_answers_201_with_location_etag_and_the_full_resource() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let res = app.scim(&i, "POST", "/Users", Some(user("Jane.Doe"))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let body = res.json();
    let id = body["id"].as_str().unwrap();
    assert_eq!(body["userName"], "Jane.Doe");
    assert_eq!(body["externalId"], "ext-Jane.Doe");
    assert_eq!(body["active"], true);
    assert_eq!(body["groups"], json!([]));
    assert_eq!(body["name"]["givenName"], "Given");
    assert_eq!(body["meta"]["resourceType"], "User");
    let location = res.location().unwrap();
    assert!(location.ends_with(&format!("/Users/{id}")), "{location}");
    assert_eq!(body["meta"]["location"], location);
    assert_eq!(
        res.header("etag").unwrap(),
        body["meta"]["version"].as_str().unwrap()
    );
    let got = app.scim(&i, "GET", &format!("/Users/{id}"), None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["emails"][0]["value"], "Jane.Doe@example.com");
    // The create answers the user as it was stored (it is not read back): the same body and
    // version as a GET, an inactive one included.
    assert_eq!(got.json(), body);
    assert_eq!(got.header("etag"), res.header("etag"));
    let mut off = user("Off.User");
    off["active"] = json!(false);
    let made = app.scim(&i, "POST", "/Users", Some(off)).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let off_id = made.json()["id"].as_str().unwrap().to_string();
    let read = app.scim(&i, "GET", &format!("/Users/{off_id}"), None).await;
    assert_eq!(read.json(), made.json());
    assert_eq!(made.json()["active"], false);
    assert_eq!(read.header("etag"), made.header("etag"));
}

#[tokio::test]
async fn a_user_without_emails_lists_emails_as_an_empty_array() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let res = app
        .scim(
            &i,
            "POST",
            "/Users",
            Some(json!({"userName": "solo", "emails": []})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.json()["emails"], json!([]));
    let list = app.scim(&i, "GET", "/Users", None).await.json();
    assert_eq!(list["Resources"][0]["emails"], json!([]));
    assert_eq!(list["Resources"][0]["groups"], json!([]));
}

#[tokio::test]
async fn username_is_unique_case_insensitively_with_409_uniqueness_in_the_same_tenant() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    create(&app, &i, "jdoe").await;
    let res = app.scim(&i, "POST", "/Users", Some(user("JDOE"))).await;
    assert_eq!(res.status, 409);
    assert_eq!(res.json()["scimType"], "uniqueness");
    let found = app
        .scim(
            &i,
            "GET",
            &format!("/Users?filter={}", urlencode("userName eq \"JDoe\"")),
            None,
        )
        .await
        .json();
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["userName"], "jdoe");
}

/// A PUT renaming a user to a taken userName is 409 `uniqueness` and changes nothing: with the
/// same externalId, emails and state, the profile's update is the request's last write and would
/// end its transaction in the same trip (`db::last_write`), but it fails first and the whole
/// request is rolled back. The next PUT commits.
#[tokio::test]
async fn a_put_to_a_taken_username_is_409_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    create(&app, &i, "taken").await;
    let id = create(&app, &i, "mover").await;
    let path = format!("/Users/{id}");
    let mut body = user("mover");
    body["userName"] = json!("TAKEN");
    body["displayName"] = json!("Should not stick");
    let res = app.scim(&i, "PUT", &path, Some(body)).await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert_eq!(res.json()["scimType"], "uniqueness");
    let now = app.scim(&i, "GET", &path, None).await.json();
    assert_eq!(now["userName"], "mover");
    assert_eq!(now["displayName"], "mover display");
    let mut body = user("mover");
    body["displayName"] = json!("Moved");
    let res = app.scim(&i, "PUT", &path, Some(body)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["displayName"], "Moved");
    let now = app.scim(&i, "GET", &path, None).await.json();
    assert_eq!(now["displayName"], "Moved");
    assert_eq!(now["meta"]["version"], res.json()["meta"]["version"]);
}

/// After each PUT that changes one of a profile's searchable values (userName's case, the primary
/// email, displayName), all three, or none, each column and its lower-case key hold the PUT's
/// value, every filter on it finds the user, and a GET answers the PUT's version.
#[tokio::test]
async fn a_put_keeps_every_searchable_column_and_its_filter_in_step() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let id = create(&app, &i, "Parts").await;
    let path = format!("/Users/{id}");
    let mut body = user("Parts");
    type Change = fn(&mut Value);
    let steps: [(&str, Change); 5] = [
        ("nothing searchable", |b| b["title"] = json!("Engineer")),
        ("the userName's case", |b| b["userName"] = json!("PARTS")),
        (
            "the email",
            |b| {
                b["emails"] =
                    json!([{"value": "Moved@Example.com", "type": "work", "primary": true}])
            },
        ),
        ("the displayName", |b| b["displayName"] = json!("Part Two")),
        ("all three", |b| {
            b["userName"] = json!("parts-renamed");
            b["emails"] = json!([{"value": "third@example.com", "primary": true}]);
            b["displayName"] = json!("Part Three");
        }),
    ];
    for (change, apply) in steps {
        apply(&mut body);
        let res = app.scim(&i, "PUT", &path, Some(body.clone())).await;
        assert_eq!(res.status, 200, "{change}: {}", res.body);
        let (name, email, display) = (
            body["userName"].as_str().unwrap(),
            body["emails"][0]["value"].as_str().unwrap(),
            body["displayName"].as_str().unwrap(),
        );
        let stored = app
            .count(
                "SELECT COUNT(*) FROM users WHERE id = $1 AND username = $2 AND username_lower = $3 \
                 AND email = $4 AND email_lower = $5 AND display_name = $6 \
                 AND display_name_lower = $7",
                &[
                    &id,
                    name,
                    &name.to_lowercase(),
                    email,
                    &email.to_lowercase(),
                    display,
                    &display.to_lowercase(),
                ],
            )
            .await;
        assert_eq!(stored, 1, "{change}: the columns hold the PUT's values");
        for filter in [
            format!("userName eq \"{}\"", name.to_uppercase()),
            format!("emails.value eq \"{}\"", email.to_lowercase()),
            format!("displayName eq \"{display}\""),
        ] {
            let found = app
                .scim(
                    &i,
                    "GET",
                    &format!("/Users?filter={}", urlencode(&filter)),
                    None,
                )
                .await
                .json();
            assert_eq!(found["totalResults"], 1, "{change}: {filter}: {found}");
            assert_eq!(found["Resources"][0]["id"], json!(id), "{change}: {filter}");
        }
        let got = app.scim(&i, "GET", &path, None).await.json();
        assert_eq!(got["userName"], json!(name), "{change}");
        assert_eq!(
            got["meta"]["version"],
            res.json()["meta"]["version"],
            "{change}"
        );
    }
}

#[tokio::test]
async fn a_username_known_in_another_tenant_is_linked_not_duplicated() {
    let app = TestApp::spawn().await;
    app.create_tenant("other").await;
    let a = app.integration("main").await;
    let b = app.integration("other").await;
    let id = create(&app, &a, "shared").await;
    let mut body = user("SHARED");
    body["displayName"] = json!("Changed by other tenant");
    // Linking a user of another tenant is the instance's decision (issue 10): off by default.
    let res = app.scim(&b, "POST", "/Users", Some(body.clone())).await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert_eq!(res.json()["scimType"], "uniqueness");
    allow_linking(&app, "other").await;
    let res = app.scim(&b, "POST", "/Users", Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let linked = res.json();
    assert_eq!(linked["id"], id);
    // The other tenant's integration did not create the user: global attributes stay, and it
    // is not shown them.
    assert!(linked.get("displayName").is_none(), "{linked}");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM users WHERE id = $1 AND display_name = 'shared display'",
            &[&id]
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM users WHERE username_lower = 'shared'",
            &[]
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE user_id = $1",
            &[&id]
        )
        .await,
        2
    );
}

#[tokio::test]
async fn an_integration_cannot_change_the_password_or_profile_of_a_user_it_did_not_create() {
    let app = TestApp::spawn().await;
    app.create_tenant("other").await;
    let a = app.integration("main").await;
    let b = app.integration("other").await;
    let id = create(&app, &a, "owned").await;
    allow_linking(&app, "other").await;
    app.scim(&b, "POST", "/Users", Some(user("owned"))).await;
    let res = app
        .scim(
            &b,
            "PATCH",
            &format!("/Users/{id}"),
            Some(json!({"Operations": [{"op": "replace", "path": "password", "value": "takeover-password"}]})),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    let res = app
        .scim(
            &b,
            "PATCH",
            &format!("/Users/{id}"),
            Some(json!({"Operations": [{"op": "replace", "path": "displayName", "value": "Hijacked"}]})),
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(res.json().get("displayName").is_none(), "{}", res.body);
    assert_eq!(
        app.scim(&a, "GET", &format!("/Users/{id}"), None)
            .await
            .json()["displayName"],
        "owned display"
    );
    // Its own tenant-scoped state it may change.
    let res = app
        .scim(
            &b,
            "PATCH",
            &format!("/Users/{id}"),
            Some(json!({"Operations": [{"op": "replace", "value": {"active": false, "externalId": "b-1"}}]})),
        )
        .await;
    assert_eq!(res.json()["active"], false);
    assert_eq!(res.json()["externalId"], "b-1");
    let in_a = app
        .scim(&a, "GET", &format!("/Users/{id}"), None)
        .await
        .json();
    assert_eq!(in_a["active"], true);
    assert_eq!(in_a["externalId"], "ext-owned");
}

#[tokio::test]
async fn a_password_sent_by_scim_lets_the_user_sign_in_and_is_never_returned() {
    let app = TestApp::spawn().await;
    app.create_superadmin("root", "root password 1").await;
    let i = app.integration("main").await;
    let mut body = user("pat");
    body["password"] = json!("first password 1");
    let res = app.scim(&i, "POST", "/Users", Some(body)).await;
    assert!(!res.body.contains("first password"));
    assert!(res.json().get("password").is_none());
    let id = res.json()["id"].as_str().unwrap().to_string();
    app.sign_in("pat", "first password 1").await;
    app.sign_in("pat@example.com", "first password 1").await;
    let res = app
        .scim(
            &i,
            "PATCH",
            &format!("/Users/{id}"),
            Some(json!({"Operations": [{"op": "replace", "path": "password", "value": "second password 2"}]})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.json().get("password").is_none());
    app.sign_in("pat", "second password 2").await;
    let mut put = user("pat");
    put["password"] = json!("third password 3");
    let res = app
        .scim(&i, "PUT", &format!("/Users/{id}"), Some(put))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    app.sign_in("pat", "third password 3").await;
}

#[tokio::test]
async fn active_false_suspends_in_the_tenant_ends_sessions_and_keeps_the_record_readable() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let mut body = user("sam");
    body["password"] = json!("sams password 1");
    let id = app.scim(&i, "POST", "/Users", Some(body)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.sign_in("sam", "sams password 1").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE user_id = $1", &[&id])
            .await,
        1
    );
    let res = app
        .scim(
            &i,
            "PATCH",
            &format!("/Users/{id}"),
            Some(json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["active"], false);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE user_id = $1", &[&id])
            .await,
        0
    );
    let got = app.scim(&i, "GET", &format!("/Users/{id}"), None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["active"], false);
    // Suspended in every tenant it has: no sign-in.
    let res = app
        .post_form(
            "/api/auth/login",
            &[("username", "sam"), ("password", "sams password 1")],
            None,
        )
        .await;
    assert!(res.session_cookie().is_none());
    let filtered = app
        .scim(
            &i,
            "GET",
            &format!("/Users?filter={}", urlencode("active eq false")),
            None,
        )
        .await
        .json();
    assert_eq!(filtered["totalResults"], 1);
    let mut put = user("sam");
    put["active"] = json!(true);
    app.scim(&i, "PUT", &format!("/Users/{id}"), Some(put))
        .await;
    app.sign_in("sam", "sams password 1").await;
}

#[tokio::test]
async fn delete_removes_tenant_access_and_memberships_keeps_the_global_user_and_twice_is_404() {
    let app = TestApp::spawn().await;
    app.create_tenant("other").await;
    let a = app.integration("main").await;
    let b = app.integration("other").await;
    let id = create(&app, &a, "dora").await;
    allow_linking(&app, "other").await;
    app.scim(&b, "POST", "/Users", Some(user("dora"))).await;
    let g = app
        .scim(
            &a,
            "POST",
            "/Groups",
            Some(json!({"displayName": "G", "members": [{"value": id}]})),
        )
        .await
        .json();
    assert_eq!(g["members"].as_array().unwrap().len(), 1);
    app.bind_managed_role("main", "Viewer", &id).await;
    app.bind_managed_role("other", "Viewer", &id).await;
    let bindings = "SELECT COUNT(*) FROM bindings WHERE subject_id = $1 AND tenant_id = $2";
    let res = app.scim(&a, "DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(res.status, 204);
    // The access ended, and the roles bound to the user in this tenant with it (given access
    // again, they start without them); the other tenant's binding stays.
    assert_eq!(app.count(bindings, &[&id, "main"]).await, 0);
    assert_eq!(app.count(bindings, &[&id, "other"]).await, 1);
    assert_eq!(
        app.scim(&a, "GET", &format!("/Users/{id}"), None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.scim(&a, "DELETE", &format!("/Users/{id}"), None)
            .await
            .status,
        404
    );
    let g = app
        .scim(
            &a,
            "GET",
            &format!("/Groups/{}", g["id"].as_str().unwrap()),
            None,
        )
        .await
        .json();
    assert_eq!(g["members"], json!([]));
    assert_eq!(
        app.scim(&b, "GET", &format!("/Users/{id}"), None)
            .await
            .status,
        200
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE id = $1", &[&id])
            .await,
        1
    );
}

#[tokio::test]
async fn another_tenants_users_are_invisible() {
    let app = TestApp::spawn().await;
    app.create_tenant("other").await;
    let a = app.integration("main").await;
    let b = app.integration("other").await;
    let id = create(&app, &a, "hidden").await;
    assert_eq!(
        app.scim(&b, "GET", &format!("/Users/{id}"), None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.scim(&b, "PUT", &format!("/Users/{id}"), Some(user("hidden")))
            .await
            .status,
        404
    );
    assert_eq!(
        app.scim(&b, "DELETE", &format!("/Users/{id}"), None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.scim(&b, "GET", "/Users", None).await.json()["totalResults"],
        0
    );
}

#[tokio::test]
async fn filters_on_indexed_attributes_find_the_right_users() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    for n in ["alice", "bob", "carol"] {
        create(&app, &i, n).await;
        app.clock.advance_minutes(1);
    }
    let cases = [
        ("userName eq \"BOB\"", vec!["bob"]),
        ("userName sw \"a\"", vec!["alice"]),
        ("userName co \"o\"", vec!["bob", "carol"]),
        ("externalId eq \"ext-carol\"", vec!["carol"]),
        ("emails.value eq \"ALICE@example.com\"", vec!["alice"]),
        (
            "emails[type eq \"work\" and value eq \"bob@example.com\"]",
            vec!["bob"],
        ),
        ("displayName eq \"carol display\"", vec!["carol"]),
        (
            "active eq true and not (userName eq \"bob\")",
            vec!["alice", "carol"],
        ),
        (
            "userName eq \"alice\" or userName eq \"carol\"",
            vec!["alice", "carol"],
        ),
        (
            "meta.lastModified gt \"2027-01-15T08:01:30Z\"",
            vec!["carol"],
        ),
        ("userName pr", vec!["alice", "bob", "carol"]),
        ("id eq \"1a2b3c4d-0000-0000-0000-000000000000\"", vec![]),
    ];
    for (filter, expected) in cases {
        let res = app
            .scim(
                &i,
                "GET",
                &format!("/Users?filter={}&sortBy=userName", urlencode(filter)),
                None,
            )
            .await;
        assert_eq!(res.status, 200, "{filter}: {}", res.body);
        assert_eq!(names_of(&res.json()), expected, "{filter}");
    }
}

#[tokio::test]
async fn lists_page_with_start_index_and_count_and_sort_both_ways() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    for n in ["u1", "u2", "u3", "u4", "u5"] {
        create(&app, &i, n).await;
    }
    let page = app
        .scim(
            &i,
            "GET",
            "/Users?startIndex=2&count=2&sortBy=userName",
            None,
        )
        .await
        .json();
    assert_eq!(page["totalResults"], 5);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(page["Resources"][0]["userName"], "u2");
    assert_eq!(page["Resources"][1]["userName"], "u3");
    let desc = app
        .scim(
            &i,
            "GET",
            "/Users?sortBy=userName&sortOrder=descending&count=1",
            None,
        )
        .await
        .json();
    assert_eq!(desc["Resources"][0]["userName"], "u5");
    let none = app.scim(&i, "GET", "/Users?count=0", None).await.json();
    assert_eq!(none["totalResults"], 5);
    assert_eq!(none["Resources"], json!([]));
    let big = app
        .scim(&i, "GET", "/Users?count=100000", None)
        .await
        .json();
    assert_eq!(big["itemsPerPage"], 5);
    let search = app
        .scim(
            &i,
            "POST",
            "/Users/.search",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": "userName eq \"u4\"", "attributes": ["userName"]}),
            ),
        )
        .await;
    assert_eq!(search.status, 200, "{}", search.body);
    let r = &search.json()["Resources"][0];
    assert_eq!(r["userName"], "u4");
    assert!(r.get("emails").is_none());
    assert!(r.get("id").is_some());
}

/// `active eq …` (answered from the tenant's access rows alone, `db::scim_filter::only_access`)
/// lists this tenant's users whose access is (or is not) active, in creation order, counted
/// whole however the page is cut, never a superadmin granted access by hand nor another
/// tenant's users.
#[tokio::test]
async fn a_filter_on_active_lists_the_tenants_users_in_creation_order_without_superadmins() {
    let (app, root) = TestApp::with_admin().await;
    app.create_tenant("other").await;
    let i = app.integration("main").await;
    let o = app.integration("other").await;
    let res = app
        .post_form(
            "/api/users/grant",
            &[("tenant", "main"), ("login", crate::helpers::ADMIN)],
            Some(&root),
        )
        .await;
    assert!(
        crate::helpers::query_value(&res.location().unwrap(), "notice").is_some(),
        "{:?}",
        res.location()
    );
    for name in ["zed", "bob", "ann", "cy", "dee"] {
        let mut body = user(name);
        body["active"] = json!(!matches!(name, "bob" | "dee"));
        let res = app.scim(&i, "POST", "/Users", Some(body)).await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    for name in ["olga", "otto"] {
        let mut body = user(name);
        body["active"] = json!(name == "otto");
        app.scim(&o, "POST", "/Users", Some(body)).await;
    }
    let list = |filter: &str, query: &str| format!("/Users?filter={}{query}", urlencode(filter));
    for (filter, expected) in [
        ("active eq true", vec!["zed", "ann", "cy"]),
        ("active eq false", vec!["bob", "dee"]),
        ("not (active eq true)", vec!["bob", "dee"]),
        (
            "active eq true or active eq false",
            vec!["zed", "bob", "ann", "cy", "dee"],
        ),
        ("active pr", vec!["zed", "bob", "ann", "cy", "dee"]),
    ] {
        let whole = app.scim(&i, "GET", &list(filter, ""), None).await;
        assert_eq!(whole.status, 200, "{filter}: {}", whole.body);
        let whole = whole.json();
        assert_eq!(names_of(&whole), expected, "{filter}");
        assert_eq!(whole["totalResults"], expected.len(), "{filter}");
        let cut = app
            .scim(&i, "GET", &list(filter, "&count=1&startIndex=2"), None)
            .await
            .json();
        assert_eq!(
            names_of(&cut),
            expected[1..2].to_vec(),
            "{filter}, the second"
        );
        assert_eq!(
            cut["totalResults"],
            expected.len(),
            "{filter}, counted past the cut"
        );
    }
    // Unfiltered, the total is the tenant's kept count less its superadmins (on PostgreSQL
    // looked up from the superadmins' side, `POSTGRES_UNFILTERED_COUNT`).
    let all = app.scim(&i, "GET", "/Users", None).await.json();
    assert_eq!(names_of(&all), ["zed", "bob", "ann", "cy", "dee"]);
    assert_eq!(
        all["totalResults"], 5,
        "the superadmin granted access is not counted"
    );
    let theirs = app
        .scim(&o, "GET", &list("active eq false", ""), None)
        .await
        .json();
    assert_eq!(names_of(&theirs), ["olga"]);
    assert_eq!(theirs["totalResults"], 1);
}

/// Sorted by an attribute some users have no value for (`displayName`, `externalId`), those
/// without come last ascending and first descending (RFC 7644 §3.4.2.3), on both databases
/// (SQLite puts NULLs first ascending), whole, filtered, and page by page across the boundary.
#[tokio::test]
async fn users_without_the_sort_attribute_come_last_ascending_and_first_descending() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let mut ids = std::collections::HashMap::new();
    for (name, display, external) in [
        ("u1", Some("Carol"), None),
        ("u2", None, Some("x-b")),
        ("u3", Some("alice"), Some("x-c")),
        ("u4", None, None),
        ("u5", Some("Bob"), Some("x-a")),
    ] {
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
        });
        if let Some(d) = display {
            body["displayName"] = json!(d);
        }
        if let Some(e) = external {
            body["externalId"] = json!(e);
        }
        let res = app.scim(&i, "POST", "/Users", Some(body)).await;
        assert_eq!(res.status, 201, "{}", res.body);
        ids.insert(name, res.json()["id"].as_str().unwrap().to_string());
    }
    // Ties (no value) come by id, the way the sort goes.
    let by_id = |mut names: Vec<&'static str>| {
        names.sort_by_key(|n| ids[n].clone());
        names
    };
    let by_name = [vec!["u3", "u5", "u1"], by_id(vec!["u2", "u4"])].concat();
    let by_external = [vec!["u5", "u2", "u3"], by_id(vec!["u1", "u4"])].concat();
    for (sort, ascending) in [("displayName", by_name), ("externalId", by_external)] {
        let descending: Vec<&str> = {
            // Those without a value first, then the others: the ascending order reversed.
            let (valued, missing) = ascending.split_at(3);
            let mut d: Vec<&str> = missing.iter().rev().copied().collect();
            d.extend(valued.iter().rev());
            d
        };
        for (order, expected) in [
            ("ascending", ascending.to_vec()),
            ("descending", descending),
        ] {
            let path = format!("/Users?sortBy={sort}&sortOrder={order}");
            let whole = app.scim(&i, "GET", &path, None).await;
            assert_eq!(whole.status, 200, "{}", whole.body);
            assert_eq!(names_of(&whole.json()), expected, "{sort} {order}");
            let mut paged = Vec::new();
            for start in [1, 3, 5] {
                let page = app
                    .scim(
                        &i,
                        "GET",
                        &format!("{path}&startIndex={start}&count=2"),
                        None,
                    )
                    .await
                    .json();
                assert_eq!(page["totalResults"], 5, "{sort} {order} from {start}");
                paged.extend(names_of(&page));
            }
            assert_eq!(paged, expected, "{sort} {order}, two at a time");
            let filter = urlencode("userName ne \"u3\"");
            let filtered = app
                .scim(&i, "GET", &format!("{path}&filter={filter}"), None)
                .await
                .json();
            let without_u3: Vec<&str> = expected.iter().copied().filter(|n| *n != "u3").collect();
            assert_eq!(names_of(&filtered), without_u3, "{sort} {order}, filtered");
        }
    }
}

/// The userNames of a list response, in order.
fn names_of(page: &Value) -> Vec<String> {
    page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn paging_in_the_default_order_continues_where_the_last_page_ended() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let mut ids = std::collections::HashMap::new();
    for n in ["p1", "p2", "p3", "p4", "p5", "p6"] {
        ids.insert(n.to_string(), create(&app, &i, n).await);
    }
    let all = names_of(&app.scim(&i, "GET", "/Users?count=100", None).await.json());
    assert_eq!(all.len(), 6);
    let page = |start: usize| {
        let (app, i) = (&app, &i);
        async move {
            let res = app
                .scim(
                    i,
                    "GET",
                    &format!("/Users?startIndex={start}&count=2"),
                    None,
                )
                .await;
            assert_eq!(res.status, 200, "{}", res.body);
            res.json()
        }
    };
    let first = page(1).await;
    assert_eq!(names_of(&first), all[0..2]);
    assert_eq!(first["totalResults"], 6);
    let second = page(3).await;
    assert_eq!(names_of(&second), all[2..4]);
    assert_eq!(second["totalResults"], 6);
    // A user the client already saw is deleted: the next page still starts after the last user
    // it was given (paging by offset would now skip all[4]), and the total is counted again.
    let gone = app
        .scim(&i, "DELETE", &format!("/Users/{}", ids[&all[0]]), None)
        .await;
    assert_eq!(gone.status, 204, "{}", gone.body);
    let third = app
        .scim(&i, "GET", "/Users?startIndex=5&count=3", None)
        .await
        .json();
    assert_eq!(names_of(&third), all[4..6]);
    assert_eq!(
        third["totalResults"], 5,
        "counted again, not told by position"
    );
    assert_eq!(third["startIndex"], 5);
    // Another integration's walk is its own: it pages by position.
    let other = app.integration("main").await;
    let res = app
        .scim(&other, "GET", "/Users?startIndex=5&count=2", None)
        .await
        .json();
    assert_eq!(names_of(&res), all[5..6]);
    assert_eq!(res["totalResults"], 5);
    // A user created during a walk (later, so last in the order) is counted on the next page.
    let again = page(1).await;
    assert_eq!(names_of(&again), all[1..3]);
    app.clock.advance_minutes(1);
    create(&app, &i, "p7").await;
    let next = page(3).await;
    assert_eq!(names_of(&next), all[3..5]);
    assert_eq!(next["totalResults"], 6);
}

#[tokio::test]
async fn attributes_and_excluded_attributes_shape_the_response() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let id = create(&app, &i, "shape").await;
    let r = app
        .scim(
            &i,
            "GET",
            &format!("/Users/{id}?attributes=userName,name.givenName"),
            None,
        )
        .await
        .json();
    assert_eq!(r["userName"], "shape");
    assert_eq!(r["name"], json!({"givenName": "Given"}));
    assert!(r.get("emails").is_none());
    let r = app
        .scim(
            &i,
            "GET",
            &format!("/Users/{id}?excludedAttributes=emails,groups"),
            None,
        )
        .await
        .json();
    assert!(r.get("emails").is_none() && r.get("groups").is_none());
    assert_eq!(r["userName"], "shape");
}

#[tokio::test]
async fn etags_give_412_on_a_stale_if_match_and_304_on_a_matching_if_none_match() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let id = create(&app, &i, "etag").await;
    let path = i.path(&format!("/Users/{id}"));
    let first = app.scim(&i, "GET", &format!("/Users/{id}"), None).await;
    let tag = first.header("etag").unwrap();
    let res = app
        .scim_raw(
            "GET",
            &path,
            Some(&i.token),
            None,
            &[("if-none-match", &tag)],
        )
        .await;
    assert_eq!(res.status, 304);
    let patch = json!({"Operations": [{"op": "replace", "path": "displayName", "value": "New"}]});
    let res = app
        .scim_raw(
            "PATCH",
            &path,
            Some(&i.token),
            Some(patch.clone()),
            &[("if-match", &tag)],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_ne!(res.header("etag").unwrap(), tag);
    let res = app
        .scim_raw(
            "PATCH",
            &path,
            Some(&i.token),
            Some(patch),
            &[("if-match", &tag)],
        )
        .await;
    assert_eq!(res.status, 412);
    assert_eq!(res.json()["status"], "412");
    let res = app
        .scim_raw(
            "GET",
            &path,
            Some(&i.token),
            None,
            &[("if-none-match", &tag)],
        )
        .await;
    assert_eq!(res.status, 200);
}

#[tokio::test]
async fn put_replaces_the_user_and_a_failed_request_changes_nothing() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let id = create(&app, &i, "putme").await;
    create(&app, &i, "taken").await;
    let mut body = user("putme");
    body["name"] = json!({"givenName": "Only"});
    body["emails"] = json!([]);
    let res = app
        .scim(&i, "PUT", &format!("/Users/{id}"), Some(body))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["name"], json!({"givenName": "Only"}));
    assert_eq!(res.json()["emails"], json!([]));
    let before = app
        .scim(&i, "GET", &format!("/Users/{id}"), None)
        .await
        .json();
    let mut clash = user("TAKEN");
    clash["active"] = json!(false);
    let res = app
        .scim(&i, "PUT", &format!("/Users/{id}"), Some(clash))
        .await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert_eq!(res.json()["scimType"], "uniqueness");
    let after = app
        .scim(&i, "GET", &format!("/Users/{id}"), None)
        .await
        .json();
    assert_eq!(before, after);
}

/// `co`, `sw` and `ew` on a case-exact attribute (`externalId`) match case exactly, on SQLite as
/// on PostgreSQL (SQLite's `LIKE` ignored ASCII case: `externalId sw "EXT-"` found "ext-…"),
/// and on a case-insensitive one (`userName`) ignore it; wildcards in the value are literal.
/// Filters read from the users' own indexes (`userName sw`, `displayName eq`,
/// `meta.lastModified`) find and count only the tenant's users.
#[tokio::test]
async fn pattern_filters_match_case_as_the_attribute_says_and_count_only_the_tenant() {
    let app = TestApp::spawn().await;
    app.create_tenant("other").await;
    let i = app.integration("main").await;
    let other = app.integration("other").await;
    let post = |i, name, external| post_shared_name(&app, i, name, external);
    post(&i, "Ada", "EXT-Ada").await;
    post(&i, "adam", "ext-adam").await;
    post(&i, "star*ling", "ext-star").await;
    post(&other, "adele", "EXT-Adele").await;
    app.clock.advance_minutes(1);
    post(&i, "bob", "ext-bob").await;
    let since = "2027-01-15T08:00:30Z";
    let cases: [(&str, &[&str]); 12] = [
        ("externalId sw \"EXT-\"", &["Ada"]),
        ("externalId sw \"ext-\"", &["adam", "bob", "star*ling"]),
        ("externalId co \"T-A\"", &["Ada"]),
        ("externalId ew \"-ADA\"", &[]),
        ("externalId ew \"-Ada\"", &["Ada"]),
        ("userName sw \"AD\"", &["Ada", "adam"]),
        ("userName sw \"star*\"", &["star*ling"]),
        ("userName sw \"sta?\"", &[]),
        ("userName co \"[a\"", &[]),
        (
            "displayName eq \"shared name\"",
            &["Ada", "adam", "bob", "star*ling"],
        ),
        (&format!("meta.lastModified gt \"{since}\""), &["bob"]),
        (
            &format!("meta.lastModified le \"{since}\" and userName sw \"a\""),
            &["Ada", "adam"],
        ),
    ];
    for (filter, expected) in cases {
        let path = format!("/Users?filter={}&sortBy=userName", urlencode(filter));
        let res = app.scim(&i, "GET", &path, None).await;
        assert_eq!(res.status, 200, "{filter}: {}", res.body);
        let page = res.json();
        assert_eq!(names_of(&page), expected, "{filter}");
        assert_eq!(page["totalResults"], expected.len(), "{filter}: {page}");
        // A page of one still counts them all.
        let path = format!("/Users?filter={}&count=1", urlencode(filter));
        let page = app.scim(&i, "GET", &path, None).await.json();
        assert_eq!(
            page["totalResults"],
            expected.len(),
            "{filter}, count=1: {page}"
        );
    }
}

/// Texts compare bytewise on both databases, whatever PostgreSQL's own collation (`scripts/postgres`
/// starts its server with ICU's `en-US`, as a server installed with a locale compares): a prefix
/// finds only the texts that start with it (`ábc` does not start with `a`, `A1` not with `a`),
/// `gt` and `sortBy` follow code points (capitals before small letters, `á` after `b`), and a
/// prefix ending in the last code point still finds its texts.
#[tokio::test]
async fn prefixes_and_orders_compare_texts_bytewise_on_both_databases() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let last = "ab\u{10FFFF}";
    for (name, external) in [
        ("abc", "a1"),
        ("ábc", "á1"),
        ("abd", "B1"),
        ("b", "A1"),
        ("a-c", "a-1"),
        (last, "Z"),
    ] {
        post_shared_name(&app, &i, name, external).await;
    }
    let everyone = ["a-c", "abc", "abd", last, "b", "ábc"];
    let cases: [(&str, &[&str]); 7] = [
        ("userName sw \"a\"", &everyone[..4]),
        ("userName sw \"AB\"", &everyone[1..4]),
        (&format!("userName sw \"{last}\""), &[last]),
        ("userName gt \"b\"", &["ábc"]),
        ("externalId sw \"a\"", &["a-c", "abc"]),
        ("externalId sw \"A\"", &["b"]),
        ("externalId ge \"a\"", &["a-c", "abc", "ábc"]),
    ];
    for (filter, expected) in cases {
        assert_eq!(found(&app, &i, filter).await, expected, "{filter}");
    }
    let sorted = |by: &'static str| {
        let app = &app;
        let i = &i;
        async move {
            let res = app
                .scim(i, "GET", &format!("/Users?sortBy={by}"), None)
                .await;
            assert_eq!(res.status, 200, "{by}: {}", res.body);
            names_of(&res.json())
        }
    };
    assert_eq!(sorted("userName").await, everyone);
    assert_eq!(
        sorted("externalId").await,
        ["b", "abd", last, "a-c", "abc", "ábc"]
    );
}

/// On PostgreSQL the columns filters compare are in the `"C"` collation after `migrate`, also
/// where an older install left them in the database's own (set back here to `"default"`, the
/// ICU collation of `scripts/postgres`' server), and a `userName sw` then seeks the username's
/// index, even under the generic plan PostgreSQL turns to for a statement prepared five times
/// (sqlx prepares every statement), where a `LIKE` of a parameter read every user.
#[tokio::test]
async fn a_prefix_seeks_the_usernames_index_on_postgresql_whatever_its_collation() {
    let app = TestApp::spawn().await;
    if app.db.backend() != roster::db::Backend::Postgres {
        return;
    }
    let bytewise_columns = "SELECT COUNT(*) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND collation_name = 'C'";
    assert_eq!(app.count(bytewise_columns, &[]).await, 8);
    app.execute(&[
        "ALTER TABLE users ALTER COLUMN username_lower TYPE text COLLATE \"default\"",
        "INSERT INTO users (id, username, username_lower, created_at, updated_at) \
         SELECT 'bulk-' || g, 'bulk' || g, 'bulk' || g, 1, 1 FROM generate_series(1, 5000) g",
        "ANALYZE users",
    ])
    .await;
    assert_eq!(app.count(bytewise_columns, &[]).await, 7);
    let mut conn = app.db.acquire().await.unwrap();
    let changed = roster::db::collation::make_bytewise(&mut conn)
        .await
        .unwrap();
    assert_eq!(changed, 1, "only the column set back");
    assert_eq!(
        roster::db::collation::make_bytewise(&mut conn)
            .await
            .unwrap(),
        0,
        "a no-op once done"
    );
    drop(conn);
    assert_eq!(app.count(bytewise_columns, &[]).await, 8);

    use roster::db::scim_filter::{translate, Kind, Sql};
    let mut sql = Sql::new(roster::db::Backend::Postgres, Vec::new());
    let filter = roster::scim::Filter::parse("userName sw \"bulk42\"").unwrap();
    translate(Kind::User, &filter, &mut sql).unwrap();
    let mut conn = app.db.acquire().await.unwrap();
    for statement in [
        "SET plan_cache_mode = force_generic_plan".to_string(),
        format!(
            "PREPARE prefix_lookup(text, text) AS SELECT u.id FROM users u WHERE {}",
            sql.text
        ),
    ] {
        sqlx::query(&statement).execute(&mut *conn).await.unwrap();
    }
    let plan =
        crate::helpers::postgres_plan(&mut conn, "EXECUTE prefix_lookup('bulk42', 'bulk43')").await;
    assert!(
        plan.iter().any(|l| l.contains("users_username_lower_key"))
            && !plan.iter().any(|l| l.contains("Seq Scan")),
        "{plan:#?}"
    );
    let found: Vec<String> = sqlx::query_scalar("EXECUTE prefix_lookup('bulk42', 'bulk43')")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let mut found = found;
    found.sort();
    let mut expected: Vec<String> = std::iter::once(42)
        .chain(420..430)
        .chain(4200..4300)
        .map(|n| format!("bulk-{n}"))
        .collect();
    expected.sort();
    assert_eq!(found, expected);
}

/// On PostgreSQL an IdP's look-ups (`userName eq` for users, `displayName eq` for groups, the
/// first page) run the plan made once for any values (the generic plan) after their fifth run on
/// a connection, instead of being planned again at every run: their `OFFSET` is left out when
/// it is 0, whose unknown value made the generic plan look twice as costly, so that every
/// look-up spent 0.55 ms of the database's CPU planning a statement that runs in 0.06. The
/// answers stay right: each look-up finds its one user or group, a page further on (with an
/// `OFFSET`) its own rows.
#[tokio::test]
async fn postgresql_runs_a_lookups_generic_plan_instead_of_planning_it_at_every_run() {
    use roster::db::scim_users::{list, Page, ProfileText};
    use roster::scim::resource::SortOrder;
    let app = TestApp::spawn().await;
    if app.db.backend() != roster::db::Backend::Postgres {
        return;
    }
    let i = app.integration("main").await;
    for n in 0..12 {
        let res = app
            .scim(&i, "POST", "/Users", Some(user(&format!("look-{n:02}"))))
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": format!("team-{n:02}")});
        let res = app.scim(&i, "POST", "/Groups", Some(group)).await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let mut conn = app.db.acquire().await.unwrap();
    fn page(filter: Option<&roster::scim::Filter>, offset: i64) -> Page<'_> {
        Page {
            filter,
            sort_by: None,
            sort_order: SortOrder::Ascending,
            offset,
            limit: 100,
            after: None,
            with_group_refs: true,
            profile: ProfileText::ViewOrJson,
        }
    }
    for n in 0..10 {
        let name = format!("look-{n:02}");
        let filter = roster::scim::Filter::parse(&format!("userName eq \"{name}\"")).unwrap();
        let (total, users) = list(&mut conn, "main", &i.id, &page(Some(&filter), 0))
            .await
            .unwrap();
        assert_eq!((total, users.len()), (1, 1));
        assert_eq!(users[0].username, name);
        let team = format!("team-{n:02}");
        let filter = roster::scim::Filter::parse(&format!("displayName eq \"{team}\"")).unwrap();
        let (total, groups) =
            roster::db::groups::list(&mut conn, "main", &page(Some(&filter), 0), false)
                .await
                .unwrap();
        assert_eq!((total, groups.len()), (1, 1));
        assert_eq!(groups[0].0.display_name, team);
        let (total, users) = list(&mut conn, "main", &i.id, &page(None, 0))
            .await
            .unwrap();
        assert_eq!((total, users.len()), (12, 12));
    }
    let (total, users) = list(&mut conn, "main", &i.id, &page(None, 10))
        .await
        .unwrap();
    assert_eq!(
        (total, users.len()),
        (12, 2),
        "a page further on skips its offset"
    );
    let plans: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements \
         WHERE statement LIKE '%u.username_lower = %' OR statement LIKE '%g.display_name_lower = %' \
         OR statement LIKE '%FROM tenant_access a WHERE a.tenant_id%'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let runs_of = |part: &str| {
        plans
            .iter()
            .filter(|(statement, ..)| {
                statement.contains(part)
                    && !statement.contains("OFFSET $")
                    && !statement.contains("pg_prepared_statements")
            })
            .map(|(_, generic, custom)| (*generic, *custom))
            .collect::<Vec<_>>()
    };
    for part in [
        "u.username_lower = ",
        "g.display_name_lower = ",
        "FROM tenant_access a WHERE a.tenant_id",
    ] {
        assert_eq!(
            runs_of(part),
            [(5, 5)],
            "`{part}`: ten runs, five planned for their values then the generic plan's five: {plans:#?}"
        );
    }
}

/// Replicas starting together on PostgreSQL while another serves SCIM writes: three fresh
/// servers migrate a database whose filter columns an older release left in the database's
/// collation, beside 24 creates through the running one. Every start and every create succeeds,
/// and the columns end in `"C"`. (The collation's `ALTER`s ran at the end of the start's other
/// steps, holding their locks: two of three starts together failed with a deadlock.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_beside_scim_writes_set_the_collation_once_without_a_deadlock() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    if app.db.backend() != roster::db::Backend::Postgres {
        return;
    }
    let i = std::sync::Arc::new(app.integration("main").await);
    app.execute(&[
        "ALTER TABLE users ALTER COLUMN username_lower TYPE text COLLATE \"default\", \
         ALTER COLUMN email_lower TYPE text COLLATE \"default\"",
        "ALTER TABLE groups ALTER COLUMN display_name_lower TYPE text COLLATE \"default\"",
        "ALTER TABLE tenant_access_sources ALTER COLUMN external_id TYPE text COLLATE \"default\"",
    ])
    .await;
    let mut creates = tokio::task::JoinSet::new();
    for n in 0..24 {
        let (app, i) = (app.clone(), i.clone());
        creates.spawn(async move {
            let mut body = user(&format!("beside-{n}"));
            body["externalId"] = json!(format!("x-{n}"));
            app.scim(&i, "POST", "/Users", Some(body)).await
        });
    }
    let start = || async {
        let db = roster::db::Db::connect(&app.database_url)
            .await
            .expect("connect");
        let started = db.migrate().await;
        db.close().await;
        started
    };
    let (first, second, third) = tokio::join!(start(), start(), start());
    for started in [first, second, third] {
        started.expect("a replica's start");
    }
    for res in creates.join_all().await {
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let bytewise_columns = "SELECT COUNT(*) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND collation_name = 'C'";
    assert_eq!(app.count(bytewise_columns, &[]).await, 8);
    assert_eq!(found(&app, &i, "externalId sw \"x-1\"").await.len(), 11);
}

/// Creates `name` with `external` as its externalId and the display name "Shared Name".
async fn post_shared_name(app: &TestApp, i: &Integration, name: &str, external: &str) {
    let mut body = user(name);
    body["externalId"] = json!(external);
    body["displayName"] = json!("Shared Name");
    let res = app.scim(i, "POST", "/Users", Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
}

/// The users a filter finds, by userName.
async fn found(app: &TestApp, i: &Integration, filter: &str) -> Vec<String> {
    let path = format!("/Users?filter={}&sortBy=userName", urlencode(filter));
    let res = app.scim(i, "GET", &path, None).await;
    assert_eq!(res.status, 200, "{filter}: {}", res.body);
    names_of(&res.json())
}

#[tokio::test]
async fn email_filters_follow_every_write_of_the_emails_and_only_those() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let id = create(&app, &i, "mailer").await;
    let work = "emails[type eq \"work\" and value eq \"mailer@example.com\"]";
    assert_eq!(found(&app, &i, work).await, vec!["mailer"]);
    // Entra ID's look-up when it matches users on their work email: the same element filter.
    let entra = "emails[type eq \"work\"].value eq \"MAILER@example.com\"";
    assert_eq!(found(&app, &i, entra).await, vec!["mailer"]);
    assert!(found(
        &app,
        &i,
        "emails[type eq \"home\"].value eq \"mailer@example.com\""
    )
    .await
    .is_empty());
    // A PUT that changes the name and keeps the emails keeps them findable.
    let mut body = user("mailer");
    body["name"] = json!({"givenName": "Renamed"});
    let res = app
        .scim(&i, "PUT", &format!("/Users/{id}"), Some(body.clone()))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["name"]["givenName"], "Renamed");
    assert_eq!(found(&app, &i, work).await, vec!["mailer"]);
    // Only the type changes: the old pair is gone, the new one found.
    body["emails"] = json!([{"value": "mailer@example.com", "type": "home", "primary": true}]);
    let res = app
        .scim(&i, "PUT", &format!("/Users/{id}"), Some(body))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(found(&app, &i, work).await.is_empty());
    let home = "emails[type eq \"home\" and value eq \"mailer@example.com\"]";
    assert_eq!(found(&app, &i, home).await, vec!["mailer"]);
    // A PATCH of the value moves the lookup to the new address.
    let patch = json!({"Operations": [
        {"op": "replace", "path": "emails[type eq \"home\"].value", "value": "new@example.com"}
    ]});
    let res = app
        .scim(&i, "PATCH", &format!("/Users/{id}"), Some(patch))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        found(&app, &i, "emails.value eq \"new@example.com\"").await,
        vec!["mailer"]
    );
    assert!(found(&app, &i, "emails.value eq \"mailer@example.com\"")
        .await
        .is_empty());
}

#[tokio::test]
async fn a_conflicting_patch_is_rejected_whole() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let id = create(&app, &i, "conflict").await;
    let res = app
        .scim(
            &i,
            "PATCH",
            &format!("/Users/{id}"),
            Some(json!({"Operations": [
                {"op": "replace", "path": "displayName", "value": "Applied?"},
                {"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@y.z"}
            ]})),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert_eq!(res.json()["scimType"], "noTarget");
    let got = app
        .scim(&i, "GET", &format!("/Users/{id}"), None)
        .await
        .json();
    assert_eq!(got["displayName"], "conflict display");
    let res = app
        .scim(
            &i,
            "PATCH",
            &format!("/Users/{id}"),
            Some(json!({"Operations": [{"op": "replace", "path": "groups", "value": []}]})),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
}

#[tokio::test]
async fn removing_active_leaves_the_user_unsuspended_and_shown_without_active() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let id = create(&app, &i, "noactive").await;
    let res = app
        .scim(
            &i,
            "PATCH",
            &format!("/Users/{id}"),
            Some(json!({"Operations": [{"op": "remove", "path": "active"}]})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.json().get("active").is_none());
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM tenant_access WHERE user_id = $1 AND active = 1",
            &[&id]
        )
        .await,
        1
    );
}

#[tokio::test]
async fn an_unquoted_filter_value_from_old_authentik_is_tolerated() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    create(&app, &i, "akadmin").await;
    let res = app
        .scim(&i, "GET", "/Users?filter=userName+eq+akadmin", None)
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["totalResults"], 1);
}

#[tokio::test]
async fn filters_on_unindexed_attributes_are_evaluated_exactly_over_a_bounded_scan() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let mut body = user("titled");
    body["title"] = json!("Engineer");
    app.scim(&i, "POST", "/Users", Some(body)).await;
    create(&app, &i, "untitled").await;
    for (f, n) in [
        ("title eq \"engineer\"", 1),
        ("name.givenName eq \"Given\" and userName sw \"un\"", 1),
        ("title pr or userName eq \"untitled\"", 2),
    ] {
        let res = app
            .scim(&i, "GET", &format!("/Users?filter={}", urlencode(f)), None)
            .await;
        assert_eq!(res.status, 200, "{f}: {}", res.body);
        assert_eq!(res.json()["totalResults"], n, "{f}");
    }
}

#[tokio::test]
async fn a_users_etag_changes_when_their_group_memberships_change() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let id = create(&app, &i, "member-etag").await;
    let path = i.path(&format!("/Users/{id}"));
    let before = app.scim(&i, "GET", &format!("/Users/{id}"), None).await;
    let tag = before.header("etag").unwrap();
    let group = app
        .scim(
            &i,
            "POST",
            "/Groups",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Etag Watchers"})),
        )
        .await
        .json();
    let gid = group["id"].as_str().unwrap().to_string();
    let add = json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
    let res = app
        .scim(&i, "PATCH", &format!("/Groups/{gid}"), Some(add))
        .await;
    assert!(res.status.is_success(), "{}", res.body);

    let res = app
        .scim_raw(
            "GET",
            &path,
            Some(&i.token),
            None,
            &[("if-none-match", &tag)],
        )
        .await;
    assert_eq!(
        res.status, 200,
        "joining a group is a change of the user's `groups`"
    );
    let after = res.header("etag").unwrap();
    assert_ne!(after, tag);
    assert_eq!(res.json()["groups"][0]["value"], gid.as_str());

    let remove =
        json!({"Operations": [{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]});
    app.scim(&i, "PATCH", &format!("/Groups/{gid}"), Some(remove))
        .await;
    let res = app
        .scim_raw(
            "GET",
            &path,
            Some(&i.token),
            None,
            &[("if-none-match", &after)],
        )
        .await;
    assert_eq!(res.status, 200, "leaving a group is a change too");
    // The ETag is the content's: with the same groups as before, the same version as before.
    assert_eq!(res.header("etag").unwrap(), tag);

    // Back in the group: a rename of it, then its deletion, are changes of the user.
    let add = json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
    app.scim(&i, "PATCH", &format!("/Groups/{gid}"), Some(add))
        .await;
    let joined = app.scim(&i, "GET", &format!("/Users/{id}"), None).await;
    assert_eq!(joined.header("etag").unwrap(), after);
    let rename =
        json!({"Operations": [{"op": "replace", "path": "displayName", "value": "Etag Keepers"}]});
    let res = app
        .scim(&i, "PATCH", &format!("/Groups/{gid}"), Some(rename))
        .await;
    assert!(res.status.is_success(), "{}", res.body);
    let renamed = app.scim(&i, "GET", &format!("/Users/{id}"), None).await;
    let renamed_tag = renamed.header("etag").unwrap();
    assert_eq!(renamed.json()["groups"][0]["display"], "Etag Keepers");
    assert!(
        renamed_tag != after && renamed_tag != tag,
        "a rename shows in the user's groups: {renamed_tag}"
    );
    // Every read of the user tells the same version, groups shown or not.
    let filter = urlencode("userName eq \"member-etag\"");
    for query in ["", "&excludedAttributes=groups", "&attributes=userName"] {
        let listed = app
            .scim(&i, "GET", &format!("/Users?filter={filter}{query}"), None)
            .await
            .json();
        assert_eq!(
            listed["Resources"][0]["meta"]["version"],
            renamed_tag.as_str(),
            "{query}: {listed}"
        );
    }
    let res = app
        .scim(&i, "DELETE", &format!("/Groups/{gid}"), None)
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    let res = app.scim(&i, "GET", &format!("/Users/{id}"), None).await;
    assert_eq!(res.json()["groups"], json!([]));
    assert_eq!(
        res.header("etag").unwrap(),
        tag,
        "without the group the user is as before they joined it"
    );
}

/// A NUL character is refused as invalid input on both databases, and nothing is written.
/// PostgreSQL's text cannot hold one: it used to answer 503 "busy" with `Retry-After` (its
/// SQLSTATE 22021 read as SQLite's BUSY code), which an IdP retries forever.
#[tokio::test]
async fn a_nul_character_is_refused_as_invalid_input_never_as_busy() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let body = json!({"userName": "nul", "name": {"givenName": "x\u{0}y"}});
    let res = app.scim(&i, "POST", "/Users", Some(body)).await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert_eq!(res.json()["scimType"], "invalidValue");
    let detail = res.json()["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("`name.givenName`"), "{detail}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE username = $1", &["nul"])
            .await,
        0
    );
    // A NUL in an id or a filter names nobody (SQLite) or is invalid (PostgreSQL): never busy.
    let filter = format!("/Users?filter={}", urlencode("userName eq \"a\u{0}\""));
    for path in ["/Users/a%00b", filter.as_str()] {
        let res = app.scim(&i, "GET", path, None).await;
        assert!(
            matches!(res.status.as_u16(), 400 | 404) || res.json()["totalResults"] == 0,
            "{path}: {} {}",
            res.status,
            res.body
        );
        assert!(res.header("retry-after").is_none(), "{path}");
    }
}

/// A create writes the user, their emails (one row per address and type, whatever their case)
/// and their access; a create whose userName is taken (in any case) writes nothing of its own.
#[tokio::test]
async fn a_create_writes_the_user_their_emails_and_access_or_nothing() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let mut body = user("kim");
    body["emails"] = json!([
        {"value": "Kim@Example.com", "type": "work", "primary": true},
        {"value": "kim@home.example", "type": "home"},
        {"value": "KIM@example.com", "type": "WORK"},
    ]);
    let created = app.scim(&i, "POST", "/Users", Some(body.clone())).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let rows = |table: &str| format!("SELECT COUNT(*) FROM {table}");
    // The same address and type in other cases is one row.
    assert_eq!(app.count(&rows("user_emails"), &[]).await, 2);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM user_emails WHERE user_id = $1 AND value_lower = 'kim@example.com' AND kind = 'work'",
            &[&id]
        )
        .await,
        1
    );
    assert_eq!(app.count(&rows("tenant_access"), &[]).await, 1);
    assert_eq!(app.count(&rows("tenant_access_sources"), &[]).await, 1);
    let found = app
        .scim(
            &i,
            "GET",
            "/Users?filter=emails.value%20eq%20%22kim%40home.example%22",
            None,
        )
        .await
        .json();
    assert_eq!(found["totalResults"], 1, "{found}");

    body["userName"] = json!("KIM");
    body["emails"] = json!([{"value": "other@example.com", "type": "work"}]);
    let taken = app.scim(&i, "POST", "/Users", Some(body)).await;
    assert_eq!(taken.status, 409, "{}", taken.body);
    assert_eq!(taken.json()["scimType"], "uniqueness");
    assert_eq!(
        app.count(&rows("users WHERE is_superadmin = 0"), &[]).await,
        1
    );
    assert_eq!(app.count(&rows("user_emails"), &[]).await, 2);
    assert_eq!(app.count(&rows("tenant_access"), &[]).await, 1);
    assert_eq!(app.count(&rows("tenant_access_sources"), &[]).await, 1);

    // More addresses than one statement holds (`db::scim_users::EMAILS_AT_ONCE`): the user is
    // inserted on their own first, then their rows; a taken name still writes nothing.
    let addresses = |who: &str| -> Value {
        (0..260)
            .map(|n| json!({"value": format!("{who}{n}@example.com"), "type": "work"}))
            .collect()
    };
    let mut body = user("lee");
    body["emails"] = addresses("lee");
    let created = app.scim(&i, "POST", "/Users", Some(body.clone())).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let lee = created.json()["id"].as_str().unwrap().to_string();
    assert_eq!(created.json()["emails"].as_array().map(Vec::len), Some(260));
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM user_emails WHERE user_id = $1",
            &[&lee]
        )
        .await,
        260
    );
    assert_eq!(app.count(&rows("tenant_access"), &[]).await, 2);
    assert_eq!(app.count(&rows("tenant_access_sources"), &[]).await, 2);
    assert_eq!(
        self::found(&app, &i, "emails.value eq \"lee259@example.com\"").await,
        vec!["lee"]
    );
    body["userName"] = json!("LEE");
    body["emails"] = addresses("other");
    let taken = app.scim(&i, "POST", "/Users", Some(body)).await;
    assert_eq!(taken.status, 409, "{}", taken.body);
    assert_eq!(
        app.count(&rows("users WHERE is_superadmin = 0"), &[]).await,
        2
    );
    assert_eq!(app.count(&rows("user_emails"), &[]).await, 262);
    assert_eq!(app.count(&rows("tenant_access"), &[]).await, 2);
    assert_eq!(app.count(&rows("tenant_access_sources"), &[]).await, 2);
}

/// A user's profile is kept beside its JSON as the default view's text (`db::profile_views`),
/// and what the answers show follows every write of the profile: a create and a PUT write the
/// view with it; a write of the JSON alone (an older replica's) drops the view, by the
/// database's trigger, and the answers show that JSON; a view kept under other rules (another
/// release's tag) is passed over, and dropped at the next start. A GET, a page and a `userName`
/// look-up agree each time.
#[tokio::test]
async fn a_profiles_kept_view_follows_every_write_of_the_profile() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let mut body = user("kim");
    body["title"] = json!("Dr");
    let id = app.scim_user(&i, body.clone()).await;
    let kept_views = || async {
        app.count(
            "SELECT COUNT(*) FROM users WHERE id = $1 AND scim_view LIKE '=%'",
            &[&id],
        )
        .await
    };
    let shown = |title: Option<&'static str>, given: Option<&'static str>| {
        let (app, i, id) = (&app, &i, &id);
        async move {
            let got = app.scim(i, "GET", &format!("/Users/{id}"), None).await;
            let page = app.scim(i, "GET", "/Users", None).await.json();
            let filter = format!("/Users?filter={}", urlencode("userName eq \"kim\""));
            let found = app.scim(i, "GET", &filter, None).await.json();
            for user in [
                got.json(),
                page["Resources"][0].clone(),
                found["Resources"][0].clone(),
            ] {
                assert_eq!(user["id"], json!(id), "{user}");
                assert_eq!(user["title"].as_str(), title, "{user}");
                assert_eq!(user["name"]["givenName"].as_str(), given, "{user}");
                assert_eq!(user["userName"], "kim", "{user}");
            }
            assert_eq!(as_rendered(app, i, id).await["title"].as_str(), title);
        }
    };
    assert_eq!(kept_views().await, 1, "a create keeps the view");
    shown(Some("Dr"), Some("Given")).await;

    body["title"] = json!("Prof");
    let put = app
        .scim(&i, "PUT", &format!("/Users/{id}"), Some(body.clone()))
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.json()["title"], "Prof");
    assert_eq!(kept_views().await, 1, "a PUT keeps the new view");
    shown(Some("Prof"), Some("Given")).await;

    // An older release writes the JSON alone.
    let behind =
        format!("UPDATE users SET scim_json = '{{\"title\":\"Behind\"}}' WHERE id = '{id}'");
    app.execute(&[&behind]).await;
    assert_eq!(kept_views().await, 0, "the stale view is dropped");
    shown(Some("Behind"), None).await;

    body["title"] = json!("Again");
    let put = app
        .scim(&i, "PUT", &format!("/Users/{id}"), Some(body))
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(kept_views().await, 1);
    shown(Some("Again"), Some("Given")).await;

    // A view under another release's rules, whatever it says, is not this release's view.
    let foreign = format!(
        "UPDATE users SET scim_view = '=0123456789abcdef:\"title\":\"Forged\"' WHERE id = '{id}'"
    );
    app.execute(&[&foreign]).await;
    shown(Some("Again"), Some("Given")).await;
    // The next start drops it (here a replica's, on the same database); the answers stay.
    let foreign_views = "SELECT COUNT(*) FROM users WHERE scim_view LIKE '=0123456789abcdef:%'";
    assert_eq!(app.count(foreign_views, &[]).await, 1);
    let _replica = app.replica().await;
    assert_eq!(app.count(foreign_views, &[]).await, 0);
    shown(Some("Again"), Some("Given")).await;
}
