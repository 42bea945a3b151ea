//! `src/handlers/tickets.*`: issue tickets (one, or a CSV), their QR images, revoke, block, unblock.
//! Every route is for admins (no token → 401, another role → 403).
//!
//! - `POST /tickets {match_id, sector, seat, fan_id?, valid_from?, valid_until?}` →
//!   `201 {"ok": true, ticket_id, code}`: the match must exist (else 404) and have the sector (else
//!   400); the ticket's gates are its sector's, copied. Times are epoch seconds or RFC 3339 strings;
//!   by default the ticket is valid from four hours before kickoff to six hours after.
//! - `POST /tickets/bulk` (`bulk.rs`): the same for each row of a CSV, all or nothing.
//! - `GET /tickets/{ticket_id}/qr.svg`, `/qr.png` (`qr.rs`): the ticket's code as a QR image.
//! - `POST /tickets/{ticket_id}/revoke`, `/block {reason}`, `/unblock` →
//!   `200 {"ok": true, ticket_id, status}`; 404 for no such ticket; revoking is final, so blocking
//!   or unblocking a revoked ticket is 409.
//!
//! A code is signed before its ticket is written, so a KMS failure leaves nothing behind. The code
//! itself is not stored: the QR routes sign the ticket's claims anew. A fan id is kept only as
//! [`code::fan_hash`]; no audit item holds a fan id or a code.

mod bulk;
mod qr;

use serde::Serialize;
use serde_json::{json, Value};

use crate::code::{self, TicketClaims};
use crate::matches::{Match, MAX_MATCH_ID_CHARS, MAX_SECTOR_CHARS};
use crate::proxy::{text, Event, Fields, Response};
use crate::role::{item, string_attribute, AsRole, Item, Update};
use crate::{now_millis, session, Function, Gates};

pub(crate) use bulk::bulk;
pub(crate) use qr::qr;

const MAX_SEAT_CHARS: usize = 64;
const MAX_FAN_ID_CHARS: usize = 256;
const MAX_REASON_CHARS: usize = 512;
pub(crate) const MAX_TICKET_ID_CHARS: usize = 64;
/// Default validity around kickoff.
const OPENS_BEFORE_KICKOFF_SECS: i64 = 4 * 3600;
const CLOSES_AFTER_KICKOFF_SECS: i64 = 6 * 3600;
/// Epoch seconds past this (year 2286) are refused; from 10^11 on they look like milliseconds.
const MAX_EPOCH_SECS: i64 = 9_999_999_999;
/// Random characters after the `T` of a ticket id (62^12: about 71 bits).
const TICKET_ID_RANDOM_CHARS: usize = 12;

/// A ticket asked for, by `POST /tickets` or a row of a CSV.
struct Wanted {
    match_id: String,
    sector: String,
    seat: String,
    fan_id: Option<String>,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
}

/// A ticket ready to be signed and written; `claims.key_id` is filled in by signing.
struct Planned {
    claims: TicketClaims,
    seat: String,
}

/// A ticket written, with its code.
#[derive(Debug, Serialize)]
struct Issued {
    ticket_id: String,
    code: String,
}

pub(crate) async fn issue(gates: &Gates, function: &Function, event: &Value) -> Response {
    let caller = match session::require(gates, function, event, &["admin"]).await {
        Ok(claims) => claims,
        Err(refusal) => return refusal,
    };
    let wanted = match read_wanted(&Event(event)) {
        Ok(wanted) => wanted,
        Err(message) => return Response::refusal(400, &message),
    };
    let as_role = AsRole::new(gates.services.as_ref(), function);
    let (Some(matches), Some(tickets)) = (
        as_role.table("MATCHES_TABLE"),
        as_role.table("TICKETS_TABLE"),
    ) else {
        return Response::internal_error();
    };
    let the_match = match load_match(&as_role, matches, &wanted.match_id).await {
        Ok(Some(the_match)) => the_match,
        Ok(None) => {
            let message = format!("Match {} does not exist", wanted.match_id);
            return Response::refusal(404, &message);
        }
        Err(response) => return response,
    };
    let planned = match plan(wanted, &the_match) {
        Ok(planned) => planned,
        Err(message) => return Response::refusal(400, &message),
    };
    let audit = item(json!({
        "action": {"S": "issue"},
        "ticketId": {"S": planned.claims.ticket_id},
        "matchId": {"S": planned.claims.match_id},
        "sector": {"S": planned.claims.sector},
    }));
    let mut issued = match issue_all(gates, &as_role, function, tickets, vec![planned]).await {
        Ok(issued) => issued,
        Err(response) => return response,
    };
    let _ = as_role.audit("ticket", Some(&caller.sub), audit).await;
    let Issued { ticket_id, code } = issued.remove(0);
    #[derive(Serialize)]
    struct Created {
        ok: bool,
        ticket_id: String,
        code: String,
    }
    let created = Created {
        ok: true,
        ticket_id,
        code,
    };
    Response::json(201, &created).with_header("Cache-Control", "no-store")
}

