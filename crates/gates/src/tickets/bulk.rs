//! `POST /tickets/bulk` (admin): one ticket per row of a CSV body (RFC 4180: commas, optional
//! double quotes with `""` inside, LF or CRLF), with a header row naming the columns `match_id`,
//! `sector`, `seat` and optionally `fan_id`, `valid_from`, `valid_until`, in any order; empty cells of
//! the optional columns take the defaults of `POST /tickets`.
//!
//! → `201 {"ok": true, tickets: [{ticket_id, code}]}` in the order of the rows. All or nothing:
//! every row is checked (its match read) before any ticket is signed, and a bad row is a 400 naming
//! it — rows are numbered as the lines of the file, the header being row 1. At most
//! [`MAX_ROWS`] tickets per request.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use super::{
    issue_all, load_match, plan, time_text, Issued, Planned, Wanted, MAX_FAN_ID_CHARS,
    MAX_SEAT_CHARS,
};
use crate::matches::{Match, MAX_MATCH_ID_CHARS, MAX_SECTOR_CHARS};
use crate::proxy::{text, Event, Response};
use crate::role::{item, strings_value, AsRole};
use crate::{session, Function, Gates};

/// Tickets per request at most.
pub(crate) const MAX_ROWS: usize = 5_000;
/// Room for [`MAX_ROWS`] rows of long cells.
const MAX_CSV_BYTES: usize = 4 * 1024 * 1024;
const COLUMNS: [&str; 6] = [
    "match_id",
    "sector",
    "seat",
    "fan_id",
    "valid_from",
    "valid_until",
];
const REQUIRED_COLUMNS: usize = 3;
const SHAPE: &str = "CSV with a header row match_id,sector,seat[,fan_id,valid_from,valid_until]";

pub(crate) async fn bulk(gates: &Gates, function: &Function, event: &Value) -> Response {
    let caller = match session::require(gates, function, event, &["admin"]).await {
        Ok(claims) => claims,
        Err(refusal) => return refusal,
    };
    let rows = match Event(event)
        .text_body(MAX_CSV_BYTES, SHAPE)
        .and_then(|body| read_rows(&body))
    {
        Ok(rows) => rows,
        Err(message) => return Response::refusal(400, &message),
    };
    let as_role = AsRole::new(gates.services.as_ref(), function);
    let (Some(matches), Some(tickets)) = (
        as_role.table("MATCHES_TABLE"),
        as_role.table("TICKETS_TABLE"),
    ) else {
        return Response::internal_error();
    };

    let mut known: BTreeMap<String, Match> = BTreeMap::new();
    let mut planned: Vec<Planned> = Vec::with_capacity(rows.len());
    for (row, wanted) in rows {
        if !known.contains_key(&wanted.match_id) {
            match load_match(&as_role, matches, &wanted.match_id).await {
                Ok(Some(the_match)) => known.insert(wanted.match_id.clone(), the_match),
                Ok(None) => {
                    let message = format!("Row {row}: match {} does not exist", wanted.match_id);
                    return Response::refusal(400, &message);
                }
                Err(response) => return response,
            };
        }
        let the_match = &known[&wanted.match_id];
        match plan(wanted, the_match) {
            Ok(ticket) => planned.push(ticket),
            Err(message) => return Response::refusal(400, &format!("Row {row}: {message}")),
        }
    }

    let ticket_ids: Vec<String> = planned.iter().map(|p| p.claims.ticket_id.clone()).collect();
    let issued = match issue_all(gates, &as_role, function, tickets, planned).await {
        Ok(issued) => issued,
        Err(response) => return response,
    };
    let audit = item(json!({
        "action": {"S": "bulk"},
        "count": {"N": issued.len().to_string()},
        "ticketIds": strings_value(&ticket_ids),
        "matchIds": strings_value(&known.into_keys().collect::<Vec<_>>()),
    }));
    let _ = as_role.audit("ticket", Some(&caller.sub), audit).await;
    #[derive(Serialize)]
    struct Created {
        ok: bool,
        tickets: Vec<Issued>,
    }
    let created = Created {
        ok: true,
        tickets: issued,
    };
    Response::json(201, &created).with_header("Cache-Control", "no-store")
}

