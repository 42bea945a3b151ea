//! Wildcard patterns (`*`, `?`) and policy variables (`${aws:username}`).
//!
//! A pattern is first turned into [`Tok`]ens, so that characters that came from a policy variable, or from
//! the escapes `${*}`, `${?}` and `${$}`, stay literal: a user named `bob*` does not become a wildcard.

use std::borrow::Cow;

use super::Context;

/// One element of a wildcard pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(char),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters, possibly empty.
    Star,
}

/// Appends the tokens of `text`, reading `*` and `?` as wildcards.
pub(crate) fn push_tokens(text: &str, out: &mut Vec<Tok>) {
    out.extend(text.chars().map(|c| match c {
        '*' => Tok::Star,
        '?' => Tok::One,
        c => Tok::Lit(c),
    }));
}

pub(crate) fn tokens(text: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(text.len());
    push_tokens(text, &mut out);
    out
}

/// Whether `text` matches `pattern`.
///
/// With `arn_segments`, the pattern is a resource ARN as the `Resource` element reads it: `?` and a `*`
/// inside an ARN segment stay within that segment, while a `*` that ends a segment (followed by `:` or
/// by the end of the pattern) may run past colons, as AWS documents for resource ARNs.
pub(crate) fn glob_match(pattern: &[Tok], text: &str, arn_segments: bool) -> bool {
    if !pattern.iter().any(|t| matches!(t, Tok::Star | Tok::One)) {
        return pattern.len() == text.chars().count()
            && pattern
                .iter()
                .zip(text.chars())
                .all(|(t, c)| *t == Tok::Lit(c));
    }
    if pattern == [Tok::Star] {
        return true;
    }
    let text: Vec<char> = text.chars().collect();
    // reachable[j]: the pattern read so far matches the first j characters of the text.
    let mut reachable = vec![false; text.len() + 1];
    let mut next = vec![false; text.len() + 1];
    reachable[0] = true;
    for (i, tok) in pattern.iter().enumerate() {
        next.iter_mut().for_each(|r| *r = false);
        match tok {
            Tok::Lit(c) => {
                for j in 1..=text.len() {
                    next[j] = reachable[j - 1] && text[j - 1] == *c;
                }
            }
            Tok::One => {
                for j in 1..=text.len() {
                    next[j] = reachable[j - 1] && !(arn_segments && text[j - 1] == ':');
                }
            }
            Tok::Star => {
                let crosses =
                    !arn_segments || matches!(pattern.get(i + 1), None | Some(Tok::Lit(':')));
                next[0] = reachable[0];
                for j in 1..=text.len() {
                    next[j] = reachable[j] || (next[j - 1] && (crosses || text[j - 1] != ':'));
                }
            }
        }
        std::mem::swap(&mut reachable, &mut next);
        if !reachable.iter().any(|r| *r) {
            return false;
        }
    }
    reachable[text.len()]
}

/// `ArnEquals` / `ArnLike`: each of the six colon-separated parts of the ARN is matched on its own, so a
/// wildcard never spans two parts (the sixth part, the resource, may itself contain colons).
pub(crate) fn arn_match(pattern: &[Tok], text: &str) -> bool {
    if pattern == [Tok::Star] {
        return true;
    }
    let mut pattern_parts: Vec<&[Tok]> = Vec::with_capacity(6);
    let mut rest = pattern;
    while pattern_parts.len() < 5 {
        match rest.iter().position(|t| *t == Tok::Lit(':')) {
            Some(at) => {
                pattern_parts.push(&rest[..at]);
                rest = &rest[at + 1..];
            }
            None => break,
        }
    }
    pattern_parts.push(rest);
    let text_parts: Vec<&str> = text.splitn(6, ':').collect();
    pattern_parts.len() == 6
        && text_parts.len() == 6
        && pattern_parts
            .iter()
            .zip(&text_parts)
            .all(|(p, t)| glob_match(p, t, false))
}

