//! `POST /tickets/bulk`: the CSV reader, and the route all or nothing.

use m2sec_proto::AwsError;
use serde_json::{json, Value};

use super::{read_rows, records, MAX_ROWS};
use crate::testing::{self, body, logs_of, token, MATCHES_TABLE, TICKETS_TABLE};
use crate::tickets::tests::{assert_nowhere, world, World};
use crate::Handler;

fn event(csv: Option<&str>, token: Option<&str>) -> Value {
    let mut event = testing::request("POST", "/tickets/bulk", Value::Null, csv, token);
    event["headers"]["Content-Type"] = json!("text/csv");
    event
}

impl World {
    async fn bulk(&self, csv: &str) -> Value {
        let event = event(Some(csv), Some(&token("admin1", "admin")));
        self.gates
            .invoke(&testing::function(Handler::IssueTickets), event)
            .await
    }
}

fn cells(body: &str) -> Vec<(usize, Vec<String>)> {
    records(body).unwrap()
}

#[test]
fn csv_records_as_rfc_4180_writes_them() {
    assert_eq!(
        cells("\u{feff}a,b,c\r\n1, 2 ,\"3\"\r\n\r\n\"x,\"\"y\"\"\nz\",,\n\"\"\n"),
        [
            (1, vec!["a".into(), "b".into(), "c".into()]),
            (2, vec!["1".into(), "2".into(), "3".into()]),
            (4, vec!["x,\"y\"\nz".into(), String::new(), String::new()]),
            (6, vec![String::new()]),
        ]
    );
    assert_eq!(cells("a,b"), [(1, vec!["a".to_string(), "b".to_string()])]);
    assert_eq!(cells(""), []);
    assert_eq!(
        records("a\nb\"c\n").unwrap_err(),
        "Row 2: a double quote inside a cell; quote the whole cell and write the quote twice"
    );
    assert_eq!(
        records("a\n\"b\"c\n").unwrap_err(),
        "Row 2: text after a closing double quote; quote the whole cell"
    );
    assert_eq!(
        records("a\n\"b\nc\n").unwrap_err(),
        "Row 2: a double quote is not closed"
    );
}

#[test]
fn rows_name_what_is_wrong_and_where() {
    let header = "match_id,sector,seat,fan_id,valid_from,valid_until\n";
    let read = |rows: &str| read_rows(&format!("{header}{rows}"));
    let rows = read("M1,North,1,,,\nM1,North,2,FAN-1,2026-01-18T15:00:00Z,1768800000\n").unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, 2);
    assert_eq!(
        (rows[0].1.fan_id.as_deref(), rows[0].1.valid_from),
        (None, None)
    );
    assert_eq!(rows[1].1.fan_id.as_deref(), Some("FAN-1"));
    assert_eq!(rows[1].1.valid_from, Some(1_768_748_400));
    assert_eq!(rows[1].1.valid_until, Some(1_768_800_000));

    for (rows, message) in [
        ("M1,North,1,,,\nM1,,2,,,\n", "Row 3: sector is empty"),
        (
            "M1,North,1,,\n",
            "Row 2: 5 cells, but the header names 6 columns",
        ),
        (
            "M1,North,1,,yesterday,\n",
            "Row 2: valid_from must be epoch seconds or an RFC 3339 time",
        ),
        (
            "M1,North,1,,,1768800000000\n",
            "Row 2: valid_until is too large for epoch seconds",
        ),
        (
            "\n\nM1,North,\"1\u{7}\",,,\n",
            "Row 4: seat must not contain control characters",
        ),
        ("", "The CSV has a header but no rows"),
    ] {
        let error = read(rows).err().unwrap();
        assert!(error.starts_with(message), "{rows:?}: {error}");
    }
    for (csv, message) in [
        ("", "The body is empty"),
        (
            "match_id,sector\nM1,North\n",
            "Row 1: the header has no column seat",
        ),
        (
            "match_id,sector,seat,price\n",
            "Row 1: column 4 is \"price\", which is not one of",
        ),
        (
            "{\"match_id\": \"M1\"}",
            "The body looks like JSON; send CSV with a header row",
        ),
        (
            "match_id,sector,seat,seat\n",
            "Row 1: column seat is named twice",
        ),
    ] {
        let error = read_rows(csv).err().unwrap();
        assert!(error.starts_with(message), "{csv:?}: {error}");
    }
    // The columns in any order, in any case, the optional ones left out.
    let rows = read_rows("Seat,MATCH_ID,sector\n7,M1,South\n").unwrap();
    assert_eq!(
        (
            &rows[0].1.match_id[..],
            &rows[0].1.sector[..],
            &rows[0].1.seat[..]
        ),
        ("M1", "South", "7")
    );
}

