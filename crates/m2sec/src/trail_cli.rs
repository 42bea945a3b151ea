//! `m2sec trail verify`, `m2sec trail export` and `m2sec usage`: offline commands over a data dir (or a
//! store URL), run beside a live server or without one.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use m2sec_store::{SqlStore, Store};

use crate::config::{Config, Overrides};

#[derive(Args)]
pub struct StoreArgs {
    /// TOML configuration file (also M2SEC_CONFIG).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory [default: ./m2sec-data] (also M2SEC_DATA_DIR).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Store URL [default: SQLite in the data dir] (also M2SEC_STORE).
    #[arg(long)]
    store: Option<String>,
    /// File with the root key's passphrase, for a sealed root key (also M2SEC_UNSEAL_PASSPHRASE_FILE).
    #[arg(long)]
    unseal_passphrase_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum TrailCommand {
    /// Prove the trail was not altered, or name the first altered, removed or inserted record.
    Verify(StoreArgs),
    /// Write the trail's records as JSON lines (oldest first) to standard output.
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// First day to include (YYYY-MM-DD, UTC).
        #[arg(long)]
        since: Option<String>,
        /// First day not to include (YYYY-MM-DD, UTC).
        #[arg(long)]
        until: Option<String>,
    },
}

#[derive(Args)]
pub struct UsageArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Account [default: the configured account id].
    #[arg(long)]
    account_id: Option<String>,
    /// First day (YYYY-MM-DD) [default: the first of this month].
    #[arg(long)]
    since: Option<String>,
    /// First day not included (YYYY-MM-DD) [default: tomorrow].
    #[arg(long)]
    until: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn load(args: StoreArgs) -> anyhow::Result<Config> {
    let config = Config::load(
        args.config,
        Overrides {
            data_dir: args.data_dir,
            store: args.store,
            unseal_passphrase_file: args.unseal_passphrase_file,
            ..Overrides::default()
        },
    )
    .context("configuration")?;
    if config.store.is_none() && !config.data_dir.join("m2sec.db").exists() {
        bail!(
            "no m2sec data in {} (give --data-dir or --store)",
            config.data_dir.display()
        );
    }
    Ok(config)
}

async fn open(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    Ok(Arc::new(
        SqlStore::connect(&config.store_url())
            .await
            .map_err(|e| anyhow::anyhow!("store: {e}"))?,
    ))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn day_ms(day: Option<&str>, default: i64) -> anyhow::Result<i64> {
    match day {
        None => Ok(default),
        Some(d) => Ok(chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .with_context(|| format!("'{d}' is not a date (YYYY-MM-DD)"))?
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp_millis())),
    }
}

pub fn run_trail(action: TrailCommand) -> anyhow::Result<()> {
    match action {
        TrailCommand::Verify(args) => {
            let config = load(args)?;
            runtime()?.block_on(verify(config))
        }
        TrailCommand::Export {
            store,
            since,
            until,
        } => {
            let config = load(store)?;
            let since = day_ms(since.as_deref(), i64::MIN)?;
            let until = day_ms(until.as_deref(), i64::MAX)?;
            runtime()?.block_on(export(config, since, until))
        }
    }
}

async fn verify(config: Config) -> anyhow::Result<()> {
    let store = open(&config).await?;
    let passphrase = crate::passphrase(&config)?;
    let Some((root, _)) = m2sec_crypto::RootKey::open(&config.data_dir, passphrase.as_ref())
        .map_err(|e| anyhow::anyhow!("root key: {e}"))?
    else {
        bail!("no root key in {}", config.data_dir.display());
    };
    // The public key the digests are checked with must be the sealed signing key's own.
    let public_key = match m2sec_trail::signer::Signer::open(store.as_ref(), &root).await {
        Ok(signer) => signer.public_key().to_vec(),
        Err(e) => {
            if store.trail_head().await?.seq == 0 {
                println!("trail verified: no records yet");
                return Ok(());
            }
            bail!("trail verification FAILED: {e}");
        }
    };
    let report = m2sec_trail::chain::verify(store.as_ref(), &public_key)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(problem) = &report.problem {
        eprintln!("trail verification FAILED at {problem}");
        std::process::exit(1);
    }
    match (report.first_seq, report.last_seq) {
        (Some(first), Some(last)) => println!(
            "trail verified: {} records ({first} to {last}), {} signed digests; {} newest records not yet covered by a digest",
            report.records, report.digests, report.uncovered
        ),
        _ => println!("trail verified: no records ({} signed digests)", report.digests),
    }
    Ok(())
}

async fn export(config: Config, since: i64, until: i64) -> anyhow::Result<()> {
    let store = open(&config).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut after = 0;
    loop {
        let rows = store.trail_scan(after, 2000).await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.seq;
        for row in rows
            .iter()
            .filter(|r| r.event.event_time >= since && r.event.event_time < until)
        {
            writeln!(out, "{}", row.event.body)?;
        }
    }
    out.flush()?;
    Ok(())
}

pub fn run_usage(args: UsageArgs) -> anyhow::Result<()> {
    let config = load(args.store)?;
    let account = args.account_id.unwrap_or_else(|| config.account_id.clone());
    let (since, until) = crate::usage_route::period(args.since.as_deref(), args.until.as_deref())
        .map_err(|e| anyhow::anyhow!(e))?;
    runtime()?.block_on(async {
        let store = open(&config).await?;
        let report = m2sec_trail::usage::report(store.as_ref(), &account, since, until)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", report.to_text());
        }
        Ok(())
    })
}
