//! `m2sec`: one binary serving AWS-compatible KMS (and, as they arrive, SSM Parameter Store and ACM).

mod auth;
mod bootstrap;
mod bootstrap_roles;
mod config;
mod data_dir;
mod deploy;
mod edge;
mod functions;
mod gateway;
mod http;
mod trail_cli;
mod usage_route;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use m2sec_crypto::{RootKeyOrigin, SecretBytes};
use m2sec_kms::Kms;
use m2sec_proto::json::JsonService;
use m2sec_proto::query_service::QueryService;
use m2sec_store::{SqlStore, Store};

use crate::config::{Config, Overrides};

/// Records and requests are allocated on one thread and freed on another (the trail writer); mimalloc
/// handles that without the lock traffic of the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "m2sec",
    version,
    about = "AWS-compatible KMS, SSM Parameter Store and ACM in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (creates the data dir, root key and admin key on first start).
    Serve {
        /// TOML configuration file (also M2SEC_CONFIG).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory [default: ./m2sec-data] (also M2SEC_DATA_DIR).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Listen address [default: 127.0.0.1:4566] (also M2SEC_LISTEN).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Store URL, sqlite://PATH or postgres://… [default: SQLite in the data dir] (also M2SEC_STORE).
        #[arg(long)]
        store: Option<String>,
        /// Account id [default: 000000000000] (also M2SEC_ACCOUNT_ID).
        #[arg(long)]
        account_id: Option<String>,
        /// File with the passphrase sealing the root key (also M2SEC_UNSEAL_PASSPHRASE_FILE, or the
        /// passphrase itself in M2SEC_UNSEAL_PASSPHRASE).
        #[arg(long)]
        unseal_passphrase_file: Option<PathBuf>,
        /// A serverless.yml (or a file with `iamRoleStatements:`): create or update an IAM role whose
        /// inline policy holds those statements.
        #[arg(long)]
        bootstrap: Option<PathBuf>,
        /// Name of the bootstrapped role [default: <service>-lambda].
        #[arg(long, requires = "bootstrap")]
        bootstrap_role: Option<String>,
        /// DNS server address for the Route53 zones, or `off` [default: 127.0.0.1:5353 if free] (also
        /// M2SEC_DNS_LISTEN).
        #[arg(long)]
        dns_listen: Option<String>,
        /// HTTPS edge address (API Gateway custom domain names), or `off` [default: 127.0.0.1:8443 if
        /// free] (also M2SEC_HTTPS_LISTEN).
        #[arg(long)]
        https_listen: Option<String>,
        /// The address DNS gives for the edge's names [default: the https-listen address] (also
        /// M2SEC_EDGE_ADDRESS).
        #[arg(long)]
        edge_address: Option<std::net::IpAddr>,
    },
    /// Check or export the trail.
    Trail {
        #[command(subcommand)]
        action: trail_cli::TrailCommand,
    },
    /// What the recorded usage would cost on AWS (keys per month, requests by kind).
    Usage(trail_cli::UsageArgs),
    /// Deploy a serverless.yml to a running m2sec (its tables, role, functions, REST API and custom
    /// domain), as `serverless deploy` does on AWS.
    Deploy(deploy::cli::DeployArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("M2SEC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        // A log that cannot be written (stderr on a full disk) is dropped: the default reports it with
        // `eprintln!`, which panics when stderr fails, and would end the request being logged.
        .log_internal_errors(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            config,
            data_dir,
            listen,
            store,
            account_id,
            unseal_passphrase_file,
            bootstrap,
            bootstrap_role,
            dns_listen,
            https_listen,
            edge_address,
        } => {
            let config = Config::load(
                config,
                Overrides {
                    data_dir,
                    listen,
                    store,
                    account_id,
                    unseal_passphrase_file,
                    dns_listen,
                    https_listen,
                    edge_address,
                },
            )
            .context("configuration")?;
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(serve(config, bootstrap.map(|f| (f, bootstrap_role))))
        }
        Command::Trail { action } => trail_cli::run_trail(action),
        Command::Usage(args) => trail_cli::run_usage(args),
        Command::Deploy(args) => {
            // The reason alone, as a command line prints it (no backtrace, whatever RUST_BACKTRACE says).
            if let Err(e) = deploy::cli::run(args) {
                eprintln!("m2sec deploy: {e:#}");
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

pub(crate) fn passphrase(config: &Config) -> anyhow::Result<Option<SecretBytes>> {
    if let Some(path) = &config.unseal_passphrase_file {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading passphrase file {}", path.display()))?,
        );
        let trimmed = text.trim_end_matches(['\n', '\r']);
        if trimmed.is_empty() {
            bail!("the passphrase file {} is empty", path.display());
        }
        return Ok(Some(SecretBytes::from_slice(trimmed.as_bytes())));
    }
    Ok(std::env::var("M2SEC_UNSEAL_PASSPHRASE")
        .ok()
        .map(|p| SecretBytes::new(p.into_bytes())))
}

async fn serve(config: Config, bootstrap: Option<(PathBuf, Option<String>)>) -> anyhow::Result<()> {
    let file_limit = http::connections::raise_file_limit();
    // Read the bootstrap file before touching the data dir, so a bad file changes nothing.
    let bootstrap = match bootstrap {
        Some((file, name)) => Some(bootstrap_roles::role_from_file(&file, name.as_deref())?),
        None => None,
    };
    let admin = bootstrap::admin_from_env()?;
    let passphrase = passphrase(&config)?;
    let (root, origin) = data_dir::root_key(&config, passphrase.as_ref()).await?;
    match origin {
        RootKeyOrigin::CreatedDevFile | RootKeyOrigin::OpenedDevFile => tracing::warn!(
            file = %config.data_dir.join(m2sec_crypto::root::DEV_FILE).display(),
            "using a DEVELOPMENT root key file (anyone who reads it can decrypt every key); \
             use --unseal-passphrase-file for production"
        ),
        RootKeyOrigin::CreatedSealed => tracing::info!("created a passphrase-sealed root key"),
        RootKeyOrigin::UnsealedWithPassphrase => {
            tracing::info!("unsealed the root key with the passphrase")
        }
    }
    let root = Arc::new(root);
    if config.store.is_none() {
        create_private_file(&config.data_dir.join("m2sec.db"))?;
    }
    let store: Arc<dyn Store> = Arc::new(
        SqlStore::connect(&config.store_url())
            .await
            .map_err(|e| anyhow::anyhow!("store: {e}"))?,
    );
    tracing::info!(backend = store.backend(), "store ready");
    bootstrap::ensure_admin(store.as_ref(), &root, &config, admin).await?;
    if let Some((role_name, policy)) = &bootstrap {
        let arn = m2sec_iam::iam_api::bootstrap_role(
            store.as_ref(),
            &config.account_id,
            role_name,
            &bootstrap_roles::trust_policy(&config.account_id),
            "iamRoleStatements",
            policy,
        )
        .await
        .map_err(|e| anyhow::anyhow!("bootstrap role: {e}"))?;
        tracing::info!(role = %arn, "role created from iamRoleStatements");
    }

    // One count of this node's IAM changes for every cache of IAM state: the access keys, the policies.
    let iam_generation = Arc::new(m2sec_iam::IamGeneration::default());
    let authorizer = Arc::new(m2sec_iam::Authorizer::new(
        store.clone(),
        Duration::from_millis(config.cache_ttl_ms),
        iam_generation.clone(),
    ));
    let (trail, trail_writer) = if config.trail_enabled {
        let (trail, task) = m2sec_trail::Trail::start(
            store.clone(),
            &root,
            m2sec_trail::WriterConfig {
                digest_interval: Duration::from_secs(config.trail_digest_interval_secs.max(1)),
                retention_days: config.trail_retention_days.max(0.0),
                max_bytes: config.trail_max_bytes,
                exclude_event_sources: config.trail_exclude_event_sources.clone(),
                data_events: config.trail_data_events,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("trail: {e}"))?;
        if !config.trail_exclude_event_sources.is_empty() {
            tracing::warn!(sources = ?config.trail_exclude_event_sources, "calls to these services are not recorded in the trail");
        }
        if !config.trail_data_events {
            tracing::warn!("data events (DynamoDB's item calls) are not recorded in the trail");
        }
        (trail, Some(task))
    } else {
        tracing::warn!("the trail is off: calls are not recorded");
        (m2sec_trail::Trail::disabled(), None)
    };
    // This run of this node, as the background jobs' leases and log lines name it.
    let node = format!(
        "node-{}",
        &m2sec_proto::random_uuid().replace('-', "")[..12]
    );
    tracing::info!(node = %node, "node id for background job leases");
    let kms = Arc::new(Kms::new(
        store.clone(),
        root.clone(),
        authorizer.clone(),
        Duration::from_millis(config.cache_ttl_ms),
        trail.clone(),
    ));
    let scheduler = tokio::spawn(m2sec_kms::scheduler::run(
        kms.clone(),
        Duration::from_secs(config.scheduler_interval_secs.max(1)),
        node.clone(),
    ));

    let mut json_services: HashMap<String, (String, Arc<dyn JsonService>)> = HashMap::new();
    let ssm = Arc::new(m2sec_ssm::Ssm::new(
        store.clone(),
        kms.clone(),
        authorizer.clone(),
    ));
    let cloudtrail = Arc::new(m2sec_trail::lookup::CloudTrail::new(
        store.clone(),
        authorizer.clone(),
        trail.clone(),
    ));
    // Woken by Route53 changes (and by reads of pending certificates when upstream DNS servers are
    // configured): ACM's job then validates at once instead of at its next tick.
    let acm_wake = Arc::new(tokio::sync::Notify::new());
    if !config.dns_upstream.is_empty() {
        tracing::info!(servers = ?config.dns_upstream, "ACM looks validation records up in the account's zones, then at these DNS servers");
    }
    let acm = Arc::new(
        m2sec_acm::service::Acm::new(
            store.clone(),
            root.clone(),
            authorizer.clone(),
            m2sec_acm::service::Settings {
                validity_days: config.acm_validity_days.max(1),
                renew_before_days: config.acm_renew_before_days,
                upstream: config.dns_upstream.clone(),
                node: node.clone(),
                ..Default::default()
            },
        )
        .wake_jobs_with(acm_wake.clone()),
    );
    let acm_jobs = tokio::spawn(run_acm_jobs(
        acm.clone(),
        store.clone(),
        Duration::from_secs(config.scheduler_interval_secs.max(1)),
        acm_wake.clone(),
        node.clone(),
    ));
    let dynamodb = Arc::new(m2sec_dynamodb::DynamoDb::new(
        store.clone(),
        kms.clone(),
        root.clone(),
        authorizer.clone(),
        m2sec_dynamodb::Settings {
            key_cache: Duration::from_secs(config.dynamodb_key_cache_secs),
            table_cache: Duration::from_millis(config.cache_ttl_ms),
        },
    ));
    let ttl_jobs = tokio::spawn(run_ttl_jobs(
        dynamodb.clone(),
        store.clone(),
        Duration::from_secs(config.scheduler_interval_secs.max(1)),
        node.clone(),
    ));
    for service in [
        kms as Arc<dyn JsonService>,
        ssm,
        cloudtrail,
        acm.clone(),
        dynamodb,
    ] {
        let meta = &service.model().metadata;
        let prefix = meta
            .target_prefix
            .clone()
            .expect("awsJson services have a target prefix");
        let signing = meta
            .signing_name
            .clone()
            .unwrap_or_else(|| meta.endpoint_prefix.clone());
        // Smithy-generated SDKs (JavaScript v3, Rust) send only the last segment of a dotted target
        // prefix (`CloudTrail_20131101`); botocore sends it whole. AWS accepts both.
        if let Some((_, short)) = prefix.rsplit_once('.') {
            json_services.insert(short.to_string(), (signing.clone(), service.clone()));
        }
        json_services.insert(prefix, (signing, service));
    }
    let cache_ttl = Duration::from_millis(config.cache_ttl_ms);
    let mut query_services: HashMap<String, Arc<dyn QueryService>> = HashMap::new();
    query_services.insert(
        "iam".into(),
        Arc::new(m2sec_iam::iam_api::Iam::new(
            store.clone(),
            root.clone(),
            authorizer.clone(),
            iam_generation.clone(),
        )),
    );
    query_services.insert(
        "sts".into(),
        Arc::new(m2sec_iam::sts::Sts::new(
            store.clone(),
            root.clone(),
            authorizer.clone(),
        )),
    );
    let zone_generation = Arc::new(m2sec_route53::store::Generation::default());
    let mut rest_services: HashMap<String, Arc<dyn QueryService>> = HashMap::new();
    rest_services.insert(
        "route53".into(),
        Arc::new(
            m2sec_route53::api::Route53::new(
                store.clone(),
                authorizer.clone(),
                zone_generation.clone(),
            )
            .notify_changes(acm_wake),
        ),
    );
    let apigateway = Arc::new(m2sec_apigateway::ApiGateway::new(
        store.clone(),
        authorizer.clone(),
        acm.clone(),
    ));
    rest_services.insert("apigateway".into(), apigateway.clone());
    let dns = start_dns(&config, store.clone(), zone_generation).await?;
    let state = Arc::new(http::AppState {
        auth: auth::Authenticator::new(store.clone(), root.clone(), cache_ttl, iam_generation),
        json_services,
        query_services,
        rest_services,
        body_limits: http::body::BodyLimits::new(
            config.max_body_bytes,
            Duration::from_secs(config.http_body_timeout_secs.max(1)),
            config.max_inflight_body_bytes,
        )
        .with_service_max("dynamodb", config.dynamodb_max_body_bytes),
        trail: trail.clone(),
        store: store.clone(),
        store_probe: http::StoreProbe::new(node.clone()),
        authorizer: authorizer.clone(),
    });
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let limits = connection_limits(&config, file_limit);
    // One signal stops both listeners; each drains on its own.
    let (stop, stop_requested) = tokio::sync::watch::channel(false);
    let access_log = Arc::new(
        m2sec_apigateway::runtime::access_log::AccessLog::open(&config.edge_access_log)
            .with_context(|| format!("edge_access_log: opening '{}'", config.edge_access_log))?,
    );
    let access_log_flusher = tokio::spawn(flush_access_log(access_log.clone()));
    // The deployed functions run as their roles through the same services HTTP clients call.
    let services = Arc::new(http::in_process::InProcess {
        state: state.clone(),
    });
    let gates = Arc::new(m2sec_gates::Gates::new(services.clone()));
    let functions = Arc::new(functions::FunctionRegistry::new(store.clone(), gates));
    let deploy_route = Arc::new(deploy::DeployRoute {
        services,
        functions: functions.clone(),
        store: store.clone(),
    });
    let runtime = Arc::new(
        m2sec_apigateway::runtime::Runtime::new(store.clone(), apigateway.changes())
            .with_functions(functions)
            .with_iam(Arc::new(gateway::IamInvoke {
                state: state.clone(),
            }))
            .with_access_log(access_log.clone())
            .with_upstream_roots(&acm.root_certificate_pem().await.unwrap_or_default()),
    );
    let sites = Arc::new(gateway::GatewaySites::new(runtime.clone(), acm.clone()));
    let edge = start_edge(
        &config,
        &limits,
        (sites, gateway::EdgeApp { runtime }),
        stopped(stop_requested),
    )
    .await?;
    tracing::info!(
        address = %listener.local_addr()?,
        max_connections = limits.max_connections,
        open_file_limit = file_limit,
        "m2sec listening"
    );
    let app = http::router(state)
        .route(
            "/_m2sec/ca.pem",
            axum::routing::get(move || root_certificate(acm.clone())),
        )
        .route(
            "/_m2sec/deploy",
            axum::routing::post(move |request| deploy::deploy(deploy_route.clone(), request)),
        );
    http::connections::serve(listener, app, limits, async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    })
    .await;
    if let Some(edge) = edge {
        let _ = edge.await;
    }
    access_log_flusher.abort();
    access_log.flush();
    scheduler.abort();
    acm_jobs.abort();
    ttl_jobs.abort();
    let _ = scheduler.await;
    let _ = acm_jobs.await;
    // Hand the jobs over: another node sharing the store takes them at its next tick.
    for lease in [ACM_LEASE, TTL_LEASE, m2sec_kms::scheduler::LEASE] {
        if let Err(e) = store.release_lease(lease, &node).await {
            tracing::warn!(lease, error = %e, "could not release the job lease; it lapses by itself");
        }
    }
    if let Some(task) = dns {
        task.abort();
    }
    // Commit what the trail still holds and sign a last digest; a store that takes no writes (a full
    // disk) does not hold the exit up.
    match tokio::time::timeout(Duration::from_secs(10), trail.flush()).await {
        Ok(Ok(())) => {}
        _ => tracing::error!(
            "the trail could not be flushed at shutdown; records of the last calls may be missing"
        ),
    }
    drop(trail);
    if let Some(task) = trail_writer {
        task.abort();
    }
    tracing::info!("m2sec stopped");
    Ok(())
}

/// Descriptors kept back from the HTTP connection cap: the store, the DNS server's sockets and
/// connections, log files, upstream lookups.
fn reserved_files(file_limit: u64) -> u64 {
    (file_limit / 4).max(64)
}

fn connection_limits(config: &Config, file_limit: u64) -> http::connections::ConnectionLimits {
    let allowed = file_limit
        .saturating_sub(reserved_files(file_limit))
        .max(16) as usize;
    if config.max_connections > allowed {
        tracing::info!(
            max_connections = config.max_connections,
            allowed,
            open_file_limit = file_limit,
            "max_connections lowered to what the open-file limit allows"
        );
    }
    http::connections::ConnectionLimits {
        header_timeout: Duration::from_secs(config.http_header_timeout_secs.max(1)),
        max_connections: config.max_connections.min(allowed).max(1),
        drain: Duration::from_secs_f64(config.shutdown_drain_secs.clamp(0.0, 3600.0)),
        max_header_bytes: 64 * 1024,
    }
}

/// The store lease of ACM's background work (see [`m2sec_store::lease`]).
const ACM_LEASE: &str = "acm.jobs";

/// ACM's background work (validation of pending certificates, managed renewal), every `interval` and
/// whenever `wake` is notified (a Route53 change), on the node of those sharing the store that holds
/// [`ACM_LEASE`].
/// The lease of DynamoDB's time-to-live sweeper.
const TTL_LEASE: &str = "dynamodb-ttl";

/// Removes expired DynamoDB items, on one node at a time.
async fn run_ttl_jobs(
    dynamodb: Arc<m2sec_dynamodb::DynamoDb>,
    store: Arc<dyn Store>,
    interval: Duration,
    node: String,
) {
    let job = m2sec_store::lease::LeasedJob {
        lease: TTL_LEASE,
        what: "DynamoDB's time-to-live sweeper",
        node: node.clone(),
        interval,
        wake: None,
    };
    m2sec_store::lease::run(store, job, || {
        let dynamodb = dynamodb.clone();
        async move {
            loop {
                match dynamodb.expire_items(500).await {
                    Ok(500) => continue,
                    Ok(0) => break,
                    Ok(n) => {
                        tracing::info!(removed = n, "DynamoDB items past their time to live removed");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "DynamoDB time-to-live sweep failed; will retry");
                        break;
                    }
                }
            }
        }
    })
    .await
}

async fn run_acm_jobs(
    acm: Arc<m2sec_acm::service::Acm>,
    store: Arc<dyn Store>,
    interval: Duration,
    wake: Arc<tokio::sync::Notify>,
    node: String,
) {
    let job = m2sec_store::lease::LeasedJob {
        lease: ACM_LEASE,
        what: "ACM's background jobs",
        node: node.clone(),
        interval,
        wake: Some(wake),
    };
    m2sec_store::lease::run(store, job, || {
        let (acm, node) = (acm.clone(), node.clone());
        async move {
        match acm.run_due_jobs().await {
            Ok(r) if r != Default::default() => tracing::info!(
                issued = r.issued,
                renewed = r.renewed,
                renewal_pending = r.renewal_pending,
                failed = r.failed,
                node = %node,
                "ACM scheduled jobs"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, node = %node, "ACM scheduled jobs failed; will retry")
            }
        }
        }
    })
    .await
}

/// The DNS server for the account's Route53 zones. The default address is taken if free (a second
/// m2sec on the same machine then runs without one, with a warning); an address that was configured
/// must be free.
async fn start_dns(
    config: &Config,
    store: Arc<dyn Store>,
    generation: Arc<m2sec_route53::store::Generation>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let (address, explicit) = match config.dns_listen.as_deref() {
        Some("off") => return Ok(None),
        Some(text) => (
            text.parse::<std::net::SocketAddr>()
                .with_context(|| format!("dns_listen: '{text}' is not an address (or 'off')"))?,
            true,
        ),
        None => (
            config::DEFAULT_DNS_LISTEN.parse().expect("valid default"),
            false,
        ),
    };
    let mut zones = m2sec_dns::StoreZones::new(
        store,
        &config.account_id,
        Duration::from_millis(config.cache_ttl_ms),
        generation,
    );
    if let Some(edge) = planned_edge_address(config) {
        zones = zones.with_extra_zones(gateway::edge_zones(edge));
    }
    let zones = Arc::new(zones);
    let limits = m2sec_dns::Limits {
        tcp_idle_timeout: Duration::from_secs(config.dns_tcp_idle_timeout_secs),
        ..Default::default()
    };
    match m2sec_dns::serve(address, zones, limits).await {
        Ok((bound, task)) => {
            tracing::info!(address = %bound, "DNS server answering for the account's Route53 zones");
            Ok(Some(task))
        }
        Err(e) if !explicit => {
            tracing::warn!(address = %address, error = %e, "DNS server not started (address in use); set dns_listen to choose another");
            Ok(None)
        }
        Err(e) => Err(anyhow::anyhow!("DNS server on {address}: {e}")),
    }
}

/// `GET /_m2sec/ca.pem`: m2sec's root certificate, for clients of the edge (`curl --cacert`, trust
/// stores, browsers). Public: it is what every client is meant to have.
async fn root_certificate(acm: Arc<m2sec_acm::service::Acm>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match acm.root_certificate_pem().await {
        Ok(pem) => ([("content-type", "application/x-pem-file")], pem).into_response(),
        Err(e) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, e.message).into_response(),
    }
}

