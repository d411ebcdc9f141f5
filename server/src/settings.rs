//! Settings, read once from the environment and validated at start: an
//! invalid value stops start-up with a sentence naming the setting. Each
//! group (storage, limits, rate limit, the Leptos site) has its own parser,
//! and every default is a named constant here.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use courier_shares::DatabaseConfig;
use leptos::config::LeptosOptions;
use signer::access::UploadAccess;
use signer::post_policy::SigningCredentials;
use signer::token::TokenSecret;
use signer::{FileRules, Limits, LinkKind, LinkSettings};
use url::Url;

use courier_serve::TrustedProxies;

pub const DEFAULT_SITE_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 3000);
pub const DEFAULT_RELOAD_PORT: u32 = 3001;
pub const DEFAULT_EMBEDDED_S3_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9000);
pub const DEFAULT_DATA_DIR: &str = "./data";
/// S3's own object limit: large files go up in parts; operators lower it.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = app::multipart::S3_MAX_OBJECT_BYTES;
/// The most any store takes as one object (S3's 5 TiB).
pub const MAX_UPLOAD_BYTES: u64 = app::multipart::S3_MAX_OBJECT_BYTES;
pub const DEFAULT_UPLOAD_TTL_SECS: u64 = 900;
pub use signer::MAX_UPLOAD_TTL_SECS;
pub const DEFAULT_DOWNLOAD_TTL_SECS: u64 = 3600;
/// S3 refuses presigned URLs that live longer than a week.
pub const MAX_DOWNLOAD_TTL_SECS: u64 = 7 * 24 * 3600;
/// A new upload's share lasts a week (Send's longest), unless set.
pub const DEFAULT_SHARE_DAYS: u64 = 7;
/// A century: the most either share setting takes.
pub const MAX_SHARE_DAYS: u64 = 36_500;
pub const DEFAULT_RENEW_TTL_SECS: u64 = 7 * 24 * 3600;
pub const MAX_RENEW_TTL_SECS: u64 = 10 * 365 * 24 * 3600;
pub const DEFAULT_PARALLEL_UPLOADS: u64 = 3;
pub const MAX_PARALLEL_UPLOADS: u64 = 16;
pub const MAX_PARALLEL_PARTS: u64 = 16;
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u64 = 120;
pub const DEFAULT_RATE_LIMIT_BURST: u64 = 60;
pub const MAX_RATE_LIMIT: u64 = 1_000_000;
/// What one client may be granted in 24 hours: more than an honest person
/// sends to a self-hosted Courier in a day (a few disk images or a day of
/// video), while a stranger makes the operator store at most this a day
/// per address, not the 12 GiB a minute a disk takes.
pub const DEFAULT_CLIENT_BYTES_PER_DAY: u64 = 100 * 1024 * 1024 * 1024;
/// The longest a stop waits for requests in flight before it closes what is
/// left. Under the 30 s Kubernetes waits before it kills a pod, so the cut
/// is Courier's own, and logged; a `docker stop` waits only 10 s unless
/// given `--time`.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 25;
pub const MAX_SHUTDOWN_GRACE_SECS: u64 = 3600;

#[derive(Clone, Debug)]
pub struct Settings {
    pub leptos: LeptosOptions,
    /// The app's public origin; `None` means "the address the app binds".
    pub public_url: Option<Url>,
    pub storage: StorageSettings,
    /// `COURIER_SECRET`, checked once here; in embedded mode one is generated
    /// when unset. Its `Debug` prints no secret.
    pub secret: Option<TokenSecret>,
    /// `COURIER_SECRET_PREVIOUS`: secrets replaced by `secret`, whose tokens
    /// still verify (a rotation, instance by instance).
    pub previous_secrets: Vec<TokenSecret>,
    pub limits: Limits,
    pub rate_limit: RateLimitSettings,
    /// `COURIER_CLIENT_BYTES_PER_DAY`: the bytes one client (the rate
    /// limit's) may be granted in a rolling 24 hours; 0 for no budget.
    pub client_bytes_per_day: u64,
    /// `COURIER_LOG_FORMAT`. Logging starts before the settings are read
    /// (`telemetry::init` reads it itself); it is checked here too so that
    /// start-up and `courier check` refuse a value that is not understood.
    pub log_format: LogFormat,
    /// `COURIER_SHUTDOWN_GRACE_SECS`: from the stop signal to the exit, at
    /// most; 0 cuts what is in flight at once.
    pub shutdown_grace: Duration,
    /// `COURIER_MIN_FREE_BYTES`: the free space the embedded store's new
    /// uploads leave on its disk; `None` for the default (1 GiB, or a
    /// twentieth of a disk under 20 GiB), `Some(0)` for none.
    pub min_free_bytes: Option<u64>,
    /// `COURIER_DATABASE_URL` (`postgres://…`), or SQLite in
    /// `COURIER_DATA_DIR` when unset: where shares are kept.
    pub database: DatabaseConfig,
    /// `COURIER_UPLOAD_ACCESS` and what each mode needs: who may upload.
    pub access: AccessSettings,
    /// `COURIER_STORAGE_BUDGET_BYTES`: the most the whole Courier keeps in
    /// its bucket, uploads in progress included; 0 (the default): no budget.
    pub storage_budget_bytes: u64,
    /// `COURIER_SHARE_SWEEP_SECS`: how often the files of shares that are
    /// over are looked for and deleted (30 s).
    pub share_sweep_every: Duration,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One line per event, for people (the default).
    #[default]
    Text,
    /// One JSON object per line, for a log pipeline.
    Json,
}

