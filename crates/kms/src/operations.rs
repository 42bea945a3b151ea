//! Every operation of botocore's KMS model, implemented or not. The router test checks this list
//! against the model, so a new AWS operation cannot go unnoticed.

m2sec_proto::service_operations!(KmsOperation, "kms", {
    CancelKeyDeletion => true,
    ConnectCustomKeyStore => true,
    CreateAlias => true,
    CreateCustomKeyStore => true,
    CreateGrant => true,
    CreateKey => true,
    Decrypt => true,
    DeleteAlias => true,
    DeleteCustomKeyStore => true,
    DeleteImportedKeyMaterial => true,
    DeriveSharedSecret => true,
    DescribeCustomKeyStores => true,
    DescribeKey => true,
    DisableKey => true,
    DisableKeyRotation => true,
    DisconnectCustomKeyStore => true,
    EnableKey => true,
    EnableKeyRotation => true,
    Encrypt => true,
    GenerateDataKey => true,
    GenerateDataKeyPair => true,
    GenerateDataKeyPairWithoutPlaintext => true,
    GenerateDataKeyWithoutPlaintext => true,
    GenerateMac => true,
    GenerateRandom => true,
    GetKeyLastUsage => true,
    GetKeyPolicy => true,
    GetKeyRotationStatus => true,
    GetParametersForImport => true,
    GetPublicKey => true,
    ImportKeyMaterial => true,
    ListAliases => true,
    ListGrants => true,
    ListKeyPolicies => true,
    ListKeyRotations => true,
    ListKeys => true,
    ListResourceTags => true,
    ListRetirableGrants => true,
    PutKeyPolicy => true,
    ReEncrypt => true,
    ReplicateKey => true,
    RetireGrant => true,
    RevokeGrant => true,
    RotateKeyOnDemand => true,
    ScheduleKeyDeletion => true,
    Sign => true,
    TagResource => true,
    UntagResource => true,
    UpdateAlias => true,
    UpdateCustomKeyStore => true,
    UpdateKeyDescription => true,
    UpdatePrimaryRegion => true,
    Verify => true,
    VerifyMac => true,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_operation_is_listed_and_nothing_else() {
        let listed: Vec<&str> = KmsOperation::ALL.iter().map(|o| o.name()).collect();
        m2sec_proto::operations::check_operations(crate::model(), &listed);
        for op in KmsOperation::ALL {
            assert_eq!(KmsOperation::from_name(op.name()), Some(*op));
            assert_eq!(op.action(), format!("kms:{}", op.name()));
        }
        assert_eq!(KmsOperation::from_name("Nope"), None);
    }
}