/// The address DNS gives for the edge's names, as configured (the edge may still fail to take a
/// default address that is in use); None when the edge is off.
fn planned_edge_address(config: &Config) -> Option<std::net::IpAddr> {
    let address = match config.https_listen.as_deref() {
        Some("off") => return None,
        Some(text) => text.parse::<std::net::SocketAddr>().ok()?,
        None => config::DEFAULT_HTTPS_LISTEN.parse().ok()?,
    };
    Some(edge_address(config, address))
}

/// The HTTPS edge on `https_listen`. As for the DNS server, the default address is taken if free (a
/// second m2sec on the same machine runs without an edge, with a warning); an address that was
/// configured must be free.
async fn start_edge(
    config: &Config,
    limits: &http::connections::ConnectionLimits,
    (sites, app): (Arc<dyn edge::Sites>, gateway::EdgeApp),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let (address, explicit) = match config.https_listen.as_deref() {
        Some("off") => return Ok(None),
        Some(text) => (
            text.parse::<std::net::SocketAddr>()
                .with_context(|| format!("https_listen: '{text}' is not an address (or 'off')"))?,
            true,
        ),
        None => (
            config::DEFAULT_HTTPS_LISTEN.parse().expect("valid default"),
            false,
        ),
    };
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(e) if !explicit => {
            tracing::warn!(address = %address, error = %e, "HTTPS edge not started (address in use); set https_listen to choose another");
            return Ok(None);
        }
        Err(e) => return Err(anyhow::anyhow!("HTTPS edge on {address}: {e}")),
    };
    let bound = listener.local_addr()?;
    tracing::info!(
        address = %bound,
        edge_address = %edge_address(config, bound),
        "HTTPS edge listening"
    );
    let limits = edge::EdgeLimits::from_connection_limits(limits.clone());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = http::connections::ConnectionWorkers::start(threads, "m2sec-edge")
        .context("starting the edge's threads")?;
    Ok(Some(tokio::spawn(edge::serve(
        listener,
        sites,
        app,
        limits,
        Some(workers),
        shutdown,
    ))))
}

