//! Settings, from the environment (and `Leptos.toml` for the site), checked once at start-up so a
//! bad value stops Roster with a message that names the setting and how to fix it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::secret::{Secret, SecretKey};

/// A start-up problem, phrased for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {problem}. {fix}")]
pub struct SettingError {
    pub setting: &'static str,
    pub problem: String,
    pub fix: String,
}

impl SettingError {
    fn new(setting: &'static str, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            setting,
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// The first superadmin, created at start-up when none exists.
#[derive(Debug, Clone)]
pub struct InitialAdmin {
    pub username: String,
    pub password: Secret,
}

/// Site settings read from `Leptos.toml` (then overridden by `LEPTOS_*` variables).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SiteSettings {
    #[serde(default = "default_site_addr")]
    pub site_addr: String,
    #[serde(default = "default_site_root")]
    pub site_root: String,
    #[serde(default = "default_pkg_dir")]
    pub site_pkg_dir: String,
    #[serde(default = "default_output_name")]
    pub output_name: String,
}

fn default_site_addr() -> String {
    "127.0.0.1:3000".into()
}
fn default_site_root() -> String {
    "target/site".into()
}
fn default_pkg_dir() -> String {
    "pkg".into()
}
fn default_output_name() -> String {
    "roster".into()
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            site_addr: default_site_addr(),
            site_root: default_site_root(),
            site_pkg_dir: default_pkg_dir(),
            output_name: default_output_name(),
        }
    }
}

/// How to make a `ROSTER_SECRET_KEY`, said wherever one is missing or wrong.
/// The shortest `ROSTER_METRICS_TOKEN` taken: guessing one must stay out of reach.
const METRICS_TOKEN_MIN: usize = 32;
/// Default of `ROSTER_HOUSEKEEPING_SECS`.
pub const HOUSEKEEPING_SECS_DEFAULT: u64 = 300;
/// Default of `ROSTER_AUDIT_RETENTION_DAYS`: how long audit events are kept.
pub const AUDIT_RETENTION_DAYS_DEFAULT: u32 = 400;

/// Default of `ROSTER_SCIM_RATE`: requests per second per integration.
pub const SCIM_RATE_DEFAULT: u32 = 50;
/// Default of `ROSTER_SCIM_BURST`: requests an integration may send at once.
pub const SCIM_BURST_DEFAULT: u32 = 200;

/// The SCIM request rate each integration is held to (per replica, in memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScimRate {
    pub per_second: u32,
    pub burst: u32,
}

pub const SECRET_KEY_FIX: &str =
    "Set it to 32 random bytes in base64, made once with `openssl rand -base64 32` \
     (or `head -c 32 /dev/urandom | base64`), and keep it with your backups but apart from the database.";

/// Everything Roster needs to know to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// May hold a PostgreSQL password: kept out of `Debug` output (review L14).
    pub database_url: Secret,
    pub public_url: String,
    pub site_addr: SocketAddr,
    pub site: SiteSettings,
    pub initial_admin: Option<InitialAdmin>,
    /// `ROSTER_HOUSEKEEPING_SECS`: how often expired sessions, sign-in states and old sign-in
    /// failures are swept away.
    pub housekeeping_every: std::time::Duration,
    /// `ROSTER_AUDIT_RETENTION_DAYS`: audit events older than this many days are swept away;
    /// `None` (`0`): kept for ever.
    pub audit_retention_days: Option<u32>,
    /// `ROSTER_SECRET_KEY`: encrypts secrets Roster must read back (OpenID client secrets).
    pub secret_key: Option<SecretKey>,
    /// `ROSTER_CLIENT_ADDRESS_HEADER`: behind a reverse proxy, the header it puts the client's
    /// address in (`X-Real-IP`, or `X-Forwarded-For`, whose last entry is read). Unset: the
    /// connection's peer address. The sign-in throttle keys on it.
    pub client_address_header: Option<axum::http::HeaderName>,
    /// `ROSTER_SCIM_RATE` and `ROSTER_SCIM_BURST`; `None` when `ROSTER_SCIM_RATE=0` (no limit).
    pub scim_rate: Option<ScimRate>,
    /// `ROSTER_METRICS_TOKEN`: the bearer token `GET /metrics` asks for; `None`: no such page.
    pub metrics_token: Option<Secret>,
}

