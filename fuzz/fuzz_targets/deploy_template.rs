//! A serverless.yml (UTF-8): `m2sec_deploy::template::parse` and `resolve` (each SSM parameter it asks
//! for answered in turn as a plain value, a SecureString or missing), then `plan`.
#![no_main]
use m2sec_deploy::template::{self, Inputs, Parameter, Resolved};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = template::parse(text) else { return };
    let mut inputs = Inputs::default();
    inputs.options.insert("stage".into(), "prod".into());
    for round in 0..4 {
        match template::resolve(&doc, &inputs) {
            Ok(Resolved::Done(resolved)) => {
                let _ = m2sec_deploy::plan::plan(&resolved, "000000000000", None);
                return;
            }
            Ok(Resolved::NeedParameters(names)) => {
                for (i, name) in names.into_iter().enumerate() {
                    let answer = match (i + round) % 3 {
                        0 => Parameter::Plain("value".into()),
                        1 => Parameter::Secure,
                        _ => Parameter::Missing,
                    };
                    inputs.parameters.insert(name, answer);
                }
            }
            Err(_) => return,
        }
    }
});
