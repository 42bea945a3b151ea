//! API Gateway at the edge, as the server wires it: AWS_IAM methods checked with m2sec's own SigV4
//! verification and IAM policies (`execute-api:Invoke`), and the DNS names the edge answers to
//! (`*.execute-api.<region>.amazonaws.com` for default endpoints and regional domain names,
//! `*.cloudfront.net` for EDGE domain names), which m2sec's DNS server resolves to the edge.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use m2sec_apigateway::runtime::{Denied, InvokeAuthorizer};
use m2sec_proto::sigv4::RequestParts;
use m2sec_route53::zone::{Action, Change, RecordSet, Zone};

use crate::http::AppState;

/// AWS_IAM methods: the caller signs for `execute-api` and needs `execute-api:Invoke` on the
/// method's ARN, in the API's account.
pub struct IamInvoke {
    pub state: Arc<AppState>,
}

#[async_trait]
impl InvokeAuthorizer for IamInvoke {
    async fn authorize(
        &self,
        parts: &axum::http::request::Parts,
        body: &[u8],
        account: &str,
        method_arn: &str,
    ) -> Result<(), Denied> {
        let signed_by_query = parts
            .uri
            .query()
            .is_some_and(|q| q.contains("X-Amz-Signature="));
        if !parts.headers.contains_key("authorization") && !signed_by_query {
            return Err(Denied::MissingToken);
        }
        let request = RequestParts {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            body,
        };
        let auth = &self.state.auth;
        let pending = auth
            .begin(&request, "execute-api")
            .await
            .map_err(|e| Denied::Invalid(e.message))?;
        let principal = pending
            .finish(auth, &request)
            .map_err(|e| Denied::Invalid(e.message))?;
        let refused = |who: &str| {
            Denied::Forbidden(format!(
                "User: {who} is not authorized to perform: execute-api:Invoke on resource: {method_arn}"
            ))
        };
        if principal.account != account {
            return Err(refused(&principal.arn));
        }
        let who = principal.arn.clone();
        let ctx = principal.into_context(&m2sec_proto::random_uuid(), "Invoke", None, None);
        let context = m2sec_iam::authorizer::context(&ctx, &[]);
        self.state
            .authorizer
            .authorize(&ctx, "execute-api:Invoke", method_arn, &context)
            .await
            .map_err(|_| refused(&who))
    }
}

/// The regions whose default endpoint names m2sec answers (those API Gateway publishes a hosted
/// zone for, and the server's own).
fn regions(own: &str) -> Vec<String> {
    let mut all: Vec<String> = [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-north-1",
        "eu-south-1",
        "ap-northeast-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-south-1",
        "sa-east-1",
        "ca-central-1",
        "af-south-1",
        "me-south-1",
    ]
    .iter()
    .map(|r| r.to_string())
    .collect();
    if !all.iter().any(|r| r == own) {
        all.push(own.to_string());
    }
    all
}

fn wildcard_zone(id: &str, apex: &str, edge: IpAddr) -> Zone {
    let mut zone = Zone::new(
        id,
        &format!("{apex}."),
        id,
        Some("m2sec's edge".into()),
        false,
        0,
        &["ns1.m2sec.internal.".to_string()],
    );
    let kind = if edge.is_ipv4() { "A" } else { "AAAA" };
    let set = RecordSet {
        name: format!("*.{apex}."),
        kind: kind.into(),
        ttl: Some(60),
        records: vec![edge.to_string()],
        alias: None,
        set_identifier: None,
        weight: None,
    };
    if let Err(e) = zone.apply(&[Change {
        action: Action::Create,
        set,
    }]) {
        tracing::warn!(zone = apex, errors = ?e, "the edge's DNS zone could not be made");
    }
    zone
}

/// The zones that send the edge's names to `edge`.
pub fn edge_zones(edge: IpAddr, own_region: &str) -> Vec<Zone> {
    let mut zones: Vec<Zone> = regions(own_region)
        .iter()
        .map(|r| {
            wildcard_zone(
                &format!("M2SECEDGE{}", r.replace('-', "").to_ascii_uppercase()),
                &format!("execute-api.{r}.amazonaws.com"),
                edge,
            )
        })
        .collect();
    zones.push(wildcard_zone("M2SECEDGECLOUDFRONT", "cloudfront.net", edge));
    zones
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_names_resolve_to_the_edge() {
        let zones = edge_zones("127.0.0.7".parse().unwrap(), "eu-west-1");
        let name = "d-abc123.execute-api.eu-west-1.amazonaws.com.";
        let zone = m2sec_route53::store::enclosing(&zones, name).expect("a zone");
        match zone.resolve(name, "A") {
            m2sec_route53::zone::Answer::Records(sets) => {
                assert_eq!(sets[0].records, vec!["127.0.0.7".to_string()])
            }
            _ => panic!("no A record for {name}"),
        }
    }
}
