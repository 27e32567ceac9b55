//! Your account: a person's own tenants and roles, password change and sessions — each acting
//! on the caller alone, with the password checked and counted as a sign-in is.

use std::net::SocketAddr;

use serde_json::Value;

use crate::helpers::{query_value, TestApp, TestResponse};
use crate::ui_users::{data, data_call};

pub(crate) const FIREFOX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
pub(crate) const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const PASSWORD: &str = "pat password 1";

/// Signs `username` in from a browser at `address` that calls itself `agent`.
pub(crate) async fn sign_in_from(
    app: &TestApp,
    username: &str,
    password: &str,
    agent: &str,
    address: &str,
) -> TestResponse {
    let peer: SocketAddr = format!("{address}:50000").parse().unwrap();
    app.post_form_from(
        "/api/auth/login",
        &[("username", username), ("password", password)],
        None,
        &[("user-agent", agent)],
        Some(peer),
    )
    .await
}

async fn session_from(app: &TestApp, agent: &str, address: &str) -> String {
    let res = sign_in_from(app, "pat", PASSWORD, agent, address).await;
    res.session_cookie()
        .unwrap_or_else(|| panic!("pat signs in: {:?}", res.location()))
}

/// Pat: a Viewer of `main`, with a password.
async fn pat(app: &TestApp) -> String {
    let id = app.plain_user("pat", PASSWORD, Some("main")).await;
    app.bind_managed_role("main", "Viewer", &id).await;
    id
}

async fn account(app: &TestApp, cookie: &str) -> Value {
    data(app, "/api/account", &[], cookie).await
}

fn sessions(account: &Value) -> Vec<Value> {
    account["sessions"].as_array().unwrap().clone()
}

fn handle_where(account: &Value, current: bool) -> String {
    sessions(account)
        .into_iter()
        .find(|s| s["current"] == current)
        .map(|s| s["handle"].as_str().unwrap().to_string())
        .expect("such a session")
}

/// Whether `cookie` still opens a page (a signed-out browser is sent to sign in).
async fn signed_in(app: &TestApp, cookie: &str) -> bool {
    let status = app.get("/account", Some(cookie)).await.status;
    assert!(status == 200 || status == 303, "{status}");
    status == 200
}

/// The redirect of a form post: `(field, error)` or the notice.
fn outcome(res: &TestResponse) -> (Option<String>, Option<String>, Option<String>) {
    assert_eq!(res.status, 302, "{}", res.body);
    let location = res.location().unwrap();
    assert!(location.starts_with("/account?"), "{location}");
    (
        query_value(&location, "field"),
        query_value(&location, "error"),
        query_value(&location, "notice"),
    )
}

