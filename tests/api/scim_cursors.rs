//! RFC 9865 cursor paging of Users, Groups and the root search: whole walks, walks that go on
//! on another replica while users or groups are deleted and created, and the cursors refused.

use serde_json::{json, Value};

use crate::helpers::{Integration, TestApp};
use crate::scim_auth::urlencode;

async fn create_users(app: &TestApp, i: &Integration, names: &[String]) -> Vec<String> {
    let mut ids = Vec::new();
    for name in names {
        let body = json!({"userName": name, "displayName": format!("{name} shown")});
        let res = app.scim(i, "POST", "/Users", Some(body)).await;
        assert_eq!(res.status, 201, "{}", res.body);
        ids.push(res.json()["id"].as_str().unwrap().to_string());
    }
    ids
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|k| format!("{prefix}{k:02}")).collect()
}

/// One page of a cursor walk: 200 with a ListResponse and no `startIndex`; its `field` values
/// and its body (with its `nextCursor`).
async fn page(app: &TestApp, i: &Integration, path: &str, field: &str) -> (Vec<String>, Value) {
    let (got, body) = listed(app, i, path, field).await;
    assert!(body.get("startIndex").is_none(), "{path}: {body}");
    (got, body)
}

/// Any page: 200 with a ListResponse; its `field` values and its body.
async fn listed(app: &TestApp, i: &Integration, path: &str, field: &str) -> (Vec<String>, Value) {
    let res = app.scim(i, "GET", path, None).await;
    assert_eq!(res.status, 200, "{path}: {}", res.body);
    let body = res.json();
    let got = body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_str().unwrap().to_string())
        .collect();
    (got, body)
}

/// Walks `path` (its query without `cursor`) by cursor, `count` at a time: every page's values,
/// after checking each page's size and total and that only the last lacks `nextCursor`.
async fn walk(
    app: &TestApp,
    i: &Integration,
    path: &str,
    field: &str,
    count: usize,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor = String::new();
    for _ in 0..100 {
        let (got, body) = page(
            app,
            i,
            &format!("{path}&count={count}&cursor={cursor}"),
            field,
        )
        .await;
        assert_eq!(body["itemsPerPage"], got.len(), "{body}");
        let total = body["totalResults"].as_u64().unwrap() as usize;
        pages.push(got);
        match body.get("nextCursor") {
            Some(next) => {
                assert_eq!(
                    pages.last().unwrap().len(),
                    count,
                    "only a full page goes on"
                );
                cursor = next.as_str().unwrap().to_string();
            }
            None => {
                let seen: usize = pages.iter().map(Vec::len).sum();
                assert_eq!(seen, total, "the last page ends the list: {body}");
                assert!(
                    total == 0 || !pages.last().unwrap().is_empty(),
                    "no walk ends on an empty page: {path}"
                );
                return pages;
            }
        }
    }
    panic!("a walk of {path} did not end in 100 pages");
}

