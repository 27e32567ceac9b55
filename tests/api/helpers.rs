//! `TestApp`: a Roster router on its own fresh database, with a clock the test controls and
//! one method per kind of request the tests make.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use roster::clock::{Clock, ManualClock};
use roster::config::Settings;
use roster::db::Db;
use roster::http::router;
use roster::state::AppState;
use tower::ServiceExt;

/// The longest any one request of a test may take (a hang fails the test instead of the run).
/// A tenant's (`$1`) kept count of access: the sum of its slots (migration 0014).
pub const KEPT_COUNT: &str =
    "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM tenant_access_counts WHERE tenant_id = $1";

pub const REQUEST_LIMIT: Duration = Duration::from_secs(60);

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "correct horse battery";
/// `ROSTER_SECRET_KEY` of every test app: 32 bytes, base64.
pub const SECRET_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub db: Db,
    pub clock: ManualClock,
    /// The database this app runs on (a replica connects to the same one).
    pub database_url: String,
    _dir: Option<std::sync::Arc<tempfile::TempDir>>,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The session cookie this response sets, as `name=value`.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("roster_session="))
            .and_then(|v| v.split(';').next())
            .map(str::to_string)
    }

    pub fn set_cookie_header(&self) -> String {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A fresh, empty database URL: a temp SQLite file, or a new PostgreSQL database.
pub async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("ROSTER_TEST_POSTGRES_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            sqlx::any::install_default_drivers();
            let name = format!("roster_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
                .await
                .expect("connect to the test PostgreSQL server");
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create a test database");
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin_url);
            (format!("{base}/{name}"), None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/roster.db?mode=rwc", dir.path().display());
            (url, Some(dir))
        }
    }
}

impl TestApp {
    /// A fresh install: migrated, default tenant, no users.
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// A fresh install with extra settings (environment variables), e.g. `ROSTER_SCIM_RATE`.
    pub async fn spawn_with(extra: &[(&str, &str)]) -> Self {
        let (database_url, dir) = fresh_database().await;
        let app = Self::on_database(&database_url, dir.map(std::sync::Arc::new), extra).await;
        roster::iam::instance::ensure_default_tenant(&app.db, &app.clock)
            .await
            .expect("default tenant");
        app
    }

    /// A second Roster server on this app's database (its own pool, writer queue and router),
    /// as a replica behind a load balancer is; it shares the clock's starting time.
    pub async fn replica(&self) -> Self {
        let replica = Self::on_database(&self.database_url, self._dir.clone(), &[]).await;
        replica.clock.set(self.now());
        replica
    }

