//! Every operation of botocore's CloudTrail model, implemented or not (the event history's
//! LookupEvents is; trails, channels and event data stores answer `UnsupportedOperationException`).
//! The test checks this list against the model.

m2sec_proto::service_operations!(CloudTrailOperation, "cloudtrail", {
    AddTags => false,
    CancelQuery => false,
    CreateChannel => false,
    CreateDashboard => false,
    CreateEventDataStore => false,
    CreateTrail => false,
    DeleteChannel => false,
    DeleteDashboard => false,
    DeleteEventDataStore => false,
    DeleteResourcePolicy => false,
    DeleteTrail => false,
    DeregisterOrganizationDelegatedAdmin => false,
    DescribeQuery => false,
    DescribeTrails => false,
    DisableFederation => false,
    EnableFederation => false,
    GenerateQuery => false,
    GetChannel => false,
    GetDashboard => false,
    GetEventConfiguration => false,
    GetEventDataStore => false,
    GetEventSelectors => false,
    GetImport => false,
    GetInsightSelectors => false,
    GetQueryResults => false,
    GetResourcePolicy => false,
    GetTrail => false,
    GetTrailStatus => false,
    ListChannels => false,
    ListDashboards => false,
    ListEventDataStores => false,
    ListImportFailures => false,
    ListImports => false,
    ListInsightsData => false,
    ListInsightsMetricData => false,
    ListPublicKeys => false,
    ListQueries => false,
    ListTags => false,
    ListTrails => false,
    LookupEvents => true,
    PutEventConfiguration => false,
    PutEventSelectors => false,
    PutInsightSelectors => false,
    PutResourcePolicy => false,
    RegisterOrganizationDelegatedAdmin => false,
    RemoveTags => false,
    RestoreEventDataStore => false,
    SearchSampleQueries => false,
    StartDashboardRefresh => false,
    StartEventDataStoreIngestion => false,
    StartImport => false,
    StartLogging => false,
    StartQuery => false,
    StopEventDataStoreIngestion => false,
    StopImport => false,
    StopLogging => false,
    UpdateChannel => false,
    UpdateDashboard => false,
    UpdateEventDataStore => false,
    UpdateTrail => false,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_operation_is_listed_and_nothing_else() {
        let listed: Vec<&str> = CloudTrailOperation::ALL.iter().map(|o| o.name()).collect();
        m2sec_proto::operations::check_operations(crate::lookup::model(), &listed);
        assert_eq!(
            CloudTrailOperation::ALL
                .iter()
                .filter(|o| o.implemented())
                .count(),
            1
        );
    }
}
