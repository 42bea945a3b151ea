//! What the REST protocols (restXml, restJson1) share: choosing the operation from the method and
//! path by each operation's `requestUri` template ([`route`]), query strings, header text and HTTP
//! dates.

use chrono::DateTime;
use serde_json::Value;

use crate::model::ServiceModel;
use crate::xml_out::time;

/// Literal segments matched, and whether a fixed query part matched.
type Specificity = (usize, bool);
type Labels = Vec<(String, String)>;

/// The operation whose `requestUri` template matches `method` and `path`, with the values of its
/// `{labels}` (percent-decoded; a greedy `{Key+}` label spans several segments). `path` may carry a
/// query string (`/a/b?x`), which a template's fixed query part (`?x`) must then find. A trailing
/// slash on either side is ignored; when several templates match, the one with the most literal
/// segments wins.
pub fn route(
    model: &ServiceModel,
    method: &str,
    path: &str,
) -> Option<(String, Vec<(String, String)>)> {
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let query = query.map(decode_query).unwrap_or_default();
    let segments = split_path(path);
    let mut best: Option<(Specificity, String, Labels)> = None;
    for operation in model.operation_names() {
        let Some(http) = model.http(operation) else {
            continue;
        };
        if !http.method.eq_ignore_ascii_case(method) {
            continue;
        }
        let (template, fixed) = match http.request_uri.split_once('?') {
            Some((t, q)) => (t, Some(q)),
            None => (http.request_uri.as_str(), None),
        };
        if let Some(fixed) = fixed {
            let wanted = decode_query(fixed);
            if !wanted.iter().all(|(k, v)| {
                query
                    .iter()
                    .any(|(qk, qv)| qk == k && (v.is_empty() || qv == v))
            }) {
                continue;
            }
        }
        let Some((literals, labels)) = match_template(&split_path(template), &segments) else {
            continue;
        };
        let score = (literals, fixed.is_some());
        if best
            .as_ref()
            .is_none_or(|(s, op, _)| score > *s || (score == *s && operation < op.as_str()))
        {
            best = Some((score, operation.to_string(), labels));
        }
    }
    best.map(|(_, op, labels)| (op, labels))
}

/// Path segments without the leading slash and one trailing slash: `/a/b/` → `["a", "b"]`.
pub(crate) fn split_path(path: &str) -> Vec<&str> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = path.strip_suffix('/').unwrap_or(path);
    if path.is_empty() {
        Vec::new()
    } else {
        path.split('/').collect()
    }
}

/// The number of literal segments and the decoded labels when `template` matches `segments`.
pub(crate) fn match_template(
    template: &[&str],
    segments: &[&str],
) -> Option<(usize, Vec<(String, String)>)> {
    let mut labels = Vec::new();
    let mut literals = 0;
    let mut at = 0;
    for (i, part) in template.iter().enumerate() {
        let label = part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
        match label {
            Some(name) if name.ends_with('+') => {
                // Greedy: everything up to the literal segments still to come, at least one segment.
                let rest = template.len() - i - 1;
                let end = segments.len().checked_sub(rest)?;
                if end <= at || segments[at..end].iter().any(|s| s.is_empty()) {
                    return None;
                }
                let value = segments[at..end]
                    .iter()
                    .map(|s| percent_decode(s))
                    .collect::<Vec<_>>()
                    .join("/");
                labels.push((name.trim_end_matches('+').to_string(), value));
                at = end;
            }
            Some(name) => {
                let segment = segments.get(at).filter(|s| !s.is_empty())?;
                labels.push((name.to_string(), percent_decode(segment)));
                at += 1;
            }
            None => {
                if segments.get(at) != Some(part) {
                    return None;
                }
                literals += 1;
                at += 1;
            }
        }
    }
    (at == segments.len()).then_some((literals, labels))
}

pub(crate) fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// `&`-separated `key=value`, `+` for space, `%XX` escapes; the error is a message for the client.
pub(crate) fn decode_query_checked(query: &str) -> Result<Vec<(String, String)>, String> {
    let decode = |part: &str| -> Result<String, String> {
        let plus_free = part.replace('+', " ");
        percent_encoding::percent_decode_str(&plus_free)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| "The query string parameters are not valid UTF-8".to_string())
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(key)?, decode(value)?))
        })
        .collect()
}

pub(crate) fn decode_query(query: &str) -> Vec<(String, String)> {
    decode_query_checked(query).unwrap_or_default()
}

/// A header's value as text; the error is a message for the client.
pub(crate) fn header_text<'h>(value: &'h http::HeaderValue, name: &str) -> Result<&'h str, String> {
    value
        .to_str()
        .map_err(|_| format!("The {name} header is not valid text"))
}

pub(crate) fn header_scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An HTTP date (`Sat, 28 Nov 2026 15:00:00 GMT`), as timestamps in headers are sent.
pub(crate) fn http_date(value: &Value) -> Option<String> {
    Some(time(value)?.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
}

/// Epoch milliseconds from an HTTP date (RFC 7231, whose preferred form is RFC 822's with `GMT`).
pub(crate) fn parse_http_date(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// AWS names members in lowerCamelCase in validation messages: `MaxItems` → `maxItems`.
pub(crate) fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A member's path in validation messages: `path.member`, lowerCamelCase.
pub(crate) fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        camel(name)
    } else {
        format!("{path}.{}", camel(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_labels() {
        let m = |t: &str, p: &str| match_template(&split_path(t), &split_path(p));
        assert_eq!(
            m("/v/{Id}/rrset/", "/v/Z1/rrset"),
            Some((2, vec![("Id".into(), "Z1".into())]))
        );
        assert_eq!(
            m("/v/{Key+}/x", "/v/a/b%2Fc/d%20e/x"),
            Some((2, vec![("Key".into(), "a/b/c/d e".into())]))
        );
        assert_eq!(m("/v/{Key+}", "/v"), None);
        assert_eq!(m("/v/{Id}", "/v//"), None);
        assert_eq!(m("/v/{Id}", "/v/a/b"), None);
        assert_eq!(m("/v", "/v/"), Some((1, vec![])));
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            http_date(&Value::from(1_795_878_000)).unwrap(),
            "Sat, 28 Nov 2026 15:00:00 GMT"
        );
    }

    #[test]
    fn http_dates_parse() {
        assert_eq!(
            parse_http_date("Sat, 28 Nov 2026 15:00:00 GMT"),
            Some(1_795_878_000_000)
        );
        assert_eq!(parse_http_date("2026-11-28T15:00:00Z"), None);
    }
}