#[test]
fn at_most_5000_rows() {
    let row = "M1,North,1\n";
    let csv = format!("match_id,sector,seat\n{}", row.repeat(MAX_ROWS));
    assert_eq!(read_rows(&csv).unwrap().len(), MAX_ROWS);
    let csv = format!("{csv}{row}");
    assert_eq!(
        read_rows(&csv).err().unwrap(),
        "More than 5000 tickets in one request; split the file"
    );
}

const CSV: &str = "match_id,sector,seat,fan_id,valid_from,valid_until
CAN2025-FINAL,North,N-1-1,MA-ID-0001,,
CAN2025-SF1,South,\"S-2-2, aisle\",,1768400000,2026-01-14T23:00:00Z
CAN2025-FINAL,South,S-1-1,,,
";

#[tokio::test]
async fn an_admin_issues_a_csv_of_tickets() {
    let w = world();
    let result = w.bulk(CSV).await;
    assert_eq!(result["statusCode"], 201, "{result}");
    assert_eq!(result["headers"]["Cache-Control"], "no-store");
    let answer = body(&result);
    assert_eq!(answer["ok"], true);
    let tickets = answer["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 3);

    let mut seen = Vec::new();
    for (ticket, (match_id, sector, seat)) in tickets.iter().zip([
        ("CAN2025-FINAL", "North", "N-1-1"),
        ("CAN2025-SF1", "South", "S-2-2, aisle"),
        ("CAN2025-FINAL", "South", "S-1-1"),
    ]) {
        let ticket_id = ticket["ticket_id"].as_str().unwrap();
        let claims = w.check(ticket["code"].as_str().unwrap()).await.unwrap();
        assert_eq!(claims.ticket_id, ticket_id);
        assert_eq!(
            (&claims.match_id[..], &claims.sector[..]),
            (match_id, sector)
        );
        assert_eq!(w.ticket(ticket_id)["seat"], json!({"S": seat}));
        seen.push(claims);
    }
    assert!(seen[0].fan_hash.is_some() && seen[1].fan_hash.is_none());
    assert_eq!(
        (seen[1].valid_from, seen[1].valid_until),
        (1_768_400_000, 1_768_431_600)
    );
    assert_eq!(w.fake.items(TICKETS_TABLE).len(), 3);
    // Each match is read once.
    let match_reads = w
        .fake
        .calls_of("GetItem")
        .into_iter()
        .filter(|c| c.input["TableName"] == MATCHES_TABLE)
        .count();
    assert_eq!(match_reads, 2);

    let audit = testing::audit_items(&w.fake);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["kind"], json!({"S": "ticket"}));
    assert_eq!(audit[0]["action"], json!({"S": "bulk"}));
    assert_eq!(audit[0]["count"], json!({"N": "3"}));
    assert_eq!(audit[0]["ticketIds"]["L"].as_array().unwrap().len(), 3);
    let codes: Vec<&str> = tickets
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    let mut secrets = codes.clone();
    secrets.push("MA-ID-0001");
    assert_nowhere(&w.fake, &secrets);
}

