//! Single sign-on against a real OpenID provider: npm `oidc-provider` (certified), started once
//! per test run on loopback by `tests/oidc/provider.mjs` (install with `npm ci --prefix tests/oidc`).
//! The browser is played by reqwest: Roster's start and callback are called on the router in
//! process, the provider over HTTP, through its development login and consent forms.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use roster::auth::oidc::{self, NewProvider, UserClaim};
use roster::secret::Secret;

use crate::helpers::{query_value, TestApp, TestResponse};

/// Where Roster's callback lives in the test settings (`ROSTER_PUBLIC_URL` defaults to the site).
const ROSTER_BASE: &str = "http://127.0.0.1:3000";

pub(crate) struct Provider {
    pub(crate) issuer: String,
    rogue_issuer: String,
    rotating_issuer: String,
}

/// How long the provider may take to print its issuers (it starts in about a second).
const PROVIDER_START: std::time::Duration = std::time::Duration::from_secs(60);

/// The provider process, kept with its standard input open: it exits when the test binary
/// does (and the pipe closes).
static PROVIDER_PROCESS: Mutex<Option<Child>> = Mutex::new(None);

pub(crate) fn provider() -> &'static Provider {
    static PROVIDER: OnceLock<Provider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
        assert!(
            std::path::Path::new(dir)
                .join("node_modules/oidc-provider")
                .exists(),
            "the test OpenID provider is not installed: run `npm ci --prefix tests/oidc`"
        );
        // Twice at most: a provider that does not start within the bound fails the test instead
        // of hanging the suite, with what it printed on its standard error.
        let (child, line) = start_provider(dir)
            .or_else(|first| {
                eprintln!("{first}; starting it again");
                start_provider(dir)
            })
            .unwrap_or_else(|again| panic!("{again}"));
        let json: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("provider said {line:?}: {e}"));
        *PROVIDER_PROCESS.lock().unwrap() = Some(child);
        Provider {
            issuer: json["issuer"].as_str().unwrap().to_string(),
            rogue_issuer: json["rogue_issuer"].as_str().unwrap().to_string(),
            rotating_issuer: json["rotating_issuer"].as_str().unwrap().to_string(),
        }
    })
}

/// Starts `node provider.mjs` in `dir` and reads its first line (its issuers), waiting at most
/// [`PROVIDER_START`]; on failure, says so with the end of what it wrote on its standard error.
fn start_provider(dir: &str) -> Result<(Child, String), String> {
    let log_path =
        std::env::temp_dir().join(format!("roster-oidc-provider-{}.log", std::process::id()));
    let stderr = if std::env::var_os("ROSTER_TEST_OIDC_LOG").is_some() {
        Stdio::inherit()
    } else {
        std::fs::File::create(&log_path)
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null())
    };
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(dir)
        .env("ROSTER_PUBLIC_URL", ROSTER_BASE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start node tests/oidc/provider.mjs");
    let stdout = child.stdout.take().expect("stdout");
    let (sent, first_line) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let _ = sent.send(read.map(|_| line));
    });
    match first_line.recv_timeout(PROVIDER_START) {
        Ok(Ok(line)) if !line.trim().is_empty() => Ok((child, line)),
        outcome => {
            let _ = child.kill();
            let _ = child.wait();
            let said = std::fs::read_to_string(&log_path).unwrap_or_default();
            let lines: Vec<&str> = said.lines().collect();
            let tail = &lines[lines.len().saturating_sub(20)..];
            Err(format!(
                "tests/oidc/provider.mjs printed no issuers within {PROVIDER_START:?} ({}); its \
                 standard error ended with:\n{}",
                match outcome {
                    Err(_) => "timed out".to_string(),
                    Ok(Err(e)) => format!("reading its output failed: {e}"),
                    Ok(Ok(_)) => "it closed its output".to_string(),
                },
                tail.join("\n")
            ))
        }
    }
}

/// A set-up test app (with a superadmin) whose clock shows real time: the provider's tokens
/// carry real times.
pub(crate) async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    app.create_superadmin("root", "a long root password").await;
    app.clock.set(real_now());
    app
}

