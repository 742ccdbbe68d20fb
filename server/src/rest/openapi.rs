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
    ),
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
        schemas.insert("ReportRequest".into(), report_schema());
    }
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
                        parameter["schema"] = json!({
                            "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"
                        });
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

/// An indicator as the server checks it: each kind's value in the form it can use (what
/// `indicators::normalise` accepts), a verdict that calls for action.
fn indicator_schema() -> serde_json::Value {
    use serde_json::json;
    let kind = |kind: &str, value: serde_json::Value| {
        json!({
            "type": "object",
            "required": ["kind", "value", "verdict"],
            "properties": {
                "id": {"type": "string", "readOnly": true, "description": "Given by the server; ignored on the way in."},
                "kind": {"type": "string", "enum": [kind]},
                "value": value,
                "verdict": {"type": "string", "enum": ["malicious", "suspicious"]},
                "expires_at": {"type": ["string", "null"], "format": "date-time"},
            }
        })
    };
    let label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    json!({
        "description": "A threat indicator. `url`: an http(s) URL; `domain`: a host name (URL hosts and sender domains); `sender`: an address; `attachment_hash`: the SHA-256 hex of an attachment's decoded content.",
        "oneOf": [
            kind("url", json!({"type": "string", "maxLength": 2000,
                "pattern": format!("^https?://{label}(?:\\.{label})*(?::[0-9]{{1,4}})?(?:/[!-~]*)?$")})),
            kind("domain", json!({"type": "string", "minLength": 1, "maxLength": 2048,
                "pattern": "^\\s*[^/@\\s]*\\.[^/@\\s]*\\s*$"})),
            kind("sender", json!({"type": "string", "minLength": 1, "maxLength": 2048,
                "pattern": "^\\s*[^\\s]*@[^\\s]*\\s*$"})),
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
