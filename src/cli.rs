//! The command line: `roster serve` (the default) and admin commands for automation. Every
//! command prints JSON on success and a plain error with a non-zero exit status otherwise.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::clock::{rfc3339, Clock, SharedClock, SystemClock};
use crate::config::{LogFormat, Settings};
use crate::db::{self, Db};
use crate::error::AppError;
use crate::http::router;
use crate::iam::audit::Author;
use crate::iam::{instance, integrations, tenants};
use crate::secret::Secret;
use crate::state::AppState;

#[derive(Parser)]
#[command(
    name = "roster",
    version,
    about = "Multi-tenant identity admin with a SCIM 2.0 server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (admin UI and APIs). The default.
    Serve,
    /// Manage superadmins.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage the OpenID Connect providers people may sign in with.
    Oidc {
        #[command(subcommand)]
        command: OidcCommand,
    },
    /// Manage SCIM integrations (the endpoints identity providers provision into).
    Scim {
        #[command(subcommand)]
        command: ScimCommand,
    },
    /// Copy the SQLite database, whole and checked, to a new file, while Roster runs.
    /// (PostgreSQL: use pg_dump.)
    Backup {
        /// The backup to write: a file that does not exist yet.
        file: std::path::PathBuf,
    },
    /// Replace the SQLite database with a backup, once it is checked. Stop Roster first: the
    /// restore refuses while the database is open. The database replaced is kept beside it.
    Restore {
        /// The backup to restore (written by `roster backup`).
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum OidcCommand {
    /// Add a provider; the client secret is read from standard input and stored encrypted with
    /// ROSTER_SECRET_KEY. Prints the redirect URI to register at the provider.
    Add {
        /// Shown to people as "Sign in with <name>".
        #[arg(long)]
        name: String,
        /// The issuer URL, exactly as the provider's discovery document states it.
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
        /// Read the client secret from standard input (required: secrets never go in arguments).
        #[arg(long)]
        client_secret_stdin: bool,
        /// Space-separated scopes; `openid` is always added.
        #[arg(long, default_value = crate::auth::oidc::DEFAULT_SCOPES)]
        scopes: String,
        /// The claim matched against users on a person's first sign-in:
        /// email, preferred_username or sub (the last two are matched against usernames).
        #[arg(long, default_value = "email")]
        claim: String,
        /// Create a user for a person no user matches (default: refuse them).
        #[arg(long)]
        create_users: bool,
    },
    /// List the providers (never their secrets).
    List,
    /// Tie a provider to the SCIM integrations whose `externalId` its `sub` may match
    /// (replaces the list; none given: none, the default).
    Trust {
        /// The provider id, as `roster oidc list` shows it.
        id: String,
        /// A SCIM integration id (repeat for several).
        #[arg(long = "integration")]
        integrations: Vec<String>,
    },
    /// Delete a provider; people linked through it keep their accounts.
    Delete {
        /// The provider id, as `roster oidc list` shows it.
        id: String,
    },
}

#[derive(Subcommand)]
enum ScimCommand {
    /// Create an integration; prints its id, endpoint and Secret Token (shown only now).
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Create it disabled (enable it once the identity provider is configured).
        #[arg(long)]
        disabled: bool,
    },
    /// Enable an integration.
    Enable {
        #[arg(long)]
        tenant: String,
        id: String,
    },
    /// Disable an integration: its endpoint answers 401 until enabled again.
    Disable {
        #[arg(long)]
        tenant: String,
        id: String,
    },
    /// Delete an integration and revoke its token; provisioned users and groups stay.
    Delete {
        #[arg(long)]
        tenant: String,
        id: String,
    },
    /// Issue a new Secret Token (printed once). The old one stops working after the grace period.
    Rotate {
        #[arg(long)]
        tenant: String,
        id: String,
        /// Seconds the old token keeps working (default 0: it stops now).
        #[arg(long, default_value_t = 0)]
        grace_seconds: i64,
    },
    /// List a tenant's integrations.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Print an integration's request log, newest first.
    Log {
        #[arg(long)]
        tenant: String,
        id: String,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a superadmin; the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        /// Read the password from standard input (required: passwords never go in arguments).
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Set a user's local password (read from standard input); ends all their sessions.
    Password {
        /// The username or an email address of the user.
        #[arg(long)]
        login: String,
        /// Read the password from standard input (required: passwords never go in arguments).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant.
    Create {
        /// The tenant id: lowercase letters, digits and hyphens.
        id: String,
        #[arg(long)]
        name: String,
    },
    /// Change a tenant's settings.
    Set {
        id: String,
        /// Whether the tenant's SCIM integrations (and admins) may take in users who can already
        /// enter another tenant: `on` or `off` (the default for new tenants).
        #[arg(long, value_parser = ["on", "off"])]
        link_foreign_users: Option<String>,
    },
}

/// A command's failure, printed as `error: …`.
struct CliError(String);

impl From<AppError> for CliError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Internal(detail) => CliError(detail),
            other => CliError(other.to_string()),
        }
    }
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = init_tracing() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Admin { command } => admin(settings, command).await,
        Command::Tenant { command } => tenant(settings, command).await,
        Command::Oidc { command } => oidc(settings, command).await,
        Command::Scim { command } => scim(settings, command).await,
        Command::User { command } => user(settings, command).await,
        Command::Backup { file } => backup(settings, &file).await,
        Command::Restore { file } => restore(settings, &file).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG`, as `ROSTER_LOG_FORMAT` says.
fn init_tracing() -> Result<(), crate::config::SettingError> {
    let format = crate::config::log_format(std::env::var("ROSTER_LOG_FORMAT").ok().as_deref())?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second start in one process (the tests) keeps the first's.
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().flatten_event(true).try_init(),
    };
    Ok(())
}

/// Connects and migrates: every command works on a fresh database.
async fn open_db(settings: &Settings) -> Result<Db, CliError> {
    let db = Db::connect(settings.database_url.expose()).await.map_err(|e| {
        CliError(format!(
            "ROSTER_DATABASE_URL: cannot open the database ({}). Check the URL, that the server is running and the credentials.",
            match e { AppError::Internal(d) => d, other => other.to_string() }
        ))
    })?;
    db.migrate().await?;
    Ok(db)
}

async fn serve(settings: Settings) -> Result<(), CliError> {
    let clock: SharedClock = Arc::new(SystemClock);
    let db = open_db(&settings).await?;
    crate::auth::oidc::check_secret_key(&db, &settings)
        .await
        .map_err(CliError)?;
    instance::ensure_default_tenant(&db, clock.as_ref()).await?;
    if let Some(admin) = settings.initial_admin.clone() {
        let new_admin = instance::NewAdmin {
            username: admin.username.clone(),
            email: None,
            password: admin.password,
        };
        match instance::create_superadmin(&db, clock.as_ref(), new_admin, true).await {
            Ok(_) => {
                tracing::info!(username = %admin.username, "created the first superadmin from ROSTER_ADMIN_USERNAME")
            }
            Err(AppError::Conflict(_)) => {}
            Err(e) => {
                return Err(CliError(format!(
                    "ROSTER_ADMIN_USERNAME / ROSTER_ADMIN_PASSWORD: {e}"
                )))
            }
        }
    }
    let addr = settings.site_addr;
    let public_url = settings.public_url.clone();
    let sweeper = crate::auth::housekeeping::spawn(
        db.clone(),
        clock.clone(),
        settings.housekeeping_every,
        settings.audit_retention_days,
    );
    let state = AppState::new(db.clone(), settings, clock);
    let app = router(state);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        CliError(format!(
            "LEPTOS_SITE_ADDR: cannot listen on {addr} ({e}). Choose a free port, e.g. LEPTOS_SITE_ADDR=127.0.0.1:3001."
        ))
    })?;
    println!("Roster is running. Open {public_url}/ in your browser.");
    tracing::info!(%addr, "listening");
    // The peer address reaches handlers (per-client sign-in limits: `auth::client`).
    crate::http::serve::serve(listener, app, shutdown_signal()).await;
    // In-flight requests have finished (or had `STOP_GRACE`); stop sweeping, then close the
    // database: the log's last entries written, the WAL copied back.
    sweeper.abort();
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

async fn admin(settings: Settings, command: AdminCommand) -> Result<(), CliError> {
    let AdminCommand::Create {
        username,
        password_stdin,
        email,
    } = command;
    if !password_stdin {
        return Err(CliError(
            "pass the password on standard input with --password-stdin (never as an argument)"
                .into(),
        ));
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| CliError(format!("cannot read the password from standard input: {e}")))?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let db = open_db(&settings).await?;
    let clock = SystemClock;
    instance::ensure_default_tenant(&db, &clock).await?;
    let user = instance::create_superadmin(
        &db,
        &clock,
        instance::NewAdmin {
            username,
            email,
            password: Secret::new(password),
        },
        false,
    )
    .await?;
    print_json(json!({
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "superadmin": user.is_superadmin,
    }));
    Ok(())
}

async fn user(settings: Settings, command: UserCommand) -> Result<(), CliError> {
    let UserCommand::Password {
        login,
        password_stdin,
    } = command;
    if !password_stdin {
        return Err(CliError(
            "pass the password on standard input with --password-stdin (never as an argument)"
                .into(),
        ));
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| CliError(format!("cannot read the password from standard input: {e}")))?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let db = open_db(&settings).await?;
    let username =
        crate::iam::users::operator_set_password(&db, &SystemClock, &login, Secret::new(password))
            .await?;
    print_json(json!({ "username": username, "password": "set", "sessions": "ended" }));
    Ok(())
}

async fn tenant(settings: Settings, command: TenantCommand) -> Result<(), CliError> {
    let db = open_db(&settings).await?;
    let clock = SystemClock;
    instance::ensure_default_tenant(&db, &clock).await?;
    // The CLI acts with the machine's authority, as a superadmin would.
    let operator = Author::operator(&clock);
    match command {
        TenantCommand::Create { id, name } => {
            let row = tenants::create(&db, &operator, &id, &name).await?;
            print_json(
                json!({ "id": row.id, "name": row.name, "created": rfc3339(row.created_at) }),
            );
        }
        TenantCommand::Set {
            id,
            link_foreign_users,
        } => {
            if let Some(v) = link_foreign_users {
                tenants::set_link_foreign_users(&db, &operator, &id, v == "on").await?;
            }
            let on = tenants::links_foreign_users(&db, &id).await?;
            print_json(json!({ "id": id, "link_foreign_users": on }));
        }
    }
    Ok(())
}

async fn oidc(settings: Settings, command: OidcCommand) -> Result<(), CliError> {
    use crate::auth::oidc;
    match command {
        OidcCommand::Add {
            name,
            issuer,
            client_id,
            client_secret_stdin,
            scopes,
            claim,
            create_users,
        } => {
            if !client_secret_stdin {
                return Err(CliError(
                    "pass the client secret on standard input with --client-secret-stdin (never as an argument)"
                        .into(),
                ));
            }
            let user_claim = oidc::UserClaim::parse(&claim).map_err(CliError)?;
            let mut secret = String::new();
            std::io::stdin().read_to_string(&mut secret).map_err(|e| {
                CliError(format!(
                    "cannot read the client secret from standard input: {e}"
                ))
            })?;
            let secret = secret.trim_end_matches(['\r', '\n']).to_string();
            let db = open_db(&settings).await?;
            let row = oidc::add_provider(
                &db,
                &SystemClock,
                &settings,
                oidc::NewProvider {
                    name,
                    issuer,
                    client_id,
                    client_secret: Secret::new(secret),
                    scopes: Some(scopes),
                    user_claim,
                    create_users,
                },
            )
            .await?;
            print_json(json!(oidc::view(&settings, &row)));
        }
        OidcCommand::List => {
            let db = open_db(&settings).await?;
            let rows = oidc::list_providers(&db).await?;
            let views: Vec<_> = rows.iter().map(|r| oidc::view(&settings, r)).collect();
            print_json(json!(views));
        }
        OidcCommand::Trust { id, integrations } => {
            let db = open_db(&settings).await?;
            let ids = oidc::trust_integrations(&db, &id, &integrations).await?;
            print_json(json!({ "id": id, "trusted_integrations": ids }));
        }
        OidcCommand::Delete { id } => {
            let db = open_db(&settings).await?;
            oidc::delete_provider(&db, &id).await?;
            print_json(json!({ "deleted": id }));
        }
    }
    Ok(())
}

fn integration_json(
    row: &crate::db::scim_integrations::IntegrationRow,
    public_base: &str,
) -> serde_json::Value {
    json!({
        "id": row.id,
        "tenant": row.tenant_id,
        "name": row.name,
        "description": row.description,
        "enabled": row.enabled,
        "endpoint": integrations::endpoint(public_base, &row.tenant_id, &row.id),
        "created": rfc3339(row.created_at),
    })
}

async fn scim(settings: Settings, command: ScimCommand) -> Result<(), CliError> {
    let db = open_db(&settings).await?;
    let clock = SystemClock;
    instance::ensure_default_tenant(&db, &clock).await?;
    let base = settings.public_base().to_string();
    let by = Author::operator(&clock);
    match command {
        ScimCommand::Create {
            tenant,
            name,
            description,
            disabled,
        } => {
            let created =
                integrations::create(&db, &by, &base, &tenant, &name, &description, !disabled)
                    .await?;
            let mut out = integration_json(&created.integration, &base);
            out["token"] = json!(created.token);
            print_json(out);
        }
        ScimCommand::Enable { tenant, id } => {
            let row = integrations::set_enabled(&db, &by, &tenant, &id, true).await?;
            print_json(integration_json(&row, &base));
        }
        ScimCommand::Disable { tenant, id } => {
            let row = integrations::set_enabled(&db, &by, &tenant, &id, false).await?;
            print_json(integration_json(&row, &base));
        }
        ScimCommand::Delete { tenant, id } => {
            integrations::delete(&db, &by, &tenant, &id).await?;
            print_json(json!({ "id": id, "deleted": true }));
        }
        ScimCommand::Rotate {
            tenant,
            id,
            grace_seconds,
        } => {
            let token =
                integrations::rotate(&db, &by, &tenant, &id, Some(grace_seconds * 1000)).await?;
            print_json(
                json!({ "id": id, "token": token, "old_token_grace_seconds": grace_seconds }),
            );
        }
        ScimCommand::List { tenant } => {
            let rows = integrations::list(&db, &tenant).await?;
            print_json(json!(rows
                .iter()
                .map(|r| integration_json(r, &base))
                .collect::<Vec<_>>()));
        }
        ScimCommand::Log { tenant, id, limit } => {
            let entries = integrations::log(&db, &tenant, &id, limit.clamp(1, 1000)).await?;
            print_json(json!(entries
                .iter()
                .map(|e| json!({
                    "time": rfc3339(e.at),
                    "method": e.method,
                    "path": e.path,
                    "status": e.status,
                    "duration_ms": e.duration_ms,
                    "error": e.error_detail,
                    "body": e.request_body,
                }))
                .collect::<Vec<_>>()));
        }
    }
    Ok(())
}

async fn backup(settings: Settings, file: &std::path::Path) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let contents = db::backup::backup(settings.database_url.expose(), file).await?;
    let mut out = contents_json(&contents);
    out["backup"] = json!(file.display().to_string());
    out["took_ms"] = json!(started.elapsed().as_millis() as u64);
    print_json(out);
    Ok(())
}

async fn restore(settings: Settings, file: &std::path::Path) -> Result<(), CliError> {
    let stamp = rfc3339(SystemClock.now_millis()).replace(':', "");
    let restored = db::backup::restore(settings.database_url.expose(), file, &stamp).await?;
    let mut out = contents_json(&restored.contents);
    out["restored"] = json!(file.display().to_string());
    out["replaced_database_kept_at"] =
        json!(restored.replaced.as_ref().map(|p| p.display().to_string()));
    print_json(out);
    Ok(())
}

fn contents_json(c: &db::backup::Contents) -> serde_json::Value {
    json!({
        "schema_version": c.schema_version,
        "tenants": c.tenants,
        "users": c.users,
        "groups": c.groups,
        "integrations": c.integrations,
        "bytes": c.bytes,
    })
}

fn print_json(value: serde_json::Value) {
    println!("{value}");
}
