//! One delivery's request: the CloudEvents body (or a chat channel's text), signed per the
//! Standard Webhooks scheme, sent without following redirects; and how a failure is described.

use serde_json::{json, Value};

use chrono::Utc;

use super::{Attempt, Due, Endpoint, Format, WebhookConfig};
use crate::db::{query, Db};
use model::AppError;

/// The CloudEvents 1.0 structured body of an event.
pub fn cloudevent(due: &Due, config: &WebhookConfig) -> Value {
    let data: Value = serde_json::from_str(&due.data).unwrap_or(Value::Null);
    let link = match due.subject_kind.as_str() {
        "investigation" => format!("{}/investigations/{}", config.public_url, due.subject),
        "action" => format!("{}/action-center", config.public_url),
        _ => format!("{}/policy", config.public_url),
    };
    json!({
        "specversion": "1.0",
        "id": due.event_id,
        "source": config.source,
        "type": format!("{}{}", super::super::TYPE_PREFIX, due.event_type),
        "subject": format!("{}/{}", due.subject_kind, due.subject),
        "time": due.event_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "datacontenttype": "application/json",
        "data": {
            "kind": due.subject_kind,
            "id": due.subject,
            "actor": due.actor,
            "before": data.get("before"),
            "after": data.get("after"),
            "link": link,
        },
    })
}

/// The chat message of an event: pending actions are counted as they are now, so a burst of
/// proposals reads as one number that is still true.
async fn chat_text(db: &Db, due: &Due, config: &WebhookConfig) -> Result<String, AppError> {
    let center = format!("{}/action-center", config.public_url);
    Ok(match due.event_type.as_str() {
        "action.pending" | "investigation.pending_action" => {
            let pending: i64 = query("SELECT COUNT(*) FROM actions WHERE status = 'pending'")
                .scalar(db)
                .await?;
            let noun = if pending == 1 { "action" } else { "actions" };
            format!("{pending} {noun} pending approval — <{center}|Open action center>")
        }
        other => format!(
            "airdesk: {other} ({} {}) by {} — <{center}|Open action center>",
            due.subject_kind, due.subject, due.actor
        ),
    })
}

/// One attempt to deliver.
pub async fn send(
    client: &reqwest::Client,
    db: &Db,
    endpoint: &Endpoint,
    due: &Due,
    config: &WebhookConfig,
) -> Attempt {
    let (body, content_type) = match endpoint.format {
        Format::Cloudevents => (
            cloudevent(due, config).to_string(),
            "application/cloudevents+json",
        ),
        Format::Slack => match chat_text(db, due, config).await {
            Ok(text) => (json!({"text": text}).to_string(), "application/json"),
            Err(e) => return Attempt::Unreachable(format!("cannot compose the message: {e}")),
        },
    };
    let timestamp = Utc::now().timestamp();
    let mut request = client
        .post(endpoint.url.clone())
        .timeout(config.timeout)
        .header("content-type", content_type)
        .header("webhook-id", &due.event_id)
        .header("webhook-timestamp", timestamp.to_string());
    if let Some(secret) = &endpoint.secret {
        request = request.header(
            "webhook-signature",
            secret.sign(&due.event_id, timestamp, body.as_bytes()),
        );
    }
    match request.body(body).send().await {
        Ok(response) if response.status().is_success() => {
            Attempt::Delivered(response.status().as_u16())
        }
        Ok(response) => Attempt::Refused(response.status().as_u16()),
        Err(error) => Attempt::Unreachable(describe(&error)),
    }
}

/// A transport error in one line, with its causes (reqwest's own text says only "error
/// sending request").
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}