/// The address DNS gives for the edge's names: `edge_address`, else the edge's own (loopback when it
/// listens on every address, which no client can connect to as such).
fn edge_address(config: &Config, bound: std::net::SocketAddr) -> std::net::IpAddr {
    match (config.edge_address, bound.ip()) {
        (Some(ip), _) => ip,
        (None, std::net::IpAddr::V4(ip)) if ip.is_unspecified() => {
            std::net::Ipv4Addr::LOCALHOST.into()
        }
        (None, std::net::IpAddr::V6(ip)) if ip.is_unspecified() => {
            std::net::Ipv6Addr::LOCALHOST.into()
        }
        (None, ip) => ip,
    }
}

/// Writes the edge's pending access log lines every interval.
async fn flush_access_log(log: Arc<m2sec_apigateway::runtime::access_log::AccessLog>) {
    if log.is_off() {
        return;
    }
    let mut tick = tokio::time::interval(m2sec_apigateway::runtime::access_log::FLUSH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // A write to a slow stderr or disk must not hold up a worker thread.
        let log = log.clone();
        let _ = tokio::task::spawn_blocking(move || log.flush()).await;
    }
}

/// Resolves once a stop is requested (or whoever would request it is gone).
async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// The embedded database holds only wrapped secrets, but its metadata is nobody else's business either:
/// create it owner-only (SQLite gives its -wal and -shm files the database file's mode).
fn create_private_file(path: &std::path::Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
