//! `GET /_m2sec/usage?since=YYYY-MM-DD&until=YYYY-MM-DD`: the cost report (see `m2sec usage`) as JSON,
//! for a SigV4-signed request (`curl --aws-sigv4 "aws:amz:REGION:cloudtrail"`) of a caller allowed
//! `cloudtrail:LookupEvents`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use m2sec_proto::sigv4::RequestParts;
use m2sec_proto::{json, AwsError};

use crate::http::AppState;

/// The report's period from `since` and `until` (default: the current month so far, through today).
pub fn period(since: Option<&str>, until: Option<&str>) -> Result<(NaiveDate, NaiveDate), String> {
    let parse = |s: &str| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| format!("'{s}' is not a date (YYYY-MM-DD)"))
    };
    let today = chrono::Utc::now().date_naive();
    let until = match until {
        Some(u) => parse(u)?,
        None => today.succ_opt().unwrap_or(today),
    };
    let since = match since {
        Some(s) => parse(s)?,
        None => today.with_day0(0).unwrap_or(today),
    };
    if since >= until {
        return Err("since must be before until".into());
    }
    Ok((since, until))
}

use chrono::Datelike;

fn error(e: AwsError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [("content-type", json::CONTENT_TYPE)],
        json::error_body(&e),
    )
        .into_response()
}

pub async fn usage(State(state): State<Arc<AppState>>, request: Request) -> Response {
    match report(&state, request).await {
        Ok(body) => ([("content-type", "application/json")], body).into_response(),
        Err(e) => error(e),
    }
}

async fn report(state: &AppState, request: Request) -> Result<Vec<u8>, AwsError> {
    let (parts, _body) = request.into_parts();
    let empty = Bytes::new();
    let signed = RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &empty,
    };
    let principal = state.auth.authenticate(&signed, "cloudtrail").await?;
    let ctx = principal.into_context("", "LookupEvents", None, None);
    let context = m2sec_iam::authorizer::context(&ctx, &[]);
    state
        .authorizer
        .authorize(&ctx, "cloudtrail:LookupEvents", "*", &context)
        .await?;
    let query: Vec<(String, String)> = parts.uri.query().map(url_pairs).unwrap_or_default();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let (since, until) = period(get("since"), get("until")).map_err(AwsError::validation)?;
    // A failing trail holds nothing newer that could be read.
    let _ = state.trail.commit_pending().await;
    let report = m2sec_trail::usage::report(state.store.as_ref(), &ctx.account, since, until)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "usage report failed");
            AwsError::internal("InternalFailure", 500)
        })?;
    Ok(json::to_body(&report))
}

/// `a=1&b=2` → pairs (percent-decoded).
fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}
