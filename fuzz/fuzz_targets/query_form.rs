//! awsQuery: a form-encoded body (`Action=CreateRole&Version=…`) read against the IAM and STS models,
//! then checked, as `m2sec_proto::query::parse_request` and `validate` see it.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for model in [m2sec_iam::iam_api::model(), m2sec_iam::sts::model()] {
        if let Ok((operation, input)) = m2sec_proto::query::parse_request(model, data) {
            let _ = m2sec_proto::query::validate(model, &operation, &input);
        }
    }
});
