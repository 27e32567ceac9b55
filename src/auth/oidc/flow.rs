//! The OpenID Connect sign-in: authorization code with PKCE, `state` and `nonce` kept
//! server-side (single use, short-lived, bound to the browser that started), the ID token checked
//! by the `openidconnect` crate against the issuer's JWKS (cached; fetched again when a token
//! names a key id we do not have), with `iss`, `aud`, `exp` and `iat` checked against Roster's
//! clock with a bounded skew. Then the identity is linked to a user and a session starts exactly
//! as after a password sign-in.
//!
//! Every failure is a [`Failure`]: a sentence for the person (shown on the login page) and a
//! detail for the operator (logged). Nothing is written before all checks have passed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreTokenResponse,
};
use openidconnect::{
    AccessToken, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse,
};
use sha2::{Digest, Sha256};

use super::{client_secret, redirect_uri, UserClaim, PENDING_TTL_MILLIS};
use crate::auth::login::start_session;
use crate::auth::session::Browser;
use crate::clock::{Clock, Millis};
use crate::config::Settings;
use crate::db::{self, oidc::PendingLogin, oidc::ProviderRow, users::UserRow, Db};

/// How far Roster's clock and the provider's may disagree when checking `exp` and `iat`.
pub const CLOCK_SKEW_MILLIS: Millis = 2 * 60 * 1000;
/// Discovery documents (and their JWKS) are kept this long before they are fetched again.
const METADATA_TTL_MILLIS: Millis = 60 * 60 * 1000;
/// The cookie that binds a sign-in in progress to the browser that started it.
pub const BINDING_COOKIE: &str = "roster_oidc";

/// A failed sign-in: what the person reads, and what the operator needs to fix it.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub detail: String,
}

fn fail(message: impl Into<String>, detail: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        detail: detail.into(),
    }
}

fn internal(detail: impl std::fmt::Display) -> Failure {
    fail(
        "Sign-in failed on our side. Try again; if it persists, tell your administrator.",
        detail.to_string(),
    )
}

const TRY_AGAIN: &str = "The sign-in could not be completed (it expired, was already used or \
                         did not start in this browser). Please try again.";

/// What the flow keeps between requests: the HTTP client and the providers' discovery
/// documents with their keys.
pub struct OidcRuntime {
    http: openidconnect::reqwest::Client,
    metadata: Mutex<HashMap<String, (Millis, Arc<ProviderMetadataWithLogout>)>>,
}

impl Default for OidcRuntime {
    fn default() -> Self {
        Self::new()
    }
}

impl OidcRuntime {
    pub fn new() -> Self {
        // No redirects: the OpenID spec's endpoints answer directly, and following them would
        // open the door to request forgery.
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self {
            http,
            metadata: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, issuer: &str, now: Millis) -> Option<Arc<ProviderMetadataWithLogout>> {
        let map = self.metadata.lock().ok()?;
        map.get(issuer)
            .filter(|(at, _)| now - at < METADATA_TTL_MILLIS)
            .map(|(_, m)| m.clone())
    }

    fn store(&self, issuer: &str, now: Millis, meta: Arc<ProviderMetadataWithLogout>) {
        if let Ok(mut map) = self.metadata.lock() {
            map.insert(issuer.to_string(), (now, meta));
        }
    }

    /// The provider's discovery document and keys, from the cache or the issuer.
    async fn metadata(
        &self,
        p: &ProviderRow,
        now: Millis,
    ) -> Result<Arc<ProviderMetadataWithLogout>, Failure> {
        if let Some(m) = self.cached(&p.issuer, now) {
            return Ok(m);
        }
        let issuer = IssuerUrl::new(p.issuer.clone())
            .map_err(|e| internal(format!("issuer URL `{}` is invalid: {e}", p.issuer)))?;
        let meta = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                fail(
                    format!(
                        "{} cannot be reached right now. Try again in a moment.",
                        p.name
                    ),
                    format!(
                        "discovery at {}/.well-known/openid-configuration failed: {}",
                        p.issuer.trim_end_matches('/'),
                        error_chain(&e)
                    ),
                )
            })?;
        let meta = Arc::new(meta);
        self.store(&p.issuer, now, meta.clone());
        Ok(meta)
    }

    /// Fetches the JWKS again (a token named a key we do not have: the provider rotated keys).
    async fn refresh_keys(
        &self,
        p: &ProviderRow,
        meta: &ProviderMetadataWithLogout,
        now: Millis,
    ) -> Result<Arc<ProviderMetadataWithLogout>, Failure> {
        let jwks = CoreJsonWebKeySet::fetch_async(meta.jwks_uri(), &self.http)
            .await
            .map_err(|e| {
                fail(
                    format!(
                        "{} cannot be reached right now. Try again in a moment.",
                        p.name
                    ),
                    format!("fetching the JWKS failed: {}", error_chain(&e)),
                )
            })?;
        let fresh = Arc::new(meta.clone().set_jwks(jwks));
        self.store(&p.issuer, now, fresh.clone());
        Ok(fresh)
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn random_token() -> String {
    crate::auth::random::url_safe_token(32)
}

fn sha256(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

fn millis_to_datetime(ms: Millis) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

fn client(
    settings: &Settings,
    p: &ProviderRow,
    meta: &ProviderMetadataWithLogout,
) -> Result<Client, Failure> {
    let secret = client_secret(settings, p).map_err(internal)?;
    let redirect = RedirectUrl::new(redirect_uri(settings, &p.id))
        .map_err(|e| internal(format!("ROSTER_PUBLIC_URL gives a bad redirect URI: {e}")))?;
    Ok(CoreClient::from_provider_metadata(
        meta.clone(),
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(secret.expose().to_string())),
    )
    .set_redirect_uri(redirect))
}

async fn load_provider(db: &Db, id: &str) -> Result<ProviderRow, Failure> {
    let mut conn = db.acquire().await.map_err(internal)?;
    db::oidc::find_provider(&mut conn, id)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            fail(
                "This sign-in option does not exist (any more).",
                format!("no OpenID provider has the id `{id}`"),
            )
        })
}

