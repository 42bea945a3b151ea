//! Every operation of botocore's Route53 model, implemented or not (hosted zones, record sets and
//! changes are; health checks, traffic policies, DNSSEC and the rest answer
//! `UnsupportedOperationException`). The test checks this list against the model.

m2sec_proto::service_operations!(Route53Operation, "route53", {
    ActivateKeySigningKey => false,
    AssociateVPCWithHostedZone => false,
    ChangeCidrCollection => false,
    ChangeResourceRecordSets => true,
    ChangeTagsForResource => false,
    CreateCidrCollection => false,
    CreateHealthCheck => false,
    CreateHostedZone => true,
    CreateKeySigningKey => false,
    CreateQueryLoggingConfig => false,
    CreateReusableDelegationSet => false,
    CreateTrafficPolicy => false,
    CreateTrafficPolicyInstance => false,
    CreateTrafficPolicyVersion => false,
    CreateVPCAssociationAuthorization => false,
    DeactivateKeySigningKey => false,
    DeleteCidrCollection => false,
    DeleteHealthCheck => false,
    DeleteHostedZone => true,
    DeleteKeySigningKey => false,
    DeleteQueryLoggingConfig => false,
    DeleteReusableDelegationSet => false,
    DeleteTrafficPolicy => false,
    DeleteTrafficPolicyInstance => false,
    DeleteVPCAssociationAuthorization => false,
    DisableHostedZoneDNSSEC => false,
    DisassociateVPCFromHostedZone => false,
    EnableHostedZoneDNSSEC => false,
    GetAccountLimit => false,
    GetChange => true,
    GetCheckerIpRanges => false,
    GetDNSSEC => false,
    GetGeoLocation => false,
    GetHealthCheck => false,
    GetHealthCheckCount => false,
    GetHealthCheckLastFailureReason => false,
    GetHealthCheckStatus => false,
    GetHostedZone => true,
    GetHostedZoneCount => true,
    GetHostedZoneLimit => false,
    GetQueryLoggingConfig => false,
    GetReusableDelegationSet => false,
    GetReusableDelegationSetLimit => false,
    GetTrafficPolicy => false,
    GetTrafficPolicyInstance => false,
    GetTrafficPolicyInstanceCount => false,
    ListCidrBlocks => false,
    ListCidrCollections => false,
    ListCidrLocations => false,
    ListGeoLocations => false,
    ListHealthChecks => false,
    ListHostedZones => true,
    ListHostedZonesByName => true,
    ListHostedZonesByVPC => false,
    ListQueryLoggingConfigs => false,
    ListResourceRecordSets => true,
    ListReusableDelegationSets => false,
    ListTagsForResource => false,
    ListTagsForResources => false,
    ListTrafficPolicies => false,
    ListTrafficPolicyInstances => false,
    ListTrafficPolicyInstancesByHostedZone => false,
    ListTrafficPolicyInstancesByPolicy => false,
    ListTrafficPolicyVersions => false,
    ListVPCAssociationAuthorizations => false,
    TestDNSAnswer => false,
    UpdateHealthCheck => false,
    UpdateHostedZoneComment => true,
    UpdateHostedZoneFeatures => false,
    UpdateTrafficPolicyComment => false,
    UpdateTrafficPolicyInstance => false,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_operation_is_listed_and_nothing_else() {
        let listed: Vec<&str> = Route53Operation::ALL.iter().map(|o| o.name()).collect();
        m2sec_proto::operations::check_operations(crate::service::model(), &listed);
        assert_eq!(
            Route53Operation::ALL
                .iter()
                .filter(|o| o.implemented())
                .count(),
            10
        );
    }
}
