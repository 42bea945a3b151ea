//! XML out, for the protocols that answer in XML (awsQuery, restXml): elements written from a JSON value
//! shaped like a model shape, with AWS's list, map and timestamp conventions.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::model::{ServiceModel, ShapeId, ShapeKind};
use crate::AwsError;

pub(crate) fn namespace(model: &ServiceModel, out: &mut String) {
    if let Some(ns) = &model.metadata.xml_namespace {
        out.push_str(" xmlns=\"");
        escape(ns, out);
        out.push('"');
    }
    out.push('>');
}

pub(crate) fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

pub(crate) fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// The members of structure `shape` present in `value`, without a wrapping element.
pub(crate) fn write_members(model: &ServiceModel, shape: ShapeId, value: &Value, out: &mut String) {
    let (ShapeKind::Structure { members, .. }, Value::Object(object)) =
        (model.shape_kind(shape), value)
    else {
        return;
    };
    for member in members {
        if let Some(v) = object.get(&member.name) {
            write(
                model,
                member.shape,
                member.flattened,
                member.wire_name(),
                v,
                out,
            );
        }
    }
}

/// `value` as `shape` in element(s) named `name`.
pub(crate) fn write(
    model: &ServiceModel,
    shape: ShapeId,
    flattened: bool,
    name: &str,
    value: &Value,
    out: &mut String,
) {
    match (model.shape_kind(shape), value) {
        (_, Value::Null) => {}
        (ShapeKind::Structure { .. }, Value::Object(_)) => {
            open(out, name);
            write_members(model, shape, value, out);
            close(out, name);
        }
        (ShapeKind::List(element), Value::Array(items)) => {
            if flattened {
                let name = element.location_name.as_deref().unwrap_or(name);
                for item in items {
                    write(model, element.shape, element.flattened, name, item, out);
                }
            } else {
                open(out, name);
                for item in items {
                    let element_name = element.wire_name();
                    write(
                        model,
                        element.shape,
                        element.flattened,
                        element_name,
                        item,
                        out,
                    );
                }
                close(out, name);
            }
        }
        (ShapeKind::Map(key, val), Value::Object(entries)) => {
            if !flattened {
                open(out, name);
            }
            let entry = if flattened { name } else { "entry" };
            for (k, v) in entries {
                open(out, entry);
                open(out, key.wire_name());
                escape(k, out);
                close(out, key.wire_name());
                write(model, val.shape, val.flattened, val.wire_name(), v, out);
                close(out, entry);
            }
            if !flattened {
                close(out, name);
            }
        }
        (ShapeKind::Structure { .. } | ShapeKind::List(_) | ShapeKind::Map(..), _) => {}
        (kind, value) => {
            open(out, name);
            match (kind, value) {
                (ShapeKind::Timestamp, v) => match timestamp(v) {
                    Some(t) => out.push_str(&t),
                    None => scalar(v, out),
                },
                (ShapeKind::Integer, Value::Number(n))
                    if n.as_f64().is_some_and(|f| f.fract() == 0.0) =>
                {
                    match n.as_i64() {
                        Some(i) => out.push_str(&i.to_string()),
                        None => out.push_str(&n.to_string()),
                    }
                }
                (_, v) => scalar(v, out),
            }
            close(out, name);
        }
    }
}

pub(crate) fn scalar(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => escape(s, out),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        _ => {}
    }
}

/// A time from epoch seconds (a number or a numeric string) or an RFC 3339 string.
pub(crate) fn time(value: &Value) -> Option<DateTime<Utc>> {
    let millis = match value {
        Value::Number(n) => (n.as_f64()? * 1000.0).round() as i64,
        Value::String(s) => match s.trim().parse::<f64>() {
            Ok(seconds) => (seconds * 1000.0).round() as i64,
            Err(_) => DateTime::parse_from_rfc3339(s.trim())
                .ok()?
                .timestamp_millis(),
        },
        _ => return None,
    };
    DateTime::<Utc>::from_timestamp_millis(millis)
}

/// ISO 8601 in UTC (`2026-11-28T15:00:00Z`, milliseconds when present) of [`time`].
pub(crate) fn timestamp(value: &Value) -> Option<String> {
    let time = time(value)?;
    let precision = if time.timestamp_subsec_millis() == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Millis
    };
    Some(time.to_rfc3339_opts(precision, true))
}

/// Escapes text for element content and attribute values. Characters XML cannot carry become U+FFFD;
/// `\r` is written as a reference so parsers do not normalize it away.
pub(crate) fn escape(text: &str, out: &mut String) {
    let plain = |c: char| {
        !matches!(
            c,
            '&' | '<' | '>' | '"' | '\'' | '\r' | '\u{fffe}' | '\u{ffff}'
        ) && (c >= ' ' || c == '\n' || c == '\t')
    };
    if text.chars().all(plain) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c if plain(c) => out.push(c),
            _ => out.push('\u{fffd}'),
        }
    }
}

/// `<ErrorResponse xmlns="NS"><Error><Type>Sender|Receiver</Type><Code>…</Code><Message>…</Message>
/// </Error><RequestId>…</RequestId></ErrorResponse>`, after `prolog`. The fault side comes from the
/// model's exception with this code, else from the status (5xx: `Receiver`).
pub(crate) fn error_document(
    model: &ServiceModel,
    err: &AwsError,
    request_id: &str,
    prolog: &str,
) -> String {
    let sender = model
        .errors()
        .find(|(_, e)| e.code == err.code)
        .map_or(err.status < 500, |(_, e)| e.sender_fault);
    let mut out = String::with_capacity(256 + err.message.len());
    out.push_str(prolog);
    out.push_str("<ErrorResponse");
    namespace(model, &mut out);
    out.push_str("<Error><Type>");
    out.push_str(if sender { "Sender" } else { "Receiver" });
    out.push_str("</Type><Code>");
    escape(&err.code, &mut out);
    out.push_str("</Code><Message>");
    escape(&err.message, &mut out);
    out.push_str("</Message></Error><RequestId>");
    escape(request_id, &mut out);
    out.push_str("</RequestId></ErrorResponse>");
    out
}