/// Where to send the browser to sign in, and the binding-cookie value to set.
pub struct Started {
    pub authorize_url: String,
    pub binding: String,
}

/// Begins a sign-in at provider `provider_id`; `next` is where to go afterwards (a local path).
pub async fn start(
    db: &Db,
    clock: &dyn Clock,
    settings: &Settings,
    rt: &OidcRuntime,
    provider_id: &str,
    next: Option<&str>,
) -> Result<Started, Failure> {
    let now = clock.now_millis();
    let p = load_provider(db, provider_id).await?;
    let meta = rt.metadata(&p, now).await?;
    let client = client(settings, &p, &meta)?;
    let state = random_token();
    let nonce = random_token();
    let binding = random_token();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (state_for_fn, nonce_for_fn) = (state.clone(), nonce.clone());
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(state_for_fn),
            move || Nonce::new(nonce_for_fn),
        )
        .set_pkce_challenge(challenge);
    for scope in p.scopes.split_whitespace().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.to_string()));
    }
    let (url, _, _) = request.url();
    let next_path = next.map(|n| crate::url::safe_next(Some(n)));
    // Expired states are swept by `auth::housekeeping`, not here.
    let mut conn = db.acquire().await.map_err(internal)?;
    db::oidc::insert_pending(
        &mut conn,
        &PendingLogin {
            state_hash: sha256(&state),
            provider_id: p.id.clone(),
            browser_hash: sha256(&binding),
            nonce,
            pkce_verifier: verifier.secret().clone(),
            next_path,
            created_at: now,
            expires_at: now + PENDING_TTL_MILLIS,
        },
    )
    .await
    .map_err(internal)?;
    Ok(Started {
        authorize_url: url.to_string(),
        binding,
    })
}

/// What the provider sent back to the callback.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A finished sign-in: the new session's cookie value, the user and where to go.
#[derive(Debug)]
pub struct SignedIn {
    pub token: String,
    pub user: UserRow,
    pub next: String,
}

/// The claims Roster uses, from the ID token and, where it lacks them, from userinfo.
#[derive(Debug, Default)]
struct Person {
    subject: String,
    email: Option<String>,
    email_verified: Option<bool>,
    preferred_username: Option<String>,
    name: Option<String>,
}

impl Person {
    fn claim(&self, claim: UserClaim) -> Option<&str> {
        match claim {
            UserClaim::Email => self.email.as_deref(),
            UserClaim::PreferredUsername => self.preferred_username.as_deref(),
            UserClaim::Sub => Some(&self.subject),
        }
    }
}

