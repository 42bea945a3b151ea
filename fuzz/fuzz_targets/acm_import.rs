//! ACM ImportCertificate: certificate, private key and chain (PEM, or DER wrapped here; see
//! `m2sec_fuzz::acm_import_fields`) through the import checks.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((certificate, key, chain)) = m2sec_fuzz::acm_import_fields(data) else { return };
    let _ = m2sec_ca::inspect_import(&certificate, &key, chain.as_deref());
});