// A real provider checks token times against the real clock.
#[allow(clippy::disallowed_methods)]
fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub(crate) async fn add_provider(
    app: &TestApp,
    issuer: &str,
    claim: UserClaim,
    create_users: bool,
) -> String {
    oidc::add_provider(
        &app.db,
        &app.clock,
        &app.state.settings,
        NewProvider {
            name: "Test IdP".into(),
            issuer: issuer.into(),
            client_id: "roster".into(),
            client_secret: Secret::new("roster-test-secret"),
            scopes: None,
            user_claim: claim,
            create_users,
        },
    )
    .await
    .expect("add provider")
    .id
}

/// [`app`] with a user without a password, `username` with `email`, and a provider that matches
/// emails: what most sign-in tests start from. Answers the provider's id.
async fn app_with_user(username: &str, email: &str) -> (TestApp, String) {
    let app = app().await;
    create_user(&app, username, email).await;
    let id = add_provider(&app, &provider().issuer, UserClaim::Email, false).await;
    (app, id)
}

/// A provider that matches `sub` against the `externalId`s of `integration` (it trusts that
/// integration only, issue 10). Answers its id.
pub(crate) async fn sub_provider_trusting(app: &TestApp, integration: &str) -> String {
    let id = add_provider(app, &provider().issuer, UserClaim::Sub, false).await;
    oidc::trust_integrations(&app.db, &id, &[integration.to_string()])
        .await
        .unwrap();
    id
}

pub(crate) async fn create_user(app: &TestApp, username: &str, email: &str) -> String {
    let id = roster::db::new_id();
    let mut conn = app.db.acquire().await.unwrap();
    roster::db::users::insert(
        &mut conn,
        &roster::db::users::NewUser {
            id: &id,
            username,
            email: Some(email),
            display_name: None,
            password_hash: None,
            is_superadmin: false,
        },
        app.now(),
    )
    .await
    .unwrap();
    id
}

/// Changes an account's claims at the provider from now on (its subject stays).
async fn change_claims(account: &str, claims: serde_json::Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/__test/claims", provider().issuer))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "account": account, "claims": claims }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
}

/// The `Set-Cookie` value for `name`, as `name=value`.
pub(crate) fn cookie(res: &TestResponse, name: &str) -> Option<String> {
    res.headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// A browser at the provider: cookies per origin, no automatic redirects.
struct Browser {
    http: reqwest::Client,
    jar: HashMap<String, HashMap<String, String>>,
}

impl Browser {
    fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(crate::helpers::REQUEST_LIMIT)
                .build()
                .unwrap(),
            jar: HashMap::new(),
        }
    }

    fn cookie_header(&self, url: &reqwest::Url) -> String {
        self.jar
            .get(&url.origin().ascii_serialization())
            .map(|c| {
                c.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    fn keep_cookies(&mut self, url: &reqwest::Url, res: &reqwest::Response) {
        let jar = self
            .jar
            .entry(url.origin().ascii_serialization())
            .or_default();
        for v in res.headers().get_all(reqwest::header::SET_COOKIE) {
            let Some((pair, _)) = v
                .to_str()
                .ok()
                .map(|s| s.split_once(';').unwrap_or((s, "")))
            else {
                continue;
            };
            if let Some((k, v)) = pair.split_once('=') {
                jar.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
    }

    /// Follows the provider from `url` through its login and consent forms (signing in as
    /// `login`) until it sends the browser back to Roster; returns that URL.
    async fn sign_in_at_provider(&mut self, url: &str, login: &str) -> String {
        let mut url = reqwest::Url::parse(url).unwrap();
        let mut form: Option<Vec<(String, String)>> = None;
        for _ in 0..20 {
            if url.as_str().starts_with(ROSTER_BASE) {
                return url.to_string();
            }
            let request = match form.take() {
                Some(fields) => {
                    let body = fields
                        .iter()
                        .map(|(k, v)| format!("{k}={}", roster::url::encode_query_value(v)))
                        .collect::<Vec<_>>()
                        .join("&");
                    self.http
                        .post(url.clone())
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body)
                }
                None => self.http.get(url.clone()),
            };
            let res = request
                .header("cookie", self.cookie_header(&url))
                .send()
                .await
                .expect("the provider answers");
            self.keep_cookies(&url, &res);
            let status = res.status();
            if status.is_redirection() {
                let location = res.headers()["location"].to_str().unwrap().to_string();
                url = url.join(&location).unwrap();
                continue;
            }
            let body = res.text().await.unwrap();
            assert!(status.is_success(), "provider answered {status}: {body}");
            let (action, mut fields) = parse_form(&body);
            if fields.iter().any(|(k, _)| k == "login") {
                for (k, v) in fields.iter_mut() {
                    match k.as_str() {
                        "login" => *v = login.to_string(),
                        "password" => *v = "any password".to_string(),
                        _ => {}
                    }
                }
            }
            url = url.join(&action).unwrap();
            form = Some(fields);
        }
        panic!("the provider never sent the browser back to Roster");
    }
}

/// The action and the input fields of the first form in `html`.
fn parse_form(html: &str) -> (String, Vec<(String, String)>) {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(tag[start..end].replace("&amp;", "&"))
    };
    let form_start = html.find("<form").expect("a form on the provider's page");
    let form_tag = &html[form_start..html[form_start..].find('>').unwrap() + form_start];
    let action = attr(form_tag, "action").expect("form action");
    let fields = html[form_start..]
        .split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
            Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()))
        })
        .collect();
    (action, fields)
}