/// Completes a sign-in at `provider_id` with what the provider sent back.
#[allow(clippy::too_many_arguments)]
pub async fn callback(
    db: &Db,
    clock: &dyn Clock,
    settings: &Settings,
    rt: &OidcRuntime,
    provider_id: &str,
    params: CallbackParams,
    binding: Option<&str>,
    browser: &Browser<'_>,
) -> Result<SignedIn, Failure> {
    let now = clock.now_millis();

    // 1. The state: known, unused, unexpired, for this provider, from this browser.
    let state = params
        .state
        .as_deref()
        .ok_or_else(|| fail(TRY_AGAIN, "callback without `state`"))?;
    let pending = {
        let mut conn = db.acquire().await.map_err(internal)?;
        db::oidc::take_pending(&mut conn, &sha256(state))
            .await
            .map_err(internal)?
    }
    .ok_or_else(|| {
        fail(
            TRY_AGAIN,
            "unknown or already used `state` (tampered, replayed or expired and pruned)",
        )
    })?;
    if pending.expires_at <= now {
        return Err(fail(
            TRY_AGAIN,
            "the sign-in took longer than 10 minutes; its `state` expired",
        ));
    }
    if pending.provider_id != provider_id {
        return Err(fail(
            TRY_AGAIN,
            format!(
                "`state` belongs to provider {}, but the callback came for {provider_id}",
                pending.provider_id
            ),
        ));
    }
    let from_same_browser = binding.is_some_and(|b| sha256(b) == pending.browser_hash);
    if !from_same_browser {
        return Err(fail(TRY_AGAIN, format!(
            "the `{BINDING_COOKIE}` cookie is missing or does not match the sign-in's browser (callback opened in another browser, or login CSRF)"
        )));
    }

    let p = load_provider(db, provider_id).await?;
    if let Some(error) = &params.error {
        let description = params.error_description.as_deref().unwrap_or("");
        return Err(fail(
            format!(
                "{} did not sign you in: {}",
                p.name,
                if description.is_empty() {
                    error
                } else {
                    description
                }
            ),
            format!("the provider answered error={error} error_description={description:?}"),
        ));
    }
    // RFC 9207: when the provider names itself in the response, it must be the expected one.
    if let Some(iss) = &params.iss {
        if iss != &p.issuer {
            return Err(fail(
                TRY_AGAIN,
                format!(
                "the callback's `iss` is {iss}, expected {} (mix-up attack or wrong issuer URL)",
                p.issuer
            ),
            ));
        }
    }
    let code = params
        .code
        .clone()
        .ok_or_else(|| fail(TRY_AGAIN, "callback without `code`"))?;

    // 2. Exchange the code (with the PKCE verifier) for tokens.
    let mut meta = rt.metadata(&p, now).await?;
    let token_response: CoreTokenResponse = {
        let client = client(settings, &p, &meta)?;
        let request = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| {
                internal(format!(
                    "the provider's discovery document has no token endpoint: {e}"
                ))
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
        request.request_async(&rt.http).await.map_err(|e| {
            fail(
                format!("{} did not confirm the sign-in. Please try again.", p.name),
                format!(
                    "the token request failed (check the client id and secret, and that the redirect URI is registered): {}",
                    error_chain(&e)
                ),
            )
        })?
    };
    let id_token: CoreIdToken = token_response.id_token().cloned().ok_or_else(|| {
        fail(
            format!("{} did not send an ID token.", p.name),
            "the token response has no id_token (is the `openid` scope allowed for this client?)",
        )
    })?;

    // 3. Check the ID token; fetch the keys again once if it names a key we do not know.
    let nonce = Nonce::new(pending.nonce.clone());
    let mut person = match verify(settings, &p, &meta, &id_token, &nonce, now) {
        Ok(person) => person,
        Err(openidconnect::ClaimsVerificationError::SignatureVerification(
            openidconnect::SignatureVerificationError::NoMatchingKey,
        )) => {
            meta = rt.refresh_keys(&p, &meta, now).await?;
            verify(settings, &p, &meta, &id_token, &nonce, now).map_err(|e| token_failure(&p, e))?
        }
        Err(e) => return Err(token_failure(&p, e)),
    };

    // 4. Userinfo, where the ID token lacks the claims we use.
    let claim = UserClaim::parse(&p.user_claim).map_err(internal)?;
    if person.claim(claim).is_none() || person.name.is_none() {
        match userinfo(
            settings,
            &p,
            &meta,
            rt,
            token_response.access_token(),
            &person.subject,
        )
        .await
        {
            Ok(info) => {
                person.email = person.email.or(info.email);
                person.email_verified = person.email_verified.or(info.email_verified);
                person.preferred_username = person.preferred_username.or(info.preferred_username);
                person.name = person.name.or(info.name);
            }
            Err(f) if person.claim(claim).is_none() => return Err(f),
            Err(f) => {
                tracing::debug!(detail = %f.detail, "userinfo failed; the ID token has what we need")
            }
        }
    }

    // 5. Link the identity to a user, and start the session.
    let mut tx = db.begin_write().await.map_err(internal)?;
    let user = resolve_user(&mut tx, &p, claim, &person, now).await?;
    // The same rule as a password sign-in (review L1): suspended, or suspended in every tenant.
    let method = format!("{}{}", crate::auth::login::method::OIDC_PREFIX, p.name);
    if crate::auth::login::is_suspended(&mut tx, &user)
        .await
        .map_err(internal)?
    {
        // Nothing of this sign-in is kept (a link just made included) but the refusal, in the
        // account's activity, so its owner and the superadmins see it was tried; the person is
        // told they are suspended even if that record cannot be written.
        drop(tx);
        let refused = crate::auth::login::outcome::SUSPENDED;
        let recorded = async {
            let mut tx = db.begin_write().await?;
            crate::auth::login::record(&mut tx, &user.id, browser, now, refused, &method).await?;
            tx.commit().await
        };
        if let Err(e) = recorded.await {
            tracing::warn!(error = %e, user = %user.id, "could not record a refused sign-in");
        }
        return Err(fail(
            crate::auth::login::SUSPENDED,
            format!(
                "user {} ({}) is suspended (active = false, or in every tenant they belong to)",
                user.username, user.id
            ),
        ));
    }
    let (token, session_hash) = start_session(&mut tx, &user.id, now, browser)
        .await
        .map_err(internal)?;
    db::oidc::insert_session(&mut tx, &session_hash, &p.id, &id_token.to_string())
        .await
        .map_err(internal)?;
    let signed_in = crate::auth::login::outcome::SIGNED_IN;
    crate::auth::login::record(&mut tx, &user.id, browser, now, signed_in, &method)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(provider = %p.name, user = %user.username, "signed in with OpenID Connect");
    Ok(SignedIn {
        token,
        user,
        next: pending.next_path.unwrap_or_else(|| "/".into()),
    })
}

fn token_failure(p: &ProviderRow, e: openidconnect::ClaimsVerificationError) -> Failure {
    use openidconnect::ClaimsVerificationError as E;
    let hint = match &e {
        E::Expired(_) => "the ID token has expired (check that this server's clock is right)",
        E::SignatureVerification(_) => {
            "the ID token's signature does not verify with the issuer's published keys (JWKS)"
        }
        E::InvalidIssuer(_) => "the ID token's `iss` differs from the configured issuer URL (it must match exactly, trailing slash included)",
        E::InvalidAudience(_) => "the ID token is not for this client id",
        E::InvalidNonce(_) => "the ID token's nonce does not match this sign-in (replay?)",
        _ => "the ID token failed a check",
    };
    fail(
        format!("{} sent a sign-in that Roster cannot trust. Please try again; if it persists, tell your administrator.", p.name),
        format!("{hint}: {}", error_chain(&e)),
    )
}

fn verify(
    settings: &Settings,
    p: &ProviderRow,
    meta: &ProviderMetadataWithLogout,
    id_token: &CoreIdToken,
    nonce: &Nonce,
    now: Millis,
) -> Result<Person, openidconnect::ClaimsVerificationError> {
    let client = client(settings, p, meta)
        .map_err(|f| openidconnect::ClaimsVerificationError::Other(f.detail))?;
    // `exp` is checked against this time: our clock, minus the skew we tolerate.
    // The algorithms the provider says it signs ID tokens with (never `none`); HS256 and
    // friends verify with the client secret, as the spec allows for confidential clients.
    let algs: Vec<CoreJwsSigningAlgorithm> = meta
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|a| **a != CoreJwsSigningAlgorithm::None)
        .cloned()
        .collect();
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(algs)
        .set_time_fn(move || millis_to_datetime(now - CLOCK_SKEW_MILLIS))
        .set_issue_time_verifier_fn(move |iat| {
            if iat.timestamp_millis() > now + CLOCK_SKEW_MILLIS {
                Err(format!("issued in the future ({iat})"))
            } else {
                Ok(())
            }
        });
    let claims = id_token.claims(&verifier, nonce)?;
    Ok(Person {
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.to_string()),
        email_verified: claims.email_verified(),
        preferred_username: claims.preferred_username().map(|u| u.to_string()),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string()),
    })
}

