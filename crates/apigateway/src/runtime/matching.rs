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

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Kind {
    Literal,
    Param,
    Greedy,
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

/// The best resource for `path` among `resources`.
pub fn resource<'a>(
    resources: impl IntoIterator<Item = &'a Resource>,
    path: &str,
) -> Option<Matched<'a>> {
    let path = segments(path);
    let mut best: Option<(Vec<Kind>, Matched<'a>)> = None;
    for r in resources {
        if let Some((kinds, params)) = match_template(&r.path, &path) {
            let better = match &best {
                None => true,
                Some((k, _)) => kinds < *k,
            };
            if better {
                best = Some((
                    kinds,
                    Matched {
                        resource: r,
                        params,
                    },
                ));
            }
        }
    }
    best.map(|(_, m)| m)
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
    fn greedy_needs_a_segment_and_nothing_else_matches_nothing() {
        let all = [res("/{proxy+}")];
        assert!(resource(all.iter(), "/").is_none());
        let only = [res("/a")];
        assert!(resource(only.iter(), "/b").is_none());
        assert!(resource(only.iter(), "/a/b").is_none());
    }
}