fn read_wanted(event: &Event) -> Result<Wanted, String> {
    let fields =
        event.json_object("{match_id, sector, seat, fan_id?, valid_from?, valid_until?}")?;
    Ok(Wanted {
        match_id: fields.string("match_id", MAX_MATCH_ID_CHARS)?,
        sector: fields.string("sector", MAX_SECTOR_CHARS)?,
        seat: fields.string("seat", MAX_SEAT_CHARS)?,
        fan_id: fields.optional_string("fan_id", MAX_FAN_ID_CHARS)?,
        valid_from: optional_time(&fields, "valid_from")?,
        valid_until: optional_time(&fields, "valid_until")?,
    })
}

/// A time member: epoch seconds (a number, or a string of digits) or an RFC 3339 string.
fn optional_time(fields: &Fields, name: &str) -> Result<Option<i64>, String> {
    match fields.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(secs) => epoch_secs(name, secs).map(Some),
            None => Err(format!("{name} must be whole epoch seconds")),
        },
        Some(Value::String(s)) => time_text(name, s).map(Some),
        Some(_) => Err(format!(
            "{name} must be epoch seconds or an RFC 3339 time such as 2025-12-21T20:00:00+01:00"
        )),
    }
}

/// Epoch seconds from digits, or from an RFC 3339 time.
fn time_text(name: &str, value: &str) -> Result<i64, String> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return match value.parse::<i64>() {
            Ok(secs) => epoch_secs(name, secs),
            Err(_) => Err(format!("{name} is too large for epoch seconds")),
        };
    }
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.timestamp())
        .map_err(|_| {
            format!("{name} must be epoch seconds or an RFC 3339 time such as 2025-12-21T20:00:00+01:00, not {value:?}")
        })
        .and_then(|secs| epoch_secs(name, secs))
}

fn epoch_secs(name: &str, secs: i64) -> Result<i64, String> {
    if secs < 0 {
        return Err(format!("{name} must not be before 1970"));
    }
    if secs > MAX_EPOCH_SECS {
        return Err(format!(
            "{name} is too large for epoch seconds (milliseconds? give seconds)"
        ));
    }
    Ok(secs)
}

/// The ticket `wanted` asks for at `the_match`, or why it cannot be issued.
fn plan(wanted: Wanted, the_match: &Match) -> Result<Planned, String> {
    let Some(gates) = the_match.sectors.get(&wanted.sector) else {
        let sectors: Vec<&str> = the_match.sectors.keys().map(String::as_str).collect();
        return Err(format!(
            "Sector {} is not a sector of match {} (its sectors: {})",
            wanted.sector,
            the_match.match_id,
            sectors.join(", ")
        ));
    };
    let kickoff = || {
        chrono::DateTime::parse_from_rfc3339(&the_match.kickoff)
            .map(|t| t.timestamp())
            .map_err(|_| {
                format!(
                    "The kickoff of match {} ({:?}) is not an RFC 3339 time: give valid_from and valid_until",
                    the_match.match_id, the_match.kickoff
                )
            })
    };
    let valid_from = match wanted.valid_from {
        Some(secs) => secs,
        None => kickoff()? - OPENS_BEFORE_KICKOFF_SECS,
    };
    let valid_until = match wanted.valid_until {
        Some(secs) => secs,
        None => kickoff()? + CLOSES_AFTER_KICKOFF_SECS,
    };
    if valid_from >= valid_until {
        return Err(format!(
            "valid_from ({valid_from}) must be before valid_until ({valid_until})"
        ));
    }
    let ticket_id = new_ticket_id();
    let fan_hash = wanted
        .fan_id
        .as_deref()
        .map(|fan_id| code::fan_hash(&ticket_id, fan_id));
    Ok(Planned {
        claims: TicketClaims {
            ticket_id,
            match_id: the_match.match_id.clone(),
            sector: wanted.sector,
            gates: gates.clone(),
            valid_from,
            valid_until,
            fan_hash,
            key_id: String::new(),
        },
        seat: wanted.seat,
    })
}

/// `T` and twelve random characters of `[0-9A-Za-z]`, drawn without modulo bias.
fn new_ticket_id() -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut id = String::from("T");
    while id.len() <= TICKET_ID_RANDOM_CHARS {
        let mut bytes = [0u8; 16];
        aws_lc_rs::rand::fill(&mut bytes).expect("system random source failed");
        for byte in bytes.into_iter().filter(|&b| b < 248) {
            if id.len() <= TICKET_ID_RANDOM_CHARS {
                id.push(char::from(ALPHABET[usize::from(byte % 62)]));
            }
        }
    }
    id
}