/// Users, Groups, a filter, a sort and `POST /.search` walked by cursor: each resource once, in
/// the order the whole list answers them, pages of `count`, and only the last page without
/// `nextCursor`. The ServiceProviderConfig says cursors are offered beside `startIndex`.
#[tokio::test]
async fn a_cursor_walk_answers_every_resource_once_in_the_lists_order() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    create_users(&app, &i, &names("walker", 23)).await;
    for k in 0..11 {
        let body = json!({"displayName": format!("team {k:02}")});
        assert_eq!(
            app.scim(&i, "POST", "/Groups", Some(body)).await.status,
            201
        );
    }
    let users_in_order = page(&app, &i, "/Users?count=200&cursor=", "userName")
        .await
        .0;
    assert_eq!(users_in_order, names("walker", 23));
    let sw = urlencode("userName sw \"walker1\"");
    let cases = [
        (
            "/Users?x=1".to_string(),
            "userName",
            5,
            users_in_order.clone(),
        ),
        ("/Users?sortOrder=descending".into(), "userName", 4, {
            let mut d = users_in_order.clone();
            d.reverse();
            d
        }),
        (
            format!("/Users?filter={sw}"),
            "userName",
            3,
            names("walker", 20)[10..].to_vec(),
        ),
        (
            "/Users?sortBy=userName".into(),
            "userName",
            7,
            users_in_order.clone(),
        ),
        (
            "/Groups?sortBy=displayName".into(),
            "displayName",
            4,
            names("team ", 11),
        ),
        ("/Groups?x=1".into(), "displayName", 11, names("team ", 11)),
        // Walks whose last page is full: it ends them (no empty page after it).
        ("/Users?x=1".into(), "userName", 23, users_in_order.clone()),
        (
            format!("/Users?filter={sw}"),
            "userName",
            5,
            names("walker", 20)[10..].to_vec(),
        ),
    ];
    for (path, field, count, expected) in cases {
        let pages = walk(&app, &i, &path, field, count).await;
        assert_eq!(pages.concat(), expected, "{path}");
        assert_eq!(pages.len(), expected.len().div_ceil(count), "{path}");
    }
    // The same walk by `POST /Users/.search`, its cursor in the body.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                          "attributes": ["userName"], "cursor": cursor, "count": 10});
        let res = app.scim(&i, "POST", "/Users/.search", Some(body)).await;
        assert_eq!(res.status, 200, "{}", res.body);
        let body = res.json();
        for r in body["Resources"].as_array().unwrap() {
            seen.push(r["userName"].as_str().unwrap().to_string());
        }
        match body["nextCursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, users_in_order);
    // The root search: the 23 users, then the 11 groups, 10 at a time.
    let mut root = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let body = json!({"cursor": cursor, "count": 10});
        let res = app.scim(&i, "POST", "/.search", Some(body)).await;
        assert_eq!(res.status, 200, "{}", res.body);
        let body = res.json();
        assert_eq!(body["totalResults"], 34);
        for r in body["Resources"].as_array().unwrap() {
            let name = r.get("userName").or_else(|| r.get("displayName"));
            root.push(name.unwrap().as_str().unwrap().to_string());
        }
        match body["nextCursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(root, [users_in_order, names("team ", 11)].concat());
    let spc = app
        .scim(&i, "GET", "/ServiceProviderConfig", None)
        .await
        .json();
    assert_eq!(spc["pagination"]["cursor"], true, "{spc}");
    assert_eq!(spc["pagination"]["index"], true, "{spc}");
    assert_eq!(spc["pagination"]["defaultPaginationMethod"], "index");
}

/// A walk begun on one replica goes on on another (which has no memory of it) while users
/// before the cursor are deleted, one ahead of it is deleted and one is created: the next pages
/// hold exactly the users after the last one answered, none skipped, none twice. The same
/// deletions make a `startIndex` page on that replica skip two users (its offset counts rows
/// that are gone), which is what a cursor holding only a count would do.
#[tokio::test]
async fn a_walk_goes_on_on_another_replica_past_deletions_without_skipping_anyone() {
    let app = TestApp::spawn().await;
    let replica = app.replica().await;
    let i = app.integration("main").await;
    let all = names("member", 12);
    let ids = create_users(&app, &i, &all).await;
    let (first, body) = page(&app, &i, "/Users?count=4&cursor=", "userName").await;
    assert_eq!(first, all[..4]);
    let cursor = body["nextCursor"].as_str().unwrap().to_string();
    for id in [&ids[0], &ids[1], &ids[3], &ids[5]] {
        let res = app.scim(&i, "DELETE", &format!("/Users/{id}"), None).await;
        assert_eq!(res.status, 204, "{}", res.body);
    }
    create_users(&app, &i, &["member late".to_string()]).await;
    let (second, body) = page(
        &replica,
        &i,
        &format!("/Users?count=4&cursor={cursor}"),
        "userName",
    )
    .await;
    assert_eq!(second, ["member04", "member06", "member07", "member08"]);
    let cursor = body["nextCursor"].as_str().unwrap().to_string();
    let (third, body) = page(
        &app,
        &i,
        &format!("/Users?count=4&cursor={cursor}"),
        "userName",
    )
    .await;
    assert_eq!(third, ["member09", "member10", "member11", "member late"]);
    // A full page, and the last: no next cursor (8 users answered of 9, the count cannot tell).
    assert!(body.get("nextCursor").is_none(), "{body}");
    // By index on the replica, the second page starts two users late.
    let (by_index, _) = listed(&replica, &i, "/Users?startIndex=5&count=4", "userName").await;
    assert_eq!(by_index, ["member08", "member09", "member10", "member11"]);
}

/// Cursors that are not this list's for this query are `400 invalidCursor`, all with the same
/// words (RFC 9865 §5.2): made up, changed (a character added, one changed: cursors are
/// sealed), sent with another filter, to Groups, or by another
/// tenant's integration. `startIndex` beside a cursor is
/// `400 invalidValue`; a cursor in a `.search` body that is not a string is `invalidSyntax`.
#[tokio::test]
async fn cursors_of_another_query_list_or_tenant_are_refused_alike() {
    let app = TestApp::spawn().await;
    app.create_tenant("other").await;
    let i = app.integration("main").await;
    let o = app.integration("other").await;
    create_users(&app, &i, &names("mine", 3)).await;
    create_users(&app, &o, &names("theirs", 3)).await;
    let sw = urlencode("userName sw \"mine\"");
    let (_, body) = page(
        &app,
        &i,
        &format!("/Users?filter={sw}&count=1&cursor="),
        "userName",
    )
    .await;
    let good = body["nextCursor"].as_str().unwrap().to_string();
    let mut altered = good.clone();
    altered.insert(3, 'A');
    // One character changed in the middle: the seal no longer holds.
    let mut flipped = good.clone().into_bytes();
    flipped[20] = if flipped[20] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let refused = [
        (
            &i,
            format!("/Users?filter={sw}&count=1&cursor=bm90IGEgY3Vyc29y"),
        ),
        (&i, format!("/Users?filter={sw}&count=1&cursor={altered}")),
        (&i, format!("/Users?filter={sw}&count=1&cursor={flipped}")),
        (&i, format!("/Users?filter={sw}&count=1&cursor=%21%21")),
        (&i, format!("/Users?count=1&cursor={good}")),
        (&i, format!("/Groups?filter={sw}&count=1&cursor={good}")),
        (&o, format!("/Users?filter={sw}&count=1&cursor={good}")),
    ];
    let mut details = Vec::new();
    for (integ, path) in &refused {
        let res = app.scim(integ, "GET", path, None).await;
        assert_eq!(res.status, 400, "{path}: {}", res.body);
        let body = res.json();
        assert_eq!(body["scimType"], "invalidCursor", "{path}: {body}");
        details.push(body["detail"].as_str().unwrap().to_string());
    }
    details.dedup();
    assert_eq!(details.len(), 1, "{details:?}");
    let both = app
        .scim(
            &i,
            "GET",
            &format!("/Users?startIndex=2&cursor={good}"),
            None,
        )
        .await;
    assert_eq!(
        (both.status.as_u16(), both.json()["scimType"].clone()),
        (400, json!("invalidValue"))
    );
    let body = json!({"cursor": 5});
    let wrong = app.scim(&i, "POST", "/Users/.search", Some(body)).await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.json()["scimType"].clone()),
        (400, json!("invalidSyntax"))
    );
    // The good cursor still works, and a page by index still has `startIndex` and no cursor.
    let (next, _) = page(
        &app,
        &i,
        &format!("/Users?filter={sw}&count=1&cursor={good}"),
        "userName",
    )
    .await;
    assert_eq!(next, ["mine01"]);
    let by_index = app.scim(&i, "GET", "/Users?count=1", None).await.json();
    assert_eq!(by_index["startIndex"], 1);
    assert!(by_index.get("nextCursor").is_none(), "{by_index}");
}

