//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "airdesk REST API", version = "1", description = "Automated investigation and response on email: investigations, actions, audit."),
    paths(
        super::investigations::create,
        super::investigations::get,
        super::investigations::list,
        super::actions::list,
        super::actions::export,
        super::actions::get,
        super::decisions::approve,
        super::decisions::reject,
        super::decisions::bulk,
        super::decisions::change,
        super::audit::list,
        super::audit::head,
        super::policy::get,
        super::incidents::list,
        super::intel::report,
        super::intel::add_indicator,
        super::intel::list_indicators,
        super::intel::delete_indicator,
        super::intel::messages,
        super::webhooks::deliveries,
    ),
    components(schemas(model::IncidentSort)),
    modifiers(&Bearer),
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from `airdesk token create NAME --scope …`. It may do what both \
                         its user's role and its scopes allow: `read` (every GET), `ingest` \
                         (investigations, reports, indicators), `decide` (approve, reject, \
                         change; includes read), `admin` (all). A missing scope is 403; an \
                         expired or revoked token is 401.",
                    ))
                    .build(),
            ),
        );
    }
}

/// `GET /api/v1/openapi.json` (public: it describes, it reveals nothing).
pub async fn document() -> Json<serde_json::Value> {
    static DOCUMENT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    Json(DOCUMENT.get_or_init(truthful).clone())
}

/// The generated document, made to say what the server does in what the annotations cannot
/// say once for all: every error is `application/problem+json`, and every operation that needs
/// a token can answer 401 for a missing, unknown, expired or revoked one.
fn truthful() -> serde_json::Value {
    use serde_json::{json, Value};
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    let problem = json!({"$ref": "#/components/schemas/Problem"});
    let problem_response = |description: &str| json!({"description": description, "content": {"application/problem+json": {"schema": problem}}});
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert("Indicator".into(), indicator_schema());
        schemas.insert("NewIndicator".into(), new_indicator_schema());
        schemas.insert("ReportRequest".into(), report_schema());
    }
    // The closed vocabularies (action status, type, …) by schema name, for query filters.
    let words: serde_json::Map<String, Value> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .iter()
                .filter_map(|(name, schema)| Some((name.clone(), schema.get("enum")?.clone())))
                .collect()
        })
        .unwrap_or_default();
    not_blank_as_the_server_means_it(&mut doc);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            // What an indicator may be on the way in is narrower than what is listed.
            if let Some(schema) =
                operation.pointer_mut("/requestBody/content/application~1json/schema")
            {
                if schema["$ref"] == "#/components/schemas/Indicator" {
                    *schema = json!({"$ref": "#/components/schemas/NewIndicator"});
                }
            }
            let secured = operation.get("security").is_some();
            let has_body = operation.get("requestBody").is_some();
            let has_input = has_body
                || operation
                    .get("parameters")
                    .and_then(Value::as_array)
                    .is_some_and(|p| !p.is_empty());
            if let Some(parameters) = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
            {
                for parameter in parameters {
                    if parameter["name"] == "Idempotency-Key" {
                        // Blanks around a header's value are not part of it (RFC 9110).
                        parameter["schema"] = json!({
                            "type": "string", "pattern": "^[ \\t]*[!-~]{1,255}[ \\t]*$"
                        });
                    } else if parameter["name"] == "url" && parameter["in"] == "query" {
                        parameter["schema"] = json!({
                            "type": "string", "maxLength": 2000,
                            "pattern": format!("^[{}]*$|{}", model::WHITE_SPACE, url_pattern())
                        });
                    } else if parameter["in"] == "query" {
                        blank_or_word(&mut parameter["schema"], &words);
                    }
                }
            }
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            for response in responses.values_mut() {
                let Some(content) = response.get_mut("content").and_then(Value::as_object_mut)
                else {
                    continue;
                };
                if content
                    .get("application/json")
                    .and_then(|c| c.get("schema"))
                    == Some(&problem)
                {
                    if let Some(body) = content.remove("application/json") {
                        content.insert("application/problem+json".into(), body);
                    }
                }
            }
            if secured {
                responses.entry("401").or_insert_with(|| {
                    problem_response("No token, or an unknown, expired or revoked one")
                });
            }
            if has_input {
                responses.entry("400").or_insert_with(|| {
                    problem_response("Unreadable: not JSON, a bad query string or Idempotency-Key")
                });
                responses
                    .entry("422")
                    .or_insert_with(|| problem_response("Well-formed but invalid"));
            }
            if has_body {
                responses
                    .entry("413")
                    .or_insert_with(|| problem_response("The body is over the limit"));
            }
        }
    }
    doc
}

