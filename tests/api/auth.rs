use crate::helpers::{query_value, TestApp, ADMIN, ADMIN_PASSWORD};

#[tokio::test]
async fn every_page_leads_to_setup_while_no_superadmin_exists() {
    let app = TestApp::spawn().await;
    for path in ["/", "/login", "/instance/tenants", "/t/main/iam/users"] {
        let res = app.get(path, None).await;
        assert_eq!(res.status, 303, "{path}");
        assert_eq!(res.location().as_deref(), Some("/setup"), "{path}");
    }
    let setup = app.get("/setup", None).await;
    assert_eq!(setup.status, 200);
    assert!(setup.body.contains("Create superadmin"));
}

#[tokio::test]
async fn setup_creates_the_first_superadmin_and_signs_them_in() {
    let app = TestApp::spawn().await;
    let res = app
        .post_form(
            "/api/setup",
            &[
                ("username", "Ada"),
                ("email", "ada@example.com"),
                ("password", "analytical engine"),
                ("password_confirm", "analytical engine"),
            ],
            None,
        )
        .await;
    assert_eq!(res.status, 302);
    assert!(res.location().unwrap().starts_with("/?notice="));
    let set_cookie = res.set_cookie_header();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "plain http must not set Secure: {set_cookie}"
    );
    let cookie = res.session_cookie().unwrap();

    let tenants = app.get("/instance/tenants", Some(&cookie)).await;
    assert_eq!(tenants.status, 200);
    assert!(
        tenants.body.contains("Ada"),
        "shell shows the signed-in user"
    );
    assert!(tenants.body.contains("tenant-row-main"));
}

