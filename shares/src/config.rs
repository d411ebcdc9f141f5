//! Which database holds the shares: read once from `COURIER_DATABASE_URL`,
//! else SQLite in the data directory. A PostgreSQL URL carries a password,
//! so nothing here prints one: `Debug` and `Display` show the database
//! without it, and errors name the setting, never its value.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::DbError;

/// The SQLite file's name in the data directory.
pub const SQLITE_FILE_NAME: &str = "shares.db";

/// Where shares are kept: SQLite in a file (the default: `<data_dir>/shares.db`) or PostgreSQL.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseConfig {
    Sqlite { path: PathBuf },
    Postgres { url: String },
}

impl DatabaseConfig {
    /// `COURIER_DATABASE_URL` if set (`postgres://…` or `sqlite://…`), else SQLite in `data_dir`.
    pub fn from_setting(url: Option<&str>, data_dir: &Path) -> Result<Self, DbError> {
        let Some(url) = url.map(str::trim).filter(|url| !url.is_empty()) else {
            return Ok(Self::Sqlite {
                path: data_dir.join(SQLITE_FILE_NAME),
            });
        };
        let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("postgres" | "postgresql") => {
                let parsed = url::Url::parse(url).map_err(|error| DbError::Setting {
                    reason: format!(
                        "is not a PostgreSQL URL ({error}): write it as postgres://user:password@host:port/database"
                    ),
                })?;
                if parsed.host_str().is_none_or(str::is_empty) {
                    return Err(DbError::Setting {
                        reason: "names no host: write it as postgres://user:password@host:port/database".into(),
                    });
                }
                Ok(Self::Postgres { url: url.to_owned() })
            }
            Some("sqlite") => {
                let rest = &url["sqlite:".len()..];
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.contains('?') {
                    return Err(DbError::Setting {
                        reason: "has options after `?`, which Courier does not read (it sets SQLite's own): \
                                 name just the file, as sqlite:///var/lib/courier/shares.db"
                            .into(),
                    });
                }
                if path.is_empty() || path == ":memory:" {
                    return Err(DbError::Setting {
                        reason: "names no file: write it as sqlite:///var/lib/courier/shares.db".into(),
                    });
                }
                Ok(Self::Sqlite {
                    path: PathBuf::from(path),
                })
            }
            _ => Err(DbError::Setting {
                reason: "must start with postgres:// or sqlite:// (or be unset, for SQLite in the data directory)"
                    .into(),
            }),
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres { .. } => "postgres",
        }
    }

    /// The password in a PostgreSQL URL, percent-decoded, for scrubbing it
    /// from messages the driver writes.
    pub(crate) fn password(&self) -> Option<String> {
        let Self::Postgres { url } = self else { return None };
        let url = url::Url::parse(url).ok()?;
        let password = url.password()?;
        let decoded = percent_encoding::percent_decode_str(password)
            .decode_utf8_lossy()
            .into_owned();
        Some(decoded)
    }

    /// `text` without this configuration's password (raw or percent-encoded).
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        if let Self::Postgres { url } = self
            && let Ok(parsed) = url::Url::parse(url)
            && let Some(raw) = parsed.password().filter(|raw| !raw.is_empty())
        {
            text = text.replace(raw, "***");
        }
        if let Some(password) = self.password().filter(|password| !password.is_empty()) {
            text = text.replace(&password, "***");
        }
        text
    }
}

/// `SQLite at /var/lib/courier/shares.db`, `PostgreSQL at courier@db:5432/courier`:
/// the database without its password, for logs and `courier check`.
impl fmt::Display for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path } => write!(f, "SQLite at {}", path.display()),
            Self::Postgres { url } => {
                let Ok(url) = url::Url::parse(url) else {
                    return f.write_str("PostgreSQL (an unreadable URL)");
                };
                f.write_str("PostgreSQL at ")?;
                if !url.username().is_empty() {
                    write!(f, "{}@", url.username())?;
                }
                f.write_str(url.host_str().unwrap_or(""))?;
                if let Some(port) = url.port() {
                    write!(f, ":{port}")?;
                }
                f.write_str(url.path())
            }
        }
    }
}

/// As `Display`: a derived `Debug` would print the password.
impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseConfig({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_blank_is_sqlite_in_the_data_directory() {
        let dir = Path::new("/var/lib/courier");
        let expected = DatabaseConfig::Sqlite {
            path: dir.join("shares.db"),
        };
        assert_eq!(DatabaseConfig::from_setting(None, dir).ok(), Some(expected.clone()));
        assert_eq!(DatabaseConfig::from_setting(Some("  "), dir).ok(), Some(expected));
    }

    #[test]
    fn sqlite_urls_name_a_file() {
        let dir = Path::new("/data");
        for (url, path) in [
            ("sqlite:///srv/shares.db", "/srv/shares.db"),
            ("sqlite://relative.db", "relative.db"),
            ("sqlite:/srv/x.db", "/srv/x.db"),
        ] {
            let config = DatabaseConfig::from_setting(Some(url), dir);
            assert_eq!(
                config.ok(),
                Some(DatabaseConfig::Sqlite {
                    path: PathBuf::from(path)
                }),
                "{url}"
            );
        }
        for url in ["sqlite://", "sqlite::memory:", "sqlite:///x.db?mode=ro"] {
            assert!(DatabaseConfig::from_setting(Some(url), dir).is_err(), "{url}");
        }
    }

    #[test]
    fn postgres_urls_are_kept_and_other_schemes_refused() {
        let url = "postgres://courier:s3cr%2Ft@db.internal:5432/courier";
        let config = DatabaseConfig::from_setting(Some(url), Path::new("/d")).ok();
        assert_eq!(config, Some(DatabaseConfig::Postgres { url: url.into() }));
        assert!(DatabaseConfig::from_setting(Some("postgresql://h/db"), Path::new("/d")).is_ok());
        for url in ["mysql://root:hunter2@h/db", "postgres://", "hunter2"] {
            let error = DatabaseConfig::from_setting(Some(url), Path::new("/d"))
                .err()
                .map(|e| e.to_string());
            let error = error.unwrap_or_default();
            assert!(error.starts_with("COURIER_DATABASE_URL "), "{url}: {error}");
            assert!(!error.contains("hunter2"), "{error}");
        }
    }

    #[test]
    fn the_password_never_shows() {
        let config = DatabaseConfig::Postgres {
            url: "postgres://courier:s3cr%2Ft@db.internal:5432/courier".into(),
        };
        assert_eq!(config.to_string(), "PostgreSQL at courier@db.internal:5432/courier");
        assert!(!format!("{config:?}").contains("s3cr"));
        assert_eq!(
            config.scrub("auth failed: s3cr/t and s3cr%2Ft"),
            "auth failed: *** and ***"
        );
    }
}
