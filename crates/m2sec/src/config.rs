//! Configuration: defaults, then a TOML file (`--config` or `M2SEC_CONFIG`), then `M2SEC_*`
//! environment variables, then command-line flags. An unknown key in the file is an error; an unknown
//! `M2SEC_*` variable is warned about and ignored.

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the embedded store, the root key and the admin credentials live.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Address the AWS-compatible API listens on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Store URL: `sqlite://PATH` or `postgres://…`. Default: SQLite in the data dir.
    #[serde(default)]
    pub store: Option<String>,
    /// The AWS account id every resource belongs to.
    #[serde(default = "default_account_id")]
    pub account_id: String,
    /// File holding the passphrase that seals the root key (production). Without it (and without
    /// `M2SEC_UNSEAL_PASSPHRASE`) the data dir uses a development key file.
    #[serde(default)]
    pub unseal_passphrase_file: Option<PathBuf>,
    /// Seconds between runs of scheduled work (automatic rotation, end of deletion windows).
    #[serde(default = "default_scheduler_interval")]
    pub scheduler_interval_secs: u64,
    /// Largest request body accepted, in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Largest DynamoDB request body accepted, in bytes: DynamoDB's own limit (16 MB), which a batch
    /// of 25 items of up to 400 KB, or a transaction of 100, needs.
    #[serde(default = "default_dynamodb_max_body")]
    pub dynamodb_max_body_bytes: usize,
    /// Seconds a client has to send a complete request head (request line and headers); a keep-alive
    /// connection idle this long is closed too.
    #[serde(default = "default_header_timeout")]
    pub http_header_timeout_secs: u64,
    /// Seconds a client has to send a request's body in full once m2sec starts reading it.
    #[serde(default = "default_body_timeout")]
    pub http_body_timeout_secs: u64,
    /// Connections open at once at most (lowered to what the open-file limit allows). At the limit the
    /// oldest idle connection is closed to make room.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Bytes all request bodies being received or handled may take together; beyond it a request waits
    /// briefly, then is answered 503.
    #[serde(default = "default_max_inflight_body")]
    pub max_inflight_body_bytes: usize,
    /// Seconds requests in progress get to finish at shutdown (SIGTERM, Ctrl-C) before their
    /// connections are closed; the trail is then flushed and a last digest signed.
    #[serde(default = "default_shutdown_drain")]
    pub shutdown_drain_secs: f64,
    /// Milliseconds a node trusts its in-memory copy of a key or alias before re-reading the store:
    /// how late one node sees another's changes when several share a PostgreSQL store.
    #[serde(default = "default_cache_ttl")]
    pub cache_ttl_ms: u64,
    /// Record every call in the trail (`false` only to measure what the trail costs).
    #[serde(default = "default_true")]
    pub trail_enabled: bool,
    /// Days trail records are kept (pruned at a signed digest, so the rest still verifies); 0 keeps
    /// them forever.
    #[serde(default = "default_retention")]
    pub trail_retention_days: f64,
    /// Bytes the trail's records may take (estimated from the newest records); the oldest are pruned
    /// beyond it, at a signed digest, checked every 30 s (or every digest interval when shorter). 0:
    /// no size limit (age only).
    #[serde(default)]
    pub trail_max_bytes: u64,
    /// Event sources whose calls are not recorded (`kms.amazonaws.com`), as CloudTrail's
    /// `ExcludeManagementEventSources`: for operators who do not want cryptographic calls recorded. A
    /// list, or one comma-separated string (as `M2SEC_TRAIL_EXCLUDE_EVENT_SOURCES` gives it).
    #[serde(default, deserialize_with = "text_list")]
    pub trail_exclude_event_sources: Vec<String>,
    /// Record data events (DynamoDB's item calls: GetItem, PutItem, Query, …), as a CloudTrail trail
    /// does when its event selectors ask for them. `false` records management events only, which is
    /// CloudTrail's default.
    #[serde(default = "default_true")]
    pub trail_data_events: bool,
    /// Seconds between signed digests of the trail (one is also signed at shutdown).
    #[serde(default = "default_digest_interval")]
    pub trail_digest_interval_secs: u64,
    /// Address of the DNS server (UDP and TCP) for the Route53 zones, or `off`. Unset: 127.0.0.1:5353
    /// when that is free.
    #[serde(default)]
    pub dns_listen: Option<String>,
    /// Seconds a DNS client's TCP connection may stay idle, or take to send one message, before the
    /// server closes it (BIND's `tcp-idle-timeout` is 30 s too).
    #[serde(default = "default_dns_tcp_idle_timeout")]
    pub dns_tcp_idle_timeout_secs: u64,
    /// Validity of the certificates ACM issues, in days.
    #[serde(default = "default_acm_validity")]
    pub acm_validity_days: u32,
    /// Days before expiry that ACM renews an issued certificate.
    #[serde(default = "default_acm_renew_before")]
    pub acm_renew_before_days: u32,
    /// DNS servers (`ip:port`; an address alone means port 53) that ACM asks for validation records
    /// of names m2sec holds no zone for, after its own zones. A list, or one comma-separated string
    /// (as `M2SEC_DNS_UPSTREAM` gives it). Empty: own zones only.
    #[serde(default, deserialize_with = "upstream_servers")]
    pub dns_upstream: Vec<SocketAddr>,
    /// Address of the HTTPS edge (the custom domain names of API Gateway), or `off`. Unset:
    /// 127.0.0.1:8443 when that is free.
    #[serde(default)]
    pub https_listen: Option<String>,
    /// The address DNS gives for the edge's names. Unset: the address `https_listen` is bound to
    /// (127.0.0.1 when that is every address, 0.0.0.0 or ::).
    #[serde(default)]
    pub edge_address: Option<std::net::IpAddr>,
    /// Where the edge writes its access log (one JSON line per call, API Gateway's `$context`
    /// names): `stderr`, `off`, or a file path (appended to). Lines are written in batches every
    /// 200 ms.
    #[serde(default = "default_edge_access_log")]
    pub edge_access_log: String,
    /// How long a DynamoDB table's data key stays in memory once unwrapped by KMS (seconds). A
    /// disabled or deleted KMS key stops the table's reads and writes within this time.
    #[serde(default = "default_dynamodb_key_cache_secs")]
    pub dynamodb_key_cache_secs: u64,
}

