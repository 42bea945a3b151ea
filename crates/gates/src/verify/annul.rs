//! `src/handlers/verifyTicket.annul` (`POST /tickets/annul {device, nonce}`): a steward takes back
//! an entry they let through by mistake, within 15 minutes and before the ticket is scanned again.
//!
//! - 200 `{"ok": true}`: the ticket is ABSENT again, one entry fewer (and without a first scan if
//!   that was its only one), and the scans item is marked `annulled`;
//! - 404 if the device never sent the nonce; 403 if another steward scanned it (admins may annul
//!   any scan); 409 if it was not an accepted entry, is already annulled, is 15 minutes old, or the
//!   ticket has been scanned since.
//!
//! Every decision about an existing scan is written to the audit table (kind `annul`).

use serde::Deserialize;
use serde_json::{json, Value};

use super::{audit_item, now_millis, number, string, Failure, Tables, CONDITIONAL_CHECK_FAILED};
use crate::proxy::{Event, Response};
use crate::role::{AsRole, Item};
use crate::{session, Claims, Function, Gates};

/// How long after an entry it may be annulled.
pub(crate) const ANNUL_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Still PRESENT through this very scan, with the count of entries read before.
const STILL_THIS_SCAN: &str = "#state = :present AND #lastScan.#device = :device \
     AND #lastScan.#nonce = :nonce AND #entries = :entries";
const TAKE_BACK: &str = "SET #state = :absent, #entries = #entries - :one";
/// When the entry taken back was the ticket's only one, its first scan goes with it.
const TAKE_BACK_ONLY: &str = "SET #state = :absent, #entries = #entries - :one REMOVE #firstScan";

#[derive(Deserialize)]
struct AnnulRequest {
    device: String,
    nonce: String,
}

/// What was decided about an existing scan: (status, result for the audit, message).
type Outcome = (u16, &'static str, &'static str);

const ANNULLED: Outcome = (200, "ok", "");
const NOT_YOURS: Outcome = (
    403,
    "forbidden",
    "Only the steward who scanned may annul it",
);
const ALREADY: Outcome = (409, "already_annulled", "The scan is already annulled");
const NOT_ENTRY: Outcome = (
    409,
    "not_an_entry",
    "Only an accepted entry can be annulled",
);
const TOO_LATE: Outcome = (
    409,
    "too_late",
    "An entry can only be annulled within 15 minutes",
);
const SCANNED_SINCE: Outcome = (409, "scanned_since", "The ticket has been scanned since");

/// `POST /tickets/annul`.
pub(crate) async fn annul(gates: &Gates, function: &Function, event: &Value) -> Response {
    let caller = match session::require(gates, function, event, &["steward", "admin"]).await {
        Ok(claims) => claims,
        Err(refusal) => return refusal,
    };
    let tables = match Tables::of(function) {
        Ok(tables) => tables,
        Err(refusal) => return refusal,
    };
    let request = Event(event)
        .body()
        .ok()
        .and_then(|body| serde_json::from_str::<AnnulRequest>(&body).ok())
        .filter(|r| !r.device.is_empty() && !r.nonce.is_empty() && !r.device.contains('#'));
    let Some(request) = request else {
        return Response::refusal(
            400,
            "The body must be a JSON object with string members device and nonce",
        );
    };
    let as_role = AsRole::new(gates.services.as_ref(), function);
    match take_back(&as_role, &tables, &caller, &request).await {
        Ok(response) => response,
        Err(failure) => failure.response(function),
    }
}

