//! `src/handlers/metrics.handler` (`GET /security/metrics`, admins and auditors): counts and decision
//! times per match and gate, from the audit table.
//!
//! ```json
//! {"ok": true, "matches": {"<match>": {"inside": 812, "gates": {"<gate>": {
//!     "scans": 930, "ok": 901, "reasons": {"already_redeemed": 21, "wrong_gate": 8},
//!     "p50_ms": 11.2, "p99_ms": 48.903}}}}}
//! ```
//!
//! The audit table is read whole with a paginated Scan filtered to `verify` and `annul` items.
//! `scans` counts every decided scan at the gate and `reasons` each result but `ok`; `p50_ms` and
//! `p99_ms` are nearest-rank percentiles of the decisions' `latencyMicros`, in milliseconds.
//! `inside` is the match's accepted entries less its accepted exits and annulled entries. Verify
//! items without a match or gate (bodies that could not be read) are left out.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::proxy::Response;
use crate::role::{AsRole, Item};
use crate::verify::{number, string, table, Failure};
use crate::{session, Function, Gates};

const FILTER: &str = "#kind = :verify OR #kind = :annul";

#[derive(Serialize)]
struct Metrics {
    ok: bool,
    matches: BTreeMap<String, MatchMetrics>,
}

#[derive(Default, Serialize)]
struct MatchMetrics {
    inside: i64,
    gates: BTreeMap<String, GateMetrics>,
}

#[derive(Default, Serialize)]
struct GateMetrics {
    scans: u64,
    ok: u64,
    reasons: BTreeMap<String, u64>,
    p50_ms: f64,
    p99_ms: f64,
    #[serde(skip)]
    latencies: Vec<i64>,
}

/// `GET /security/metrics`.
pub(crate) async fn metrics(gates: &Gates, function: &Function, event: &Value) -> Response {
    if let Err(refusal) = session::require(gates, function, event, &["admin", "auditor"]).await {
        return refusal;
    }
    let audit_table = match table(function, "AUDIT_TABLE") {
        Ok(table) => table,
        Err(refusal) => return refusal,
    };
    let as_role = AsRole::new(gates.services.as_ref(), function);
    match audit_items(&as_role, audit_table).await {
        Ok(items) => Response::json(200, &summarize(&items)),
        Err(failure) => failure.response(function),
    }
}

/// Every `verify` and `annul` item of the audit table, a page at a time.
async fn audit_items(as_role: &AsRole<'_>, table: &str) -> Result<Vec<Item>, Failure> {
    let mut items = Vec::new();
    let mut start: Option<Value> = None;
    loop {
        let mut input = json!({
            "TableName": table,
            "FilterExpression": FILTER,
            "ExpressionAttributeNames": {"#kind": "kind"},
            "ExpressionAttributeValues": {":verify": {"S": "verify"}, ":annul": {"S": "annul"}},
        });
        if let Some(key) = start.take() {
            input["ExclusiveStartKey"] = key;
        }
        let mut output = as_role
            .call("dynamodb", "Scan", input)
            .await
            .map_err(|e| Failure::new("cannot scan the audit table", e))?;
        if let Value::Array(page) = output["Items"].take() {
            items.extend(page.into_iter().filter_map(|item| match item {
                Value::Object(item) => Some(item),
                _ => None,
            }));
        }
        match output["LastEvaluatedKey"].take() {
            Value::Object(key) if !key.is_empty() => start = Some(Value::Object(key)),
            _ => return Ok(items),
        }
    }
}

fn summarize(items: &[Item]) -> Metrics {
    let mut matches: BTreeMap<String, MatchMetrics> = BTreeMap::new();
    for item in items {
        let (Some(kind), Some(match_id), Some(result)) = (
            string(item, "kind"),
            string(item, "matchId"),
            string(item, "result"),
        ) else {
            continue;
        };
        if kind == "annul" {
            if result == "ok" {
                matches.entry(match_id.into()).or_default().inside -= 1;
            }
            continue;
        }
        let Some(gate) = string(item, "gate") else {
            continue;
        };
        let counts = matches.entry(match_id.into()).or_default();
        if result == "ok" {
            match string(item, "direction") {
                Some("entry") => counts.inside += 1,
                Some("exit") => counts.inside -= 1,
                _ => {}
            }
        }
        let gate = counts.gates.entry(gate.into()).or_default();
        gate.scans += 1;
        if result == "ok" {
            gate.ok += 1;
        } else {
            *gate.reasons.entry(result.into()).or_default() += 1;
        }
        if let Some(micros) = number(item, "latencyMicros") {
            gate.latencies.push(micros);
        }
    }
    for gate in matches.values_mut().flat_map(|m| m.gates.values_mut()) {
        gate.latencies.sort_unstable();
        gate.p50_ms = percentile_ms(&gate.latencies, 50);
        gate.p99_ms = percentile_ms(&gate.latencies, 99);
    }
    Metrics { ok: true, matches }
}

/// The nearest-rank `p`th percentile of `sorted` microseconds, in milliseconds (0 if empty).
fn percentile_ms(sorted: &[i64], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1] as f64 / 1000.0
}

#[cfg(test)]
mod tests;