/// Groups too: a walk continued on another replica after groups before the cursor and one
/// ahead of it were deleted and one was created answers exactly the groups after the last one
/// answered; by `startIndex` the same page starts two groups late.
#[tokio::test]
async fn a_walk_of_groups_goes_on_past_deletions_without_skipping_any() {
    let app = TestApp::spawn().await;
    let replica = app.replica().await;
    let i = app.integration("main").await;
    let mut ids = Vec::new();
    for name in names("team", 8) {
        let res = app
            .scim(&i, "POST", "/Groups", Some(json!({"displayName": name})))
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        ids.push(res.json()["id"].as_str().unwrap().to_string());
    }
    let (first, body) = page(&app, &i, "/Groups?count=3&cursor=", "displayName").await;
    assert_eq!(first, ["team00", "team01", "team02"]);
    let cursor = body["nextCursor"].as_str().unwrap().to_string();
    for id in [&ids[0], &ids[1], &ids[4]] {
        let res = app.scim(&i, "DELETE", &format!("/Groups/{id}"), None).await;
        assert_eq!(res.status, 204, "{}", res.body);
    }
    let late = json!({"displayName": "team late"});
    assert_eq!(
        app.scim(&i, "POST", "/Groups", Some(late)).await.status,
        201
    );
    let path = format!("/Groups?count=3&cursor={cursor}");
    let (second, body) = page(&replica, &i, &path, "displayName").await;
    assert_eq!(second, ["team03", "team05", "team06"]);
    let path = format!(
        "/Groups?count=3&cursor={}",
        body["nextCursor"].as_str().unwrap()
    );
    let (third, body) = page(&replica, &i, &path, "displayName").await;
    assert_eq!(third, ["team07", "team late"]);
    assert!(body.get("nextCursor").is_none(), "{body}");
    let path = "/Groups?startIndex=4&count=3";
    let (by_index, _) = listed(&replica, &i, path, "displayName").await;
    assert_eq!(by_index, ["team06", "team07", "team late"]);
}

