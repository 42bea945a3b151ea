//! Parameter names, paths, ARNs, selectors and labels, with AWS's rules.

use m2sec_store::Scope;

use crate::error::{Result, SsmError};

/// AWS counts the whole ARN against this limit, not just the name.
pub const MAX_ARN_LEN: usize = 1011;
pub const MAX_LEVELS: usize = 15;

pub fn arn(scope: &Scope, name: &str) -> String {
    let resource = if name.starts_with('/') {
        format!("parameter{name}")
    } else {
        format!("parameter/{name}")
    };
    m2sec_proto::arn::build("ssm", &scope.region, &scope.account, &resource)
}

fn invalid_name(name: &str) -> SsmError {
    SsmError::Validation(format!(
        "Parameter name '{name}' is not valid: it can use only letters, numbers and the symbols . - _ ; \
         a hierarchy starts with / and its levels are separated by single / characters, with no / at the end."
    ))
}

fn reserved(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    lower.starts_with("aws") || lower.starts_with("ssm")
}

/// Checks a name for PutParameter.
pub fn check_name(scope: &Scope, name: &str) -> Result<()> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/'));
    if name.is_empty() || !valid_chars {
        return Err(invalid_name(name));
    }
    let segments: Vec<&str> = if let Some(path) = name.strip_prefix('/') {
        path.split('/').collect()
    } else if name.contains('/') {
        return Err(SsmError::Validation(format!(
            "Parameter name '{name}' is not valid: a parameter name with a hierarchy must be fully qualified, beginning with a forward slash (/)."
        )));
    } else {
        vec![name]
    };
    if segments.iter().any(|s| s.is_empty()) {
        return Err(invalid_name(name));
    }
    if reserved(segments[0]) {
        return Err(SsmError::Validation(
            "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, \
             it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, \
             numbers and the following 3 symbols .-_"
                .into(),
        ));
    }
    if segments.len() > MAX_LEVELS {
        return Err(SsmError::HierarchyLevelLimitExceeded);
    }
    if arn(scope, name).len() > MAX_ARN_LEN {
        return Err(SsmError::Validation(format!(
            "Parameter name is too long: with its ARN it may have at most {MAX_ARN_LEN} characters."
        )));
    }
    Ok(())
}

/// Which version a GetParameter(s) name asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Latest,
    Version(u32),
    Label(String),
}

impl Selector {
    /// As AWS echoes it in `Parameter.Selector`.
    pub fn text(&self) -> Option<String> {
        match self {
            Selector::Latest => None,
            Selector::Version(v) => Some(format!(":{v}")),
            Selector::Label(l) => Some(format!(":{l}")),
        }
    }
}

/// Splits `name[:selector]` (the name may also be the parameter's ARN). Returns the candidate names
/// (an ARN of a one-level name could mean `x` or `/x`) and the selector.
pub fn parse_reference(scope: &Scope, reference: &str) -> Result<(Vec<String>, Selector)> {
    let (names, selector_text) = if let Some(arn) = m2sec_proto::arn::Arn::parse(reference) {
        let resource = arn.resource;
        let Some(rest) = resource.strip_prefix("parameter/") else {
            return Err(SsmError::Validation(format!(
                "'{reference}' is not a parameter ARN"
            )));
        };
        if arn.service != "ssm" || arn.region != scope.region || arn.account != scope.account {
            return Err(SsmError::ParameterNotFound(format!(
                "Parameter {reference} not found."
            )));
        }
        let (path, selector) = match rest.split_once(':') {
            Some((p, s)) => (p, Some(s)),
            None => (rest, None),
        };
        let names = if path.contains('/') {
            vec![format!("/{path}")]
        } else {
            vec![format!("/{path}"), path.to_string()]
        };
        (names, selector)
    } else {
        match reference.split_once(':') {
            Some((n, s)) => (vec![n.to_string()], Some(s)),
            None => (vec![reference.to_string()], None),
        }
    };
    let selector = match selector_text {
        None => Selector::Latest,
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            Selector::Version(s.parse().map_err(|_| {
                SsmError::ParameterVersionNotFound(format!(
                    "Version {s} of {} does not exist.",
                    names[0]
                ))
            })?)
        }
        Some(s) if !s.is_empty() => Selector::Label(s.to_string()),
        Some(_) => {
            return Err(SsmError::Validation(format!(
                "'{reference}' has an empty version or label selector"
            )))
        }
    };
    Ok((names, selector))
}

/// Labels: at most 100 characters of letters, numbers, `.`, `-`, `_`; not starting with a digit, `aws`
/// or `ssm`.
pub fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 100
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        && !label.starts_with(|c: char| c.is_ascii_digit())
        && !reserved(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eu() -> Scope {
        Scope::new("000000000000", "eu-west-1")
    }

    #[test]
    fn names() {
        for ok in ["/can2025/prod/jwt-secret", "plain", "a.b-c_d", "/x"] {
            assert!(check_name(&eu(), ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a/b",
            "/a//b",
            "/a/",
            "/a b",
            "aws-thing",
            "/SSM/x",
            "a:b",
        ] {
            assert!(check_name(&eu(), bad).is_err(), "{bad}");
        }
        let deep = "/l".repeat(15);
        assert!(check_name(&eu(), &deep).is_ok());
        assert!(matches!(
            check_name(&eu(), &"/l".repeat(16)),
            Err(SsmError::HierarchyLevelLimitExceeded)
        ));
        assert_eq!(
            arn(&eu(), "/a/b"),
            "arn:aws:ssm:eu-west-1:000000000000:parameter/a/b"
        );
        assert_eq!(
            arn(&eu(), "a"),
            "arn:aws:ssm:eu-west-1:000000000000:parameter/a"
        );
    }

    #[test]
    fn references() {
        assert_eq!(
            parse_reference(&eu(), "/a/b:3").unwrap(),
            (vec!["/a/b".into()], Selector::Version(3))
        );
        assert_eq!(
            parse_reference(&eu(), "/a/b:live").unwrap().1,
            Selector::Label("live".into())
        );
        let (names, sel) =
            parse_reference(&eu(), "arn:aws:ssm:eu-west-1:000000000000:parameter/a/b:2").unwrap();
        assert_eq!(
            (names, sel),
            (vec!["/a/b".to_string()], Selector::Version(2))
        );
        let (names, _) =
            parse_reference(&eu(), "arn:aws:ssm:eu-west-1:000000000000:parameter/x").unwrap();
        assert_eq!(names, ["/x", "x"]);
        assert!(parse_reference(&eu(), "arn:aws:ssm:us-east-1:000000000000:parameter/x").is_err());
    }

    #[test]
    fn labels() {
        assert!(valid_label("live"));
        assert!(valid_label("release-1.2_b"));
        for bad in ["", "1st", "awsx", "SSM-x", "a b", "a/b", &"x".repeat(101)] {
            assert!(!valid_label(bad), "{bad}");
        }
    }
}