/// The match `match_id` of the matches table; `Err` is the 500 for a failed read or an item that is
/// not a match.
async fn load_match(
    as_role: &AsRole<'_>,
    table: &str,
    match_id: &str,
) -> Result<Option<Match>, Response> {
    let key = json!({"matchId": {"S": match_id}});
    let item = match as_role.get_item(table, key).await {
        Ok(item) => item,
        Err(e) => return Err(as_role.failed("cannot read the matches table", &e)),
    };
    let Some(item) = item else {
        return Ok(None);
    };
    match Match::from_item(&item) {
        Some(the_match) => Ok(Some(the_match)),
        None => {
            tracing::error!(match_id = %match_id, "an item of the matches table is not a match");
            Err(Response::internal_error())
        }
    }
}

/// Signs every ticket, then writes every one. A failed signature writes nothing; a failed write
/// revokes the tickets written before it, so that none of a failed request can be used.
async fn issue_all(
    gates: &Gates,
    as_role: &AsRole<'_>,
    function: &Function,
    table: &str,
    planned: Vec<Planned>,
) -> Result<Vec<Issued>, Response> {
    let mut signed = Vec::with_capacity(planned.len());
    for ticket in planned {
        match code::sign(gates, as_role, function, &ticket.claims).await {
            Ok((code, key_arn)) => signed.push((ticket, code, key_arn)),
            Err(e) => return Err(as_role.failed("cannot sign a ticket code", &e)),
        }
    }
    let issued_at = now_millis().to_string();
    let mut written: Vec<&str> = Vec::with_capacity(signed.len());
    for (ticket, _, key_arn) in &signed {
        let record = ticket_item(ticket, key_arn, &issued_at);
        let condition = ("attribute_not_exists(ticketId)", json!({}));
        if let Err(e) = as_role.put_item(table, record, Some(condition)).await {
            let response = as_role.failed("cannot write to the tickets table", &e);
            revoke_unfinished(as_role, table, &written).await;
            return Err(response);
        }
        written.push(&ticket.claims.ticket_id);
    }
    Ok(signed
        .into_iter()
        .map(|(ticket, code, _)| Issued {
            ticket_id: ticket.claims.ticket_id,
            code,
        })
        .collect())
}

/// Revokes the tickets of a request that failed after writing them (best effort: each failure is
/// logged).
async fn revoke_unfinished(as_role: &AsRole<'_>, table: &str, ticket_ids: &[&str]) {
    for ticket_id in ticket_ids {
        let update = Update {
            expression: "SET #status = :revoked, blockReason = :reason",
            condition: None,
            names: json!({"#status": "status"}),
            values: json!({
                ":revoked": {"S": "revoked"},
                ":reason": {"S": "issue request failed"},
            }),
        };
        let key = json!({"ticketId": {"S": ticket_id}});
        if let Err(e) = as_role.update_item(table, key, update).await {
            tracing::error!(ticket_id = %ticket_id, code = %e.code, message = %e.message,
                "cannot revoke a ticket of a failed issue request");
        }
    }
}

/// The item of the tickets table for a ticket signed by `key_arn`: active, nobody inside.
fn ticket_item(ticket: &Planned, key_arn: &str, issued_at: &str) -> Item {
    let claims = &ticket.claims;
    let mut record = item(json!({
        "ticketId": {"S": claims.ticket_id},
        "matchId": {"S": claims.match_id},
        "sector": {"S": claims.sector},
        "seat": {"S": ticket.seat},
        "gates": crate::role::strings_value(&claims.gates),
        "validFrom": {"N": claims.valid_from.to_string()},
        "validUntil": {"N": claims.valid_until.to_string()},
        "status": {"S": "active"},
        "state": {"S": "ABSENT"},
        "entries": {"N": "0"},
        "keyId": {"S": key_arn},
        "issuedAt": {"N": issued_at},
    }));
    if let Some(fan_hash) = &claims.fan_hash {
        record.insert("fanHash".into(), json!({"S": fan_hash}));
    }
    record
}

/// What a ticket's code says, from its item; `key_id` is left empty for signing.
fn claims_of(record: &Item) -> Option<TicketClaims> {
    use crate::role::{integer_attribute, strings_attribute};
    Some(TicketClaims {
        ticket_id: string_attribute(record, "ticketId")?.to_string(),
        match_id: string_attribute(record, "matchId")?.to_string(),
        sector: string_attribute(record, "sector")?.to_string(),
        gates: strings_attribute(record, "gates")?,
        valid_from: integer_attribute(record, "validFrom")?,
        valid_until: integer_attribute(record, "validUntil")?,
        fan_hash: string_attribute(record, "fanHash").map(String::from),
        key_id: String::new(),
    })
}