impl Settings {
    /// The base URL without a trailing slash.
    pub fn public_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// Cookies get `Secure` when Roster is reached over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests can pass their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let config_path = get("ROSTER_LEPTOS_TOML").unwrap_or_else(|| "Leptos.toml".into());
        let mut site = read_site_settings(Path::new(&config_path))?;
        if let Some(v) = get("LEPTOS_SITE_ADDR") {
            site.site_addr = v;
        }
        if let Some(v) = get("LEPTOS_SITE_ROOT") {
            site.site_root = v;
        }
        if let Some(v) = get("LEPTOS_SITE_PKG_DIR") {
            site.site_pkg_dir = v;
        }
        if let Some(v) = get("LEPTOS_OUTPUT_NAME") {
            site.output_name = v;
        }
        let site_addr: SocketAddr = site.site_addr.parse().map_err(|_| {
            SettingError::new(
                "LEPTOS_SITE_ADDR",
                format!("`{}` is not an address and port", site.site_addr),
                "Use the form 127.0.0.1:3000 (or site-addr in Leptos.toml).",
            )
        })?;

        let database_url = match get("ROSTER_DATABASE_URL") {
            Some(url) => check_database_url(url)?,
            None => default_sqlite_url(),
        };

        let public_url = match get("ROSTER_PUBLIC_URL") {
            Some(url) => check_public_url(url)?,
            None => format!("http://{site_addr}"),
        };

        let initial_admin = match (get("ROSTER_ADMIN_USERNAME"), get("ROSTER_ADMIN_PASSWORD")) {
            (None, None) => None,
            (Some(username), Some(password)) => {
                if let Err(problem) = crate::model::Username::parse(username.as_str()) {
                    return Err(SettingError::new(
                        "ROSTER_ADMIN_USERNAME",
                        problem,
                        "Choose another first superadmin name.",
                    ));
                }
                if let Err(problem) = crate::model::validate_new_password(&password) {
                    return Err(SettingError::new(
                        "ROSTER_ADMIN_PASSWORD",
                        problem,
                        "Choose a longer password.",
                    ));
                }
                Some(InitialAdmin {
                    username,
                    password: Secret::new(password),
                })
            }
            (Some(_), None) => {
                return Err(SettingError::new(
                    "ROSTER_ADMIN_PASSWORD",
                    "it is missing while ROSTER_ADMIN_USERNAME is set",
                    "Set both, or neither (then use the first-run setup page).",
                ))
            }
            (None, Some(_)) => {
                return Err(SettingError::new(
                    "ROSTER_ADMIN_USERNAME",
                    "it is missing while ROSTER_ADMIN_PASSWORD is set",
                    "Set both, or neither (then use the first-run setup page).",
                ))
            }
        };

        let housekeeping_every =
            match get("ROSTER_HOUSEKEEPING_SECS") {
                None => std::time::Duration::from_secs(HOUSEKEEPING_SECS_DEFAULT),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if (10..=86_400).contains(&n) => std::time::Duration::from_secs(n),
                    _ => return Err(SettingError::new(
                        "ROSTER_HOUSEKEEPING_SECS",
                        format!("`{v}` is not a number of seconds from 10 to 86400"),
                        "Use e.g. ROSTER_HOUSEKEEPING_SECS=300 (the default), or leave it unset.",
                    )),
                },
            };

        let audit_retention_days = match get("ROSTER_AUDIT_RETENTION_DAYS") {
            None => Some(AUDIT_RETENTION_DAYS_DEFAULT),
            Some(v) => match v.trim().parse::<u32>() {
                Ok(0) => None,
                Ok(n) if n <= 36_500 => Some(n),
                _ => {
                    return Err(SettingError::new(
                        "ROSTER_AUDIT_RETENTION_DAYS",
                        format!("`{v}` is not a number of days from 0 to 36500"),
                        "Use e.g. ROSTER_AUDIT_RETENTION_DAYS=400 (the default), or 0 to keep \
                         every event.",
                    ))
                }
            },
        };

        let secret_key = match get("ROSTER_SECRET_KEY") {
            None => None,
            Some(text) => Some(SecretKey::parse(&text).map_err(|problem| {
                SettingError::new("ROSTER_SECRET_KEY", problem, SECRET_KEY_FIX)
            })?),
        };

        let client_address_header = match get("ROSTER_CLIENT_ADDRESS_HEADER") {
            None => None,
            Some(v) => Some(axum::http::HeaderName::from_bytes(v.trim().as_bytes()).map_err(
                |_| {
                    SettingError::new(
                        "ROSTER_CLIENT_ADDRESS_HEADER",
                        format!("`{v}` is not a header name"),
                        "Use the header your reverse proxy sets, e.g. X-Real-IP or X-Forwarded-For, or leave it unset.",
                    )
                },
            )?),
        };
        let scim_rate = scim_rate(&get)?;
        let metrics_token = match get("ROSTER_METRICS_TOKEN").map(|t| t.trim().to_string()) {
            None => None,
            Some(t) if t.is_empty() => None,
            Some(t) if t.len() < METRICS_TOKEN_MIN || t.chars().any(|c| !c.is_ascii_graphic()) => {
                return Err(SettingError::new(
                    "ROSTER_METRICS_TOKEN",
                    format!(
                        "it must be at least {METRICS_TOKEN_MIN} printable characters without spaces"
                    ),
                    "Make one with `openssl rand -hex 32`, or leave it unset (no /metrics).",
                ))
            }
            Some(t) => Some(Secret::new(t)),
        };

        Ok(Self {
            database_url: Secret::new(database_url),
            public_url,
            site_addr,
            site,
            initial_admin,
            housekeeping_every,
            audit_retention_days,
            secret_key,
            client_address_header,
            scim_rate,
            metrics_token,
        })
    }

    /// The Leptos options the renderer needs, from our site settings.
    pub fn leptos_options(&self) -> leptos::config::LeptosOptions {
        leptos::config::LeptosOptions::builder()
            .output_name(self.site.output_name.as_str())
            .site_root(self.site.site_root.as_str())
            .site_pkg_dir(self.site.site_pkg_dir.as_str())
            .site_addr(self.site_addr)
            .env(leptos::config::Env::PROD)
            .build()
    }
}