/// A piece of a policy string that may hold variables.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Plain policy text; `*` and `?` in it are wildcards where the operator reads wildcards.
    Text(String),
    /// `${*}`, `${?}` or `${$}`: the character itself, never a wildcard.
    Escaped(char),
    /// `${key}` or `${key, 'default'}`; `key` is lowercased like every condition key.
    Var {
        key: String,
        default: Option<String>,
    },
}

/// A string from a policy's `Resource` element or a condition value, with its policy variables.
///
/// Only `"Version": "2012-10-17"` policies have variables; older documents are read literally, as in AWS.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    raw: String,
    pieces: Vec<Piece>,
    /// The wildcard tokens when there is no variable, computed once.
    fixed: Option<Vec<Tok>>,
}

impl Template {
    /// `raw` with no variable substitution.
    pub(crate) fn literal(raw: &str) -> Template {
        Template {
            raw: raw.to_string(),
            pieces: vec![Piece::Text(raw.to_string())],
            fixed: Some(tokens(raw)),
        }
    }

    /// `raw` with its `${…}` variables. A `${` without a well-formed variable after it is kept as text.
    pub(crate) fn with_variables(raw: &str) -> Template {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = raw;
        while let Some(at) = rest.find("${") {
            text.push_str(&rest[..at]);
            match parse_variable(&rest[at + 2..]) {
                Some((piece, used)) => {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(piece);
                    rest = &rest[at + 2 + used..];
                }
                None => {
                    text.push_str("${");
                    rest = &rest[at + 2..];
                }
            }
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        let fixed = match pieces.as_slice() {
            [] => Some(Vec::new()),
            [Piece::Text(t)] => Some(tokens(t)),
            _ => None,
        };
        Template {
            raw: raw.to_string(),
            pieces,
            fixed,
        }
    }

    /// Whether the text depends on the request (variables) or holds escapes, so is read at evaluation.
    pub(crate) fn has_variables(&self) -> bool {
        self.fixed.is_none()
    }

    /// The string with variables replaced; `None` when a variable has no single value and no default
    /// (AWS: "the value is effectively null. There is no equal or like value").
    pub(crate) fn text(&self, context: &Context) -> Option<Cow<'_, str>> {
        if self.fixed.is_some() {
            return Some(Cow::Borrowed(&self.raw));
        }
        let mut out = String::with_capacity(self.raw.len());
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Escaped(c) => out.push(*c),
                Piece::Var { key, default } => out.push_str(resolve(key, default, context)?),
            }
        }
        Some(Cow::Owned(out))
    }

    /// The wildcard tokens with variables replaced by literal characters; `None` as for [`Self::text`].
    pub(crate) fn glob(&self, context: &Context) -> Option<Cow<'_, [Tok]>> {
        if let Some(fixed) = &self.fixed {
            return Some(Cow::Borrowed(fixed));
        }
        let mut out = Vec::with_capacity(self.raw.len());
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => push_tokens(t, &mut out),
                Piece::Escaped(c) => out.push(Tok::Lit(*c)),
                Piece::Var { key, default } => {
                    out.extend(resolve(key, default, context)?.chars().map(Tok::Lit))
                }
            }
        }
        Some(Cow::Owned(out))
    }
}

/// A variable's value: the key's only value in the request, else the default. Multivalued keys cannot
/// be variables in AWS, so they resolve like a missing key.
fn resolve<'a>(key: &str, default: &'a Option<String>, context: &'a Context) -> Option<&'a str> {
    match context.get_lowercase(key) {
        Some([single]) => Some(single),
        _ => default.as_deref(),
    }
}

