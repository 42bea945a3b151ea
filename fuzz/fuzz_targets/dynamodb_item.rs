//! DynamoDB items in the wire's JSON (`{"name": {"S": "x"}, …}`): a decoded item is sized, encoded and
//! decodes again to the same item.
#![no_main]
use m2sec_dynamodb::item::{item_from_json, item_size, item_to_json};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Ok(item) = item_from_json(&value) {
        let _ = item_size(&item);
        let again = item_from_json(&item_to_json(&item)).expect("an encoded item decodes");
        assert_eq!(again, item, "an item survives encoding");
    }
});
