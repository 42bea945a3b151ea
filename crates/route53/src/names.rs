//! DNS names as Route53 keeps them: lower case, absolute (a trailing dot), `*` for the `\052` escape.

/// The canonical form of `name`, or why it is not a DNS name.
pub fn normalize(name: &str) -> Result<String, String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err("the name is empty".into());
    }
    let mut out = trimmed.replace("\\052", "*").to_ascii_lowercase();
    if !out.ends_with('.') {
        out.push('.');
    }
    if out == "." {
        return Ok(out);
    }
    if out.len() > 255 {
        return Err(format!("{name} is longer than 255 characters"));
    }
    let labels: Vec<&str> = out.trim_end_matches('.').split('.').collect();
    for (i, label) in labels.iter().enumerate() {
        if label.is_empty() {
            return Err(format!("{name} has an empty label"));
        }
        if label.len() > 63 {
            return Err(format!("{name} has a label longer than 63 characters"));
        }
        if *label == "*" {
            if i != 0 {
                return Err(format!("{name}: a wildcard must be the leftmost label"));
            }
            continue;
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "{name} contains a character DNS names do not allow"
            ));
        }
    }
    Ok(out)
}

/// Whether `name` is `zone` or below it (both canonical).
pub fn is_within(name: &str, zone: &str) -> bool {
    zone == "." || name == zone || name.ends_with(&format!(".{zone}"))
}

/// The key Route53 lists record sets by: labels from the root down (`com.example.www`).
pub fn sort_key(name: &str) -> String {
    let mut labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    labels.reverse();
    labels.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_canonical() {
        assert_eq!(normalize("API.FanOps.com").unwrap(), "api.fanops.com.");
        assert_eq!(
            normalize("\\052.api.fanops.com.").unwrap(),
            "*.api.fanops.com."
        );
        assert_eq!(
            normalize("_a1b2.api.fanops.com").unwrap(),
            "_a1b2.api.fanops.com."
        );
        assert!(normalize("a..b").is_err());
        assert!(normalize("www.*.fanops.com").is_err());
        assert!(normalize("bad name.com").is_err());
        assert!(normalize(&format!("{}.com", "a".repeat(64))).is_err());
    }

    #[test]
    fn containment_and_order() {
        assert!(is_within("www.fanops.com.", "fanops.com."));
        assert!(is_within("fanops.com.", "fanops.com."));
        assert!(!is_within("notfanops.com.", "fanops.com."));
        let mut names = vec![
            "www.fanops.com.",
            "fanops.com.",
            "api.fanops.com.",
            "a.www.fanops.com.",
        ];
        names.sort_by_key(|n| sort_key(n));
        assert_eq!(
            names,
            vec![
                "fanops.com.",
                "api.fanops.com.",
                "www.fanops.com.",
                "a.www.fanops.com."
            ]
        );
    }
}