impl LogFormat {
    pub const SETTING: &str = "COURIER_LOG_FORMAT";

    /// `text` or `json` (any case); unset or blank is `text`.
    pub fn parse(raw: Option<&str>) -> Result<Self, SettingsError> {
        match raw.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(Self::Text),
            Some(v) if v.eq_ignore_ascii_case("text") => Ok(Self::Text),
            Some(v) if v.eq_ignore_ascii_case("json") => Ok(Self::Json),
            Some(other) => Err(invalid(
                Self::SETTING,
                &format!("expected text or json, got \"{other}\""),
            )),
        }
    }
}

/// Requests to the signing endpoints per client address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Sustained requests per minute; 0 turns the limit off.
    pub per_minute: u32,
    /// How many may come at once before the sustained rate applies.
    pub burst: u32,
    /// Proxies whose `X-Forwarded-For` names the client (`COURIER_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageSettings {
    /// No bucket configured: the server runs its own store.
    Embedded { addr: SocketAddr, data_dir: PathBuf },
    /// AWS S3 or any S3-compatible store, through the standard AWS settings.
    External(ExternalStore),
}

/// A bucket on AWS S3 or an S3-compatible store. Unset fields fall back to
/// the AWS SDK's own configuration chain (profile, SSO, instance role …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalStore {
    pub bucket: String,
    pub force_path_style: bool,
    /// `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`.
    pub endpoint: Option<Url>,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
    /// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`).
    pub credentials: Option<SigningCredentials>,
}

/// Who may upload (`signer::access`).
#[derive(Clone, PartialEq, Eq)]
pub struct AccessSettings {
    pub mode: UploadAccess,
    /// `COURIER_UPLOAD_PASSWORD`, for `password`.
    pub password: Option<String>,
    /// `COURIER_PROXY_USER_HEADER` (`Remote-User`), for `proxy`: the header
    /// in which the trusted proxy names the signed-in user.
    pub proxy_user_header: http::HeaderName,
    /// Where Courier is reached when that is not only this machine and no
    /// mode was chosen: serving refuses ([`AccessSettings::chosen`]); the
    /// other commands (`setup-bucket`, `check`, `token`) need no mode.
    pub unchosen_at: Option<String>,
}

impl AccessSettings {
    /// The mode to serve with: refused when it had to be chosen and was not.
    pub fn chosen(&self) -> Result<UploadAccess, SettingsError> {
        match &self.unchosen_at {
            Some(origin) => Err(SettingsError::AccessNotChosen { origin: origin.clone() }),
            None => Ok(self.mode),
        }
    }
}

impl std::fmt::Debug for AccessSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessSettings")
            .field("mode", &self.mode)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("proxy_user_header", &self.proxy_user_header)
            .field("unchosen_at", &self.unchosen_at)
            .finish()
    }
}

/// The shortest upload password taken: it is the only thing between the
/// internet and the operator's storage (tries are limited, but not forever).
pub const MIN_UPLOAD_PASSWORD_CHARS: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error(
        "COURIER_UPLOAD_ACCESS must be set: Courier is reachable at {origin}, not only from this machine, and anyone who reaches it could upload at its operator's expense. Set it to password (with COURIER_UPLOAD_PASSWORD), proxy (a trusted proxy's signed-in user, with COURIER_TRUSTED_PROXIES) or open (anyone may upload)"
    )]
    AccessNotChosen { origin: String },
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(
        "COURIER_SECRET must be set (at least 32 characters) when COURIER_BUCKET is: every instance signs and checks tokens with it"
    )]
    MissingSecret,
}

impl Settings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::parse(|name| std::env::var(name).ok())
    }

    /// Only where shares (and API tokens) are kept: what `courier token` needs.
    pub fn database_from_env() -> Result<DatabaseConfig, SettingsError> {
        database(&|name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        })
    }

    /// Reads the `LEPTOS_*`, `COURIER_*` and `AWS_*` settings through `var`.
    pub fn parse(var: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let var = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let leptos = leptos_options(&var)?;
        let public_url = var("COURIER_PUBLIC_URL")
            .map(|raw| parse_public_url(&raw))
            .transpose()?;
        let access = access(&var, public_url.as_ref(), leptos.site_addr)?;
        let secret = secret(&var)?;
        let storage = match var("COURIER_BUCKET") {
            Some(_) if secret.is_none() => return Err(SettingsError::MissingSecret),
            Some(bucket) => StorageSettings::External(external_store(&var, bucket)?),
            None => embedded_store(&var)?,
        };
        Ok(Self {
            leptos,
            public_url,
            storage,
            secret,
            previous_secrets: previous_secrets(&var)?,
            limits: limits(&var)?,
            rate_limit: rate_limit(&var)?,
            client_bytes_per_day: client_bytes_per_day(&var)?,
            log_format: LogFormat::parse(var(LogFormat::SETTING).as_deref())?,
            shutdown_grace: shutdown_grace(&var)?,
            min_free_bytes: min_free_bytes(&var)?,
            database: database(&var)?,
            access,
            storage_budget_bytes: parse_number(
                "COURIER_STORAGE_BUDGET_BYTES",
                var("COURIER_STORAGE_BUDGET_BYTES"),
                0,
                0,
                u64::MAX,
            )?,
            share_sweep_every: Duration::from_secs(parse_number(
                "COURIER_SHARE_SWEEP_SECS",
                var("COURIER_SHARE_SWEEP_SECS"),
                30,
                1,
                24 * 3600,
            )?),
        })
    }
}