    async fn on_database(
        database_url: &str,
        dir: Option<std::sync::Arc<tempfile::TempDir>>,
        extra: &[(&str, &str)],
    ) -> Self {
        let database_url = database_url.to_string();
        let settings = Settings::from_lookup(|name| match name {
            "ROSTER_DATABASE_URL" => Some(database_url.clone()),
            "ROSTER_LEPTOS_TOML" => Some("/nonexistent".into()),
            "ROSTER_SECRET_KEY" => Some(SECRET_KEY.into()),
            _ => extra
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string()),
        })
        .expect("settings");
        let db = Db::connect(&database_url).await.expect("connect");
        db.migrate().await.expect("migrate");
        let clock = ManualClock::starting_at(1_800_000_000_000);
        let state = AppState::new(db.clone(), settings, Arc::new(clock.clone()));
        Self {
            router: router(state.clone()),
            state,
            db,
            clock,
            database_url,
            _dir: dir,
        }
    }

    /// A fresh install with a superadmin, and that superadmin's session cookie.
    pub async fn with_admin() -> (Self, String) {
        let app = Self::spawn().await;
        app.create_superadmin(ADMIN, ADMIN_PASSWORD).await;
        let cookie = app.sign_in(ADMIN, ADMIN_PASSWORD).await;
        (app, cookie)
    }

    pub async fn create_superadmin(&self, username: &str, password: &str) {
        roster::iam::instance::create_superadmin(
            &self.db,
            &self.clock,
            roster::iam::instance::NewAdmin {
                username: username.into(),
                email: Some(format!("{username}@example.com")),
                password: roster::secret::Secret::new(password),
            },
            false,
        )
        .await
        .expect("create superadmin");
    }

    /// A user who is not a superadmin, with a password and (when `tenant` is given) access to
    /// that tenant granted by hand; no roles. Returns the user's id.
    pub async fn plain_user(&self, username: &str, password: &str, tenant: Option<&str>) -> String {
        let mut conn = self.db.acquire().await.unwrap();
        let hash = roster::auth::password::hash(roster::secret::Secret::new(password))
            .await
            .unwrap();
        let id = roster::db::new_id();
        roster::db::users::insert(
            &mut conn,
            &roster::db::users::NewUser {
                id: &id,
                username,
                email: Some(&format!("{username}@local.test")),
                display_name: None,
                password_hash: Some(&hash),
                is_superadmin: false,
            },
            self.now(),
        )
        .await
        .unwrap();
        if let Some(t) = tenant {
            roster::db::tenants::grant_access(&mut conn, t, &id, self.now())
                .await
                .unwrap();
        }
        id
    }

    /// Users straight into the database (no password, no roles), each given access to `tenant`
    /// by hand: `(id, username, email)` each. For tests that need many.
    pub async fn users_with_access(
        &self,
        tenant: &str,
        users: &[(String, String, Option<String>)],
    ) {
        let mut conn = self.db.acquire().await.unwrap();
        for (id, username, email) in users {
            roster::db::users::insert(
                &mut conn,
                &roster::db::users::NewUser {
                    id,
                    username,
                    email: email.as_deref(),
                    display_name: None,
                    password_hash: None,
                    is_superadmin: false,
                },
                self.now(),
            )
            .await
            .unwrap();
            roster::db::tenants::grant_access(&mut conn, tenant, id, self.now())
                .await
                .unwrap();
        }
    }

    /// The author of the changes a test makes directly (not through a server function): the
    /// operator, now.
    pub fn operator(&self) -> roster::iam::audit::Author {
        roster::iam::audit::Author::operator(&self.clock)
    }

    /// The id of the managed role `role` (Admin, Viewer) of `tenant`.
    pub async fn managed_role_id(&self, tenant: &str, role: &str) -> String {
        let mut conn = self.db.acquire().await.unwrap();
        roster::db::iam::find_managed_role(&mut conn, tenant, role)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{tenant} has no {role} role"))
            .id
    }

    /// Binds the managed role `role` (Admin, Viewer, SCIMProvisioner) of `tenant` to a user.
    pub async fn bind_managed_role(&self, tenant: &str, role: &str, user_id: &str) {
        let mut conn = self.db.acquire().await.unwrap();
        let r = roster::iam::permissions::ensure_managed_role(&mut conn, tenant, role, self.now())
            .await
            .unwrap();
        roster::iam::bindings::create(
            &mut conn,
            &self.operator(),
            tenant,
            &r.id,
            roster::iam::bindings::SubjectKind::User,
            user_id,
        )
        .await
        .unwrap();
    }

    /// A signed-in user with access to `main` and, when given, the managed role `role` there;
    /// returns the user's id and session cookie.
    pub async fn member(&self, username: &str, role: Option<&str>) -> (String, String) {
        let id = self
            .plain_user(username, "member password", Some("main"))
            .await;
        if let Some(role) = role {
            self.bind_managed_role("main", role, &id).await;
        }
        (id, self.sign_in(username, "member password").await)
    }

    pub fn now(&self) -> i64 {
        self.clock.now_millis()
    }

    /// Sends `req` through the router. No request may hang a test run: past
    /// [`REQUEST_LIMIT`] the test fails naming the request and, on PostgreSQL, what each of
    /// the test database's sessions is waiting for.
    pub async fn send(&self, req: Request<Body>) -> TestResponse {
        let what = format!("{} {}", req.method(), req.uri());
        let answer = async {
            let res = self
                .router
                .clone()
                .oneshot(req)
                .await
                .expect("router answers");
            let status = res.status();
            let headers = res.headers().clone();
            let bytes = res.into_body().collect().await.expect("body").to_bytes();
            (status, headers, bytes)
        };
        let Ok((status, headers, bytes)) = tokio::time::timeout(REQUEST_LIMIT, answer).await else {
            panic!(
                "{what} did not answer within {REQUEST_LIMIT:?}; database sessions: {}",
                self.database_sessions().await
            );
        };
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// What the test database's sessions are doing (PostgreSQL; empty on SQLite): for the
    /// message of a request that hung.
    async fn database_sessions(&self) -> String {
        let pool = self.db.pool();
        let pool_state = format!(
            "pool: {} connections, {} idle",
            pool.size(),
            pool.num_idle()
        );
        if self.database_url.starts_with("sqlite:") {
            return format!("(SQLite) {pool_state}");
        }
        let probe = async {
            let mut conn =
                <sqlx::AnyConnection as sqlx::Connection>::connect(&self.database_url).await?;
            let rows = sqlx::query(
                "SELECT CONCAT(pid, ' ', state, ' ', wait_event_type, '/', wait_event, ': ', \
                 LEFT(query, 160)) AS line FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .fetch_all(&mut conn)
            .await?;
            Ok::<_, sqlx::Error>(
                rows.iter()
                    .map(|r| sqlx::Row::get::<String, _>(r, "line"))
                    .collect::<Vec<_>>()
                    .join(" | "),
            )
        };
        match tokio::time::timeout(Duration::from_secs(5), probe).await {
            Ok(Ok(lines)) => format!("{pool_state}; {lines}"),
            Ok(Err(e)) => format!("(could not read them: {e})"),
            Err(_) => "(could not read them in 5 s)".into(),
        }
    }

    /// A page's status, without [`REQUEST_LIMIT`] (the caller bounds the wait itself).
    pub async fn get_unbounded(&self, path: &str, cookie: &str) -> StatusCode {
        let req = Request::get(path)
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = res.status();
        res.into_body().collect().await.expect("body");
        status
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let mut req = Request::get(path).header(header::ACCEPT, "text/html");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// A plain HTML form post (as a browser without JavaScript sends it).
    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> TestResponse {
        self.post_form_from(path, form, cookie, &[], None).await
    }

    /// [`TestApp::post_form`] with extra headers (`Origin`, `Sec-Fetch-Site`…) and, when
    /// given, the client address the server sees as the connection's peer.
    pub async fn post_form_from(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        headers: &[(&str, &str)],
        peer: Option<std::net::SocketAddr>,
    ) -> TestResponse {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", roster::url::encode_query_value(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::REFERER, "http://127.0.0.1:3000/previous");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let mut req = req.body(Body::from(body)).unwrap();
        if let Some(addr) = peer {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(addr));
        }
        self.send(req).await
    }

    /// Signs in through the login form and returns the session cookie.
    /// Posts each of `writes` (`(path, form)`) with `cookie` and asserts that every one is
    /// answered `status` (403: not allowed here, 404: not a tenant they may enter). Answers the
    /// responses, in order, for further checks.
    pub async fn assert_writes_refused(
        &self,
        cookie: &str,
        status: u16,
        writes: &[(&str, Vec<(&str, &str)>)],
    ) -> Vec<TestResponse> {
        let mut answers = Vec::new();
        for (path, form) in writes {
            let res = self.post_form(path, form, Some(cookie)).await;
            assert_eq!(res.status, status, "{path}: {}", res.body);
            answers.push(res);
        }
        answers
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> String {
        let res = self
            .post_form(
                "/api/auth/login",
                &[("username", username), ("password", password)],
                None,
            )
            .await;
        res.session_cookie().unwrap_or_else(|| {
            panic!(
                "no session cookie; status {} location {:?}",
                res.status,
                res.location()
            )
        })
    }
}

/// The query parameter `key` of a redirect target, decoded.
pub fn query_value(location: &str, key: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A SCIM integration made for a test: its id, token and endpoint path.
pub struct Integration {
    pub id: String,
    pub token: String,
    pub tenant: String,
}

impl Integration {
    /// The endpoint path of this integration (no host).
    pub fn path(&self, rest: &str) -> String {
        format!(
            "/api/v1/{}/integrations/{}/scim/v2{rest}",
            self.tenant, self.id
        )
    }
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): status {} body {}", self.status, self.body))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

impl TestApp {
    pub async fn create_tenant(&self, id: &str) {
        let mut tx = self.db.begin_write().await.unwrap();
        let tenant = roster::model::TenantId::parse(id).unwrap();
        roster::iam::tenants::found(&mut tx, &tenant, id, self.now())
            .await
            .expect("tenant");
        tx.commit().await.unwrap();
    }

    /// A SCIM integration in `tenant`, enabled.
    pub async fn integration(&self, tenant: &str) -> Integration {
        let created = roster::iam::integrations::create(
            &self.db,
            &self.operator(),
            "http://roster.test",
            tenant,
            "IdP",
            "",
            true,
        )
        .await
        .expect("create integration");
        Integration {
            id: created.integration.id,
            token: created.token,
            tenant: tenant.into(),
        }
    }

    /// A SCIM request with the integration's token.
    /// Creates a user through integration `i` (POST /Users with the core schema added to `body`),
    /// asserting 201; answers the user's id.
    pub async fn scim_user(&self, i: &Integration, mut body: serde_json::Value) -> String {
        body["schemas"] = serde_json::json!(["urn:ietf:params:scim:schemas:core:2.0:User"]);
        let res = self.scim(i, "POST", "/Users", Some(body)).await;
        assert_eq!(res.status, 201, "{}", res.body);
        res.json()["id"].as_str().unwrap().to_string()
    }

    pub async fn scim(
        &self,
        integ: &Integration,
        method: &str,
        rest: &str,
        body: Option<serde_json::Value>,
    ) -> TestResponse {
        self.scim_raw(method, &integ.path(rest), Some(&integ.token), body, &[])
            .await
    }

    /// A SCIM request with full control of path, token and extra headers.
    pub async fn scim_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::ACCEPT, "application/scim+json");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let has_ct = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !has_ct {
            req = req.header(header::CONTENT_TYPE, "application/scim+json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = body.map(|b| Body::from(b.to_string())).unwrap_or_default();
        self.send(req.body(body).unwrap()).await
    }

    /// Runs `statements` in one write transaction, behind the server's back (as another writer,
    /// an older release or a hand edit would).
    pub async fn execute(&self, statements: &[&str]) {
        let mut tx = self.db.begin_write().await.unwrap();
        for statement in statements {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        tx.commit().await.unwrap();
    }

    /// Runs one SQL query returning a single integer.
    pub async fn count(&self, sql: &str, args: &[&str]) -> i64 {
        use sqlx::Row;
        // The SCIM request log is written in batches: what was queued counts.
        self.db.flush_log().await;
        let mut conn = self.db.acquire().await.unwrap();
        let mut q = sqlx::query(sql);
        for a in args {
            q = q.bind(*a);
        }
        q.fetch_one(&mut *conn)
            .await
            .expect("query")
            .try_get::<i64, _>(0)
            .expect("integer")
    }
}

/// PostgreSQL's plan of `statement` (run as `EXPLAIN statement` on `conn`), one line each.
pub async fn postgres_plan(conn: &mut roster::db::Conn, statement: &str) -> Vec<String> {
    sqlx::query(&format!("EXPLAIN {statement}"))
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("EXPLAIN {statement}: {e}"))
        .iter()
        .map(|r| sqlx::Row::get::<String, _>(r, 0))
        .collect()
}
