//! `src/handlers/matches.create` (`POST /matches`, admin): a match of the matches table.
//!
//! - `{match_id, stadium, kickoff, gates: [..], sectors: {sector: [gates]}, reentry}` →
//!   `201 {"ok": true, match_id}`; `kickoff` is kept as given (tickets read it as RFC 3339 for their
//!   default validity, and ask for explicit times when it is not);
//! - a match of that id already → 409, decided by the write (`attribute_not_exists(matchId)`);
//! - a member missing or of the wrong type, a sector naming a gate not in `gates`, a gate listed
//!   twice → 400 saying which;
//! - no token → 401, a token of another role → 403.
//!
//! Gates and their names are bounded so that a ticket code, which carries its sector's gates, still
//! fits a QR code.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::proxy::{text, Event, Fields, Response};
use crate::role::{item, string_attribute, strings_of, strings_value, AsRole, Item};
use crate::{now_millis, session, Function, Gates};

pub(crate) const MAX_MATCH_ID_CHARS: usize = 64;
const MAX_STADIUM_CHARS: usize = 128;
const MAX_KICKOFF_CHARS: usize = 64;
pub(crate) const MAX_GATES: usize = 32;
const MAX_GATE_CHARS: usize = 32;
const MAX_SECTORS: usize = 200;
pub(crate) const MAX_SECTOR_CHARS: usize = 64;

/// A match as the matches table holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Match {
    pub match_id: String,
    pub stadium: String,
    /// RFC 3339 as given, not checked.
    pub kickoff: String,
    pub gates: Vec<String>,
    /// Sector name → the gates its tickets enter by.
    pub sectors: BTreeMap<String, Vec<String>>,
    pub reentry: bool,
}

impl Match {
    /// The item of the matches table.
    pub(crate) fn to_item(&self) -> Item {
        let sectors: Map<String, Value> = self
            .sectors
            .iter()
            .map(|(name, gates)| (name.clone(), strings_value(gates)))
            .collect();
        item(json!({
            "matchId": {"S": self.match_id},
            "stadium": {"S": self.stadium},
            "kickoff": {"S": self.kickoff},
            "gates": strings_value(&self.gates),
            "sectors": {"M": sectors},
            "reentry": {"BOOL": self.reentry},
            "createdAt": {"N": now_millis().to_string()},
        }))
    }

    /// The match an item of the matches table holds; `None` if it is not one.
    pub(crate) fn from_item(item: &Item) -> Option<Match> {
        let sectors = item
            .get("sectors")?
            .get("M")?
            .as_object()?
            .iter()
            .map(|(name, gates)| Some((name.clone(), strings_of(gates)?)))
            .collect::<Option<_>>()?;
        Some(Match {
            match_id: string_attribute(item, "matchId")?.to_string(),
            stadium: string_attribute(item, "stadium")
                .unwrap_or_default()
                .to_string(),
            kickoff: string_attribute(item, "kickoff")
                .unwrap_or_default()
                .to_string(),
            gates: crate::role::strings_attribute(item, "gates").unwrap_or_default(),
            sectors,
            reentry: item
                .get("reentry")
                .and_then(|r| r.get("BOOL"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }
}

#[derive(Serialize)]
struct Created<'a> {
    ok: bool,
    match_id: &'a str,
}

pub(crate) async fn create(gates: &Gates, function: &Function, event: &Value) -> Response {
    let caller = match session::require(gates, function, event, &["admin"]).await {
        Ok(claims) => claims,
        Err(refusal) => return refusal,
    };
    let new_match = match read(&Event(event)) {
        Ok(new_match) => new_match,
        Err(message) => return Response::refusal(400, &message),
    };
    let as_role = AsRole::new(gates.services.as_ref(), function);
    let Some(table) = as_role.table("MATCHES_TABLE") else {
        return Response::internal_error();
    };
    let condition = ("attribute_not_exists(matchId)", json!({}));
    match as_role
        .put_item(table, new_match.to_item(), Some(condition))
        .await
    {
        Ok(()) => {}
        Err(e) if e.code == "ConditionalCheckFailedException" => {
            return Response::refusal(409, &format!("Match {} already exists", new_match.match_id));
        }
        Err(e) => return as_role.failed("cannot write to the matches table", &e),
    }
    let audit = item(json!({
        "action": {"S": "create"},
        "matchId": {"S": new_match.match_id},
    }));
    let _ = as_role.audit("match", Some(&caller.sub), audit).await;
    Response::json(
        201,
        &Created {
            ok: true,
            match_id: &new_match.match_id,
        },
    )
}

const SHAPE: &str =
    "{match_id, stadium, kickoff, gates: [gate, ...], sectors: {sector: [gate, ...]}, reentry}";

fn read(event: &Event) -> Result<Match, String> {
    let fields = event.json_object(SHAPE)?;
    let match_id = fields.string("match_id", MAX_MATCH_ID_CHARS)?;
    let stadium = fields.string("stadium", MAX_STADIUM_CHARS)?;
    let kickoff = fields.string("kickoff", MAX_KICKOFF_CHARS)?;
    let gates = read_gates(&fields)?;
    let sectors = read_sectors(&fields, &gates)?;
    let reentry = fields.bool("reentry")?;
    Ok(Match {
        match_id,
        stadium,
        kickoff,
        gates,
        sectors,
        reentry,
    })
}

/// A list of distinct gate names; `what` names it in messages (`gates`, `sectors.North`).
fn gate_list(value: &Value, what: &str) -> Result<Vec<String>, String> {
    let Value::Array(values) = value else {
        return Err(format!("{what} must be a list of gate names"));
    };
    if values.is_empty() {
        return Err(format!("{what} must name at least one gate"));
    }
    if values.len() > MAX_GATES {
        return Err(format!("{what} names more than {MAX_GATES} gates"));
    }
    let mut gates: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let Value::String(gate) = value else {
            return Err(format!("{what} must be a list of gate names (strings)"));
        };
        let gate = text(&format!("a gate name in {what}"), gate, MAX_GATE_CHARS)?;
        if gates.contains(&gate) {
            return Err(format!("{what} lists gate {gate:?} twice"));
        }
        gates.push(gate);
    }
    Ok(gates)
}

fn read_gates(fields: &Fields) -> Result<Vec<String>, String> {
    match fields.get("gates") {
        Some(value) => gate_list(value, "gates"),
        None => Err("gates is required: the list of the stadium's gates".into()),
    }
}

fn read_sectors(
    fields: &Fields,
    gates: &[String],
) -> Result<BTreeMap<String, Vec<String>>, String> {
    let sectors = match fields.get("sectors") {
        Some(Value::Object(sectors)) => sectors,
        Some(_) => return Err("sectors must be an object: {sector: [gate, ...]}".into()),
        None => return Err("sectors is required: {sector: [gate, ...]}".into()),
    };
    if sectors.is_empty() {
        return Err("sectors must name at least one sector".into());
    }
    if sectors.len() > MAX_SECTORS {
        return Err(format!("sectors names more than {MAX_SECTORS} sectors"));
    }
    let mut read = BTreeMap::new();
    for (name, value) in sectors {
        let name = text("a sector name", name, MAX_SECTOR_CHARS)?;
        let what = format!("sectors.{name}");
        let sector_gates = gate_list(value, &what)?;
        if let Some(unknown) = sector_gates.iter().find(|g| !gates.contains(g)) {
            return Err(format!(
                "{what} names gate {unknown:?}, which is not in gates ({})",
                gates.join(", ")
            ));
        }
        read.insert(name, sector_gates);
    }
    Ok(read)
}

#[cfg(test)]
mod tests;