/// `COURIER_UPLOAD_ACCESS`: `open` only by default, and only while Courier
/// is reached at a loopback address (its public URL, or where it listens
/// when none is set); anywhere else the operator must choose.
fn access(
    var: &impl Fn(&str) -> Option<String>,
    public_url: Option<&Url>,
    site_addr: SocketAddr,
) -> Result<AccessSettings, SettingsError> {
    let name = "COURIER_UPLOAD_ACCESS";
    let (mode, unchosen_at) = match var(name) {
        Some(raw) => (
            UploadAccess::parse(&raw).ok_or_else(|| invalid(name, "must be open, password or proxy"))?,
            None,
        ),
        None => {
            // Reached from elsewhere if either says so: a loopback public
            // URL on a server listening everywhere is still reachable.
            let origin = match public_url {
                Some(url) if !is_loopback_host(url) => Some(url.origin().ascii_serialization()),
                _ if !site_addr.ip().is_loopback() => Some(format!("http://{site_addr}")),
                _ => None,
            };
            (UploadAccess::Open, origin)
        }
    };
    let password = var("COURIER_UPLOAD_PASSWORD");
    match (mode, &password) {
        (UploadAccess::Password, None) => {
            return Err(invalid(
                "COURIER_UPLOAD_PASSWORD",
                "it must be set when COURIER_UPLOAD_ACCESS=password",
            ));
        }
        (UploadAccess::Password, Some(password)) if password.chars().count() < MIN_UPLOAD_PASSWORD_CHARS => {
            return Err(invalid(
                "COURIER_UPLOAD_PASSWORD",
                &format!("it must be at least {MIN_UPLOAD_PASSWORD_CHARS} characters long"),
            ));
        }
        (UploadAccess::Proxy, _) if var("COURIER_TRUSTED_PROXIES").is_none() => {
            return Err(invalid(
                "COURIER_UPLOAD_ACCESS",
                "proxy needs COURIER_TRUSTED_PROXIES: the proxies whose user header Courier believes",
            ));
        }
        _ => {}
    }
    let header = "COURIER_PROXY_USER_HEADER";
    let proxy_user_header = var(header)
        .unwrap_or_else(|| "Remote-User".to_owned())
        .parse::<http::HeaderName>()
        .ok()
        // A header that carries something else already cannot also name the user.
        .filter(|name| {
            ![
                http::header::AUTHORIZATION,
                http::header::COOKIE,
                http::header::HOST,
                http::header::CONTENT_TYPE,
                http::header::CONTENT_LENGTH,
            ]
            .contains(name)
                && !name.as_str().starts_with("x-forwarded-for")
        })
        .ok_or_else(|| {
            invalid(
                header,
                "it must be a header of its own such as Remote-User or X-Forwarded-User",
            )
        })?;
    Ok(AccessSettings {
        mode,
        password: password.filter(|_| mode == UploadAccess::Password),
        proxy_user_header,
        unchosen_at,
    })
}

/// `localhost`, `127.0.0.1`, `[::1]` and the like.
fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `COURIER_DATABASE_URL`, or SQLite in the data directory (beside the
/// embedded store's data, when there is one).
fn database(var: &impl Fn(&str) -> Option<String>) -> Result<DatabaseConfig, SettingsError> {
    let data_dir = PathBuf::from(var("COURIER_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.to_owned()));
    DatabaseConfig::from_setting(var("COURIER_DATABASE_URL").as_deref(), &data_dir)
        .map_err(|error| invalid("COURIER_DATABASE_URL", &error.to_string()))
}

/// `COURIER_SECRET`, checked once: every later use holds a `TokenSecret`.
fn secret(var: &impl Fn(&str) -> Option<String>) -> Result<Option<TokenSecret>, SettingsError> {
    var("COURIER_SECRET")
        .map(|raw| {
            TokenSecret::new(raw).map_err(|_| invalid("COURIER_SECRET", "it must be at least 32 characters long"))
        })
        .transpose()
}

/// `COURIER_SECRET_PREVIOUS`: comma-separated, each as long as a secret must be.
fn previous_secrets(var: &impl Fn(&str) -> Option<String>) -> Result<Vec<TokenSecret>, SettingsError> {
    let name = "COURIER_SECRET_PREVIOUS";
    let Some(raw) = var(name) else { return Ok(Vec::new()) };
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| TokenSecret::new(s).map_err(|_| invalid(name, "each secret must be at least 32 characters long")))
        .collect()
}

/// `COURIER_BUCKET` on AWS S3 or an S3-compatible store.
fn external_store(var: &impl Fn(&str) -> Option<String>, bucket: String) -> Result<ExternalStore, SettingsError> {
    if !valid_bucket_name(&bucket) {
        return Err(invalid(
            "COURIER_BUCKET",
            "a bucket name has 3 to 63 lower-case letters, digits, dots and hyphens",
        ));
    }
    let endpoint = match var("AWS_ENDPOINT_URL_S3")
        .map(|v| ("AWS_ENDPOINT_URL_S3", v))
        .or_else(|| var("AWS_ENDPOINT_URL").map(|v| ("AWS_ENDPOINT_URL", v)))
    {
        Some((name, raw)) => Some(Url::parse(&raw).map_err(|e| invalid(name, &format!("{e}")))?),
        None => None,
    };
    Ok(ExternalStore {
        bucket,
        force_path_style: parse_bool("COURIER_S3_FORCE_PATH_STYLE", var("COURIER_S3_FORCE_PATH_STYLE"))?,
        endpoint,
        region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
        credentials: static_credentials(var)?,
    })
}

/// Credentials named in the environment; both halves or neither.
fn static_credentials(var: &impl Fn(&str) -> Option<String>) -> Result<Option<SigningCredentials>, SettingsError> {
    match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Some(SigningCredentials {
            access_key_id,
            secret_access_key,
            session_token: var("AWS_SESSION_TOKEN"),
        })),
        (Some(_), None) => Err(invalid(
            "AWS_SECRET_ACCESS_KEY",
            "it must be set with AWS_ACCESS_KEY_ID",
        )),
        (None, Some(_)) => Err(invalid(
            "AWS_ACCESS_KEY_ID",
            "it must be set with AWS_SECRET_ACCESS_KEY",
        )),
        (None, None) => Ok(None),
    }
}

