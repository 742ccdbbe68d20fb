//! Reading JSON so that a struct is only ever an object.
//!
//! serde's derived structs also accept the sequence form — `[null]` reads as `{"comment":
//! null}`, `["t", "phish", {...}]` as an investigation — which our document does not allow and
//! no client should rely on. This deserializer is `serde_json::Value`'s, except that an array
//! where a struct is expected is refused, at any depth.

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    Visitor,
};
use serde_json::{Map, Value};

/// A JSON value whose structs must be objects.
pub struct Objects(pub Value);

type Error = serde_json::Error;

impl<'de> Deserializer<'de> for Objects {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            Value::Object(fields) => visitor.visit_map(Fields::new(fields)),
            // Null, booleans, numbers and strings hold nothing further down.
            scalar => scalar.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            value => visitor.visit_some(Objects(value)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(fields) => visitor.visit_map(Fields::new(fields)),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // Our request enums are words; `Value` reads a word or a one-key object.
        self.0.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Other("number"),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Objects(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Fields {
    fields: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl Fields {
    fn new(fields: Map<String, Value>) -> Self {
        Fields {
            fields: fields.into_iter(),
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for Fields {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.fields.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value asked for before its key"))?;
        seed.deserialize(Objects(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len())
    }
}

#[cfg(test)]
mod tests {
    use super::Objects;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        word: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        comment: Option<String>,
        inner: Option<Inner>,
        #[serde(default)]
        many: Vec<Inner>,
        count: Option<u32>,
    }

    fn read<T: for<'de> Deserialize<'de>>(value: serde_json::Value) -> Result<T, String> {
        T::deserialize(Objects(value)).map_err(|e| e.to_string())
    }

    #[test]
    fn objects_read_as_serde_json_reads_them() {
        let outer: Outer = read(json!({
            "comment": "x", "inner": {"word": "a"}, "many": [{"word": "b"}], "count": 3
        }))
        .unwrap();
        assert_eq!(outer.inner, Some(Inner { word: "a".into() }));
        assert_eq!(outer.many, vec![Inner { word: "b".into() }]);
        assert_eq!(outer.count, Some(3));
        assert_eq!(read::<Option<Outer>>(json!(null)).unwrap(), None);
    }

    #[test]
    fn a_struct_written_as_an_array_is_refused_at_any_depth() {
        // serde_json itself takes every one of these.
        for (value, at) in [
            (json!([null, null, [], null]), "top"),
            (json!({"comment": null, "inner": ["a"]}), "a field"),
            (json!({"comment": null, "many": [["b"]]}), "an item"),
        ] {
            assert!(
                serde_json::from_value::<Option<Outer>>(value.clone()).is_ok(),
                "{at}: serde_json accepts it"
            );
            let error = read::<Option<Outer>>(value).unwrap_err();
            assert!(error.contains("invalid type: sequence"), "{at}: {error}");
        }
        assert!(serde_json::from_value::<Option<Inner>>(json!(["a"])).is_ok());
        assert!(read::<Option<Inner>>(json!(["a"])).is_err());
    }

    #[test]
    fn wrong_kinds_and_unknown_fields_stay_refused() {
        assert!(read::<Outer>(json!({"comment": 1})).is_err());
        assert!(read::<Outer>(json!({"count": -1})).is_err());
        assert!(read::<Outer>(json!({"count": "3"})).is_err());
        assert!(read::<Outer>(json!({"other": 1})).is_err());
        assert!(read::<Outer>(json!("text")).is_err());
    }
}