#[derive(Default)]
struct UserInfo {
    email: Option<String>,
    email_verified: Option<bool>,
    preferred_username: Option<String>,
    name: Option<String>,
}

async fn userinfo(
    settings: &Settings,
    p: &ProviderRow,
    meta: &ProviderMetadataWithLogout,
    rt: &OidcRuntime,
    access_token: &AccessToken,
    subject: &str,
) -> Result<UserInfo, Failure> {
    let client = client(settings, p, meta)?;
    let request = client
        .user_info(
            access_token.clone(),
            Some(openidconnect::SubjectIdentifier::new(subject.to_string())),
        )
        .map_err(|_| {
            fail(
                format!("{} did not say who you are.", p.name),
                format!(
                    "the ID token lacks the `{}` claim and the provider has no userinfo endpoint; add the claim to the ID token at the provider",
                    p.user_claim
                ),
            )
        })?;
    let claims: openidconnect::core::CoreUserInfoClaims =
        request.request_async(&rt.http).await.map_err(|e| {
            fail(
                format!("{} did not say who you are. Please try again.", p.name),
                format!("the userinfo request failed: {}", error_chain(&e)),
            )
        })?;
    Ok(UserInfo {
        email: claims.email().map(|e| e.to_string()),
        email_verified: claims.email_verified(),
        preferred_username: claims.preferred_username().map(|u| u.to_string()),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string()),
    })
}

