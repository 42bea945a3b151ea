//! `src/handlers/verifyTicket.*`: a scan at a gate (`POST /tickets/verify`, stewards and admins),
//! and taking an entry back (`POST /tickets/annul`, see `verify/annul.rs`).
//!
//! A scan is decided in this order, the first that applies giving the answer:
//!
//! 1. the device already sent this nonce → the answer it got then, byte for byte (a retry must not
//!    turn an entry into `already_redeemed`);
//! 2. `invalid` (not a code, not signed by the tickets' key, or no such ticket), `revoked`,
//!    `blocked`, `invalid_time` (`scanned_at` outside the ticket's validity), `wrong_match`,
//!    `wrong_gate`, `fan_id_mismatch` (a fan id given that is not the ticket's);
//! 3. an entry marks the ticket PRESENT with a conditional update: refused as `already_redeemed`
//!    (with the first scan) if it is PRESENT, or has entered before and its match does not allow
//!    re-entry. An exit marks a PRESENT ticket ABSENT, else `not_inside`. The condition decides,
//!    not the read before it: of two gates scanning one ticket at once, exactly one lets it in. (A
//!    ticket the read already shows refusing the update is refused from the read, with no update
//!    tried.)
//!
//! The ticket's update, the scans item (the answer, under `<device>#<nonce>`) and an audit item are
//! one DynamoDB transaction, committed before the answer is sent: an answer a steward saw is never
//! lost, and a ticket never changes without its scan and audit. A body that cannot be read is answered
//! 400 and audited as `bad_request`; a failed DynamoDB or KMS call is a 500, logged with its code.

mod annul;
mod match_cache;

use std::time::Instant;

use m2sec_proto::{random_uuid, AwsError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::code::{self, CodeError, TicketClaims};
use crate::proxy::{Event, Response};
use crate::role::{object, AsRole, Item};
use crate::{session, Function, Gates};

pub(crate) use annul::annul;
pub use match_cache::MatchCache;

/// How long the scans item of a decision is kept (its `expiresAt`, for the table's TTL).
const SCAN_RETENTION_SECS: i64 = 2 * 24 * 3600;
/// Codes are a few hundred characters; anything much longer is not one.
const MAX_CODE_CHARS: usize = 4096;
/// The longest match id, gate, device, nonce or fan id accepted.
const MAX_FIELD_CHARS: usize = 128;
/// Numbers of `scanned_at` at least this large are milliseconds, smaller ones seconds (10^11 s is
/// in the year 5138).
const MILLIS_FROM: f64 = 1e11;

const CONDITIONAL_CHECK_FAILED: &str = "ConditionalCheckFailedException";
const TRANSACTION_CANCELED: &str = "TransactionCanceledException";

/// Not PRESENT, and active: an entry where re-entry is allowed.
const ENTER_AGAIN: &str =
    "(attribute_not_exists(#state) OR #state <> :present) AND #status = :active";
/// …and never entered: an entry where it is not.
const ENTER_ONCE: &str =
    "(attribute_not_exists(#state) OR #state <> :present) AND #status = :active \
     AND (attribute_not_exists(#entries) OR #entries = :zero)";
const ENTER: &str = "SET #state = :present, #entries = if_not_exists(#entries, :zero) + :one, \
     #lastScan = :scan, #firstScan = if_not_exists(#firstScan, :first)";
const EXIT_CONDITION: &str = "#state = :present";
const EXIT: &str = "SET #state = :absent, #lastScan = :scan";

/// `POST /tickets/verify`.
pub(crate) async fn verify(gates: &Gates, function: &Function, event: &Value) -> Response {
    let started = Instant::now();
    let caller = match session::require(gates, function, event, &["steward", "admin"]).await {
        Ok(claims) => claims,
        Err(refusal) => return refusal,
    };
    let tables = match Tables::of(function) {
        Ok(tables) => tables,
        Err(refusal) => return refusal,
    };
    let as_role = AsRole::new(gates.services.as_ref(), function);
    let scan = match read_scan(event) {
        Ok(scan) => scan,
        Err(message) => {
            let mut item = audit_item("verify", &caller.sub, now_millis());
            item.insert("result".into(), json!({"S": "bad_request"}));
            item.insert("latencyMicros".into(), micros_since(started));
            if let Err(e) = as_role.put_item(tables.audit, item, None).await {
                return Failure::new("cannot write the audit item of a bad scan request", e)
                    .response(function);
            }
            return Response::refusal(400, message);
        }
    };
    match answer(
        gates,
        &as_role,
        function,
        &tables,
        &caller.sub,
        &scan,
        started,
    )
    .await
    {
        Ok(body) => Response {
            status: 200,
            headers: vec![("Content-Type", "application/json".to_string())],
            body,
            is_base64_encoded: false,
        },
        Err(failure) => failure.response(function),
    }
}

/// The tables a handler of this file uses, from the function's environment.
pub(crate) struct Tables<'f> {
    pub tickets: &'f str,
    pub scans: &'f str,
    pub audit: &'f str,
    pub matches: &'f str,
}