/// A walk whose next page is full and the last ends there, without a `nextCursor` to an empty
/// page (RFC 9865 §2), also when users before it were deleted (its count of answered users then
/// reaches the total before the list's end): Users, filtered or not, and Groups. With one more
/// resource after it, the same page goes on to it.
#[tokio::test]
async fn a_walk_ends_on_its_last_full_page_even_after_deletions_before_it() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    let sw = urlencode("userName sw \"ender\"");
    for (list, filter, field) in [
        ("Users", None, "userName"),
        ("Users", Some(sw.as_str()), "userName"),
        ("Groups", None, "displayName"),
    ] {
        for extra in [0, 1] {
            let prefix = format!("ender{extra}{}", filter.is_some() as u8);
            let mut ids = Vec::new();
            for name in names(&prefix, 6 + extra) {
                let body = match list {
                    "Users" => json!({"userName": name}),
                    _ => json!({"displayName": name}),
                };
                let res = app.scim(&i, "POST", &format!("/{list}"), Some(body)).await;
                assert_eq!(res.status, 201, "{}", res.body);
                ids.push(res.json()["id"].as_str().unwrap().to_string());
            }
            let query = filter.map_or(String::new(), |f| format!("filter={f}&"));
            let first = format!("/{list}?{query}count=3&cursor=");
            let (got, body) = page(&app, &i, &first, field).await;
            assert_eq!(got, names(&prefix, 3), "{first}");
            let next = body["nextCursor"].as_str().unwrap().to_string();
            for id in &ids[..2] {
                let res = app.scim(&i, "DELETE", &format!("/{list}/{id}"), None).await;
                assert_eq!(res.status, 204, "{}", res.body);
            }
            let second = format!("/{list}?{query}count=3&cursor={next}");
            let (got, body) = page(&app, &i, &second, field).await;
            assert_eq!(got, names(&prefix, 6)[3..], "{second}");
            if extra == 0 {
                assert!(body.get("nextCursor").is_none(), "{second}: {body}");
            } else {
                let next = body["nextCursor"].as_str().unwrap();
                let third = format!("/{list}?{query}count=3&cursor={next}");
                let (got, body) = page(&app, &i, &third, field).await;
                assert_eq!(got, [format!("{prefix}06")], "{third}");
                assert!(body.get("nextCursor").is_none(), "{third}: {body}");
            }
            // Cleared for the next case: the unfiltered walks see every resource of the list.
            for id in &ids[2..] {
                let res = app.scim(&i, "DELETE", &format!("/{list}/{id}"), None).await;
                assert_eq!(res.status, 204, "{}", res.body);
            }
        }
    }
}