/// How log lines are written (`ROSTER_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Lines of text, for a person (the default).
    Text,
    /// One JSON object a line, for a log collector.
    Json,
}

/// `ROSTER_LOG_FORMAT`'s value (unset or empty: text). Read on its own, before the other
/// settings: logging starts first.
pub fn log_format(value: Option<&str>) -> Result<LogFormat, SettingError> {
    let value = value.unwrap_or_default().trim();
    match value.to_ascii_lowercase().as_str() {
        "" | "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(SettingError::new(
            "ROSTER_LOG_FORMAT",
            format!("`{value}` is not a log format"),
            "Use ROSTER_LOG_FORMAT=text (the default) or ROSTER_LOG_FORMAT=json.",
        )),
    }
}

/// `ROSTER_SCIM_RATE` (requests per second per integration, 0 = no limit) and
/// `ROSTER_SCIM_BURST` (how many at once).
fn scim_rate(get: &impl Fn(&str) -> Option<String>) -> Result<Option<ScimRate>, SettingError> {
    let number = |name: &'static str, default: u32, max: u32, zero_ok: bool| match get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if n <= max && (zero_ok || n > 0) => Ok(n),
            _ => Err(SettingError::new(
                name,
                format!(
                    "`{v}` is not a whole number from {} to {max}",
                    u32::from(!zero_ok)
                ),
                format!("Use e.g. {name}={default} (the default), or leave it unset."),
            )),
        },
    };
    let per_second = number("ROSTER_SCIM_RATE", SCIM_RATE_DEFAULT, 100_000, true)?;
    let burst = number("ROSTER_SCIM_BURST", SCIM_BURST_DEFAULT, 1_000_000, false)?;
    Ok((per_second > 0).then_some(ScimRate { per_second, burst }))
}

fn read_site_settings(path: &Path) -> Result<SiteSettings, SettingError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(SiteSettings::default());
    };
    toml::from_str(&text).map_err(|e| {
        SettingError::new(
            "ROSTER_LEPTOS_TOML",
            format!("{} could not be read: {e}", path.display()),
            "Fix the file, or point ROSTER_LEPTOS_TOML at a valid one.",
        )
    })
}

/// The default store: a SQLite file under ./data, created when missing.
pub fn default_sqlite_url() -> String {
    let path: PathBuf = ["data", "roster.db"].iter().collect();
    format!("sqlite://{}?mode=rwc", path.display())
}

fn check_database_url(url: String) -> Result<String, SettingError> {
    let supported = ["sqlite:", "postgres://", "postgresql://"];
    if supported.iter().any(|p| url.starts_with(p)) {
        Ok(url)
    } else {
        Err(SettingError::new(
            "ROSTER_DATABASE_URL",
            "only SQLite and PostgreSQL URLs are supported",
            "Use sqlite://path/to/file.db?mode=rwc or postgres://user:password@host/db.",
        ))
    }
}

