//! The XML reader of restXml request bodies, reached through the Route53 operations that take one.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (model, headers) = (m2sec_route53::api::model(), http::HeaderMap::new());
    for operation in ["ChangeResourceRecordSets", "CreateHostedZone", "ChangeTagsForResource"] {
        let _ = m2sec_proto::rest_xml::parse_request(model, operation, &[], None, &headers, data);
    }
});
