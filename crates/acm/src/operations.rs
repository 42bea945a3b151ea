//! Every operation of botocore's ACM model, implemented or not (e-mail validation and the search
//! API answer `UnsupportedOperationException`). The test checks this list against the model.

m2sec_proto::service_operations!(AcmOperation, "acm", {
    AddTagsToCertificate => true,
    DeleteCertificate => true,
    DescribeCertificate => true,
    ExportCertificate => true,
    GetAccountConfiguration => true,
    GetCertificate => true,
    ImportCertificate => true,
    ListCertificates => true,
    ListTagsForCertificate => true,
    PutAccountConfiguration => true,
    RemoveTagsFromCertificate => true,
    RenewCertificate => true,
    RequestCertificate => true,
    ResendValidationEmail => false,
    RevokeCertificate => true,
    SearchCertificates => false,
    UpdateCertificateOptions => true,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_operation_is_listed_and_nothing_else() {
        let listed: Vec<&str> = AcmOperation::ALL.iter().map(|o| o.name()).collect();
        m2sec_proto::operations::check_operations(crate::service::model(), &listed);
        for op in AcmOperation::ALL {
            assert_eq!(AcmOperation::from_name(op.name()), Some(*op));
        }
    }
}