fn default_dynamodb_key_cache_secs() -> u64 {
    300
}

fn default_edge_access_log() -> String {
    "stderr".into()
}

/// `["192.0.2.53:53", "2001:db8::53"]` or `"192.0.2.53:53,2001:db8::53"`: each an address with or
/// without a port (53).
fn upstream_servers<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<SocketAddr>, D::Error> {
    text_list(d)?
        .iter()
        .map(|item| {
            item.parse::<SocketAddr>()
                .or_else(|_| {
                    item.trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, 53))
                })
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "dns_upstream: '{item}' is not an address (ip:port, or an ip for port 53)"
                    ))
                })
        })
        .collect()
}

/// `["a", "b"]` or `"a,b"`.
fn text_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Items {
        List(Vec<String>),
        Text(String),
    }
    let items = match Items::deserialize(d)? {
        Items::List(list) => list,
        Items::Text(text) => text.split(',').map(str::to_string).collect(),
    };
    Ok(items
        .into_iter()
        .map(|item| item.trim().to_string())
        .filter(|item| !item.is_empty())
        .collect())
}

/// Where the DNS server listens unless told otherwise.
pub const DEFAULT_DNS_LISTEN: &str = "127.0.0.1:5353";
/// Where the HTTPS edge listens unless told otherwise.
pub const DEFAULT_HTTPS_LISTEN: &str = "127.0.0.1:8443";

