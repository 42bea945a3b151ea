//! Request bodies: how large, how slow and how many at once.
//!
//! A body is read only after the request's claim passed every check that needs no body (see
//! `Authenticator::begin`), so an unsigned or unknown caller never makes m2sec buffer one. What is read
//! is bounded three ways: each body by `max_bytes` (an announced `Content-Length` above it is refused
//! before a byte is read), each read by a deadline (a client trickling its body is cut off), and all
//! bodies held at once by one memory budget, so many slow or large requests together cannot exhaust
//! memory. A request that cannot get its share of the budget soon is answered 503 and may be retried.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use futures_util::FutureExt;
use http_body_util::BodyExt;
use m2sec_proto::AwsError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How much of an oversized body is still read (and dropped) after the 413 is sent, so that clients
/// which send the whole body before reading the answer (botocore does) see the 413 rather than a reset
/// connection. Nothing of it is kept.
const OVERSIZE_DRAIN_BYTES: usize = 16 * 1024 * 1024;
/// How long that draining may take.
const OVERSIZE_DRAIN_TIME: Duration = Duration::from_secs(5);
/// The largest body of a refused request read (and dropped) to keep its connection open.
const DISCARD_MAX_BYTES: usize = 64 * 1024;
/// How long a request waits for its share of the memory budget before it is answered 503.
const BUDGET_WAIT: Duration = Duration::from_secs(5);

pub struct BodyLimits {
    /// Largest body accepted, in bytes.
    pub max_bytes: usize,
    /// Services (by SigV4 signing name) whose largest body is their own: DynamoDB takes 16 MB.
    service_max: Vec<(&'static str, usize)>,
    /// Time a body has to arrive in full, from the moment m2sec starts reading it.
    pub timeout: Duration,
    /// Bytes of all bodies being read or held at once.
    budget: Arc<Semaphore>,
}

impl BodyLimits {
    pub fn new(max_bytes: usize, timeout: Duration, budget_bytes: usize) -> Self {
        BodyLimits {
            max_bytes,
            service_max: Vec::new(),
            timeout,
            // At least one full body fits, whatever the setting.
            budget: Arc::new(Semaphore::new(
                budget_bytes.clamp(max_bytes.max(1), Semaphore::MAX_PERMITS),
            )),
        }
    }

    /// `service`'s bodies may be up to `max_bytes` (the memory budget grows to hold one, if need be).
    pub fn with_service_max(mut self, service: &'static str, max_bytes: usize) -> Self {
        self.service_max.push((service, max_bytes));
        if let Some(short) = max_bytes.checked_sub(self.budget.available_permits()) {
            self.budget
                .add_permits(short.min(Semaphore::MAX_PERMITS - self.budget.available_permits()));
        }
        self
    }

