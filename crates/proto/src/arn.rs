//! ARNs, built and parsed in one place.

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        (!arn.partition.is_empty() && !arn.service.is_empty()).then_some(arn)
    }
}

/// The partition every ARN m2sec makes is in.
pub const PARTITION: &str = "aws";

pub fn build(service: &str, region: &str, account: &str, resource: &str) -> String {
    format!("arn:{PARTITION}:{service}:{region}:{account}:{resource}")
}

/// An API Gateway resource ARN, `arn:aws:apigateway:REGION::PATH` (no account: the path names
/// the resource, `/restapis/a1b2c3`).
pub fn apigateway(region: &str, path: &str) -> String {
    build("apigateway", region, "", path)
}

/// The ARN of a method that callers invoke, `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH`.
pub fn execute_api(
    region: &str,
    account: &str,
    api: &str,
    stage: &str,
    method: &str,
    path: &str,
) -> String {
    build(
        "execute-api",
        region,
        account,
        &format!("{api}/{stage}/{method}{path}"),
    )
}

/// An IAM ARN, `arn:aws:iam::ACCOUNT:RESOURCE` (IAM is global: no region).
pub fn iam(account: &str, resource: &str) -> String {
    build("iam", "", account, resource)
}

/// The account itself (its root user), `arn:aws:iam::ACCOUNT:root`: the principal of default key
/// policies and of the admin key.
pub fn account_root(account: &str) -> String {
    iam(account, "root")
}

/// An STS ARN, `arn:aws:sts::ACCOUNT:RESOURCE` (assumed-role sessions).
pub fn sts(account: &str, resource: &str) -> String {
    build("sts", "", account, resource)
}

/// A Route53 ARN, `arn:aws:route53:::RESOURCE` (global, and without an account).
pub fn route53(resource: &str) -> String {
    build("route53", "", "", resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_build_agree() {
        let text = build(
            "kms",
            "eu-west-1",
            "000000000000",
            "alias/can2025-jwt-secret",
        );
        let arn = Arn::parse(&text).unwrap();
        assert_eq!(arn.service, "kms");
        assert_eq!(arn.region, "eu-west-1");
        assert_eq!(arn.account, "000000000000");
        assert_eq!(arn.resource, "alias/can2025-jwt-secret");
        assert!(Arn::parse("alias/x").is_none());
        assert!(Arn::parse("arn:aws:kms").is_none());
        assert_eq!(
            account_root("123456789012"),
            "arn:aws:iam::123456789012:root"
        );
        assert_eq!(
            sts("123456789012", "assumed-role/r/s"),
            "arn:aws:sts::123456789012:assumed-role/r/s"
        );
        assert_eq!(route53("hostedzone/Z1"), "arn:aws:route53:::hostedzone/Z1");
    }
}