#[tokio::test]
async fn a_bad_row_issues_nothing_and_is_named() {
    for (csv, message) in [
        (
            format!("{CSV}CAN2025-FINAL,East,E-1-1,,,\n"),
            "Row 5: Sector East is not a sector of match CAN2025-FINAL (its sectors: North, South)",
        ),
        (
            format!("{CSV}CAN2025-NOPE,North,1,,,\n"),
            "Row 5: match CAN2025-NOPE does not exist",
        ),
        (
            format!("{CSV}CAN2025-SF1,North,1,,,\n"),
            "Row 5: The kickoff of match CAN2025-SF1 (\"14 January, 18:00\") is not an RFC 3339 time",
        ),
        (format!("{CSV}CAN2025-FINAL,North\n"), "Row 5: 2 cells, but the header names 6 columns"),
    ] {
        let w = world();
        let result = w.bulk(&csv).await;
        assert_eq!(result["statusCode"], 400, "{csv}");
        let text = body(&result)["message"].as_str().unwrap().to_string();
        assert!(text.starts_with(message), "{text}");
        assert!(w.fake.calls_of("Sign").is_empty());
        assert!(w.fake.calls_of("PutItem").is_empty());
    }
}

#[tokio::test]
async fn a_failed_write_revokes_what_was_written() {
    let w = world();
    w.fake.fail_on_table_after(
        "dynamodb",
        "PutItem",
        TICKETS_TABLE,
        2,
        AwsError::new("ProvisionedThroughputExceededException", 400, "slow down"),
    );
    let (result, logs) = logs_of(w.bulk(CSV)).await;
    assert_eq!(result["statusCode"], 500);
    assert_eq!(body(&result)["message"], "Internal error");
    assert!(
        logs.contains("ProvisionedThroughputExceededException"),
        "{logs}"
    );
    let written = w.fake.items(TICKETS_TABLE);
    assert_eq!(written.len(), 2);
    for ticket in written {
        assert_eq!(ticket["status"], json!({"S": "revoked"}));
        assert_eq!(ticket["blockReason"], json!({"S": "issue request failed"}));
    }
    assert!(testing::audit_items(&w.fake).is_empty());
}

#[tokio::test]
async fn a_failed_signature_writes_nothing() {
    let w = world();
    w.fake.fail(
        "kms",
        "Sign",
        AwsError::new("ThrottlingException", 400, "Rate exceeded"),
    );
    let (result, logs) = logs_of(w.bulk(CSV)).await;
    assert_eq!(result["statusCode"], 500);
    assert!(logs.contains("ThrottlingException"), "{logs}");
    assert!(w.fake.calls_of("PutItem").is_empty());
}

#[tokio::test]
async fn bad_bodies_are_400() {
    let w = world();
    let admin = token("admin1", "admin");
    let function = testing::function(Handler::IssueTickets);
    for csv in [None, Some(""), Some("match_id,sector,seat\n")] {
        let result = w.gates.invoke(&function, event(csv, Some(&admin))).await;
        assert_eq!(result["statusCode"], 400, "{csv:?}");
        assert_eq!(body(&result)["ok"], false);
    }
    let mut encoded = event(Some("%%%"), Some(&admin));
    encoded["isBase64Encoded"] = json!(true);
    assert_eq!(w.gates.invoke(&function, encoded).await["statusCode"], 400);
    let huge = format!("match_id,sector,seat\n{}", "x".repeat(5 * 1024 * 1024));
    let result = w
        .gates
        .invoke(&function, event(Some(&huge), Some(&admin)))
        .await;
    assert_eq!(result["statusCode"], 400);
    assert_eq!(body(&result)["message"], "The body is larger than 4096 KiB");
    assert!(w.fake.calls_of("GetItem").is_empty());
}

#[tokio::test]
async fn only_admins_issue_csvs() {
    testing::assert_only_for(Handler::IssueTickets, &["admin"], |token| {
        event(Some(CSV), token)
    })
    .await;
}

#[tokio::test]
async fn five_thousand_rows_are_issued_in_one_request() {
    let w = world();
    let csv = format!(
        "match_id,sector,seat\n{}",
        (0..MAX_ROWS)
            .map(|i| format!("CAN2025-FINAL,North,N-{i}\n"))
            .collect::<String>()
    );
    let result = w.bulk(&csv).await;
    assert_eq!(result["statusCode"], 201);
    assert_eq!(body(&result)["tickets"].as_array().unwrap().len(), MAX_ROWS);
    assert_eq!(w.fake.items(TICKETS_TABLE).len(), MAX_ROWS);
}