/// The whole flow: start on Roster, sign in at the provider as `login`, come back. Returns the
/// callback's response.
pub(crate) async fn sign_in_via(app: &TestApp, provider_id: &str, login: &str) -> TestResponse {
    let (callback, binding) = to_callback(app, provider_id, login, None).await;
    app.get(&callback, Some(&binding)).await
}

/// Starts a sign-in and walks through the provider; returns the callback path (with query)
/// and the binding cookie the start set.
async fn to_callback(
    app: &TestApp,
    provider_id: &str,
    login: &str,
    next: Option<&str>,
) -> (String, String) {
    let start_path = match next {
        Some(n) => format!(
            "/auth/oidc/{provider_id}/start?next={}",
            roster::url::encode_query_value(n)
        ),
        None => format!("/auth/oidc/{provider_id}/start"),
    };
    let start = app.get(&start_path, None).await;
    assert_eq!(
        start.status, 303,
        "start redirects to the provider: {}",
        start.body
    );
    let binding = cookie(&start, "roster_oidc").expect("the start binds the browser");
    let authorize = start.location().unwrap();
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "{authorize}"
    );
    assert!(authorize.contains("nonce="), "{authorize}");
    let back = Browser::new().sign_in_at_provider(&authorize, login).await;
    let path = back.strip_prefix(ROSTER_BASE).unwrap().to_string();
    (path, binding)
}

pub(crate) fn assert_refused(res: &TestResponse, words: &str) {
    assert_eq!(res.status, 303, "{}", res.body);
    let location = res.location().unwrap();
    assert!(location.starts_with("/login?error="), "{location}");
    let message = query_value(&location, "error").unwrap();
    assert!(
        message.to_lowercase().contains(&words.to_lowercase()),
        "{message:?} should mention {words:?}"
    );
    assert!(
        cookie(res, "roster_session").is_none(),
        "no session on failure"
    );
}