#[tokio::test]
async fn setup_is_refused_once_a_superadmin_exists() {
    let (app, _) = TestApp::with_admin().await;
    assert_eq!(
        app.get("/setup", None).await.location().as_deref(),
        Some("/login")
    );
    let res = app
        .post_form(
            "/api/setup",
            &[
                ("username", "mallory"),
                ("password", "takeover!!"),
                ("password_confirm", "takeover!!"),
            ],
            None,
        )
        .await;
    assert_eq!(res.status, 302);
    assert!(res.location().unwrap().starts_with("/login?error="));
    assert!(res.session_cookie().is_none());
    let mut conn = app.db.acquire().await.unwrap();
    assert!(roster::db::users::find_by_login(&mut conn, "mallory")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn setup_reports_mismatched_passwords_beside_the_field() {
    let app = TestApp::spawn().await;
    let res = app
        .post_form(
            "/api/setup",
            &[
                ("username", "ada"),
                ("password", "analytical engine"),
                ("password_confirm", "different one"),
            ],
            None,
        )
        .await;
    let location = res.location().unwrap();
    assert_eq!(
        query_value(&location, "field").as_deref(),
        Some("password_confirm")
    );
    assert_eq!(query_value(&location, "username").as_deref(), Some("ada"));
    let page = app.get(&location, None).await;
    assert!(page.body.contains("The two passwords differ."));
}

#[tokio::test]
async fn a_wrong_password_sends_the_person_back_with_a_message_and_no_session() {
    let (app, _) = TestApp::with_admin().await;
    let res = app
        .post_form(
            "/api/auth/login",
            &[("username", ADMIN), ("password", "nope nope")],
            None,
        )
        .await;
    assert_eq!(res.status, 302);
    let location = res.location().unwrap();
    assert_eq!(
        query_value(&location, "error").as_deref(),
        Some("Wrong username or password.")
    );
    assert!(res.session_cookie().is_none());
    let page = app.get(&location, None).await;
    assert!(page.body.contains("Wrong username or password."));
}

#[tokio::test]
async fn sign_in_accepts_the_username_in_any_case_or_the_email() {
    let (app, _) = TestApp::with_admin().await;
    app.sign_in("ADMIN", ADMIN_PASSWORD).await;
    app.sign_in("admin@example.com", ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn pages_need_a_session_and_remember_where_the_person_was_going() {
    let (app, cookie) = TestApp::with_admin().await;
    let res = app.get("/instance/tenants", None).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        res.location().as_deref(),
        Some("/login?next=%2Finstance%2Ftenants")
    );
    let res = app
        .post_form(
            "/api/auth/login",
            &[
                ("username", ADMIN),
                ("password", ADMIN_PASSWORD),
                ("next", "/instance/tenants"),
            ],
            None,
        )
        .await;
    assert_eq!(res.location().as_deref(), Some("/instance/tenants"));
    assert_eq!(
        app.get("/login", Some(&cookie)).await.location().as_deref(),
        Some("/")
    );
}

#[tokio::test]
async fn sign_in_never_redirects_off_site() {
    let (app, _) = TestApp::with_admin().await;
    let res = app
        .post_form(
            "/api/auth/login",
            &[
                ("username", ADMIN),
                ("password", ADMIN_PASSWORD),
                ("next", "//evil.example/"),
            ],
            None,
        )
        .await;
    assert_eq!(res.location().as_deref(), Some("/"));
}

#[tokio::test]
async fn m1_a_control_character_in_next_cannot_open_a_redirect_or_break_the_answer() {
    let (app, _) = TestApp::with_admin().await;
    for next in [
        "/\t/evil.example/sso",
        "/\n/evil.example",
        "/\\evil.example",
        "/\r\nSet-Cookie: x=y",
    ] {
        let res = app
            .post_form(
                "/api/auth/login",
                &[
                    ("username", ADMIN),
                    ("password", ADMIN_PASSWORD),
                    ("next", next),
                ],
                None,
            )
            .await;
        assert_eq!(res.location().as_deref(), Some("/"), "{next:?}");
        assert!(
            res.session_cookie().is_some(),
            "{next:?}: signed in all the same"
        );
    }
}

#[tokio::test]
async fn signing_in_rotates_the_session_id() {
    let (app, first) = TestApp::with_admin().await;
    let res = app
        .post_form(
            "/api/auth/login",
            &[("username", ADMIN), ("password", ADMIN_PASSWORD)],
            Some(&first),
        )
        .await;
    let second = res.session_cookie().unwrap();
    assert_ne!(first, second);
    assert_eq!(
        app.get("/instance/tenants", Some(&first)).await.status,
        303,
        "old id is dead"
    );
    assert_eq!(
        app.get("/instance/tenants", Some(&second)).await.status,
        200
    );
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let (app, cookie) = TestApp::with_admin().await;
    let res = app.post_form("/api/auth/logout", &[], Some(&cookie)).await;
    assert!(res.location().unwrap().starts_with("/login"));
    assert!(res.set_cookie_header().contains("Max-Age=0"));
    assert_eq!(
        app.get("/instance/tenants", Some(&cookie)).await.status,
        303
    );
}

#[tokio::test]
async fn ten_failures_in_five_minutes_lock_the_login_for_thirty_minutes() {
    let (app, _) = TestApp::with_admin().await;
    for _ in 0..10 {
        let res = app
            .post_form(
                "/api/auth/login",
                &[("username", ADMIN), ("password", "wrong guess")],
                None,
            )
            .await;
        assert!(res.session_cookie().is_none());
    }
    // Now even the right password is refused, with a message that says why.
    let res = app
        .post_form(
            "/api/auth/login",
            &[("username", ADMIN), ("password", ADMIN_PASSWORD)],
            None,
        )
        .await;
    assert!(res.session_cookie().is_none());
    let error = query_value(&res.location().unwrap(), "error").unwrap();
    assert!(error.contains("Too many failed sign-ins"), "{error}");
    assert!(error.contains("30 minutes"), "{error}");

    app.clock.advance_minutes(29);
    let res = app
        .post_form(
            "/api/auth/login",
            &[("username", ADMIN), ("password", ADMIN_PASSWORD)],
            None,
        )
        .await;
    assert!(
        res.session_cookie().is_none(),
        "still locked after 29 minutes"
    );

    app.clock.advance_minutes(2);
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn failures_spread_beyond_five_minutes_do_not_lock() {
    let (app, _) = TestApp::with_admin().await;
    for _ in 0..12 {
        app.post_form(
            "/api/auth/login",
            &[("username", ADMIN), ("password", "wrong guess")],
            None,
        )
        .await;
        app.clock.advance_minutes(1);
    }
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn sessions_expire_after_twelve_hours() {
    let (app, cookie) = TestApp::with_admin().await;
    app.clock.advance_minutes(11 * 60);
    assert_eq!(
        app.get("/instance/tenants", Some(&cookie)).await.status,
        200
    );
    app.clock.advance_minutes(61);
    assert_eq!(
        app.get("/instance/tenants", Some(&cookie)).await.status,
        303
    );
}

#[tokio::test]
async fn the_password_hash_is_argon2_and_never_the_password() {
    let (app, _) = TestApp::with_admin().await;
    let mut conn = app.db.acquire().await.unwrap();
    let user = roster::db::users::find_by_login(&mut conn, ADMIN)
        .await
        .unwrap()
        .unwrap();
    let hash = user.password_hash.unwrap();
    assert!(hash.starts_with("$argon2id$"));
    assert!(!hash.contains(ADMIN_PASSWORD));
}