/// The ticket id of a `/tickets/{ticket_id}/…` path, or the 400.
fn path_ticket_id(event: &Event) -> Result<String, Response> {
    let Some(ticket_id) = event.path_parameter("ticket_id") else {
        return Err(Response::refusal(400, "The path names no ticket id"));
    };
    text("ticket_id", ticket_id, MAX_TICKET_ID_CHARS).map_err(|m| Response::refusal(400, &m))
}

/// A change of a ticket's status, as the last segment of the path names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Revoke,
    Block,
    Unblock,
}

impl Action {
    fn of_path(path: &str) -> Option<Action> {
        match path.trim_end_matches('/').rsplit('/').next()? {
            "revoke" => Some(Action::Revoke),
            "block" => Some(Action::Block),
            "unblock" => Some(Action::Unblock),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Action::Revoke => "revoke",
            Action::Block => "block",
            Action::Unblock => "unblock",
        }
    }

    /// The status the ticket has after it.
    fn status(self) -> &'static str {
        match self {
            Action::Revoke => "revoked",
            Action::Block => "blocked",
            Action::Unblock => "active",
        }
    }
}

pub(crate) async fn status(gates: &Gates, function: &Function, event: &Value) -> Response {
    let caller = match session::require(gates, function, event, &["admin"]).await {
        Ok(claims) => claims,
        Err(refusal) => return refusal,
    };
    let event = Event(event);
    let ticket_id = match path_ticket_id(&event) {
        Ok(ticket_id) => ticket_id,
        Err(response) => return response,
    };
    let Some(action) = Action::of_path(event.path()) else {
        return Response::refusal(404, "The path must end in /revoke, /block or /unblock");
    };
    let reason = match read_reason(&event, action) {
        Ok(reason) => reason,
        Err(message) => return Response::refusal(400, &message),
    };
    let as_role = AsRole::new(gates.services.as_ref(), function);
    let Some(table) = as_role.table("TICKETS_TABLE") else {
        return Response::internal_error();
    };
    let mut values = json!({":status": {"S": action.status()}});
    let update = match action {
        Action::Revoke => Update {
            expression: "SET #status = :status",
            condition: Some("attribute_exists(ticketId)"),
            names: json!({"#status": "status"}),
            values,
        },
        Action::Block | Action::Unblock => {
            values[":revoked"] = json!({"S": "revoked"});
            let expression = if action == Action::Block {
                values[":reason"] = json!({"S": reason.as_deref().unwrap_or_default()});
                "SET #status = :status, blockReason = :reason"
            } else {
                "SET #status = :status REMOVE blockReason"
            };
            Update {
                expression,
                condition: Some("attribute_exists(ticketId) AND #status <> :revoked"),
                names: json!({"#status": "status"}),
                values,
            }
        }
    };
    let key = json!({"ticketId": {"S": ticket_id}});
    match as_role.update_item(table, key, update).await {
        Ok(()) => {}
        Err(e) if e.code == "ConditionalCheckFailedException" => {
            let message = match e.fields.get("Item") {
                None => return Response::refusal(404, &format!("Ticket {ticket_id} does not exist")),
                Some(old) if old["status"]["S"] == "revoked" => format!(
                    "Ticket {ticket_id} is revoked, which is final: it cannot be blocked or unblocked"
                ),
                Some(_) => format!("Ticket {ticket_id} changed meanwhile; try again"),
            };
            return Response::refusal(409, &message);
        }
        Err(e) => return as_role.failed("cannot update the tickets table", &e),
    }
    let mut audit = item(json!({
        "action": {"S": action.name()},
        "ticketId": {"S": ticket_id},
        "status": {"S": action.status()},
    }));
    if let Some(reason) = &reason {
        audit.insert("reason".into(), json!({"S": reason}));
    }
    let _ = as_role
        .audit("ticket-status", Some(&caller.sub), audit)
        .await;
    #[derive(Serialize)]
    struct Changed<'a> {
        ok: bool,
        ticket_id: &'a str,
        status: &'a str,
    }
    let changed = Changed {
        ok: true,
        ticket_id: &ticket_id,
        status: action.status(),
    };
    Response::json(200, &changed)
}

/// The reason of a change: required to block; optional otherwise, and then the body may be left
/// out.
fn read_reason(event: &Event, action: Action) -> Result<Option<String>, String> {
    let empty = event.body().map_or(true, |b| b.trim().is_empty());
    if action != Action::Block && empty {
        return Ok(None);
    }
    let fields = event.json_object("{reason}")?;
    if action == Action::Block {
        return fields.string("reason", MAX_REASON_CHARS).map(Some);
    }
    fields.optional_string("reason", MAX_REASON_CHARS)
}

#[cfg(test)]
mod tests;