impl<'f> Tables<'f> {
    fn of(function: &'f Function) -> Result<Self, Response> {
        Ok(Tables {
            tickets: table(function, "TICKETS_TABLE")?,
            scans: table(function, "SCANS_TABLE")?,
            audit: table(function, "AUDIT_TABLE")?,
            matches: table(function, "MATCHES_TABLE")?,
        })
    }
}

/// The table the environment variable `variable` names; a 500 (logged) if it is not set.
pub(crate) fn table<'f>(function: &'f Function, variable: &str) -> Result<&'f str, Response> {
    function
        .environment
        .get(variable)
        .map(String::as_str)
        .ok_or_else(|| {
            tracing::error!(function = %function.name, variable, "the table is not configured");
            Response::refusal(500, "Internal error")
        })
}

/// A service call that failed: what was being done, and the error, for the log; a 500 for the
/// client.
pub(crate) struct Failure {
    doing: &'static str,
    error: AwsError,
}

impl Failure {
    pub(crate) fn new(doing: &'static str, error: AwsError) -> Self {
        Failure { doing, error }
    }

    pub(crate) fn response(self, function: &Function) -> Response {
        tracing::error!(function = %function.name, code = %self.error.code,
            message = %self.error.message, "{}", self.doing);
        Response::refusal(500, "Internal error")
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Direction {
    Entry,
    Exit,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Entry => "entry",
            Direction::Exit => "exit",
        }
    }
}

/// The body of `POST /tickets/verify`.
#[derive(Deserialize)]
struct ScanRequest {
    code: String,
    match_id: String,
    gate: String,
    device: String,
    direction: Direction,
    scanned_at: Value,
    nonce: String,
    #[serde(default)]
    fan_id: Option<String>,
}

/// A scan to decide.
struct Scan {
    code: String,
    match_id: String,
    gate: String,
    device: String,
    direction: Direction,
    scanned_at_ms: i64,
    nonce: String,
    fan_id: Option<String>,
}

impl Scan {
    /// The scans item's key: a nonce is unique per device.
    fn id(&self) -> String {
        format!("{}#{}", self.device, self.nonce)
    }
}

fn read_scan(event: &Value) -> Result<Scan, &'static str> {
    const SHAPE: &str = "The body must be a JSON object with string members code, match_id, gate, \
        device, nonce, direction (entry or exit), scanned_at (a number or RFC 3339 text) and \
        optionally fan_id";
    let body = Event(event).body().map_err(|_| SHAPE)?;
    let request: ScanRequest = serde_json::from_str(&body).map_err(|_| SHAPE)?;
    if request.code.is_empty() || request.code.chars().count() > MAX_CODE_CHARS {
        return Err("code must be a ticket code");
    }
    let fields = [
        &request.match_id,
        &request.gate,
        &request.device,
        &request.nonce,
    ];
    if fields
        .into_iter()
        .chain(request.fan_id.as_ref())
        .any(|f| f.is_empty() || f.chars().count() > MAX_FIELD_CHARS)
    {
        return Err("match_id, gate, device, nonce and fan_id must be 1 to 128 characters");
    }
    // `<device>#<nonce>` must name one pair only.
    if request.device.contains('#') {
        return Err("device must not contain #");
    }
    let scanned_at_ms = scanned_at_millis(&request.scanned_at)
        .ok_or("scanned_at must be epoch seconds or milliseconds, or an RFC 3339 time")?;
    Ok(Scan {
        code: request.code,
        match_id: request.match_id,
        gate: request.gate,
        device: request.device,
        direction: request.direction,
        scanned_at_ms,
        nonce: request.nonce,
        fan_id: request.fan_id,
    })
}

