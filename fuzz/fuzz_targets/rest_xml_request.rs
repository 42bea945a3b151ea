//! restXml: a whole Route53 HTTP request, routed by method and path, then bound (labels, query,
//! headers, XML body) and checked, as the server's restXml path does.
#![no_main]
use m2sec_proto::rest_xml::{parse_request, route, validate};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let model = m2sec_route53::api::model();
    let Some(req) = m2sec_fuzz::HttpRequest::parse(data) else { return };
    let Some((op, labels)) = route(model, req.method.as_str(), req.target.as_str()) else { return };
    let query = req.target.query();
    if let Ok(input) = parse_request(model, &op, &labels, query, &req.headers, req.body) {
        let _ = validate(model, &op, &input);
    }
});