async fn take_back(
    as_role: &AsRole<'_>,
    tables: &Tables<'_>,
    caller: &Claims,
    request: &AnnulRequest,
) -> Result<Response, Failure> {
    let scan_key = json!({"scanId": {"S": format!("{}#{}", request.device, request.nonce)}});
    let scan = as_role
        .get_item(tables.scans, scan_key.clone())
        .await
        .map_err(|e| Failure::new("cannot read the scans table", e))?;
    let Some(scan) = scan else {
        return Ok(Response::refusal(404, "No such scan"));
    };
    let now = now_millis();
    let outcome = if caller.role != "admin" && string(&scan, "by") != Some(caller.sub.as_str()) {
        NOT_YOURS
    } else if scan.get("annulled").and_then(|a| a.get("BOOL")) == Some(&json!(true)) {
        ALREADY
    } else if string(&scan, "result") != Some("ok") || string(&scan, "direction") != Some("entry") {
        NOT_ENTRY
    } else if number(&scan, "at").is_none_or(|at| now - at >= ANNUL_WINDOW_MS) {
        TOO_LATE
    } else {
        let ticket_id = string(&scan, "ticketId").unwrap_or_default();
        match take_back_entry(as_role, tables, ticket_id, request).await? {
            false => SCANNED_SINCE,
            true => {
                let input = json!({
                    "TableName": tables.scans,
                    "Key": scan_key,
                    "UpdateExpression": "SET annulled = :true, annulledAt = :at, annulledBy = :by",
                    "ExpressionAttributeValues": {
                        ":true": {"BOOL": true},
                        ":at": {"N": now.to_string()},
                        ":by": {"S": caller.sub},
                    },
                });
                as_role
                    .call("dynamodb", "UpdateItem", input)
                    .await
                    .map_err(|e| Failure::new("cannot mark a scan annulled", e))?;
                ANNULLED
            }
        }
    };
    let (status, result, message) = outcome;
    as_role
        .put_item(
            tables.audit,
            audit(&scan, caller, request, result, now),
            None,
        )
        .await
        .map_err(|e| Failure::new("cannot write the audit item of an annul", e))?;
    Ok(if status == 200 {
        Response::json(200, &json!({"ok": true}))
    } else {
        Response::refusal(status, message)
    })
}

/// Marks the ticket ABSENT again with one entry fewer, if it is still PRESENT through this scan;
/// whether it was.
async fn take_back_entry(
    as_role: &AsRole<'_>,
    tables: &Tables<'_>,
    ticket_id: &str,
    request: &AnnulRequest,
) -> Result<bool, Failure> {
    let ticket = as_role
        .get_item(tables.tickets, json!({"ticketId": {"S": ticket_id}}))
        .await
        .map_err(|e| Failure::new("cannot read the tickets table", e))?;
    let Some(entries) = ticket.as_ref().and_then(|t| number(t, "entries")) else {
        return Ok(false);
    };
    let mut names = json!({"#state": "state", "#lastScan": "lastScan", "#device": "device",
        "#nonce": "nonce", "#entries": "entries"});
    let update = if entries == 1 {
        names["#firstScan"] = json!("firstScan");
        TAKE_BACK_ONLY
    } else {
        TAKE_BACK
    };
    let input = json!({
        "TableName": tables.tickets,
        "Key": {"ticketId": {"S": ticket_id}},
        "ConditionExpression": STILL_THIS_SCAN,
        "UpdateExpression": update,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {
            ":present": {"S": "PRESENT"},
            ":absent": {"S": "ABSENT"},
            ":device": {"S": request.device},
            ":nonce": {"S": request.nonce},
            ":entries": {"N": entries.to_string()},
            ":one": {"N": "1"},
        },
    });
    match as_role.call("dynamodb", "UpdateItem", input).await {
        Ok(_) => Ok(true),
        Err(e) if e.code == CONDITIONAL_CHECK_FAILED => Ok(false),
        Err(e) => Err(Failure::new("cannot update a ticket", e)),
    }
}

fn audit(scan: &Item, caller: &Claims, request: &AnnulRequest, result: &str, at: i64) -> Item {
    let mut item = audit_item("annul", &caller.sub, at);
    for name in ["ticketId", "matchId", "gate"] {
        if let Some(value) = string(scan, name) {
            item.insert(name.into(), json!({"S": value}));
        }
    }
    item.insert("device".into(), json!({"S": request.device}));
    item.insert("nonce".into(), json!({"S": request.nonce}));
    item.insert("result".into(), json!({"S": result}));
    item
}
