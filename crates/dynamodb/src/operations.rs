//! Every operation of botocore's DynamoDB model, implemented or not. m2sec implements tables, items,
//! queries, batches, transactions, tags and time to live; backups, exports, imports, streams,
//! global tables, PartiQL and resource policies answer `UnsupportedOperationException`. The test
//! checks this list against the model.

m2sec_proto::service_operations!(DynamoDbOperation, "dynamodb", {
    BatchExecuteStatement => false,
    BatchGetItem => true,
    BatchWriteItem => true,
    CreateBackup => false,
    CreateGlobalTable => false,
    CreateTable => true,
    DeleteBackup => false,
    DeleteItem => true,
    DeleteResourcePolicy => false,
    DeleteTable => true,
    DescribeBackup => false,
    DescribeContinuousBackups => false,
    DescribeContributorInsights => false,
    DescribeEndpoints => true,
    DescribeExport => false,
    DescribeGlobalTable => false,
    DescribeGlobalTableSettings => false,
    DescribeImport => false,
    DescribeKinesisStreamingDestination => false,
    DescribeLimits => true,
    DescribeTable => true,
    DescribeTableReplicaAutoScaling => false,
    DescribeTimeToLive => true,
    DisableKinesisStreamingDestination => false,
    EnableKinesisStreamingDestination => false,
    ExecuteStatement => false,
    ExecuteTransaction => false,
    ExportTableToPointInTime => false,
    GetItem => true,
    GetResourcePolicy => false,
    ImportTable => false,
    ListBackups => false,
    ListContributorInsights => false,
    ListExports => false,
    ListGlobalTables => false,
    ListImports => false,
    ListTables => true,
    ListTagsOfResource => true,
    PutItem => true,
    PutResourcePolicy => false,
    Query => true,
    RestoreTableFromBackup => false,
    RestoreTableToPointInTime => false,
    Scan => true,
    TagResource => true,
    TransactGetItems => true,
    TransactWriteItems => true,
    UntagResource => true,
    UpdateContinuousBackups => false,
    UpdateContributorInsights => false,
    UpdateGlobalTable => false,
    UpdateGlobalTableSettings => false,
    UpdateItem => true,
    UpdateKinesisStreamingDestination => false,
    UpdateTable => true,
    UpdateTableReplicaAutoScaling => false,
    UpdateTimeToLive => true,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_operation_is_listed_and_nothing_else() {
        let listed: Vec<&str> = DynamoDbOperation::ALL.iter().map(|o| o.name()).collect();
        m2sec_proto::operations::check_operations(crate::model(), &listed);
        for op in DynamoDbOperation::ALL {
            assert_eq!(DynamoDbOperation::from_name(op.name()), Some(*op));
        }
        assert_eq!(
            DynamoDbOperation::ALL
                .iter()
                .filter(|o| o.implemented())
                .count(),
            22
        );
    }
}