async fn session_count(app: &TestApp) -> i64 {
    use sqlx::Row;
    let mut conn = app.db.acquire().await.unwrap();
    sqlx::query("SELECT COUNT(*) AS n FROM sessions")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

#[tokio::test]
async fn a_provisioned_user_signs_in_through_the_provider_and_lands_where_they_asked() {
    let (app, id) = app_with_user("alice", "Alice@Example.com").await;

    // The ID token of the code flow carries no email here: Roster must ask userinfo.
    let (callback, binding) = to_callback(&app, &id, "alice", Some("/instance/tenants")).await;
    let res = app.get(&callback, Some(&binding)).await;
    assert_eq!(res.status, 303, "{:?}", res.location());
    assert_eq!(res.location().as_deref(), Some("/instance/tenants"));
    let session = cookie(&res, "roster_session").expect("a session");
    assert!(res
        .set_cookie_header()
        .contains("roster_oidc=; Path=/auth/oidc"));

    let home = app.get("/", Some(&session)).await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("alice"), "the shell shows alice");

    // The same callback cannot be used twice.
    let replay = app.get(&callback, Some(&binding)).await;
    assert_refused(&replay, "try again");
}

#[tokio::test]
async fn signing_in_again_follows_the_link_and_replaces_the_previous_session() {
    let (app, id) = app_with_user("bob", "bob@example.com").await;
    let first = cookie(&sign_in_via(&app, &id, "bob").await, "roster_session").unwrap();

    let (callback, binding) = to_callback(&app, &id, "bob", None).await;
    let res = app
        .get(&callback, Some(&format!("{binding}; {first}")))
        .await;
    let second = cookie(&res, "roster_session").expect("a new session");
    assert_ne!(first, second);
    assert_eq!(session_count(&app).await, 1, "the old session ended");
    assert_eq!(app.get("/", Some(&first)).await.status, 303);
    assert_eq!(app.get("/", Some(&second)).await.status, 200);
}

