//! Which resource of a deployment answers a path, as API Gateway chooses: a literal segment beats a
//! `{param}`, which beats a greedy `{proxy+}` (which takes one or more segments, and only last).

use std::collections::BTreeMap;

use crate::records::{Method, Resource};

/// The resource matched, with its path parameters (`proxy` → `a/b/c`).
#[derive(Debug)]
pub struct Matched<'a> {
    pub resource: &'a Resource,
    pub params: BTreeMap<String, String>,
}

/// A segment's kind, as ranked: lower is more specific. 0 marks the end of a template in a
/// [`Rank`].
#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Kind {
    Literal = 1,
    Param = 2,
    Greedy = 3,
}

/// A template's segment kinds, two bits each from the most significant down, so that comparing two
/// ranks compares the kinds in order (a template that ends first ranks first, as a shorter list
/// would). Segments past the 64th do not count: such templates rank as equals there.
#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
struct Rank(u128);

impl Rank {
    fn of(kinds: impl Iterator<Item = Kind>) -> Rank {
        let mut rank = 0u128;
        for (i, kind) in kinds.take(64).enumerate() {
            rank |= (kind as u128) << (126 - 2 * i);
        }
        Rank(rank)
    }
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// How `template` (a resource path) matches `path`, as the kinds of its segments (for ranking) and
/// the parameters; None if it does not.
fn match_template(template: &str, path: &[&str]) -> Option<(Vec<Kind>, BTreeMap<String, String>)> {
    let parts = segments(template);
    let mut kinds = Vec::with_capacity(parts.len());
    let mut params = BTreeMap::new();
    for (i, part) in parts.iter().enumerate() {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            if i != parts.len() - 1 || path.len() <= i {
                return None;
            }
            params.insert(name.to_string(), path[i..].join("/"));
            kinds.push(Kind::Greedy);
            return Some((kinds, params));
        }
        let segment = path.get(i)?;
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            params.insert(name.to_string(), segment.to_string());
            kinds.push(Kind::Param);
        } else if part == segment {
            kinds.push(Kind::Literal);
        } else {
            return None;
        }
    }
    (parts.len() == path.len()).then_some((kinds, params))
}

/// How `template` matches `path`, ranked, without taking its parameters; None if it does not.
fn rank(template: &str, path: &[&str]) -> Option<Rank> {
    let mut kinds = [Kind::Literal; 64];
    let mut count = 0;
    let mut parts = template.split('/').filter(|s| !s.is_empty()).peekable();
    let mut i = 0;
    while let Some(part) = parts.next() {
        let kind = if part.starts_with('{') && part.ends_with("+}") {
            if parts.peek().is_some() || path.len() <= i {
                return None;
            }
            i = path.len();
            Kind::Greedy
        } else {
            let segment = path.get(i)?;
            i += 1;
            if part.starts_with('{') && part.ends_with('}') {
                Kind::Param
            } else if part == *segment {
                Kind::Literal
            } else {
                return None;
            }
        };
        if count < kinds.len() {
            kinds[count] = kind;
            count += 1;
        }
    }
    (i == path.len()).then(|| Rank::of(kinds[..count].iter().copied()))
}

/// The best resource for `path` among `resources`. Each is ranked without allocating; only the
/// winner's parameters are taken.
pub fn resource<'a>(
    resources: impl IntoIterator<Item = &'a Resource>,
    path: &str,
) -> Option<Matched<'a>> {
    let path = segments(path);
    let mut best: Option<(Rank, &'a Resource)> = None;
    for r in resources {
        if let Some(rank) = rank(&r.path, &path) {
            if best.is_none_or(|(b, _)| rank < b) {
                best = Some((rank, r));
            }
        }
    }
    let (_, resource) = best?;
    let (_, params) = match_template(&resource.path, &path)?;
    Some(Matched { resource, params })
}

/// The method of `resource` for an HTTP method: its own, else `ANY`.
pub fn method<'a>(resource: &'a Resource, http_method: &str) -> Option<&'a Method> {
    resource
        .resource_methods
        .get(&http_method.to_ascii_uppercase())
        .or_else(|| resource.resource_methods.get("ANY"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> Resource {
        Resource {
            id: path.into(),
            parent_id: None,
            path_part: None,
            path: path.into(),
            resource_methods: Default::default(),
        }
    }

    #[test]
    fn literals_beat_params_beat_greedy() {
        let all = [
            res("/"),
            res("/tickets"),
            res("/tickets/{id}"),
            res("/tickets/verify"),
            res("/{proxy+}"),
        ];
        let m = |p: &str| resource(all.iter(), p).map(|m| (m.resource.path.clone(), m.params));
        assert_eq!(m("/").unwrap().0, "/");
        assert_eq!(m("/tickets").unwrap().0, "/tickets");
        assert_eq!(m("/tickets/verify").unwrap().0, "/tickets/verify");
        let (p, params) = m("/tickets/T-1").unwrap();
        assert_eq!(p, "/tickets/{id}");
        assert_eq!(params["id"], "T-1");
        let (p, params) = m("/security/metrics/today").unwrap();
        assert_eq!(p, "/{proxy+}");
        assert_eq!(params["proxy"], "security/metrics/today");
        let (p, _) = m("/tickets/T-1/scans").unwrap();
        assert_eq!(p, "/{proxy+}");
    }

    #[test]
    fn ranks_order_as_the_kinds_do() {
        let path = segments("/a/b/c");
        let templates = [
            "/a/b/c",
            "/a/b/{x}",
            "/a/{x}/c",
            "/{x}/b/c",
            "/a/{proxy+}",
            "/{x}/{proxy+}",
            "/{proxy+}",
            "/a/b/{proxy+}",
        ];
        for a in templates {
            for b in templates {
                let (ka, _) = match_template(a, &path).unwrap();
                let (kb, _) = match_template(b, &path).unwrap();
                let (ra, rb) = (rank(a, &path).unwrap(), rank(b, &path).unwrap());
                assert_eq!(ka.cmp(&kb), ra.cmp(&rb), "{a} vs {b}");
            }
        }
        assert!(rank("/a/b", &path).is_none());
        assert!(rank("/a/b/c/d", &path).is_none());
        assert!(rank("/{proxy+}/c", &path).is_none());
    }

    #[test]
    fn greedy_needs_a_segment_and_nothing_else_matches_nothing() {
        let all = [res("/{proxy+}")];
        assert!(resource(all.iter(), "/").is_none());
        let only = [res("/a")];
        assert!(resource(only.iter(), "/b").is_none());
        assert!(resource(only.iter(), "/a/b").is_none());
    }
}