/// "Not blank" (`pattern: \S` in the annotations) with the server's own idea of space: ECMA-262's
/// `\S` differs from Rust's `char::is_whitespace` at U+0085 and U+FEFF.
fn not_blank_as_the_server_means_it(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(object) => {
            for (key, inner) in object.iter_mut() {
                if key == "pattern" && inner == "\\S" {
                    *inner = format!("[^{}]", model::WHITE_SPACE).into();
                } else {
                    not_blank_as_the_server_means_it(inner);
                }
            }
        }
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(not_blank_as_the_server_means_it)
        }
        _ => {}
    }
}

/// A query filter of a closed vocabulary (a `$ref` to an enum schema) written out in place, with
/// the empty value that means no filter, as a form with the field left blank sends it.
fn blank_or_word(
    schema: &mut serde_json::Value,
    words: &serde_json::Map<String, serde_json::Value>,
) {
    let name = schema
        .get("$ref")
        .and_then(serde_json::Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"));
    let Some(serde_json::Value::Array(values)) = name.and_then(|n| words.get(n)) else {
        return;
    };
    let mut values = values.clone();
    values.insert(0, "".into());
    *schema = serde_json::json!({"type": "string", "enum": values});
}

/// An http(s) URL as `normalise_url` takes it and keeps it within 2,048 characters: a host
/// name whose last label starts with a letter (so never read as an IPv4 address), labels
/// without `--` (so never an IDNA `xn--` label to decode), and a path of printable characters
/// the URL parser does not percent-encode (so 2,000 characters in are at most 2,001 kept).
fn url_pattern() -> String {
    let label = "[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*";
    let last = "[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*";
    format!("^https?://(?:{label}\\.)*{last}(?::[0-9]{{1,4}})?(?:/[!#-&(-;=?-_a-z|~]*)?$")
}

/// An indicator as the server lists it: the value as it was normalised and kept.
fn indicator_schema() -> serde_json::Value {
    use serde_json::json;
    json!({
        "type": "object",
        "required": ["id", "kind", "value", "verdict"],
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string", "enum": ["url", "domain", "sender", "attachment_hash"]},
            "value": {"type": "string", "minLength": 1, "maxLength": 2048},
            "verdict": {"type": "string", "enum": ["malicious", "suspicious"]},
            "expires_at": {"type": ["string", "null"], "format": "date-time"},
        }
    })
}

/// An indicator as the server takes it: each kind's value in the form it can use (what
/// `indicators::normalise` accepts), a verdict that calls for action.
fn new_indicator_schema() -> serde_json::Value {
    use serde_json::json;
    let ws = model::WHITE_SPACE;
    let kind = |kind: &str, value: serde_json::Value| {
        json!({
            "type": "object",
            "required": ["kind", "value", "verdict"],
            "properties": {
                "kind": {"type": "string", "enum": [kind]},
                "value": value,
                "verdict": {"type": "string", "enum": ["malicious", "suspicious"]},
                "expires_at": {
                    "anyOf": [{"type": "string", "format": "date-time"}, {"const": ""}, {"type": "null"}],
                    "description": "When it stops counting; null or an empty string for never."
                },
            }
        })
    };
    json!({
        "description": "A threat indicator. `url`: an http(s) URL; `domain`: a host name (URL hosts and sender domains); `sender`: an address; `attachment_hash`: the SHA-256 hex of an attachment's decoded content.",
        "oneOf": [
            kind("url", json!({"type": "string", "maxLength": 2000, "pattern": url_pattern()})),
            kind("domain", json!({"type": "string", "minLength": 1, "maxLength": 2048,
                "pattern": format!("^[{ws}]*[^/@{ws}]*\\.[^/@{ws}]*[{ws}]*$")})),
            kind("sender", json!({"type": "string", "minLength": 1, "maxLength": 2048,
                "pattern": format!("^[{ws}]*[^{ws}]*@[^{ws}]*[{ws}]*$")})),
            kind("attachment_hash", json!({"type": "string", "pattern": "^[0-9a-fA-F]{64}$"})),
        ]
    })
}

/// A report names the delivered copy by its Message-ID, or carries the message itself: one
/// of the two, never both.
fn report_schema() -> serde_json::Value {
    use serde_json::json;
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["mailbox"],
        "properties": {
            "mailbox": {"type": "string", "maxLength": 320},
            "internet_message_id": {"type": ["string", "null"], "maxLength": 998},
            "raw": {"type": ["string", "null"]},
        },
        "oneOf": [
            {
                "required": ["internet_message_id"],
                "properties": {
                    "internet_message_id": {"type": "string", "pattern": "[^<>\\s]"},
                    "raw": {"type": "null"},
                }
            },
            {
                "required": ["raw"],
                "properties": {
                    "raw": {"type": "string", "minLength": 1},
                    "internet_message_id": {"type": "null"},
                }
            }
        ]
    })
}
