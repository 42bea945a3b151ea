//! What the same usage would cost on AWS, from the store and the trail, at the list prices the guide
//! quotes: $1 per customer managed KMS key per month (prorated by the hour, as AWS bills), $0.03 per
//! 10,000 KMS requests, Parameter Store standard parameters and ACM public certificates free.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use m2sec_store::{Scope, Store};

use crate::lookup::{find, TrailFilter};
use serde::Serialize;

use crate::Result;

pub const KEY_MONTH_USD: f64 = 1.0;
pub const KMS_REQUESTS_USD_PER_10K: f64 = 0.03;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub account: String,
    /// `YYYY-MM-DD`, inclusive.
    pub since: String,
    /// `YYYY-MM-DD`, exclusive.
    pub until: String,
    pub months: Vec<Month>,
    pub total_usd: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    /// Customer managed keys, in key-months (a key that existed all month counts 1).
    pub kms_key_months: f64,
    /// Requests by service (`kms.amazonaws.com`) and operation.
    pub requests: BTreeMap<String, BTreeMap<String, i64>>,
    pub kms_requests: i64,
    pub keys_usd: f64,
    pub requests_usd: f64,
    pub total_usd: f64,
}

fn month_start(year: i32, month: u32) -> i64 {
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .map_or(0, |t| t.timestamp_millis())
}

fn next_month(year: i32, month: u32) -> (i32, u32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

fn round_cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

/// When each customer managed key of `account` existed, as (start, end) Unix milliseconds. Keys still
/// in the store run until `until`; keys deleted since are found by their `DeleteKey` records (and
/// start at their `CreateKey` record, or at `since` when the trail no longer has it).
async fn key_lifetimes(
    store: &dyn Store,
    account: &str,
    since: i64,
    until: i64,
) -> Result<Vec<(i64, i64)>> {
    let mut lifetimes = Vec::new();
    // A key still there is counted up to now, not to the end of the period.
    let until = until.min(crate::record::now_ms());
    let mut regions: Vec<String> = Vec::new();
    for key in store.all_keys().await? {
        if key.scope.account != account {
            continue;
        }
        if !regions.contains(&key.scope.region) {
            regions.push(key.scope.region.clone());
        }
        if key.key_manager == "CUSTOMER" {
            lifetimes.push((key.created_at, until));
        }
    }
    for count in store.trail_counts(account, since, until).await? {
        if !regions.contains(&count.region) {
            regions.push(count.region);
        }
    }
    for region in regions {
        let scope = Scope::new(account, region);
        let deletions = lookup_all(
            store,
            &scope,
            since,
            until,
            TrailFilter::EventName("DeleteKey".into()),
        )
        .await?;
        for (deleted_at, resources) in deletions {
            for arn in resources {
                let created =
                    lookup_all(store, &scope, 0, deleted_at, TrailFilter::ResourceName(arn))
                        .await?
                        .into_iter()
                        .map(|(t, _)| t)
                        .min()
                        .unwrap_or(since);
                lifetimes.push((created, deleted_at));
            }
        }
    }
    Ok(lifetimes)
}

/// (time, KMS key ARNs) of every record matching `filter` in `[start, end]`.
async fn lookup_all(
    store: &dyn Store,
    scope: &Scope,
    start: i64,
    end: i64,
    filter: TrailFilter,
) -> Result<Vec<(i64, Vec<String>)>> {
    Ok(
        find(store, scope, start, end, Some(&filter), None, usize::MAX)
            .await?
            .into_iter()
            .map(|(_, _, e)| {
                let keys = e
                    .resources
                    .into_iter()
                    .filter(|(t, _)| t == "AWS::KMS::Key")
                    .map(|(_, arn)| arn)
                    .collect();
                (e.event_time, keys)
            })
            .collect(),
    )
}

/// The report for `account` over whole months from `since` (inclusive) to `until` (exclusive).
pub async fn report(
    store: &dyn Store,
    account: &str,
    since: NaiveDate,
    until: NaiveDate,
) -> Result<Report> {
    let since_ms = since
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis());
    let until_ms = until
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis());
    let counts = store.trail_counts(account, since_ms, until_ms).await?;
    let lifetimes = key_lifetimes(store, account, since_ms, until_ms).await?;
    let mut months = Vec::new();
    let (mut year, mut month) = (since.year(), since.month());
    loop {
        let start = month_start(year, month).max(since_ms);
        if start >= until_ms {
            break;
        }
        let (ny, nm) = next_month(year, month);
        let full_end = month_start(ny, nm);
        let end = full_end.min(until_ms);
        let month_ms = (full_end - month_start(year, month)) as f64;
        let key_months: f64 = lifetimes
            .iter()
            .map(|(from, to)| ((*to).min(end) - (*from).max(start)).max(0) as f64 / month_ms)
            .sum();
        let mut requests: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for c in &counts {
            let t = c.day * 86_400_000;
            if t >= start && t < end {
                *requests
                    .entry(c.event_source.clone())
                    .or_default()
                    .entry(c.event_name.clone())
                    .or_default() += c.count;
            }
        }
        let kms_requests: i64 = requests
            .get("kms.amazonaws.com")
            .map_or(0, |ops| ops.values().sum());
        let keys_usd = round_cents(key_months * KEY_MONTH_USD);
        let requests_usd = round_cents(kms_requests as f64 / 10_000.0 * KMS_REQUESTS_USD_PER_10K);
        months.push(Month {
            month: format!("{year:04}-{month:02}"),
            kms_key_months: (key_months * 1000.0).round() / 1000.0,
            requests,
            kms_requests,
            keys_usd,
            requests_usd,
            total_usd: round_cents(keys_usd + requests_usd),
        });
        (year, month) = (ny, nm);
    }
    let total_usd = round_cents(months.iter().map(|m| m.total_usd).sum());
    Ok(Report {
        account: account.to_string(),
        since: since.to_string(),
        until: until.to_string(),
        months,
        total_usd,
    })
}

impl Report {
    /// The report as a table for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Usage of account {} from {} to {} at AWS list prices\n\
             (KMS: $1.00 per key-month, $0.03 per 10,000 requests; Parameter Store standard and ACM public certificates: free)\n\n",
            self.account, self.since, self.until
        );
        for m in &self.months {
            out.push_str(&format!(
                "{}  KMS keys {:.2} key-months ${:.2}  KMS requests {} ${:.2}  total ${:.2}\n",
                m.month, m.kms_key_months, m.keys_usd, m.kms_requests, m.requests_usd, m.total_usd
            ));
            for (service, ops) in &m.requests {
                let total: i64 = ops.values().sum();
                let detail: Vec<String> = ops.iter().map(|(op, n)| format!("{op} {n}")).collect();
                out.push_str(&format!("    {service}: {total} ({})\n", detail.join(", ")));
            }
        }
        out.push_str(&format!("\nTotal: ${:.2}\n", self.total_usd));
        out
    }
}
