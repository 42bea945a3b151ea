//! Every operation of botocore's STS model, implemented or not (GetCallerIdentity and AssumeRole are;
//! the rest answers `UnsupportedOperation`). The test checks this list against the model.

m2sec_proto::service_operations!(StsOperation, "sts", {
    AssumeRole => true,
    AssumeRoleWithSAML => false,
    AssumeRoleWithWebIdentity => false,
    AssumeRoot => false,
    DecodeAuthorizationMessage => false,
    GetAccessKeyInfo => false,
    GetCallerIdentity => true,
    GetDelegatedAccessToken => false,
    GetFederationToken => false,
    GetSessionToken => false,
    GetWebIdentityToken => false,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_operation_is_listed_and_nothing_else() {
        let listed: Vec<&str> = StsOperation::ALL.iter().map(|o| o.name()).collect();
        m2sec_proto::operations::check_operations(crate::sts::model(), &listed);
        assert_eq!(
            StsOperation::ALL.iter().filter(|o| o.implemented()).count(),
            2
        );
    }
}