#[tokio::test]
async fn your_account_shows_your_tenants_roles_and_each_browser_you_signed_in_from() {
    let (app, admin) = TestApp::with_admin().await;
    pat(&app).await;
    app.create_tenant("dev").await;
    let firefox = session_from(&app, FIREFOX, "10.1.1.1").await;
    app.clock.advance_minutes(5);
    let chrome = session_from(&app, CHROME, "10.2.2.2").await;

    let res = data_call(&app, "/api/account", &[], &firefox).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let a = res.json();
    assert_eq!(a["username"], "pat");
    assert_eq!(a["emails"][0][0], "pat@local.test");
    assert_eq!(a["is_superadmin"], false);
    assert_eq!(a["has_password"], true);
    let tenants = a["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 1, "only main, not dev: {tenants:?}");
    assert_eq!(tenants[0]["id"], "main");
    assert_eq!(tenants[0]["roles"], serde_json::json!(["Viewer"]));

    // Pat's two sessions, newest first; the admin's is not among them.
    let listed = sessions(&a);
    assert_eq!(listed.len(), 2, "{listed:?}");
    let (newest, oldest) = (&listed[0], &listed[1]);
    assert_eq!(newest["browser"], "Chrome on Windows");
    assert_eq!(newest["address"], "10.2.2.2");
    assert_eq!(newest["current"], false);
    assert_eq!(oldest["browser"], "Firefox on Linux");
    assert_eq!(oldest["user_agent"], FIREFOX);
    assert_eq!(oldest["address"], "10.1.1.1");
    assert_eq!(oldest["current"], true);
    for s in &listed {
        assert_eq!(s["method"], "Password");
        assert!(s["signed_in_at"].as_str().unwrap() < s["expires_at"].as_str().unwrap());
    }
    // Neither a cookie value nor the database's key of any session leaves the server.
    let stored = app.count("SELECT COUNT(*) FROM sessions", &[]).await;
    assert_eq!(stored, 3);
    for cookie in [&firefox, &chrome, &admin] {
        let value = cookie.split_once('=').unwrap().1;
        assert!(!res.body.contains(value), "a cookie value in the answer");
        let hash = roster::auth::session::hash_token(value);
        assert!(!res.body.contains(&hash), "a session's key in the answer");
    }

    // The superadmin's own page: every tenant is theirs by the flag; the list shows where
    // they hold access (none granted by hand here).
    let admin_account = account(&app, &admin).await;
    assert_eq!(admin_account["is_superadmin"], true);
    assert_eq!(sessions(&admin_account).len(), 1);

    // The page itself, rendered on the server.
    let page = app.get("/account", Some(&firefox)).await;
    assert_eq!(page.status, 200);
    for text in [
        "Your account",
        "Change password",
        "Firefox on Linux",
        "Chrome on Windows",
        "This session",
    ] {
        assert!(page.body.contains(text), "the page shows {text}");
    }
    assert_eq!(
        app.get("/account", None).await.location().as_deref(),
        Some("/login?next=%2Faccount")
    );
    assert_eq!(
        data_call(&app, "/api/account", &[], "roster_session=forged")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn you_sign_out_your_other_sessions_one_or_all_and_never_anyone_elses() {
    let (app, admin) = TestApp::with_admin().await;
    pat(&app).await;
    let a = session_from(&app, FIREFOX, "10.1.1.1").await;
    let b = session_from(&app, CHROME, "10.2.2.2").await;
    let c = session_from(&app, CHROME, "10.3.3.3").await;
    let handle_of = |cookie: String| {
        let app = &app;
        async move { handle_where(&account(app, &cookie).await, true) }
    };
    let (handle_a, handle_b, handle_c) = (
        handle_of(a.clone()).await,
        handle_of(b.clone()).await,
        handle_of(c.clone()).await,
    );

    // One other session, by its handle.
    let res = app
        .post_form(
            "/api/account/sessions/end",
            &[("handle", &handle_b)],
            Some(&a),
        )
        .await;
    let (_, error, notice) = outcome(&res);
    assert_eq!(error, None);
    assert!(notice.unwrap().starts_with("Session signed out."));
    assert!(!signed_in(&app, &b).await, "b is signed out");
    assert!(signed_in(&app, &a).await && signed_in(&app, &c).await);

    // Not this one (that is Sign out), and not twice.
    for (handle, words) in [
        (&handle_a, "That is this session"),
        (&handle_b, "already ended"),
    ] {
        let res = app
            .post_form("/api/account/sessions/end", &[("handle", handle)], Some(&a))
            .await;
        let (field, error, _) = outcome(&res);
        assert_eq!(field.as_deref(), Some("handle"));
        assert!(error.unwrap().contains(words));
    }
    assert!(signed_in(&app, &a).await);

    // Someone else's handle is no session of theirs: nothing ends.
    let res = app
        .post_form(
            "/api/account/sessions/end",
            &[("handle", &handle_c)],
            Some(&admin),
        )
        .await;
    assert!(outcome(&res).1.unwrap().contains("already ended"));
    assert!(
        signed_in(&app, &c).await,
        "the admin cannot end pat's session"
    );
    let res = app
        .post_form("/api/account/sessions/end-others", &[], Some(&admin))
        .await;
    assert_eq!(
        outcome(&res).2.as_deref(),
        Some("You had no other sessions.")
    );
    assert!(signed_in(&app, &c).await, "nor by ending their own others");

    // All the others at once.
    let res = app
        .post_form("/api/account/sessions/end-others", &[], Some(&a))
        .await;
    assert_eq!(
        outcome(&res).2.as_deref(),
        Some("Signed out of 1 other session.")
    );
    assert!(!signed_in(&app, &c).await);
    assert!(signed_in(&app, &a).await && signed_in(&app, &admin).await);
    assert_eq!(sessions(&account(&app, &a).await).len(), 1);

    // Without a session nothing is done.
    let res = app
        .post_form("/api/account/sessions/end-others", &[], None)
        .await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn changing_your_password_checks_the_current_one_and_signs_out_every_other_browser() {
    let (app, admin) = TestApp::with_admin().await;
    pat(&app).await;
    let this = session_from(&app, FIREFOX, "10.1.1.1").await;
    let other = session_from(&app, CHROME, "10.2.2.2").await;
    let change = |current: &'static str, new: &'static str, again: &'static str| {
        let (app, this) = (&app, this.clone());
        async move {
            let form = [
                ("current_password", current),
                ("password", new),
                ("password_confirm", again),
            ];
            let peer: SocketAddr = "10.1.1.1:50000".parse().unwrap();
            let browser = [("user-agent", FIREFOX)];
            app.post_form_from(
                "/api/account/password",
                &form,
                Some(&this),
                &browser,
                Some(peer),
            )
            .await
        }
    };

    let refusals = [
        (
            ("wrong password", "new secret 22", "new secret 22"),
            "current_password",
            "not your current password",
        ),
        (
            (PASSWORD, "new secret 22", "new secret 23"),
            "password_confirm",
            "differ",
        ),
        ((PASSWORD, "short", "short"), "password", "at least 8"),
        (
            (PASSWORD, PASSWORD, PASSWORD),
            "password",
            "must differ from the current one",
        ),
    ];
    for ((current, new, again), field, words) in refusals {
        let res = change(current, new, again).await;
        let (f, error, _) = outcome(&res);
        assert_eq!(f.as_deref(), Some(field), "{error:?}");
        assert!(error.unwrap().contains(words), "{words}");
        assert!(res.session_cookie().is_none());
    }
    // Nothing changed: both sessions and the password hold.
    assert!(signed_in(&app, &this).await && signed_in(&app, &other).await);

    let res = change(PASSWORD, "new secret 22", "new secret 22").await;
    let (_, error, notice) = outcome(&res);
    assert_eq!(error, None);
    assert!(notice.unwrap().starts_with("Password changed."));
    let fresh = res
        .session_cookie()
        .expect("this browser gets a new session");
    assert_ne!(fresh, this);
    assert!(
        signed_in(&app, &fresh).await,
        "this browser stays signed in"
    );
    assert!(!signed_in(&app, &this).await, "under a new session id");
    assert!(
        !signed_in(&app, &other).await,
        "every other browser is signed out"
    );
    let mine = account(&app, &fresh).await;
    let listed = sessions(&mine);
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0]["browser"], "Firefox on Linux",
        "the new session keeps its browser"
    );
    // Recent sign-ins: the change, the wrong current password, then the two sign-ins.
    let activity: Vec<(String, String)> = mine["sign_ins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["what"].as_str().unwrap().into(),
                s["how"].as_str().unwrap().into(),
            )
        })
        .collect();
    let pair = |what: &str, how: &str| (what.to_string(), how.to_string());
    assert_eq!(
        activity,
        [
            pair("Password changed", "Password change"),
            pair("Wrong password", "Password change"),
            pair("Signed in", "Password"),
            pair("Signed in", "Password"),
        ]
    );

    let old = sign_in_from(&app, "pat", PASSWORD, FIREFOX, "10.1.1.1").await;
    assert!(
        old.session_cookie().is_none(),
        "the old password is refused"
    );
    let new = sign_in_from(&app, "pat", "new secret 22", FIREFOX, "10.1.1.1").await;
    assert!(new.session_cookie().is_some(), "the new one works");

    // The tenant's audit log says who changed it, and no password.
    let log = crate::ui_audit::log(&app, &admin, &[]).await.to_string();
    assert!(log.contains("Changed their own password; their other sessions ended."));
    assert!(!log.contains("new secret 22") && !log.contains(PASSWORD));
}