fn scanned_at_millis(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => {
            let n = n.as_f64().filter(|n| n.is_finite() && *n >= 0.0)?;
            let millis = if n >= MILLIS_FROM { n } else { n * 1000.0 };
            // An f64 this small converts exactly enough; larger is no time of ours.
            (millis < 1e15).then_some(millis as i64)
        }
        Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp_millis()),
        _ => None,
    }
}

/// The body of a verify answer.
#[derive(Serialize)]
struct Answer {
    ok: bool,
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_scan: Option<FirstScan>,
}

#[derive(Serialize)]
struct FirstScan {
    at: i64,
    gate: String,
}

impl Answer {
    fn ok(ticket_id: &str) -> Self {
        Answer {
            ok: true,
            result: "ok",
            ticket_id: Some(ticket_id.to_string()),
            first_scan: None,
        }
    }

    fn refused(result: &'static str, ticket_id: Option<&str>) -> Self {
        Answer {
            ok: false,
            result,
            ticket_id: ticket_id.map(String::from),
            first_scan: None,
        }
    }
}

/// The answer to `scan`, decided (and recorded) now or stored by an earlier request.
///
/// Two DynamoDB calls in the common case: one `TransactGetItems` reads the scans item (an earlier
/// answer) and the ticket together, one `TransactWriteItems` writes the ticket's change, the
/// scans item and the audit item all or nothing. The code's signature is checked in-process
/// against the key's public key (see `code.rs`).
async fn answer(
    gates: &Gates,
    as_role: &AsRole<'_>,
    function: &Function,
    tables: &Tables<'_>,
    by: &str,
    scan: &Scan,
    started: Instant,
) -> Result<String, Failure> {
    let scan_id = scan.id();
    let claims = match code::check(gates, as_role, function, &scan.code).await {
        Ok(claims) => Some(claims),
        Err(CodeError::Invalid) => None,
        Err(CodeError::Unavailable(e)) => {
            return Err(Failure::new("cannot check a ticket code with KMS", e))
        }
    };
    let ticket_id = claims.as_ref().map(|c| c.ticket_id.as_str());
    let (stored, ticket) = read(as_role, tables, &scan_id, ticket_id).await?;
    if let Some(stored) = stored {
        return Ok(stored);
    }
    // One time for the decision: the ticket's last scan, the scans item and the audit item agree.
    let at = now_millis();
    let decision = decide(
        gates,
        as_role,
        tables,
        by,
        scan,
        claims.as_ref(),
        ticket,
        at,
    )
    .await?;
    record(as_role, tables, by, scan, decision, at, started).await
}

/// The answer stored for `scan_id` (if it was decided before) and the ticket `ticket_id` (if
/// given and it exists), read together.
async fn read(
    as_role: &AsRole<'_>,
    tables: &Tables<'_>,
    scan_id: &str,
    ticket_id: Option<&str>,
) -> Result<(Option<String>, Option<Item>), Failure> {
    let mut gets =
        vec![json!({"Get": {"TableName": tables.scans, "Key": {"scanId": {"S": scan_id}}}})];
    if let Some(ticket_id) = ticket_id {
        gets.push(
            json!({"Get": {"TableName": tables.tickets, "Key": {"ticketId": {"S": ticket_id}}}}),
        );
    }
    let mut output = as_role
        .call(
            "dynamodb",
            "TransactGetItems",
            object([("TransactItems", Value::Array(gets))]),
        )
        .await
        .map_err(|e| Failure::new("cannot read the scans and tickets tables", e))?;
    let mut item = |i: usize| match output["Responses"][i]["Item"].take() {
        Value::Object(item) => Some(item),
        _ => None,
    };
    let stored = item(0).and_then(|i| string(&i, "answer").map(String::from));
    let ticket = ticket_id.and_then(|_| item(1));
    Ok((stored, ticket))
}

/// The answer stored for `scan_id`, if it was decided before.
async fn stored_answer(
    as_role: &AsRole<'_>,
    tables: &Tables<'_>,
    scan_id: &str,
) -> Result<Option<String>, Failure> {
    Ok(read(as_role, tables, scan_id, None).await?.0)
}

/// What a scan comes to before it is written: the answer, and the ticket's conditional update
/// that must succeed for it to stand.
struct Decision {
    answer: Answer,
    update: Option<Value>,
}

