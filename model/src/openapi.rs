//! What the API's document says of the model's own string types (addresses, Message-IDs): the
//! same pattern and length their parsers check, so a generated client is refused nothing the
//! document allows.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// A string schema: what it is, the pattern it matches and its most characters.
pub(crate) fn string_schema(description: &str, pattern: &str, max_length: usize) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
        .max_length(Some(max_length))
        .into()
}
