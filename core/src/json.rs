//! Strict JSON input: a document that must be an object is refused in any other shape.
//! (Serde accepts a JSON array for a struct, field by field in order; a request body or config
//! file written that way is a mistake, not an alternative syntax.)

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub fn from_object_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let object: Map<String, Value> = serde_json::from_slice(bytes)?;
    serde_json::from_value(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Pair {
        a: u8,
        b: u8,
    }

    #[test]
    fn objects_pass_and_other_shapes_are_refused() {
        assert_eq!(
            from_object_slice::<Pair>(br#"{"a":1,"b":2}"#).unwrap(),
            Pair { a: 1, b: 2 }
        );
        assert!(
            serde_json::from_slice::<Pair>(b"[1,2]").is_ok(),
            "serde alone accepts arrays"
        );
        for bad in [&b"[1,2]"[..], b"1", b"\"x\"", b"null", b"{"] {
            assert!(
                from_object_slice::<Pair>(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