impl Decision {
    fn refused(answer: Answer) -> Self {
        Decision {
            answer,
            update: None,
        }
    }
}

async fn decide(
    gates: &Gates,
    as_role: &AsRole<'_>,
    tables: &Tables<'_>,
    by: &str,
    scan: &Scan,
    claims: Option<&TicketClaims>,
    ticket: Option<Item>,
    at: i64,
) -> Result<Decision, Failure> {
    let (Some(claims), Some(ticket)) = (claims, ticket) else {
        return Ok(Decision::refused(Answer::refused("invalid", None)));
    };
    let ticket_id = claims.ticket_id.as_str();
    if let Some(reason) = refusal(&ticket, claims, scan) {
        let ticket_id = (reason != "invalid").then_some(ticket_id);
        return Ok(Decision::refused(Answer::refused(reason, ticket_id)));
    }
    let match_id = string(&ticket, "matchId").unwrap_or(&claims.match_id);
    let reentry = match scan.direction {
        Direction::Entry => gates
            .matches
            .reentry(as_role, tables.matches, match_id)
            .await
            .map_err(|e| Failure::new("cannot read the matches table", e))?,
        Direction::Exit => false,
    };
    if !update_may_hold(&ticket, scan, reentry) {
        // Refused by the ticket as read: no update to try. (A scan that changed the ticket since
        // came after this one's read, which is where this answer stands.)
        return Ok(Decision::refused(refused_by_condition(
            Some(&ticket),
            ticket_id,
            scan,
        )));
    }
    Ok(Decision {
        answer: Answer::ok(ticket_id),
        update: Some(ticket_update(tables, ticket_id, by, scan, at, reentry)),
    })
}

/// Whether the ticket's conditional update (`ENTER_ONCE`, `ENTER_AGAIN` or `EXIT_CONDITION`)
/// holds for `ticket` as read; its status was checked before.
fn update_may_hold(ticket: &Item, scan: &Scan, reentry: bool) -> bool {
    let present = string(ticket, "state") == Some("PRESENT");
    match scan.direction {
        Direction::Entry => !present && (reentry || number(ticket, "entries").unwrap_or(0) == 0),
        Direction::Exit => present,
    }
}

/// Writes `decision`: the ticket's update (if any), the scans item and the audit item, in one
/// transaction. When the ticket's condition refuses the update, the answer becomes the refusal
/// and that is written instead; when the scans item is already there, the same request, retried
/// while this one was deciding, recorded its answer first: the ticket was written at most once,
/// and that answer stands.
async fn record(
    as_role: &AsRole<'_>,
    tables: &Tables<'_>,
    by: &str,
    scan: &Scan,
    mut decision: Decision,
    at: i64,
    started: Instant,
) -> Result<String, Failure> {
    let scan_id = scan.id();
    loop {
        let body = serde_json::to_string(&decision.answer).expect("answers serialize");
        let scan_item = scan_item(&scan_id, &body, by, scan, &decision.answer, at);
        let audit = scan_audit_item(by, scan, &decision.answer, at, started);
        let updates = decision.update.take();
        let has_update = updates.is_some();
        let mut writes: Vec<Value> = updates
            .map(|u| object([("Update", u)]))
            .into_iter()
            .collect();
        writes.push(object([(
            "Put",
            object([
                ("TableName", tables.scans.into()),
                ("Item", scan_item),
                ("ConditionExpression", "attribute_not_exists(scanId)".into()),
            ]),
        )]));
        writes.push(object([(
            "Put",
            object([
                ("TableName", tables.audit.into()),
                ("Item", Value::Object(audit)),
            ]),
        )]));
        let written = as_role
            .call(
                "dynamodb",
                "TransactWriteItems",
                object([("TransactItems", Value::Array(writes))]),
            )
            .await;
        let e = match written {
            Ok(_) => return Ok(body),
            Err(e) if e.code == TRANSACTION_CANCELED => e,
            Err(e) => return Err(Failure::new("cannot write the scan", e)),
        };
        let reasons = e
            .fields
            .get("CancellationReasons")
            .and_then(Value::as_array);
        let failed = |i: usize| {
            reasons
                .and_then(|r| r.get(i))
                .is_some_and(|r| r["Code"] == "ConditionalCheckFailed")
        };
        let scan_at = usize::from(has_update);
        if failed(scan_at) {
            return stored_answer(as_role, tables, &scan_id)
                .await?
                .ok_or_else(|| Failure::new("the scans item that was in the way is gone", e));
        }
        if !has_update || !failed(0) {
            return Err(Failure::new("cannot write the scan", e));
        }
        let old = reasons
            .and_then(|r| r[0].get("Item"))
            .and_then(Value::as_object);
        let ticket_id = decision.answer.ticket_id.clone().unwrap_or_default();
        decision = Decision::refused(refused_by_condition(old, &ticket_id, scan));
    }
}

