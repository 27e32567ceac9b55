//! Instance → Sign-ins: every account's sign-ins and failed password checks, for superadmins
//! alone, filtered and paged both ways.

use serde_json::Value;

use crate::account::{sign_in_from, CHROME, FIREFOX};
use crate::helpers::{TestApp, ADMIN, ADMIN_PASSWORD};
use crate::ui_users::{data, data_call};

const PATH: &str = "/api/instance/sign-ins";

fn rows(page: &Value) -> Vec<Value> {
    page["sign_ins"].as_array().unwrap().clone()
}

fn usernames(page: &Value) -> Vec<String> {
    rows(page)
        .iter()
        .map(|r| r["username"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn superadmins_see_every_accounts_sign_ins_newest_first_and_no_one_else_does() {
    let (app, admin) = TestApp::with_admin().await;
    let pat = app.plain_user("pat", "pat password 1", Some("main")).await;
    app.bind_managed_role("main", "Admin", &pat).await;
    let kim = app.plain_user("kim", "kim password 1", Some("main")).await;
    sign_in_from(&app, "pat", "a wrong guess", CHROME, "10.6.6.6").await;
    sign_in_from(&app, "nobody", "a wrong guess", CHROME, "10.6.6.6").await;
    let kim_session = sign_in_from(&app, "kim", "kim password 1", FIREFOX, "10.1.1.1").await;
    let pat_session = sign_in_from(&app, "pat", "pat password 1", FIREFOX, "10.2.2.2").await;
    let pat_session = pat_session.session_cookie().expect("pat signs in");
    assert!(kim_session.session_cookie().is_some());

    let page = data(&app, PATH, &[], &admin).await;
    assert_eq!(usernames(&page), ["pat", "kim", "pat", "admin"]);
    let r = rows(&page);
    assert_eq!(r[0]["user_id"], pat.as_str());
    assert_eq!(r[0]["sign_in"]["what"], "Signed in");
    assert_eq!(r[0]["sign_in"]["browser"], "Firefox on Linux");
    assert_eq!(r[0]["sign_in"]["address"], "10.2.2.2");
    assert_eq!(r[1]["user_id"], kim.as_str());
    assert_eq!(r[2]["sign_in"]["what"], "Wrong password");
    assert_eq!(r[2]["sign_in"]["failed"], true);
    assert_eq!(r[2]["sign_in"]["address"], "10.6.6.6");
    assert_eq!(
        page["failed_lately"], 1,
        "a name nobody has is not an account's"
    );
    assert_eq!(page["older"], Value::Null);
    assert_eq!(page["newer"], Value::Null);

    // The failures only; one account only, named on the page.
    let failed = data(&app, PATH, &[("failed", "1")], &admin).await;
    assert_eq!(usernames(&failed), ["pat"]);
    assert_eq!(rows(&failed)[0]["sign_in"]["what"], "Wrong password");
    assert_eq!(failed["failed_only"], true);
    let kims = data(&app, PATH, &[("user", &kim)], &admin).await;
    assert_eq!(usernames(&kims), ["kim"]);
    assert_eq!(kims["user"], serde_json::json!([kim, "kim"]));
    let pats_failures = data(&app, PATH, &[("user", &pat), ("failed", "1")], &admin).await;
    assert_eq!(rows(&pats_failures).len(), 1);
    let none = data(&app, PATH, &[("user", &kim), ("failed", "1")], &admin).await;
    assert!(rows(&none).is_empty());

    // The page, rendered on the server: the failures, with their account's filter link.
    let html = app.get("/instance/sign-ins?failed=1", Some(&admin)).await;
    assert_eq!(html.status, 200);
    assert_eq!(
        html.body
            .matches("data-testid=\"instance-sign-in\"")
            .count(),
        1,
        "{}",
        html.body
    );
    assert!(html.body.contains("Wrong password"), "{}", html.body);
    assert!(html.body.contains(&format!("user={pat}")), "{}", html.body);
    assert!(html
        .body
        .contains("1 password check failed in the last 24 hours."));
    let refused = app.get("/instance/sign-ins", Some(&pat_session)).await;
    assert!(
        refused.body.contains("Only superadmins see the instance"),
        "{}",
        refused.body
    );

    // A person's page in a tenant links to their sign-ins, for superadmins only.
    let link = format!("/instance/sign-ins?user={kim}");
    let user_page = format!("/t/main/iam/users/{kim}");
    let as_superadmin = app.get(&user_page, Some(&admin)).await;
    assert!(as_superadmin.body.contains(&link), "{}", as_superadmin.body);
    let as_tenant_admin = app.get(&user_page, Some(&pat_session)).await;
    assert_eq!(as_tenant_admin.status, 200);
    assert!(as_tenant_admin.body.contains("kim"));
    assert!(!as_tenant_admin.body.contains("/instance/sign-ins"));

    // An administrator of a tenant is not a superadmin: refused, and told why.
    let res = data_call(&app, PATH, &[], &pat_session).await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("Only superadmins"), "{}", res.body);

    // Bad input is named; an account that does not exist is not found.
    for (form, status, says) in [
        (
            vec![("before", "1' OR '1'='1")],
            400,
            "`before` must be a sign-in's id",
        ),
        (vec![("after", "x")], 400, "`after` must be a sign-in's id"),
        (
            vec![
                ("before", "0193a2c4-7d1e-7000-8000-000000000001"),
                ("after", "0193a2c4-7d1e-7000-8000-000000000001"),
            ],
            400,
            "not both",
        ),
        (vec![("user", "no-such-account")], 404, "no account with id"),
    ] {
        let res = data_call(&app, PATH, &form, &admin).await;
        assert_eq!(res.status, status, "{form:?}: {}", res.body);
        assert!(res.body.contains(says), "{form:?}: {}", res.body);
    }

    // A day later the failure is no longer "lately", but still listed.
    // (The admin's session has ended by then: they sign in again.)
    app.clock.advance_minutes(24 * 60 + 1);
    let admin = app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    let later = data(&app, PATH, &[], &admin).await;
    assert_eq!(later["failed_lately"], 0);
    assert_eq!(usernames(&later), ["admin", "pat", "kim", "pat", "admin"]);
}

/// Records `n` sign-ins for each of `users`, one after the other, the first one failed.
async fn record(app: &TestApp, users: &[&str], n: usize) {
    use roster::db::sign_ins::{record, SignIn};
    let mut conn = app.db.acquire().await.unwrap();
    for i in 0..n {
        for user in users {
            let outcome = if i % 3 == 0 {
                "wrong-password"
            } else {
                "signed-in"
            };
            let sign_in = SignIn {
                at: 1_700_000_000_000 + i as i64,
                outcome: outcome.into(),
                method: "password".into(),
                client_address: format!("10.0.{}.{}", i / 200, i % 200),
                user_agent: None,
            };
            record(&mut conn, user, &sign_in).await.unwrap();
        }
    }
}

/// Each page's rows (`username@address`) from `first` on, following `key` ("older": `before`,
/// "newer": `after`), and the last page reached.
async fn walk(
    app: &TestApp,
    admin: &str,
    filter: &[(&str, &str)],
    first: Value,
    key: &str,
) -> (Vec<Vec<String>>, Value) {
    let mut pages = Vec::new();
    let mut page = first;
    for _ in 0..20 {
        let ids: Vec<String> = rows(&page)
            .iter()
            .map(|r| {
                let (user, address) = (&r["username"], &r["sign_in"]["address"]);
                format!("{}@{}", user.as_str().unwrap(), address.as_str().unwrap())
            })
            .collect();
        assert!(ids.len() <= 50, "a page holds at most 50");
        pages.push(ids);
        let Some(cursor) = page[key].as_str().map(str::to_owned) else {
            return (pages, page);
        };
        let param = if key == "older" { "before" } else { "after" };
        let mut form = filter.to_vec();
        form.push((param, &cursor));
        page = data(app, PATH, &form, admin).await;
    }
    panic!("more than 20 pages");
}

#[tokio::test]
async fn pages_walk_both_ways_without_gaps_or_repeats_whatever_the_filter() {
    let (app, admin) = TestApp::with_admin().await;
    let a = app.plain_user("ann", "ann password 1", Some("main")).await;
    let b = app.plain_user("bob", "bob password 1", Some("main")).await;
    let c = app.plain_user("cat", "cat password 1", Some("main")).await;
    record(&app, &[&a, &b, &c], 45).await;
    let a_filter = [("user", a.as_str())];
    for filter in [&[][..], &[("failed", "1")][..], &a_filter[..]] {
        let first = data(&app, PATH, filter, &admin).await;
        assert_eq!(first["newer"], Value::Null, "{filter:?}");
        let (down, oldest) = walk(&app, &admin, filter, first, "older").await;
        let listed: Vec<String> = down.concat();
        // Everything the filter keeps, each once, newest first.
        let expected = match filter.first().map(|f| f.0) {
            None => 3 * 45 + 1,
            Some("failed") => 3 * 15,
            _ => 45,
        };
        assert_eq!(listed.len(), expected, "{filter:?}");
        let mut unique = listed.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), expected, "{filter:?}: no repeats");
        let full = down.iter().rev().skip(1).all(|p| p.len() == 50);
        assert!(full, "{filter:?}: full pages but the last");
        assert_eq!(oldest["older"], Value::Null, "{filter:?}");
        // From the oldest page back up: the same pages, in reverse.
        let (mut up, newest) = walk(&app, &admin, filter, oldest, "newer").await;
        up.reverse();
        assert_eq!(up, down, "{filter:?}");
        assert_eq!(newest["newer"], Value::Null, "{filter:?}");
    }
    // The table keeps each account's latest 50 and no more; the page lists what is kept.
    record(&app, &[&a], 10).await;
    let first = data(&app, PATH, &a_filter, &admin).await;
    let (a_pages, _) = walk(&app, &admin, &a_filter, first, "older").await;
    assert_eq!(a_pages.concat().len(), 50);
}