/// The wanted tickets of a CSV text, each with its row number.
fn read_rows(body: &str) -> Result<Vec<(usize, Wanted)>, String> {
    if body.trim_start().starts_with(['{', '[']) {
        return Err(format!("The body looks like JSON; send {SHAPE}"));
    }
    let mut records = records(body)?.into_iter();
    let Some((_, header)) = records.next() else {
        return Err(format!("The body is empty; send {SHAPE}"));
    };
    let columns = read_header(&header)?;
    let mut rows = Vec::new();
    for (row, cells) in records {
        if rows.len() == MAX_ROWS {
            return Err(format!(
                "More than {MAX_ROWS} tickets in one request; split the file"
            ));
        }
        if cells.len() != columns.len() {
            return Err(format!(
                "Row {row}: {} cells, but the header names {} columns",
                cells.len(),
                columns.len()
            ));
        }
        let cell = |name: &str| -> Option<&str> {
            let at = columns.iter().position(|c| c == name)?;
            Some(cells[at].as_str()).filter(|c| !c.is_empty())
        };
        let wanted = read_row(&cell).map_err(|message| format!("Row {row}: {message}"))?;
        rows.push((row, wanted));
    }
    if rows.is_empty() {
        return Err("The CSV has a header but no rows: no ticket to issue".into());
    }
    Ok(rows)
}

/// The columns of the header row, lower case, checked.
fn read_header(header: &[String]) -> Result<Vec<String>, String> {
    let columns: Vec<String> = header.iter().map(|c| c.to_ascii_lowercase()).collect();
    for (at, column) in columns.iter().enumerate() {
        if !COLUMNS.contains(&column.as_str()) {
            return Err(format!(
                "Row 1: column {} is {column:?}, which is not one of {}; send {SHAPE}",
                at + 1,
                COLUMNS.join(", ")
            ));
        }
        if columns[..at].contains(column) {
            return Err(format!("Row 1: column {column} is named twice"));
        }
    }
    if let Some(missing) = COLUMNS[..REQUIRED_COLUMNS]
        .iter()
        .find(|c| !columns.iter().any(|name| name == *c))
    {
        return Err(format!(
            "Row 1: the header has no column {missing}; send {SHAPE}"
        ));
    }
    Ok(columns)
}

fn read_row<'r>(cell: &dyn Fn(&str) -> Option<&'r str>) -> Result<Wanted, String> {
    let required = |name: &str, max_chars: usize| match cell(name) {
        Some(value) => text(name, value, max_chars),
        None => Err(format!("{name} is empty")),
    };
    let time = |name: &str| cell(name).map(|v| time_text(name, v)).transpose();
    Ok(Wanted {
        match_id: required("match_id", MAX_MATCH_ID_CHARS)?,
        sector: required("sector", MAX_SECTOR_CHARS)?,
        seat: required("seat", MAX_SEAT_CHARS)?,
        fan_id: cell("fan_id")
            .map(|v| text("fan_id", v, MAX_FAN_ID_CHARS))
            .transpose()?,
        valid_from: time("valid_from")?,
        valid_until: time("valid_until")?,
    })
}

/// The records of a CSV text, each with the line it starts on; cells are trimmed, blank lines
/// skipped. Stops at a record past the header and [`MAX_ROWS`] so a huge file is not read whole.
fn records(body: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let mut records = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut cell = String::new();
    let (mut line, mut start) = (1, 1);
    let (mut quoted, mut closed) = (false, false);
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => (quoted, closed) = (false, true),
                '\n' => {
                    line += 1;
                    cell.push(c);
                }
                _ => cell.push(c),
            }
            continue;
        }
        match c {
            ',' => {
                cells.push(std::mem::take(&mut cell));
                closed = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                cells.push(std::mem::take(&mut cell));
                let record = std::mem::take(&mut cells);
                if record.len() > 1 || !record[0].trim().is_empty() || closed {
                    records.push((start, record));
                }
                if records.len() > MAX_ROWS + 1 {
                    break;
                }
                closed = false;
                line += 1;
                start = line;
            }
            '"' if cell.trim().is_empty() && !closed => {
                cell.clear();
                quoted = true;
            }
            '"' => {
                return Err(format!(
                    "Row {line}: a double quote inside a cell; quote the whole cell and write the quote twice"
                ))
            }
            ' ' | '\t' if closed => {}
            _ if closed => {
                return Err(format!(
                    "Row {line}: text after a closing double quote; quote the whole cell"
                ))
            }
            _ => cell.push(c),
        }
    }
    if quoted {
        return Err(format!("Row {start}: a double quote is not closed"));
    }
    if !cells.is_empty() || !cell.trim().is_empty() || closed {
        cells.push(cell);
        records.push((start, cells));
    }
    Ok(records
        .into_iter()
        .map(|(row, cells)| {
            (
                row,
                cells.into_iter().map(|c| c.trim().to_string()).collect(),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests;