#[tokio::test]
async fn a_stolen_session_cannot_guess_the_password_faster_than_the_sign_in_form() {
    let app = TestApp::spawn().await;
    pat(&app).await;
    let session = session_from(&app, FIREFOX, "10.1.1.1").await;
    let peer: SocketAddr = "10.1.1.1:50000".parse().unwrap();
    let guess = |current: String| {
        let (app, session) = (&app, session.clone());
        async move {
            let form = [
                ("current_password", current.as_str()),
                ("password", "new secret 22"),
                ("password_confirm", "new secret 22"),
            ];
            app.post_form_from(
                "/api/account/password",
                &form,
                Some(&session),
                &[],
                Some(peer),
            )
            .await
        }
    };
    for n in 0..roster::auth::throttle::MAX_FAILURES {
        let (field, error, _) = outcome(&guess(format!("guess {n:02}")).await);
        assert_eq!(field.as_deref(), Some("current_password"));
        assert!(error.unwrap().contains("not your current password"));
    }
    // Locked out from this address: even the right password is refused, here and at sign-in.
    let res = guess(PASSWORD.into()).await;
    let (field, error, _) = outcome(&res);
    assert_eq!(field.as_deref(), Some("current_password"));
    assert!(error.unwrap().starts_with("Too many failed sign-ins."));
    assert!(res.header("retry-after").is_some());
    assert!(sign_in_from(&app, "pat", PASSWORD, FIREFOX, "10.1.1.1")
        .await
        .session_cookie()
        .is_none());
    // The password is unchanged.
    assert!(sign_in_from(&app, "pat", PASSWORD, FIREFOX, "10.9.9.9")
        .await
        .session_cookie()
        .is_some());
}