fn default_data_dir() -> PathBuf {
    PathBuf::from("./m2sec-data")
}
fn default_listen() -> SocketAddr {
    "127.0.0.1:4566".parse().expect("valid default address")
}
fn default_account_id() -> String {
    "000000000000".into()
}
fn default_scheduler_interval() -> u64 {
    60
}
fn default_max_body() -> usize {
    1024 * 1024
}
fn default_dynamodb_max_body() -> usize {
    16 * 1024 * 1024
}
fn default_header_timeout() -> u64 {
    20
}
fn default_body_timeout() -> u64 {
    30
}
fn default_max_connections() -> usize {
    8192
}
fn default_max_inflight_body() -> usize {
    256 * 1024 * 1024
}
fn default_shutdown_drain() -> f64 {
    10.0
}
fn default_cache_ttl() -> u64 {
    1000
}
fn default_true() -> bool {
    true
}
fn default_retention() -> f64 {
    90.0
}
fn default_digest_interval() -> u64 {
    60
}
fn default_dns_tcp_idle_timeout() -> u64 {
    30
}
fn default_acm_validity() -> u32 {
    198
}
fn default_acm_renew_before() -> u32 {
    60
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: default_data_dir(),
            listen: default_listen(),
            store: None,
            account_id: default_account_id(),
            unseal_passphrase_file: None,
            scheduler_interval_secs: default_scheduler_interval(),
            max_body_bytes: default_max_body(),
            dynamodb_max_body_bytes: default_dynamodb_max_body(),
            http_header_timeout_secs: default_header_timeout(),
            http_body_timeout_secs: default_body_timeout(),
            max_connections: default_max_connections(),
            max_inflight_body_bytes: default_max_inflight_body(),
            shutdown_drain_secs: default_shutdown_drain(),
            cache_ttl_ms: default_cache_ttl(),
            trail_enabled: true,
            trail_retention_days: default_retention(),
            trail_max_bytes: 0,
            trail_exclude_event_sources: Vec::new(),
            trail_data_events: true,
            trail_digest_interval_secs: default_digest_interval(),
            dns_listen: None,
            dns_tcp_idle_timeout_secs: default_dns_tcp_idle_timeout(),
            acm_validity_days: default_acm_validity(),
            acm_renew_before_days: default_acm_renew_before(),
            dns_upstream: Vec::new(),
            https_listen: None,
            edge_address: None,
            edge_access_log: default_edge_access_log(),
            dynamodb_key_cache_secs: default_dynamodb_key_cache_secs(),
        }
    }
}

/// Flags given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unseal_passphrase_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub https_listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge_address: Option<std::net::IpAddr>,
}

/// Variables that are read directly rather than as config keys (secrets and the admin key pair).
const NOT_CONFIG_KEYS: &[&str] = &[
    "CONFIG",
    "UNSEAL_PASSPHRASE",
    "ADMIN_ACCESS_KEY_ID",
    "ADMIN_SECRET_ACCESS_KEY",
    "LOG",
];

/// Every key of [`Config`], for telling config variables from others.
const CONFIG_KEYS: &[&str] = &[
    "data_dir",
    "listen",
    "store",
    "account_id",
    "unseal_passphrase_file",
    "scheduler_interval_secs",
    "max_body_bytes",
    "dynamodb_max_body_bytes",
    "http_header_timeout_secs",
    "http_body_timeout_secs",
    "max_connections",
    "max_inflight_body_bytes",
    "shutdown_drain_secs",
    "cache_ttl_ms",
    "trail_enabled",
    "trail_retention_days",
    "trail_max_bytes",
    "trail_exclude_event_sources",
    "trail_data_events",
    "trail_digest_interval_secs",
    "dns_listen",
    "dns_tcp_idle_timeout_secs",
    "acm_validity_days",
    "acm_renew_before_days",
    "dns_upstream",
    "https_listen",
    "edge_address",
    "edge_access_log",
    "dynamodb_key_cache_secs",
];