/// No bucket configured: where the embedded store listens and keeps its files.
fn embedded_store(var: &impl Fn(&str) -> Option<String>) -> Result<StorageSettings, SettingsError> {
    let addr = match var("COURIER_EMBEDDED_S3_ADDR") {
        Some(raw) => raw
            .parse()
            .map_err(|_| invalid("COURIER_EMBEDDED_S3_ADDR", "expected an address such as 127.0.0.1:9000"))?,
        None => DEFAULT_EMBEDDED_S3_ADDR,
    };
    let data_dir = PathBuf::from(var("COURIER_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.to_owned()));
    Ok(StorageSettings::Embedded { addr, data_dir })
}

/// What files are accepted and how long grants and links live.
fn limits(var: &impl Fn(&str) -> Option<String>) -> Result<Limits, SettingsError> {
    let number = |name: &'static str, default: u64, max: u64| parse_number(name, var(name), default, 1, max);
    let seconds = |name, default, max| number(name, default, max).map(Duration::from_secs);
    let allowed_types = var("COURIER_ALLOWED_TYPES")
        .map(|raw| FileRules::parse_types(&raw))
        .transpose()
        .map_err(|reason| invalid("COURIER_ALLOWED_TYPES", &reason))?
        .unwrap_or_default();
    Ok(Limits {
        rules: FileRules {
            max_bytes: number("COURIER_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES)?,
            allowed_types,
        },
        parallel_uploads: number(
            "COURIER_PARALLEL_UPLOADS",
            DEFAULT_PARALLEL_UPLOADS,
            MAX_PARALLEL_UPLOADS,
        )? as u32,
        upload_ttl: seconds("COURIER_UPLOAD_TTL_SECS", DEFAULT_UPLOAD_TTL_SECS, MAX_UPLOAD_TTL_SECS)?,
        download_ttl: seconds(
            "COURIER_DOWNLOAD_TTL_SECS",
            DEFAULT_DOWNLOAD_TTL_SECS,
            MAX_DOWNLOAD_TTL_SECS,
        )?,
        renew_ttl: seconds("COURIER_RENEW_TTL_SECS", DEFAULT_RENEW_TTL_SECS, MAX_RENEW_TTL_SECS)?,
        owner_token_window: seconds(
            "COURIER_OWNER_TOKEN_WINDOW_SECS",
            signer::DEFAULT_OWNER_TOKEN_WINDOW_SECS,
            signer::MAX_OWNER_TOKEN_WINDOW_SECS,
        )?,
        multipart: signer::MultipartSettings {
            // At least one part's worth: a smaller "large" file would be one part anyway.
            threshold: parse_number(
                "COURIER_MULTIPART_THRESHOLD",
                var("COURIER_MULTIPART_THRESHOLD"),
                signer::MultipartSettings::default().threshold,
                app::multipart::MIN_PART_SIZE,
                MAX_UPLOAD_BYTES,
            )?,
            parallel_parts: number(
                "COURIER_PARALLEL_PARTS",
                u64::from(signer::MultipartSettings::default().parallel_parts),
                MAX_PARALLEL_PARTS,
            )? as u32,
            part_checksums: var("COURIER_PART_CHECKSUMS").is_none()
                || parse_bool("COURIER_PART_CHECKSUMS", var("COURIER_PART_CHECKSUMS"))?,
        },
        links: links(var)?,
        shares: share_limits(var)?,
        encryption: match var("COURIER_ENCRYPTION") {
            None => signer::Encryption::default(),
            Some(raw) => signer::Encryption::parse(raw.trim())
                .ok_or_else(|| invalid("COURIER_ENCRYPTION", "must be optional, always or off"))?,
        },
    })
}

/// How long shares live: `COURIER_SHARE_DAYS` for a new upload's share (7;
/// 0: never expires) and `COURIER_MAX_SHARE_DAYS`, the longest a sender may
/// choose (0 or unset: no maximum, "never" allowed).
fn share_limits(var: &impl Fn(&str) -> Option<String>) -> Result<signer::ShareLimits, SettingsError> {
    let days = |name: &'static str, default: u64| {
        parse_number(name, var(name), default, 0, MAX_SHARE_DAYS)
            .map(|days| (days > 0).then(|| Duration::from_secs(days * 24 * 3600)))
    };
    Ok(signer::ShareLimits {
        default_lifetime: days("COURIER_SHARE_DAYS", DEFAULT_SHARE_DAYS)?,
        max_lifetime: days("COURIER_MAX_SHARE_DAYS", 0)?,
    })
}

/// Which links uploads may get: public ones are on unless turned off.
fn links(var: &impl Fn(&str) -> Option<String>) -> Result<LinkSettings, SettingsError> {
    let name = "COURIER_DEFAULT_LINK";
    let default = match var(name) {
        None => LinkKind::Expiring,
        Some(raw) => LinkKind::parse(raw.trim())
            .ok_or_else(|| invalid(name, &format!("expected expiring or public, got \"{raw}\"")))?,
    };
    let name = "COURIER_PUBLIC_LINKS";
    let public = var(name).is_none() || parse_bool(name, var(name))?;
    if default == LinkKind::Public && !public {
        return Err(invalid(
            "COURIER_DEFAULT_LINK",
            "it is public while COURIER_PUBLIC_LINKS=false turns public links off",
        ));
    }
    let public_base_url = var("COURIER_PUBLIC_BASE_URL")
        .map(|raw| parse_http_url("COURIER_PUBLIC_BASE_URL", &raw))
        .transpose()?;
    Ok(LinkSettings {
        default,
        public,
        public_base_url,
    })
}

/// Requests per client address to the signing endpoints; 0 per minute is off.
fn rate_limit(var: &impl Fn(&str) -> Option<String>) -> Result<RateLimitSettings, SettingsError> {
    let per_minute = "COURIER_RATE_LIMIT_PER_MINUTE";
    let burst = "COURIER_RATE_LIMIT_BURST";
    Ok(RateLimitSettings {
        per_minute: parse_number(
            per_minute,
            var(per_minute),
            DEFAULT_RATE_LIMIT_PER_MINUTE,
            0,
            MAX_RATE_LIMIT,
        )? as u32,
        burst: parse_number(burst, var(burst), DEFAULT_RATE_LIMIT_BURST, 1, MAX_RATE_LIMIT)? as u32,
        trusted_proxies: var("COURIER_TRUSTED_PROXIES")
            .map(|raw| TrustedProxies::parse(&raw))
            .transpose()
            .map_err(|reason| invalid("COURIER_TRUSTED_PROXIES", &reason))?
            .unwrap_or_default(),
    })
}

/// Bytes one client may be granted in 24 hours; 0 is no budget.
fn client_bytes_per_day(var: &impl Fn(&str) -> Option<String>) -> Result<u64, SettingsError> {
    let name = "COURIER_CLIENT_BYTES_PER_DAY";
    parse_number(name, var(name), DEFAULT_CLIENT_BYTES_PER_DAY, 0, u64::MAX)
}

/// How long a stop waits for requests in flight, in whole seconds.
fn shutdown_grace(var: &impl Fn(&str) -> Option<String>) -> Result<Duration, SettingsError> {
    let name = "COURIER_SHUTDOWN_GRACE_SECS";
    parse_number(name, var(name), DEFAULT_SHUTDOWN_GRACE_SECS, 0, MAX_SHUTDOWN_GRACE_SECS).map(Duration::from_secs)
}

/// `COURIER_MIN_FREE_BYTES`, in bytes; unset for the embedded store's
/// default, which depends on its disk.
fn min_free_bytes(var: &impl Fn(&str) -> Option<String>) -> Result<Option<u64>, SettingsError> {
    let name = "COURIER_MIN_FREE_BYTES";
    var(name)
        .map(|raw| parse_number(name, Some(raw), 0, 0, u64::MAX))
        .transpose()
}

/// The settings cargo-leptos passes (read here rather than by
/// `get_configuration`, which expects the output name baked in at build time).
fn leptos_options(var: &impl Fn(&str) -> Option<String>) -> Result<LeptosOptions, SettingsError> {
    let site_addr: SocketAddr = match var("LEPTOS_SITE_ADDR") {
        Some(raw) => raw
            .parse()
            .map_err(|_| invalid("LEPTOS_SITE_ADDR", "expected an address such as 127.0.0.1:3000"))?,
        None => DEFAULT_SITE_ADDR,
    };
    let reload_port = match var("LEPTOS_RELOAD_PORT") {
        Some(raw) => raw
            .parse()
            .map_err(|_| invalid("LEPTOS_RELOAD_PORT", "expected a port number"))?,
        None => DEFAULT_RELOAD_PORT,
    };
    let env = match var("LEPTOS_ENV").map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("prod" | "production") => leptos::config::Env::PROD,
        _ => leptos::config::Env::DEV,
    };
    let hash_file = var("LEPTOS_HASH_FILE_NAME").unwrap_or_else(|| "hash.txt".to_owned());
    // A release build names its assets by content and writes their hashes
    // next to the binary (where Leptos reads them); cargo-leptos says so
    // itself when it runs us.
    let hash_path = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&hash_file)));
    let hash_files = match var("LEPTOS_HASH_FILES").as_deref() {
        Some(raw) => raw
            .parse()
            .map_err(|_| invalid("LEPTOS_HASH_FILES", "expected true or false"))?,
        None => hash_path.as_ref().is_some_and(|path| path.is_file()),
    };
    // Without it, Leptos would fail every page (it reads the file per page).
    if let (true, Some(path)) = (hash_files, &hash_path)
        && !path.is_file()
    {
        return Err(invalid(
            "LEPTOS_HASH_FILES",
            &format!(
                "it is true, but there is no {} (the build writes it next to the binary: copy it there, or set LEPTOS_HASH_FILES=false for unhashed assets)",
                path.display()
            ),
        ));
    }
    Ok(LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|| "courier".to_owned()))
        .hash_files(hash_files)
        .hash_file(hash_file.into())
        .site_root(var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()))
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|| "pkg".to_owned()))
        .site_addr(site_addr)
        .reload_port(reload_port)
        .env(env)
        .build())
}