#[tokio::test]
async fn two_changes_at_once_leave_exactly_one_new_password() {
    let app = TestApp::spawn().await;
    pat(&app).await;
    let one = session_from(&app, FIREFOX, "10.1.1.1").await;
    let two = session_from(&app, CHROME, "10.2.2.2").await;
    let change = |cookie: String, new: &'static str| {
        let app = &app;
        async move {
            let form = [
                ("current_password", PASSWORD),
                ("password", new),
                ("password_confirm", new),
            ];
            app.post_form("/api/account/password", &form, Some(&cookie))
                .await
        }
    };
    let (a, b) = tokio::join!(
        change(one, "first new password"),
        change(two, "second new password")
    );
    let won = |res: &TestResponse| {
        res.status == 302
            && res
                .location()
                .is_some_and(|l| query_value(&l, "notice").is_some())
    };
    assert!(
        won(&a) != won(&b),
        "exactly one change wins: {} {:?} / {} {:?}",
        a.status,
        a.location(),
        b.status,
        b.location()
    );
    let (winner, loser) = if won(&a) {
        ("first new password", "second new password")
    } else {
        ("second new password", "first new password")
    };
    let signs_in = |password: &'static str| {
        let app = &app;
        async move {
            sign_in_from(app, "pat", password, FIREFOX, "10.5.5.5")
                .await
                .session_cookie()
                .is_some()
        }
    };
    assert!(signs_in(winner).await);
    assert!(!signs_in(loser).await);
    assert!(!signs_in(PASSWORD).await);
}