/// Whether a first sign-in may link an identity to this user by a matching claim (issue 10, rule
/// 6 of `iam::reach`): never a superadmin, never a user with a password (they link explicitly).
pub fn may_auto_link(user: &UserRow) -> bool {
    !user.is_superadmin && user.password_hash.is_none()
}

/// The user this identity is: the stored link, or (first time) the one user the configured
/// claim matches, or a new user when the provider allows it.
async fn resolve_user(
    conn: &mut db::Conn,
    p: &ProviderRow,
    claim: UserClaim,
    person: &Person,
    now: Millis,
) -> Result<UserRow, Failure> {
    if let Some(user_id) = db::oidc::linked_user(conn, &p.issuer, &person.subject)
        .await
        .map_err(internal)?
    {
        db::oidc::touch_link(conn, &p.issuer, &person.subject, now)
            .await
            .map_err(internal)?;
        return db::users::find_by_id(conn, &user_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| internal(format!("linked user {user_id} vanished")));
    }
    let value = person.claim(claim).ok_or_else(|| {
        fail(
            format!("{} did not say who you are.", p.name),
            format!(
                "neither the ID token nor userinfo has the `{}` claim for subject {} (is the scope that carries it requested and allowed?)",
                claim.as_str(),
                person.subject
            ),
        )
    })?;
    // An email proves who someone is only when the provider says it verified it.
    if claim == UserClaim::Email && person.email_verified != Some(true) {
        return Err(fail(
            format!("Your email address at {} is not verified, so Roster cannot match it to an account.", p.name),
            format!(
                "email {value} of subject {} has email_verified = {}; only verified emails are matched",
                person.subject,
                person.email_verified.map_or("(absent)".to_string(), |v| v.to_string())
            ),
        ));
    }
    let matches = match claim {
        UserClaim::Email => db::oidc::users_matching(conn, "email", value).await,
        UserClaim::PreferredUsername => {
            db::oidc::users_matching(conn, "preferred_username", value).await
        }
        // Okta and Entra send their user id both as the OpenID subject and as the SCIM externalId.
        // Only externalIds written by the integrations this provider is tied to.
        UserClaim::Sub => db::oidc::users_matching_subject(conn, &p.id, value).await,
    }
    .map_err(internal)?;
    let user = match matches.as_slice() {
        [user] => user.clone(),
        [] if p.create_users => create_user(conn, p, claim, person, now).await?,
        [] => {
            return Err(fail(
                format!("There is no Roster account for {value}. Ask an administrator for access."),
                format!(
                    "no user matches {}={value} (subject {}); provision the user (e.g. by SCIM) or enable creating users for provider {}",
                    claim.as_str(),
                    person.subject,
                    p.name
                ),
            ))
        }
        _ => {
            return Err(fail(
                format!("More than one Roster account matches {value}. Ask an administrator."),
                format!("several users match {}={value}; make it unique or match by another claim", claim.as_str()),
            ))
        }
    };
    if !may_auto_link(&user) {
        return Err(fail(
            format!(
                "The Roster account for {value} cannot be linked to {} automatically. Sign in with your password, or ask an administrator.",
                p.name
            ),
            format!(
                "user {} matches {}={value} (subject {}) but has a password or is a superadmin; such accounts are never linked on first sign-in",
                user.username,
                claim.as_str(),
                person.subject
            ),
        ));
    }
    if let Some(other) = db::oidc::subject_of_user(conn, &p.issuer, &user.id)
        .await
        .map_err(internal)?
    {
        return Err(fail(
            format!("The Roster account for {value} is linked to another identity at {}. Ask an administrator.", p.name),
            format!(
                "user {} is linked to subject {other} at {}, but subject {} now presents {}={value}; refused so a reassigned claim cannot take over the account",
                user.username, p.issuer, person.subject, claim.as_str()
            ),
        ));
    }
    db::oidc::insert_link(conn, &p.issuer, &person.subject, &user.id, now)
        .await
        .map_err(internal)?;
    Ok(user)
}