fn invalid(name: &'static str, reason: &str) -> SettingsError {
    SettingsError::Invalid {
        name,
        reason: reason.to_owned(),
    }
}

fn parse_number(
    name: &'static str,
    raw: Option<String>,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, SettingsError> {
    let Some(raw) = raw else { return Ok(default) };
    let value: u64 = raw
        .parse()
        .map_err(|_| invalid(name, &format!("expected a whole number, got \"{raw}\"")))?;
    if !(min..=max).contains(&value) {
        return Err(invalid(name, &format!("{value} is outside {min}..={max}")));
    }
    Ok(value)
}

fn parse_bool(name: &'static str, raw: Option<String>) -> Result<bool, SettingsError> {
    match raw.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(invalid(name, &format!("expected true or false, got \"{other}\""))),
    }
}

/// `COURIER_PUBLIC_URL`: where people reach Courier.
pub fn parse_public_url(raw: &str) -> Result<Url, SettingsError> {
    parse_http_url("COURIER_PUBLIC_URL", raw)
}

/// An `http(s)` origin (optionally with a path), normalised to end in `/`.
fn parse_http_url(name: &'static str, raw: &str) -> Result<Url, SettingsError> {
    let mut url = Url::parse(raw).map_err(|e| {
        invalid(
            name,
            &format!("{e} (expected something like https://courier.example.com)"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(name, "it must be an http:// or https:// URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(invalid(name, "it must not carry a query, fragment or user name"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::parse(|name| vars.get(name).cloned())
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_to_the_embedded_store() {
        let settings = parse(&[]).expect("defaults are valid");
        assert_eq!(
            settings.storage,
            StorageSettings::Embedded {
                addr: "127.0.0.1:9000".parse().expect("addr"),
                data_dir: PathBuf::from("./data")
            }
        );
        // S3's own limit: large files go in parts; one POST takes up to the threshold.
        assert_eq!(settings.limits.rules.max_bytes, 5 * 1024 * 1024 * 1024 * 1024);
        assert_eq!(settings.limits.largest_post(), 64 * 1024 * 1024);
        assert_eq!(settings.limits.upload_ttl, Duration::from_secs(900));
        assert_eq!(settings.limits.download_ttl, Duration::from_secs(3600));
        assert_eq!(settings.public_url, None);
        assert_eq!(settings.leptos.site_addr, "127.0.0.1:3000".parse().expect("addr"));
        assert_eq!(&*settings.leptos.output_name, "courier");
    }

    #[test]
    fn the_secret_is_checked_once_and_never_printed() {
        let settings = parse(&[("COURIER_SECRET", SECRET)]).expect("valid");
        assert!(settings.secret.is_some());
        assert!(
            !format!("{settings:?}").contains(SECRET),
            "the secret stays out of Debug"
        );
        assert!(parse(&[("COURIER_SECRET", "short")]).is_err());
    }

    #[test]
    fn previous_secrets_are_a_checked_list() {
        let old = "0123456789abcdef0123456789abcdef-old";
        let older = "0123456789abcdef0123456789abcdef-older";
        let settings = parse(&[("COURIER_SECRET_PREVIOUS", &format!("{old}, {older},"))]).expect("valid");
        assert_eq!(settings.previous_secrets.len(), 2);
        assert!(parse(&[]).expect("valid").previous_secrets.is_empty());
        let error = parse(&[("COURIER_SECRET_PREVIOUS", &format!("{old},short"))])
            .expect_err("a short one")
            .to_string();
        assert!(error.starts_with("COURIER_SECRET_PREVIOUS"), "{error}");
        assert!(!error.contains(old), "no secret in the message: {error}");
    }

    #[test]
    fn a_bucket_needs_a_secret() {
        assert_eq!(
            parse(&[("COURIER_BUCKET", "files")]).err(),
            Some(SettingsError::MissingSecret)
        );
        let settings = parse(&[
            ("COURIER_BUCKET", "files"),
            ("COURIER_SECRET", SECRET),
            ("COURIER_S3_FORCE_PATH_STYLE", "true"),
            ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:3900"),
            ("AWS_REGION", "garage"),
            ("AWS_ACCESS_KEY_ID", "GK1"),
            ("AWS_SECRET_ACCESS_KEY", "shh"),
        ])
        .expect("valid");
        let StorageSettings::External(store) = settings.storage else {
            panic!("external storage")
        };
        assert_eq!((store.bucket.as_str(), store.force_path_style), ("files", true));
        assert_eq!(store.endpoint.as_ref().map(Url::as_str), Some("http://127.0.0.1:3900/"));
        assert_eq!(store.region.as_deref(), Some("garage"));
        assert_eq!(
            store.credentials.as_ref().map(|c| c.access_key_id.as_str()),
            Some("GK1")
        );
        assert!(!format!("{store:?}").contains("shh"), "secrets stay out of Debug");
        let error = parse(&[
            ("COURIER_BUCKET", "files"),
            ("COURIER_SECRET", SECRET),
            ("AWS_ACCESS_KEY_ID", "GK1"),
        ])
        .expect_err("half the credentials");
        assert!(error.to_string().starts_with("AWS_SECRET_ACCESS_KEY"), "{error}");
    }

    #[test]
    fn links_are_expiring_by_default_and_public_can_be_turned_off() {
        let settings = parse(&[]).expect("valid");
        assert_eq!(
            settings.limits.links,
            LinkSettings {
                default: LinkKind::Expiring,
                public: true,
                public_base_url: None
            }
        );
        let settings = parse(&[
            ("COURIER_DEFAULT_LINK", "public"),
            ("COURIER_PUBLIC_BASE_URL", "https://cdn.example.com/courier"),
        ])
        .expect("valid");
        assert_eq!(settings.limits.links.default, LinkKind::Public);
        assert_eq!(
            settings.limits.links.public_base_url.map(String::from).as_deref(),
            Some("https://cdn.example.com/courier/")
        );
        assert!(
            !parse(&[("COURIER_PUBLIC_LINKS", "false")])
                .expect("valid")
                .limits
                .links
                .public
        );
        let error = parse(&[("COURIER_DEFAULT_LINK", "public"), ("COURIER_PUBLIC_LINKS", "false")])
            .expect_err("contradiction")
            .to_string();
        assert!(error.starts_with("COURIER_DEFAULT_LINK"), "{error}");
    }

    #[test]
    fn shares_are_kept_in_sqlite_in_the_data_directory_unless_a_database_is_named() {
        let database = |vars: &[(&str, &str)]| parse(vars).expect("valid").database;
        assert_eq!(
            database(&[("COURIER_DATA_DIR", "/var/lib/courier")]),
            DatabaseConfig::Sqlite {
                path: PathBuf::from("/var/lib/courier/shares.db")
            }
        );
        let url = "postgres://courier:secret@db.internal:5432/courier";
        assert_eq!(
            database(&[("COURIER_DATABASE_URL", url)]),
            DatabaseConfig::Postgres { url: url.to_owned() }
        );
        // Named without its password wherever it is printed.
        let printed = format!("{:?}", parse(&[("COURIER_DATABASE_URL", url)]).expect("valid"));
        assert!(!printed.contains(":secret@"), "{printed}");
    }

    #[test]
    fn invalid_settings_are_named() {
        for (name, value) in [
            ("COURIER_MAX_UPLOAD_BYTES", "lots"),
            ("COURIER_MAX_UPLOAD_BYTES", "0"),
            ("COURIER_UPLOAD_TTL_SECS", "-1"),
            ("COURIER_DOWNLOAD_TTL_SECS", "604801"),
            ("COURIER_PUBLIC_URL", "ftp://example.com"),
            ("COURIER_PUBLIC_URL", "https://example.com/?x=1"),
            ("COURIER_EMBEDDED_S3_ADDR", "localhost"),
            ("COURIER_SECRET", "short"),
            ("LEPTOS_SITE_ADDR", "nowhere"),
            ("COURIER_ALLOWED_TYPES", "images"),
            ("COURIER_RATE_LIMIT_BURST", "0"),
            ("COURIER_DEFAULT_LINK", "forever"),
            ("COURIER_PUBLIC_LINKS", "sometimes"),
            ("COURIER_DATABASE_URL", "mysql://courier:secret@db/courier"),
            ("COURIER_PUBLIC_BASE_URL", "s3://bucket"),
        ] {
            let error = parse(&[(name, value)]).expect_err(value).to_string();
            assert!(error.starts_with(name), "{error}");
        }
        let error = parse(&[("COURIER_BUCKET", "Bad_Bucket"), ("COURIER_SECRET", SECRET)])
            .expect_err("bad bucket")
            .to_string();
        assert!(error.starts_with("COURIER_BUCKET"), "{error}");
        let error = parse(&[
            ("COURIER_BUCKET", "b-1"),
            ("COURIER_SECRET", SECRET),
            ("COURIER_S3_FORCE_PATH_STYLE", "maybe"),
        ])
        .expect_err("bad bool")
        .to_string();
        assert!(error.starts_with("COURIER_S3_FORCE_PATH_STYLE"), "{error}");
        // Hashed assets without their names: refused at start, not on every page.
        let error = parse(&[
            ("LEPTOS_HASH_FILES", "true"),
            ("LEPTOS_HASH_FILE_NAME", "/nowhere/hash.txt"),
        ])
        .expect_err("no hash file")
        .to_string();
        assert!(
            error.starts_with("LEPTOS_HASH_FILES") && error.contains("/nowhere/hash.txt"),
            "{error}"
        );
    }

    #[test]
    fn allowed_types_and_rate_limits_are_read() {
        let settings = parse(&[
            ("COURIER_ALLOWED_TYPES", "image/*, application/pdf"),
            ("COURIER_RATE_LIMIT_PER_MINUTE", "0"),
        ])
        .expect("valid");
        assert_eq!(settings.limits.rules.allowed_types, vec!["image/*", "application/pdf"]);
        assert_eq!(
            settings.rate_limit,
            RateLimitSettings {
                per_minute: 0,
                burst: 60,
                trusted_proxies: TrustedProxies::default(),
            }
        );
        assert_eq!(
            parse(&[]).expect("defaults").rate_limit,
            RateLimitSettings {
                per_minute: 120,
                burst: 60,
                trusted_proxies: TrustedProxies::default(),
            }
        );
        let behind = parse(&[("COURIER_TRUSTED_PROXIES", "10.0.0.0/8")]).expect("valid");
        assert!(
            behind
                .rate_limit
                .trusted_proxies
                .contains("10.1.2.3".parse().expect("ip"))
        );
        let error = parse(&[("COURIER_TRUSTED_PROXIES", "proxy.local")])
            .expect_err("not an address")
            .to_string();
        assert!(error.starts_with("COURIER_TRUSTED_PROXIES"), "{error}");
    }

    #[test]
    fn the_client_budget_is_bytes_a_day_and_0_is_none() {
        let budget = |raw: &str| parse(&[("COURIER_CLIENT_BYTES_PER_DAY", raw)]).map(|s| s.client_bytes_per_day);
        assert_eq!(parse(&[]).expect("defaults").client_bytes_per_day, 100 << 30);
        assert_eq!(budget(""), Ok(100 << 30), "blank is unset");
        assert_eq!(budget("0"), Ok(0));
        assert_eq!(budget("1048576"), Ok(1 << 20));
        assert_eq!(
            budget("100G").expect_err("not bytes").to_string(),
            "COURIER_CLIENT_BYTES_PER_DAY is not valid: expected a whole number, got \"100G\""
        );
        assert!(budget("-1").is_err());
    }

    #[test]
    fn the_log_format_is_text_or_json() {
        assert_eq!(parse(&[]).expect("default").log_format, LogFormat::Text);
        assert_eq!(
            parse(&[("COURIER_LOG_FORMAT", "JSON")]).expect("json").log_format,
            LogFormat::Json
        );
        assert_eq!(
            parse(&[("COURIER_LOG_FORMAT", " text ")]).expect("text").log_format,
            LogFormat::Text
        );
        let error = parse(&[("COURIER_LOG_FORMAT", "logfmt")])
            .expect_err("unknown")
            .to_string();
        assert_eq!(
            error,
            "COURIER_LOG_FORMAT is not valid: expected text or json, got \"logfmt\""
        );
    }

    #[test]
    fn the_shutdown_grace_is_whole_seconds_up_to_an_hour() {
        let grace = |raw: &str| parse(&[("COURIER_SHUTDOWN_GRACE_SECS", raw)]).map(|s| s.shutdown_grace);
        assert_eq!(parse(&[]).expect("default").shutdown_grace, Duration::from_secs(25));
        assert_eq!(grace(" 5 "), Ok(Duration::from_secs(5)));
        assert_eq!(grace("0"), Ok(Duration::ZERO), "0 cuts at once");
        assert_eq!(grace("3600"), Ok(Duration::from_secs(3600)));
        assert_eq!(grace(""), Ok(Duration::from_secs(25)), "blank is unset");
        for bad in ["-1", "2.5", "soon", "3601"] {
            let error = grace(bad).expect_err(bad).to_string();
            assert!(error.starts_with("COURIER_SHUTDOWN_GRACE_SECS is not valid"), "{error}");
        }
        assert_eq!(
            grace("abc").expect_err("not a number").to_string(),
            "COURIER_SHUTDOWN_GRACE_SECS is not valid: expected a whole number, got \"abc\""
        );
    }

    #[test]
    fn the_storage_floor_is_bytes_or_the_default() {
        let floor = |raw: &str| parse(&[("COURIER_MIN_FREE_BYTES", raw)]).map(|s| s.min_free_bytes);
        assert_eq!(parse(&[]).expect("defaults").min_free_bytes, None);
        assert_eq!(floor(""), Ok(None), "blank is unset");
        assert_eq!(floor("0"), Ok(Some(0)));
        assert_eq!(floor("1073741824"), Ok(Some(1 << 30)));
        assert_eq!(
            floor("1G").expect_err("not bytes").to_string(),
            "COURIER_MIN_FREE_BYTES is not valid: expected a whole number, got \"1G\""
        );
        assert!(floor("-1").is_err());
    }

    #[test]
    fn download_links_live_at_most_a_week() {
        let settings = parse(&[("COURIER_DOWNLOAD_TTL_SECS", "604800")]).expect("a week is allowed");
        assert_eq!(settings.limits.download_ttl, Duration::from_secs(604_800));
    }

    #[test]
    fn public_urls_end_in_a_slash() {
        assert_eq!(
            parse_public_url("https://files.example.com").expect("valid").as_str(),
            "https://files.example.com/"
        );
        assert_eq!(
            parse_public_url("https://example.com/courier").expect("valid").as_str(),
            "https://example.com/courier/"
        );
    }
}