/// The scans item of an answer: kept under `<device>#<nonce>` so that a retry gets it back.
fn scan_item(scan_id: &str, body: &str, by: &str, scan: &Scan, answer: &Answer, at: i64) -> Value {
    let mut item = json!({
        "scanId": {"S": scan_id},
        "answer": {"S": body},
        "by": {"S": by},
        "result": {"S": answer.result},
        "direction": {"S": scan.direction.as_str()},
        "gate": {"S": scan.gate},
        "matchId": {"S": scan.match_id},
        "at": {"N": at.to_string()},
        "expiresAt": {"N": (at / 1000 + SCAN_RETENTION_SECS).to_string()},
    });
    if let Some(ticket_id) = &answer.ticket_id {
        item["ticketId"] = json!({"S": ticket_id});
    }
    item
}

/// The audit item of a decision.
fn scan_audit_item(by: &str, scan: &Scan, answer: &Answer, at: i64, started: Instant) -> Item {
    let mut audit = audit_item("verify", by, at);
    for (name, value) in [
        ("matchId", &scan.match_id),
        ("gate", &scan.gate),
        ("device", &scan.device),
        ("nonce", &scan.nonce),
    ] {
        audit.insert(name.into(), json!({"S": value}));
    }
    audit.insert("direction".into(), json!({"S": scan.direction.as_str()}));
    audit.insert("result".into(), json!({"S": answer.result}));
    if let Some(ticket_id) = &answer.ticket_id {
        audit.insert("ticketId".into(), json!({"S": ticket_id}));
    }
    audit.insert("latencyMicros".into(), micros_since(started));
    audit
}

/// The first reason, after `invalid` code, to refuse `scan` of `ticket` before trying to write it.
fn refusal(ticket: &Item, claims: &TicketClaims, scan: &Scan) -> Option<&'static str> {
    // The ticket as stored; what the code says where an attribute is missing.
    let valid_from = number(ticket, "validFrom").unwrap_or(claims.valid_from);
    let valid_until = number(ticket, "validUntil").unwrap_or(claims.valid_until);
    let match_id = string(ticket, "matchId").unwrap_or(&claims.match_id);
    let ticket_gates = strings(ticket, "gates").unwrap_or_else(|| claims.gates.clone());
    let fan_hash = string(ticket, "fanHash").or(claims.fan_hash.as_deref());
    match string(ticket, "status") {
        Some("active") => None,
        Some("revoked") => Some("revoked"),
        Some("blocked") => Some("blocked"),
        _ => Some("invalid"),
    }
    .or_else(|| {
        let valid = valid_from.saturating_mul(1000)..=valid_until.saturating_mul(1000);
        (!valid.contains(&scan.scanned_at_ms)).then_some("invalid_time")
    })
    .or_else(|| (match_id != scan.match_id).then_some("wrong_match"))
    .or_else(|| (!ticket_gates.contains(&scan.gate)).then_some("wrong_gate"))
    .or_else(|| {
        // A ticket bound to a fan is accepted without a fan id; one bound to none, with any.
        let (fan_id, expected) = (scan.fan_id.as_deref()?, fan_hash?);
        (code::fan_hash(&claims.ticket_id, fan_id) != expected).then_some("fan_id_mismatch")
    })
}