/// Filtered walks resume after their last resource too, whichever way the filter finds its
/// users (by the users' own index, by the tenant's access rows, by a test of each user) and for
/// groups: after users before the cursor and one ahead of it are deleted, a matching one and a
/// non-matching one created, the next page holds exactly the matching ones after the last
/// answered, and `totalResults` still counts every user the filter matches now, not only those
/// after the cursor.
#[tokio::test]
async fn a_filtered_walk_goes_on_past_deletions_without_skipping_anyone() {
    let app = TestApp::spawn().await;
    let replica = app.replica().await;
    let i = app.integration("main").await;
    let filters = [
        "userName sw \"fil\"",
        "active eq true and displayName co \"fil\"",
        "displayName co \"fil\"",
        "userName sw \"fil\" or userName eq \"nobody\"",
    ];
    for (round, filter) in filters.iter().enumerate() {
        let matching = names(&format!("fil{round}-"), 9);
        let mut ids = create_users(&app, &i, &matching).await;
        create_users(&app, &i, &[format!("other{round}")]).await;
        let f = urlencode(filter);
        let (first, body) = page(
            &app,
            &i,
            &format!("/Users?filter={f}&count=3&cursor="),
            "userName",
        )
        .await;
        assert_eq!(first, matching[..3], "{filter}");
        let cursor = body["nextCursor"].as_str().unwrap().to_string();
        for id in [&ids[0], &ids[2], &ids[4]] {
            let res = app.scim(&i, "DELETE", &format!("/Users/{id}"), None).await;
            assert_eq!(res.status, 204, "{}", res.body);
        }
        let late = format!("fil{round}-late");
        ids.extend(create_users(&app, &i, &[late.clone(), format!("late{round}")]).await);
        let (second, body) = page(
            &replica,
            &i,
            &format!("/Users?filter={f}&count=3&cursor={cursor}"),
            "userName",
        )
        .await;
        assert_eq!(
            second,
            [&matching[3], &matching[5], &matching[6]].map(String::as_str),
            "{filter}"
        );
        assert_eq!(body["totalResults"], 7, "{filter}: {body}");
        let cursor = body["nextCursor"].as_str().unwrap().to_string();
        let (third, body) = page(
            &app,
            &i,
            &format!("/Users?filter={f}&count=3&cursor={cursor}"),
            "userName",
        )
        .await;
        assert_eq!(
            third,
            [&matching[7], &matching[8], &late].map(String::as_str),
            "{filter}"
        );
        // A full page, and the last: no user after it matches (`late{round}` does not).
        assert!(body.get("nextCursor").is_none(), "{filter}: {body}");
        // The users of this round are deleted before the next: each round's walk is its own.
        for id in [&ids[1], &ids[3]].into_iter().chain(&ids[5..]) {
            let res = app.scim(&i, "DELETE", &format!("/Users/{id}"), None).await;
            assert_eq!(res.status, 204, "{}", res.body);
        }
    }
    let mut ids = Vec::new();
    for name in names("crew", 7).into_iter().chain(["band".into()]) {
        let res = app
            .scim(&i, "POST", "/Groups", Some(json!({"displayName": name})))
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        ids.push(res.json()["id"].as_str().unwrap().to_string());
    }
    let f = urlencode("displayName sw \"crew\"");
    let (first, body) = page(
        &app,
        &i,
        &format!("/Groups?filter={f}&count=3&cursor="),
        "displayName",
    )
    .await;
    assert_eq!(first, ["crew00", "crew01", "crew02"]);
    let cursor = body["nextCursor"].as_str().unwrap().to_string();
    for id in [&ids[0], &ids[1], &ids[3]] {
        let res = app.scim(&i, "DELETE", &format!("/Groups/{id}"), None).await;
        assert_eq!(res.status, 204, "{}", res.body);
    }
    let path = format!("/Groups?filter={f}&count=3&cursor={cursor}");
    let (second, body) = page(&replica, &i, &path, "displayName").await;
    assert_eq!(second, ["crew04", "crew05", "crew06"]);
    assert_eq!(body["totalResults"], 4, "{body}");
    assert!(body.get("nextCursor").is_none(), "the last: {body}");
}

/// `count=0` asks for the total alone (RFC 9865 §2; a negative count reads as 0): 200 with no
/// resources, and a `nextCursor` that stands where it was asked, so a walk can look at the total
/// and go on. (It was refused as `invalidCount`.)
#[tokio::test]
async fn a_count_of_zero_answers_the_total_and_keeps_the_walks_place() {
    let app = TestApp::spawn().await;
    let i = app.integration("main").await;
    create_users(&app, &i, &names("tally", 5)).await;
    for count in ["0", "-1"] {
        let (none, body) = page(&app, &i, &format!("/Users?count={count}&cursor="), "id").await;
        assert!(none.is_empty(), "{body}");
        assert_eq!(
            (body["totalResults"].clone(), body["itemsPerPage"].clone()),
            (json!(5), json!(0))
        );
        let here = body["nextCursor"]
            .as_str()
            .expect("a cursor where it was asked");
        let path = format!("/Users?count=2&cursor={here}");
        assert_eq!(
            page(&app, &i, &path, "userName").await.0,
            ["tally00", "tally01"]
        );
    }
    // In the middle of a walk: the total again, and the walk goes on where it stood.
    let (_, body) = page(&app, &i, "/Users?count=2&cursor=", "userName").await;
    let next = body["nextCursor"].as_str().unwrap();
    let (none, body) = page(&app, &i, &format!("/Users?count=0&cursor={next}"), "id").await;
    assert!(none.is_empty() && body["totalResults"] == 5, "{body}");
    let here = body["nextCursor"].as_str().unwrap();
    let path = format!("/Users?count=3&cursor={here}");
    assert_eq!(
        page(&app, &i, &path, "userName").await.0,
        ["tally02", "tally03", "tally04"]
    );
    // An empty list: the total, and no cursor.
    let (_, body) = page(&app, &i, "/Groups?count=0&cursor=", "id").await;
    assert_eq!(body["totalResults"], 0);
    assert!(body.get("nextCursor").is_none(), "{body}");
}