#[tokio::test]
async fn the_login_page_offers_each_provider_as_a_plain_link() {
    let app = app().await;
    let id = add_provider(&app, &provider().issuer, UserClaim::Email, false).await;
    let page = app.get("/login?next=/instance/tenants", None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Sign in with Test IdP"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("/auth/oidc/{id}/start?next=%2Finstance%2Ftenants")),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_tampered_state_is_refused_and_nobody_is_signed_in() {
    let (app, id) = app_with_user("carol", "carol@example.com").await;
    let (callback, binding) = to_callback(&app, &id, "carol", None).await;
    let state = query_value(&callback, "state").unwrap();
    let tampered = callback.replace(&format!("state={state}"), &format!("state=x{state}"));
    assert_ne!(tampered, callback);
    assert_refused(&app.get(&tampered, Some(&binding)).await, "try again");
    assert_eq!(session_count(&app).await, 0);
}

#[tokio::test]
async fn a_callback_opened_in_another_browser_is_refused() {
    let (app, id) = app_with_user("dave", "dave@example.com").await;
    let (callback, _binding) = to_callback(&app, &id, "dave", None).await;
    assert_refused(&app.get(&callback, None).await, "this browser");
    assert_eq!(session_count(&app).await, 0);
}

#[tokio::test]
async fn an_id_token_signed_by_another_key_is_refused() {
    let app = app().await;
    create_user(&app, "erin", "erin@example.com").await;
    // This issuer signs with one key and publishes another under the same key id.
    let id = add_provider(&app, &provider().rogue_issuer, UserClaim::Email, false).await;
    assert_refused(&sign_in_via(&app, &id, "erin").await, "cannot trust");
    assert_eq!(session_count(&app).await, 0);
}

#[tokio::test]
async fn keys_are_fetched_again_when_a_token_names_a_key_roster_has_not_seen() {
    let app = app().await;
    create_user(&app, "rita", "rita@example.com").await;
    // This issuer's first JWKS answer (cached by Roster at the start) lacks the signing key.
    let id = add_provider(&app, &provider().rotating_issuer, UserClaim::Email, false).await;
    let res = sign_in_via(&app, &id, "rita").await;
    assert!(
        cookie(&res, "roster_session").is_some(),
        "{:?}",
        res.location()
    );
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let (app, id) = app_with_user("frank", "frank@example.com").await;
    // Roster's clock is two hours ahead of the provider's: the token (valid one hour, plus
    // two minutes of tolerated skew) has expired by Roster's time; the sign-in itself is fresh.
    app.clock.set(real_now() + 2 * 60 * 60 * 1000);
    assert_refused(&sign_in_via(&app, &id, "frank").await, "cannot trust");
    assert_eq!(session_count(&app).await, 0);
}

#[tokio::test]
async fn a_sign_in_that_took_too_long_is_refused() {
    let (app, id) = app_with_user("gina", "gina@example.com").await;
    let (callback, binding) = to_callback(&app, &id, "gina", None).await;
    app.clock.advance_minutes(11);
    assert_refused(&app.get(&callback, Some(&binding)).await, "try again");
}

#[tokio::test]
async fn a_suspended_user_cannot_sign_in() {
    let app = app().await;
    let user_id = create_user(&app, "hank", "hank@example.com").await;
    // Suspension is the IAM model's `active: false` (set by SCIM or an admin).
    let mut conn = app.db.acquire().await.unwrap();
    sqlx::query("UPDATE users SET active = 0 WHERE id = $1")
        .bind(&user_id)
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let id = add_provider(&app, &provider().issuer, UserClaim::Email, false).await;
    assert_refused(&sign_in_via(&app, &id, "hank").await, "suspended");
    assert_eq!(session_count(&app).await, 0);
    // The refusal is in hank's sign-in activity (his own page, and the instance's).
    let refused = "SELECT COUNT(*) FROM sign_ins WHERE user_id = $1 AND outcome = 'suspended' \
                   AND method LIKE 'oidc:%'";
    assert_eq!(app.count(refused, &[&user_id]).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM sign_ins", &[]).await, 1);
}

#[tokio::test]
async fn an_unknown_person_is_refused_when_creating_users_is_off() {
    let app = app().await;
    let id = add_provider(&app, &provider().issuer, UserClaim::Email, false).await;
    assert_refused(
        &sign_in_via(&app, &id, "stranger").await,
        "no Roster account for stranger@example.com",
    );
    let mut conn = app.db.acquire().await.unwrap();
    assert!(roster::db::users::find_by_login(&mut conn, "stranger")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn an_unknown_person_gets_an_account_when_creating_users_is_on() {
    let app = app().await;
    let id = add_provider(&app, &provider().issuer, UserClaim::Email, true).await;
    let res = sign_in_via(&app, &id, "newbie").await;
    assert_eq!(res.location().as_deref(), Some("/"));
    assert!(cookie(&res, "roster_session").is_some());
    let mut conn = app.db.acquire().await.unwrap();
    let user = roster::db::users::find_by_login(&mut conn, "newbie")
        .await
        .unwrap()
        .expect("created");
    assert_eq!(user.email.as_deref(), Some("newbie@example.com"));
    assert_eq!(user.display_name.as_deref(), Some("Test newbie"));
    assert!(user.password_hash.is_none() && !user.is_superadmin);
}

#[tokio::test]
async fn the_link_holds_when_emails_change_so_a_reassigned_email_takes_over_nothing() {
    let app = app().await;
    let ivy = create_user(&app, "ivy", "ivy@example.com").await;
    create_user(&app, "jack", "jack@example.com").await;
    let id = add_provider(&app, &provider().issuer, UserClaim::Email, false).await;
    assert!(cookie(&sign_in_via(&app, &id, "ivy").await, "roster_session").is_some());

    // Ivy's address at the provider becomes Jack's: she still signs in as ivy.
    change_claims("ivy", serde_json::json!({ "email": "jack@example.com" })).await;
    let res = sign_in_via(&app, &id, "ivy").await;
    let session = cookie(&res, "roster_session").expect("signed in");
    let who = roster::auth::login::user_for_token(
        &app.db,
        &app.clock,
        session.split_once('=').unwrap().1,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(who.id, ivy);

    // Someone else who now has ivy@example.com at the provider does not get Ivy's account.
    assert_refused(
        &sign_in_via(&app, &id, "mallory;email=ivy@example.com").await,
        "linked to another identity",
    );
}

#[tokio::test]
async fn users_can_be_matched_by_preferred_username() {
    let app = app().await;
    create_user(&app, "Kim", "kim@elsewhere.example").await;
    let id = add_provider(
        &app,
        &provider().issuer,
        UserClaim::PreferredUsername,
        false,
    )
    .await;
    let res = sign_in_via(&app, &id, "kim").await;
    assert!(
        cookie(&res, "roster_session").is_some(),
        "{:?}",
        res.location()
    );
}

#[tokio::test]
async fn with_the_sub_claim_a_user_is_found_by_the_external_id_scim_gave_them() {
    // Okta and Entra send their own user id both as the OpenID `sub` and as the SCIM
    // `externalId`, while the SCIM userName is an email address.
    let app = app().await;
    let scim = app.integration("main").await;
    app.scim_user(
        &scim,
        serde_json::json!({
            "userName": "okta.person@example.com",
            "externalId": "00u1okta",
            "emails": [{"value": "okta.person@example.com", "primary": true}],
        }),
    )
    .await;
    // The provider trusts the externalIds of this integration only (issue 10).
    let id = sub_provider_trusting(&app, &scim.id).await;
    let res = sign_in_via(&app, &id, "00u1okta").await;
    let session = cookie(&res, "roster_session").expect("signed in via the externalId");
    let home = app.get("/", Some(&session)).await;
    assert!(home.body.contains("okta.person@example.com"));

    // A subject that is neither a username nor an externalId matches nobody.
    let res = sign_in_via(&app, &id, "00u2unknown").await;
    assert!(cookie(&res, "roster_session").is_none());
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_ends_on_the_login_page() {
    let app = app().await;
    let id = add_provider(&app, "http://127.0.0.1:9", UserClaim::Email, false).await;
    let res = app.get(&format!("/auth/oidc/{id}/start"), None).await;
    assert_refused(&res, "cannot be reached");
    let res = app.get("/auth/oidc/no-such-provider/start", None).await;
    assert_refused(&res, "does not exist");
}

#[tokio::test]
async fn signing_out_ends_the_session_at_roster_and_at_the_provider() {
    let (app, id) = app_with_user("liz", "liz@example.com").await;
    let session = cookie(&sign_in_via(&app, &id, "liz").await, "roster_session").unwrap();
    let res = app.post_form("/api/auth/logout", &[], Some(&session)).await;
    let location = res.location().unwrap();
    assert!(
        location.starts_with(&format!("{}/session/end?", provider().issuer)),
        "{location}"
    );
    assert!(location.contains("id_token_hint="), "{location}");
    assert!(
        location.contains("post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Flogin"),
        "{location}"
    );
    assert_eq!(session_count(&app).await, 0);
    assert_eq!(app.get("/", Some(&session)).await.status, 303);
}

#[tokio::test]
async fn a_password_session_signs_out_locally() {
    let (app, cookie) = TestApp::with_admin().await;
    let res = app.post_form("/api/auth/logout", &[], Some(&cookie)).await;
    assert!(res.location().unwrap().starts_with("/login?notice="));
}

#[tokio::test]
async fn client_secrets_are_stored_encrypted() {
    let app = app().await;
    let id = add_provider(&app, &provider().issuer, UserClaim::Email, false).await;
    let mut conn = app.db.acquire().await.unwrap();
    let row = roster::db::oidc::find_provider(&mut conn, &id)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.client_secret_enc.contains("roster-test-secret"));
    assert!(oidc::check_secret_key(&app.db, &app.state.settings)
        .await
        .is_ok());
}

#[tokio::test]
async fn a_user_signed_in_through_the_provider_enters_only_the_tenants_they_have_access_to() {
    let app = app().await;
    let user_id = create_user(&app, "nora", "nora@example.com").await;
    let mut conn = app.db.acquire().await.unwrap();
    roster::db::tenants::insert(&mut conn, "dev", "Development", app.now())
        .await
        .unwrap();
    roster::db::tenants::grant_access(&mut conn, "dev", &user_id, app.now())
        .await
        .unwrap();
    drop(conn);
    let id = add_provider(&app, &provider().issuer, UserClaim::Email, false).await;
    let session = cookie(&sign_in_via(&app, &id, "nora").await, "roster_session").unwrap();

    assert_eq!(
        app.get("/t/dev/iam/users", Some(&session)).await.status,
        200
    );
    assert_eq!(
        app.get("/t/main/iam/users", Some(&session)).await.status,
        404
    );
}

#[tokio::test]
async fn a_sign_in_the_person_cancelled_at_the_provider_says_so_on_the_login_page() {
    let (app, id) = app_with_user("olga", "olga@example.com").await;
    let (callback, binding) = to_callback(&app, &id, "olga", None).await;
    let state = query_value(&callback, "state").unwrap();
    // What a provider sends when the person cancels (RFC 6749 §4.1.2.1).
    let cancelled = format!(
        "/auth/oidc/{id}/callback?error=access_denied&error_description=End-User%20aborted%20interaction&state={}",
        roster::url::encode_query_value(&state)
    );
    assert_refused(
        &app.get(&cancelled, Some(&binding)).await,
        "did not sign you in: End-User aborted interaction",
    );
    assert_eq!(session_count(&app).await, 0);
}

#[tokio::test]
async fn l1_a_user_suspended_in_every_tenant_cannot_sign_in_through_the_provider() {
    let app = app().await;
    let scim = app.integration("main").await;
    let user_id = app
        .scim_user(
            &scim,
            serde_json::json!({
                "userName": "suspended.person@example.com",
                "externalId": "00u9suspended",
            }),
        )
        .await;
    let id = sub_provider_trusting(&app, &scim.id).await;
    let res = sign_in_via(&app, &id, "00u9suspended").await;
    assert!(
        cookie(&res, "roster_session").is_some(),
        "signs in while active"
    );

    // The IdP suspends the person in the only tenant they belong to.
    let res = app
        .scim(
            &scim,
            "PATCH",
            &format!("/Users/{user_id}"),
            Some(serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "value": {"active": false}}],
            })),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = sign_in_via(&app, &id, "00u9suspended").await;
    assert_refused(&res, "suspended");
}

#[tokio::test]
async fn an_sso_session_shows_its_provider_and_browser_and_there_is_no_password_to_change() {
    use axum::http::{header, Request};
    let (app, id) = app_with_user("sam", "sam@example.com").await;
    let (callback, binding) = to_callback(&app, &id, "sam", None).await;
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    let peer: std::net::SocketAddr = "10.7.7.7:50000".parse().unwrap();
    let req = Request::get(&callback)
        .header(header::COOKIE, &binding)
        .header(header::USER_AGENT, firefox)
        .extension(axum::extract::ConnectInfo(peer))
        .body(axum::body::Body::empty())
        .unwrap();
    let session = cookie(&app.send(req).await, "roster_session").expect("a session");

    let account = crate::ui_users::data(&app, "/api/account", &[], &session).await;
    assert_eq!(account["has_password"], false);
    assert_eq!(account["providers"], serde_json::json!(["Test IdP"]));
    let sessions = account["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["method"], "Test IdP");
    assert_eq!(sessions[0]["browser"], "Firefox on Linux");
    assert_eq!(sessions[0]["address"], "10.7.7.7");
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(account["sign_ins"][0]["what"], "Signed in");
    assert_eq!(account["sign_ins"][0]["how"], "Test IdP");
    assert_eq!(account["sign_ins"][0]["address"], "10.7.7.7");

    // No password to check, so none can be set from a session alone.
    let form = [
        ("current_password", ""),
        ("password", "a new password"),
        ("password_confirm", "a new password"),
    ];
    let res = app
        .post_form("/api/account/password", &form, Some(&session))
        .await;
    let location = res.location().unwrap();
    assert_eq!(
        query_value(&location, "field").as_deref(),
        Some("current_password")
    );
    assert!(query_value(&location, "error")
        .unwrap()
        .contains("You have no password here"));
    let mut conn = app.db.acquire().await.unwrap();
    let user = roster::db::users::find_by_login(&mut conn, "sam")
        .await
        .unwrap()
        .unwrap();
    assert!(user.password_hash.is_none());
}