    /// The largest body accepted for a request signed for `signing_name`.
    pub fn max_for(&self, signing_name: &str) -> usize {
        self.service_max
            .iter()
            .find(|(name, _)| *name == signing_name)
            .map_or(self.max_bytes, |(_, max)| *max)
    }
}

/// A body read in full, holding its share of the memory budget until it is dropped.
pub struct ReadBody {
    pub bytes: Bytes,
    _budget: Option<OwnedSemaphorePermit>,
}

impl std::ops::Deref for ReadBody {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

pub fn too_large(max: usize) -> AwsError {
    AwsError::new(
        "RequestEntityTooLargeException",
        413,
        format!("The request body is larger than {max} bytes"),
    )
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
}

/// Reads the body of an authenticated request within the limits, `max_bytes` at most.
pub async fn read(
    body: Body,
    headers: &HeaderMap,
    limits: &BodyLimits,
    max_bytes: usize,
) -> Result<ReadBody, AwsError> {
    let declared = declared_length(headers);
    if declared == Some(0) {
        return Ok(ReadBody {
            bytes: Bytes::new(),
            _budget: None,
        });
    }
    if declared.is_some_and(|n| n > max_bytes) {
        // Refused before a byte is read. A client that waits for `100 Continue` never gets it (the
        // body is never polled) and sends nothing; any other is drained in the background.
        if !expects_continue(headers) {
            tokio::spawn(drain(body));
        }
        return Err(too_large(max_bytes));
    }
    // What is announced is reserved up front, up to the general limit: a larger body (a service
    // taking more, such as DynamoDB) takes the rest of its budget as it arrives, so that clients
    // announcing large bodies and sending nothing cannot hold the budget for their announcements.
    let reserve = declared.unwrap_or(0).min(limits.max_bytes);
    let mut permit = reserve_budget(limits, reserve, max_bytes).await?;
    let mut reserved = reserve;
    let mut buf = bytes::BytesMut::with_capacity(reserve);
    let mut body = body;
    let deadline = tokio::time::Instant::now() + limits.timeout;
    loop {
        // A frame already received is taken without a timer (timers share one lock in tokio's driver).
        let next = match std::pin::pin!(body.frame()).now_or_never() {
            Some(next) => Ok(next),
            None => tokio::time::timeout_at(deadline, body.frame()).await,
        };
        let frame = match next {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(_) => {
                tracing::info!(
                    received = buf.len(),
                    timeout_secs = limits.timeout.as_secs_f64(),
                    "request body not received in time; connection closed"
                );
                return Err(AwsError::new(
                    "RequestTimeoutException",
                    408,
                    format!(
                        "The request body was not received within {} seconds",
                        limits.timeout.as_secs()
                    ),
                ));
            }
        };
        let frame =
            frame.map_err(|_| AwsError::serialization("The request body could not be read"))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if buf.len() + chunk.len() > max_bytes {
            tokio::spawn(drain(body));
            return Err(too_large(max_bytes));
        }
        // A body without Content-Length (chunked), or beyond what was reserved, takes its budget
        // as it grows.
        if buf.len() + chunk.len() > reserved {
            let more = buf.len() + chunk.len() - reserved;
            if let Some(extra) = reserve_budget(limits, more, max_bytes).await? {
                match permit.as_mut() {
                    Some(held) => held.merge(extra),
                    None => permit = Some(extra),
                }
            }
            reserved += more;
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(ReadBody {
        bytes: buf.freeze(),
        _budget: permit,
    })
}

async fn reserve_budget(
    limits: &BodyLimits,
    bytes: usize,
    max_bytes: usize,
) -> Result<Option<OwnedSemaphorePermit>, AwsError> {
    if bytes == 0 {
        return Ok(None);
    }
    let n = u32::try_from(bytes).map_err(|_| too_large(max_bytes))?;
    if let Ok(permit) = limits.budget.clone().try_acquire_many_owned(n) {
        return Ok(Some(permit));
    }
    match tokio::time::timeout(BUDGET_WAIT, limits.budget.clone().acquire_many_owned(n)).await {
        Ok(Ok(permit)) => Ok(Some(permit)),
        _ => {
            tracing::warn!(
                bytes,
                "request refused: the memory budget for request bodies is in use (max_inflight_body_bytes)"
            );
            Err(AwsError::new(
                "ServiceUnavailableException",
                503,
                "Too many request bodies are being received at once. Retry the request.",
            ))
        }
    }
}

/// Leaves the body of a request refused before it was read (no such operation, no valid claim) to be
/// read and dropped in the background: a keep-alive client's connection then carries its next
/// request, where a body left unread would have it closed under the client. Only a body announced
/// as small is read so ([`DISCARD_MAX_BYTES`]; an API call's is); a larger one, or one of unknown
/// length, is left unread and its connection closed, so that an unauthenticated client cannot make
/// m2sec receive megabytes for nothing. Nothing of it is kept.
pub fn discard(body: Body, headers: &HeaderMap) {
    // A client waiting for `100 Continue` sends nothing unless the body is polled: it is not asked
    // for a body already refused.
    let small = declared_length(headers).is_some_and(|n| n > 0 && n <= DISCARD_MAX_BYTES);
    if small && !expects_continue(headers) {
        tokio::spawn(drain(body));
    }
}

/// Reads and drops what is left of a refused body, within bounds.
async fn drain(mut body: Body) {
    let _ = tokio::time::timeout(OVERSIZE_DRAIN_TIME, async {
        let mut total = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(chunk) = frame.into_data() {
                total += chunk.len();
                if total > OVERSIZE_DRAIN_BYTES {
                    break;
                }
            }
        }
    })
    .await;
}