/// Reads a variable body after `${`; returns the piece and the bytes used, including the closing `}`.
fn parse_variable(body: &str) -> Option<(Piece, usize)> {
    let close = body.find('}')?;
    let head = &body[..close];
    match head.trim() {
        "*" => return Some((Piece::Escaped('*'), close + 1)),
        "?" => return Some((Piece::Escaped('?'), close + 1)),
        "$" => return Some((Piece::Escaped('$'), close + 1)),
        _ => {}
    }
    let Some(comma) = head.find(',') else {
        let key = valid_key(head)?;
        return Some((Piece::Var { key, default: None }, close + 1));
    };
    let key = valid_key(&head[..comma])?;
    // The default is quoted with ' and may contain '' (one quote), and also `}`: scan it by hand.
    let after_comma = &body[comma + 1..];
    let quoted = after_comma.trim_start();
    let mut chars = quoted.char_indices();
    if chars.next()?.1 != '\'' {
        return None;
    }
    let mut default = String::new();
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if quoted[i + 1..].starts_with('\'') {
                default.push('\'');
                chars.next();
            } else {
                end = Some(i + 1);
                break;
            }
        } else {
            default.push(c);
        }
    }
    let after_quote = &quoted[end?..];
    let trailing = after_quote.len() - after_quote.trim_start().len();
    if !after_quote.trim_start().starts_with('}') {
        return None;
    }
    let used = (body.len() - quoted.len()) + end? + trailing + 1;
    Some((
        Piece::Var {
            key,
            default: Some(default),
        },
        used,
    ))
}

fn valid_key(key: &str) -> Option<String> {
    let key = key.trim();
    let ok = !key.is_empty()
        && key.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_' | '-' | '.' | '@' | '+' | '=')
        });
    ok.then(|| key.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        glob_match(&tokens(pattern), text, true)
    }

    #[test]
    fn resource_wildcards() {
        assert!(m(
            "arn:aws:kms:eu-west-1:*:key/*",
            "arn:aws:kms:eu-west-1:111122223333:key/abc"
        ));
        assert!(!m(
            "arn:aws:kms:eu-west-1:*:key/*",
            "arn:aws:kms:us-east-1:111122223333:key/abc"
        ));
        assert!(m("arn:aws:kms:*", "arn:aws:kms:eu-west-1:1:key/x"));
        assert!(!m(
            "arn:aws:kms:eu-*-1:1:key/x",
            "arn:aws:kms:eu-west:x-1:1:key/x"
        ));
        assert!(m(
            "arn:aws:kms:eu-*-1:1:key/x",
            "arn:aws:kms:eu-west-1:1:key/x"
        ));
        assert!(!m(
            "arn:aws:kms:eu-west-?:1:key/x",
            "arn:aws:kms:eu-west-:1:key/x"
        ));
        assert!(m("*", "*"));
        assert!(!m("arn:aws:kms:*:*:key/*", "*"));
    }

    #[test]
    fn arn_parts() {
        assert!(arn_match(
            &tokens("arn:aws:sns:*:123:topic"),
            "arn:aws:sns:eu-west-1:123:topic"
        ));
        assert!(!arn_match(
            &tokens("arn:aws:sns:*"),
            "arn:aws:sns:eu-west-1:123:topic"
        ));
        assert!(arn_match(
            &tokens("arn:aws:logs:*:*:log-group:*"),
            "arn:aws:logs:r:1:log-group:a:b"
        ));
    }

    #[test]
    fn variables() {
        let mut context = Context::new();
        context.insert("aws:username", "bob*");
        let t = Template::with_variables("home/${aws:username}/${*}${ aws:userid , 'it''s}' }x");
        assert_eq!(t.text(&context).as_deref(), Some("home/bob*/*it's}x"));
        let glob = t.glob(&context).unwrap();
        assert!(glob_match(&glob, "home/bob*/*it's}x", false));
        assert!(!glob_match(&glob, "home/bobby/*it's}x", false));
        assert!(Template::with_variables("${aws:userid}")
            .text(&context)
            .is_none());
        assert_eq!(
            Template::with_variables("${nope").text(&context).as_deref(),
            Some("${nope")
        );
        assert_eq!(
            Template::with_variables("a${b c}")
                .text(&context)
                .as_deref(),
            Some("a${b c}")
        );
    }
}