/// Settings whose value is text. Their variables are taken verbatim: figment would read
/// `M2SEC_ACCOUNT_ID=123456789012` as a number (refused for a string, and `000000000000` would lose its zeros).
const TEXT_KEYS: &[&str] = &[
    "data_dir",
    "store",
    "account_id",
    "unseal_passphrase_file",
    "dns_listen",
    "dns_upstream",
    "trail_exclude_event_sources",
    "https_listen",
    "edge_address",
    "edge_access_log",
];

impl Config {
    // figment's error is large, but it is returned once, at start-up.
    #[allow(clippy::result_large_err)]
    pub fn load(file: Option<PathBuf>, overrides: Overrides) -> Result<Config, figment::Error> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file.or_else(|| std::env::var_os("M2SEC_CONFIG").map(PathBuf::from)) {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Env::prefixed("M2SEC_").filter(|k| {
            let known = CONFIG_KEYS.iter().any(|n| k.as_str().eq_ignore_ascii_case(n));
            if !known && !NOT_CONFIG_KEYS.iter().any(|n| k.as_str().eq_ignore_ascii_case(n)) {
                tracing::warn!(variable = %format!("M2SEC_{}", k.as_str().to_uppercase()), "ignoring unknown M2SEC_ variable");
            }
            known && !TEXT_KEYS.iter().any(|n| k.as_str().eq_ignore_ascii_case(n))
        }));
        for key in TEXT_KEYS {
            if let Ok(value) = std::env::var(format!("M2SEC_{}", key.to_ascii_uppercase())) {
                figment = figment.merge(Serialized::default(key, value));
            }
        }
        figment = figment.merge(Serialized::defaults(overrides));
        let config: Config = figment.extract()?;
        if !config.account_id.chars().all(|c| c.is_ascii_digit()) || config.account_id.len() != 12 {
            return Err(figment::Error::from(format!(
                "account_id must be 12 digits, got '{}'",
                config.account_id
            )));
        }
        Ok(config)
    }

    pub fn store_url(&self) -> String {
        self.store
            .clone()
            .unwrap_or_else(|| m2sec_store::SqlStore::sqlite_url(&self.data_dir.join("m2sec.db")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_servers_are_a_list_or_comma_separated_text() {
        let from = |v: serde_json::Value| {
            serde_json::from_value::<Config>(serde_json::json!({ "dns_upstream": v }))
                .map(|c| c.dns_upstream)
        };
        let expected: Vec<SocketAddr> = vec![
            "127.0.0.1:5300".parse().unwrap(),
            "192.0.2.53:53".parse().unwrap(),
            "[2001:db8::53]:53".parse().unwrap(),
        ];
        assert_eq!(
            from(serde_json::json!("127.0.0.1:5300, 192.0.2.53,2001:db8::53")).unwrap(),
            expected
        );
        assert_eq!(
            from(serde_json::json!([
                "127.0.0.1:5300",
                "192.0.2.53",
                "[2001:db8::53]"
            ]))
            .unwrap(),
            expected
        );
        assert!(from(serde_json::json!("")).unwrap().is_empty());
        let err = from(serde_json::json!("dns.example.com:53")).unwrap_err();
        assert!(err.to_string().contains("is not an address"), "{err}");
        assert!(Config::default().dns_upstream.is_empty());
    }

    #[test]
    fn edge_settings_are_text() {
        let config: Config = serde_json::from_value(serde_json::json!({
            "https_listen": "off",
            "edge_address": "2001:db8::443",
        }))
        .unwrap();
        assert_eq!(config.https_listen.as_deref(), Some("off"));
        assert_eq!(config.edge_address, Some("2001:db8::443".parse().unwrap()));
        assert!(serde_json::from_value::<Config>(
            serde_json::json!({"edge_address": "edge.example"})
        )
        .is_err());
        assert!(Config::default().https_listen.is_none());
    }
}