#[tokio::test]
async fn the_users_page_does_not_set_your_own_password_without_the_current_one() {
    let (app, _) = TestApp::with_admin().await;
    let id = app.plain_user("tess", PASSWORD, Some("main")).await;
    app.bind_managed_role("main", "Admin", &id).await;
    let tess = app.sign_in("tess", PASSWORD).await;
    let res = app
        .post_form(
            "/api/users/password",
            &[
                ("tenant", "main"),
                ("user", &id),
                ("password", "taken over!!"),
            ],
            Some(&tess),
        )
        .await;
    assert_eq!(res.status, 302, "{}", res.body);
    let location = res.location().unwrap();
    assert_eq!(query_value(&location, "field").as_deref(), Some("password"));
    assert!(query_value(&location, "error")
        .unwrap()
        .contains("use Your account"));
    assert!(signed_in(&app, &tess).await, "nothing ended");
    app.sign_in("tess", PASSWORD).await;

    // Their own user page sends them there instead of offering the form.
    let page = app
        .get(&format!("/t/main/iam/users/{id}"), Some(&tess))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("This is you."));
    assert!(!page.body.contains("Save password"));
}

#[tokio::test]
async fn recent_sign_ins_show_wrong_passwords_and_refusals_and_keep_the_latest_fifty() {
    let app = TestApp::spawn().await;
    let pat_id = pat(&app).await;
    app.plain_user("other", "other password", Some("main"))
        .await;
    let wrong = sign_in_from(&app, "pat", "a wrong guess", CHROME, "10.6.6.6").await;
    assert!(wrong.session_cookie().is_none());
    sign_in_from(&app, "nobody", "a wrong guess", CHROME, "10.6.6.6").await;
    sign_in_from(&app, "other", "a wrong guess", CHROME, "10.6.6.6").await;
    let session = session_from(&app, FIREFOX, "10.1.1.1").await;

    let listed = account(&app, &session).await["sign_ins"].clone();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 2, "pat's own only: {rows:?}");
    assert_eq!(rows[0]["what"], "Signed in");
    assert_eq!(rows[0]["failed"], false);
    assert_eq!(rows[0]["how"], "Password");
    assert_eq!(rows[0]["browser"], "Firefox on Linux");
    assert_eq!(rows[0]["address"], "10.1.1.1");
    assert_eq!(rows[1]["what"], "Wrong password");
    assert_eq!(rows[1]["failed"], true);
    assert_eq!(rows[1]["browser"], "Chrome on Windows");
    assert_eq!(rows[1]["address"], "10.6.6.6");
    // A name nobody has leaves nothing; another account's failure is that account's.
    assert_eq!(app.count("SELECT COUNT(*) FROM sign_ins", &[]).await, 3);

    // A suspended account's right password is refused, and recorded as such.
    app.execute(&[&format!(
        "UPDATE users SET active = 0 WHERE id = '{pat_id}'"
    )])
    .await;
    let refused = sign_in_from(&app, "pat", PASSWORD, FIREFOX, "10.1.1.2").await;
    assert!(refused.session_cookie().is_none());
    app.execute(&[&format!(
        "UPDATE users SET active = 1 WHERE id = '{pat_id}'"
    )])
    .await;
    let session = session_from(&app, FIREFOX, "10.1.1.1").await;
    let rows = account(&app, &session).await["sign_ins"].clone();
    assert_eq!(rows[1]["what"], "Refused: account suspended");
    assert_eq!(rows[1]["address"], "10.1.1.2");

    // A guesser spread over many addresses fills no more than the latest fifty.
    for n in 0..60 {
        let address = format!("10.9.{}.{}", n / 200, n % 200 + 1);
        sign_in_from(&app, "pat", "still guessing", CHROME, &address).await;
    }
    let kept = app
        .count(
            "SELECT COUNT(*) FROM sign_ins WHERE user_id = $1",
            &[&pat_id],
        )
        .await;
    assert_eq!(kept, roster::db::sign_ins::KEPT_PER_USER);
    let rows = account(&app, &session).await["sign_ins"].clone();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0]["address"], "10.9.0.60", "the newest first");
    assert!(rows.iter().all(|r| r["what"] == "Wrong password"));
}