fn check_public_url(url: String) -> Result<String, SettingError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => {
            Ok(url.trim_end_matches('/').to_string())
        }
        _ => Err(SettingError::new(
            "ROSTER_PUBLIC_URL",
            format!("`{url}` is not an http(s) URL"),
            "Give the address people and identity providers use, e.g. https://roster.example.com.",
        )),
    }
}

/// The runtime's worker threads: `TOKIO_WORKER_THREADS` when set, else half the cores, at least
/// one. The other half is left to the database's own threads (SQLite's connection threads, or a
/// PostgreSQL server on the same machine): on 2 cores a second worker mostly woke up to steal a
/// task from the first, 30–40 % more context switches a write and 2–15 % more CPU a request
/// (docs/performance.md, sessions 25–26). Read before the runtime starts, so apart from [`Settings`].
pub fn worker_threads(setting: Option<&str>, cores: usize) -> Result<usize, SettingError> {
    match setting {
        None => Ok((cores / 2).max(1)),
        Some(value) => match value.trim().parse::<usize>() {
            Ok(n) if (1..=1024).contains(&n) => Ok(n),
            _ => Err(SettingError::new(
                "TOKIO_WORKER_THREADS",
                format!("`{value}` is not a number of threads from 1 to 1024"),
                "Set one, or leave it unset for half the cores.",
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([("ROSTER_LEPTOS_TOML".to_string(), "/nonexistent".to_string())])
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn a_metrics_token_is_long_enough_or_refused_and_unset_serves_no_metrics() {
        assert!(settings(&[]).unwrap().metrics_token.is_none());
        assert!(settings(&[("ROSTER_METRICS_TOKEN", " ")])
            .unwrap()
            .metrics_token
            .is_none());
        let token = "0123456789abcdef0123456789abcdef";
        let s = settings(&[("ROSTER_METRICS_TOKEN", token)]).unwrap();
        assert_eq!(s.metrics_token.unwrap().expose(), token);
        for bad in ["short", "0123456789abcdef 0123456789abcdef"] {
            let err = settings(&[("ROSTER_METRICS_TOKEN", bad)]).unwrap_err();
            assert_eq!(err.setting, "ROSTER_METRICS_TOKEN");
            assert!(!format!("{err}").contains(bad), "the token is not echoed");
        }
    }

    #[test]
    fn the_log_format_is_text_unless_json_is_asked_for() {
        for text in [None, Some(""), Some("text"), Some(" Text ")] {
            assert_eq!(log_format(text).unwrap(), LogFormat::Text, "{text:?}");
        }
        assert_eq!(log_format(Some("JSON")).unwrap(), LogFormat::Json);
        let err = log_format(Some("logfmt")).unwrap_err();
        assert_eq!(err.setting, "ROSTER_LOG_FORMAT");
        assert!(err.problem.contains("`logfmt`"), "{}", err.problem);
    }

    #[test]
    fn defaults_to_sqlite_under_data_and_public_url_from_site_address() {
        let s = settings(&[]).unwrap();
        assert!(s.database_url.expose().starts_with("sqlite://data"));
        assert!(
            !format!("{s:?}").contains("sqlite://data"),
            "no URL in Debug output"
        );
        assert_eq!(s.public_url, "http://127.0.0.1:3000");
        assert!(!s.secure_cookies());
    }

    #[test]
    fn a_mysql_url_is_refused_naming_the_setting() {
        let err = settings(&[("ROSTER_DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(err.setting, "ROSTER_DATABASE_URL");
        assert!(err.to_string().contains("sqlite://"));
    }

    #[test]
    fn a_public_url_without_scheme_is_refused() {
        let err = settings(&[("ROSTER_PUBLIC_URL", "roster.example.com")]).unwrap_err();
        assert_eq!(err.setting, "ROSTER_PUBLIC_URL");
    }

    #[test]
    fn an_https_public_url_makes_cookies_secure_and_loses_its_trailing_slash() {
        let s = settings(&[("ROSTER_PUBLIC_URL", "https://r.example.com/")]).unwrap();
        assert!(s.secure_cookies());
        assert_eq!(s.public_base(), "https://r.example.com");
    }

    #[test]
    fn an_admin_username_without_password_is_refused() {
        let err = settings(&[("ROSTER_ADMIN_USERNAME", "root")]).unwrap_err();
        assert_eq!(err.setting, "ROSTER_ADMIN_PASSWORD");
    }

    #[test]
    fn the_housekeeping_interval_is_seconds_within_bounds() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.housekeeping_every.as_secs(), HOUSEKEEPING_SECS_DEFAULT);
        let s = settings(&[("ROSTER_HOUSEKEEPING_SECS", "60")]).unwrap();
        assert_eq!(s.housekeeping_every.as_secs(), 60);
        for bad in ["0", "5", "soon", "100000"] {
            let err = settings(&[("ROSTER_HOUSEKEEPING_SECS", bad)]).unwrap_err();
            assert_eq!(err.setting, "ROSTER_HOUSEKEEPING_SECS", "{bad}");
        }
    }

    #[test]
    fn audit_events_are_kept_400_days_unless_told_otherwise_and_0_keeps_them_all() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.audit_retention_days, Some(AUDIT_RETENTION_DAYS_DEFAULT));
        let s = settings(&[("ROSTER_AUDIT_RETENTION_DAYS", "30")]).unwrap();
        assert_eq!(s.audit_retention_days, Some(30));
        let s = settings(&[("ROSTER_AUDIT_RETENTION_DAYS", "0")]).unwrap();
        assert_eq!(s.audit_retention_days, None);
        for bad in ["-1", "a year", "36501", "1.5"] {
            let err = settings(&[("ROSTER_AUDIT_RETENTION_DAYS", bad)]).unwrap_err();
            assert_eq!(err.setting, "ROSTER_AUDIT_RETENTION_DAYS", "{bad}");
        }
    }

    #[test]
    fn the_scim_rate_has_a_default_can_be_turned_off_and_refuses_bad_values() {
        let s = settings(&[]).unwrap();
        assert_eq!(
            s.scim_rate,
            Some(ScimRate {
                per_second: SCIM_RATE_DEFAULT,
                burst: SCIM_BURST_DEFAULT
            })
        );
        let s = settings(&[("ROSTER_SCIM_RATE", "5"), ("ROSTER_SCIM_BURST", "10")]).unwrap();
        assert_eq!(
            s.scim_rate,
            Some(ScimRate {
                per_second: 5,
                burst: 10
            })
        );
        assert_eq!(
            settings(&[("ROSTER_SCIM_RATE", "0")]).unwrap().scim_rate,
            None
        );
        for (name, bad) in [
            ("ROSTER_SCIM_RATE", "-1"),
            ("ROSTER_SCIM_RATE", "fast"),
            ("ROSTER_SCIM_BURST", "0"),
            ("ROSTER_SCIM_BURST", "1e9"),
        ] {
            let err = settings(&[(name, bad)]).unwrap_err();
            assert_eq!(err.setting, name, "{bad}");
        }
    }

    #[test]
    fn a_bad_site_address_is_refused() {
        let err = settings(&[("LEPTOS_SITE_ADDR", "localhost")]).unwrap_err();
        assert_eq!(err.setting, "LEPTOS_SITE_ADDR");
    }

    #[test]
    fn a_secret_key_of_the_wrong_length_is_refused_naming_the_setting() {
        let err = settings(&[("ROSTER_SECRET_KEY", "c2hvcnQ=")]).unwrap_err();
        assert_eq!(err.setting, "ROSTER_SECRET_KEY");
        assert!(err.to_string().contains("openssl rand -base64 32"), "{err}");
        let ok = settings(&[(
            "ROSTER_SECRET_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )])
        .unwrap();
        assert!(ok.secret_key.is_some());
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }

    #[test]
    fn half_the_cores_at_least_one_unless_set() {
        assert_eq!(worker_threads(None, 2).ok(), Some(1));
        assert_eq!(worker_threads(None, 1).ok(), Some(1));
        assert_eq!(worker_threads(None, 8).ok(), Some(4));
        assert_eq!(worker_threads(None, 5).ok(), Some(2));
        assert_eq!(worker_threads(Some("3"), 2).ok(), Some(3));
        assert_eq!(worker_threads(Some(" 2 "), 8).ok(), Some(2));
    }

    #[test]
    fn a_bad_worker_thread_setting_is_refused_with_the_fix() {
        for bad in ["0", "many", "", "-1", "2000"] {
            let message = worker_threads(Some(bad), 8).unwrap_err().to_string();
            assert!(message.contains("TOKIO_WORKER_THREADS"), "{message}");
            assert!(message.contains("1 to 1024"), "{message}");
        }
    }
}