/// The conditional UpdateItem of the ticket that records `scan`.
fn ticket_update(
    tables: &Tables<'_>,
    ticket_id: &str,
    by: &str,
    scan: &Scan,
    at: i64,
    reentry: bool,
) -> Value {
    let last_scan = json!({"M": {
        "at": {"N": at.to_string()},
        "gate": {"S": scan.gate},
        "device": {"S": scan.device},
        "nonce": {"S": scan.nonce},
        "by": {"S": by},
        "direction": {"S": scan.direction.as_str()},
    }});
    let mut input = json!({
        "TableName": tables.tickets,
        "Key": {"ticketId": {"S": ticket_id}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    });
    match scan.direction {
        Direction::Entry => {
            input["ConditionExpression"] = json!(if reentry { ENTER_AGAIN } else { ENTER_ONCE });
            input["UpdateExpression"] = json!(ENTER);
            input["ExpressionAttributeNames"] = json!({"#state": "state", "#status": "status",
                "#entries": "entries", "#lastScan": "lastScan", "#firstScan": "firstScan"});
            let mut values = json!({
                ":present": {"S": "PRESENT"},
                ":active": {"S": "active"},
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
                ":first": {"M": {
                    "at": {"N": at.to_string()},
                    "gate": {"S": scan.gate},
                    "device": {"S": scan.device},
                }},
            });
            values[":scan"] = last_scan;
            input["ExpressionAttributeValues"] = values;
        }
        Direction::Exit => {
            input["ConditionExpression"] = json!(EXIT_CONDITION);
            input["UpdateExpression"] = json!(EXIT);
            input["ExpressionAttributeNames"] = json!({"#state": "state", "#lastScan": "lastScan"});
            let mut values = json!({
                ":present": {"S": "PRESENT"},
                ":absent": {"S": "ABSENT"},
            });
            values[":scan"] = last_scan;
            input["ExpressionAttributeValues"] = values;
        }
    }
    input
}

/// Why the ticket's conditional update was refused, from the ticket as it was then (`old`).
fn refused_by_condition(old: Option<&Item>, ticket_id: &str, scan: &Scan) -> Answer {
    let Some(old) = old else {
        // Deleted since it was read.
        return Answer::refused("invalid", None);
    };
    // This very scan, sent again after its first attempt changed the ticket but failed before
    // recording its answer.
    let last = old.get("lastScan").and_then(|s| s.get("M"));
    let last_is = |name: &str, expected: &str| {
        last.and_then(|m| m.get(name)?.get("S")?.as_str()) == Some(expected)
    };
    if last_is("device", &scan.device)
        && last_is("nonce", &scan.nonce)
        && last_is("direction", scan.direction.as_str())
    {
        return Answer::ok(ticket_id);
    }
    if scan.direction == Direction::Exit {
        return Answer::refused("not_inside", Some(ticket_id));
    }
    match string(old, "status") {
        Some("revoked") => Answer::refused("revoked", Some(ticket_id)),
        Some("blocked") => Answer::refused("blocked", Some(ticket_id)),
        Some("active") => {
            let first = old.get("firstScan").and_then(|s| s.get("M"));
            let first_scan = first.and_then(|m| {
                Some(FirstScan {
                    at: m.get("at")?.get("N")?.as_str()?.parse().ok()?,
                    gate: m.get("gate")?.get("S")?.as_str()?.to_string(),
                })
            });
            Answer {
                first_scan,
                ..Answer::refused("already_redeemed", Some(ticket_id))
            }
        }
        _ => Answer::refused("invalid", None),
    }
}

/// An audit item of `kind` by `by` at `at`, to which the kind's attributes are added.
pub(crate) fn audit_item(kind: &str, by: &str, at: i64) -> Item {
    let item = json!({
        "auditId": {"S": random_uuid()},
        "kind": {"S": kind},
        "at": {"N": at.to_string()},
        "by": {"S": by},
    });
    let Value::Object(item) = item else {
        unreachable!("an object literal")
    };
    item
}

fn micros_since(started: Instant) -> Value {
    json!({"N": started.elapsed().as_micros().to_string()})
}

pub(crate) fn now_millis() -> i64 {
    i64::try_from(crate::now_millis()).unwrap_or(i64::MAX)
}

/// A string attribute of an item.
pub(crate) fn string<'i>(item: &'i Item, name: &str) -> Option<&'i str> {
    item.get(name)?.get("S")?.as_str()
}

/// A number attribute of an item, if it is an integer.
pub(crate) fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.get("N")?.as_str()?.parse().ok()
}

/// A list-of-strings attribute of an item.
fn strings(item: &Item, name: &str) -> Option<Vec<String>> {
    let list = item.get(name)?.get("L")?.as_array()?;
    list.iter()
        .map(|v| v.get("S")?.as_str().map(String::from))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