async fn create_user(
    conn: &mut db::Conn,
    p: &ProviderRow,
    claim: UserClaim,
    person: &Person,
    now: Millis,
) -> Result<UserRow, Failure> {
    let username = match claim {
        UserClaim::PreferredUsername | UserClaim::Sub => person.claim(claim),
        UserClaim::Email => person
            .preferred_username
            .as_deref()
            .or(person.email.as_deref()),
    }
    .unwrap_or(&person.subject)
    .to_string();
    if let Err(problem) = crate::model::Username::parse(username.as_str()) {
        return Err(fail(
            "Roster cannot create an account for you. Ask an administrator.",
            format!(
                "username `{username}` from provider {} is not valid: {problem}",
                p.name
            ),
        ));
    }
    let id = db::new_id();
    db::users::insert(
        conn,
        &db::users::NewUser {
            id: &id,
            username: &username,
            email: person.email.as_deref(),
            display_name: person.name.as_deref(),
            password_hash: None,
            is_superadmin: false,
        },
        now,
    )
    .await
    .map_err(|e| {
        fail(
            "Roster cannot create an account for you. Ask an administrator.",
            format!("creating user `{username}` failed: {e}"),
        )
    })?;
    tracing::info!(provider = %p.name, %username, "created a user on first OpenID sign-in");
    db::users::find_by_id(conn, &id)
        .await
        .map_err(internal)?
        .ok_or_else(|| internal("new user vanished"))
}

/// Where to send the browser at sign-out: the provider's end-session endpoint (with the ID token
/// as hint and back to our login page) when the session came from a provider that has one.
pub async fn end_session_url(
    db: &Db,
    clock: &dyn Clock,
    settings: &Settings,
    rt: &OidcRuntime,
    session_token: &str,
) -> Option<String> {
    let hash = crate::auth::session::hash_token(session_token);
    let mut conn = db.acquire().await.ok()?;
    let (provider_id, id_token) = db::oidc::find_session(&mut conn, &hash).await.ok()??;
    let p = db::oidc::find_provider(&mut conn, &provider_id)
        .await
        .ok()??;
    drop(conn);
    let meta = match rt.metadata(&p, clock.now_millis()).await {
        Ok(m) => m,
        Err(f) => {
            tracing::warn!(provider = %p.name, detail = %f.detail, "signing out without the provider's end-session endpoint");
            return None;
        }
    };
    let endpoint = meta.additional_metadata().end_session_endpoint.clone()?;
    let id_token: CoreIdToken = id_token.parse().ok()?;
    let back = PostLogoutRedirectUrl::new(format!("{}/login", settings.public_base())).ok()?;
    let url = openidconnect::LogoutRequest::from(endpoint)
        .set_id_token_hint(&id_token)
        .set_client_id(ClientId::new(p.client_id.clone()))
        .set_post_logout_redirect_uri(back)
        .http_get_url();
    Some(url.to_string())
}
